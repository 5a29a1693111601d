import { DecodeError } from './errors.js'

const UUID_BYTES = 16

/**
 * A cursor over one Buffer. Byte fields come back as views (`subarray`) into it, so a decoded
 * response keeps its frame alive and copies nothing. Every read checks bounds against `end`
 * and throws DecodeError, so hostile lengths never turn into a RangeError or a large allocation.
 *
 * `compact` parameters select the flexible-version encodings (unsigned varint lengths, +1 biased).
 */
export class Reader {
  readonly buf: Buffer
  offset: number
  end: number

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    this.buf = buf
    this.offset = offset
    this.end = end
  }

  get remaining(): number {
    return this.end - this.offset
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number): void {
    if (n < 0 || this.offset + n > this.end) {
      throw new DecodeError(`need ${n} bytes at offset ${this.offset}, ${this.end - this.offset} left`, {
        at: this.offset,
      })
    }
  }

  int8(): number {
    this.need(1)
    return this.buf.readInt8(this.offset++)
  }

  uint8(): number {
    this.need(1)
    return this.buf[this.offset++]
  }

  boolean(): boolean {
    return this.int8() !== 0
  }

  int16(): number {
    this.need(2)
    const v = this.buf.readInt16BE(this.offset)
    this.offset += 2
    return v
  }

  uint16(): number {
    this.need(2)
    const v = this.buf.readUInt16BE(this.offset)
    this.offset += 2
    return v
  }

  int32(): number {
    this.need(4)
    const v = this.buf.readInt32BE(this.offset)
    this.offset += 4
    return v
  }

  uint32(): number {
    this.need(4)
    const v = this.buf.readUInt32BE(this.offset)
    this.offset += 4
    return v
  }

  int64(): bigint {
    this.need(8)
    const v = this.buf.readBigInt64BE(this.offset)
    this.offset += 8
    return v
  }

  /**
   * An int64 read as a JS number: exact below 2^53, which holds for offsets and timestamps.
   * Avoids a bigint per record on hot paths.
   */
  int64n(): number {
    this.need(8)
    const hi = this.buf.readInt32BE(this.offset)
    const lo = this.buf.readUInt32BE(this.offset + 4)
    this.offset += 8
    return hi * 0x100000000 + lo
  }

  float64(): number {
    this.need(8)
    const v = this.buf.readDoubleBE(this.offset)
    this.offset += 8
    return v
  }

  /** Unsigned LEB128 varint of at most 5 bytes (a 32-bit value). */
  uvarint(): number {
    const buf = this.buf
    let o = this.offset
    let result = 0
    let shift = 0
    for (;;) {
      if (o >= this.end) throw new DecodeError(`varint runs past the end at offset ${this.offset}`, { at: this.offset })
      const b = buf[o++]
      if (shift === 28) {
        if (b > 0x0f) throw new DecodeError(`varint longer than 32 bits at offset ${this.offset}`, { at: this.offset })
        result += b * 0x10000000
        break
      }
      result |= (b & 0x7f) << shift
      if (b < 0x80) break
      shift += 7
    }
    this.offset = o
    return result >>> 0
  }

  /** Zigzag varint of a signed 32-bit value. */
  varint(): number {
    const z = this.uvarint()
    return (z >>> 1) ^ -(z & 1)
  }

  /**
   * Zigzag varlong read as a JS number (exact for |v| <= 2^53 - 1). Throws on values beyond that:
   * use varlongBig for the full int64 range.
   */
  varlong(): number {
    const buf = this.buf
    let o = this.offset
    // The zigzag value z = hi * 2^28 + lo, kept in two exact parts: z itself may need 54+ bits.
    let lo = 0
    let hi = 0
    let mul = 1
    for (let i = 0; ; i++) {
      if (o >= this.end)
        throw new DecodeError(`varlong runs past the end at offset ${this.offset}`, { at: this.offset })
      if (i === 8) throw new DecodeError(`varlong beyond 2^53 at offset ${this.offset}`, { at: this.offset })
      const b = buf[o++]
      if (i < 4) lo += (b & 0x7f) * mul
      else hi += (b & 0x7f) * mul
      if (b < 0x80) break
      mul = i === 3 ? 1 : mul * 0x80
    }
    // Un-zigzag: z even -> z / 2, z odd -> -(z + 1) / 2; computed as hi * 2^27 + (lo or lo + 1) / 2.
    const odd = lo & 1
    const half = hi * 0x8000000 + (lo + odd) / 2
    if (half > Number.MAX_SAFE_INTEGER) {
      throw new DecodeError(`varlong beyond 2^53 at offset ${this.offset}`, { at: this.offset })
    }
    this.offset = o
    return odd === 1 ? -half : half
  }

  /** Zigzag varlong over the full int64 range. */
  varlongBig(): bigint {
    let z = 0n
    let shift = 0n
    for (let i = 0; ; i++) {
      if (this.offset >= this.end) throw new DecodeError('varlong runs past the end', { at: this.offset })
      if (i === 10) throw new DecodeError(`varlong longer than 64 bits at offset ${this.offset}`, { at: this.offset })
      const b = this.buf[this.offset++]
      z |= BigInt(b & 0x7f) << shift
      if (b < 0x80) break
      shift += 7n
    }
    z = BigInt.asUintN(64, z)
    return (z >> 1n) ^ -(z & 1n)
  }

  /** `n` raw bytes as a view. */
  raw(n: number): Buffer {
    this.need(n)
    const start = this.offset
    this.offset += n
    return this.buf.subarray(start, this.offset)
  }

  skip(n: number): void {
    this.need(n)
    this.offset += n
  }

  /** UTF-8 text of `n` bytes. */
  utf8(n: number): string {
    this.need(n)
    const start = this.offset
    this.offset += n
    return this.buf.toString('utf8', start, this.offset)
  }

  /** Length of a string or bytes field; -1 means null. */
  private length(compact: boolean, int16: boolean): number {
    if (compact) return this.uvarint() - 1
    return int16 ? this.int16() : this.int32()
  }

  string(compact: boolean): string {
    const at = this.offset
    const n = this.length(compact, true)
    if (n < 0) throw new DecodeError(`null where a non-nullable string was expected at offset ${at}`, { at })
    return this.utf8(n)
  }

  nullableString(compact: boolean): string | null {
    const at = this.offset
    const n = this.length(compact, true)
    if (n === -1) return null
    if (n < -1) throw new DecodeError(`negative string length ${n} at offset ${at}`, { at })
    return this.utf8(n)
  }

  bytes(compact: boolean): Buffer {
    const at = this.offset
    const n = this.length(compact, false)
    if (n < 0) throw new DecodeError(`null where non-nullable bytes were expected at offset ${at}`, { at })
    return this.raw(n)
  }

  nullableBytes(compact: boolean): Buffer | null {
    const at = this.offset
    const n = this.length(compact, false)
    if (n === -1) return null
    if (n < -1) throw new DecodeError(`negative bytes length ${n} at offset ${at}`, { at })
    return this.raw(n)
  }

  /**
   * Element count of an array. Every element of every Kafka array takes at least one byte, so a
   * count above the bytes left is corrupt: rejecting it here keeps a hostile count from sizing
   * an allocation or a loop.
   */
  arrayLength(compact: boolean): number {
    const at = this.offset
    const n = compact ? this.uvarint() - 1 : this.int32()
    if (n < 0) throw new DecodeError(`null or negative array length ${n} at offset ${at}`, { at })
    if (n > this.end - this.offset) {
      throw new DecodeError(`array of ${n} elements cannot fit in ${this.end - this.offset} bytes at offset ${at}`, {
        at,
      })
    }
    return n
  }

  /** Element count of a nullable array; -1 means null. */
  nullableArrayLength(compact: boolean): number {
    const at = this.offset
    const n = compact ? this.uvarint() - 1 : this.int32()
    if (n === -1) return -1
    if (n < -1) throw new DecodeError(`negative array length ${n} at offset ${at}`, { at })
    if (n > this.end - this.offset) {
      throw new DecodeError(`array of ${n} elements cannot fit in ${this.end - this.offset} bytes at offset ${at}`, {
        at,
      })
    }
    return n
  }

  /** A Kafka UUID in Kafka's own text form (22 chars of unpadded base64url, as Uuid.toString prints it). */
  uuid(): string {
    this.need(UUID_BYTES)
    const start = this.offset
    this.offset += UUID_BYTES
    return this.buf.toString('base64url', start, this.offset)
  }

  /** Skip a tagged-field section whose tags we do not use. */
  skipTaggedFields(): void {
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint()
      this.skip(this.uvarint())
    }
  }

  /**
   * Read a tagged-field section. `onTag` is called for each tag with a reader bounded to that
   * field; it returns false for tags it does not know, which are skipped.
   */
  taggedFields(onTag: (tag: number, r: Reader) => boolean | undefined): void {
    const count = this.uvarint()
    let last = -1
    for (let i = 0; i < count; i++) {
      const at = this.offset
      const tag = this.uvarint()
      if (tag <= last) throw new DecodeError(`tagged fields out of order at offset ${at}`, { at })
      last = tag
      const size = this.uvarint()
      this.need(size)
      const end = this.offset + size
      const saved = this.end
      this.end = end
      try {
        onTag(tag, this)
      } finally {
        this.end = saved
      }
      this.offset = end
    }
  }

  /** Assert that the whole buffer was consumed: a frame with trailing bytes is a codec mismatch. */
  expectEnd(what = 'frame'): void {
    if (this.offset !== this.end) {
      throw new DecodeError(`${this.end - this.offset} unread bytes at the end of the ${what}`, { at: this.offset })
    }
  }
}
