import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// DeleteRecords (key 21), v0-2, flexible from v2. v1 is v0 on the wire (quota behaviour only).

export interface DeleteRecordsPartition {
  partitionIndex: number
  /** Delete every record below this offset; -1n means up to the high watermark. */
  offset: bigint
}

export interface DeleteRecordsTopic {
  name: string
  partitions: DeleteRecordsPartition[]
}

export interface DeleteRecordsRequest {
  topics: DeleteRecordsTopic[]
  timeoutMs: number
}

export interface DeleteRecordsPartitionResult {
  partitionIndex: number
  lowWatermark: bigint
  errorCode: number
}

export interface DeleteRecordsTopicResult {
  name: string
  partitions: DeleteRecordsPartitionResult[]
}

export interface DeleteRecordsResponse {
  throttleTimeMs: number
  topics: DeleteRecordsTopicResult[]
}

export const DeleteRecords: Api<DeleteRecordsRequest, DeleteRecordsResponse> = {
  apiKey: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,

  encode(w: Writer, request: DeleteRecordsRequest, version: number): void {
    const flexible = version >= 2
    const topics = request.topics
    w.arrayLength(topics.length, flexible)
    for (let i = 0; i < topics.length; i++) {
      const topic = topics[i]
      w.string(topic.name, flexible)
      const partitions = topic.partitions
      w.arrayLength(partitions.length, flexible)
      for (let j = 0; j < partitions.length; j++) {
        const p = partitions[j]
        w.int32(p.partitionIndex)
        w.int64(p.offset)
        if (flexible) w.emptyTaggedFields()
      }
      if (flexible) w.emptyTaggedFields()
    }
    w.int32(request.timeoutMs)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): DeleteRecordsResponse {
    const flexible = version >= 2
    const throttleTimeMs = r.int32()
    const topicCount = r.arrayLength(flexible)
    const topics: DeleteRecordsTopicResult[] = new Array(topicCount)
    for (let i = 0; i < topicCount; i++) {
      const name = r.string(flexible)
      const partitionCount = r.arrayLength(flexible)
      const partitions: DeleteRecordsPartitionResult[] = new Array(partitionCount)
      for (let j = 0; j < partitionCount; j++) {
        const partitionIndex = r.int32()
        const lowWatermark = r.int64()
        const errorCode = r.int16()
        if (flexible) r.skipTaggedFields()
        partitions[j] = { partitionIndex, lowWatermark, errorCode }
      }
      if (flexible) r.skipTaggedFields()
      topics[i] = { name, partitions }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, topics }
  },
}
