// One destination producer and the messages it has not taken yet, in the order they were given: `produce()` is
// offered each message in turn; when it pushes back (its buffer is full, or this turn of the event loop has
// produced enough) the rest wait in a FIFO until its 'drain'. The producer keeps the order of what it took per
// partition (idempotence: sequence numbers, retries in order), so a lane hands a partition's messages to the
// destination in the order they came.

import type { ProduceError } from '../../client/errors.js'
import type { Producer, ProducerMessage } from '../../client/producer.js'

export type Delivered = (err: ProduceError | Error | null) => void

type Message = ProducerMessage<Buffer | null, Buffer | null>

interface Waiting {
  message: Message
  done: Delivered
}

export class ProduceLane {
  /** Messages given to the lane and not yet acknowledged or failed. */
  inFlight = 0
  readonly #producer: Producer<Buffer | null, Buffer | null>
  #queue: Waiting[] = []
  #head = 0
  #closed = false

  constructor(producer: Producer<Buffer | null, Buffer | null>) {
    this.#producer = producer
    producer.on('drain', () => this.#resume())
  }

  get producer(): Producer<Buffer | null, Buffer | null> {
    return this.#producer
  }

  /** Messages waiting for the producer to take them. */
  get queued(): number {
    return this.#queue.length - this.#head
  }

  /** Produce `message` after every message given before; `done` is called once, with its outcome. */
  send(message: Message, done: Delivered): void {
    this.inFlight++
    const settle: Delivered = (err) => {
      this.inFlight--
      done(err)
    }
    if (this.#closed) {
      settle(new Error('the mirror maker is stopping'))
      return
    }
    if (this.queued === 0 && this.#offer(message, settle)) return
    this.#queue.push({ message, done: settle })
  }

  /** Fail what the producer has not taken (stopping after a failure); what it took settles on its own. */
  close(reason: Error): void {
    this.#closed = true
    const rest = this.#queue.slice(this.#head)
    this.#queue = []
    this.#head = 0
    for (const w of rest) w.done(reason)
  }

  #offer(message: Message, done: Delivered): boolean {
    if (this.#producer.produce(message, done)) return true
    // Refused with nothing buffered: not backpressure but a message larger than the whole buffer. send() says so.
    if (this.#producer.bufferedBytes === 0) {
      this.#producer.send(message).then(
        () => done(null),
        (err: Error) => done(err),
      )
      return true
    }
    return false
  }

  #resume(): void {
    while (this.#head < this.#queue.length) {
      const w = this.#queue[this.#head]
      if (!this.#offer(w.message, w.done)) return
      this.#queue[this.#head++] = undefined as unknown as Waiting
    }
    this.#queue = []
    this.#head = 0
  }
}
