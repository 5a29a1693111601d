import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../src/client/errors.js'
import { MetricsRegistry } from '../../src/client/metrics.js'
import { PartitionOffsets } from '../../src/client/offset-tracker.js'
import {
  type Decision,
  type SettledInfo,
  type SettledOutcome,
  type StopReason,
  type WorkerClock,
  WorkerError,
  WorkerManager,
  type WorkerManagerOptions,
} from '../../src/client/worker-manager.js'

interface Msg {
  topic: string
  partition: number
  offset: bigint
  key: Buffer | null
  value?: string
}

const msg = (partition: number, offset: number, key: string | null = null, topic = 't'): Msg => ({
  topic,
  partition,
  offset: BigInt(offset),
  key: key === null ? null : Buffer.from(key),
})

/** Lets every pending promise chain and immediate run. */
async function flush(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r))
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** A manual clock: timers fire only when `advance` reaches them. */
class FakeClock implements WorkerClock {
  t = 0
  #seq = 0
  timers = new Map<number, { at: number; fn: () => void }>()

  now(): number {
    return this.t
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq
    this.timers.set(id, { at: this.t + ms, fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number)
  }

  async advance(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      await flush()
      let nextId = -1
      let nextAt = Number.POSITIVE_INFINITY
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && timer.at < nextAt) {
          nextAt = timer.at
          nextId = id
        }
      }
      if (nextId < 0) break
      const timer = this.timers.get(nextId)!
      this.timers.delete(nextId)
      this.t = timer.at
      timer.fn()
    }
    this.t = end
    await flush()
  }
}

/** A promise with its resolvers. */
function gate() {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

function record(manager: WorkerManager<Msg>) {
  const settled: Array<{ offset: bigint; partition: number; outcome: SettledOutcome; info: SettledInfo }> = []
  const stops: StopReason<Msg>[] = []
  manager.on('settled', (m, outcome, info) => settled.push({ offset: m.offset, partition: m.partition, outcome, info }))
  manager.on('stop', (reason) => stops.push(reason))
  return { settled, stops }
}

/** Deterministic PRNG for delays. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// ------------------------------------------------------------------------------------------------ ordering

test("ordering 'partition' with concurrency 10: a partition never overlaps and runs in offset order, partitions run in parallel", async () => {
  const random = rng(1)
  const active = new Map<number, number>()
  const lastOffset = new Map<number, bigint>()
  let running = 0
  let maxRunning = 0
  const manager = new WorkerManager<Msg>({
    concurrency: 10,
    handler: async (m) => {
      assert.is(active.get(m.partition) ?? 0, 0, `partition ${m.partition} overlaps at ${m.offset}`)
      const last = lastOffset.get(m.partition)
      assert.ok(last === undefined || m.offset === last + 1n, `partition ${m.partition}: ${m.offset} after ${last}`)
      lastOffset.set(m.partition, m.offset)
      active.set(m.partition, 1)
      maxRunning = Math.max(maxRunning, ++running)
      await sleep(random() < 0.5 ? 0 : 2)
      running--
      active.set(m.partition, 0)
    },
  })
  const { settled } = record(manager)
  for (let o = 0; o < 25; o++) for (let p = 0; p < 6; p++) manager.push(msg(p, o))
  while (settled.length < 150) await sleep(5)
  assert.ok(maxRunning > 1 && maxRunning <= 6, `max running ${maxRunning}`)
  for (let p = 0; p < 6; p++) {
    const offsets = settled.filter((s) => s.partition === p).map((s) => Number(s.offset))
    assert.equal(
      offsets,
      Array.from({ length: 25 }, (_, i) => i),
      'settled in offset order',
    )
  }
  assert.ok(settled.every((s) => s.outcome === 'finished'))
})

test("ordering 'key': same key in order without overlap, different keys of one partition in parallel", async () => {
  const random = rng(2)
  const activeKeys = new Set<string>()
  const seen = new Map<string, bigint[]>()
  let running = 0
  let maxRunning = 0
  const manager = new WorkerManager<Msg>({
    concurrency: 10,
    ordering: 'key',
    handler: async (m) => {
      const key = m.key === null ? 'null' : m.key.toString()
      assert.not.ok(activeKeys.has(key), `key ${key} overlaps`)
      activeKeys.add(key)
      seen.set(key, [...(seen.get(key) ?? []), m.offset])
      maxRunning = Math.max(maxRunning, ++running)
      await sleep(random() < 0.5 ? 0 : 2)
      running--
      activeKeys.delete(key)
    },
  })
  const { settled } = record(manager)
  const keys = ['a', 'b', 'c', 'd', null]
  const expected = new Map<string, bigint[]>()
  for (let o = 0; o < 100; o++) {
    const key = keys[Math.floor(random() * keys.length)]
    const k = key ?? 'null'
    expected.set(k, [...(expected.get(k) ?? []), BigInt(o)])
    manager.push(msg(0, o, key))
  }
  while (settled.length < 100) await sleep(5)
  assert.ok(maxRunning > 1, `keys of one partition ran in parallel (max ${maxRunning})`)
  assert.ok(maxRunning <= 5)
  for (const [key, offsets] of expected) assert.equal(seen.get(key), offsets, `key ${key} in offset order`)
})

test("ordering 'none': messages of one partition run at once, up to the concurrency", async () => {
  let running = 0
  let maxRunning = 0
  const manager = new WorkerManager<Msg>({
    concurrency: 5,
    ordering: 'none',
    handler: async () => {
      maxRunning = Math.max(maxRunning, ++running)
      await sleep(3)
      running--
    },
  })
  const { settled } = record(manager)
  for (let o = 0; o < 20; o++) manager.push(msg(0, o))
  assert.is(manager.activeCount, 0, 'handlers start from a microtask, never inside push()')
  await Promise.resolve()
  assert.is(manager.activeCount, 5)
  assert.is(manager.queuedCount, 15)
  while (settled.length < 20) await sleep(5)
  assert.is(maxRunning, 5)
})

// ------------------------------------------------------------------------------------------------ retries, timeouts

test('retries: maxRetries with the backoff between attempts, on a fake clock', async () => {
  const clock = new FakeClock()
  const metrics = new MetricsRegistry({ now: () => clock.now() })
  const attempts: Array<[attempt: number, at: number]> = []
  const manager = new WorkerManager<Msg>({
    clock,
    metrics,
    maxRetries: 3,
    retryBackoff: (failed) => 100 * failed,
    handler: async (_m, { attempt }) => {
      attempts.push([attempt, clock.now()])
      if (attempt < 3) throw new Error(`attempt ${attempt}`)
    },
  })
  const { settled } = record(manager)
  manager.push(msg(0, 0))
  await clock.advance(1000)
  assert.equal(attempts, [
    [1, 0],
    [2, 100],
    [3, 300],
  ])
  assert.is(settled.length, 1)
  assert.is(settled[0].outcome, 'finished')
  assert.is(settled[0].info.attempts, 3)
  assert.is((metrics.get('consumer.worker.retries') as { count: number }).count, 2)
})

test('retries: exhausted after 1 + maxRetries attempts with the default exponential backoff', async () => {
  const clock = new FakeClock()
  const attempts: number[] = []
  const manager = new WorkerManager<Msg>({
    clock,
    maxRetries: 2,
    retryBackoff: { baseMs: 100, maxMs: 1000 },
    handler: async (_m, { attempt }) => {
      attempts.push(clock.now())
      throw new Error(`attempt ${attempt}`)
    },
    onFailedAttempt: () => 'commit-and-continue',
  })
  const { settled } = record(manager)
  manager.push(msg(0, 0))
  await clock.advance(10_000)
  assert.is(attempts.length, 3)
  // Full jitter between half and all of 100, then of 200.
  assert.ok(attempts[1] >= 50 && attempts[1] <= 100, `${attempts}`)
  assert.ok(attempts[2] - attempts[1] >= 100 && attempts[2] - attempts[1] <= 200, `${attempts}`)
  assert.is(settled[0].info.attempts, 3)
  assert.is((settled[0].info.error as Error).message, 'attempt 3')
})

test('timeout: the signal aborts with ERR_TASK_TIMEOUT, the attempt fails, a late resolution is ignored', async () => {
  const clock = new FakeClock()
  const metrics = new MetricsRegistry({ now: () => clock.now() })
  const signals: AbortSignal[] = []
  const late = gate()
  const manager = new WorkerManager<Msg>({
    clock,
    metrics,
    taskTimeoutMs: 50,
    maxRetries: 1,
    retryBackoff: () => 10,
    handler: (_m, { signal, attempt }) => {
      signals.push(signal)
      if (attempt === 1) return late.promise // ignores its signal, resolves later
      return new Promise<void>(() => {}) // hangs: times out too
    },
    onFailedAttempt: () => 'skip-commit-and-continue',
  })
  const { settled } = record(manager)
  manager.push(msg(0, 7))
  await clock.advance(49)
  assert.not.ok(signals[0].aborted)
  await clock.advance(1)
  assert.ok(signals[0].aborted)
  const reason = signals[0].reason as WorkerError
  assert.instance(reason, WorkerError)
  assert.is(reason.code, 'ERR_TASK_TIMEOUT')
  assert.is(reason.offset, 7n)
  assert.ok(reason.retriable)
  late.resolve() // too late: must not finish the message
  await clock.advance(5)
  assert.is(settled.length, 0, 'the late resolution finished nothing')
  await clock.advance(100)
  assert.is(signals.length, 2)
  assert.ok(signals[1].aborted)
  assert.is(settled.length, 1)
  assert.is(settled[0].outcome, 'not-committable')
  assert.is(settled[0].info.attempts, 2)
  assert.is((settled[0].info.error as WorkerError).code, 'ERR_TASK_TIMEOUT')
  assert.is((metrics.get('consumer.worker.timeouts') as { count: number }).count, 2)
})

test('timeout: a signal first read after the abort is already aborted', async () => {
  const clock = new FakeClock()
  let context: { signal: AbortSignal } | undefined
  const manager = new WorkerManager<Msg>({
    clock,
    taskTimeoutMs: 10,
    maxRetries: 0,
    handler: (_m, ctx) => {
      context = ctx
      return new Promise<void>(() => {})
    },
    onFailedAttempt: () => 'commit-and-continue',
  })
  manager.push(msg(0, 0))
  await clock.advance(10)
  assert.ok(context!.signal.aborted)
  assert.is((context!.signal.reason as WorkerError).code, 'ERR_TASK_TIMEOUT')
})

test('timeout: a late rejection after the abort is swallowed, a sync throw is a failed attempt', async () => {
  const clock = new FakeClock()
  const late = gate()
  let calls = 0
  const manager = new WorkerManager<Msg>({
    clock,
    taskTimeoutMs: 10,
    maxRetries: 1,
    retryBackoff: () => 0,
    handler: (_m, { attempt }) => {
      calls++
      if (attempt === 1) return late.promise
      throw new Error('sync')
    },
    onFailedAttempt: () => 'commit-and-continue',
  })
  const { settled } = record(manager)
  manager.push(msg(0, 0))
  await clock.advance(20)
  late.reject(new Error('late')) // no unhandled rejection, no effect
  await flush()
  assert.is(calls, 2)
  assert.is(settled.length, 1)
  assert.is((settled[0].info.error as Error).message, 'sync')
})

// ------------------------------------------------------------------------------------------------ decisions

async function runDecision(decision: Decision) {
  const offsets = new PartitionOffsets()
  const handled: bigint[] = []
  const manager = new WorkerManager<Msg>({
    offsets,
    concurrency: 2,
    maxRetries: 0,
    handler: async (m) => {
      handled.push(m.offset)
      await flush(1)
      if (m.partition === 0 && m.offset === 2n) throw new Error('poison')
    },
    onFailedAttempt: (m, error, info) => {
      assert.is(m.offset, 2n)
      assert.is((error as Error).message, 'poison')
      assert.is(info.attempts, 1)
      assert.equal(info.messages, [m])
      return decision
    },
  })
  const events = record(manager)
  for (let o = 0; o < 5; o++) manager.push(msg(0, o))
  await flush(20)
  return { manager, offsets, handled, ...events, tracker: offsets.get('t', 0)! }
}

test("decision 'commit-and-continue': the failed message is committed past and processing goes on", async () => {
  const { manager, handled, tracker, stops, settled } = await runDecision('commit-and-continue')
  assert.equal(handled, [0n, 1n, 2n, 3n, 4n])
  assert.is(tracker.committable(), 5n)
  assert.is(stops.length, 0)
  assert.is(manager.stopped, null)
  assert.equal(
    settled.map((s) => s.outcome),
    ['finished', 'finished', 'finished', 'finished', 'finished'],
  )
  assert.is(settled[2].info.decision, 'commit-and-continue')
})

test("decision 'skip-commit-and-continue': processing goes on, the watermark holds at the failed message", async () => {
  const { manager, handled, tracker, stops, settled } = await runDecision('skip-commit-and-continue')
  assert.equal(handled, [0n, 1n, 2n, 3n, 4n])
  assert.is(settled[2].outcome, 'not-committable')
  assert.is(tracker.pendingCount, 0, 'nothing in flight')
  assert.is(tracker.heldCount, 1)
  assert.is(tracker.committable(), 2n, 'commits stop at the held message: it is redelivered after a restart')
  // More messages keep flowing, the hold keeps holding.
  for (let o = 5; o < 10; o++) manager.push(msg(0, o))
  await flush(10)
  assert.is(tracker.committable(), 2n)
  assert.is(stops.length, 0)
  assert.ok(tracker.release(2n))
  assert.is(tracker.committable(), 10n)
})

test("decision 'commit-and-stop': commits past the message, stops, drops what was queued", async () => {
  const { manager, handled, tracker, stops, settled } = await runDecision('commit-and-stop')
  assert.equal(handled, [0n, 1n, 2n])
  assert.is(tracker.committable(), 3n, '3 and 4 were never processed')
  assert.is(stops.length, 1)
  assert.is(stops[0].decision, 'commit-and-stop')
  assert.is(stops[0].source, 'failed-attempt')
  assert.is(stops[0].message.offset, 2n)
  assert.is(manager.stopped, stops[0])
  assert.is(settled.length, 3)
  assert.is(manager.pendingCount, 0)
  assert.not.ok(manager.push(msg(0, 5)), 'push after stop is refused')
  await flush(5)
  assert.equal(handled, [0n, 1n, 2n])
})

test("decision 'skip-commit-and-stop': stops without committing past the message", async () => {
  const { handled, tracker, stops, settled } = await runDecision('skip-commit-and-stop')
  assert.equal(handled, [0n, 1n, 2n])
  assert.is(settled[2].outcome, 'not-committable')
  assert.is(tracker.committable(), 2n)
  assert.is(stops.length, 1)
  assert.is(stops[0].decision, 'skip-commit-and-stop')
})

test('default policy is skip-commit-and-stop; a policy that throws or answers nonsense gives ERR_DECISION', async () => {
  for (const onFailedAttempt of [
    undefined,
    () => {
      throw new Error('bad policy')
    },
    () => 'maybe' as Decision,
  ]) {
    const manager = new WorkerManager<Msg>({
      maxRetries: 0,
      handler: async () => {
        throw new Error('boom')
      },
      onFailedAttempt,
    })
    const { settled, stops } = record(manager)
    manager.push(msg(0, 0))
    manager.push(msg(0, 1))
    await flush(5)
    assert.is(settled.length, 1)
    assert.is(settled[0].outcome, 'not-committable')
    assert.is(stops.length, 1)
    assert.is(stops[0].decision, 'skip-commit-and-stop')
    if (onFailedAttempt === undefined) assert.is(stops[0].policyError, undefined)
    else assert.is(stops[0].policyError?.code, 'ERR_DECISION')
  }
})

test('stop: tasks of other partitions in flight run to their end and are reported', async () => {
  const slow = gate()
  const offsets = new PartitionOffsets()
  const manager = new WorkerManager<Msg>({
    offsets,
    concurrency: 2,
    maxRetries: 0,
    handler: async (m) => {
      if (m.partition === 1) await slow.promise
      else throw new Error('fail')
    },
    onFailedAttempt: () => 'skip-commit-and-stop',
  })
  const { settled, stops } = record(manager)
  manager.push(msg(1, 0))
  manager.push(msg(0, 0))
  manager.push(msg(1, 1))
  await flush(3)
  assert.is(stops.length, 1)
  assert.is(manager.queuedCount, 0, 'p1 offset 1 dropped')
  slow.resolve()
  await flush(3)
  assert.equal(
    settled.map((s) => `${s.partition}:${s.offset}:${s.outcome}`),
    ['0:0:not-committable', '1:0:finished'],
  )
  assert.is(offsets.get('t', 1)!.committable(), 1n)
  await manager.close()
})

// ------------------------------------------------------------------------------------------------ threshold

test('failure threshold: onFailure once per window when more than the threshold fail within it', async () => {
  const clock = new FakeClock()
  const calls: Array<{ at: number; failures: number; offset: bigint }> = []
  const manager = new WorkerManager<Msg>({
    clock,
    ordering: 'none',
    concurrency: 10,
    maxRetries: 0,
    failureThreshold: 2,
    failureWindowMs: 1000,
    handler: async () => {
      throw new Error('down')
    },
    onFailedAttempt: () => 'skip-commit-and-continue',
    onFailure: (stats) => {
      calls.push({ at: clock.now(), failures: stats.failures, offset: stats.message.offset })
      assert.is(stats.threshold, 2)
      assert.is(stats.windowMs, 1000)
      return 'commit-and-continue'
    },
  })
  const { settled, stops } = record(manager)
  for (let o = 0; o < 10; o++) manager.push(msg(0, o))
  await clock.advance(0)
  assert.equal(calls, [{ at: 0, failures: 3, offset: 2n }], 'the third failure crosses a threshold of 2, once')
  assert.is(settled.length, 10)
  // The tripping message: its own skip-commit wins over the threshold's commit (committed only if both say so).
  assert.ok(settled.every((s) => s.outcome === 'not-committable'))
  await clock.advance(1000)
  for (let o = 10; o < 13; o++) manager.push(msg(0, o))
  await clock.advance(0)
  assert.is(calls.length, 2, 'a new window, three new failures')
  assert.is(calls[1].at, 1000)
  // Failures spread wider than the window never cross it.
  for (let o = 13; o < 25; o++) {
    await clock.advance(600)
    manager.push(msg(0, o))
  }
  await clock.advance(0)
  assert.is(calls.length, 2)
  assert.is(stops.length, 0)
})

test("failure threshold: onFailure 'skip-commit-and-stop' stops with source failure-threshold", async () => {
  const clock = new FakeClock()
  const manager = new WorkerManager<Msg>({
    clock,
    maxRetries: 0,
    failureThreshold: 1,
    handler: async () => {
      throw new Error('down')
    },
    onFailedAttempt: () => 'commit-and-continue',
    onFailure: () => 'skip-commit-and-stop',
  })
  const { settled, stops } = record(manager)
  for (let o = 0; o < 5; o++) manager.push(msg(0, o))
  await clock.advance(0)
  assert.equal(
    settled.map((s) => s.outcome),
    ['finished', 'not-committable'],
  )
  assert.is(stops.length, 1)
  assert.is(stops[0].source, 'failure-threshold')
  assert.is(stops[0].stats?.failures, 2)
  assert.is(stops[0].message.offset, 1n)
})

// ------------------------------------------------------------------------------------------------ dead letter

test('dead letter: gets the message, the error and the attempts; it counts as finished and processing goes on', async () => {
  const offsets = new PartitionOffsets()
  const metrics = new MetricsRegistry()
  const dead: Array<{ offset: bigint; error: string; attempts: number }> = []
  let failedAttemptCalls = 0
  const manager = new WorkerManager<Msg>({
    offsets,
    metrics,
    maxRetries: 1,
    retryBackoff: () => 0,
    handler: async (m) => {
      if (m.offset === 1n) throw new Error('bad record')
    },
    deadLetter: async (m, error, attempts) => {
      await flush(1)
      dead.push({ offset: m.offset, error: (error as Error).message, attempts })
    },
    onFailedAttempt: () => {
      failedAttemptCalls++
      return 'skip-commit-and-stop'
    },
  })
  const { settled, stops } = record(manager)
  for (let o = 0; o < 4; o++) manager.push(msg(0, o))
  await flush(15)
  assert.equal(dead, [{ offset: 1n, error: 'bad record', attempts: 2 }])
  assert.is(failedAttemptCalls, 0)
  assert.is(settled.length, 4)
  assert.ok(settled[1].info.deadLettered)
  assert.is(settled[1].outcome, 'finished')
  assert.is(offsets.get('t', 0)!.committable(), 4n)
  assert.is(stops.length, 0)
  assert.is((metrics.get('consumer.worker.dead.lettered') as { count: number }).count, 1)
})

test('dead letter failing: the failed-attempt policy decides, with the dead letter error', async () => {
  let info: { deadLetterError?: unknown } | undefined
  const manager = new WorkerManager<Msg>({
    maxRetries: 0,
    handler: async () => {
      throw new Error('bad record')
    },
    deadLetter: async () => {
      throw new Error('dlq down')
    },
    onFailedAttempt: (_m, error, i) => {
      assert.is((error as Error).message, 'bad record')
      info = i
      return 'skip-commit-and-continue'
    },
  })
  const { settled } = record(manager)
  manager.push(msg(0, 0))
  await flush(5)
  assert.is((info!.deadLetterError as Error).message, 'dlq down')
  assert.is(settled[0].outcome, 'not-committable')
  assert.not.ok(settled[0].info.deadLettered)
})

// ------------------------------------------------------------------------------------------------ backpressure

test("push returns false at maxPending; 'drain' once half of it is left", async () => {
  const gates: Array<() => void> = []
  const manager = new WorkerManager<Msg>({
    maxPending: 4,
    concurrency: 4,
    ordering: 'none',
    handler: () => new Promise<void>((r) => gates.push(r)),
  })
  let drains = 0
  manager.on('drain', () => drains++)
  assert.ok(manager.push(msg(0, 0)))
  assert.ok(manager.push(msg(0, 1)))
  assert.ok(manager.push(msg(0, 2)))
  assert.not.ok(manager.push(msg(0, 3)))
  assert.not.ok(manager.push(msg(0, 4)), 'still accepted, still false')
  assert.is(manager.pendingCount, 5)
  await flush(1)
  gates.shift()!()
  gates.shift()!()
  await flush()
  assert.is(drains, 0, '3 pending')
  gates.shift()!()
  await flush()
  assert.is(drains, 1, '2 pending: drain')
  while (gates.length > 0) gates.shift()!()
  await flush()
  assert.is(drains, 1)
  assert.is(manager.pendingCount, 0)
})

// ------------------------------------------------------------------------------------------------ pause, revoke, close

test('pause stops new work of a partition, resume restarts it', async () => {
  const handled: string[] = []
  const manager = new WorkerManager<Msg>({
    concurrency: 4,
    handler: async (m) => {
      handled.push(`${m.partition}:${m.offset}`)
    },
  })
  manager.pause({ topic: 't', partition: 0 })
  assert.ok(manager.isPaused({ topic: 't', partition: 0 }))
  manager.push(msg(0, 0))
  manager.push(msg(1, 0))
  await flush()
  assert.equal(handled, ['1:0'])
  manager.resume({ topic: 't', partition: 0 })
  await flush()
  assert.equal(handled, ['1:0', '0:0'])
})

test("revoke 'finish' waits for the task in flight, drops the queued ones; other partitions go on", async () => {
  const offsets = new PartitionOffsets()
  const slow = gate()
  const handled: string[] = []
  const manager = new WorkerManager<Msg>({
    offsets,
    concurrency: 2,
    handler: async (m) => {
      handled.push(`${m.partition}:${m.offset}`)
      if (m.partition === 0 && m.offset === 0n) await slow.promise
    },
  })
  for (let o = 0; o < 3; o++) manager.push(msg(0, o))
  manager.push(msg(1, 0))
  await flush(1)
  let revoked = false
  const revoke = manager.revoke({ topic: 't', partition: 0 }, 'finish').then(() => {
    revoked = true
  })
  assert.is(manager.partitionPending({ topic: 't', partition: 0 }), 1, 'queued 1 and 2 dropped')
  manager.push(msg(0, 3)) // dropped: the partition is being revoked (never handled, never started in the tracker)
  await flush()
  assert.not.ok(revoked, 'waits for offset 0')
  slow.resolve()
  await revoke
  assert.equal(handled, ['0:0', '1:0'])
  assert.is(offsets.get('t', 0)!.committable(), 1n, 'the dropped messages stay unfinished')
  assert.is(manager.partitionPending({ topic: 't', partition: 0 }), 0)
  // The partition comes back: a fresh start.
  offsets.get('t', 0)!.reset()
  manager.push(msg(0, 1))
  await flush()
  assert.equal(handled, ['0:0', '1:0', '0:1'])
})

test("revoke 'abandon' aborts the task in flight at once: no retry, no report", async () => {
  const signals: AbortSignal[] = []
  const manager = new WorkerManager<Msg>({
    maxRetries: 5,
    handler: (_m, { signal }) => {
      signals.push(signal)
      return new Promise<void>(() => {}) // ignores the signal: abandon must not wait for it
    },
  })
  const { settled } = record(manager)
  manager.push(msg(0, 0))
  manager.push(msg(0, 1))
  await flush()
  await manager.revoke({ topic: 't', partition: 0 }, 'abandon')
  assert.is(signals.length, 1)
  assert.ok(signals[0].aborted)
  assert.is((signals[0].reason as WorkerError).code, 'ERR_TASK_ABANDONED')
  await flush()
  assert.is(signals.length, 1, 'no retry')
  assert.is(settled.length, 0)
  assert.is(manager.pendingCount, 0)
  assert.is(manager.activeCount, 0, 'the slot is free')
})

test("revoke 'abandon' escalates a pending 'finish'; a backoff wait is cut short", async () => {
  const clock = new FakeClock()
  let attempts = 0
  const manager = new WorkerManager<Msg>({
    clock,
    maxRetries: 5,
    retryBackoff: () => 10_000,
    handler: async () => {
      attempts++
      throw new Error('fail')
    },
  })
  manager.push(msg(0, 0))
  await clock.advance(0)
  assert.is(attempts, 1, 'in backoff')
  let finished = false
  const finish = manager.revoke({ topic: 't', partition: 0 }, 'finish').then(() => {
    finished = true
  })
  await clock.advance(100)
  assert.not.ok(finished)
  const abandon = manager.revoke({ topic: 't', partition: 0 }, 'abandon')
  await Promise.all([finish, abandon])
  await clock.advance(20_000)
  assert.is(attempts, 1)
})

test("revoke 'drain' runs everything queued (resuming a paused partition)", async () => {
  const handled: bigint[] = []
  const manager = new WorkerManager<Msg>({ handler: async (m) => void handled.push(m.offset) })
  manager.pause({ topic: 't', partition: 0 })
  for (let o = 0; o < 4; o++) manager.push(msg(0, o))
  await manager.revoke({ topic: 't', partition: 0 }, 'drain')
  assert.equal(handled, [0n, 1n, 2n, 3n])
})

test('close: push throws afterwards; close resolves once the work in flight is over', async () => {
  const slow = gate()
  const manager = new WorkerManager<Msg>({ concurrency: 2, handler: () => slow.promise })
  manager.push(msg(0, 0))
  manager.push(msg(1, 0))
  manager.push(msg(1, 1))
  let closed = false
  const close = manager.close().then(() => {
    closed = true
  })
  assert.ok(manager.closed)
  assert.throws(
    () => manager.push(msg(2, 0)),
    (err: unknown) => err instanceof WorkerError && err.code === 'ERR_WORKER_CLOSED',
  )
  await flush()
  assert.not.ok(closed)
  slow.resolve()
  await close
  assert.is(manager.pendingCount, 0)
})

// ------------------------------------------------------------------------------------------------ batches

test('batch handler: batches per partition up to batchSize, in offset order, never overlapping in a partition', async () => {
  const batches: string[] = []
  const active = new Set<number>()
  let failedOnce = false
  const manager = new WorkerManager<Msg>({
    concurrency: 4,
    batchSize: 3,
    retryBackoff: () => 0,
    batchHandler: async (messages, { attempt }) => {
      const p = messages[0].partition
      assert.ok(
        messages.every((m) => m.partition === p),
        'one partition per batch',
      )
      assert.not.ok(active.has(p), 'batches of a partition do not overlap')
      active.add(p)
      await flush(1)
      active.delete(p)
      if (p === 1 && messages[0].offset === 3n && !failedOnce) {
        failedOnce = true
        throw new Error('retry the batch')
      }
      batches.push(`${p}:${messages.map((m) => m.offset).join(',')}${attempt > 1 ? ` (attempt ${attempt})` : ''}`)
    },
  })
  const { settled } = record(manager)
  for (let o = 0; o < 7; o++) for (let p = 0; p < 2; p++) manager.push(msg(p, o))
  while (settled.length < 14) await flush()
  assert.equal(
    batches.filter((b) => b.startsWith('0:')),
    ['0:0,1,2', '0:3,4,5', '0:6'],
  )
  assert.equal(
    batches.filter((b) => b.startsWith('1:')),
    ['1:0,1,2', '1:3,4,5 (attempt 2)', '1:6'],
  )
  assert.ok(settled.every((s) => s.outcome === 'finished'))
})

test("batch handler with ordering 'key': a batch merges keys in offset order; a busy key waits", async () => {
  const batches: string[] = []
  const first = gate()
  const manager = new WorkerManager<Msg>({
    concurrency: 2,
    batchSize: 10,
    ordering: 'key',
    batchHandler: async (messages) => {
      batches.push(messages.map((m) => `${m.key}${m.offset}`).join(' '))
      if (batches.length === 1) await first.promise
    },
  })
  const { settled } = record(manager)
  manager.push(msg(0, 0, 'a'))
  await flush()
  // a0 is running alone; the rest arrive in one run: key a is busy, so a2 waits.
  manager.push(msg(0, 1, 'b'))
  manager.push(msg(0, 2, 'a'))
  manager.push(msg(0, 3, 'c'))
  manager.push(msg(0, 4, 'b'))
  await flush()
  assert.equal(batches, ['a0', 'b1 c3 b4'])
  first.resolve()
  while (settled.length < 5) await flush()
  assert.equal(batches, ['a0', 'b1 c3 b4', 'a2'])
})

test('batch failing every attempt: the decision applies to the whole batch, dead letter message by message', async () => {
  const offsets = new PartitionOffsets()
  const dead: bigint[] = []
  const manager = new WorkerManager<Msg>({
    offsets,
    batchSize: 5,
    maxRetries: 0,
    batchHandler: async () => {
      throw new Error('batch down')
    },
    deadLetter: async (m) => void dead.push(m.offset),
  })
  const { settled } = record(manager)
  for (let o = 0; o < 3; o++) manager.push(msg(0, o))
  await flush(5)
  assert.equal(dead, [0n, 1n, 2n])
  assert.is(settled.length, 3)
  assert.is(offsets.get('t', 0)!.committable(), 3n)
})

// ------------------------------------------------------------------------------------------------ iterator

test('messages(): next() finishes the previous message; break leaves the last one unfinished', async () => {
  const offsets = new PartitionOffsets()
  const manager = new WorkerManager<Msg>({ offsets })
  const { settled } = record(manager)
  for (let o = 0; o < 5; o++) manager.push(msg(0, o))
  const seen: bigint[] = []
  for await (const m of manager.messages()) {
    seen.push(m.offset)
    assert.is(settled.length, seen.length - 1, 'the previous one is finished when the next comes')
    if (m.offset === 2n) break
  }
  assert.equal(seen, [0n, 1n, 2n])
  assert.equal(
    settled.map((s) => s.offset),
    [0n, 1n],
  )
  assert.is(offsets.get('t', 0)!.committable(), 2n, 'offset 2 left unfinished: delivered again after a restart')
  assert.throws(
    () => manager.messages(),
    (err: unknown) => err instanceof ConfigError,
  )
})

test('messages(): waits for pushes, respects partition order, ends after close', async () => {
  const manager = new WorkerManager<Msg>({})
  const { settled } = record(manager)
  const seen: string[] = []
  const loop = (async () => {
    for await (const m of manager.messages()) {
      seen.push(`${m.partition}:${m.offset}`)
      await flush(1)
    }
  })()
  await flush()
  manager.push(msg(0, 0))
  manager.push(msg(1, 0))
  manager.push(msg(0, 1))
  await flush(10)
  assert.equal(seen, ['0:0', '1:0', '0:1'])
  const close = manager.close()
  await loop
  await close
  assert.is(settled.length, 3, 'the last message is finished by the next() that ends the loop')
})

test("messages(): revoke 'abandon' of the message out resolves at once; the message is never reported", async () => {
  const manager = new WorkerManager<Msg>({})
  const { settled } = record(manager)
  manager.push(msg(0, 0))
  manager.push(msg(1, 0))
  const it = manager.messages()
  const first = await it.next()
  assert.is(first.value?.partition, 0)
  await manager.revoke({ topic: 't', partition: 0 }, 'abandon')
  const second = await it.next()
  assert.is(second.value?.partition, 1)
  assert.is(settled.length, 0, 'the abandoned message is not finished by next()')
  await it.return!()
  assert.is(manager.activeCount, 0)
  assert.is(manager.pendingCount, 0)
})

test('messages(): not available with a handler', () => {
  const manager = new WorkerManager<Msg>({ handler: async () => {} })
  assert.throws(
    () => manager.messages(),
    (err: unknown) => err instanceof ConfigError,
  )
})

// ------------------------------------------------------------------------------------------------ metrics, config

test('metrics: active, pending, messages, failures, task and batch time', async () => {
  const metrics = new MetricsRegistry()
  const slow = gate()
  const manager = new WorkerManager<Msg>({
    metrics,
    maxRetries: 0,
    handler: async (m) => {
      await slow.promise
      if (m.offset === 1n) throw new Error('x')
    },
    onFailedAttempt: () => 'commit-and-continue',
  })
  manager.push(msg(0, 0))
  manager.push(msg(0, 1))
  await flush(1)
  const snap = metrics.snapshot()
  assert.equal(snap['consumer.worker.active'], {
    type: 'gauge',
    name: 'consumer.worker.active',
    labels: {},
    value: 1,
  })
  assert.is((snap['consumer.worker.pending'] as { value: number }).value, 1)
  slow.resolve()
  await flush(5)
  const after = metrics.snapshot()
  assert.is((after['consumer.worker.messages'] as { count: number }).count, 2)
  assert.is((after['consumer.worker.failures'] as { count: number }).count, 1)
  assert.is((after['consumer.worker.task.time'] as { count: number }).count, 2)
  for (const name of [
    'consumer.worker.retries',
    'consumer.worker.timeouts',
    'consumer.worker.dead.lettered',
    'consumer.worker.batch.time',
    'consumer.worker.batch.size',
  ]) {
    assert.ok(after[name] !== undefined, name)
  }
})

test('config errors are ConfigError', () => {
  const bad: Array<WorkerManagerOptions<Msg>> = [
    { handler: async () => {}, batchHandler: async () => {} },
    { handler: async () => {}, concurrency: 0 },
    { handler: async () => {}, concurrency: 1.5 },
    { handler: async () => {}, maxRetries: -1 },
    { handler: async () => {}, ordering: 'random' as 'none' },
    { handler: async () => {}, maxPending: 0 },
    { batchHandler: async () => {}, batchSize: 0 },
    { handler: async () => {}, failureWindowMs: 0 },
  ]
  for (const options of bad) {
    assert.throws(
      () => new WorkerManager<Msg>(options),
      (err: unknown) => err instanceof ConfigError,
      JSON.stringify(Object.keys(options)),
    )
  }
  // Disabled threshold and timeout are fine.
  new WorkerManager<Msg>({ handler: async () => {}, failureThreshold: Number.POSITIVE_INFINITY, taskTimeoutMs: 0 })
  new WorkerManager<Msg>({ handler: async () => {}, failureThreshold: 2 ** 40 }) // no memory sized by the threshold
})

test('offsets option: start on push rejects an offset out of order before queueing it', async () => {
  const offsets = new PartitionOffsets()
  const manager = new WorkerManager<Msg>({ offsets, handler: () => new Promise<void>(() => {}) })
  manager.push(msg(0, 5))
  assert.throws(() => manager.push(msg(0, 4)), /below the next expected offset/)
  assert.is(manager.pendingCount, 1)
  await flush(1)
  await manager.close({ mode: 'abandon' }) // the handler never settles: no 60 s timer left behind
  assert.is(offsets.get('t', 0)!.committable(), 5n)
})

test('metrics: a handler returning at once is timed one attempt in 16, its count still covers every attempt', async () => {
  const metrics = new MetricsRegistry()
  let calls = 0
  const manager = new WorkerManager<Msg>({ metrics, handler: () => void calls++ })
  for (let i = 0; i < 64; i++) manager.push(msg(0, i))
  await flush(2)
  assert.is(calls, 64)
  const timer = metrics.snapshot()['consumer.worker.task.time'] as { count: number }
  assert.is(timer.count, 64)
  // A handler turning async is timed every attempt from then on; the count stays exact.
  const later = new MetricsRegistry()
  let n = 0
  const mixed = new WorkerManager<Msg>({
    metrics: later,
    handler: () => (++n > 20 ? new Promise<void>((r) => setTimeout(r, 1)) : undefined),
  })
  for (let i = 0; i < 30; i++) mixed.push(msg(0, i))
  while (n < 30 || mixed.pendingCount > 0) await sleep(2)
  const t = later.snapshot()['consumer.worker.task.time'] as { count: number; min: number }
  assert.is(t.count, 30)
  assert.ok(t.min >= 0)
})

test('synchronous handler: inside it, partitionPending counts the message; an abandon from inside is not reported', async () => {
  const offsets = new PartitionOffsets()
  let inside = -1
  let manager!: WorkerManager<Msg>
  manager = new WorkerManager<Msg>({
    offsets,
    handler: (m, ctx) => {
      if (m.offset === 0n) inside = manager.partitionPending({ topic: 't', partition: 0 })
      if (m.offset === 1n) {
        void manager.revoke({ topic: 't', partition: 0 }, 'abandon')
        assert.ok(ctx.signal.aborted)
        assert.is((ctx.signal.reason as WorkerError).code, 'ERR_TASK_ABANDONED')
      }
    },
  })
  const { settled } = record(manager)
  manager.push(msg(0, 0))
  manager.push(msg(0, 1))
  manager.push(msg(0, 2))
  await flush(2)
  assert.is(inside, 3)
  assert.equal(
    settled.map((s) => s.offset),
    [0n],
  )
  assert.is(manager.partitionPending({ topic: 't', partition: 0 }), 0)
  assert.is(offsets.get('t', 0)!.committable(), 1n)
  // The partition starts afresh after the revoke: a new push runs.
  offsets.delete('t', 0)
  manager.push(msg(0, 10))
  await flush(2)
  assert.equal(
    settled.map((s) => s.offset),
    [0n, 10n],
  )
  assert.is(offsets.get('t', 0)!.committable(), 11n)
})

test('offsets option: a tracker deleted and made again is the one the manager updates', async () => {
  const offsets = new PartitionOffsets()
  const manager = new WorkerManager<Msg>({ offsets, handler: () => {} })
  manager.push(msg(0, 0))
  await flush(2)
  const first = offsets.get('t', 0)!
  assert.is(first.committable(), 1n)
  offsets.delete('t', 0)
  const second = offsets.tracker('t', 0)
  manager.push(msg(0, 5))
  await flush(2)
  assert.is(second.committable(), 6n)
  assert.is(first.committable(), 1n)
})

test('synchronous handler: a lane runs at most 64 messages in a row; a pause from inside the handler stops the run', async () => {
  const order: Array<[number, number]> = []
  let manager!: WorkerManager<Msg>
  manager = new WorkerManager<Msg>({
    maxPending: 10_000,
    handler: (m) => {
      order.push([m.partition, Number(m.offset)])
      if (m.partition === 1 && m.offset === 10n) manager.pause({ topic: 't', partition: 1 })
    },
  })
  for (let i = 0; i < 200; i++) manager.push(msg(0, i))
  for (let i = 0; i < 20; i++) manager.push(msg(1, i))
  await flush(2)
  // Partition 0 gives way after 64 messages; partition 1 stops right after the pausing message.
  assert.equal(
    order.slice(0, 64),
    Array.from({ length: 64 }, (_, i) => [0, i]),
  )
  assert.equal(order[64], [1, 0])
  const p1 = order.filter(([p]) => p === 1).map(([, o]) => o)
  assert.equal(
    p1,
    Array.from({ length: 11 }, (_, i) => i),
  )
  assert.is(order.filter(([p]) => p === 0).length, 200)
  assert.is(manager.partitionPending({ topic: 't', partition: 1 }), 9)
  manager.resume({ topic: 't', partition: 1 })
  await flush(2)
  assert.is(order.filter(([p]) => p === 1).length, 20)
})

test('timeout: attempts in flight together each time out at their own deadline (one shared timer)', async () => {
  const clock = new FakeClock()
  const metrics = new MetricsRegistry({ now: () => clock.now() })
  const finishFast = gate()
  const manager = new WorkerManager<Msg>({
    clock,
    metrics,
    concurrency: 3,
    taskTimeoutMs: 100,
    maxRetries: 0,
    handler: (m) => (m.partition === 2 ? finishFast.promise : new Promise<void>(() => {})),
    onFailedAttempt: () => 'commit-and-continue',
  })
  const { settled } = record(manager)
  manager.push(msg(0, 0))
  await clock.advance(30)
  manager.push(msg(1, 0))
  manager.push(msg(2, 0))
  await clock.advance(10)
  finishFast.resolve()
  await clock.advance(59) // t = 99
  assert.equal(
    settled.map((x) => x.partition),
    [2],
  )
  await clock.advance(1) // t = 100: the first one's deadline
  assert.equal(
    settled.map((x) => x.partition),
    [2, 0],
  )
  await clock.advance(29) // t = 129
  assert.is(settled.length, 2)
  await clock.advance(1) // t = 130
  assert.equal(
    settled.map((x) => x.partition),
    [2, 0, 1],
  )
  assert.is((metrics.get('consumer.worker.timeouts') as { count: number }).count, 2)
  assert.is(clock.timers.size, 0, 'no timer left once nothing is in flight')
  await manager.close()
})

test.run()
