import type { Api } from './api.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

// Header rules, in one place:
// - request header v1 (classic APIs) and v2 (flexible versions); v0 is gone from Kafka 4.
//   Even in v2 the client id keeps its classic int16-length nullable string, so old brokers can
//   read any ApiVersions request.
// - response header v0 (classic) and v1 (flexible: adds tagged fields), except ApiVersions,
//   whose response always uses header v0 so a client can read it before knowing any version.

export const API_VERSIONS_KEY = 18

/** Response header version for `version` of `api`. */
export function responseHeaderVersion(api: { apiKey: number; flexibleFrom: number }, version: number): 0 | 1 {
  if (api.apiKey === API_VERSIONS_KEY) return 0
  return version >= api.flexibleFrom ? 1 : 0
}

/**
 * Write one whole request frame: the int32 size prefix, the header and the body. The size is
 * reserved and patched, so the body is encoded in place.
 */
export function encodeRequestFrame<Q>(
  w: Writer,
  api: Api<Q, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
  request: Q,
): void {
  const sizeAt = w.reserveInt32()
  const start = w.offset
  w.int16(api.apiKey).int16(version).int32(correlationId).nullableString(clientId, false)
  const flexible = version >= api.flexibleFrom
  if (flexible) w.emptyTaggedFields()
  api.encode(w, request, version)
  w.patchInt32(sizeAt, w.offset - start)
}

/** Read the response header (the size prefix is already consumed) and return the correlation id. */
export function decodeResponseHeader(
  r: Reader,
  api: { apiKey: number; flexibleFrom: number },
  version: number,
): number {
  const correlationId = r.int32()
  if (responseHeaderVersion(api, version) === 1) r.skipTaggedFields()
  return correlationId
}

/** The correlation id of a response frame (without its size prefix), before its API is known. */
export function peekCorrelationId(frame: Buffer): number {
  return frame.length >= 4 ? frame.readInt32BE(0) : -1
}
