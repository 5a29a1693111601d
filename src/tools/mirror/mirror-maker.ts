// The mirror maker (a port of go_kafka_client's): consumers in one or more source clusters subscribed by a
// whitelist or a blacklist, and producers into one destination cluster. Each source message is produced with its
// key, value, headers and timestamp to `prefix + topic`, and the consumer's handler for it resolves only once the
// destination acknowledged it: the consumer commits the lowest offset not yet finished, so a source offset is
// committed only after everything before it was acknowledged (the seed committed before producing, and lost
// messages on a crash). A crash re-mirrors from the last commit: at least once.
//
// Flow: consumer (fetcher reservoir) -> worker manager (ordering 'none': a partition's messages start in offset
// order, up to a share of queueSize at once) -> handler -> a produce lane (one producer and a FIFO) -> destination.
// queueSize bounds the messages taken from the sources and not yet acknowledged. With preserveOrder, a source
// partition always goes through the same lane (one in-flight chain per partition) and, when it has no key and
// partitions are not preserved, to one destination partition; the producers are idempotent by default, so order
// holds across their retries. A message that fails after the producer's own retries (delivery.timeout.ms) stops
// the mirror maker without committing past it.

import { EventEmitter } from 'node:events'
import { Admin } from '../../client/admin.js'
import { Consumer, type ConsumerMessage } from '../../client/consumer.js'
import { ConfigError } from '../../client/errors.js'
import { type Counter, type Meter, MetricsRegistry, type Timer } from '../../client/metrics.js'
import type { TopicPartitionOffset } from '../../client/offset-tracker.js'
import { Producer } from '../../client/producer.js'
import { topicNameProblem } from '../../client/topics.js'
import { connectionOptionsOf } from '../../network/cluster.js'
import { ErrorCode, errorByCode } from '../../protocol/error-codes.js'
import { type ErrorDetails, KafkaWireError } from '../../protocol/errors.js'
import type { MirrorConsumerConfig, MirrorProducerConfig } from '../client-settings.js'
import { ProduceLane } from './produce-lane.js'

export type { MirrorConsumerConfig, MirrorProducerConfig } from '../client-settings.js'

export interface MirrorMakerOptions {
  /** One consumer configuration per source cluster: brokers and groupId at least. */
  sources: MirrorConsumerConfig[]
  /** The destination cluster's producer configuration. */
  destination: MirrorProducerConfig
  /** Mirror the topics matching this pattern (give this or blacklist). Internal topics are never mirrored. */
  whitelist?: RegExp | string
  /** Mirror every topic not matching this pattern. */
  blacklist?: RegExp | string
  /** Destination topic = prefix + source topic. Default ''. */
  prefix?: string
  /** Write each message to the partition it was read from (the destination needs at least as many). */
  preservePartitions?: boolean
  /** Keep each source partition's order in the destination (see the top of this file). */
  preserveOrder?: boolean
  /** Producer instances into the destination. Default 1. */
  numProducers?: number
  /** Consumer instances (group members) per source cluster. Default 1. */
  numStreams?: number
  /** Messages taken from the sources and not yet acknowledged by the destination, at most. Default 10000. */
  queueSize?: number
  /**
   * Create missing destination topics with the source's partition count (replication: the broker's default).
   * Default: preservePartitions. Otherwise a missing topic stops the mirror maker with ERR_DESTINATION_TOPIC,
   * unless the destination brokers create topics themselves (destination.allowAutoTopicCreation and the brokers'
   * auto.create.topics.enable).
   */
  createTopics?: boolean
  /** mirror.* metrics, and the consumers' and producers' own. Default: a registry of its own. */
  metrics?: MetricsRegistry
}

/**
 * Codes: ERR_DESTINATION_TOPIC (missing, invalid or unusable destination topic), ERR_PARTITION_COUNT (fewer
 * destination partitions than source ones with preservePartitions), ERR_MIRROR_PRODUCE (the destination did not
 * take a message), ERR_MIRROR_STOPPED (the mirror maker stopped before a message was produced).
 */
export class MirrorError extends KafkaWireError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, message, { ...details, retriable: false })
  }
}

interface Destination {
  ready: boolean
  error: Error | null
  partitions: number
  waiting: Array<{ go: () => void; fail: (err: Error) => void }>
}

interface Source {
  index: number
  brokers: string
  consumer: Consumer
}

const DEFAULT_QUEUE_SIZE = 10_000

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ConfigError(`${name} must be a positive integer, got ${value}`)
  return value
}

/** FNV-1a of a topic-partition: which lane a partition goes through with preserveOrder. */
function laneHash(topic: string, partition: number): number {
  let h = 0x811c9dc5
  const s = `${topic}\u0000${partition}`
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Events: 'started'; 'topic-created' ({ topic, partitions }); 'commit' ({ source, offsets }); 'warning' (error);
 * 'failed' (error): the mirror maker stops on its own after it (await `stop()` for the drain to end).
 */
export class MirrorMaker extends EventEmitter {
  readonly metrics: MetricsRegistry
  private readonly options: MirrorMakerOptions
  private readonly prefix: string
  private readonly preservePartitions: boolean
  private readonly preserveOrder: boolean
  private readonly createTopics: boolean
  private readonly numProducers: number
  private readonly numStreams: number
  private readonly queueSize: number
  private readonly sources: Source[] = []
  private readonly lanes: ProduceLane[] = []
  private readonly destinations = new Map<string, Destination>()
  private admin: Admin | null = null
  private readonly m: { messages: Meter; bytes: Meter; latency: Timer; errors: Meter; topicsCreated: Counter }
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new'
  private stopping: Promise<void> | null = null
  private inFlight = 0
  /** Why the mirror maker stopped on its own; null while running or after a requested stop. */
  failure: Error | null = null

  constructor(options: MirrorMakerOptions) {
    super()
    if (!Array.isArray(options.sources) || options.sources.length === 0)
      throw new ConfigError('give at least one source cluster (a consumer configuration)')
    for (const [i, s] of options.sources.entries()) {
      if (!s.brokers || (Array.isArray(s.brokers) && s.brokers.length === 0))
        throw new ConfigError(`source ${i + 1}: no brokers`)
      if (!s.groupId) throw new ConfigError(`source ${i + 1}: no groupId`)
    }
    if (!options.destination?.brokers) throw new ConfigError('the destination has no brokers')
    if ((options.whitelist === undefined) === (options.blacklist === undefined))
      throw new ConfigError('give exactly one of whitelist and blacklist')
    this.options = options
    this.prefix = options.prefix ?? ''
    this.preservePartitions = options.preservePartitions ?? false
    this.preserveOrder = options.preserveOrder ?? false
    this.createTopics = options.createTopics ?? this.preservePartitions
    this.numProducers = positiveInteger('numProducers', options.numProducers, 1)
    this.numStreams = positiveInteger('numStreams', options.numStreams, 1)
    this.queueSize = positiveInteger('queueSize', options.queueSize, DEFAULT_QUEUE_SIZE)
    const prefixProblem = this.prefix === '' ? null : topicNameProblem(`${this.prefix}x`)
    if (prefixProblem) throw new ConfigError(`prefix ${JSON.stringify(this.prefix)}: ${prefixProblem}`)
    this.metrics = options.metrics ?? new MetricsRegistry()
    const reg = this.metrics
    this.m = {
      messages: reg.meter('mirror.messages'),
      bytes: reg.meter('mirror.bytes'),
      latency: reg.timer('mirror.produce.latency'),
      errors: reg.meter('mirror.errors'),
      topicsCreated: reg.counter('mirror.topics.created'),
    }
    reg.gauge('mirror.in.flight', () => this.inFlight)
    reg.gauge('mirror.queued', () => this.lanes.reduce((n, lane) => n + lane.queued, 0))
  }

  /** Messages taken from the sources and not yet acknowledged by the destination. */
  get pending(): number {
    return this.inFlight
  }

  /** Connect the producers, then join the source groups and start mirroring. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new MirrorError('ERR_MIRROR_STARTED', 'the mirror maker was already started')
    this.state = 'starting'
    try {
      const dest = this.options.destination
      // Without idempotence, one request in flight per broker is what keeps order across retries.
      const maxInFlight = this.preserveOrder && dest.idempotent === false ? 1 : dest.maxInFlight
      for (let i = 0; i < this.numProducers; i++) {
        const producer = new Producer<Buffer | null, Buffer | null>({
          ...dest,
          maxInFlight,
          metrics: this.metrics,
          returnErrors: false,
        })
        producer.on('warning', (err) => this.emit('warning', err))
        this.lanes.push(new ProduceLane(producer))
      }
      await Promise.all(this.lanes.map((lane) => lane.producer.connect()))
      this.admin = new Admin({ ...connectionOptionsOf({ ...dest, maxInFlight: undefined }), brokers: dest.brokers })

      const consumers = this.options.sources.length * this.numStreams
      const share = Math.max(1, Math.floor(this.queueSize / consumers))
      for (const [index, config] of this.options.sources.entries()) {
        for (let stream = 0; stream < this.numStreams; stream++) {
          const source: Source = {
            index,
            brokers: Array.isArray(config.brokers) ? config.brokers.join(',') : config.brokers,
            consumer: null as unknown as Consumer,
          }
          source.consumer = new Consumer({
            ...config,
            ...(this.options.whitelist !== undefined
              ? { whitelist: this.options.whitelist }
              : { blacklist: this.options.blacklist }),
            autoOffsetReset: config.autoOffsetReset ?? 'earliest',
            metrics: this.metrics,
            // Order comes from the lanes: a partition's messages start in offset order and many are in flight.
            ordering: 'none',
            concurrency: share,
            maxPending: share,
            // The producer retries until its delivery timeout; a failure after that stops the mirror maker.
            maxRetries: 0,
            taskTimeoutMs: 0,
            onFailedAttempt: () => 'skip-commit-and-stop',
            onFailure: () => 'skip-commit-and-stop',
            revokeMode: 'finish',
            handler: (m) => this.mirror(m, source),
          })
          const consumer = source.consumer
          consumer.on('stopped', (reason: { error?: unknown }) => this.fail(reason?.error))
          consumer.on('warning', (err) => this.emit('warning', err))
          consumer.on('commit-failed', (err) => this.emit('warning', err))
          consumer.on('commit', (offsets: TopicPartitionOffset[]) =>
            this.emit('commit', { source: source.index, offsets }),
          )
          this.sources.push(source)
        }
      }
      await Promise.all(this.sources.map((s) => s.consumer.start()))
    } catch (err) {
      this.state = 'stopping'
      await this.closeAll(err instanceof Error ? err : new Error(String(err)))
      this.state = 'stopped'
      throw err
    }
    if (this.state !== 'starting') return // failed while starting: stop() is under way
    this.state = 'running'
    this.emit('started')
  }

  /**
   * Stop consuming, let every message in flight be acknowledged, commit, leave the groups, close the producers.
   * Resolves once all of it is done (also after a failure: `failure` says why).
   */
  stop(): Promise<void> {
    if (this.stopping === null) {
      const wasStarted = this.state !== 'new'
      this.state = 'stopping'
      this.stopping = wasStarted
        ? this.closeAll(
            new MirrorError('ERR_MIRROR_STOPPED', 'the mirror maker stopped before the message was produced'),
          )
        : Promise.resolve()
      this.stopping = this.stopping.then(() => {
        this.state = 'stopped'
      })
    }
    return this.stopping
  }

  private async closeAll(reason: Error): Promise<void> {
    // Consumers first: closing one finishes its in-flight messages (their produces), commits and leaves.
    await Promise.all(this.sources.map((s) => s.consumer.close().catch((err) => this.emit('warning', err))))
    for (const lane of this.lanes) lane.close(reason)
    await Promise.all(this.lanes.map((lane) => lane.producer.close().catch((err) => this.emit('warning', err))))
    this.admin?.close()
    for (const d of this.destinations.values()) for (const w of d.waiting.splice(0)) w.fail(reason)
  }

  private fail(error: unknown): void {
    if (this.failure !== null || this.state === 'stopped') return
    // A requested stop cuts short what waits for a destination topic: that is no failure.
    const stopped = error instanceof MirrorError && error.code === 'ERR_MIRROR_STOPPED'
    if (this.state === 'stopping' && (error === undefined || stopped)) return
    this.failure =
      error instanceof Error ? error : new MirrorError('ERR_MIRROR_STOPPED', `a source consumer stopped: ${error}`)
    this.emit('failed', this.failure)
    this.stop().catch(() => {})
  }

  // ------------------------------------------------------------------------------------------ one message

  private mirror(m: ConsumerMessage, source: Source): Promise<void> {
    const topic = this.prefix + m.topic
    let d = this.destinations.get(topic)
    if (d === undefined) {
      d = { ready: false, error: null, partitions: 0, waiting: [] }
      this.destinations.set(topic, d)
      this.prepare(d, topic, m.topic, source)
    }
    const dest = d
    return new Promise<void>((resolve, reject) => {
      if (dest.ready) this.produce(m, topic, dest, resolve, reject)
      else if (dest.error !== null) reject(dest.error)
      else dest.waiting.push({ go: () => this.produce(m, topic, dest, resolve, reject), fail: reject })
    })
  }

  private produce(
    m: ConsumerMessage,
    topic: string,
    dest: Destination,
    resolve: () => void,
    reject: (err: Error) => void,
  ): void {
    let partition: number | undefined
    if (this.preservePartitions) {
      if (m.partition >= dest.partitions) {
        reject(
          new MirrorError(
            'ERR_PARTITION_COUNT',
            `${m.topic}-${m.partition}: destination topic ${topic} has ${dest.partitions} partitions; ` +
              'with preserved partitions it needs at least as many as the source',
            { topic, partition: m.partition },
          ),
        )
        return
      }
      partition = m.partition
    } else if (this.preserveOrder && m.key === null) {
      partition = m.partition % dest.partitions
    }
    const lane = this.laneFor(m)
    const stop = this.m.latency.start()
    let size = (m.key?.length ?? 0) + (m.value?.length ?? 0)
    for (const h of m.headers) size += h.key.length + (h.value?.length ?? 0)
    this.inFlight++
    lane.send(
      {
        topic,
        key: m.key,
        value: m.value,
        headers: m.headers,
        timestamp: m.timestamp >= 0 ? m.timestamp : undefined,
        partition,
      },
      (err) => {
        this.inFlight--
        if (err !== null) {
          this.m.errors.mark()
          reject(
            new MirrorError(
              'ERR_MIRROR_PRODUCE',
              `${m.topic}-${m.partition} offset ${m.offset} -> ${topic}: ${err.message}`,
              { cause: err, topic: m.topic, partition: m.partition },
            ),
          )
          return
        }
        stop()
        this.m.messages.mark()
        this.m.bytes.mark(size)
        resolve()
      },
    )
  }

  private laneFor(m: ConsumerMessage): ProduceLane {
    const lanes = this.lanes
    if (lanes.length === 1) return lanes[0]
    if (this.preserveOrder) return lanes[laneHash(m.topic, m.partition) % lanes.length]
    let best = lanes[0]
    for (let i = 1; i < lanes.length; i++) if (lanes[i].inFlight < best.inFlight) best = lanes[i]
    return best
  }

  // ------------------------------------------------------------------------------------------ destination topics

  private prepare(d: Destination, topic: string, sourceTopic: string, source: Source): void {
    this.ensureTopic(topic, sourceTopic, source).then(
      (partitions) => {
        d.partitions = partitions
        // Run the waiting messages in the order they came, then let later ones through directly.
        for (const w of d.waiting.splice(0)) w.go()
        d.ready = true
      },
      (err: Error) => {
        d.error = err
        for (const w of d.waiting.splice(0)) w.fail(err)
      },
    )
  }

  private async sourcePartitions(topic: string, source: Source): Promise<number> {
    const cluster = source.consumer.cluster
    let count = cluster.topics.get(topic)?.partitions.length ?? 0
    if (count === 0) {
      await cluster.refresh()
      count = cluster.topics.get(topic)?.partitions.length ?? 0
    }
    if (count === 0)
      throw new MirrorError('ERR_DESTINATION_TOPIC', `no metadata for source topic ${topic} at ${source.brokers}`)
    return count
  }

  /** The destination topic's partition count, after creating it when allowed. */
  private async ensureTopic(topic: string, sourceTopic: string, source: Source): Promise<number> {
    const problem = topicNameProblem(topic)
    if (problem) throw new MirrorError('ERR_DESTINATION_TOPIC', `destination topic for ${sourceTopic}: ${problem}`)
    const admin = this.admin!
    const dest = this.options.destination
    const where = Array.isArray(dest.brokers) ? dest.brokers.join(',') : dest.brokers
    const sourceCount =
      this.preservePartitions || this.createTopics ? await this.sourcePartitions(sourceTopic, source) : 0
    const deadline = Date.now() + 60_000
    let created = false
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      if (this.state === 'stopping' || this.state === 'stopped')
        throw new MirrorError('ERR_MIRROR_STOPPED', 'the mirror maker is stopping')
      const info = (await admin.metadata([topic])).find((t) => t.name === topic)
      const code = info?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      if (info !== undefined && code === 0 && info.partitions.length > 0 && info.partitions.every((p) => p)) {
        const count = info.partitions.length
        if (this.preservePartitions && count < sourceCount)
          throw new MirrorError(
            'ERR_PARTITION_COUNT',
            `destination topic ${topic} at ${where} has ${count} partitions and source topic ${sourceTopic} ` +
              `${sourceCount}: with preserved partitions it needs at least as many`,
            { topic },
          )
        return count
      }
      const missing = code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      if (missing && !created && !dest.allowAutoTopicCreation) {
        if (!this.createTopics)
          throw new MirrorError(
            'ERR_DESTINATION_TOPIC',
            `destination topic ${topic} does not exist at ${where}: create it, or let the mirror maker create ` +
              'missing topics (--create.topics, implied by --preserve.partitions)',
            { topic },
          )
        await admin.createTopics([{ topic, partitions: sourceCount }], { ignoreExisting: true })
        created = true
        this.m.topicsCreated.inc()
        this.emit('topic-created', { topic, partitions: sourceCount })
        continue
      }
      const retriable = missing || errorByCode(code).retriable
      if (!retriable || Date.now() > deadline)
        throw new MirrorError(
          'ERR_DESTINATION_TOPIC',
          `destination topic ${topic} at ${where}: ${errorByCode(code).name} (${errorByCode(code).message})`,
          { topic },
        )
      await sleep(delay)
    }
  }
}
