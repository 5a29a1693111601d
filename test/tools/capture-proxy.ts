// A recording TCP proxy between Kafka clients and a broker: how test/fixtures/wire/ is captured from
// real traffic (Kafka's Java tools, kcat) rather than from our own encoders.
//
// It cuts both directions into frames (int32 size + payload), reads each request's header (api key,
// version, correlation id, client id), matches responses by correlation id per connection and
// reports every request frame with its response frame. Frames are forwarded whole and unchanged,
// with one deliberate exception: when `capVersion` is set, the max versions advertised in
// ApiVersions responses are lowered before the client sees them, so real clients speak older
// versions of every API to a real broker (the recorded ApiVersions response is the original).
//
// Standalone on purpose: it uses nothing from src/, so a bug in our codecs cannot shape the capture.

import { createConnection, createServer, type Server, type Socket } from 'node:net'

export interface Exchange {
  /** Connection number, in accept order. */
  connection: number
  /** What the capture script was running when the request was sent (`proxy.label`). */
  label: string
  apiKey: number
  version: number
  correlationId: number
  clientId: string | null
  /** Request frame without its size prefix: header and body. */
  request: Buffer
  /** Response frame without its size prefix, or null (acks=0 Produce, connection closed first). */
  response: Buffer | null
  /** The ApiVersions response was capped on its way to the client (`response` holds the original). */
  capped?: boolean
}

export type CapVersion = (apiKey: number, min: number, max: number, exchange: Exchange) => number

export interface Target {
  host: string
  port: number
}

export interface CaptureProxyOptions {
  /** Address to listen on. Default 127.0.0.1. */
  host?: string
  /** The broker; may also be set later (before the first client connects) through `proxy.target`. */
  target?: Target
  /**
   * Lower the max version of an API in ApiVersions responses: given the broker's range, return the
   * max version the client may use (clamped to [min, max]). `exchange` is the ApiVersions exchange
   * (its client id tells who asks). Undefined: forward them unchanged.
   */
  capVersion?: CapVersion
  /** Frames larger than this end the connection (a framing error). Default 256 MiB. */
  maxFrameBytes?: number
}

const API_VERSIONS = 18
const SASL_HANDSHAKE = 17

/** Cuts a byte stream into size-prefixed frames. */
export class FrameSplitter {
  private chunks: Buffer[] = []
  private buffered = 0

  constructor(private readonly maxFrameBytes = 256 * 1024 * 1024) {}

  /** Feed bytes; returns the complete frames (payloads without their size prefix). */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const frames: Buffer[] = []
    for (;;) {
      if (this.buffered < 4) break
      const head = this.peek(4)
      const size = head.readInt32BE(0)
      if (size < 0 || size > this.maxFrameBytes) throw new Error(`bad frame size ${size}`)
      if (this.buffered < 4 + size) break
      const whole = this.take(4 + size)
      frames.push(whole.subarray(4))
    }
    return frames
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0]
    const joined = Buffer.concat(this.chunks)
    this.chunks = [joined]
    return joined
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
    const out = Buffer.from(joined.subarray(0, n))
    const rest = joined.subarray(n)
    this.chunks = rest.length > 0 ? [rest] : []
    this.buffered = rest.length
    return out
  }
}

/** The request header's fields (v1 and v2 agree up to the client id). */
export function parseRequestHeader(frame: Buffer): {
  apiKey: number
  version: number
  correlationId: number
  clientId: string | null
} {
  if (frame.length < 10) throw new Error(`request frame of ${frame.length} bytes has no header`)
  const apiKey = frame.readInt16BE(0)
  const version = frame.readInt16BE(2)
  const correlationId = frame.readInt32BE(4)
  const n = frame.readInt16BE(8)
  if (n > frame.length - 10) throw new Error(`client id of ${n} bytes in a ${frame.length}-byte frame`)
  const clientId = n < 0 ? null : frame.toString('utf8', 10, 10 + n)
  return { apiKey, version, correlationId, clientId }
}

function readUvarint(buf: Buffer, at: number): [value: number, next: number] {
  let value = 0
  let shift = 0
  for (let i = 0; i < 5; i++) {
    const b = buf[at + i]
    if (b === undefined) throw new Error('varint past the end')
    value += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return [value, at + i + 1]
    shift += 7
  }
  throw new Error('varint longer than 5 bytes')
}

/**
 * Copy of an ApiVersions response frame (header v0: correlation id, then the body) with each API's
 * max version replaced by `cap(apiKey, min, max)` clamped to [min, max]. Returns null when the
 * response carries an error (then there is nothing to cap).
 */
export function capApiVersions(
  frame: Buffer,
  version: number,
  cap: (apiKey: number, min: number, max: number) => number,
): Buffer | null {
  const out = Buffer.from(frame)
  let at = 4
  const errorCode = out.readInt16BE(at)
  at += 2
  if (errorCode !== 0) return null
  const flexible = version >= 3
  let count: number
  if (flexible) {
    const [n, next] = readUvarint(out, at)
    count = n - 1
    at = next
  } else {
    count = out.readInt32BE(at)
    at += 4
  }
  for (let i = 0; i < count; i++) {
    const apiKey = out.readInt16BE(at)
    const min = out.readInt16BE(at + 2)
    const max = out.readInt16BE(at + 4)
    const capped = Math.max(min, Math.min(max, Math.trunc(cap(apiKey, min, max))))
    out.writeInt16BE(capped, at + 4)
    at += 6
    if (flexible) {
      let [tags, next] = readUvarint(out, at)
      at = next
      for (; tags > 0; tags--) {
        ;[, next] = readUvarint(out, at)
        const [size, after] = readUvarint(out, next)
        at = after + size
      }
    }
  }
  return out
}

export class CaptureProxy {
  /** Attached to every exchange: set it to what is about to run. */
  label = ''
  target: Target | undefined
  capVersion: CapVersion | undefined
  /** Called for every request once its response arrived (or its connection closed without one). */
  onExchange: ((exchange: Exchange) => void) | undefined
  /** Connections that failed to frame or to reach the broker, for the capture script to report. */
  readonly errors: string[] = []

  private readonly host: string
  private readonly maxFrameBytes: number
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private connections = 0

  constructor(options: CaptureProxyOptions = {}) {
    this.host = options.host ?? '127.0.0.1'
    this.target = options.target
    this.capVersion = options.capVersion
    this.maxFrameBytes = options.maxFrameBytes ?? 256 * 1024 * 1024
  }

  /** Start listening (port 0: any free port) and resolve to the port. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((client) => this.accept(client))
      server.once('error', reject)
      server.listen(port, this.host, () => {
        server.off('error', reject)
        this.server = server
        resolve(this.port)
      })
    })
  }

  get port(): number {
    const address = this.server?.address()
    if (address === null || address === undefined || typeof address === 'string') throw new Error('not listening')
    return address.port
  }

  /** host:port clients should bootstrap from. */
  get address(): string {
    return `${this.host}:${this.port}`
  }

  /** Stop accepting, end every proxied connection. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    return new Promise((resolve) => {
      if (this.server === undefined) resolve()
      else this.server.close(() => resolve())
    })
  }

  private accept(client: Socket): void {
    const id = ++this.connections
    const target = this.target
    if (target === undefined) {
      this.errors.push(`connection ${id}: no target yet`)
      client.destroy()
      return
    }
    const broker = createConnection({ host: target.host, port: target.port })
    client.setNoDelay(true)
    broker.setNoDelay(true)
    this.sockets.add(client)
    this.sockets.add(broker)
    const pending = new Map<number, Exchange>()
    const toBroker = new FrameSplitter(this.maxFrameBytes)
    const toClient = new FrameSplitter(this.maxFrameBytes)
    // After a SaslHandshake v0 the SASL tokens travel as bare size-prefixed frames: forward them unparsed.
    let opaque = false
    let saslV0 = false
    let closed = false

    const finish = () => {
      if (closed) return
      closed = true
      this.sockets.delete(client)
      this.sockets.delete(broker)
      client.destroy()
      broker.destroy()
      for (const e of pending.values()) this.onExchange?.(e)
      pending.clear()
    }
    const fail = (what: string, error: unknown) => {
      if (closed) return
      this.errors.push(`connection ${id} (${this.label}): ${what}: ${error instanceof Error ? error.message : error}`)
      finish()
    }

    client.on('data', (chunk: Buffer) => {
      let frames: Buffer[]
      try {
        frames = toBroker.push(chunk)
      } catch (error) {
        fail('request framing', error)
        return
      }
      for (const frame of frames) {
        if (!opaque) {
          try {
            const h = parseRequestHeader(frame)
            pending.set(h.correlationId, { connection: id, label: this.label, ...h, request: frame, response: null })
            if (h.apiKey === SASL_HANDSHAKE && h.version === 0) saslV0 = true
          } catch (error) {
            fail('request header', error)
            return
          }
        }
        broker.write(sizePrefixed(frame))
      }
    })

    broker.on('data', (chunk: Buffer) => {
      let frames: Buffer[]
      try {
        frames = toClient.push(chunk)
      } catch (error) {
        fail('response framing', error)
        return
      }
      for (const frame of frames) {
        let out = frame
        const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1
        const e = opaque ? undefined : pending.get(correlationId)
        if (e !== undefined) {
          pending.delete(correlationId)
          e.response = frame
          if (e.apiKey === API_VERSIONS && this.capVersion !== undefined) {
            try {
              const cap = this.capVersion
              const capped = capApiVersions(frame, e.version, (k, min, max) => cap(k, min, max, e))
              if (capped !== null) {
                out = capped
                e.capped = true
              }
            } catch (error) {
              this.errors.push(`connection ${id}: ApiVersions v${e.version} response not capped: ${error}`)
            }
          }
          if (e.apiKey === SASL_HANDSHAKE && saslV0) opaque = true
          this.onExchange?.(e)
        }
        client.write(sizePrefixed(out))
      }
    })

    client.on('error', () => finish())
    broker.on('error', (error) => fail('broker connection', error))
    client.on('close', finish)
    broker.on('close', finish)
  }
}

function sizePrefixed(frame: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + frame.length)
  out.writeInt32BE(frame.length, 0)
  frame.copy(out, 4)
  return out
}
