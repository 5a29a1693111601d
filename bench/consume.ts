// `npm run bench -- consume [--quick] [--reps=N] [--only=a,b] [--scenarios=1,2]`: consumer throughput and
// memory against the local broker, side by side with KafkaJS, @platformatic/kafka, @confluentinc/kafka-javascript
// and Kafka's Java ConsumerPerformance.
//
// Each scenario fills one topic of 3 partitions (RF 1) once, with kafka-wire's Producer (64 KiB batches, linger
// 5 ms, the scenario's compression): 1,000,000 messages of 100 B or 100,000 of 1 KiB (10x fewer with --quick),
// none and lz4. Every client then consumes that same topic in a consumer group of its own (nothing committed:
// it starts at the earliest offset) with a handler that only counts, called once per message. The clock runs
// from the start (connect, group join, offset lookup) to the last message counted. Each client runs in a child
// process of its own, so the peak RSS reported is its own (Node: resourceUsage().maxRSS; the JVM: VmHWM); the
// Node children also report their RSS just before the clock starts (the baseline: Node, tsx, the client's
// code), and kafka-wire its configured reservoir (reservoirBytes x partitions), which bounds what it holds
// fetched and not yet handled (plus one fetch's decompressed size per partition).
// The machine is shared and noisy: each scenario runs every client --reps times (default 3, 1 with --quick),
// round robin with a rotating start; a row is the median repetition (msgs/s) with the largest peak RSS;
// every repetition is logged.
//
// Each client, configured as close to the others as it allows (see bench/peers/consume-*.ts): one message at
// a time through a per-message handler; 1 MiB per partition and fetch; auto-commit every 5 s; defaults
// otherwise. Peers come from bench/package.json, installed by the runner on first use (see bench/produce.ts on
// @confluentinc/kafka-javascript's native build). A peer that cannot load is reported and its rows left out.
import { fileURLToPath } from 'node:url'
import { Admin } from '../src/client/admin.js'
import { Producer } from '../src/client/producer.js'
import type { ConsumeAdapter, ConsumeResult, ConsumeSpec } from './peers/consume-common.js'
import { payload } from './peers/produce-common.js'
import { childMain, median, runInChild, runOptions, type SideBySideClient, targetLines } from './side-by-side.js'
import type { BenchContext, BenchRow, BenchSuite } from './types.js'

const thisFile = fileURLToPath(import.meta.url)
const PARTITIONS = 3

type Client = SideBySideClient

const CLIENTS: Client[] = [
  { name: 'kafka-wire', adapter: 'kafka-wire' },
  { name: 'kafkajs', adapter: 'kafkajs', peer: 'kafkajs' },
  { name: 'platformatic', adapter: 'platformatic', peer: '@platformatic/kafka' },
  { name: 'confluent', adapter: 'confluent', peer: '@confluentinc/kafka-javascript' },
  { name: 'java', adapter: 'java' },
]

interface Scenario {
  name: string
  count: number
  size: number
  compression: 'none' | 'lz4'
}

function scenarios(quick: boolean): Scenario[] {
  const scale = quick ? 10 : 1
  const out: Scenario[] = []
  for (const [size, count, label] of [
    [100, 1_000_000 / scale, '100 B'],
    [1024, 100_000 / scale, '1 KiB'],
  ] as const) {
    for (const compression of ['none', 'lz4'] as const) {
      const n = count >= 1_000_000 ? `${count / 1_000_000}M` : `${count / 1000}k`
      out.push({ name: `${label} x ${n}, ${compression}`, count, size, compression })
    }
  }
  return out
}

/** Fill the scenario's topic once: `count` messages of `size` bytes, no key, spread over the partitions. */
async function fill(brokers: string, topic: string, s: Scenario): Promise<void> {
  const producer = new Producer<Buffer | null, Buffer>({
    brokers,
    clientId: 'bench-consume-fill',
    compression: s.compression,
    flush: { bytes: 64 * 1024, frequencyMs: 5 },
    bufferBytes: 32 * 1024 * 1024,
    partitioner: 'round-robin',
  })
  const value = payload(s.size)
  const message = { topic, value }
  let done = 0
  let failed: Error | null = null
  await new Promise<void>((resolve, reject) => {
    const check = (err: Error | null) => {
      if (err) failed ??= err
      if (++done === s.count) failed ? reject(failed) : resolve()
    }
    let sent = 0
    const pump = () => {
      while (sent < s.count) {
        if (!producer.produce(message, check)) {
          producer.once('drain', pump)
          return
        }
        sent++
      }
    }
    pump()
  })
  await producer.close()
}

function runChild(client: Client, spec: ConsumeSpec, timeoutMs: number): Promise<ConsumeResult> {
  if (client.adapter === 'java') {
    return import('./peers/consume-java.js').then((m) => m.runJavaConsumer(spec, timeoutMs))
  }
  const execArgv = process.env.CONSUME_BENCH_EXEC_ARGV?.split(' ').filter(Boolean) ?? []
  return runInChild<ConsumeResult>(thisFile, client, spec, timeoutMs, execArgv)
}

const suite: BenchSuite = {
  description:
    'consumer throughput and peak RSS in a group from the earliest offset (100 B x 1M, 1 KiB x 100k; none, lz4; 3 partitions)',
  needsBroker: true,
  peers: ['kafkajs', '@platformatic/kafka', '@confluentinc/kafka-javascript'],
  async run(ctx) {
    const brokers = ctx.brokers!
    const { quick, scenarios: pick, reps, clients } = await runOptions(ctx, CLIENTS)
    const list = scenarios(quick).filter((_, i) => !pick || pick.includes(i + 1))
    const admin = new Admin({ brokers })
    const topics: string[] = []
    const rows: BenchRow[] = []
    const stamp = Date.now().toString(36)
    try {
      for (const [si, scenario] of list.entries()) {
        const topic = `bench-consume-${stamp}-${si}`
        await admin.createTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }])
        topics.push(topic)
        const t0 = performance.now()
        await fill(brokers, topic, scenario)
        ctx.log(`${scenario.name}: topic filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
        const results = new Map<string, ConsumeResult[]>(clients.map((c) => [c.name, []]))
        for (let rep = 0; rep < reps; rep++) {
          for (let k = 0; k < clients.length; k++) {
            const client = clients[(k + rep) % clients.length]
            const spec: ConsumeSpec = {
              brokers,
              topic,
              groupId: `${topic}-${rep}-${client.name.replace(/[^a-z0-9-]/gi, '')}`,
              count: scenario.count,
              size: scenario.size,
              partitions: PARTITIONS,
            }
            let result: ConsumeResult
            try {
              result = await runChild(client, spec, 10 * 60_000)
            } catch (err) {
              ctx.log(`${scenario.name} / ${client.name}: failed: ${(err as Error).message}`)
              continue
            }
            results.get(client.name)!.push(result)
            const perSec = result.count / result.seconds
            const mem = [
              `peak RSS ${result.rssMb?.toFixed(0) ?? '?'} MB`,
              result.baselineRssMb === undefined ? '' : `baseline ${result.baselineRssMb.toFixed(0)} MB`,
              result.reservoirMb === undefined ? '' : `reservoir ${result.reservoirMb.toFixed(0)} MB`,
            ].filter(Boolean)
            ctx.log(
              `${scenario.name} / ${client.name} #${rep + 1}: ${Math.round(perSec).toLocaleString('en-US')} msg/s ` +
                `in ${result.seconds.toFixed(2)} s, ${mem.join(', ')}${result.note ? ` (${result.note})` : ''}`,
            )
          }
        }
        for (const client of clients) {
          const runs = results.get(client.name)!
          if (runs.length === 0) continue
          const msgsPerSec = median(runs.map((r) => r.count / r.seconds))
          const row: BenchRow = {
            client: client.name,
            scenario: scenario.name,
            msgsPerSec,
            mbPerSec: (msgsPerSec * scenario.size) / 1e6,
            rssMb: Math.max(...runs.map((r) => r.rssMb ?? 0)) || undefined,
          }
          const baselines = runs.map((r) => r.baselineRssMb).filter((v) => v !== undefined)
          if (baselines.length > 0) row.baselineRssMb = Math.max(...baselines)
          if (runs[0].reservoirMb !== undefined) row.reservoirMb = runs[0].reservoirMb
          rows.push(row)
        }
      }
    } finally {
      await admin.deleteTopics(topics).catch((err) => ctx.log(`deleting bench topics: ${err}`))
      admin.close()
    }
    summarize(ctx, rows)
    return rows
  },
}

/** The consumer issue's targets, from the rows of this run. */
function summarize(ctx: BenchContext, rows: BenchRow[]): void {
  ctx.log('targets (kafka-wire msgs/s over the peer, per scenario), and kafka-wire peak RSS vs reservoir + baseline:')
  for (const { scenario, ours, parts } of targetLines(rows)) {
    if (!ours.msgsPerSec) continue
    const mem =
      ours.rssMb === undefined
        ? ''
        : `; RSS ${ours.rssMb.toFixed(0)} MB = baseline ${ours.baselineRssMb?.toFixed(0) ?? '?'} + ` +
          `${(ours.rssMb - (ours.baselineRssMb ?? 0)).toFixed(0)} MB (reservoir ${ours.reservoirMb?.toFixed(0) ?? '?'} MB)`
    ctx.log(`  ${scenario}: ${parts.join('; ')}${mem}`)
  }
}

export default suite

// ------------------------------------------------------------------------------------------ child process

await childMain<ConsumeSpec, ConsumeResult>(
  (name) => import(`./peers/consume-${name}.js`).then((m) => m.default),
  (adapter, spec) => (adapter as ConsumeAdapter).consume(spec),
)
