import type { EncodableRecords, RecordHeaderInput, RecordInput } from '../protocol/record-batch.js'

/** What a delivered message resolves to. */
export interface RecordMetadata {
  topic: string
  partition: number
  /** The message's offset; -1n when the broker did not say (acks=0, or a duplicate it had already written). */
  offset: bigint
  /** The message's timestamp (ms): ours for CreateTime topics, the broker's for LogAppendTime topics. */
  timestamp: number
}

/**
 * One accepted message, as it waits in a batch: it is the RecordInput the batch encoder reads
 * (one object per message, no copy) plus what is needed to report its outcome.
 */
export interface QueuedMessage<M = unknown> extends RecordInput {
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeaderInput[] | undefined
  timestamp: number
  /** The message as the user gave it, reported back on the successes/errors channels. */
  message: M
  /** Buffer bytes reserved for it. */
  size: number
  /** Called once with its outcome. */
  done: ((err: Error | null, meta: RecordMetadata | null) => void) | null
}

/** Messages for one partition sent (and retried) together as one record batch. */
export class Batch {
  readonly records: QueuedMessage[] = []
  bytes = 0
  /** A batch stops taking messages once it is full or has been sent. */
  closed = false
  attempts = 0
  /** Idempotence: first sequence number, assigned when first sent and kept across retries. */
  baseSequence = -1
  producerEpoch = -1
  /** Not before this time (retry backoff). */
  retryAt = 0
  /** An attempt ended without an answer: the broker may or may not have written it. */
  unknownOutcome = false
  /** An earlier batch of the partition failed, so the broker will answer this one OUT_OF_ORDER_SEQUENCE. */
  expectOutOfOrder = false
  /** The encoded (and compressed) form, kept across retries; rebuilt when the records change. */
  prepared: EncodableRecords | null = null
  /** The batch-level fields the encoder reads at write time (sequence and epoch may change between attempts). */
  readonly header = { producerId: -1n, producerEpoch: -1, baseSequence: -1 }

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
    readonly deadline: number,
  ) {}
}

/** Per-partition state of the accumulator and the idempotent sequence. */
export class PartitionState {
  /** Batches waiting to be sent, in order; retries are put back in sequence order. */
  readonly queue: Batch[] = []
  /** Batches sent and not yet answered, in sequence order. */
  readonly inflight: Batch[] = []
  nextSequence = 0

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** The batch still taking messages, if any. */
  get open(): Batch | null {
    const last = this.queue[this.queue.length - 1]
    return last !== undefined && !last.closed ? last : null
  }

  /** Put a batch back for another attempt, keeping batches with sequences in sequence order ahead of new ones. */
  requeue(batch: Batch): void {
    let i = 0
    while (i < this.queue.length) {
      const other = this.queue[i]
      if (other.baseSequence < 0 || (batch.baseSequence >= 0 && other.baseSequence > batch.baseSequence)) break
      i++
    }
    this.queue.splice(i, 0, batch)
  }

  removeInflight(batch: Batch): void {
    const i = this.inflight.indexOf(batch)
    if (i >= 0) this.inflight.splice(i, 1)
  }
}
