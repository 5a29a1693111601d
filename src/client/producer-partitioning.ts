import { partitionForKey } from '../protocol/murmur2.js'

/** What a partitioner sees of a message (already serialized). */
export interface PartitionInput {
  topic: string
  key: Buffer | null
  value: Buffer | null
}

/** Chooses partitions for the producer. */
export interface MessagePartitioner {
  /** A partition in [0, partitionCount); `available` lists partitions that have a leader now. */
  partition(message: PartitionInput, partitionCount: number, available: readonly number[]): number
  /** The producer closed the batch it was filling for topic/partition (sticky partitioners move on). */
  onBatchClosed?(topic: string, partition: number): void
}

/** Interim default until the partitioners module lands: murmur2 for keys, sticky for null keys. */
class DefaultPartitioner implements MessagePartitioner {
  private readonly sticky = new Map<string, number>()

  partition(message: PartitionInput, count: number, available: readonly number[]): number {
    if (message.key !== null) return partitionForKey(message.key, count)
    let p = this.sticky.get(message.topic)
    if (p === undefined || p >= count) {
      const pool = available.length > 0 ? available : null
      p = pool ? pool[Math.floor(Math.random() * pool.length)] : Math.floor(Math.random() * count)
      this.sticky.set(message.topic, p)
    }
    return p
  }

  onBatchClosed(topic: string, partition: number): void {
    if (this.sticky.get(topic) === partition) this.sticky.delete(topic)
  }
}

export function resolvePartitioner(choice: MessagePartitioner | string): MessagePartitioner {
  if (typeof choice === 'object' && choice !== null) return choice
  return new DefaultPartitioner()
}
