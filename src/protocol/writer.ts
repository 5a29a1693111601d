import { EncodeError } from './errors.js'

const EMPTY = Buffer.alloc(0)
const UUID_BYTES = 16
const MAX_INT16 = 0x7fff

/**
 * One growable buffer that a whole request is encoded into. Sizes that are only known afterwards
 * (frame length, record batch length, CRC) are reserved and patched in place, so nothing is
 * encoded into a temporary buffer and concatenated later.
 *
 * `compact` parameters select the flexible-version encodings (unsigned varint lengths, +1 biased).
 */
export class Writer {
  buf: Buffer
  offset = 0

  constructor(initialSize = 1024) {
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  /** Make room for `n` more bytes; growth is geometric so a request never copies more than ~2x its size. */
  ensure(n: number): void {
    const need = this.offset + n
    if (need <= this.buf.length) return
    let size = this.buf.length * 2
    if (size < need) size = need + (need >>> 1)
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.offset)
    this.buf = next
  }

  /** Start over, keeping the allocated buffer (the previous result must no longer be in use). */
  reset(): this {
    this.offset = 0
    return this
  }

  /** A view of what was written: valid until the next write or reset. */
  view(): Buffer {
    return this.buf.subarray(0, this.offset)
  }

  /** An owned copy of what was written. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.offset))
  }

  int8(v: number): this {
    this.ensure(1)
    this.buf[this.offset++] = v & 0xff
    return this
  }

  boolean(v: boolean): this {
    return this.int8(v ? 1 : 0)
  }

  int16(v: number): this {
    this.ensure(2)
    this.offset = this.buf.writeInt16BE(v, this.offset)
    return this
  }

  uint16(v: number): this {
    this.ensure(2)
    this.offset = this.buf.writeUInt16BE(v, this.offset)
    return this
  }

  int32(v: number): this {
    this.ensure(4)
    this.offset = this.buf.writeInt32BE(v, this.offset)
    return this
  }

  uint32(v: number): this {
    this.ensure(4)
    this.offset = this.buf.writeUInt32BE(v, this.offset)
    return this
  }

  int64(v: bigint): this {
    this.ensure(8)
    this.offset = this.buf.writeBigInt64BE(v, this.offset)
    return this
  }

  /** An int64 given as a JS number (timestamps, offsets below 2^53): avoids a bigint on hot paths. */
  int64n(v: number): this {
    this.ensure(8)
    const hi = Math.floor(v / 0x100000000)
    this.buf.writeInt32BE(hi, this.offset)
    this.buf.writeUInt32BE(v - hi * 0x100000000, this.offset + 4)
    this.offset += 8
    return this
  }

  float64(v: number): this {
    this.ensure(8)
    this.offset = this.buf.writeDoubleBE(v, this.offset)
    return this
  }

  /** Unsigned LEB128 varint of a 32-bit value. */
  uvarint(v: number): this {
    this.ensure(5)
    const buf = this.buf
    let o = this.offset
    v >>>= 0
    while (v > 0x7f) {
      buf[o++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buf[o++] = v
    this.offset = o
    return this
  }

  /** Zigzag varint of a signed 32-bit value. */
  varint(v: number): this {
    return this.uvarint((v << 1) ^ (v >> 31))
  }

  /** Zigzag varlong of a safe integer (|v| <= 2^53 - 1). */
  varlong(v: number): this {
    if (v >= -0x40000000 && v < 0x40000000) return this.varint(v)
    if (!Number.isSafeInteger(v)) throw new EncodeError(`varlong needs a safe integer, got ${v}`)
    // Zigzag in floating point is exact while z = 2|v| (- 1) stays below 2^53, i.e. |v| < 2^52,
    // which covers every timestamp and offset delta. Beyond that an odd z is not representable.
    if (v >= 0x10000000000000 || v <= -0x10000000000000) return this.varlongBig(BigInt(v))
    let z = v >= 0 ? v * 2 : -v * 2 - 1
    this.ensure(10)
    const buf = this.buf
    let o = this.offset
    while (z >= 0x80) {
      buf[o++] = (z % 0x80) | 0x80
      z = Math.floor(z / 0x80)
    }
    buf[o++] = z
    this.offset = o
    return this
  }

  /** Zigzag varlong over the full int64 range. */
  varlongBig(v: bigint): this {
    let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))
    this.ensure(10)
    while (z >= 0x80n) {
      this.buf[this.offset++] = Number(z & 0x7fn) | 0x80
      z >>= 7n
    }
    this.buf[this.offset++] = Number(z)
    return this
  }

  /** Raw bytes with no length prefix. */
  raw(src: Uint8Array): this {
    this.ensure(src.length)
    this.buf.set(src, this.offset)
    this.offset += src.length
    return this
  }

  /** Raw UTF-8 bytes with no length prefix. */
  utf8(value: string, byteLength: number): this {
    this.ensure(byteLength)
    this.offset += this.buf.write(value, this.offset, byteLength, 'utf8')
    return this
  }

  string(value: string, compact: boolean): this {
    const n = Buffer.byteLength(value, 'utf8')
    if (compact) this.uvarint(n + 1)
    else {
      if (n > MAX_INT16) throw new EncodeError(`string of ${n} bytes is longer than an int16 length allows`)
      this.int16(n)
    }
    return this.utf8(value, n)
  }

  nullableString(value: string | null | undefined, compact: boolean): this {
    if (value == null) return compact ? this.uvarint(0) : this.int16(-1)
    return this.string(value, compact)
  }

  bytes(value: Uint8Array, compact: boolean): this {
    if (compact) this.uvarint(value.length + 1)
    else this.int32(value.length)
    return this.raw(value)
  }

  nullableBytes(value: Uint8Array | null | undefined, compact: boolean): this {
    if (value == null) return compact ? this.uvarint(0) : this.int32(-1)
    return this.bytes(value, compact)
  }

  /** Array length prefix: int32 in classic versions, unsigned varint of n+1 in flexible ones. */
  arrayLength(n: number, compact: boolean): this {
    return compact ? this.uvarint(n + 1) : this.int32(n)
  }

  /** Length prefix of a nullable array (-1 / 0 encode null). */
  nullableArrayLength(n: number | null, compact: boolean): this {
    if (n === null) return compact ? this.uvarint(0) : this.int32(-1)
    return this.arrayLength(n, compact)
  }

  /** A Kafka UUID given in Kafka's own text form (22 chars of unpadded base64url) or as 16 bytes. */
  uuid(value: string | Uint8Array | null | undefined): this {
    this.ensure(UUID_BYTES)
    if (value == null) {
      this.buf.fill(0, this.offset, this.offset + UUID_BYTES)
    } else if (typeof value === 'string') {
      const written = this.buf.write(value, this.offset, UUID_BYTES, 'base64url')
      if (written !== UUID_BYTES || value.length !== 22) throw new EncodeError(`not a Kafka UUID: ${value}`)
    } else {
      if (value.length !== UUID_BYTES) throw new EncodeError(`a UUID has 16 bytes, got ${value.length}`)
      this.buf.set(value, this.offset)
    }
    this.offset += UUID_BYTES
    return this
  }

  /** The tagged-field section of a flexible struct when we send no tagged fields. */
  emptyTaggedFields(): this {
    return this.int8(0)
  }

  /**
   * A tagged-field section. Each entry writes its value with `write`; its size prefix is patched
   * afterwards. Entries must be in ascending tag order.
   */
  taggedFields(fields: ReadonlyArray<readonly [tag: number, write: (w: Writer) => void]>): this {
    this.uvarint(fields.length)
    for (const [tag, write] of fields) {
      this.uvarint(tag)
      // Sizes of our tagged fields are small; reserve one varint byte and widen if needed.
      const sizeAt = this.offset
      this.int8(0)
      const start = this.offset
      write(this)
      this.patchUvarint1(sizeAt, start)
    }
    return this
  }

  /** Rewrite a one-byte size placeholder at `at` with the size of [start, offset), shifting if it needs more bytes. */
  private patchUvarint1(at: number, start: number): void {
    const size = this.offset - start
    if (size < 0x80) {
      this.buf[at] = size
      return
    }
    let extra = 0
    for (let v = size >>> 7; v > 0; v >>>= 7) extra++
    this.ensure(extra)
    this.buf.copy(this.buf, start + extra, start, this.offset)
    const end = this.offset + extra
    this.offset = at
    this.uvarint(size)
    this.offset = end
  }

  /** Reserve 4 bytes to be filled in by patchInt32; returns their position. */
  reserveInt32(): number {
    this.ensure(4)
    const at = this.offset
    this.offset += 4
    return at
  }

  patchInt32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at)
  }

  patchUint32(at: number, v: number): void {
    this.buf.writeUInt32BE(v, at)
  }

  /** Reserve `n` bytes to be filled in later; returns their position. */
  reserve(n: number): number {
    this.ensure(n)
    const at = this.offset
    this.offset += n
    return at
  }

  static readonly EMPTY = EMPTY
}
