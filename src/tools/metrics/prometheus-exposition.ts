// A MetricsRegistry in Prometheus' text exposition format 0.0.4, rendered on demand (`renderPrometheus`) or
// served over HTTP (`startPrometheusServer`, node:http, GET /metrics by default).
//
// Mapping (names: every character outside [a-zA-Z0-9_:] becomes `_`, and a leading digit gets a `_` before it):
//   counter    producer.retries             -> counter  producer_retries_total
//   gauge      producer.buffer.bytes        -> gauge    producer_buffer_bytes
//   meter      producer.messages.sent       -> counter  producer_messages_sent_total, and the gauges
//                                              producer_messages_sent_rate_1m / _rate_5m / _rate_15m / _rate_mean
//                                              (events per second)
//   histogram  producer.batch.bytes         -> summary  producer_batch_bytes{quantile="0.5"} ... _sum, _count
//   timer      producer.request.latency     -> summary  in milliseconds (as the registry keeps them), and the
//                                              same four rate gauges as a meter
// Labels are kept (values escaped: backslash, double quote, newline). Quantiles come from the registry's
// reservoir; _sum and _count are exact. A gauge whose function fails has no sample. Metrics whose names collide
// after sanitising (`a.b` and `a_b` of different types, or one's samples named like another's) are reported
// once: the first by name (then by registry) wins, the others are left out and counted by `renderPrometheusResult`.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ConfigError } from '../../client/errors.js'
import type { HistogramValues, MeterValues, Metric } from '../../client/metrics.js'
import {
  checkInteger,
  checkPercentiles,
  checkRegistries,
  eachMetric,
  MetricsReporterError,
  PERCENTILE_FIELDS,
  type Registries,
} from './reporter-common.js'

/** The Content-Type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export interface PrometheusRenderOptions {
  /** Quantiles of histograms and timers to expose, among 0.5, 0.75, 0.95, 0.99, 0.999. Default all five. */
  quantiles?: readonly number[]
  /** Prepended to every name (`kafka_wire_`), sanitised like the names. Default none. */
  namespace?: string
  /** HELP text by registry name (`'producer.messages.sent': 'Messages acknowledged by the brokers'`). */
  help?: Readonly<Record<string, string>>
}

export interface PrometheusRenderResult {
  text: string
  /** Families (TYPE lines) rendered. */
  families: number
  /** Metrics left out because their names collided with another metric's after sanitising. */
  skipped: number
}

/** A name made to match [a-zA-Z_:][a-zA-Z0-9_:]*. */
export function prometheusName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_')
  return s.length === 0 || /^[0-9]/.test(s) ? `_${s}` : s
}

/** A label value escaped for the text format: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'))
}

/** A sample value: Go's float syntax (`+Inf`, `-Inf`, `NaN` for the non-finite). */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Number.POSITIVE_INFINITY) return '+Inf'
  if (v === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(v)
}

interface Family {
  /** The registry name and type that own it: another metric may add series only if it has the same. */
  owner: string
  type: 'counter' | 'gauge' | 'summary'
  help: string
  lines: string[]
}

interface Sample {
  family: string
  type: Family['type']
  help: string
  /** Sample name (the family's, or with _sum/_count), extra labels, value; null values are left out. */
  series: Array<[name: string, extra: string, value: number | null]>
}

function labelText(labels: Readonly<Record<string, string>>, avoid?: string): string {
  let text = ''
  for (const name of Object.keys(labels).sort()) {
    // Names starting with __ are reserved by Prometheus; `quantile` belongs to the summary.
    const n = name.startsWith('__') || name === avoid ? `label_${name}` : name
    text += `${text === '' ? '' : ','}${n}="${escapeLabelValue(labels[name])}"`
  }
  return text
}

function withLabels(base: string, extra: string): string {
  if (base === '') return extra === '' ? '' : `{${extra}}`
  return extra === '' ? `{${base}}` : `{${base},${extra}}`
}

class Exposition {
  readonly #families = new Map<string, Family>()
  /** Sample name -> family name, so that no two families emit the same sample name. */
  readonly #sampleNames = new Map<string, string>()
  readonly #series = new Set<string>()
  readonly #quantiles: readonly number[]
  readonly #namespace: string
  readonly #help: Readonly<Record<string, string>>
  skipped = 0

  constructor(options: PrometheusRenderOptions) {
    this.#quantiles = checkPercentiles(options.quantiles, 'quantiles')
    if (options.namespace !== undefined && typeof options.namespace !== 'string') {
      throw new ConfigError('namespace must be a string')
    }
    this.#namespace = options.namespace ? prometheusName(options.namespace) : ''
    this.#help = options.help ?? {}
  }

  add(metric: Metric): void {
    const base = `${this.#namespace}${prometheusName(metric.name)}`
    const help = (what: string) => this.#help[metric.name] ?? `${metric.name}: ${what}`
    const samples: Sample[] = []
    switch (metric.type) {
      case 'counter':
        samples.push(this.#single(counterName(base), 'counter', help('counter'), metric.count))
        break
      case 'gauge':
        samples.push(this.#single(base, 'gauge', help('gauge'), metric.value()))
        break
      case 'meter': {
        const v = metric.values()
        samples.push(this.#single(counterName(base), 'counter', help('meter, events'), v.count))
        samples.push(...this.#rates(base, metric.name, v))
        break
      }
      case 'histogram':
        samples.push(this.#summary(base, help('histogram'), metric.values()))
        break
      case 'timer': {
        const v = metric.values()
        samples.push(this.#summary(base, help('timer, milliseconds'), v))
        samples.push(...this.#rates(base, metric.name, v))
        break
      }
    }
    const owner = `${metric.type} ${metric.name}`
    // All or nothing: a metric whose families or sample names are taken by another metric is left out whole.
    for (const s of samples) {
      const family = this.#families.get(s.family)
      if (family !== undefined ? family.owner !== owner : this.#sampleNames.has(s.family)) {
        this.skipped++
        return
      }
      for (const [name] of s.series) {
        const taken = this.#sampleNames.get(name)
        if (taken !== undefined && taken !== s.family) {
          this.skipped++
          return
        }
      }
    }
    const labels = labelText(metric.labels, metric.type === 'histogram' || metric.type === 'timer' ? 'quantile' : '')
    for (const s of samples) {
      let family = this.#families.get(s.family)
      if (family === undefined) {
        family = { owner, type: s.type, help: s.help, lines: [] }
        this.#families.set(s.family, family)
      }
      for (const [name, extra, value] of s.series) {
        this.#sampleNames.set(name, s.family)
        if (value === null) continue
        const series = `${name}${withLabels(labels, extra)}`
        if (this.#series.has(series)) continue // the same series from two registries: the first one counts
        this.#series.add(series)
        family.lines.push(`${series} ${formatValue(value)}`)
      }
    }
  }

  render(): PrometheusRenderResult {
    let text = ''
    const names = [...this.#families.keys()] // in the order of the metrics' names (see renderPrometheusResult)
    for (const name of names) {
      const f = this.#families.get(name)!
      text += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`
      for (const line of f.lines) text += `${line}\n`
    }
    return { text, families: names.length, skipped: this.skipped }
  }

  #single(name: string, type: Family['type'], help: string, value: number | null): Sample {
    return { family: name, type, help, series: [[name, '', value]] }
  }

  #rates(base: string, registryName: string, v: Omit<MeterValues, 'count'>): Sample[] {
    const h = (window: string) => `${registryName}: events per second, ${window}`
    return [
      this.#single(`${base}_rate_1m`, 'gauge', h('1-minute moving average'), v.rate1),
      this.#single(`${base}_rate_5m`, 'gauge', h('5-minute moving average'), v.rate5),
      this.#single(`${base}_rate_15m`, 'gauge', h('15-minute moving average'), v.rate15),
      this.#single(`${base}_rate_mean`, 'gauge', h('mean since start'), v.rateMean),
    ]
  }

  #summary(base: string, help: string, v: HistogramValues): Sample {
    const series: Sample['series'] = []
    for (const q of this.#quantiles) series.push([base, `quantile="${q}"`, v[PERCENTILE_FIELDS.get(q)!]])
    series.push([`${base}_sum`, '', v.sum])
    series.push([`${base}_count`, '', v.count])
    return { family: base, type: 'summary', help, series }
  }
}

function counterName(base: string): string {
  return base.endsWith('_total') ? base : `${base}_total`
}

/** Renders the registries in the text format 0.0.4, and says how many metrics collided. */
export function renderPrometheusResult(
  registry: Registries,
  options: PrometheusRenderOptions = {},
): PrometheusRenderResult {
  checkRegistries(registry, 'registry')
  const exposition = new Exposition(options)
  // By name, then labels: each metric's families come together (a meter's counter, then its rates), series by labels.
  const metrics: Metric[] = []
  eachMetric(registry, (metric) => metrics.push(metric))
  metrics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  for (const metric of metrics) exposition.add(metric)
  return exposition.render()
}

/** The registries in Prometheus' text format 0.0.4 (what `/metrics` serves). */
export function renderPrometheus(registry: Registries, options: PrometheusRenderOptions = {}): string {
  return renderPrometheusResult(registry, options).text
}

export interface PrometheusServerOptions extends PrometheusRenderOptions {
  registry: Registries
  /** Port to listen on; 0 picks a free one (see `port` on the result). Default 9464. */
  port?: number
  /** Address to listen on. Default: all interfaces (as node:http does). */
  host?: string
  /** Path that serves the metrics. Default /metrics. */
  path?: string
}

export interface PrometheusServer {
  /** The port listened on (the one picked when 0 was asked for). */
  readonly port: number
  /** The address listened on. */
  readonly host: string
  /** `http://host:port/path`, for a scrape config or a test. */
  readonly url: string
  /** Stops listening and closes open connections. */
  close(): Promise<void>
}

/**
 * Serves the registries at `path` (GET or HEAD; other paths 404, other methods 405). Rejects with a
 * MetricsReporterError when it cannot listen (address in use, no permission).
 */
export async function startPrometheusServer(options: PrometheusServerOptions): Promise<PrometheusServer> {
  if (options === null || typeof options !== 'object') throw new ConfigError('startPrometheusServer needs options')
  const registry = checkRegistries(options.registry, 'registry')
  const port = checkInteger(options.port ?? 9464, 'port', 0, 65535)
  const path = options.path ?? '/metrics'
  if (typeof path !== 'string' || !path.startsWith('/')) throw new ConfigError(`path must start with /, got ${path}`)
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host.length === 0)) {
    throw new ConfigError('host must be a non-empty string')
  }
  const renderOptions: PrometheusRenderOptions = {
    quantiles: checkPercentiles(options.quantiles, 'quantiles'),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.help === undefined ? {} : { help: options.help }),
  }
  new Exposition(renderOptions) // validates the options now rather than on the first scrape

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const requested = q === -1 ? url : url.slice(0, q)
    if (requested !== path) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found; metrics are at ${path}\n`)
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('use GET\n')
      return
    }
    let body: string
    try {
      body = renderPrometheus(registry, renderOptions)
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
      res.end(`cannot render metrics: ${err instanceof Error ? err.message : String(err)}\n`)
      return
    }
    res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  server.on('clientError', (_err, socket) => socket.destroy())
  await listen(server, port, options.host)
  const address = server.address() as AddressInfo
  const host = address.address
  const urlHost = address.family === 'IPv6' ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    port: address.port,
    host,
    url: `http://${urlHost}:${address.port}${path}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      const where = `${host ?? '*'}:${port}`
      reject(new MetricsReporterError(`cannot serve Prometheus metrics on ${where}: ${err.message}`, err))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}
