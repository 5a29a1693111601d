import { EventEmitter } from 'node:events'
import { Cluster, type ClusterOptions } from '../network/cluster.js'
import { type Assignor, assignorByName, BUILT_IN_ASSIGNORS } from './assignors.js'
import { ConfigError } from './errors.js'
import { type ConsumerMessage, Fetcher, type FetcherOptions } from './fetcher.js'
import { CommitFailedError, type GroupAssignor, GroupMembership, type TopicPartition } from './group-membership.js'
import { MetricsRegistry } from './metrics.js'
import { PartitionOffsets } from './offset-tracker.js'
import { WorkerManager, type WorkerManagerOptions } from './worker-manager.js'

export type { ConsumerMessage } from './fetcher.js'

export interface ConsumerConfig
  extends Omit<ClusterOptions, 'bootstrap'>,
    Omit<FetcherOptions, 'cluster'>,
    Omit<WorkerManagerOptions<ConsumerMessage>, 'offsets' | 'metrics' | 'onSettled' | 'onStop'> {
  brokers: string | string[]
  /** The consumer group. Required with `topics`; with `assignment`, only used to commit offsets. */
  groupId?: string
  /** Topics to subscribe to in the group. */
  topics?: string[]
  /** Static assignment without group membership (go_kafka_client's StartStaticPartitions). */
  assignment?: TopicPartition[]
  groupInstanceId?: string | null
  sessionTimeoutMs?: number
  /** The longest processing may stall, and a rebalance may wait for us (Java's max.poll.interval.ms). Default 300000. */
  rebalanceTimeoutMs?: number
  heartbeatIntervalMs?: number
  /** Assignors by preference; names of built-ins or objects. Default ['cooperative-sticky']. */
  assignors?: Array<string | Assignor>
  /** Commit the safe offsets this often (OffsetCommitInterval). Default 5000. */
  commitIntervalMs?: number
  /** On revocation: let in-flight work finish (default) or abort it through the signal. */
  revokeMode?: 'finish' | 'abandon'
  metrics?: MetricsRegistry
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

/**
 * The high-level consumer: group membership, a fetcher keeping a bounded reservoir per partition, a
 * worker manager running the handler with ordering, retries and failure policies, and an offset
 * tracker whose committed offset per partition is the lowest one not yet finished.
 *
 * Events: 'assigned', 'revoked', 'lost' (partitions), 'commit' (offsets), 'commit-failed' (error),
 * 'offset-reset', 'partition-error', 'stopped' (reason), 'warning'.
 */
export class Consumer extends EventEmitter {
  readonly cluster: Cluster
  readonly metrics: MetricsRegistry
  private readonly config: ConsumerConfig
  private readonly fetcher: Fetcher
  private readonly workers: WorkerManager<ConsumerMessage>
  private readonly offsets = new PartitionOffsets()
  private membership: GroupMembership | null = null
  private commitTimer: NodeJS.Timeout | null = null
  private committing: Promise<void> = Promise.resolve()
  private started = false
  private closed = false
  private pumping = false

  constructor(config: ConsumerConfig) {
    super()
    if (!config.topics && !config.assignment)
      throw new ConfigError('give topics (with a groupId) or a static assignment')
    if (config.topics && !config.groupId) throw new ConfigError('subscribing to topics needs a groupId')
    if (!config.handler && !config.batchHandler) throw new ConfigError('a consumer needs a handler or a batchHandler')
    this.config = config
    const { brokers, ...rest } = config
    this.cluster = new Cluster({ ...rest, bootstrap: brokers })
    this.metrics = config.metrics ?? new MetricsRegistry()
    this.fetcher = new Fetcher({ ...config, cluster: this.cluster })
    this.fetcher.on('records', () => this.pump())
    this.fetcher.on('offset-reset', (e) => this.emit('offset-reset', e))
    this.fetcher.on('partition-error', (e) => this.emit('partition-error', e))
    this.fetcher.on('warning', (e) => this.emit('warning', e))
    this.workers = new WorkerManager<ConsumerMessage>({
      ...config,
      offsets: this.offsets,
      metrics: this.metrics,
      onSettled: () => this.membership?.progress(),
      onStop: (reason) => {
        this.emit('stopped', reason)
        this.close().catch((err) => this.emit('warning', err))
      },
    })
    this.workers.on('drain', () => this.pump())
  }

  /** Join the group (or take the static assignment) and start consuming. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    await this.cluster.connect()
    if (this.config.groupId) {
      this.membership = new GroupMembership({
        cluster: this.cluster,
        groupId: this.config.groupId,
        groupInstanceId: this.config.groupInstanceId,
        sessionTimeoutMs: this.config.sessionTimeoutMs,
        rebalanceTimeoutMs: this.config.rebalanceTimeoutMs,
        heartbeatIntervalMs: this.config.heartbeatIntervalMs,
        assignors: this.resolveAssignors(),
        subscription: () => this.config.topics ?? [],
      })
      this.membership.on('warning', (e) => this.emit('warning', e))
      this.membership.on('fatal', (e) => this.emit('stopped', { error: e }))
    }
    if (this.config.assignment) {
      await this.onAssigned(this.config.assignment)
    } else {
      await this.membership!.start({
        onAssigned: (tps) => this.onAssigned(tps),
        onRevoked: (tps) => this.onRevoked(tps),
        onLost: (tps) => this.onLost(tps),
      })
    }
    const every = this.config.commitIntervalMs ?? 5000
    this.commitTimer = setInterval(() => {
      // An idle consumer is making progress too: nothing is stuck in the handler.
      if (this.workers.pendingCount === 0) this.membership?.progress()
      this.commit().catch(() => {})
    }, every)
    this.commitTimer.unref()
  }

  private resolveAssignors(): GroupAssignor[] {
    const wanted = this.config.assignors ?? ['cooperative-sticky']
    return wanted.map((a) => {
      if (typeof a !== 'string') return a as GroupAssignor
      const found = assignorByName(a)
      if (!found)
        throw new ConfigError(`unknown assignor ${a} (built in: ${BUILT_IN_ASSIGNORS.map((x) => x.name).join(', ')})`)
      return found as GroupAssignor
    })
  }

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    const committed = this.membership ? await this.membership.committed(partitions) : new Map<string, bigint>()
    for (const tp of partitions) {
      const c = committed.get(tpKey(tp.topic, tp.partition)) ?? -1n
      this.offsets.tracker(tp.topic, tp.partition, c >= 0n ? c : null)
      this.fetcher.assign(tp.topic, tp.partition, c >= 0n ? c : null)
    }
    this.emit('assigned', partitions)
  }

  private async onRevoked(partitions: TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.fetcher.unassign(tp.topic, tp.partition)
    const mode = this.config.revokeMode ?? 'finish'
    await Promise.all(partitions.map((tp) => this.workers.revoke(tp, mode)))
    // Commit what is safe for the revoked partitions while we still own them.
    await this.commit(partitions).catch((err) => this.emit('commit-failed', err))
    for (const tp of partitions) this.offsets.delete(tp.topic, tp.partition)
    this.emit('revoked', partitions)
  }

  private async onLost(partitions: TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.fetcher.unassign(tp.topic, tp.partition)
    await Promise.all(partitions.map((tp) => this.workers.revoke(tp, 'abandon')))
    for (const tp of partitions) this.offsets.delete(tp.topic, tp.partition)
    this.emit('lost', partitions)
  }

  /** Hand fetched messages to the workers until they push back. */
  private pump(): void {
    if (this.pumping || this.closed) return
    this.pumping = true
    try {
      this.fetcher.drainTo((m) => this.workers.push(m))
    } finally {
      this.pumping = false
    }
  }

  /** Commit the safe offset of every partition (or of `only`) that moved since the last commit. */
  commit(only?: TopicPartition[]): Promise<void> {
    const run = async () => {
      if (!this.membership) return
      let entries = this.offsets.committable()
      if (only) {
        const keep = new Set(only.map((tp) => tpKey(tp.topic, tp.partition)))
        entries = entries.filter((e) => keep.has(tpKey(e.topic, e.partition)))
      }
      if (entries.length === 0) return
      try {
        await this.membership.commit(entries)
        this.offsets.markCommitted(entries)
        this.emit('commit', entries)
      } catch (err) {
        if (err instanceof CommitFailedError) this.emit('commit-failed', err)
        throw err
      }
    }
    this.committing = this.committing.then(run, run)
    return this.committing
  }

  pause(topic: string, partition: number): void {
    this.fetcher.pause(topic, partition)
    this.workers.pause({ topic, partition })
  }

  resume(topic: string, partition: number): void {
    this.fetcher.resume(topic, partition)
    this.workers.resume({ topic, partition })
  }

  /** The partitions this consumer owns. */
  get assignment(): TopicPartition[] {
    return this.membership ? [...this.membership.owned] : [...(this.config.assignment ?? [])]
  }

  /** Stop fetching, finish (or abandon) in-flight work, commit, leave the group, close the sockets. */
  async close(options: { mode?: 'finish' | 'abandon' } = {}): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.commitTimer !== null) clearInterval(this.commitTimer)
    this.fetcher.close()
    const mode = options.mode ?? this.config.revokeMode ?? 'finish'
    if (this.membership && !this.config.assignment) {
      // Closing the membership revokes what we own: in-flight work finishes, safe offsets are committed.
      await this.membership.close().catch((err) => this.emit('warning', err))
    } else {
      await this.workers.close({ mode }).catch(() => {})
      await this.commit().catch(() => {})
    }
    await this.workers.close({ mode }).catch(() => {})
    this.cluster.close()
  }
}
