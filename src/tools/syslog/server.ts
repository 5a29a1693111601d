// The syslog producer (a port of go_kafka_client's): a TCP and a UDP listener take syslog lines, a bounded
// queue holds them, and `numProducers` producers take them from it to one topic.
//
// Flow and memory:
// - Each line is checked by the RFC 5424 / RFC 3164 parser. A line that parses neither way counts in
//   `syslog.parse.errors` and is produced as it is (default) or dropped (`unparsed: 'drop'`).
// - The queue holds at most `queueSize` lines. UDP has no way to slow a sender down: a datagram that finds
//   the queue full is dropped and counted (`syslog.messages.dropped{reason="queue_full"}`). TCP applies
//   backpressure: a connection whose lines do not fit keeps them (at most one socket chunk) and its socket is
//   paused until the queue has room again, so the sender's kernel buffers fill and it blocks.
// - Producers take lines from the queue while their `produce()` accepts them; one that refuses (its buffer
//   is full) is skipped until its 'drain'. Memory is thus bounded by queueSize lines (each at most
//   `maxMessageBytes`), one chunk per TCP connection, and each producer's `bufferBytes`.
// - The value is the line as received (bytes, without the framing and trailing CR/LF/NUL), or, when
//   `logLine` is given, go_kafka_client's LogLine protobuf holding it, keyed by the source.
// - `stop()` closes the listeners, takes what connected TCP clients already sent, waits for the queue to
//   empty (up to `stopTimeoutMs`), then closes the producers, which deliver what they hold.
import * as dgram from 'node:dgram'
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import * as net from 'node:net'
import { ConfigError } from '../../client/errors.js'
import { type Counter, MetricsRegistry } from '../../client/metrics.js'
import { type Acks, Producer, type ProducerConfig, type ProducerMessage } from '../../client/producer.js'
import type { CompressionName } from '../../protocol/compression.js'
import { KafkaWireError } from '../../protocol/errors.js'
import { parseSyslog, SyslogFramer, SyslogParseError } from './parse.js'
import { type Int64, LogLineEncoder, type LogLineTag } from './protobuf.js'

/** A listener that could not start (an address in use, a bad host). */
export class SyslogServerError extends KafkaWireError {
  constructor(message: string, cause?: unknown) {
    super('ERR_SYSLOG_SERVER', message, cause === undefined ? {} : { cause })
  }
}

export interface ListenAddress {
  host?: string
  /** 0 for a free port (see `tcpAddress` / `udpAddress` once started). */
  port?: number
}

/** What the server needs of a producer; `Producer` is one. Tests may give their own (`createProducer`). */
export interface SyslogSink {
  connect(): Promise<void>
  produce(
    message: ProducerMessage<Buffer | null, Buffer>,
    callback: (err: Error | null, metadata: unknown) => void,
  ): boolean
  on(event: 'drain' | 'warning', listener: (arg?: unknown) => void): unknown
  close(options?: { timeoutMs?: number }): Promise<void>
}

export interface SyslogServerConfig {
  /** Bootstrap brokers, host:port, as an array or comma-separated. */
  brokers: string | string[]
  topic: string
  /** Default 0.0.0.0:5140; false: no TCP listener. */
  tcp?: ListenAddress | false
  /** Default 0.0.0.0:5141; false: no UDP listener. */
  udp?: ListenAddress | false
  /** Lines held between the listeners and the producers. Default 10000 (go_kafka_client's queue.size). */
  queueSize?: number
  /** Producers taking lines from the queue. Default 1. */
  numProducers?: number
  /** 0, 1 (default, as go_kafka_client) or -1/'all' (then the producers are idempotent). */
  requiredAcks?: Acks
  /** How long the broker may wait for the required acks, ms (the Produce timeout). Default 1000. */
  acksTimeoutMs?: number
  compression?: CompressionName
  /** Wrap each line in a LogLine protobuf with these fields, keyed by `source`. Default: the raw line. */
  logLine?: { source?: string; tags?: readonly LogLineTag[]; logTypeId?: Int64 }
  /** A line that is neither RFC 5424 nor RFC 3164: 'produce' it raw (default) or 'drop' it. Counted either way. */
  unparsed?: 'produce' | 'drop'
  /** Longest line kept, in bytes; a longer one is cut off there (and counted as a parse error). Default 64 KiB. */
  maxMessageBytes?: number
  /** How long `stop()` waits for the queue to empty and the producers to deliver, ms. Default 30000. */
  stopTimeoutMs?: number
  /** Where the syslog counters (and the producers' metrics) go. Default: a registry of its own. */
  metrics?: MetricsRegistry
  /** More producer settings (flush, buffer, retries, TLS/SASL...). */
  producer?: Omit<ProducerConfig<Buffer | null, Buffer>, 'brokers' | 'acks' | 'requestTimeoutMs' | 'metrics'>
  /** For tests: make the producers. Default: `new Producer(config)`. */
  createProducer?: (config: ProducerConfig<Buffer | null, Buffer>, index: number) => SyslogSink
}

interface Entry {
  line: Buffer
  /** ms since the epoch. */
  receivedAt: number
}

interface Slot {
  producer: SyslogSink
  blocked: boolean
}

interface TcpClient {
  socket: net.Socket
  framer: SyslogFramer
  /** Lines received that did not fit in the queue; the socket is paused while there are any. */
  pending: Entry[]
  waiting: boolean
  receivedAt: number
}

/** A ring buffer of at most `capacity` entries. */
class BoundedQueue {
  private readonly items: Array<Entry | undefined>
  private head = 0
  length = 0

  constructor(readonly capacity: number) {
    this.items = new Array(capacity)
  }

  get full(): boolean {
    return this.length === this.capacity
  }

  push(entry: Entry): boolean {
    if (this.length === this.capacity) return false
    this.items[(this.head + this.length) % this.capacity] = entry
    this.length++
    return true
  }

  peek(): Entry {
    return this.items[this.head]!
  }

  shift(): Entry {
    const entry = this.items[this.head]!
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.capacity
    this.length--
    return entry
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${name} must be a positive integer, got ${value}`)
  return value
}

function address(given: ListenAddress | false | undefined, port: number): { host: string; port: number } | null {
  if (given === false) return null
  const host = given?.host ?? '0.0.0.0'
  const p = given?.port ?? port
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new ConfigError(`port must be 0..65535, got ${p}`)
  return { host, port: p }
}

/**
 * Events: 'warning' (a delivery failure or a producer's warning; the server goes on), 'parseError'
 * (a SyslogParseError, and the line or null for a framing error).
 */
export class SyslogServer extends EventEmitter {
  readonly metrics: MetricsRegistry
  readonly topic: string
  private readonly queue: BoundedQueue
  private readonly slots: Slot[] = []
  private readonly tcpAt: { host: string; port: number } | null
  private readonly udpAt: { host: string; port: number } | null
  private readonly unparsed: 'produce' | 'drop'
  private readonly maxMessageBytes: number
  private readonly stopTimeoutMs: number
  private readonly encoder: LogLineEncoder | null
  private readonly key: Buffer | null
  private tcpServer: net.Server | null = null
  private udpSocket: dgram.Socket | null = null
  private readonly clients = new Set<TcpClient>()
  /** Connections with pending lines, in the order they got them: served first come, first served. */
  private readonly waiting: TcpClient[] = []
  private nextSlot = 0
  private pumping = false
  private delivering = 0
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new'
  private stopPromise: Promise<void> | null = null
  private idleWaiters: Array<() => void> = []
  private readonly c: {
    receivedTcp: Counter
    receivedUdp: Counter
    produced: Counter
    failed: Counter
    droppedQueueFull: Counter
    droppedUnparsed: Counter
    droppedStopped: Counter
    parseErrorsTcp: Counter
    parseErrorsUdp: Counter
  }

  constructor(config: SyslogServerConfig) {
    super()
    if (typeof config.topic !== 'string' || config.topic.length === 0) throw new ConfigError('topic is required')
    this.topic = config.topic
    this.queue = new BoundedQueue(positiveInteger(config.queueSize ?? 10_000, 'queueSize'))
    const numProducers = positiveInteger(config.numProducers ?? 1, 'numProducers')
    this.tcpAt = address(config.tcp, 5140)
    this.udpAt = address(config.udp, 5141)
    if (this.tcpAt === null && this.udpAt === null) throw new ConfigError('neither a TCP nor a UDP listener')
    this.unparsed = config.unparsed ?? 'produce'
    if (this.unparsed !== 'produce' && this.unparsed !== 'drop')
      throw new ConfigError(`unparsed must be 'produce' or 'drop', got ${String(this.unparsed)}`)
    this.maxMessageBytes = positiveInteger(config.maxMessageBytes ?? 64 * 1024, 'maxMessageBytes')
    this.stopTimeoutMs = config.stopTimeoutMs ?? 30_000
    const acksTimeoutMs = positiveInteger(config.acksTimeoutMs ?? 1000, 'acksTimeoutMs')
    const acks = config.requiredAcks ?? 1
    if (acks !== 0 && acks !== 1 && acks !== -1 && acks !== 'all')
      throw new ConfigError(`requiredAcks must be 0, 1 or -1, got ${String(acks)}`)
    this.encoder = config.logLine === undefined ? null : new LogLineEncoder(config.logLine)
    const source = config.logLine?.source
    this.key = source === undefined ? null : Buffer.from(source, 'utf8')

    this.metrics = config.metrics ?? new MetricsRegistry()
    const m = this.metrics
    this.c = {
      receivedTcp: m.counter('syslog.messages.received', { transport: 'tcp' }),
      receivedUdp: m.counter('syslog.messages.received', { transport: 'udp' }),
      produced: m.counter('syslog.messages.produced'),
      failed: m.counter('syslog.messages.failed'),
      droppedQueueFull: m.counter('syslog.messages.dropped', { reason: 'queue_full' }),
      droppedUnparsed: m.counter('syslog.messages.dropped', { reason: 'unparsed' }),
      droppedStopped: m.counter('syslog.messages.dropped', { reason: 'stopped' }),
      parseErrorsTcp: m.counter('syslog.parse.errors', { transport: 'tcp' }),
      parseErrorsUdp: m.counter('syslog.parse.errors', { transport: 'udp' }),
    }
    m.gauge('syslog.queue.messages', () => this.queue.length)
    m.gauge('syslog.tcp.connections', () => this.clients.size)
    m.gauge('syslog.tcp.paused', () => this.waiting.length)

    const producerConfig: ProducerConfig<Buffer | null, Buffer> = {
      ...config.producer,
      brokers: config.brokers,
      acks,
      requestTimeoutMs: acksTimeoutMs,
      metrics: m,
    }
    if (config.compression !== undefined) producerConfig.compression = config.compression
    // Idempotence needs acks all; with 0 or 1 (go_kafka_client's default) the producers are plain.
    if (acks !== -1 && acks !== 'all') producerConfig.idempotent = false
    const create = config.createProducer ?? ((c) => new Producer<Buffer | null, Buffer>(c))
    // The producers share the registry: their meters add up; their gauges are summed below.
    const gauges = new Map<string, Array<() => number>>()
    for (let i = 0; i < numProducers; i++) {
      const slot: Slot = { producer: create(producerConfig, i), blocked: false }
      slot.producer.on('drain', () => {
        slot.blocked = false
        this.pump()
      })
      slot.producer.on('warning', (err) => this.emit('warning', err))
      this.slots.push(slot)
      for (const name of ['producer.buffer.bytes', 'producer.buffer.available', 'producer.inflight.requests']) {
        const g = m.get(name)
        if (g?.type === 'gauge') {
          const fns = gauges.get(name) ?? []
          fns.push(g.fn)
          gauges.set(name, fns)
        }
      }
    }
    for (const [name, fns] of gauges) {
      if (fns.length > 1) m.gauge(name, () => fns.reduce((sum, fn) => sum + fn(), 0))
    }
  }

  /** Where the TCP listener listens, once started; null without one. */
  get tcpAddress(): AddressInfo | null {
    return (this.tcpServer?.address() as AddressInfo | null | undefined) ?? null
  }

  /** Where the UDP listener listens, once started; null without one. */
  get udpAddress(): AddressInfo | null {
    if (this.udpSocket === null || this.state !== 'running') return null
    return this.udpSocket.address()
  }

  /** Lines in the queue. */
  get queued(): number {
    return this.queue.length
  }

  /** Lines handed to a producer whose outcome is not known yet. */
  get inFlight(): number {
    return this.delivering
  }

  /** Connects the producers (failing if the brokers cannot be reached) and starts listening. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new ConfigError('a SyslogServer starts once')
    this.state = 'starting'
    try {
      await Promise.all(this.slots.map((s) => s.producer.connect()))
      if (this.tcpAt !== null) await this.listenTcp(this.tcpAt)
      if (this.udpAt !== null) await this.listenUdp(this.udpAt)
      this.state = 'running'
    } catch (err) {
      this.state = 'running'
      await this.stop({ timeoutMs: 0 }).catch(() => {})
      throw err
    }
  }

  private listenTcp(at: { host: string; port: number }): Promise<void> {
    const server = net.createServer((socket) => this.onConnection(socket))
    this.tcpServer = server
    return new Promise((resolve, reject) => {
      const fail = (err: Error) =>
        reject(new SyslogServerError(`cannot listen on TCP ${at.host}:${at.port}: ${err.message}`, err))
      server.once('error', fail)
      server.listen(at.port, at.host, () => {
        server.off('error', fail)
        server.on('error', (err) => this.emit('warning', err))
        resolve()
      })
    })
  }

  private listenUdp(at: { host: string; port: number }): Promise<void> {
    const socket = dgram.createSocket(net.isIPv6(at.host) ? 'udp6' : 'udp4')
    this.udpSocket = socket
    socket.on('message', (msg) => this.onDatagram(msg))
    return new Promise((resolve, reject) => {
      const fail = (err: Error) =>
        reject(new SyslogServerError(`cannot listen on UDP ${at.host}:${at.port}: ${err.message}`, err))
      socket.once('error', fail)
      socket.bind(at.port, at.host, () => {
        socket.off('error', fail)
        socket.on('error', (err) => this.emit('warning', err))
        resolve()
      })
    })
  }

  // ------------------------------------------------------------------------------------------ receiving

  private onConnection(socket: net.Socket): void {
    if (this.state !== 'running') {
      socket.destroy()
      return
    }
    const client: TcpClient = {
      socket,
      framer: new SyslogFramer({ maxFrameBytes: this.maxMessageBytes }),
      pending: [],
      waiting: false,
      receivedAt: 0,
    }
    this.clients.add(client)
    const onFrame = (frame: Buffer) => this.onTcpLine(client, frame)
    const onError = (err: SyslogParseError) => this.parseError(err, null, 'tcp')
    socket.on('data', (chunk: Buffer) => {
      client.receivedAt = Date.now()
      client.framer.push(chunk, onFrame, onError)
      this.afterTcpData(client)
    })
    socket.on('end', () => {
      client.framer.end(onFrame, onError)
      this.afterTcpData(client)
    })
    socket.on('error', () => {}) // a reset by the peer: 'close' follows
    socket.on('close', () => {
      this.clients.delete(client)
      // Its pending lines stay in `waiting` and still go to the queue.
    })
  }

  private onTcpLine(client: TcpClient, line: Buffer): void {
    this.c.receivedTcp.inc()
    if (!this.check(line, 'tcp')) return
    const entry: Entry = { line, receivedAt: client.receivedAt }
    if (client.pending.length === 0) {
      if (this.queue.push(entry)) return
      this.pump()
      if (this.queue.push(entry)) return
    }
    client.pending.push(entry)
  }

  private afterTcpData(client: TcpClient): void {
    if (client.pending.length > 0 && !client.waiting) {
      client.waiting = true
      this.waiting.push(client)
      client.socket.pause()
    }
    this.pump()
  }

  private onDatagram(msg: Buffer): void {
    this.c.receivedUdp.inc()
    // One message per datagram (RFC 5426); trailing LF, CR and NUL are not part of it.
    let end = msg.length
    while (end > 0 && (msg[end - 1] === 10 || msg[end - 1] === 13 || msg[end - 1] === 0)) end--
    let line = end === msg.length ? msg : msg.subarray(0, end)
    if (line.length > this.maxMessageBytes) {
      this.parseError(new SyslogParseError(`datagram longer than ${this.maxMessageBytes} bytes: cut off`), line, 'udp')
      line = line.subarray(0, this.maxMessageBytes)
    }
    if (!this.check(line, 'udp')) return
    if (!this.queue.push({ line, receivedAt: Date.now() })) {
      this.pump()
      if (!this.queue.push({ line, receivedAt: Date.now() })) {
        this.c.droppedQueueFull.inc()
        return
      }
    }
    this.pump()
  }

  /** Parses a line to count parse errors; false when it is to be dropped. */
  private check(line: Buffer, transport: 'tcp' | 'udp'): boolean {
    try {
      parseSyslog(line)
      return true
    } catch (err) {
      if (!(err instanceof SyslogParseError)) throw err
      this.parseError(err, line, transport)
      if (this.unparsed === 'drop') {
        this.c.droppedUnparsed.inc()
        return false
      }
      return true
    }
  }

  private parseError(err: SyslogParseError, line: Buffer | null, transport: 'tcp' | 'udp'): void {
    if (transport === 'tcp') this.c.parseErrorsTcp.inc()
    else this.c.parseErrorsUdp.inc()
    if (this.listenerCount('parseError') > 0) this.emit('parseError', err, line)
  }

  // ------------------------------------------------------------------------------------------ producing

  private readonly onDelivery = (err: Error | null): void => {
    this.delivering--
    if (err === null) this.c.produced.inc()
    else {
      this.c.failed.inc()
      this.emit('warning', err)
    }
  }

  private message(entry: Entry): ProducerMessage<Buffer | null, Buffer> {
    if (this.encoder === null) return { topic: this.topic, value: entry.line }
    return {
      topic: this.topic,
      key: this.key,
      value: this.encoder.encode(entry.line, [entry.receivedAt, Date.now()]),
    }
  }

  /** A producer that is not refusing, round robin; null when all are. */
  private readySlot(): Slot | null {
    const n = this.slots.length
    for (let k = 0; k < n; k++) {
      const slot = this.slots[(this.nextSlot + k) % n]
      if (!slot.blocked) {
        this.nextSlot = (this.nextSlot + k + 1) % n
        return slot
      }
    }
    return null
  }

  /** Moves lines from the queue to the producers, and from paused connections to the queue. */
  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    try {
      for (;;) {
        while (this.queue.length > 0) {
          const slot = this.readySlot()
          if (slot === null) break
          if (!slot.producer.produce(this.message(this.queue.peek()), this.onDelivery)) {
            slot.blocked = true
            continue
          }
          this.queue.shift()
          this.delivering++
        }
        if (!this.refill()) break
      }
    } finally {
      this.pumping = false
    }
    if (this.queue.length === 0 && this.waiting.length === 0 && this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve()
    }
  }

  /** Pending lines of paused connections into the queue, oldest connection first; true if any moved. */
  private refill(): boolean {
    let moved = false
    while (this.waiting.length > 0 && !this.queue.full) {
      const client = this.waiting[0]
      let taken = 0
      while (taken < client.pending.length && this.queue.push(client.pending[taken])) taken++
      if (taken > 0) {
        moved = true
        client.pending.splice(0, taken)
      }
      if (client.pending.length > 0) break
      this.waiting.shift()
      client.waiting = false
      if (this.state === 'running' && !client.socket.destroyed) client.socket.resume()
    }
    return moved
  }

  // ------------------------------------------------------------------------------------------ stopping

  /**
   * Stops listening, takes what connected clients already sent, waits (up to `timeoutMs`, default
   * `stopTimeoutMs`) for the queue to empty, and closes the producers. Lines still queued after that are
   * counted as dropped (reason "stopped").
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopPromise === null) this.stopPromise = this.doStop(options.timeoutMs ?? this.stopTimeoutMs)
    return this.stopPromise
  }

  private async doStop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    this.state = 'stopping'
    const closed: Array<Promise<void>> = []
    if (this.tcpServer !== null) {
      const server = this.tcpServer
      closed.push(new Promise((resolve) => server.close(() => resolve())))
    }
    if (this.udpSocket !== null) {
      const socket = this.udpSocket
      closed.push(
        new Promise((resolve) => {
          try {
            socket.close(() => resolve())
          } catch {
            resolve() // never bound
          }
        }),
      )
    }
    for (const client of [...this.clients]) {
      // What the socket has buffered was sent to us: take it before closing.
      const onFrame = (frame: Buffer) => this.onTcpLine(client, frame)
      const onError = (err: SyslogParseError) => this.parseError(err, null, 'tcp')
      client.receivedAt = Date.now()
      for (let chunk = client.socket.read() as Buffer | null; chunk !== null; chunk = client.socket.read()) {
        client.framer.push(chunk, onFrame, onError)
      }
      client.framer.end(onFrame, onError)
      client.socket.destroy()
      this.afterTcpData(client)
    }
    await Promise.all(closed)
    this.pump()
    if (this.queue.length > 0 || this.waiting.length > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
        }),
      ])
      clearTimeout(timer)
    }
    let left = this.queue.length
    for (const client of this.waiting) left += client.pending.length
    if (left > 0) this.c.droppedStopped.inc(left)
    await Promise.all(
      this.slots.map((s) => s.producer.close({ timeoutMs: Math.max(0, deadline - Date.now()) }).catch(() => {})),
    )
    this.state = 'stopped'
  }
}
