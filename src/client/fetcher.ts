import { EventEmitter } from 'node:events'
import { backoffDelay } from '../network/backoff.js'
import type { Cluster } from '../network/cluster.js'
import { ErrorCode, isFatal, KafkaError, needsMetadataRefresh } from '../protocol/error-codes.js'
import { KafkaWireError } from '../protocol/errors.js'
import { Fetch, type FetchPartitionData, type FetchRequest, type FetchResponse } from '../protocol/fetch.js'
import {
  type DecodeRecordBatchesOptions,
  decodeRecordBatchAt,
  type RecordBatch,
  type RecordHeader,
  scanRecordBatches,
  type TaggedRecord,
} from '../protocol/record-batch.js'
import { FetchSession, isSessionError } from './fetch-session.js'
import { EARLIEST, LATEST, listOffsets } from './list-offset.js'
import type { Meter, MetricsRegistry, Timer } from './metrics.js'

/**
 * A message as the consumer hands it out: key, value and header values are views into the fetched frame.
 * Decoded straight into this shape (record-batch.ts's TaggedRecord), one object per record.
 */
export interface ConsumerMessage extends TaggedRecord {
  topic: string
  partition: number
  offset: bigint
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: readonly RecordHeader[]
}

export type OffsetReset = 'earliest' | 'latest' | 'none'

export interface FetcherOptions {
  cluster: Cluster
  /** How long a broker may hold a fetch waiting for minBytes (ms). Default 500. */
  maxWaitMs?: number
  minBytes?: number
  /** Per Fetch request. Default 50 MiB. */
  maxBytes?: number
  /** Per partition and request. Default 1 MiB. */
  partitionMaxBytes?: number
  /**
   * Bytes kept ahead of processing per partition, counted as fetched (compressed) bytes; fetching for it pauses
   * above this. Records are decoded one batch at a time as they are handed out, so memory stays within this plus
   * one batch's messages. Default 4 MiB.
   */
  reservoirBytes?: number
  /** 'read_committed' hides aborted transactions and waits for the last stable offset. Default 'read_uncommitted'. */
  isolationLevel?: 'read_uncommitted' | 'read_committed'
  /** Where to start when there is no committed offset or it is out of range. Default 'latest'. */
  autoOffsetReset?: OffsetReset
  rackId?: string | null
  verifyCrc?: boolean
  /** Fetch latency, fetched messages and bytes go here (consumer.fetch.*). */
  metrics?: MetricsRegistry
}

/**
 * The fetcher could not go on for a partition: no reset policy (ERR_NO_OFFSET), corrupt data (ERR_FETCH_CORRUPT),
 * or a fatal broker error such as TOPIC_AUTHORIZATION_FAILED (its name is the code, the KafkaError the cause).
 */
export class FetchError extends KafkaWireError {}

interface PartitionState {
  topic: string
  partition: number
  /** Next offset to fetch; null until resolved from a committed offset or the reset policy. */
  position: bigint | null
  paused: boolean
  failed: boolean
  /** Fetched and not decoded yet: the complete batches of fetch responses, oldest first. */
  chunks: Chunk[]
  /** The decoded messages of the batch being handed out, and the next one to hand out. */
  messages: ConsumerMessage[]
  next: number
  /** Wire bytes of that batch: they stay in bufferedBytes until its last message is handed out. */
  batchBytes: number
  /** Wire bytes fetched and not handed out (the reservoir's measure). */
  bufferedBytes: number
  resetting: boolean
  /** How its batches decode: tagged with the topic and partition, CRC checked or not. */
  decode: DecodeRecordBatchesOptions
  /** The partition's high watermark as of the last fetch response (-1 before one). */
  highWatermark: bigint
}

/**
 * The complete batches of one fetch response for a partition. They are decoded one batch at a time as the
 * messages are drained, so what a fetch holds in memory is its wire bytes (bounded by the reservoir) plus the
 * messages of one batch, however well it was compressed.
 */
interface Chunk {
  /** The partition's records bytes (a view into the response frame); complete batches end at `end`. */
  buf: Buffer
  /** Where the next batch to decode starts. */
  at: number
  end: number
  /** The fetch offset, then the offset after the last batch handed on: records below it are skipped. */
  from: bigint
  /** read_committed: the aborted transactions the fetch reported (by first offset), the next to open, the open ones. */
  aborted: Array<{ producerId: bigint; firstOffset: bigint }> | null
  nextAborted: number
  active: Set<bigint> | null
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
const NO_MESSAGES: ConsumerMessage[] = []
/** A partition waiting for its position from the reset policy; `from` is the position it had then. */
interface PendingReset {
  s: PartitionState
  from: bigint | null
  why: string
  /** The position was out of range: metadata is refreshed first (the leader may have moved). */
  outOfRange: boolean
  attempt: number
}

/** Messages of one partition handed out in a turn of drainTo before the next partition's turn. */
const DRAIN_QUANTUM = 64

function clearBuffered(s: PartitionState): void {
  s.chunks = []
  s.messages = NO_MESSAGES
  s.next = 0
  s.batchBytes = 0
  s.bufferedBytes = 0
}

/**
 * Keeps a bounded reservoir of fetched messages per owned partition. One Fetch per broker carries
 * every fetchable partition it leads; a partition whose buffer is full is left out until it drains.
 * Positions only move forward: a leader change refreshes metadata and fetches again from the same
 * position, an out-of-range position is reset once by the policy and reported ('offset-reset').
 *
 * Events: 'records' (new messages buffered), 'offset-reset' {topic, partition, from, to, policy},
 * 'partition-error' (FetchError), 'warning'.
 */
export class Fetcher extends EventEmitter {
  private readonly cluster: Cluster
  private readonly options: Required<Omit<FetcherOptions, 'cluster' | 'rackId' | 'metrics'>> & { rackId: string | null }
  private readonly m: { latency: Timer; messages: Meter; bytes: Meter } | null
  private readonly partitions = new Map<string, PartitionState>()
  private readonly inflight = new Set<number>()
  private scheduled = false
  private closed = false
  private failures = 0
  /** Partitions whose last fetch returned an error: not fetched again before `until` (ms since epoch). */
  private readonly retryAfter = new Map<PartitionState, { until: number; attempts: number }>()
  private order: PartitionState[] = []
  private cursor = 0
  /** The fetch session with each leader (KIP-227). */
  private readonly sessions = new Map<number, FetchSession>()
  /** Resets asked for and not yet sent (see reset). */
  private resets: PendingReset[] = []
  /** Scratch array of decodeNext. */
  private readonly decoded: RecordBatch[] = []

  constructor(options: FetcherOptions) {
    super()
    this.cluster = options.cluster
    this.options = {
      maxWaitMs: options.maxWaitMs ?? 500,
      minBytes: options.minBytes ?? 1,
      maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
      partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024,
      reservoirBytes: options.reservoirBytes ?? 4 * 1024 * 1024,
      isolationLevel: options.isolationLevel ?? 'read_uncommitted',
      autoOffsetReset: options.autoOffsetReset ?? 'latest',
      rackId: options.rackId ?? null,
      verifyCrc: options.verifyCrc ?? true,
    }
    const reg = options.metrics
    this.m = reg
      ? {
          latency: reg.timer('consumer.fetch.latency'),
          messages: reg.meter('consumer.fetch.messages'),
          bytes: reg.meter('consumer.fetch.bytes'),
        }
      : null
  }

  /** Start fetching a partition from `position` (null: resolve by the reset policy). */
  assign(topic: string, partition: number, position: bigint | null): void {
    const k = key(topic, partition)
    if (this.partitions.has(k)) return
    const state: PartitionState = {
      topic,
      partition,
      position,
      paused: false,
      failed: false,
      chunks: [],
      messages: NO_MESSAGES,
      next: 0,
      batchBytes: 0,
      bufferedBytes: 0,
      resetting: false,
      decode: { topic, partition, verifyCrc: this.options.verifyCrc, tagged: true },
      highWatermark: -1n,
    }
    this.partitions.set(k, state)
    this.order.push(state)
    this.cluster.addTopics([topic])
    if (position === null || position < 0n) this.reset(state, 'no committed offset')
    this.schedule()
  }

  /** Stop fetching a partition and drop what is buffered for it. */
  unassign(topic: string, partition: number): void {
    const state = this.partitions.get(key(topic, partition))
    if (!state) return
    this.partitions.delete(key(topic, partition))
    this.order = this.order.filter((s) => s !== state)
    clearBuffered(state)
    this.retryAfter.delete(state)
  }

  pause(topic: string, partition: number): void {
    const s = this.partitions.get(key(topic, partition))
    if (s) s.paused = true
  }

  resume(topic: string, partition: number): void {
    const s = this.partitions.get(key(topic, partition))
    if (s) {
      s.paused = false
      this.schedule()
    }
  }

  /** Move a partition's position (drops what is buffered for it). */
  seek(topic: string, partition: number, offset: bigint): void {
    const s = this.partitions.get(key(topic, partition))
    if (!s) return
    s.position = offset
    clearBuffered(s)
    s.failed = false
    this.retryAfter.delete(s)
    this.schedule()
  }

  position(topic: string, partition: number): bigint | null {
    return this.partitions.get(key(topic, partition))?.position ?? null
  }

  /** Everything fetched for the partition was handed out: its position is where the next message will come from. */
  drained(topic: string, partition: number): boolean {
    const s = this.partitions.get(key(topic, partition))
    return s !== undefined && s.chunks.length === 0 && s.next >= s.messages.length
  }

  /** The high watermark the last fetch reported (the offset the next produced message gets), or -1. */
  highWatermark(topic: string, partition: number): bigint {
    return this.partitions.get(key(topic, partition))?.highWatermark ?? -1n
  }

  get bufferedBytes(): number {
    let n = 0
    for (const s of this.order) n += s.bufferedBytes
    return n
  }

  /**
   * Hand buffered messages to `sink`, partitions in turn, until nothing is left or the sink returns
   * false (it has taken that message and wants no more for now, like a stream's write()). Returns how
   * many were handed out. Buffer space freed by it lets fetching resume.
   */
  drainTo(sink: (message: ConsumerMessage) => boolean): number {
    let handed = 0
    const n = this.order.length
    let idle = 0
    let more = true
    while (more && idle < n) {
      const s = this.order[this.cursor % n]
      this.cursor = (this.cursor + 1) % n
      if (s.paused || (s.next >= s.messages.length && !this.decodeNext(s))) {
        idle++
        continue
      }
      idle = 0
      // A turn hands out up to DRAIN_QUANTUM messages, so that every partition's messages reach the sink.
      const messages = s.messages
      let i = s.next
      const stop = Math.min(messages.length, i + DRAIN_QUANTUM)
      while (i < stop) {
        handed++
        if (!sink(messages[i++])) {
          more = false
          break
        }
      }
      if (s.messages !== messages) continue // dropped by the sink (seek, unassign)
      s.next = i
      if (i >= messages.length) {
        s.bufferedBytes -= s.batchBytes
        s.batchBytes = 0
        s.messages = NO_MESSAGES
        s.next = 0
      }
    }
    if (handed > 0) this.schedule()
    return handed
  }

  /**
   * Decode a partition's next batch that has messages to hand out (skipping control batches, aborted
   * transactions and records below the fetch offset). Returns false when nothing is left, or when a batch
   * does not decode: the partition then fails ('partition-error') and its buffers are dropped.
   */
  private decodeNext(s: PartitionState): boolean {
    const out = this.decoded
    while (s.chunks.length > 0) {
      const c = s.chunks[0]
      if (c.at >= c.end) {
        s.chunks.shift()
        continue
      }
      const at = c.at
      out.length = 0
      let next: number
      try {
        next = decodeRecordBatchAt(c.buf, at, s.decode, out)
      } catch (err) {
        this.corrupt(s, err)
        return false
      }
      c.at = next < 0 || next > c.end ? c.end : next
      const bytes = c.at - at
      let messages: ConsumerMessage[] = NO_MESSAGES
      for (let b = 0; b < out.length; b++) {
        const found = handOn(c, out[b], s.topic, s.partition)
        if (found.length > 0) messages = messages.length === 0 ? found : messages.concat(found)
      }
      out.length = 0
      if (messages.length === 0) {
        s.bufferedBytes -= bytes
        continue
      }
      this.m?.messages.mark(messages.length)
      s.messages = messages
      s.next = 0
      s.batchBytes = bytes
      return true
    }
    return false
  }

  private corrupt(s: PartitionState, err: unknown): void {
    s.failed = true
    clearBuffered(s)
    const at = (err as { baseOffset?: bigint }).baseOffset ?? s.position
    this.emit(
      'partition-error',
      new FetchError('ERR_FETCH_CORRUPT', `${s.topic}-${s.partition} at ${at}: ${(err as Error).message}`, {
        topic: s.topic,
        partition: s.partition,
        cause: err,
      }),
    )
  }

  close(): void {
    this.closed = true
    this.partitions.clear()
    this.order = []
    this.retryAfter.clear()
  }

  // ------------------------------------------------------------------------------------ fetching

  private schedule(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.fetchReady()
    })
  }

  private fetchReady(): void {
    if (this.closed) return
    const byLeader = new Map<number, PartitionState[]>()
    let staleMetadata = false
    for (const s of this.order) {
      if (s.paused || s.failed || s.resetting || s.position === null) continue
      if (this.retryAfter.size > 0 && (this.retryAfter.get(s)?.until ?? 0) > Date.now()) continue
      if (s.bufferedBytes >= this.options.reservoirBytes) continue
      const leader = this.cluster.leaderFor(s.topic, s.partition)
      if (leader < 0) {
        staleMetadata = true
        continue
      }
      let list = byLeader.get(leader)
      if (!list) byLeader.set(leader, (list = []))
      list.push(s)
    }
    if (staleMetadata) this.refreshMetadata()
    for (const [leader, states] of byLeader) if (!this.inflight.has(leader)) this.fetchFrom(leader, states)
  }

  private refreshMetadata(): void {
    if (this.closed) return
    this.cluster.refresh().then(
      () => this.schedule(),
      (err) => {
        this.emit('warning', err)
        setTimeout(() => this.schedule(), backoffDelay(this.failures++, { baseMs: 100, maxMs: 2000 })).unref()
      },
    )
  }

  private fetchFrom(leader: number, states: PartitionState[]): void {
    this.inflight.add(leader)
    let session = this.sessions.get(leader)
    if (session === undefined) this.sessions.set(leader, (session = new FetchSession()))
    const built = session.build(
      states.map((s) => ({
        topic: s.topic,
        topicId: this.cluster.topics.get(s.topic)?.topicId,
        partition: s.partition,
        fetchOffset: s.position!,
        maxBytes: this.options.partitionMaxBytes,
      })),
    )
    const request: FetchRequest = {
      replicaId: -1,
      maxWaitMs: this.options.maxWaitMs,
      minBytes: this.options.minBytes,
      maxBytes: this.options.maxBytes,
      isolationLevel: this.options.isolationLevel === 'read_committed' ? 1 : 0,
      sessionId: built.sessionId,
      sessionEpoch: built.sessionEpoch,
      topics: built.topics,
      forgottenTopicsData: built.forgottenTopicsData,
      rackId: this.options.rackId ?? '',
    }
    this.fetchOnce(leader, session, request, built.offsets).catch(() => {})
  }

  /**
   * One fetch from a leader. `sent` holds the fetch offset the broker uses for every partition of the session
   * (named in this request or not): data for a partition whose position moved since (a seek) is stale.
   */
  private async fetchOnce(
    leader: number,
    session: FetchSession,
    request: FetchRequest,
    sent: Map<string, bigint>,
  ): Promise<void> {
    const started = this.m !== null ? performance.now() : 0
    let buffered = false
    try {
      const c = await this.cluster.connection(leader, 'fetch')
      let response: FetchResponse
      try {
        response = await c.request(Fetch, request, { timeoutMs: this.options.maxWaitMs + 30_000 })
      } catch (err) {
        session.failed()
        throw err
      }
      session.answered(response.errorCode, response.sessionId)
      this.failures = 0
      if (this.m !== null) this.m.latency.update(performance.now() - started)
      // The broker lost the session (evicted, restarted) or a topic was recreated: the next fetch is a full one.
      if (response.errorCode !== 0 && !isSessionError(response.errorCode)) throw new KafkaError(response.errorCode)
      for (const t of response.responses) {
        const topic = t.topic || this.cluster.topicNamesById.get(t.topicId) || ''
        for (const p of t.partitions) {
          const s = this.partitions.get(key(topic, p.partitionIndex))
          // Unassigned or moved (seek) while the fetch was out: its data is stale.
          if (!s || s.position !== sent.get(key(topic, p.partitionIndex))) continue
          if (this.onPartition(s, p)) buffered = true
        }
      }
    } catch (err) {
      if (this.closed) return
      this.emit('warning', err)
      this.refreshMetadata()
      await new Promise<void>((resolve) =>
        setTimeout(resolve, backoffDelay(this.failures++, { baseMs: 50, maxMs: 2000 })).unref(),
      )
    }
    this.inflight.delete(leader)
    // The next fetch goes out before the handlers run on this one's messages, so the round trip overlaps them.
    this.fetchReady()
    if (buffered) this.emit('records')
  }

  /** Takes a partition's part of a fetch response; true when it buffered new batches. */
  private onPartition(s: PartitionState, p: FetchPartitionData): boolean {
    const code = p.errorCode
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      this.reset(s, `offset ${s.position} is out of range`, true)
      return false
    }
    if (code !== 0) {
      this.partitionFailed(s, code)
      return false
    }
    if (this.retryAfter.size > 0) this.retryAfter.delete(s)
    if (p.highWatermark >= 0n) s.highWatermark = p.highWatermark
    const records = p.records
    if (records === null || records.length === 0) return false
    this.m?.bytes.mark(records.length)
    // Only the batch headers are read here (where the complete batches end, the next offset to fetch); the
    // records are decoded batch by batch as drainTo hands them out.
    let scan: ReturnType<typeof scanRecordBatches>
    try {
      scan = scanRecordBatches(records, s.decode)
    } catch (err) {
      this.corrupt(s, err)
      return false
    }
    const from = s.position!
    if (scan === null || scan.nextOffset <= from) return false
    const aborted = this.options.isolationLevel === 'read_committed' ? sortedAborted(p) : null
    s.chunks.push({
      buf: records,
      at: 0,
      end: scan.end,
      from,
      aborted,
      nextAborted: 0,
      active: aborted === null ? null : new Set(),
    })
    s.bufferedBytes += scan.end
    s.position = scan.nextOffset
    return true
  }

  /**
   * A partition error in a fetch response. A fatal one (authorization...) stops the partition ('partition-error')
   * until a seek; the others hold the partition back with a growing backoff, so a partition that keeps failing is
   * not fetched again in a loop as fast as the broker answers: a stale leader (NOT_LEADER_OR_FOLLOWER,
   * FENCED_LEADER_EPOCH...) is asked again once the metadata refresh it triggers had time to land.
   */
  private partitionFailed(s: PartitionState, code: number): void {
    const error = new KafkaError(code, { topic: s.topic, partition: s.partition })
    if (isFatal(code)) {
      s.failed = true
      this.retryAfter.delete(s)
      this.emit(
        'partition-error',
        new FetchError(error.code, `${s.topic}-${s.partition} at ${s.position}: ${error.message}`, {
          topic: s.topic,
          partition: s.partition,
          cause: error,
        }),
      )
      return
    }
    if (needsMetadataRefresh(code) || code === ErrorCode.UNKNOWN_LEADER_EPOCH) this.refreshMetadata()
    else this.emit('warning', error)
    const attempts = this.retryAfter.get(s)?.attempts ?? 0
    const delay = backoffDelay(attempts, { baseMs: 50, maxMs: 2000 })
    this.retryAfter.set(s, { until: Date.now() + delay, attempts: attempts + 1 })
    setTimeout(() => this.schedule(), delay + 1).unref()
  }

  /**
   * Resolve a position by the reset policy (ListOffsets), once, and report it. Resets asked for in the same
   * turn (every partition of an assignment) share one ListOffsets request per leader, so the first fetch
   * carries all of them.
   */
  private reset(s: PartitionState, why: string, outOfRange = false): void {
    if (s.resetting) return
    const policy = this.options.autoOffsetReset
    if (policy === 'none') {
      s.failed = true
      this.emit(
        'partition-error',
        new FetchError('ERR_NO_OFFSET', `${s.topic}-${s.partition}: ${why} and autoOffsetReset is 'none'`, {
          topic: s.topic,
          partition: s.partition,
        }),
      )
      return
    }
    s.resetting = true
    this.queueReset({ s, from: s.position, why, outOfRange, attempt: 0 })
  }

  private queueReset(r: PendingReset): void {
    this.resets.push(r)
    if (this.resets.length > 1) return
    queueMicrotask(() => {
      const batch = this.resets
      this.resets = []
      this.runResets(batch).catch((err) => this.emit('warning', err))
    })
  }

  private async runResets(batch: PendingReset[]): Promise<void> {
    const policy = this.options.autoOffsetReset as 'earliest' | 'latest'
    const timestamp = policy === 'earliest' ? EARLIEST : LATEST
    // A seek (or an unassign) since the reset was asked wins: nothing to look up for it.
    const live = batch.filter((r) => {
      if (this.partitions.get(key(r.s.topic, r.s.partition)) === r.s && r.s.position === r.from) return true
      r.s.resetting = false
      return false
    })
    if (live.length > 0 && !this.closed) {
      // Out of range may mean the leader moved: look it up afresh (a first assignment trusts the metadata).
      if (live.some((r) => r.outOfRange)) await this.cluster.refresh().catch(() => {})
      const queries = live.map((r) => ({ topic: r.s.topic, partition: r.s.partition, timestamp }))
      const answers = await listOffsets(this.cluster, queries, this.options.isolationLevel)
      for (const [i, r] of live.entries()) {
        const s = r.s
        const answer = answers[i]
        if (answer instanceof Error) {
          if (this.closed) continue
          this.emit('warning', answer)
          setTimeout(
            () => {
              if (this.partitions.get(key(s.topic, s.partition)) !== s || s.position !== r.from) {
                s.resetting = false
                this.schedule()
              } else this.queueReset({ ...r, attempt: r.attempt + 1 })
            },
            backoffDelay(r.attempt, { baseMs: 100, maxMs: 2000 }),
          ).unref()
          continue
        }
        s.resetting = false
        if (this.partitions.get(key(s.topic, s.partition)) !== s || s.position !== r.from) continue
        s.position = answer
        clearBuffered(s)
        this.emit('offset-reset', {
          topic: s.topic,
          partition: s.partition,
          from: r.from,
          to: answer,
          policy,
          reason: r.why,
        })
      }
    }
    this.schedule()
  }
}

/**
 * The messages of a decoded batch to hand out, as the chunk's position `from` moves past it. read_committed:
 * a transactional batch is dropped when its producer has an aborted transaction that started at or before it
 * and whose ABORT marker has not been passed yet. Control batches are never handed out.
 */
function handOn(c: Chunk, batch: RecordBatch, topic: string, partition: number): ConsumerMessage[] {
  const next = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n
  const active = c.active
  if (c.aborted !== null && active !== null) {
    const aborted = c.aborted
    while (c.nextAborted < aborted.length && aborted[c.nextAborted].firstOffset < next)
      active.add(aborted[c.nextAborted++].producerId)
  }
  const endsTransaction = batch.isControl && batch.controlType === 0
  if (next <= c.from) {
    if (endsTransaction) active?.delete(batch.producerId)
    return NO_MESSAGES
  }
  const skip = batch.isControl || (batch.isTransactional && active?.has(batch.producerId) === true)
  if (endsTransaction) active?.delete(batch.producerId)
  const from = c.from
  c.from = next
  if (skip || batch.records.length === 0) return NO_MESSAGES
  let records = batch.records
  // Legacy message sets decode untagged.
  if (batch.magic !== 2) records = records.map((r) => ({ topic, partition, ...r }))
  // A batch fetched from its middle (compressed, or after a seek): records before the fetch offset are skipped.
  if (records[0].offset < from) records = records.filter((r) => r.offset >= from)
  return records as ConsumerMessage[]
}

/** Aborted transactions this fetch reports (read_committed), by first offset. */
function sortedAborted(p: FetchPartitionData): Array<{ producerId: bigint; firstOffset: bigint }> | null {
  if (!p.abortedTransactions || p.abortedTransactions.length === 0) return null
  return [...p.abortedTransactions].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  )
}
