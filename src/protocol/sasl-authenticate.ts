import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// SaslAuthenticate (key 36), v0-2, flexible from v2. v1 adds the session lifetime (KIP-368).

export interface SaslAuthenticateRequest {
  /** The SASL token from the client, as the mechanism defines it. */
  authBytes: Buffer
}

export interface SaslAuthenticateResponse {
  errorCode: number
  errorMessage: string | null
  /** The SASL token from the broker: a view into the response frame. */
  authBytes: Buffer
  /** v1+; 0 (no limit) before. Milliseconds after which the session must re-authenticate. */
  sessionLifetimeMs: bigint
}

export const SaslAuthenticate: Api<SaslAuthenticateRequest, SaslAuthenticateResponse> = {
  apiKey: 36,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,

  encode(w: Writer, request: SaslAuthenticateRequest, version: number): void {
    const flexible = version >= 2
    w.bytes(request.authBytes, flexible)
    if (flexible) w.emptyTaggedFields()
  },

  decode(r: Reader, version: number): SaslAuthenticateResponse {
    const flexible = version >= 2
    const errorCode = r.int16()
    const errorMessage = r.nullableString(flexible)
    const authBytes = r.bytes(flexible)
    const sessionLifetimeMs = version >= 1 ? r.int64() : 0n
    if (flexible) r.skipTaggedFields()
    return { errorCode, errorMessage, authBytes, sessionLifetimeMs }
  },
}
