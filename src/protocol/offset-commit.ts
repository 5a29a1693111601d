import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// OffsetCommit (key 8). Kafka 4 speaks v2-10: v2-4 carry RetentionTimeMs, v3 adds ThrottleTimeMs to
// the response, v5 drops RetentionTimeMs, v6 adds CommittedLeaderEpoch, v7 GroupInstanceId, v8 is
// the first flexible version, v9 may be used with the consumer protocol (KIP-848: the generation
// field then carries the member epoch), v10 names topics by TopicId instead of Name.

export interface OffsetCommitRequestPartition {
  partitionIndex: number
  /** The next offset to consume (Kafka's committed-offset convention). */
  committedOffset: bigint
  /** v6+; the leader epoch of the last consumed record. Default -1. */
  committedLeaderEpoch?: number
  /** Any metadata the client wants to keep with the offset. */
  committedMetadata: string | null
}

export interface OffsetCommitRequestTopic {
  /** v2-9; the topic name. Default ''. */
  name?: string
  /** v10+; the topic id. Default the zero UUID. */
  topicId?: string
  partitions: OffsetCommitRequestPartition[]
}

export interface OffsetCommitRequest {
  groupId: string
  /** The generation (classic protocol) or the member epoch (consumer protocol). Default -1 (no group membership). */
  generationIdOrMemberEpoch?: number
  /** The member id assigned by the coordinator; '' when committing outside a group generation. */
  memberId: string
  /** v7+; the static member id (group.instance.id). Default null. */
  groupInstanceId?: string | null
  /** v2-4; how long the broker keeps the offsets, -1 for the broker's default. Default -1. */
  retentionTimeMs?: bigint
  topics: OffsetCommitRequestTopic[]
}

export interface OffsetCommitResponsePartition {
  partitionIndex: number
  errorCode: number
}

export interface OffsetCommitResponseTopic {
  /** v2-9; '' from v10. */
  name: string
  /** v10+; the zero UUID before. */
  topicId: string
  partitions: OffsetCommitResponsePartition[]
}

export interface OffsetCommitResponse {
  /** v3+; 0 before. */
  throttleTimeMs: number
  topics: OffsetCommitResponseTopic[]
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

export const OffsetCommit: Api<OffsetCommitRequest, OffsetCommitResponse> = {
  apiKey: 8,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 10,
  flexibleFrom: 8,

  encode(w: Writer, request: OffsetCommitRequest, version: number): void {
    const flexible = version >= 8
    w.string(request.groupId, flexible)
    w.int32(request.generationIdOrMemberEpoch ?? -1)
    w.string(request.memberId, flexible)
    if (version >= 7) w.nullableString(request.groupInstanceId ?? null, flexible)
    if (version <= 4) w.int64(request.retentionTimeMs ?? -1n)
    const topics = request.topics
    w.arrayLength(topics.length, flexible)
    for (let i = 0; i < topics.length; i++) {
      const t = topics[i]
      if (version <= 9) w.string(t.name ?? '', flexible)
      else w.uuid(t.topicId)
      const partitions = t.partitions
      w.arrayLength(partitions.length, flexible)
      for (let j = 0; j < partitions.length; j++) {
        const p = partitions[j]
        w.int32(p.partitionIndex)
        w.int64(p.committedOffset)
        if (version >= 6) w.int32(p.committedLeaderEpoch ?? -1)
        w.nullableString(p.committedMetadata, flexible)
        if (flexible) w.emptyTaggedFields()
      }
      if (flexible) w.emptyTaggedFields()
    }
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): OffsetCommitResponse {
    const flexible = version >= 8
    const throttleTimeMs = version >= 3 ? r.int32() : 0
    const n = r.arrayLength(flexible)
    const topics: OffsetCommitResponseTopic[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const name = version <= 9 ? r.string(flexible) : ''
      const topicId = version >= 10 ? r.uuid() : ZERO_UUID
      const m = r.arrayLength(flexible)
      const partitions: OffsetCommitResponsePartition[] = new Array(m)
      for (let j = 0; j < m; j++) {
        const partitionIndex = r.int32()
        const errorCode = r.int16()
        if (flexible) r.skipTaggedFields()
        partitions[j] = { partitionIndex, errorCode }
      }
      if (flexible) r.skipTaggedFields()
      topics[i] = { name, topicId, partitions }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, topics }
  },
}
