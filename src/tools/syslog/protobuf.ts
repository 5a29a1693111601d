// Just enough Protocol Buffers to write go_kafka_client's LogLine (syslog/syslog_proto/logline.proto, proto2):
//
//   message LogLine {
//     message Tag { required string key = 1; required string value = 2; }
//     required string line = 1;
//     optional string source = 2;
//     repeated Tag tag = 3;
//     optional int64 logtypeid = 4;
//     repeated int64 timings = 5;    // proto2 without [packed=true]: one field per value
//   }
//
// Wire format: a field is a key varint (field number << 3 | wire type) then its value; wire type 0 is a
// varint, 2 is a length-delimited run of bytes (strings as UTF-8, embedded messages). An int64 is a varint of
// its two's complement: a negative one takes 10 bytes.
import { ConfigError } from '../../client/errors.js'

const VARINT = 0
const LENGTH_DELIMITED = 2
const TWO_64 = 1n << 64n
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

/** A value as the varint of an int64: a non-negative safe integer, or a bigint within int64. */
export type Int64 = number | bigint

function unsigned64(value: Int64): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new ConfigError(`int64 field: ${value} is not an integer`)
    if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) return value
    value = BigInt(value)
  }
  if (value < INT64_MIN || value > INT64_MAX) throw new ConfigError(`int64 field: ${value} is out of range`)
  return value < 0n ? value + TWO_64 : value
}

/** Bytes of the varint of `value` (an int64 as protobuf writes it). */
export function varintSize(value: Int64): number {
  let v = unsigned64(value)
  if (typeof v === 'number') {
    let n = 1
    while (v >= 128) {
      v = Math.floor(v / 128)
      n++
    }
    return n
  }
  let n = 1
  while (v >= 128n) {
    v >>= 7n
    n++
  }
  return n
}

/** Writes the varint of `value` at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, value: Int64): number {
  let v = unsigned64(value)
  if (typeof v === 'number') {
    while (v >= 128) {
      buf[pos++] = (v % 128) | 128
      v = Math.floor(v / 128)
    }
    buf[pos++] = v
    return pos
  }
  while (v >= 128n) {
    buf[pos++] = Number(v & 127n) | 128
    v >>= 7n
  }
  buf[pos++] = Number(v)
  return pos
}

function key(field: number, wireType: number): number {
  return (field << 3) | wireType
}

/** Size of a length-delimited field holding `length` bytes. */
function delimitedSize(field: number, length: number): number {
  return varintSize(key(field, LENGTH_DELIMITED)) + varintSize(length) + length
}

function writeDelimited(buf: Buffer, pos: number, field: number, bytes: Buffer): number {
  pos = writeVarint(buf, pos, key(field, LENGTH_DELIMITED))
  pos = writeVarint(buf, pos, bytes.length)
  return pos + bytes.copy(buf, pos)
}

export interface LogLineTag {
  key: string
  value: string
}

export interface LogLine {
  /** The syslog line as received (bytes are written as they are; a string as UTF-8). */
  line: string | Buffer
  source?: string
  tags?: readonly LogLineTag[]
  logTypeId?: Int64
  /** go_kafka_client writes two: when the line was received and when it was handed to the producer (ms). */
  timings?: readonly Int64[]
}

function encodeTag(tag: LogLineTag): Buffer {
  const k = Buffer.from(tag.key, 'utf8')
  const v = Buffer.from(tag.value, 'utf8')
  const out = Buffer.allocUnsafe(delimitedSize(1, k.length) + delimitedSize(2, v.length))
  writeDelimited(out, writeDelimited(out, 0, 1, k), 2, v)
  return out
}

/**
 * Encodes LogLines that share source, tags and logtypeid: those fields are encoded once, at construction,
 * and each `encode` writes the line, that block and the timings into one Buffer of the exact size.
 */
export class LogLineEncoder {
  /** Fields 2, 3 and 4, encoded. */
  private readonly fixed: Buffer

  constructor(fields: Omit<LogLine, 'line' | 'timings'> = {}) {
    const parts: Buffer[] = []
    if (fields.source !== undefined) {
      const s = Buffer.from(fields.source, 'utf8')
      const b = Buffer.allocUnsafe(delimitedSize(2, s.length))
      writeDelimited(b, 0, 2, s)
      parts.push(b)
    }
    for (const tag of fields.tags ?? []) {
      const t = encodeTag(tag)
      const b = Buffer.allocUnsafe(delimitedSize(3, t.length))
      writeDelimited(b, 0, 3, t)
      parts.push(b)
    }
    if (fields.logTypeId !== undefined) {
      const b = Buffer.allocUnsafe(varintSize(key(4, VARINT)) + varintSize(fields.logTypeId))
      writeVarint(b, writeVarint(b, 0, key(4, VARINT)), fields.logTypeId)
      parts.push(b)
    }
    this.fixed = Buffer.concat(parts)
  }

  encode(line: string | Buffer, timings: readonly Int64[] = []): Buffer {
    const bytes = typeof line === 'string' ? Buffer.from(line, 'utf8') : line
    const timingKey = key(5, VARINT)
    let size = delimitedSize(1, bytes.length) + this.fixed.length
    for (const t of timings) size += 1 + varintSize(t)
    const out = Buffer.allocUnsafe(size)
    let pos = writeDelimited(out, 0, 1, bytes)
    pos += this.fixed.copy(out, pos)
    for (const t of timings) {
      out[pos++] = timingKey
      pos = writeVarint(out, pos, t)
    }
    return out
  }
}

/** Encodes one LogLine. */
export function encodeLogLine(message: LogLine): Buffer {
  return new LogLineEncoder(message).encode(message.line, message.timings ?? [])
}
