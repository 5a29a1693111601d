import { type ErrorDetails, KafkaWireError } from '../protocol/errors.js'

export interface NetworkErrorDetails extends ErrorDetails {
  /** host:port of the broker concerned. */
  broker?: string
}

/**
 * The connection failed or was lost: refused, reset, closed by either side, or closed because the
 * stream could no longer be trusted. Requests that fail with it may be retried on a new connection.
 */
export class ConnectionError extends KafkaWireError {
  readonly broker?: string

  constructor(code: string, message: string, details: NetworkErrorDetails = {}) {
    super(code, message, { retriable: true, ...details })
    if (details.broker !== undefined) this.broker = details.broker
  }
}

/** A request or a connect attempt did not complete in time. */
export class TimeoutError extends KafkaWireError {
  readonly broker?: string

  constructor(code: 'ERR_REQUEST_TIMEOUT' | 'ERR_CONNECT_TIMEOUT', message: string, details: NetworkErrorDetails = {}) {
    super(code, message, { retriable: true, ...details })
    if (details.broker !== undefined) this.broker = details.broker
  }
}

/**
 * The peer broke the wire protocol: a frame size that is negative or over the cap, a response to a
 * request we did not send or out of order. The connection is closed; retrying elsewhere may work.
 */
export class ProtocolViolationError extends KafkaWireError {
  readonly broker?: string

  constructor(message: string, details: NetworkErrorDetails = {}) {
    super('ERR_PROTOCOL_VIOLATION', message, { retriable: true, ...details })
    if (details.broker !== undefined) this.broker = details.broker
  }
}

/** SASL or TLS authentication failed. Not retriable: the same credentials will fail again. */
export class AuthenticationError extends KafkaWireError {
  readonly broker?: string

  constructor(message: string, details: NetworkErrorDetails & { code?: string } = {}) {
    super(details.code ?? 'ERR_AUTHENTICATION', message, { ...details, retriable: false })
    if (details.broker !== undefined) this.broker = details.broker
  }
}
