// Our high-level Consumer against other clients' data and Kafka's own group tooling:
//  - messages written by kcat (librdkafka) and by Kafka's Java console producer, in every compression, with keys,
//    null keys and values, headers and a large value, are handed to the handler exactly as written, once each,
//    in offset order per partition;
//  - the offsets the consumer commits are what `kafka-consumer-groups --describe` (Java's ConsumerGroupCommand)
//    reads back as CURRENT-OFFSET, with LAG 0 once everything is consumed (Kafka's next-offset convention), both
//    while our member is in the group (Java decodes our assignment) and after it left;
//  - offsets reset by the Java tool are where our consumer resumes.
// (The raw record batches of both tools are checked codec by codec in interop-records.test.ts.)

import * as assert from 'node:assert/strict'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import { Consumer, type ConsumerMessage } from '../../src/client/consumer.js'
import { runJavaTool, runKcat } from '../helpers/java-tools.js'
import { endOffsets } from '../helpers/read-topic.js'

const brokers = process.env.KAFKA_BROKERS ?? ''
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
const PARTITIONS = 2
const PER_TOPIC = 120
const GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'
const admin = new Admin({ brokers })
const created: string[] = []
const run = `${process.pid}-${Date.now()}`

test.after(async () => {
  await admin.deleteTopics(created, { ignoreMissing: true }).catch(() => {})
  admin.close()
})

interface Expected {
  key: string | null
  value: string | null
  headers: Array<[string, string | null]>
}

interface Seen extends Expected {
  partition: number
  offset: bigint
}

const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'))
const canonical = (e: Expected): string => JSON.stringify([e.key, e.value, e.headers])
const tp = (topic: string, partition: number): string => `${topic}:${partition}`

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A large, compressible but not trivial value (crosses batch boundaries in both tools). */
function bigValue(seed: string): string {
  let s = ''
  for (let i = 0; s.length < 150_000; i++) s += `${seed}-${(i * 7919) % 10007}-`
  return s
}

// ------------------------------------------------------------------------------------- producing

/** kcat -P: "key<TAB>value" lines (-K), a line without a tab has a null key, -Z: empty value is null; -H headers. */
async function produceKcat(topic: string, codec: string): Promise<Expected[]> {
  const headers: Array<[string, string | null]> = [
    ['source', `kcat-${codec}`],
    ['unicode', 'ünï €'],
    ['nothing', null],
  ]
  const lines: string[] = []
  const expected: Expected[] = []
  for (let i = 0; i < PER_TOPIC; i++) {
    if (i % 15 === 0) {
      lines.push(`unkeyed-${i}`)
      expected.push({ key: null, value: `unkeyed-${i}`, headers })
    } else if (i % 15 === 1) {
      lines.push(`tombstone-${i}\t`)
      expected.push({ key: `tombstone-${i}`, value: null, headers })
    } else {
      const value = i === 7 ? bigValue(`kcat-${codec}`) : `value-${i}-${codec}-${'abc'.repeat(i % 30)}-日本`
      lines.push(`key-${i % 9}-ß\t${value}`)
      expected.push({ key: `key-${i % 9}-ß`, value, headers })
    }
  }
  const r = await runKcat(
    [
      ...['-P', '-b', brokers, '-t', topic, '-z', codec, '-K', '\t', '-Z'],
      ...['-H', `source=kcat-${codec}`, '-H', 'unicode=ünï €', '-H', 'nothing'],
      ...['-X', 'linger.ms=20', '-X', 'message.max.bytes=1000000'],
    ],
    { input: `${lines.join('\n')}\n`, timeoutMs: 60_000 },
  )
  assert.equal(r.code, 0, `kcat ${codec}: ${r.stderr}`)
  return expected
}

/** Java console producer with parse.headers/parse.key: "h1:v1,h2:v2<TAB>key<TAB>value", NULL for null. */
async function produceJava(topic: string, codec: string): Promise<Expected[]> {
  const lines: string[] = []
  const expected: Expected[] = []
  for (let i = 0; i < PER_TOPIC; i++) {
    const headers: Array<[string, string | null]> = [
      ['source', `java-${codec}`],
      ['n', String(i)],
    ]
    if (i % 4 === 0) headers.push(['nothing', null])
    const key = i % 15 === 0 ? null : `key-${i % 11}`
    const value =
      i % 15 === 1 ? null : i === 9 ? bigValue(`java-${codec}`) : `value-${i}-${codec}-${'xyz'.repeat(i % 40)}`
    lines.push(`${headers.map(([k, v]) => `${k}:${v ?? 'NULL'}`).join(',')}\t${key ?? 'NULL'}\t${value ?? 'NULL'}`)
    expected.push({ key, value, headers })
  }
  const r = await runJavaTool(
    'org.apache.kafka.tools.ConsoleProducer',
    [
      ...['--bootstrap-server', brokers, '--topic', topic, '--compression-codec', codec],
      ...['--property', 'parse.key=true', '--property', 'parse.headers=true', '--property', 'null.marker=NULL'],
      ...['--producer-property', 'linger.ms=20'],
    ],
    { input: `${lines.join('\n')}\n`, timeoutMs: 120_000 },
  )
  assert.equal(r.code, 0, `Java console producer ${codec}: ${r.stderr}`)
  return expected
}

// ------------------------------------------------------------------------------------- describing

interface GroupRow {
  topic: string
  partition: number
  current: bigint | null
  logEnd: bigint
  lag: bigint | null
  consumerId: string
}

/** `kafka-consumer-groups --describe --group`: one row per partition the group has an offset for or owns. */
async function describeGroup(groupId: string): Promise<GroupRow[]> {
  const r = await runJavaTool(GROUP_COMMAND, ['--bootstrap-server', brokers, '--describe', '--group', groupId], {
    timeoutMs: 120_000,
  })
  assert.equal(r.code, 0, `ConsumerGroupCommand --describe: ${r.stderr}\n${r.stdout}`)
  const lines = r.stdout.split('\n').map((l) => l.trim())
  const at = lines.findIndex((l) => l.startsWith('GROUP ') && l.includes('CURRENT-OFFSET'))
  assert.ok(at >= 0, `a table in the output:\n${r.stdout}`)
  const columns = lines[at].split(/\s+/)
  const col = (name: string) => {
    const i = columns.indexOf(name)
    assert.ok(i >= 0, `column ${name} in ${lines[at]}`)
    return i
  }
  const rows: GroupRow[] = []
  for (const line of lines.slice(at + 1)) {
    if (line === '') continue
    const cells = line.split(/\s+/)
    if (cells[col('GROUP')] !== groupId) continue
    const num = (s: string) => (s === '-' ? null : BigInt(s))
    rows.push({
      topic: cells[col('TOPIC')],
      partition: Number(cells[col('PARTITION')]),
      current: num(cells[col('CURRENT-OFFSET')]),
      logEnd: BigInt(cells[col('LOG-END-OFFSET')]),
      lag: num(cells[col('LAG')]),
      consumerId: cells[col('CONSUMER-ID')],
    })
  }
  return rows
}

// ------------------------------------------------------------------------------------- consuming

interface Run {
  consumer: Consumer
  seen: Map<string, Seen[]>
  /** The last offset committed per topic:partition (from the 'commit' events), and every commit in order. */
  committed: Map<string, bigint>
  commits: Array<{ key: string; offset: bigint }>
  total(): number
}

async function startConsumer(groupId: string, topics: string[]): Promise<Run> {
  const seen = new Map<string, Seen[]>()
  const committed = new Map<string, bigint>()
  const commits: Array<{ key: string; offset: bigint }> = []
  let total = 0
  const consumer = new Consumer({
    brokers,
    groupId,
    topics,
    autoOffsetReset: 'earliest',
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1000,
    commitIntervalMs: 300,
    concurrency: 4,
    handler: (m: ConsumerMessage) => {
      let list = seen.get(m.topic)
      if (!list) seen.set(m.topic, (list = []))
      list.push({
        partition: m.partition,
        offset: m.offset,
        key: text(m.key),
        value: text(m.value),
        headers: m.headers.map((h) => [h.key, text(h.value)]),
      })
      total++
    },
  })
  consumer.on('commit', (entries: Array<{ topic: string; partition: number; offset: bigint }>) => {
    for (const e of entries) {
      const k = tp(e.topic, e.partition)
      commits.push({ key: k, offset: e.offset })
      committed.set(k, e.offset)
    }
  })
  await consumer.start()
  return { consumer, seen, committed, commits, total: () => total }
}

/** Every topic's messages arrived once each, as written, in offset order per partition. */
function checkContent(run: Run, topic: string, expected: Expected[], ends: bigint[], label: string): void {
  const got = run.seen.get(topic) ?? []
  assert.equal(got.length, expected.length, `${label}: message count`)
  const want = new Map<string, number>()
  for (const e of expected) want.set(canonical(e), (want.get(canonical(e)) ?? 0) + 1)
  for (const g of got) {
    const c = canonical(g)
    const left = want.get(c)
    assert.ok(
      left !== undefined && left > 0,
      `${label}: unexpected or repeated message at ${g.partition}/${g.offset}: ${c.slice(0, 200)}`,
    )
    want.set(c, left - 1)
  }
  // Offsets: each partition 0..end-1, every one once, handed out in order (ordering: 'partition').
  for (let p = 0; p < ends.length; p++) {
    const offsets = got.filter((g) => g.partition === p).map((g) => g.offset)
    assert.equal(BigInt(offsets.length), ends[p], `${label}: partition ${p} has ${ends[p]} messages`)
    for (let i = 0; i < offsets.length; i++)
      assert.equal(offsets[i], BigInt(i), `${label}: partition ${p}, message ${i}`)
  }
  // The same key always lands in the same partition, in the order written.
  const keyed = new Map<string, number>()
  for (const g of got) {
    if (g.key === null) continue
    const p = keyed.get(g.key)
    if (p !== undefined) assert.equal(g.partition, p, `${label}: key ${g.key} in one partition`)
    keyed.set(g.key, g.partition)
  }
}

/** Topic-partition -> log end offset, for the topics given. */
async function ends(topics: string[]): Promise<Map<string, bigint[]>> {
  const out = new Map<string, bigint[]>()
  for (const t of topics) out.set(t, await endOffsets(admin.cluster, t))
  return out
}

function checkDescribe(
  rows: GroupRow[],
  topics: string[],
  logEnds: Map<string, bigint[]>,
  committed: Map<string, bigint>,
  label: string,
): void {
  for (const t of topics) {
    for (let p = 0; p < PARTITIONS; p++) {
      const row = rows.find((r) => r.topic === t && r.partition === p)
      assert.ok(row, `${label}: ${t}-${p} is described`)
      const end = logEnds.get(t)![p]
      assert.equal(row.logEnd, end, `${label}: ${t}-${p} LOG-END-OFFSET`)
      assert.equal(row.current, committed.get(tp(t, p)), `${label}: ${t}-${p} CURRENT-OFFSET is what we committed`)
      assert.equal(row.current, end, `${label}: ${t}-${p} CURRENT-OFFSET is the next offset to consume`)
      assert.equal(row.lag, 0n, `${label}: ${t}-${p} LAG`)
    }
  }
}

// ------------------------------------------------------------------------------------- tests

const topics = {
  kcat: CODECS.map((c) => `cinterop-kcat-${c}-${run}`),
  java: CODECS.map((c) => `cinterop-java-${c}-${run}`),
}
const all = [...topics.kcat, ...topics.java]
const groupId = `cinterop-${run}`
const expected = new Map<string, Expected[]>()

test.before(async () => {
  await admin.createTopics(all.map((topic) => ({ topic, partitions: PARTITIONS, replicationFactor: 1 })))
  created.push(...all)
  // kcat runs are quick; the JVMs run two at a time (the machine has two cores and is shared).
  const kcat = Promise.all(
    CODECS.map(async (c, i) => expected.set(topics.kcat[i], await produceKcat(topics.kcat[i], c))),
  )
  const jobs = CODECS.map((c, i) => async () => expected.set(topics.java[i], await produceJava(topics.java[i], c)))
  const lane = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job()
  }
  await Promise.all([kcat, lane(), lane()])
})

test('kcat and Java console producer messages in every compression are consumed as written, once each; the commits are what kafka-consumer-groups describes, LAG 0', async () => {
  assert.equal(expected.size, all.length, 'every topic was produced')
  const total = [...expected.values()].reduce((n, e) => n + e.length, 0)
  const r = await startConsumer(groupId, all)
  try {
    await until(() => r.total() >= total, 60_000, `${total} messages (have ${r.total()})`)
    const logEnds = await ends(all)
    for (const t of all) checkContent(r, t, expected.get(t)!, logEnds.get(t)!, t)
    // Every partition's commit reaches its end (next-offset convention), and commits never go backwards.
    await until(
      () => all.every((t) => logEnds.get(t)!.every((end, p) => r.committed.get(tp(t, p)) === end)),
      20_000,
      'commits of every partition end',
    )
    const last = new Map<string, bigint>()
    for (const c of r.commits) {
      assert.ok(c.offset >= (last.get(c.key) ?? 0n), `commit of ${c.key} went back to ${c.offset}`)
      last.set(c.key, c.offset)
    }
    // While we are a member: Java reads our committed offsets and decodes our assignment (CONSUMER-ID is ours).
    const memberId = (r.consumer as unknown as { membership: { memberId: string } }).membership.memberId
    const live = await describeGroup(groupId)
    checkDescribe(live, all, logEnds, r.committed, 'live group')
    for (const row of live) assert.equal(row.consumerId, memberId, `${row.topic}-${row.partition} is owned by us`)
    assert.equal(live.length, all.length * PARTITIONS, 'one row per partition')
  } finally {
    await r.consumer.close()
  }
  // After we left: same offsets, no owner.
  const gone = await describeGroup(groupId)
  checkDescribe(gone, all, await ends(all), r.committed, 'empty group')
  for (const row of gone) assert.equal(row.consumerId, '-', `${row.topic}-${row.partition} has no owner after close`)
})

test('new messages show as LAG; a restart consumes exactly those; a reset by the Java tool is where we resume', async () => {
  const topic = topics.kcat[3] // lz4
  const before = await endOffsets(admin.cluster, topic)
  // 40 more, keyed over both partitions.
  const lines = Array.from({ length: 40 }, (_, i) => `more-${i % 5}\tmore-${i}`)
  const k = await runKcat(['-P', '-b', brokers, '-t', topic, '-z', 'lz4', '-K', '\t'], {
    input: `${lines.join('\n')}\n`,
  })
  assert.equal(k.code, 0, k.stderr)
  const after = await endOffsets(admin.cluster, topic)
  const rows = await describeGroup(groupId)
  for (let p = 0; p < PARTITIONS; p++) {
    const row = rows.find((x) => x.topic === topic && x.partition === p)!
    assert.equal(row.current, before[p], `partition ${p}: CURRENT-OFFSET unchanged`)
    assert.equal(row.logEnd, after[p], `partition ${p}: LOG-END-OFFSET`)
    assert.equal(row.lag, after[p] - before[p], `partition ${p}: LAG is the new messages`)
  }

  // A restart of the group processes the 40 new messages and nothing else.
  let r = await startConsumer(groupId, all)
  try {
    await until(() => r.total() >= 40, 30_000, 'the 40 new messages')
    await new Promise((res) => setTimeout(res, 1000))
    assert.equal(r.total(), 40, 'only the new messages')
    const got = r.seen.get(topic)!
    assert.deepEqual(got.map((m) => m.value).sort(), lines.map((l) => l.split('\t')[1]).sort())
    for (const m of got) assert.ok(m.offset >= before[m.partition], `${m.partition}/${m.offset} is new`)
    await until(
      () => r.committed.get(tp(topic, 0)) === after[0] && r.committed.get(tp(topic, 1)) === after[1],
      20_000,
      'commits',
    )
  } finally {
    await r.consumer.close()
  }
  const done = await describeGroup(groupId)
  const m = await ends(all)
  const committed = new Map<string, bigint>()
  for (const t of all) for (let p = 0; p < PARTITIONS; p++) committed.set(tp(t, p), m.get(t)![p])
  checkDescribe(done, all, m, committed, 'after the restart')

  // The Java tool moves partition 0 back to offset 10 (the group is empty, as it requires).
  const reset = await runJavaTool(
    GROUP_COMMAND,
    [
      '--bootstrap-server',
      brokers,
      '--reset-offsets',
      '--group',
      groupId,
      '--topic',
      `${topic}:0`,
      '--to-offset',
      '10',
      '--execute',
    ],
    { timeoutMs: 120_000 },
  )
  assert.equal(reset.code, 0, `--reset-offsets: ${reset.stderr}\n${reset.stdout}`)
  r = await startConsumer(groupId, all)
  try {
    const want = Number(after[0] - 10n)
    await until(() => r.total() >= want, 30_000, `${want} messages from offset 10`)
    await new Promise((res) => setTimeout(res, 1000))
    const got = r.seen.get(topic) ?? []
    assert.equal(r.total(), want, 'only partition 0 from offset 10 again')
    got.forEach((msg, i) => {
      assert.equal(msg.partition, 0)
      assert.equal(msg.offset, 10n + BigInt(i), 'from offset 10, in order')
    })
    await until(() => r.committed.get(tp(topic, 0)) === after[0], 20_000, 'the commit of partition 0')
  } finally {
    await r.consumer.close()
  }
})

test.run()
