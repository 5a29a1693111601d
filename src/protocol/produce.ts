import type { Api } from './api.js'
import { DecodeError, EncodeError } from './errors.js'
import { type NodeEndpoint, readNodeEndpoints } from './node-endpoints.js'
import type { Reader } from './reader.js'
import type { EncodableRecords } from './record-batch.js'
import type { Writer } from './writer.js'

// Produce (key 0), v3-13, flexible from v9. v0-2 were removed in Kafka 4.0.
// - v8 adds per-partition RecordErrors and ErrorMessage to the response.
// - v10 adds the tagged CurrentLeader (per partition, tag 0) and NodeEndpoints (top level, tag 0).
// - v13 replaces topic names with topic ids on both sides.

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

export interface ProducePartitionData {
  /** The partition index. */
  index: number
  /**
   * The record batches: bytes already encoded, or an EncodableRecords that writes itself straight
   * into the request buffer (it must write exactly `byteLength` bytes). Nullable.
   */
  records: Buffer | EncodableRecords | null
}

export interface ProduceTopicData {
  /** v0-12; '' when absent. */
  name?: string
  /** v13+; the zero UUID when absent. */
  topicId?: string
  partitionData: ProducePartitionData[]
}

export interface ProduceRequest {
  /** v3+, nullable, default null (not transactional). */
  transactionalId?: string | null
  /** 0 (no acknowledgment), 1 (leader only) or -1 (full ISR). */
  acks: number
  timeoutMs: number
  topicData: ProduceTopicData[]
}

export interface ProduceRecordError {
  batchIndex: number
  batchIndexErrorMessage: string | null
}

export interface ProduceLeaderIdAndEpoch {
  leaderId: number
  leaderEpoch: number
}

export interface ProducePartitionResponse {
  index: number
  errorCode: number
  baseOffset: bigint
  /** v2+; -1n when absent (and when the topic uses CreateTime). */
  logAppendTimeMs: bigint
  /** v5+; -1n when absent. */
  logStartOffset: bigint
  /** v8+; [] when absent. */
  recordErrors: ProduceRecordError[]
  /** v8+; null when absent. */
  errorMessage: string | null
  /**
   * v10+, tag 0; { leaderId: -1, leaderEpoch: -1 } when absent. That default is one shared frozen
   * object: compare its values, never its identity, and do not mutate it.
   */
  currentLeader: ProduceLeaderIdAndEpoch
}

export interface ProduceTopicResponse {
  /** v0-12; '' in v13+. */
  name: string
  /** v13+; the zero UUID before. */
  topicId: string
  partitionResponses: ProducePartitionResponse[]
}

export type ProduceNodeEndpoint = NodeEndpoint

export interface ProduceResponse {
  responses: ProduceTopicResponse[]
  /** v1+ */
  throttleTimeMs: number
  /** v10+, tag 0; [] when absent. */
  nodeEndpoints: ProduceNodeEndpoint[]
}

const NO_LEADER: ProduceLeaderIdAndEpoch = Object.freeze({ leaderId: -1, leaderEpoch: -1 })

function writeRecords(w: Writer, records: Buffer | EncodableRecords | null, flexible: boolean): void {
  if (records === null || records === undefined) {
    w.nullableBytes(null, flexible)
  } else if (records instanceof Uint8Array) {
    w.bytes(records, flexible)
  } else {
    const n = records.byteLength
    if (flexible) w.uvarint(n + 1)
    else w.int32(n)
    const start = w.offset
    records.writeTo(w)
    const written = w.offset - start
    if (written !== n) throw new EncodeError(`records declared ${n} bytes but wrote ${written}`)
  }
}

/** Read the tag of the next tagged field, which must be above the previous one (`last`). */
function readTag(r: Reader, last: number): number {
  const at = r.offset
  const tag = r.uvarint()
  if (tag <= last) throw new DecodeError(`tagged fields out of order at offset ${at}`, { at })
  return tag
}

export const Produce: Api<ProduceRequest, ProduceResponse> = {
  apiKey: 0,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 13,
  flexibleFrom: 9,

  encode(w: Writer, request: ProduceRequest, version: number): void {
    const flexible = version >= 9
    w.nullableString(request.transactionalId ?? null, flexible)
    w.int16(request.acks)
    w.int32(request.timeoutMs)
    const topics = request.topicData
    w.arrayLength(topics.length, flexible)
    for (let i = 0; i < topics.length; i++) {
      const topic = topics[i]
      if (version >= 13) w.uuid(topic.topicId ?? ZERO_UUID)
      else w.string(topic.name ?? '', flexible)
      const partitions = topic.partitionData
      w.arrayLength(partitions.length, flexible)
      for (let j = 0; j < partitions.length; j++) {
        const p = partitions[j]
        w.int32(p.index)
        writeRecords(w, p.records, flexible)
        if (flexible) w.emptyTaggedFields()
      }
      if (flexible) w.emptyTaggedFields()
    }
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): ProduceResponse {
    const flexible = version >= 9
    const topicCount = r.arrayLength(flexible)
    const responses: ProduceTopicResponse[] = new Array(topicCount)
    for (let i = 0; i < topicCount; i++) {
      let name = ''
      let topicId = ZERO_UUID
      if (version >= 13) topicId = r.uuid()
      else name = r.string(flexible)
      const partitionCount = r.arrayLength(flexible)
      const partitionResponses: ProducePartitionResponse[] = new Array(partitionCount)
      for (let j = 0; j < partitionCount; j++) {
        const index = r.int32()
        const errorCode = r.int16()
        const baseOffset = r.int64()
        const logAppendTimeMs = r.int64()
        const logStartOffset = version >= 5 ? r.int64() : -1n
        let recordErrors: ProduceRecordError[]
        let errorMessage: string | null = null
        if (version >= 8) {
          const errorCount = r.arrayLength(flexible)
          recordErrors = new Array(errorCount)
          for (let k = 0; k < errorCount; k++) {
            const batchIndex = r.int32()
            const batchIndexErrorMessage = r.nullableString(flexible)
            if (flexible) r.skipTaggedFields()
            recordErrors[k] = { batchIndex, batchIndexErrorMessage }
          }
          errorMessage = r.nullableString(flexible)
        } else {
          recordErrors = []
        }
        let currentLeader = NO_LEADER
        if (flexible) {
          // Inline tagged-field loop: no closure per partition.
          const count = r.uvarint()
          let last = -1
          for (let t = 0; t < count; t++) {
            const tag = readTag(r, last)
            last = tag
            const size = r.uvarint()
            r.need(size)
            const end = r.offset + size
            if (tag === 0 && version >= 10) {
              const saved = r.end
              r.end = end
              const leaderId = r.int32()
              const leaderEpoch = r.int32()
              r.skipTaggedFields()
              r.end = saved
              currentLeader = { leaderId, leaderEpoch }
            }
            r.offset = end
          }
        }
        partitionResponses[j] = {
          index,
          errorCode,
          baseOffset,
          logAppendTimeMs,
          logStartOffset,
          recordErrors,
          errorMessage,
          currentLeader,
        }
      }
      if (flexible) r.skipTaggedFields()
      responses[i] = { name, topicId, partitionResponses }
    }
    const throttleTimeMs = r.int32()
    const response: ProduceResponse = { responses, throttleTimeMs, nodeEndpoints: [] }
    if (flexible) {
      r.taggedFields((tag, t) => {
        if (tag !== 0 || version < 10) return false
        response.nodeEndpoints = readNodeEndpoints(t)
        return true
      })
    }
    return response
  },
}
