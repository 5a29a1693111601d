// The consumer's worker manager: runs the user's handler over fetched messages with bounded concurrency,
// keeps the order that matters, retries with backoff, times attempts out through an AbortSignal, applies
// the failure policies and the dead letter, and reports every message's outcome so that the offset tracker
// knows what may be committed. No sockets here: the consumer pushes messages in and listens to outcomes.
//
// What go_kafka_client (the seed) did wrong and what this does instead:
// - it committed the largest finished offset: outcomes here are per message ('finished' or
//   'not-committable'), and the offset tracker commits the lowest unfinished offset;
// - it kept no order with several workers: ordering is per partition by default (or per key);
// - its task timeout only stopped waiting: here the attempt's AbortSignal is aborted with a typed
//   ERR_TASK_TIMEOUT error and whatever the handler does afterwards is ignored.
//
// Ordering ('ordering' option) is implemented with lanes: a lane is a FIFO of messages that must run one
// after the other. 'partition' gives one lane per partition (one message, or one batch, of a partition at a
// time, in offset order); 'key' one lane per key within a partition (messages with a null key share one
// lane per partition); 'none' one lane per partition that never blocks (any number of its messages run at
// once). Partitions with runnable work are served round robin, so one busy partition does not starve others.
//
// Semantics of the decisions (the answer of `onFailedAttempt` / `onFailure` once a message, or a batch,
// failed every attempt):
//   'commit-and-continue'       the message is reported 'finished': the committed offset may move past it.
//                               It is lost as far as this consumer group is concerned (unless dead-lettered).
//   'skip-commit-and-continue'  the message is reported 'not-committable' and processing goes on. The offset
//                               tracker holds it: later messages of the partition are still processed, but the
//                               committed offset of that partition stops at the held message for as long as
//                               this consumer owns the partition (lag grows; `OffsetTracker.release` lifts the
//                               hold). After a revoke, a crash or a restart, consumption resumes at the held
//                               message: it and everything after it are delivered again (at least once).
//   'commit-and-stop'           as 'commit-and-continue' for this message, then the manager stops (below).
//   'skip-commit-and-stop'      as 'skip-commit-and-continue' for this message, then the manager stops.
// Stopping: no new task starts; messages queued and not started are dropped (never reported: they stay
// unfinished in the tracker, so they are delivered again after a restart); tasks in flight run to their end
// and are reported; `push` returns false and drops; 'stop' is emitted once with the reason. The consumer is
// expected to commit what is committable and close.
//
// The failure threshold: every message whose attempts are exhausted counts as one failure (dead-lettered or
// not; a failed batch counts each of its messages). When more than `failureThreshold` failures fall within
// `failureWindowMs`, `onFailure(stats)` is asked too, at most once per window (after it fires, the count
// starts over and it cannot fire again before `failureWindowMs` has passed). Its answer combines with the
// message's own one (dead letter or `onFailedAttempt`): committed only if both commit, stopped if either stops.

import { EventEmitter } from 'node:events'
import { type BackoffOptions, backoffDelay } from '../network/backoff.js'
import { type ErrorDetails, KafkaWireError } from '../protocol/errors.js'
import { ConfigError } from './errors.js'
import type { Counter, Histogram, Meter, MetricsRegistry, Timer } from './metrics.js'
import type { OffsetTracker, PartitionOffsets } from './offset-tracker.js'

/** What the worker manager needs of a message. */
export interface WorkerMessage {
  topic: string
  partition: number
  offset: bigint
  key: Buffer | null
}

export interface TopicPartition {
  topic: string
  partition: number
}

export type Ordering = 'partition' | 'key' | 'none'

export type Decision = 'commit-and-continue' | 'skip-commit-and-continue' | 'commit-and-stop' | 'skip-commit-and-stop'

const DECISIONS: ReadonlySet<string> = new Set<Decision>([
  'commit-and-continue',
  'skip-commit-and-continue',
  'commit-and-stop',
  'skip-commit-and-stop',
])

/** 'finished': may be committed past. 'not-committable': processed (or given up on) but must not be. */
export type SettledOutcome = 'finished' | 'not-committable'

/**
 * How revoke and close treat a partition's work:
 * 'drain'   run every message already pushed (a paused partition is resumed), then resolve;
 * 'finish'  drop the messages not started, let the tasks in flight end (retries included), then resolve;
 * 'abandon' drop the messages not started, abort the tasks in flight (their signal aborts with
 *           ERR_TASK_ABANDONED, no retry, no report) and resolve at once.
 * Dropped and abandoned messages are never reported: they stay unfinished in the offset tracker.
 */
export type StopMode = 'drain' | 'finish' | 'abandon'

export interface TaskContext {
  /**
   * Aborted when the attempt times out (ERR_TASK_TIMEOUT) or the partition is abandoned (ERR_TASK_ABANDONED).
   * Made when first read (an AbortSignal costs microseconds to create); read after the abort, it is aborted.
   */
  readonly signal: AbortSignal
  /** 1 for the first attempt, 2 for the first retry... */
  readonly attempt: number
}

export interface FailedAttemptInfo<M> {
  /** Attempts made (1 + retries). */
  attempts: number
  /** The messages of the task: the message alone, or the whole batch (the decision applies to all). */
  messages: readonly M[]
  /** Set when a dead letter was configured and writing to it failed. */
  deadLetterError?: unknown
}

export interface FailureStats<M = WorkerMessage> {
  /** Failures counted in the window that crossed the threshold. */
  failures: number
  threshold: number
  windowMs: number
  /** The message whose failure crossed the threshold, and its error. */
  message: M
  error: unknown
}

export interface SettledInfo {
  attempts: number
  /** The last error when the message failed every attempt. */
  error?: unknown
  /** The decision applied when the message failed every attempt. */
  decision?: Decision
  deadLettered?: boolean
}

export interface StopReason<M = WorkerMessage> {
  decision: Decision
  /** Which policy said stop (when both did, 'failure-threshold'). */
  source: 'failed-attempt' | 'failure-threshold'
  message: M
  messages: readonly M[]
  error: unknown
  attempts: number
  stats?: FailureStats<M>
  /** ERR_DECISION when a policy threw or gave something that is not a Decision. */
  policyError?: WorkerError
}

export type MessageHandler<M> = (message: M, context: TaskContext) => Promise<void> | void
export type BatchHandler<M> = (messages: M[], context: TaskContext) => Promise<void> | void

/** Timers and time for the manager; tests pass a fake one. */
export interface WorkerClock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realClock: WorkerClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

export interface WorkerManagerOptions<M extends WorkerMessage> {
  /** Processes one message. Exactly one of handler / batchHandler, or neither to use `messages()`. */
  handler?: MessageHandler<M>
  /** Processes up to `batchSize` messages of one partition at once (in offset order). */
  batchHandler?: BatchHandler<M>
  /** Largest batch given to `batchHandler`. Default 100. */
  batchSize?: number
  /**
   * Tasks (messages or batches) running at once, over all partitions (go_kafka_client's NumWorkers). Default 1,
   * as the Java client and KafkaJS process one message at a time; with the default ordering a higher value
   * runs different partitions in parallel and never two messages of one partition.
   */
  concurrency?: number
  /** Default 'partition'. */
  ordering?: Ordering
  /** Retries after the first attempt (MaxWorkerRetries): a message gets 1 + maxRetries attempts. Default 3. */
  maxRetries?: number
  /**
   * Delay before a retry (WorkerBackoff): exponential with jitter (default { baseMs: 500, maxMs: 10_000 }:
   * 250-500 ms before the first retry, doubling), or a function of the attempt that failed (1, 2, ...).
   */
  retryBackoff?: BackoffOptions | ((failedAttempt: number) => number)
  /**
   * Time for one attempt of a message or a batch (WorkerTaskTimeout); the signal then aborts with ERR_TASK_TIMEOUT and the attempt
   * counts as failed; whatever the handler does afterwards is ignored. A handler that ignores the signal may
   * still be running when the retry starts. 0 disables. Default 60_000.
   */
  taskTimeoutMs?: number
  /** Decides for a message (or batch) whose attempts are exhausted. Default: () => 'skip-commit-and-stop'. */
  onFailedAttempt?: (message: M, error: unknown, info: FailedAttemptInfo<M>) => Decision
  /** Failures within `failureWindowMs` beyond which `onFailure` is asked (WorkerRetryThreshold). Default 100. */
  failureThreshold?: number
  /** The window of the threshold (WorkerThresholdTimeWindow). Default 60_000. */
  failureWindowMs?: number
  /** Decides once the threshold is crossed (WorkerFailureCallback). Default: () => 'skip-commit-and-stop'. */
  onFailure?: (stats: FailureStats<M>) => Decision
  /**
   * Takes a message whose attempts are exhausted (e.g. produces it to a dead-letter topic with the error in
   * its headers). Resolving counts the message finished ('commit-and-continue'); rejecting hands it to
   * `onFailedAttempt` with `info.deadLetterError`. A failed batch is dead-lettered message by message.
   */
  deadLetter?: (message: M, error: unknown, attempts: number) => Promise<void>
  /** Messages pushed and not yet settled beyond which `push` returns false. Default 1000. */
  maxPending?: number
  /**
   * When given, the manager keeps these trackers up to date: `start` on push, `finish` for 'finished',
   * `hold` for 'not-committable'. The consumer still owns their lifecycle (commit, reset, delete).
   */
  offsets?: PartitionOffsets
  /** Listener for 'settled' (same as `on('settled', ...)`). */
  onSettled?: (message: M, outcome: SettledOutcome, info: SettledInfo) => void
  /** Listener for 'stop'. */
  onStop?: (reason: StopReason<M>) => void
  /** Where metrics go (names under `consumer.worker.`). */
  metrics?: MetricsRegistry
  clock?: WorkerClock
}

/**
 * Errors of the worker manager. Codes: ERR_TASK_TIMEOUT (an attempt took longer than taskTimeoutMs; the
 * signal's reason), ERR_TASK_ABANDONED (the partition was revoked or the manager closed with 'abandon'; the
 * signal's reason), ERR_WORKER_CLOSED (push after close), ERR_DECISION (a policy threw or answered something
 * that is not a Decision; 'skip-commit-and-stop' is applied).
 */
export class WorkerError extends KafkaWireError {
  readonly offset?: bigint

  constructor(code: string, message: string, details: ErrorDetails & { offset?: bigint } = {}) {
    super(code, message, details)
    if (details.offset !== undefined) this.offset = details.offset
  }
}

// ------------------------------------------------------------------------------------------------ internals

/** A FIFO on a ring buffer (power-of-two capacity, grown by doubling; it never shrinks). */
class Fifo<T> {
  #items: (T | undefined)[] = new Array<T | undefined>(8).fill(undefined)
  #mask = 7
  #head = 0
  #size = 0

  get size(): number {
    return this.#size
  }

  push(item: T): void {
    if (this.#size > this.#mask) this.#grow()
    this.#items[(this.#head + this.#size) & this.#mask] = item
    this.#size++
  }

  peek(): T | undefined {
    return this.#size > 0 ? this.#items[this.#head] : undefined
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined
    this.#head = (this.#head + 1) & this.#mask
    this.#size--
    return item
  }

  /** Empties the queue; returns what it held, in order. */
  clear(): T[] {
    const rest: T[] = []
    while (this.#size > 0) rest.push(this.shift() as T)
    this.#head = 0
    return rest
  }

  #grow(): void {
    const items = new Array<T | undefined>((this.#mask + 1) * 2).fill(undefined)
    for (let i = 0; i < this.#size; i++) items[i] = this.#items[(this.#head + i) & this.#mask]
    this.#items = items
    this.#mask = items.length - 1
    this.#head = 0
  }
}

class Lane<M> {
  readonly queue = new Fifo<M>()
  busy = false
  inReady = false

  constructor(readonly key: string) {}
}

interface Revoke {
  mode: StopMode
  promise: Promise<void>
  resolve: () => void
}

class PartitionState<M> {
  /** Key lanes ('key' ordering), by the key's bytes as latin1. */
  readonly lanes = new Map<string, Lane<M>>()
  /** The partition's lane ('partition' and 'none' ordering), and the lane of null keys with 'key'. */
  readonly lane = new Lane<M>('')
  readonly ready = new Fifo<Lane<M>>()
  readonly tasks = new Set<Task<M>>()
  queued = 0
  paused = false
  inReady = false
  removed = false
  revoke: Revoke | null = null
  /** The partition's offset tracker, valid while the PartitionOffsets' deletion count is `trackerAt`. */
  tracker: OffsetTracker | null = null
  trackerAt = -1

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

interface Task<M> {
  part: PartitionState<M>
  readonly lanes: Lane<M>[]
  readonly messages: M[]
  attempt: number
  /** Resolves the attempt awaiting its handler's promise (null when none is); see #awaitAttempt. */
  attemptEnd: ((result: AttemptFailure | null) => void) | null
  /** When that attempt started (for its timer). */
  attemptStarted: number
  /** The context of the attempt in progress (its signal is aborted when the task is abandoned). */
  context: AttemptContext | null
  /** Cancels a backoff wait. */
  wake: (() => void) | null
  /** When the attempt awaiting its promise times out (clock ms); see #watchDeadline. */
  deadline: number
  /** Abandoned: no more attempts, no report. */
  abandoned: boolean
  /** Its messages were taken off the pending count (settled or abandoned). */
  retired: boolean
}

interface AttemptFailure {
  error: unknown
}

const OK = null

/** An attempt's outcome: OK or a failure when the handler returned at once, else a promise of it. */
type AttemptResult = AttemptFailure | null | Promise<AttemptFailure | null>

/** Messages of one lane run in a row by one task when each ends synchronously (see #nextInLane). */
const LANE_RUN = 64

/** Tasks settled synchronously before scheduling yields to the event loop once (setImmediate). */
const SYNC_BUDGET = 4096

/**
 * A handler that returns at once is timed one attempt in SAMPLE_EVERY (two clock reads cost more than such
 * an attempt); the timer's count still counts every attempt. A handler returning a promise is timed every time.
 */
const SAMPLE_EVERY = 16

/** The info of every message settled by its first attempt (shared: listeners must not modify it). */
const FIRST_ATTEMPT: SettledInfo = Object.freeze({ attempts: 1 })

/**
 * The context of one attempt. Its AbortSignal is made on first use: creating one costs microseconds on
 * Node 20, more than the rest of a task, and most handlers never look at it.
 */
class AttemptContext implements TaskContext {
  readonly attempt: number
  #controller: AbortController | null = null
  #aborted = false
  #reason: unknown

  constructor(attempt: number) {
    this.attempt = attempt
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}

const STOP_RANK: Record<StopMode, number> = { drain: 0, finish: 1, abandon: 2 }

function isStop(d: Decision): boolean {
  return d === 'commit-and-stop' || d === 'skip-commit-and-stop'
}

function isCommit(d: Decision): boolean {
  return d === 'commit-and-continue' || d === 'commit-and-stop'
}

function combine(a: Decision, b: Decision): Decision {
  const commit = isCommit(a) && isCommit(b)
  const stop = isStop(a) || isStop(b)
  if (commit) return stop ? 'commit-and-stop' : 'commit-and-continue'
  return stop ? 'skip-commit-and-stop' : 'skip-commit-and-continue'
}

function newTask<M>(part: PartitionState<M>): Task<M> {
  return {
    part,
    lanes: [],
    messages: [],
    attempt: 0,
    attemptEnd: null,
    attemptStarted: 0,
    context: null,
    wake: null,
    deadline: 0,
    abandoned: false,
    retired: false,
  }
}

function compareOffsets<M extends WorkerMessage>(a: M, b: M): number {
  return a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0
}

function nonNegativeInteger(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(Number.isInteger(value) || value === Number.POSITIVE_INFINITY) || value < min) {
    throw new ConfigError(`${name} must be an integer >= ${min}, got ${String(value)}`)
  }
  return value
}

interface WorkerMetrics {
  messages: Meter
  retries: Counter
  timeouts: Counter
  failures: Meter
  deadLettered: Counter
  taskTime: Timer
  batchTime: Timer
  batchSize: Histogram
}

export interface WorkerManagerEvents<M> {
  settled: [message: M, outcome: SettledOutcome, info: SettledInfo]
  stop: [reason: StopReason<M>]
  drain: []
}

/**
 * Runs a handler over pushed messages. See the top of this file for ordering, decisions and stopping.
 *
 * Events: 'settled' (message, outcome, info) once per message, in offset order within a lane; 'stop'
 * (reason) once; 'drain' () when `push` had returned false and the pending count fell to half of
 * `maxPending`. Listeners must not throw (an exception in one is rethrown on the next tick).
 */
export class WorkerManager<M extends WorkerMessage = WorkerMessage> extends EventEmitter<WorkerManagerEvents<M>> {
  readonly ordering: Ordering
  readonly concurrency: number
  readonly maxPending: number
  readonly #handler: MessageHandler<M> | undefined
  readonly #batchHandler: BatchHandler<M> | undefined
  readonly #batchSize: number
  readonly #maxRetries: number
  readonly #backoff: (failedAttempt: number) => number
  readonly #taskTimeoutMs: number
  readonly #onFailedAttempt: ((message: M, error: unknown, info: FailedAttemptInfo<M>) => Decision) | undefined
  readonly #onFailure: ((stats: FailureStats<M>) => Decision) | undefined
  readonly #deadLetter: ((message: M, error: unknown, attempts: number) => Promise<void>) | undefined
  readonly #threshold: number
  readonly #windowMs: number
  readonly #offsets: PartitionOffsets | undefined
  readonly #clock: WorkerClock
  readonly #m: WorkerMetrics | null

  readonly #parts = new Map<string, Map<number, PartitionState<M>>>()
  readonly #readyParts = new Fifo<PartitionState<M>>()
  #active = 0
  #queued = 0
  #pending = 0
  #needDrain = false
  #scheduling = false
  #scheduleQueued = false
  #scheduleLaterQueued = false
  #syncBudget = SYNC_BUDGET
  /** The partition of the last push. */
  #lastPart: PartitionState<M> | null = null
  /** Attempts awaiting their promise under a deadline, and the timer of the earliest (see #watchDeadline). */
  readonly #watched = new Set<Task<M>>()
  #deadlineTimer: unknown = null
  /** The task whose first attempt is running synchronously (at most one: #schedule does not nest). */
  #inline: Task<M> | null = null
  /** A finished single-message task kept for the next one (most tasks end synchronously). */
  #spare: Task<M> | null = null
  /** Attempts not timed since the last timed one (see SAMPLE_EVERY). */
  #untimed = 0
  /** The handler's last attempt returned a promise: time every attempt from its start. */
  #lastAsync = false
  #stopped: StopReason<M> | null = null
  #closing: Promise<void> | null = null
  #closeMode: StopMode = 'finish'
  // Failure window: failures (time, count) within the last failureWindowMs, their sum, the quiet period.
  readonly #failures = new Fifo<{ at: number; n: number }>()
  #failureSum = 0
  #quietUntil = Number.NEGATIVE_INFINITY
  // Iterator mode.
  #iterating = false
  #iterTask: Task<M> | null = null
  #iterWaiter: ((result: IteratorResult<M>) => void) | null = null

  constructor(options: WorkerManagerOptions<M>) {
    super()
    if (options.handler !== undefined && options.batchHandler !== undefined) {
      throw new ConfigError('give either handler or batchHandler, not both')
    }
    if (options.handler !== undefined && typeof options.handler !== 'function') {
      throw new ConfigError('handler must be a function')
    }
    if (options.batchHandler !== undefined && typeof options.batchHandler !== 'function') {
      throw new ConfigError('batchHandler must be a function')
    }
    this.#handler = options.handler
    this.#batchHandler = options.batchHandler
    this.#batchSize = nonNegativeInteger('batchSize', options.batchSize, 100, 1)
    this.concurrency = nonNegativeInteger('concurrency', options.concurrency, 1, 1)
    this.ordering = options.ordering ?? 'partition'
    if (this.ordering !== 'partition' && this.ordering !== 'key' && this.ordering !== 'none') {
      throw new ConfigError(`ordering must be 'partition', 'key' or 'none', got ${String(this.ordering)}`)
    }
    this.#maxRetries = nonNegativeInteger('maxRetries', options.maxRetries, 3)
    const backoff = options.retryBackoff ?? { baseMs: 500, maxMs: 10_000 }
    this.#backoff =
      typeof backoff === 'function' ? backoff : (failedAttempt) => backoffDelay(failedAttempt - 1, backoff)
    this.#taskTimeoutMs = nonNegativeInteger('taskTimeoutMs', options.taskTimeoutMs, 60_000)
    this.#onFailedAttempt = options.onFailedAttempt
    this.#onFailure = options.onFailure
    this.#deadLetter = options.deadLetter
    this.#threshold = nonNegativeInteger('failureThreshold', options.failureThreshold, 100)
    this.#windowMs = nonNegativeInteger('failureWindowMs', options.failureWindowMs, 60_000, 1)
    this.maxPending = nonNegativeInteger('maxPending', options.maxPending, 1000, 1)
    this.#offsets = options.offsets
    this.#clock = options.clock ?? realClock
    if (options.onSettled !== undefined) this.on('settled', options.onSettled)
    if (options.onStop !== undefined) this.on('stop', options.onStop)
    const reg = options.metrics
    if (reg === undefined) this.#m = null
    else {
      this.#m = {
        messages: reg.meter('consumer.worker.messages'),
        retries: reg.counter('consumer.worker.retries'),
        timeouts: reg.counter('consumer.worker.timeouts'),
        failures: reg.meter('consumer.worker.failures'),
        deadLettered: reg.counter('consumer.worker.dead.lettered'),
        taskTime: reg.timer('consumer.worker.task.time'),
        batchTime: reg.timer('consumer.worker.batch.time'),
        batchSize: reg.histogram('consumer.worker.batch.size'),
      }
      reg.gauge('consumer.worker.active', () => this.#active)
      reg.gauge('consumer.worker.pending', () => this.#queued)
    }
  }

  // ------------------------------------------------------------------------------------------ state

  /** Messages pushed and not yet settled, dropped or abandoned (queued + in flight). */
  get pendingCount(): number {
    return this.#pending
  }

  /** Messages pushed and not started. */
  get queuedCount(): number {
    return this.#queued
  }

  /** Tasks running (a message or a batch each; in iterator mode, the message handed out). */
  get activeCount(): number {
    return this.#active
  }

  /** Why the manager stopped, or null while it runs. */
  get stopped(): StopReason<M> | null {
    return this.#stopped
  }

  get closed(): boolean {
    return this.#closing !== null
  }

  /** Messages of a partition pushed and not settled (queued + in flight). */
  partitionPending(tp: TopicPartition): number {
    const part = this.#part(tp.topic, tp.partition, false)
    if (part === undefined) return 0
    let n = part.queued
    for (const task of part.tasks) n += task.messages.length
    const inline = this.#inline
    if (inline !== null && inline.part === part && !inline.abandoned) n += inline.messages.length
    return n
  }

  // ------------------------------------------------------------------------------------------ input

  /**
   * Queues a message (in offset order per partition). Returns false when `maxPending` messages are pending:
   * stop pushing until 'drain'. The message is queued all the same, except when the manager has stopped or
   * its partition is being revoked: then it is dropped (false / the current backpressure state). Throws
   * ERR_WORKER_CLOSED after close().
   */
  push(message: M): boolean {
    if (this.#closing !== null) {
      throw new WorkerError('ERR_WORKER_CLOSED', 'push on a closed worker manager', {
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
      })
    }
    if (this.#stopped !== null) return false
    // Messages come in runs of one partition (a fetched batch): the last one's state is usually the one.
    let part = this.#lastPart
    if (part === null || part.partition !== message.partition || part.topic !== message.topic || part.removed) {
      part = this.#part(message.topic, message.partition, true)!
      this.#lastPart = part
    }
    if (part.revoke === null) {
      this.#tracker(part, true)?.start(message.offset)
      let lane = part.lane // 'partition', 'none', and null keys with 'key'
      if (this.ordering === 'key' && message.key !== null) {
        const key = message.key.toString('latin1')
        let l = part.lanes.get(key)
        if (l === undefined) {
          l = new Lane<M>(key)
          part.lanes.set(key, l)
        }
        lane = l
      }
      lane.queue.push(message)
      part.queued++
      this.#queued++
      this.#pending++
      this.#laneReady(part, lane)
      this.#scheduleSoon()
    }
    if (this.#pending >= this.maxPending) {
      this.#needDrain = true
      return false
    }
    return true
  }

  /** Starts no new work of a partition (its tasks in flight go on). */
  pause(tp: TopicPartition): void {
    const part = this.#part(tp.topic, tp.partition, true)!
    part.paused = true
  }

  resume(tp: TopicPartition): void {
    const part = this.#part(tp.topic, tp.partition, false)
    if (part === undefined || !part.paused) return
    part.paused = false
    this.#partReady(part)
    this.#schedule()
  }

  isPaused(tp: TopicPartition): boolean {
    return this.#part(tp.topic, tp.partition, false)?.paused === true
  }

  /**
   * The partition is going away (see StopMode). Resolves once its work is over; the manager then forgets the
   * partition (a later push starts afresh). Messages pushed meanwhile are dropped. A second call with a
   * stronger mode (drain < finish < abandon) escalates; the returned promise is the same.
   */
  revoke(tp: TopicPartition, mode: StopMode = 'finish'): Promise<void> {
    const part = this.#part(tp.topic, tp.partition, false)
    if (part === undefined) return Promise.resolve()
    return this.#revoke(part, mode)
  }

  /**
   * Stops taking messages (push throws from now on) and revokes every partition with `mode` (default
   * 'finish'); resolves when that is done. In iterator mode the iterator then ends. A second call with a
   * stronger mode escalates.
   */
  close(options: { mode?: StopMode } = {}): Promise<void> {
    const mode = options.mode ?? 'finish'
    if (this.#closing !== null) {
      if (STOP_RANK[mode] > STOP_RANK[this.#closeMode]) {
        this.#closeMode = mode
        for (const part of this.#allParts()) void this.#revoke(part, mode)
      }
      return this.#closing
    }
    this.#closeMode = mode
    const revokes: Promise<void>[] = []
    for (const part of this.#allParts()) revokes.push(this.#revoke(part, mode))
    this.#closing = Promise.all(revokes).then(() => {
      // Nothing is in flight any more: the deadline timer must not keep the process up.
      if (this.#deadlineTimer !== null && this.#watched.size === 0) {
        this.#clock.clearTimeout(this.#deadlineTimer)
        this.#deadlineTimer = null
      }
      this.#endIterator()
    })
    this.#endIterator()
    return this.#closing
  }

  /**
   * The messages as an async iterator, for a manager made without handler and batchHandler:
   *
   *   for await (const message of manager.messages()) await handle(message)
   *
   * One message is out at a time. It counts as finished when the loop asks for the next one (the iterator's
   * next()); leaving the loop (break, return, throw) does not finish it (the iterator cannot tell a break from
   * a throw): it is not reported and stays unfinished in the offset tracker, so it is delivered again after a
   * restart. Retries, timeouts and failure policies do not apply here: the loop body owns its errors. The
   * iterator ends once the manager is closed (after the message out is finished, and, with close 'drain',
   * after the queued ones) or stopped. Do not await close() inside the loop body: close waits for the
   * message out, which is finished by the loop's next turn.
   */
  messages(): AsyncIterableIterator<M> {
    if (this.#handler !== undefined || this.#batchHandler !== undefined) {
      throw new ConfigError('messages() is for a worker manager without handler or batchHandler')
    }
    if (this.#iterating) throw new ConfigError('messages() can be iterated only once')
    this.#iterating = true
    const iterator: AsyncIterableIterator<M> = {
      next: () => {
        try {
          return this.#iterNext()
        } catch (err) {
          return Promise.reject(err)
        }
      },
      return: () => {
        this.#iterReturn()
        return Promise.resolve({ value: undefined, done: true })
      },
      [Symbol.asyncIterator]: () => iterator,
    }
    return iterator
  }

  // ------------------------------------------------------------------------------------------ scheduling

  #part(topic: string, partition: number, create: boolean): PartitionState<M> | undefined {
    let partitions = this.#parts.get(topic)
    if (partitions === undefined) {
      if (!create) return undefined
      partitions = new Map()
      this.#parts.set(topic, partitions)
    }
    let part = partitions.get(partition)
    if (part === undefined && create) {
      part = new PartitionState<M>(topic, partition)
      partitions.set(partition, part)
    }
    return part
  }

  #allParts(): PartitionState<M>[] {
    const out: PartitionState<M>[] = []
    for (const partitions of this.#parts.values()) for (const part of partitions.values()) out.push(part)
    return out
  }

  #laneReady(part: PartitionState<M>, lane: Lane<M>): void {
    if (lane.inReady || lane.busy || lane.queue.size === 0) return
    lane.inReady = true
    part.ready.push(lane)
    this.#partReady(part)
  }

  #partReady(part: PartitionState<M>): void {
    if (part.inReady || part.paused || part.removed || part.ready.size === 0) return
    part.inReady = true
    this.#readyParts.push(part)
  }

  #canStart(): boolean {
    if (this.#stopped !== null) return false
    if (this.#iterating) return this.#iterWaiter !== null && this.#iterTask === null
    return this.#active < this.concurrency && (this.#handler !== undefined || this.#batchHandler !== undefined)
  }

  /**
   * Schedules from a microtask: messages pushed in one synchronous run (a fetch response) are all queued
   * before any task is formed, so batches fill up, and handlers never run inside push().
   */
  #scheduleSoon(): void {
    if (this.#scheduleQueued) return
    this.#scheduleQueued = true
    queueMicrotask(() => {
      this.#scheduleQueued = false
      this.#schedule()
    })
  }

  #scheduleLater(): void {
    if (this.#scheduleLaterQueued) return
    this.#scheduleLaterQueued = true
    setImmediate(() => {
      this.#scheduleLaterQueued = false
      this.#syncBudget = SYNC_BUDGET
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduling) return
    this.#scheduling = true
    try {
      while (this.#canStart()) {
        if (this.#syncBudget <= 0) {
          // Handlers that return at once are run in a loop, not through promises: yield to I/O (heartbeats,
          // fetches) now and then rather than run a whole reservoir in one go.
          this.#scheduleLater()
          break
        }
        const part = this.#readyParts.shift()
        if (part === undefined) break
        part.inReady = false
        if (part.paused || part.removed) continue
        const task = this.#take(part)
        this.#partReady(part)
        if (task === null) continue
        this.#active++
        if (this.#iterating) {
          part.tasks.add(task)
          this.#iterTask = task
          const waiter = this.#iterWaiter!
          this.#iterWaiter = null
          waiter({ value: task.messages[0], done: false })
        } else {
          this.#begin(task)
        }
      }
    } finally {
      this.#scheduling = false
    }
  }

  /** Takes the next task of a partition: one message, or a batch, from its ready lanes. */
  #take(part: PartitionState<M>): Task<M> | null {
    const max = this.#batchHandler !== undefined ? this.#batchSize : 1
    const sequential = this.ordering !== 'none'
    const task = this.#spare ?? newTask(part)
    const messages = task.messages
    const lanes = task.lanes
    let merged = false
    while (messages.length < max) {
      const lane = part.ready.shift()
      if (lane === undefined) break
      lane.inReady = false
      if (lane.queue.size === 0) continue
      if (lanes.length > 0) merged = true
      while (messages.length < max && lane.queue.size > 0) messages.push(lane.queue.shift()!)
      if (sequential) {
        lane.busy = true
        lanes.push(lane)
      } else this.#laneReady(part, lane)
      // Only key lanes are merged into one batch; the single lane of 'partition'/'none' is taken once.
      if (this.ordering !== 'key') break
    }
    if (messages.length === 0) {
      this.#spare = task
      return null
    }
    this.#spare = null
    task.part = part
    if (merged) messages.sort(compareOffsets)
    part.queued -= messages.length
    this.#queued -= messages.length
    return task
  }

  /**
   * Keeps a task that ended synchronously for the next #take: nothing refers to it any more (it is off its
   * partition, its attempt's context was let go, no timer or promise holds it). Batches are not kept.
   */
  #recycle(task: Task<M>): void {
    if (task.messages.length !== 1 || task.lanes.length > 1) return
    task.messages.pop()
    task.lanes.pop()
    task.attempt = 0
    task.context = null
    task.wake = null
    task.abandoned = false
    task.retired = false
    this.#spare = task
  }

  /** A task is over (settled or abandoned): free its lanes and its slot, then look for more work. */
  #release(task: Task<M>): void {
    const part = task.part
    this.#active--
    part.tasks.delete(task)
    for (const lane of task.lanes) {
      lane.busy = false
      if (lane.queue.size > 0) this.#laneReady(part, lane)
      else if (lane !== part.lane && !lane.inReady) part.lanes.delete(lane.key)
    }
    if (part.revoke !== null) this.#checkRevoked(part)
    this.#schedule()
    this.#checkDrain()
  }

  // ------------------------------------------------------------------------------------------ running

  /**
   * Runs a task's first attempt now. A handler that returns without a promise (or a batch handler) is done
   * with it here: the task settles and is released at once, with no promise, timer or microtask. Otherwise
   * (a promise, a throw) the task goes on in #run: the attempt's outcome, retries, the failure policies.
   */
  #begin(task: Task<M>): void {
    task.attempt = 1
    let run = 0
    for (;;) {
      // Until it settles the task is the inline one; it joins its partition's set only if it goes on (a
      // promise, a throw): a set add and delete per task cost more than a handler that returns at once.
      this.#inline = task
      const first = this.#attempt(task)
      if (first !== OK) {
        this.#inline = null
        if (!task.abandoned) task.part.tasks.add(task)
        this.#run(task, first).catch(rethrow)
        return
      }
      this.#syncBudget--
      if (!task.abandoned) this.#settle(task, 'finished', FIRST_ATTEMPT)
      this.#inline = null
      if (++run >= LANE_RUN || !this.#nextInLane(task)) break
    }
    this.#release(task)
    this.#recycle(task)
  }

  /**
   * After a single-message task ended synchronously, takes the next message of its lane into the same task, so
   * a run of messages (up to LANE_RUN) skips the round through the ready queues. Not when anything asks the
   * lane to stop: a pause, a revoke, a stop, the end of the synchronous budget; not for batches.
   */
  #nextInLane(task: Task<M>): boolean {
    if (this.#batchHandler !== undefined || task.abandoned || task.lanes.length !== 1) return false
    const part = task.part
    const lane = task.lanes[0]
    if (lane.queue.size === 0 || part.paused || part.revoke !== null || this.#stopped !== null) return false
    if (this.#syncBudget <= 0) return false
    task.messages[0] = lane.queue.shift()!
    part.queued--
    this.#queued--
    task.attempt = 1
    task.retired = false
    // The pending count fell: the source may push more (into this lane's queue, behind the run).
    this.#checkDrain()
    return true
  }

  async #run(task: Task<M>, first: AttemptResult): Promise<void> {
    try {
      const attempts = this.#maxRetries + 1
      let failure: AttemptFailure
      let next: AttemptResult | undefined = first
      for (;;) {
        const result = await (next ?? this.#attempt(task))
        next = undefined
        if (task.abandoned) return
        if (result === OK) {
          this.#settle(task, 'finished', task.attempt === 1 ? FIRST_ATTEMPT : { attempts: task.attempt })
          return
        }
        failure = result
        if (task.attempt >= attempts) break
        this.#m?.retries.inc()
        await this.#wait(task, this.#backoff(task.attempt))
        if (task.abandoned) return
        task.attempt++
      }
      await this.#exhausted(task, failure.error)
    } finally {
      this.#release(task)
    }
  }

  /**
   * One attempt: calls the handler. A handler that returns without a promise, or throws, gives its outcome
   * at once (no timer is armed: nothing could have stopped it). A promise is awaited, bounded by
   * taskTimeoutMs and ended early by an abandon (see #awaitAttempt).
   */
  #attempt(task: Task<M>): AttemptResult {
    const context = new AttemptContext(task.attempt)
    task.context = context
    const batch = this.#batchHandler !== undefined
    const metrics = this.#m
    const timed = metrics !== null && (batch || this.#lastAsync || this.#untimed >= SAMPLE_EVERY - 1)
    if (!timed) this.#untimed++
    let started = timed ? this.#clock.now() : 0
    let promise: Promise<void> | void
    try {
      if (batch) {
        metrics?.batchSize.update(task.messages.length)
        promise = this.#batchHandler!(task.messages.slice(), context)
      } else promise = this.#handler!(task.messages[0], context)
    } catch (err) {
      task.context = null
      if (timed) this.#timeAttempt(metrics, batch, started)
      return { error: err }
    }
    if (promise === undefined || promise === null || typeof (promise as Promise<void>).then !== 'function') {
      task.context = null
      this.#lastAsync = false
      if (timed) this.#timeAttempt(metrics, batch, started)
      return OK
    }
    // A promise is always timed (and the next attempts from their start): from here when the call was not
    // sampled, missing its synchronous part once.
    this.#lastAsync = true
    if (!timed) {
      this.#untimed--
      started = this.#clock.now()
    }
    return this.#awaitAttempt(task, promise, started)
  }

  /** Records an attempt's time, counting with it the attempts left untimed since the last one (SAMPLE_EVERY). */
  #timeAttempt(metrics: WorkerMetrics | null, batch: boolean, started: number): void {
    if (metrics === null) return
    const ms = this.#clock.now() - started
    if (batch) metrics.batchTime.update(ms)
    else {
      metrics.taskTime.update(ms, 1 + this.#untimed)
      this.#untimed = 0
    }
  }

  /**
   * Waits for a handler's promise, bounded by taskTimeoutMs and ended early by an abandon (#abortAttempt). The
   * attempt's state lives on the task, not in closures: one promise and two small callbacks per attempt.
   */
  #awaitAttempt(task: Task<M>, promise: PromiseLike<void>, started: number): Promise<AttemptFailure | null> {
    const attempt = task.attempt
    const result = new Promise<AttemptFailure | null>((resolve) => {
      task.attemptEnd = resolve
    })
    task.attemptStarted = started
    if (this.#taskTimeoutMs > 0) this.#watchDeadline(task, this.#m !== null ? started : this.#clock.now())
    // A resolution or rejection after the attempt ended (timeout, abandon) is ignored.
    promise.then(
      () => this.#endAttempt(task, attempt, OK),
      (error: unknown) => this.#endAttempt(task, attempt, { error }),
    )
    return result
  }

  #endAttempt(task: Task<M>, attempt: number, result: AttemptFailure | null): void {
    const resolve = task.attemptEnd
    if (resolve === null || task.attempt !== attempt) return
    task.attemptEnd = null
    this.#watched.delete(task)
    task.context = null
    if (this.#m !== null) this.#timeAttempt(this.#m, this.#batchHandler !== undefined, task.attemptStarted)
    resolve(result)
  }

  /** Ends the attempt awaiting its promise as failed with `reason`, aborting its signal; false if none is. */
  #abortAttempt(task: Task<M>, reason: unknown): boolean {
    if (task.attemptEnd === null) return false
    task.context?.abort(reason)
    this.#endAttempt(task, task.attempt, { error: reason })
    return true
  }

  /**
   * Attempts awaiting a promise are watched by one timer, armed for the earliest deadline, instead of a timer
   * each: at most `concurrency` attempts are watched, and deadlines come in start order. The timer is let go
   * when it finds nothing to watch, or on close. It does not keep the process up: a handler's promise that
   * waits on nothing alive (no socket, no timer) ends with the process, as any such promise does, unprocessed
   * and uncommitted.
   */
  #watchDeadline(task: Task<M>, now: number): void {
    task.deadline = now + this.#taskTimeoutMs
    this.#watched.add(task)
    if (this.#deadlineTimer === null) this.#armDeadline(task.deadline, now)
  }

  #armDeadline(at: number, now: number): void {
    const timer = this.#clock.setTimeout(() => this.#deadlinesDue(), Math.max(0, at - now))
    // It may outlive the work it watches (it is not cleared as each attempt ends): it must not keep the process up.
    ;(timer as { unref?: () => void }).unref?.()
    this.#deadlineTimer = timer
  }

  #deadlinesDue(): void {
    this.#deadlineTimer = null
    const now = this.#clock.now()
    let next = Number.POSITIVE_INFINITY
    for (const task of [...this.#watched]) {
      if (task.deadline > now) {
        if (task.deadline < next) next = task.deadline
        continue
      }
      this.#watched.delete(task)
      this.#m?.timeouts.inc()
      const first = task.messages[0]
      this.#abortAttempt(
        task,
        new WorkerError('ERR_TASK_TIMEOUT', `attempt ${task.attempt} timed out after ${this.#taskTimeoutMs} ms`, {
          retriable: true,
          topic: first.topic,
          partition: first.partition,
          offset: first.offset,
        }),
      )
    }
    if (next !== Number.POSITIVE_INFINITY) this.#armDeadline(next, now)
  }

  #wait(task: Task<M>, ms: number): Promise<void> {
    if (!(ms > 0)) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const clock = this.#clock
      const timer = clock.setTimeout(() => {
        task.wake = null
        resolve()
      }, ms)
      task.wake = () => {
        task.wake = null
        clock.clearTimeout(timer)
        resolve()
      }
    })
  }

  /** Every attempt failed: dead letter, policies, threshold; then report and maybe stop. */
  async #exhausted(task: Task<M>, error: unknown): Promise<void> {
    const messages = task.messages
    const first = messages[0]
    const attempts = task.attempt
    this.#m?.failures.mark(messages.length)
    const stats = this.#recordFailures(messages.length, first, error)
    let decision: Decision | null = null
    let deadLettered = false
    let deadLetterError: unknown
    if (this.#deadLetter !== undefined) {
      try {
        for (const message of messages) await this.#deadLetter(message, error, attempts)
        deadLettered = true
        decision = 'commit-and-continue'
        this.#m?.deadLettered.inc(messages.length)
      } catch (err) {
        deadLetterError = err
      }
      if (task.abandoned) return
    }
    let policyError: WorkerError | null = null
    if (decision === null) {
      const info: FailedAttemptInfo<M> = { attempts, messages }
      if (deadLetterError !== undefined) info.deadLetterError = deadLetterError
      const ask = this.#onFailedAttempt
      ;[decision, policyError] = this.#decide(
        ask === undefined ? undefined : () => ask(first, error, info),
        'onFailedAttempt',
        first,
      )
    }
    let source: StopReason<M>['source'] = 'failed-attempt'
    if (stats !== null) {
      const ask = this.#onFailure
      const [threshold, thresholdError] = this.#decide(
        ask === undefined ? undefined : () => ask(stats),
        'onFailure',
        first,
      )
      decision = combine(decision, threshold)
      if (isStop(threshold)) source = 'failure-threshold'
      if (thresholdError !== null) policyError = thresholdError
    }
    const outcome: SettledOutcome = isCommit(decision) ? 'finished' : 'not-committable'
    this.#settle(task, outcome, { attempts, error, decision, deadLettered })
    if (isStop(decision)) {
      const reason: StopReason<M> = { decision, source, message: first, messages, error, attempts }
      if (stats !== null) reason.stats = stats
      if (policyError !== null) reason.policyError = policyError
      this.#stop(reason)
    }
  }

  /**
   * Asks a policy (none: 'skip-commit-and-stop'). A throw or an answer that is not a Decision gives
   * 'skip-commit-and-stop' and an ERR_DECISION error (its cause: what was thrown) for the stop reason.
   */
  #decide(ask: (() => Decision) | undefined, name: string, message: M): [Decision, WorkerError | null] {
    if (ask === undefined) return ['skip-commit-and-stop', null]
    let answer: unknown
    let thrown: unknown
    let threw = false
    try {
      answer = ask()
    } catch (err) {
      threw = true
      thrown = err
    }
    if (!threw && typeof answer === 'string' && DECISIONS.has(answer)) return [answer as Decision, null]
    const details: ErrorDetails & { offset?: bigint } = {
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
    }
    if (threw) details.cause = thrown
    const what = threw ? 'threw' : `answered ${JSON.stringify(answer) ?? String(answer)}`
    return [
      'skip-commit-and-stop',
      new WorkerError('ERR_DECISION', `${name} ${what}: applying skip-commit-and-stop`, details),
    ]
  }

  /**
   * Counts failures in a sliding window; returns the stats when more than the threshold fall within it (at
   * most once per window: the count then starts over and a quiet period of one window begins). Memory grows
   * with the failures inside one window, not with the threshold.
   */
  #recordFailures(n: number, message: M, error: unknown): FailureStats<M> | null {
    if (this.#threshold === Number.POSITIVE_INFINITY) return null
    const now = this.#clock.now()
    const window = this.#failures
    window.push({ at: now, n })
    this.#failureSum += n
    for (let head = window.peek(); head !== undefined && now - head.at >= this.#windowMs; head = window.peek()) {
      this.#failureSum -= head.n
      window.shift()
    }
    if (now < this.#quietUntil || this.#failureSum <= this.#threshold) return null
    const failures = this.#failureSum
    window.clear()
    this.#failureSum = 0
    this.#quietUntil = now + this.#windowMs
    return { failures, threshold: this.#threshold, windowMs: this.#windowMs, message, error }
  }

  /** Reports the task's messages (offset order) and takes them off the pending count. */
  #settle(task: Task<M>, outcome: SettledOutcome, info: SettledInfo): void {
    if (task.retired) return
    task.retired = true
    const messages = task.messages
    this.#pending -= messages.length
    this.#m?.messages.mark(messages.length)
    // A task's messages are all of its partition.
    const tracker = this.#tracker(task.part, false)
    for (const message of messages) {
      if (tracker !== undefined) {
        if (outcome === 'finished') tracker.finish(message.offset)
        else tracker.hold(message.offset)
      }
      this.emit('settled', message, outcome, info)
    }
  }

  /** A partition's offset tracker (made when `create`), looked up again only after a tracker was deleted. */
  #tracker(part: PartitionState<M>, create: boolean): OffsetTracker | undefined {
    const offsets = this.#offsets
    if (offsets === undefined) return undefined
    if (part.tracker !== null && part.trackerAt === offsets.deletions) return part.tracker
    const tracker = create ? offsets.tracker(part.topic, part.partition) : offsets.get(part.topic, part.partition)
    part.tracker = tracker ?? null
    part.trackerAt = offsets.deletions
    return tracker
  }

  #stop(reason: StopReason<M>): void {
    if (this.#stopped !== null) return
    this.#stopped = reason
    for (const part of this.#allParts()) this.#dropQueued(part)
    this.emit('stop', reason)
    if (this.#iterating && this.#iterTask === null) this.#endIterator()
    this.#checkDrain()
  }

  #dropQueued(part: PartitionState<M>): void {
    if (part.queued === 0) return
    let dropped = 0
    for (const lane of part.ready.clear()) lane.inReady = false
    dropped += part.lane.queue.clear().length
    for (const lane of part.lanes.values()) {
      dropped += lane.queue.clear().length
      if (!lane.busy) part.lanes.delete(lane.key)
    }
    part.queued -= dropped
    this.#queued -= dropped
    this.#pending -= dropped
    if (part.revoke !== null) this.#checkRevoked(part)
  }

  #checkDrain(): void {
    if (this.#needDrain && this.#pending <= this.maxPending >>> 1) {
      this.#needDrain = false
      this.emit('drain')
    }
  }

  // ------------------------------------------------------------------------------------------ revoke

  #revoke(part: PartitionState<M>, mode: StopMode): Promise<void> {
    let revoke = part.revoke
    if (revoke === null) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => {
        resolve = r
      })
      revoke = { mode, promise, resolve }
      part.revoke = revoke
    } else if (STOP_RANK[mode] > STOP_RANK[revoke.mode]) revoke.mode = mode
    else mode = revoke.mode
    if (mode === 'drain') {
      if (part.paused) {
        part.paused = false
        this.#partReady(part)
      }
    } else this.#dropQueued(part)
    if (mode === 'abandon') {
      for (const task of [...part.tasks]) this.#abandon(task)
      if (this.#inline !== null && this.#inline.part === part) this.#abandon(this.#inline)
    }
    this.#checkRevoked(part)
    this.#schedule()
    this.#checkDrain()
    return revoke.promise
  }

  #abandon(task: Task<M>): void {
    if (task.abandoned) return
    task.abandoned = true
    if (!task.retired) {
      task.retired = true
      this.#pending -= task.messages.length
    }
    task.part.tasks.delete(task)
    const first = task.messages[0]
    const reason = new WorkerError('ERR_TASK_ABANDONED', `${first.topic}-${first.partition} was abandoned`, {
      topic: first.topic,
      partition: first.partition,
      offset: first.offset,
    })
    // An attempt awaiting its promise ends now; one abandoned from inside its synchronous handler call only
    // sees its signal aborted (and is not reported).
    if (!this.#abortAttempt(task, reason)) task.context?.abort(reason)
    task.wake?.()
  }

  #checkRevoked(part: PartitionState<M>): void {
    const revoke = part.revoke
    if (revoke === null || part.removed || part.queued > 0 || part.tasks.size > 0) return
    const inline = this.#inline
    if (inline !== null && inline.part === part && !inline.abandoned) return
    part.removed = true
    const partitions = this.#parts.get(part.topic)
    if (partitions !== undefined && partitions.get(part.partition) === part) {
      partitions.delete(part.partition)
      if (partitions.size === 0) this.#parts.delete(part.topic)
    }
    revoke.resolve()
  }

  // ------------------------------------------------------------------------------------------ iterator

  #iterNext(): Promise<IteratorResult<M>> {
    const current = this.#iterTask
    if (current !== null) {
      this.#iterTask = null
      if (!current.abandoned) this.#settle(current, 'finished', FIRST_ATTEMPT)
      this.#releaseIter(current)
    }
    if (this.#iterWaiter !== null) return Promise.reject(new ConfigError('messages(): one next() at a time'))
    if (this.#iterDone()) return Promise.resolve({ value: undefined, done: true })
    return new Promise<IteratorResult<M>>((resolve) => {
      this.#iterWaiter = resolve
      this.#schedule()
    })
  }

  #iterReturn(): void {
    const current = this.#iterTask
    if (current !== null) {
      // Not finished: the loop may have thrown. Not reported, left unfinished in the tracker.
      this.#iterTask = null
      if (!current.retired) {
        current.retired = true
        this.#pending -= current.messages.length
      }
      this.#releaseIter(current)
    }
    this.#endIterator()
  }

  #releaseIter(task: Task<M>): void {
    if (task.abandoned) {
      // Already off the partition; only the slot is left.
      this.#active--
      this.#schedule()
      this.#checkDrain()
      return
    }
    this.#release(task)
  }

  #iterDone(): boolean {
    if (this.#stopped !== null) return true
    return this.#closing !== null && this.#queued === 0 && this.#iterTask === null
  }

  #endIterator(): void {
    const waiter = this.#iterWaiter
    if (waiter === null || !this.#iterDone()) return
    this.#iterWaiter = null
    waiter({ value: undefined, done: true })
  }
}

function rethrow(err: unknown): void {
  process.nextTick(() => {
    throw err
  })
}
