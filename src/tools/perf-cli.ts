// `kafka-wire perf produce|consume`: load tests in the manner of Kafka's ProducerPerformance and
// ConsumerPerformance, with a live progress bar on a terminal (a line per interval otherwise), a final report
// with throughput and latency percentiles, and --json for a machine-readable report on stdout.
import { randomBytes } from 'node:crypto'
import { Admin } from '../client/admin.js'
import { Consumer } from '../client/consumer.js'
import type { ProduceError } from '../client/errors.js'
import { Producer } from '../client/producer.js'
import { KafkaWireError } from '../protocol/errors.js'
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  connectionOf,
  errorLine,
  integerOption,
  onStopSignals,
  type Percentiles,
  parseCommand,
  percentiles,
  printUsage,
  runCommand,
  toJson,
  UsageError,
} from './command-line.js'
import { acksOf, compressionOf } from './produce-cli.js'

const USAGE = `usage: kafka-wire perf <produce|consume> [options]

  produce                   send --count messages of --size bytes as fast as allowed, report throughput and
                            send-to-acknowledgement latency (Kafka's ProducerPerformance)
  consume                   read --count messages in a consumer group, report throughput and fetch latency
                            (Kafka's ConsumerPerformance)

See kafka-wire perf produce --help and kafka-wire perf consume --help.`

const COMMON = `  --interval-ms MS          progress every MS (default 5000; a live bar on a terminal)
  --json                    print the final report as one JSON object on stdout (progress stays on stderr)
  -h, --help                this text`

const PRODUCE_USAGE = `usage: kafka-wire perf produce --topic T [options]

  --topic T                 the topic (it must exist)
  --count N                 messages to send (default 1000000)
  --size BYTES              value size (default 100; random letters, one payload for all, as Kafka's tool)
  --throughput N            at most N messages per second; -1: unlimited (default)
  --acks A                  all (default; idempotent), 1, 0
  --compression C           none (default), gzip, snappy, lz4, zstd
  --linger-ms MS            how long a batch waits to fill (default 5)
  --batch-bytes N           a partition's batch is sent at this size (default 65536)
${COMMON}

Report: messages, bytes, seconds, msg/s, MB/s (MB = 2^20 bytes, as Kafka's tools) and the latency from produce()
to acknowledgement in ms: avg, p50, p95, p99, p99.9, max.

${CONNECTION_USAGE}`

const CONSUME_USAGE = `usage: kafka-wire perf consume --topic T [options]

  --topic T                 the topic
  --count N                 messages to read (default 1000000)
  --group G                 the consumer group (default: a new one, kafka-wire-perf-<time>)
  --from-latest             start at the end when the group has no committed offset (default: the earliest)
  --timeout-ms MS           give up after MS without a message (default 10000; exit code 1)
${COMMON}

Report: messages, bytes (keys and values), seconds from the first message (and the join time before it),
msg/s, MB/s (MB = 2^20 bytes), fetch latency (request to response, ms) and end-to-end latency (message timestamp
to its handling, ms): avg, p50, p95, p99, p99.9, max.

${CONNECTION_USAGE}`

export async function runPerfCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    if (sub === undefined) {
      process.stderr.write('kafka-wire perf: give produce or consume (see kafka-wire perf --help)\n')
      return 2
    }
    return printUsage(USAGE)
  }
  if (sub === 'produce') return runCommand('perf produce', () => perfProduce(rest))
  if (sub === 'consume') return runCommand('perf consume', () => perfConsume(rest))
  return runCommand('perf', async () => {
    throw new UsageError(`unknown subcommand "${sub}"`)
  })
}

/** Progress on stderr: a bar redrawn in place on a terminal, a line per interval otherwise. */
class Progress {
  private readonly tty = process.stderr.isTTY === true
  private timer: NodeJS.Timeout | undefined
  private last = { at: 0, done: 0 }

  constructor(
    private readonly total: number,
    private readonly intervalMs: number,
    private readonly line: (doneInWindow: number, windowMs: number) => string,
    private readonly done: () => number,
  ) {}

  start(): void {
    this.last = { at: performance.now(), done: 0 }
    this.timer = setInterval(() => this.tick(), this.tty ? Math.min(200, this.intervalMs) : this.intervalMs)
    this.timer.unref()
  }

  private tick(): void {
    const now = performance.now()
    const done = this.done()
    const text = this.line(done - this.last.done, now - this.last.at)
    if (this.tty) {
      const width = 30
      const filled = Math.min(width, Math.round((done / this.total) * width))
      const pct = ((done / this.total) * 100).toFixed(0).padStart(3)
      process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}%  ${text}`)
    } else process.stderr.write(`${text}\n`)
    this.last = { at: now, done }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    if (this.tty) process.stderr.write('\r\x1b[K')
  }
}

const MB = 1024 * 1024
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

/** Latencies kept for the percentiles: every one up to a million, then one in k. */
class LatencySamples {
  private readonly every: number
  private readonly values: Float64Array
  private n = 0

  constructor(expected: number) {
    this.every = Math.max(1, Math.ceil(expected / 1_000_000))
    this.values = new Float64Array(Math.ceil(expected / this.every))
  }

  add(index: number, ms: number): void {
    if (index % this.every === 0 && this.n < this.values.length) this.values[this.n++] = ms
  }

  result(): Percentiles {
    return percentiles(this.values.subarray(0, this.n))
  }
}

function latencyText(p: Percentiles): string {
  return `avg ${p.avg.toFixed(2)} ms, p50 ${p.p50.toFixed(2)} ms, p95 ${p.p95.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, p99.9 ${p.p999.toFixed(2)} ms, max ${p.max.toFixed(2)} ms`
}

async function perfProduce(argv: string[]): Promise<number> {
  const { values } = parseCommand({
    args: argv,
    options: {
      ...CONNECTION_OPTIONS,
      topic: { type: 'string' },
      count: { type: 'string' },
      size: { type: 'string' },
      throughput: { type: 'string' },
      acks: { type: 'string' },
      compression: { type: 'string' },
      'linger-ms': { type: 'string' },
      'batch-bytes': { type: 'string' },
      'interval-ms': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return printUsage(PRODUCE_USAGE)
  const topic = values.topic
  if (!topic) throw new UsageError('give --topic T')
  const count = integerOption('count', values.count, { min: 1 }) ?? 1_000_000
  const size = integerOption('size', values.size, { min: 0, max: 64 * MB }) ?? 100
  const throughput = integerOption('throughput', values.throughput, { min: -1 }) ?? -1
  if (throughput === 0) throw new UsageError('--throughput must be positive, or -1 for unlimited')
  const acks = acksOf(values.acks)
  const compression = compressionOf(values.compression)
  const lingerMs = integerOption('linger-ms', values['linger-ms'], { min: 0 }) ?? 5
  const batchBytes = integerOption('batch-bytes', values['batch-bytes'], { min: 1 }) ?? 64 * 1024
  const intervalMs = integerOption('interval-ms', values['interval-ms'], { min: 10 }) ?? 5000
  const connection = connectionOf('perf produce', values)

  const admin = new Admin({ clientId: 'kafka-wire-perf', ...connection })
  try {
    await admin.describeTopics([topic])
  } finally {
    admin.close()
  }

  // Random upper-case letters, as ProducerPerformance makes its payload.
  const payload = Buffer.from(randomBytes(size).map((b) => 65 + (b % 26)))
  const producer = new Producer({
    clientId: 'kafka-wire-perf',
    ...connection,
    acks,
    idempotent: acks === 'all',
    compression,
    flush: { frequencyMs: lingerMs, bytes: batchBytes },
    maxRequestBytes: Math.max(1024 * 1024, size + 1024),
  })
  const latencies = new LatencySamples(count)
  let sent = 0
  let acked = 0
  let failed = 0
  let firstError: ProduceError | null = null
  let stopping = false
  let windowMax = 0
  let windowSum = 0
  let windowN = 0
  const progress = new Progress(
    count,
    intervalMs,
    (n, ms) => {
      const line = `${fmt(acked)} acknowledged, ${fmt((n / ms) * 1000)} msg/s (${round((n * size) / MB / (ms / 1000))} MB/s), avg ${(windowN ? windowSum / windowN : 0).toFixed(1)} ms, max ${windowMax.toFixed(1)} ms`
      windowMax = 0
      windowSum = 0
      windowN = 0
      return line
    },
    () => acked,
  )
  let t0 = 0
  let finish: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  const removeSignals = onStopSignals(() => {
    stopping = true
    if (acked + failed === sent) finish()
  })
  const settle = () => {
    if (acked + failed === sent && (sent === count || stopping)) finish()
  }
  const pump = () => {
    while (sent < count && !stopping) {
      if (throughput > 0) {
        // Ahead of the allowed rate: wait until the next message is due.
        const due = t0 + (sent / throughput) * 1000
        const now = performance.now()
        if (due > now) {
          setTimeout(pump, Math.max(1, due - now))
          return
        }
      }
      const i = sent
      const at = performance.now()
      const accepted = producer.produce({ topic, value: payload }, (err) => {
        const ms = performance.now() - at
        if (err) {
          failed++
          firstError ??= err
          stopping = true
        } else {
          acked++
          latencies.add(i, ms)
          windowSum += ms
          windowN++
          if (ms > windowMax) windowMax = ms
        }
        settle()
      })
      if (!accepted) {
        producer.once('drain', pump)
        return
      }
      sent++
    }
    settle()
  }
  try {
    await producer.connect()
    t0 = performance.now()
    progress.start()
    pump()
    await finished
  } finally {
    progress.stop()
    removeSignals()
    await producer.close({ timeoutMs: 30_000 })
  }
  const seconds = (performance.now() - t0) / 1000
  const latency = latencies.result()
  const report = {
    type: 'produce',
    topic,
    messages: acked,
    failed,
    bytes: acked * size,
    seconds: round(seconds, 3),
    msgPerSec: round(acked / seconds, 1),
    mbPerSec: round((acked * size) / MB / seconds, 3),
    latencyMs: latency,
    config: { count, size, throughput, acks: acks === 'all' ? 'all' : acks, compression, lingerMs, batchBytes },
  }
  if (values.json) process.stdout.write(`${toJson(report)}\n`)
  else
    process.stdout.write(
      `${fmt(acked)} messages sent in ${seconds.toFixed(2)} s: ${fmt(report.msgPerSec)} msg/s (${report.mbPerSec.toFixed(2)} MB/s)\n` +
        `latency: ${latencyText(latency)}\n`,
    )
  const err = firstError as ProduceError | null
  if (err !== null) throw new KafkaWireError(err.code, `${failed} message(s) failed; the first: ${errorLine(err)}`)
  return 0
}

async function perfConsume(argv: string[]): Promise<number> {
  const { values } = parseCommand({
    args: argv,
    options: {
      ...CONNECTION_OPTIONS,
      topic: { type: 'string' },
      count: { type: 'string' },
      group: { type: 'string' },
      'from-latest': { type: 'boolean' },
      'timeout-ms': { type: 'string' },
      'interval-ms': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return printUsage(CONSUME_USAGE)
  const topic = values.topic
  if (!topic) throw new UsageError('give --topic T')
  const count = integerOption('count', values.count, { min: 1 }) ?? 1_000_000
  const timeoutMs = integerOption('timeout-ms', values['timeout-ms'], { min: 1 }) ?? 10_000
  const intervalMs = integerOption('interval-ms', values['interval-ms'], { min: 10 }) ?? 5000
  if (values.group === '') throw new UsageError('--group must not be empty')
  const groupId = values.group ?? `kafka-wire-perf-${Date.now()}`
  const connection = connectionOf('perf consume', values)

  const admin = new Admin({ clientId: 'kafka-wire-perf', ...connection })
  try {
    await admin.describeTopics([topic])
  } finally {
    admin.close()
  }

  const endToEnd = new LatencySamples(count)
  let messages = 0
  let bytes = 0
  let firstAt = 0
  let lastActivity = 0
  let stop: (why: 'done' | 'idle' | 'signal' | 'failed') => void = () => {}
  const stopped = new Promise<'done' | 'idle' | 'signal' | 'failed'>((resolve) => {
    stop = resolve
  })
  let failure: unknown = null
  const consumer = new Consumer({
    clientId: 'kafka-wire-perf',
    ...connection,
    groupId,
    topics: [topic],
    autoOffsetReset: values['from-latest'] ? 'latest' : 'earliest',
    taskTimeoutMs: 0,
    maxRetries: 0,
    handler: (m) => {
      if (messages >= count) return
      const now = Date.now()
      if (messages === 0) firstAt = performance.now()
      endToEnd.add(messages, Math.max(0, now - m.timestamp))
      messages++
      bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0)
      lastActivity = now
      if (messages === count) stop('done')
    },
  })
  consumer.on('stopped', (reason: { error?: unknown }) => {
    failure = reason?.error ?? new Error('the consumer stopped')
    stop('failed')
  })
  let windowBytes = 0
  const progress = new Progress(
    count,
    intervalMs,
    (n, ms) => {
      const b = bytes - windowBytes
      windowBytes = bytes
      return `${fmt(messages)} consumed, ${fmt((n / ms) * 1000)} msg/s (${round(b / MB / (ms / 1000))} MB/s)`
    },
    () => messages,
  )
  const removeSignals = onStopSignals(() => stop('signal'))
  const t0 = performance.now()
  let joinMs = 0
  let idleTimer: NodeJS.Timeout | undefined
  let why: 'done' | 'idle' | 'signal' | 'failed'
  try {
    await Promise.race([consumer.start(), stopped])
    joinMs = performance.now() - t0
    lastActivity = Date.now()
    progress.start()
    idleTimer = setInterval(
      () => {
        if (Date.now() - lastActivity >= timeoutMs) stop('idle')
      },
      Math.min(timeoutMs, 200),
    )
    why = await stopped
  } finally {
    if (idleTimer) clearInterval(idleTimer)
    progress.stop()
    removeSignals()
    await consumer.close()
  }
  const end = performance.now()
  const seconds = messages > 0 ? (end - firstAt) / 1000 : 0
  const snap = consumer.metrics.snapshot()['consumer.fetch.latency'] as unknown as Record<string, number> | undefined
  const r3 = (x: number | undefined) => round(x ?? 0, 3)
  const fetchLatency: Percentiles = {
    avg: r3(snap?.mean),
    p50: r3(snap?.p50),
    p95: r3(snap?.p95),
    p99: r3(snap?.p99),
    p999: r3(snap?.p999),
    max: r3(snap?.max),
  }
  const e2e = endToEnd.result()
  const report = {
    type: 'consume',
    topic,
    group: groupId,
    messages,
    bytes,
    seconds: round(seconds, 3),
    joinMs: round(joinMs, 1),
    msgPerSec: seconds > 0 ? round(messages / seconds, 1) : 0,
    mbPerSec: seconds > 0 ? round(bytes / MB / seconds, 3) : 0,
    latencyMs: fetchLatency,
    endToEndMs: e2e,
    config: { count, timeoutMs, fromLatest: values['from-latest'] === true },
  }
  if (values.json) process.stdout.write(`${toJson(report)}\n`)
  else
    process.stdout.write(
      `${fmt(messages)} messages consumed in ${seconds.toFixed(2)} s (after ${(joinMs / 1000).toFixed(2)} s to join group ${groupId}): ` +
        `${fmt(report.msgPerSec)} msg/s (${report.mbPerSec.toFixed(2)} MB/s)\n` +
        `fetch latency: ${latencyText(fetchLatency)}\n` +
        `end-to-end latency: ${latencyText(e2e)}\n`,
    )
  if (failure !== null) throw failure
  if (why === 'idle')
    throw new KafkaWireError(
      'ERR_TIMEOUT',
      `read ${messages} of ${count} messages: no message for ${timeoutMs} ms (--timeout-ms)`,
    )
  return 0
}
