import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// OffsetForLeaderEpoch (key 23), v2-4, flexible from v4. v0-1 were removed in Kafka 4.0.
// v3 adds ReplicaId (default -2, a "debug" consumer; consumers send -1).

export interface OffsetForLeaderPartition {
  partition: number
  /** v2+ (every version we speak), default -1: fences requests carrying stale metadata. */
  currentLeaderEpoch?: number
  /** The epoch to look up an offset for. */
  leaderEpoch: number
}

export interface OffsetForLeaderTopic {
  topic: string
  partitions: OffsetForLeaderPartition[]
}

export interface OffsetForLeaderEpochRequest {
  /** v3+, default -2; -1 for a consumer, the broker id for a follower. */
  replicaId?: number
  topics: OffsetForLeaderTopic[]
}

export interface OffsetForLeaderEpochEndOffset {
  errorCode: number
  partition: number
  /** v1+ (every version we speak). */
  leaderEpoch: number
  endOffset: bigint
}

export interface OffsetForLeaderTopicResult {
  topic: string
  partitions: OffsetForLeaderEpochEndOffset[]
}

export interface OffsetForLeaderEpochResponse {
  /** v2+ (every version we speak). */
  throttleTimeMs: number
  topics: OffsetForLeaderTopicResult[]
}

export const OffsetForLeaderEpoch: Api<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse> = {
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  minVersion: 2,
  maxVersion: 4,
  flexibleFrom: 4,

  encode(w: Writer, request: OffsetForLeaderEpochRequest, version: number): void {
    const flexible = version >= 4
    if (version >= 3) w.int32(request.replicaId ?? -2)
    const topics = request.topics
    w.arrayLength(topics.length, flexible)
    for (let i = 0; i < topics.length; i++) {
      const topic = topics[i]
      w.string(topic.topic, flexible)
      const partitions = topic.partitions
      w.arrayLength(partitions.length, flexible)
      for (let j = 0; j < partitions.length; j++) {
        const p = partitions[j]
        w.int32(p.partition)
        w.int32(p.currentLeaderEpoch ?? -1)
        w.int32(p.leaderEpoch)
        if (flexible) w.emptyTaggedFields()
      }
      if (flexible) w.emptyTaggedFields()
    }
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): OffsetForLeaderEpochResponse {
    const flexible = version >= 4
    const throttleTimeMs = r.int32()
    const topicCount = r.arrayLength(flexible)
    const topics: OffsetForLeaderTopicResult[] = new Array(topicCount)
    for (let i = 0; i < topicCount; i++) {
      const topic = r.string(flexible)
      const partitionCount = r.arrayLength(flexible)
      const partitions: OffsetForLeaderEpochEndOffset[] = new Array(partitionCount)
      for (let j = 0; j < partitionCount; j++) {
        const errorCode = r.int16()
        const partition = r.int32()
        const leaderEpoch = r.int32()
        const endOffset = r.int64()
        if (flexible) r.skipTaggedFields()
        partitions[j] = { errorCode, partition, leaderEpoch, endOffset }
      }
      if (flexible) r.skipTaggedFields()
      topics[i] = { topic, partitions }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, topics }
  },
}
