// The conformance checker: one hand-written API codec against Kafka's schema for its key.
//
// For every version of the schema and a few seeds:
//  - request side: a random request (every field of that version; tagged ones non-default, or all
//    at their defaults in one flavour) is encoded by the codec and decoded by the schema
//    interpreter; the decoded value must equal the generated one on that version's fields, nothing
//    may be left over, and the bytes must equal the interpreter's own encoding. Once more with the
//    optional fields left out: the codec must write their defaults.
//  - response side: a random response is encoded by the interpreter (tagged fields set or left at
//    their defaults, unknown tags in every flexible struct) and decoded by the codec; the result must
//    equal it on that version's fields, carry the schema default for fields the version lacks, hold
//    no property the schema does not know, and consume the frame exactly.
// Problems come back as data, so a test can also show that a broken codec is caught.

import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import {
  decodeMessage,
  encodeMessage,
  fieldAt,
  join,
  SchemaDecodeError,
  Source,
  type TraceEntry,
  withUnknownTag,
} from './codec.js'
import { type GenerateOptions, Generator } from './generate.js'
import {
  everNullable,
  type FieldSpec,
  fieldIn,
  inVersions,
  isEmptyVersions,
  isNullableIn,
  keysOf,
  loadSchemas,
  type MessageSpec,
  type SchemaSet,
  type TypeSpec,
} from './schema.js'
import { bytesOf, defaultOf, expectedJsType, sameValue, show } from './values.js'

export type Side = 'module' | 'request' | 'response' | 'exceptions'

export interface Problem {
  api: string
  apiKey: number
  side: Side
  version?: number
  /** Field path with element indexes, e.g. `topics[0].partitions[1].errorCode`; '' for the module. */
  path: string
  message: string
  seed?: number
}

/** A field a codec deliberately does not handle. The reason is mandatory. */
export interface FieldException {
  apiKey: number
  side: 'request' | 'response'
  /** Dotted field path without indexes, e.g. `topics.partitions.currentLeader`. */
  path: string
  /**
   * Only the "optional request field left out" check is waived: the codec handles the field, but
   * writes its own default instead of the schema's when it is absent.
   */
  defaultsOnly?: boolean
  reason: string
}

/** The parts of an Api the checker uses (see src/protocol/api.ts). */
export interface ApiLike {
  apiKey: number
  name?: string
  minVersion: number
  maxVersion: number
  flexibleFrom: number
  encode(w: Writer, request: unknown, version: number): void
  decode(r: Reader, version: number): unknown
}

export interface CheckOptions {
  schemas?: SchemaSet
  seeds?: readonly number[]
  exceptions?: readonly FieldException[]
}

export interface CheckResult {
  problems: Problem[]
  /** Exceptions that suppressed at least one difference. */
  used: Set<FieldException>
  versions: number[]
}

/**
 * Seeds, each with a flavour (seed mod 4): 1 some nulls, 2 half the nullable fields null and no
 * empty arrays, 3 every nullable field null; 1-3 also put an unknown tag into every flexible struct
 * of the response. 0: no nulls, no empty arrays, every tagged field at its default (so absent
 * from the wire).
 */
const DEFAULT_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8]

function flavour(seed: number): GenerateOptions {
  switch (seed % 4) {
    case 1:
      return { nullRate: 0.25 }
    case 2:
      return { nullRate: 0.5, minArray: 1 }
    case 3:
      return { nullRate: 1 }
    default:
      return { nullRate: 0, minArray: 1, taggedDefaults: true }
  }
}

export function normalizePath(path: string): string {
  return path.replace(/\[\d+\]/g, '')
}

export function checkApi(api: ApiLike, opts: CheckOptions = {}): CheckResult {
  const schemas = opts.schemas ?? loadSchemas()
  const seeds = opts.seeds ?? DEFAULT_SEEDS
  const exceptions = (opts.exceptions ?? []).filter((e) => e.apiKey === api.apiKey)
  const problems: Problem[] = []
  const used = new Set<FieldException>()
  const label = api.name ?? `api key ${api.apiKey}`
  const add = (p: Omit<Problem, 'api' | 'apiKey'>) => problems.push({ api: label, apiKey: api.apiKey, ...p })

  const req = schemas.request(api.apiKey)
  const res = schemas.response(api.apiKey)
  if (req === undefined || res === undefined) {
    add({ side: 'module', path: '', message: `no request/response schema has apiKey ${api.apiKey}` })
    return { problems, used, versions: [] }
  }
  const schemaName = req.name.replace(/Request$/, '')
  if (api.name !== undefined && api.name !== schemaName) {
    add({
      side: 'module',
      path: 'name',
      message: `name is ${show(api.name)}, the schema ${req.file} says ${show(schemaName)}`,
    })
  }
  const valid = req.validVersions
  if (api.minVersion !== valid.lo || api.maxVersion !== valid.hi) {
    add({
      side: 'module',
      path: 'minVersion/maxVersion',
      message: `speaks v${api.minVersion}-v${api.maxVersion}, ${req.file} has validVersions ${valid.lo}-${valid.hi}`,
    })
  }
  const flexibleFrom = isEmptyVersions(req.flexibleVersions) ? Number.POSITIVE_INFINITY : req.flexibleVersions.lo
  if (api.flexibleFrom !== flexibleFrom) {
    add({ side: 'module', path: 'flexibleFrom', message: `is ${api.flexibleFrom}, ${req.file} says ${flexibleFrom}` })
  }

  const versions: number[] = []
  for (let v = Math.max(valid.lo, api.minVersion); v <= Math.min(valid.hi, api.maxVersion); v++) versions.push(v)

  for (const v of versions) {
    for (const seed of seeds) {
      const s = (seed * 7919 + api.apiKey * 131 + v) >>> 0
      checkRequest(api, req, v, seed, s, null, exceptions, used, add)
      checkResponse(api, res, v, seed, s, exceptions, used, add)
    }
    const s0 = (api.apiKey * 131 + v + 99991) >>> 0
    checkRequest(api, req, v, 0, s0, OMIT_OPTIONAL(req), exceptions, used, add)
  }
  return { problems: dedupe(problems), used, versions }
}

type Add = (p: Omit<Problem, 'api' | 'apiKey'>) => void

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`
  return String(e)
}

function checkRequest(
  api: ApiLike,
  schema: MessageSpec,
  version: number,
  seed: number,
  s: number,
  omit: OmitPass | null,
  exceptions: readonly FieldException[],
  used: Set<FieldException>,
  add: Add,
): void {
  const gen = new Generator(s, { ...flavour(seed), records: seed % 2 === 1 ? 'encodable' : 'mixed' })
  const generated = gen.message(schema, version)
  let request: Record<string, unknown> = generated
  let expected: Record<string, unknown> = generated
  const note = omit?.note ?? ''
  if (omit !== null) {
    request = omitFields(schema.fields, version, generated, '', omit.drop)
    expected = fillDefaults(schema.fields, version, request)
  }
  const w = new Writer(16)
  try {
    api.encode(w, request, version)
  } catch (e) {
    add({ side: 'request', version, seed, path: '(encode)', message: `encode threw ${errorText(e)}${note}` })
    return
  }
  const bytes = w.toBuffer()
  const trace: TraceEntry[] = []
  const reference = encodeMessage(schema, expected, version, trace)
  const locate = () => {
    let at = 0
    while (at < bytes.length && at < reference.length && bytes[at] === reference[at]) at++
    if (at === bytes.length && at === reference.length) return 'bytes equal the reference encoding'
    return `first byte differing from the reference encoding is at offset ${at}, in ${fieldAt(trace, at)}`
  }
  const src = new Source(bytes)
  let decoded: Record<string, unknown>
  try {
    decoded = decodeMessage(schema, src, version)
  } catch (e) {
    const path = e instanceof SchemaDecodeError ? e.path : '(decode)'
    add({
      side: 'request',
      version,
      seed,
      path,
      message: `our encoding does not decode: ${errorText(e)}; ${locate()}${note}`,
    })
    return
  }
  let found = 0
  let suppressed = false
  const report = (path: string, message: string) => {
    found++
    add({ side: 'request', version, seed, path, message: message + note })
  }
  for (const a of src.anomalies) report(a.path, a.message)
  const applicable = omit !== null ? exceptions : exceptions.filter((e) => e.defaultsOnly !== true)
  const cmp = new Comparator('request', version, applicable, used, report, () => {
    suppressed = true
  })
  cmp.struct(schema.fields, expected, decoded, '', false)
  if (src.remaining !== 0) {
    report('(end)', `the encoder wrote ${src.remaining} bytes more than the schema reads; ${locate()}`)
  }
  if (found === 0 && !suppressed && !bytes.equals(reference)) report('(bytes)', locate())
}

function checkResponse(
  api: ApiLike,
  schema: MessageSpec,
  version: number,
  seed: number,
  s: number,
  exceptions: readonly FieldException[],
  used: Set<FieldException>,
  add: Add,
): void {
  const gen = new Generator(s ^ 0x5bd1e995, flavour(seed))
  const response = gen.message(schema, version)
  const flexible = inVersions(schema.flexibleVersions, version)
  if (flexible && seed % 4 !== 0) addUnknownTags(schema.fields, version, response, gen)
  const trace: TraceEntry[] = []
  const bytes = encodeMessage(schema, response, version, trace)
  const r = new Reader(bytes)
  let decoded: unknown
  try {
    decoded = api.decode(r, version)
  } catch (e) {
    const at = typeof (e as { at?: unknown }).at === 'number' ? (e as { at: number }).at : r.offset
    add({
      side: 'response',
      version,
      seed,
      path: fieldAt(trace, at),
      message: `decode threw ${errorText(e)} (reading offset ${at} of ${bytes.length}, field ${fieldAt(trace, at)})`,
    })
    return
  }
  const report = (path: string, message: string) => add({ side: 'response', version, seed, path, message })
  const applicable = exceptions.filter((e) => e.defaultsOnly !== true)
  const cmp = new Comparator('response', version, applicable, used, report, () => {})
  cmp.struct(schema.fields, response, decoded, '', true)
  if (r.remaining !== 0) {
    report('(end)', `the decoder left ${r.remaining} of ${bytes.length} bytes unread, from ${fieldAt(trace, r.offset)}`)
  }
}

/** Compares a value against the expected one, by the schema's types, reporting paths. */
class Comparator {
  constructor(
    readonly side: 'request' | 'response',
    readonly version: number,
    readonly exceptions: readonly FieldException[],
    readonly used: Set<FieldException>,
    readonly report: (path: string, message: string) => void,
    readonly onSuppressed: () => void,
  ) {}

  private exceptionFor(path: string): FieldException | undefined {
    const n = normalizePath(path)
    return this.exceptions.find((e) => e.side === this.side && e.path === n)
  }

  /** Run `check` for the field at `path`, routing its differences through the exception table. */
  private guarded(path: string, check: (c: Comparator) => void): void {
    const ex = this.exceptionFor(path)
    if (ex === undefined) {
      check(this)
      return
    }
    let differs = false
    const quiet = new Comparator(
      this.side,
      this.version,
      [],
      this.used,
      () => {
        differs = true
      },
      () => {},
    )
    check(quiet)
    if (differs) {
      this.used.add(ex)
      this.onSuppressed()
    }
  }

  struct(fields: readonly FieldSpec[], expected: unknown, actual: unknown, path: string, checkAbsent: boolean): void {
    const exp = expected as Record<string, unknown>
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
      this.report(path || '(message)', `expected an object, got ${show(actual)}`)
      return
    }
    const act = actual as Record<string, unknown>
    for (const f of fields) {
      const p = join(path, f.key)
      if (fieldIn(f, this.version)) {
        this.guarded(p, (c) => c.value(f, f.type, exp[f.key], act[f.key], p, checkAbsent, false))
      } else if (checkAbsent) {
        this.guarded(p, (c) => c.absent(f, act[f.key], p))
      }
    }
    if (checkAbsent) {
      const keys = keysOf(fields)
      for (const k of Object.keys(act)) {
        if (!keys.has(k))
          this.report(join(path, k), `unexpected property ${show(act[k])}: no schema field is named ${k}`)
      }
    }
  }

  /** A field the version does not have: decoders fill the schema default. */
  private absent(f: FieldSpec, actual: unknown, path: string): void {
    const versions = `${f.versions.lo}${f.versions.hi === Number.POSITIVE_INFINITY ? '+' : `-${f.versions.hi}`}`
    if (actual === undefined) {
      this.report(
        path,
        `missing: v${this.version} has no ${f.name} (v${versions}) but the decoder must fill its default`,
      )
      return
    }
    if (actual === null && everNullable(f)) return
    // A struct's default is the struct of its fields' defaults: compare them all.
    const at = f.type.kind === 'struct' ? f.versions.lo : this.version
    const d = defaultOf(f)
    if (!sameValue(f.type, d, actual, at)) {
      this.report(
        path,
        `v${this.version} has no ${f.name} (v${versions}): expected the default ${show(d)}, got ${show(actual)}`,
      )
    }
  }

  value(
    f: FieldSpec,
    t: TypeSpec,
    expected: unknown,
    actual: unknown,
    path: string,
    checkAbsent: boolean,
    element: boolean,
  ): void {
    if (expected === null) {
      if (actual !== null) this.report(path, `expected null, got ${show(actual)}`)
      return
    }
    if (t.kind === 'array') {
      if (!Array.isArray(actual)) {
        this.report(path, `expected an array ${show(expected)}, got ${show(actual)}`)
        return
      }
      const exp = expected as unknown[]
      if (actual.length !== exp.length) {
        this.report(path, `expected ${exp.length} items, got ${actual.length}: ${show(actual)}`)
        return
      }
      for (let i = 0; i < exp.length; i++)
        this.value(f, t.element, exp[i], actual[i], `${path}[${i}]`, checkAbsent, true)
      return
    }
    if (t.kind === 'struct') {
      this.struct(t.struct.fields, expected, actual, path, checkAbsent)
      return
    }
    const want = expectedJsType(t)
    const got = bytesOf(actual) !== undefined ? 'Buffer' : actual === null ? 'null' : typeof actual
    if (want !== got) {
      const nullable = !element && isNullableIn(f, this.version)
      this.report(path, `expected ${want}${nullable ? ' or null' : ''} ${show(expected)}, got ${got} ${show(actual)}`)
      return
    }
    if (!sameValue(t, expected, actual, this.version))
      this.report(path, `expected ${show(expected)}, got ${show(actual)}`)
  }
}

/** Which request fields a pass leaves out, and what it tells the reader. */
interface OmitPass {
  drop: (f: FieldSpec, path: string) => boolean
  note: string
}

/** Fields that do not exist in every version of the message are optional in request types. */
const OMIT_OPTIONAL = (schema: MessageSpec): OmitPass => ({
  drop: (f) => f.versions.lo > schema.validVersions.lo || f.versions.hi < schema.validVersions.hi,
  note: ' (with optional fields left out: the encoder must write their defaults)',
})

function omitFields(
  fields: readonly FieldSpec[],
  version: number,
  value: Record<string, unknown>,
  path: string,
  drop: (f: FieldSpec, path: string) => boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields) {
    if (!fieldIn(f, version) || !(f.key in value)) continue
    const p = join(path, f.key)
    if (drop(f, p)) continue
    out[f.key] = mapStructs(f.type, value[f.key], (fs, v) => omitFields(fs, version, v, p, drop))
  }
  return out
}

function fillDefaults(
  fields: readonly FieldSpec[],
  version: number,
  value: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields) {
    if (!fieldIn(f, version)) continue
    out[f.key] =
      f.key in value ? mapStructs(f.type, value[f.key], (fs, v) => fillDefaults(fs, version, v)) : defaultOf(f)
  }
  return out
}

function mapStructs(
  t: TypeSpec,
  v: unknown,
  fn: (fields: readonly FieldSpec[], v: Record<string, unknown>) => Record<string, unknown>,
): unknown {
  if (v === null || v === undefined) return v
  if (t.kind === 'array') return (v as unknown[]).map((x) => mapStructs(t.element, x, fn))
  if (t.kind === 'struct') return fn(t.struct.fields, v as Record<string, unknown>)
  return v
}

/** Put a tag no schema knows into every flexible struct of a response. */
function addUnknownTags(
  fields: readonly FieldSpec[],
  version: number,
  value: Record<string, unknown>,
  gen: Generator,
): void {
  withUnknownTag(value, 4000 + gen.int(0, 90), gen.bytes(6))
  for (const f of fields) {
    if (!fieldIn(f, version)) continue
    const visit = (t: TypeSpec, v: unknown): void => {
      if (v === null || v === undefined) return
      if (t.kind === 'array') for (const x of v as unknown[]) visit(t.element, x)
      else if (t.kind === 'struct') addUnknownTags(t.struct.fields, version, v as Record<string, unknown>, gen)
    }
    visit(f.type, value[f.key])
  }
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>()
  return problems.filter((p) => {
    const k = `${p.side}|${p.version}|${normalizePath(p.path)}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/** Readable lines: one per (api, side, field), with the versions it fails in. */
export function formatProblems(problems: readonly Problem[], max = 40): string {
  const groups = new Map<string, { p: Problem; versions: number[] }>()
  for (const p of problems) {
    const k = `${p.api}|${p.side}|${normalizePath(p.path)}`
    const g = groups.get(k)
    if (g === undefined) groups.set(k, { p, versions: p.version === undefined ? [] : [p.version] })
    else if (p.version !== undefined) g.versions.push(p.version)
  }
  const lines: string[] = []
  for (const { p, versions } of groups.values()) {
    const vs = versions.length === 0 ? '' : ` ${compactVersions(versions)}`
    const seed = p.seed === undefined ? '' : ` [first: v${p.version} seed ${p.seed}]`
    lines.push(`${p.api} (key ${p.apiKey})${vs} ${p.side}: ${p.path || '(module)'}: ${p.message}${seed}`)
  }
  const more = lines.length > max ? `\n… and ${lines.length - max} more` : ''
  return lines.slice(0, max).join('\n') + more
}

function compactVersions(vs: number[]): string {
  const sorted = [...new Set(vs)].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length; i++) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++
    parts.push(i === j ? `v${sorted[i]}` : `v${sorted[i]}-${sorted[j]}`)
    i = j
  }
  return parts.join(',')
}

/** The field an exception names, if the schema has it (in any version). */
export function resolvePath(message: MessageSpec, path: string): FieldSpec | undefined {
  let fields: readonly FieldSpec[] = message.fields
  let found: FieldSpec | undefined
  for (const key of path.split('.')) {
    found = fields.find((f) => f.key === key)
    if (found === undefined) return undefined
    let t = found.type
    while (t.kind === 'array') t = t.element
    fields = t.kind === 'struct' ? t.struct.fields : []
  }
  return found
}

/**
 * Keeps the exception table honest: every entry needs a reason, a field that exists, a module that
 * exists, and must still suppress a real difference.
 */
export function checkExceptions(
  exceptions: readonly FieldException[],
  modules: ReadonlyMap<number, ApiLike>,
  used: ReadonlySet<FieldException>,
  schemas: SchemaSet = loadSchemas(),
): Problem[] {
  const problems: Problem[] = []
  for (const e of exceptions) {
    const message = e.side === 'request' ? schemas.request(e.apiKey) : schemas.response(e.apiKey)
    const api = modules.get(e.apiKey)?.name ?? message?.name ?? `api key ${e.apiKey}`
    const add = (text: string) =>
      problems.push({ api, apiKey: e.apiKey, side: 'exceptions', path: `${e.side} ${e.path}`, message: text })
    if (e.reason.trim().length < 10) add('an exception needs a reason')
    if (message === undefined) add(`no ${e.side} schema has apiKey ${e.apiKey}`)
    else if (resolvePath(message, e.path) === undefined) add(`${message.name} has no field ${e.path}`)
    if (!modules.has(e.apiKey)) add('no module implements this api key: remove the entry')
    else if (!used.has(e)) add('the codec now handles this field correctly: remove the entry')
  }
  return problems
}
