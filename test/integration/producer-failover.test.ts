import * as assert from 'node:assert/strict'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import { ProduceError } from '../../src/client/errors.js'
import { Producer } from '../../src/client/producer.js'
import type { Cluster } from '../../src/tools/local-broker.js'
import { external, startFailoverCluster } from '../helpers/failover-cluster.js'
import { readTopic } from '../helpers/read-topic.js'

let cluster: Cluster

test.before(async () => {
  if (!external) cluster = await startFailoverCluster()
})

test.after(async () => {
  await cluster?.stop()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('kill -9 of partition leaders under load (acks all, idempotent): every acknowledged message exactly once, in order', async () => {
  if (external) {
    console.log('  skipped: needs its own 3-node cluster (KAFKA_WIRE_EXTERNAL=1)')
    return
  }
  const brokers = cluster.bootstrap
  const admin = new Admin({ brokers })
  const topic = `failover-${Date.now()}`
  await admin.createTopics([{ topic, partitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }])
  const producer = new Producer({
    brokers,
    deliveryTimeoutMs: 60_000,
    requestTimeoutMs: 10_000,
    flush: { bytes: 16 * 1024, frequencyMs: 2 },
    retryBackoff: { baseMs: 50, maxMs: 500 },
  })
  await producer.connect()

  const acknowledged: Array<{ i: number; partition: number; offset: bigint }> = []
  const failed: Array<{ i: number; error: unknown }> = []
  const settled: Array<Promise<void>> = []
  const sentAt: number[] = []
  let i = 0
  let stop = false
  const load = (async () => {
    while (!stop) {
      for (let k = 0; k < 200; k++, i++) {
        const n = i
        sentAt[n] = Date.now()
        settled.push(
          producer.send({ topic, key: `key-${n % 30}`, value: String(n) }).then(
            (meta) => {
              acknowledged.push({ i: n, partition: meta.partition, offset: meta.offset })
            },
            (error) => {
              failed.push({ i: n, error })
            },
          ),
        )
      }
      await sleep(20)
    }
  })()

  await sleep(1500)
  for (let round = 0; round < 3; round++) {
    await admin.metadata([topic])
    const leader = admin.cluster.leaderFor(topic, round % 3)
    assert.ok(leader > 0, 'a leader is known')
    await cluster.killNode(leader, 'SIGKILL')
    await sleep(2500)
    await cluster.startNode(leader)
    await sleep(1500)
  }
  stop = true
  await load
  const lastSent = Date.now()
  await Promise.all(settled)
  // Every send settled, and within the delivery timeout (plus slack for the request in flight).
  assert.ok(Date.now() - lastSent < 60_000 + 15_000, 'sends settle within the delivery timeout')
  await producer.close()

  for (const f of failed) assert.ok(f.error instanceof ProduceError, `failure ${f.i} is typed: ${f.error}`)
  assert.ok(acknowledged.length > 1000, `enough load: ${acknowledged.length} acknowledged, ${failed.length} failed`)

  const records = await readTopic(brokers, topic)
  const count = new Map<number, number>()
  for (const r of records) {
    const n = Number(r.value!.toString())
    count.set(n, (count.get(n) ?? 0) + 1)
  }
  for (const a of acknowledged)
    assert.equal(count.get(a.i), 1, `acknowledged message ${a.i} is in the log exactly once`)
  for (const [n, c] of count) assert.equal(c, 1, `message ${n} written once (found ${c})`)
  // Order per partition follows send order (same key -> same partition -> increasing numbers).
  const lastByKey = new Map<string, number>()
  for (const r of records) {
    const n = Number(r.value!.toString())
    const key = r.key!.toString()
    const last = lastByKey.get(key) ?? -1
    assert.ok(n > last, `${key}: ${n} after ${last}`)
    lastByKey.set(key, n)
  }
  // Acknowledged offsets are where the messages really are.
  const offsets = new Map(records.map((r) => [Number(r.value!.toString()), r]))
  for (const a of acknowledged) {
    const r = offsets.get(a.i)!
    assert.equal(r.partition, a.partition)
    if (a.offset >= 0n) assert.equal(r.offset, a.offset)
  }
  admin.close()
})

test('close() with messages pending while every broker is down: every send settles', async () => {
  if (external) return
  const brokers = cluster.bootstrap
  const admin = new Admin({ brokers })
  const topic = `down-${Date.now()}`
  await admin.createTopics([{ topic, partitions: 1, replicationFactor: 3 }])
  admin.close()
  const producer = new Producer({ brokers, deliveryTimeoutMs: 20_000, requestTimeoutMs: 3000 })
  await producer.send({ topic, value: 'warm-up' })
  for (const node of cluster.nodes) await cluster.killNode(node.id, 'SIGKILL')
  const pending = Array.from({ length: 50 }, (_, n) => producer.send({ topic, value: String(n) }))
  const outcome = Promise.allSettled(pending)
  await sleep(500)
  await producer.close({ timeoutMs: 2000 })
  const results = await outcome
  for (const r of results) {
    assert.equal(r.status, 'rejected')
    const reason = (r as PromiseRejectedResult).reason
    assert.ok(reason instanceof ProduceError, String(reason))
  }
})

test.run()
