import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// CreateTopics (key 19), v2-7, flexible from v5. v0-1 were removed in Kafka 4.0.
// v4 lets numPartitions/replicationFactor be -1 without assignments (KIP-464); v5 returns the
// topic's configs (KIP-525); v6 may answer THROTTLING_QUOTA_EXCEEDED; v7 returns the topic id.

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

export interface CreatableReplicaAssignment {
  partitionIndex: number
  /** The brokers to place the partition on. */
  brokerIds: number[]
}

export interface CreatableTopicConfig {
  name: string
  value: string | null
}

export interface CreatableTopic {
  name: string
  /** -1 with manual assignments, or (v4+) to use the broker's default. */
  numPartitions: number
  /** -1 with manual assignments, or (v4+) to use the broker's default. */
  replicationFactor: number
  /** Manual partition assignment; empty (the default) for automatic assignment. */
  assignments?: CreatableReplicaAssignment[]
  /** Custom topic configs; empty by default. */
  configs?: CreatableTopicConfig[]
}

export interface CreateTopicsRequest {
  topics: CreatableTopic[]
  /** Default 60000. */
  timeoutMs?: number
  /** v1+ (every version we speak); default false. */
  validateOnly?: boolean
}

export interface CreatableTopicConfigs {
  name: string
  value: string | null
  readOnly: boolean
  /** Default -1. */
  configSource: number
  isSensitive: boolean
}

export interface CreatableTopicResult {
  name: string
  /** v7+; the zero UUID before. */
  topicId: string
  errorCode: number
  errorMessage: string | null
  /** v5+, tag 0; 0 when absent. */
  topicConfigErrorCode: number
  /** v5+; -1 before. */
  numPartitions: number
  /** v5+; -1 before. */
  replicationFactor: number
  /** v5+ (nullable); [] before. */
  configs: CreatableTopicConfigs[] | null
}

export interface CreateTopicsResponse {
  /** v2+ (every version we speak). */
  throttleTimeMs: number
  topics: CreatableTopicResult[]
}

const EMPTY: never[] = []

// The element whose tagged fields are being read; decode is synchronous, so one slot suffices and
// no closure is allocated per topic.
let taggedTopic: CreatableTopicResult
function onTopicTag(tag: number, r: Reader): boolean {
  if (tag === 0) {
    taggedTopic.topicConfigErrorCode = r.int16()
    return true
  }
  return false
}

export const CreateTopics: Api<CreateTopicsRequest, CreateTopicsResponse> = {
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 2,
  maxVersion: 7,
  flexibleFrom: 5,

  encode(w: Writer, request: CreateTopicsRequest, version: number): void {
    const flexible = version >= 5
    const topics = request.topics
    w.arrayLength(topics.length, flexible)
    for (const topic of topics) {
      w.string(topic.name, flexible)
      w.int32(topic.numPartitions)
      w.int16(topic.replicationFactor)
      const assignments = topic.assignments ?? EMPTY
      w.arrayLength(assignments.length, flexible)
      for (const a of assignments) {
        w.int32(a.partitionIndex)
        w.arrayLength(a.brokerIds.length, flexible)
        for (const id of a.brokerIds) w.int32(id)
        if (flexible) w.emptyTaggedFields()
      }
      const configs = topic.configs ?? EMPTY
      w.arrayLength(configs.length, flexible)
      for (const c of configs) {
        w.string(c.name, flexible)
        w.nullableString(c.value, flexible)
        if (flexible) w.emptyTaggedFields()
      }
      if (flexible) w.emptyTaggedFields()
    }
    w.int32(request.timeoutMs ?? 60000)
    w.boolean(request.validateOnly ?? false)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): CreateTopicsResponse {
    const flexible = version >= 5
    const throttleTimeMs = r.int32()
    const n = r.arrayLength(flexible)
    const topics: CreatableTopicResult[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const name = r.string(flexible)
      const topicId = version >= 7 ? r.uuid() : ZERO_UUID
      const errorCode = r.int16()
      const errorMessage = r.nullableString(flexible)
      let numPartitions = -1
      let replicationFactor = -1
      let configs: CreatableTopicConfigs[] | null = []
      if (version >= 5) {
        numPartitions = r.int32()
        replicationFactor = r.int16()
        const m = r.nullableArrayLength(true)
        if (m < 0) configs = null
        else {
          configs = new Array(m)
          for (let j = 0; j < m; j++) {
            const cname = r.string(true)
            const value = r.nullableString(true)
            const readOnly = r.boolean()
            const configSource = r.int8()
            const isSensitive = r.boolean()
            r.skipTaggedFields()
            configs[j] = { name: cname, value, readOnly, configSource, isSensitive }
          }
        }
      }
      const topic: CreatableTopicResult = {
        name,
        topicId,
        errorCode,
        errorMessage,
        topicConfigErrorCode: 0,
        numPartitions,
        replicationFactor,
        configs,
      }
      if (flexible) {
        taggedTopic = topic
        r.taggedFields(onTopicTag)
      }
      topics[i] = topic
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, topics }
  },
}
