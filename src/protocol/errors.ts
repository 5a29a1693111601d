// The error families of kafka-wire. Few and flat: one class per family, a stable string `code`,
// an explicit `retriable` flag (never true by default), the cause, and the topic-partition concerned.

export interface ErrorDetails {
  cause?: unknown
  retriable?: boolean
  topic?: string
  partition?: number
}

export class KafkaWireError extends Error {
  readonly code: string
  readonly retriable: boolean
  readonly topic?: string
  readonly partition?: number

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.retriable = details.retriable === true
    if (details.topic !== undefined) this.topic = details.topic
    if (details.partition !== undefined) this.partition = details.partition
  }

  override get name(): string {
    return this.constructor.name
  }
}

/** Bytes that do not decode: a short read, a length that points past the frame, a bad varint, a CRC mismatch. */
export class DecodeError extends KafkaWireError {
  /** Offset in the buffer being read where decoding failed, when known. */
  readonly at?: number

  constructor(message: string, details: ErrorDetails & { at?: number; code?: string } = {}) {
    super(details.code ?? 'ERR_DECODE', message, details)
    if (details.at !== undefined) this.at = details.at
  }
}

/** A value we were asked to encode that the protocol cannot carry (a string too long for int16, a bad UUID...). */
export class EncodeError extends KafkaWireError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('ERR_ENCODE', message, details)
  }
}

/** A request or version that we or the broker do not support. */
export class UnsupportedVersionError extends KafkaWireError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('ERR_UNSUPPORTED_VERSION', message, details)
  }
}
