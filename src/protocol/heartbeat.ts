import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// Heartbeat (key 12), the classic group protocol's liveness check. v1 adds ThrottleTimeMs to the
// response, v3 adds GroupInstanceId, v4 is the first flexible version.

export interface HeartbeatRequest {
  groupId: string
  generationId: number
  memberId: string
  /** v3+; the static member id (group.instance.id). Default null. */
  groupInstanceId?: string | null
}

export interface HeartbeatResponse {
  /** v1+; 0 before. */
  throttleTimeMs: number
  errorCode: number
}

export const Heartbeat: Api<HeartbeatRequest, HeartbeatResponse> = {
  apiKey: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,

  encode(w: Writer, request: HeartbeatRequest, version: number): void {
    const flexible = version >= 4
    w.string(request.groupId, flexible)
    w.int32(request.generationId)
    w.string(request.memberId, flexible)
    if (version >= 3) w.nullableString(request.groupInstanceId ?? null, flexible)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): HeartbeatResponse {
    const throttleTimeMs = version >= 1 ? r.int32() : 0
    const errorCode = r.int16()
    if (version >= 4) r.skipTaggedFields()
    return { throttleTimeMs, errorCode }
  },
}
