import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// LeaveGroup (key 13). v0-2 name one leaving member by MemberId; v3 replaces it with a Members
// array of identities (member id + group instance id), answered member by member; v1 adds
// ThrottleTimeMs to the response, v4 is the first flexible version, v5 adds a Reason per member.

export interface LeaveGroupMemberIdentity {
  /** The member id to remove; '' to remove a static member by its group instance id alone. */
  memberId: string
  /** The group instance id to remove. Default null. */
  groupInstanceId?: string | null
  /** v5+; why the member leaves. Default null. */
  reason?: string | null
}

export interface LeaveGroupRequest {
  groupId: string
  /** v0-2; the member leaving. Default ''. */
  memberId?: string
  /** v3+; the members leaving. Default []. */
  members?: LeaveGroupMemberIdentity[]
}

export interface LeaveGroupMemberResponse {
  memberId: string
  groupInstanceId: string | null
  errorCode: number
}

export interface LeaveGroupResponse {
  /** v1+; 0 before. */
  throttleTimeMs: number
  errorCode: number
  /** v3+; [] before. */
  members: LeaveGroupMemberResponse[]
}

export const LeaveGroup: Api<LeaveGroupRequest, LeaveGroupResponse> = {
  apiKey: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,

  encode(w: Writer, request: LeaveGroupRequest, version: number): void {
    const flexible = version >= 4
    w.string(request.groupId, flexible)
    if (version <= 2) {
      w.string(request.memberId ?? '', flexible)
    } else {
      const members = request.members ?? []
      w.arrayLength(members.length, flexible)
      for (let i = 0; i < members.length; i++) {
        const m = members[i]
        w.string(m.memberId, flexible)
        w.nullableString(m.groupInstanceId ?? null, flexible)
        if (version >= 5) w.nullableString(m.reason ?? null, flexible)
        if (flexible) w.emptyTaggedFields()
      }
    }
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): LeaveGroupResponse {
    const flexible = version >= 4
    const throttleTimeMs = version >= 1 ? r.int32() : 0
    const errorCode = r.int16()
    let members: LeaveGroupMemberResponse[] = []
    if (version >= 3) {
      const n = r.arrayLength(flexible)
      members = new Array(n)
      for (let i = 0; i < n; i++) {
        const memberId = r.string(flexible)
        const groupInstanceId = r.nullableString(flexible)
        const errorCode = r.int16()
        if (flexible) r.skipTaggedFields()
        members[i] = { memberId, groupInstanceId, errorCode }
      }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, errorCode, members }
  },
}
