import { EventEmitter } from 'node:events'
import { Cluster, type ClusterOptions, connectionOptionsOf } from '../network/cluster.js'
import { type ErrorDetails, KafkaWireError } from '../protocol/errors.js'
import { Admin } from './admin.js'
import { type Assignor, assignorByName, BUILT_IN_ASSIGNORS } from './assignors.js'
import {
  DEFAULT_CONTROL_TOPIC,
  decodeSwitchRequest,
  ensureControlTopic,
  type SwitchRequest,
  type SwitchTarget,
} from './blue-green.js'
import { ConfigError } from './errors.js'
import { type ConsumerMessage, Fetcher, type FetcherOptions } from './fetcher.js'
import { CommitFailedError, type GroupAssignor, GroupMembership, type TopicPartition } from './group-membership.js'
import { EARLIEST, LATEST, listOffset } from './list-offset.js'
import { type Counter, type Meter, MetricsRegistry, type Timer } from './metrics.js'
import { PartitionOffsets, type TopicPartitionOffset } from './offset-tracker.js'
import { Producer } from './producer.js'
import { topicNameProblem } from './topics.js'
import { WorkerManager, type WorkerManagerOptions } from './worker-manager.js'

export type { ConsumerMessage } from './fetcher.js'

/**
 * Where committed offsets live. The default is the group coordinator (OffsetCommit / OffsetFetch, fenced by
 * the group generation). Implement it to keep offsets elsewhere, e.g. in the database the handler writes to,
 * in the same transaction. Offsets follow Kafka's next-offset convention: the offset of the next message to
 * process.
 */
export interface OffsetStore {
  /** The stored offsets of these partitions; a partition left out has none (the reset policy decides). */
  fetch(groupId: string, partitions: TopicPartition[]): Promise<TopicPartitionOffset[]>
  /** Store these offsets; reject to keep them uncommitted (they are offered again at the next commit). */
  commit(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>
}

/** A static assignment entry: a partition and, optionally, where to start in it. */
export interface AssignedPartition extends TopicPartition {
  /** An offset, 'earliest', 'latest', or a timestamp (ms); default: the committed offset, else autoOffsetReset. */
  offset?: bigint | 'earliest' | 'latest' | { timestamp: number }
}

export type SeekTarget = bigint | 'earliest' | 'latest' | { timestamp: number }

export interface ConsumerConfig
  extends Omit<ClusterOptions, 'bootstrap'>,
    Omit<FetcherOptions, 'cluster' | 'metrics'>,
    Omit<
      WorkerManagerOptions<ConsumerMessage>,
      'offsets' | 'metrics' | 'onSettled' | 'onStop' | 'handler' | 'batchHandler'
    > {
  brokers: string | string[]
  /** The consumer group. Required with a subscription; with `assignment`, only used to commit offsets. */
  groupId?: string
  /** Topics to subscribe to in the group. */
  topics?: string[]
  /** Subscribe to every topic matching this pattern, re-evaluated as topics come and go (the seed's white_list). */
  whitelist?: RegExp | string
  /** Subscribe to every topic not matching this pattern (the seed's black_list). Internal topics never match. */
  blacklist?: RegExp | string
  /** How often topic metadata is checked for new or deleted topics and partitions (ms). Default 30000. */
  subscriptionRefreshMs?: number
  /** Static assignment without group membership (go_kafka_client's StartStaticPartitions). */
  assignment?: AssignedPartition[]
  /** Handles one message; see WorkerManagerOptions. Without handler and batchHandler, use `messages()`. */
  handler?: WorkerManagerOptions<ConsumerMessage>['handler']
  batchHandler?: WorkerManagerOptions<ConsumerMessage>['batchHandler']
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
  /** Default: the group coordinator. */
  offsetStore?: OffsetStore
  /**
   * Write messages whose attempts are exhausted to this topic and go on: original key, value, headers and
   * timestamp, plus kafka-wire.dlq.* headers (source topic, partition, offset, group, error, code, attempts).
   */
  deadLetterTopic?: string
  /** The producer for the dead-letter topic; default: one of the consumer's own (acks all, idempotent). */
  deadLetterProducer?: Producer
  /** Custom dead-letter function (instead of deadLetterTopic). */
  deadLetter?: WorkerManagerOptions<ConsumerMessage>['deadLetter']
  /** Follow blue/green switch requests on the control topic (true: the default topic). Default false. */
  blueGreen?: boolean | { controlTopic: string }
  metrics?: MetricsRegistry
}

/** A consumer operation that cannot be done now (seek of a partition not owned, use after close). */
export class ConsumerError extends KafkaWireError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, { ...details, retriable: false })
  }
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`

/** Headers added to a dead-lettered message, after its own. */
export const DEAD_LETTER_HEADERS = {
  topic: 'kafka-wire.dlq.topic',
  partition: 'kafka-wire.dlq.partition',
  offset: 'kafka-wire.dlq.offset',
  group: 'kafka-wire.dlq.group',
  error: 'kafka-wire.dlq.error',
  code: 'kafka-wire.dlq.error.code',
  attempts: 'kafka-wire.dlq.attempts',
} as const

interface Subscription {
  topics?: string[]
  whitelist?: RegExp
  blacklist?: RegExp
}

function toRegExp(p: RegExp | string, what: string): RegExp {
  if (p instanceof RegExp) return new RegExp(p.source, p.flags.replace(/[gy]/g, ''))
  try {
    return new RegExp(p)
  } catch (err) {
    throw new ConfigError(`${what} is not a regular expression: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * The high-level consumer: group membership, a fetcher keeping a bounded reservoir per partition, a
 * worker manager running the handler with ordering, retries and failure policies, and an offset
 * tracker whose committed offset per partition is the lowest one not yet finished.
 *
 * Events: 'assigned', 'revoked', 'lost' (partitions), 'rebalancing' (reason), 'commit' (offsets), 'commit-failed'
 * (error), 'heartbeat-stalled' / 'processing-stalled' (ms), 'offset-reset', 'partition-error', 'stopped' (reason),
 * 'switching' / 'switched' (blue/green), 'warning'.
 */
export class Consumer extends EventEmitter {
  readonly cluster: Cluster
  readonly metrics: MetricsRegistry
  private readonly config: ConsumerConfig
  private readonly fetcher: Fetcher
  private readonly workers: WorkerManager<ConsumerMessage>
  private readonly offsets = new PartitionOffsets()
  private readonly m: {
    messages: Meter
    bytes: Meter
    commits: Counter
    commitFailures: Counter
    commitLatency: Timer
    rebalances: Counter
    switches: Counter
  }
  private currentGroup: string | undefined
  private subscription: Subscription
  /** Topic -> partition count as of the last join: a change means a rejoin. */
  private joinedTopics = new Map<string, number>()
  private membership: GroupMembership | null = null
  private offsetStore: OffsetStore | null = null
  private deadLetterProducer: Producer | null = null
  private control: { cluster: Cluster; fetcher: Fetcher; topic: string } | null = null
  private readonly appliedSwitches = new Set<string>()
  private switching: Promise<void> = Promise.resolve()
  private commitTimer: NodeJS.Timeout | null = null
  private refreshTimer: NodeJS.Timeout | null = null
  private committing: Promise<void> = Promise.resolve()
  private started = false
  private closed = false
  private closing: Promise<void> | null = null
  private pumping = false
  /** A message settled since the commit timer last looked (the max processing interval check). */
  private settled = false

  constructor(config: ConsumerConfig) {
    super()
    const patterns = [config.topics, config.whitelist, config.blacklist].filter((x) => x !== undefined).length
    if (patterns > 1) throw new ConfigError('give one of topics, whitelist and blacklist')
    if (patterns === 0 && !config.assignment)
      throw new ConfigError('give topics, a whitelist or a blacklist (with a groupId), or a static assignment')
    if (patterns === 1 && config.assignment)
      throw new ConfigError('a subscription and a static assignment exclude each other')
    if (patterns === 1 && !config.groupId) throw new ConfigError('a subscription needs a groupId')
    for (const t of [...(config.topics ?? []), ...(config.assignment ?? []).map((a) => a.topic)]) {
      const problem = topicNameProblem(t)
      if (problem) throw new ConfigError(problem)
    }
    if (config.deadLetterTopic !== undefined) {
      const problem = topicNameProblem(config.deadLetterTopic)
      if (problem) throw new ConfigError(`deadLetterTopic: ${problem}`)
      if (config.deadLetter) throw new ConfigError('give deadLetterTopic or deadLetter, not both')
    }
    this.config = config
    this.currentGroup = config.groupId
    this.subscription = {
      topics: config.topics ? [...new Set(config.topics)] : undefined,
      whitelist: config.whitelist !== undefined ? toRegExp(config.whitelist, 'whitelist') : undefined,
      blacklist: config.blacklist !== undefined ? toRegExp(config.blacklist, 'blacklist') : undefined,
    }
    const { brokers, ...rest } = config
    this.cluster = new Cluster({ ...rest, bootstrap: brokers })
    this.metrics = config.metrics ?? new MetricsRegistry()
    const reg = this.metrics
    this.m = {
      messages: reg.meter('consumer.messages'),
      bytes: reg.meter('consumer.bytes'),
      commits: reg.counter('consumer.commits'),
      commitFailures: reg.counter('consumer.commit.failures'),
      commitLatency: reg.timer('consumer.commit.latency'),
      rebalances: reg.counter('consumer.rebalances'),
      switches: reg.counter('consumer.switches'),
    }
    reg.gauge('consumer.reservoir.bytes', () => this.fetcher.bufferedBytes)
    this.fetcher = new Fetcher({ ...config, cluster: this.cluster, metrics: this.metrics })
    this.fetcher.on('records', () => this.pump())
    this.fetcher.on('offset-reset', (e) => this.emit('offset-reset', e))
    this.fetcher.on('partition-error', (e) => this.emit('partition-error', e))
    this.fetcher.on('warning', (e) => this.emit('warning', e))
    const deadLetter =
      config.deadLetter ??
      (config.deadLetterTopic !== undefined
        ? (m: ConsumerMessage, error: unknown, attempts: number) => this.sendDeadLetter(m, error, attempts)
        : undefined)
    this.workers = new WorkerManager<ConsumerMessage>({
      ...config,
      deadLetter,
      offsets: this.offsets,
      metrics: this.metrics,
      // Read by the commit timer: a flag per message is cheaper than a clock read per message.
      onSettled: () => {
        this.settled = true
      },
      onStop: (reason) => {
        this.emit('stopped', reason)
        this.close().catch((err) => this.emit('warning', err))
      },
    })
    this.workers.on('drain', () => this.pump())
  }

  /** The group this consumer is in now (it changes with a blue/green switch). */
  get groupId(): string | undefined {
    return this.currentGroup
  }

  /** The topics subscribed to now (a pattern's current matches). */
  get topics(): string[] {
    return this.subscribedTopics()
  }

  /** Join the group (or take the static assignment) and start consuming. */
  async start(): Promise<void> {
    if (this.closed) throw new ConsumerError('ERR_CONSUMER_CLOSED', 'the consumer is closed')
    if (this.started) return
    this.started = true
    if (this.subscription.whitelist || this.subscription.blacklist) this.cluster.followAllTopics(true)
    else this.cluster.addTopics(this.subscribedTopics()) // in the first metadata request: no second one
    await this.cluster.connect()
    this.warmFetchConnections()
    if (this.config.blueGreen) await this.followControlTopic()
    await this.join()
    const every = this.config.commitIntervalMs ?? 5000
    // Progress is reported at least every second, whatever the commit interval.
    const tick = Math.min(every, 1000)
    let sinceCommit = 0
    this.commitTimer = setInterval(() => {
      // An idle consumer is making progress too: nothing is stuck in the handler.
      if (this.settled || this.workers.pendingCount === 0) this.membership?.progress()
      this.settled = false
      sinceCommit += tick
      if (sinceCommit >= every) {
        sinceCommit = 0
        this.commit().catch(() => {})
      }
    }, tick)
    this.commitTimer.unref()
    if (!this.config.assignment) {
      this.refreshTimer = setInterval(() => this.checkSubscription(), this.config.subscriptionRefreshMs ?? 30_000)
      this.refreshTimer.unref()
    }
  }

  /**
   * Opens the fetch connections to the leaders of the subscribed topics while the group is joined, so the
   * first fetch does not wait for a connection handshake. Best effort: a failure shows again on first use.
   */
  private warmFetchConnections(): void {
    const leaders = new Set<number>()
    for (const name of this.subscribedTopics()) {
      const info = this.cluster.topics.get(name)
      if (info === undefined) continue
      for (const p of info.partitions) if (p.leader >= 0) leaders.add(p.leader)
    }
    for (const leader of leaders) this.cluster.connection(leader, 'fetch').catch(() => {})
  }

  /** Messages one by one, for a consumer made without handler and batchHandler (see WorkerManager.messages). */
  messages(): AsyncIterableIterator<ConsumerMessage> {
    return this.workers.messages()
  }

  // ------------------------------------------------------------------------------------ membership

  private async join(): Promise<void> {
    const groupId = this.currentGroup
    if (groupId !== undefined) {
      this.membership = new GroupMembership({
        cluster: this.cluster,
        groupId,
        groupInstanceId: this.config.assignment ? null : this.config.groupInstanceId,
        sessionTimeoutMs: this.config.sessionTimeoutMs,
        rebalanceTimeoutMs: this.config.rebalanceTimeoutMs,
        heartbeatIntervalMs: this.config.heartbeatIntervalMs,
        rackId: this.config.rackId,
        assignors: this.resolveAssignors(),
        subscription: () => this.subscribedTopics(true),
      })
      this.membership.on('warning', (e) => this.emit('warning', e))
      this.membership.on('heartbeat-stalled', (ms) => this.emit('heartbeat-stalled', ms))
      this.membership.on('processing-stalled', (ms) => this.emit('processing-stalled', ms))
      this.membership.on('rebalancing', (reason) => {
        this.m.rebalances.inc()
        this.emit('rebalancing', reason)
      })
      // Fenced or otherwise fatal: the membership stopped and dropped its partitions; the consumer stops too.
      this.membership.on('fatal', (e) => {
        this.emit('stopped', { error: e })
        this.close().catch((err) => this.emit('warning', err))
      })
      this.offsetStore = this.config.offsetStore ?? groupOffsetStore(this.membership)
    }
    if (this.config.assignment) {
      await this.onAssigned(this.config.assignment)
      return
    }
    // The partition counts recorded at the join must be real ones, or the first subscription check sees a change:
    // metadata of every subscribed topic, fresh (start() has just fetched it; a switch comes later).
    const added = this.subscription.topics ? this.cluster.addTopics(this.subscription.topics) : false
    if (added || Date.now() - this.cluster.updatedAt > 1000) await this.cluster.refresh()
    await this.membership!.start({
      onAssigned: (tps) => this.onAssigned(tps),
      onRevoked: (tps) => this.onRevoked(tps),
      onLost: (tps) => this.onLost(tps),
    })
  }

  /** The topics to subscribe to; `joining` records their partition counts to notice changes later. */
  private subscribedTopics(joining = false): string[] {
    const { topics, whitelist, blacklist } = this.subscription
    let names: string[]
    if (topics) names = topics
    else if (!whitelist && !blacklist) names = (this.config.assignment ?? []).map((a) => a.topic)
    else {
      names = []
      for (const t of this.cluster.topics.values()) {
        if (t.isInternal || t.errorCode !== 0) continue
        if (whitelist ? whitelist.test(t.name) : !t.name.startsWith('__') && !blacklist!.test(t.name))
          names.push(t.name)
      }
      names.sort()
    }
    if (joining) this.joinedTopics = new Map(names.map((n) => [n, this.cluster.topics.get(n)?.partitions.length ?? 0]))
    return names
  }

  /** New or deleted matching topics, or a partition count change: rejoin so the leader reassigns. */
  private checkSubscription(): void {
    if (!this.membership || this.closed) return
    this.cluster.refresh().then(
      () => {
        if (!this.membership || this.closed) return
        const now = this.subscribedTopics()
        const changed =
          now.length !== this.joinedTopics.size ||
          now.some((n) => this.joinedTopics.get(n) !== (this.cluster.topics.get(n)?.partitions.length ?? 0))
        if (changed) this.membership.requestRejoin('the subscribed topics or their partitions changed')
      },
      (err) => this.emit('warning', err),
    )
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

  private async onAssigned(partitions: AssignedPartition[]): Promise<void> {
    const committed = new Map<string, bigint>()
    if (this.offsetStore && this.currentGroup !== undefined && partitions.length > 0) {
      for (const o of await this.offsetStore.fetch(this.currentGroup, partitions))
        if (o.offset >= 0n) committed.set(tpKey(o.topic, o.partition), o.offset)
    }
    for (const tp of partitions) {
      const c = committed.get(tpKey(tp.topic, tp.partition)) ?? null
      let start = c
      if (tp.offset !== undefined) start = await this.resolveOffset(tp.topic, tp.partition, tp.offset)
      const tracker = this.offsets.tracker(tp.topic, tp.partition, c)
      if (start !== null && start !== c) {
        tracker.reset(null)
        tracker.skipTo(start)
      }
      this.fetcher.assign(tp.topic, tp.partition, start)
      this.partitionGauges(tp, true)
    }
    this.emit(
      'assigned',
      partitions.map(({ topic, partition }) => ({ topic, partition })),
    )
  }

  private partitionGauges(tp: TopicPartition, on: boolean): void {
    const labels = { topic: tp.topic, partition: tp.partition }
    if (!on) {
      this.metrics.remove('consumer.offset.committed', labels)
      this.metrics.remove('consumer.lag', labels)
      return
    }
    const tracker = () => this.offsets.get(tp.topic, tp.partition)
    this.metrics.gauge('consumer.offset.committed', () => Number(tracker()?.committed ?? -1n), labels)
    // Messages not yet processed: the high watermark less the lowest unfinished (or next expected) offset.
    this.metrics.gauge(
      'consumer.lag',
      () => {
        const hw = this.fetcher.highWatermark(tp.topic, tp.partition)
        const at = tracker()?.watermark() ?? this.fetcher.position(tp.topic, tp.partition)
        return hw < 0n || at === null || at === undefined ? -1 : Number(hw > at ? hw - at : 0n)
      },
      labels,
    )
  }

  private async onRevoked(partitions: TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.fetcher.unassign(tp.topic, tp.partition)
    const mode = this.config.revokeMode ?? 'finish'
    await Promise.all(partitions.map((tp) => this.workers.revoke(tp, mode)))
    // Commit what is safe for the revoked partitions while we still own them.
    await this.commit(partitions).catch((err) => this.emit('commit-failed', err))
    for (const tp of partitions) {
      this.offsets.delete(tp.topic, tp.partition)
      this.partitionGauges(tp, false)
    }
    this.emit('revoked', partitions)
  }

  private async onLost(partitions: TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.fetcher.unassign(tp.topic, tp.partition)
    await Promise.all(partitions.map((tp) => this.workers.revoke(tp, 'abandon')))
    for (const tp of partitions) {
      this.offsets.delete(tp.topic, tp.partition)
      this.partitionGauges(tp, false)
    }
    this.emit('lost', partitions)
  }

  /** Hand fetched messages to the workers until they push back. */
  private pump(): void {
    if (this.pumping || this.closed) return
    this.pumping = true
    let bytes = 0
    let n = 0
    try {
      n = this.fetcher.drainTo((msg) => {
        bytes += (msg.value?.length ?? 0) + (msg.key?.length ?? 0)
        return this.workers.push(msg)
      })
    } finally {
      this.pumping = false
    }
    if (n > 0) {
      this.m.messages.mark(n)
      this.m.bytes.mark(bytes)
    }
  }

  // ------------------------------------------------------------------------------------ offsets

  /** Commit the safe offset of every partition (or of `only`) that moved since the last commit. */
  commit(only?: TopicPartition[]): Promise<void> {
    const run = async () => {
      const store = this.offsetStore
      const group = this.currentGroup
      if (!store || group === undefined) return
      this.skipUndelivered()
      let entries = this.offsets.committable()
      if (only) {
        const keep = new Set(only.map((tp) => tpKey(tp.topic, tp.partition)))
        entries = entries.filter((e) => keep.has(tpKey(e.topic, e.partition)))
      }
      if (entries.length === 0) return
      const stop = this.m.commitLatency.start()
      try {
        await store.commit(group, entries)
        stop()
        this.offsets.markCommitted(entries)
        this.m.commits.inc()
        this.emit('commit', entries)
      } catch (err) {
        this.m.commitFailures.inc()
        if (err instanceof CommitFailedError) this.emit('commit-failed', err)
        throw err
      }
    }
    this.committing = this.committing.then(run, run)
    return this.committing
  }

  /**
   * A fetch position past the last message handed out (control records of transactions, compacted ranges) is
   * committable once nothing fetched is waiting: otherwise the committed offset would stay one short of the end
   * after a transaction marker, and tools would show a lag that is not there.
   */
  private skipUndelivered(): void {
    for (const tp of this.assignment) {
      const tracker = this.offsets.get(tp.topic, tp.partition)
      const position = this.fetcher.position(tp.topic, tp.partition)
      if (tracker !== undefined && position !== null && this.fetcher.drained(tp.topic, tp.partition))
        tracker.skipTo(position)
    }
  }

  /**
   * Move an owned partition: work in flight for it finishes, what is queued or buffered is dropped, and
   * consumption goes on from `target` (an offset, 'earliest', 'latest' or a timestamp). The next commit
   * stores the new position, backwards too.
   */
  async seek(topic: string, partition: number, target: SeekTarget): Promise<void> {
    if (this.closed) throw new ConsumerError('ERR_CONSUMER_CLOSED', 'the consumer is closed')
    const tracker = this.offsets.get(topic, partition)
    if (tracker === undefined)
      throw new ConsumerError('ERR_NOT_ASSIGNED', `${topic}-${partition} is not assigned to this consumer`, {
        topic,
        partition,
      })
    const offset = await this.resolveOffset(topic, partition, target)
    const tp = { topic, partition }
    const wasPaused = this.workers.isPaused(tp)
    this.fetcher.pause(topic, partition)
    await this.workers.revoke(tp, 'finish')
    if (this.offsets.get(topic, partition) !== tracker) return // revoked meanwhile
    tracker.reset(null)
    tracker.skipTo(offset)
    this.fetcher.seek(topic, partition, offset)
    if (wasPaused) this.workers.pause(tp)
    else this.fetcher.resume(topic, partition)
  }

  private async resolveOffset(topic: string, partition: number, target: SeekTarget): Promise<bigint> {
    if (typeof target === 'bigint') {
      if (target < 0n) throw new ConfigError(`offset ${target} for ${topic}-${partition} is negative`)
      return target
    }
    const isolation = this.config.isolationLevel
    if (target === 'earliest') return listOffset(this.cluster, topic, partition, EARLIEST, isolation)
    if (target === 'latest') return listOffset(this.cluster, topic, partition, LATEST, isolation)
    if (typeof target === 'object' && target !== null && Number.isFinite(target.timestamp)) {
      const at = await listOffset(this.cluster, topic, partition, BigInt(Math.trunc(target.timestamp)), isolation)
      // No message at or after the timestamp: start at the end.
      return at >= 0n ? at : listOffset(this.cluster, topic, partition, LATEST, isolation)
    }
    throw new ConfigError(`cannot seek ${topic}-${partition} to ${String(target)}`)
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
    if (this.config.assignment) return this.config.assignment.map(({ topic, partition }) => ({ topic, partition }))
    return this.membership ? [...this.membership.owned] : []
  }

  // ------------------------------------------------------------------------------------ dead letters

  private async sendDeadLetter(m: ConsumerMessage, error: unknown, attempts: number): Promise<void> {
    if (this.deadLetterProducer === null) {
      this.deadLetterProducer =
        this.config.deadLetterProducer ??
        new Producer({ ...connectionOptionsOf(this.config), brokers: this.config.brokers, metrics: this.metrics })
    }
    const err = error instanceof Error ? error : new Error(String(error))
    const code = error instanceof KafkaWireError ? error.code : err.name
    await this.deadLetterProducer.send({
      topic: this.config.deadLetterTopic!,
      key: m.key,
      value: m.value,
      timestamp: m.timestamp,
      headers: [
        ...m.headers,
        { key: DEAD_LETTER_HEADERS.topic, value: m.topic },
        { key: DEAD_LETTER_HEADERS.partition, value: String(m.partition) },
        { key: DEAD_LETTER_HEADERS.offset, value: String(m.offset) },
        { key: DEAD_LETTER_HEADERS.group, value: this.currentGroup ?? '' },
        { key: DEAD_LETTER_HEADERS.error, value: err.message },
        { key: DEAD_LETTER_HEADERS.code, value: code },
        { key: DEAD_LETTER_HEADERS.attempts, value: String(attempts) },
      ],
    })
  }

  // ------------------------------------------------------------------------------------ blue/green

  /**
   * Follow the control topic from its end: requests written from now on for the group we are in move us.
   * A separate Cluster keeps its long-polling fetch off the data and group connections.
   */
  private async followControlTopic(): Promise<void> {
    const bg = this.config.blueGreen
    const topic = typeof bg === 'object' ? bg.controlTopic : DEFAULT_CONTROL_TOPIC
    const connection = connectionOptionsOf(this.config)
    const admin = new Admin({ ...connection, brokers: this.config.brokers })
    try {
      await ensureControlTopic(admin, topic)
    } finally {
      admin.close()
    }
    const cluster = new Cluster({ ...connection, bootstrap: this.config.brokers })
    await cluster.connect()
    const end = await listOffset(cluster, topic, 0, LATEST)
    const fetcher = new Fetcher({ cluster, maxWaitMs: 1000, autoOffsetReset: 'latest' })
    fetcher.on('warning', (e) => this.emit('warning', e))
    fetcher.on('records', () =>
      fetcher.drainTo((m) => {
        this.onControlRecord(m)
        return true
      }),
    )
    fetcher.assign(topic, 0, end)
    this.control = { cluster, fetcher, topic }
  }

  private onControlRecord(m: ConsumerMessage): void {
    if (m.key === null || m.key.toString('utf8') !== this.currentGroup) return
    let request: SwitchRequest
    try {
      request = decodeSwitchRequest(m.value)
    } catch (err) {
      this.emit('warning', err)
      return
    }
    // A swap writes A -> B and B -> A with one id: after moving to B, the second record is the other fleet's.
    if (this.appliedSwitches.has(request.id)) return
    this.appliedSwitches.add(request.id)
    this.switchTo(request.to, request).catch((err) => this.emit('warning', err))
  }

  /**
   * Move this instance to another group and subscription without a restart: finish in-flight work, commit,
   * leave the group, join the target group and resume from its committed offsets.
   */
  switchTo(target: SwitchTarget, request?: SwitchRequest): Promise<void> {
    const run = async () => {
      if (this.closed || !this.started) return
      if (this.config.assignment)
        throw new ConsumerError('ERR_SWITCH', 'a statically assigned consumer cannot switch groups')
      const next: Subscription = target.topics
        ? { topics: [...new Set(target.topics)] }
        : target.whitelist !== undefined
          ? { whitelist: toRegExp(target.whitelist, 'whitelist') }
          : target.blacklist !== undefined
            ? { blacklist: toRegExp(target.blacklist, 'blacklist') }
            : this.subscription
      const from = this.currentGroup
      this.emit('switching', { from, to: target.groupId, request })
      const leaving = this.membership
      this.membership = null
      // Revokes everything (in-flight work finishes, safe offsets are committed to the old group), then leaves.
      await leaving?.close({ leave: true })
      await this.committing.catch(() => {})
      this.offsets.clear()
      this.currentGroup = target.groupId
      this.subscription = next
      this.cluster.followAllTopics(next.whitelist !== undefined || next.blacklist !== undefined)
      await this.join()
      this.m.switches.inc()
      this.emit('switched', { from, to: target.groupId, request })
    }
    this.switching = this.switching.then(run, run)
    return this.switching
  }

  // ------------------------------------------------------------------------------------ closing

  /** Stop fetching, finish (or abandon) in-flight work, commit, leave the group, close the sockets. */
  close(options: { mode?: 'finish' | 'abandon' } = {}): Promise<void> {
    this.closing ??= this.shutdown(options.mode ?? this.config.revokeMode ?? 'finish')
    return this.closing
  }

  private async shutdown(mode: 'finish' | 'abandon'): Promise<void> {
    this.closed = true
    if (this.commitTimer !== null) clearInterval(this.commitTimer)
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer)
    if (this.control) {
      this.control.fetcher.close()
      this.control.cluster.close()
    }
    await this.switching.catch(() => {})
    this.fetcher.close()
    if (this.membership && !this.config.assignment) {
      // Closing the membership revokes what we own: in-flight work finishes, safe offsets are committed.
      await this.membership.close().catch((err) => this.emit('warning', err))
    } else {
      await this.workers.close({ mode }).catch(() => {})
      await this.commit().catch(() => {})
    }
    await this.workers.close({ mode }).catch(() => {})
    if (this.deadLetterProducer !== null && this.deadLetterProducer !== this.config.deadLetterProducer)
      await this.deadLetterProducer.close().catch((err) => this.emit('warning', err))
    this.cluster.close()
  }
}

/** The default OffsetStore: the group coordinator, with the membership's generation (a fenced member fails). */
function groupOffsetStore(membership: GroupMembership): OffsetStore {
  return {
    async fetch(_groupId, partitions) {
      const found = await membership.committed(partitions)
      const out: TopicPartitionOffset[] = []
      for (const tp of partitions) {
        const offset = found.get(tpKey(tp.topic, tp.partition))
        if (offset !== undefined && offset >= 0n) out.push({ topic: tp.topic, partition: tp.partition, offset })
      }
      return out
    },
    commit: (_groupId, offsets) => membership.commit(offsets),
  }
}
