import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// JoinGroup (key 11). v1 adds RebalanceTimeoutMs, v2 ThrottleTimeMs in the response, v4 makes a new
// member join twice (first with an empty member id, then with the one MEMBER_ID_REQUIRED hands back),
// v5 adds GroupInstanceId (static membership), v6 is the first flexible version, v7 returns
// ProtocolType and makes ProtocolName nullable, v8 adds Reason, v9 adds SkipAssignment.

export interface JoinGroupRequestProtocol {
  /** The protocol name (an assignor name for consumer groups). */
  name: string
  /** The protocol metadata, opaque here (the consumer-protocol module encodes it). */
  metadata: Buffer
}

export interface JoinGroupRequest {
  groupId: string
  /** The coordinator considers the member dead if no heartbeat arrives within this many milliseconds. */
  sessionTimeoutMs: number
  /** v1+; how long the coordinator waits for each member to rejoin during a rebalance. Default -1. */
  rebalanceTimeoutMs?: number
  /** The member id assigned by the coordinator; '' on the first join. */
  memberId: string
  /** v5+; the static member id (group.instance.id). Default null. */
  groupInstanceId?: string | null
  /** The class of protocols, 'consumer' for consumer groups. */
  protocolType: string
  /** The protocols the member supports, in order of preference. */
  protocols: JoinGroupRequestProtocol[]
  /** v8+; why the member (re-)joins. Default null. */
  reason?: string | null
}

export interface JoinGroupResponseMember {
  memberId: string
  /** v5+; null before. */
  groupInstanceId: string | null
  /** The member's protocol metadata, opaque here. */
  metadata: Buffer
}

export interface JoinGroupResponse {
  /** v2+; 0 before. */
  throttleTimeMs: number
  errorCode: number
  generationId: number
  /** v7+; null before. */
  protocolType: string | null
  /** The protocol the coordinator selected; nullable from v7. */
  protocolName: string | null
  /** The member id of the group leader. */
  leader: string
  /** v9+; true when the leader must not run the assignment. false before. */
  skipAssignment: boolean
  memberId: string
  /** Every member with its metadata when this member is the leader, else empty. */
  members: JoinGroupResponseMember[]
}

export const JoinGroup: Api<JoinGroupRequest, JoinGroupResponse> = {
  apiKey: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 6,

  encode(w: Writer, request: JoinGroupRequest, version: number): void {
    const flexible = version >= 6
    w.string(request.groupId, flexible)
    w.int32(request.sessionTimeoutMs)
    if (version >= 1) w.int32(request.rebalanceTimeoutMs ?? -1)
    w.string(request.memberId, flexible)
    if (version >= 5) w.nullableString(request.groupInstanceId ?? null, flexible)
    w.string(request.protocolType, flexible)
    const protocols = request.protocols
    w.arrayLength(protocols.length, flexible)
    for (let i = 0; i < protocols.length; i++) {
      const p = protocols[i]
      w.string(p.name, flexible)
      w.bytes(p.metadata, flexible)
      if (flexible) w.emptyTaggedFields()
    }
    if (version >= 8) w.nullableString(request.reason ?? null, flexible)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): JoinGroupResponse {
    const flexible = version >= 6
    const throttleTimeMs = version >= 2 ? r.int32() : 0
    const errorCode = r.int16()
    const generationId = r.int32()
    const protocolType = version >= 7 ? r.nullableString(flexible) : null
    const protocolName = version >= 7 ? r.nullableString(flexible) : r.string(flexible)
    const leader = r.string(flexible)
    const skipAssignment = version >= 9 ? r.boolean() : false
    const memberId = r.string(flexible)
    const n = r.arrayLength(flexible)
    const members: JoinGroupResponseMember[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const memberId = r.string(flexible)
      const groupInstanceId = version >= 5 ? r.nullableString(flexible) : null
      const metadata = r.bytes(flexible)
      if (flexible) r.skipTaggedFields()
      members[i] = { memberId, groupInstanceId, metadata }
    }
    if (flexible) r.skipTaggedFields()
    return {
      throttleTimeMs,
      errorCode,
      generationId,
      protocolType,
      protocolName,
      leader,
      skipAssignment,
      memberId,
      members,
    }
  },
}
