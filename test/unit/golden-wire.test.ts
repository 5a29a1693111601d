// Golden bytes from real traffic: request and response frames of Kafka's Java tools (4.1.1, 3.9.1),
// kcat (librdkafka) and the broker itself, captured through test/tools/capture-proxy.ts by
// test/tools/capture-golden.ts (see there for how older versions were obtained).
//
// - Request frames: the header is read by the rules (header v2 for flexible versions, v1 otherwise),
//   the body is decoded by the schema interpreter (test/schema/), and OUR codec's encode must write
//   exactly the bytes the real client wrote for those values.
// - Response frames: OUR codec's decode must consume the body exactly and agree with the
//   interpreter's decoding field by field (fields the version lacks carry their schema defaults).
// Frames of API keys we have no module for are still checked against the interpreter (so a codec
// that lands later is checked at once) and listed in the coverage test.

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { AnyApi } from '../../src/protocol/api.js'
import { decodeResponseHeader, encodeRequestFrame } from '../../src/protocol/headers.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import { decodeMessage, encodeMessage, fieldAt, join as joinPath, Source, type TraceEntry } from '../schema/codec.js'
import { discoverApis } from '../schema/modules.js'
import {
  everNullable,
  type FieldSpec,
  fieldIn,
  inVersions,
  isNullableIn,
  keysOf,
  loadSchemas,
  type MessageSpec,
  type TypeSpec,
} from '../schema/schema.js'
import { bytesOf, defaultOf, expectedJsType, sameValue, show } from '../schema/values.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/wire/', import.meta.url))

interface GoldenFrame {
  apiKey: number
  name: string
  version: number
  /** Which client wrote the request: java-4.1.1, java-3.9.1, kcat-…, broker-4.1.1 (its own connections). */
  client: string
  /** The capture step (tool and options). */
  tool: string
  clientId: string | null
  /** How far ApiVersions max versions were lowered when it was captured (0: not at all). */
  capLevel: number
  request: string
  response: string | null
}

function loadGoldenFrames(): GoldenFrame[] {
  const index = JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')) as { frames: GoldenFrame[] }
  return index.frames
}

function readFixture(path: string): Buffer {
  return readFileSync(join(FIXTURES, path))
}

/**
 * Legitimate differences between what a real client writes and what our encoder writes for the same
 * values, each with its reason. Empty: our encoders write exactly what the Java client and librdkafka
 * write. An entry names the api key, the client (a pattern) and the field path where bytes first differ.
 */
const REQUEST_DIFFERENCES: Array<{ apiKey: number; client: RegExp; path: string; reason: string }> = []

// ---------------------------------------------------------------------------------------------
// Our codecs, discovered like the conformance test does.

const modules: Map<number, AnyApi> = (await discoverApis()).byKey

const schemas = loadSchemas()
const REQUEST_HEADER = schemas.byName.get('RequestHeader')!
const RESPONSE_HEADER = schemas.byName.get('ResponseHeader')!

function flexibleIn(m: MessageSpec, version: number): boolean {
  return inVersions(m.flexibleVersions, version)
}

/** Split a request frame (no size prefix) into its header values and its body. */
function splitRequest(frame: Buffer, flexible: boolean): { header: Record<string, unknown>; body: Buffer } {
  const src = new Source(frame)
  const header = decodeMessage(REQUEST_HEADER, src, flexible ? 2 : 1)
  return { header, body: frame.subarray(src.pos) }
}

/** Split a response frame (no size prefix) into its correlation id and its body. */
function splitResponse(frame: Buffer, apiKey: number, flexible: boolean): { correlationId: number; body: Buffer } {
  // ApiVersions responses always use header v0, so a client can read them before knowing versions.
  const headerVersion = apiKey === 18 ? 0 : flexible ? 1 : 0
  const src = new Source(frame)
  const header = decodeMessage(RESPONSE_HEADER, src, headerVersion)
  return { correlationId: header.correlationId as number, body: frame.subarray(src.pos) }
}

// ---------------------------------------------------------------------------------------------
// Comparing our decoding with the interpreter's

class Differences {
  readonly lines: string[] = []
  constructor(readonly version: number) {}

  add(path: string, message: string): void {
    if (this.lines.length < 20) this.lines.push(`${path || '(message)'}: ${message}`)
  }

  struct(fields: readonly FieldSpec[], expected: unknown, actual: unknown, path: string): void {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
      this.add(path, `expected an object, got ${show(actual)}`)
      return
    }
    const exp = expected as Record<string, unknown>
    const act = actual as Record<string, unknown>
    for (const f of fields) {
      const p = joinPath(path, f.key)
      if (fieldIn(f, this.version)) this.value(f, f.type, exp[f.key], act[f.key], p, false)
      else this.absent(f, act[f.key], p)
    }
    const keys = keysOf(fields)
    for (const k of Object.keys(act)) if (!keys.has(k)) this.add(joinPath(path, k), 'no schema field has this name')
  }

  private absent(f: FieldSpec, actual: unknown, path: string): void {
    if (actual === undefined) {
      this.add(path, `v${this.version} lacks ${f.name}: the decoder must fill its default`)
      return
    }
    if (actual === null && everNullable(f)) return
    const d = defaultOf(f)
    if (!sameValue(f.type, d, actual, f.type.kind === 'struct' ? f.versions.lo : this.version))
      this.add(path, `v${this.version} lacks ${f.name}: expected the default ${show(d)}, got ${show(actual)}`)
  }

  value(f: FieldSpec, t: TypeSpec, expected: unknown, actual: unknown, path: string, element: boolean): void {
    if (expected === null) {
      if (actual !== null) this.add(path, `expected null, got ${show(actual)}`)
      return
    }
    if (t.kind === 'array') {
      if (!Array.isArray(actual) || actual.length !== (expected as unknown[]).length) {
        this.add(path, `expected ${show(expected)}, got ${show(actual)}`)
        return
      }
      ;(expected as unknown[]).forEach((x, i) => {
        this.value(f, t.element, x, actual[i], `${path}[${i}]`, true)
      })
      return
    }
    if (t.kind === 'struct') {
      this.struct(t.struct.fields, expected, actual, path)
      return
    }
    const want = expectedJsType(t)
    const got = bytesOf(actual) !== undefined ? 'Buffer' : actual === null ? 'null' : typeof actual
    if (want !== got) {
      const nullable = !element && isNullableIn(f, this.version)
      this.add(path, `expected ${want}${nullable ? ' or null' : ''} ${show(expected)}, got ${got} ${show(actual)}`)
    } else if (!sameValue(t, expected, actual, this.version)) {
      this.add(path, `expected ${show(expected)}, got ${show(actual)}`)
    }
  }
}

function firstDifference(a: Buffer, b: Buffer): number {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}

function hexAround(b: Buffer, at: number): string {
  const from = Math.max(0, at - 4)
  return `${b.subarray(from, at).toString('hex')}|${b.subarray(at, at + 12).toString('hex')}`
}

// ---------------------------------------------------------------------------------------------
// The fixtures

const frames = existsSync(join(FIXTURES, 'index.json')) ? loadGoldenFrames() : []

test('the fixtures exist and every file they name is there', () => {
  assert.ok(frames.length > 100, `only ${frames.length} captured exchanges: run test/tools/capture-golden.ts`)
  for (const f of frames) {
    assert.ok(existsSync(join(FIXTURES, f.request)), f.request)
    if (f.response !== null) assert.ok(existsSync(join(FIXTURES, f.response)), f.response)
  }
})

test('every API module has real bytes for at least one version', () => {
  const covered = new Set(frames.map((f) => f.apiKey))
  const missing = [...modules.values()].filter((m) => !covered.has(m.apiKey)).map((m) => `${m.name} (${m.apiKey})`)
  assert.is(missing.length, 0, `modules without captured frames: ${missing.join(', ')}`)
})

for (const f of frames) {
  const label = `${f.name} v${f.version} from ${f.client} (${f.tool})`
  const api = modules.get(f.apiKey)
  const reqSchema = schemas.request(f.apiKey)
  const resSchema = schemas.response(f.apiKey)

  test(`${label}: request`, () => {
    assert.ok(reqSchema, `no schema has api key ${f.apiKey}`)
    const frame = readFixture(f.request)
    const { header, body } = splitRequest(frame, flexibleIn(reqSchema!, f.version))
    assert.is(header.requestApiKey, f.apiKey)
    assert.is(header.requestApiVersion, f.version)
    // The interpreter reads the body exactly, and writes it back identically (the client encodes canonically).
    const src = new Source(body)
    const value = decodeMessage(reqSchema!, src, f.version)
    assert.is(src.remaining, 0, `the interpreter left ${src.remaining} bytes of the request body`)
    assert.equal(src.anomalies, [], 'anomalies in the request body')
    const trace: TraceEntry[] = []
    const again = encodeMessage(reqSchema!, value, f.version, trace)
    assert.ok(again.equals(body), `the interpreter re-encodes differently at ${firstDifference(again, body)}`)
    if (api === undefined) return
    assert.ok(f.version >= api.minVersion && f.version <= api.maxVersion, `${api.name} does not speak v${f.version}`)
    // Our encoder, given the same values, writes the same bytes; and headers.ts the same header.
    const w = new Writer(64)
    api.encode(w, value, f.version)
    const ours = w.toBuffer()
    if (!ours.equals(body)) {
      const at = firstDifference(ours, body)
      const path = fieldAt(trace, at)
      const known = REQUEST_DIFFERENCES.find(
        (d) => d.apiKey === f.apiKey && d.client.test(f.client) && d.path === path.replace(/\[\d+\]/g, ''),
      )
      if (known !== undefined) return
      assert.unreachable(
        `our encoding (${ours.length} bytes) differs from ${f.client}'s (${body.length} bytes) at offset ${at}, ` +
          `in ${path}: ours ${hexAround(ours, at)} theirs ${hexAround(body, at)}`,
      )
    }
    const whole = new Writer(64)
    encodeRequestFrame(whole, api, f.version, header.correlationId as number, header.clientId as string | null, value)
    const ourFrame = whole.toBuffer()
    assert.is(ourFrame.readInt32BE(0), frame.length, 'size prefix')
    assert.is(ourFrame.subarray(4).toString('hex'), frame.toString('hex'), 'the whole frame, header included')
  })

  if (f.response === null) continue
  test(`${label}: response`, () => {
    assert.ok(resSchema, `no schema has api key ${f.apiKey}`)
    const frame = readFixture(f.response!)
    const request = readFixture(f.request)
    const { correlationId, body } = splitResponse(frame, f.apiKey, flexibleIn(resSchema!, f.version))
    assert.is(correlationId, request.readInt32BE(4), 'the response answers the request')
    const src = new Source(body)
    const expected = decodeMessage(resSchema!, src, f.version)
    assert.is(src.remaining, 0, `the interpreter left ${src.remaining} bytes of the response body`)
    if (api === undefined) return
    assert.ok(f.version >= api.minVersion && f.version <= api.maxVersion, `${api.name} does not speak v${f.version}`)
    // Our header rules (headers.ts) find the same body, and our decoder reads it exactly.
    const r = new Reader(frame)
    assert.is(decodeResponseHeader(r, api, f.version), correlationId)
    assert.is(r.offset, frame.length - body.length, 'our response header rules read a header of the same size')
    const decoded = api.decode(r, f.version)
    assert.is(r.remaining, 0, `our decoder left ${r.remaining} of ${body.length} bytes`)
    const diff = new Differences(f.version)
    diff.struct(resSchema!.fields, expected, decoded, '')
    assert.equal(diff.lines, [], 'our decoding differs from the interpreter')
  })
}

test('coverage: real bytes per API and version', () => {
  const byApi = new Map<string, Map<number, Set<string>>>()
  for (const f of frames) {
    const key = `${f.name} (${f.apiKey})${modules.has(f.apiKey) ? '' : ' [no codec]'}`
    let versions = byApi.get(key)
    if (versions === undefined) byApi.set(key, (versions = new Map()))
    let clients = versions.get(f.version)
    if (clients === undefined) versions.set(f.version, (clients = new Set()))
    clients.add(f.client.split('-').slice(0, 2).join('-'))
  }
  if (process.env.GOLDEN_WIRE_TABLE === '1') {
    for (const [api, versions] of byApi) {
      const vs = [...versions.keys()].sort((a, b) => a - b)
      console.log(`${api}: ${vs.map((v) => `v${v} ${[...versions.get(v)!].join('/')}`).join(', ')}`)
    }
  }
  assert.ok(byApi.size >= modules.size)
})

test.run()
