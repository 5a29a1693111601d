// Consumer-group behaviour against the real broker: a member killed (SIGKILL) mid-batch, clean restarts with
// auto commit, cooperative-sticky rebalances (KIP-429), static membership and fencing (KIP-345), and a member
// stalled (SIGSTOP) past its session timeout. Members that must die or stall run in child processes
// (test/helpers/consumer-child.ts); the others run here, so their events share one clock.

import * as assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import { assignorByName } from '../../src/client/assignors.js'
import { Consumer, type ConsumerConfig, type ConsumerMessage } from '../../src/client/consumer.js'
import {
  CommitFailedError,
  type GroupAssignor,
  GroupError,
  GroupMembership,
} from '../../src/client/group-membership.js'
import { Producer } from '../../src/client/producer.js'
import { KafkaWireError } from '../../src/protocol/errors.js'
import type { ChildOptions } from '../helpers/consumer-child.js'
import { endOffsets } from '../helpers/read-topic.js'

const brokers: string = process.env.KAFKA_BROKERS ?? ''
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CHILD = join(ROOT, 'test', 'helpers', 'consumer-child.ts')

// The broker's group.min.session.timeout.ms is 6000: the shortest session a member may ask for.
const SESSION_MS = 6000
const HEARTBEAT_MS = 500

const admin = new Admin({ brokers })
const created: string[] = []
const children = new Set<Child>()
const members = new Set<Member>()
let seq = 0

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(25)
  }
}

/** A topic with `perPartition` messages in each partition; values are `${partition}:${i}`. */
async function filledTopic(partitions: number, perPartition: number): Promise<string> {
  const topic = `cgroup-${process.pid}-${Date.now()}-${seq++}`
  await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
  created.push(topic)
  const producer = new Producer({ brokers })
  const messages = []
  for (let p = 0; p < partitions; p++)
    for (let i = 0; i < perPartition; i++) messages.push({ topic, partition: p, value: `${p}:${i}` })
  await producer.send(messages)
  await producer.close()
  return topic
}

/** What the group has committed for each partition of the topic (-1n: nothing). */
async function committedOffsets(groupId: string, topic: string, partitions: number): Promise<bigint[]> {
  const reader = new GroupMembership({
    cluster: admin.cluster,
    groupId,
    assignors: [assignorByName('range') as GroupAssignor],
    subscription: () => [],
  })
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))
  const found = await reader.committed(tps)
  return tps.map((tp) => found.get(`${topic}\u0000${tp.partition}`) ?? -1n)
}

// ------------------------------------------------------------------------------------ members in this process

interface OwnershipEvent {
  who: string
  ev: 'assigned' | 'revoked' | 'lost'
  t: number
  partitions: number[]
}

interface Span {
  who: string
  p: number
  start: number
  end: number
}

/** A Consumer in this process that records its events, handler spans and processed offsets. */
class Member {
  readonly consumer: Consumer
  readonly events: OwnershipEvent[] = []
  readonly spans: Span[] = []
  /** Offsets processed, per partition, in the order their handlers ended (repeats kept). */
  readonly processed = new Map<number, bigint[]>()
  readonly commits: Array<{ t: number; partition: number; offset: bigint }> = []
  readonly failures: unknown[] = []
  readonly stops: unknown[] = []
  readonly warnings: unknown[] = []

  constructor(
    readonly name: string,
    config: Partial<ConsumerConfig> & { groupId: string; topics: string[] },
    /** ms each message takes (or a function of the message). */
    delay: number | ((m: ConsumerMessage) => number),
    log?: OwnershipEvent[],
  ) {
    this.consumer = new Consumer({
      brokers,
      sessionTimeoutMs: SESSION_MS,
      heartbeatIntervalMs: HEARTBEAT_MS,
      commitIntervalMs: 300,
      autoOffsetReset: 'earliest',
      ...config,
      handler: async (m: ConsumerMessage) => {
        const start = Date.now()
        const ms = typeof delay === 'number' ? delay : delay(m)
        if (ms > 0) await sleep(ms)
        this.spans.push({ who: name, p: m.partition, start, end: Date.now() })
        let list = this.processed.get(m.partition)
        if (!list) this.processed.set(m.partition, (list = []))
        list.push(m.offset)
      },
    })
    for (const ev of ['assigned', 'revoked', 'lost'] as const) {
      this.consumer.on(ev, (tps: Array<{ partition: number }>) => {
        const e = { who: name, ev, t: Date.now(), partitions: tps.map((tp) => tp.partition).sort((a, b) => a - b) }
        this.events.push(e)
        log?.push(e)
      })
    }
    this.consumer.on('commit', (entries: Array<{ partition: number; offset: bigint }>) => {
      for (const e of entries) this.commits.push({ t: Date.now(), partition: e.partition, offset: e.offset })
    })
    this.consumer.on('commit-failed', (err) => this.failures.push(err))
    this.consumer.on('stopped', (reason: { error?: unknown }) => this.stops.push(reason?.error ?? reason))
    this.consumer.on('warning', (err) => this.warnings.push(err))
    members.add(this)
  }

  start(): Promise<void> {
    return this.consumer.start()
  }

  async close(): Promise<void> {
    await this.consumer.close()
    members.delete(this)
  }

  /** The partitions owned according to the events seen so far. */
  owned(): Set<number> {
    const owned = new Set<number>()
    for (const e of this.events)
      for (const p of e.partitions) {
        if (e.ev === 'assigned') owned.add(p)
        else owned.delete(p)
      }
    return owned
  }

  count(): number {
    let n = 0
    for (const list of this.processed.values()) n += list.length
    return n
  }

  /** The group generation, read from the membership (a rebalance changes it). */
  get generation(): number {
    return (this.consumer as unknown as { membership: GroupMembership | null }).membership?.generationId ?? -1
  }
}

/**
 * No partition ever has two owners: per partition, the ownership intervals [assigned, revoked|lost] of all
 * members are disjoint (an owner must give a partition up before the next one is given it), and every handler
 * span of a member on a partition lies inside one of its intervals of that partition.
 */
function assertExclusiveOwnership(log: OwnershipEvent[], spans: Span[], closedAt: number): void {
  const intervals = new Map<number, Array<{ who: string; from: number; to: number }>>()
  const open = new Map<string, number>()
  for (const e of [...log].sort((a, b) => a.t - b.t)) {
    for (const p of e.partitions) {
      const key = `${e.who}/${p}`
      if (e.ev === 'assigned') {
        assert.ok(!open.has(key), `${e.who} was assigned partition ${p} twice without giving it up`)
        open.set(key, e.t)
      } else {
        const from = open.get(key)
        assert.ok(from !== undefined, `${e.who} gave up partition ${p} it did not own`)
        open.delete(key)
        let list = intervals.get(p)
        if (!list) intervals.set(p, (list = []))
        list.push({ who: e.who, from, to: e.t })
      }
    }
  }
  for (const [key, from] of open) {
    const [who, p] = key.split('/')
    let list = intervals.get(Number(p))
    if (!list) intervals.set(Number(p), (list = []))
    list.push({ who, from, to: closedAt })
  }
  for (const [p, list] of intervals) {
    list.sort((a, b) => a.from - b.from)
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]
      const next = list[i]
      assert.ok(
        next.from >= prev.to,
        `partition ${p}: ${next.who} was assigned it at ${next.from} while ${prev.who} owned it until ${prev.to}`,
      )
    }
  }
  for (const s of spans) {
    const inside = (intervals.get(s.p) ?? []).some((i) => i.who === s.who && s.start >= i.from && s.end <= i.to)
    assert.ok(inside, `${s.who} processed partition ${s.p} at ${s.start}-${s.end} outside its ownership`)
  }
}

// ------------------------------------------------------------------------------------ members in a child process

interface ChildEvent {
  ev: string
  t: number
  p?: number
  o?: string
  tps?: Array<[string, number]>
  offsets?: Array<[number, string]>
  name?: string
  code?: string
  message?: string
}

/** test/helpers/consumer-child.ts in a process of its own; its reports land in `events`. */
class Child {
  readonly events: ChildEvent[] = []
  readonly proc: ChildProcess
  readonly closed: Promise<void>

  constructor(options: Omit<ChildOptions, 'brokers' | 'sessionTimeoutMs' | 'heartbeatIntervalMs'>) {
    const full: ChildOptions = { brokers, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: HEARTBEAT_MS, ...options }
    this.proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(full)], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    children.add(this)
    let pending = ''
    this.proc.stdout!.setEncoding('utf8')
    this.proc.stdout!.on('data', (chunk: string) => {
      pending += chunk
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        try {
          this.events.push(JSON.parse(line) as ChildEvent)
        } catch {
          process.stderr.write(`consumer-child: ${line}\n`)
        }
      }
    })
    this.proc.stdin!.on('error', () => {})
    this.closed = new Promise((done) =>
      this.proc.on('close', () => {
        children.delete(this)
        done()
      }),
    )
  }

  send(command: string): void {
    this.proc.stdin!.write(`${command}\n`)
  }

  signal(signal: NodeJS.Signals): void {
    this.proc.kill(signal)
  }

  of(ev: string, after = 0): ChildEvent[] {
    return this.events.filter((e) => e.ev === ev && e.t >= after)
  }

  /** Offsets whose handler ended, per partition. */
  done(): Map<number, Set<bigint>> {
    const out = new Map<number, Set<bigint>>()
    for (const e of this.of('done')) {
      let set = out.get(e.p!)
      if (!set) out.set(e.p!, (set = new Set()))
      set.add(BigInt(e.o!))
    }
    return out
  }

  /** Messages whose handler started and did not end. */
  inFlight(): Array<{ p: number; o: bigint }> {
    const done = this.done()
    return this.of('start')
      .filter((e) => !done.get(e.p!)?.has(BigInt(e.o!)))
      .map((e) => ({ p: e.p!, o: BigInt(e.o!) }))
  }

  owned(): Set<number> {
    const owned = new Set<number>()
    for (const e of this.events) {
      if (e.ev === 'assigned') for (const [, p] of e.tps!) owned.add(p)
      if (e.ev === 'revoked' || e.ev === 'lost') for (const [, p] of e.tps!) owned.delete(p)
    }
    return owned
  }

  /** The last offset this child committed per partition. */
  lastCommits(): Map<number, bigint> {
    const out = new Map<number, bigint>()
    for (const e of this.of('commit')) for (const [p, o] of e.offsets!) out.set(p, BigInt(o))
    return out
  }
}

test.after(async () => {
  for (const child of children) {
    child.signal('SIGKILL')
    await child.closed
  }
  for (const member of members) await member.consumer.close({ mode: 'abandon' }).catch(() => {})
  await admin.deleteTopics(created, { ignoreMissing: true }).catch(() => {})
  admin.close()
})

// ------------------------------------------------------------------------------------ the tests

test('a member killed with SIGKILL mid-batch: the next owner resumes at its committed offset, nothing is skipped', async () => {
  const topic = await filledTopic(2, 150)
  const groupId = `g-${topic}`
  const a = new Child({ groupId, topic, delayMs: 30, batchSize: 5, commitIntervalMs: 250 })
  // Kill it once it has committed progress and while a batch is in its handler.
  await until(
    () => a.lastCommits().size === 2 && a.of('done').length >= 40 && a.inFlight().length > 0,
    30_000,
    'the child to commit and be mid-batch',
  )
  a.signal('SIGKILL')
  await a.closed
  const inFlight = a.inFlight()
  assert.ok(inFlight.length > 0, 'the child died with a batch in its handler')
  const done = a.done()

  // What the dead member left committed never passes an offset it had not processed.
  const left = await committedOffsets(groupId, topic, 2)
  assert.ok(left[0] > 0n && left[1] > 0n, `the child committed progress in both partitions (${left})`)
  for (let p = 0; p < 2; p++) {
    for (let o = 0n; o < left[p]; o++) assert.ok(done.get(p)?.has(o), `offset ${p}:${o} was committed unprocessed`)
    for (const m of inFlight) if (m.p === p) assert.ok(m.o >= left[p], `in-flight ${p}:${m.o} was committed`)
  }

  // Another member takes over once the dead one's session expires.
  const b = new Member('B', { groupId, topics: [topic] }, 0)
  const joinStarted = Date.now()
  await b.start()
  await until(() => b.owned().size === 2, 30_000, 'B to own both partitions')
  const ends = await endOffsets(admin.cluster, topic)
  await until(() => [0, 1].every((p) => b.processed.get(p)?.at(-1) === ends[p] - 1n), 30_000, 'B to process to the end')
  await b.close()
  assert.ok(Date.now() - joinStarted < SESSION_MS * 4, 'the takeover took about a session timeout')
  for (let p = 0; p < 2; p++) {
    const mine = b.processed.get(p)!
    assert.equal(mine[0], left[p], `B resumed partition ${p} at the committed offset`)
    assert.equal(new Set(mine).size, mine.length, `B processed each offset of partition ${p} once`)
    // At least once: every offset was processed by the dead member or by B, with no gap.
    for (let o = 0n; o < ends[p]; o++)
      assert.ok(done.get(p)?.has(o) || mine.includes(o), `offset ${p}:${o} was never processed`)
    // What B re-processed is only what the dead member had not committed (processed or in flight).
    for (const o of mine) if (done.get(p)?.has(o)) assert.ok(o >= left[p])
  }
  assert.deepEqual(await committedOffsets(groupId, topic, 2), ends, 'B committed the end of each partition')
})

test('clean restarts of members with auto commit: no message is processed twice', async () => {
  const topic = await filledTopic(3, 600)
  const groupId = `g-${topic}`
  const total = 1800
  const all: Member[] = []
  // Slow while members come and go, so that every restart happens with work in flight; fast afterwards.
  let fast = false
  const processed = () => all.reduce((n, m) => n + m.count(), 0)
  // Each new member gets partitions and works on them before the next restart.
  const start = async (name: string) => {
    const m = new Member(name, { groupId, topics: [topic], concurrency: 3 }, () => (fast ? 0 : 20))
    all.push(m)
    await m.start()
    await until(() => m.owned().size > 0 && m.count() >= 10, 30_000, `${name} to own partitions and process`)
    return m
  }
  const m1 = await start('M1')
  const m2 = await start('M2')
  await m1.close()
  const m3 = await start('M3')
  await m2.close()
  const m4 = await start('M4')
  await m3.close()
  assert.ok(processed() < total - 100, `restarts happened while messages were left (${processed()})`)
  fast = true
  await until(() => processed() >= total, 30_000, 'every message')
  await sleep(500)
  await m4.close()

  const seen = new Map<string, string[]>()
  for (const m of all)
    for (const [p, offsets] of m.processed)
      for (const o of offsets) seen.set(`${p}:${o}`, [...(seen.get(`${p}:${o}`) ?? []), m.name])
  const twice = [...seen].filter(([, by]) => by.length > 1)
  assert.deepEqual(twice, [], 'messages processed more than once')
  assert.equal(seen.size, total, 'every message was processed')
  for (const m of all) {
    assert.ok(m.count() > 0, `${m.name} processed messages`)
    assert.deepEqual(m.failures, [], `${m.name} had no failed commit`)
    assert.ok(!m.events.some((e) => e.ev === 'lost'), `${m.name} lost no partition`)
  }
  const ends = await endOffsets(admin.cluster, topic)
  assert.deepEqual(await committedOffsets(groupId, topic, 3), ends, 'the group committed the end of each partition')
})

test('cooperative-sticky: a new member makes only the moved partitions revoked, never two owners at once', async () => {
  const topic = await filledTopic(6, 400)
  const total = 2400
  const groupId = `g-${topic}`
  const log: OwnershipEvent[] = []
  const cfg = { groupId, topics: [topic], concurrency: 6, assignors: ['cooperative-sticky'] }
  // Slow while members join, so that partitions move with work in flight; fast afterwards.
  let fast = false
  const delay = () => (fast ? 0 : 25)
  const a = new Member('A', cfg, delay, log)
  await a.start()
  await until(() => a.owned().size === 6, 20_000, 'A to own every partition')
  await until(() => a.count() >= 30, 20_000, 'A to process')

  const b = new Member('B', cfg, delay, log)
  const bAt = Date.now()
  await b.start()
  await until(() => a.owned().size === 3 && b.owned().size === 3, 20_000, 'A and B to own 3 each')
  await sleep(2 * HEARTBEAT_MS)
  const aRevokedForB = a.events.filter((e) => e.ev === 'revoked' && e.t >= bAt).flatMap((e) => e.partitions)
  assert.deepEqual(aRevokedForB.sort(), [...b.owned()].sort(), 'A gave up exactly what B got')

  const c = new Member('C', cfg, delay, log)
  const cAt = Date.now()
  await c.start()
  await until(
    () => a.owned().size === 2 && b.owned().size === 2 && c.owned().size === 2,
    20_000,
    'A, B and C to own 2 each',
  )
  await sleep(2 * HEARTBEAT_MS)
  const revokedForC = [a, b].flatMap((m) => m.events.filter((e) => e.ev === 'revoked' && e.t >= cAt))
  assert.deepEqual(
    revokedForC.flatMap((e) => e.partitions).sort(),
    [...c.owned()].sort(),
    'A and B gave up exactly what C got',
  )
  assert.equal(revokedForC.filter((e) => e.who === 'A').flatMap((e) => e.partitions).length, 1, 'A gave up one')
  assert.equal(revokedForC.filter((e) => e.who === 'B').flatMap((e) => e.partitions).length, 1, 'B gave up one')
  for (const m of [a, b, c]) {
    assert.equal(m.events.filter((e) => e.ev === 'assigned').length, 1, `${m.name} was assigned once`)
    assert.ok(!m.events.some((e) => e.ev === 'lost'), `${m.name} lost nothing`)
  }
  const union = [...a.owned(), ...b.owned(), ...c.owned()].sort()
  assert.deepEqual(union, [0, 1, 2, 3, 4, 5], 'every partition has one owner')

  await until(() => c.count() >= 10, 10_000, 'C to process')
  fast = true
  await until(() => a.count() + b.count() + c.count() >= total, 30_000, 'every message')
  const closedAt = Date.now()
  await Promise.all([a.close(), b.close(), c.close()])
  assertExclusiveOwnership(log, [...a.spans, ...b.spans, ...c.spans], closedAt)
  // Cooperative revocation commits before handing over: nothing was processed twice.
  const seen = new Set<string>()
  for (const m of [a, b, c])
    for (const [p, offsets] of m.processed)
      for (const o of offsets) {
        assert.ok(!seen.has(`${p}:${o}`), `${p}:${o} processed twice`)
        seen.add(`${p}:${o}`)
      }
  assert.equal(seen.size, total)
})

test('a revocation waiting longer than the session timeout for a handler keeps the member in the group', async () => {
  const topic = await filledTopic(2, 20)
  const groupId = `g-${topic}`
  const log: OwnershipEvent[] = []
  // The first message of each partition takes longer than a session: whichever partition is revoked, the
  // revocation (revokeMode 'finish') waits for it, heartbeating meanwhile.
  const slowMs = SESSION_MS + 2500
  const a = new Member('A', { groupId, topics: [topic], concurrency: 2 }, (m) => (m.offset === 0n ? slowMs : 1), log)
  await a.start()
  await until(() => a.owned().size === 2, 20_000, 'A to own both partitions')
  await sleep(300)
  const b = new Member('B', { groupId, topics: [topic] }, 1, log)
  await b.start()
  await until(() => a.owned().size === 1 && b.owned().size === 1, slowMs + 15_000, 'B to get a partition')
  const revoked = a.events.find((e) => e.ev === 'revoked')!
  const slowSpan = a.spans.find((s) => s.p === revoked.partitions[0] && s.end - s.start >= slowMs - 50)
  assert.ok(slowSpan, 'the revoked partition had the slow message in flight')
  assert.ok(revoked.t >= slowSpan.end, 'the revocation waited for the handler')
  await until(() => a.count() + b.count() >= 40, 20_000, 'every message')
  await sleep(2 * HEARTBEAT_MS)
  assert.ok(!a.events.some((e) => e.ev === 'lost'), 'A was not dropped from the group')
  assert.deepEqual(
    a.events.map((e) => e.ev),
    ['assigned', 'revoked'],
    `A gave up one partition, once, and kept the other: ${JSON.stringify(a.events)}`,
  )
  assert.deepEqual(a.failures, [], 'the commit made while revoking was accepted')
  const closedAt = Date.now()
  await Promise.all([a.close(), b.close()])
  assertExclusiveOwnership(log, [...a.spans, ...b.spans], closedAt)
  const all = [...a.processed, ...b.processed].flatMap(([p, offsets]) => offsets.map((o) => `${p}:${o}`))
  assert.equal(new Set(all).size, all.length, 'nothing was processed twice')
  assert.equal(all.length, 40)
})

test('static membership: a restart within the session timeout moves nothing; a second instance id fences the first', async () => {
  const topic = await filledTopic(3, 400)
  const groupId = `g-${topic}`
  const log: OwnershipEvent[] = []
  // An eager assignor: any rebalance would revoke every partition of every member, which the log would show.
  const cfg = (id: string) => ({ groupId, topics: [topic], groupInstanceId: id, assignors: ['range'] })
  const s1 = new Member('S1', cfg('i1'), 10, log)
  const s2 = new Member('S2', cfg('i2'), 10, log)
  const s3 = new Member('S3', cfg('i3'), 10, log)
  await Promise.all([s1.start(), s2.start(), s3.start()])
  await until(
    () => s1.owned().size === 1 && s2.owned().size === 1 && s3.owned().size === 1,
    30_000,
    'one partition each',
  )
  await sleep(3 * HEARTBEAT_MS)
  const generation = s2.generation
  assert.equal(s3.generation, generation)
  const partitionOfS1 = [...s1.owned()][0]
  const quietFrom = Date.now()

  // Restart: close (a static member does not leave) and start again with the same instance id.
  await s1.close()
  const s1b = new Member('S1b', cfg('i1'), 10, log)
  const restartAt = Date.now()
  await s1b.start()
  await until(() => s1b.owned().size === 1, 10_000, 'the restarted member to get its partition')
  assert.ok(Date.now() - restartAt < SESSION_MS, 'the restarted member did not wait for a rebalance')
  assert.deepEqual([...s1b.owned()], [partitionOfS1], 'the restarted member got its partition back')
  const processedBefore = s1b.count()
  await until(() => s1b.count() > processedBefore + 5, 10_000, 'the restarted member to process')
  await sleep(4 * HEARTBEAT_MS)
  const others = (from: number) => log.filter((e) => (e.who === 'S2' || e.who === 'S3') && e.t >= from)
  assert.deepEqual(others(quietFrom), [], 'the other members saw no revocation or assignment')
  assert.equal(s2.generation, generation, 'no rebalance: the generation is the same')
  assert.equal(s3.generation, generation)

  // A second instance with the same group.instance.id: the broker hands it the member's place, and the
  // member it replaced is fenced at its next heartbeat.
  const s1c = new Member('S1c', cfg('i1'), 10, log)
  await s1c.start()
  await until(() => s1b.stops.length > 0, SESSION_MS, 'the replaced member to stop')
  const fenced = s1b.stops[0]
  assert.ok(fenced instanceof GroupError, `a GroupError, not ${String(fenced)}`)
  assert.ok(fenced instanceof KafkaWireError)
  assert.equal(fenced.code, 'FENCED_INSTANCE_ID')
  assert.equal(fenced.retriable, false)
  assert.match(fenced.message, /i1/)
  assert.equal(s1b.stops.length, 1, 'stopped once')
  await until(() => s1b.owned().size === 0, 5_000, 'the fenced member to drop its partition')
  assert.ok(
    s1b.events.some((e) => e.ev === 'lost'),
    'the fenced member reports its partition lost',
  )
  const stoppedAt = Date.now()
  await until(() => s1c.owned().size === 1, 10_000, 'the new instance to own the partition')
  assert.deepEqual([...s1c.owned()], [partitionOfS1])
  const newProcessed = s1c.count()
  await until(() => s1c.count() > newProcessed + 5, 10_000, 'the new instance to process')
  await sleep(4 * HEARTBEAT_MS)
  assert.ok(
    s1b.spans.every((s) => s.start <= stoppedAt),
    'the fenced member processed nothing after it was stopped',
  )
  assert.deepEqual(others(quietFrom), [], 'fencing moved nothing of the other members')
  assert.equal(s2.generation, generation, 'no rebalance while fencing')
  // The fenced consumer is closed by its stop; closing it again is harmless.
  await s1b.close()
  await Promise.all([s1c.close(), s2.close(), s3.close()])
})

test('a member stalled (SIGSTOP) past its session: the group moves on, its late commit fails typed and changes nothing, it rejoins', async () => {
  const topic = await filledTopic(2, 200)
  const groupId = `g-${topic}`
  // The stalled member commits only when told (and on revocation), so the test controls its late commit.
  const a = new Child({ groupId, topic, delayMs: 100, commitIntervalMs: 600_000 })
  await until(() => a.owned().size === 2 && a.of('done').length >= 3, 30_000, 'the child to own and process')

  const b = new Member('B', { groupId, topics: [topic] }, 2)
  await b.start()
  await until(() => a.owned().size === 1 && b.owned().size === 1, 20_000, 'A and B to own one partition each')
  const pA = [...a.owned()][0]
  a.send('commit')
  await until(() => a.lastCommits().has(pA), 10_000, 'the child to commit its partition')
  await until(() => a.inFlight().some((m) => m.p === pA), 10_000, 'a message of the child in its handler')

  a.signal('SIGSTOP')
  const stoppedAt = Date.now()
  try {
    await until(() => b.owned().size === 2, SESSION_MS + 15_000, 'B to take the stalled member partition')
    const tookOver = b.events.find((e) => e.ev === 'assigned' && e.partitions.includes(pA))!.t - stoppedAt
    assert.ok(tookOver >= SESSION_MS - 2 * HEARTBEAT_MS, `B took over after the session timeout (${tookOver} ms)`)
    const ends = await endOffsets(admin.cluster, topic)
    await until(() => b.commits.some((c) => c.partition === pA && c.offset === ends[pA]), 20_000, 'B to commit')
    const before = await committedOffsets(groupId, topic, 2)
    assert.equal(before[pA], ends[pA])
    const aCommitted = a.lastCommits().get(pA)!
    assert.ok(aCommitted < ends[pA], 'the stalled member was behind')

    // Wake it with a commit waiting on its stdin: it commits what it finished while stalled.
    const wokeAt = Date.now()
    a.send('commit')
    a.signal('SIGCONT')
    await until(() => a.of('commit-failed', wokeAt).length > 0, 15_000, 'the late commit to fail')
    const failure = a.of('commit-failed', wokeAt)[0]
    assert.equal(failure.name, CommitFailedError.name)
    assert.equal(failure.code, 'ERR_COMMIT_FAILED')
    assert.match(failure.message!, new RegExp(groupId))
    assert.ok(
      !a.of('commit', wokeAt).some((e) => e.offsets!.some(([p, o]) => p === pA && BigInt(o) < ends[pA])),
      'no late commit was accepted',
    )
    assert.deepEqual(await committedOffsets(groupId, topic, 2), before, "the new owner's offsets are untouched")

    // It finds out it was dropped, then rejoins and gets a partition again.
    await until(() => a.of('lost', wokeAt).length > 0, 15_000, 'the stalled member to drop its partitions')
    await until(() => a.of('assigned', wokeAt).length > 0, 30_000, 'the stalled member to rejoin')
    await until(() => a.owned().size === 1 && b.owned().size === 1, 20_000, 'one partition each again')
    assert.ok(!a.of('stopped').length, 'the stalled member did not stop')
    a.send('close')
    await until(() => a.of('closed').length > 0, 20_000, 'the child to close')
    await a.closed
    await b.close()
    const ends2 = await endOffsets(admin.cluster, topic)
    assert.deepEqual(await committedOffsets(groupId, topic, 2), ends2, 'the group committed the end')
  } finally {
    a.signal('SIGCONT')
  }
})

test.run()
