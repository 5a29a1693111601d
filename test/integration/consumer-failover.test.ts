// A group of our Consumers on a replicated topic while a producer writes, on a 3-node cluster of its own:
// kill -9 of the group coordinator while a fourth member is joining (the node is restarted while the group goes
// on), then kill -9 of a partition leader. Consumption resumes each time, every acknowledged message is processed
// at least once, and the committed offsets never go backwards and never pass a message not yet processed.
// Skipped against an external cluster (KAFKA_WIRE_EXTERNAL=1). DEBUG_CONSUMER_FAILOVER=1 prints the group's events.

import * as assert from 'node:assert/strict'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import { Consumer, type ConsumerMessage } from '../../src/client/consumer.js'
import { Producer } from '../../src/client/producer.js'
import type { Cluster } from '../../src/tools/local-broker.js'
import { external, startFailoverCluster } from '../helpers/failover-cluster.js'
import { runJavaTool } from '../helpers/java-tools.js'
import { endOffsets } from '../helpers/read-topic.js'

const PARTITIONS = 6
const CONSUMERS = 3
let cluster: Cluster

test.before(async () => {
  // Few offsets partitions: the group coordinator's log loads at once.
  if (!external) cluster = await startFailoverCluster({ 'offsets.topic.num.partitions': 3 })
})

test.after(async () => {
  await cluster?.stop()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`)
    await sleep(50)
  }
}

/** Offsets of one partition processed so far, and the lowest one not processed yet. */
class Processed {
  private readonly done: boolean[] = []
  /** Every offset below this one has been processed. */
  contiguous = 0
  count = 0

  add(offset: number): void {
    if (!this.done[offset]) this.count++
    this.done[offset] = true
    while (this.done[this.contiguous]) this.contiguous++
  }

  has(offset: number): boolean {
    return this.done[offset] === true
  }
}

interface Membership {
  memberId: string
  coordinatorNode: number
  once(event: 'rebalancing', listener: () => void): void
}
const membershipOf = (c: Consumer) => (c as unknown as { membership: Membership | null }).membership

test('kill -9 of the group coordinator, then of a partition leader, under load: nothing lost, commits never go back nor pass unprocessed messages', async () => {
  if (external) {
    console.log('  skipped: needs its own 3-node cluster (KAFKA_WIRE_EXTERNAL=1)')
    return
  }
  const t0 = Date.now()
  let restarting: Promise<void> | null = null
  const phases: string[] = []
  const phase = (name: string) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)}s`)
  const brokers = cluster.bootstrap
  const admin = new Admin({ brokers })
  const topic = `cfailover-${Date.now()}`
  const groupId = `g-${topic}`
  await admin.createTopics([
    { topic, partitions: PARTITIONS, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
  ])

  // ---------------------------------------------------------------------------- load
  const producer = new Producer({
    brokers,
    deliveryTimeoutMs: 60_000,
    requestTimeoutMs: 10_000,
    flush: { frequencyMs: 5 },
    retryBackoff: { baseMs: 50, maxMs: 500 },
  })
  await producer.connect()
  const acknowledged: Array<{ n: number; partition: number; offset: number }> = []
  const settled: Array<Promise<void>> = []
  let sent = 0
  let failed = 0
  let stop = false
  const load = (async () => {
    while (!stop) {
      for (let k = 0; k < 40; k++, sent++) {
        const n = sent
        settled.push(
          producer.send({ topic, key: `key-${n % 50}`, value: String(n) }).then(
            (meta) => {
              acknowledged.push({ n, partition: meta.partition, offset: Number(meta.offset) })
            },
            () => {
              failed++
            },
          ),
        )
      }
      await sleep(25)
    }
  })()

  // ---------------------------------------------------------------------------- the group
  const processed = Array.from({ length: PARTITIONS }, () => new Processed())
  const lastCommitted: number[] = Array.from({ length: PARTITIONS }, () => 0)
  const problems: string[] = []
  const warnings: string[] = []
  let commitsAfter = 0
  let handled = 0
  const consumers: Consumer[] = []
  const addConsumer = (): Consumer => {
    const i = consumers.length
    const consumer = new Consumer({
      brokers,
      groupId,
      topics: [topic],
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 500,
      commitIntervalMs: 400,
      concurrency: 4,
      requestTimeoutMs: 10_000,
      handler: async (m: ConsumerMessage) => {
        if (Number(m.offset) % 7 === 0) await sleep(1)
        processed[m.partition].add(Number(m.offset))
        handled++
      },
    })
    consumer.on('commit', (entries: Array<{ topic: string; partition: number; offset: bigint }>) => {
      for (const e of entries) {
        const offset = Number(e.offset)
        const p = processed[e.partition]
        if (offset < lastCommitted[e.partition])
          problems.push(`consumer ${i}: ${e.partition} committed ${offset} after ${lastCommitted[e.partition]}`)
        // Next-offset convention: everything below the committed offset has been processed.
        if (offset > p.contiguous)
          problems.push(`consumer ${i}: ${e.partition} committed ${offset}, processed only below ${p.contiguous}`)
        lastCommitted[e.partition] = Math.max(lastCommitted[e.partition], offset)
        commitsAfter++
      }
    })
    consumer.on('partition-error', (e) => problems.push(`consumer ${i}: partition error ${e}`))
    consumer.on('stopped', (r) => problems.push(`consumer ${i}: stopped ${JSON.stringify(r)}`))
    // The first start of each partition resets to earliest (from null); an out-of-range position never happens.
    consumer.on('offset-reset', (e: { partition: number; from: bigint | null; to: bigint }) => {
      if (e.from !== null) problems.push(`consumer ${i}: ${e.partition} reset from ${e.from} to ${e.to}`)
    })
    consumer.on('warning', (e) => warnings.push(`consumer ${i}: ${e}`))
    if (process.env.DEBUG_CONSUMER_FAILOVER) {
      const t = () => ((Date.now() - t0) / 1000).toFixed(2)
      consumer.on('warning', (e) => console.log(t(), i, 'warning', String(e)))
      for (const ev of ['assigned', 'revoked', 'lost'])
        consumer.on(ev, (tps: Array<{ partition: number }>) =>
          console.log(
            t(),
            i,
            ev,
            tps.map((x) => x.partition),
          ),
        )
      consumer.once('assigned', () => {
        const m = membershipOf(consumer) as unknown as NodeJS.EventEmitter
        m.on('rebalancing', (r) => console.log(t(), i, 'rebalancing', r))
      })
    }
    consumers.push(consumer)
    return consumer
  }
  for (let i = 0; i < CONSUMERS; i++) addConsumer()
  await Promise.all(consumers.map((c) => c.start()))
  phase('joined')
  const state = () =>
    `handled ${handled}, sent ${sent}, acknowledged ${acknowledged.length}, processed below ${processed.map((p) => p.contiguous)}, committed ${lastCommitted}, problems ${problems.slice(0, 5)}, last warnings ${warnings.slice(-5)}`

  /** Messages acknowledged up to now are all processed (per partition: the highest acknowledged offset). */
  const caughtUp = async (what: string, ms: number) => {
    const upTo = Array.from({ length: PARTITIONS }, () => -1)
    for (const a of acknowledged) upTo[a.partition] = Math.max(upTo[a.partition], a.offset)
    await until(
      () => upTo.every((o, p) => processed[p].contiguous > o),
      ms,
      () => `${what}: ${state()}`,
    )
  }

  try {
    await caughtUp('the group consuming', 30_000)
    phase('caught up')
    await sleep(1000)

    // ------------------------------------------------------------------------ (a) the coordinator
    // Killed while the group rebalances: a fourth member is joining, the others' JoinGroups are held by it.
    const coordinator = membershipOf(consumers[0])!.coordinatorNode
    assert.ok(coordinator > 0, 'the coordinator is known')
    for (const c of consumers) assert.equal(membershipOf(c)!.coordinatorNode, coordinator, 'one coordinator')
    const handledBefore = handled
    const rebalancing = new Promise<void>((resolve) => membershipOf(consumers[0])!.once('rebalancing', () => resolve()))
    const joining = addConsumer().start()
    await rebalancing
    await sleep(100)
    await cluster.killNode(coordinator, 'SIGKILL')
    if (process.env.DEBUG_CONSUMER_FAILOVER)
      console.log(((Date.now() - t0) / 1000).toFixed(2), 'killed coordinator', coordinator)
    const killedAt = Date.now()
    commitsAfter = 0
    // The group finds the new coordinator, commits there, and goes on consuming.
    await until(
      () => consumers.every((c) => membershipOf(c)!.coordinatorNode !== coordinator) && commitsAfter >= PARTITIONS,
      45_000,
      () =>
        `a new coordinator and commits to it: ${consumers.map((c) => membershipOf(c)!.coordinatorNode)}; ${state()}`,
    )
    // The node comes back meanwhile (it must be up before the next kill: two of three down is no quorum).
    restarting = cluster.startNode(coordinator)
    restarting.catch(() => {}) // awaited below
    await joining
    await caughtUp('consumption after the coordinator kill', 45_000)
    assert.ok(handled > handledBefore, 'consumption resumed')
    // The four members share the partitions, each partition owned once.
    await until(
      () => {
        const owned = consumers.flatMap((c) => c.assignment.map((a) => a.partition))
        return (
          consumers.every((c) => c.assignment.length > 0) &&
          new Set(owned).size === PARTITIONS &&
          owned.length === PARTITIONS
        )
      },
      30_000,
      () => `the partitions spread over 4 members: ${consumers.map((c) => c.assignment.map((a) => a.partition))}`,
    )
    console.log(`  coordinator ${coordinator} killed: caught up after ${Date.now() - killedAt} ms`)
    phase('coordinator recovered')
    await restarting
    restarting = null
    phase('coordinator restarted')

    // ------------------------------------------------------------------------ leadership moves, old leaders alive
    // A preferred leader election gives the restarted node back the partitions it is the first replica of: their
    // old leaders stay up and answer our fetches with NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH. (All topics:
    // the group's offsets partition may move back too, the old coordinator answering NOT_COORDINATOR.)
    const inIsr = async () => {
      const [info] = await admin.metadata([topic])
      return info.partitions.every((p) => p.isr.includes(coordinator))
    }
    for (let deadline = Date.now() + 30_000; !(await inIsr()); ) {
      assert.ok(Date.now() < deadline, `node ${coordinator} back in every ISR`)
      await sleep(200)
    }
    const before = (await admin.metadata([topic]))[0].partitions.map((p) => p.leader)
    const election = await runJavaTool(
      'org.apache.kafka.tools.LeaderElectionCommand',
      ['--bootstrap-server', brokers, '--election-type', 'PREFERRED', '--all-topic-partitions'],
      { timeoutMs: 120_000 },
    )
    // The brokers learn of the election from the metadata log a moment later: wait until one says so.
    let after = before
    let moved: number[] = []
    for (let deadline = Date.now() + 10_000; moved.length === 0 && Date.now() < deadline; ) {
      await sleep(100)
      after = (await admin.metadata([topic]))[0].partitions.map((p) => p.leader)
      moved = after.flatMap((l, p) => (l !== before[p] ? [p] : []))
    }
    // Replicas are spread so that each node is the first replica of some partitions.
    assert.ok(moved.length > 0, `leaders ${before} -> ${after}; election: ${election.stdout}${election.stderr}`)
    assert.ok(
      moved.every((p) => after[p] === coordinator),
      `moved to node ${coordinator}: ${before} -> ${after}`,
    )
    const ackedAtMove = acknowledged.length
    await until(
      () =>
        moved.every((p) =>
          acknowledged.slice(ackedAtMove).some((a) => a.partition === p && processed[p].has(a.offset)),
        ),
      45_000,
      () => `messages written after the move of partitions ${moved} to node ${coordinator} consumed: ${state()}`,
    )
    await caughtUp('consumption after the leadership moves', 45_000)
    console.log(`  partitions ${moved} moved to node ${coordinator} (old leaders up): consumed from the new leaders`)
    phase('leaders moved')

    // ------------------------------------------------------------------------ (b) a partition leader
    await admin.metadata([topic])
    const newCoordinator = membershipOf(consumers[0])!.coordinatorNode
    const leaders = Array.from({ length: PARTITIONS }, (_, p) => admin.cluster.leaderFor(topic, p))
    const victim = leaders.find((l) => l > 0 && l !== newCoordinator) ?? leaders.find((l) => l > 0)!
    assert.ok(victim > 0, `a leader to kill: ${leaders}`)
    const led = leaders.flatMap((l, p) => (l === victim ? [p] : []))
    await cluster.killNode(victim, 'SIGKILL')
    const leaderKilledAt = Date.now()
    const ackedAtKill = acknowledged.length
    // Messages acknowledged after the kill in the partitions it led are processed: their new leaders are fetched.
    await until(
      () =>
        led.every((p) => acknowledged.slice(ackedAtKill).some((a) => a.partition === p && processed[p].has(a.offset))),
      45_000,
      () => `messages written after the kill of leader ${victim} (partitions ${led}) consumed: ${state()}`,
    )
    await caughtUp('consumption after the leader kill', 45_000)
    console.log(`  leader ${victim} of partitions ${led} killed: caught up after ${Date.now() - leaderKilledAt} ms`)
    phase('leader recovered')
    // This node stays down to the end: a restart takes 10-30 s on a loaded machine, and one was seen above.

    // ------------------------------------------------------------------------ the end
    stop = true
    await load
    await Promise.all(settled)
    await producer.close()
    phase('load stopped')
    assert.ok(acknowledged.length > 1000, `enough load: ${acknowledged.length} acknowledged, ${failed} failed`)
    await caughtUp('every acknowledged message', 45_000)
    for (const a of acknowledged) assert.ok(processed[a.partition].has(a.offset), `message ${a.n} processed`)
    const ends = await endOffsets(admin.cluster, topic)
    // Every message in the log (acknowledged or not) is processed and, in the end, committed.
    await until(
      () => ends.every((end, p) => lastCommitted[p] === Number(end)),
      30_000,
      () => `commits of the log ends ${ends}: ${state()}`,
    )
    assert.deepEqual(problems, [], problems.join('\n'))
    phase('all committed')
  } finally {
    stop = true
    await load
    await restarting?.catch(() => {})
    await Promise.allSettled(consumers.map((c) => c.close()))
    await producer.close().catch(() => {})
    admin.close()
  }
  // What the coordinator keeps is the log end of every partition: the group resumes exactly there.
  const check = new Consumer({ brokers, groupId, topics: [topic], sessionTimeoutMs: 10_000, handler: () => {} })
  try {
    await check.start()
    const membership = (check as unknown as { membership: { committed(tps: unknown[]): Promise<Map<string, bigint>> } })
      .membership
    const committed = await membership.committed(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })),
    )
    for (let p = 0; p < PARTITIONS; p++)
      assert.equal(Number(committed.get(`${topic}\u0000${p}`)), lastCommitted[p], `partition ${p}: committed offset`)
  } finally {
    await check.close()
  }
  phase('checked')
  console.log(`  ${phases.join(', ')}`)
})

test.run()
