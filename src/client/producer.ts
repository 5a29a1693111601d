import * as diagnostics from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import { type BackoffOptions, backoffDelay, sleep } from '../network/backoff.js'
import { Cluster, type ClusterOptions } from '../network/cluster.js'
import type { Connection } from '../network/connection.js'
import { type CompressionName, compressionId } from '../protocol/compression.js'
import { ErrorCode, errorByCode, isFenced, KafkaError, needsMetadataRefresh } from '../protocol/error-codes.js'
import { KafkaWireError } from '../protocol/errors.js'
import { InitProducerId, type InitProducerIdResponse } from '../protocol/init-producer-id.js'
import {
  Produce,
  type ProducePartitionResponse,
  type ProduceRequest,
  type ProduceTopicData,
} from '../protocol/produce.js'
import { prepareRecordBatch, type RecordHeaderInput, TimestampType } from '../protocol/record-batch.js'
import { AsyncQueue } from './async-queue.js'
import { ConfigError, ProduceError } from './errors.js'
import { type Counter, type Histogram, type Meter, MetricsRegistry, type Timer } from './metrics.js'
import { type Partitioner, type PartitionerName, type ResolvedPartitioner, resolvePartitioner } from './partitioners.js'
import { Batch, PartitionState, type QueuedMessage, type RecordMetadata } from './producer-batch.js'
import { topicNameProblem } from './topics.js'

export type { RecordMetadata } from './producer-batch.js'

export const producerChannels = {
  batchSent: diagnostics.channel('kafka-wire:producer:batch-sent'),
  batchAcknowledged: diagnostics.channel('kafka-wire:producer:batch-acknowledged'),
  batchFailed: diagnostics.channel('kafka-wire:producer:batch-failed'),
} as const

export type HeaderValue = string | Buffer | null
export type MessageHeaders = Record<string, HeaderValue> | ReadonlyArray<{ key: string; value: HeaderValue }>

export interface ProducerMessage<K = Buffer | string | null, V = Buffer | string | null> {
  topic: string
  key?: K | null
  value: V | null
  headers?: MessageHeaders
  /** Choose the partition yourself (bypasses the partitioner). */
  partition?: number
  /** Milliseconds since the epoch, or a Date; default: when the message is accepted. */
  timestamp?: number | Date
}

export type Serializer<T> = (value: T, topic: string) => Buffer | null

export type Acks = 0 | 1 | -1 | 'all'

export interface FlushConfig {
  /** A partition's batch is sent once it holds this many messages (0: no message trigger). Sarama Flush.Messages. */
  messages?: number
  /** ... or this many bytes (Sarama Flush.Bytes, Java batch.size). Default 64 KiB. */
  bytes?: number
  /** ... or once its first message has waited this long, in ms (Sarama Flush.Frequency, Java linger.ms). Default 5. */
  frequencyMs?: number
  /** At most this many messages in one batch (Sarama Flush.MaxMessages); 0 for no limit. */
  maxMessages?: number
}

export interface ProducerConfig<K = Buffer | string | null, V = Buffer | string | null>
  extends Omit<ClusterOptions, 'bootstrap' | 'maxInFlight'> {
  /** Bootstrap brokers, host:port, as an array or comma-separated. */
  brokers: string | string[]
  /** 'all' / -1 (default), 1 or 0. */
  acks?: Acks
  /** Default true: producer id, epoch and sequence numbers make retries exactly-once per partition. */
  idempotent?: boolean
  compression?: CompressionName
  compressionLevel?: number
  flush?: FlushConfig
  /** Largest Produce request, in bytes (Java max.request.size). Default 1 MiB. */
  maxRequestBytes?: number
  /** Produce requests in flight per broker. Default 5 (at most 5 with idempotence). */
  maxInFlight?: number
  /** How long the broker may take to replicate and answer, and we to wait (ms). Default 30000. */
  requestTimeoutMs?: number
  /** Every message is delivered or failed within this many ms of being accepted. Default 120000. */
  deliveryTimeoutMs?: number
  /** Backoff between retries of a batch. Default 100 ms doubling up to 1000 ms. */
  retryBackoff?: BackoffOptions
  /** Memory for messages not yet delivered, in bytes. Default 32 MiB. */
  bufferBytes?: number
  /**
   * `produce()` takes at most this many bytes in one turn of the event loop: past it, it returns false and
   * 'drain' follows on the next turn, so a loop that produces until refused lets requests go out and
   * responses come in while it runs. Default 1 MiB.
   */
  burstBytes?: number
  /** How long `send` waits for buffer space or topic metadata before failing (ms). Default 60000. */
  maxBlockMs?: number
  /** How long to wait for an unknown topic to appear in metadata before failing its messages (ms). Default 5000. */
  unknownTopicTimeoutMs?: number
  /** 'default' (explicit partition, else murmur2 of the key like Java, else sticky), or a partitioner. */
  partitioner?: Partitioner | PartitionerName
  keySerializer?: Serializer<K>
  valueSerializer?: Serializer<V>
  /** Report deliveries on `successes()` (Sarama Return.Successes). Default false. */
  returnSuccesses?: boolean
  /** Report failures of `produce()` messages without a callback on `errors()`. Default true. */
  returnErrors?: boolean
  /** Where the producer's metrics go; default: a registry of its own (`producer.metrics`). */
  metrics?: MetricsRegistry
}

/** A delivery reported on `successes()`. */
export interface ProducerSuccess<M = ProducerMessage> {
  message: M
  metadata: RecordMetadata
}

/** A failure reported on `errors()`. */
export interface ProducerFailure<M = ProducerMessage> {
  message: M
  error: ProduceError
}

type Callback = (err: ProduceError | null, meta: RecordMetadata | null) => void

const MAX_IDEMPOTENT_IN_FLIGHT = 5
const RECORD_OVERHEAD = 24

interface Waiter {
  bytes: number
  resolve: () => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

interface PendingTopic {
  messages: Array<{ message: ProducerMessage; queued: QueuedMessage }>
  deadline: number
}

/**
 * A Kafka producer in Sarama's mould: messages are accumulated per partition, flushed by count,
 * bytes or age, and sent as one Produce request per broker with up to `maxInFlight` requests on
 * the wire. `send` awaits the outcome; `produce` is fire-and-forget, with outcomes on `successes()`
 * and `errors()` (or a per-message callback).
 *
 * Idempotence (the default) keeps each partition exactly-once and in order across retries: a batch
 * gets its sequence numbers when first sent and keeps them; a definite failure shifts the later
 * sequences down; an attempt whose outcome is unknown bumps the producer epoch before anything more
 * is sent, as the Java client does (KIP-360).
 */
export class Producer<K = Buffer | string | null, V = Buffer | string | null> extends EventEmitter {
  readonly cluster: Cluster
  private readonly acks: number
  private readonly idempotent: boolean
  private readonly compression: number
  private readonly compressionLevel: number | undefined
  private readonly flushMessages: number
  private readonly flushBytes: number
  private readonly lingerMs: number
  private readonly maxBatchMessages: number
  private readonly maxRequestBytes: number
  private readonly maxInFlight: number
  private readonly requestTimeoutMs: number
  private readonly deliveryTimeoutMs: number
  private readonly retryBackoff: BackoffOptions
  private readonly bufferBytes: number
  private readonly burstBytes: number
  private readonly maxBlockMs: number
  private readonly unknownTopicTimeoutMs: number
  private readonly partitioner: ResolvedPartitioner
  private readonly keySerializer: Serializer<K> | undefined
  private readonly valueSerializer: Serializer<V> | undefined
  private readonly returnSuccesses: boolean
  private readonly returnErrors: boolean

  private readonly partitions = new Map<string, PartitionState[]>()
  private readonly pendingTopics = new Map<string, PendingTopic>()
  private readonly connections = new Map<number, Connection>()
  private readonly connecting = new Set<number>()
  private bufferUsed = 0
  private readonly waiters: Waiter[] = []
  private needDrain = false
  /** Bytes produce() took in this turn of the event loop, and whether it refused one for that reason. */
  private burstUsed = 0
  private burstRefused = false
  private readonly endBurst = () => {
    this.burstUsed = 0
    // What the burst filled goes out before the caller is told to go on (the socket write is the next microtask).
    if (this.drainScheduled) this.drainNow()
    const refused = this.burstRefused
    this.burstRefused = false
    // Refused for the burst: go on while there is room. Refused for a full buffer: wait for half of it.
    const room = refused ? this.bufferBytes : this.bufferBytes / 2
    if (this.needDrain && this.waiters.length === 0 && this.bufferUsed < room) {
      this.needDrain = false
      queueMicrotask(this.emitDrain)
    }
  }
  private readonly emitDrain = () => {
    this.drainEventScheduled = false
    this.emit('drain')
  }
  private drainEventScheduled = false
  private drainScheduled = false
  private lingerTimer: NodeJS.Timeout | null = null
  private lingerAt = 0
  private sweepTimer: NodeJS.Timeout | null = null
  private flushing = 0
  private readonly flushWaiters: Array<{ resolve: () => void }> = []
  private inflightRequests = 0
  private queuedMessages = 0

  private producerId = -1n
  private producerEpoch = -1
  private initializing: Promise<void> | null = null
  private bumpEpochPending = false
  private fatal: ProduceError | null = null
  private state: 'new' | 'running' | 'closing' | 'closed' = 'new'
  private connectPromise: Promise<void> | null = null
  private metadataRefreshing = false

  /** The producer's metrics: messages, bytes, batches, compression, latency, errors, retries, buffer use. */
  readonly metrics: MetricsRegistry
  private readonly m: {
    messagesSent: Meter
    messagesFailed: Meter
    bytesSent: Meter
    batchRecords: Histogram
    batchBytes: Histogram
    compressionRatio: Histogram
    requestLatency: Timer
    requestErrors: Meter
    retries: Counter
  }

  private readonly successQueue: AsyncQueue<ProducerSuccess<ProducerMessage<K, V>>>
  private readonly errorQueue: AsyncQueue<ProducerFailure<ProducerMessage<K, V>>>

  constructor(config: ProducerConfig<K, V>) {
    super()
    const acks = config.acks ?? 'all'
    this.acks = acks === 'all' ? -1 : acks
    if (this.acks !== -1 && this.acks !== 0 && this.acks !== 1)
      throw new ConfigError(`acks must be 0, 1, -1 or 'all', got ${acks}`)
    this.maxInFlight = config.maxInFlight ?? 5
    if (!(this.maxInFlight >= 1)) throw new ConfigError('maxInFlight must be at least 1')
    this.idempotent = config.idempotent ?? true
    if (this.idempotent && this.acks !== -1) {
      throw new ConfigError(`idempotence needs acks 'all'; got acks ${acks} (set idempotent: false to use it)`)
    }
    if (this.idempotent && this.maxInFlight > MAX_IDEMPOTENT_IN_FLIGHT) {
      throw new ConfigError(
        `idempotence allows at most ${MAX_IDEMPOTENT_IN_FLIGHT} requests in flight; got ${this.maxInFlight}`,
      )
    }
    this.compression = compressionId(config.compression ?? 'none')
    this.compressionLevel = config.compressionLevel
    const flush = config.flush ?? {}
    this.flushMessages = flush.messages ?? 0
    this.flushBytes = flush.bytes ?? 64 * 1024
    this.lingerMs = flush.frequencyMs ?? 5
    this.maxBatchMessages = flush.maxMessages ?? 0
    this.maxRequestBytes = config.maxRequestBytes ?? 1024 * 1024
    this.requestTimeoutMs = config.requestTimeoutMs ?? 30_000
    this.deliveryTimeoutMs = config.deliveryTimeoutMs ?? 120_000
    this.retryBackoff = config.retryBackoff ?? { baseMs: 100, maxMs: 1000 }
    this.bufferBytes = config.bufferBytes ?? 32 * 1024 * 1024
    this.burstBytes = config.burstBytes ?? 1024 * 1024
    this.maxBlockMs = config.maxBlockMs ?? 60_000
    this.unknownTopicTimeoutMs = config.unknownTopicTimeoutMs ?? 5000
    this.partitioner = resolvePartitioner(config.partitioner ?? 'default')
    this.keySerializer = config.keySerializer
    this.valueSerializer = config.valueSerializer
    this.returnSuccesses = config.returnSuccesses ?? false
    this.returnErrors = config.returnErrors ?? true
    for (const [name, v] of [
      ['flush.bytes', this.flushBytes],
      ['maxRequestBytes', this.maxRequestBytes],
      ['bufferBytes', this.bufferBytes],
      ['burstBytes', this.burstBytes],
      ['deliveryTimeoutMs', this.deliveryTimeoutMs],
      ['requestTimeoutMs', this.requestTimeoutMs],
    ] as const) {
      if (!(v > 0)) throw new ConfigError(`${name} must be positive, got ${v}`)
    }
    const { brokers, acks: _a, idempotent: _i, flush: _f, maxInFlight: _m, ...clusterOptions } = config
    this.cluster = new Cluster({
      ...clusterOptions,
      bootstrap: brokers,
      maxInFlight: { produce: this.maxInFlight },
      requestTimeoutMs: this.requestTimeoutMs + 5000,
    })
    const onTake = (outcome: object) => {
      const bytes = this.heldBytes.get(outcome)
      if (bytes !== undefined) {
        this.heldBytes.delete(outcome)
        this.freeBytes(bytes)
      }
    }
    this.metrics = config.metrics ?? new MetricsRegistry()
    const reg = this.metrics
    this.m = {
      messagesSent: reg.meter('producer.messages.sent'),
      messagesFailed: reg.meter('producer.messages.failed'),
      bytesSent: reg.meter('producer.bytes.sent'),
      batchRecords: reg.histogram('producer.batch.records'),
      batchBytes: reg.histogram('producer.batch.bytes'),
      compressionRatio: reg.histogram('producer.compression.ratio'),
      requestLatency: reg.timer('producer.request.latency'),
      requestErrors: reg.meter('producer.request.errors'),
      retries: reg.counter('producer.retries'),
    }
    reg.gauge('producer.buffer.bytes', () => this.bufferUsed)
    reg.gauge('producer.buffer.available', () => this.bufferBytes - this.bufferUsed)
    reg.gauge('producer.inflight.requests', () => this.inflightRequests)
    this.successQueue = new AsyncQueue<ProducerSuccess<ProducerMessage<K, V>>>(onTake)
    this.errorQueue = new AsyncQueue<ProducerFailure<ProducerMessage<K, V>>>(onTake)
  }

  // ------------------------------------------------------------------------------------------ public API

  /** Connect and (with idempotence) obtain a producer id. Called by the first send when not called before. */
  connect(): Promise<void> {
    if (this.connectPromise === null) {
      this.state = 'running'
      this.connectPromise = (async () => {
        await this.cluster.connect()
        if (this.idempotent) await this.initProducerId()
        // Messages accepted while connecting are waiting: the drains they asked for found no producer id yet.
        this.scheduleDrain()
        const every = Math.max(10, Math.min(1000, this.deliveryTimeoutMs / 10))
        this.sweepTimer = setInterval(() => this.sweep(), every)
        this.sweepTimer.unref()
      })()
      this.connectPromise.catch(() => {
        // Reported to every caller of send/connect; a later call tries again.
        this.connectPromise = null
      })
    }
    return this.connectPromise
  }

  /**
   * Send one message or several and resolve with where each landed. Waits up to maxBlockMs for
   * buffer space. Rejects with a ProduceError (per message: the first failure rejects the array).
   */
  send(message: ProducerMessage<K, V>): Promise<RecordMetadata>
  send(messages: ProducerMessage<K, V>[]): Promise<RecordMetadata[]>
  async send(input: ProducerMessage<K, V> | ProducerMessage<K, V>[]): Promise<RecordMetadata | RecordMetadata[]> {
    if (this.connectPromise === null || this.state === 'new') await this.connect()
    else await this.connectPromise
    if (!Array.isArray(input)) {
      return new Promise<RecordMetadata>((resolve, reject) => {
        this.offer(input, (err, meta) => (err ? reject(err) : resolve(meta!)), reject)
      })
    }
    const messages = input
    const results: RecordMetadata[] = new Array(messages.length)
    if (messages.length === 0) return results
    // One promise for the whole array and a countdown, not a promise per message (and a Promise.all).
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      let left = messages.length
      let settled = false
      const fail = (err: Error) => {
        if (settled) return
        settled = true
        reject(err)
      }
      for (let i = 0; i < messages.length; i++) {
        this.offer(
          messages[i],
          (err, meta) => {
            if (err) return fail(err)
            results[i] = meta!
            if (--left === 0 && !settled) {
              settled = true
              resolve(results)
            }
          },
          fail,
        )
      }
    })
  }

  /** Take one message of send(), waiting (in order) for buffer space when there is none. */
  private offer(message: ProducerMessage<K, V>, done: Callback, fail: (err: Error) => void): void {
    const queued = this.prepare(message, done)
    if (queued === null) return
    if (this.bufferUsed + queued.size <= this.bufferBytes && this.waiters.length === 0) {
      this.accept(message, queued)
      return
    }
    this.waitForBuffer(queued.size).then(() => this.accept(message, queued), fail)
  }

  /**
   * Fire and forget. Returns false, and does not take the message, when the buffer is full, when this
   * turn of the event loop has already taken `burstBytes`, or when the producer is closing; wait for
   * 'drain' and offer it again. The outcome goes to `callback` when given, else to `successes()` (if
   * returnSuccesses) and `errors()` (if returnErrors).
   */
  produce(message: ProducerMessage<K, V>, callback?: Callback): boolean {
    if (this.state === 'closing' || this.state === 'closed') return false
    if (this.connectPromise === null) {
      this.connect().catch((err) => this.emit('warning', err))
    }
    if (this.burstUsed >= this.burstBytes) {
      // The event loop has not turned for a while: let the sockets work, then say 'drain'.
      this.needDrain = true
      this.burstRefused = true
      return false
    }
    const queued = this.prepare(message, callback ?? null)
    if (queued === null) return true
    if (this.bufferUsed + queued.size > this.bufferBytes || this.waiters.length > 0) {
      this.needDrain = true
      return false
    }
    if (this.burstUsed === 0) setImmediate(this.endBurst)
    this.burstUsed += queued.size
    this.accept(message, queued)
    return true
  }

  /** Deliveries, when `returnSuccesses` is on. Unread deliveries hold their buffer bytes. */
  successes(): AsyncIterable<ProducerSuccess<ProducerMessage<K, V>>> {
    if (!this.returnSuccesses) throw new ConfigError('successes() needs returnSuccesses: true')
    return this.successQueue
  }

  /** Failures of produce() messages without a callback. Unread failures hold their buffer bytes. */
  errors(): AsyncIterable<ProducerFailure<ProducerMessage<K, V>>> {
    if (!this.returnErrors) throw new ConfigError('errors() needs returnErrors: true')
    return this.errorQueue
  }

  /** Bytes of accepted messages not yet delivered or failed (and reported). */
  get bufferedBytes(): number {
    return this.bufferUsed
  }

  /** Send everything accepted so far now, and wait until all of it is delivered or failed. */
  async flush(): Promise<void> {
    if (this.queuedMessages === 0 && this.pendingTopics.size === 0) return
    this.flushing++
    try {
      await new Promise<void>((resolve) => {
        this.flushWaiters.push({ resolve })
        this.scheduleDrain()
      })
    } finally {
      this.flushing--
    }
  }

  /**
   * Deliver what is pending (up to `timeoutMs`, default the delivery timeout), fail whatever is left
   * with ERR_PRODUCER_CLOSED, and close the connections. Every send settles.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.state === 'closed') return
    const wasStarted = this.connectPromise !== null
    this.state = 'closing'
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer)
      w.reject(new ProduceError('ERR_PRODUCER_CLOSED', 'the producer is closing'))
    }
    if (wasStarted) {
      const timeoutMs = options.timeoutMs ?? this.deliveryTimeoutMs
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        this.flush().catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs)
        }),
      ])
      clearTimeout(timer)
    }
    this.state = 'closed'
    this.failEverything(
      new ProduceError('ERR_PRODUCER_CLOSED', 'the producer was closed before the message was delivered'),
    )
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer)
    this.cluster.close()
    this.successQueue.end()
    this.errorQueue.end()
  }

  // ------------------------------------------------------------------------------------------ accepting

  /** Validate and serialize; null (after reporting the error) when the message cannot be sent. */
  private prepare(message: ProducerMessage<K, V>, done: Callback | null): QueuedMessage | null {
    if (this.fatal) return this.rejectMessage(message, done, this.fatal)
    if (this.state === 'closing' || this.state === 'closed') {
      return this.rejectMessage(message, done, new ProduceError('ERR_PRODUCER_CLOSED', 'the producer is closed'))
    }
    if (message === null || typeof message !== 'object') {
      return this.rejectMessage(
        message,
        done,
        new ProduceError('ERR_SERIALIZATION', 'a message must be an object with topic and value'),
      )
    }
    // A topic with partition state has had its name checked (and exists): skip the regular expression.
    if (!this.partitions.has(message.topic)) {
      const topicProblem = topicNameProblem(message.topic)
      if (topicProblem) {
        return this.rejectMessage(
          message,
          done,
          new ProduceError('ERR_INVALID_TOPIC', topicProblem, { topic: String(message.topic) }),
        )
      }
    }
    let key: Buffer | null
    let value: Buffer | null
    let headers: RecordHeaderInput[] | undefined
    try {
      key = serialize(message.key ?? null, message.topic, this.keySerializer as Serializer<unknown> | undefined, 'key')
      value = serialize(message.value, message.topic, this.valueSerializer as Serializer<unknown> | undefined, 'value')
      headers = message.headers === undefined ? undefined : toHeaders(message.headers)
    } catch (err) {
      return this.rejectMessage(message, done, err as ProduceError)
    }
    const timestamp = message.timestamp === undefined ? Date.now() : +message.timestamp
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      return this.rejectMessage(
        message,
        done,
        new ProduceError(
          'ERR_SERIALIZATION',
          `timestamp must be a non-negative integer of ms, got ${message.timestamp}`,
        ),
      )
    }
    let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0)
    if (headers) for (const h of headers) size += 8 + h.key.length * 3 + (h.value?.length ?? 0)
    if (size + 61 > this.maxRequestBytes) {
      return this.rejectMessage(
        message,
        done,
        new ProduceError(
          'ERR_RECORD_TOO_LARGE',
          `a message of ~${size} bytes does not fit in a request of maxRequestBytes ${this.maxRequestBytes}`,
          { topic: message.topic },
        ),
      )
    }
    const partition = message.partition
    if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
      return this.rejectMessage(
        message,
        done,
        new ProduceError('ERR_PARTITION', `partition must be a non-negative integer, got ${partition}`, {
          topic: message.topic,
        }),
      )
    }
    return { key, value, headers, timestamp, message, size, done: done as QueuedMessage['done'] }
  }

  /** Report why a message was not taken (to its callback, else to errors()); null for prepare's caller. */
  private rejectMessage(message: ProducerMessage<K, V>, done: Callback | null, err: ProduceError): null {
    if (done) done(err, null)
    else this.report(message, err)
    return null
  }

  private accept(message: ProducerMessage<K, V>, queued: QueuedMessage): void {
    if (this.state === 'closed' || this.fatal) {
      this.finish(queued, this.fatal ?? new ProduceError('ERR_PRODUCER_CLOSED', 'the producer is closed'), null)
      return
    }
    this.bufferUsed += queued.size
    this.queuedMessages++
    const states = this.partitions.get(message.topic)
    if (states === undefined) {
      // No metadata for the topic yet: hold its messages, in order, until it arrives.
      let pending = this.pendingTopics.get(message.topic)
      if (pending === undefined) {
        pending = { messages: [], deadline: Date.now() + this.unknownTopicTimeoutMs }
        this.pendingTopics.set(message.topic, pending)
        this.cluster.addTopics([message.topic])
        this.refreshMetadata()
      }
      pending.messages.push({ message: message as ProducerMessage, queued })
      return
    }
    this.append(states, message as ProducerMessage, queued)
  }

  private append(states: PartitionState[], message: ProducerMessage, queued: QueuedMessage): void {
    let partition: number
    try {
      partition =
        message.partition !== undefined
          ? message.partition
          : this.partitioner.partition(
              { topic: message.topic, key: queued.key, value: queued.value },
              states.length,
              this.available.get(message.topic),
            )
    } catch (err) {
      this.finish(queued, asProduceError(err, 'ERR_PARTITION', message.topic), null)
      return
    }
    const state = states[partition]
    if (state === undefined) {
      this.finish(
        queued,
        new ProduceError(
          'ERR_PARTITION',
          `topic ${message.topic} has ${states.length} partitions; there is no partition ${partition}`,
          {
            topic: message.topic,
            partition,
          },
        ),
        null,
      )
      return
    }
    let batch = state.open
    if (batch !== null) {
      const full =
        batch.bytes + queued.size > this.flushBytes ||
        (this.maxBatchMessages > 0 && batch.records.length >= this.maxBatchMessages)
      if (full) {
        this.batchFull(batch)
        batch = null
      }
    }
    if (batch === null) {
      const now = Date.now()
      batch = new Batch(state.topic, state.partition, now, now + this.deliveryTimeoutMs)
      state.queue.push(batch)
      this.armLinger(now + this.lingerMs)
    }
    batch.records.push(queued)
    batch.bytes += queued.size
    this.partitioner.onAppend(state.topic, state.partition, queued.size)
    if (
      batch.bytes >= this.flushBytes ||
      (this.flushMessages > 0 && batch.records.length >= this.flushMessages) ||
      (this.maxBatchMessages > 0 && batch.records.length >= this.maxBatchMessages)
    ) {
      this.batchFull(batch)
    }
  }

  /** A batch took what it can: close it, and have it sent. */
  private batchFull(batch: Batch): void {
    this.closeBatch(batch)
    // Nothing on the wire (the first batch of a burst, say): send it now, not once the caller's loop yields.
    if (this.inflightRequests === 0 && this.acks !== 0) this.drainNow()
    this.scheduleDrain()
  }

  private closeBatch(batch: Batch): void {
    if (batch.closed) return
    batch.closed = true
    this.partitioner.onBatchClosed(batch.topic, batch.partition)
  }

  /** Partitions with a leader, per topic: rebuilt on each metadata update, not per message. */
  private readonly available = new Map<string, readonly number[]>()

  private updateAvailable(topic: string): void {
    const info = this.cluster.topics.get(topic)
    const out: number[] = []
    if (info) for (const p of info.partitions) if (p && p.leader >= 0) out.push(p.partition)
    this.available.set(topic, out)
  }

  private waitForBuffer(bytes: number): Promise<void> {
    if (bytes > this.bufferBytes) {
      return Promise.reject(
        new ProduceError(
          'ERR_RECORD_TOO_LARGE',
          `a message of ${bytes} bytes is larger than the whole buffer (${this.bufferBytes})`,
        ),
      )
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter)
          if (i >= 0) this.waiters.splice(i, 1)
          reject(
            new ProduceError(
              'ERR_BUFFER_FULL',
              `no buffer space for ${bytes} bytes within maxBlockMs ${this.maxBlockMs}`,
            ),
          )
        }, this.maxBlockMs),
      }
      this.waiters.push(waiter)
    })
  }

  private freeBytes(bytes: number): void {
    this.bufferUsed -= bytes
    while (this.waiters.length > 0 && this.bufferUsed + this.waiters[0].bytes <= this.bufferBytes) {
      const w = this.waiters.shift()!
      clearTimeout(w.timer)
      // Reserve now so a later produce() cannot take the space first.
      w.resolve()
    }
    // Within a burst that is used up, the end of the burst says 'drain' (produce() would refuse before). Not
    // from here: acknowledgements come in a row, and the requests they make room for go out before the caller
    // refills the buffer.
    if (
      this.needDrain &&
      this.waiters.length === 0 &&
      this.bufferUsed < this.bufferBytes / 2 &&
      this.burstUsed < this.burstBytes
    ) {
      this.needDrain = false
      if (!this.drainEventScheduled) {
        this.drainEventScheduled = true
        setImmediate(this.emitDrain)
      }
    }
  }

  // ------------------------------------------------------------------------------------------ outcomes

  private finish(queued: QueuedMessage, err: ProduceError | null, meta: RecordMetadata | null): void {
    const done = queued.done
    queued.done = null
    if (done !== null) {
      this.freeBytes(queued.size)
      done(err, meta)
      return
    }
    const message = queued.message as ProducerMessage<K, V>
    // Outcomes waiting on a channel keep their bytes until read: Sarama's backpressure for unread channels.
    if (err !== null) {
      if (this.returnErrors) {
        const outcome = { message, error: err }
        this.heldBytes.set(outcome, queued.size)
        this.errorQueue.push(outcome)
      } else {
        this.freeBytes(queued.size)
        this.emit('delivery-error', err, message)
      }
    } else if (this.returnSuccesses) {
      const outcome = { message, metadata: meta! }
      this.heldBytes.set(outcome, queued.size)
      this.successQueue.push(outcome)
    } else {
      this.freeBytes(queued.size)
    }
  }

  private readonly heldBytes = new WeakMap<object, number>()

  private report(message: ProducerMessage<K, V>, err: ProduceError): void {
    if (this.returnErrors) this.errorQueue.push({ message, error: err })
    else this.emit('delivery-error', err, message)
  }

  private failBatch(batch: Batch, err: ProduceError): void {
    this.queuedMessages -= batch.records.length
    this.m.messagesFailed.mark(batch.records.length)
    if (producerChannels.batchFailed.hasSubscribers) {
      producerChannels.batchFailed.publish({
        topic: batch.topic,
        partition: batch.partition,
        records: batch.records.length,
        error: err,
      })
    }
    for (const r of batch.records) this.finish(r, err, null)
    this.checkFlushed()
  }

  private succeedBatch(batch: Batch, response: ProducePartitionResponse | null): void {
    this.queuedMessages -= batch.records.length
    const base = response === null || response.baseOffset < 0n ? -1n : response.baseOffset
    const logAppendTime = response !== null && response.logAppendTimeMs >= 0n ? Number(response.logAppendTimeMs) : -1
    if (producerChannels.batchAcknowledged.hasSubscribers) {
      producerChannels.batchAcknowledged.publish({
        topic: batch.topic,
        partition: batch.partition,
        records: batch.records.length,
        baseOffset: base,
      })
    }
    const records = batch.records
    this.m.messagesSent.mark(records.length)
    for (let i = 0; i < records.length; i++) {
      const r = records[i]
      this.finish(r, null, {
        topic: batch.topic,
        partition: batch.partition,
        offset: base < 0n ? -1n : base + BigInt(i),
        timestamp: logAppendTime >= 0 ? logAppendTime : r.timestamp,
      })
    }
    this.checkFlushed()
  }

  private checkFlushed(): void {
    if (this.queuedMessages === 0 && this.pendingTopics.size === 0 && this.flushWaiters.length > 0) {
      for (const w of this.flushWaiters.splice(0)) w.resolve()
    }
  }

  private failEverything(err: ProduceError): void {
    for (const [topic, pending] of this.pendingTopics) {
      this.pendingTopics.delete(topic)
      for (const { queued } of pending.messages) {
        this.queuedMessages--
        this.finish(queued, err, null)
      }
    }
    for (const states of this.partitions.values()) {
      for (const state of states) {
        for (const batch of state.queue.splice(0)) this.failBatch(batch, err)
        for (const batch of state.inflight.splice(0)) this.failBatch(batch, err)
      }
    }
    this.checkFlushed()
  }

  // ------------------------------------------------------------------------------------------ metadata

  private refreshMetadata(): void {
    if (this.metadataRefreshing) return
    this.metadataRefreshing = true
    this.cluster
      .refresh()
      .then(
        () => this.onMetadata(),
        (err) => this.emit('warning', err),
      )
      .finally(() => {
        this.metadataRefreshing = false
        if (this.pendingTopics.size > 0) setTimeout(() => this.refreshMetadata(), 100).unref()
      })
  }

  private onMetadata(): void {
    for (const [topic, pending] of this.pendingTopics) {
      const info = this.cluster.topics.get(topic)
      const ready = info !== undefined && info.errorCode === 0 && info.partitions.length > 0
      if (!ready) {
        if (Date.now() < pending.deadline) continue
        this.pendingTopics.delete(topic)
        const code = info?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        const err =
          code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            ? new ProduceError(
                'ERR_UNKNOWN_TOPIC',
                `topic ${topic} does not exist (waited ${this.unknownTopicTimeoutMs} ms)`,
                { topic },
              )
            : new ProduceError(errorByCode(code).name, `metadata for topic ${topic}: ${errorByCode(code).message}`, {
                topic,
              })
        for (const { queued } of pending.messages) {
          this.queuedMessages--
          this.finish(queued, err, null)
        }
        this.cluster.removeTopics([topic])
        continue
      }
      this.pendingTopics.delete(topic)
      const states = this.ensurePartitions(topic, info.partitions.length)
      this.updateAvailable(topic)
      for (const { message, queued } of pending.messages) this.append(states, message, queued)
    }
    // Partition counts may grow, leaders move.
    for (const [topic, states] of this.partitions) {
      const info = this.cluster.topics.get(topic)
      if (info && info.partitions.length > states.length) this.ensurePartitions(topic, info.partitions.length)
      this.updateAvailable(topic)
    }
    this.checkFlushed()
    this.scheduleDrain()
  }

  private ensurePartitions(topic: string, count: number): PartitionState[] {
    let states = this.partitions.get(topic)
    if (states === undefined) {
      states = []
      this.partitions.set(topic, states)
    }
    for (let p = states.length; p < count; p++) states.push(new PartitionState(topic, p))
    return states
  }

  // ------------------------------------------------------------------------------------------ idempotence

  private async initProducerId(): Promise<void> {
    if (this.initializing) return this.initializing
    this.initializing = (async () => {
      const bump = this.producerId >= 0n && this.producerEpoch >= 0 && this.producerEpoch < 32767
      const deadline = Date.now() + this.maxBlockMs
      let response: InitProducerIdResponse
      for (let attempt = 0; ; attempt++) {
        let retriable: KafkaWireError
        try {
          response = await this.cluster.requestAny(InitProducerId, {
            transactionalId: null,
            transactionTimeoutMs: -1,
            producerId: bump ? this.producerId : -1n,
            producerEpoch: bump ? this.producerEpoch : -1,
          })
          if (response.errorCode === 0) break
          const err = new KafkaError(response.errorCode)
          if (isFenced(response.errorCode) || !err.retriable) {
            throw new ProduceError('ERR_PRODUCER_FAILED', `could not obtain a producer id: ${err.message}`, {
              cause: err,
            })
          }
          retriable = err
        } catch (err) {
          if (!(err instanceof KafkaWireError) || !err.retriable) throw err
          retriable = err
        }
        // A new broker loads its producer-id state first (COORDINATOR_LOAD_IN_PROGRESS): wait and ask again.
        if (Date.now() > deadline || this.state === 'closed') throw retriable
        await sleep(backoffDelay(attempt, this.retryBackoff))
      }
      this.producerId = response.producerId
      this.producerEpoch = response.producerEpoch
      // New epoch: sequences start again at 0 on every partition; unacknowledged batches get new ones.
      for (const states of this.partitions.values()) {
        for (const s of states) {
          s.nextSequence = 0
          for (const b of s.queue) {
            b.baseSequence = -1
            b.expectOutOfOrder = false
            b.unknownOutcome = false
          }
        }
      }
    })().finally(() => {
      this.initializing = null
    })
    return this.initializing
  }

  /** After an unknown outcome: stop sending, let in-flight requests finish, then take a new epoch. */
  private requestEpochBump(): void {
    this.bumpEpochPending = true
    this.maybeBumpEpoch()
  }

  private maybeBumpEpoch(): void {
    if (!this.bumpEpochPending || this.inflightRequests > 0 || this.initializing) return
    this.initProducerId().then(
      () => {
        this.bumpEpochPending = false
        this.scheduleDrain()
      },
      (err) => {
        if (err instanceof ProduceError && err.code === 'ERR_PRODUCER_FAILED') {
          this.fatal = err
          this.failEverything(err)
          return
        }
        setTimeout(() => this.maybeBumpEpoch(), backoffDelay(1, this.retryBackoff)).unref()
      },
    )
  }

  // ------------------------------------------------------------------------------------------ sending

  private armLinger(at: number): void {
    // Already due (linger 0): drain after this turn of the event loop. A 0 ms timer would wait >= 1 ms.
    if (at <= Date.now()) {
      this.scheduleDrain()
      return
    }
    if (this.lingerTimer !== null && this.lingerAt <= at) return
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer)
    this.lingerAt = at
    this.lingerTimer = setTimeout(
      () => {
        this.lingerTimer = null
        this.drain()
      },
      Math.max(0, at - Date.now()),
    )
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return
    this.drainScheduled = true
    setImmediate(this.runScheduledDrain)
  }

  private readonly runScheduledDrain = () => {
    if (this.drainScheduled) this.drainNow()
  }

  /** Drain now; a drain already scheduled has nothing left to do. */
  private drainNow(): void {
    this.drainScheduled = false
    this.drain()
  }

  /**
   * Send every batch that is ready: Produce requests to each broker (one batch per partition in each, as
   * brokers require) for as long as its connection has room in its pipeline.
   */
  private drain(): void {
    if (this.state === 'new' || this.state === 'closed' || this.fatal || this.bumpEpochPending || this.initializing)
      return
    if (this.idempotent && this.producerId < 0n) return
    const now = Date.now()
    const urgent = this.flushing > 0 || this.state === 'closing'
    const byLeader = new Map<number, PartitionState[]>()
    let nextWake = Number.POSITIVE_INFINITY
    let staleMetadata = false
    for (const states of this.partitions.values()) {
      for (const state of states) {
        const wake = this.readyAt(state, now, urgent)
        if (wake !== 0) {
          if (wake > 0 && wake < nextWake) nextWake = wake
          continue
        }
        const leader = this.cluster.leaderFor(state.topic, state.partition)
        if (leader < 0) {
          staleMetadata = true
          continue
        }
        let list = byLeader.get(leader)
        if (list === undefined) {
          list = []
          byLeader.set(leader, list)
        }
        list.push(state)
      }
    }
    if (staleMetadata) this.refreshMetadata()
    for (const [leader, states] of byLeader) {
      let ready = states
      // One request takes one batch per partition: more go out while the pipeline has room.
      while (this.sendTo(leader, ready)) {
        ready = ready.filter((s) => this.readyAt(s, now, urgent) === 0)
        if (ready.length === 0) break
      }
    }
    if (nextWake !== Number.POSITIVE_INFINITY) this.armLinger(nextWake)
  }

  /**
   * 0 when the partition's first batch may be sent now; else when to look again (ms since the epoch), or -1 when
   * an answer from the broker must come first (or nothing is queued).
   */
  private readyAt(state: PartitionState, now: number, urgent: boolean): number {
    const batch = state.queue[0]
    if (batch === undefined) return -1
    if (batch.retryAt > now) return batch.retryAt
    if (!(batch.closed || urgent || now - batch.createdAt >= this.lingerMs || state.queue.length > 1)) {
      return batch.createdAt + this.lingerMs
    }
    if (this.idempotent) {
      if (state.inflight.length >= MAX_IDEMPOTENT_IN_FLIGHT) return -1
      // A retry goes out only once everything before it has come back, so sequences reach the broker in order.
      if (batch.baseSequence >= 0 && state.inflight.length > 0) return -1
    }
    return 0
  }

  private connectionFor(leader: number): Connection | null {
    const c = this.connections.get(leader)
    if (c !== undefined && !c.closed) return c
    if (!this.connecting.has(leader)) {
      this.connecting.add(leader)
      this.cluster.connection(leader, 'produce').then(
        (conn) => {
          this.connecting.delete(leader)
          this.connections.set(leader, conn)
          conn.on('drain', () => this.scheduleDrain())
          this.scheduleDrain()
        },
        (err) => {
          this.connecting.delete(leader)
          this.emit('warning', err)
          this.refreshMetadata()
          setTimeout(() => this.scheduleDrain(), backoffDelay(1, this.retryBackoff)).unref()
        },
      )
    }
    return null
  }

  /** One Produce request to `leader` with the first batch of each of `states`; false when nothing was sent. */
  private sendTo(leader: number, states: PartitionState[]): boolean {
    const connection = this.connectionFor(leader)
    if (connection === null || !connection.writable) return false
    const topics = new Map<string, ProduceTopicData>()
    const batches: Batch[] = []
    let bytes = 0
    for (const state of states) {
      const batch = state.queue[0]
      this.closeBatch(batch)
      if (batch.prepared === null) {
        batch.header.producerId = this.producerId
        try {
          batch.prepared = prepareRecordBatch(
            {
              records: batch.records,
              compression: this.compression as 0,
              compressionLevel: this.compressionLevel,
              timestampType: TimestampType.CreateTime,
              get producerId() {
                return batch.header.producerId
              },
              get producerEpoch() {
                return batch.header.producerEpoch
              },
              get baseSequence() {
                return batch.header.baseSequence
              },
            },
            {},
          )
        } catch (err) {
          state.queue.shift()
          this.failBatch(batch, asProduceError(err, 'ERR_SERIALIZATION', batch.topic, batch.partition))
          continue
        }
      }
      const size = batch.prepared.byteLength
      if (batches.length > 0 && bytes + size > this.maxRequestBytes) break
      if (batch.attempts === 0) {
        this.m.batchRecords.update(batch.records.length)
        this.m.batchBytes.update(size)
        if (this.compression !== 0) this.m.compressionRatio.update(batch.bytes / size)
      } else this.m.retries.inc()
      bytes += size
      state.queue.shift()
      if (this.idempotent) {
        if (batch.baseSequence < 0) {
          batch.baseSequence = state.nextSequence
          state.nextSequence = (state.nextSequence + batch.records.length) % 0x80000000
        }
        batch.producerEpoch = this.producerEpoch
        batch.header.producerId = this.producerId
        batch.header.producerEpoch = this.producerEpoch
        batch.header.baseSequence = batch.baseSequence
        state.inflight.push(batch)
      }
      batch.attempts++
      batches.push(batch)
      let topic = topics.get(batch.topic)
      if (topic === undefined) {
        topic = { name: batch.topic, topicId: this.cluster.topics.get(batch.topic)?.topicId, partitionData: [] }
        topics.set(batch.topic, topic)
      }
      topic.partitionData.push({ index: batch.partition, records: batch.prepared })
    }
    if (batches.length === 0) return false
    const request: ProduceRequest = {
      transactionalId: null,
      acks: this.acks,
      timeoutMs: this.requestTimeoutMs,
      topicData: [...topics.values()],
    }
    if (producerChannels.batchSent.hasSubscribers) {
      for (const b of batches) {
        producerChannels.batchSent.publish({
          topic: b.topic,
          partition: b.partition,
          records: b.records.length,
          bytes: b.prepared?.byteLength,
          attempt: b.attempts,
        })
      }
    }
    this.inflightRequests++
    this.m.bytesSent.mark(bytes)
    const expectResponse = this.acks !== 0
    const stopTimer = this.m.requestLatency.start()
    connection
      .request(Produce, request, { expectResponse, timeoutMs: this.requestTimeoutMs + 5000 })
      .then(
        (response) => {
          this.inflightRequests--
          stopTimer()
          if (!expectResponse || response === undefined) {
            for (const b of batches) this.succeedBatch(b, null)
            return
          }
          this.onResponse(batches, response.responses)
        },
        (err) => {
          this.inflightRequests--
          stopTimer()
          this.m.requestErrors.mark()
          this.onRequestFailed(batches, err)
        },
      )
      .finally(() => {
        this.maybeBumpEpoch()
        // Refill the pipeline now, ahead of whatever the callbacks above scheduled.
        this.drainNow()
      })
    // More may be ready for this broker than one request carried.
    if (states.some((s) => s.queue.length > 0)) this.scheduleDrain()
    return true
  }

  private onResponse(
    batches: Batch[],
    responses: Array<{ name: string; topicId: string; partitionResponses: ProducePartitionResponse[] }>,
  ): void {
    const found = new Map<string, ProducePartitionResponse>()
    for (const t of responses) {
      const name = t.name || this.cluster.topicNamesById.get(t.topicId) || t.topicId
      for (const p of t.partitionResponses) found.set(`${name}\u0000${p.index}`, p)
    }
    for (const batch of batches) {
      const p = found.get(`${batch.topic}\u0000${batch.partition}`)
      if (p === undefined) {
        this.retryOrFail(
          batch,
          new ProduceError('ERR_NO_RESPONSE', 'the broker did not answer for this partition', { retriable: true }),
          true,
        )
        continue
      }
      this.onPartitionResult(batch, p)
    }
  }

  private onPartitionResult(batch: Batch, p: ProducePartitionResponse): void {
    const state = this.stateOf(batch)
    const code = p.errorCode
    if (code === 0 || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
      state.removeInflight(batch)
      this.succeedBatch(batch, code === 0 ? p : null)
      return
    }
    const kafkaError = new KafkaError(code, {
      brokerMessage: p.errorMessage,
      topic: batch.topic,
      partition: batch.partition,
    })
    if (needsMetadataRefresh(code)) this.refreshMetadata()
    if (
      (code === ErrorCode.MESSAGE_TOO_LARGE || code === ErrorCode.RECORD_LIST_TOO_LARGE) &&
      batch.records.length > 1
    ) {
      this.split(batch)
      return
    }
    if (
      code === ErrorCode.INVALID_RECORD &&
      p.recordErrors.length > 0 &&
      p.recordErrors.length < batch.records.length
    ) {
      this.dropInvalidRecords(batch, p, kafkaError)
      return
    }
    if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code === ErrorCode.UNKNOWN_PRODUCER_ID) {
      const earlierPending = state.inflight.indexOf(batch) > 0 || batch.expectOutOfOrder
      if (!earlierPending) this.requestEpochBump()
      this.retryOrFail(batch, toProduceError(kafkaError), false, true)
      return
    }
    if (isFenced(code)) {
      const err = new ProduceError('ERR_PRODUCER_FENCED', `the producer was fenced: ${kafkaError.message}`, {
        cause: kafkaError,
      })
      this.fatal = err
      state.removeInflight(batch)
      this.failBatch(batch, err)
      this.failEverything(err)
      return
    }
    this.retryOrFail(batch, toProduceError(kafkaError), false)
  }

  private onRequestFailed(batches: Batch[], err: unknown): void {
    const wrapped = asProduceError(err, 'ERR_REQUEST', undefined)
    for (const batch of batches) this.retryOrFail(batch, wrapped, true)
  }

  /**
   * Another attempt if the error allows and the delivery timeout has room; else fail the batch and
   * keep the partition's sequence consistent.
   */
  private retryOrFail(batch: Batch, err: ProduceError, unknownOutcome: boolean, forceRetry = false): void {
    const state = this.stateOf(batch)
    state.removeInflight(batch)
    if (unknownOutcome) batch.unknownOutcome = true
    const now = Date.now()
    if ((err.retriable || forceRetry) && now < batch.deadline && this.state !== 'closed' && !this.fatal) {
      batch.retryAt = now + backoffDelay(batch.attempts - 1, this.retryBackoff)
      if (this.idempotent) this.markLaterOutOfOrder(state, batch)
      state.requeue(batch)
      this.armLinger(batch.retryAt)
      return
    }
    const final =
      now >= batch.deadline && (err.retriable || forceRetry)
        ? new ProduceError(
            'ERR_DELIVERY_TIMEOUT',
            `not delivered within deliveryTimeoutMs ${this.deliveryTimeoutMs}: ${err.message}`,
            {
              topic: batch.topic,
              partition: batch.partition,
              cause: err,
            },
          )
        : err
    this.settleFailedSequence(state, batch)
    this.failBatch(batch, final)
  }

  /** Later in-flight batches of the partition will come back OUT_OF_ORDER_SEQUENCE: that is expected. */
  private markLaterOutOfOrder(state: PartitionState, batch: Batch): void {
    for (const b of state.inflight) if (b.baseSequence > batch.baseSequence) b.expectOutOfOrder = true
  }

  /**
   * A batch with sequence numbers failed for good. If the broker surely did not write it, the later
   * batches move down into its sequence range; if it might have, only a new epoch is safe.
   */
  private settleFailedSequence(state: PartitionState, batch: Batch): void {
    if (!this.idempotent || batch.baseSequence < 0) return
    if (batch.unknownOutcome) {
      this.requestEpochBump()
      return
    }
    const count = batch.records.length
    const wrap = (n: number) => (n - count + 0x80000000) % 0x80000000
    for (const b of state.inflight) {
      if (b.baseSequence > batch.baseSequence) {
        b.baseSequence = wrap(b.baseSequence)
        b.expectOutOfOrder = true
      }
    }
    for (const b of state.queue) if (b.baseSequence > batch.baseSequence) b.baseSequence = wrap(b.baseSequence)
    state.nextSequence = wrap(state.nextSequence)
  }

  /** A batch too large for the broker: halves keep its sequence range, so nothing else moves. */
  private split(batch: Batch): void {
    const state = this.stateOf(batch)
    state.removeInflight(batch)
    const mid = Math.ceil(batch.records.length / 2)
    const halves = [batch.records.slice(0, mid), batch.records.slice(mid)]
    let sequence = batch.baseSequence
    const parts: Batch[] = []
    for (const records of halves) {
      const part = new Batch(batch.topic, batch.partition, batch.createdAt, batch.deadline)
      part.records.push(...records)
      for (const r of records) part.bytes += r.size
      part.closed = true
      part.attempts = batch.attempts
      part.baseSequence = sequence
      if (sequence >= 0) sequence += records.length
      parts.push(part)
    }
    if (this.idempotent) this.markLaterOutOfOrder(state, batch)
    // Put back in order: the second half first, so the first ends up ahead of it.
    state.requeue(parts[1])
    state.requeue(parts[0])
    if (batch.baseSequence < 0) {
      // Without sequences requeue() cannot order them: fix up by hand.
      const i = state.queue.indexOf(parts[1])
      const j = state.queue.indexOf(parts[0])
      if (j > i) {
        state.queue[i] = parts[0]
        state.queue[j] = parts[1]
      }
    }
    this.scheduleDrain()
  }

  /** INVALID_RECORD naming some records: fail those, send the rest again (their sequences shift down). */
  private dropInvalidRecords(batch: Batch, p: ProducePartitionResponse, kafkaError: KafkaError): void {
    const state = this.stateOf(batch)
    state.removeInflight(batch)
    const bad = new Map(p.recordErrors.map((e) => [e.batchIndex, e.batchIndexErrorMessage]))
    const keep = new Batch(batch.topic, batch.partition, batch.createdAt, batch.deadline)
    keep.closed = true
    keep.attempts = batch.attempts
    keep.baseSequence = batch.baseSequence
    const failed: QueuedMessage[] = []
    batch.records.forEach((r, i) => {
      if (bad.has(i)) failed.push(r)
      else {
        keep.records.push(r)
        keep.bytes += r.size
      }
    })
    if (this.idempotent && batch.baseSequence >= 0) {
      // The kept records take the start of the range; everything after moves down by the failed count.
      const shadow = new Batch(batch.topic, batch.partition, batch.createdAt, batch.deadline)
      shadow.records.push(...failed)
      shadow.baseSequence = batch.baseSequence + keep.records.length
      this.settleFailedSequence(state, shadow)
    }
    this.queuedMessages -= failed.length
    for (const r of failed) {
      const message = bad.get(batch.records.indexOf(r))
      this.finish(
        r,
        toProduceError(
          new KafkaError(kafkaError.errorCode, {
            brokerMessage: message ?? p.errorMessage,
            topic: batch.topic,
            partition: batch.partition,
          }),
        ),
        null,
      )
    }
    state.requeue(keep)
    this.scheduleDrain()
  }

  private stateOf(batch: Batch): PartitionState {
    return this.partitions.get(batch.topic)![batch.partition]
  }

  /** Fail queued batches whose delivery timeout passed, and messages waiting for an unknown topic. */
  private sweep(): void {
    const now = Date.now()
    for (const states of this.partitions.values()) {
      for (const state of states) {
        while (state.queue.length > 0 && state.queue[0].deadline <= now) {
          const batch = state.queue.shift()!
          this.settleFailedSequence(state, batch)
          this.failBatch(
            batch,
            new ProduceError(
              'ERR_DELIVERY_TIMEOUT',
              `not delivered within deliveryTimeoutMs ${this.deliveryTimeoutMs}`,
              {
                topic: batch.topic,
                partition: batch.partition,
              },
            ),
          )
        }
      }
    }
    if (this.pendingTopics.size > 0) this.onMetadata()
  }
}

function serialize(
  value: unknown,
  topic: string,
  serializer: Serializer<unknown> | undefined,
  what: string,
): Buffer | null {
  if (serializer !== undefined) {
    let out: unknown
    try {
      out = serializer(value, topic)
    } catch (err) {
      throw new ProduceError('ERR_SERIALIZATION', `the ${what} serializer failed: ${(err as Error)?.message ?? err}`, {
        topic,
        cause: err,
      })
    }
    if (out !== null && !Buffer.isBuffer(out)) {
      throw new ProduceError('ERR_SERIALIZATION', `the ${what} serializer must return a Buffer or null`, { topic })
    }
    return out
  }
  if (value === null || value === undefined) return null
  if (Buffer.isBuffer(value)) return value
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw new ProduceError(
    'ERR_SERIALIZATION',
    `a message ${what} must be a Buffer, a string or null (got ${value?.constructor?.name ?? typeof value}); configure a ${what}Serializer`,
    { topic },
  )
}

function toHeaders(headers: MessageHeaders): RecordHeaderInput[] {
  const out: RecordHeaderInput[] = []
  const add = (key: string, value: HeaderValue) => {
    if (typeof key !== 'string') throw new ProduceError('ERR_SERIALIZATION', 'header keys must be strings')
    if (value === null || value === undefined) out.push({ key, value: null })
    else if (Buffer.isBuffer(value)) out.push({ key, value })
    else if (typeof value === 'string') out.push({ key, value: Buffer.from(value, 'utf8') })
    else throw new ProduceError('ERR_SERIALIZATION', `header "${key}" must be a string, a Buffer or null`)
  }
  if (Array.isArray(headers)) for (const h of headers) add(h.key, h.value)
  else for (const key of Object.keys(headers)) add(key, (headers as Record<string, HeaderValue>)[key])
  return out
}

function toProduceError(err: KafkaError): ProduceError {
  return new ProduceError(err.code, err.message, {
    retriable: err.retriable,
    topic: err.topic,
    partition: err.partition,
    cause: err,
  })
}

function asProduceError(err: unknown, code: string, topic?: string, partition?: number): ProduceError {
  if (err instanceof ProduceError) return err
  if (err instanceof KafkaWireError) {
    return new ProduceError(err.code, err.message, {
      retriable: err.retriable,
      topic: topic ?? err.topic,
      partition: partition ?? err.partition,
      cause: err,
    })
  }
  return new ProduceError(code, (err as Error)?.message ?? String(err), { topic, partition, cause: err })
}
