// The --metrics.* flags of the long-running commands (mirror maker, syslog producer, perf tools) and the one
// function that starts and stops whatever they ask for. A command spreads METRICS_ARG_OPTIONS into its
// parseArgs options, appends METRICS_USAGE to its --help, and does:
//
//   const metrics = await startMetricsReporting([consumer.metrics, producer.metrics], metricsOptionsFromArgs(values))
//   ...
//   await metrics.stop()   // Graphite gets one last report; the Prometheus endpoint closes
//
// Bad flag values throw a ConfigError with one clear line; a Prometheus port in use, a MetricsReporterError.

import { ConfigError } from '../../client/errors.js'
import { GraphiteReporter, type GraphiteReporterOptions } from './graphite-reporter.js'
import { type PrometheusServer, type PrometheusServerOptions, startPrometheusServer } from './prometheus-exposition.js'
import { ALL_PERCENTILES, checkRegistries, type Registries } from './reporter-common.js'

/** The parseArgs option specs of the --metrics.* flags. */
export const METRICS_ARG_OPTIONS = {
  'metrics.graphite': { type: 'string' },
  'metrics.prefix': { type: 'string' },
  'metrics.interval': { type: 'string' },
  'metrics.percentiles': { type: 'string' },
  'metrics.prometheus': { type: 'string' },
} as const

/** The --metrics.* lines of a command's --help. */
export const METRICS_USAGE = `metrics:
  --metrics.graphite HOST[:PORT]    report to Graphite's plaintext listener (port default 2003)
  --metrics.prefix PATH             Graphite path prefix, e.g. kafka.mirror.host1
  --metrics.interval DURATION       Graphite report interval: 500ms, 10s, 1m; a bare number is seconds (default 60s)
  --metrics.percentiles Q1,Q2       Graphite percentiles, among ${ALL_PERCENTILES.join(',')} (default all)
  --metrics.prometheus [HOST:]PORT  serve Prometheus metrics at http://HOST:PORT/metrics (host default: all)`

/** The values of the --metrics.* flags, as parseArgs returns them. */
export interface MetricsFlagValues {
  'metrics.graphite'?: string | undefined
  'metrics.prefix'?: string | undefined
  'metrics.interval'?: string | undefined
  'metrics.percentiles'?: string | undefined
  'metrics.prometheus'?: string | undefined
}

/** What to start: nothing, Graphite, Prometheus or both. */
export interface MetricsReportingOptions {
  graphite?: Omit<GraphiteReporterOptions, 'registry'>
  prometheus?: Omit<PrometheusServerOptions, 'registry'>
}

/**
 * `host:port`, `host`, `[v6]:port`, `[v6]`, or (when `portOnly` is allowed) a bare `port`. The port is checked
 * against [minPort, 65535].
 */
export function parseHostPort(
  text: string,
  flag: string,
  defaults: { port?: number; portOnly?: boolean; minPort?: number } = {},
): { host?: string; port: number } {
  const bad = (why: string) => new ConfigError(`${flag} ${JSON.stringify(text)}: ${why}`)
  const s = text.trim()
  if (s.length === 0) throw bad('empty')
  let host: string | undefined
  let port: string | undefined
  if (s.startsWith('[')) {
    const end = s.indexOf(']')
    if (end === -1) throw bad('no closing ]')
    host = s.slice(1, end)
    const rest = s.slice(end + 1)
    if (rest !== '') {
      if (!rest.startsWith(':')) throw bad('expected :PORT after ]')
      port = rest.slice(1)
    }
  } else if (/^\d+$/.test(s) && defaults.portOnly) {
    port = s
  } else {
    const colon = s.lastIndexOf(':')
    if (colon !== -1 && s.indexOf(':') !== colon) throw bad('write IPv6 addresses as [ADDRESS]:PORT')
    host = colon === -1 ? s : s.slice(0, colon)
    if (colon !== -1) port = s.slice(colon + 1)
  }
  if (host !== undefined && host.length === 0) {
    if (!defaults.portOnly) throw bad('no host')
    host = undefined
  }
  let portNumber = defaults.port
  if (port !== undefined) {
    if (!/^\d+$/.test(port)) throw bad('the port is not a number')
    portNumber = Number(port)
  }
  if (portNumber === undefined) throw bad('no port')
  const min = defaults.minPort ?? 1
  if (portNumber < min || portNumber > 65535) throw bad(`the port must be from ${min} to 65535`)
  return host === undefined ? { port: portNumber } : { host, port: portNumber }
}

/** `250ms`, `10s`, `1.5m`, `1h`; a bare number is seconds. In milliseconds, at least 10. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim())
  if (m === null) throw new ConfigError(`${flag} ${JSON.stringify(text)}: expected a duration such as 500ms, 10s, 1m`)
  const unit = m[2] ?? 's'
  const ms = Math.round(Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000))
  if (ms < 10 || ms > 2 ** 31 - 1) throw new ConfigError(`${flag} ${JSON.stringify(text)}: must be from 10ms to 24d`)
  return ms
}

/** Turns the --metrics.* flag values into reporter options (empty when none is given). */
export function metricsOptionsFromArgs(values: MetricsFlagValues): MetricsReportingOptions {
  const out: MetricsReportingOptions = {}
  const graphite = values['metrics.graphite']
  if (graphite !== undefined) {
    const { host, port } = parseHostPort(graphite, '--metrics.graphite', { port: 2003 })
    const g: Omit<GraphiteReporterOptions, 'registry'> = { port }
    if (host !== undefined) g.host = host
    const prefix = values['metrics.prefix']
    if (prefix !== undefined) g.prefix = prefix
    const interval = values['metrics.interval']
    if (interval !== undefined) g.intervalMs = parseDuration(interval, '--metrics.interval')
    const percentiles = values['metrics.percentiles']
    if (percentiles !== undefined) {
      g.percentiles = percentiles.split(',').map((p) => {
        const q = Number(p.trim())
        if (p.trim() === '' || !ALL_PERCENTILES.includes(q)) {
          throw new ConfigError(
            `--metrics.percentiles: ${JSON.stringify(p.trim())} is not one of ${ALL_PERCENTILES.join(', ')}`,
          )
        }
        return q
      })
    }
    out.graphite = g
  } else {
    for (const flag of ['metrics.prefix', 'metrics.interval', 'metrics.percentiles'] as const) {
      if (values[flag] !== undefined) throw new ConfigError(`--${flag} needs --metrics.graphite HOST[:PORT]`)
    }
  }
  const prometheus = values['metrics.prometheus']
  if (prometheus !== undefined) {
    const { host, port } = parseHostPort(prometheus, '--metrics.prometheus', { portOnly: true, minPort: 0 })
    out.prometheus = host === undefined ? { port } : { host, port }
  }
  return out
}

/** The reporters started from flags; `stop()` ends them all (never rejects). */
export interface MetricsReporting {
  readonly graphite?: GraphiteReporter
  readonly prometheus?: PrometheusServer
  stop(): Promise<void>
}

export interface MetricsReportingHooks {
  /**
   * Where to say that Graphite became unreachable (once per outage, not once per retry). Default: one line on
   * stderr.
   */
  log?: (line: string) => void
}

/** Starts what the options ask for, reporting `registry` (one or several registries). */
export async function startMetricsReporting(
  registry: Registries,
  options: MetricsReportingOptions,
  hooks: MetricsReportingHooks = {},
): Promise<MetricsReporting> {
  checkRegistries(registry, 'registry')
  const log = hooks.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  let graphite: GraphiteReporter | undefined
  if (options.graphite !== undefined) {
    let reported = false
    let connects = 0
    const userOnError = options.graphite.onError
    const reporter: GraphiteReporter = new GraphiteReporter({
      ...options.graphite,
      registry,
      onError: (err) => {
        userOnError?.(err)
        const stats = reporter.stats
        if (reported && stats.connects === connects) return // still the same outage
        reported = true
        connects = stats.connects
        log(`metrics: Graphite at ${reporter.host}:${reporter.port} unreachable (${err.message}); retrying`)
      },
    })
    graphite = reporter
  }
  let prometheus: PrometheusServer | undefined
  if (options.prometheus !== undefined) {
    prometheus = await startPrometheusServer({ ...options.prometheus, registry })
  }
  graphite?.start()
  let stopping: Promise<void> | undefined
  return {
    ...(graphite === undefined ? {} : { graphite }),
    ...(prometheus === undefined ? {} : { prometheus }),
    stop() {
      stopping ??= Promise.all([graphite?.stop(), prometheus?.close()]).then(() => undefined)
      return stopping
    },
  }
}
