import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// SaslHandshake (key 17), v0-1, never flexible (bumping it would break clients <= 2.4, KAFKA-9577).
// v1 means the SASL exchange that follows is framed as SaslAuthenticate requests; v0 meant raw
// SASL tokens on the socket, which we do not speak.

export interface SaslHandshakeRequest {
  /** The SASL mechanism chosen by the client, e.g. 'PLAIN', 'SCRAM-SHA-512', 'OAUTHBEARER'. */
  mechanism: string
}

export interface SaslHandshakeResponse {
  errorCode: number
  /** The mechanisms enabled in the broker. */
  mechanisms: string[]
}

export const SaslHandshake: Api<SaslHandshakeRequest, SaslHandshakeResponse> = {
  apiKey: 17,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: Number.POSITIVE_INFINITY,

  encode(w: Writer, request: SaslHandshakeRequest, _version: number): void {
    w.string(request.mechanism, false)
  },

  decode(r: Reader, _version: number): SaslHandshakeResponse {
    const errorCode = r.int16()
    const n = r.arrayLength(false)
    const mechanisms: string[] = new Array(n)
    for (let i = 0; i < n; i++) mechanisms[i] = r.string(false)
    return { errorCode, mechanisms }
  },
}
