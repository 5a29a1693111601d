// Legacy message sets (message format v0 and v1, "magic 0" and "magic 1"): read-only.
//
// Decision: we decode them, we never write them. Brokers before 4.0 may still hold (and return in Fetch
// responses) data written before Kafka 0.11 in these formats, and a consumer that throws on it could not read
// those topics at all; the decoder is small. Each legacy message becomes one RecordBatch (magic 0 or 1), as
// the Java client treats it: an uncompressed message gives a batch of one record; a compressed "wrapper"
// message gives a batch of its inner messages.
//
// Message (after offset int64 and size int32):
//   crc uint32 (CRC-32, IEEE, of magic..end) | magic int8 | attributes int8 (bits 0-2 compression, bit 3
//   timestamp type, v1) | timestamp int64 (v1 only) | key int32-length bytes (-1 null) | value int32-length bytes
// A compressed wrapper's value is a compressed message set of inner messages. In v1 the inner offsets are
// relative (0..n-1) and the wrapper's offset is the last inner message's absolute offset; in v0 they are
// absolute. LZ4 wrappers of magic 0 carry the frame header checksum Kafka 0.8-0.9 computed wrongly; we repair
// it before decompressing, as the Java client ignores it.
import { crc32 as zlibCrc32 } from 'node:zlib'
import { compressionName, DEFAULT_MAX_DECOMPRESSED_BYTES, decompress } from './compression.js'
import { DecodeError } from './errors.js'
import type { DecodeRecordBatchesOptions, KafkaRecord, RecordBatch, RecordHeader } from './record-batch.js'

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([])
const LOG_OVERHEAD = 12
/** crc, magic, attributes, key length, value length. */
const V0_OVERHEAD = 14
const V1_OVERHEAD = 22

// CRC-32 (IEEE): zlib.crc32 from Node 20.15 / 22.2, else a byte-wise table.
let crc32Table: Int32Array | undefined
function crc32(buf: Buffer): number {
  if (typeof zlibCrc32 === 'function') return zlibCrc32(buf) >>> 0
  if (crc32Table === undefined) {
    crc32Table = new Int32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
      crc32Table[n] = c
    }
  }
  let crc = -1
  for (let i = 0; i < buf.length; i++) crc = crc32Table[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ -1) >>> 0
}

/** xxHash32 (seed 0) of fewer than 16 bytes: enough for an LZ4 frame descriptor. */
function xxh32Short(buf: Buffer, start: number, end: number): number {
  const P1 = 2654435761
  const P2 = 2246822519
  const P3 = 3266489917
  const P4 = 668265263
  const P5 = 374761393
  let h = (P5 + (end - start)) | 0
  let i = start
  for (; i + 4 <= end; i += 4) {
    h = (h + Math.imul(buf.readUInt32LE(i), P3)) | 0
    h = Math.imul((h << 17) | (h >>> 15), P4)
  }
  for (; i < end; i++) {
    h = (h + Math.imul(buf[i], P5)) | 0
    h = Math.imul((h << 11) | (h >>> 21), P1)
  }
  h ^= h >>> 15
  h = Math.imul(h, P2)
  h ^= h >>> 13
  h = Math.imul(h, P3)
  h ^= h >>> 16
  return h >>> 0
}

/** A copy of an LZ4 frame with its header checksum recomputed (magic-0 wrappers wrote it over the wrong bytes). */
function repairLz4HeaderChecksum(frame: Buffer): Buffer {
  if (frame.length < 7 || frame.readUInt32LE(0) !== 0x184d2204) return frame
  const flg = frame[4]
  const descriptorEnd = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0)
  if (descriptorEnd >= frame.length) return frame
  const copy = Buffer.from(frame)
  copy[descriptorEnd] = (xxh32Short(copy, 4, descriptorEnd) >>> 8) & 0xff
  return copy
}

interface LegacyMessage {
  magic: number
  attributes: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  crc: number
}

function readBytes(buf: Buffer, o: number, end: number, what: string): number {
  if (o + 4 > end) throw new DecodeError(`legacy message ${what} length runs past its end`, { at: o })
  const n = buf.readInt32BE(o)
  if (n < -1) throw new DecodeError(`negative legacy message ${what} length ${n}`, { at: o })
  if (n > end - o - 4) throw new DecodeError(`legacy message ${what} of ${n} bytes runs past its end`, { at: o })
  return n
}

/** Parse the message in buf[start, end) (start at its crc, after offset and size). */
function parseMessage(buf: Buffer, start: number, end: number, verifyCrc: boolean): LegacyMessage {
  const magic = buf[start + 4]
  if (magic > 1) throw new DecodeError(`legacy message with magic ${magic}`, { at: start + 4 })
  const crc = buf.readUInt32BE(start)
  if (end - start < (magic === 0 ? V0_OVERHEAD : V1_OVERHEAD)) {
    throw new DecodeError(`legacy message of ${end - start} bytes is shorter than its header`, { at: start })
  }
  if (verifyCrc) {
    const computed = crc32(buf.subarray(start + 4, end))
    if (computed !== crc) {
      throw new DecodeError(`CRC-32 mismatch: stored 0x${crc.toString(16)}, computed 0x${computed.toString(16)}`, {
        at: start,
      })
    }
  }
  const attributes = buf[start + 5]
  let o = start + 6
  let timestamp = -1
  if (magic === 1) {
    timestamp = buf.readInt32BE(o) * 0x100000000 + buf.readUInt32BE(o + 4)
    o += 8
  }
  const kl = readBytes(buf, o, end, 'key')
  o += 4
  const key = kl < 0 ? null : buf.subarray(o, o + kl)
  o += Math.max(kl, 0)
  const vl = readBytes(buf, o, end, 'value')
  o += 4
  const value = vl < 0 ? null : buf.subarray(o, o + vl)
  o += Math.max(vl, 0)
  if (o !== end) throw new DecodeError(`${end - o} bytes left after a legacy message`, { at: o })
  return { magic, attributes, timestamp, key, value, crc }
}

function legacyBatch(
  baseOffset: bigint,
  batchLength: number,
  m: LegacyMessage,
  lastOffsetDelta: number,
  firstTimestamp: number,
  maxTimestamp: number,
  records: KafkaRecord[],
): RecordBatch {
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch: -1,
    magic: m.magic,
    crc: m.crc,
    attributes: m.attributes,
    compression: compressionName(m.attributes & 7) ?? 'none',
    timestampType: m.magic === 1 && m.attributes & 0x08 ? 1 : 0,
    isTransactional: false,
    isControl: false,
    hasDeleteHorizon: false,
    lastOffsetDelta,
    firstTimestamp,
    maxTimestamp,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    controlType: -1,
    records,
  }
}

/**
 * Decode the legacy message in buf[start, end) (offset, size, message) into `out`: one RecordBatch. Throws
 * DecodeError; the caller names the topic and partition.
 */
export function decodeLegacyEntry(
  buf: Buffer,
  start: number,
  end: number,
  opts: DecodeRecordBatchesOptions,
  out: RecordBatch[],
): void {
  const verifyCrc = opts.verifyCrc !== false
  const offset = buf.readBigInt64BE(start)
  const m = parseMessage(buf, start + LOG_OVERHEAD, end, verifyCrc)
  const codec = m.attributes & 7
  if (codec === 0) {
    const record: KafkaRecord = { offset, timestamp: m.timestamp, key: m.key, value: m.value, headers: NO_HEADERS }
    out.push(legacyBatch(offset, end - start - LOG_OVERHEAD, m, 0, m.timestamp, m.timestamp, [record]))
    return
  }
  if (codec > 3) throw new DecodeError(`legacy message with compression codec ${codec}`, { at: start + 17 })
  if (m.value === null) throw new DecodeError('compressed legacy message with a null value', { at: start })
  const compressed = codec === 3 && m.magic === 0 ? repairLz4HeaderChecksum(m.value) : m.value
  const inner = decompress(codec, compressed, opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES)

  // Inner message set: offset int64, size int32, message; fully parsed first (v1 offsets need the last one).
  const messages: LegacyMessage[] = []
  const offsets: bigint[] = []
  let o = 0
  while (o < inner.length) {
    if (inner.length - o < LOG_OVERHEAD) throw new DecodeError('truncated inner legacy message', { at: o })
    const size = inner.readInt32BE(o + 8)
    if (size < V0_OVERHEAD || size > inner.length - o - LOG_OVERHEAD) {
      throw new DecodeError(`inner legacy message of impossible size ${size}`, { at: o + 8 })
    }
    const im = parseMessage(inner, o + LOG_OVERHEAD, o + LOG_OVERHEAD + size, verifyCrc)
    if ((im.attributes & 7) !== 0) throw new DecodeError('compressed inner legacy message', { at: o })
    messages.push(im)
    offsets.push(inner.readBigInt64BE(o))
    o += LOG_OVERHEAD + size
  }
  if (messages.length === 0) throw new DecodeError('compressed legacy message set with no inner messages')

  let base = 0n
  if (m.magic === 1) {
    const lastInner = offsets[offsets.length - 1]
    // A wrapper offset of 0 comes from some librdkafka versions' produce data: inner offsets are then absolute.
    if (offset !== 0n) {
      if (offset < lastInner) throw new DecodeError(`wrapper offset ${offset} below inner offset ${lastInner}`)
      base = offset - lastInner
    }
  }
  const logAppendTime = m.magic === 1 && m.attributes & 0x08 ? m.timestamp : -1
  const records: KafkaRecord[] = new Array(messages.length)
  let maxTimestamp = -1
  for (let i = 0; i < messages.length; i++) {
    const im = messages[i]
    const timestamp = im.magic === 0 ? -1 : logAppendTime >= 0 ? logAppendTime : im.timestamp
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
    records[i] = { offset: base + offsets[i], timestamp, key: im.key, value: im.value, headers: NO_HEADERS }
  }
  const first = records[0].offset
  const last = records[records.length - 1].offset
  out.push(
    legacyBatch(
      first,
      end - start - LOG_OVERHEAD,
      m,
      Number(last - first),
      records[0].timestamp,
      maxTimestamp,
      records,
    ),
  )
}
