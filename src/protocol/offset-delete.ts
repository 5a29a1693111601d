import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// OffsetDelete (key 47), v0 only, never flexible (KIP-496): deletes a group's committed offsets
// for partitions the group no longer subscribes to.

export interface OffsetDeleteRequestPartition {
  partitionIndex: number
}

export interface OffsetDeleteRequestTopic {
  name: string
  partitions: OffsetDeleteRequestPartition[]
}

export interface OffsetDeleteRequest {
  groupId: string
  topics: OffsetDeleteRequestTopic[]
}

export interface OffsetDeleteResponsePartition {
  partitionIndex: number
  errorCode: number
}

export interface OffsetDeleteResponseTopic {
  name: string
  partitions: OffsetDeleteResponsePartition[]
}

export interface OffsetDeleteResponse {
  errorCode: number
  throttleTimeMs: number
  topics: OffsetDeleteResponseTopic[]
}

export const OffsetDelete: Api<OffsetDeleteRequest, OffsetDeleteResponse> = {
  apiKey: 47,
  name: 'OffsetDelete',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: Number.POSITIVE_INFINITY,

  encode(w: Writer, request: OffsetDeleteRequest, _version: number): void {
    w.string(request.groupId, false)
    w.arrayLength(request.topics.length, false)
    for (const topic of request.topics) {
      w.string(topic.name, false)
      w.arrayLength(topic.partitions.length, false)
      for (const p of topic.partitions) w.int32(p.partitionIndex)
    }
  },

  decode(r: Reader, _version: number): OffsetDeleteResponse {
    const errorCode = r.int16()
    const throttleTimeMs = r.int32()
    const n = r.arrayLength(false)
    const topics: OffsetDeleteResponseTopic[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const name = r.string(false)
      const m = r.arrayLength(false)
      const partitions: OffsetDeleteResponsePartition[] = new Array(m)
      for (let j = 0; j < m; j++) {
        const partitionIndex = r.int32()
        const partitionError = r.int16()
        partitions[j] = { partitionIndex, errorCode: partitionError }
      }
      topics[i] = { name, partitions }
    }
    return { errorCode, throttleTimeMs, topics }
  },
}
