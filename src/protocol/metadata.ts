import type { Api } from './api.js'
import { EncodeError } from './errors.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// Metadata (key 3), v0-13, flexible from v9.
// - v0: an empty topic array means "all topics"; v1+ uses a null array for that and an empty one means "none".
// - v10 adds topic ids and makes request topic names nullable; v12 makes response topic names nullable.
// - ClusterAuthorizedOperations lives in v8-10 only (both sides); v13 adds a top-level error code.

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'
/** Authorized-operations bitfield default: the broker did not report it. */
const NO_AUTHORIZED_OPERATIONS = -2147483648

export interface MetadataRequestTopic {
  /** v10+ (only honoured by brokers from v12); the zero UUID when absent. */
  topicId?: string
  /** Nullable v10+ (ask by topicId instead). */
  name: string | null
}

export interface MetadataRequest {
  /**
   * The topics to describe; null means all topics. In v0, which has no null array, null is sent
   * as the empty array that v0 reads as "all topics" (an empty array means "no topics" from v1).
   */
  topics: MetadataRequestTopic[] | null
  /** v4+, default true. */
  allowAutoTopicCreation?: boolean
  /** v8-10, default false. */
  includeClusterAuthorizedOperations?: boolean
  /** v8+, default false. */
  includeTopicAuthorizedOperations?: boolean
}

export interface MetadataResponseBroker {
  nodeId: number
  host: string
  port: number
  /** v1+; null when absent. */
  rack: string | null
}

export interface MetadataResponsePartition {
  errorCode: number
  partitionIndex: number
  leaderId: number
  /** v7+; -1 when absent. */
  leaderEpoch: number
  replicaNodes: number[]
  isrNodes: number[]
  /** v5+; [] when absent. */
  offlineReplicas: number[]
}

export interface MetadataResponseTopic {
  errorCode: number
  /** Nullable v12+ (null for unknown topics asked for by id). */
  name: string | null
  /** v10+; the zero UUID when absent. */
  topicId: string
  /** v1+; false when absent. */
  isInternal: boolean
  partitions: MetadataResponsePartition[]
  /** v8+; -2147483648 when absent. */
  topicAuthorizedOperations: number
}

export interface MetadataResponse {
  /** v3+; 0 when absent. */
  throttleTimeMs: number
  brokers: MetadataResponseBroker[]
  /** v2+; null when absent. */
  clusterId: string | null
  /** v1+; -1 when absent. */
  controllerId: number
  topics: MetadataResponseTopic[]
  /** v8-10; -2147483648 in other versions. */
  clusterAuthorizedOperations: number
  /** v13+; 0 when absent. */
  errorCode: number
}

function readInt32Array(r: Reader, flexible: boolean): number[] {
  const n = r.arrayLength(flexible)
  const out: number[] = new Array(n)
  for (let i = 0; i < n; i++) out[i] = r.int32()
  return out
}

export const Metadata: Api<MetadataRequest, MetadataResponse> = {
  apiKey: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 13,
  flexibleFrom: 9,

  encode(w: Writer, request: MetadataRequest, version: number): void {
    const flexible = version >= 9
    const topics = request.topics
    if (topics === null) {
      if (version === 0) w.int32(0)
      else w.nullableArrayLength(null, flexible)
    } else {
      w.arrayLength(topics.length, flexible)
      for (let i = 0; i < topics.length; i++) {
        const t = topics[i]
        if (version >= 10) w.uuid(t.topicId ?? ZERO_UUID)
        if (t.name === null) {
          if (version < 10) throw new EncodeError(`Metadata v${version} cannot ask for a topic without a name`)
          w.nullableString(null, flexible)
        } else {
          w.string(t.name, flexible)
        }
        if (flexible) w.emptyTaggedFields()
      }
    }
    if (version >= 4) w.boolean(request.allowAutoTopicCreation ?? true)
    if (version >= 8 && version <= 10) w.boolean(request.includeClusterAuthorizedOperations ?? false)
    if (version >= 8) w.boolean(request.includeTopicAuthorizedOperations ?? false)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): MetadataResponse {
    const flexible = version >= 9
    const throttleTimeMs = version >= 3 ? r.int32() : 0

    const brokerCount = r.arrayLength(flexible)
    const brokers: MetadataResponseBroker[] = new Array(brokerCount)
    for (let i = 0; i < brokerCount; i++) {
      const nodeId = r.int32()
      const host = r.string(flexible)
      const port = r.int32()
      const rack = version >= 1 ? r.nullableString(flexible) : null
      if (flexible) r.skipTaggedFields()
      brokers[i] = { nodeId, host, port, rack }
    }

    const clusterId = version >= 2 ? r.nullableString(flexible) : null
    const controllerId = version >= 1 ? r.int32() : -1

    const topicCount = r.arrayLength(flexible)
    const topics: MetadataResponseTopic[] = new Array(topicCount)
    for (let i = 0; i < topicCount; i++) {
      const errorCode = r.int16()
      const name = version >= 12 ? r.nullableString(flexible) : r.string(flexible)
      const topicId = version >= 10 ? r.uuid() : ZERO_UUID
      const isInternal = version >= 1 ? r.boolean() : false
      const partitionCount = r.arrayLength(flexible)
      const partitions: MetadataResponsePartition[] = new Array(partitionCount)
      for (let j = 0; j < partitionCount; j++) {
        const partitionErrorCode = r.int16()
        const partitionIndex = r.int32()
        const leaderId = r.int32()
        const leaderEpoch = version >= 7 ? r.int32() : -1
        const replicaNodes = readInt32Array(r, flexible)
        const isrNodes = readInt32Array(r, flexible)
        const offlineReplicas = version >= 5 ? readInt32Array(r, flexible) : []
        if (flexible) r.skipTaggedFields()
        partitions[j] = {
          errorCode: partitionErrorCode,
          partitionIndex,
          leaderId,
          leaderEpoch,
          replicaNodes,
          isrNodes,
          offlineReplicas,
        }
      }
      const topicAuthorizedOperations = version >= 8 ? r.int32() : NO_AUTHORIZED_OPERATIONS
      if (flexible) r.skipTaggedFields()
      topics[i] = { errorCode, name, topicId, isInternal, partitions, topicAuthorizedOperations }
    }

    const clusterAuthorizedOperations = version >= 8 && version <= 10 ? r.int32() : NO_AUTHORIZED_OPERATIONS
    const errorCode = version >= 13 ? r.int16() : 0
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, brokers, clusterId, controllerId, topics, clusterAuthorizedOperations, errorCode }
  },
}
