import type { Api } from './api.js'
import { EncodeError } from './errors.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// FindCoordinator (key 10), v0-6, flexible from v3.
// v0-3 look up one Key and answer with one coordinator at the top level; v4+ batch: CoordinatorKeys
// in the request, a Coordinators array in the response (KIP-699). v1 adds KeyType (0 group,
// 1 transaction, 2 share from v6) and the response's throttle time and error message.

/** Coordinator key types. */
export const CoordinatorKeyType = { GROUP: 0, TRANSACTION: 1, SHARE: 2 } as const

export interface FindCoordinatorRequest {
  /**
   * v0-3: the coordinator key ('' by default). When absent, a single entry of `coordinatorKeys`
   * is used instead, so one request object serves every version.
   */
  key?: string
  /** v1+, default 0 (group). A non-zero key type cannot be sent in v0: that is an EncodeError. */
  keyType?: number
  /** v4+: the coordinator keys. When absent, `[key]` is sent if `key` is set, else []. */
  coordinatorKeys?: string[]
}

export interface FindCoordinatorCoordinator {
  key: string
  nodeId: number
  host: string
  port: number
  errorCode: number
  errorMessage: string | null
}

export interface FindCoordinatorResponse {
  /** v1+; 0 when absent. */
  throttleTimeMs: number
  /** v0-3; 0 in v4+ (see coordinators). */
  errorCode: number
  /** v1-3, nullable; '' when absent (the schema's default). */
  errorMessage: string | null
  /** v0-3; 0 in v4+. */
  nodeId: number
  /** v0-3; '' in v4+. */
  host: string
  /** v0-3; 0 in v4+. */
  port: number
  /** v4+; [] before. */
  coordinators: FindCoordinatorCoordinator[]
}

export const FindCoordinator: Api<FindCoordinatorRequest, FindCoordinatorResponse> = {
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 3,

  encode(w: Writer, request: FindCoordinatorRequest, version: number): void {
    const flexible = version >= 3
    const keyType = request.keyType ?? 0
    if (version <= 3) {
      let key = request.key
      if (key === undefined) {
        const keys = request.coordinatorKeys
        if (keys !== undefined && keys.length > 1) {
          throw new EncodeError(`FindCoordinator v${version} looks up one key, got ${keys.length}`)
        }
        key = keys !== undefined && keys.length === 1 ? keys[0] : ''
      }
      w.string(key, flexible)
    }
    if (version >= 1) w.int8(keyType)
    else if (keyType !== 0) throw new EncodeError(`FindCoordinator v0 cannot send key type ${keyType}`)
    if (version >= 4) {
      const keys = request.coordinatorKeys ?? (request.key !== undefined ? [request.key] : [])
      w.arrayLength(keys.length, flexible)
      for (let i = 0; i < keys.length; i++) w.string(keys[i], flexible)
    }
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): FindCoordinatorResponse {
    const flexible = version >= 3
    const throttleTimeMs = version >= 1 ? r.int32() : 0
    let errorCode = 0
    let errorMessage: string | null = ''
    let nodeId = 0
    let host = ''
    let port = 0
    let coordinators: FindCoordinatorCoordinator[] = []
    if (version <= 3) {
      errorCode = r.int16()
      if (version >= 1) errorMessage = r.nullableString(flexible)
      nodeId = r.int32()
      host = r.string(flexible)
      port = r.int32()
    } else {
      const n = r.arrayLength(true)
      coordinators = new Array(n)
      for (let i = 0; i < n; i++) {
        const key = r.string(true)
        const coordinatorNodeId = r.int32()
        const coordinatorHost = r.string(true)
        const coordinatorPort = r.int32()
        const coordinatorErrorCode = r.int16()
        const coordinatorErrorMessage = r.nullableString(true)
        r.skipTaggedFields()
        coordinators[i] = {
          key,
          nodeId: coordinatorNodeId,
          host: coordinatorHost,
          port: coordinatorPort,
          errorCode: coordinatorErrorCode,
          errorMessage: coordinatorErrorMessage,
        }
      }
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, errorCode, errorMessage, nodeId, host, port, coordinators }
  },
}
