import { backoffDelay, sleep } from '../network/backoff.js'
import { Cluster, type ClusterOptions, type TopicInfo } from '../network/cluster.js'
import type { Api } from '../protocol/api.js'
import { decodeConsumerProtocolAssignment, decodeConsumerProtocolSubscription } from '../protocol/consumer-protocol.js'
import { CreatePartitions } from '../protocol/create-partitions.js'
import { CreateTopics } from '../protocol/create-topics.js'
import { DeleteGroups } from '../protocol/delete-groups.js'
import { DeleteRecords } from '../protocol/delete-records.js'
import { DeleteTopics } from '../protocol/delete-topics.js'
import { DescribeConfigs } from '../protocol/describe-configs.js'
import { DescribeGroups } from '../protocol/describe-groups.js'
import { ErrorCode, KafkaError, needsCoordinatorRefresh } from '../protocol/error-codes.js'
import { KafkaWireError } from '../protocol/errors.js'
import { IncrementalAlterConfigs } from '../protocol/incremental-alter-configs.js'
import { ListGroups } from '../protocol/list-groups.js'
import { OffsetCommit } from '../protocol/offset-commit.js'
import { OffsetFetch } from '../protocol/offset-fetch.js'
import { findGroupCoordinator } from './coordinator.js'
import { ConfigError } from './errors.js'
import { EARLIEST, LATEST, listOffset } from './list-offset.js'
import type { TopicPartitionOffset } from './offset-tracker.js'
import { topicNameProblem } from './topics.js'

export interface AdminConfig extends Omit<ClusterOptions, 'bootstrap'> {
  brokers: string | string[]
}

export interface NewTopic {
  topic: string
  /** Default: the broker's num.partitions (-1). */
  partitions?: number
  /** Default: the broker's default.replication.factor (-1). */
  replicationFactor?: number
  configs?: Record<string, string>
}

export interface CreateTopicsOptions {
  /** Broker-side timeout (ms). Default 30000. */
  timeoutMs?: number
  /** Treat TOPIC_ALREADY_EXISTS as success. Default false. */
  ignoreExisting?: boolean
  /** Wait until every new partition has a leader in metadata. Default true. */
  waitForLeaders?: boolean
}

export interface PartitionDescription {
  partition: number
  /** -1 when the partition has no leader. */
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
}

export interface TopicDescription {
  name: string
  topicId: string
  internal: boolean
  partitions: PartitionDescription[]
}

export type ConfigResource = { type: 'topic'; name: string } | { type: 'broker'; name: string | number }

export interface ConfigEntry {
  value: string | null
  readOnly: boolean
  /** Where the value comes from: 'topic', 'broker', 'default', ... (Kafka's ConfigSource). */
  source: ConfigSourceName
  sensitive: boolean
}

export type ConfigSourceName =
  | 'unknown'
  | 'topic'
  | 'dynamic-broker'
  | 'dynamic-default-broker'
  | 'static-broker'
  | 'default'
  | 'dynamic-broker-logger'
  | 'client-metrics'
  | 'group'

const CONFIG_SOURCES: ConfigSourceName[] = [
  'unknown',
  'topic',
  'dynamic-broker',
  'dynamic-default-broker',
  'static-broker',
  'default',
  'dynamic-broker-logger',
  'client-metrics',
  'group',
]

export interface ConfigChange {
  name: string
  /** Default 'set'. 'append' / 'subtract' work on list-valued configs. */
  op?: 'set' | 'delete' | 'append' | 'subtract'
  value?: string
}

export interface GroupListing {
  groupId: string
  protocolType: string
  /** 'Stable', 'Empty', 'PreparingRebalance', 'CompletingRebalance', 'Dead', ... */
  state: string
  /** 'classic', 'consumer', 'share', ... (Kafka 3.8+ brokers; '' before). */
  type: string
}

export interface GroupMemberDescription {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  /** The member's subscription, for consumer groups. */
  topics: string[]
  /** The partitions assigned to it, for consumer groups. */
  assignment: Array<{ topic: string; partition: number }>
}

export interface GroupDescription {
  groupId: string
  state: string
  protocolType: string
  /** The assignor chosen. */
  protocol: string
  members: GroupMemberDescription[]
}

export interface PartitionLag {
  topic: string
  partition: number
  /** -1 when the group has no committed offset for it. */
  committed: bigint
  end: bigint
  /** end - committed; when nothing is committed, end - earliest (what a new member would have to read). */
  lag: bigint
  /** The member that owns it now, if any. */
  memberId: string | null
  clientId: string | null
}

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number }

/** Where resetGroupOffsets moves a group. */
export type ResetTarget = OffsetSpec | { offset: bigint } | { shiftBy: number }

/** The group is not in a state the operation allows (e.g. a reset of a group with active members). */
export class AdminError extends KafkaWireError {
  constructor(code: string, message: string, details: ConstructorParameters<typeof KafkaWireError>[2] = {}) {
    super(code, message, { ...details, retriable: false })
  }
}

const RESOURCE_TYPE = { topic: 2, broker: 4 } as const
const CONFIG_OPS = { set: 0, delete: 1, append: 2, subtract: 3 } as const

/** The admin client: topics, partitions, configs, consumer groups and their offsets, records. */
export class Admin {
  readonly cluster: Cluster
  private connected: Promise<void> | null = null

  constructor(config: AdminConfig) {
    const { brokers, ...rest } = config
    this.cluster = new Cluster({ ...rest, bootstrap: brokers })
  }

  connect(): Promise<void> {
    if (this.connected === null) {
      this.connected = this.cluster.connect()
      this.connected.catch(() => {
        this.connected = null
      })
    }
    return this.connected
  }

  /** Requests that must reach the controller (KRaft brokers forward them, so any broker is right). */
  private async toController<Q, R>(api: Api<Q, R>, request: Q): Promise<R> {
    await this.connect()
    if (this.cluster.controllerId >= 0 && this.cluster.brokers.has(this.cluster.controllerId)) {
      const c = await this.cluster.connection(this.cluster.controllerId, 'admin')
      return c.request(api, request)
    }
    return this.cluster.requestAny(api, request)
  }

  async createTopics(topics: NewTopic[], options: CreateTopicsOptions = {}): Promise<void> {
    for (const t of topics) {
      const problem = topicNameProblem(t.topic)
      if (problem) throw new ConfigError(problem)
    }
    const response = await this.toController(CreateTopics, {
      topics: topics.map((t) => ({
        name: t.topic,
        numPartitions: t.partitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: options.timeoutMs ?? 30_000,
      validateOnly: false,
    })
    for (const r of response.topics) {
      if (r.errorCode === 0) continue
      if (r.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && options.ignoreExisting) continue
      throw new KafkaError(r.errorCode, { brokerMessage: r.errorMessage, topic: r.name })
    }
    if (options.waitForLeaders ?? true)
      await this.waitForLeaders(
        topics.map((t) => t.topic),
        options.timeoutMs ?? 30_000,
      )
  }

  /** Poll metadata until every partition of the topics has a leader (and there are as many as expected). */
  async waitForLeaders(topics: string[], timeoutMs = 30_000, partitionCounts?: Map<string, number>): Promise<void> {
    this.cluster.addTopics(topics)
    const deadline = Date.now() + timeoutMs
    for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
      await this.cluster.refresh()
      const ready = topics.every((t) => {
        const info = this.cluster.topics.get(t)
        return (
          info !== undefined &&
          info.errorCode === 0 &&
          info.partitions.length >= (partitionCounts?.get(t) ?? 1) &&
          info.partitions.every((p) => p && p.leader >= 0)
        )
      })
      if (ready) return
      if (Date.now() > deadline) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, { topic: topics.join(',') })
      await sleep(delay)
    }
  }

  async deleteTopics(topics: string[], options: { timeoutMs?: number; ignoreMissing?: boolean } = {}): Promise<void> {
    const response = await this.toController(DeleteTopics, {
      topics: topics.map((name) => ({ name })),
      topicNames: topics,
      timeoutMs: options.timeoutMs ?? 30_000,
    })
    for (const r of response.responses) {
      if (r.errorCode === 0) continue
      if (r.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && options.ignoreMissing) continue
      throw new KafkaError(r.errorCode, { brokerMessage: r.errorMessage, topic: r.name ?? undefined })
    }
    this.cluster.removeTopics(topics)
  }

  /** Names of the topics in the cluster (internal topics only when asked). */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const all = await this.metadata()
    return all
      .filter((t) => options.includeInternal || !t.isInternal)
      .map((t) => t.name)
      .sort()
  }

  /** Metadata of the given topics, or of all topics. */
  async metadata(topics?: string[]): Promise<TopicInfo[]> {
    await this.connect()
    if (topics === undefined) this.cluster.followAllTopics(true)
    else this.cluster.addTopics(topics)
    try {
      await this.cluster.refresh()
    } finally {
      if (topics === undefined) this.cluster.followAllTopics(false)
    }
    const out: TopicInfo[] = []
    for (const [name, info] of this.cluster.topics) if (topics === undefined || topics.includes(name)) out.push(info)
    return out
  }

  /** Partitions with leaders, replicas and ISR; an unknown topic is a KafkaError (UNKNOWN_TOPIC_OR_PARTITION). */
  async describeTopics(topics?: string[]): Promise<TopicDescription[]> {
    const infos = await this.metadata(topics)
    if (topics !== undefined) {
      for (const t of topics) {
        const info = infos.find((i) => i.name === t)
        if (!info) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: t })
        if (info.errorCode !== 0) throw new KafkaError(info.errorCode, { topic: t })
      }
    }
    return infos
      .filter((i) => i.errorCode === 0)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((i) => ({
        name: i.name,
        topicId: i.topicId,
        internal: i.isInternal,
        partitions: i.partitions
          .filter((p) => p !== undefined)
          .map((p) => ({
            partition: p.partition,
            leader: p.leader,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offlineReplicas,
          })),
      }))
  }

  /** Grow topics to `count` partitions each (Kafka never shrinks them). */
  async createPartitions(changes: Array<{ topic: string; count: number }>, options: { timeoutMs?: number } = {}) {
    for (const c of changes) {
      if (!Number.isInteger(c.count) || c.count < 1)
        throw new ConfigError(`partition count for ${c.topic} must be a positive integer, got ${c.count}`)
    }
    const response = await this.toController(CreatePartitions, {
      topics: changes.map((c) => ({ name: c.topic, count: c.count, assignments: null })),
      timeoutMs: options.timeoutMs ?? 30_000,
      validateOnly: false,
    })
    for (const r of response.results)
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, { brokerMessage: r.errorMessage, topic: r.name })
    // Brokers learn of the new partitions a little after the controller answers.
    await this.waitForLeaders(
      changes.map((c) => c.topic),
      options.timeoutMs ?? 30_000,
      new Map(changes.map((c) => [c.topic, c.count])),
    )
  }

  /** The configuration of a topic or a broker (all keys, or the ones asked for). */
  async describeConfigs(resource: ConfigResource, keys?: string[]): Promise<Record<string, ConfigEntry>> {
    await this.connect()
    const request = {
      resources: [
        {
          resourceType: RESOURCE_TYPE[resource.type],
          resourceName: String(resource.name),
          configurationKeys: keys ?? null,
        },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    }
    // A broker's own configuration is answered by that broker.
    const response =
      resource.type === 'broker'
        ? await (await this.cluster.connection(Number(resource.name), 'admin')).request(DescribeConfigs, request)
        : await this.cluster.requestAny(DescribeConfigs, request)
    const result = response.results[0]
    if (!result) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, { brokerMessage: 'no result' })
    if (result.errorCode !== 0)
      throw new KafkaError(result.errorCode, {
        brokerMessage: result.errorMessage,
        topic: resource.type === 'topic' ? resource.name : undefined,
      })
    const out: Record<string, ConfigEntry> = {}
    for (const c of result.configs) {
      out[c.name] = {
        value: c.value,
        readOnly: c.readOnly,
        source: CONFIG_SOURCES[c.configSource] ?? 'unknown',
        sensitive: c.isSensitive,
      }
    }
    return out
  }

  /** Change configs one by one (IncrementalAlterConfigs): others keep their values. */
  async alterConfigs(resource: ConfigResource, changes: ConfigChange[], options: { validateOnly?: boolean } = {}) {
    for (const c of changes) {
      const op = c.op ?? 'set'
      if (!(op in CONFIG_OPS)) throw new ConfigError(`unknown config operation ${op}`)
      if (op !== 'delete' && c.value === undefined) throw new ConfigError(`config ${c.name}: '${op}' needs a value`)
    }
    const request = {
      resources: [
        {
          resourceType: RESOURCE_TYPE[resource.type],
          resourceName: String(resource.name),
          configs: changes.map((c) => ({
            name: c.name,
            configOperation: CONFIG_OPS[c.op ?? 'set'],
            value: c.value ?? null,
          })),
        },
      ],
      validateOnly: options.validateOnly ?? false,
    }
    const response =
      resource.type === 'broker'
        ? await (await this.cluster.connection(Number(resource.name), 'admin')).request(
            IncrementalAlterConfigs,
            request,
          )
        : await this.toController(IncrementalAlterConfigs, request)
    for (const r of response.responses)
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, { brokerMessage: r.errorMessage })
  }

  // ------------------------------------------------------------------------------------ offsets and records

  /** The offset of every partition of `topic` at `spec`: the earliest, the latest, or the first at a timestamp. */
  async listOffsets(topic: string, spec: OffsetSpec = 'latest'): Promise<TopicPartitionOffset[]> {
    const [info] = await this.describeTopics([topic])
    return Promise.all(
      info.partitions.map(async (p) => ({
        topic,
        partition: p.partition,
        offset: await this.offsetAt(topic, p.partition, spec),
      })),
    )
  }

  private async offsetAt(topic: string, partition: number, spec: OffsetSpec): Promise<bigint> {
    if (spec === 'earliest') return listOffset(this.cluster, topic, partition, EARLIEST)
    if (spec === 'latest') return listOffset(this.cluster, topic, partition, LATEST)
    if (typeof spec !== 'object' || spec === null || !Number.isFinite(spec.timestamp))
      throw new ConfigError(`not an offset spec: ${String(spec)}`)
    const at = await listOffset(this.cluster, topic, partition, BigInt(Math.trunc(spec.timestamp)))
    // No message at or after the timestamp: the end.
    return at >= 0n ? at : listOffset(this.cluster, topic, partition, LATEST)
  }

  /**
   * Delete the records of partitions below the given offsets (-1n: everything up to the end). Resolves with the
   * new low watermarks.
   */
  async deleteRecords(
    topic: string,
    below: Array<{ partition: number; offset: bigint }>,
    options: { timeoutMs?: number } = {},
  ): Promise<TopicPartitionOffset[]> {
    await this.describeTopics([topic])
    const byLeader = new Map<number, Array<{ partition: number; offset: bigint }>>()
    for (const b of below) {
      const leader = this.cluster.leaderFor(topic, b.partition)
      if (leader < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, { topic, partition: b.partition })
      let list = byLeader.get(leader)
      if (!list) byLeader.set(leader, (list = []))
      list.push(b)
    }
    const out: TopicPartitionOffset[] = []
    for (const [leader, parts] of byLeader) {
      const c = await this.cluster.connection(leader, 'admin')
      const r = await c.request(DeleteRecords, {
        topics: [{ name: topic, partitions: parts.map((p) => ({ partitionIndex: p.partition, offset: p.offset })) }],
        timeoutMs: options.timeoutMs ?? 30_000,
      })
      for (const t of r.topics)
        for (const p of t.partitions) {
          if (p.errorCode !== 0) throw new KafkaError(p.errorCode, { topic, partition: p.partitionIndex })
          out.push({ topic, partition: p.partitionIndex, offset: p.lowWatermark })
        }
    }
    return out.sort((a, b) => a.partition - b.partition)
  }

  // ------------------------------------------------------------------------------------ groups

  /** Every group of every broker. */
  async listGroups(): Promise<GroupListing[]> {
    await this.connect()
    await this.cluster.refresh()
    const lists = await Promise.all(
      [...this.cluster.brokers.keys()].map(async (nodeId) => {
        const c = await this.cluster.connection(nodeId, 'admin')
        const r = await c.request(ListGroups, {})
        if (r.errorCode !== 0) throw new KafkaError(r.errorCode)
        return r.groups
      }),
    )
    return lists
      .flat()
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
  }

  /** Members, their subscriptions and assignments. A group that does not exist is reported in state 'Dead'. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const r = await this.toCoordinator(groupId, DescribeGroups, {
      groups: [groupId],
      includeAuthorizedOperations: false,
    })
    const g = r.groups[0]
    if (!g) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, { brokerMessage: 'no group in the response' })
    if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND)
      return { groupId, state: 'Dead', protocolType: '', protocol: '', members: [] }
    if (g.errorCode !== 0) throw new KafkaError(g.errorCode, { brokerMessage: g.errorMessage })
    const consumer = g.protocolType === 'consumer'
    return {
      groupId: g.groupId,
      state: g.groupState,
      protocolType: g.protocolType,
      protocol: g.protocolData,
      members: g.members.map((m) => {
        let topics: string[] = []
        let assignment: Array<{ topic: string; partition: number }> = []
        if (consumer) {
          // A member whose metadata we cannot read is still listed, without its subscription.
          try {
            if (m.memberMetadata.length > 0) topics = decodeConsumerProtocolSubscription(m.memberMetadata).topics
            if (m.memberAssignment.length > 0)
              assignment = decodeConsumerProtocolAssignment(m.memberAssignment).assignedPartitions.flatMap((tp) =>
                tp.partitions.map((partition) => ({ topic: tp.topic, partition })),
              )
          } catch {}
        }
        return {
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          topics,
          assignment,
        }
      }),
    }
  }

  /** The group's committed offsets (of the given topics, or of all it has). */
  async groupOffsets(groupId: string, topics?: string[]): Promise<TopicPartitionOffset[]> {
    let wanted: Array<{ name: string; partitionIndexes: number[] }> | null = null
    if (topics !== undefined) {
      const infos = await this.describeTopics(topics)
      wanted = infos.map((t) => ({ name: t.name, partitionIndexes: t.partitions.map((p) => p.partition) }))
    }
    const r = await this.toCoordinator(groupId, OffsetFetch, {
      groupId,
      topics: wanted,
      groups: [{ groupId, memberId: null, memberEpoch: -1, topics: wanted }],
      requireStable: false,
    })
    const out: TopicPartitionOffset[] = []
    const add = (
      name: string,
      partitions: Array<{ partitionIndex: number; committedOffset: bigint; errorCode: number }>,
    ) => {
      for (const p of partitions) {
        if (p.errorCode !== 0) throw new KafkaError(p.errorCode, { topic: name, partition: p.partitionIndex })
        if (p.committedOffset >= 0n) out.push({ topic: name, partition: p.partitionIndex, offset: p.committedOffset })
      }
    }
    if (r.groups.length > 0) {
      const g = r.groups[0]
      if (g.errorCode !== 0) throw new KafkaError(g.errorCode)
      for (const t of g.topics) add(t.name || this.cluster.topicNamesById.get(t.topicId) || '', t.partitions)
    } else {
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode)
      for (const t of r.topics) add(t.name, t.partitions)
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  }

  /**
   * Committed offset, end offset, lag and owner of every partition of the topics the group has offsets for
   * (or of `topics`), as `kafka-consumer-groups --describe` shows them.
   */
  async groupLag(groupId: string, topics?: string[]): Promise<PartitionLag[]> {
    const [description, committed] = await Promise.all([
      this.describeGroup(groupId),
      this.groupOffsets(groupId, topics),
    ])
    const names = topics ?? [
      ...new Set([...committed.map((c) => c.topic), ...description.members.flatMap((m) => m.topics)]),
    ]
    const owners = new Map<string, GroupMemberDescription>()
    for (const m of description.members) for (const a of m.assignment) owners.set(`${a.topic}\u0000${a.partition}`, m)
    const byKey = new Map(committed.map((c) => [`${c.topic}\u0000${c.partition}`, c.offset]))
    const out: PartitionLag[] = []
    for (const topic of names.sort()) {
      const ends = await this.listOffsets(topic, 'latest')
      for (const e of ends) {
        const k = `${topic}\u0000${e.partition}`
        const c = byKey.get(k) ?? -1n
        const from = c >= 0n ? c : await this.offsetAt(topic, e.partition, 'earliest')
        const owner = owners.get(k)
        out.push({
          topic,
          partition: e.partition,
          committed: c,
          end: e.offset,
          lag: e.offset > from ? e.offset - from : 0n,
          memberId: owner?.memberId ?? null,
          clientId: owner?.clientId ?? null,
        })
      }
    }
    return out
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    for (const groupId of groupIds) {
      const r = await this.toCoordinator(groupId, DeleteGroups, { groupsNames: [groupId] })
      for (const g of r.results) if (g.errorCode !== 0) throw new KafkaError(g.errorCode, { brokerMessage: g.groupId })
    }
  }

  /**
   * Move a group's committed offsets for the partitions of `topic` (or some of them) to the earliest, the latest,
   * a timestamp, an offset, or shifted by N. The group must have no active members (AdminError
   * ERR_GROUP_ACTIVE). Resolves with the offsets written.
   */
  async resetGroupOffsets(
    groupId: string,
    topic: string,
    to: ResetTarget,
    options: { partitions?: number[]; dryRun?: boolean } = {},
  ): Promise<TopicPartitionOffset[]> {
    const description = await this.describeGroup(groupId)
    if (description.members.length > 0)
      throw new AdminError(
        'ERR_GROUP_ACTIVE',
        `group ${groupId} has ${description.members.length} active member(s) (state ${description.state}): stop them before resetting its offsets`,
      )
    const [info] = await this.describeTopics([topic])
    const partitions = options.partitions ?? info.partitions.map((p) => p.partition)
    for (const p of partitions)
      if (!info.partitions.some((x) => x.partition === p))
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic, partition: p })
    const current = new Map((await this.groupOffsets(groupId, [topic])).map((o) => [o.partition, o.offset]))
    const targets: TopicPartitionOffset[] = []
    for (const partition of partitions) {
      const [earliest, latest] = await Promise.all([
        this.offsetAt(topic, partition, 'earliest'),
        this.offsetAt(topic, partition, 'latest'),
      ])
      let offset: bigint
      if (typeof to === 'object' && to !== null && 'offset' in to) offset = to.offset
      else if (typeof to === 'object' && to !== null && 'shiftBy' in to)
        offset = (current.get(partition) ?? earliest) + BigInt(Math.trunc(to.shiftBy))
      else offset = await this.offsetAt(topic, partition, to)
      // As the Java tool does: a target outside the log is clamped to it.
      if (offset < earliest) offset = earliest
      if (offset > latest) offset = latest
      targets.push({ topic, partition, offset })
    }
    if (options.dryRun) return targets
    const r = await this.toCoordinator(groupId, OffsetCommit, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: topic,
          topicId: info.topicId,
          partitions: targets.map((t) => ({
            partitionIndex: t.partition,
            committedOffset: t.offset,
            committedLeaderEpoch: -1,
            committedMetadata: null,
          })),
        },
      ],
    })
    for (const t of r.topics)
      for (const p of t.partitions) {
        if (p.errorCode === 0) continue
        if (p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || p.errorCode === ErrorCode.ILLEGAL_GENERATION)
          throw new AdminError('ERR_GROUP_ACTIVE', `group ${groupId} became active while its offsets were reset`, {
            cause: new KafkaError(p.errorCode),
          })
        throw new KafkaError(p.errorCode, { topic, partition: p.partitionIndex })
      }
    return targets
  }

  /** A request to the group's coordinator, finding it (again) when it moved or is loading. */
  private async toCoordinator<Q, R>(groupId: string, api: Api<Q, R>, request: Q): Promise<R> {
    await this.connect()
    for (let attempt = 0; ; attempt++) {
      let lookups = 0
      const c = await findGroupCoordinator(this.cluster, groupId, () => ++lookups > 10)
      const connection = await this.cluster.pool.get(c.host, c.port, 'admin', String(c.nodeId))
      const response = await connection.request(api, request)
      const code = groupErrorOf(response)
      // A coordinator that moved or is still loading the group: look it up again.
      if (code === 0 || (!needsCoordinatorRefresh(code) && code !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS))
        return response
      if (attempt >= 10) throw new KafkaError(code)
      await sleep(backoffDelay(attempt, { baseMs: 100, maxMs: 2000 }))
    }
  }

  close(): void {
    this.cluster.close()
  }
}

/** The first group-level error code of a coordinator response (0 when none), to find a moved coordinator. */
function groupErrorOf(response: unknown): number {
  const r = response as {
    errorCode?: number
    groups?: Array<{ errorCode?: number }>
    results?: Array<{ errorCode?: number }>
  }
  if (typeof r.errorCode === 'number' && r.errorCode !== 0) return r.errorCode
  for (const list of [r.groups, r.results]) for (const g of list ?? []) if (g.errorCode) return g.errorCode
  return 0
}
