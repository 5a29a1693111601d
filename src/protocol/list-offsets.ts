import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// ListOffsets (key 2), v1-10, flexible from v6. v0 (MaxNumOffsets, offset arrays) was removed in Kafka 4.0.
// v2 adds IsolationLevel and ThrottleTimeMs, v4 CurrentLeaderEpoch / LeaderEpoch, v10 TimeoutMs.
// v7-9 only add special timestamps (-3 max timestamp, -4 local log start, -5 last tiered offset).

export interface ListOffsetsPartition {
  partitionIndex: number
  /** v4+, default -1. */
  currentLeaderEpoch?: number
  /** A timestamp, or -1n latest, -2n earliest, -3n max timestamp (v7+), -4n (v8+), -5n (v9+). */
  timestamp: bigint
}

export interface ListOffsetsTopic {
  name: string
  partitions: ListOffsetsPartition[]
}

export interface ListOffsetsRequest {
  /** The broker ID of the requester, or -1 for a normal consumer. */
  replicaId: number
  /** v2+, default 0 (read uncommitted); 1 is read committed. */
  isolationLevel?: number
  topics: ListOffsetsTopic[]
  /** v10+, default 0: how long to wait for offsets read from remote (tiered) storage. */
  timeoutMs?: number
}

export interface ListOffsetsPartitionResponse {
  partitionIndex: number
  errorCode: number
  timestamp: bigint
  offset: bigint
  /** v4+; -1 when absent. */
  leaderEpoch: number
}

export interface ListOffsetsTopicResponse {
  name: string
  partitions: ListOffsetsPartitionResponse[]
}

export interface ListOffsetsResponse {
  /** v2+; 0 when absent. */
  throttleTimeMs: number
  topics: ListOffsetsTopicResponse[]
}

export const ListOffsets: Api<ListOffsetsRequest, ListOffsetsResponse> = {
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 10,
  flexibleFrom: 6,

  encode(w: Writer, request: ListOffsetsRequest, version: number): void {
    const flexible = version >= 6
    w.int32(request.replicaId)
    if (version >= 2) w.int8(request.isolationLevel ?? 0)
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
        if (version >= 4) w.int32(p.currentLeaderEpoch ?? -1)
        w.int64(p.timestamp)
        if (flexible) w.emptyTaggedFields()
      }
      if (flexible) w.emptyTaggedFields()
    }
    if (version >= 10) w.int32(request.timeoutMs ?? 0)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): ListOffsetsResponse {
    const flexible = version >= 6
    const throttleTimeMs = version >= 2 ? r.int32() : 0
    const topicCount = r.arrayLength(flexible)
    const topics: ListOffsetsTopicResponse[] = new Array(topicCount)
    for (let i = 0; i < topicCount; i++) {
      const name = r.string(flexible)
      const partitionCount = r.arrayLength(flexible)
      const partitions: ListOffsetsPartitionResponse[] = new Array(partitionCount)
      for (let j = 0; j < partitionCount; j++) {
        const partitionIndex = r.int32()
        const errorCode = r.int16()
        const timestamp = r.int64()
        const offset = r.int64()
        const leaderEpoch = version >= 4 ? r.int32() : -1
        if (flexible) r.skipTaggedFields()
        partitions[j] = { partitionIndex, errorCode, timestamp, offset, leaderEpoch }
      }
      if (flexible) r.skipTaggedFields()
      topics[i] = { name, partitions }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, topics }
  },
}
