// Record batches: message format v2 ("magic 2"), the only format the Produce and Fetch codecs write and the
// format brokers have stored since Kafka 0.11. Legacy message sets (magic 0 and 1) are decoded by
// legacy-message-set.ts when a fetch returns them; we never write them.
//
// RecordBatch (61-byte header, big-endian):
//   baseOffset int64 | batchLength int32 (bytes after this field) | partitionLeaderEpoch int32 | magic int8 (2)
//   | crc uint32 (CRC-32C of attributes..end) | attributes int16 | lastOffsetDelta int32 | baseTimestamp int64
//   | maxTimestamp int64 | producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32
//   | records (compressed as one payload when attributes & 7 != 0)
// attributes: bits 0-2 compression, bit 3 timestamp type (1 = LogAppendTime), bit 4 transactional,
//   bit 5 control, bit 6 delete horizon (baseTimestamp then holds the delete horizon).
// Record: length varint | attributes int8 | timestampDelta varlong | offsetDelta varint | key varint-length
//   bytes (-1 null) | value varint-length bytes (-1 null) | header count varint | headers:
//   key varint-length UTF-8 | value varint-length bytes (-1 null).
//
// Decoding allocates per record only the record object, its key/value views and, when it has headers, one
// header array; records with no headers share one frozen empty array. Nothing is copied from the input.

import type { CompressionId, CompressionName } from './compression.js'
import {
  CompressionUnavailableError,
  compress,
  compressionId,
  compressionName,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decompress,
} from './compression.js'
import { crc32c } from './crc32c.js'
import { DecodeError, EncodeError, type ErrorDetails } from './errors.js'
import { decodeLegacyEntry } from './legacy-message-set.js'
import { Writer } from './writer.js'

/**
 * Records ready to be written into a request: the Produce codec asks for `byteLength` (to size its
 * length prefix) and then calls `writeTo` with the request's own Writer, so batches are encoded
 * straight into the request buffer. `writeTo` must write exactly `byteLength` bytes.
 */
export interface EncodableRecords {
  readonly byteLength: number
  writeTo(w: Writer): void
}

export const TimestampType = { CreateTime: 0, LogAppendTime: 1 } as const
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType]

/** Types of control records (the key of the single record of a control batch). */
export const ControlRecordType = {
  Abort: 0,
  Commit: 1,
  LeaderChange: 2,
  SnapshotHeader: 3,
  SnapshotFooter: 4,
  KRaftVersion: 5,
  KRaftVoters: 6,
} as const

export interface RecordHeader {
  key: string
  value: Buffer | null
}

/**
 * One record. `key`, `value` and header values are views into the fetched frame (or into the batch's
 * decompressed payload): copy them to keep them beyond the frame's life. null and empty stay distinct.
 * Named KafkaRecord so that importing it does not shadow TypeScript's `Record<K, V>`.
 */
export interface KafkaRecord {
  offset: bigint
  /** Milliseconds since the epoch; the batch's maxTimestamp when the batch uses LogAppendTime. */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  /** A shared frozen empty array when the record has no headers. */
  headers: readonly RecordHeader[]
}

/**
 * A record that names its topic and partition: what `decodeRecordBatches` gives with the `tagged` option (the
 * shape a consumer hands out, made in the same single allocation as an untagged record).
 */
export interface TaggedRecord extends KafkaRecord {
  topic: string
  partition: number
}

export interface RecordBatch {
  baseOffset: bigint
  /** The length field: bytes from partitionLeaderEpoch to the end of the batch (size on the wire - 12). */
  batchLength: number
  partitionLeaderEpoch: number
  /** 2 for record batches; 0 or 1 for a legacy message (see legacy-message-set.ts). */
  magic: number
  /** Stored checksum (unsigned): CRC-32C for magic 2, CRC-32 of the wrapper message for magic 0/1. */
  crc: number
  attributes: number
  compression: CompressionName
  timestampType: TimestampType
  isTransactional: boolean
  isControl: boolean
  /** Attributes bit 6: firstTimestamp holds the delete horizon set by the log cleaner. */
  hasDeleteHorizon: boolean
  lastOffsetDelta: number
  /** The batch's base timestamp (ms); -1 when the batch is empty. */
  firstTimestamp: number
  maxTimestamp: number
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  /** For control batches, the ControlRecordType of its record; -1 otherwise. */
  controlType: number
  records: KafkaRecord[]
}

/** A record batch that does not decode: CRC mismatch, impossible lengths, a corrupt compressed payload. */
export class CorruptRecordError extends DecodeError {
  /** Base offset of the batch concerned, when its header could be read. */
  readonly baseOffset?: bigint

  constructor(message: string, details: ErrorDetails & { at?: number; code?: string; baseOffset?: bigint } = {}) {
    super(message, { ...details, code: details.code ?? 'ERR_CORRUPT_RECORD' })
    if (details.baseOffset !== undefined) this.baseOffset = details.baseOffset
  }
}

export interface DecodeRecordBatchesOptions {
  /** Topic and partition the records belong to, named in errors. */
  topic?: string
  partition?: number
  /** Verify each batch's CRC (default true). */
  verifyCrc?: boolean
  /** Bound on the decompressed records of one batch (default 64 MiB): a decompression-bomb guard. */
  maxDecompressedBytes?: number
  /**
   * Records of magic-2 batches come out as TaggedRecord, carrying `topic` (required then) and `partition` (0 when
   * not given), in one object each. Records of legacy message sets stay untagged.
   */
  tagged?: boolean
}

// -------------------------------------------------------------------------------------------- layout

/** Bytes before the batchLength field counts from: baseOffset + batchLength. */
const LOG_OVERHEAD = 12
/** Bytes needed to read a batch's length and magic. */
const HEADER_UP_TO_MAGIC = 17
const CRC_OFFSET = 17
const ATTRIBUTES_OFFSET = 21
export const RECORD_BATCH_OVERHEAD = 61
/** The smallest record: length, attributes, timestampDelta, offsetDelta, key, value, header count. */
const MIN_RECORD_SIZE = 7
/** The smallest legacy (magic 0) message after its 12-byte offset and size: crc, magic, attributes, key, value. */
const MIN_LEGACY_SIZE = 14

const COMPRESSION_MASK = 0x07
const TIMESTAMP_TYPE_FLAG = 0x08
const TRANSACTIONAL_FLAG = 0x10
const CONTROL_FLAG = 0x20
const DELETE_HORIZON_FLAG = 0x40

/** Shared by records without headers: frozen, never mutate. */
export const EMPTY_HEADERS: readonly RecordHeader[] = Object.freeze([])

// ------------------------------------------------------------------------------------ varint helpers

function sizeOfUvarint(v: number): number {
  if (v < 0x80) return 1
  if (v < 0x4000) return 2
  if (v < 0x200000) return 3
  if (v < 0x10000000) return 4
  return 5
}

function sizeOfVarint(v: number): number {
  return sizeOfUvarint(((v << 1) ^ (v >> 31)) >>> 0)
}

/** Size of a zigzag varlong of a safe integer. */
function sizeOfVarlong(v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return sizeOfVarint(v)
  let z = v >= 0 ? v * 2 : -v * 2 - 1
  let n = 1
  while (z >= 0x80) {
    z = Math.floor(z / 0x80)
    n++
  }
  return n
}

function putUvarint(buf: Buffer, o: number, v: number): number {
  while (v > 0x7f) {
    buf[o++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  buf[o++] = v
  return o
}

function putVarint(buf: Buffer, o: number, v: number): number {
  return putUvarint(buf, o, ((v << 1) ^ (v >> 31)) >>> 0)
}

function putVarlong(buf: Buffer, o: number, v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return putVarint(buf, o, v)
  let z = v >= 0 ? v * 2 : -v * 2 - 1
  while (z >= 0x80) {
    buf[o++] = (z % 0x80) | 0x80
    z = Math.floor(z / 0x80)
  }
  buf[o++] = z
  return o
}

function putInt64n(buf: Buffer, o: number, v: number): void {
  const hi = Math.floor(v / 0x100000000)
  buf.writeInt32BE(hi, o)
  buf.writeUInt32BE(v - hi * 0x100000000, o + 4)
}

/** UTF-8 length of a header key; short ASCII keys (the usual case) are measured without leaving JS. */
function utf8Length(s: string): number {
  const n = s.length
  if (n > 64) return Buffer.byteLength(s, 'utf8')
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8')
  return n
}

/** A varint-length-prefixed UTF-8 string; short ASCII strings are copied char by char. */
function putString(buf: Buffer, o: number, s: string): number {
  const n = s.length
  if (n <= 64) {
    let ascii = true
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false
        break
      }
    }
    if (ascii) {
      o = putVarint(buf, o, n)
      for (let i = 0; i < n; i++) buf[o + i] = s.charCodeAt(i)
      return o + n
    }
  }
  const kl = Buffer.byteLength(s, 'utf8')
  o = putVarint(buf, o, kl)
  return o + buf.write(s, o, kl, 'utf8')
}

// ----------------------------------------------------------------------------------------- encoding

export interface RecordHeaderInput {
  key: string
  value: Uint8Array | null
}

export interface RecordInput {
  key?: Uint8Array | null
  value: Uint8Array | null
  headers?: readonly RecordHeaderInput[]
  /** Milliseconds since the epoch; defaults to the batch's `now`. */
  timestamp?: number
}

export interface RecordBatchInput {
  records: readonly RecordInput[]
  /** Default 0n: brokers assign offsets to produced batches. */
  baseOffset?: bigint
  /** Default -1 (brokers set it). */
  partitionLeaderEpoch?: number
  /** Default -1n (not idempotent). */
  producerId?: bigint
  /** Default -1. */
  producerEpoch?: number
  /** Default -1. */
  baseSequence?: number
  isTransactional?: boolean
  isControl?: boolean
  /** Default 'none'. */
  compression?: CompressionName | CompressionId
  /** Codec level (gzip 1-9, zstd -7..22); the codec's default when absent. */
  compressionLevel?: number
  /** Default CreateTime; LogAppendTime is for brokers and tests. */
  timestampType?: TimestampType
}

/** Timestamps stay below 2^51 ms (year 71,000) so that every timestamp delta is exact in a JS number. */
const MAX_TIMESTAMP = 2 ** 51

export interface EncodeRecordBatchOptions {
  /** Timestamp of records without one (default Date.now(), read once per batch). */
  now?: number
}

/** Shared scratch for the records of compressed batches; used synchronously only, shrunk after big batches. */
let scratch = new Writer(64 * 1024)
const SCRATCH_KEEP = 4 * 1024 * 1024

// Header keys repeat (the same few keys on every record): a direct-mapped cache from key string to its encoded
// form (varint length, then UTF-8) spares sizing and writing them char by char. Bounded: 256 slots of keys up
// to 64 chars; longer keys are encoded each time. The slot comes from the length and three chars; a hit is a
// string compare (a pointer compare for the literal or interned keys of most code).
const KEY_SLOTS = 256
const KEY_CACHE_MAX = 64
const EMPTY_KEY: Uint8Array = Buffer.from([0])
const cachedKeys: string[] = new Array(KEY_SLOTS).fill('')
const cachedKeyBytes: Uint8Array[] = new Array(KEY_SLOTS).fill(EMPTY_KEY)

/** The encoded form of header key `s`, or null when it is too long to cache. */
function encodedHeaderKey(s: string): Uint8Array | null {
  const n = s.length
  if (n === 0) return EMPTY_KEY
  if (n > KEY_CACHE_MAX) return null
  const slot =
    Math.imul(n ^ (s.charCodeAt(0) << 8) ^ (s.charCodeAt(n >>> 1) << 16) ^ (s.charCodeAt(n - 1) << 24), 0x9e3779b1) >>>
    24
  if (cachedKeys[slot] === s) return cachedKeyBytes[slot]
  const kl = Buffer.byteLength(s, 'utf8')
  const bytes = Buffer.alloc(sizeOfVarint(kl) + kl)
  bytes.write(s, putVarint(bytes, 0, kl), kl, 'utf8')
  cachedKeys[slot] = s
  cachedKeyBytes[slot] = bytes
  return bytes
}

/** An EncodeError for record `i` when it is not valid input (checked in the order key, value, timestamp, headers). */
function badRecord(rec: RecordInput, i: number): EncodeError {
  if (rec == null || typeof rec !== 'object') return new EncodeError(`record ${i} is not an object`)
  const { key, value, timestamp, headers } = rec
  if (key != null && !(key instanceof Uint8Array)) return new EncodeError(`record ${i}: key must be a Buffer or null`)
  if (value !== null && !(value instanceof Uint8Array)) {
    return new EncodeError(`record ${i}: value must be a Buffer or null`)
  }
  // Java rejects negative timestamps (but -1, "no timestamp"); below 2^51 every delta is an exact varlong.
  if (timestamp !== undefined && !(Number.isInteger(timestamp) && timestamp >= -1 && timestamp < MAX_TIMESTAMP)) {
    return new EncodeError(`record ${i}: timestamp must be an integer number of milliseconds >= -1, got ${timestamp}`)
  }
  if (headers !== undefined) {
    if (!Array.isArray(headers)) return new EncodeError(`record ${i}: headers must be an array`)
    for (const h of headers) {
      if (typeof h?.key !== 'string') return new EncodeError(`record ${i}: header keys must be strings`)
      if (h.value !== null && !(h.value instanceof Uint8Array)) {
        return new EncodeError(`record ${i}: header "${h.key}" value must be a Buffer or null`)
      }
    }
  }
  return new EncodeError(`record ${i} is not valid`)
}

/**
 * Body size (after the length varint) of record `i`, checking it on the way: throws badRecord's EncodeError
 * when it is not valid input. `timestamp` is the record's resolved timestamp.
 */
function recordBodySize(rec: RecordInput, i: number, timestampDelta: number): number {
  let size = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(i)
  const key = rec.key
  if (key == null) size += 1
  else if (key instanceof Uint8Array) size += sizeOfVarint(key.length) + key.length
  else throw badRecord(rec, i)
  const value = rec.value
  if (value === null) size += 1
  else if (value instanceof Uint8Array) size += sizeOfVarint(value.length) + value.length
  else throw badRecord(rec, i)
  const headers = rec.headers
  if (headers === undefined) return size + 1
  if (!Array.isArray(headers)) throw badRecord(rec, i)
  const count = headers.length
  if (count === 0) return size + 1
  size += sizeOfVarint(count)
  for (let j = 0; j < count; j++) {
    const h = headers[j]
    const hk = h?.key
    if (typeof hk !== 'string') throw badRecord(rec, i)
    const cached = encodedHeaderKey(hk)
    if (cached !== null) {
      size += cached.length
    } else {
      const kl = utf8Length(hk)
      size += sizeOfVarint(kl) + kl
    }
    const hv = h.value
    if (hv === null) size += 1
    else if (hv instanceof Uint8Array) size += sizeOfVarint(hv.length) + hv.length
    else throw badRecord(rec, i)
  }
  return size
}

/**
 * Write the records of a batch at `o` (room already ensured); returns the new offset. Varints of one or two
 * bytes are written inline (a Uint8Array store keeps the low 8 bits: `z | 0x80` is the low 7 bits with the
 * continuation bit).
 */
function writeRecords(
  buf: Buffer,
  o: number,
  records: readonly RecordInput[],
  sizes: Int32Array,
  baseTimestamp: number,
  now: number,
): number {
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]
    let z = sizes[i] * 2 // zigzag of a non-negative int32
    if (z < 0x80) buf[o++] = z
    else if (z < 0x4000) {
      buf[o++] = z | 0x80
      buf[o++] = z >>> 7
    } else o = putUvarint(buf, o, z)
    buf[o++] = 0 // record attributes: unused
    const timestampDelta = (rec.timestamp ?? now) - baseTimestamp
    if (timestampDelta >= -0x2000 && timestampDelta < 0x2000) {
      z = (timestampDelta << 1) ^ (timestampDelta >> 31)
      if (z < 0x80) buf[o++] = z
      else {
        buf[o++] = z | 0x80
        buf[o++] = z >>> 7
      }
    } else o = putVarlong(buf, o, timestampDelta)
    z = i << 1
    if (z < 0x80) buf[o++] = z
    else if (z < 0x4000) {
      buf[o++] = z | 0x80
      buf[o++] = z >>> 7
    } else o = putUvarint(buf, o, z)
    const key = rec.key
    if (key == null)
      buf[o++] = 1 // null: zigzag(-1)
    else o = putLengthAndBytes(buf, o, key)
    const value = rec.value
    if (value == null) buf[o++] = 1
    else o = putLengthAndBytes(buf, o, value)
    const headers = rec.headers
    if (headers === undefined || headers.length === 0) {
      buf[o++] = 0
      continue
    }
    o = putVarint(buf, o, headers.length)
    for (let j = 0; j < headers.length; j++) {
      const h = headers[j]
      const cached = encodedHeaderKey(h.key)
      if (cached !== null) {
        buf.set(cached, o)
        o += cached.length
      } else {
        o = putString(buf, o, h.key)
      }
      const hv = h.value
      if (hv == null) buf[o++] = 1
      else o = putLengthAndBytes(buf, o, hv)
    }
  }
  return o
}

/**
 * Zigzag varint length, then the bytes: up to 8 copied in JS, more by TypedArray#set (~20 ns a call, whatever
 * the size up to hundreds of bytes, where a JS loop costs a few ns a byte).
 */
function putLengthAndBytes(buf: Buffer, o: number, src: Uint8Array): number {
  const n = src.length
  const z = n * 2
  if (z < 0x80) buf[o++] = z
  else if (z < 0x4000) {
    buf[o++] = z | 0x80
    buf[o++] = z >>> 7
  } else o = putUvarint(buf, o, z)
  if (n <= 8) {
    for (let i = 0; i < n; i++) buf[o + i] = src[i]
  } else {
    buf.set(src, o)
  }
  return o + n
}

/** A record batch sized and (when compressed) compressed, ready to be written into a request. */
class PreparedRecordBatch implements EncodableRecords {
  readonly byteLength: number
  private readonly input: RecordBatchInput
  private readonly attributes: number
  private readonly baseTimestamp: number
  private readonly maxTimestamp: number
  private readonly now: number
  /** Body size of each record (uncompressed batches). */
  private readonly sizes: Int32Array | null
  /** Records size (uncompressed) or compressed payload. */
  private readonly recordsSize: number
  private readonly payload: Buffer | null

  constructor(input: RecordBatchInput, options: EncodeRecordBatchOptions) {
    const records = input.records
    const n = records?.length
    if (!(n > 0)) throw new EncodeError('a record batch needs at least one record')
    const codec = compressionId(input.compression ?? 0)
    const timestampType = input.timestampType ?? TimestampType.CreateTime
    this.input = input
    this.attributes =
      codec |
      (timestampType === TimestampType.LogAppendTime ? TIMESTAMP_TYPE_FLAG : 0) |
      (input.isTransactional ? TRANSACTIONAL_FLAG : 0) |
      (input.isControl ? CONTROL_FLAG : 0)
    const now = options.now ?? Date.now()
    if (!(Number.isInteger(now) && now >= -1 && now < MAX_TIMESTAMP))
      throw new EncodeError(`bad 'now' timestamp ${now}`)
    this.now = now
    // Base timestamp: the first record's, like the Java client (deltas may be negative).
    let base = -1
    let max = -1
    const sizes = new Int32Array(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      const rec = records[i]
      if (rec == null || typeof rec !== 'object') throw badRecord(rec, i)
      const timestamp = rec.timestamp
      let ts = now
      if (timestamp !== undefined) {
        if (!(Number.isInteger(timestamp) && timestamp >= -1 && timestamp < MAX_TIMESTAMP)) throw badRecord(rec, i)
        ts = timestamp
      }
      if (i === 0) base = ts
      if (ts > max) max = ts
      const size = recordBodySize(rec, i, ts - base)
      sizes[i] = size
      total += (size < 0x40 ? 1 : size < 0x2000 ? 2 : sizeOfVarint(size)) + size
    }
    this.baseTimestamp = base
    this.maxTimestamp = max
    if (codec === 0) {
      this.sizes = sizes
      this.recordsSize = total
      this.payload = null
    } else {
      const w = scratch.reset()
      w.ensure(total)
      const end = writeRecords(w.buf, 0, records, sizes, base, now)
      this.payload = compress(codec, w.buf.subarray(0, end), input.compressionLevel)
      if (w.buf.length > SCRATCH_KEEP) scratch = new Writer(64 * 1024)
      this.sizes = null
      this.recordsSize = this.payload.length
    }
    this.byteLength = RECORD_BATCH_OVERHEAD + this.recordsSize
  }

  writeTo(w: Writer): void {
    const input = this.input
    const n = input.records.length
    w.ensure(this.byteLength)
    const buf = w.buf
    const start = w.offset
    buf.writeBigInt64BE(input.baseOffset ?? 0n, start)
    buf.writeInt32BE(this.byteLength - LOG_OVERHEAD, start + 8)
    buf.writeInt32BE(input.partitionLeaderEpoch ?? -1, start + 12)
    buf[start + 16] = 2
    buf.writeInt16BE(this.attributes, start + ATTRIBUTES_OFFSET)
    buf.writeInt32BE(n - 1, start + 23)
    putInt64n(buf, start + 27, this.baseTimestamp)
    putInt64n(buf, start + 35, this.maxTimestamp)
    buf.writeBigInt64BE(input.producerId ?? -1n, start + 43)
    buf.writeInt16BE(input.producerEpoch ?? -1, start + 51)
    buf.writeInt32BE(input.baseSequence ?? -1, start + 53)
    buf.writeInt32BE(n, start + 57)
    let end: number
    if (this.payload !== null) {
      end = start + RECORD_BATCH_OVERHEAD + this.payload.copy(buf, start + RECORD_BATCH_OVERHEAD)
    } else {
      end = writeRecords(buf, start + RECORD_BATCH_OVERHEAD, input.records, this.sizes!, this.baseTimestamp, this.now)
    }
    if (end - start !== this.byteLength) {
      // The records changed between sizing and writing (a mutated Buffer or header array).
      throw new EncodeError(`record batch wrote ${end - start} bytes, sized ${this.byteLength}: records changed?`)
    }
    buf.writeUInt32BE(crc32c(buf.subarray(start + ATTRIBUTES_OFFSET, end)), start + CRC_OFFSET)
    w.offset = end
  }
}

/**
 * Size (and compress, when asked) a record batch now; write it later with `writeTo`, straight into a request's
 * Writer. The input's records must not change in between.
 */
export function prepareRecordBatch(input: RecordBatchInput, options: EncodeRecordBatchOptions = {}): EncodableRecords {
  return new PreparedRecordBatch(input, options)
}

/** Encode a record batch at the Writer's offset (CRC and length patched in place). */
export function encodeRecordBatch(w: Writer, input: RecordBatchInput, options: EncodeRecordBatchOptions = {}): void {
  new PreparedRecordBatch(input, options).writeTo(w)
}

// ----------------------------------------------------------------------------------------- decoding
//
// decodeRecords reads the common shapes (varints of one or two bytes, in bounds) inline with a local cursor;
// anything else (longer varints, lengths out of bounds, truncation) goes through the helpers below, which
// throw the DecodeErrors. Keys, values and header values are Buffer views made with Node's FastBuffer
// constructor (see `view`).

/** Cursor of the helpers below (module state: they are synchronous and not re-entrant). */
let pos = 0

function short(end: number): DecodeError {
  return new DecodeError(`record runs past the end of its batch at offset ${pos} (end ${end})`, { at: pos })
}

/** Zigzag varint (signed 32-bit) at `pos`. */
function readVarint(buf: Buffer, end: number): number {
  let o = pos
  if (o >= end) throw short(end)
  let b = buf[o++]
  if (b < 0x80) {
    pos = o
    return (b >>> 1) ^ -(b & 1)
  }
  let z = b & 0x7f
  let shift = 7
  for (;;) {
    if (o >= end) throw short(end)
    b = buf[o++]
    if (shift === 28) {
      if (b > 0x0f) throw new DecodeError(`varint longer than 32 bits at offset ${pos}`, { at: pos })
      z = (z | (b << 28)) >>> 0
      break
    }
    z |= (b & 0x7f) << shift
    if (b < 0x80) break
    shift += 7
  }
  pos = o
  return (z >>> 1) ^ -(z & 1)
}

/** Zigzag varlong at `pos` as a number (exact below 2^53; beyond is corrupt for offsets and timestamps). */
function readVarlong(buf: Buffer, end: number): number {
  let o = pos
  if (o >= end) throw short(end)
  const b0 = buf[o++]
  if (b0 < 0x80) {
    pos = o
    return (b0 >>> 1) ^ -(b0 & 1)
  }
  let z = b0 & 0x7f
  let mul = 0x80
  for (let i = 1; ; i++) {
    if (o >= end) throw short(end)
    if (i === 8) throw new DecodeError(`varlong beyond 2^53 at offset ${pos}`, { at: pos })
    const b = buf[o++]
    z += (b & 0x7f) * mul
    if (b < 0x80) break
    mul *= 0x80
  }
  // Below 2^53 every step above was exact; beyond, the value is no offset or timestamp delta.
  if (z > Number.MAX_SAFE_INTEGER) throw new DecodeError(`varlong beyond 2^53 at offset ${pos}`, { at: pos })
  pos = o
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2
}

/**
 * A Buffer view of `length` bytes at `byteOffset` of `ab`. Buffer#subarray clamps its arguments, reads
 * `buffer` and `byteOffset` back and constructs through a species lookup: ~70 ns a view, where calling Node's
 * FastBuffer (the class of every Buffer, which Node exposes as Buffer[Symbol.species]) costs ~30 ns. Callers
 * check the bounds. Where FastBuffer is not reachable, Buffer.from(arrayBuffer, offset, length), also a view.
 */
type ViewConstructor = new (ab: ArrayBufferLike, byteOffset: number, length: number) => Buffer
const species: unknown = (Buffer as unknown as { [Symbol.species]: unknown })[Symbol.species]
const view: (ab: ArrayBufferLike, byteOffset: number, length: number) => Buffer =
  typeof species === 'function' && (species as ViewConstructor).prototype === Buffer.prototype
    ? (ab, byteOffset, length) => new (species as ViewConstructor)(ab, byteOffset, length)
    : (ab, byteOffset, length) => Buffer.from(ab, byteOffset, length)

/** The error of a key, value or header value length `n` read at `at` that is not -1, not >= 0 or too long. */
function badLength(n: number, what: string, at: number): DecodeError {
  if (n < 0) return new DecodeError(`negative ${what} length ${n} at offset ${at}`, { at })
  return new DecodeError(`${what} of ${n} bytes runs past the end of its record at ${at}`, { at })
}

// Header keys repeat (trace ids, content types...): a small direct-mapped cache from key bytes to the decoded
// string saves a UTF-8 decode and a string per header. Bounded: 512 slots of keys up to 64 bytes. The slot
// comes from the length and three of the bytes (the compare that follows checks them all).
const INTERN_SLOTS = 512
const INTERN_MAX_KEY = 64
const internBytes: (Uint8Array | null)[] = new Array(INTERN_SLOTS).fill(null)
const internStrings: string[] = new Array(INTERN_SLOTS).fill('')

function headerKey(buf: Buffer, start: number, end: number): string {
  const n = end - start
  if (n > INTERN_MAX_KEY) return buf.toString('utf8', start, end)
  if (n === 0) return ''
  const h = Math.imul(n ^ (buf[start] << 8) ^ (buf[start + (n >>> 1)] << 16) ^ (buf[end - 1] << 24), 0x9e3779b1)
  const slot = h >>> 23 // 9 bits: INTERN_SLOTS
  const cached = internBytes[slot]
  if (cached !== null && cached.length === n) {
    let i = 0
    while (i < n && cached[i] === buf[start + i]) i++
    if (i === n) return internStrings[slot]
  }
  const key = buf.toString('utf8', start, end)
  internBytes[slot] = Uint8Array.prototype.slice.call(buf, start, end)
  internStrings[slot] = key
  return key
}

/** Decode `count` headers at `pos`, within buf[.., end); `ab` and `base` are buf.buffer and buf.byteOffset. */
function decodeHeaders(buf: Buffer, ab: ArrayBufferLike, base: number, end: number, count: number): RecordHeader[] {
  const headers: RecordHeader[] = new Array(count)
  let o = pos
  for (let i = 0; i < count; i++) {
    const at = o
    let kl: number
    let b = buf[o]
    if (o < end && b < 0x80) {
      kl = (b >>> 1) ^ -(b & 1)
      o++
    } else {
      pos = o
      kl = readVarint(buf, end)
      o = pos
    }
    if (kl < 0 || kl > end - o) throw new DecodeError(`bad header key length ${kl} at offset ${at}`, { at })
    const key = headerKey(buf, o, o + kl)
    o += kl
    const vat = o
    let vl: number
    b = buf[o]
    if (o < end && b < 0x80) {
      vl = (b >>> 1) ^ -(b & 1)
      o++
    } else {
      pos = o
      vl = readVarint(buf, end)
      o = pos
    }
    let value: Buffer | null
    if (vl >= 0 && vl <= end - o) {
      value = view(ab, base + o, vl)
      o += vl
    } else if (vl === -1) {
      value = null
    } else {
      throw badLength(vl, 'header value', vat)
    }
    headers[i] = { key, value }
  }
  pos = o
  return headers
}

/** Decode `count` records from buf[start, end), which they must fill exactly. */
function decodeRecords(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  baseOffset: bigint,
  baseTimestamp: number,
  logAppendTime: number,
  topic: string | undefined,
  partition: number,
): KafkaRecord[] {
  if (count > (end - start) / MIN_RECORD_SIZE) {
    throw new DecodeError(`record count ${count} cannot fit in ${end - start} bytes`, { at: start })
  }
  const records: KafkaRecord[] = new Array(count)
  const ab = buf.buffer
  const base = buf.byteOffset
  let o = start
  for (let i = 0; i < count; i++) {
    const at = o
    // Each field: one- or two-byte varints inline, in bounds; the helpers otherwise (they throw).
    let size: number
    let b = buf[o]
    let c: number
    if (o < end && b < 0x80) {
      size = (b >>> 1) ^ -(b & 1)
      o++
    } else if (o + 1 < end && (c = buf[o + 1]) < 0x80) {
      const z = (b & 0x7f) | (c << 7)
      size = (z >>> 1) ^ -(z & 1)
      o += 2
    } else {
      pos = o
      size = readVarint(buf, end)
      o = pos
    }
    const recordStart = o
    if (size < MIN_RECORD_SIZE - 1 || size > end - recordStart) {
      throw new DecodeError(`bad record length ${size} at offset ${at}`, { at })
    }
    const recordEnd = recordStart + size
    o++ // record attributes: unused
    let timestampDelta: number
    b = buf[o]
    if (o < recordEnd && b < 0x80) {
      timestampDelta = (b >>> 1) ^ -(b & 1)
      o++
    } else if (o + 1 < recordEnd && (c = buf[o + 1]) < 0x80) {
      const z = (b & 0x7f) | (c << 7)
      timestampDelta = (z >>> 1) ^ -(z & 1)
      o += 2
    } else {
      pos = o
      timestampDelta = readVarlong(buf, recordEnd)
      o = pos
    }
    let offsetDelta: number
    b = buf[o]
    if (o < recordEnd && b < 0x80) {
      offsetDelta = (b >>> 1) ^ -(b & 1)
      o++
    } else if (o + 1 < recordEnd && (c = buf[o + 1]) < 0x80) {
      const z = (b & 0x7f) | (c << 7)
      offsetDelta = (z >>> 1) ^ -(z & 1)
      o += 2
    } else {
      pos = o
      offsetDelta = readVarint(buf, recordEnd)
      o = pos
    }
    // key
    let kat = o
    let n: number
    b = buf[o]
    if (o < recordEnd && b < 0x80) {
      n = (b >>> 1) ^ -(b & 1)
      o++
    } else if (o + 1 < recordEnd && (c = buf[o + 1]) < 0x80) {
      const z = (b & 0x7f) | (c << 7)
      n = (z >>> 1) ^ -(z & 1)
      o += 2
    } else {
      pos = o
      n = readVarint(buf, recordEnd)
      o = pos
    }
    let key: Buffer | null
    if (n >= 0 && n <= recordEnd - o) {
      key = view(ab, base + o, n)
      o += n
    } else if (n === -1) {
      key = null
    } else {
      throw badLength(n, 'key', kat)
    }
    // value
    kat = o
    b = buf[o]
    if (o < recordEnd && b < 0x80) {
      n = (b >>> 1) ^ -(b & 1)
      o++
    } else if (o + 1 < recordEnd && (c = buf[o + 1]) < 0x80) {
      const z = (b & 0x7f) | (c << 7)
      n = (z >>> 1) ^ -(z & 1)
      o += 2
    } else {
      pos = o
      n = readVarint(buf, recordEnd)
      o = pos
    }
    let value: Buffer | null
    if (n >= 0 && n <= recordEnd - o) {
      value = view(ab, base + o, n)
      o += n
    } else if (n === -1) {
      value = null
    } else {
      throw badLength(n, 'value', kat)
    }
    // headers
    const hat = o
    let headerCount: number
    b = buf[o]
    if (o < recordEnd && b < 0x80) {
      headerCount = (b >>> 1) ^ -(b & 1)
      o++
    } else {
      pos = o
      headerCount = readVarint(buf, recordEnd)
      o = pos
    }
    if (headerCount < 0 || headerCount > recordEnd - o) {
      throw new DecodeError(`bad header count ${headerCount} at offset ${hat}`, { at: hat })
    }
    let headers: readonly RecordHeader[] = EMPTY_HEADERS
    if (headerCount !== 0) {
      pos = o
      headers = decodeHeaders(buf, ab, base, recordEnd, headerCount)
      o = pos
    }
    if (o !== recordEnd) {
      throw new DecodeError(`record at offset ${at} declares ${size} bytes but holds ${o - recordStart}`, { at })
    }
    // BigInt of an int32 is cheap (a Smi); BigInt of a double beyond 2^31 (a large base + delta) is 4x dearer.
    const offset = baseOffset + BigInt(offsetDelta)
    const timestamp = logAppendTime >= 0 ? logAppendTime : baseTimestamp + timestampDelta
    if (topic === undefined) records[i] = { offset, timestamp, key, value, headers }
    else {
      const tagged: TaggedRecord = { topic, partition, offset, timestamp, key, value, headers }
      records[i] = tagged
    }
  }
  pos = o
  if (o !== end) throw new DecodeError(`${end - o} bytes left after the last record of the batch`, { at: o })
  return records
}

function readInt64n(buf: Buffer, o: number): number {
  return buf.readInt32BE(o) * 0x100000000 + buf.readUInt32BE(o + 4)
}

/** Decode the control record key (version int16, type int16) of a control batch's record. */
export function controlRecordType(key: Buffer | null): number {
  if (key === null || key.length < 4) throw new DecodeError('control record key shorter than 4 bytes')
  const version = key.readInt16BE(0)
  if (version < 0) throw new DecodeError(`control record key version ${version}`)
  return key.readInt16BE(2)
}

/** The value of an ABORT or COMMIT control record (EndTransactionMarker). */
export function decodeEndTransactionMarker(value: Buffer | null): { version: number; coordinatorEpoch: number } {
  if (value === null || value.length < 6) throw new DecodeError('end transaction marker shorter than 6 bytes')
  const version = value.readInt16BE(0)
  if (version < 0) throw new DecodeError(`end transaction marker version ${version}`)
  return { version, coordinatorEpoch: value.readInt32BE(2) }
}

/** Decode one magic-2 batch occupying buf[start, end). Throws DecodeError; the caller adds context. */
function decodeBatchV2(buf: Buffer, start: number, end: number, opts: DecodeRecordBatchesOptions): RecordBatch {
  const baseOffset = buf.readBigInt64BE(start)
  const crc = buf.readUInt32BE(start + CRC_OFFSET)
  if (opts.verifyCrc !== false) {
    const computed = crc32c(buf.subarray(start + ATTRIBUTES_OFFSET, end))
    if (computed !== crc) {
      throw new DecodeError(`CRC-32C mismatch: stored 0x${crc.toString(16)}, computed 0x${computed.toString(16)}`, {
        at: start + CRC_OFFSET,
      })
    }
  }
  const attributes = buf.readInt16BE(start + ATTRIBUTES_OFFSET)
  const codec = attributes & COMPRESSION_MASK
  const compression = compressionName(codec)
  if (compression === undefined) throw new DecodeError(`unknown compression codec id ${codec}`, { at: start + 21 })
  const timestampType = attributes & TIMESTAMP_TYPE_FLAG ? TimestampType.LogAppendTime : TimestampType.CreateTime
  const firstTimestamp = readInt64n(buf, start + 27)
  const maxTimestamp = readInt64n(buf, start + 35)
  const count = buf.readInt32BE(start + 57)
  if (count < 0) throw new DecodeError(`negative record count ${count}`, { at: start + 57 })
  let records: KafkaRecord[]
  const logAppendTime = timestampType === TimestampType.LogAppendTime ? maxTimestamp : -1
  const topic = opts.tagged === true ? (opts.topic ?? '') : undefined
  const partition = opts.partition ?? 0
  if (count === 0) {
    records = []
  } else if (codec === 0) {
    records = decodeRecords(
      buf,
      start + RECORD_BATCH_OVERHEAD,
      end,
      count,
      baseOffset,
      firstTimestamp,
      logAppendTime,
      topic,
      partition,
    )
  } else {
    const payload = decompress(
      codec,
      buf.subarray(start + RECORD_BATCH_OVERHEAD, end),
      opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
    )
    records = decodeRecords(
      payload,
      0,
      payload.length,
      count,
      baseOffset,
      firstTimestamp,
      logAppendTime,
      topic,
      partition,
    )
  }
  const isControl = (attributes & CONTROL_FLAG) !== 0
  return {
    baseOffset,
    batchLength: end - start - LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(start + 12),
    magic: 2,
    crc,
    attributes,
    compression,
    timestampType,
    isTransactional: (attributes & TRANSACTIONAL_FLAG) !== 0,
    isControl,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_FLAG) !== 0,
    lastOffsetDelta: buf.readInt32BE(start + 23),
    firstTimestamp,
    maxTimestamp,
    producerId: buf.readBigInt64BE(start + 43),
    producerEpoch: buf.readInt16BE(start + 51),
    baseSequence: buf.readInt32BE(start + 53),
    controlType: isControl && records.length > 0 ? controlRecordType(records[0].key) : -1,
    records,
  }
}

function where(opts: DecodeRecordBatchesOptions): string {
  if (opts.topic === undefined) return opts.partition === undefined ? '' : ` of partition ${opts.partition}`
  return ` of ${opts.topic}-${opts.partition ?? '?'}`
}

/** Re-raise an error met inside a batch as a CorruptRecordError naming the topic, partition and base offset. */
function inBatch(err: unknown, opts: DecodeRecordBatchesOptions, baseOffset: bigint, start: number): Error {
  const place = `batch at offset ${baseOffset}${where(opts)}`
  if (err instanceof CompressionUnavailableError) {
    return new CompressionUnavailableError(err.codec, err.packageName, {
      cause: err.cause,
      topic: opts.topic,
      partition: opts.partition,
    })
  }
  if (err instanceof DecodeError) {
    return new CorruptRecordError(`corrupt record ${place}: ${err.message}`, {
      code: err.code === 'ERR_DECODE' ? 'ERR_CORRUPT_RECORD' : err.code,
      cause: err,
      at: err.at,
      topic: opts.topic,
      partition: opts.partition,
      baseOffset,
    })
  }
  return new CorruptRecordError(`corrupt record ${place}: ${(err as Error)?.message ?? err}`, {
    cause: err,
    at: start,
    topic: opts.topic,
    partition: opts.partition,
    baseOffset,
  })
}

/**
 * Decode the record batches of a Fetch partition's `records` bytes. Several batches may follow each other; a
 * partial batch at the end (brokers cut the response at the fetch size) is skipped, not an error. Batches of
 * magic 0 and 1 (legacy message sets) are decoded into one RecordBatch per legacy message (see
 * legacy-message-set.ts). Every failure is a CorruptRecordError naming the topic, partition and base offset
 * (code 'ERR_CORRUPT_RECORD', or 'ERR_DECOMPRESS' / 'ERR_DECOMPRESS_LIMIT' for compressed payloads), or a
 * CompressionUnavailableError when the codec a batch needs is not installed.
 */
export function decodeRecordBatches(buf: Buffer, options: DecodeRecordBatchesOptions = {}): RecordBatch[] {
  const batches: RecordBatch[] = []
  let o = 0
  while (o >= 0) o = decodeRecordBatchAt(buf, o, options, batches)
  return batches
}

/**
 * Decode the one batch starting at `at` of a Fetch partition's `records` bytes into `out` (a legacy message:
 * one RecordBatch, or several for a compressed wrapper), as decodeRecordBatches does for each: returns where
 * the next batch starts, or -1 when no complete batch starts at `at` (the end, or the partial batch a broker
 * sends at the end of a fetch). For decoding a fetch batch by batch, as records are wanted.
 */
export function decodeRecordBatchAt(
  buf: Buffer,
  at: number,
  options: DecodeRecordBatchesOptions,
  out: RecordBatch[],
): number {
  const end = buf.length
  const o = at
  if (end - o < HEADER_UP_TO_MAGIC) return -1
  const baseOffset = buf.readBigInt64BE(o)
  const length = buf.readInt32BE(o + 8)
  const magic = buf[o + 16]
  const min = magic === 2 ? RECORD_BATCH_OVERHEAD - LOG_OVERHEAD : MIN_LEGACY_SIZE
  if (length < min) {
    throw new CorruptRecordError(
      `record batch at offset ${baseOffset}${where(options)} declares ${length} bytes, less than the ${min} of its header`,
      { at: o + 8, topic: options.topic, partition: options.partition, baseOffset },
    )
  }
  if (length > end - o - LOG_OVERHEAD) return -1 // the partial batch a broker sends at the end of a fetch
  const batchEnd = o + LOG_OVERHEAD + length
  try {
    if (magic === 2) out.push(decodeBatchV2(buf, o, batchEnd, options))
    else if (magic === 0 || magic === 1) decodeLegacyEntry(buf, o, batchEnd, options, out)
    else throw new DecodeError(`unknown magic byte ${magic}`, { at: o + 16 })
  } catch (err) {
    throw inBatch(err, options, baseOffset, o)
  }
  return batchEnd
}

/**
 * Reads the headers alone of a Fetch partition's `records` bytes (nothing is decoded or verified): where its
 * complete batches end, and the offset after the last of them (the next offset to fetch), or null when no
 * batch is complete. A length shorter than a batch header throws, as decoding would.
 */
export function scanRecordBatches(
  buf: Buffer,
  options: DecodeRecordBatchesOptions = {},
): { end: number; nextOffset: bigint } | null {
  const end = buf.length
  let o = 0
  let last = -1
  let lastOffset = 0n
  while (end - o >= HEADER_UP_TO_MAGIC) {
    const length = buf.readInt32BE(o + 8)
    const magic = buf[o + 16]
    const min = magic === 2 ? RECORD_BATCH_OVERHEAD - LOG_OVERHEAD : MIN_LEGACY_SIZE
    if (length < min) {
      const baseOffset = buf.readBigInt64BE(o)
      throw new CorruptRecordError(
        `record batch at offset ${baseOffset}${where(options)} declares ${length} bytes, less than the ${min} of its header`,
        { at: o + 8, topic: options.topic, partition: options.partition, baseOffset },
      )
    }
    if (length > end - o - LOG_OVERHEAD) break
    // A v2 batch ends at baseOffset + lastOffsetDelta; a legacy entry's offset is its (last inner) message's.
    lastOffset = buf.readBigInt64BE(o) + (magic === 2 && end - o >= 27 ? BigInt(buf.readInt32BE(o + 23)) : 0n)
    o += LOG_OVERHEAD + length
    last = o
  }
  return last < 0 ? null : { end: last, nextOffset: lastOffset + 1n }
}
