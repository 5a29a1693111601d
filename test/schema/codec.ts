// A schema-driven encoder and decoder, the reference the hand-written codecs are checked against.
// Written independently of src/protocol's Reader and Writer (its own byte handling, varints in
// BigInt), so a bug there cannot hide itself by appearing on both sides of a comparison.

import {
  type FieldSpec,
  fieldIn,
  fieldIsCompact,
  inVersions,
  isNullableIn,
  isTaggedIn,
  type MessageSpec,
  type TypeSpec,
} from './schema.js'
import { bytesOf, defaultOf, isDefaultValue, show } from './values.js'

// ---------------------------------------------------------------------------------------------
// Bytes out

/** Where each field's bytes start, for mapping a byte offset back to a field path. */
export interface TraceEntry {
  at: number
  path: string
}

export class Sink {
  readonly bytes: number[] = []
  constructor(readonly trace: TraceEntry[] | null = null) {}

  get length(): number {
    return this.bytes.length
  }

  mark(path: string): void {
    this.trace?.push({ at: this.bytes.length, path })
  }

  toBuffer(): Buffer {
    return Buffer.from(this.bytes)
  }

  u8(v: number): void {
    this.bytes.push(v & 0xff)
  }

  int(v: unknown, bytes: number, min: number, max: number, path: string): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new Error(`${path}: ${show(v)} is not an integer in [${min}, ${max}]`)
    }
    let u = BigInt.asUintN(bytes * 8, BigInt(v))
    const out: number[] = []
    for (let i = 0; i < bytes; i++) {
      out.unshift(Number(u & 0xffn))
      u >>= 8n
    }
    this.bytes.push(...out)
  }

  int64(v: unknown, path: string): void {
    if (typeof v !== 'bigint' || v < -(2n ** 63n) || v >= 2n ** 63n)
      throw new Error(`${path}: ${show(v)} is not an int64 bigint`)
    let u = BigInt.asUintN(64, v)
    const out: number[] = []
    for (let i = 0; i < 8; i++) {
      out.unshift(Number(u & 0xffn))
      u >>= 8n
    }
    this.bytes.push(...out)
  }

  float64(v: unknown, path: string): void {
    if (typeof v !== 'number') throw new Error(`${path}: ${show(v)} is not a number`)
    const b = Buffer.alloc(8)
    new DataView(b.buffer, b.byteOffset, 8).setFloat64(0, v, false)
    this.raw(b)
  }

  /** Unsigned LEB128. */
  uvarint(v: number): void {
    let u = BigInt(v)
    if (u < 0n || u > 0xffffffffn) throw new Error(`uvarint out of range: ${v}`)
    while (u >= 0x80n) {
      this.bytes.push(Number(u & 0x7fn) | 0x80)
      u >>= 7n
    }
    this.bytes.push(Number(u))
  }

  raw(b: Uint8Array): void {
    for (const x of b) this.bytes.push(x)
  }
}

// ---------------------------------------------------------------------------------------------
// Bytes in

export class SchemaDecodeError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly at: number,
  ) {
    super(`${path || '(message)'} at byte ${at}: ${message}`)
  }
}

/** Something legal to read but not what a conforming encoder writes (unknown or unordered tags...). */
export interface Anomaly {
  path: string
  message: string
}

export class Source {
  pos: number
  end: number
  readonly anomalies: Anomaly[] = []

  constructor(
    readonly buf: Buffer,
    pos = 0,
    end = buf.length,
  ) {
    this.pos = pos
    this.end = end
  }

  get remaining(): number {
    return this.end - this.pos
  }

  take(n: number, path: string): Buffer {
    if (n < 0 || this.pos + n > this.end) {
      throw new SchemaDecodeError(`needs ${n} bytes, ${this.end - this.pos} left`, path, this.pos)
    }
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  signed(bytes: number, path: string): number {
    const b = this.take(bytes, path)
    let u = 0n
    for (const x of b) u = (u << 8n) | BigInt(x)
    return Number(BigInt.asIntN(bytes * 8, u))
  }

  unsigned(bytes: number, path: string): number {
    const b = this.take(bytes, path)
    let u = 0n
    for (const x of b) u = (u << 8n) | BigInt(x)
    return Number(u)
  }

  int64(path: string): bigint {
    const b = this.take(8, path)
    let u = 0n
    for (const x of b) u = (u << 8n) | BigInt(x)
    return BigInt.asIntN(64, u)
  }

  float64(path: string): number {
    const b = this.take(8, path)
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, false)
  }

  uvarint(path: string): number {
    const start = this.pos
    let u = 0n
    let shift = 0n
    for (let i = 0; ; i++) {
      if (i === 5) throw new SchemaDecodeError('unsigned varint longer than 5 bytes', path, start)
      const b = this.take(1, path)[0]
      u |= BigInt(b & 0x7f) << shift
      if (b < 0x80) break
      shift += 7n
    }
    if (u > 0xffffffffn) throw new SchemaDecodeError('unsigned varint beyond 32 bits', path, start)
    return Number(u)
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding by schema

interface Ctx {
  version: number
  flexible: boolean
}

/** Encode `value` (an object in our codecs' shape) as version `version` of `message`. */
export function encodeMessage(message: MessageSpec, value: unknown, version: number, trace?: TraceEntry[]): Buffer {
  const sink = new Sink(trace ?? null)
  const ctx: Ctx = { version, flexible: inVersions(message.flexibleVersions, version) }
  encodeStruct(sink, message.fields, value, ctx, '')
  return sink.toBuffer()
}

export function encodeStruct(sink: Sink, fields: readonly FieldSpec[], value: unknown, ctx: Ctx, path: string): void {
  if (typeof value !== 'object' || value === null)
    throw new Error(`${path || '(message)'}: ${show(value)} is not an object`)
  const obj = value as Record<string, unknown>
  const tagged: FieldSpec[] = []
  for (const f of fields) {
    if (!fieldIn(f, ctx.version)) continue
    if (isTaggedIn(f, ctx.version)) {
      tagged.push(f)
      continue
    }
    const p = join(path, f.key)
    sink.mark(p)
    const v = obj[f.key]
    if (f.type.kind === 'struct' && isNullableIn(f, ctx.version)) {
      if (v === null) {
        sink.u8(0xff)
        continue
      }
      sink.u8(1)
    }
    encodeValue(sink, f, f.type, v, ctx, p, fieldIsCompact(f, ctx.version, ctx.flexible))
  }
  if (!ctx.flexible) return
  // Tagged fields equal to their default are left out, in ascending tag order.
  const present = tagged
    .filter((f) => obj[f.key] !== undefined && !isDefaultValue(f, obj[f.key], ctx.version))
    .sort((a, b) => (a.tag ?? 0) - (b.tag ?? 0))
  const extra = unknownTagsFor(obj)
  sink.mark(join(path, '(tagged fields)'))
  sink.uvarint(present.length + extra.length)
  for (const f of present) {
    const p = join(path, f.key)
    if (f.type.kind === 'struct' && isNullableIn(f, ctx.version))
      throw new Error(`${p}: tagged nullable structs unsupported`)
    const inner = new Sink()
    encodeValue(inner, f, f.type, obj[f.key], ctx, p, true)
    sink.uvarint(f.tag!)
    sink.uvarint(inner.length)
    sink.mark(p)
    encodeValue(sink, f, f.type, obj[f.key], ctx, p, true)
  }
  for (const [tag, bytes] of extra) {
    sink.uvarint(tag)
    sink.uvarint(bytes.length)
    sink.mark(join(path, `(unknown tag ${tag})`))
    sink.raw(bytes)
  }
}

/**
 * Tagged fields no schema knows, to prove decoders skip them: attach with `withUnknownTag`.
 * Kept in a symbol so they never collide with field names or show up in comparisons.
 */
export const UNKNOWN_TAGS = Symbol('unknownTags')

export function withUnknownTag<T extends object>(obj: T, tag: number, bytes: Buffer): T {
  ;(obj as Record<symbol, unknown>)[UNKNOWN_TAGS] = [[tag, bytes]]
  return obj
}

function unknownTagsFor(obj: Record<string, unknown>): Array<[number, Buffer]> {
  return ((obj as Record<symbol, unknown>)[UNKNOWN_TAGS] as Array<[number, Buffer]> | undefined) ?? []
}

function encodeValue(
  sink: Sink,
  f: FieldSpec,
  t: TypeSpec,
  v: unknown,
  ctx: Ctx,
  path: string,
  compact: boolean,
  element = false,
): void {
  const nullable = !element && isNullableIn(f, ctx.version)
  if (t.kind === 'array') {
    if (v === null && nullable) {
      if (compact) sink.uvarint(0)
      else sink.int(-1, 4, -1, -1, path)
      return
    }
    if (!Array.isArray(v)) throw new Error(`${path}: ${show(v)} is not an array`)
    if (compact) sink.uvarint(v.length + 1)
    else sink.int(v.length, 4, 0, 0x7fffffff, path)
    v.forEach((x, i) => {
      encodeValue(sink, f, t.element, x, ctx, `${path}[${i}]`, compact, true)
    })
    return
  }
  if (t.kind === 'struct') {
    encodeStruct(sink, t.struct.fields, v, ctx, path)
    return
  }
  switch (t.name) {
    case 'bool':
      if (typeof v !== 'boolean') throw new Error(`${path}: ${show(v)} is not a boolean`)
      sink.u8(v ? 1 : 0)
      return
    case 'int8':
      sink.int(v, 1, -128, 127, path)
      return
    case 'int16':
      sink.int(v, 2, -32768, 32767, path)
      return
    case 'uint16':
      sink.int(v, 2, 0, 0xffff, path)
      return
    case 'int32':
      sink.int(v, 4, -0x80000000, 0x7fffffff, path)
      return
    case 'uint32':
      sink.int(v, 4, 0, 0xffffffff, path)
      return
    case 'int64':
      sink.int64(v, path)
      return
    case 'float64':
      sink.float64(v, path)
      return
    case 'uuid': {
      if (typeof v !== 'string' || v.length !== 22) throw new Error(`${path}: ${show(v)} is not a 22-char UUID`)
      const b = Buffer.from(v, 'base64url')
      if (b.length !== 16 || b.toString('base64url') !== v) throw new Error(`${path}: ${show(v)} is not a UUID`)
      sink.raw(b)
      return
    }
    case 'string': {
      if (v === null && nullable) {
        if (compact) sink.uvarint(0)
        else sink.int(-1, 2, -1, -1, path)
        return
      }
      if (typeof v !== 'string') throw new Error(`${path}: ${show(v)} is not a string`)
      const b = Buffer.from(v, 'utf8')
      if (compact) sink.uvarint(b.length + 1)
      else sink.int(b.length, 2, 0, 0x7fff, path)
      sink.raw(b)
      return
    }
    case 'bytes':
    case 'records': {
      if (v === null && (nullable || t.name === 'records')) {
        if (compact) sink.uvarint(0)
        else sink.int(-1, 4, -1, -1, path)
        return
      }
      const b = bytesOf(v)
      if (b === undefined) throw new Error(`${path}: ${show(v)} is not bytes`)
      if (compact) sink.uvarint(b.length + 1)
      else sink.int(b.length, 4, 0, 0x7fffffff, path)
      sink.raw(b)
      return
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding by schema

/** Decode version `version` of `message`. Fields absent from that version are not set. */
export function decodeMessage(message: MessageSpec, src: Source, version: number): Record<string, unknown> {
  const ctx: Ctx = { version, flexible: inVersions(message.flexibleVersions, version) }
  return decodeStruct(src, message.fields, ctx, '')
}

function decodeStruct(src: Source, fields: readonly FieldSpec[], ctx: Ctx, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const tagged = new Map<number, FieldSpec>()
  for (const f of fields) {
    if (!fieldIn(f, ctx.version)) continue
    if (isTaggedIn(f, ctx.version)) {
      tagged.set(f.tag!, f)
      out[f.key] = defaultOf(f)
      continue
    }
    const p = join(path, f.key)
    if (f.type.kind === 'struct' && isNullableIn(f, ctx.version)) {
      if (src.signed(1, p) < 0) {
        out[f.key] = null
        continue
      }
    }
    out[f.key] = decodeValue(src, f, f.type, ctx, p, fieldIsCompact(f, ctx.version, ctx.flexible))
  }
  if (!ctx.flexible) return out
  const tp = join(path, '(tagged fields)')
  const count = src.uvarint(tp)
  let last = -1
  for (let i = 0; i < count; i++) {
    const tag = src.uvarint(tp)
    const size = src.uvarint(tp)
    if (tag <= last) src.anomalies.push({ path: tp, message: `tag ${tag} after tag ${last}: tags must be ascending` })
    last = tag
    const f = tagged.get(tag)
    const body = src.take(size, tp)
    if (f === undefined) {
      src.anomalies.push({ path: tp, message: `unknown tag ${tag} (${size} bytes) for version ${ctx.version}` })
      continue
    }
    const p = join(path, f.key)
    const inner = new Source(body)
    out[f.key] = decodeValue(inner, f, f.type, ctx, p, true)
    for (const a of inner.anomalies) src.anomalies.push(a)
    if (inner.remaining !== 0) {
      src.anomalies.push({ path: p, message: `tagged field declares ${size} bytes but its value takes ${inner.pos}` })
    }
  }
  return out
}

function decodeValue(
  src: Source,
  f: FieldSpec,
  t: TypeSpec,
  ctx: Ctx,
  path: string,
  compact: boolean,
  element = false,
): unknown {
  const nullable = !element && isNullableIn(f, ctx.version)
  if (t.kind === 'array') {
    const at = src.pos
    const n = compact ? src.uvarint(path) - 1 : src.signed(4, path)
    if (n === -1 && nullable) return null
    if (n < 0) throw new SchemaDecodeError(`array length ${n} in a non-nullable array`, path, at)
    if (n > src.remaining) throw new SchemaDecodeError(`array of ${n} elements in ${src.remaining} bytes`, path, at)
    const out: unknown[] = []
    for (let i = 0; i < n; i++) out.push(decodeValue(src, f, t.element, ctx, `${path}[${i}]`, compact, true))
    return out
  }
  if (t.kind === 'struct') return decodeStruct(src, t.struct.fields, ctx, path)
  switch (t.name) {
    case 'bool': {
      const b = src.unsigned(1, path)
      if (b > 1) src.anomalies.push({ path, message: `boolean byte ${b}` })
      return b !== 0
    }
    case 'int8':
      return src.signed(1, path)
    case 'int16':
      return src.signed(2, path)
    case 'uint16':
      return src.unsigned(2, path)
    case 'int32':
      return src.signed(4, path)
    case 'uint32':
      return src.unsigned(4, path)
    case 'int64':
      return src.int64(path)
    case 'float64':
      return src.float64(path)
    case 'uuid':
      return src.take(16, path).toString('base64url')
    case 'string': {
      const at = src.pos
      const n = compact ? src.uvarint(path) - 1 : src.signed(2, path)
      if (n === -1 && nullable) return null
      if (n < 0) throw new SchemaDecodeError(`string length ${n} in a non-nullable string`, path, at)
      return src.take(n, path).toString('utf8')
    }
    case 'bytes':
    case 'records': {
      const at = src.pos
      const n = compact ? src.uvarint(path) - 1 : src.signed(4, path)
      if (n === -1 && (nullable || t.name === 'records')) return null
      if (n < 0) throw new SchemaDecodeError(`bytes length ${n} in non-nullable bytes`, path, at)
      return Buffer.from(src.take(n, path))
    }
  }
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

/** The field whose bytes contain `offset`, from an encoding trace. */
export function fieldAt(trace: readonly TraceEntry[], offset: number): string {
  let best = '(message start)'
  for (const e of trace) {
    if (e.at <= offset) best = e.path
    else break
  }
  return best
}
