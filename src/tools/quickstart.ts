// `npm start`: the quickstart on the embedded default. Starts a local Apache Kafka broker (or uses
// KAFKA_BROKERS), produces messages with kafka-wire's producer while showing live progress, then prints
// throughput and send-to-acknowledgement latency percentiles; then consumes the same messages in a consumer
// group through the worker manager, with live progress, checks that each was processed once and that the
// committed offsets are the ends, prints throughput and latency, and stops what it started.
import { Admin } from '../client/admin.js'
import { Consumer } from '../client/consumer.js'
import { metricKey } from '../client/metrics.js'
import { Producer } from '../client/producer.js'
import { startCluster } from './local-broker.js'

const COUNT = Number(process.env.QUICKSTART_MESSAGES) || 200_000
const VALUE_BYTES = 100
const PARTITIONS = 3

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function main(): Promise<void> {
  let brokers = process.env.KAFKA_BROKERS
  let stop: (() => Promise<void>) | undefined
  if (!brokers) {
    console.log('starting a local Apache Kafka broker (the first run downloads its jars from Maven Central) ...')
    const started = Date.now()
    const local = await startCluster({ log: (m) => console.log(`  ${m}`) })
    brokers = local.bootstrap
    stop = () => local.stop()
    console.log(`Kafka ${local.version} is up on ${brokers} (${Date.now() - started} ms)`)
  }
  const admin = new Admin({ brokers, clientId: 'kafka-wire-quickstart' })
  const producer = new Producer({ brokers, clientId: 'kafka-wire-quickstart', compression: 'lz4' })
  const topic = `quickstart-${Date.now()}`
  try {
    await admin.createTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }])
    console.log(
      `topic ${topic} (${PARTITIONS} partitions); producing ${COUNT.toLocaleString('en-US')} messages of ${VALUE_BYTES} B, lz4, acks all, idempotent`,
    )
    await producer.connect()

    const latencies = new Float64Array(COUNT)
    const value = Buffer.alloc(VALUE_BYTES, 0x2e)
    let sent = 0
    let acked = 0
    let failed = 0
    let firstError: Error | null = null
    const t0 = performance.now()
    const tty = process.stdout.isTTY === true
    let lastLine = 0
    const progress = (final = false) => {
      const now = performance.now()
      if (!final && now - lastLine < (tty ? 100 : 1000)) return
      lastLine = now
      const seconds = (now - t0) / 1000
      const rate = Math.round(acked / Math.max(seconds, 1e-3)).toLocaleString('en-US')
      const pct = ((acked / COUNT) * 100).toFixed(0).padStart(3)
      const line = `  ${pct}%  ${acked.toLocaleString('en-US')} acknowledged  ${rate} msg/s  buffer ${(producer.bufferedBytes / 1024).toFixed(0)} KiB`
      if (tty) process.stdout.write(`\r${line}${final ? '\n' : ''}`)
      else console.log(line)
    }
    await new Promise<void>((resolve) => {
      const onDone = (i: number, at: number) => (err: Error | null) => {
        latencies[i] = performance.now() - at
        if (err) {
          failed++
          firstError ??= err
        } else acked++
        progress()
        if (acked + failed === COUNT) resolve()
      }
      const pump = () => {
        while (sent < COUNT) {
          const i = sent
          if (!producer.produce({ topic, key: `user-${i % 1000}`, value }, onDone(i, performance.now()))) {
            producer.once('drain', pump)
            return
          }
          sent++
        }
      }
      pump()
    })
    progress(true)
    const seconds = (performance.now() - t0) / 1000
    latencies.sort()
    console.log(
      `produced ${acked.toLocaleString('en-US')} messages in ${seconds.toFixed(2)} s: ` +
        `${Math.round(acked / seconds).toLocaleString('en-US')} msg/s, ${((acked * VALUE_BYTES) / seconds / 1e6).toFixed(1)} MB/s of values`,
    )
    console.log(
      `send-to-ack latency: p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies[COUNT - 1].toFixed(1)} ms`,
    )
    const snap = producer.metrics.snapshot() as unknown as Record<string, Record<string, number>>
    const batch = snap['producer.batch.records']
    const ratio = snap['producer.compression.ratio']
    console.log(`batches: ${batch.count} (median ${batch.p50} messages), lz4 ratio ${ratio.p50?.toFixed(2)}x`)
    if (failed > 0) {
      console.log(`${failed} messages failed; first error: ${firstError}`)
      process.exitCode = 1
      return
    }
    await consume(brokers, topic, acked)
  } finally {
    await producer.close()
    await admin.deleteTopics([topic], { ignoreMissing: true }).catch(() => {})
    admin.close()
    await stop?.()
  }
}

/** The second half: a consumer group reads the topic back through the worker manager. */
async function consume(brokers: string, topic: string, expected: number): Promise<void> {
  const groupId = `${topic}-group`
  console.log(`consuming them in group ${groupId}: 4 workers, ordered per partition, commits every second`)
  const seen: Uint8Array[] = []
  let processed = 0
  let duplicates = 0
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  const consumer = new Consumer({
    brokers,
    clientId: 'kafka-wire-quickstart',
    groupId,
    topics: [topic],
    autoOffsetReset: 'earliest',
    concurrency: 4,
    commitIntervalMs: 1000,
    handler: (m) => {
      const marks = (seen[m.partition] ??= new Uint8Array(expected))
      const i = Number(m.offset)
      if (marks[i] === 1) duplicates++
      marks[i] = 1
      if (++processed === expected) done()
    },
  })
  const tty = process.stdout.isTTY === true
  const t0 = performance.now()
  const timer = setInterval(
    () => {
      const seconds = (performance.now() - t0) / 1000
      const line = `  ${((processed / expected) * 100).toFixed(0).padStart(3)}%  ${processed.toLocaleString('en-US')} processed  ${Math.round(processed / Math.max(seconds, 1e-3)).toLocaleString('en-US')} msg/s  reservoir ${((consumer.metrics.snapshot()['consumer.reservoir.bytes'] as { value: number }).value / 1024) | 0} KiB`
      if (tty) process.stdout.write(`\r${line}`)
      else console.log(line)
    },
    tty ? 100 : 1000,
  )
  try {
    await consumer.start()
    await finished
    const seconds = (performance.now() - t0) / 1000
    clearInterval(timer)
    if (tty) process.stdout.write('\n')
    await consumer.commit()
    const snap = consumer.metrics.snapshot() as unknown as Record<string, Record<string, number>>
    console.log(
      `consumed ${processed.toLocaleString('en-US')} messages in ${seconds.toFixed(2)} s (group join included): ` +
        `${Math.round(processed / seconds).toLocaleString('en-US')} msg/s, ${((processed * VALUE_BYTES) / seconds / 1e6).toFixed(1)} MB/s of values`,
    )
    const fetch = snap['consumer.fetch.latency']
    const task = snap['consumer.worker.task.time']
    console.log(
      `fetch latency: p50 ${fetch.p50?.toFixed(1)} ms, p99 ${fetch.p99?.toFixed(1)} ms; ` +
        `handler time: p99 ${task.p99?.toFixed(3)} ms; commits: ${snap['consumer.commits'].count}`,
    )
    let committedOk = true
    for (let p = 0; p < PARTITIONS; p++) {
      const c = snap[metricKey('consumer.offset.committed', { topic, partition: p })]?.value
      const lag = snap[metricKey('consumer.lag', { topic, partition: p })]?.value
      if (lag !== 0 || c === undefined || c < 0) committedOk = false
    }
    if (duplicates > 0 || !committedOk) {
      console.log(`check FAILED: ${duplicates} duplicates; committed offsets at the ends: ${committedOk}`)
      process.exitCode = 1
    } else console.log('check: every message processed once; committed offsets are the partition ends (lag 0)')
  } finally {
    clearInterval(timer)
    await consumer.close()
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err)
  process.exit(1)
})
