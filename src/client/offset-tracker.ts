// Which offset of a partition may be committed, given messages processed out of order.
//
// Kafka commits a position, not a set: committing N says "every record below N is done", in the next-offset
// convention (the offset of the next record to consume, which is what `kafka-consumer-groups` and the Java
// client subtract from the log end to show lag). With several workers, messages finish out of order, so the
// position we may commit is the lowest offset not yet finished: committing the largest finished offset (as
// go_kafka_client did) loses every unfinished message below it when the consumer crashes.
//
// An OffsetTracker follows one partition:
//   start(offset)    a message was handed out for processing. Offsets are started in increasing order (the
//                    order the fetcher delivers them), possibly with gaps (compaction, transaction markers);
//                    a gap between two started offsets never blocks anything: those offsets do not exist.
//   finish(offset)   its outcome allows committing past it (processed, or failed with a "commit" decision).
//   hold(offset)     processing is over but it must not be committed past (a "skip-commit" decision): the
//                    watermark stays at it until `release(offset)` or a reset; later offsets still finish.
//   skipTo(next)     the fetch position moved to `next` past offsets that will never be delivered (control
//                    records, a compacted tail): once nothing started below `next` is pending, the watermark
//                    is `next`.
//   watermark()      the lowest offset started and not finished (in flight or held), or, when there is none,
//                    one past the last started offset or the skipTo position, whichever is higher.
//   committable()    the watermark when it is beyond what was committed (`markCommitted`), else null.
//
// Cost: started offsets live in a ring buffer in start order (hence sorted), with a done flag each. Finishing
// the oldest in-flight offset (the common, in-order case) is O(1) and pops every finished offset behind it;
// finishing another one is a binary search (O(log in-flight)). Held offsets live in a small sorted array of
// their own, so a hold never keeps the ring from emptying (memory stays bounded by the in-flight count plus
// the held count, however many messages are processed after a hold).

import { KafkaWireError } from '../protocol/errors.js'

const INITIAL_CAPACITY = 16

/** A topic-partition and the offset to commit for it (next-offset convention). */
export interface TopicPartitionOffset {
  topic: string
  partition: number
  offset: bigint
}

export class OffsetTracker {
  readonly topic: string | undefined
  readonly partition: number | undefined
  // In-flight ring: offsets in start order, a done flag per slot. Slots [head, head + size) are used.
  #offsets: bigint[] = new Array<bigint>(INITIAL_CAPACITY).fill(0n)
  #done = new Uint8Array(INITIAL_CAPACITY)
  #mask = INITIAL_CAPACITY - 1
  #head = 0
  #size = 0
  #inFlight = 0
  // The lowest offset that may be started next is one past the last started or the skipTo position, whichever
  // is higher; kept as the two, so that start() costs no BigInt addition.
  #lastStarted: bigint | null = null
  #skippedTo: bigint | null = null
  /** Offsets held (processed, not committable), sorted ascending. */
  #held: bigint[] = []
  #committed: bigint | null

  constructor(options: { topic?: string; partition?: number; committed?: bigint | null } = {}) {
    this.topic = options.topic
    this.partition = options.partition
    this.#committed = options.committed ?? null
  }

  /** Messages started and neither finished nor held. */
  get pendingCount(): number {
    return this.#inFlight
  }

  /** Offsets held by a skip-commit decision (each one stops the watermark). */
  get heldCount(): number {
    return this.#held.length
  }

  /** The held offsets, ascending (a copy). */
  heldOffsets(): bigint[] {
    return this.#held.slice()
  }

  /** The last offset recorded by `markCommitted` (or given at construction), null if none. */
  get committed(): bigint | null {
    return this.#committed
  }

  /** The lowest offset that `start` accepts next, null before the first start or skipTo. */
  get nextOffset(): bigint | null {
    return this.#next()
  }

  #next(): bigint | null {
    const after = this.#lastStarted === null ? null : this.#lastStarted + 1n
    const skipped = this.#skippedTo
    if (after === null) return skipped
    return skipped !== null && skipped > after ? skipped : after
  }

  /**
   * A message at `offset` was handed out for processing. Offsets must be started in increasing order: an
   * offset below one already started (or below the skipTo position) is an ERR_OFFSET_ORDER error. Call
   * `reset` after a seek.
   */
  start(offset: bigint): void {
    const last = this.#lastStarted
    if ((last !== null && offset <= last) || (this.#skippedTo !== null && offset < this.#skippedTo)) {
      throw new KafkaWireError(
        'ERR_OFFSET_ORDER',
        `offset ${offset} started below the next expected offset ${this.#next()}${this.#where()}`,
        this.#details(),
      )
    }
    if (this.#size === this.#mask + 1) this.#grow()
    const slot = (this.#head + this.#size) & this.#mask
    this.#offsets[slot] = offset
    this.#done[slot] = 0
    this.#size++
    this.#inFlight++
    this.#lastStarted = offset
  }

  /**
   * The message at `offset` is done and may be committed past. False (and nothing changes) when the offset
   * is not in flight: never started, already finished or held, or started before a reset.
   */
  finish(offset: bigint): boolean {
    return this.#settle(offset)
  }

  /**
   * The message at `offset` was processed (it is no longer in flight) but must not be committed past: the
   * watermark stays at `offset` until `release(offset)` or `reset()`. False when the offset is not in flight.
   */
  hold(offset: bigint): boolean {
    if (!this.#settle(offset)) return false
    const held = this.#held
    let lo = 0
    let hi = held.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (held[mid] < offset) lo = mid + 1
      else hi = mid
    }
    held.splice(lo, 0, offset)
    return true
  }

  /** A held offset becomes finished (committable). False when `offset` is not held. */
  release(offset: bigint): boolean {
    const held = this.#held
    let lo = 0
    let hi = held.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const v = held[mid]
      if (v === offset) {
        held.splice(mid, 1)
        return true
      }
      if (v < offset) lo = mid + 1
      else hi = mid - 1
    }
    return false
  }

  /**
   * Offsets below `nextOffset` that were not started will never be delivered (the fetch position moved past
   * control records or a compacted range). Offsets started below it and still pending keep blocking; a
   * position at or below the next expected offset changes nothing.
   */
  skipTo(nextOffset: bigint): void {
    const next = this.#next()
    if (next === null || nextOffset > next) this.#skippedTo = nextOffset
  }

  /**
   * The position that may be committed if the partition were committed now: the lowest offset started and
   * not finished (in flight or held), else the next expected offset; null before the first start or skipTo.
   */
  watermark(): bigint | null {
    let w = this.#size > 0 ? this.#offsets[this.#head] : this.#next()
    if (this.#held.length > 0) {
      const h = this.#held[0]
      if (w === null || h < w) w = h
    }
    return w
  }

  /** The offset to commit (next-offset convention), or null when it would not move past the committed one. */
  committable(): bigint | null {
    const w = this.watermark()
    if (w === null) return null
    if (this.#committed !== null && w <= this.#committed) return null
    return w
  }

  /** `offset` was committed (the broker acknowledged it). A lower offset than the one recorded is ignored. */
  markCommitted(offset: bigint): void {
    if (this.#committed === null || offset > this.#committed) this.#committed = offset
  }

  /**
   * Forgets everything (after a revoke, a seek or an offset reset): in-flight and held offsets, the next
   * expected offset; the committed offset becomes `committed`. Later finish/hold calls for offsets started
   * before the reset return false.
   */
  reset(committed: bigint | null = null): void {
    this.#head = 0
    this.#size = 0
    this.#inFlight = 0
    this.#lastStarted = null
    this.#skippedTo = null
    this.#held = []
    this.#committed = committed
    if (this.#mask + 1 > 1024) {
      // Give back the memory of a burst.
      this.#offsets = new Array<bigint>(INITIAL_CAPACITY).fill(0n)
      this.#done = new Uint8Array(INITIAL_CAPACITY)
      this.#mask = INITIAL_CAPACITY - 1
    }
  }

  #settle(offset: bigint): boolean {
    const size = this.#size
    if (size === 0) return false
    const offsets = this.#offsets
    const mask = this.#mask
    const head = this.#head
    let slot = -1
    if (offsets[head] === offset) slot = head
    else {
      // Binary search over the ring (sorted in start order).
      let lo = 1
      let hi = size - 1
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1
        const s = (head + mid) & mask
        const v = offsets[s]
        if (v === offset) {
          slot = s
          break
        }
        if (v < offset) lo = mid + 1
        else hi = mid - 1
      }
      if (slot < 0) return false
    }
    const done = this.#done
    if (done[slot] === 1) return false
    done[slot] = 1
    this.#inFlight--
    if (slot === head) {
      // Pop every settled offset at the front.
      let h = head
      let n = size
      while (n > 0 && done[h] === 1) {
        h = (h + 1) & mask
        n--
      }
      this.#head = h
      this.#size = n
    }
    return true
  }

  #grow(): void {
    const capacity = (this.#mask + 1) * 2
    const offsets = new Array<bigint>(capacity).fill(0n)
    const done = new Uint8Array(capacity)
    for (let i = 0; i < this.#size; i++) {
      const s = (this.#head + i) & this.#mask
      offsets[i] = this.#offsets[s]
      done[i] = this.#done[s]
    }
    this.#offsets = offsets
    this.#done = done
    this.#mask = capacity - 1
    this.#head = 0
  }

  #where(): string {
    return this.topic === undefined ? '' : ` (${this.topic}-${this.partition})`
  }

  #details(): { topic?: string; partition?: number } {
    return this.topic === undefined ? {} : { topic: this.topic, partition: this.partition }
  }
}

/** The offset trackers of the partitions a consumer owns, keyed by topic and partition. */
export class PartitionOffsets {
  readonly #topics = new Map<string, Map<number, OffsetTracker>>()
  #size = 0
  #deletions = 0

  /** Goes up on every delete: a tracker looked up earlier is still this partition's while it is unchanged. */
  get deletions(): number {
    return this.#deletions
  }

  /** The tracker of a partition, created (with `committed`, if given) when there is none. */
  tracker(topic: string, partition: number, committed: bigint | null = null): OffsetTracker {
    let partitions = this.#topics.get(topic)
    if (partitions === undefined) {
      partitions = new Map()
      this.#topics.set(topic, partitions)
    }
    let tracker = partitions.get(partition)
    if (tracker === undefined) {
      tracker = new OffsetTracker({ topic, partition, committed })
      partitions.set(partition, tracker)
      this.#size++
    }
    return tracker
  }

  /** The tracker of a partition, if there is one. */
  get(topic: string, partition: number): OffsetTracker | undefined {
    return this.#topics.get(topic)?.get(partition)
  }

  /** Drops a partition's tracker (after its revoke was committed); true if there was one. */
  delete(topic: string, partition: number): boolean {
    const partitions = this.#topics.get(topic)
    if (partitions === undefined || !partitions.delete(partition)) return false
    if (partitions.size === 0) this.#topics.delete(topic)
    this.#size--
    this.#deletions++
    return true
  }

  get size(): number {
    return this.#size
  }

  /** Every partition whose watermark moved past its committed offset, with the offset to commit. */
  committable(): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = []
    for (const [topic, partitions] of this.#topics) {
      for (const [partition, tracker] of partitions) {
        const offset = tracker.committable()
        if (offset !== null) out.push({ topic, partition, offset })
      }
    }
    return out
  }

  /** Records acknowledged commits (entries for partitions without a tracker are ignored). */
  markCommitted(entries: Iterable<TopicPartitionOffset>): void {
    for (const { topic, partition, offset } of entries) this.get(topic, partition)?.markCommitted(offset)
  }

  /** Messages in flight over all partitions. */
  get pendingCount(): number {
    let n = 0
    for (const partitions of this.#topics.values()) for (const t of partitions.values()) n += t.pendingCount
    return n
  }

  *[Symbol.iterator](): IterableIterator<[topic: string, partition: number, tracker: OffsetTracker]> {
    for (const [topic, partitions] of this.#topics) {
      for (const [partition, tracker] of partitions) yield [topic, partition, tracker]
    }
  }

  clear(): void {
    this.#topics.clear()
    this.#size = 0
  }
}
