import type { Api } from './api.js'
import { EncodeError } from './errors.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// OffsetFetch (key 9). Kafka 4 speaks v1-10. Two shapes, both kept as the schema has them:
// - v1-7: one group (GroupId + Topics); from v2 Topics may be null (every topic of the group) and the
//   response gains a top-level ErrorCode; v3 adds ThrottleTimeMs, v5 CommittedLeaderEpoch, v6 is the
//   first flexible version, v7 adds RequireStable.
// - v8+: a Groups array, each with its own Topics (nullable) and, in the response, its own ErrorCode;
//   v9 adds MemberId and MemberEpoch (KIP-848), v10 names topics by TopicId instead of Name.

export interface OffsetFetchRequestTopic {
  name: string
  partitionIndexes: number[]
}

export interface OffsetFetchRequestTopics {
  /** v8-9; the topic name. Default ''. */
  name?: string
  /** v10+; the topic id. Default the zero UUID. */
  topicId?: string
  partitionIndexes: number[]
}

export interface OffsetFetchRequestGroup {
  groupId: string
  /** v9+; the member id under the consumer protocol. Default null. */
  memberId?: string | null
  /** v9+; the member epoch under the consumer protocol. Default -1. */
  memberEpoch?: number
  /** The topics to fetch, or null for every topic of the group. */
  topics: OffsetFetchRequestTopics[] | null
}

export interface OffsetFetchRequest {
  /** v1-7; the group to fetch offsets for. Default ''. */
  groupId?: string
  /** v1-7; the topics to fetch, or (v2+) null for every topic of the group. Default []. */
  topics?: OffsetFetchRequestTopic[] | null
  /** v8+; the groups to fetch offsets for. Default []. */
  groups?: OffsetFetchRequestGroup[]
  /** v7+; whether the broker should answer UNSTABLE_OFFSET_COMMIT rather than return offsets of open transactions. Default false. */
  requireStable?: boolean
}

export interface OffsetFetchResponsePartition {
  partitionIndex: number
  committedOffset: bigint
  /** v5-7; -1 before v5. */
  committedLeaderEpoch: number
  metadata: string | null
  errorCode: number
}

export interface OffsetFetchResponseTopic {
  name: string
  partitions: OffsetFetchResponsePartition[]
}

export interface OffsetFetchResponsePartitions {
  partitionIndex: number
  committedOffset: bigint
  committedLeaderEpoch: number
  metadata: string | null
  errorCode: number
}

export interface OffsetFetchResponseTopics {
  /** v8-9; '' from v10. */
  name: string
  /** v10+; the zero UUID before. */
  topicId: string
  partitions: OffsetFetchResponsePartitions[]
}

export interface OffsetFetchResponseGroup {
  groupId: string
  topics: OffsetFetchResponseTopics[]
  /** The group-level error code. */
  errorCode: number
}

export interface OffsetFetchResponse {
  /** v3+; 0 before. */
  throttleTimeMs: number
  /** v1-7; [] from v8. */
  topics: OffsetFetchResponseTopic[]
  /** v2-7; the top-level error code. 0 otherwise. */
  errorCode: number
  /** v8+; [] before. */
  groups: OffsetFetchResponseGroup[]
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

function writeInt32Array(w: Writer, values: number[], flexible: boolean): void {
  w.arrayLength(values.length, flexible)
  for (let i = 0; i < values.length; i++) w.int32(values[i])
}

export const OffsetFetch: Api<OffsetFetchRequest, OffsetFetchResponse> = {
  apiKey: 9,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 10,
  flexibleFrom: 6,

  encode(w: Writer, request: OffsetFetchRequest, version: number): void {
    const flexible = version >= 6
    if (version <= 7) {
      w.string(request.groupId ?? '', flexible)
      const topics = request.topics === undefined ? [] : request.topics
      if (topics === null) {
        if (version < 2) throw new EncodeError('OffsetFetch v1 cannot fetch every topic (null topics): name them')
        w.nullableArrayLength(null, flexible)
      } else {
        w.arrayLength(topics.length, flexible)
        for (let i = 0; i < topics.length; i++) {
          const t = topics[i]
          w.string(t.name, flexible)
          writeInt32Array(w, t.partitionIndexes, flexible)
          if (flexible) w.emptyTaggedFields()
        }
      }
    } else {
      const groups = request.groups ?? []
      w.arrayLength(groups.length, flexible)
      for (let i = 0; i < groups.length; i++) {
        const g = groups[i]
        w.string(g.groupId, flexible)
        if (version >= 9) {
          w.nullableString(g.memberId ?? null, flexible)
          w.int32(g.memberEpoch ?? -1)
        }
        const topics = g.topics
        w.nullableArrayLength(topics === null ? null : topics.length, flexible)
        if (topics !== null) {
          for (let j = 0; j < topics.length; j++) {
            const t = topics[j]
            if (version <= 9) w.string(t.name ?? '', flexible)
            else w.uuid(t.topicId)
            writeInt32Array(w, t.partitionIndexes, flexible)
            if (flexible) w.emptyTaggedFields()
          }
        }
        if (flexible) w.emptyTaggedFields()
      }
    }
    if (version >= 7) w.boolean(request.requireStable ?? false)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): OffsetFetchResponse {
    const flexible = version >= 6
    const throttleTimeMs = version >= 3 ? r.int32() : 0
    let topics: OffsetFetchResponseTopic[] = []
    let errorCode = 0
    let groups: OffsetFetchResponseGroup[] = []
    if (version <= 7) {
      const n = r.arrayLength(flexible)
      topics = new Array(n)
      for (let i = 0; i < n; i++) {
        const name = r.string(flexible)
        const m = r.arrayLength(flexible)
        const partitions: OffsetFetchResponsePartition[] = new Array(m)
        for (let j = 0; j < m; j++) {
          const partitionIndex = r.int32()
          const committedOffset = r.int64()
          const committedLeaderEpoch = version >= 5 ? r.int32() : -1
          const metadata = r.nullableString(flexible)
          const errorCode = r.int16()
          if (flexible) r.skipTaggedFields()
          partitions[j] = { partitionIndex, committedOffset, committedLeaderEpoch, metadata, errorCode }
        }
        if (flexible) r.skipTaggedFields()
        topics[i] = { name, partitions }
      }
      if (version >= 2) errorCode = r.int16()
    } else {
      const n = r.arrayLength(flexible)
      groups = new Array(n)
      for (let i = 0; i < n; i++) {
        const groupId = r.string(flexible)
        const tn = r.arrayLength(flexible)
        const groupTopics: OffsetFetchResponseTopics[] = new Array(tn)
        for (let j = 0; j < tn; j++) {
          const name = version <= 9 ? r.string(flexible) : ''
          const topicId = version >= 10 ? r.uuid() : ZERO_UUID
          const m = r.arrayLength(flexible)
          const partitions: OffsetFetchResponsePartitions[] = new Array(m)
          for (let k = 0; k < m; k++) {
            const partitionIndex = r.int32()
            const committedOffset = r.int64()
            const committedLeaderEpoch = r.int32()
            const metadata = r.nullableString(flexible)
            const errorCode = r.int16()
            r.skipTaggedFields()
            partitions[k] = { partitionIndex, committedOffset, committedLeaderEpoch, metadata, errorCode }
          }
          r.skipTaggedFields()
          groupTopics[j] = { name, topicId, partitions }
        }
        const groupErrorCode = r.int16()
        r.skipTaggedFields()
        groups[i] = { groupId, topics: groupTopics, errorCode: groupErrorCode }
      }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, topics, errorCode, groups }
  },
}
