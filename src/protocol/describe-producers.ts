import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// DescribeProducers (key 61), v0 only, flexible (KIP-664): the active idempotent/transactional
// producers of partitions, as the partition leader sees them.

export interface DescribeProducersTopicRequest {
  name: string
  partitionIndexes: number[]
}

export interface DescribeProducersRequest {
  topics: DescribeProducersTopicRequest[]
}

export interface ProducerState {
  producerId: bigint
  producerEpoch: number
  /** -1 when unknown. */
  lastSequence: number
  /** -1 when unknown. */
  lastTimestamp: bigint
  coordinatorEpoch: number
  /** -1 when the producer has no ongoing transaction. */
  currentTxnStartOffset: bigint
}

export interface DescribeProducersPartitionResponse {
  partitionIndex: number
  errorCode: number
  errorMessage: string | null
  activeProducers: ProducerState[]
}

export interface DescribeProducersTopicResponse {
  name: string
  partitions: DescribeProducersPartitionResponse[]
}

export interface DescribeProducersResponse {
  throttleTimeMs: number
  topics: DescribeProducersTopicResponse[]
}

export const DescribeProducers: Api<DescribeProducersRequest, DescribeProducersResponse> = {
  apiKey: 61,
  name: 'DescribeProducers',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,

  encode(w: Writer, request: DescribeProducersRequest, _version: number): void {
    w.arrayLength(request.topics.length, true)
    for (const topic of request.topics) {
      w.string(topic.name, true)
      w.arrayLength(topic.partitionIndexes.length, true)
      for (const p of topic.partitionIndexes) w.int32(p)
      w.emptyTaggedFields()
    }
    w.emptyTaggedFields()
  },

  decode(r: Reader, _version: number): DescribeProducersResponse {
    const throttleTimeMs = r.int32()
    const n = r.arrayLength(true)
    const topics: DescribeProducersTopicResponse[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const name = r.string(true)
      const m = r.arrayLength(true)
      const partitions: DescribeProducersPartitionResponse[] = new Array(m)
      for (let j = 0; j < m; j++) {
        const partitionIndex = r.int32()
        const errorCode = r.int16()
        const errorMessage = r.nullableString(true)
        const k = r.arrayLength(true)
        const activeProducers: ProducerState[] = new Array(k)
        for (let p = 0; p < k; p++) {
          const producerId = r.int64()
          const producerEpoch = r.int32()
          const lastSequence = r.int32()
          const lastTimestamp = r.int64()
          const coordinatorEpoch = r.int32()
          const currentTxnStartOffset = r.int64()
          r.skipTaggedFields()
          activeProducers[p] = {
            producerId,
            producerEpoch,
            lastSequence,
            lastTimestamp,
            coordinatorEpoch,
            currentTxnStartOffset,
          }
        }
        r.skipTaggedFields()
        partitions[j] = { partitionIndex, errorCode, errorMessage, activeProducers }
      }
      r.skipTaggedFields()
      topics[i] = { name, partitions }
    }
    r.skipTaggedFields()
    return { throttleTimeMs, topics }
  },
}
