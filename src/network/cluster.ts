import type { Api } from '../protocol/api.js'
import { KafkaWireError } from '../protocol/errors.js'
import { Metadata, type MetadataResponse } from '../protocol/metadata.js'
import type { Connection } from './connection.js'
import { ConnectionError } from './errors.js'
import { ConnectionPool, type PoolOptions, type TrafficClass } from './pool.js'

export interface BrokerInfo {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

export interface PartitionInfo {
  partition: number
  errorCode: number
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
}

export interface TopicInfo {
  name: string
  topicId: string
  errorCode: number
  isInternal: boolean
  /** Indexed by partition number. */
  partitions: PartitionInfo[]
}

export interface ClusterOptions extends PoolOptions {
  /** host:port list, as an array or a comma-separated string. */
  bootstrap: string | string[]
  /** Refresh metadata at least this often. Default 5 minutes. */
  metadataMaxAgeMs?: number
  /** Ask brokers to create unknown topics when asked for their metadata. Default false. */
  allowAutoTopicCreation?: boolean
}

/**
 * The connection settings of a client's configuration (identity, TLS, SASL, timeouts, reconnects), for a
 * helper client made on its behalf, e.g. a consumer's dead-letter producer. Tuning of the client itself
 * (in-flight limits, retries) is left out.
 */
export function connectionOptionsOf(
  config: Omit<ClusterOptions, 'bootstrap'>,
): Omit<ClusterOptions, 'bootstrap' | 'maxInFlight'> {
  const out: Record<string, unknown> = {}
  for (const k of CONNECTION_KEYS) if (config[k] !== undefined) out[k] = config[k]
  return out as Omit<ClusterOptions, 'bootstrap' | 'maxInFlight'>
}

const CONNECTION_KEYS = [
  'clientId',
  'tls',
  'sasl',
  'connectTimeoutMs',
  'requestTimeoutMs',
  'maxFrameBytes',
  'authenticate',
  'reconnectBackoff',
  'idleTimeoutMs',
  'metadataMaxAgeMs',
  'allowAutoTopicCreation',
] as const satisfies ReadonlyArray<keyof Omit<ClusterOptions, 'bootstrap' | 'maxInFlight'>>

export function parseBrokerList(list: string | string[]): Array<{ host: string; port: number }> {
  if (typeof list !== 'string' && !(Array.isArray(list) && list.every((b) => typeof b === 'string'))) {
    throw new KafkaWireError('ERR_CONFIG', `brokers must be "host:port,..." or an array of them, got ${typeof list}`)
  }
  const items = (Array.isArray(list) ? list : list.split(',')).map((s) => s.trim()).filter((s) => s.length > 0)
  if (items.length === 0) throw new KafkaWireError('ERR_CONFIG', 'the bootstrap broker list is empty')
  return items.map((item) => {
    const at = item.lastIndexOf(':')
    const host = at > 0 ? item.slice(0, at).replace(/^\[(.*)\]$/, '$1') : item
    const port = at > 0 ? Number(item.slice(at + 1)) : 9092
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new KafkaWireError('ERR_CONFIG', `not a host:port pair: ${item}`)
    }
    return { host, port }
  })
}

/**
 * What the client knows of the cluster: brokers, topics and their partition leaders, the controller.
 * Metadata is refreshed periodically and on demand (coalesced: callers asking at the same time share
 * one request), for the topics the client has shown interest in, or for all topics.
 */
export class Cluster {
  readonly pool: ConnectionPool
  readonly brokers = new Map<number, BrokerInfo>()
  readonly topics = new Map<string, TopicInfo>()
  readonly topicNamesById = new Map<string, string>()
  clusterId: string | null = null
  controllerId = -1
  /** When metadata was last refreshed (ms since epoch); 0 before the first refresh. */
  updatedAt = 0
  private readonly bootstrap: Array<{ host: string; port: number }>
  private readonly interest = new Set<string>()
  private allTopics = false
  private refreshing: Promise<void> | null = null
  private refreshAgain = false
  private readonly options: Omit<ClusterOptions, 'sasl'>
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor(options: ClusterOptions) {
    const { sasl: _credentials, ...rest } = options
    this.options = rest
    this.bootstrap = parseBrokerList(options.bootstrap)
    this.pool = new ConnectionPool(options)
  }

  /** Fetch metadata for the first time and start periodic refreshes. */
  async connect(): Promise<void> {
    await this.refresh()
    if (this.timer === null && !this.closed) {
      const every = this.options.metadataMaxAgeMs ?? 300_000
      this.timer = setInterval(() => {
        this.refresh().catch(() => {
          // A failed periodic refresh is retried at the next tick or on demand; callers see errors on use.
        })
      }, every)
      this.timer.unref()
    }
  }

  /** Follow these topics in metadata refreshes (returns true when any was new). */
  addTopics(topics: Iterable<string>): boolean {
    let added = false
    for (const t of topics) {
      if (!this.interest.has(t)) {
        this.interest.add(t)
        added = true
      }
    }
    return added
  }

  removeTopics(topics: Iterable<string>): void {
    for (const t of topics) {
      this.interest.delete(t)
      if (!this.allTopics) this.topics.delete(t)
    }
  }

  /** Refresh metadata for all topics in the cluster (regex subscriptions, admin listings). */
  followAllTopics(on = true): void {
    this.allTopics = on
  }

  /**
   * Refresh now. A refresh already under way is joined, and one more is made after it when a caller
   * arrives meanwhile (its reason may postdate the running request).
   */
  refresh(): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionError('ERR_CLIENT_CLOSED', 'the client is closed'))
    if (this.refreshing !== null) {
      this.refreshAgain = true
      return this.refreshing
    }
    this.refreshing = this.runRefresh().finally(() => {
      this.refreshing = null
    })
    return this.refreshing
  }

  private async runRefresh(): Promise<void> {
    do {
      this.refreshAgain = false
      const topics = this.allTopics ? null : [...this.interest].map((name) => ({ name }))
      const response = await this.requestAny(Metadata, {
        topics,
        allowAutoTopicCreation: this.options.allowAutoTopicCreation ?? false,
      })
      this.apply(response, topics === null)
    } while (this.refreshAgain && !this.closed)
  }

  private apply(response: MetadataResponse, complete: boolean): void {
    this.brokers.clear()
    for (const b of response.brokers)
      this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })
    this.clusterId = response.clusterId
    this.controllerId = response.controllerId
    if (complete) this.topics.clear()
    for (const t of response.topics) {
      if (t.name === null) continue
      const partitions: PartitionInfo[] = []
      for (const p of t.partitions) {
        partitions[p.partitionIndex] = {
          partition: p.partitionIndex,
          errorCode: p.errorCode,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas,
        }
      }
      this.topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        errorCode: t.errorCode,
        isInternal: t.isInternal,
        partitions,
      })
      this.topicNamesById.set(t.topicId, t.name)
    }
    this.updatedAt = Date.now()
  }

  /** The leader of a partition, or -1 when unknown or leaderless. */
  leaderFor(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1
  }

  broker(nodeId: number): BrokerInfo {
    const b = this.brokers.get(nodeId)
    if (b === undefined) {
      throw new ConnectionError('ERR_UNKNOWN_BROKER', `broker ${nodeId} is not in the cluster metadata`)
    }
    return b
  }

  /** A ready connection to broker `nodeId` for the traffic class. */
  connection(nodeId: number, trafficClass: TrafficClass): Promise<Connection> {
    const b = this.broker(nodeId)
    return this.pool.get(b.host, b.port, trafficClass, String(nodeId))
  }

  /**
   * Send a request to any reachable broker: known brokers first (in random order so load spreads),
   * then the bootstrap list. Fails with the last connection error when none answers.
   */
  async requestAny<Q, R>(api: Api<Q, R>, request: Q, trafficClass: TrafficClass = 'admin'): Promise<R> {
    const candidates = [...this.brokers.values()].map((b) => ({ host: b.host, port: b.port }))
    shuffle(candidates)
    for (const b of this.bootstrap) {
      if (!candidates.some((c) => c.host === b.host && c.port === b.port)) candidates.push(b)
    }
    let lastError: unknown
    for (const c of candidates) {
      let connection: Connection
      try {
        connection = await this.pool.get(c.host, c.port, trafficClass)
      } catch (err) {
        lastError = err
        if (err instanceof KafkaWireError && !err.retriable) throw err
        continue
      }
      return connection.request(api, request)
    }
    throw new ConnectionError(
      'ERR_NO_BROKER',
      `no broker of ${candidates.map((c) => `${c.host}:${c.port}`).join(', ')} could be reached`,
      {
        cause: lastError,
      },
    )
  }

  close(): void {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.pool.close()
  }
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = items[i]
    items[i] = items[j]
    items[j] = t
  }
}
