import { sleep } from '../network/backoff.js'
import { Cluster, type ClusterOptions, type TopicInfo } from '../network/cluster.js'
import type { Api } from '../protocol/api.js'
import { CreateTopics } from '../protocol/create-topics.js'
import { DeleteTopics } from '../protocol/delete-topics.js'
import { ErrorCode, KafkaError } from '../protocol/error-codes.js'
import { ConfigError } from './errors.js'
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

/** The admin client. This is the minimal set the producer issue needs; the tools issue grows it. */
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

  /** Poll metadata until every partition of the topics has a leader. */
  async waitForLeaders(topics: string[], timeoutMs = 30_000): Promise<void> {
    this.cluster.addTopics(topics)
    const deadline = Date.now() + timeoutMs
    for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
      await this.cluster.refresh()
      const ready = topics.every((t) => {
        const info = this.cluster.topics.get(t)
        return (
          info !== undefined &&
          info.errorCode === 0 &&
          info.partitions.length > 0 &&
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

  close(): void {
    this.cluster.close()
  }
}
