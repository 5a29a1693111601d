import { GCProfiler } from 'node:v8'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type Counter,
  Ewma,
  ExpDecayReservoir,
  Histogram,
  Meter,
  MetricsClock,
  MetricsRegistry,
  metricKey,
  quantile,
  TICK_INTERVAL_MS,
  UniformReservoir,
} from '../../src/client/metrics.js'
import { KafkaWireError } from '../../src/protocol/errors.js'

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let t = start
  return {
    now: () => t,
    advance(ms: number) {
      t += ms
    },
  }
}

/** A deterministic random() (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function close(actual: number, expected: number, tolerance: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} is not within ${tolerance} of ${expected}`)
}

function throwsMetricError(fn: () => unknown, match?: RegExp): void {
  try {
    fn()
  } catch (err) {
    assert.instance(err, KafkaWireError)
    assert.is((err as KafkaWireError).code, 'ERR_METRIC')
    if (match) assert.match((err as KafkaWireError).message, match)
    return
  }
  assert.unreachable('expected ERR_METRIC')
}

test('counter: inc, dec, clear; the registry returns the same counter', () => {
  const r = new MetricsRegistry()
  const c = r.counter('producer.messages.sent')
  c.inc()
  c.inc(41)
  c.dec(2)
  assert.is(c.count, 40)
  assert.is(r.counter('producer.messages.sent'), c)
  assert.is(r.counter('producer.messages.sent').count, 40)
  c.clear()
  assert.is(c.count, 0)
})

test('EWMA: the values of Dropwizard/go-metrics for 3 events in the first tick', () => {
  // One tick after 3 events: 0.6 per second; one minute (12 ticks) later it has decayed by exp(-1/N).
  const m1 = Ewma.minutes(1)
  const m5 = Ewma.minutes(5)
  const m15 = Ewma.minutes(15)
  for (const e of [m1, m5, m15]) {
    e.update(3)
    e.tick()
    close(e.rate(), 0.6, 1e-12)
  }
  for (let i = 0; i < 12; i++) for (const e of [m1, m5, m15]) e.tick()
  close(m1.rate(), 0.22072766, 1e-8, 'm1')
  close(m5.rate(), 0.49123845, 1e-8, 'm5')
  close(m15.rate(), 0.56130419, 1e-8, 'm15')
  close(m1.alpha, 1 - Math.exp(-5 / 60), 1e-15)
  // tickMany(n) equals n ticks.
  const a = Ewma.minutes(5)
  const b = Ewma.minutes(5)
  a.update(10)
  b.update(10)
  a.tickMany(37)
  for (let i = 0; i < 37; i++) b.tick()
  close(a.rate(), b.rate(), 1e-12)
})

test('meter: marking 100/s for 5 minutes gives rates of 100', () => {
  const clock = fakeClock()
  const r = new MetricsRegistry({ now: clock.now })
  const m = r.meter('producer.messages.sent', { topic: 't' })
  for (let s = 0; s < 300; s++) {
    m.mark(100)
    clock.advance(1000)
  }
  assert.is(m.count, 30000)
  close(m.rate1(), 100, 1e-9, 'm1')
  close(m.rate5(), 100, 1e-9, 'm5')
  close(m.rate15(), 100, 1e-9, 'm15')
  close(m.rateMean(), 100, 1e-9, 'mean')
})

test('meter: rates converge from a different level and decay by e per N minutes', () => {
  const clock = fakeClock()
  const m = new Meter('m', {}, new MetricsClock(clock.now))
  // 50/s for a minute, then 100/s for five minutes: the 1-minute rate forgets the start, the 15-minute not.
  for (let s = 0; s < 60; s++) {
    m.mark(50)
    clock.advance(1000)
  }
  for (let s = 0; s < 300; s++) {
    m.mark(100)
    clock.advance(1000)
  }
  close(m.rate1(), 100 - 50 * Math.exp(-5), 1e-6, 'm1')
  close(m.rate5(), 100 - 50 * Math.exp(-1), 1e-6, 'm5')
  close(m.rate15(), 100 - 50 * Math.exp(-1 / 3), 1e-6, 'm15')
  close(m.rateMean(), (50 * 60 + 100 * 300) / 360, 1e-9, 'mean')
  // Silence for one minute, read after a long idle gap (caught up lazily in one step).
  const before = [m.rate1(), m.rate5(), m.rate15()]
  clock.advance(60_000)
  close(m.rate1(), before[0] * Math.exp(-1), 1e-6, 'm1 decay')
  close(m.rate5(), before[1] * Math.exp(-1 / 5), 1e-6, 'm5 decay')
  close(m.rate15(), before[2] * Math.exp(-1 / 15), 1e-6, 'm15 decay')
  // A day later everything has decayed to (almost) nothing, without a day of ticks.
  clock.advance(86_400_000)
  assert.ok(m.rate15() < 1e-30) // e^-96 of the rate
  assert.is(m.count, 33000)
})

test('meter: ticks only on whole 5-second intervals, and ignores a clock going back', () => {
  const clock = fakeClock()
  const m = new Meter('m', {}, new MetricsClock(clock.now))
  m.mark(10)
  clock.advance(TICK_INTERVAL_MS - 1)
  assert.is(m.rate1(), 0) // not ticked yet
  clock.advance(1)
  close(m.rate1(), 2, 1e-12) // 10 events over 5 s
  clock.advance(-60_000)
  m.mark(5)
  close(m.rate1(), 2, 1e-12)
  assert.is(m.count, 15)
  m.clear()
  assert.is(m.count, 0)
  assert.is(m.rate1(), 0)
  assert.is(m.rateMean(), 0)
})

test('meter: no timers are left behind (the process can exit)', () => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const r = new MetricsRegistry()
  r.meter('a').mark()
  r.timer('b').update(3)
  r.histogram('c').update(1)
  const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  assert.is(after, before)
})

test('quantile: go-metrics interpolation', () => {
  const v = Float64Array.from({ length: 100 }, (_, i) => i + 1)
  assert.is(quantile(v, 0.5), 50.5)
  assert.is(quantile(v, 0.75), 75.75)
  close(quantile(v, 0.99), 99.99, 1e-9)
  assert.is(quantile(v, 0.999), 100)
  assert.is(quantile(v, 0), 1)
  assert.is(quantile(new Float64Array(0), 0.5), 0)
  assert.is(quantile(Float64Array.of(7), 0.5), 7)
})

test('histogram: exact statistics while the reservoir is not full', () => {
  const clock = fakeClock()
  const r = new MetricsRegistry({ now: clock.now, random: seeded(1) })
  const h = r.histogram('sizes')
  for (let i = 100; i >= 1; i--) h.update(i)
  const s = h.snapshot()
  assert.is(s.type, 'histogram')
  assert.is(s.count, 100)
  assert.is(s.sum, 5050)
  assert.is(s.min, 1)
  assert.is(s.max, 100)
  assert.is(s.mean, 50.5)
  close(s.stddev, Math.sqrt((100 * 100 - 1) / 12), 1e-9)
  assert.is(s.p50, 50.5)
  assert.is(s.p75, 75.75)
  close(s.p95, 95.95, 1e-9)
  close(s.p99, 99.99, 1e-9)
  assert.is(s.p999, 100)
  assert.is(h.percentile(0.5), 50.5)
})

test('histogram and timer: a weighted (sampled) update counts its weight in count, sum and rates', () => {
  const clock = fakeClock()
  const r = new MetricsRegistry({ now: clock.now, random: seeded(1) })
  const h = r.histogram('sampled')
  h.update(10, 16)
  h.update(20)
  const s = h.snapshot()
  assert.is(s.count, 17)
  assert.is(s.sum, 180)
  assert.is(s.min, 10)
  assert.is(s.max, 20)
  const t = r.timer('sampled.time')
  t.update(2, 16)
  const v = t.snapshot()
  assert.is(v.count, 16)
  assert.is(v.sum, 32)
  assert.is(v.p50, 2)
  assert.is(t.rates().count, 16)
})

test('histogram: percentiles of 1..10000 (uniform) from 1028 samples, both reservoirs', () => {
  for (const reservoir of ['exp-decay', 'uniform'] as const) {
    const clock = fakeClock()
    const r = new MetricsRegistry({ now: clock.now, random: seeded(42), reservoir })
    const h = r.histogram('latency')
    // Shuffled, and spread over a few seconds: the decay barely favours the later values.
    const values = Array.from({ length: 10_000 }, (_, i) => i + 1)
    const random = seeded(7)
    for (let i = values.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[values[i], values[j]] = [values[j], values[i]]
    }
    for (const v of values) {
      h.update(v)
      clock.advance(0.1)
    }
    const s = h.snapshot()
    assert.is(s.count, 10_000)
    assert.is(s.sum, 50_005_000)
    // Standard error of a quantile of 1028 samples of U(0, 10000): 10000 * sqrt(q(1-q)/1028), ~156 at p50.
    close(s.p50, 5000, 400, `${reservoir} p50`)
    close(s.p75, 7500, 350, `${reservoir} p75`)
    close(s.p95, 9500, 200, `${reservoir} p95`)
    close(s.p99, 9900, 100, `${reservoir} p99`)
    close(s.mean, 5000, 300, `${reservoir} mean`)
    close(s.stddev, 10_000 / Math.sqrt(12), 150, `${reservoir} stddev`)
    assert.ok(s.min >= 1 && s.min < 100)
    assert.ok(s.max <= 10_000 && s.max > 9900)
  }
})

test('exp-decay reservoir: bounded, and recent values displace old ones', () => {
  const clock = fakeClock()
  const reservoir = new ExpDecayReservoir(100, 0.015, seeded(3), new MetricsClock(clock.now))
  for (let i = 0; i < 2000; i++) reservoir.update(1)
  assert.is(reservoir.size, 100)
  clock.advance(5 * 60_000) // 5 minutes later: weight e^4.5 ~ 90 times higher
  for (let i = 0; i < 2000; i++) reservoir.update(100)
  const values = reservoir.values()
  assert.is(values.length, 100)
  const recent = values.filter((v) => v === 100).length
  assert.ok(recent >= 95, `${recent} of 100 are recent`)
})

test('exp-decay reservoir: rescales hourly without losing its order or overflowing', () => {
  const clock = fakeClock()
  const h = new Histogram('h', {}, new ExpDecayReservoir(50, 0.015, seeded(5), new MetricsClock(clock.now)))
  for (let hour = 0; hour < 30; hour++) {
    for (let i = 0; i < 200; i++) {
      h.update(hour)
      clock.advance(18_000) // 200 updates per hour
    }
  }
  const s = h.snapshot()
  assert.is(s.count, 6000)
  assert.is(s.max, 29)
  assert.ok(s.min >= 27, `old hours are gone: min ${s.min}`)
  for (const k of ['min', 'max', 'mean', 'stddev', 'p50', 'p99'] as const) assert.ok(Number.isFinite(s[k]), k)
})

test('exp-decay reservoir: a large alpha rescales often enough to stay finite', () => {
  const clock = fakeClock()
  const reservoir = new ExpDecayReservoir(20, 1, seeded(8), new MetricsClock(clock.now)) // e per second
  for (let i = 0; i < 2000; i++) {
    reservoir.update(i)
    clock.advance(1000)
  }
  const values = [...reservoir.values()].sort((a, b) => a - b)
  assert.is(values.length, 20)
  assert.ok(values[0] > 1900, `kept ${values}`)
})

test('uniform reservoir: algorithm R keeps a fixed-size sample', () => {
  const reservoir = new UniformReservoir(10, seeded(1))
  for (let i = 0; i < 5; i++) reservoir.update(i)
  assert.equal([...reservoir.values()], [0, 1, 2, 3, 4])
  for (let i = 5; i < 1000; i++) reservoir.update(i)
  assert.is(reservoir.size, 10)
  assert.ok([...reservoir.values()].some((v) => v >= 100))
  reservoir.clear()
  assert.is(reservoir.size, 0)
})

/** Garbage collections while `body` runs (after two warm-up runs that let V8 optimize it). */
function collections(body: () => void): number {
  body()
  body()
  const profiler = new GCProfiler()
  profiler.start()
  body()
  return profiler.stop()?.statistics.length ?? 0
}

test('hot paths allocate nothing: counter, meter, histogram, timer on the default (coarse) clock', () => {
  const r = new MetricsRegistry()
  assert.ok(r.clock.coarse)
  const c = r.counter('c')
  const m = r.meter('m')
  const h = r.histogram('h')
  const u = new MetricsRegistry({ reservoir: 'uniform' }).histogram('u')
  const t = r.timer('t')
  const N = 2_000_000
  // Two million updates that each allocated a 16-byte number would take several scavenges; see also a
  // control that allocates, to show the measurement can see it. Values are integers (the caller's own call
  // boxes a fractional double whenever V8 does not inline it: not ours to control); the timer's are turned
  // into integer microseconds by the timer itself.
  const control = collections(() => {
    const keep: unknown[] = []
    for (let i = 0; i < N; i++) keep[i & 7] = { i }
  })
  assert.ok(control >= 3, `control: ${control} collections`)
  const counts = {
    counter: collections(() => {
      for (let i = 0; i < N; i++) c.inc()
    }),
    meter: collections(() => {
      for (let i = 0; i < N; i++) m.mark()
    }),
    histogram: collections(() => {
      for (let i = 0; i < N; i++) h.update(i & 0xffff)
    }),
    uniform: collections(() => {
      for (let i = 0; i < N; i++) u.update(i & 0xffff)
    }),
    timer: collections(() => {
      for (let i = 0; i < N; i++) t.update((i & 255) * 0.37)
    }),
  }
  const failing = Object.entries(counts).filter(([, n]) => n > 1)
  assert.equal(failing, [], `collections during ${N} updates: ${JSON.stringify(counts)}`)
})

test('coarse clock: a cached time, refreshed by a timer while read, let go when not', async () => {
  const clock = fakeClock()
  let reads = 0
  const coarse = new MetricsClock(() => {
    reads++
    return clock.now()
  }, true)
  const first = coarse.read()
  clock.advance(1000)
  assert.is(coarse.read(), first)
  assert.is(coarse.exact(), first + 1000)
  assert.is(reads, 2)
  await Promise.resolve()
  assert.is(coarse.read(), first, 'not a microtask any more')
  await new Promise((r) => setTimeout(r, 100))
  // Refreshed while read: the time moved on.
  assert.is(coarse.read(), first + 1000)
  // Not read for a whole refresh interval (20 ms; generous here for a loaded machine): let go, and the next
  // read reads the clock itself.
  await new Promise((r) => setTimeout(r, 300))
  const before = reads
  clock.advance(7)
  assert.is(coarse.read(), first + 1007)
  assert.is(reads, before + 1)
  // Not coarse: every read reads.
  const exact = new MetricsClock(clock.now)
  assert.not.ok(exact.coarse)
  const a = exact.read()
  clock.advance(5)
  assert.is(exact.read(), a + 5)
  // A registry with a fake clock is exact unless asked otherwise.
  assert.not.ok(new MetricsRegistry({ now: clock.now }).clock.coarse)
  assert.ok(new MetricsRegistry({ now: clock.now, coarse: true }).clock.coarse)
})

test('timer: durations from the registry clock, rates from its meter', async () => {
  const clock = fakeClock()
  const r = new MetricsRegistry({ now: clock.now, random: seeded(2) })
  const t = r.timer('request.latency', { api: 'Produce' })
  const stop = t.start()
  clock.advance(12)
  assert.is(stop(), 12)
  assert.is(
    t.time(() => {
      clock.advance(8)
      return 'x'
    }),
    'x',
  )
  assert.throws(() =>
    t.time(() => {
      clock.advance(4)
      throw new Error('boom')
    }),
  )
  const p = t.time(async () => {
    clock.advance(30)
  })
  await p
  t.update(6)
  clock.advance(5000)
  const s = t.snapshot()
  assert.is(s.type, 'timer')
  assert.is(s.count, 5)
  assert.is(s.sum, 60)
  assert.is(s.min, 4)
  assert.is(s.max, 30)
  assert.is(s.mean, 12)
  close(s.rate1, 1, 1e-12) // 5 events in one 5-second tick
  assert.is(s.labels.api, 'Produce')
  assert.is(t.rates().count, 5)
  // Kept to the microsecond.
  const fine = r.timer('fine')
  fine.update(0.0014)
  fine.update(2.5006)
  assert.is(fine.snapshot().min, 0.001)
  assert.is(fine.snapshot().max, 2.501)
})

test('gauge: read when reported; re-registering replaces the function; failures report null', () => {
  const r = new MetricsRegistry()
  let queued = 3
  const g = r.gauge('producer.buffer.messages', () => queued)
  assert.is(g.value(), 3)
  queued = 9
  assert.equal(r.snapshot()['producer.buffer.messages'], {
    type: 'gauge',
    name: 'producer.buffer.messages',
    labels: {},
    value: 9,
  })
  assert.is(
    r.gauge('producer.buffer.messages', () => 42),
    g,
  )
  assert.is(g.value(), 42)
  r.gauge('broken', () => {
    throw new Error('nope')
  })
  r.gauge('nan', () => Number.NaN)
  assert.equal(r.snapshot().broken, { type: 'gauge', name: 'broken', labels: {}, value: null })
  assert.is((r.snapshot().nan as { value: unknown }).value, null)
})

test('metric keys: labels sorted and escaped, deterministic', () => {
  assert.is(metricKey('producer.messages.sent'), 'producer.messages.sent')
  assert.is(metricKey('producer.messages.sent', {}), 'producer.messages.sent')
  assert.is(metricKey('m', { topic: 't', partition: 3 }), 'm{partition="3",topic="t"}')
  assert.is(metricKey('m', { partition: 3, topic: 't' }), 'm{partition="3",topic="t"}')
  assert.is(metricKey('m', { v: 'a"b\\c\nd', ok: true }), 'm{ok="true",v="a\\"b\\\\c\\nd"}')
  throwsMetricError(() => metricKey(''))
  throwsMetricError(() => metricKey('a{b}'))
  throwsMetricError(() => metricKey('m', { 'bad-label': 'x' }), /label name/)
  throwsMetricError(() => metricKey('m', { '0x': 'x' }))
})

test('registry: labels make distinct metrics; a name cannot change type', () => {
  const r = new MetricsRegistry()
  const a = r.counter('records', { topic: 'a' })
  const b = r.counter('records', { topic: 'b' })
  const plain = r.counter('records')
  assert.is.not(a, b)
  assert.is.not(a, plain)
  assert.is(r.counter('records', { topic: 'a' }), a)
  assert.is(a.key, 'records{topic="a"}')
  assert.equal(a.labels, { topic: 'a' })
  assert.ok(Object.isFrozen(a.labels))
  assert.is(r.get('records', { topic: 'b' }), b)
  assert.is(r.get('records', { topic: 'c' }), undefined)
  throwsMetricError(() => r.meter('records', { topic: 'a' }), /is a counter, not a meter/)
  throwsMetricError(() => r.gauge('records', () => 1), /is a counter, not a gauge/)
  throwsMetricError(() => r.counter('x', { partition: 1 }) && r.histogram('x', { partition: '1' }))
  assert.is(r.size, 4)
  assert.ok(r.remove('records', { topic: 'a' }))
  assert.not.ok(r.remove('records', { topic: 'a' }))
  assert.is.not(r.counter('records', { topic: 'a' }), a)
  r.clear()
  assert.is(r.size, 0)
})

test('registry: each walks every metric in registration order', () => {
  const r = new MetricsRegistry()
  r.counter('z')
  r.meter('a', { topic: 't' })
  r.histogram('h')
  r.timer('t')
  r.gauge('g', () => 1)
  const seen: string[] = []
  r.each((m) => {
    seen.push(`${m.type}:${m.key}`)
    assert.instance(m.labels, Object)
  })
  assert.equal(seen, ['counter:z', 'meter:a{topic="t"}', 'histogram:h', 'timer:t', 'gauge:g'])
  const counters: Counter[] = []
  r.each((m) => {
    if (m.type === 'counter') counters.push(m)
  })
  assert.is(counters.length, 1)
})

test('registry: snapshot is plain JSON with sorted keys and every field', () => {
  const clock = fakeClock()
  const r = new MetricsRegistry({ now: clock.now, random: seeded(1) })
  r.counter('producer.messages.sent', { topic: 't' }).inc(5)
  const m = r.meter('producer.bytes', { topic: 't' })
  m.mark(500)
  r.histogram('producer.batch.size').update(10)
  r.timer('producer.request.latency', { broker: 1 }).update(2)
  r.gauge('producer.buffer.bytes', () => 1024)
  clock.advance(5000)
  const snap = r.snapshot()
  assert.equal(JSON.parse(JSON.stringify(snap)), snap)
  assert.equal(Object.keys(snap), [
    'producer.batch.size',
    'producer.buffer.bytes',
    'producer.bytes{topic="t"}',
    'producer.messages.sent{topic="t"}',
    'producer.request.latency{broker="1"}',
  ])
  assert.equal(snap['producer.messages.sent{topic="t"}'], {
    type: 'counter',
    name: 'producer.messages.sent',
    labels: { topic: 't' },
    count: 5,
  })
  assert.equal(snap['producer.bytes{topic="t"}'], {
    type: 'meter',
    name: 'producer.bytes',
    labels: { topic: 't' },
    count: 500,
    rate1: 100,
    rate5: 100,
    rate15: 100,
    rateMean: 100,
  })
  assert.equal(snap['producer.batch.size'], {
    type: 'histogram',
    name: 'producer.batch.size',
    labels: {},
    count: 1,
    sum: 10,
    min: 10,
    max: 10,
    mean: 10,
    stddev: 0,
    p50: 10,
    p75: 10,
    p95: 10,
    p99: 10,
    p999: 10,
  })
  assert.equal(Object.keys(snap['producer.request.latency{broker="1"}']).sort(), [
    'count',
    'labels',
    'max',
    'mean',
    'min',
    'name',
    'p50',
    'p75',
    'p95',
    'p99',
    'p999',
    'rate1',
    'rate15',
    'rate5',
    'rateMean',
    'stddev',
    'sum',
    'type',
  ])
  assert.equal(snap['producer.buffer.bytes'], {
    type: 'gauge',
    name: 'producer.buffer.bytes',
    labels: {},
    value: 1024,
  })
  // Snapshots are copies: changing one changes nothing in the registry.
  snap['producer.messages.sent{topic="t"}'].labels.topic = 'x'
  assert.is(r.counter('producer.messages.sent', { topic: 't' }).labels.topic, 't')
})

test('registry: bad options are rejected up front', () => {
  throwsMetricError(() => new MetricsRegistry({ reservoirSize: 0 }))
  throwsMetricError(() => new MetricsRegistry({ alpha: -1 }))
  throwsMetricError(() => new MetricsRegistry({ reservoir: 'sliding' as never }))
})

test.run()
