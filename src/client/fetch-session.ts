// The client side of a fetch session with one broker (KIP-227). The broker keeps the partitions a consumer
// fetches and their fetch offsets; after a first, full request, each request names only what changed: the
// partitions added or whose offset moved, and the ones to forget. The broker's answer names only partitions
// with something new (records, a moved high watermark, an error). With many partitions and few messages, that
// saves most of the bytes and parsing of both directions.
//
// Epochs: a full request with sessionId 0 and epoch 0 asks for a new session; the broker answers with its id
// (0 when it keeps no session: the cache is full or sessions are off, and the next request is full again).
// Each incremental request carries the next epoch (1, 2, ... wrapping to 1). A request that failed on the way
// leaves the broker's state unknown: the next one is full, with the old id and epoch 0, which closes that
// session and opens a new one. FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH and
// FETCH_SESSION_TOPIC_ID_ERROR (the broker evicted the session, restarted, or a topic was recreated) do the same.
// Requests to one broker must go one at a time: the fetcher keeps one in flight per broker.

import { ErrorCode } from '../protocol/error-codes.js'
import type { FetchForgottenTopic, FetchTopic } from '../protocol/fetch.js'

/** A partition the fetcher wants from this broker in the next request. */
export interface WantedPartition {
  topic: string
  /** The topic's id from metadata (v13+ requests name topics by id); undefined before it is known. */
  topicId: string | undefined
  partition: number
  fetchOffset: bigint
  maxBytes: number
}

/** What a request says about the session and its partitions. */
export interface SessionRequest {
  sessionId: number
  sessionEpoch: number
  topics: FetchTopic[]
  forgottenTopicsData: FetchForgottenTopic[]
  /** Every partition of the session after this request, with the fetch offset the broker will use for it. */
  offsets: Map<string, bigint>
  /** A full request (all partitions named). */
  full: boolean
}

const MAX_EPOCH = 0x7fffffff

const SESSION_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  ErrorCode.INVALID_FETCH_SESSION_EPOCH,
  ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
])

/** A response error code that only means: start the session over with a full request. */
export function isSessionError(code: number): boolean {
  return SESSION_ERRORS.has(code)
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`

export class FetchSession {
  /** The broker's id for the session, 0 while there is none. */
  id = 0
  /** The epoch of the next request: 0 asks for a new session (closing `id` if set). */
  epoch = 0
  /** The session's partitions as the broker holds them (after the last request it answered). */
  readonly #held = new Map<string, WantedPartition>()
  /** What the request in flight changes, applied when it is answered. */
  #pending: { wanted: Map<string, WantedPartition>; full: boolean } | null = null

  /** Partitions in the session. */
  get size(): number {
    return this.#held.size
  }

  /** The next request for exactly the partitions in `wanted` (any not in it leave the session). */
  build(wanted: readonly WantedPartition[]): SessionRequest {
    const next = new Map<string, WantedPartition>()
    for (const w of wanted) next.set(keyOf(w.topic, w.partition), w)
    let full = this.epoch === 0
    if (!full) {
      // A recreated topic has a new id: the broker's entry is for the old one. Start over.
      for (const [k, w] of next) {
        const held = this.#held.get(k)
        if (held !== undefined && held.topicId !== w.topicId) full = true
      }
    }
    const offsets = new Map<string, bigint>()
    for (const [k, w] of next) offsets.set(k, w.fetchOffset)
    const topics = new Map<string, FetchTopic>()
    const add = (w: WantedPartition) => {
      let t = topics.get(w.topic)
      if (t === undefined) topics.set(w.topic, (t = { topic: w.topic, topicId: w.topicId, partitions: [] }))
      t.partitions.push({ partition: w.partition, fetchOffset: w.fetchOffset, partitionMaxBytes: w.maxBytes })
    }
    const forgotten = new Map<string, FetchForgottenTopic>()
    if (full) {
      for (const w of next.values()) add(w)
    } else {
      for (const [k, w] of next) {
        const held = this.#held.get(k)
        if (held === undefined || held.fetchOffset !== w.fetchOffset || held.maxBytes !== w.maxBytes) add(w)
      }
      for (const [k, h] of this.#held) {
        if (next.has(k)) continue
        let t = forgotten.get(h.topic)
        if (t === undefined) forgotten.set(h.topic, (t = { topic: h.topic, topicId: h.topicId, partitions: [] }))
        t.partitions.push(h.partition)
      }
    }
    this.#pending = { wanted: next, full }
    return {
      sessionId: this.id,
      sessionEpoch: full ? 0 : this.epoch,
      topics: [...topics.values()],
      forgottenTopicsData: [...forgotten.values()],
      offsets,
      full,
    }
  }

  /**
   * The broker answered the request `build` made, with this top-level error code and session id. A session
   * error starts the session over (next request full); another error leaves the session as it was before the
   * request (the broker did not apply it).
   */
  answered(errorCode: number, sessionId: number): void {
    const pending = this.#pending
    this.#pending = null
    if (pending === null) return
    if (errorCode !== 0) {
      if (isSessionError(errorCode)) this.restart()
      return
    }
    this.#held.clear()
    for (const [k, w] of pending.wanted) this.#held.set(k, w)
    if (pending.full) {
      this.id = sessionId
      // No session (id 0): every request stays a full one.
      this.epoch = sessionId === 0 ? 0 : 1
    } else {
      this.epoch = this.epoch >= MAX_EPOCH ? 1 : this.epoch + 1
    }
  }

  /** The request got no answer (a broken connection, a timeout): the broker's state is unknown. */
  failed(): void {
    this.#pending = null
    this.restart()
  }

  /** The next request is a full one, closing the current session (if any) and asking for a new one. */
  restart(): void {
    this.epoch = 0
    this.#held.clear()
  }
}
