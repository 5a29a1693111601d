import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

/**
 * The contract of one API key's codec. One module per key holds every version we speak; fields
 * are gated on `version` inside encode/decode. Field names in the typed request and response are
 * the schema's names in camelCase (`TopicName` -> `topicName`), which lets the conformance test
 * check every codec against Kafka's message schemas mechanically.
 */
export interface Api<Request, Response> {
  readonly apiKey: number
  readonly name: string
  readonly minVersion: number
  readonly maxVersion: number
  /** First flexible version (compact encodings, tagged fields); Infinity when none is. */
  readonly flexibleFrom: number
  /** Encode the request body (no header) for `version`. */
  encode(w: Writer, request: Request, version: number): void
  /** Decode the response body (header already read) for `version`. */
  decode(r: Reader, version: number): Response
}

/** Any API codec, for tables keyed by API key. */
// biome-ignore lint/suspicious/noExplicitAny: a registry of codecs of differing request/response types
export type AnyApi = Api<any, any>

/** Request and response types of an Api. */
export type RequestOf<A> = A extends Api<infer Q, unknown> ? Q : never
export type ResponseOf<A> = A extends Api<unknown, infer R> ? R : never

/** Whether `version` of `api` uses the flexible encodings. */
export function isFlexible(api: { flexibleFrom: number }, version: number): boolean {
  return version >= api.flexibleFrom
}
