// A fake Kafka broker for hostile-input tests: a TCP server on 127.0.0.1 that parses request frames,
// answers ApiVersions with a real response encoded by our Writer, and otherwise does whatever the
// test tells it to (stay silent, answer late, send garbage, close mid-frame...).
//
// Use it only for input the real broker cannot produce; everything else belongs in test/integration.

import * as net from 'node:net'
import type { ApiVersionRange } from '../../src/protocol/api-versions.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

export interface FakeRequest {
  /** Position on its connection: 0 for the first request (usually the handshake's ApiVersions). */
  index: number
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
  /** The whole request frame without its size prefix. */
  frame: Buffer
  /** Offset in `frame` right after the client id (a flexible header's tagged fields come next). */
  headerEnd: number
}

export interface ApiVersionsAnswer {
  errorCode?: number
  apiKeys?: ApiVersionRange[]
  /** v1+; tests use it to tell responses apart (e.g. echo the correlation id). */
  throttleTimeMs?: number
}

/** Versions the fake claims: enough for the network floor (ApiVersions, Metadata, SASL, Produce, Fetch). */
export const FAKE_API_KEYS: ApiVersionRange[] = [
  { apiKey: 0, minVersion: 3, maxVersion: 12 },
  { apiKey: 1, minVersion: 4, maxVersion: 17 },
  { apiKey: 3, minVersion: 0, maxVersion: 12 },
  { apiKey: 17, minVersion: 0, maxVersion: 1 },
  { apiKey: 18, minVersion: 0, maxVersion: 4 },
  { apiKey: 36, minVersion: 0, maxVersion: 2 },
]

/** The body of an ApiVersions response (no header) in `version`. */
export function encodeApiVersionsBody(version: number, answer: ApiVersionsAnswer = {}): Buffer {
  const flexible = version >= 3
  const keys = answer.apiKeys ?? FAKE_API_KEYS
  const w = new Writer(256)
  w.int16(answer.errorCode ?? 0)
  w.arrayLength(keys.length, flexible)
  for (const k of keys) {
    w.int16(k.apiKey).int16(k.minVersion).int16(k.maxVersion)
    if (flexible) w.emptyTaggedFields()
  }
  if (version >= 1) w.int32(answer.throttleTimeMs ?? 0)
  if (flexible) w.emptyTaggedFields()
  return w.toBuffer()
}

/** A whole response frame: size prefix, correlation id, (tagged fields of header v1), body. */
export function responseFrame(correlationId: number, body: Uint8Array, flexibleHeader = false): Buffer {
  const w = new Writer(body.length + 16)
  const sizeAt = w.reserveInt32()
  w.int32(correlationId)
  if (flexibleHeader) w.emptyTaggedFields()
  w.raw(body)
  w.patchInt32(sizeAt, w.offset - sizeAt - 4)
  return w.toBuffer()
}

/** One accepted client socket and what the fake has seen on it. */
export class FakeConnection {
  readonly requests: FakeRequest[] = []
  /** Number of request frames that completed in each 'data' chunk. */
  readonly framesPerChunk: number[] = []
  /** Requests answered with a complete frame (through reply/replyApiVersions). */
  answered = 0
  /** Most requests received and not yet answered at any moment. */
  maxOutstanding = 0
  readonly closed: Promise<void>
  private pending: Buffer = Buffer.alloc(0)

  constructor(
    readonly socket: net.Socket,
    private readonly onRequest: (request: FakeRequest, connection: FakeConnection) => void,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('error', () => {})
    socket.on('data', (chunk) => this.onData(chunk))
  }

  get outstanding(): number {
    return this.requests.length - this.answered
  }

  /** Raw bytes, as they are. */
  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes)
  }

  /** Answer `request` with `body` (counted as answered). */
  reply(request: FakeRequest, body: Uint8Array, flexibleHeader = false): void {
    this.answered++
    this.write(responseFrame(request.correlationId, body, flexibleHeader))
  }

  /** Answer with a proper ApiVersions response in the version the client asked for (header v0). */
  replyApiVersions(request: FakeRequest, answer: ApiVersionsAnswer = {}): void {
    this.reply(request, encodeApiVersionsBody(request.apiVersion, answer))
  }

  /** Graceful close (FIN). */
  end(): void {
    this.socket.end()
  }

  /** Abortive close (RST). */
  reset(): void {
    this.socket.resetAndDestroy()
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    const frames: FakeRequest[] = []
    while (this.pending.length >= 4) {
      const size = this.pending.readInt32BE(0)
      if (size < 10 || size > 16 * 1024 * 1024) {
        // Not a Kafka request (a TLS ClientHello, HTTP...): hang up like a broker would.
        this.socket.destroy()
        return
      }
      if (this.pending.length < 4 + size) break
      const frame = this.pending.subarray(4, 4 + size)
      this.pending = this.pending.subarray(4 + size)
      frames.push(parseRequest(frame, this.requests.length + frames.length))
    }
    if (frames.length === 0) return
    this.framesPerChunk.push(frames.length)
    for (const request of frames) {
      this.requests.push(request)
      if (this.outstanding > this.maxOutstanding) this.maxOutstanding = this.outstanding
    }
    for (const request of frames) this.onRequest(request, this)
  }
}

function parseRequest(frame: Buffer, index: number): FakeRequest {
  const r = new Reader(frame)
  const apiKey = r.int16()
  const apiVersion = r.int16()
  const correlationId = r.int32()
  const clientId = r.nullableString(false)
  return { index, apiKey, apiVersion, correlationId, clientId, frame, headerEnd: r.offset }
}

/** A Reader positioned at the body of `request` (after the header's tagged fields when `flexible`). */
export function requestBody(request: FakeRequest, flexible: boolean): Reader {
  const r = new Reader(request.frame, request.headerEnd)
  if (flexible) r.skipTaggedFields()
  return r
}

export interface FakeBrokerOptions {
  /**
   * Called for every request, except the first ApiVersions of each connection when `handshake` is on.
   * Default: answer ApiVersions, ignore everything else.
   */
  onRequest?: (request: FakeRequest, connection: FakeConnection) => void
  /** Called when a client connects, before any request. */
  onConnection?: (connection: FakeConnection) => void
  /** Answer the first ApiVersions of each connection properly without calling onRequest. Default true. */
  handshake?: boolean
  apiVersions?: ApiVersionsAnswer
}

export interface FakeBroker {
  readonly host: string
  readonly port: number
  readonly address: string
  readonly server: net.Server
  readonly connections: FakeConnection[]
  /** Resolves with the next connection accepted (or the latest one, when one arrived since the last call). */
  nextConnection(): Promise<FakeConnection>
  close(): Promise<void>
}

export async function startFakeBroker(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const connections: FakeConnection[] = []
  const waiters: Array<(c: FakeConnection) => void> = []
  let taken = 0
  const handshake = options.handshake ?? true
  const onRequest =
    options.onRequest ??
    ((request: FakeRequest, connection: FakeConnection) => {
      if (request.apiKey === 18) connection.replyApiVersions(request, options.apiVersions)
    })
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    let first = true
    const connection = new FakeConnection(socket, (request, c) => {
      if (first && handshake && request.apiKey === 18) {
        first = false
        c.replyApiVersions(request, options.apiVersions)
        return
      }
      first = false
      onRequest(request, c)
    })
    connections.push(connection)
    options.onConnection?.(connection)
    const waiter = waiters.shift()
    if (waiter) {
      taken = connections.length
      waiter(connection)
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    server,
    connections,
    nextConnection() {
      if (taken < connections.length) {
        taken = connections.length
        return Promise.resolve(connections[connections.length - 1])
      }
      return new Promise((resolve) => waiters.push(resolve))
    },
    async close() {
      for (const c of connections) c.socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
