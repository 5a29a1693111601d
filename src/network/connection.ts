import * as diagnostics from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import * as net from 'node:net'
import * as tls from 'node:tls'
import type { Api } from '../protocol/api.js'
import { ApiVersions, type ApiVersionsResponse } from '../protocol/api-versions.js'
import { UnsupportedVersionError } from '../protocol/errors.js'
import { decodeResponseHeader, encodeRequestFrame } from '../protocol/headers.js'
import { Reader } from '../protocol/reader.js'
import { Writer } from '../protocol/writer.js'
import { ConnectionError, ProtocolViolationError, TimeoutError } from './errors.js'
import { FrameReceiver, FrameSizeError } from './frame-receiver.js'

export const channels = {
  connect: diagnostics.channel('kafka-wire:connect'),
  disconnect: diagnostics.channel('kafka-wire:disconnect'),
  request: diagnostics.channel('kafka-wire:request'),
  response: diagnostics.channel('kafka-wire:response'),
  authenticate: diagnostics.channel('kafka-wire:authenticate'),
} as const

const UNSUPPORTED_VERSION = 35
const MAX_CORRELATION_ID = 0x7fffffff

export interface ConnectionOptions {
  host: string
  port: number
  clientId?: string | null
  /** TLS: true for defaults (CA verification on), or node:tls options (ca, cert, key, servername...). */
  tls?: boolean | tls.ConnectionOptions
  connectTimeoutMs?: number
  requestTimeoutMs?: number
  /** Requests written and not yet answered, at most. */
  maxInFlight?: number
  /** Largest response frame accepted; a size prefix above it closes the connection before any allocation. */
  maxFrameBytes?: number
  /** Runs after version negotiation and before the connection is ready (SASL lives here). */
  authenticate?: (connection: Connection) => Promise<void>
  /** Label for errors and diagnostics, e.g. the broker's node id. */
  label?: string
}

export interface RequestOptions {
  /** Version to use; by default the highest both sides speak. */
  version?: number
  timeoutMs?: number
  /** false for requests the broker does not answer (Produce with acks=0). */
  expectResponse?: boolean
  /**
   * Authentication traffic: goes out while the connection is still handshaking or re-authenticating,
   * ahead of queued requests. Not for general use.
   */
  priority?: boolean
}

interface Pending {
  correlationId: number
  api: Api<unknown, unknown>
  version: number
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
  timer: NodeJS.Timeout | null
  sentAt: number
  /** Set when the caller gave up on it (timeout): its response is still read off the wire, then dropped. */
  abandoned: boolean
}

interface Queued {
  api: Api<unknown, unknown>
  request: unknown
  version: number
  options: RequestOptions
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

export interface VersionRange {
  min: number
  max: number
}

/**
 * One TCP or TLS connection to one broker: a framing loop with a bounded pipeline.
 *
 * Responses arrive in request order (Kafka guarantees it per connection), so pending requests are a
 * FIFO and a response for anything but the oldest is a protocol violation that closes the stream.
 * A request that times out is rejected at once but keeps its place, so its late response is still
 * consumed as a frame instead of being matched to the next request.
 */
export class Connection extends EventEmitter {
  readonly host: string
  readonly port: number
  readonly address: string
  readonly clientId: string | null
  private readonly options: ConnectionOptions
  private readonly requestTimeoutMs: number
  private readonly maxInFlight: number
  private socket: net.Socket | null = null
  private receiver: FrameReceiver
  private readonly pending: Pending[] = []
  private pendingHead = 0
  private readonly queued: Queued[] = []
  private nextCorrelationId = 0
  private out: Writer | null = null
  /**
   * Writers whose bytes the socket has written, for the next ticks: big request buffers are reused rather than
   * allocated per tick (each new one is external memory, which drives V8 into full collections).
   */
  private readonly spareWriters: Writer[] = []
  private flushScheduled = false
  private state: 'new' | 'connecting' | 'ready' | 'closed' = 'new'
  private closeError: Error | null = null
  private connecting: Promise<void> | null = null
  private lastReceivedAt = 0
  /** Versions are known and authentication is running: requests may go out before `ready`. */
  private handshaking = false
  /** Re-authentication in progress: ordinary requests wait in the queue. */
  private gated = false
  private reauthTimer: NodeJS.Timeout | null = null
  /** Broker's supported versions per API key, from ApiVersions. */
  readonly brokerVersions = new Map<number, VersionRange>()

  constructor(options: ConnectionOptions) {
    super()
    this.options = options
    this.host = options.host
    this.port = options.port
    this.address = `${options.host}:${options.port}`
    this.clientId = options.clientId === undefined ? 'kafka-wire' : options.clientId
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.maxInFlight = options.maxInFlight ?? 5
    this.receiver = new FrameReceiver(options.maxFrameBytes ?? 100 * 1024 * 1024, (frame) => this.onFrame(frame))
  }

  get ready(): boolean {
    return this.state === 'ready'
  }

  get closed(): boolean {
    return this.state === 'closed'
  }

  /** Requests on the wire or waiting for a slot. */
  get inFlight(): number {
    return this.pending.length - this.pendingHead + this.queued.length
  }

  /** Whether another request would be written now rather than wait for a slot. */
  get writable(): boolean {
    return (
      this.state === 'ready' &&
      this.pending.length - this.pendingHead < this.maxInFlight &&
      !this.socket?.writableNeedDrain
    )
  }

  /** Bytes received and bytes copied after receipt (the zero-copy receive path's account). */
  get receiveStats(): Readonly<{ bytesReceived: number; bytesCopied: number; frames: number }> {
    return this.receiver.stats
  }

  connect(): Promise<void> {
    if (this.connecting) return this.connecting
    if (this.state === 'closed') {
      return Promise.reject(
        this.closeError ?? new ConnectionError('ERR_CONNECTION_CLOSED', `connection to ${this.address} is closed`),
      )
    }
    this.state = 'connecting'
    this.connecting = this.open().then(
      () => {
        this.state = 'ready'
        if (channels.connect.hasSubscribers) {
          channels.connect.publish({ broker: this.address, label: this.options.label, versions: this.brokerVersions })
        }
        this.pump()
      },
      (err) => {
        this.destroy(err)
        throw err
      },
    )
    return this.connecting
  }

  private open(): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000
    return new Promise<void>((resolve, reject) => {
      const onread = {
        buffer: () => this.receiver.nextBuffer(),
        callback: (n: number) => {
          this.lastReceivedAt = performance.now()
          try {
            this.receiver.received(n)
          } catch (err) {
            this.destroy(
              err instanceof FrameSizeError
                ? new ProtocolViolationError(`${this.address} sent a frame size of ${err.size} bytes`, {
                    broker: this.address,
                  })
                : err,
            )
          }
          return true
        },
      }
      const tlsOptions = this.options.tls
      let socket: net.Socket
      if (tlsOptions) {
        const base = tlsOptions === true ? {} : tlsOptions
        // onread is honoured by tls.connect too (node's typings omit it).
        socket = tls.connect({
          servername: net.isIP(this.host) ? undefined : this.host,
          ...base,
          host: this.host,
          port: this.port,
          onread,
        } as tls.ConnectionOptions)
      } else {
        socket = net.connect({ host: this.host, port: this.port, onread, noDelay: true })
      }
      this.socket = socket
      socket.setNoDelay(true)
      const timer = setTimeout(() => {
        fail(
          new TimeoutError('ERR_CONNECT_TIMEOUT', `connecting to ${this.address} took over ${timeoutMs} ms`, {
            broker: this.address,
          }),
        )
      }, timeoutMs)
      const fail = (err: Error) => {
        clearTimeout(timer)
        reject(err)
      }
      // The connect timeout covers the whole handshake (TCP, TLS, ApiVersions, SASL): a server that
      // accepts and never answers must not hold connect() for a request timeout.
      socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
        this.negotiate()
          .then(async () => {
            this.handshaking = true
            if (this.options.authenticate) {
              await this.options.authenticate(this)
              if (channels.authenticate.hasSubscribers) {
                channels.authenticate.publish({ broker: this.address, reauthentication: false })
              }
            }
            this.handshaking = false
          })
          .then(() => {
            clearTimeout(timer)
            resolve()
          }, fail)
      })
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const wrapped = this.socketError(err, tlsOptions !== undefined && tlsOptions !== false)
        fail(wrapped)
        this.destroy(wrapped)
      })
      socket.on('close', () => {
        const err = new ConnectionError('ERR_CONNECTION_CLOSED', `connection to ${this.address} closed by the broker`, {
          broker: this.address,
        })
        fail(err)
        this.destroy(err)
      })
      socket.on('drain', () => this.emit('drain'))
    })
  }

  private socketError(err: NodeJS.ErrnoException, isTls: boolean): Error {
    const code = err.code ?? ''
    if (
      isTls &&
      (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL') || code === 'EPROTO')
    ) {
      return new ConnectionError('ERR_TLS', `TLS with ${this.address} failed: ${err.message}`, {
        broker: this.address,
        cause: err,
        retriable: false,
      })
    }
    return new ConnectionError('ERR_CONNECTION', `connection to ${this.address} failed: ${err.message}`, {
      broker: this.address,
      cause: err,
    })
  }

  /**
   * ApiVersions at our highest version; a broker that does not speak it answers in v0 with its own
   * range for ApiVersions, and we ask again in the highest version both sides know.
   */
  private async negotiate(): Promise<void> {
    let version = ApiVersions.maxVersion
    let response: ApiVersionsResponse
    for (let attempt = 0; ; attempt++) {
      response = (await this.send(ApiVersions, {}, version, {})) as ApiVersionsResponse
      if (response.errorCode !== UNSUPPORTED_VERSION || attempt > 0) break
      const theirs = response.apiKeys.find((k) => k.apiKey === ApiVersions.apiKey)
      const next = theirs ? Math.min(theirs.maxVersion, ApiVersions.maxVersion) : 0
      if (next >= version) break
      version = next
    }
    if (response.errorCode !== 0) {
      throw new UnsupportedVersionError(`${this.address} refused ApiVersions (error code ${response.errorCode})`)
    }
    this.brokerVersions.clear()
    for (const k of response.apiKeys) this.brokerVersions.set(k.apiKey, { min: k.minVersion, max: k.maxVersion })
  }

  /** The highest version of `api` both sides speak; throws when there is none. */
  versionOf(api: Api<unknown, unknown>): number {
    const theirs = this.brokerVersions.get(api.apiKey)
    if (theirs === undefined) {
      throw new UnsupportedVersionError(`${this.address} does not support ${api.name} (key ${api.apiKey})`, {})
    }
    const version = Math.min(api.maxVersion, theirs.max)
    if (version < Math.max(api.minVersion, theirs.min)) {
      throw new UnsupportedVersionError(
        `no common version of ${api.name}: we speak ${api.minVersion}-${api.maxVersion}, ${this.address} speaks ${theirs.min}-${theirs.max}`,
      )
    }
    return version
  }

  /** Send a request and wait for its response, negotiating the version unless given. */
  async request<Q, R>(api: Api<Q, R>, request: Q, options: RequestOptions = {}): Promise<R> {
    if (this.state !== 'ready' && !this.handshaking) {
      if (this.state === 'closed') {
        throw (
          this.closeError ??
          new ConnectionError('ERR_CONNECTION_CLOSED', `connection to ${this.address} is closed`, {
            broker: this.address,
          })
        )
      }
      await this.connect()
    }
    const version = options.version ?? this.versionOf(api as Api<unknown, unknown>)
    return this.send(api, request, version, options) as Promise<R>
  }

  private send<Q>(api: Api<Q, unknown>, request: Q, version: number, options: RequestOptions): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // Closed (e.g. by a failed authentication while `handshaking` was still set): fail now, never
      // write into a dead connection and wait for the request timeout.
      if (this.state === 'closed') {
        reject(
          this.closeError ??
            new ConnectionError('ERR_CONNECTION_CLOSED', `connection to ${this.address} is closed`, {
              broker: this.address,
            }),
        )
        return
      }
      const item: Queued = { api: api as Api<unknown, unknown>, request, version, options, resolve, reject }
      if (options.priority === true) {
        this.write(item)
        return
      }
      if (this.gated || this.pending.length - this.pendingHead >= this.maxInFlight || this.queued.length > 0) {
        this.queued.push(item)
        return
      }
      this.write(item)
    })
  }

  /** Move queued requests onto the wire while there are free slots. */
  private pump(): void {
    while (
      !this.gated &&
      this.queued.length > 0 &&
      this.pending.length - this.pendingHead < this.maxInFlight &&
      this.state !== 'closed'
    ) {
      this.write(this.queued.shift()!)
    }
  }

  private write(item: Queued): void {
    const correlationId = this.nextCorrelationId
    this.nextCorrelationId = correlationId === MAX_CORRELATION_ID ? 0 : correlationId + 1
    if (this.out === null) this.out = this.spareWriters.pop() ?? new Writer(16 * 1024)
    const out = this.out
    const startedAt = out.offset
    try {
      encodeRequestFrame(out, item.api, item.version, correlationId, this.clientId, item.request)
    } catch (err) {
      out.offset = startedAt
      item.reject(err)
      return
    }
    const bytes = out.offset - startedAt
    if (channels.request.hasSubscribers) {
      channels.request.publish({
        broker: this.address,
        api: item.api.name,
        apiKey: item.api.apiKey,
        version: item.version,
        correlationId,
        bytes,
      })
    }
    this.scheduleFlush()
    if (item.options.expectResponse === false) {
      item.resolve(undefined)
      return
    }
    const timeoutMs = item.options.timeoutMs ?? this.requestTimeoutMs
    const pending: Pending = {
      correlationId,
      api: item.api,
      version: item.version,
      resolve: item.resolve,
      reject: item.reject,
      timer: null,
      sentAt: performance.now(),
      abandoned: false,
    }
    pending.timer = setTimeout(() => this.onTimeout(pending, timeoutMs), timeoutMs)
    this.pending.push(pending)
  }

  /** Coalesce every request written in this tick into one socket write. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    queueMicrotask(() => {
      this.flushScheduled = false
      const out = this.out
      if (out === null || out.offset === 0 || this.socket === null || this.state === 'closed') return
      // The socket may hold on to the bytes until written: the Writer is reused only once it has.
      this.out = null
      this.socket.write(out.view(), () => {
        if (this.spareWriters.length < 2 && out.buf.length <= 4 * 1024 * 1024) this.spareWriters.push(out.reset())
      })
    })
  }

  private onTimeout(pending: Pending, timeoutMs: number): void {
    pending.timer = null
    if (pending.abandoned) return
    pending.abandoned = true
    const err = new TimeoutError(
      'ERR_REQUEST_TIMEOUT',
      `${pending.api.name} v${pending.version} to ${this.address} got no response in ${timeoutMs} ms`,
      { broker: this.address },
    )
    pending.reject(err)
    // A broker that sent nothing at all since this request went out is gone: stop waiting on it.
    // Same clock as sentAt: a Date.now() window check misses by the timer's slop and keeps a dead socket.
    if (this.lastReceivedAt < pending.sentAt) {
      this.destroy(
        new ConnectionError('ERR_CONNECTION_STALLED', `${this.address} stopped answering`, { broker: this.address }),
      )
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.state === 'closed') return
    if (this.pendingHead >= this.pending.length) {
      this.destroy(
        new ProtocolViolationError(`${this.address} sent a response to no request`, { broker: this.address }),
      )
      return
    }
    const pending = this.pending[this.pendingHead]
    const correlationId = frame.readInt32BE(0)
    if (correlationId !== pending.correlationId) {
      this.destroy(
        new ProtocolViolationError(
          `${this.address} answered correlation id ${correlationId} while ${pending.correlationId} was next`,
          { broker: this.address },
        ),
      )
      return
    }
    this.pending[this.pendingHead++] = undefined as unknown as Pending
    if (this.pendingHead > 64 && this.pendingHead * 2 > this.pending.length) {
      this.pending.splice(0, this.pendingHead)
      this.pendingHead = 0
    }
    if (pending.timer !== null) clearTimeout(pending.timer)
    if (!pending.abandoned) {
      let response: unknown
      try {
        const r = new Reader(frame)
        decodeResponseHeader(r, pending.api, pending.version)
        response = this.decodeBody(pending, r)
      } catch (err) {
        pending.reject(err)
        this.pump()
        return
      }
      if (channels.response.hasSubscribers) {
        channels.response.publish({
          broker: this.address,
          api: pending.api.name,
          apiKey: pending.api.apiKey,
          version: pending.version,
          correlationId,
          bytes: frame.length + 4,
          durationMs: performance.now() - pending.sentAt,
        })
      }
      pending.resolve(response)
    }
    this.pump()
  }

  private decodeBody(pending: Pending, r: Reader): unknown {
    // A broker that rejects our ApiVersions version answers in v0, whatever we asked.
    if (pending.api.apiKey === ApiVersions.apiKey && pending.version > 0 && r.remaining >= 2) {
      if (r.buf.readInt16BE(r.offset) === UNSUPPORTED_VERSION) return ApiVersions.decode(r, 0)
    }
    const response = pending.api.decode(r, pending.version)
    r.expectEnd(`${pending.api.name} v${pending.version} response`)
    return response
  }

  /**
   * Run `reauthenticate` after `ms` (KIP-368). While it runs, new requests wait; responses to those
   * already sent still arrive in order. A failure closes the connection with the error.
   */
  scheduleReauthentication(ms: number, reauthenticate: () => Promise<void>): void {
    if (this.reauthTimer !== null) clearTimeout(this.reauthTimer)
    this.reauthTimer = setTimeout(() => {
      this.reauthTimer = null
      if (this.state === 'closed') return
      this.gated = true
      reauthenticate().then(
        () => {
          this.gated = false
          if (channels.authenticate.hasSubscribers) {
            channels.authenticate.publish({ broker: this.address, reauthentication: true })
          }
          this.pump()
        },
        (err) => {
          this.gated = false
          this.destroy(err)
        },
      )
    }, ms)
    this.reauthTimer.unref()
  }

  /** Close the connection; every pending and queued request is rejected with `reason`. */
  close(reason?: Error): void {
    this.destroy(
      reason ??
        new ConnectionError('ERR_CONNECTION_CLOSED', `connection to ${this.address} closed`, { broker: this.address }),
    )
  }

  private destroy(reason: unknown): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    if (this.reauthTimer !== null) clearTimeout(this.reauthTimer)
    const err =
      reason instanceof Error ? reason : new ConnectionError('ERR_CONNECTION', String(reason), { broker: this.address })
    this.closeError = err
    this.socket?.destroy()
    this.socket = null
    for (let i = this.pendingHead; i < this.pending.length; i++) {
      const p = this.pending[i]
      if (p.timer !== null) clearTimeout(p.timer)
      if (!p.abandoned) p.reject(err)
    }
    this.pending.length = 0
    this.pendingHead = 0
    for (const q of this.queued.splice(0)) q.reject(err)
    if (channels.disconnect.hasSubscribers) channels.disconnect.publish({ broker: this.address, error: err })
    this.emit('close', err)
  }
}
