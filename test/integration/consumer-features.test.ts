// The consumer's subscription, seek, dead letters, failure decisions, offset stores, metrics and iterator,
// against the real broker.
import * as assert from 'node:assert/strict'
import * as diagnostics from 'node:diagnostics_channel'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import {
  Consumer,
  type ConsumerConfig,
  ConsumerError,
  type ConsumerMessage,
  DEAD_LETTER_HEADERS,
  type OffsetStore,
} from '../../src/client/consumer.js'
import { ConfigError } from '../../src/client/errors.js'
import { metricKey } from '../../src/client/metrics.js'
import type { TopicPartitionOffset } from '../../src/client/offset-tracker.js'
import { Producer } from '../../src/client/producer.js'
import { WorkerError } from '../../src/client/worker-manager.js'
import { runJavaTool } from '../helpers/java-tools.js'
import { committedOffsets, endOffsets, readTopic } from '../helpers/read-topic.js'

const brokers: string = process.env.KAFKA_BROKERS ?? ''
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')

const admin = new Admin({ brokers })
const producer = new Producer({ brokers })
const created: string[] = []
const consumers: Consumer[] = []
let seq = 0

function name(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now()}-${seq++}`
}

async function topicWith(partitions: number, count: number, prefix = 'features'): Promise<string> {
  const topic = name(prefix)
  await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
  created.push(topic)
  if (count > 0) await fill(topic, 0, count)
  return topic
}

async function fill(topic: string, from: number, count: number): Promise<void> {
  await producer.send(
    Array.from({ length: count }, (_, i) => ({
      topic,
      key: `k${(from + i) % 7}`,
      value: String(from + i),
      headers: { n: String(from + i) },
    })),
  )
}

async function until(check: () => boolean, ms: number, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const fast = {
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  commitIntervalMs: 200,
  autoOffsetReset: 'earliest' as const,
}

function consumer(config: Omit<ConsumerConfig, 'brokers'>): Consumer {
  const c = new Consumer({ brokers, ...fast, ...config })
  consumers.push(c)
  return c
}

test.after(async () => {
  await Promise.all(consumers.map((c) => c.close().catch(() => {})))
  await producer.close()
  await admin.deleteTopics(created, { ignoreMissing: true }).catch(() => {})
  admin.close()
})

test('a whitelist subscribes to matching topics and picks up a new one; a blacklist leaves the matching ones out', async () => {
  const stem = name('wl')
  const a = `${stem}-a`
  const b = `${stem}-b`
  const other = `${stem}-other`
  await admin.createTopics([
    { topic: a, partitions: 2, replicationFactor: 1 },
    { topic: other, partitions: 1, replicationFactor: 1 },
  ])
  created.push(a, other)
  await fill(a, 0, 50)
  await fill(other, 0, 20)
  const seen = new Map<string, Set<string>>()
  const record = (m: ConsumerMessage) => {
    let s = seen.get(m.topic)
    if (!s) seen.set(m.topic, (s = new Set()))
    s.add(m.value!.toString())
  }
  const white = consumer({
    groupId: name('g-wl'),
    whitelist: new RegExp(`^${stem}-[ab]$`),
    subscriptionRefreshMs: 300,
    handler: record,
  })
  await white.start()
  await until(() => seen.get(a)?.size === 50, 20_000, 'topic a')
  assert.deepEqual(white.topics, [a])

  // A topic created later that matches is joined without a restart.
  await admin.createTopics([{ topic: b, partitions: 1, replicationFactor: 1 }])
  created.push(b)
  await fill(b, 0, 30)
  await until(() => seen.get(b)?.size === 30, 30_000, 'the new topic b')
  assert.deepEqual(white.topics, [a, b])
  assert.equal(seen.has(other), false, 'a topic not matching the whitelist is not consumed')
  await white.close()

  // The blacklist takes everything else the cluster has, but not its matches (nor internal topics).
  const black = consumer({
    groupId: name('g-bl'),
    blacklist: new RegExp(`^(?!${stem})|^${stem}-[ab]$`),
    handler: record,
  })
  seen.clear()
  await black.start()
  await until(() => seen.get(other)?.size === 20, 20_000, 'the topic the blacklist leaves')
  assert.deepEqual(black.topics, [other])
  assert.equal(seen.has(a) || seen.has(b), false)
  await black.close()
})

test('an unchanged subscription causes no rebalance at the subscription checks', async () => {
  const topic = await topicWith(3, 0)
  const c = consumer({ groupId: name('g-stable'), topics: [topic], subscriptionRefreshMs: 200, handler: () => {} })
  let assignedEvents = 0
  c.on('assigned', () => assignedEvents++)
  await c.start()
  await new Promise((r) => setTimeout(r, 1500))
  assert.equal((c.metrics.snapshot()['consumer.rebalances'] as { count: number }).count, 1)
  assert.equal(assignedEvents, 1)
  await c.close()
})

test('seek: to an offset, to earliest, to a timestamp, and the commit follows the new position', async () => {
  const topic = await topicWith(1, 100)
  const groupId = name('g-seek')
  const values: number[] = []
  const c = consumer({ groupId, topics: [topic], handler: (m) => void values.push(Number(m.value!.toString())) })
  await c.start()
  await until(() => values.length >= 100, 20_000, 'the first pass')
  assert.deepEqual(
    values.slice(0, 100),
    Array.from({ length: 100 }, (_, i) => i),
  )

  values.length = 0
  await c.seek(topic, 0, 90n)
  await until(() => values.length >= 10, 10_000, 'the seek to 90')
  assert.deepEqual(values, [90, 91, 92, 93, 94, 95, 96, 97, 98, 99])

  values.length = 0
  await c.seek(topic, 0, 'earliest')
  await until(() => values.length >= 100, 10_000, 'the seek to earliest')
  assert.equal(values[0], 0)

  // A timestamp between two produce calls lands on the first message of the second.
  await new Promise((r) => setTimeout(r, 20))
  const between = Date.now()
  await new Promise((r) => setTimeout(r, 20))
  await fill(topic, 100, 5)
  await until(() => values.length >= 105, 10_000, 'the new messages')
  values.length = 0
  await c.seek(topic, 0, { timestamp: between })
  await until(() => values.length >= 5, 10_000, 'the seek by timestamp')
  assert.deepEqual(values, [100, 101, 102, 103, 104])

  // Backwards, and the committed offset follows (it moves back too).
  values.length = 0
  await c.seek(topic, 0, 50n)
  await until(() => values.length >= 55, 10_000, 'the seek back to 50')
  await c.commit()
  const committed = await committedOffsets(admin, groupId, topic, 1)
  assert.equal(committed[0], 105n)

  await assert.rejects(
    c.seek(topic, 7, 0n),
    (err: unknown) => err instanceof ConsumerError && err.code === 'ERR_NOT_ASSIGNED',
  )
  await assert.rejects(c.seek(topic, 0, -1n), ConfigError)
  await c.close()
})

test('a seek on assignment wins over the reset policy still looking up where to start', async () => {
  const topic = await topicWith(1, 20)
  const offsets: bigint[] = []
  const c = consumer({
    groupId: name('g-seek-assign'),
    topics: [topic],
    autoOffsetReset: 'latest',
    handler: (m) => void offsets.push(m.offset),
  })
  c.on('assigned', (tps: Array<{ topic: string; partition: number }>) => {
    for (const tp of tps) c.seek(tp.topic, tp.partition, 3n).catch(() => {})
  })
  await c.start()
  await until(() => offsets.length >= 17, 10_000, 'the messages from offset 3')
  assert.equal(offsets[0], 3n)
  await c.close()
})

test('reset policy: the partitions of an assignment share one ListOffsets; an out-of-range position resets once to the log start', async () => {
  const topic = await topicWith(3, 30)
  // The three partitions start from nothing committed: one ListOffsets for all of them (one leader here).
  const listOffsets: unknown[] = []
  const onRequest = (m: unknown) => {
    const r = m as { api: string }
    if (r.api === 'ListOffsets') listOffsets.push(r)
  }
  diagnostics.subscribe('kafka-wire:request', onRequest)
  const seen: bigint[] = []
  const resets: Array<{ partition: number; from: bigint | null; to: bigint }> = []
  const c = consumer({ groupId: name('g-reset'), topics: [topic], handler: (m) => void seen.push(m.offset) })
  c.on('offset-reset', (e) => resets.push(e))
  try {
    await c.start()
    await until(() => seen.length >= 30, 10_000, 'the 30 messages')
  } finally {
    diagnostics.unsubscribe('kafka-wire:request', onRequest)
  }
  assert.equal(listOffsets.length, 1)
  assert.deepEqual(resets.map((r) => [r.partition, r.from]).sort(), [
    [0, null],
    [1, null],
    [2, null],
  ])
  await c.close()

  // Below the log start: out of range, reset once (to the new log start) and reported with where it was.
  const one = await topicWith(1, 20)
  await admin.deleteRecords(one, [{ partition: 0, offset: 12n }])
  const offsets: bigint[] = []
  const outOfRange: Array<{ from: bigint | null; to: bigint }> = []
  const s = consumer({
    assignment: [{ topic: one, partition: 0, offset: 5n }],
    handler: (m) => void offsets.push(m.offset),
  })
  s.on('offset-reset', (e) => outOfRange.push(e))
  await s.start()
  await until(() => offsets.length >= 8, 10_000, 'the messages from the log start')
  assert.deepEqual(
    outOfRange.map((e) => [e.from, e.to]),
    [[5n, 12n]],
  )
  assert.deepEqual(offsets, [12n, 13n, 14n, 15n, 16n, 17n, 18n, 19n])
  await s.close()
})

test('fetch sessions: once caught up, a fetch names no partition; new messages still arrive', async () => {
  const topic = await topicWith(20, 40)
  const fetches: number[] = []
  const onRequest = (m: unknown) => {
    const r = m as { api: string; bytes: number }
    if (r.api === 'Fetch') fetches.push(r.bytes)
  }
  diagnostics.subscribe('kafka-wire:request', onRequest)
  const seen: bigint[] = []
  const c = consumer({ groupId: name('g-session'), topics: [topic], handler: (m) => void seen.push(m.offset) })
  try {
    await c.start()
    await until(() => seen.length >= 40, 10_000, 'the 40 messages')
    // Long polls of 500 ms while nothing comes: incremental requests naming nothing.
    const caughtUp = fetches.length
    await new Promise((r) => setTimeout(r, 1600))
    const idle = fetches.slice(caughtUp + 1)
    assert.ok(idle.length >= 2, `idle fetches: ${idle.length}`)
    // The first request names the 20 partitions; an idle one only the session (and the empty lists).
    assert.ok(Math.max(...idle) * 4 < fetches[0], `first ${fetches[0]} bytes, idle ${idle.join(', ')}`)
    await fill(topic, 40, 40)
    await until(() => seen.length >= 80, 10_000, 'the next 40 messages through the session')
  } finally {
    diagnostics.unsubscribe('kafka-wire:request', onRequest)
  }
  await c.close()
})

test('dead-letter topic: the failed message goes there with its key, value, headers, timestamp and the error; processing goes on', async () => {
  const topic = await topicWith(1, 20)
  const dlq = await topicWith(1, 0, 'dlq')
  const groupId = name('g-dlq')
  const done: number[] = []
  const c = consumer({
    groupId,
    topics: [topic],
    maxRetries: 1,
    retryBackoff: () => 1,
    deadLetterTopic: dlq,
    handler: (m) => {
      const n = Number(m.value!.toString())
      if (n === 7) throw new TypeError(`cannot handle ${n}`)
      done.push(n)
    },
  })
  await c.start()
  await until(() => done.length === 19, 20_000, 'the other 19 messages')
  await c.commit()
  const committed = await committedOffsets(admin, groupId, topic, 1)
  assert.equal(committed[0], 20n, 'the dead-lettered message counts as finished')
  await c.close()

  const [original] = (await readTopic(brokers, topic)).filter((r) => r.value?.toString() === '7')
  const letters = await readTopic(brokers, dlq)
  assert.equal(letters.length, 1)
  const l = letters[0]
  assert.equal(l.key?.toString(), 'k0')
  assert.equal(l.value?.toString(), '7')
  assert.equal(l.timestamp, original.timestamp)
  const h = new Map(l.headers.map((x) => [x.key, x.value?.toString()]))
  assert.equal(h.get('n'), '7', 'the original header is kept')
  assert.equal(h.get(DEAD_LETTER_HEADERS.topic), topic)
  assert.equal(h.get(DEAD_LETTER_HEADERS.partition), '0')
  assert.equal(h.get(DEAD_LETTER_HEADERS.offset), '7')
  assert.equal(h.get(DEAD_LETTER_HEADERS.group), groupId)
  assert.equal(h.get(DEAD_LETTER_HEADERS.error), 'cannot handle 7')
  assert.equal(h.get(DEAD_LETTER_HEADERS.code), 'TypeError')
  assert.equal(h.get(DEAD_LETTER_HEADERS.attempts), '2')
})

test("failure decisions against the broker: 'skip-commit-and-stop' stops below the failed message; 'commit-and-continue' commits past it", async () => {
  const topic = await topicWith(1, 30)
  const g1 = name('g-stop')
  const stopped: unknown[] = []
  const c1 = consumer({
    groupId: g1,
    topics: [topic],
    maxRetries: 0,
    onFailedAttempt: () => 'skip-commit-and-stop',
    handler: (m) => {
      if (Number(m.value!.toString()) === 12) throw new Error('boom')
    },
  })
  c1.on('stopped', (reason) => stopped.push(reason))
  await c1.start()
  await until(() => stopped.length === 1, 20_000, 'the stop')
  await c1.close()
  assert.equal((await committedOffsets(admin, g1, topic, 1))[0], 12n, 'committed up to the failed message, not past it')

  const g2 = name('g-continue')
  let handled = 0
  const c2 = consumer({
    groupId: g2,
    topics: [topic],
    maxRetries: 0,
    onFailedAttempt: () => 'commit-and-continue',
    handler: (m) => {
      handled++
      if (Number(m.value!.toString()) === 12) throw new Error('boom')
    },
  })
  await c2.start()
  await until(() => handled === 30, 20_000, 'all 30')
  await c2.close()
  assert.equal((await committedOffsets(admin, g2, topic, 1))[0], 30n)
  const reason = stopped[0] as { error?: unknown; source?: string }
  assert.ok(reason.error instanceof Error, 'the stop reason carries the error')
  assert.ok(!(reason.error instanceof WorkerError) || reason.error.code !== 'ERR_DECISION')
})

test('a custom OffsetStore: offsets are loaded from it and committed to it, and Kafka keeps none', async () => {
  const topic = await topicWith(2, 40)
  const groupId = name('g-store')
  const stored = new Map<string, bigint>([[`${topic}/1`, 15n]])
  const commits: TopicPartitionOffset[][] = []
  const store: OffsetStore = {
    async fetch(group, partitions) {
      assert.equal(group, groupId)
      return partitions.flatMap((tp) => {
        const o = stored.get(`${tp.topic}/${tp.partition}`)
        return o === undefined ? [] : [{ ...tp, offset: o }]
      })
    },
    async commit(group, offsets) {
      assert.equal(group, groupId)
      commits.push(offsets)
      for (const o of offsets) stored.set(`${o.topic}/${o.partition}`, o.offset)
    },
  }
  const offsets = new Map<number, bigint[]>()
  const c = consumer({
    groupId,
    topics: [topic],
    offsetStore: store,
    handler: (m) => {
      let list = offsets.get(m.partition)
      if (!list) offsets.set(m.partition, (list = []))
      list.push(m.offset)
    },
  })
  await c.start()
  const ends = await endOffsets(admin.cluster, topic)
  const expected = Number(ends[0]) + Number(ends[1]) - 15
  await until(() => (offsets.get(0)?.length ?? 0) + (offsets.get(1)?.length ?? 0) === expected, 20_000, 'all')
  assert.equal(offsets.get(1)?.[0], 15n, 'partition 1 resumed from the stored offset')
  assert.equal(offsets.get(0)?.[0], 0n, 'partition 0 had none: earliest')
  await c.close()
  assert.ok(commits.length > 0)
  assert.equal(stored.get(`${topic}/0`), ends[0])
  assert.equal(stored.get(`${topic}/1`), ends[1])
  assert.deepEqual(await committedOffsets(admin, groupId, topic, 2), [-1n, -1n], 'nothing was committed to Kafka')
})

test('metrics: consumed messages, commits, committed offset and lag per partition', async () => {
  const topic = await topicWith(1, 200)
  let gate: () => void = () => {}
  const opened = new Promise<void>((r) => {
    gate = r
  })
  let handled = 0
  const c = consumer({
    groupId: name('g-metrics'),
    topics: [topic],
    handler: async (m) => {
      if (m.offset === 100n) await opened
      handled++
    },
  })
  await c.start()
  const lag = () =>
    c.metrics.snapshot()[metricKey('consumer.lag', { topic, partition: 0 })] as { value: number } | undefined
  await until(() => handled === 100, 20_000, '100 handled')
  await until(() => lag()?.value === 100, 5000, 'a lag of 100')
  gate()
  await until(() => handled === 200, 20_000, 'all handled')
  await c.commit()
  const snap = c.metrics.snapshot()
  assert.equal((snap[metricKey('consumer.offset.committed', { topic, partition: 0 })] as { value: number }).value, 200)
  assert.equal(lag()?.value, 0)
  assert.equal((snap['consumer.messages'] as { count: number }).count, 200)
  assert.ok((snap['consumer.commits'] as { count: number }).count >= 1)
  assert.ok((snap['consumer.fetch.messages'] as { count: number }).count >= 200)
  await c.close()
})

test('messages(): a simple loop over a static assignment, committing what the loop finished', async () => {
  const topic = await topicWith(2, 40)
  const groupId = name('g-iter')
  const c = consumer({ groupId, assignment: [{ topic, partition: 1, offset: 'earliest' }] })
  await c.start()
  const got: string[] = []
  for await (const m of c.messages()) {
    assert.equal(m.partition, 1)
    got.push(m.value!.toString())
    if (got.length === 10) break
  }
  await c.commit()
  // The 10th was not finished (the loop left before asking for the next one).
  assert.equal((await committedOffsets(admin, groupId, topic, 2))[1], 9n)
  await c.close()
})

test('transactions written by the Java producer: read_committed sees every record, and the commit reaches the end past the markers', async () => {
  const topic = await topicWith(1, 0, 'tx')
  const r = await runJavaTool(
    'org.apache.kafka.tools.ProducerPerformance',
    [
      '--topic',
      topic,
      '--num-records',
      '200',
      '--record-size',
      '20',
      '--throughput',
      '-1',
      '--transactional-id',
      `${topic}-tx`,
      '--transaction-duration-ms',
      '30',
      '--producer-props',
      `bootstrap.servers=${brokers}`,
    ],
    { timeoutMs: 90_000 },
  )
  assert.equal(r.code, 0, r.stderr)
  const [end] = await endOffsets(admin.cluster, topic)
  assert.ok(end > 200n, `the log holds transaction markers too (end ${end})`)
  const groupId = name('g-tx')
  let handled = 0
  const c = consumer({ groupId, topics: [topic], isolationLevel: 'read_committed', handler: () => void handled++ })
  await c.start()
  await until(() => handled === 200, 20_000, 'the 200 committed records')
  await c.commit()
  assert.equal((await committedOffsets(admin, groupId, topic, 1))[0], end, 'committed at the end, past the last marker')
  await c.close()
})

test('close() during a rebalance that waits for a slow member returns at once instead of after the rebalance', async () => {
  const topic = await topicWith(1, 5)
  const groupId = name('g-close-join')
  let release: () => void = () => {}
  const blocked = new Promise<void>((r) => {
    release = r
  })
  let started = 0
  // Eager: A must finish its in-flight message before it rejoins, which holds B's JoinGroup.
  const a = consumer({
    groupId,
    topics: [topic],
    assignors: ['range'],
    handler: async () => {
      started++
      await blocked
    },
  })
  await a.start()
  await until(() => started === 1, 10_000, 'A to be busy')
  const b = consumer({ groupId, topics: [topic], assignors: ['range'], handler: () => {} })
  const joining = b.start().catch(() => {})
  await new Promise((r) => setTimeout(r, 1500))
  const t0 = Date.now()
  await b.close()
  const took = Date.now() - t0
  release()
  await joining
  assert.ok(took < 5000, `close took ${took} ms`)
  await a.close()
})

test('config errors are typed and immediate', () => {
  assert.throws(() => new Consumer({ brokers, groupId: 'g' }), ConfigError)
  assert.throws(() => new Consumer({ brokers, topics: ['t'], handler: () => {} }), ConfigError)
  assert.throws(() => new Consumer({ brokers, groupId: 'g', topics: ['t'], whitelist: 'x' }), ConfigError)
  assert.throws(() => new Consumer({ brokers, groupId: 'g', whitelist: '(' }), ConfigError)
  assert.throws(() => new Consumer({ brokers, groupId: 'g', topics: ['bad name!'] }), ConfigError)
  assert.throws(() => new Consumer({ brokers, groupId: 'g', topics: ['t'], deadLetterTopic: '' }), ConfigError)
  // A missing broker list (an unset environment variable, say) is a config error, not a TypeError.
  for (const missing of [undefined, 9092, [1]]) {
    assert.throws(
      () => new Consumer({ brokers: missing as unknown as string, groupId: 'g', topics: ['t'] }),
      (err: unknown) => (err as { code?: string }).code === 'ERR_CONFIG' && !(err instanceof TypeError),
    )
  }
})

test.run()
