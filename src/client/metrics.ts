// A small metrics registry in the manner of go-metrics (which Sarama uses) and Dropwizard Metrics:
// counters, meters (count, mean rate, 1/5/15-minute exponentially weighted moving averages), histograms
// over a bounded reservoir, gauges and timers. Reporters (Graphite, Prometheus, logs) walk it with `each`
// or take a JSON-able `snapshot()`.
//
// Nothing here owns a timer: meters tick lazily, on `mark` and on read, by as many 5-second intervals as
// have elapsed on the registry's clock. A registry therefore never keeps the process alive, and with an
// injected clock (`now`) every number is deterministic in tests.
//
// Hot paths (`Counter.inc`, `Meter.mark`, `Histogram.update`, `Timer.update`) allocate nothing: no objects,
// no closures, and no double handed from one of our functions to another (V8 boxes a double that crosses a
// call it does not inline; doubles travel through double fields and typed arrays instead, and timers keep
// whole microseconds). What V8 does with a fractional value at the caller's own call into `update` is up to
// V8: integers (counts, bytes, microseconds) are never boxed. Numeric fields start out as doubles (see
// `AS_DOUBLE`) so that storing a fraction or a count beyond 2^31 never turns them into boxed fields.
//
// Reading a real clock allocates too (performance.now() and Date.now() return a boxed double, 16 bytes
// each on Node 20, and cost ~75 ns), so by default meters and reservoirs read a coarse clock: a cached time
// that a timer refreshes every COARSE_REFRESH_MS while the clock is being read (see `MetricsClock`). Rates
// tick every 5 s and the reservoir decays over minutes, so a stamp some milliseconds old changes nothing.
// Timer durations use the exact clock.
//
// Metrics are named by a string (`producer.messages.sent`) and optional labels (`{ topic: 't' }`); the
// pair is encoded into one key, Prometheus-style, with labels sorted by name:
// `producer.messages.sent{topic="t"}`. Looking a metric up builds that key, so hot paths should keep the
// metric object (`const sent = registry.meter('producer.messages.sent', { topic })`) rather than look it
// up for every message.

import { KafkaWireError } from '../protocol/errors.js'

export type LabelValue = string | number | boolean
export type Labels = Readonly<Record<string, LabelValue>>

export interface MetricsRegistryOptions {
  /** Milliseconds on a monotonic clock. Default `performance.now()`. */
  now?: () => number
  /**
   * Meters and reservoirs read a cached `now`, refreshed every 20 ms while in use (see `MetricsClock`). Default true
   * with the default clock, false with an injected one (so a fake clock advanced inside a test is seen).
   */
  coarse?: boolean
  /** Uniform random numbers in [0, 1) for reservoir sampling, for tests. Default: an inline xorshift32. */
  random?: () => number
  /** Histogram reservoir: 'exp-decay' (default) or 'uniform'. See `ExpDecayReservoir`. */
  reservoir?: 'exp-decay' | 'uniform'
  /** Samples kept per histogram. Default 1028 (Dropwizard's and go-metrics' usual size). */
  reservoirSize?: number
  /** Decay of the 'exp-decay' reservoir, per second. Default 0.015 (Dropwizard, Sarama). */
  alpha?: number
}

function metricError(message: string): KafkaWireError {
  return new KafkaWireError('ERR_METRIC', message)
}

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const BAD_NAME = /[{}"\n\\]/

function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
}

/** Labels with string values and sorted names, frozen. */
function normalizeLabels(labels: Labels | undefined): Readonly<Record<string, string>> {
  const out: Record<string, string> = {}
  if (labels !== undefined) {
    for (const name of Object.keys(labels).sort()) {
      if (!LABEL_NAME.test(name)) throw metricError(`label name ${JSON.stringify(name)} is not [A-Za-z_][A-Za-z0-9_]*`)
      out[name] = String(labels[name])
    }
  }
  return Object.freeze(out)
}

/**
 * The registry key of a metric: the name, then `{k="v",...}` with labels sorted by name and values escaped
 * as Prometheus does (backslash, double quote, newline); just the name without labels.
 */
export function metricKey(name: string, labels?: Labels): string {
  if (typeof name !== 'string' || name.length === 0 || BAD_NAME.test(name)) {
    throw metricError(`metric name ${JSON.stringify(name)} must be non-empty, without { } " \\ or newlines`)
  }
  if (labels === undefined) return name
  const names = Object.keys(labels)
  if (names.length === 0) return name
  names.sort()
  let key = `${name}{`
  for (let i = 0; i < names.length; i++) {
    const n = names[i]
    if (!LABEL_NAME.test(n)) throw metricError(`label name ${JSON.stringify(n)} is not [A-Za-z_][A-Za-z0-9_]*`)
    key += `${i === 0 ? '' : ','}${n}="${escapeLabelValue(String(labels[n]))}"`
  }
  return `${key}}`
}

/**
 * The first value of every numeric field written on a hot path. V8 picks a field's representation from
 * its first value: a small integer (0) gives a Smi field, which turns into a generic tagged field once a
 * fraction or a number beyond 2^31 is stored (a sum of bytes, a clock), and from then on every store boxes
 * a new heap number. Starting from NaN gives a double field, updated in place; constructors then store 0.
 */
const AS_DOUBLE = Number.NaN

/** How often a coarse clock's cached time is refreshed while it is being read (ms). */
const COARSE_REFRESH_MS = 20

/** Coarse clocks with a cached time, and the timer that refreshes them (none while no clock is read). */
const kept: MetricsClock[] = []
let refresher: ReturnType<typeof setInterval> | null = null

function refreshClocks(): void {
  let n = 0
  for (let i = 0; i < kept.length; i++) if (kept[i].refresh()) kept[n++] = kept[i]
  kept.length = n
  if (n === 0 && refresher !== null) {
    clearInterval(refresher)
    refresher = null
  }
}

/**
 * The clock of a registry's metrics, in milliseconds. `exact()` reads the underlying clock. `read()` does
 * too unless the clock is coarse: then `read()` returns a cached time, which a shared timer refreshes every
 * COARSE_REFRESH_MS for as long as the clock keeps being read (an interval without reads lets it go, and the
 * timer stops when no clock is kept). A read is a field load, which V8 inlines without boxing the double; an
 * earlier design refreshed once per synchronous job through a microtask, which cost more than the read it
 * saved when each message is a job of its own (promise-returning handlers).
 */
export class MetricsClock {
  readonly #now: () => number
  readonly coarse: boolean
  #value = AS_DOUBLE
  #valid = false
  #readSinceRefresh = false

  constructor(now: () => number = defaultNow, coarse = now === defaultNow) {
    this.#now = now
    this.coarse = coarse
    this.#value = 0
  }

  /** The time for stamps and rates: exact, or coarse (at most COARSE_REFRESH_MS old, while in use). */
  read(): number {
    // Kept tiny and always returning the double field, so that V8 inlines it and never has to box the
    // value (a double returned from a call that is not inlined, or merged with one, is boxed). An exact
    // clock never sets #valid, so it reads the clock every time.
    if (!this.#valid) this.#start()
    this.#readSinceRefresh = true
    return this.#value
  }

  #start(): void {
    this.#value = this.#now()
    if (!this.coarse) return
    this.#valid = true
    kept.push(this)
    if (refresher === null) {
      refresher = setInterval(refreshClocks, COARSE_REFRESH_MS)
      refresher.unref()
    }
  }

  /** Called by the shared timer: the time anew if read since the last refresh (true), else let go (false). */
  refresh(): boolean {
    if (!this.#readSinceRefresh) {
      this.#valid = false
      return false
    }
    this.#readSinceRefresh = false
    this.#value = this.#now()
    return true
  }

  /** The underlying clock, read now. */
  exact(): number {
    return this.#now()
  }
}

function defaultNow(): number {
  return performance.now()
}

const defaultClock = new MetricsClock()

interface MetricIdentity {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly key: string
}

// ---------------------------------------------------------------------------------------------
// Counter

export interface CounterSnapshot {
  type: 'counter'
  name: string
  labels: Record<string, string>
  count: number
}

/** A number that goes up (and down). */
export class Counter implements MetricIdentity {
  readonly type = 'counter' as const
  count = AS_DOUBLE

  constructor(
    readonly name: string,
    readonly labels: Readonly<Record<string, string>> = {},
    readonly key: string = metricKey(name, labels),
  ) {
    this.count = 0
  }

  inc(n = 1): void {
    this.count += n
  }

  dec(n = 1): void {
    this.count -= n
  }

  clear(): void {
    this.count = 0
  }

  snapshot(): CounterSnapshot {
    return { type: 'counter', name: this.name, labels: { ...this.labels }, count: this.count }
  }
}

// ---------------------------------------------------------------------------------------------
// EWMA and Meter

/** The interval at which meters tick, as in go-metrics and Dropwizard. */
export const TICK_INTERVAL_MS = 5000

/**
 * An exponentially weighted moving average of a rate, ticked every 5 s: on each tick the events counted
 * since the last one give an instant rate, and `rate += alpha * (instant - rate)` (the first tick sets the
 * rate outright). For an N-minute average `alpha = 1 - exp(-5 / 60 / N)`, so after N minutes without events
 * the rate has decayed by a factor e.
 */
export class Ewma {
  readonly alpha: number
  #rate = AS_DOUBLE // events per millisecond
  #uncounted = AS_DOUBLE
  #initialized = false

  constructor(alpha: number) {
    this.alpha = alpha
    this.#rate = 0
    this.#uncounted = 0
  }

  /** The EWMA for an average over `minutes` minutes. */
  static minutes(minutes: number): Ewma {
    return new Ewma(1 - Math.exp(-TICK_INTERVAL_MS / 1000 / 60 / minutes))
  }

  update(n: number): void {
    this.#uncounted += n
  }

  /** One 5-second tick. */
  tick(): void {
    const instant = this.#uncounted / TICK_INTERVAL_MS
    this.#uncounted = 0
    if (this.#initialized) this.#rate += this.alpha * (instant - this.#rate)
    else {
      this.#rate = instant
      this.#initialized = true
    }
  }

  /** `ticks` ticks at once: the first takes the pending events, the others decay the rate, in O(1). */
  tickMany(ticks: number): void {
    if (ticks <= 0) return
    this.tick()
    if (ticks > 1) this.#rate *= (1 - this.alpha) ** (ticks - 1)
  }

  /** The rate in events per second. */
  rate(): number {
    return this.#rate * 1000
  }

  clear(): void {
    this.#rate = 0
    this.#uncounted = 0
    this.#initialized = false
  }
}

export interface MeterValues {
  count: number
  /** 1-, 5- and 15-minute moving averages, events per second. */
  rate1: number
  rate5: number
  rate15: number
  /** Events per second since the meter was created (or cleared). */
  rateMean: number
}

export interface MeterSnapshot extends MeterValues {
  type: 'meter'
  name: string
  labels: Record<string, string>
}

/** Counts events and their rate: mean, and 1/5/15-minute moving averages (go-metrics' StandardMeter). */
export class Meter implements MetricIdentity {
  readonly type = 'meter' as const
  #count = AS_DOUBLE
  #start = AS_DOUBLE
  #lastTick = AS_DOUBLE
  readonly #m1 = Ewma.minutes(1)
  readonly #m5 = Ewma.minutes(5)
  readonly #m15 = Ewma.minutes(15)
  readonly #clock: MetricsClock

  constructor(
    readonly name: string,
    readonly labels: Readonly<Record<string, string>> = {},
    clock: MetricsClock = defaultClock,
    readonly key: string = metricKey(name, labels),
  ) {
    this.#clock = clock
    this.#count = 0
    this.#start = this.#lastTick = clock.read()
  }

  mark(n = 1): void {
    this.#tickIfNeeded()
    this.#count += n
    this.#m1.update(n)
    this.#m5.update(n)
    this.#m15.update(n)
  }

  get count(): number {
    return this.#count
  }

  rate1(): number {
    this.#tickIfNeeded()
    return this.#m1.rate()
  }

  rate5(): number {
    this.#tickIfNeeded()
    return this.#m5.rate()
  }

  rate15(): number {
    this.#tickIfNeeded()
    return this.#m15.rate()
  }

  rateMean(): number {
    const elapsed = this.#clock.read() - this.#start
    return this.#count === 0 || elapsed <= 0 ? 0 : (this.#count * 1000) / elapsed
  }

  values(): MeterValues {
    this.#tickIfNeeded()
    return {
      count: this.#count,
      rate1: this.#m1.rate(),
      rate5: this.#m5.rate(),
      rate15: this.#m15.rate(),
      rateMean: this.rateMean(),
    }
  }

  clear(): void {
    this.#count = 0
    this.#start = this.#lastTick = this.#clock.read()
    this.#m1.clear()
    this.#m5.clear()
    this.#m15.clear()
  }

  snapshot(): MeterSnapshot {
    return { type: 'meter', name: this.name, labels: { ...this.labels }, ...this.values() }
  }

  /** Catches up on the 5-second ticks that have elapsed since the last one (none if the clock went back). */
  #tickIfNeeded(): void {
    const age = this.#clock.read() - this.#lastTick
    if (age < TICK_INTERVAL_MS) return
    const ticks = Math.floor(age / TICK_INTERVAL_MS)
    this.#lastTick += ticks * TICK_INTERVAL_MS
    this.#m1.tickMany(ticks)
    this.#m5.tickMany(ticks)
    this.#m15.tickMany(ticks)
  }
}

// ---------------------------------------------------------------------------------------------
// Reservoirs

/**
 * Uniform random numbers in [0, 1) for the reservoirs, without allocating: `draw()` leaves the number in the
 * double field `value`. By default Marsaglia's xorshift32, seeded from Math.random and stepped inline,
 * because Math.random (like any call that is not inlined) returns a boxed double. An injected function (for
 * tests) is called instead.
 */
class RandomSource {
  readonly #fn: (() => number) | undefined
  #seed: number
  value = AS_DOUBLE

  constructor(fn?: () => number) {
    this.#fn = fn
    this.#seed = Math.floor(Math.random() * 0xffffffff) | 0 || 0x2545f491
    this.value = 0
  }

  draw(): void {
    if (this.#fn !== undefined) {
      this.value = this.#fn()
      return
    }
    let x = this.#seed
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#seed = x
    this.value = (x >>> 0) / 4294967296
  }
}

/**
 * A bounded sample of a stream of values. `update` runs on hot paths: no allocation, and no double passed
 * on to another call (a reservoir that needs the time reads a `MetricsClock` of its own).
 */
export interface Reservoir {
  update(value: number): void
  /** Number of values held (at most the capacity). */
  readonly size: number
  /** A copy of the values held, in no particular order. */
  values(): Float64Array
  clear(): void
}

/**
 * A uniform sample of everything ever recorded (Vitter's algorithm R, as go-metrics' UniformSample): the
 * first `capacity` values fill it, then value number n replaces a random slot with probability capacity/n.
 * O(1) per update. Old values never age out, so after a long run it reflects history more than the present.
 */
export class UniformReservoir implements Reservoir {
  readonly #values: Float64Array
  readonly #random: RandomSource
  #count = AS_DOUBLE

  /** `random`: uniform in [0, 1), for tests; by default an inline xorshift32 (see `RandomSource`). */
  constructor(capacity = 1028, random?: () => number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw metricError(`reservoir size must be >= 1, got ${capacity}`)
    this.#values = new Float64Array(capacity)
    this.#random = new RandomSource(random)
    this.#count = 0
  }

  get size(): number {
    return Math.min(this.#count, this.#values.length)
  }

  update(value: number): void {
    const n = ++this.#count
    if (n <= this.#values.length) {
      this.#values[n - 1] = value
      return
    }
    this.#random.draw()
    const r = Math.floor(this.#random.value * n)
    if (r < this.#values.length) this.#values[r] = value
  }

  values(): Float64Array {
    return this.#values.slice(0, this.size)
  }

  clear(): void {
    this.#count = 0
  }
}

const RESCALE_INTERVAL_MS = 60 * 60 * 1000

/**
 * An exponentially decaying reservoir: forward-decaying priority sampling (Cormode et al., "Forward Decay",
 * 2009), the reservoir of Dropwizard's histograms and of go-metrics' ExpDecaySample that Sarama uses. Each
 * value gets the priority `exp(alpha * (t - landmark)) / u` with u uniform in (0, 1]; the `capacity` values
 * with the highest priorities are kept, so recent values are favoured with a weight growing by e every
 * 1/alpha seconds (about 67 s at alpha 0.015: the sample reflects roughly the last five minutes). Values
 * recorded at the same instant are sampled uniformly.
 *
 * Storage is two Float64Arrays used as a binary min-heap on priority: an update is discarded when its
 * priority is below the smallest kept (O(1)) or replaces it (O(log capacity): at most 10 sift steps for
 * 1028), never allocating. Every hour the landmark moves to the present and the priorities are scaled by
 * the same factor, which keeps `exp` in range and the heap order intact.
 */
export class ExpDecayReservoir implements Reservoir {
  readonly #values: Float64Array
  readonly #priorities: Float64Array
  readonly #alpha: number
  readonly #random: RandomSource
  readonly #clock: MetricsClock
  #size = 0
  #landmark = Number.NaN
  #nextRescale = Number.NaN
  // The value being added, handed to the heap operations through double fields: doubles passed as arguments
  // to a call that V8 does not inline are boxed, and the sift loops are too big to inline.
  #newValue = AS_DOUBLE
  #newPriority = AS_DOUBLE

  /** `random`: uniform in [0, 1), for tests; by default an inline xorshift32 (see `RandomSource`). */
  constructor(capacity = 1028, alpha = 0.015, random?: () => number, clock: MetricsClock = defaultClock) {
    if (!Number.isInteger(capacity) || capacity < 1) throw metricError(`reservoir size must be >= 1, got ${capacity}`)
    if (!(alpha >= 0)) throw metricError(`alpha must be >= 0, got ${alpha}`)
    this.#values = new Float64Array(capacity)
    this.#priorities = new Float64Array(capacity)
    this.#alpha = alpha / 1000 // per millisecond
    this.#random = new RandomSource(random)
    this.#clock = clock
  }

  get size(): number {
    return this.#size
  }

  update(value: number): void {
    const now = this.#clock.read()
    if (!(now < this.#nextRescale)) {
      this.#newPriority = now // also on the first update (NaN)
      this.#rescale()
    }
    this.#random.draw()
    const priority = Math.exp(this.#alpha * (now - this.#landmark)) / (1 - this.#random.value)
    const full = this.#size === this.#values.length
    if (full && priority <= this.#priorities[0]) return
    this.#newValue = value
    this.#newPriority = priority
    if (full) this.#replaceRoot()
    else this.#push()
  }

  values(): Float64Array {
    return this.#values.slice(0, this.#size)
  }

  clear(): void {
    this.#size = 0
    this.#landmark = Number.NaN
    this.#nextRescale = Number.NaN
  }

  /** Adds #newValue/#newPriority at the end of the heap and sifts it up. */
  #push(): void {
    const values = this.#values
    const priorities = this.#priorities
    const priority = this.#newPriority
    let i = this.#size++
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (priorities[parent] <= priority) break
      priorities[i] = priorities[parent]
      values[i] = values[parent]
      i = parent
    }
    priorities[i] = priority
    values[i] = this.#newValue
  }

  /** Replaces the root (the lowest priority) with #newValue/#newPriority and sifts it down. */
  #replaceRoot(): void {
    const values = this.#values
    const priorities = this.#priorities
    const priority = this.#newPriority
    const n = this.#size
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && priorities[right] < priorities[left] ? right : left
      if (priorities[child] >= priority) break
      priorities[i] = priorities[child]
      values[i] = values[child]
      i = child
    }
    priorities[i] = priority
    values[i] = this.#newValue
  }

  /** Moves the landmark to the time in #newPriority, scaling the priorities kept to match. */
  #rescale(): void {
    const now = this.#newPriority
    if (this.#size > 0) {
      const factor = Math.exp(-this.#alpha * (now - this.#landmark))
      for (let i = 0; i < this.#size; i++) this.#priorities[i] *= factor
    }
    this.#landmark = now
    // Hourly, or sooner for a large alpha, so that exp() stays far below overflow (e^709).
    this.#nextRescale = now + (this.#alpha > 0 ? Math.min(RESCALE_INTERVAL_MS, 200 / this.#alpha) : RESCALE_INTERVAL_MS)
  }
}

// ---------------------------------------------------------------------------------------------
// Histogram

export interface HistogramValues {
  /** Values recorded since creation (or clear), and their sum: exact, not sampled. */
  count: number
  sum: number
  /** Over the values in the reservoir. 0 when empty. */
  min: number
  max: number
  mean: number
  /** Population standard deviation of the reservoir. */
  stddev: number
  p50: number
  p75: number
  p95: number
  p99: number
  p999: number
}

export interface HistogramSnapshot extends HistogramValues {
  type: 'histogram'
  name: string
  labels: Record<string, string>
}

/**
 * The q-quantile (0..1) of sorted values, interpolated as go-metrics does: position q * (n + 1), clamped to
 * the first and last values, linear between neighbours.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return 0
  const pos = q * (n + 1)
  if (pos < 1) return sorted[0]
  if (pos >= n) return sorted[n - 1]
  const lower = sorted[Math.floor(pos) - 1]
  const upper = sorted[Math.floor(pos)]
  return lower + (pos - Math.floor(pos)) * (upper - lower)
}

function distribution(values: Float64Array, count: number, sum: number): HistogramValues {
  const n = values.length
  if (n === 0) return { count, sum, min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p75: 0, p95: 0, p99: 0, p999: 0 }
  values.sort()
  let total = 0
  for (let i = 0; i < n; i++) total += values[i]
  const mean = total / n
  let squares = 0
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2
  return {
    count,
    sum,
    min: values[0],
    max: values[n - 1],
    mean,
    stddev: Math.sqrt(squares / n),
    p50: quantile(values, 0.5),
    p75: quantile(values, 0.75),
    p95: quantile(values, 0.95),
    p99: quantile(values, 0.99),
    p999: quantile(values, 0.999),
  }
}

/** The distribution of values (sizes, latencies) over a bounded reservoir. `update` does not allocate. */
export class Histogram implements MetricIdentity {
  readonly type = 'histogram' as const
  #count = AS_DOUBLE
  #sum = AS_DOUBLE
  readonly #reservoir: Reservoir

  constructor(
    readonly name: string,
    readonly labels: Readonly<Record<string, string>> = {},
    reservoir: Reservoir = new ExpDecayReservoir(),
    readonly key: string = metricKey(name, labels),
  ) {
    this.#reservoir = reservoir
    this.#count = 0
    this.#sum = 0
  }

  /**
   * Records a value. `weight` > 1 when the caller samples (one value recorded for `weight` events): count
   * and sum then estimate all of them, the reservoir holds the sample.
   */
  update(value: number, weight = 1): void {
    this.#count += weight
    this.#sum += value * weight
    this.#reservoir.update(value)
  }

  get count(): number {
    return this.#count
  }

  get sum(): number {
    return this.#sum
  }

  /** The q-quantile (0..1) of the reservoir. */
  percentile(q: number): number {
    return quantile(this.#reservoir.values().sort(), q)
  }

  values(): HistogramValues {
    return distribution(this.#reservoir.values(), this.#count, this.#sum)
  }

  clear(): void {
    this.#count = 0
    this.#sum = 0
    this.#reservoir.clear()
  }

  snapshot(): HistogramSnapshot {
    return { type: 'histogram', name: this.name, labels: { ...this.labels }, ...this.values() }
  }
}

// ---------------------------------------------------------------------------------------------
// Timer

export interface TimerValues extends HistogramValues, Omit<MeterValues, 'count'> {}

export interface TimerSnapshot extends TimerValues {
  type: 'timer'
  name: string
  labels: Record<string, string>
}

/**
 * Durations in milliseconds (a histogram) and how often they happen (a meter). Durations are kept as whole
 * microseconds, so the values handed down to the reservoir are small integers, which V8 never boxes; they
 * are reported in milliseconds.
 */
export class Timer implements MetricIdentity {
  readonly type = 'timer' as const
  readonly #micros: Histogram
  readonly #meter: Meter
  readonly #clock: MetricsClock

  constructor(
    readonly name: string,
    readonly labels: Readonly<Record<string, string>> = {},
    reservoir: Reservoir = new ExpDecayReservoir(),
    clock: MetricsClock = defaultClock,
    readonly key: string = metricKey(name, labels),
  ) {
    this.#clock = clock
    this.#micros = new Histogram(name, labels, reservoir, key)
    this.#meter = new Meter(name, labels, clock, key)
  }

  /**
   * Records a duration in milliseconds (kept to the microsecond). `count` > 1 when the caller times one
   * event in `count` (sampling): count, sum and rates then estimate all of them, the quantiles the sample.
   */
  update(ms: number, count = 1): void {
    this.#micros.update(Math.round(ms * 1000), count)
    this.#meter.mark(count)
  }

  /** Starts timing (on the exact clock); the returned function records and returns the elapsed milliseconds. */
  start(): () => number {
    const started = this.#clock.exact()
    return () => {
      const ms = this.#clock.exact() - started
      this.update(ms)
      return ms
    }
  }

  /** Runs `fn` and records how long it took; a promise is timed until it settles. */
  time<T>(fn: () => T): T {
    const stop = this.start()
    let result: T
    try {
      result = fn()
    } catch (err) {
      stop()
      throw err
    }
    if (result instanceof Promise) {
      result.then(stop, stop)
    } else stop()
    return result
  }

  get count(): number {
    return this.#micros.count
  }

  /** The meter of the timed events (rates per second). */
  rates(): MeterValues {
    return this.#meter.values()
  }

  values(): TimerValues {
    const d = this.#micros.values()
    const { count: _count, ...rates } = this.#meter.values()
    return {
      count: d.count,
      sum: d.sum / 1000,
      min: d.min / 1000,
      max: d.max / 1000,
      mean: d.mean / 1000,
      stddev: d.stddev / 1000,
      p50: d.p50 / 1000,
      p75: d.p75 / 1000,
      p95: d.p95 / 1000,
      p99: d.p99 / 1000,
      p999: d.p999 / 1000,
      ...rates,
    }
  }

  clear(): void {
    this.#micros.clear()
    this.#meter.clear()
  }

  snapshot(): TimerSnapshot {
    return { type: 'timer', name: this.name, labels: { ...this.labels }, ...this.values() }
  }
}

// ---------------------------------------------------------------------------------------------
// Gauge

export interface GaugeSnapshot {
  type: 'gauge'
  name: string
  labels: Record<string, string>
  /** null when the function threw or returned something other than a finite number. */
  value: number | null
}

/** A value read from a function when reported (a queue length, buffer bytes in use). */
export class Gauge implements MetricIdentity {
  readonly type = 'gauge' as const
  fn: () => number

  constructor(
    readonly name: string,
    fn: () => number,
    readonly labels: Readonly<Record<string, string>> = {},
    readonly key: string = metricKey(name, labels),
  ) {
    this.fn = fn
  }

  /** The current value; null when the function throws or gives a non-finite number. */
  value(): number | null {
    try {
      const v = this.fn()
      return typeof v === 'number' && Number.isFinite(v) ? v : null
    } catch {
      return null
    }
  }

  snapshot(): GaugeSnapshot {
    return { type: 'gauge', name: this.name, labels: { ...this.labels }, value: this.value() }
  }
}

// ---------------------------------------------------------------------------------------------
// Registry

export type Metric = Counter | Meter | Histogram | Timer | Gauge
export type MetricSnapshot = CounterSnapshot | MeterSnapshot | HistogramSnapshot | TimerSnapshot | GaugeSnapshot

/**
 * Metrics by name and labels. `counter`, `meter`, `histogram` and `timer` return the existing metric for a
 * name and labels or create it; asking for a name and labels already registered as another type is an
 * error (ERR_METRIC). `gauge` registers or replaces the function of a gauge.
 */
export class MetricsRegistry {
  readonly clock: MetricsClock
  readonly #metrics = new Map<string, Metric>()
  readonly #random: (() => number) | undefined
  readonly #reservoir: 'exp-decay' | 'uniform'
  readonly #reservoirSize: number
  readonly #alpha: number

  constructor(options: MetricsRegistryOptions = {}) {
    this.clock = new MetricsClock(options.now ?? defaultNow, options.coarse ?? options.now === undefined)
    this.#random = options.random
    this.#reservoir = options.reservoir ?? 'exp-decay'
    if (this.#reservoir !== 'exp-decay' && this.#reservoir !== 'uniform') {
      throw metricError(`unknown reservoir ${JSON.stringify(this.#reservoir)}`)
    }
    this.#reservoirSize = options.reservoirSize ?? 1028
    this.#alpha = options.alpha ?? 0.015
    this.#newReservoir() // validates size and alpha now rather than on the first histogram
  }

  counter(name: string, labels?: Labels): Counter {
    return this.#getOrCreate(name, labels, 'counter')
  }

  meter(name: string, labels?: Labels): Meter {
    return this.#getOrCreate(name, labels, 'meter')
  }

  histogram(name: string, labels?: Labels): Histogram {
    return this.#getOrCreate(name, labels, 'histogram')
  }

  timer(name: string, labels?: Labels): Timer {
    return this.#getOrCreate(name, labels, 'timer')
  }

  gauge(name: string, fn: () => number, labels?: Labels): Gauge {
    if (typeof fn !== 'function') throw metricError(`gauge ${name} needs a function`)
    const key = metricKey(name, labels)
    const existing = this.#metrics.get(key)
    if (existing !== undefined) {
      if (existing.type !== 'gauge') throw this.#typeError(key, existing.type, 'gauge')
      existing.fn = fn
      return existing
    }
    const gauge = new Gauge(name, fn, normalizeLabels(labels), key)
    this.#metrics.set(key, gauge)
    return gauge
  }

  /** The metric registered under a name and labels, if any. */
  get(name: string, labels?: Labels): Metric | undefined {
    return this.#metrics.get(metricKey(name, labels))
  }

  /** Unregisters a metric; true if there was one. */
  remove(name: string, labels?: Labels): boolean {
    return this.#metrics.delete(metricKey(name, labels))
  }

  /** Unregisters every metric. */
  clear(): void {
    this.#metrics.clear()
  }

  get size(): number {
    return this.#metrics.size
  }

  /** Calls `callback` for every metric, in registration order. */
  each(callback: (metric: Metric) => void): void {
    for (const metric of this.#metrics.values()) callback(metric)
  }

  /** Every metric's values as plain JSON-able objects, by key, keys sorted. */
  snapshot(): Record<string, MetricSnapshot> {
    const out: Record<string, MetricSnapshot> = {}
    for (const key of [...this.#metrics.keys()].sort()) out[key] = this.#metrics.get(key)!.snapshot()
    return out
  }

  #getOrCreate<T extends 'counter' | 'meter' | 'histogram' | 'timer'>(
    name: string,
    labels: Labels | undefined,
    type: T,
  ): Extract<Metric, { type: T }> {
    const key = metricKey(name, labels)
    let metric = this.#metrics.get(key)
    if (metric === undefined) {
      const normalized = normalizeLabels(labels)
      switch (type) {
        case 'counter':
          metric = new Counter(name, normalized, key)
          break
        case 'meter':
          metric = new Meter(name, normalized, this.clock, key)
          break
        case 'histogram':
          metric = new Histogram(name, normalized, this.#newReservoir(), key)
          break
        default:
          metric = new Timer(name, normalized, this.#newReservoir(), this.clock, key)
      }
      this.#metrics.set(key, metric)
    } else if (metric.type !== type) {
      throw this.#typeError(key, metric.type, type)
    }
    return metric as Extract<Metric, { type: T }>
  }

  #newReservoir(): Reservoir {
    return this.#reservoir === 'uniform'
      ? new UniformReservoir(this.#reservoirSize, this.#random)
      : new ExpDecayReservoir(this.#reservoirSize, this.#alpha, this.#random, this.clock)
  }

  #typeError(key: string, is: string, wanted: string): KafkaWireError {
    return metricError(`metric ${key} is a ${is}, not a ${wanted}`)
  }
}
