import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { OffsetTracker, PartitionOffsets } from '../../src/client/offset-tracker.js'
import { KafkaWireError } from '../../src/protocol/errors.js'

/** Deterministic PRNG (mulberry32) so a failing round can be replayed. */
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

/** The naive model: sets and a linear scan. */
class Model {
  inFlight = new Set<bigint>()
  held = new Set<bigint>()
  next: bigint | null = null
  committed: bigint | null = null

  start(o: bigint) {
    this.inFlight.add(o)
    this.next = o + 1n
  }
  finish(o: bigint) {
    return this.inFlight.delete(o)
  }
  hold(o: bigint) {
    if (!this.inFlight.delete(o)) return false
    this.held.add(o)
    return true
  }
  release(o: bigint) {
    return this.held.delete(o)
  }
  skipTo(o: bigint) {
    if (this.next === null || o > this.next) this.next = o
  }
  watermark(): bigint | null {
    let w = this.next
    for (const o of [...this.inFlight, ...this.held]) if (w === null || o < w) w = o
    return w
  }
  committable(): bigint | null {
    const w = this.watermark()
    return w === null || (this.committed !== null && w <= this.committed) ? null : w
  }
}

test('in order: the watermark follows finished messages in the next-offset convention', () => {
  const t = new OffsetTracker()
  assert.is(t.watermark(), null)
  assert.is(t.committable(), null)
  t.start(0n)
  assert.is(t.committable(), 0n, 'offset 0 in flight: commit 0 (nothing done yet)')
  t.finish(0n)
  assert.is(t.committable(), 1n)
  t.markCommitted(1n)
  assert.is(t.committable(), null, 'nothing beyond what was committed')
  for (let o = 1n; o < 100n; o++) {
    t.start(o)
    assert.ok(t.finish(o))
  }
  assert.is(t.committable(), 100n)
  assert.is(t.pendingCount, 0)
})

test('out of order: never passes an unfinished offset; finishing the lowest releases the run behind it', () => {
  const t = new OffsetTracker()
  for (let o = 10n; o < 20n; o++) t.start(o)
  for (const o of [19n, 15n, 11n, 12n, 13n]) t.finish(o)
  assert.is(t.committable(), 10n)
  assert.is(t.pendingCount, 5)
  t.finish(10n)
  assert.is(t.committable(), 14n, '10..13 done, 14 not')
  t.finish(14n)
  assert.is(t.committable(), 16n)
  for (const o of [16n, 17n, 18n]) t.finish(o)
  assert.is(t.committable(), 20n)
  assert.not.ok(t.finish(18n), 'a second finish is refused')
  assert.not.ok(t.finish(5n), 'an offset never started is refused')
})

test('gaps between started offsets (compaction, control records) do not block', () => {
  const t = new OffsetTracker()
  t.start(5n)
  t.start(9n)
  t.start(100n)
  t.finish(9n)
  assert.is(t.committable(), 5n)
  t.finish(5n)
  assert.is(t.committable(), 100n, '6..8 and 10..99 do not exist')
  t.finish(100n)
  assert.is(t.committable(), 101n)
})

test('skipTo: the position advances past records never delivered, but never past a pending one', () => {
  const t = new OffsetTracker()
  t.skipTo(50n)
  assert.is(t.committable(), 50n, 'nothing started: the fetch position')
  t.start(50n)
  t.start(51n)
  t.skipTo(60n) // 52..59 were transaction markers
  assert.is(t.committable(), 50n, 'pending 50 blocks')
  t.finish(51n)
  assert.is(t.committable(), 50n)
  t.finish(50n)
  assert.is(t.committable(), 60n)
  t.skipTo(55n)
  assert.is(t.watermark(), 60n, 'a lower skip is ignored')
  try {
    t.start(58n)
    assert.unreachable('start below the skip position')
  } catch (err) {
    assert.instance(err, KafkaWireError)
    assert.is((err as KafkaWireError).code, 'ERR_OFFSET_ORDER')
  }
  t.start(60n)
  assert.is(t.committable(), 60n)
})

test('start below an offset already started is rejected', () => {
  const t = new OffsetTracker({ topic: 't', partition: 3 })
  t.start(10n)
  assert.throws(
    () => t.start(10n),
    (err: unknown) => err instanceof KafkaWireError && err.code === 'ERR_OFFSET_ORDER' && err.partition === 3,
  )
})

test('hold: the watermark stays at a held offset while later ones finish; release lets it go', () => {
  const t = new OffsetTracker()
  for (let o = 0n; o < 5n; o++) t.start(o)
  t.finish(0n)
  assert.ok(t.hold(1n))
  assert.not.ok(t.hold(1n), 'already held')
  t.finish(2n)
  t.finish(3n)
  t.finish(4n)
  assert.is(t.pendingCount, 0, 'a held offset is not in flight')
  assert.is(t.heldCount, 1)
  assert.is(t.committable(), 1n, 'committing 1 redelivers the held message after a restart')
  // The ring empties even though the hold stays: later messages do not accumulate.
  for (let o = 5n; o < 10_000n; o++) {
    t.start(o)
    t.finish(o)
  }
  assert.is(t.committable(), 1n)
  assert.ok(t.release(1n))
  assert.not.ok(t.release(1n))
  assert.is(t.committable(), 10_000n)
})

test('markCommitted: committable is null until the watermark moves beyond; lower commits are ignored', () => {
  const t = new OffsetTracker({ committed: 40n })
  t.start(40n)
  assert.is(t.committable(), null, 'committed 40 and 40 in flight')
  t.finish(40n)
  assert.is(t.committable(), 41n)
  t.markCommitted(41n)
  t.markCommitted(30n)
  assert.is(t.committed, 41n)
  assert.is(t.committable(), null)
})

test('reset forgets in-flight and held offsets; late finishes are refused', () => {
  const t = new OffsetTracker()
  for (let o = 0n; o < 3000n; o++) t.start(o)
  t.hold(0n)
  t.reset(7n)
  assert.is(t.pendingCount, 0)
  assert.is(t.heldCount, 0)
  assert.is(t.committed, 7n)
  assert.is(t.watermark(), null)
  assert.not.ok(t.finish(5n))
  t.start(7n) // a seek back is allowed after a reset
  t.finish(7n)
  assert.is(t.committable(), 8n)
})

test('huge offsets near 2^62 and up to the int64 maximum', () => {
  const t = new OffsetTracker()
  const base = 2n ** 62n - 5n
  for (let i = 0n; i < 10n; i++) t.start(base + i)
  t.finish(base + 3n)
  t.finish(base)
  assert.is(t.committable(), base + 1n)
  for (let i = 1n; i < 10n; i++) t.finish(base + i)
  assert.is(t.committable(), base + 10n)
  const max = 2n ** 63n - 2n
  t.skipTo(max)
  t.start(max)
  t.finish(max)
  assert.is(t.committable(), 2n ** 63n - 1n)
})

test('randomized: 10 concurrent, out-of-order completion, matches the naive model (fixed seed)', () => {
  const random = rng(0x5eed)
  for (let round = 0; round < 200; round++) {
    const t = new OffsetTracker()
    const m = new Model()
    let next = BigInt(Math.floor(random() * 1000)) + (round % 7 === 0 ? 2n ** 62n : 0n)
    const inFlight: bigint[] = []
    const held: bigint[] = []
    const steps = 300 + Math.floor(random() * 300)
    for (let step = 0; step < steps; step++) {
      const r = random()
      if (inFlight.length < 10 && r < 0.45) {
        // Gaps: compacted offsets are never started.
        next += random() < 0.2 ? BigInt(1 + Math.floor(random() * 5)) : 1n
        t.start(next)
        m.start(next)
        inFlight.push(next)
        next += 1n
      } else if (inFlight.length > 0 && r < 0.9) {
        const i = Math.floor(random() * inFlight.length)
        const o = inFlight.splice(i, 1)[0]
        if (random() < 0.05) {
          assert.is(t.hold(o), m.hold(o))
          held.push(o)
        } else assert.is(t.finish(o), m.finish(o))
      } else if (held.length > 0 && r < 0.93) {
        const o = held.splice(Math.floor(random() * held.length), 1)[0]
        assert.is(t.release(o), m.release(o))
      } else if (r < 0.95) {
        const to = next + BigInt(Math.floor(random() * 4))
        t.skipTo(to)
        m.skipTo(to)
        next = m.next!
      } else if (r < 0.98) {
        const c = t.committable()
        if (c !== null) {
          t.markCommitted(c)
          m.committed = c
        }
      } else {
        // Spurious finishes (late, duplicate) change nothing.
        const o = next - 1n - BigInt(Math.floor(random() * 20))
        if (!inFlight.includes(o)) assert.is(t.finish(o), m.finish(o))
      }
      const w = t.watermark()
      assert.is(w, m.watermark(), `round ${round} step ${step}`)
      assert.is(t.committable(), m.committable(), `round ${round} step ${step}`)
      assert.is(t.pendingCount, m.inFlight.size)
      // The invariant itself: never past an unfinished (in flight or held) offset.
      if (w !== null) for (const o of [...inFlight, ...held]) assert.ok(w <= o, `watermark ${w} passed ${o}`)
    }
  }
})

test('growth: thousands in flight, finished in reverse, then all at once', () => {
  const t = new OffsetTracker()
  for (let o = 0n; o < 5000n; o++) t.start(o)
  for (let o = 4999n; o > 0n; o--) {
    t.finish(o)
    if (o % 500n === 0n) assert.is(t.committable(), 0n)
  }
  t.finish(0n)
  assert.is(t.committable(), 5000n)
  assert.is(t.pendingCount, 0)
})

test('PartitionOffsets: per topic-partition trackers, committable list, markCommitted, delete', () => {
  const offsets = new PartitionOffsets()
  const a0 = offsets.tracker('a', 0)
  const a1 = offsets.tracker('a', 1, 10n)
  const b0 = offsets.tracker('b', 0)
  assert.is(offsets.tracker('a', 0), a0)
  assert.is(offsets.size, 3)
  a0.start(0n)
  a0.finish(0n)
  a1.start(10n)
  b0.start(3n)
  assert.is(offsets.pendingCount, 2)
  const list = offsets.committable()
  assert.equal(list, [
    { topic: 'a', partition: 0, offset: 1n },
    { topic: 'b', partition: 0, offset: 3n },
  ])
  offsets.markCommitted(list)
  assert.equal(offsets.committable(), [])
  assert.ok(offsets.delete('a', 0))
  assert.not.ok(offsets.delete('a', 0))
  assert.is(offsets.get('a', 0), undefined)
  assert.is(offsets.size, 2)
  assert.equal(
    [...offsets].map(([topic, partition]) => `${topic}-${partition}`),
    ['a-1', 'b-0'],
  )
})

test.run()
