import * as assert from 'node:assert/strict'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import { Consumer, type ConsumerMessage } from '../../src/client/consumer.js'
import { Producer } from '../../src/client/producer.js'
import { endOffsets } from '../helpers/read-topic.js'

const brokers: string = process.env.KAFKA_BROKERS ?? ''
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')

const admin = new Admin({ brokers })
const created: string[] = []
let seq = 0

async function filledTopic(partitions: number, count: number): Promise<string> {
  const topic = `consumer-${process.pid}-${Date.now()}-${seq++}`
  await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
  created.push(topic)
  const producer = new Producer({ brokers })
  await producer.send(Array.from({ length: count }, (_, i) => ({ topic, key: `k${i % 17}`, value: String(i) })))
  await producer.close()
  return topic
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

test.after(async () => {
  await admin.deleteTopics(created, { ignoreMissing: true }).catch(() => {})
  admin.close()
})

const fast = {
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  commitIntervalMs: 300,
  autoOffsetReset: 'earliest' as const,
}

test('a group consumes every message once, commits the end offsets, and a restart re-processes nothing', async () => {
  const topic = await filledTopic(3, 3000)
  const groupId = `g-${topic}`
  const seen = new Map<string, number>()
  const consumer = new Consumer({
    brokers,
    groupId,
    topics: [topic],
    concurrency: 4,
    ...fast,
    handler: async (m) => {
      const v = m.value!.toString()
      seen.set(v, (seen.get(v) ?? 0) + 1)
    },
  })
  await consumer.start()
  await until(() => seen.size === 3000, 30_000)
  await consumer.close()
  for (const [v, n] of seen) assert.equal(n, 1, `message ${v} processed once`)

  // What the group committed is exactly the end of each partition (Kafka's next-offset convention).
  const cluster = admin.cluster
  const ends = await endOffsets(cluster, topic)
  let again = 0
  const second = new Consumer({ brokers, groupId, topics: [topic], ...fast, handler: () => void again++ })
  await second.start()
  await new Promise((r) => setTimeout(r, 1500))
  assert.equal(again, 0, 'nothing is processed twice after a clean restart')
  const membership = (second as unknown as { membership: { committed(tps: unknown[]): Promise<Map<string, bigint>> } })
    .membership
  const committed = await membership.committed(ends.map((_, partition) => ({ topic, partition })))
  for (let partition = 0; partition < ends.length; partition++) {
    assert.equal(committed.get(`${topic}\u0000${partition}`), ends[partition], `partition ${partition}`)
  }
  await second.close()
})

test('out-of-order completion with concurrency 10: the commit never passes an unfinished offset', async () => {
  const topic = await filledTopic(1, 200)
  const groupId = `g-${topic}`
  const release = new Map<bigint, () => void>()
  const done = new Set<bigint>()
  const consumer = new Consumer({
    brokers,
    groupId,
    topics: [topic],
    concurrency: 10,
    ordering: 'none',
    ...fast,
    handler: (m: ConsumerMessage) =>
      new Promise<void>((resolve) => {
        // Offset 5 is held back until the end; the others finish in random order.
        if (m.offset === 5n) release.set(m.offset, resolve)
        else
          setTimeout(() => {
            done.add(m.offset)
            resolve()
          }, Math.random() * 20)
      }),
  })
  const commits: bigint[] = []
  consumer.on('commit', (entries: Array<{ offset: bigint }>) => {
    for (const e of entries) commits.push(e.offset)
  })
  await consumer.start()
  await until(() => done.size === 199, 30_000)
  await new Promise((r) => setTimeout(r, 800))
  assert.ok(commits.length > 0, 'commits happened while offset 5 was unfinished')
  for (const c of commits) assert.ok(c <= 5n, `committed ${c} while offset 5 was unfinished`)
  release.get(5n)!()
  await until(() => commits.includes(200n), 10_000)
  await consumer.close()
})

test('a static assignment without a group consumes the given partitions only', async () => {
  const topic = await filledTopic(2, 400)
  const partitions = new Set<number>()
  let count = 0
  const consumer = new Consumer({
    brokers,
    assignment: [{ topic, partition: 1 }],
    autoOffsetReset: 'earliest',
    handler: (m) => {
      partitions.add(m.partition)
      count++
    },
  })
  await consumer.start()
  const ends = await endOffsets(admin.cluster, topic)
  await until(() => BigInt(count) === ends[1], 20_000)
  await consumer.close()
  assert.deepEqual([...partitions], [1])
})

test.run()
