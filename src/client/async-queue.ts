/**
 * A single-consumer async queue: `push` from the producer side, `for await` on the other. Items
 * are handed to a waiting reader directly; `onTake` tells the owner an item left the queue (the
 * producer releases the item's buffer bytes then, so unread outcomes apply backpressure).
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = []
  private head = 0
  private waiter: ((result: IteratorResult<T>) => void) | null = null
  private ended = false

  constructor(private readonly onTake?: (item: T) => void) {}

  get size(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    if (this.ended) return
    const waiter = this.waiter
    if (waiter !== null) {
      this.waiter = null
      this.onTake?.(item)
      waiter({ value: item, done: false })
      return
    }
    this.items.push(item)
  }

  /** No more items: a reader gets the ones queued, then done. */
  end(): void {
    this.ended = true
    if (this.size === 0 && this.waiter !== null) {
      const waiter = this.waiter
      this.waiter = null
      waiter({ value: undefined, done: true })
    }
  }

  private take(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined as T
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head)
      this.head = 0
    }
    this.onTake?.(item)
    return item
  }

  next(): Promise<IteratorResult<T>> {
    if (this.size > 0) return Promise.resolve({ value: this.take() as T, done: false })
    if (this.ended) return Promise.resolve({ value: undefined, done: true })
    if (this.waiter !== null) return Promise.reject(new Error('AsyncQueue has a single reader'))
    return new Promise((resolve) => {
      this.waiter = resolve
    })
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => ({ value: undefined, done: true }),
    }
  }
}
