import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// SyncGroup (key 14). v1 adds ThrottleTimeMs to the response, v3 adds GroupInstanceId, v4 is the
// first flexible version, v5 adds ProtocolType and ProtocolName to both request and response.

export interface SyncGroupRequestAssignment {
  /** The member to assign. */
  memberId: string
  /** The member's assignment, opaque here (the consumer-protocol module encodes it). */
  assignment: Buffer
}

export interface SyncGroupRequest {
  groupId: string
  generationId: number
  memberId: string
  /** v3+; the static member id (group.instance.id). Default null. */
  groupInstanceId?: string | null
  /** v5+; the group's protocol type, checked by the coordinator. Default null. */
  protocolType?: string | null
  /** v5+; the protocol the coordinator selected at JoinGroup, checked by the coordinator. Default null. */
  protocolName?: string | null
  /** The assignments computed by the leader; empty for the other members. */
  assignments: SyncGroupRequestAssignment[]
}

export interface SyncGroupResponse {
  /** v1+; 0 before. */
  throttleTimeMs: number
  errorCode: number
  /** v5+; null before. */
  protocolType: string | null
  /** v5+; null before. */
  protocolName: string | null
  /** This member's assignment, opaque here. */
  assignment: Buffer
}

export const SyncGroup: Api<SyncGroupRequest, SyncGroupResponse> = {
  apiKey: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,

  encode(w: Writer, request: SyncGroupRequest, version: number): void {
    const flexible = version >= 4
    w.string(request.groupId, flexible)
    w.int32(request.generationId)
    w.string(request.memberId, flexible)
    if (version >= 3) w.nullableString(request.groupInstanceId ?? null, flexible)
    if (version >= 5) {
      w.nullableString(request.protocolType ?? null, flexible)
      w.nullableString(request.protocolName ?? null, flexible)
    }
    const assignments = request.assignments
    w.arrayLength(assignments.length, flexible)
    for (let i = 0; i < assignments.length; i++) {
      const a = assignments[i]
      w.string(a.memberId, flexible)
      w.bytes(a.assignment, flexible)
      if (flexible) w.emptyTaggedFields()
    }
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): SyncGroupResponse {
    const flexible = version >= 4
    const throttleTimeMs = version >= 1 ? r.int32() : 0
    const errorCode = r.int16()
    const protocolType = version >= 5 ? r.nullableString(flexible) : null
    const protocolName = version >= 5 ? r.nullableString(flexible) : null
    const assignment = r.bytes(flexible)
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, errorCode, protocolType, protocolName, assignment }
  },
}
