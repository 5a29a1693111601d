import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// ConsumerGroupDescribe (key 69), for consumer-protocol groups (KIP-848). Every version is flexible;
// v1 adds MemberType to each member of the response (KIP-1099), the request is unchanged.

export interface ConsumerGroupDescribeRequest {
  groupIds: string[]
  /** Whether to return each group's authorized operations. Default false. */
  includeAuthorizedOperations?: boolean
}

export interface ConsumerGroupDescribeTopicPartitions {
  topicId: string
  topicName: string
  partitions: number[]
}

export interface ConsumerGroupDescribeAssignment {
  topicPartitions: ConsumerGroupDescribeTopicPartitions[]
}

export interface ConsumerGroupDescribeMember {
  memberId: string
  instanceId: string | null
  rackId: string | null
  memberEpoch: number
  clientId: string
  clientHost: string
  subscribedTopicNames: string[]
  subscribedTopicRegex: string | null
  /** The member's current assignment. */
  assignment: ConsumerGroupDescribeAssignment
  /** The assignment the member is reconciling towards. */
  targetAssignment: ConsumerGroupDescribeAssignment
  /** v1+; -1 unknown, 0 classic member, 1 consumer member. -1 before. */
  memberType: number
}

export interface ConsumerGroupDescribeGroup {
  errorCode: number
  errorMessage: string | null
  groupId: string
  /** The group state, or ''. */
  groupState: string
  groupEpoch: number
  assignmentEpoch: number
  /** The selected server-side assignor. */
  assignorName: string
  members: ConsumerGroupDescribeMember[]
  /** A bitfield of the operations this client may perform; -2147483648 when not requested. */
  authorizedOperations: number
}

export interface ConsumerGroupDescribeResponse {
  throttleTimeMs: number
  groups: ConsumerGroupDescribeGroup[]
}

function readStrings(r: Reader): string[] {
  const n = r.arrayLength(true)
  const out: string[] = new Array(n)
  for (let i = 0; i < n; i++) out[i] = r.string(true)
  return out
}

function readAssignment(r: Reader): ConsumerGroupDescribeAssignment {
  const n = r.arrayLength(true)
  const topicPartitions: ConsumerGroupDescribeTopicPartitions[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const topicId = r.uuid()
    const topicName = r.string(true)
    const m = r.arrayLength(true)
    const partitions: number[] = new Array(m)
    for (let j = 0; j < m; j++) partitions[j] = r.int32()
    r.skipTaggedFields()
    topicPartitions[i] = { topicId, topicName, partitions }
  }
  r.skipTaggedFields()
  return { topicPartitions }
}

export const ConsumerGroupDescribe: Api<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse> = {
  apiKey: 69,
  name: 'ConsumerGroupDescribe',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 0,

  encode(w: Writer, request: ConsumerGroupDescribeRequest, _version: number): void {
    const ids = request.groupIds
    w.arrayLength(ids.length, true)
    for (let i = 0; i < ids.length; i++) w.string(ids[i], true)
    w.boolean(request.includeAuthorizedOperations ?? false)
    w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): ConsumerGroupDescribeResponse {
    const throttleTimeMs = r.int32()
    const n = r.arrayLength(true)
    const groups: ConsumerGroupDescribeGroup[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const errorCode = r.int16()
      const errorMessage = r.nullableString(true)
      const groupId = r.string(true)
      const groupState = r.string(true)
      const groupEpoch = r.int32()
      const assignmentEpoch = r.int32()
      const assignorName = r.string(true)
      const m = r.arrayLength(true)
      const members: ConsumerGroupDescribeMember[] = new Array(m)
      for (let j = 0; j < m; j++) {
        const memberId = r.string(true)
        const instanceId = r.nullableString(true)
        const rackId = r.nullableString(true)
        const memberEpoch = r.int32()
        const clientId = r.string(true)
        const clientHost = r.string(true)
        const subscribedTopicNames = readStrings(r)
        const subscribedTopicRegex = r.nullableString(true)
        const assignment = readAssignment(r)
        const targetAssignment = readAssignment(r)
        const memberType = version >= 1 ? r.int8() : -1
        r.skipTaggedFields()
        members[j] = {
          memberId,
          instanceId,
          rackId,
          memberEpoch,
          clientId,
          clientHost,
          subscribedTopicNames,
          subscribedTopicRegex,
          assignment,
          targetAssignment,
          memberType,
        }
      }
      const authorizedOperations = r.int32()
      r.skipTaggedFields()
      groups[i] = {
        errorCode,
        errorMessage,
        groupId,
        groupState,
        groupEpoch,
        assignmentEpoch,
        assignorName,
        members,
        authorizedOperations,
      }
    }
    r.skipTaggedFields()
    return { throttleTimeMs, groups }
  },
}
