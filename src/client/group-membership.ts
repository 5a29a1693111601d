import { EventEmitter } from 'node:events'
import { backoffDelay, sleep } from '../network/backoff.js'
import type { Cluster } from '../network/cluster.js'
import type { Connection } from '../network/connection.js'
import type { Api } from '../protocol/api.js'
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '../protocol/consumer-protocol.js'
import { ErrorCode, isFatal, KafkaError, needsCoordinatorRefresh } from '../protocol/error-codes.js'
import { KafkaWireError } from '../protocol/errors.js'
import { Heartbeat } from '../protocol/heartbeat.js'
import { JoinGroup } from '../protocol/join-group.js'
import { LeaveGroup } from '../protocol/leave-group.js'
import { OffsetCommit } from '../protocol/offset-commit.js'
import { OffsetFetch } from '../protocol/offset-fetch.js'
import { SyncGroup } from '../protocol/sync-group.js'
import { groupByTopic, type TopicPartition } from './assignors.js'
import { findGroupCoordinator } from './coordinator.js'

export type { TopicPartition }

/** What an assignor sees of one member (the classic consumer protocol's subscription). */
export interface GroupMemberSubscription {
  memberId: string
  groupInstanceId: string | null
  topics: string[]
  ownedPartitions: TopicPartition[]
  generationId: number
  rackId: string | null
  userData: Buffer | null
}

/** A partition assignor of the classic protocol (range, roundrobin, cooperative-sticky, or yours). */
export interface GroupAssignor {
  readonly name: string
  readonly protocol: 'eager' | 'cooperative'
  assign(input: {
    members: GroupMemberSubscription[]
    partitionsPerTopic: Map<string, number>
  }): Map<string, TopicPartition[]>
}

export interface GroupMembershipOptions {
  cluster: Cluster
  groupId: string
  /** Static membership (KIP-345): a restart within the session timeout keeps the assignment. */
  groupInstanceId?: string | null
  /** The coordinator drops a member it has not heard from for this long. Default 45000. */
  sessionTimeoutMs?: number
  /** The longest a rebalance may wait for us, and the longest processing may stall before we leave. Default 300000. */
  rebalanceTimeoutMs?: number
  /** Default 3000 (a third of a short session timeout, at most). */
  heartbeatIntervalMs?: number
  /** In order of preference; all must share the same protocol (eager or cooperative). */
  assignors: GroupAssignor[]
  rackId?: string | null
  /** The topics to subscribe, read at each join (regex subscriptions resolve them from metadata). */
  subscription: () => string[]
  /** Leave the group on close even as a static member (static members normally stay). Default false. */
  leaveOnClose?: boolean
}

export interface MembershipListener {
  /** New partitions: resume them from their committed offsets. */
  onAssigned(partitions: TopicPartition[]): Promise<void> | void
  /** Partitions given up in a rebalance: finish or abandon their work and commit what is safe, then return. */
  onRevoked(partitions: TopicPartition[]): Promise<void> | void
  /** Partitions taken from us (session expired, fenced generation): their commits would fail; drop them. */
  onLost(partitions: TopicPartition[]): Promise<void> | void
}

/** A commit the group no longer accepts from us: the partitions were reassigned. */
export class CommitFailedError extends KafkaWireError {
  constructor(message: string, cause?: unknown) {
    super('ERR_COMMIT_FAILED', message, { cause, retriable: false })
  }
}

/**
 * A fatal group error: `code` FENCED_INSTANCE_ID (another consumer joined with our group.instance.id, KIP-345;
 * `cause` is the broker's KafkaError), ERR_CONFIG, or a fatal Kafka error's name. Never retriable: the
 * membership stops, its partitions are reported lost, and 'fatal' is emitted with it.
 */
export class GroupError extends KafkaWireError {}

function fencedInstance(groupId: string, instanceId: string | null, where: string): GroupError {
  return new GroupError(
    'FENCED_INSTANCE_ID',
    `${where}: another consumer joined group ${groupId} with group.instance.id ${instanceId}; this one is fenced and stops`,
    { cause: new KafkaError(ErrorCode.FENCED_INSTANCE_ID), retriable: false },
  )
}

const tpKey = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`

/**
 * Membership of one consumer group through the classic protocol: find the coordinator, join,
 * (as leader) assign, sync, heartbeat on a connection of its own that never waits on user code,
 * and rejoin when the group rebalances. With a cooperative assignor only partitions that move are
 * revoked (KIP-429); with an eager one, everything is revoked before each join.
 *
 * Heartbeats run from the first SyncGroup on, through the listener's revocation and assignment callbacks
 * (a slow revocation must not cost the membership), and stop only while a JoinGroup/SyncGroup is pending.
 * What a heartbeat or a commit learns (the generation is gone, the instance is fenced) is acted on by the
 * membership loop, one step at a time, never in the middle of a callback.
 *
 * Events: 'assigned', 'revoked', 'lost' (partitions), 'rebalancing', 'heartbeat-stalled' (ms since
 * the last successful heartbeat), 'processing-stalled', 'fatal' (a GroupError or fatal KafkaError: the
 * membership stopped; `start()` rejects with it if it came first), 'warning'. 'error' is NOT used.
 */
export class GroupMembership extends EventEmitter {
  readonly groupId: string
  readonly groupInstanceId: string | null
  memberId = ''
  generationId = -1
  /** The partitions we own now. */
  owned: TopicPartition[] = []
  private readonly cluster: Cluster
  private readonly options: GroupMembershipOptions
  private readonly sessionTimeoutMs: number
  private readonly rebalanceTimeoutMs: number
  private readonly heartbeatIntervalMs: number
  private readonly protocol: 'eager' | 'cooperative'
  private listener: MembershipListener | null = null
  private coordinator: Connection | null = null
  private coordinatorId = -1
  private rejoinNeeded = true
  private rejoinReason = 'joining'
  private wake: (() => void) | null = null
  private loop: Promise<void> | null = null
  private heartbeatTimer: NodeJS.Timeout | null = null
  /** Bumped by stopHeartbeats: a heartbeat in flight from an older chain neither acts nor schedules. */
  private heartbeatChain = 0
  /** A JoinGroup or SyncGroup is pending: no heartbeats then. */
  private joining = false
  /** Our generation is gone (learned by a heartbeat or a commit): the loop drops the partitions and rejoins. */
  private pendingLoss: { reason: string; resetMember: boolean; leave: boolean } | null = null
  /** A fatal error learned outside the loop (a heartbeat or a commit fenced): the loop stops with it. */
  private pendingFatal: Error | null = null
  /**
   * Bumped whenever generationId is set (join, loss): numbers alone can repeat, since a coordinator that takes
   * over after a failover restarts from the last generation it loads, which need not be the last one handed out.
   */
  private generationSeq = 0
  /** The generationSeq whose SyncGroup succeeded: only such a generation commits (as Java's generationIfStable). */
  private syncedSeq = 0
  private lastHeartbeatOk = 0
  private lastProgress = Date.now()
  private stopping = false
  private fatal: Error | null = null
  private firstAssignment: { resolve: () => void; reject: (e: Error) => void } | null = null

  constructor(options: GroupMembershipOptions) {
    super()
    if (options.assignors.length === 0) throw new GroupError('ERR_CONFIG', 'at least one assignor is needed')
    const protocols = new Set(options.assignors.map((a) => a.protocol))
    if (protocols.size > 1) throw new GroupError('ERR_CONFIG', 'eager and cooperative assignors cannot be mixed')
    this.options = options
    this.cluster = options.cluster
    this.groupId = options.groupId
    this.groupInstanceId = options.groupInstanceId ?? null
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 45_000
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 300_000
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.min(3000, Math.floor(this.sessionTimeoutMs / 3))
    this.protocol = options.assignors[0].protocol
  }

  /** Join the group; resolves once the first assignment is in effect. */
  start(listener: MembershipListener): Promise<void> {
    this.listener = listener
    const first = new Promise<void>((resolve, reject) => {
      this.firstAssignment = { resolve, reject }
    })
    this.loop = this.run()
    return first
  }

  /** Tell the membership that processing is making progress (the max processing interval check). */
  progress(): void {
    this.lastProgress = Date.now()
  }

  /** Ask for a rebalance (e.g. the subscription changed). */
  requestRejoin(reason: string): void {
    this.rejoinNeeded = true
    this.rejoinReason = reason
    this.wake?.()
  }

  // ------------------------------------------------------------------------------------ the loop

  private async run(): Promise<void> {
    let attempt = 0
    let rebalancing = false
    while (!this.stopping) {
      try {
        if (this.pendingFatal !== null) throw this.pendingFatal
        if (this.rejoinNeeded || this.pendingLoss !== null) {
          rebalancing = true
          await this.rebalance()
          rebalancing = false
          attempt = 0
          this.firstAssignment?.resolve()
          this.firstAssignment = null
        }
        if (this.stopping) break
        this.startHeartbeats()
        await new Promise<void>((resolve) => {
          this.wake = resolve
          if (this.rejoinNeeded || this.stopping || this.pendingLoss !== null || this.pendingFatal !== null) resolve()
        })
        this.wake = null
      } catch (err) {
        this.joining = false
        if (this.stopping && this.pendingFatal === null) break
        if (err instanceof GroupError || (err instanceof KafkaError && isFatal(err.errorCode))) {
          await this.die(err)
          return
        }
        this.emit('warning', err)
        // A rebalance that failed half way (the coordinator went away, a callback threw) starts over.
        if (rebalancing) this.rejoinNeeded = true
        rebalancing = false
        await sleep(backoffDelay(attempt++, { baseMs: 100, maxMs: 5000 }))
      }
    }
    // Stopped before the first assignment (close() during the first join, whose request then failed with the
    // closing connection): start() resolves, with nothing assigned, rather than waiting forever.
    this.firstAssignment?.resolve()
    this.firstAssignment = null
  }

  private async ensureCoordinator(): Promise<Connection> {
    if (this.coordinator !== null && !this.coordinator.closed) return this.coordinator
    this.coordinator = null
    const c = await findGroupCoordinator(this.cluster, this.groupId, () => this.stopping)
    this.coordinatorId = c.nodeId
    this.coordinator = await this.cluster.pool.get(c.host, c.port, 'group', `coordinator-${c.nodeId}`)
    return this.coordinator
  }

  /** A request to the coordinator; coordinator errors make us look it up again. */
  private async toCoordinator<Q, R>(api: Api<Q, R>, request: Q, timeoutMs?: number): Promise<R> {
    const c = await this.ensureCoordinator()
    try {
      const response = await c.request(api, request, timeoutMs ? { timeoutMs } : {})
      const code = (response as { errorCode?: number }).errorCode
      if (code !== undefined && needsCoordinatorRefresh(code)) this.coordinator = null
      return response
    } catch (err) {
      this.coordinator = null
      throw err
    }
  }

  /** Stop for good: heartbeats off, what we own reported lost (a fenced member must not go on), 'fatal'. */
  private async die(err: Error): Promise<void> {
    this.fatal = err
    this.pendingFatal = null
    this.stopping = true
    this.stopHeartbeats()
    if (this.owned.length > 0) {
      const lost = this.owned
      this.owned = []
      try {
        await this.listener?.onLost(lost)
      } catch (e) {
        this.emit('warning', e)
      }
      this.emit('lost', lost)
    }
    this.firstAssignment?.reject(err)
    this.firstAssignment = null
    this.emit('fatal', err)
  }

  private async rebalance(): Promise<void> {
    this.emit('rebalancing', this.rejoinReason)
    const loss = this.pendingLoss
    if (loss !== null) {
      this.pendingLoss = null
      this.stopHeartbeats()
      if (loss.leave) await this.sendLeave(loss.reason).catch(() => {})
      if (loss.resetMember || loss.leave) this.memberId = ''
      await this.lose(loss.reason)
    }
    // Eager: give up everything before joining (heartbeating meanwhile). Cooperative: keep what we own.
    if (this.protocol === 'eager' && this.owned.length > 0) {
      const revoked = this.owned
      this.owned = []
      await this.listener!.onRevoked(revoked)
      this.emit('revoked', revoked)
    }
    for (;;) {
      if (this.pendingFatal !== null) throw this.pendingFatal
      if (this.stopping) return
      this.rejoinNeeded = false
      this.stopHeartbeats()
      this.joining = true
      const joined = await this.join()
      if (this.stopping) {
        this.joining = false
        return
      }
      if (joined === null) {
        this.joining = false
        continue
      }
      const assignment = await this.sync(joined)
      this.joining = false
      if (assignment === null) continue
      this.syncedSeq = this.generationSeq
      // From here on the generation is ours: heartbeat through the listener's callbacks.
      this.startHeartbeats()
      await this.applyAssignment(assignment)
      return
    }
  }

  private async join(): Promise<{ leader: boolean; protocolName: string; members: GroupMemberSubscription[] } | null> {
    const topics = this.options.subscription()
    const ownedByTopic = groupByTopic(this.owned)
    const protocols = this.options.assignors.map((a) => ({
      name: a.name,
      metadata: encodeConsumerProtocolSubscription({
        topics,
        userData: null,
        ownedPartitions: ownedByTopic,
        generationId: this.generationId,
        rackId: this.options.rackId ?? null,
      }),
    }))
    const response = await this.toCoordinator(
      JoinGroup,
      {
        groupId: this.groupId,
        sessionTimeoutMs: this.sessionTimeoutMs,
        rebalanceTimeoutMs: this.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: this.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols,
        reason: this.rejoinReason,
      },
      this.rebalanceTimeoutMs + 5000,
    )
    switch (response.errorCode) {
      case 0:
        break
      case ErrorCode.MEMBER_ID_REQUIRED:
        this.memberId = response.memberId
        return null
      case ErrorCode.UNKNOWN_MEMBER_ID:
        // The coordinator dropped us: what we own may be someone else's already.
        this.memberId = ''
        this.joining = false
        await this.lose('join: the coordinator no longer knows this member')
        return null
      case ErrorCode.REBALANCE_IN_PROGRESS:
      case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
      case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      case ErrorCode.NOT_COORDINATOR:
        await sleep(100)
        return null
      case ErrorCode.FENCED_INSTANCE_ID:
        throw fencedInstance(this.groupId, this.groupInstanceId, 'JoinGroup')
      default:
        throw new KafkaError(response.errorCode, { brokerMessage: null })
    }
    this.memberId = response.memberId
    this.generationId = response.generationId
    this.generationSeq++
    const leader = response.leader === response.memberId && !response.skipAssignment
    const members: GroupMemberSubscription[] = leader
      ? response.members.map((m) => {
          const sub = decodeConsumerProtocolSubscription(m.metadata)
          return {
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            topics: sub.topics,
            ownedPartitions: sub.ownedPartitions.flatMap((t) =>
              t.partitions.map((partition) => ({ topic: t.topic, partition })),
            ),
            generationId: sub.generationId,
            rackId: sub.rackId,
            userData: sub.userData,
          }
        })
      : []
    return { leader, protocolName: response.protocolName ?? this.options.assignors[0].name, members }
  }

  private async sync(joined: {
    leader: boolean
    protocolName: string
    members: GroupMemberSubscription[]
  }): Promise<TopicPartition[] | null> {
    let assignments: Array<{ memberId: string; assignment: Buffer }> = []
    if (joined.leader) {
      const assignor = this.options.assignors.find((a) => a.name === joined.protocolName)
      if (!assignor)
        throw new GroupError('ERR_CONFIG', `the group chose assignor ${joined.protocolName}, which this member lacks`)
      const topics = new Set(joined.members.flatMap((m) => m.topics))
      // Partition counts from metadata: fetched now unless a topic is new to it or it is over a second old (the
      // consumer refreshed it just before joining; a later partition change triggers a rejoin anyway).
      const added = this.cluster.addTopics(topics)
      const known = [...topics].every((t) => this.cluster.topics.get(t)?.errorCode === 0)
      if (added || !known || Date.now() - this.cluster.updatedAt > 1000) await this.cluster.refresh()
      const partitionsPerTopic = new Map<string, number>()
      for (const t of topics) {
        const info = this.cluster.topics.get(t)
        if (info && info.errorCode === 0) partitionsPerTopic.set(t, info.partitions.length)
      }
      const result = assignor.assign({ members: joined.members, partitionsPerTopic })
      assignments = joined.members.map((m) => ({
        memberId: m.memberId,
        assignment: encodeConsumerProtocolAssignment({
          assignedPartitions: groupByTopic(result.get(m.memberId) ?? []),
          userData: null,
        }),
      }))
    }
    const response = await this.toCoordinator(
      SyncGroup,
      {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: joined.protocolName,
        assignments,
      },
      this.rebalanceTimeoutMs + 5000,
    )
    switch (response.errorCode) {
      case 0:
        break
      case ErrorCode.REBALANCE_IN_PROGRESS:
        return null
      case ErrorCode.UNKNOWN_MEMBER_ID:
      case ErrorCode.ILLEGAL_GENERATION:
        if (response.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = ''
        this.joining = false
        await this.lose('sync: generation no longer valid')
        return null
      case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      case ErrorCode.NOT_COORDINATOR:
        return null
      case ErrorCode.FENCED_INSTANCE_ID:
        throw fencedInstance(this.groupId, this.groupInstanceId, 'SyncGroup')
      default:
        throw new KafkaError(response.errorCode)
    }
    if (response.assignment.length === 0) return []
    const decoded = decodeConsumerProtocolAssignment(response.assignment)
    return decoded.assignedPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })))
  }

  private async applyAssignment(assigned: TopicPartition[]): Promise<void> {
    const next = new Set(assigned.map(tpKey))
    const current = new Set(this.owned.map(tpKey))
    const revoked = this.owned.filter((tp) => !next.has(tpKey(tp)))
    const added = assigned.filter((tp) => !current.has(tpKey(tp)))
    if (revoked.length > 0) {
      this.owned = this.owned.filter((tp) => next.has(tpKey(tp)))
      await this.listener!.onRevoked(revoked)
      this.emit('revoked', revoked)
      // Cooperative: what we gave up goes to its new owner in a follow-up rebalance (KIP-429).
      if (this.protocol === 'cooperative') this.requestRejoin('cooperative follow-up after revocation')
    }
    this.lastProgress = Date.now()
    if (added.length > 0) {
      // Owned once started: if the listener throws, the next join does not claim them and they are handed
      // out (to us, likely) again.
      await this.listener!.onAssigned(added)
      this.owned = [...this.owned, ...added]
      this.emit('assigned', added)
    }
  }

  /** Our generation is gone: the partitions are lost (not revoked: their commits would fail). */
  private async lose(reason: string): Promise<void> {
    this.generationId = -1
    this.generationSeq++
    if (this.owned.length > 0) {
      const lost = this.owned
      this.owned = []
      await this.listener!.onLost(lost)
      this.emit('lost', lost)
    }
    this.requestRejoin(reason)
  }

  // ------------------------------------------------------------------------------------ heartbeats

  private startHeartbeats(): void {
    if (this.heartbeatTimer !== null || this.stopping) return
    this.lastHeartbeatOk = Date.now()
    const chain = this.heartbeatChain
    const beat = () => {
      this.heartbeatTimer = setTimeout(() => {
        this.heartbeat(chain).finally(() => {
          if (this.heartbeatChain === chain) beat()
        })
      }, this.heartbeatIntervalMs)
    }
    beat()
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = null
    this.heartbeatChain++
  }

  /** Our generation is gone: tell the loop (it drops the partitions and rejoins). */
  private generationLost(reason: string, resetMember: boolean, leave = false): void {
    // A JoinGroup/SyncGroup in flight settles our membership itself (it fails the same way, or moves us on).
    if (this.joining) return
    if (this.pendingLoss === null) this.pendingLoss = { reason, resetMember, leave }
    this.requestRejoin(reason)
  }

  private fenced(where: string): void {
    if (this.pendingFatal !== null || this.fatal !== null) return
    this.pendingFatal = fencedInstance(this.groupId, this.groupInstanceId, where)
    this.stopHeartbeats()
    this.wake?.()
  }

  private async heartbeat(chain: number): Promise<void> {
    if (this.joining || this.fatal !== null || this.pendingLoss !== null || this.memberId === '') return
    if (this.generationId < 0) return
    // The max processing interval: a member whose processing stalled leaves so the group can move on.
    if (Date.now() - this.lastProgress > this.rebalanceTimeoutMs) {
      this.emit('processing-stalled', Date.now() - this.lastProgress)
      this.generationLost('processing stalled past rebalanceTimeoutMs', true, true)
      return
    }
    const generationId = this.generationId
    const memberId = this.memberId
    try {
      const response = await this.toCoordinator(
        Heartbeat,
        { groupId: this.groupId, generationId, memberId, groupInstanceId: this.groupInstanceId },
        Math.max(1000, this.sessionTimeoutMs),
      )
      // A heartbeat of a chain stopped meanwhile (a rejoin began, we closed) says nothing about now.
      if (chain !== this.heartbeatChain || generationId !== this.generationId || memberId !== this.memberId) return
      switch (response.errorCode) {
        case 0:
          this.lastHeartbeatOk = Date.now()
          return
        case ErrorCode.REBALANCE_IN_PROGRESS:
          this.lastHeartbeatOk = Date.now()
          if (!this.stopping) this.requestRejoin('the group is rebalancing')
          return
        case ErrorCode.FENCED_INSTANCE_ID:
          this.fenced('Heartbeat')
          return
        case ErrorCode.UNKNOWN_MEMBER_ID:
          this.generationLost('heartbeat: the coordinator no longer knows this member', true)
          return
        case ErrorCode.ILLEGAL_GENERATION:
          this.generationLost('heartbeat: our generation is stale', false)
          return
        default:
          this.checkStall()
      }
    } catch {
      this.checkStall()
    }
  }

  private checkStall(): void {
    const since = Date.now() - this.lastHeartbeatOk
    if (since > this.sessionTimeoutMs) this.emit('heartbeat-stalled', since)
  }

  // ------------------------------------------------------------------------------------ offsets

  /** Commit offsets (Kafka's next-offset convention) for partitions we own, with our generation. */
  async commit(
    offsets: Array<{ topic: string; partition: number; offset: bigint; metadata?: string | null }>,
  ): Promise<void> {
    if (offsets.length === 0) return
    if (this.fatal) throw this.fatal
    if (this.pendingFatal) throw this.pendingFatal
    const generationId = this.generationId
    const memberId = this.memberId
    // A membership never started commits as a standalone consumer (generation -1, no member id: a static
    // assignment); one that joined and lost its generation must not.
    if (this.pendingLoss !== null || (generationId < 0 && this.listener !== null))
      throw new CommitFailedError(
        `group ${this.groupId} cannot take this commit: this member's generation is gone (${this.pendingLoss?.reason ?? 'not in the group'}); its partitions are being reassigned`,
      )
    // Only a generation confirmed by SyncGroup commits, and only if it is still ours once the coordinator is
    // known: a commit waiting out a coordinator failover must not land in a later generation that happens to
    // have the same number (the offsets were taken for partitions we may have lost meanwhile).
    const seq = this.generationSeq
    const unsettled = () =>
      this.joining || seq !== this.syncedSeq || seq !== this.generationSeq
        ? new KafkaError(ErrorCode.REBALANCE_IN_PROGRESS, {
            brokerMessage: `group ${this.groupId} is rebalancing: the offsets stay uncommitted and go with the next commit`,
          })
        : null
    let notNow = unsettled()
    if (notNow === null) {
      await this.ensureCoordinator()
      notNow = unsettled()
    }
    if (notNow !== null) throw notNow
    const byTopic = new Map<
      string,
      Array<{
        partitionIndex: number
        committedOffset: bigint
        committedLeaderEpoch: number
        committedMetadata: string | null
      }>
    >()
    for (const o of offsets) {
      let list = byTopic.get(o.topic)
      if (!list) byTopic.set(o.topic, (list = []))
      list.push({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: -1,
        committedMetadata: o.metadata ?? null,
      })
    }
    const response = await this.toCoordinator(OffsetCommit, {
      groupId: this.groupId,
      generationIdOrMemberEpoch: generationId,
      memberId,
      groupInstanceId: this.groupInstanceId,
      topics: [...byTopic].map(([name, partitions]) => ({
        name,
        topicId: this.cluster.topics.get(name)?.topicId,
        partitions,
      })),
    })
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === 0) continue
        const cause = new KafkaError(p.errorCode, { topic: t.name, partition: p.partitionIndex })
        const unchanged = generationId === this.generationId && memberId === this.memberId
        if (
          p.errorCode === ErrorCode.ILLEGAL_GENERATION &&
          !(unchanged && !this.joining) &&
          this.generationId >= 0 &&
          this.pendingLoss === null
        ) {
          // We moved to a newer generation (or are joining one) while the commit was in flight: nothing is
          // lost, the offsets stay uncommitted and go with the next commit, under the new generation.
          throw new KafkaError(ErrorCode.REBALANCE_IN_PROGRESS, {
            topic: t.name,
            partition: p.partitionIndex,
            brokerMessage: `the group rebalanced while a commit of generation ${generationId} was in flight; it is retried with the next commit`,
            cause,
          })
        }
        if (
          p.errorCode === ErrorCode.ILLEGAL_GENERATION ||
          p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID ||
          p.errorCode === ErrorCode.FENCED_INSTANCE_ID
        ) {
          // Still the generation we committed with: it is gone, so are our partitions (the loop rejoins).
          if (unchanged) {
            if (p.errorCode === ErrorCode.FENCED_INSTANCE_ID) this.fenced('OffsetCommit')
            else if (!this.stopping)
              this.generationLost(
                `commit: ${p.errorCode === ErrorCode.ILLEGAL_GENERATION ? 'our generation is stale' : 'the coordinator no longer knows this member'}`,
                p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID,
              )
          }
          throw new CommitFailedError(
            `group ${this.groupId} rejected the commit of generation ${generationId} for ${t.name}-${p.partitionIndex} (${cause.code}): this member was dropped from the group or fenced, and the partition may have a new owner`,
            cause,
          )
        }
        if (p.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) this.requestRejoin('commit during a rebalance')
        throw cause
      }
    }
  }

  /** Committed offsets of these partitions (-1n where the group has none). */
  async committed(partitions: TopicPartition[]): Promise<Map<string, bigint>> {
    const topics = groupByTopic(partitions)
    const response = await this.toCoordinator(OffsetFetch, {
      groupId: this.groupId,
      topics: topics.map((t) => ({ name: t.topic, partitionIndexes: t.partitions })),
      groups: [
        {
          groupId: this.groupId,
          memberId: null,
          memberEpoch: -1,
          topics: topics.map((t) => ({ name: t.topic, partitionIndexes: t.partitions })),
        },
      ],
      requireStable: true,
    })
    const out = new Map<string, bigint>()
    const add = (topic: string, partition: number, offset: bigint, errorCode: number) => {
      if (errorCode !== 0) throw new KafkaError(errorCode, { topic, partition })
      out.set(tpKey({ topic, partition }), offset)
    }
    if (response.groups.length > 0) {
      const g = response.groups[0]
      if (g.errorCode !== 0) throw new KafkaError(g.errorCode)
      for (const t of g.topics)
        for (const p of t.partitions) add(t.name, p.partitionIndex, p.committedOffset, p.errorCode)
    } else {
      if (response.errorCode !== 0) throw new KafkaError(response.errorCode)
      for (const t of response.topics)
        for (const p of t.partitions) add(t.name, p.partitionIndex, p.committedOffset, p.errorCode)
    }
    return out
  }

  // ------------------------------------------------------------------------------------ leaving

  private async leaveOutOfBand(reason: string): Promise<void> {
    try {
      const b = this.cluster.broker(this.coordinatorId)
      const c = await this.cluster.pool.get(b.host, b.port, 'admin', String(this.coordinatorId))
      await c.request(LeaveGroup, {
        groupId: this.groupId,
        memberId: this.memberId,
        members: [{ memberId: this.memberId, groupInstanceId: this.groupInstanceId, reason }],
      })
    } catch (err) {
      this.emit('warning', err)
    }
  }

  private async sendLeave(reason: string): Promise<void> {
    if (this.memberId === '') return
    await this.toCoordinator(LeaveGroup, {
      groupId: this.groupId,
      memberId: this.memberId,
      members: [{ memberId: this.memberId, groupInstanceId: this.groupInstanceId, reason }],
    })
  }

  /**
   * Revoke what we own (the listener commits), leave the group (dynamic members, or any member with `leave`:
   * a static member moving to another group), stop heartbeats.
   */
  async close(options: { leave?: boolean } = {}): Promise<void> {
    if (this.stopping && this.loop === null) return
    this.stopping = true
    this.wake?.()
    if (this.joining && this.memberId !== '') {
      // A JoinGroup may wait for other members up to the rebalance timeout, and the broker answers one request
      // of a connection at a time: leave over another connection instead of waiting behind it. The join's
      // late answer finds the loop stopping.
      const leaving = this.leaveOutOfBand('the consumer is closing during a rebalance')
      await Promise.race([this.loop?.catch(() => {}), leaving])
      this.memberId = ''
    } else await this.loop?.catch(() => {})
    this.loop = null
    // Heartbeats go on while the listener finishes in-flight work and commits, so the commit still counts.
    // A member whose generation is gone has lost its partitions instead: their commits would fail.
    if (this.owned.length > 0 && !this.fatal) {
      const gone = this.owned
      this.owned = []
      try {
        if (this.pendingLoss === null) await this.listener?.onRevoked(gone)
        else await this.listener?.onLost(gone)
      } finally {
        this.stopHeartbeats()
      }
    }
    this.stopHeartbeats()
    // A static member stays in the group so a restart within the session timeout causes no rebalance.
    if (!this.fatal && (this.groupInstanceId === null || this.options.leaveOnClose || options.leave)) {
      await this.sendLeave('the consumer is closing').catch(() => {})
    }
  }

  /** The error that stopped the membership, if any. */
  get error(): Error | null {
    return this.fatal
  }

  get coordinatorNode(): number {
    return this.coordinatorId
  }
}
