// Random values for a message at a version, in the shapes of CODEC-CONVENTIONS.md, from a
// fixed-seed PRNG so every failure reproduces.

import { type FieldSpec, fieldIn, isNullableIn, isTaggedIn, type MessageSpec, type TypeSpec } from './schema.js'
import { defaultOf, isDefaultValue } from './values.js'

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface GenerateOptions {
  /** Probability that a nullable (non-tagged) field is null. */
  nullRate?: number
  /** Longest generated array. */
  maxArray?: number
  /** How request `records` values are given: Buffers, EncodableRecords, or both alternately. */
  records?: 'buffer' | 'encodable' | 'mixed'
  /** Give tagged fields their defaults (so they are left off the wire) instead of other values. */
  taggedDefaults?: boolean
  /** Shortest generated array (0 unless told). */
  minArray?: number
}

// ASCII plus 2-, 3- and 4-byte UTF-8 sequences, so byte and character lengths differ.
const CHARS = ['a', 'b', 'z', 'K', '0', '9', '-', '_', '.', ' ', 'é', 'ß', '€', '中', '😀']

export class Generator {
  readonly rand: () => number
  private readonly nullRate: number
  private readonly maxArray: number
  private readonly records: 'buffer' | 'encodable' | 'mixed'
  private readonly taggedDefaults: boolean
  private readonly minArray: number
  private recordsToggle = false

  constructor(seed: number, opts: GenerateOptions = {}) {
    this.rand = prng(seed)
    this.nullRate = opts.nullRate ?? 0.2
    this.maxArray = opts.maxArray ?? 3
    this.records = opts.records ?? 'buffer'
    this.taggedDefaults = opts.taggedDefaults ?? false
    this.minArray = opts.minArray ?? 0
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1))
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]
  }

  /** An object for `message` at `version`: every field of that version, tagged ones non-default. */
  message(message: MessageSpec, version: number): Record<string, unknown> {
    return this.struct(message.fields, version)
  }

  struct(fields: readonly FieldSpec[], version: number): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const f of fields) {
      if (!fieldIn(f, version)) continue
      out[f.key] = this.field(f, version)
    }
    return out
  }

  field(f: FieldSpec, version: number): unknown {
    const tagged = isTaggedIn(f, version)
    if (!tagged) {
      if (isNullableIn(f, version) && this.rand() < this.nullRate) return null
      return this.value(f.type, version, f)
    }
    if (this.taggedDefaults) return defaultOf(f)
    // Tagged fields are written only when they differ from their default: make sure they do, so
    // a decoder that forgets one is caught.
    for (let i = 0; i < 20; i++) {
      const v = this.value(f.type, version, f, true)
      if (!isDefaultValue(f, v, version)) return v
    }
    throw new Error(`cannot generate a non-default value for tagged field ${f.name}`)
  }

  value(t: TypeSpec, version: number, f: FieldSpec, nonEmpty = false): unknown {
    if (t.kind === 'array') {
      const n = this.int(nonEmpty ? Math.max(1, this.minArray) : this.minArray, this.maxArray)
      const out: unknown[] = []
      for (let i = 0; i < n; i++) out.push(this.value(t.element, version, f))
      return out
    }
    if (t.kind === 'struct') return this.struct(t.struct.fields, version)
    switch (t.name) {
      case 'bool':
        return this.rand() < 0.5
      case 'int8':
        return this.intOf(-128, 127)
      case 'int16':
        return this.intOf(-32768, 32767)
      case 'uint16':
        return this.intOf(0, 0xffff)
      case 'int32':
        return this.intOf(-0x80000000, 0x7fffffff)
      case 'uint32':
        return this.intOf(0, 0xffffffff)
      case 'int64':
        return this.int64()
      case 'float64':
        return this.pick([0, -1.5, 3.25, 1e-300, -2.5e300, Math.PI, this.rand() * 1e6 - 5e5])
      case 'string':
        return this.string()
      case 'bytes':
        return this.bytes(16)
      case 'records':
        return this.recordsValue()
      case 'uuid':
        return this.bytes(16, 16).toString('base64url')
    }
  }

  /** Mostly small values, sometimes the extremes and -1. */
  intOf(lo: number, hi: number): number {
    const r = this.rand()
    if (r < 0.1) return lo
    if (r < 0.2) return hi
    if (r < 0.3 && lo < 0) return -1
    if (r < 0.6) return this.int(Math.max(lo, -100), Math.min(hi, 1000))
    return this.int(lo, hi)
  }

  int64(): bigint {
    const r = this.rand()
    if (r < 0.1) return -(2n ** 63n)
    if (r < 0.2) return 2n ** 63n - 1n
    if (r < 0.3) return -1n
    if (r < 0.6) return BigInt(this.int(-100, 100_000))
    const hi = BigInt(this.int(0, 0xffffffff))
    const lo = BigInt(this.int(0, 0xffffffff))
    return BigInt.asIntN(64, (hi << 32n) | lo)
  }

  string(): string {
    const n = this.int(0, 10)
    let s = ''
    for (let i = 0; i < n; i++) s += this.pick(CHARS)
    return s
  }

  bytes(max: number, min = 0): Buffer {
    const n = this.int(min, max)
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255)
    return b
  }

  recordsValue(): unknown {
    const bytes = this.bytes(40, 1)
    const encodable =
      this.records === 'encodable' || (this.records === 'mixed' && (this.recordsToggle = !this.recordsToggle))
    if (!encodable) return bytes
    return encodableRecords(bytes)
  }
}

/** A stand-in for record-batch.ts's EncodableRecords: writes its bytes straight into the Writer. */
export function encodableRecords(bytes: Buffer): {
  bytes: Buffer
  byteLength: number
  writeTo(w: { raw(src: Uint8Array): unknown }): void
} {
  return {
    bytes,
    byteLength: bytes.length,
    writeTo(w) {
      w.raw(bytes)
    },
  }
}
