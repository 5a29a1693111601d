// Kafka's message schemas (clients/src/main/resources/common/message/*.json), parsed into a small
// model the test interpreter walks: version ranges, flexible versions, nullable and tagged fields,
// structs (inline or common), arrays of primitives and of structs, defaults.

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SCHEMA_DIR = fileURLToPath(new URL('../../../shared/kafka-protocol/messages/', import.meta.url))

/** An inclusive version range; `none` is the empty range (lo > hi). */
export interface Versions {
  readonly lo: number
  readonly hi: number
}

export const NO_VERSIONS: Versions = { lo: 0, hi: -1 }

/** Parse Kafka's version syntax: "0+", "3-5", "7", "none". */
export function parseVersions(text: string | undefined, fallback: Versions = NO_VERSIONS): Versions {
  if (text === undefined) return fallback
  const s = text.trim()
  if (s === 'none') return NO_VERSIONS
  let m = /^(\d+)\+$/.exec(s)
  if (m) return { lo: Number(m[1]), hi: Number.POSITIVE_INFINITY }
  m = /^(\d+)-(\d+)$/.exec(s)
  if (m) return { lo: Number(m[1]), hi: Number(m[2]) }
  m = /^(\d+)$/.exec(s)
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) }
  throw new Error(`bad version range ${JSON.stringify(text)}`)
}

export function inVersions(r: Versions, v: number): boolean {
  return v >= r.lo && v <= r.hi
}

export function isEmptyVersions(r: Versions): boolean {
  return r.lo > r.hi
}

export type PrimitiveName =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'uuid'
  | 'records'

const PRIMITIVES = new Set<string>([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'uuid',
  'records',
])

export type TypeSpec =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName }
  | { readonly kind: 'array'; readonly element: TypeSpec }
  | { readonly kind: 'struct'; readonly struct: StructSpec }

export interface StructSpec {
  readonly name: string
  /** Filled in once the whole file is read (structs may be referenced before they are defined). */
  fields: FieldSpec[]
}

export interface FieldSpec {
  /** The schema's name, e.g. `ThrottleTimeMs`. */
  readonly name: string
  /** The property name in our codecs: the schema name with its first letter lowercased. */
  readonly key: string
  readonly type: TypeSpec
  readonly typeText: string
  readonly versions: Versions
  readonly nullableVersions: Versions
  readonly taggedVersions: Versions
  readonly tag: number | undefined
  /** A per-field override of the message's flexible versions (RequestHeader's ClientId: "none"). */
  readonly flexibleVersions: Versions | undefined
  /** The schema's "default" text, if any. */
  readonly defaultText: string | undefined
}

export interface MessageSpec {
  readonly name: string
  readonly type: 'request' | 'response' | 'header' | 'data' | string
  readonly apiKey: number | undefined
  readonly validVersions: Versions
  readonly flexibleVersions: Versions
  readonly fields: FieldSpec[]
  readonly file: string
}

/** Remove `//` and block comments outside string literals. */
export function stripComments(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out += text.slice(i, j + 1)
      i = j + 1
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 2
    } else {
      out += c
      i++
    }
  }
  return out
}

interface RawField {
  name: string
  type: string
  versions?: string
  nullableVersions?: string
  taggedVersions?: string
  tag?: number
  flexibleVersions?: string
  default?: string | number | boolean
  fields?: RawField[]
}

interface RawMessage {
  name: string
  type: string
  apiKey?: number
  validVersions: string
  flexibleVersions?: string
  fields?: RawField[]
  commonStructs?: { name: string; fields: RawField[] }[]
}

export function camelKey(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1)
}

export function parseMessage(text: string, file = '<inline>'): MessageSpec {
  const raw = JSON.parse(stripComments(text)) as RawMessage
  const structs = new Map<string, StructSpec>()
  const pending: Array<() => void> = []

  const structFor = (name: string): StructSpec => {
    let s = structs.get(name)
    if (s === undefined) {
      s = { name, fields: [] }
      structs.set(name, s)
    }
    return s
  }

  const typeOf = (typeText: string, inline: RawField[] | undefined, where: string): TypeSpec => {
    if (typeText.startsWith('[]')) {
      const inner = typeText.slice(2)
      return { kind: 'array', element: typeOf(inner, inline, where) }
    }
    if (PRIMITIVES.has(typeText)) {
      if (inline !== undefined) throw new Error(`${file}: ${where}: primitive ${typeText} with fields`)
      return { kind: 'primitive', name: typeText as PrimitiveName }
    }
    const struct = structFor(typeText)
    if (inline !== undefined) {
      const fields = inline
      pending.push(() => {
        if (struct.fields.length > 0) throw new Error(`${file}: struct ${typeText} defined twice`)
        struct.fields = fields.map((f) => field(f, `${where}.${f.name}`))
      })
    }
    return { kind: 'struct', struct }
  }

  const field = (f: RawField, where: string): FieldSpec => {
    const versions = parseVersions(f.versions)
    const taggedVersions = parseVersions(f.taggedVersions)
    if (!isEmptyVersions(taggedVersions) && f.tag === undefined)
      throw new Error(`${file}: ${where}: tagged without tag`)
    if (f.tag !== undefined && isEmptyVersions(taggedVersions))
      throw new Error(`${file}: ${where}: tag without versions`)
    return {
      name: f.name,
      key: camelKey(f.name),
      type: typeOf(f.type, f.fields, where),
      typeText: f.type,
      versions,
      nullableVersions: parseVersions(f.nullableVersions),
      taggedVersions,
      tag: f.tag,
      flexibleVersions: f.flexibleVersions === undefined ? undefined : parseVersions(f.flexibleVersions),
      defaultText: f.default === undefined ? undefined : String(f.default),
    }
  }

  const fields = (raw.fields ?? []).map((f) => field(f, f.name))
  for (const cs of raw.commonStructs ?? []) {
    const struct = structFor(cs.name)
    pending.push(() => {
      struct.fields = cs.fields.map((f) => field(f, `${cs.name}.${f.name}`))
    })
  }
  // Resolving may queue more work (structs nested in structs).
  while (pending.length > 0) pending.shift()!()
  for (const [name, s] of structs) {
    if (s.fields.length === 0 && !isDeclaredEmpty(raw, name))
      throw new Error(`${file}: struct ${name} is never defined`)
  }
  return {
    name: raw.name,
    type: raw.type,
    apiKey: raw.apiKey,
    validVersions: parseVersions(raw.validVersions),
    flexibleVersions: parseVersions(raw.flexibleVersions, NO_VERSIONS),
    fields,
    file,
  }
}

function isDeclaredEmpty(raw: RawMessage, name: string): boolean {
  const walk = (fs: RawField[] | undefined): boolean =>
    (fs ?? []).some((f) => (f.type.replace(/^\[\]/, '') === name && f.fields?.length === 0) || walk(f.fields))
  return walk(raw.fields) || (raw.commonStructs ?? []).some((c) => c.name === name && c.fields.length === 0)
}

export interface SchemaSet {
  readonly all: MessageSpec[]
  readonly byName: Map<string, MessageSpec>
  request(apiKey: number): MessageSpec | undefined
  response(apiKey: number): MessageSpec | undefined
}

let cached: SchemaSet | undefined

/** Every schema in the shared folder, parsed once per process. */
export function loadSchemas(dir = SCHEMA_DIR): SchemaSet {
  if (cached !== undefined && dir === SCHEMA_DIR) return cached
  const all: MessageSpec[] = []
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue
    all.push(parseMessage(readFileSync(join(dir, f), 'utf8'), f))
  }
  const byName = new Map(all.map((m) => [m.name, m]))
  const requests = new Map<number, MessageSpec>()
  const responses = new Map<number, MessageSpec>()
  for (const m of all) {
    if (m.apiKey === undefined) continue
    const map = m.type === 'request' ? requests : m.type === 'response' ? responses : undefined
    if (map === undefined) continue
    if (map.has(m.apiKey)) throw new Error(`two ${m.type} schemas for api key ${m.apiKey}`)
    map.set(m.apiKey, m)
  }
  const set: SchemaSet = {
    all,
    byName,
    request: (k) => requests.get(k),
    response: (k) => responses.get(k),
  }
  if (dir === SCHEMA_DIR) cached = set
  return set
}

// ---------------------------------------------------------------------------------------------
// Per-version questions about a field.

export function fieldIn(f: FieldSpec, v: number): boolean {
  return inVersions(f.versions, v)
}

export function isTaggedIn(f: FieldSpec, v: number): boolean {
  return inVersions(f.versions, v) && inVersions(f.taggedVersions, v)
}

export function isNullableIn(f: FieldSpec, v: number): boolean {
  return inVersions(f.nullableVersions, v)
}

/** Whether the field's own value uses compact encodings in version `v` of a message. */
export function fieldIsCompact(f: FieldSpec, v: number, messageFlexible: boolean): boolean {
  if (isTaggedIn(f, v)) return true
  if (f.flexibleVersions !== undefined) return inVersions(f.flexibleVersions, v)
  return messageFlexible
}

/** Whether a field may be null in some version (its absent-version default may then be null too). */
export function everNullable(f: FieldSpec): boolean {
  return !isEmptyVersions(f.nullableVersions)
}

/** Every property name the field's struct can hold (fields of any version). */
export function keysOf(fields: readonly FieldSpec[]): Set<string> {
  return new Set(fields.map((f) => f.key))
}

/** All versions of a message, ascending. */
export function versionsOf(m: MessageSpec): number[] {
  const out: number[] = []
  for (let v = m.validVersions.lo; v <= m.validVersions.hi; v++) out.push(v)
  return out
}
