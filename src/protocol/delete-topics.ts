import type { Api } from './api.js'
import { EncodeError } from './errors.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// DeleteTopics (key 20), v1-6, flexible from v4. v0 was removed in Kafka 4.0.
// v5 adds a per-topic error message (and THROTTLING_QUOTA_EXCEEDED); v6 replaces the array of
// names with an array of {name, topicId} so topics can be deleted by id (the name is then null).

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

export interface DeleteTopicState {
  /** Null (the default) when deleting by topic id. */
  name?: string | null
  /** The zero UUID (the default) when deleting by name. */
  topicId?: string
}

export interface DeleteTopicsRequest {
  /**
   * v6+. When absent, `topicNames` are sent as topics with the zero id.
   */
  topics?: DeleteTopicState[]
  /**
   * v1-5. When absent, the names of `topics` are sent (each must have one: ids need v6).
   */
  topicNames?: string[]
  timeoutMs: number
}

export interface DeletableTopicResult {
  /** Nullable in v6+. */
  name: string | null
  /** v6+; the zero UUID before. */
  topicId: string
  errorCode: number
  /** v5+; null before. */
  errorMessage: string | null
}

export interface DeleteTopicsResponse {
  /** v1+ (every version we speak). */
  throttleTimeMs: number
  responses: DeletableTopicResult[]
}

export const DeleteTopics: Api<DeleteTopicsRequest, DeleteTopicsResponse> = {
  apiKey: 20,
  name: 'DeleteTopics',
  minVersion: 1,
  maxVersion: 6,
  flexibleFrom: 4,

  encode(w: Writer, request: DeleteTopicsRequest, version: number): void {
    const flexible = version >= 4
    if (version >= 6) {
      const topics = request.topics
      if (topics !== undefined) {
        w.arrayLength(topics.length, true)
        for (const t of topics) {
          w.nullableString(t.name ?? null, true)
          w.uuid(t.topicId ?? ZERO_UUID)
          w.emptyTaggedFields()
        }
      } else {
        const names = request.topicNames ?? []
        w.arrayLength(names.length, true)
        for (const name of names) {
          w.string(name, true)
          w.uuid(ZERO_UUID)
          w.emptyTaggedFields()
        }
      }
    } else {
      const names = request.topicNames
      if (names !== undefined) {
        w.arrayLength(names.length, flexible)
        for (const name of names) w.string(name, flexible)
      } else {
        const topics = request.topics ?? []
        w.arrayLength(topics.length, flexible)
        for (const t of topics) {
          if (t.name == null) throw new EncodeError(`DeleteTopics v${version} deletes by name only; topic ids need v6`)
          w.string(t.name, flexible)
        }
      }
    }
    w.int32(request.timeoutMs)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): DeleteTopicsResponse {
    const flexible = version >= 4
    const throttleTimeMs = r.int32()
    const n = r.arrayLength(flexible)
    const responses: DeletableTopicResult[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const name = version >= 6 ? r.nullableString(true) : r.string(flexible)
      const topicId = version >= 6 ? r.uuid() : ZERO_UUID
      const errorCode = r.int16()
      const errorMessage = version >= 5 ? r.nullableString(true) : null
      if (flexible) r.skipTaggedFields()
      responses[i] = { name, topicId, errorCode, errorMessage }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, responses }
  },
}
