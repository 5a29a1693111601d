import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// DescribeGroups (key 15), for classic groups. v1 adds ThrottleTimeMs to the response, v3 adds
// IncludeAuthorizedOperations / AuthorizedOperations, v4 GroupInstanceId per member, v5 is the first
// flexible version, v6 adds ErrorMessage per group (and answers GROUP_ID_NOT_FOUND, KIP-1043).

export interface DescribeGroupsRequest {
  /** The groups to describe. */
  groups: string[]
  /** v3+; whether to return each group's authorized operations. Default false. */
  includeAuthorizedOperations?: boolean
}

export interface DescribeGroupsMember {
  memberId: string
  /** v4+; null before. */
  groupInstanceId: string | null
  /** The client id of the member's latest JoinGroup. */
  clientId: string
  clientHost: string
  /** The member's metadata for the protocol in use (Stable groups only), opaque here. */
  memberMetadata: Buffer
  /** The member's current assignment (Stable groups only), opaque here. */
  memberAssignment: Buffer
}

export interface DescribeGroupsGroup {
  errorCode: number
  /** v6+; null before. */
  errorMessage: string | null
  groupId: string
  /** The group state, or ''. */
  groupState: string
  /** The protocol type, or ''. */
  protocolType: string
  /** The protocol in use (Stable groups only), or ''. */
  protocolData: string
  members: DescribeGroupsMember[]
  /** v3+; a bitfield of the operations this client may perform, -2147483648 when not requested or before v3. */
  authorizedOperations: number
}

export interface DescribeGroupsResponse {
  /** v1+; 0 before. */
  throttleTimeMs: number
  groups: DescribeGroupsGroup[]
}

export const DescribeGroups: Api<DescribeGroupsRequest, DescribeGroupsResponse> = {
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 5,

  encode(w: Writer, request: DescribeGroupsRequest, version: number): void {
    const flexible = version >= 5
    const groups = request.groups
    w.arrayLength(groups.length, flexible)
    for (let i = 0; i < groups.length; i++) w.string(groups[i], flexible)
    if (version >= 3) w.boolean(request.includeAuthorizedOperations ?? false)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): DescribeGroupsResponse {
    const flexible = version >= 5
    const throttleTimeMs = version >= 1 ? r.int32() : 0
    const n = r.arrayLength(flexible)
    const groups: DescribeGroupsGroup[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const errorCode = r.int16()
      const errorMessage = version >= 6 ? r.nullableString(flexible) : null
      const groupId = r.string(flexible)
      const groupState = r.string(flexible)
      const protocolType = r.string(flexible)
      const protocolData = r.string(flexible)
      const m = r.arrayLength(flexible)
      const members: DescribeGroupsMember[] = new Array(m)
      for (let j = 0; j < m; j++) {
        const memberId = r.string(flexible)
        const groupInstanceId = version >= 4 ? r.nullableString(flexible) : null
        const clientId = r.string(flexible)
        const clientHost = r.string(flexible)
        const memberMetadata = r.bytes(flexible)
        const memberAssignment = r.bytes(flexible)
        if (flexible) r.skipTaggedFields()
        members[j] = { memberId, groupInstanceId, clientId, clientHost, memberMetadata, memberAssignment }
      }
      const authorizedOperations = version >= 3 ? r.int32() : -2147483648
      if (flexible) r.skipTaggedFields()
      groups[i] = {
        errorCode,
        errorMessage,
        groupId,
        groupState,
        protocolType,
        protocolData,
        members,
        authorizedOperations,
      }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, groups }
  },
}
