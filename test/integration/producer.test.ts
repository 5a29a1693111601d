import * as assert from 'node:assert/strict'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import { ProduceError } from '../../src/client/errors.js'
import { Producer } from '../../src/client/producer.js'
import { partitionForKey } from '../../src/protocol/murmur2.js'
import { runJavaTool, runKcat } from '../helpers/java-tools.js'
import { readTopic } from '../helpers/read-topic.js'

const brokers = process.env.KAFKA_BROKERS
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')

const admin = new Admin({ brokers })
const created: string[] = []
let seq = 0

async function newTopic(partitions = 1, configs?: Record<string, string>): Promise<string> {
  const topic = `producer-${process.pid}-${Date.now()}-${seq++}`
  await admin.createTopics([{ topic, partitions, replicationFactor: 1, configs }])
  created.push(topic)
  return topic
}

test.after(async () => {
  await admin.deleteTopics(created, { ignoreMissing: true }).catch(() => {})
  admin.close()
})

for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
  test(`${compression}: keys, values, headers and timestamps round-trip (null and empty kept apart)`, async () => {
    const topic = await newTopic(2)
    const producer = new Producer({ brokers, compression })
    const messages = Array.from({ length: 500 }, (_, i) => ({
      topic,
      key: i % 7 === 0 ? null : i % 11 === 0 ? Buffer.alloc(0) : `key-${i}`,
      value: i % 5 === 0 ? null : i % 13 === 0 ? '' : `value-${i}-${'x'.repeat(i % 50)}`,
      headers: i % 2 === 0 ? { trace: `t${i}`, empty: '', nothing: null } : undefined,
      timestamp: 1_700_000_000_000 + i,
    }))
    const results = await producer.send(messages)
    await producer.close()
    assert.equal(results.length, 500)
    const records = await readTopic(brokers, topic)
    assert.equal(records.length, 500)
    const byTimestamp = new Map(records.map((r) => [r.timestamp, r]))
    messages.forEach((m, i) => {
      const r = byTimestamp.get(m.timestamp)
      assert.ok(r, `message ${i} is in the log`)
      const key = m.key === null ? null : Buffer.from(m.key)
      assert.deepEqual(r.key, key, `key of ${i}`)
      assert.deepEqual(r.value, m.value === null ? null : Buffer.from(m.value), `value of ${i}`)
      if (m.headers) {
        assert.deepEqual(
          r.headers.map((h) => [h.key, h.value === null ? null : h.value.toString()]),
          [
            ['trace', `t${i}`],
            ['empty', ''],
            ['nothing', null],
          ],
        )
      } else assert.equal(r.headers.length, 0)
      assert.equal(r.partition, results[i].partition)
      assert.equal(r.offset, results[i].offset)
    })
  })
}

test('keyed messages land where the Java client puts them (murmur2), and kcat reads them', async () => {
  const topic = await newTopic(7)
  const producer = new Producer({ brokers })
  const keys = Array.from({ length: 200 }, (_, i) => `user-${i * 7919}`)
  const results = await producer.send(keys.map((key) => ({ topic, key, value: `v:${key}` })))
  await producer.close()
  for (const [i, key] of keys.entries()) assert.equal(results[i].partition, partitionForKey(Buffer.from(key), 7), key)
  // The Java console producer, given the same keys, must choose the same partitions.
  const javaTopic = await newTopic(7)
  const input = keys.map((k) => `${k}\t${k}`).join('\n')
  const out = await runJavaTool(
    'org.apache.kafka.tools.ConsoleProducer',
    [
      '--bootstrap-server',
      brokers,
      '--topic',
      javaTopic,
      '--property',
      'parse.key=true',
      '--property',
      'key.separator=\t',
    ],
    { input: `${input}\n` },
  )
  assert.equal(out.code, 0, out.stderr)
  const javaRecords = await readTopic(brokers, javaTopic)
  assert.equal(javaRecords.length, keys.length)
  for (const r of javaRecords) assert.equal(r.partition, partitionForKey(r.key!, 7), `java placed ${r.key}`)
  const kcat = await runKcat(['-C', '-b', brokers, '-t', topic, '-e', '-q', '-f', '%p|%k|%s\n'])
  assert.equal(kcat.code, 0, kcat.stderr)
  const lines = kcat.stdout.trim().split('\n')
  assert.equal(lines.length, keys.length)
  for (const line of lines) {
    const [p, k, v] = line.split('|')
    assert.equal(Number(p), partitionForKey(Buffer.from(k), 7))
    assert.equal(v, `v:${k}`)
  }
})

test('the Java console consumer reads our batches: keys, headers, timestamps, in every compression', async () => {
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const topic = await newTopic(1)
    const producer = new Producer({ brokers, compression })
    await producer.send([
      { topic, key: 'k1', value: 'v1', headers: { h1: 'x', h2: null }, timestamp: 1_700_000_000_001 },
      { topic, key: null, value: 'v2', timestamp: 1_700_000_000_002 },
      { topic, key: 'k3', value: null, timestamp: 1_700_000_000_003 },
    ])
    await producer.close()
    const r = await runJavaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server',
      brokers,
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '3',
      '--timeout-ms',
      '30000',
      '--property',
      'print.key=true',
      '--property',
      'print.headers=true',
      '--property',
      'print.timestamp=true',
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      [
        'CreateTime:1700000000001\th1:x,h2:null\tk1\tv1',
        'CreateTime:1700000000002\tNO_HEADERS\tnull\tv2',
        'CreateTime:1700000000003\tNO_HEADERS\tk3\tnull',
        '',
      ].join('\n'),
      compression,
    )
  }
})

test('10,000 sends without awaiting: each delivered once, in call order per partition', async () => {
  const topic = await newTopic(3)
  const producer = new Producer({ brokers, flush: { bytes: 4096, frequencyMs: 1 } })
  const sends: Array<Promise<{ partition: number; offset: bigint }>> = []
  for (let i = 0; i < 10_000; i++) sends.push(producer.send({ topic, key: `k${i % 50}`, value: String(i) }))
  const results = await Promise.all(sends)
  await producer.close()
  const records = await readTopic(brokers, topic)
  assert.equal(records.length, 10_000)
  const seen = new Set(records.map((r) => r.value!.toString()))
  assert.equal(seen.size, 10_000, 'no duplicates')
  const lastByPartition = new Map<number, number>()
  for (const r of records) {
    const i = Number(r.value!.toString())
    const last = lastByPartition.get(r.partition) ?? -1
    assert.ok(i > last, `partition ${r.partition}: ${i} after ${last}`)
    lastByPartition.set(r.partition, i)
    assert.equal(results[i].offset, r.offset)
  }
})

test('illegal topic names fail at once with a typed error', async () => {
  const producer = new Producer({ brokers })
  for (const topic of ['', '.', '..', 'has space', 'slash/topic', 'x'.repeat(250), 'ünïcode']) {
    const err = await producer.send({ topic, value: 'x' }).catch((e) => e)
    assert.ok(err instanceof ProduceError, `${topic}: ${err}`)
    assert.equal(err.code, 'ERR_INVALID_TOPIC')
  }
  await producer.close()
})

test('a value that is not a Buffer or string, without a serializer, is rejected with ERR_SERIALIZATION', async () => {
  const topic = await newTopic(1)
  const producer = new Producer({ brokers })
  const err = await producer.send({ topic, value: { a: 1 } as unknown as string }).catch((e) => e)
  assert.ok(err instanceof ProduceError)
  assert.equal(err.code, 'ERR_SERIALIZATION')
  const json = new Producer<string, { a: number }>({ brokers, valueSerializer: (v) => Buffer.from(JSON.stringify(v)) })
  const ok = await json.send({ topic, value: { a: 1 } })
  assert.equal(ok.partition, 0)
  await Promise.all([producer.close(), json.close()])
  const records = await readTopic(brokers, topic)
  assert.deepEqual(JSON.parse(records[0].value!.toString()), { a: 1 })
})

test('an unknown topic with auto-create off fails with ERR_UNKNOWN_TOPIC, and nothing hangs', async () => {
  const producer = new Producer({ brokers, unknownTopicTimeoutMs: 1500 })
  const started = Date.now()
  const err = await producer.send({ topic: `missing-${Date.now()}`, value: 'x' }).catch((e) => e)
  assert.ok(err instanceof ProduceError)
  assert.equal(err.code, 'ERR_UNKNOWN_TOPIC')
  assert.ok(Date.now() - started < 10_000)
  await producer.close()
})

test('a record over the broker max message size fails alone; the rest of its batch is delivered', async () => {
  const topic = await newTopic(1, { 'max.message.bytes': '2000' })
  const producer = new Producer({ brokers, flush: { frequencyMs: 50 } })
  const big = Buffer.alloc(5000, 7)
  const outcomes = await Promise.allSettled([
    producer.send({ topic, value: 'before-1' }),
    producer.send({ topic, value: 'before-2' }),
    producer.send({ topic, value: big }),
    producer.send({ topic, value: 'after-1' }),
  ])
  await producer.close()
  assert.equal(outcomes[0].status, 'fulfilled')
  assert.equal(outcomes[1].status, 'fulfilled')
  assert.equal(outcomes[3].status, 'fulfilled')
  assert.equal(outcomes[2].status, 'rejected')
  const reason = (outcomes[2] as PromiseRejectedResult).reason
  assert.ok(reason instanceof ProduceError)
  assert.equal(reason.code, 'MESSAGE_TOO_LARGE')
  const values = (await readTopic(brokers, topic)).map((r) => r.value!.toString())
  assert.deepEqual(values, ['before-1', 'before-2', 'after-1'])
})

test('produce(): false when the buffer is full, drain, and outcomes on successes()/errors()', async () => {
  const topic = await newTopic(2)
  const producer = new Producer({ brokers, bufferBytes: 64 * 1024, returnSuccesses: true })
  await producer.connect()
  const value = Buffer.alloc(1000, 1)
  let accepted = 0
  let refusals = 0
  const total = 300
  const done = (async () => {
    let n = 0
    for await (const s of producer.successes()) {
      assert.equal(s.metadata.topic, topic)
      if (++n === total) return n
    }
    return n
  })()
  while (accepted < total) {
    if (producer.produce({ topic, value })) accepted++
    else {
      refusals++
      await new Promise((resolve) => producer.once('drain', resolve))
    }
  }
  assert.equal(await done, total)
  assert.ok(refusals > 0, 'a 64 KiB buffer must refuse some of 300 KB')
  assert.ok(producer.bufferedBytes <= 64 * 1024)
  const bad = producer.produce({ topic: 'bad topic!', value })
  assert.equal(bad, true)
  for await (const f of producer.errors()) {
    assert.equal(f.error.code, 'ERR_INVALID_TOPIC')
    break
  }
  await producer.close()
  assert.equal((await readTopic(brokers, topic)).length, total)
})

test('produce(): a loop that never yields is refused after burstBytes, goes on at the next drain, all in order', async () => {
  const topic = await newTopic(1)
  const producer = new Producer({ brokers, burstBytes: 64 * 1024 })
  await producer.connect()
  const total = 2000
  let acked = 0
  let failed: Error | null = null
  let refusals = 0
  let refusedWithRoom = 0
  let turns = 0
  const order: number[] = []
  await new Promise<void>((resolve) => {
    let sent = 0
    const pump = () => {
      turns++
      while (sent < total) {
        const i = sent
        const ok = producer.produce({ topic, value: Buffer.alloc(1000, i % 256) }, (err) => {
          if (err) failed ??= err
          order.push(i)
          if (++acked === total) resolve()
        })
        if (!ok) {
          refusals++
          if (producer.bufferedBytes < 32 * 1024 * 1024 - 2000) refusedWithRoom++
          producer.once('drain', pump)
          return
        }
        sent++
      }
    }
    pump()
  })
  assert.equal(failed, null)
  // ~64 messages per turn of the event loop: refused for the burst, never for a full (32 MiB) buffer.
  assert.ok(
    refusals >= total / 70 && refusals === refusedWithRoom,
    `${refusals} refusals, ${refusedWithRoom} with room`,
  )
  assert.equal(turns, refusals + 1)
  assert.deepEqual(
    order,
    Array.from({ length: total }, (_, i) => i),
  )
  await producer.close()
  const records = await readTopic(brokers, topic)
  assert.equal(records.length, total)
  for (let i = 0; i < total; i++) assert.equal(records[i].value?.[0], i % 256)
})

test('idempotence with acks other than all, or more than 5 in flight, is refused at construction', () => {
  assert.throws(() => new Producer({ brokers, acks: 1 }), /idempotence/)
  assert.throws(() => new Producer({ brokers, maxInFlight: 6 }), /at most 5/)
  assert.doesNotThrow(() => new Producer({ brokers, acks: 1, idempotent: false, maxInFlight: 10 }))
})

test('metrics: messages, bytes, batches, compression ratio, latency and buffer use are recorded', async () => {
  const topic = await newTopic(2)
  const producer = new Producer({ brokers, compression: 'gzip' })
  const value = Buffer.alloc(500, 0x61)
  await producer.send(Array.from({ length: 400 }, () => ({ topic, value })))
  const snap = producer.metrics.snapshot() as unknown as Record<string, Record<string, number>>
  assert.equal(snap['producer.messages.sent'].count, 400)
  assert.ok(snap['producer.bytes.sent'].count > 0)
  assert.ok(snap['producer.batch.records'].count >= 1)
  assert.ok(snap['producer.batch.records'].max <= 400)
  assert.ok(snap['producer.compression.ratio'].min > 5, 'repeated bytes compress well with gzip')
  assert.ok(snap['producer.request.latency'].count >= 1)
  assert.equal(snap['producer.buffer.bytes'].value, 0, 'nothing left in the buffer')
  assert.equal(snap['producer.messages.failed'].count, 0)
  await producer.close()
})

test('acks=0 and acks=1 without idempotence deliver too', async () => {
  const topic = await newTopic(1)
  const zero = new Producer({ brokers, acks: 0, idempotent: false })
  const one = new Producer({ brokers, acks: 1, idempotent: false })
  const r0 = await zero.send({ topic, value: 'zero' })
  const r1 = await one.send({ topic, value: 'one' })
  assert.equal(r0.offset, -1n)
  assert.ok(r1.offset >= 0n)
  await Promise.all([zero.close(), one.close()])
  const values = (await readTopic(brokers, topic)).map((r) => r.value!.toString()).sort()
  assert.deepEqual(values, ['one', 'zero'])
})

test.run()
