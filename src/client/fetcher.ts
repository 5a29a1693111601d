import { EventEmitter } from 'node:events'
import { backoffDelay } from '../network/backoff.js'
import type { Cluster } from '../network/cluster.js'
import { ErrorCode, KafkaError, needsMetadataRefresh } from '../protocol/error-codes.js'
import { KafkaWireError } from '../protocol/errors.js'
import { Fetch, type FetchPartitionData, type FetchRequest } from '../protocol/fetch.js'
import { ListOffsets } from '../protocol/list-offsets.js'
import { decodeRecordBatches, type RecordHeader } from '../protocol/record-batch.js'
import type { Meter, MetricsRegistry, Timer } from './metrics.js'

/** A message as the consumer hands it out: key, value and header values are views into the fetched frame. */
export interface ConsumerMessage {
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
  /** Bytes kept ahead of processing per partition; fetching for it pauses above this. Default 4 MiB. */
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

/** The fetcher could not go on for a partition (no reset policy, corrupt data). */
export class FetchError extends KafkaWireError {}

interface PartitionState {
  topic: string
  partition: number
  /** Next offset to fetch; null until resolved from a committed offset or the reset policy. */
  position: bigint | null
  paused: boolean
  failed: boolean
  /** Fetched, not yet handed out. */
  queue: ConsumerMessage[]
  head: number
  bufferedBytes: number
  resetting: boolean
  /** The partition's high watermark as of the last fetch response (-1 before one). */
  highWatermark: bigint
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`
const RECORD_OVERHEAD = 40

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
  private order: PartitionState[] = []
  private cursor = 0

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
      queue: [],
      head: 0,
      bufferedBytes: 0,
      resetting: false,
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
    state.queue = []
    state.bufferedBytes = 0
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
    s.queue = []
    s.head = 0
    s.bufferedBytes = 0
    s.failed = false
    this.schedule()
  }

  position(topic: string, partition: number): bigint | null {
    return this.partitions.get(key(topic, partition))?.position ?? null
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
    while (idle < n) {
      const s = this.order[this.cursor % n]
      this.cursor = (this.cursor + 1) % Math.max(n, 1)
      if (s.head >= s.queue.length || s.paused) {
        idle++
        continue
      }
      idle = 0
      const m = s.queue[s.head]
      s.queue[s.head++] = undefined as unknown as ConsumerMessage
      s.bufferedBytes -= (m.key?.length ?? 0) + (m.value?.length ?? 0) + RECORD_OVERHEAD
      if (s.head === s.queue.length) {
        s.queue = []
        s.head = 0
        s.bufferedBytes = 0
      }
      handed++
      if (!sink(m)) break
    }
    if (handed > 0) this.schedule()
    return handed
  }

  close(): void {
    this.closed = true
    this.partitions.clear()
    this.order = []
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
    const topics = new Map<
      string,
      { topic: string; topicId?: string; partitions: FetchRequest['topics'][0]['partitions'] }
    >()
    for (const s of states) {
      let t = topics.get(s.topic)
      if (!t)
        topics.set(
          s.topic,
          (t = { topic: s.topic, topicId: this.cluster.topics.get(s.topic)?.topicId, partitions: [] }),
        )
      t.partitions.push({
        partition: s.partition,
        fetchOffset: s.position!,
        partitionMaxBytes: this.options.partitionMaxBytes,
      })
    }
    const request: FetchRequest = {
      replicaId: -1,
      maxWaitMs: this.options.maxWaitMs,
      minBytes: this.options.minBytes,
      maxBytes: this.options.maxBytes,
      isolationLevel: this.options.isolationLevel === 'read_committed' ? 1 : 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...topics.values()],
      forgottenTopicsData: [],
      rackId: this.options.rackId ?? '',
    }
    const sent = new Map(states.map((s) => [key(s.topic, s.partition), s.position]))
    const started = this.m !== null ? performance.now() : 0
    this.cluster
      .connection(leader, 'fetch')
      .then((c) => c.request(Fetch, request, { timeoutMs: this.options.maxWaitMs + 30_000 }))
      .then((response) => {
        this.failures = 0
        if (this.m !== null) this.m.latency.update(performance.now() - started)
        if (response.errorCode !== 0) throw new KafkaError(response.errorCode)
        for (const t of response.responses) {
          const topic = t.topic || this.cluster.topicNamesById.get(t.topicId) || ''
          for (const p of t.partitions) {
            const s = this.partitions.get(key(topic, p.partitionIndex))
            // Unassigned or moved (seek) while the fetch was out: its data is stale.
            if (!s || s.position !== sent.get(key(topic, p.partitionIndex))) continue
            this.onPartition(s, p)
          }
        }
      })
      .catch((err) => {
        if (this.closed) return
        this.emit('warning', err)
        this.refreshMetadata()
        return new Promise<void>((resolve) =>
          setTimeout(resolve, backoffDelay(this.failures++, { baseMs: 50, maxMs: 2000 })).unref(),
        )
      })
      .finally(() => {
        this.inflight.delete(leader)
        this.schedule()
      })
  }

  private onPartition(s: PartitionState, p: FetchPartitionData): void {
    const code = p.errorCode
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      this.reset(s, `offset ${s.position} is out of range`)
      return
    }
    if (code !== 0) {
      if (needsMetadataRefresh(code) || code === ErrorCode.UNKNOWN_LEADER_EPOCH) this.refreshMetadata()
      else this.emit('warning', new KafkaError(code, { topic: s.topic, partition: s.partition }))
      return
    }
    if (p.highWatermark >= 0n) s.highWatermark = p.highWatermark
    const records = p.records
    if (records === null || records.length === 0) return
    this.m?.bytes.mark(records.length)
    let batches: ReturnType<typeof decodeRecordBatches>
    try {
      batches = decodeRecordBatches(records, {
        topic: s.topic,
        partition: s.partition,
        verifyCrc: this.options.verifyCrc,
      })
    } catch (err) {
      s.failed = true
      this.emit(
        'partition-error',
        new FetchError('ERR_FETCH_CORRUPT', `${s.topic}-${s.partition} at ${s.position}: ${(err as Error).message}`, {
          topic: s.topic,
          partition: s.partition,
          cause: err,
        }),
      )
      return
    }
    // read_committed: a transactional batch is dropped when its producer has an aborted transaction that
    // started at or before it and whose ABORT marker has not been passed yet.
    const aborted = this.options.isolationLevel === 'read_committed' ? sortedAborted(p) : null
    const active = new Set<bigint>()
    let nextAborted = 0
    let position = s.position!
    let added = 0
    for (const batch of batches) {
      const next = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n
      if (aborted !== null) {
        while (nextAborted < aborted.length && aborted[nextAborted].firstOffset < next)
          active.add(aborted[nextAborted++].producerId)
      }
      if (next <= position) {
        if (batch.isControl && batch.controlType === 0) active.delete(batch.producerId)
        continue
      }
      const skip = batch.isControl || (batch.isTransactional && active.has(batch.producerId))
      if (batch.isControl && batch.controlType === 0) active.delete(batch.producerId)
      if (!skip) {
        for (const r of batch.records) {
          if (r.offset < position) continue
          s.queue.push({
            topic: s.topic,
            partition: s.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers,
          })
          s.bufferedBytes += (r.key?.length ?? 0) + (r.value?.length ?? 0) + RECORD_OVERHEAD
          added++
        }
      }
      position = next
    }
    s.position = position
    this.m?.messages.mark(added)
    if (added > 0) this.emit('records')
  }

  /** Resolve a position by the reset policy (ListOffsets), once, and report it. */
  private reset(s: PartitionState, why: string): void {
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
    const from = s.position
    const timestamp = policy === 'earliest' ? -2n : -1n
    const attempt = async (): Promise<void> => {
      await this.cluster.refresh()
      const leader = this.cluster.leaderFor(s.topic, s.partition)
      if (leader < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, { topic: s.topic, partition: s.partition })
      const c = await this.cluster.connection(leader, 'fetch')
      const r = await c.request(ListOffsets, {
        replicaId: -1,
        isolationLevel: this.options.isolationLevel === 'read_committed' ? 1 : 0,
        topics: [{ name: s.topic, partitions: [{ partitionIndex: s.partition, currentLeaderEpoch: -1, timestamp }] }],
      })
      const part = r.topics[0]?.partitions[0]
      if (!part) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: s.topic, partition: s.partition })
      if (part.errorCode !== 0) throw new KafkaError(part.errorCode, { topic: s.topic, partition: s.partition })
      if (this.partitions.get(key(s.topic, s.partition)) !== s) return
      s.position = part.offset
      s.queue = []
      s.head = 0
      s.bufferedBytes = 0
      this.emit('offset-reset', { topic: s.topic, partition: s.partition, from, to: part.offset, policy, reason: why })
    }
    const loop = (n: number): void => {
      attempt().then(
        () => {
          s.resetting = false
          this.schedule()
        },
        (err) => {
          if (this.closed) return
          this.emit('warning', err)
          setTimeout(() => loop(n + 1), backoffDelay(n, { baseMs: 100, maxMs: 2000 })).unref()
        },
      )
    }
    loop(0)
  }
}

/** Aborted transactions this fetch reports (read_committed), by first offset. */
function sortedAborted(p: FetchPartitionData): Array<{ producerId: bigint; firstOffset: bigint }> | null {
  if (!p.abortedTransactions || p.abortedTransactions.length === 0) return null
  return [...p.abortedTransactions].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  )
}
