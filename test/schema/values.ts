// Values of schema fields in the shapes of CODEC-CONVENTIONS.md: defaults, "is this the default",
// equality by value (bigints, Buffers) and short printable forms for failure messages.

import { type FieldSpec, fieldIn, type TypeSpec } from './schema.js'

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

/** A `records` value as a request may carry it: encoded straight into the writer. */
export interface EncodableRecordsLike {
  byteLength: number
  writeTo(w: { raw(src: Uint8Array): unknown }): void
}

export function isEncodable(v: unknown): v is EncodableRecordsLike & { bytes: Buffer } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !ArrayBuffer.isView(v) &&
    typeof (v as EncodableRecordsLike).writeTo === 'function'
  )
}

/** The bytes of a bytes/records value (a Buffer, or an encodable test double carrying `bytes`). */
export function bytesOf(v: unknown): Buffer | undefined {
  if (Buffer.isBuffer(v)) return v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  if (isEncodable(v)) return v.bytes
  return undefined
}

function parseInt32(text: string): number {
  const n = text.startsWith('0x') || text.startsWith('-0x') ? Number.parseInt(text, 16) : Number(text)
  if (!Number.isFinite(n)) throw new Error(`bad integer default ${text}`)
  return n
}

/** The value a field takes when it is absent (Kafka's generated-code rules). */
export function defaultOf(f: FieldSpec): unknown {
  return defaultOfType(f.type, f.defaultText)
}

function defaultOfType(t: TypeSpec, text: string | undefined): unknown {
  if (t.kind === 'array') return text === 'null' ? null : []
  if (t.kind === 'struct') {
    if (text === 'null') return null
    const out: Record<string, unknown> = {}
    for (const f of t.struct.fields) out[f.key] = defaultOf(f)
    return out
  }
  switch (t.name) {
    case 'bool':
      return text === 'true'
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
      return text === undefined || text === '' ? 0 : parseInt32(text)
    case 'int64':
      return text === undefined || text === '' ? 0n : BigInt(text)
    case 'float64':
      return text === undefined || text === '' ? 0 : Number(text)
    case 'string':
      return text === 'null' ? null : (text ?? '')
    case 'bytes':
      return text === 'null' ? null : Buffer.alloc(0)
    case 'records':
      return null
    case 'uuid':
      return text === undefined || text === '' ? ZERO_UUID : text
  }
}

/** Whether `value` equals the field's default, looking at the fields that exist in `version`. */
export function isDefaultValue(f: FieldSpec, value: unknown, version: number): boolean {
  return sameValue(f.type, defaultOf(f), value, version)
}

/** Deep equality by the schema's type: bigints and Buffers by value, structs on the fields of `version`. */
export function sameValue(t: TypeSpec, a: unknown, b: unknown, version: number): boolean {
  if (a === null || b === null) return a === b
  if (t.kind === 'array') {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((x, i) => sameValue(t.element, x, b[i], version))
  }
  if (t.kind === 'struct') {
    if (typeof a !== 'object' || typeof b !== 'object' || a === undefined || b === undefined) return false
    const ra = a as Record<string, unknown>
    const rb = b as Record<string, unknown>
    return t.struct.fields.every((f) => !fieldIn(f, version) || sameValue(f.type, ra[f.key], rb[f.key], version))
  }
  if (t.name === 'bytes' || t.name === 'records') {
    const ba = bytesOf(a)
    const bb = bytesOf(b)
    return ba !== undefined && bb !== undefined && ba.equals(bb)
  }
  return Object.is(a, b)
}

/** A short printable form of a value for failure messages. */
export function show(v: unknown, depth = 0): string {
  if (v === undefined) return 'undefined (missing)'
  if (v === null) return 'null'
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  const bytes = bytesOf(v)
  if (bytes !== undefined) {
    const kind = isEncodable(v) ? 'EncodableRecords' : 'Buffer'
    const hex = bytes.subarray(0, 12).toString('hex')
    return `<${kind} ${bytes.length} bytes ${hex}${bytes.length > 12 ? '…' : ''}>`
  }
  if (Array.isArray(v)) {
    if (depth > 1) return `[${v.length} items]`
    return `[${v
      .slice(0, 4)
      .map((x) => show(x, depth + 1))
      .join(', ')}${v.length > 4 ? ', …' : ''}]`
  }
  if (typeof v === 'object') {
    if (depth > 1) return '{…}'
    const entries = Object.entries(v as Record<string, unknown>).slice(0, 6)
    return `{ ${entries.map(([k, x]) => `${k}: ${show(x, depth + 1)}`).join(', ')} }`
  }
  return String(v)
}

/** The JS type a value of schema type `t` must have, for messages. */
export function expectedJsType(t: TypeSpec): string {
  if (t.kind === 'array') return 'array'
  if (t.kind === 'struct') return 'object'
  switch (t.name) {
    case 'bool':
      return 'boolean'
    case 'int64':
      return 'bigint'
    case 'string':
    case 'uuid':
      return 'string'
    case 'bytes':
    case 'records':
      return 'Buffer'
    default:
      return 'number'
  }
}
