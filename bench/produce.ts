// `npm run bench -- produce [--quick] [--reps=N] [--only=a,b] [--scenarios=1,2]`: producer throughput and latency against
// the local broker, side by side with KafkaJS, @platformatic/kafka, @confluentinc/kafka-javascript and Kafka's
// Java ProducerPerformance.
//
// Throughput: 1,000,000 messages of 100 B and 100,000 of 1 KiB (10x fewer with --quick), lz4 and none, to a
// fresh topic of 3 partitions (RF 1) per run; acks all and idempotence for every client; a message counts once
// its delivery is acknowledged; the clock runs from the first message offered to the last acknowledgement
// (after a one-message warm-up that fetches metadata and the producer id; Java's own clock includes those).
// Latency: 100 B messages at a steady 10,000 msg/s for 10 s (2 s with --quick) with linger 0; p50/p99 of
// send-to-acknowledgement over every message (no warm-up excluded, as ProducerPerformance does). Each client
// runs in a child process of its own, so the peak RSS reported is its own (Node: resourceUsage().maxRSS; the
// JVM: VmHWM). The Node children run through tsx (its loader adds the same few MB to each).
// The machine is shared and noisy: each scenario runs every client --reps times (default 3, 1 with --quick),
// round robin with a rotating start, and a row is the median repetition (msgs/s; p50 and p99 each for the
// latency run) with the largest peak RSS; every repetition is logged.
//
// Each client, configured as close to the others as it allows (see bench/peers/produce-*.ts):
//   kafka-wire        produce() with 'drain' backpressure and a delivery callback; 64 KiB batches, linger 5 ms,
//                     5 in flight, 32 MiB buffer.
//   kafka-wire send() send() of arrays (~192 KiB each) with 8 outstanding; same producer settings.
//   kafkajs           send() of arrays (~192 KiB each) with 4 outstanding; idempotent forces maxInFlightRequests 1;
//                     no batch size or linger exist; lz4 through a codec on lz4-napi (as kafkajs-lz4 does).
//   platformatic      send() of arrays (~192 KiB each) with 4 outstanding; idempotent forces maxInflights 1;
//                     no batch size or linger exist; lz4 built in (WebAssembly). It declares Node >= 22.22: on
//                     Node 20 it runs with a Promise.withResolvers polyfill (the only thing producing needs).
//   confluent         produce() per message with dr_cb delivery reports polled in librdkafka's background thread;
//                     batch.size 64 KiB, linger.ms 5, 5 in flight, 32 MiB queue (its KafkaJS-compatible API,
//                     variant 'kafkajs', was slower).
//   java              ProducerPerformance, batch.size 64 KiB, linger.ms 5, 5 in flight, buffer.memory 32 MiB,
//                     JVM options of kafka-run-class.sh with -Xmx512M.
// In the latency run linger is 0 everywhere; KafkaJS and platformatic send each 1 ms tick's messages in one call.
//
// Peers come from bench/package.json, installed by the runner on first use. @confluentinc/kafka-javascript is
// an optional native peer: its install script is allowed in bench/package.json (`allowScripts`, npm 11 blocks
// install scripts otherwise) and the runner builds it explicitly when the binary is missing (`npm rebuild`,
// node-gyp with CKJS_LINKING=dynamic: the librdkafka it bundles, 2.15.1, built as a shared library next to the
// addon; Debian's librdkafka-dev is 2.0.2, older than the bindings expect). A peer that cannot load is
// reported, and its rows are left out.
import { fileURLToPath } from 'node:url'
import { Admin } from '../src/client/admin.js'
import type { Adapter, ChildResult, LatencySpec, Spec, ThroughputSpec } from './peers/produce-common.js'
import { childMain, median, runInChild, runOptions, type SideBySideClient, targetLines } from './side-by-side.js'
import type { BenchContext, BenchRow, BenchSuite } from './types.js'

const thisFile = fileURLToPath(import.meta.url)

type Client = SideBySideClient

const CLIENTS: Client[] = [
  { name: 'kafka-wire', adapter: 'kafka-wire', variant: 'produce' },
  { name: 'kafka-wire send()', adapter: 'kafka-wire', variant: 'send' },
  { name: 'kafkajs', adapter: 'kafkajs', peer: 'kafkajs' },
  { name: 'platformatic', adapter: 'platformatic', peer: '@platformatic/kafka' },
  { name: 'confluent', adapter: 'confluent', peer: '@confluentinc/kafka-javascript' },
  { name: 'java', adapter: 'java' },
]

interface Scenario {
  name: string
  spec: Omit<ThroughputSpec, 'brokers' | 'topic'> | Omit<LatencySpec, 'brokers' | 'topic'>
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
      out.push({ name: `${label} x ${n}, ${compression}`, spec: { kind: 'throughput', count, size, compression } })
    }
  }
  out.push({
    name: 'latency @10k msg/s, linger 0',
    spec: { kind: 'latency', rate: 10_000, seconds: quick ? 2 : 10, size: 100 },
  })
  return out
}

/** Run one client on one scenario in a child process; resolves with what it measured. */
function runChild(client: Client, spec: Spec, timeoutMs: number): Promise<ChildResult> {
  if (client.adapter === 'java') {
    return import('./peers/produce-java.js').then((m) => m.runJava(spec, timeoutMs))
  }
  return runInChild<ChildResult>(thisFile, client, spec, timeoutMs)
}

const suite: BenchSuite = {
  description:
    'producer throughput (100 B x 1M, 1 KiB x 100k; none, lz4; acks all, idempotent) and p50/p99 at 10k msg/s',
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
        const results = new Map<string, ChildResult[]>(clients.map((c) => [c.name, []]))
        for (let rep = 0; rep < reps; rep++) {
          // Round robin, starting one client later each repetition, so no client always follows the same one.
          for (let k = 0; k < clients.length; k++) {
            const client = clients[(k + rep) % clients.length]
            const topic = `bench-produce-${stamp}-${si}-${rep}-${client.name.replace(/[^a-z0-9-]/gi, '')}`
            await admin.createTopics([{ topic, partitions: 3, replicationFactor: 1 }])
            topics.push(topic)
            const spec = { ...scenario.spec, brokers, topic } as Spec
            let result: ChildResult
            try {
              result = await runChild(client, spec, 10 * 60_000)
            } catch (err) {
              ctx.log(`${scenario.name} / ${client.name}: failed: ${(err as Error).message}`)
              continue
            }
            results.get(client.name)!.push(result)
            const perSec = result.count / result.seconds
            const lat =
              result.p99Ms === undefined
                ? ''
                : `, p50 ${result.p50Ms?.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`
            ctx.log(
              `${scenario.name} / ${client.name} #${rep + 1}: ${Math.round(perSec).toLocaleString('en-US')} msg/s${lat}, ` +
                `peak RSS ${result.rssMb?.toFixed(0) ?? '?'} MB${result.note ? ` (${result.note})` : ''}`,
            )
          }
        }
        for (const client of clients) {
          const runs = results.get(client.name)!
          if (runs.length === 0) continue
          // The median repetition by the scenario's headline number; peak RSS is the largest of all of them.
          const row: BenchRow = {
            client: client.name,
            scenario: scenario.name,
            rssMb: Math.max(...runs.map((r) => r.rssMb ?? 0)) || undefined,
          }
          if (scenario.spec.kind === 'throughput') {
            row.msgsPerSec = median(runs.map((r) => r.count / r.seconds))
            row.mbPerSec = (row.msgsPerSec * scenario.spec.size) / 1e6
          } else {
            row.p50Ms = median(runs.map((r) => r.p50Ms ?? Number.NaN))
            row.p99Ms = median(runs.map((r) => r.p99Ms ?? Number.NaN))
          }
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

/** The producer issue's targets, from the rows of this run. */
function summarize(ctx: BenchContext, rows: BenchRow[]): void {
  ctx.log('targets (kafka-wire produce() msgs/s over the peer, per throughput scenario):')
  const latency = (ours: BenchRow, theirs: BenchRow, peer: string) =>
    ours.p99Ms !== undefined && theirs.p99Ms !== undefined
      ? `${peer} p99 ${theirs.p99Ms.toFixed(2)} vs ours ${ours.p99Ms.toFixed(2)} ms`
      : null
  for (const { scenario, parts } of targetLines(rows, latency)) ctx.log(`  ${scenario}: ${parts.join('; ')}`)
}

export default suite

// ------------------------------------------------------------------------------------------ child process

await childMain<Spec, ChildResult>(
  (name) => import(`./peers/produce-${name}.js`).then((m) => m.default),
  (adapter, spec) => {
    const a = adapter as Adapter
    return spec.kind === 'throughput' ? a.throughput(spec) : a.latency(spec)
  },
)
