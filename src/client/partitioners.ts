// Partitioners: which partition of a topic a message goes to.
//
// A partitioner is either a plain function `(message, partitionCount, availablePartitions?) => number` or,
// when it keeps state, an object with a `partition` method of that shape and optional hooks the producer
// calls (see `PartitionerObject`). Stateless ones are exported as functions (`murmur2Partitioner`,
// `fnv1aPartitioner`, `randomPartitioner`, `manualPartitioner`); stateful ones as classes with a factory
// each (`StickyPartitioner`/`stickyPartitioner()`, `RoundRobinPartitioner`/`roundRobinPartitioner()`,
// `DefaultPartitioner`/`defaultPartitioner()`): every producer needs its own instance.
//
// Partitions chosen from a key (murmur2, FNV-1a) must not depend on which partitions have a leader right
// now, or the same key would move around during a leader election: they always map onto all
// `partitionCount` partitions. Partitioners without a consistency promise (sticky, round robin, random)
// choose among `availablePartitions` when that list is given and non-empty.

import { KafkaWireError } from '../protocol/errors.js'
import { murmur2, toPositive } from '../protocol/murmur2.js'

/** What a partitioner sees of a message: key and value already serialized. */
export interface PartitionerMessage {
  readonly topic: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** A partition chosen by the caller (used by `manualPartitioner` and `DefaultPartitioner`). */
  readonly partition?: number
}

/**
 * A stateless partitioner: returns a partition in [0, partitionCount). `availablePartitions`, when given,
 * lists the partitions that have a leader now (ascending or not; never used to remap keyed messages).
 */
export type PartitionerFunction = (
  message: PartitionerMessage,
  partitionCount: number,
  availablePartitions?: readonly number[],
) => number

/**
 * A partitioner that keeps state, and the hooks a producer calls. Every hook is optional for the
 * partitioner; a producer calls those that exist.
 *
 * - `onBatchClosed(topic, partition)`: the producer closed (sealed) the batch it was filling for that
 *   partition — because it is full, its linger time elapsed, or it is being flushed — so the next message
 *   for that partition would open a new batch. This is KIP-480's `onNewBatch(topic, cluster, prevPartition)`
 *   under the name of what the producer actually did. Sticky partitioners move on here.
 * - `onAppend(topic, partition, bytes)`: the producer appended a message of about `bytes` bytes to that
 *   partition. Only needed for KIP-794's byte-based switching (`StickyPartitioner` with `stickyBytes`).
 * - `updateLoad(topic, partitionIds, queueSizes, partitionCount?)`: KIP-794's adaptive partitioning. The
 *   producer reports, for the partitions it is willing to send to (leader known, leader not lagging beyond
 *   its availability timeout), how many batches are queued for each; sticky partitioners then prefer the
 *   partitions with the shortest queues. Pass empty arrays to turn it off again.
 */
export interface PartitionerObject {
  partition(message: PartitionerMessage, partitionCount: number, availablePartitions?: readonly number[]): number
  onBatchClosed?(topic: string, partition: number): void
  onAppend?(topic: string, partition: number, bytes: number): void
  updateLoad?(
    topic: string,
    partitionIds: readonly number[],
    queueSizes: readonly number[],
    partitionCount?: number,
  ): void
}

/** A partitioner: a function, or an object when it keeps state. Custom ones are welcome. */
export type Partitioner = PartitionerFunction | PartitionerObject

/** The built-in partitioners by name (a producer's `partitioner: 'murmur2'` option). */
export type PartitionerName = 'default' | 'murmur2' | 'sticky' | 'round-robin' | 'random' | 'fnv1a' | 'manual'

/** A partitioner with every hook present and its results checked: what a producer holds. */
export interface ResolvedPartitioner {
  partition(message: PartitionerMessage, partitionCount: number, availablePartitions?: readonly number[]): number
  onBatchClosed(topic: string, partition: number): void
  onAppend(topic: string, partition: number, bytes: number): void
  updateLoad(
    topic: string,
    partitionIds: readonly number[],
    queueSizes: readonly number[],
    partitionCount?: number,
  ): void
}

function partitionError(message: string, topic: string, partition?: number): KafkaWireError {
  return new KafkaWireError('ERR_PARTITION', message, { topic, partition, retriable: false })
}

function checkCount(topic: string, partitionCount: number): void {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw partitionError(`topic ${topic}: partition count must be a positive integer, got ${partitionCount}`, topic)
  }
}

/** A uniform random integer in [0, n). */
function randomBelow(random: () => number, n: number): number {
  const i = Math.floor(random() * n)
  return i < n ? i : n - 1 // guards a custom random() that returns 1
}

// ---------------------------------------------------------------------------------------------
// Hash partitioners

/**
 * The Java client's choice for a keyed message: `toPositive(murmur2(key)) % partitionCount`
 * (BuiltInPartitioner.partitionForKey; also librdkafka's `murmur2_random`). An empty key is a key and is
 * hashed. A null key gets a uniformly random partition (librdkafka's `murmur2_random`); use
 * `defaultPartitioner()` for Java's sticky behaviour on null keys.
 */
export const murmur2Partitioner: PartitionerFunction = (message, partitionCount, availablePartitions) => {
  checkCount(message.topic, partitionCount)
  if (message.key === null) return randomPartitioner(message, partitionCount, availablePartitions)
  return toPositive(murmur2(message.key)) % partitionCount
}

const FNV_OFFSET_BASIS = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** FNV-1a, 32 bits, as an unsigned integer (Go's hash/fnv New32a). */
export function fnv1a32(bytes: Uint8Array): number {
  let h = FNV_OFFSET_BASIS
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME)
  return h >>> 0
}

/**
 * Sarama's HashPartitioner mapping of an FNV-1a hash onto partitions. Sarama (partitioner.go,
 * hashPartitioner.Partition) has two:
 * - default (`NewHashPartitioner`, Sarama's default partitioner): `p := int32(hash) % n; if p < 0 { p = -p }`
 *   — the hash read as a signed int32, Go's truncating remainder, then the negative results negated;
 * - reference (`NewReferenceHashPartitioner` / `WithAbsFirst`): `(int32(hash) & 0x7fffffff) % n`, the Java
 *   client's toPositive applied first.
 * They differ for hashes with the top bit set. JavaScript's `%` truncates like Go's, so `(h | 0) % n` is exact.
 */
export function fnv1aPartitionForKey(key: Uint8Array, partitionCount: number, referenceAbs = false): number {
  const h = fnv1a32(key) | 0
  if (referenceAbs) return (h & 0x7fffffff) % partitionCount
  const p = h % partitionCount
  return p < 0 ? -p : p
}

/**
 * Sarama's default partitioner (`NewHashPartitioner`): FNV-1a of the key with Sarama's mapping (see
 * `fnv1aPartitionForKey`); a null key gets a random partition, as in Sarama. Keys land where a Sarama
 * producer with default settings puts them.
 */
export const fnv1aPartitioner: PartitionerFunction = (message, partitionCount, availablePartitions) => {
  checkCount(message.topic, partitionCount)
  if (message.key === null) return randomPartitioner(message, partitionCount, availablePartitions)
  return fnv1aPartitionForKey(message.key, partitionCount, false)
}

/** Sarama's `NewReferenceHashPartitioner`: FNV-1a, sign bit cleared before the modulo. */
export const fnv1aReferencePartitioner: PartitionerFunction = (message, partitionCount, availablePartitions) => {
  checkCount(message.topic, partitionCount)
  if (message.key === null) return randomPartitioner(message, partitionCount, availablePartitions)
  return fnv1aPartitionForKey(message.key, partitionCount, true)
}

// ---------------------------------------------------------------------------------------------
// Manual and random

/** Uses `message.partition`; an error (ERR_PARTITION) when it is missing, not an integer or out of range. */
export const manualPartitioner: PartitionerFunction = (message, partitionCount) => {
  checkCount(message.topic, partitionCount)
  const p = message.partition
  if (p === undefined || p === null) {
    throw partitionError(`topic ${message.topic}: the manual partitioner needs message.partition`, message.topic)
  }
  if (!Number.isInteger(p) || p < 0 || p >= partitionCount) {
    throw partitionError(
      `topic ${message.topic} has ${partitionCount} partitions; partition ${p} does not exist`,
      message.topic,
      Number.isInteger(p) ? p : undefined,
    )
  }
  return p
}

/** A uniformly random partition among the available ones (all partitions when none is listed). */
export const randomPartitioner: PartitionerFunction = (message, partitionCount, availablePartitions) => {
  checkCount(message.topic, partitionCount)
  if (availablePartitions !== undefined && availablePartitions.length > 0) {
    return availablePartitions[randomBelow(Math.random, availablePartitions.length)]
  }
  return randomBelow(Math.random, partitionCount)
}

// ---------------------------------------------------------------------------------------------
// Round robin

/**
 * Walks through the partitions of each topic in turn (a counter per topic), over the available partitions
 * when given, as the Java client's RoundRobinPartitioner does; Sarama's keeps one counter per topic too.
 */
export class RoundRobinPartitioner implements PartitionerObject {
  readonly #counters = new Map<string, number>()

  partition(message: PartitionerMessage, partitionCount: number, availablePartitions?: readonly number[]): number {
    checkCount(message.topic, partitionCount)
    const n = this.#counters.get(message.topic) ?? 0
    this.#counters.set(message.topic, (n + 1) & 0x7fffffff)
    if (availablePartitions !== undefined && availablePartitions.length > 0) {
      return availablePartitions[n % availablePartitions.length]
    }
    return n % partitionCount
  }
}

/** A new `RoundRobinPartitioner` (one per producer). */
export function roundRobinPartitioner(): RoundRobinPartitioner {
  return new RoundRobinPartitioner()
}

// ---------------------------------------------------------------------------------------------
// Sticky

export interface StickyPartitionerOptions {
  /**
   * KIP-794: bytes to produce to a partition before moving on (the Java client uses batch.size; give the
   * producer's batch byte limit). The partitioner then needs `onAppend` and moves once `stickyBytes` have
   * been appended and a batch of the partition was closed (so batches are not cut short), or at the latest
   * after `2 * stickyBytes`. A batch closed early by linger no longer moves it, so partitions on slow
   * brokers no longer receive more data than the others.
   * Unset (the default): KIP-480, move on every `onBatchClosed` of the sticky partition.
   */
  stickyBytes?: number
  /** Uniform random numbers in [0, 1); injectable for tests. Default Math.random. */
  random?: () => number
}

interface StickyTopic {
  /** The sticky partition, or -1 when the next message must choose one. */
  partition: number
  /** The partition we just left, avoided by the next uniform choice when there is another. */
  previous: number
  /** Bytes appended to the sticky partition since it was chosen (KIP-794). */
  produced: number
  /** The last availablePartitions list the sticky partition was checked against. */
  checked: readonly number[] | undefined
  /** KIP-794 load stats: partition ids and a cumulative frequency table, `loadLength` entries in use. */
  loadIds: Int32Array | null
  loadCft: Float64Array | null
  loadLength: number
}

/**
 * The sticky partitioner for messages without a key (KIP-480, with KIP-794's refinements as options):
 * every message of a topic goes to the same partition until the producer closes a batch for it; then the
 * next message picks another partition, at random among the available ones (never the one just left when
 * there is a choice), or weighted towards short queues once `updateLoad` has reported queue sizes. Whole
 * batches fill up instead of a record or two per partition, for the same spread over time.
 *
 * The sticky partition is also dropped when it is no longer below `partitionCount`, or when an
 * `availablePartitions` list is given that no longer contains it (its leader is gone); that check runs
 * when the list object changes, so passing the same array until metadata changes keeps it free.
 */
export class StickyPartitioner implements PartitionerObject {
  readonly #topics = new Map<string, StickyTopic>()
  readonly #stickyBytes: number | undefined
  readonly #random: () => number

  constructor(options: StickyPartitionerOptions = {}) {
    const { stickyBytes } = options
    if (stickyBytes !== undefined && (!Number.isInteger(stickyBytes) || stickyBytes < 1)) {
      throw new KafkaWireError('ERR_PARTITION', `stickyBytes must be a positive integer, got ${stickyBytes}`)
    }
    this.#stickyBytes = stickyBytes
    this.#random = options.random ?? Math.random
  }

  partition(message: PartitionerMessage, partitionCount: number, availablePartitions?: readonly number[]): number {
    checkCount(message.topic, partitionCount)
    let t = this.#topics.get(message.topic)
    if (t === undefined) {
      t = {
        partition: -1,
        previous: -1,
        produced: 0,
        checked: undefined,
        loadIds: null,
        loadCft: null,
        loadLength: 0,
      }
      this.#topics.set(message.topic, t)
    }
    let p = t.partition
    if (p >= partitionCount) p = -1
    if (p >= 0 && availablePartitions !== t.checked) {
      t.checked = availablePartitions
      if (availablePartitions !== undefined && availablePartitions.length > 0 && !availablePartitions.includes(p)) {
        p = -1
      }
    }
    if (p < 0) {
      p = this.#next(t, partitionCount, availablePartitions)
      t.partition = p
      t.produced = 0
      t.checked = availablePartitions
    }
    return p
  }

  /** The producer closed the batch it was filling for `topic`/`partition` (KIP-480's onNewBatch). */
  onBatchClosed(topic: string, partition: number): void {
    const t = this.#topics.get(topic)
    if (t === undefined || t.partition !== partition) return
    if (this.#stickyBytes === undefined || t.produced >= this.#stickyBytes) this.#leave(t)
  }

  /** The producer appended `bytes` to `topic`/`partition` (KIP-794 accounting; a no-op without stickyBytes). */
  onAppend(topic: string, partition: number, bytes: number): void {
    if (this.#stickyBytes === undefined) return
    const t = this.#topics.get(topic)
    if (t === undefined || t.partition !== partition) return
    t.produced += bytes
    if (t.produced >= 2 * this.#stickyBytes) this.#leave(t)
  }

  /**
   * KIP-794 adaptive partitioning: `queueSizes[i]` batches are queued for partition `partitionIds[i]`; only
   * partitions the producer is willing to send to are listed. The next switch picks partition i with a
   * weight of `max(queueSizes) + 1 - queueSizes[i]`. Uniform again when the lists are empty, or when all
   * sizes are equal and no partition was left out (`partitionCount`, default the list's length).
   */
  updateLoad(
    topic: string,
    partitionIds: readonly number[],
    queueSizes: readonly number[],
    partitionCount = partitionIds.length,
  ): void {
    const t = this.#topics.get(topic)
    if (t === undefined) return // no unkeyed message yet: the first choice will be uniform anyway
    const length = Math.min(partitionIds.length, queueSizes.length)
    if (length < 1 || partitionCount < 2) {
      t.loadLength = 0
      return
    }
    let max = queueSizes[0]
    let allEqual = true
    for (let i = 1; i < length; i++) {
      if (queueSizes[i] !== queueSizes[0]) allEqual = false
      if (queueSizes[i] > max) max = queueSizes[i]
    }
    if (allEqual && length >= partitionCount) {
      t.loadLength = 0
      return
    }
    if (t.loadIds === null || t.loadIds.length < length) {
      t.loadIds = new Int32Array(length)
      t.loadCft = new Float64Array(length)
    }
    const ids = t.loadIds
    const cft = t.loadCft!
    let sum = 0
    for (let i = 0; i < length; i++) {
      sum += max + 1 - queueSizes[i]
      cft[i] = sum
      ids[i] = partitionIds[i]
    }
    t.loadLength = length
  }

  /** The sticky partition of `topic`, if one is chosen (for diagnostics and tests). */
  current(topic: string): number | undefined {
    const p = this.#topics.get(topic)?.partition
    return p === undefined || p < 0 ? undefined : p
  }

  /** Forgets a topic (deleted, or no longer produced to). */
  forget(topic: string): void {
    this.#topics.delete(topic)
  }

  #leave(t: StickyTopic): void {
    t.previous = t.partition
    t.partition = -1
    t.produced = 0
  }

  #next(t: StickyTopic, partitionCount: number, available: readonly number[] | undefined): number {
    if (t.loadLength > 0) {
      // Weighted choice: the first index whose cumulative frequency exceeds a random point below the total.
      const cft = t.loadCft!
      const r = this.#random() * cft[t.loadLength - 1]
      let lo = 0
      let hi = t.loadLength - 1
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (cft[mid] > r) hi = mid
        else lo = mid + 1
      }
      const p = t.loadIds![lo]
      if (p >= 0 && p < partitionCount) return p
      // Stale load stats (fewer partitions now): fall back to a uniform choice.
    }
    const previous = t.previous
    if (available !== undefined && available.length > 0) {
      const at = previous >= 0 ? available.indexOf(previous) : -1
      if (at < 0 || available.length === 1) return available[randomBelow(this.#random, available.length)]
      let i = randomBelow(this.#random, available.length - 1)
      if (i >= at) i++
      return available[i]
    }
    if (previous < 0 || previous >= partitionCount || partitionCount === 1) {
      return randomBelow(this.#random, partitionCount)
    }
    const i = randomBelow(this.#random, partitionCount - 1)
    return i >= previous ? i + 1 : i
  }
}

/** A new `StickyPartitioner` (one per producer). */
export function stickyPartitioner(options?: StickyPartitionerOptions): StickyPartitioner {
  return new StickyPartitioner(options)
}

// ---------------------------------------------------------------------------------------------
// Default

export interface DefaultPartitionerOptions extends StickyPartitionerOptions {
  /** Java's partitioner.ignore.keys: place keyed messages with the sticky partitioner too. Default false. */
  ignoreKeys?: boolean
}

/**
 * The Java client's default behaviour: the message's own partition when it names one (checked against the
 * partition count), else murmur2 of the key (`toPositive(murmur2(key)) % partitionCount`, over all
 * partitions), else the sticky partition for messages with a null key. Hooks go to the sticky partitioner.
 */
export class DefaultPartitioner implements PartitionerObject {
  readonly sticky: StickyPartitioner
  readonly #ignoreKeys: boolean

  constructor(options: DefaultPartitionerOptions = {}) {
    this.sticky = new StickyPartitioner(options)
    this.#ignoreKeys = options.ignoreKeys === true
  }

  partition(message: PartitionerMessage, partitionCount: number, availablePartitions?: readonly number[]): number {
    if (message.partition !== undefined && message.partition !== null) {
      return manualPartitioner(message, partitionCount)
    }
    if (message.key !== null && !this.#ignoreKeys) {
      checkCount(message.topic, partitionCount)
      return toPositive(murmur2(message.key)) % partitionCount
    }
    return this.sticky.partition(message, partitionCount, availablePartitions)
  }

  onBatchClosed(topic: string, partition: number): void {
    this.sticky.onBatchClosed(topic, partition)
  }

  onAppend(topic: string, partition: number, bytes: number): void {
    this.sticky.onAppend(topic, partition, bytes)
  }

  updateLoad(
    topic: string,
    partitionIds: readonly number[],
    queueSizes: readonly number[],
    partitionCount?: number,
  ): void {
    this.sticky.updateLoad(topic, partitionIds, queueSizes, partitionCount)
  }
}

/** A new `DefaultPartitioner` (one per producer). */
export function defaultPartitioner(options?: DefaultPartitionerOptions): DefaultPartitioner {
  return new DefaultPartitioner(options)
}

// ---------------------------------------------------------------------------------------------
// Resolution

/** A fresh partitioner for a built-in name; ERR_PARTITION for an unknown name. */
export function partitionerByName(name: PartitionerName, options?: DefaultPartitionerOptions): Partitioner {
  switch (name) {
    case 'default':
      return new DefaultPartitioner(options)
    case 'murmur2':
      return murmur2Partitioner
    case 'sticky':
      return new StickyPartitioner(options)
    case 'round-robin':
      return new RoundRobinPartitioner()
    case 'random':
      return randomPartitioner
    case 'fnv1a':
      return fnv1aPartitioner
    case 'manual':
      return manualPartitioner
    default:
      throw new KafkaWireError('ERR_PARTITION', `unknown partitioner ${JSON.stringify(name)}`)
  }
}

const noop = (): void => {}

/**
 * What a producer holds: any partitioner (function, object or name) with every hook present and each result
 * checked. A result that is not an integer in [0, partitionCount) — a bug in a custom partitioner, or a
 * factory such as `roundRobinPartitioner` passed without being called — throws ERR_PARTITION.
 */
export function resolvePartitioner(choice: Partitioner | PartitionerName = 'default'): ResolvedPartitioner {
  const p = typeof choice === 'string' ? partitionerByName(choice) : choice
  if (typeof p === 'function') {
    return {
      partition: (message, partitionCount, availablePartitions) =>
        checked(message, partitionCount, p(message, partitionCount, availablePartitions)),
      onBatchClosed: noop,
      onAppend: noop,
      updateLoad: noop,
    }
  }
  if (typeof p !== 'object' || p === null || typeof p.partition !== 'function') {
    throw new KafkaWireError('ERR_PARTITION', 'a partitioner is a function or an object with a partition method')
  }
  return {
    partition: (message, partitionCount, availablePartitions) =>
      checked(message, partitionCount, p.partition(message, partitionCount, availablePartitions)),
    onBatchClosed: p.onBatchClosed ? p.onBatchClosed.bind(p) : noop,
    onAppend: p.onAppend ? p.onAppend.bind(p) : noop,
    updateLoad: p.updateLoad ? p.updateLoad.bind(p) : noop,
  }
}

function checked(message: PartitionerMessage, partitionCount: number, p: unknown): number {
  if (typeof p === 'number' && Number.isInteger(p) && p >= 0 && p < partitionCount) return p
  const hint = typeof p === 'object' && p !== null ? ' (a factory such as roundRobinPartitioner() must be called)' : ''
  throw partitionError(
    `topic ${message.topic}: the partitioner returned ${typeof p === 'number' ? p : typeof p}, not a partition in [0, ${partitionCount})${hint}`,
    message.topic,
  )
}
