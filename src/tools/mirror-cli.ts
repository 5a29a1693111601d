// `kafka-wire mirror`: copy topics from one or more source clusters into a destination cluster (a port of
// go_kafka_client's mirror maker; see src/tools/mirror/mirror-maker.ts). Runs until SIGINT or SIGTERM, then drains:
// stops consuming, waits for the messages in flight to be acknowledged, commits, leaves the groups, exits 0.
import { parseArgs } from 'node:util'
import { ConfigError } from '../client/errors.js'
import { KafkaWireError } from '../protocol/errors.js'
import {
  loadConsumerConfig,
  loadProducerConfig,
  type MirrorConsumerConfig,
  type MirrorProducerConfig,
} from './client-settings.js'
import {
  METRICS_ARG_OPTIONS,
  METRICS_USAGE,
  type MetricsReporting,
  metricsOptionsFromArgs,
  startMetricsReporting,
} from './metrics/metrics-flags.js'
import { MirrorMaker } from './mirror/mirror-maker.js'

const USAGE = `usage: kafka-wire mirror --consumer.config FILE [--consumer.config FILE...] --producer.config FILE
                      (--whitelist RE | --blacklist RE) [options]

Consumes the matching topics of each source cluster and produces every message, with its key, headers and
timestamp, to the destination cluster. A source offset is committed only once the destination acknowledged the
message (and everything before it): after a crash, mirroring resumes from there (at least once).
SIGINT / SIGTERM stop it cleanly: consuming stops, messages in flight are delivered, offsets committed.

options:
  --consumer.config FILE   a source cluster: Java properties or JSON with bootstrap.servers and group.id, and
                           optional client settings (security.protocol, sasl.*, ssl.*, auto.offset.reset
                           (default earliest), session.timeout.ms, ...); repeat for several source clusters
  --producer.config FILE   the destination cluster: bootstrap.servers and optional producer settings (acks,
                           compression.type, linger.ms, batch.size, enable.idempotence, security, ...)
  --whitelist RE           mirror the topics matching this regular expression
  --blacklist RE           ... or every topic not matching it (internal topics are never mirrored)
  --prefix STR             destination topic = STR + source topic (default: none)
  --preserve.partitions    write each message to the partition number it was read from; creates missing
                           destination topics with the source's partition count
  --preserve.order         keep each source partition's order: its messages go through one producer and, when
                           they have no key, to one destination partition
  --create.topics          create missing destination topics with the source's partition count (without it,
                           and without --preserve.partitions, a missing destination topic is an error)
  --num.producers N        producer instances (default 1)
  --num.streams N          consumer instances (group members) per source cluster (default 1)
  --queue.size N           messages consumed and not yet acknowledged by the destination, at most (default 10000)
  -h, --help               this text

Metrics (mirror.messages, mirror.bytes, mirror.produce.latency, mirror.errors, mirror.in.flight, and the
consumers' and producers' own) go to the reporters below.

${METRICS_USAGE}`

function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`--${name} must be a positive integer, got "${text}"`)
  return n
}

function describe(err: unknown): string {
  if (err instanceof KafkaWireError) {
    const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : ''
    return `${err.message}${cause} [${err.code}]`
  }
  return err instanceof Error ? err.message : String(err)
}

export async function runMirrorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'consumer.config': { type: 'string', multiple: true },
      'producer.config': { type: 'string' },
      whitelist: { type: 'string' },
      blacklist: { type: 'string' },
      prefix: { type: 'string' },
      'preserve.partitions': { type: 'boolean' },
      'preserve.order': { type: 'boolean' },
      'create.topics': { type: 'boolean' },
      'num.producers': { type: 'string' },
      'num.streams': { type: 'string' },
      'queue.size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...METRICS_ARG_OPTIONS,
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const consumerFiles = values['consumer.config'] ?? []
  if (consumerFiles.length === 0)
    throw new ConfigError('give at least one --consumer.config FILE (see kafka-wire mirror --help)')
  if (values['producer.config'] === undefined)
    throw new ConfigError('give --producer.config FILE (see kafka-wire mirror --help)')
  if ((values.whitelist === undefined) === (values.blacklist === undefined))
    throw new ConfigError('give exactly one of --whitelist RE and --blacklist RE')
  const reporting = metricsOptionsFromArgs(values)
  const log = (line: string) => process.stderr.write(`mirror: ${line}\n`)

  const sources: MirrorConsumerConfig[] = []
  for (const file of consumerFiles) {
    const loaded = loadConsumerConfig(file)
    for (const w of loaded.warnings) log(w)
    sources.push(loaded.config)
  }
  const producer = loadProducerConfig(values['producer.config'])
  for (const w of producer.warnings) log(w)
  const destination: MirrorProducerConfig = producer.config

  const mirror = new MirrorMaker({
    sources,
    destination,
    whitelist: values.whitelist,
    blacklist: values.blacklist,
    prefix: values.prefix,
    preservePartitions: values['preserve.partitions'] ?? false,
    preserveOrder: values['preserve.order'] ?? false,
    createTopics: values['create.topics'] || values['preserve.partitions'] || false,
    numProducers: count('num.producers', values['num.producers'], 1),
    numStreams: count('num.streams', values['num.streams'], 1),
    queueSize: count('queue.size', values['queue.size'], 10_000),
  })
  mirror.on('warning', (err) => log(`warning: ${describe(err)}`))
  mirror.on('topic-created', (t: { topic: string; partitions: number }) =>
    log(`created destination topic ${t.topic} with ${t.partitions} partitions`),
  )

  let signalled: NodeJS.Signals | null = null
  let wake: () => void = () => {}
  const stopped = new Promise<void>((resolve) => {
    wake = resolve
  })
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled !== null) {
      log(`${signal} again: exiting without draining`)
      process.exit(130)
    }
    signalled = signal
    wake()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  mirror.once('failed', () => wake())
  let metrics: MetricsReporting | undefined
  try {
    // One registry holds the mirror's metrics and its consumers' and producers' (counts are totals over them).
    metrics = await startMetricsReporting(mirror.metrics, reporting, { log })
    await mirror.start()
    const where = sources.map((s) => (Array.isArray(s.brokers) ? s.brokers.join(',') : s.brokers)).join(' + ')
    const to = Array.isArray(destination.brokers) ? destination.brokers.join(',') : destination.brokers
    const pattern = values.whitelist !== undefined ? `whitelist ${values.whitelist}` : `blacklist ${values.blacklist}`
    log(`started: ${pattern} from ${where} to ${to}${values.prefix ? ` with prefix ${values.prefix}` : ''}`)
    await stopped
    if (signalled !== null) log(`${signalled}: draining (messages in flight, commits)`)
    await mirror.stop()
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await metrics?.stop()
  }
  const mirrored = mirror.metrics.get('mirror.messages')
  const n = mirrored?.type === 'meter' ? mirrored.count : 0
  if (mirror.failure !== null) throw new Error(`mirror stopped: ${describe(mirror.failure)}`)
  log(`stopped: ${n} messages mirrored`)
  return 0
}
