// `kafka-wire syslog`: a syslog server (TCP and UDP; RFC 3164, RFC 5424, RFC 6587 framing) that produces each
// line to a Kafka topic, raw or as go_kafka_client's LogLine protobuf. Flags keep go_kafka_client's names.
import { parseArgs } from 'node:util'
import { ConfigError } from '../client/errors.js'
import { MetricsRegistry } from '../client/metrics.js'
import type { Acks } from '../client/producer.js'
import type { CompressionName } from '../protocol/compression.js'
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connectionOf } from './command-line.js'
import {
  METRICS_ARG_OPTIONS,
  METRICS_USAGE,
  type MetricsReporting,
  type MetricsReportingOptions,
  metricsOptionsFromArgs,
  startMetricsReporting,
} from './metrics/metrics-flags.js'
import type { LogLineTag } from './syslog/protobuf.js'
import { SyslogServer, type SyslogServerConfig } from './syslog/server.js'

const USAGE = `usage: kafka-wire syslog --topic TOPIC [options]

Listens for syslog messages on TCP and UDP and produces each line to TOPIC. Lines may be RFC 5424 or RFC 3164;
on TCP, frames may be newline-terminated or octet-counted (RFC 6587). The value is the line as received, or,
with --source, --tag or --log.type.id, a LogLine protobuf (go_kafka_client's schema) holding it, keyed by
the source. Lines that parse as neither RFC are counted and produced raw (or dropped: --unparsed drop).

Overload: the queue holds --queue.size lines. A UDP datagram that finds it full is dropped and counted; a
TCP connection is paused until there is room (its sender blocks). SIGINT/SIGTERM stop listening, flush the
queue and close the producers; a second signal stops at once.

options:
  --broker.list LIST      the same as --brokers (go_kafka_client's name)
  --topic TOPIC           where the lines go (required)
  --tcp.host HOST         default 0.0.0.0
  --tcp.port PORT         default 5140 (0: any free port)
  --udp.host HOST         default 0.0.0.0
  --udp.port PORT         default 5141 (0: any free port)
  --no.tcp, --no.udp      do not listen on TCP / UDP
  --queue.size N          lines buffered between the listeners and the producers (default 10000)
  --num.producers N       producers taking lines from the queue (default 1)
  --required.acks N       0, 1 (default) or -1 (all replicas; the producers are then idempotent)
  --acks.timeout MS       how long the broker may wait for those acks (default 1000)
  --compression CODEC     none (default), gzip, snappy, lz4 or zstd
  --source NAME           LogLine source, and the message key
  --tag K=V               a LogLine tag (repeatable)
  --log.type.id N         LogLine logtypeid (int64)
  --unparsed produce|drop what to do with a line that is neither RFC 5424 nor RFC 3164 (default produce)
  --max.message.bytes N   longer lines are cut off there (default 65536)
  --stop.timeout MS       how long a stop may take to deliver what is queued (default 30000)
  -h, --help              this text

${CONNECTION_USAGE}

metrics (registry names): syslog.messages.received{transport}, syslog.messages.produced,
syslog.messages.failed, syslog.messages.dropped{reason=queue_full|unparsed|stopped}, syslog.parse.errors{transport},
syslog.queue.messages, syslog.tcp.connections, syslog.tcp.paused, and the producers' producer.* metrics.

${METRICS_USAGE}`

/** What a caller (a test, or a metrics reporter's wiring) may give the command besides argv. */
export interface SyslogCommandOptions {
  /** The registry the counters go to (to report them elsewhere). Default: a new one. */
  metrics?: MetricsRegistry
  /** Stop when aborted, instead of on SIGINT/SIGTERM (which are then not handled). */
  signal?: AbortSignal
  /** Called once the server listens. */
  onListening?: (server: SyslogServer) => void
}

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

function integer(value: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`)
  return n
}

function int64(value: string, name: string): bigint {
  let n: bigint
  try {
    if (!/^-?\d+$/.test(value.trim())) throw new Error()
    n = BigInt(value.trim())
  } catch {
    throw new ConfigError(`--${name} must be an integer, got "${value}"`)
  }
  if (n < -(1n << 63n) || n >= 1n << 63n) throw new ConfigError(`--${name} is out of the int64 range`)
  return n
}

function acks(value: string | undefined): Acks {
  if (value === undefined) return 1
  if (value === 'all' || value === '-1') return -1
  if (value === '0') return 0
  if (value === '1') return 1
  throw new ConfigError(`--required.acks must be 0, 1 or -1, got "${value}"`)
}

function tags(values: string[] | undefined): LogLineTag[] {
  // go_kafka_client keeps tags in a map: a key given twice keeps its last value.
  const byKey = new Map<string, string>()
  for (const t of values ?? []) {
    const eq = t.indexOf('=')
    if (eq <= 0) throw new ConfigError(`--tag must be KEY=VALUE, got "${t}"`)
    byKey.delete(t.slice(0, eq))
    byKey.set(t.slice(0, eq), t.slice(eq + 1))
  }
  return [...byKey].map(([key, value]) => ({ key, value }))
}

/** Parses the flags into a server configuration and the --metrics.* reporters; null for --help. */
export function syslogConfig(
  argv: string[],
): { config: SyslogServerConfig; reporting: MetricsReportingOptions } | null {
  let values: ReturnType<typeof parseSyslogArgs>['values']
  try {
    values = parseSyslogArgs(negativeValues(argv)).values
  } catch (err) {
    // parseArgs explains over several lines; the first one says it.
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0]
    throw new ConfigError(`${first} (see kafka-wire syslog --help)`)
  }
  return checkedConfig(values)
}

/** Flags whose value may be negative: parseArgs would take the `-1` of `--required.acks -1` for a flag. */
const NEGATIVE_VALUE_FLAGS = new Set(['--required.acks', '--log.type.id'])

function negativeValues(argv: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1]
    if (NEGATIVE_VALUE_FLAGS.has(argv[i]) && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${argv[i]}=${next}`)
      i++
    } else {
      out.push(argv[i])
    }
  }
  return out
}

function parseSyslogArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      ...CONNECTION_OPTIONS,
      'broker.list': { type: 'string' },
      topic: { type: 'string' },
      'tcp.host': { type: 'string' },
      'tcp.port': { type: 'string' },
      'udp.host': { type: 'string' },
      'udp.port': { type: 'string' },
      'no.tcp': { type: 'boolean' },
      'no.udp': { type: 'boolean' },
      'queue.size': { type: 'string' },
      'num.producers': { type: 'string' },
      'required.acks': { type: 'string' },
      'acks.timeout': { type: 'string' },
      compression: { type: 'string' },
      source: { type: 'string' },
      tag: { type: 'string', multiple: true },
      'log.type.id': { type: 'string' },
      unparsed: { type: 'string' },
      'max.message.bytes': { type: 'string' },
      'stop.timeout': { type: 'string' },
      ...METRICS_ARG_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
}

function checkedConfig(
  values: ReturnType<typeof parseSyslogArgs>['values'],
): { config: SyslogServerConfig; reporting: MetricsReportingOptions } | null {
  if (values.help) return null
  if (!values.topic) throw new ConfigError('give --topic TOPIC (see kafka-wire syslog --help)')
  const compression = values.compression
  if (compression !== undefined && !CODECS.includes(compression))
    throw new ConfigError(`--compression must be one of ${CODECS.join(', ')}, got "${compression}"`)
  const unparsed = values.unparsed ?? 'produce'
  if (unparsed !== 'produce' && unparsed !== 'drop')
    throw new ConfigError(`--unparsed must be produce or drop, got "${unparsed}"`)
  const config: Omit<SyslogServerConfig, 'brokers'> = {
    topic: values.topic,
    tcp: values['no.tcp']
      ? false
      : { host: values['tcp.host'] ?? '0.0.0.0', port: integer(values['tcp.port'], 'tcp.port', 0, 65535, 5140) },
    udp: values['no.udp']
      ? false
      : { host: values['udp.host'] ?? '0.0.0.0', port: integer(values['udp.port'], 'udp.port', 0, 65535, 5141) },
    queueSize: integer(values['queue.size'], 'queue.size', 1, 10_000_000, 10_000),
    numProducers: integer(values['num.producers'], 'num.producers', 1, 64, 1),
    requiredAcks: acks(values['required.acks']),
    acksTimeoutMs: integer(values['acks.timeout'], 'acks.timeout', 1, 2 ** 31 - 1, 1000),
    unparsed,
    maxMessageBytes: integer(values['max.message.bytes'], 'max.message.bytes', 64, 16 * 1024 * 1024, 64 * 1024),
    stopTimeoutMs: integer(values['stop.timeout'], 'stop.timeout', 0, 2 ** 31 - 1, 30_000),
  }
  if (values['no.tcp'] && values['no.udp']) throw new ConfigError('--no.tcp and --no.udp: nothing to listen on')
  if (compression !== undefined) config.compression = compression as CompressionName
  if (values.source !== undefined || values.tag !== undefined || values['log.type.id'] !== undefined) {
    config.logLine = { tags: tags(values.tag) }
    if (values.source !== undefined) config.logLine.source = values.source
    if (values['log.type.id'] !== undefined) config.logLine.logTypeId = int64(values['log.type.id'], 'log.type.id')
  }
  const reporting = metricsOptionsFromArgs(values)
  // The connection last: its files are read only once the flags are known to be right.
  const { brokers, requestTimeoutMs, ...connection } = connectionOf('syslog', {
    ...values,
    brokers: values.brokers ?? values['broker.list'],
  })
  if (requestTimeoutMs !== undefined)
    process.stderr.write('kafka-wire syslog: request.timeout.ms is ignored (--acks.timeout sets the request timeout)\n')
  return { config: { ...config, brokers, producer: connection }, reporting }
}

function describe(server: SyslogServer): string {
  const parts: string[] = []
  const tcp = server.tcpAddress
  const udp = server.udpAddress
  if (tcp !== null) parts.push(`tcp ${tcp.address}:${tcp.port}`)
  if (udp !== null) parts.push(`udp ${udp.address}:${udp.port}`)
  return parts.join(', ')
}

function count(metrics: MetricsRegistry, name: string): number {
  let n = 0
  metrics.each((m) => {
    if (m.name === name && m.type === 'counter') n += m.count
  })
  return n
}

export async function runSyslogCommand(argv: string[], options: SyslogCommandOptions = {}): Promise<number> {
  const parsed = syslogConfig(argv)
  if (parsed === null) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const { config, reporting } = parsed
  const metrics = options.metrics ?? new MetricsRegistry()
  config.metrics = metrics
  const server = new SyslogServer(config)
  // Warnings (failed deliveries, producer warnings): at most one line per 5 s, with how many were not shown.
  let lastWarning = 0
  let unshown = 0
  server.on('warning', (err: unknown) => {
    const now = Date.now()
    if (now - lastWarning < 5000) {
      unshown++
      return
    }
    const more = unshown > 0 ? ` (${unshown} more since the last one shown)` : ''
    unshown = 0
    lastWarning = now
    process.stderr.write(`kafka-wire syslog: ${err instanceof Error ? err.message : String(err)}${more}\n`)
  })
  let reporters: MetricsReporting | null = null
  try {
    reporters = await startMetricsReporting(metrics, reporting, {
      log: (line) => process.stderr.write(`kafka-wire syslog: ${line}\n`),
    })
    await server.start()
  } catch (err) {
    await reporters?.stop()
    throw err
  }
  process.stdout.write(`kafka-wire syslog: listening on ${describe(server)}, producing to ${config.topic}\n`)
  if (reporters.prometheus !== undefined)
    process.stdout.write(`kafka-wire syslog: Prometheus metrics at ${reporters.prometheus.url}\n`)
  options.onListening?.(server)

  // A second signal stops at once.
  const now = () => {
    process.stderr.write('kafka-wire syslog: stopping at once\n')
    process.exit(130)
  }
  let onSignal: ((name: NodeJS.Signals) => void) | null = null
  await new Promise<void>((resolve) => {
    if (options.signal !== undefined) {
      if (options.signal.aborted) resolve()
      else options.signal.addEventListener('abort', () => resolve(), { once: true })
      return
    }
    onSignal = (name: NodeJS.Signals) => {
      process.stderr.write(`kafka-wire syslog: ${name}, stopping (flushing ${server.queued} queued lines)\n`)
      process.on('SIGINT', now)
      process.on('SIGTERM', now)
      resolve()
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  })
  try {
    await server.stop()
  } finally {
    if (onSignal !== null) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', now)
      process.off('SIGTERM', now)
    }
  }
  await reporters.stop()
  const dropped = count(metrics, 'syslog.messages.dropped')
  process.stderr.write(
    `kafka-wire syslog: stopped; received ${count(metrics, 'syslog.messages.received')}, produced ` +
      `${count(metrics, 'syslog.messages.produced')}, failed ${count(metrics, 'syslog.messages.failed')}, ` +
      `dropped ${dropped}, parse errors ${count(metrics, 'syslog.parse.errors')}\n`,
  )
  return 0
}
