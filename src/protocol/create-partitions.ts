import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// CreatePartitions (key 37), v0-3, flexible from v2. v1 is v0 (responses sent before throttling);
// v3 may answer THROTTLING_QUOTA_EXCEEDED.

export interface CreatePartitionsAssignment {
  /** The brokers of one new partition. */
  brokerIds: number[]
}

export interface CreatePartitionsTopic {
  name: string
  /** The new total partition count. */
  count: number
  /** One entry per new partition, or null to let the controller place them. */
  assignments: CreatePartitionsAssignment[] | null
}

export interface CreatePartitionsRequest {
  topics: CreatePartitionsTopic[]
  timeoutMs: number
  validateOnly: boolean
}

export interface CreatePartitionsTopicResult {
  name: string
  errorCode: number
  errorMessage: string | null
}

export interface CreatePartitionsResponse {
  throttleTimeMs: number
  results: CreatePartitionsTopicResult[]
}

export const CreatePartitions: Api<CreatePartitionsRequest, CreatePartitionsResponse> = {
  apiKey: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,

  encode(w: Writer, request: CreatePartitionsRequest, version: number): void {
    const flexible = version >= 2
    w.arrayLength(request.topics.length, flexible)
    for (const topic of request.topics) {
      w.string(topic.name, flexible)
      w.int32(topic.count)
      const assignments = topic.assignments
      if (assignments == null) w.nullableArrayLength(null, flexible)
      else {
        w.arrayLength(assignments.length, flexible)
        for (const a of assignments) {
          w.arrayLength(a.brokerIds.length, flexible)
          for (const id of a.brokerIds) w.int32(id)
          if (flexible) w.emptyTaggedFields()
        }
      }
      if (flexible) w.emptyTaggedFields()
    }
    w.int32(request.timeoutMs)
    w.boolean(request.validateOnly)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): CreatePartitionsResponse {
    const flexible = version >= 2
    const throttleTimeMs = r.int32()
    const n = r.arrayLength(flexible)
    const results: CreatePartitionsTopicResult[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const name = r.string(flexible)
      const errorCode = r.int16()
      const errorMessage = r.nullableString(flexible)
      if (flexible) r.skipTaggedFields()
      results[i] = { name, errorCode, errorMessage }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, results }
  },
}
