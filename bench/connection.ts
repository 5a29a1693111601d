// `npm run bench -- connection`: request round trips with 1, 16 and 128 in flight on one connection,
// and raw fetch throughput (record bytes per second) from a pre-filled topic, next to the loopback TCP
// ceiling measured in the same run (a child process writing as fast as it can to a plain Node socket).
import { fork } from 'node:child_process'
import * as net from 'node:net'
import { fileURLToPath } from 'node:url'
import { Admin } from '../src/client/admin.js'
import { Producer } from '../src/client/producer.js'
import { Cluster } from '../src/network/cluster.js'
import { Connection } from '../src/network/connection.js'
import { ApiVersions } from '../src/protocol/api-versions.js'
import { Fetch } from '../src/protocol/fetch.js'
import type { BenchRow, BenchSuite } from './types.js'

const FILL_BYTES = 256 * 1024 * 1024
const VALUE_BYTES = 1024

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

async function roundTrips(host: string, port: number, inFlight: number, total: number): Promise<BenchRow> {
  const c = new Connection({ host, port, maxInFlight: inFlight })
  await c.connect()
  const latencies: number[] = []
  // Warm up the JIT and the broker.
  for (let i = 0; i < 200; i++) await c.request(ApiVersions, {})
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < total) {
      next++
      const t = performance.now()
      await c.request(ApiVersions, {})
      latencies.push(performance.now() - t)
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  const seconds = (performance.now() - started) / 1000
  c.close()
  latencies.sort((a, b) => a - b)
  return {
    client: 'kafka-wire',
    scenario: `round trips, ${inFlight} in flight`,
    opsPerSec: total / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  }
}

async function fill(brokers: string, topic: string): Promise<void> {
  const admin = new Admin({ brokers })
  await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }], { ignoreExisting: true })
  admin.close()
  const producer = new Producer({ brokers, compression: 'none', flush: { bytes: 512 * 1024, frequencyMs: 5 } })
  const value = Buffer.alloc(VALUE_BYTES, 0x61)
  const count = FILL_BYTES / VALUE_BYTES
  await new Promise<void>((resolve, reject) => {
    let sent = 0
    let done = 0
    const onDone = (err: Error | null) => {
      if (err) reject(err)
      else if (++done === count) resolve()
    }
    const pump = () => {
      while (sent < count) {
        if (!producer.produce({ topic, value }, onDone)) {
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

async function fetchAll(brokers: string, topic: string): Promise<{ row: BenchRow; copiedPerByte: number }> {
  const cluster = new Cluster({ bootstrap: brokers })
  cluster.addTopics([topic])
  await cluster.connect()
  const info = cluster.topics.get(topic)!
  const c = await cluster.connection(info.partitions[0].leader, 'fetch')
  const before = { ...c.receiveStats }
  let offset = 0n
  let recordBytes = 0
  const started = performance.now()
  while (recordBytes < FILL_BYTES) {
    const r = await c.request(Fetch, {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 64 * 1024 * 1024,
      isolationLevel: 0,
      topics: [
        {
          topic,
          topicId: info.topicId,
          partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 32 * 1024 * 1024 }],
        },
      ],
    })
    const p = r.responses[0].partitions[0]
    const records = p.records
    if (!records || records.length === 0) break
    recordBytes += records.length
    // Advance past the last whole batch: its base offset + last offset delta + 1.
    let at = 0
    let last = offset
    while (at + 61 <= records.length) {
      const length = records.readInt32BE(at + 8)
      if (at + 12 + length > records.length) break
      last = records.readBigInt64BE(at) + BigInt(records.readInt32BE(at + 23)) + 1n
      at += 12 + length
    }
    offset = last
  }
  const seconds = (performance.now() - started) / 1000
  const received = c.receiveStats.bytesReceived - before.bytesReceived
  const copied = c.receiveStats.bytesCopied - before.bytesCopied
  cluster.close()
  return {
    row: { client: 'kafka-wire', scenario: 'raw fetch, 1 partition', mbPerSec: recordBytes / seconds / 1e6 },
    copiedPerByte: copied / received,
  }
}

/** The loopback ceiling: a child process writes `bytes` to a plain socket; we read them with the default path. */
async function loopback(bytes: number): Promise<BenchRow> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const child = fork(fileURLToPath(import.meta.url), ['--loopback-writer', String(port), String(bytes)], {
    stdio: 'inherit',
  })
  const mbPerSec = await new Promise<number>((resolve) => {
    server.once('connection', (socket) => {
      let got = 0
      const started = performance.now()
      socket.on('data', (d: Buffer) => {
        got += d.length
        if (got >= bytes) {
          resolve(got / ((performance.now() - started) / 1000) / 1e6)
          socket.destroy()
        }
      })
    })
  })
  child.kill()
  server.close()
  return { client: 'loopback-tcp', scenario: 'raw fetch, 1 partition', mbPerSec }
}

if (process.argv[2] === '--loopback-writer') {
  const port = Number(process.argv[3])
  let left = Number(process.argv[4])
  const chunk = Buffer.alloc(1024 * 1024, 0x61)
  const socket = net.connect({ port, host: '127.0.0.1' }, () => {
    const write = () => {
      while (left > 0) {
        left -= chunk.length
        if (!socket.write(chunk)) {
          socket.once('drain', write)
          return
        }
      }
      socket.end()
    }
    write()
  })
  socket.on('error', () => process.exit(0))
}

const suite: BenchSuite = {
  description: 'round trips at 1/16/128 in flight; raw fetch MB/s next to the loopback TCP ceiling',
  needsBroker: true,
  async run(ctx) {
    const brokers = ctx.brokers!
    const [host, port] = brokers.split(',')[0].split(':')
    const rows: BenchRow[] = []
    for (const inFlight of [1, 16, 128]) {
      rows.push(await roundTrips(host, Number(port), inFlight, inFlight === 1 ? 20_000 : 100_000))
      ctx.log(`round trips with ${inFlight} in flight done`)
    }
    const topic = `bench-fetch-${Date.now()}`
    ctx.log(`filling ${topic} with ${FILL_BYTES / 2 ** 20} MiB ...`)
    await fill(brokers, topic)
    const { row, copiedPerByte } = await fetchAll(brokers, topic)
    rows.push(row)
    ctx.log(`bytes copied per byte received on the fetch: ${copiedPerByte.toFixed(4)}`)
    rows.push(await loopback(FILL_BYTES))
    const admin = new Admin({ brokers })
    await admin.deleteTopics([topic]).catch(() => {})
    admin.close()
    return rows
  },
}

export default suite
