import type { Api } from './api.js'
import { DecodeError } from './errors.js'
import { type NodeEndpoint, readNodeEndpoints } from './node-endpoints.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// Fetch (key 1), v4-18, flexible from v12. v0-3 were removed in Kafka 4.0.
// Request: v5 LogStartOffset, v7 sessions and ForgottenTopicsData, v9 CurrentLeaderEpoch, v11 RackId,
// v12 LastFetchedEpoch and tagged ClusterId, v13 topic ids replace names, v15 ReplicaId moves into the
// tagged ReplicaState, v17 tagged ReplicaDirectoryId, v18 tagged HighWatermark (per partition).
// Response: v5 LogStartOffset, v7 ErrorCode/SessionId, v11 PreferredReadReplica, v12 tagged DivergingEpoch,
// CurrentLeader and SnapshotId (per partition), v13 topic ids, v16 tagged NodeEndpoints.
//
// The response's records are views into the frame: nothing is copied, and the frame stays alive as
// long as any of them is referenced.

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
const MAX_INT64 = 9223372036854775807n

export interface FetchReplicaState {
  /** Default -1 (a consumer). */
  replicaId: number
  /** Default -1n. */
  replicaEpoch: bigint
}

export interface FetchPartition {
  partition: number
  /** v9+, default -1. */
  currentLeaderEpoch?: number
  fetchOffset: bigint
  /** v12+, default -1. */
  lastFetchedEpoch?: number
  /** v5+, default -1n (only followers set it). */
  logStartOffset?: bigint
  partitionMaxBytes: number
  /** v17+, tag 0; sent when set and not the zero UUID. */
  replicaDirectoryId?: string
  /** v18+, tag 1; sent when set and not the default 9223372036854775807n ("not supported"). */
  highWatermark?: bigint
}

export interface FetchTopic {
  /** v0-12; '' when absent. */
  topic?: string
  /** v13+; the zero UUID when absent. */
  topicId?: string
  partitions: FetchPartition[]
}

export interface FetchForgottenTopic {
  /** v7-12; '' when absent. */
  topic?: string
  /** v13+; the zero UUID when absent. */
  topicId?: string
  partitions: number[]
}

export interface FetchRequest {
  /** v12+, tag 0, nullable; sent when set and not null. */
  clusterId?: string | null
  /** v0-14, default -1 (a consumer). */
  replicaId?: number
  /** v15+, tag 1; sent when set and not the default { replicaId: -1, replicaEpoch: -1n }. */
  replicaState?: FetchReplicaState
  maxWaitMs: number
  minBytes: number
  /** v3+, default 0x7fffffff. */
  maxBytes?: number
  /** v4+, default 0 (read uncommitted); 1 is read committed. */
  isolationLevel?: number
  /** v7+, default 0. */
  sessionId?: number
  /** v7+, default -1. */
  sessionEpoch?: number
  topics: FetchTopic[]
  /** v7+, default []. */
  forgottenTopicsData?: FetchForgottenTopic[]
  /** v11+, default ''. */
  rackId?: string
}

export interface FetchEpochEndOffset {
  epoch: number
  endOffset: bigint
}

export interface FetchLeaderIdAndEpoch {
  leaderId: number
  leaderEpoch: number
}

export interface FetchSnapshotId {
  endOffset: bigint
  epoch: number
}

export interface FetchAbortedTransaction {
  producerId: bigint
  firstOffset: bigint
}

export interface FetchPartitionData {
  partitionIndex: number
  errorCode: number
  highWatermark: bigint
  /** v4+ */
  lastStableOffset: bigint
  /** v5+; -1n when absent. */
  logStartOffset: bigint
  /**
   * v12+, tag 0; { epoch: -1, endOffset: -1n } when absent. Absent tagged structs are shared
   * frozen defaults: compare values, not identity, and do not mutate them.
   */
  divergingEpoch: FetchEpochEndOffset
  /** v12+, tag 1; { leaderId: -1, leaderEpoch: -1 } when absent (shared, frozen). */
  currentLeader: FetchLeaderIdAndEpoch
  /** v12+, tag 2; { endOffset: -1n, epoch: -1 } when absent (shared, frozen). */
  snapshotId: FetchSnapshotId
  /** v4+, nullable. */
  abortedTransactions: FetchAbortedTransaction[] | null
  /** v11+; -1 when absent. */
  preferredReadReplica: number
  /** The record batches as a view into the response frame (no copy), or null. */
  records: Buffer | null
}

export interface FetchTopicResponse {
  /** v0-12; '' in v13+. */
  topic: string
  /** v13+; the zero UUID before. */
  topicId: string
  partitions: FetchPartitionData[]
}

export type FetchNodeEndpoint = NodeEndpoint

export interface FetchResponse {
  /** v1+ */
  throttleTimeMs: number
  /** v7+; 0 when absent. */
  errorCode: number
  /** v7+; 0 when absent. */
  sessionId: number
  responses: FetchTopicResponse[]
  /** v16+, tag 0; [] when absent. */
  nodeEndpoints: FetchNodeEndpoint[]
}

const NO_DIVERGING_EPOCH: FetchEpochEndOffset = Object.freeze({ epoch: -1, endOffset: -1n })
const NO_LEADER: FetchLeaderIdAndEpoch = Object.freeze({ leaderId: -1, leaderEpoch: -1 })
const NO_SNAPSHOT: FetchSnapshotId = Object.freeze({ endOffset: -1n, epoch: -1 })

/** Bytes of an unsigned varint. */
function uvarintSize(v: number): number {
  let n = 1
  while (v > 0x7f) {
    v >>>= 7
    n++
  }
  return n
}

function encodeTopLevelTags(w: Writer, request: FetchRequest, version: number): void {
  const clusterId = request.clusterId
  const hasClusterId = clusterId != null
  const state = request.replicaState
  const hasState = version >= 15 && state !== undefined && (state.replicaId !== -1 || state.replicaEpoch !== -1n)
  w.uvarint((hasClusterId ? 1 : 0) + (hasState ? 1 : 0))
  if (hasClusterId) {
    const n = Buffer.byteLength(clusterId, 'utf8')
    w.uvarint(0)
    w.uvarint(uvarintSize(n + 1) + n)
    w.string(clusterId, true)
  }
  if (hasState) {
    w.uvarint(1)
    w.uvarint(4 + 8 + 1)
    w.int32(state.replicaId)
    w.int64(state.replicaEpoch)
    w.emptyTaggedFields()
  }
}

export const Fetch: Api<FetchRequest, FetchResponse> = {
  apiKey: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 18,
  flexibleFrom: 12,

  encode(w: Writer, request: FetchRequest, version: number): void {
    const flexible = version >= 12
    if (version <= 14) w.int32(request.replicaId ?? -1)
    w.int32(request.maxWaitMs)
    w.int32(request.minBytes)
    w.int32(request.maxBytes ?? 0x7fffffff)
    w.int8(request.isolationLevel ?? 0)
    if (version >= 7) {
      w.int32(request.sessionId ?? 0)
      w.int32(request.sessionEpoch ?? -1)
    }
    const topics = request.topics
    w.arrayLength(topics.length, flexible)
    for (let i = 0; i < topics.length; i++) {
      const topic = topics[i]
      if (version >= 13) w.uuid(topic.topicId ?? ZERO_UUID)
      else w.string(topic.topic ?? '', flexible)
      const partitions = topic.partitions
      w.arrayLength(partitions.length, flexible)
      for (let j = 0; j < partitions.length; j++) {
        const p = partitions[j]
        w.int32(p.partition)
        if (version >= 9) w.int32(p.currentLeaderEpoch ?? -1)
        w.int64(p.fetchOffset)
        if (version >= 12) w.int32(p.lastFetchedEpoch ?? -1)
        if (version >= 5) w.int64(p.logStartOffset ?? -1n)
        w.int32(p.partitionMaxBytes)
        if (flexible) {
          const dir = p.replicaDirectoryId
          const hasDir = version >= 17 && dir !== undefined && dir !== ZERO_UUID
          const hw = p.highWatermark
          const hasHw = version >= 18 && hw !== undefined && hw !== MAX_INT64
          if (!hasDir && !hasHw) {
            w.emptyTaggedFields()
          } else {
            w.uvarint((hasDir ? 1 : 0) + (hasHw ? 1 : 0))
            if (hasDir) {
              w.uvarint(0)
              w.uvarint(16)
              w.uuid(dir)
            }
            if (hasHw) {
              w.uvarint(1)
              w.uvarint(8)
              w.int64(hw)
            }
          }
        }
      }
      if (flexible) w.emptyTaggedFields()
    }
    if (version >= 7) {
      const forgotten = request.forgottenTopicsData ?? []
      w.arrayLength(forgotten.length, flexible)
      for (let i = 0; i < forgotten.length; i++) {
        const f = forgotten[i]
        if (version >= 13) w.uuid(f.topicId ?? ZERO_UUID)
        else w.string(f.topic ?? '', flexible)
        const parts = f.partitions
        w.arrayLength(parts.length, flexible)
        for (let j = 0; j < parts.length; j++) w.int32(parts[j])
        if (flexible) w.emptyTaggedFields()
      }
    }
    if (version >= 11) w.string(request.rackId ?? '', flexible)
    if (flexible) encodeTopLevelTags(w, request, version)
  },

  decode(r: Reader, version: number): FetchResponse {
    const flexible = version >= 12
    const throttleTimeMs = r.int32()
    let errorCode = 0
    let sessionId = 0
    if (version >= 7) {
      errorCode = r.int16()
      sessionId = r.int32()
    }
    const topicCount = r.arrayLength(flexible)
    const responses: FetchTopicResponse[] = new Array(topicCount)
    for (let i = 0; i < topicCount; i++) {
      let topic = ''
      let topicId = ZERO_UUID
      if (version >= 13) topicId = r.uuid()
      else topic = r.string(flexible)
      const partitionCount = r.arrayLength(flexible)
      const partitions: FetchPartitionData[] = new Array(partitionCount)
      for (let j = 0; j < partitionCount; j++) {
        const partitionIndex = r.int32()
        const partitionErrorCode = r.int16()
        const highWatermark = r.int64()
        const lastStableOffset = r.int64()
        const logStartOffset = version >= 5 ? r.int64() : -1n
        let abortedTransactions: FetchAbortedTransaction[] | null = null
        const abortedCount = r.nullableArrayLength(flexible)
        if (abortedCount >= 0) {
          abortedTransactions = new Array(abortedCount)
          for (let k = 0; k < abortedCount; k++) {
            const producerId = r.int64()
            const firstOffset = r.int64()
            if (flexible) r.skipTaggedFields()
            abortedTransactions[k] = { producerId, firstOffset }
          }
        }
        const preferredReadReplica = version >= 11 ? r.int32() : -1
        const records = r.nullableBytes(flexible)
        let divergingEpoch = NO_DIVERGING_EPOCH
        let currentLeader = NO_LEADER
        let snapshotId = NO_SNAPSHOT
        if (flexible) {
          // Inline tagged-field loop: no closure per partition. Each tagged struct is read within
          // its declared size and ends with its own (skipped) tagged-field section.
          const count = r.uvarint()
          let last = -1
          for (let t = 0; t < count; t++) {
            const at = r.offset
            const tag = r.uvarint()
            if (tag <= last) throw new DecodeError(`tagged fields out of order at offset ${at}`, { at })
            last = tag
            const size = r.uvarint()
            r.need(size)
            const end = r.offset + size
            const saved = r.end
            r.end = end
            if (tag === 0) {
              const epoch = r.int32()
              const endOffset = r.int64()
              r.skipTaggedFields()
              divergingEpoch = { epoch, endOffset }
            } else if (tag === 1) {
              const leaderId = r.int32()
              const leaderEpoch = r.int32()
              r.skipTaggedFields()
              currentLeader = { leaderId, leaderEpoch }
            } else if (tag === 2) {
              const endOffset = r.int64()
              const epoch = r.int32()
              r.skipTaggedFields()
              snapshotId = { endOffset, epoch }
            }
            r.end = saved
            r.offset = end
          }
        }
        partitions[j] = {
          partitionIndex,
          errorCode: partitionErrorCode,
          highWatermark,
          lastStableOffset,
          logStartOffset,
          divergingEpoch,
          currentLeader,
          snapshotId,
          abortedTransactions,
          preferredReadReplica,
          records,
        }
      }
      if (flexible) r.skipTaggedFields()
      responses[i] = { topic, topicId, partitions }
    }
    const response: FetchResponse = { throttleTimeMs, errorCode, sessionId, responses, nodeEndpoints: [] }
    if (flexible) {
      r.taggedFields((tag, t) => {
        if (tag !== 0 || version < 16) return false
        response.nodeEndpoints = readNodeEndpoints(t)
        return true
      })
    }
    return response
  },
}
