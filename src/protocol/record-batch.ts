// Record batches (message format v2, "magic 2"). Work in progress: the encoder and decoder follow.
import type { Writer } from './writer.js'

/**
 * Records ready to be written into a request: the Produce codec asks for `byteLength` (to size its
 * length prefix) and then calls `writeTo` with the request's own Writer, so batches are encoded
 * straight into the request buffer. `writeTo` must write exactly `byteLength` bytes.
 */
export interface EncodableRecords {
  readonly byteLength: number
  writeTo(w: Writer): void
}
