// Record batch codec micro benchmarks, side by side with the KafkaJS and @platformatic/kafka codecs: encode and
// decode one batch of 1000 records (10 B keys, 100 B or 1 KiB values, with and without 2 headers), uncompressed
// and lz4; plus CRC-32C throughput (ours alone).
//
// `npm run bench -- codec [--quick] [--ours] [--filter=<text>] [--rounds=<n>]`
// (or `node --import tsx bench/codec.ts [args]` to print the table alone, e.g. under --cpu-prof).
//
// Like for like:
// - Encode: each library starts from the records in the form its own producer hands to its batch encoder
//   (converted once, untimed) and ends with one whole batch ready to be sent. kafka-wire encodes into a reused
//   Writer (its Produce codec encodes batches straight into the request buffer); the peers return new Buffers.
// - Decode: every decoder reads the same bytes, the batch kafka-wire encoded, as a broker returns it: with a
//   base offset of a busy partition (beyond 2^32) where a produced batch has 0 (before timing, each peer's
//   decoder is checked to return the fixture's records from them, and each peer's own encoding is checked to
//   decode, through ours, to the same records: the outputs are equivalent). kafka-wire verifies the CRC-32C;
//   KafkaJS and @platformatic/kafka do not check it. See bench/peers/codec-*.ts for how each codec is reached.
// - ops/s is batches per second from tinybench's median (p50) batch time; each client runs `rounds` short
//   rounds interleaved with the others (order rotated) and keeps its best round. The median keeps other
//   processes' preemption out of the figures on a shared machine (where the mean of a 0.5 ms task can be 5x its
//   median); it also leaves out GC pauses, which favours whoever allocates more: the peers. The mean-based
//   rates are logged too.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Bench } from 'tinybench'
import { crc32c, crc32cImplementation, crc32cSlicing8 } from '../src/protocol/crc32c.js'
import { decodeRecordBatches, encodeRecordBatch, type RecordInput } from '../src/protocol/record-batch.js'
import { Writer } from '../src/protocol/writer.js'
import {
  assertSameRecords,
  type BatchCodec,
  type Compression,
  type FixtureRecord,
  fixture,
  type PeerCodecFactory,
} from './peers/codec-fixture.js'
import { kafkajsCodecs } from './peers/codec-kafkajs.js'
import { platformaticCodecs } from './peers/codec-platformatic.js'
import type { BenchContext, BenchRow, BenchSuite } from './types.js'

const RECORDS = 1000

/** Base offset of the batches decoded: a partition past 2^32 records (fetched batches carry real offsets). */
const FETCHED_BASE_OFFSET = 5_000_000_000n

function toRecordInputs(records: FixtureRecord[]): RecordInput[] {
  return records.map((r) => ({
    key: r.key,
    value: r.value,
    timestamp: r.timestamp,
    headers: r.headers.length === 0 ? undefined : r.headers,
  }))
}

const kafkaWire: PeerCodecFactory = {
  client: 'kafka-wire',
  note: 'kafka-wire: encodeRecordBatch into a reused Writer, decodeRecordBatches with CRC-32C verification',
  create(records: FixtureRecord[], compression: Compression): BatchCodec {
    const input = { records: toRecordInputs(records), compression }
    const w = new Writer(2 * 1024 * 1024)
    return {
      encode() {
        encodeRecordBatch(w.reset(), input)
        return w.view()
      },
      decode: (bytes: Buffer) => decodeRecordBatches(bytes),
      records(decoded) {
        const batches = decoded as ReturnType<typeof decodeRecordBatches>
        return batches.flatMap((b) =>
          b.records.map((r) => ({
            key: r.key!,
            value: r.value!,
            timestamp: r.timestamp,
            headers: r.headers.map((h) => ({ key: h.key, value: h.value! })),
          })),
        )
      },
    }
  },
}

interface Options {
  time: number
  rounds: number
  peers: boolean
  filter?: string
}

function parseArgs(args: string[]): Options {
  const quick = args.includes('--quick')
  const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  return {
    // Per task and round; the default run (16 scenarios x 3 clients x 3 rounds) takes about a minute.
    time: Number(value('time') ?? (quick ? 100 : 250)),
    rounds: Number(value('rounds') ?? (quick ? 1 : 3)),
    peers: !args.includes('--ours'),
    filter: value('filter'),
  }
}

interface Measured {
  mean: number
  p50: number
  p99: number
}

/** Run `tasks` for `rounds` interleaved rounds (order rotated) and keep each task's best mean, p50 and p99. */
async function measure(tasks: { name: string; fn: () => unknown }[], opts: Options): Promise<Map<string, Measured>> {
  const best = new Map<string, Measured>()
  for (let round = 0; round < opts.rounds; round++) {
    const bench = new Bench({ time: opts.time, warmupTime: Math.min(50, opts.time), warmup: true })
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[(i + round) % tasks.length]
      bench.add(t.name, t.fn)
    }
    await bench.run()
    for (const task of bench.tasks) {
      const r = task.result
      if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}${'error' in r ? `: ${r.error}` : ''}`)
      const m = { mean: r.latency.mean, p50: r.latency.p50 ?? r.latency.mean, p99: r.latency.p99 ?? r.latency.mean }
      const prev = best.get(task.name)
      if (prev === undefined) best.set(task.name, m)
      else
        best.set(task.name, {
          mean: Math.min(prev.mean, m.mean),
          p50: Math.min(prev.p50, m.p50),
          p99: Math.min(prev.p99, m.p99),
        })
    }
  }
  return best
}

async function run(ctx: Pick<BenchContext, 'args' | 'log' | 'peer'>): Promise<BenchRow[]> {
  const opts = parseArgs(ctx.args)
  const factories: PeerCodecFactory[] = [kafkaWire]
  if (opts.peers) {
    factories.push(await platformaticCodecs(() => ctx.peer('@platformatic/kafka')))
    await ctx.peer('kafkajs')
    factories.push(kafkajsCodecs())
  }
  for (const f of factories) ctx.log(`  ${f.note}`)
  ctx.log(
    `  ${opts.rounds} round(s) of ${opts.time} ms per client and scenario, best round kept; CRC-32C: ${crc32cImplementation}`,
  )

  const rows: BenchRow[] = []
  for (const valueSize of [100, 1024]) {
    for (const headers of [false, true]) {
      for (const compression of ['none', 'lz4'] as const) {
        const label = `${valueSize === 100 ? '100 B' : '1 KiB'} values${headers ? ', 2 headers' : ''}, ${compression}`
        if (opts.filter && !label.includes(opts.filter)) continue
        const records = fixture(RECORDS, valueSize, headers)
        const codecs = factories.map((f) => ({ client: f.client, codec: f.create(records, compression) }))
        const ours = codecs[0].codec
        const w = new Writer(2 * 1024 * 1024)
        encodeRecordBatch(w, { records: toRecordInputs(records), compression, baseOffset: FETCHED_BASE_OFFSET })
        const bytes = w.toBuffer()
        // Untimed checks: every decoder reads our bytes back to the fixture; every encoder's batch decodes
        // (through ours, CRC verified) to the fixture.
        for (const { client, codec } of codecs) {
          assertSameRecords(client, `decoding kafka-wire's ${label}`, records, codec.records(await codec.decode(bytes)))
          const theirs = Buffer.from(await codec.encode())
          assertSameRecords(client, `encoding ${label}`, records, ours.records(ours.decode(theirs)))
        }
        const bytesPerBatch = RECORDS * (10 + valueSize)
        for (const op of ['encode', 'decode'] as const) {
          const scenario = `${op} ${label}`
          const tasks = codecs.map(({ client, codec }) => ({
            name: client,
            fn: op === 'encode' ? () => codec.encode() : () => codec.decode(bytes),
          }))
          const results = await measure(tasks, opts)
          for (const { client } of codecs) {
            const m = results.get(client)!
            const ops = 1000 / m.p50
            rows.push({
              client,
              scenario,
              opsPerSec: ops,
              msgsPerSec: ops * RECORDS,
              mbPerSec: (ops * bytesPerBatch) / 1e6,
              p50Ms: m.p50,
              p99Ms: m.p99,
            })
          }
          const rate = (ms: number) => `${Math.round((1000 / ms) * RECORDS).toLocaleString('en-US')}/s`
          ctx.log(
            `  ${scenario}: ${codecs.map(({ client }) => `${client} ${rate(results.get(client)!.p50)} (mean ${rate(results.get(client)!.mean)})`).join(', ')}`,
          )
        }
      }
    }
  }

  if (!opts.filter || 'crc32c'.includes(opts.filter)) {
    const crcTasks: { name: string; fn: () => unknown; size: number }[] = []
    for (const size of [1024, 1024 * 1024]) {
      const data = Buffer.alloc(size, 0x5a)
      const label = size === 1024 ? '1 KiB' : '1 MiB'
      crcTasks.push({ name: `crc32c ${label} (${crc32cImplementation})`, fn: () => crc32c(data), size })
      if (crc32cImplementation !== 'js-slicing8') {
        crcTasks.push({ name: `crc32c ${label} (js-slicing8)`, fn: () => crc32cSlicing8(data), size })
      }
    }
    const results = await measure(crcTasks, { ...opts, rounds: 1 })
    for (const t of crcTasks) {
      const m = results.get(t.name)!
      const ops = 1000 / m.p50
      rows.push({
        client: 'kafka-wire',
        scenario: t.name,
        opsPerSec: ops,
        mbPerSec: (ops * t.size) / 1e6,
        p50Ms: m.p50,
        p99Ms: m.p99,
      })
    }
  }
  return rows
}

const suite: BenchSuite = {
  description: 'record batch encode/decode (1000 records) vs KafkaJS and @platformatic/kafka; CRC-32C',
  needsBroker: false,
  peers: ['kafkajs', '@platformatic/kafka'],
  run,
}

export default suite

// Run directly: print the table (peers must already be installed in bench/node_modules).
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const peerRequire = createRequire(new URL('./package.json', import.meta.url))
  const rows = await run({
    args: process.argv.slice(2),
    peer: async (name) => import(pathToFileURL(peerRequire.resolve(name)).href),
    log: console.error,
  })
  console.table(
    rows.map((r) => {
      const ours = rows.find((o) => o.scenario === r.scenario && o.client === 'kafka-wire')
      return {
        scenario: r.scenario,
        client: r.client,
        'records/s': r.msgsPerSec === undefined ? '' : Math.round(r.msgsPerSec),
        'MB/s': (r.mbPerSec ?? 0).toFixed(1),
        'p50 µs': ((r.p50Ms ?? 0) * 1000).toFixed(1),
        'kafka-wire vs': ours && ours !== r ? `${((ours.opsPerSec ?? 0) / (r.opsPerSec ?? 1)).toFixed(2)}x` : '',
      }
    }),
  )
}
