// Record batch codec micro benchmarks: encode and decode one batch of 1000 records (10 B keys, 100 B or 1 KiB
// values, with and without 2 headers), uncompressed and lz4; plus CRC-32C throughput.
// `npm run bench -- codec` (or `node --import tsx bench/codec.ts` to print the table alone).
import { Bench } from 'tinybench'
import { crc32c, crc32cImplementation, crc32cSlicing8 } from '../src/protocol/crc32c.js'
import { decodeRecordBatches, encodeRecordBatch, type RecordInput } from '../src/protocol/record-batch.js'
import { Writer } from '../src/protocol/writer.js'
import type { BenchRow, BenchSuite } from './types.js'

const RECORDS = 1000

function records(valueSize: number, headers: boolean): RecordInput[] {
  const out: RecordInput[] = []
  for (let i = 0; i < RECORDS; i++) {
    const key = Buffer.alloc(10)
    key.write(`key-${i}`.padStart(10, '0'))
    const value = Buffer.alloc(valueSize)
    for (let j = 0; j < valueSize; j++) value[j] = 97 + ((i + j * 7) % 26)
    out.push({
      key,
      value,
      timestamp: 1_700_000_000_000 + i,
      headers: headers
        ? [
            { key: 'trace-id', value: Buffer.from('0af7651916cd43dd8448eb211c80319c') },
            { key: 'content-type', value: Buffer.from('application/json') },
          ]
        : undefined,
    })
  }
  return out
}

interface Scenario {
  name: string
  ops: number
  bytes: number
  p50: number
  p99: number
}

async function measure(time: number): Promise<Scenario[]> {
  const bench = new Bench({ time, warmup: true })
  const sizes = new Map<string, number>()
  for (const valueSize of [100, 1024]) {
    for (const headers of [false, true]) {
      for (const compression of ['none', 'lz4'] as const) {
        const input = { records: records(valueSize, headers), compression }
        const w = new Writer(2 * 1024 * 1024)
        encodeRecordBatch(w, input)
        const encoded = w.toBuffer()
        const label = `${valueSize === 100 ? '100 B' : '1 KiB'} values${headers ? ', 2 headers' : ''}, ${compression}`
        sizes.set(`encode ${label}`, RECORDS * (10 + valueSize))
        sizes.set(`decode ${label}`, RECORDS * (10 + valueSize))
        bench.add(`encode ${label}`, () => {
          encodeRecordBatch(w.reset(), input)
        })
        bench.add(`decode ${label}`, () => {
          decodeRecordBatches(encoded)
        })
      }
    }
  }
  for (const size of [1024, 1024 * 1024]) {
    const data = Buffer.alloc(size, 0x5a)
    const label = size === 1024 ? '1 KiB' : '1 MiB'
    sizes.set(`crc32c ${label} (${crc32cImplementation})`, size)
    sizes.set(`crc32c ${label} (js-slicing8)`, size)
    bench.add(`crc32c ${label} (${crc32cImplementation})`, () => {
      crc32c(data)
    })
    if (crc32cImplementation !== 'js-slicing8') {
      bench.add(`crc32c ${label} (js-slicing8)`, () => {
        crc32cSlicing8(data)
      })
    }
  }
  await bench.run()
  return bench.tasks.map((task) => {
    const r = task.result
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`)
    return {
      name: task.name,
      ops: r.throughput.mean,
      bytes: sizes.get(task.name) ?? 0,
      p50: r.latency.p50 ?? r.latency.mean,
      p99: r.latency.p99 ?? r.latency.mean,
    }
  })
}

const suite: BenchSuite = {
  description: 'record batch encode/decode (1000 records) and CRC-32C, kafka-wire alone',
  needsBroker: false,
  async run(ctx) {
    const time = ctx.args.includes('--quick') ? 200 : 1000
    const rows: BenchRow[] = []
    for (const s of await measure(time)) {
      const isBatch = !s.name.startsWith('crc32c')
      rows.push({
        client: 'kafka-wire',
        scenario: s.name,
        opsPerSec: s.ops,
        msgsPerSec: isBatch ? s.ops * RECORDS : undefined,
        mbPerSec: (s.ops * s.bytes) / 1e6,
        p50Ms: s.p50,
        p99Ms: s.p99,
      })
    }
    return rows
  },
}

export default suite

// Run directly: print our own table.
if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await suite.run({
    args: process.argv.slice(2),
    peer: async () => undefined as never,
    log: console.error,
  })
  console.table(
    rows.map((r) => ({
      scenario: r.scenario,
      'ops/s': Math.round(r.opsPerSec ?? 0),
      'records/s': r.msgsPerSec === undefined ? '' : Math.round(r.msgsPerSec),
      'MB/s': (r.mbPerSec ?? 0).toFixed(1),
      'p50 µs': ((r.p50Ms ?? 0) * 1000).toFixed(1),
      'p99 µs': ((r.p99Ms ?? 0) * 1000).toFixed(1),
    })),
  )
}
