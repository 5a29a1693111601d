// Reports a MetricsRegistry to Graphite (carbon) every `intervalMs`, over TCP in the plaintext protocol: one
// line `<path> <value> <timestamp>\n` per value, the timestamp in whole Unix seconds.
//
// Paths follow go-metrics' Graphite reporter (which Sarama users already chart):
//   counter    <path>.count
//   gauge      <path>.value
//   meter      <path>.count .one-minute .five-minute .fifteen-minute .mean        (rates: events per second)
//   histogram  <path>.count .min .max .mean .std-dev .50-percentile .99-percentile .999-percentile ...
//   timer      the histogram's fields (milliseconds), then .one-minute .five-minute .fifteen-minute .mean-rate
// where <path> is `prefix.name`, followed by two segments per label (`name.value`, labels sorted by name):
// `consumer.lag{topic="orders",partition="3"}` is `<prefix>.consumer.lag.partition.3.topic.orders.value`.
// Label values (and names) become single segments: characters other than [A-Za-z0-9_-] (dots, spaces, slashes)
// turn into `_`, so a topic `a.b` cannot add a level to the tree.
//
// The reporter never throws into the application and never holds more than `maxBufferedBytes`: while Graphite
// is unreachable it reconnects with exponential backoff (with jitter) and keeps the newest reports that fit in
// that bound, dropping the oldest (counted in `stats.linesDropped`); once connected it sends what it kept, and a
// server that stops reading makes it drop reports rather than queue them in the socket. Lines written to a
// connection that breaks afterwards are lost: the plaintext protocol has no acknowledgements.

import { createConnection, type Socket } from 'node:net'
import { ConfigError } from '../../client/errors.js'
import type { HistogramValues, MeterValues, Metric } from '../../client/metrics.js'
import { type BackoffOptions, backoffDelay } from '../../network/backoff.js'
import {
  checkInteger,
  checkPercentiles,
  checkRegistries,
  eachMetric,
  PERCENTILE_FIELDS,
  type Registries,
} from './reporter-common.js'

export interface GraphiteReporterOptions {
  /** The registry (or registries) to report. */
  registry: Registries
  /** Carbon's plaintext listener. Default localhost:2003. */
  host?: string
  port?: number
  /** Prepended to every path (`kafka.mirror.host1`); dots make levels, other odd characters become `_`. */
  prefix?: string
  /** How often to report, in milliseconds. Default 60000. */
  intervalMs?: number
  /** Quantiles of histograms and timers to send, among 0.5, 0.75, 0.95, 0.99, 0.999. Default all five. */
  percentiles?: readonly number[]
  /** Reconnect delays: exponential from `baseMs` (default 1000) to `maxMs` (default 30000), with jitter. */
  reconnect?: BackoffOptions
  /** Give up a connection attempt after this long. Default 5000 ms. */
  connectTimeoutMs?: number
  /** Bytes of reports held while disconnected, or waiting in a socket that does not drain. Default 1 MiB. */
  maxBufferedBytes?: number
  /** How long `stop()` may take to deliver the last report. Default 5000 ms. */
  stopTimeoutMs?: number
  /** Called with each connection error and each report that failed to build; never required. */
  onError?: (err: Error) => void
  /** Wall clock in milliseconds for the timestamps. Default Date.now. */
  now?: () => number
}

/** What the reporter has done so far. */
export interface GraphiteReporterStats {
  /** Reports built (on the interval, by `report()` and by `stop()`). */
  reports: number
  /** Lines handed to a connected socket. */
  linesSent: number
  /** Lines dropped: not deliverable within `maxBufferedBytes`, or still held when `stop()` gave up. */
  linesDropped: number
  /** Connections established. */
  connects: number
  /** Connection errors (refused, timed out, reset). */
  errors: number
}

interface PendingReport {
  text: string
  lines: number
}

const DEFAULT_PERCENTILES_NAMES: ReadonlyMap<number, string> = new Map([
  [0.5, '50-percentile'],
  [0.75, '75-percentile'],
  [0.95, '95-percentile'],
  [0.99, '99-percentile'],
  [0.999, '999-percentile'],
])

/** One path segment: anything but [A-Za-z0-9_-] becomes `_`; an empty segment is `_`. */
export function graphiteSegment(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_-]/g, '_')
  return s.length === 0 ? '_' : s
}

/** A dotted path (a prefix or a metric name): each dot-separated part made safe, empty parts dropped. */
export function graphitePath(text: string): string {
  return text
    .split('.')
    .filter((part) => part.length > 0)
    .map(graphiteSegment)
    .join('.')
}

/** The path of a metric without its field: the name's levels, then `label.value` for each label by name. */
export function graphiteMetricPath(prefix: string, name: string, labels: Readonly<Record<string, string>>): string {
  let path = graphitePath(name)
  if (prefix.length > 0) path = path.length > 0 ? `${prefix}.${path}` : prefix
  for (const label of Object.keys(labels).sort()) {
    path += `.${graphiteSegment(label)}.${graphiteSegment(labels[label])}`
  }
  return path
}

/** Sends a registry to Graphite on an interval. `start()` to begin, `stop()` to send a last report and end. */
export class GraphiteReporter {
  readonly host: string
  readonly port: number
  readonly prefix: string
  readonly intervalMs: number
  readonly percentiles: readonly number[]
  readonly #registry: Registries
  readonly #reconnect: BackoffOptions
  readonly #connectTimeoutMs: number
  readonly #maxBufferedBytes: number
  readonly #stopTimeoutMs: number
  readonly #onError: ((err: Error) => void) | undefined
  readonly #now: () => number
  readonly #stats: GraphiteReporterStats = { reports: 0, linesSent: 0, linesDropped: 0, connects: 0, errors: 0 }

  #running = false
  #stopping: Promise<void> | undefined
  #interval: NodeJS.Timeout | undefined
  #reconnectTimer: NodeJS.Timeout | undefined
  #attempt = 0
  #socket: Socket | undefined
  #connected = false
  readonly #pending: PendingReport[] = []
  #pendingBytes = 0
  #onClosed: (() => void) | undefined

  constructor(options: GraphiteReporterOptions) {
    if (options === null || typeof options !== 'object') throw new ConfigError('GraphiteReporter needs options')
    this.#registry = checkRegistries(options.registry, 'registry')
    this.host = options.host ?? 'localhost'
    if (typeof this.host !== 'string' || this.host.length === 0)
      throw new ConfigError('host must be a non-empty string')
    this.port = checkInteger(options.port ?? 2003, 'port', 1, 65535)
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new ConfigError('prefix must be a string')
    }
    this.prefix = graphitePath(options.prefix ?? '')
    this.intervalMs = checkInteger(options.intervalMs ?? 60_000, 'intervalMs', 10, 2 ** 31 - 1)
    this.percentiles = checkPercentiles(options.percentiles, 'percentiles')
    const base = checkInteger(options.reconnect?.baseMs ?? 1000, 'reconnect.baseMs', 1, 2 ** 31 - 1)
    const max = checkInteger(options.reconnect?.maxMs ?? 30_000, 'reconnect.maxMs', base, 2 ** 31 - 1)
    this.#reconnect = { baseMs: base, maxMs: max }
    this.#connectTimeoutMs = checkInteger(options.connectTimeoutMs ?? 5000, 'connectTimeoutMs', 1, 2 ** 31 - 1)
    this.#maxBufferedBytes = checkInteger(options.maxBufferedBytes ?? 1 << 20, 'maxBufferedBytes', 1, 2 ** 31 - 1)
    this.#stopTimeoutMs = checkInteger(options.stopTimeoutMs ?? 5000, 'stopTimeoutMs', 0, 2 ** 31 - 1)
    this.#onError = options.onError
    this.#now = options.now ?? Date.now
  }

  /** Whether a connection to Graphite is established now. */
  get connected(): boolean {
    return this.#connected
  }

  /** Bytes of reports held while disconnected (at most `maxBufferedBytes`). */
  get bufferedBytes(): number {
    return this.#pendingBytes
  }

  get stats(): GraphiteReporterStats {
    return { ...this.#stats }
  }

  /** Connects and reports every `intervalMs`. Timers and socket are unref'd: they never keep the process alive. */
  start(): void {
    if (this.#running) return
    if (this.#stopping !== undefined) throw new ConfigError('a stopped GraphiteReporter cannot be started again')
    this.#running = true
    this.#interval = setInterval(() => this.report(), this.intervalMs)
    this.#interval.unref()
    this.#connect()
  }

  /**
   * Sends one last report and closes the connection. Waits up to `stopTimeoutMs` for it to be delivered (making
   * one more connection attempt if needed); what cannot be sent by then is dropped. Never rejects.
   */
  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping
    const wasRunning = this.#running
    this.#running = false
    clearInterval(this.#interval)
    clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    if (!wasRunning) {
      this.#stopping = Promise.resolve()
      return this.#stopping
    }
    this.report()
    this.#stopping = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#socket?.destroy()
        finish()
      }, this.#stopTimeoutMs) // not unref'd: the process waits for the last report (at most stopTimeoutMs)
      const finish = () => {
        clearTimeout(timer)
        this.#onClosed = undefined
        this.#dropPending()
        resolve()
      }
      this.#onClosed = finish
      if (this.#socket === undefined) this.#connect()
      else if (this.#connected) this.#socket.end()
      // else: connecting; the connect handler flushes and ends the socket.
    })
    return this.#stopping
  }

  /** Builds a report now and sends it (or keeps it until connected). Never throws. */
  report(): void {
    let text: string
    let lines: number
    try {
      ;({ text, lines } = this.render())
    } catch (err) {
      this.#error(err)
      return
    }
    this.#stats.reports++
    if (lines === 0) return
    const bytes = Buffer.byteLength(text)
    if (this.#connected && this.#pending.length === 0) {
      const socket = this.#socket!
      if (socket.writableLength + bytes > this.#maxBufferedBytes) {
        this.#stats.linesDropped += lines // the server is not reading: don't let the socket's buffer grow
        return
      }
      socket.write(text)
      this.#stats.linesSent += lines
      return
    }
    this.#hold({ text, lines }, bytes)
  }

  /** The lines of one report, as sent (each ends with a newline), and how many there are. */
  render(): { text: string; lines: number } {
    const timestamp = Math.floor(this.#now() / 1000)
    const suffix = ` ${timestamp}\n`
    let text = ''
    let lines = 0
    const line = (path: string, field: string, value: number) => {
      if (!Number.isFinite(value)) return
      text += `${path}.${field} ${value}${suffix}`
      lines++
    }
    eachMetric(this.#registry, (metric: Metric) => {
      const path = graphiteMetricPath(this.prefix, metric.name, metric.labels)
      switch (metric.type) {
        case 'counter':
          line(path, 'count', metric.count)
          break
        case 'gauge': {
          const value = metric.value()
          if (value !== null) line(path, 'value', value)
          break
        }
        case 'meter': {
          const v: MeterValues = metric.values()
          line(path, 'count', v.count)
          line(path, 'one-minute', v.rate1)
          line(path, 'five-minute', v.rate5)
          line(path, 'fifteen-minute', v.rate15)
          line(path, 'mean', v.rateMean)
          break
        }
        case 'histogram':
          this.#distribution(line, path, metric.values())
          break
        case 'timer': {
          const v = metric.values()
          this.#distribution(line, path, v)
          line(path, 'one-minute', v.rate1)
          line(path, 'five-minute', v.rate5)
          line(path, 'fifteen-minute', v.rate15)
          line(path, 'mean-rate', v.rateMean)
          break
        }
      }
    })
    return { text, lines }
  }

  #distribution(line: (path: string, field: string, value: number) => void, path: string, v: HistogramValues): void {
    line(path, 'count', v.count)
    line(path, 'min', v.min)
    line(path, 'max', v.max)
    line(path, 'mean', v.mean)
    line(path, 'std-dev', v.stddev)
    for (const q of this.percentiles) {
      line(path, DEFAULT_PERCENTILES_NAMES.get(q)!, v[PERCENTILE_FIELDS.get(q)!])
    }
  }

  /** Keeps a report for later, dropping the oldest held reports to stay within maxBufferedBytes. */
  #hold(report: PendingReport, bytes: number): void {
    if (bytes > this.#maxBufferedBytes) {
      this.#stats.linesDropped += report.lines
      return
    }
    while (this.#pendingBytes + bytes > this.#maxBufferedBytes) {
      const old = this.#pending.shift()!
      this.#pendingBytes -= Buffer.byteLength(old.text)
      this.#stats.linesDropped += old.lines
    }
    this.#pending.push(report)
    this.#pendingBytes += bytes
  }

  #dropPending(): void {
    for (const r of this.#pending) this.#stats.linesDropped += r.lines
    this.#pending.length = 0
    this.#pendingBytes = 0
  }

  #flushPending(): void {
    const socket = this.#socket
    if (socket === undefined || this.#pending.length === 0) return
    let lines = 0
    let text = ''
    for (const r of this.#pending) {
      text += r.text
      lines += r.lines
    }
    this.#pending.length = 0
    this.#pendingBytes = 0
    socket.write(text)
    this.#stats.linesSent += lines
  }

  #connect(): void {
    this.#reconnectTimer = undefined
    let socket: Socket
    try {
      socket = createConnection({ host: this.host, port: this.port })
    } catch (err) {
      this.#error(err)
      this.#closed()
      return
    }
    this.#socket = socket
    socket.unref()
    socket.setTimeout(this.#connectTimeoutMs, () => {
      socket.destroy(new Error(`connection to Graphite at ${this.host}:${this.port} timed out`))
    })
    socket.once('connect', () => {
      socket.setTimeout(0)
      this.#connected = true
      this.#attempt = 0
      this.#stats.connects++
      this.#flushPending()
      if (this.#onClosed !== undefined) socket.end()
    })
    // Graphite sends nothing; reading lets us see its FIN (then the socket ends and closes: reconnect).
    socket.on('data', () => {})
    socket.on('error', (err) => {
      this.#stats.errors++
      this.#error(err)
    })
    socket.once('close', () => {
      if (this.#socket === socket) this.#socket = undefined
      this.#connected = false
      this.#closed()
    })
  }

  /** After a connection closed or failed: reconnect later while running, or finish stopping. */
  #closed(): void {
    if (this.#onClosed !== undefined) {
      this.#onClosed()
      return
    }
    if (!this.#running) return
    const delay = backoffDelay(this.#attempt++, this.#reconnect)
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay)
    this.#reconnectTimer.unref()
  }

  #error(err: unknown): void {
    if (this.#onError === undefined) return
    try {
      this.#onError(err instanceof Error ? err : new Error(String(err)))
    } catch {
      // a logging callback that throws must not break the reporter
    }
  }
}
