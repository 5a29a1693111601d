import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// InitProducerId (key 22), v0-6, flexible from v2. v3 adds ProducerId/ProducerEpoch (resume after
// INVALID_PRODUCER_EPOCH), v4-5 only add error codes, v6 adds two-phase commit (KIP-939; the schema
// marks v6 unstable, so brokers may not advertise it).

export interface InitProducerIdRequest {
  /** Nullable: null for an idempotent, non-transactional producer. */
  transactionalId: string | null
  /** Only relevant with a transactional id. */
  transactionTimeoutMs: number
  /** v3+, default -1n. */
  producerId?: bigint
  /** v3+, default -1. */
  producerEpoch?: number
  /** v6+, default false. */
  enable2Pc?: boolean
  /** v6+, default false. */
  keepPreparedTxn?: boolean
}

export interface InitProducerIdResponse {
  throttleTimeMs: number
  errorCode: number
  producerId: bigint
  producerEpoch: number
  /** v6+; -1n when absent. */
  ongoingTxnProducerId: bigint
  /** v6+; -1 when absent. */
  ongoingTxnProducerEpoch: number
}

export const InitProducerId: Api<InitProducerIdRequest, InitProducerIdResponse> = {
  apiKey: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 2,

  encode(w: Writer, request: InitProducerIdRequest, version: number): void {
    const flexible = version >= 2
    w.nullableString(request.transactionalId, flexible)
    w.int32(request.transactionTimeoutMs)
    if (version >= 3) {
      w.int64(request.producerId ?? -1n)
      w.int16(request.producerEpoch ?? -1)
    }
    if (version >= 6) {
      w.boolean(request.enable2Pc ?? false)
      w.boolean(request.keepPreparedTxn ?? false)
    }
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): InitProducerIdResponse {
    const flexible = version >= 2
    const throttleTimeMs = r.int32()
    const errorCode = r.int16()
    const producerId = r.int64()
    const producerEpoch = r.int16()
    let ongoingTxnProducerId = -1n
    let ongoingTxnProducerEpoch = -1
    if (version >= 6) {
      ongoingTxnProducerId = r.int64()
      ongoingTxnProducerEpoch = r.int16()
    }
    if (flexible) r.skipTaggedFields()
    return { throttleTimeMs, errorCode, producerId, producerEpoch, ongoingTxnProducerId, ongoingTxnProducerEpoch }
  },
}
