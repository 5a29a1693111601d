// Every API codec in src/protocol, checked against Kafka's message schemas by machine.
// Modules are discovered (test/schema/modules.ts): any export with a numeric apiKey/minVersion/maxVersion/
// flexibleFrom and encode/decode functions is an API codec and gets checked, so new modules are picked up as they land.

import { basename } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Reader } from '../../src/protocol/reader.js'
import type { Writer } from '../../src/protocol/writer.js'
import { decodeMessage, encodeMessage, Source, withUnknownTag } from '../schema/codec.js'
import {
  type ApiLike,
  checkApi,
  checkExceptions,
  type FieldException,
  formatProblems,
  type Problem,
} from '../schema/conformance.js'
import { Generator } from '../schema/generate.js'
import { discoverApis, type FoundApi } from '../schema/modules.js'
import { loadSchemas, parseMessage, parseVersions, stripComments, versionsOf } from '../schema/schema.js'
import { sameValue } from '../schema/values.js'

// ---------------------------------------------------------------------------------------------
// Fields a codec deliberately does not handle. Every entry needs a reason; an entry that no longer
// suppresses a real difference (or names a field or module that does not exist) fails the test.

export const EXCEPTIONS: FieldException[] = [
  {
    apiKey: 18,
    side: 'request',
    path: 'clientSoftwareName',
    defaultsOnly: true,
    reason: 'KIP-511: brokers reject an empty software name with INVALID_REQUEST, so the codec sends "kafka-wire"',
  },
  {
    apiKey: 18,
    side: 'request',
    path: 'clientSoftwareVersion',
    defaultsOnly: true,
    reason: 'KIP-511: brokers reject an empty software version with INVALID_REQUEST, so the codec sends ours',
  },
]

// ---------------------------------------------------------------------------------------------
// Discovery

type Found = FoundApi

const { found, importFailures } = await discoverApis()

const byKey = new Map<number, Found>()
for (const f of found) if (!byKey.has(f.api.apiKey)) byKey.set(f.api.apiKey, f)
const modules = new Map<number, ApiLike>([...byKey].map(([k, f]) => [k, f.api]))
const used = new Set<FieldException>()

test('protocol modules import', () => {
  const lines = importFailures.map(({ file, error }) => `${file}: ${error instanceof Error ? error.message : error}`)
  assert.is(lines.length, 0, `modules that fail to import:\n${lines.join('\n')}`)
})

test('discovery finds the ApiVersions codec', () => {
  const f = byKey.get(18)
  assert.ok(f, 'no module exports an Api with apiKey 18')
  assert.is(basename(f!.file), 'api-versions.ts')
})

test('one codec per api key', () => {
  const dups = found.filter((f) => byKey.get(f.api.apiKey) !== f)
  const lines = dups.map(
    (d) =>
      `apiKey ${d.api.apiKey}: ${d.file}#${d.exportName} and ${byKey.get(d.api.apiKey)!.file}#${byKey.get(d.api.apiKey)!.exportName}`,
  )
  assert.is(lines.length, 0, lines.join('\n'))
})

for (const f of [...byKey.values()].sort((a, b) => a.api.apiKey - b.api.apiKey)) {
  test(`${f.exportName} (key ${f.api.apiKey}, ${f.file}) conforms to its schema`, () => {
    const result = checkApi(f.api, { exceptions: EXCEPTIONS })
    for (const e of result.used) used.add(e)
    assert.ok(result.versions.length > 0 || result.problems.length > 0, 'no version was checked')
    if (result.problems.length > 0) assert.unreachable(`\n${formatProblems(result.problems)}`)
  })
}

// Registered after the modules' tests, so it sees which exceptions they used.
test('the exception table has no stale or unexplained entries', () => {
  const problems = checkExceptions(EXCEPTIONS, modules, used)
  if (problems.length > 0) assert.unreachable(`\n${formatProblems(problems)}`)
})

// ---------------------------------------------------------------------------------------------
// The interpreter itself

test('schema parsing: version ranges and comments', () => {
  assert.equal(parseVersions('0+'), { lo: 0, hi: Number.POSITIVE_INFINITY })
  assert.equal(parseVersions('3-5'), { lo: 3, hi: 5 })
  assert.equal(parseVersions('7'), { lo: 7, hi: 7 })
  assert.ok(parseVersions('none').lo > parseVersions('none').hi)
  assert.is(stripComments('{ "a": "http://x" // c\n}'), '{ "a": "http://x" \n}')
  const schemas = loadSchemas()
  assert.ok(schemas.all.length > 150)
  const header = schemas.byName.get('RequestHeader')!
  const clientId = header.fields.find((f) => f.key === 'clientId')!
  assert.equal(clientId.flexibleVersions, parseVersions('none'))
  assert.is(schemas.request(18)!.name, 'ApiVersionsRequest')
})

test('interpreter: every schema, every version, round-trips its own random values', () => {
  const schemas = loadSchemas()
  let checked = 0
  for (const m of schemas.all) {
    for (const v of versionsOf(m)) {
      for (const seed of [1, 2]) {
        const value = new Generator(seed * 1000 + v).message(m, v)
        const bytes = encodeMessage(m, value, v)
        const src = new Source(bytes)
        const back = decodeMessage(m, src, v)
        const t = { kind: 'struct' as const, struct: { name: m.name, fields: m.fields } }
        assert.ok(sameValue(t, value, back, v), `${m.name} v${v} seed ${seed} does not round-trip`)
        assert.is(src.remaining, 0, `${m.name} v${v}: ${src.remaining} bytes left`)
        assert.is(src.anomalies.length, 0, `${m.name} v${v}: ${JSON.stringify(src.anomalies)}`)
        checked++
      }
    }
  }
  assert.ok(checked > 500, `only ${checked} message versions`)
})

test('interpreter: known bytes of ApiVersionsResponse v3 and RequestHeader v2', () => {
  const schemas = loadSchemas()
  const res = schemas.response(18)!
  const value = {
    errorCode: 0,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: 5n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  }
  const expected = Buffer.from(
    '0000' + // errorCode
      '02' + // compact array of 1
      '0012' +
      '0000' +
      '0004' +
      '00' + // apiKey 18, v0-4, no tagged fields
      '00000000' + // throttleTimeMs
      '01' +
      '01' +
      '08' +
      '0000000000000005', // one tagged field: tag 1, 8 bytes, epoch 5
    'hex',
  )
  assert.is(encodeMessage(res, value, 3).toString('hex'), expected.toString('hex'))
  // Tagged fields equal to their default are not written; unknown tags are skipped on read.
  const noTags = encodeMessage(res, { ...value, finalizedFeaturesEpoch: -1n }, 3)
  assert.is(noTags.toString('hex'), '0000' + '02' + '0012' + '0000' + '0004' + '00' + '00000000' + '00')
  const src = new Source(encodeMessage(res, withUnknownTag({ ...value }, 4000, Buffer.from('abc')), 3))
  const back = decodeMessage(res, src, 3)
  assert.is(back.finalizedFeaturesEpoch, 5n)
  assert.is(src.anomalies.length, 1)

  const header = schemas.byName.get('RequestHeader')!
  const h = encodeMessage(header, { requestApiKey: 3, requestApiVersion: 12, correlationId: 7, clientId: 'ab' }, 2)
  // Client id keeps its int16 length in the flexible header v2; then an empty tagged-field section.
  assert.is(h.toString('hex'), '0003' + '000c' + '00000007' + '0002' + '6162' + '00')
})

test('interpreter: nullable structs use an int8 marker', () => {
  const m = parseMessage(`{
    "apiKey": 999, "type": "response", "name": "TestResponse", "validVersions": "0", "flexibleVersions": "0+",
    "fields": [
      { "name": "Cursor", "type": "Cursor", "versions": "0+", "nullableVersions": "0+", "default": "null",
        "fields": [ { "name": "Index", "type": "int32", "versions": "0+" } ] }
    ] }`)
  assert.is(encodeMessage(m, { cursor: null }, 0).toString('hex'), 'ff00')
  assert.is(encodeMessage(m, { cursor: { index: 2 } }, 0).toString('hex'), '01' + '00000002' + '00' + '00')
})

// ---------------------------------------------------------------------------------------------
// The checker can fail: deliberately broken copies of the ApiVersions contract.

interface AvResponse {
  errorCode: number
  apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }>
  throttleTimeMs: number
  supportedFeatures: Array<{ name: string; minVersion: number; maxVersion: number }>
  finalizedFeaturesEpoch: bigint
  finalizedFeatures: Array<{ name: string; maxVersionLevel: number; minVersionLevel: number }>
  zkMigrationReady: boolean
}

/** A correct ApiVersions codec written here from the schema, to derive broken variants from. */
function apiVersionsCodec(
  bugs: {
    forgetThrottle?: boolean
    swapSoftwareFields?: boolean
    ignoreTag?: number
    classicStringsInFlexible?: boolean
    flexibleFrom?: number
    dropZkDefault?: boolean
  } = {},
): ApiLike {
  return {
    apiKey: 18,
    name: 'ApiVersions',
    minVersion: 0,
    maxVersion: 4,
    flexibleFrom: bugs.flexibleFrom ?? 3,
    encode(w: Writer, request: { clientSoftwareName?: string; clientSoftwareVersion?: string }, version: number) {
      if (version < 3) return
      const compact = !bugs.classicStringsInFlexible
      const name = request.clientSoftwareName ?? ''
      const ver = request.clientSoftwareVersion ?? ''
      if (bugs.swapSoftwareFields) w.string(ver, compact).string(name, compact)
      else w.string(name, compact).string(ver, compact)
      w.emptyTaggedFields()
    },
    decode(r: Reader, version: number): AvResponse {
      const flexible = version >= 3
      const errorCode = r.int16()
      const n = r.arrayLength(flexible)
      const apiKeys: AvResponse['apiKeys'] = new Array(n)
      for (let i = 0; i < n; i++) {
        apiKeys[i] = { apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() }
        if (flexible) r.skipTaggedFields()
      }
      const throttleTimeMs = version >= 1 && !bugs.forgetThrottle ? r.int32() : 0
      const out: AvResponse = {
        errorCode,
        apiKeys,
        throttleTimeMs,
        supportedFeatures: [],
        finalizedFeaturesEpoch: -1n,
        finalizedFeatures: [],
        zkMigrationReady: false,
      }
      if (bugs.dropZkDefault) delete (out as Partial<AvResponse>).zkMigrationReady
      if (flexible) {
        r.taggedFields((tag, t) => {
          if (tag === bugs.ignoreTag) return false
          if (tag === 0) {
            const count = t.arrayLength(true)
            for (let i = 0; i < count; i++) {
              out.supportedFeatures.push({ name: t.string(true), minVersion: t.int16(), maxVersion: t.int16() })
              t.skipTaggedFields()
            }
          } else if (tag === 1) out.finalizedFeaturesEpoch = t.int64()
          else if (tag === 2) {
            const count = t.arrayLength(true)
            for (let i = 0; i < count; i++) {
              out.finalizedFeatures.push({
                name: t.string(true),
                maxVersionLevel: t.int16(),
                minVersionLevel: t.int16(),
              })
              t.skipTaggedFields()
            }
          } else if (tag === 3) out.zkMigrationReady = t.boolean()
          else return false
          return true
        })
      }
      return out
    },
  }
}

function problemsAt(problems: Problem[], side: string, path: string): Problem[] {
  return problems.filter((p) => p.side === side && p.path.replace(/\[\d+\]/g, '') === path)
}

test('broken codecs: the reference copy passes', () => {
  const { problems, versions } = checkApi(apiVersionsCodec())
  assert.equal(versions, [0, 1, 2, 3, 4])
  assert.is(problems.length, 0, formatProblems(problems))
})

test('broken codecs: a decoder that forgets ThrottleTimeMs is caught', () => {
  const { problems } = checkApi(apiVersionsCodec({ forgetThrottle: true }))
  const throttle = problemsAt(problems, 'response', 'throttleTimeMs')
  assert.ok(throttle.length > 0, formatProblems(problems))
  assert.ok(throttle.every((p) => p.version! >= 1))
  assert.ok(problems.some((p) => p.path === '(end)' || p.message.includes('decode threw')))
  const text = formatProblems(problems)
  assert.match(text, /ApiVersions \(key 18\) v1-\d response: throttleTimeMs: expected/)
})

test('broken codecs: an encoder writing fields in the wrong order is caught', () => {
  const { problems } = checkApi(apiVersionsCodec({ swapSoftwareFields: true }))
  assert.ok(problemsAt(problems, 'request', 'clientSoftwareName').length > 0, formatProblems(problems))
  assert.ok(problems.every((p) => p.version === undefined || p.version >= 3))
})

test('broken codecs: a decoder that skips a tagged field is caught', () => {
  const { problems } = checkApi(apiVersionsCodec({ ignoreTag: 1 }))
  assert.ok(problemsAt(problems, 'response', 'finalizedFeaturesEpoch').length > 0, formatProblems(problems))
})

test('broken codecs: classic strings in a flexible version are caught', () => {
  const { problems } = checkApi(apiVersionsCodec({ classicStringsInFlexible: true }))
  assert.ok(
    problems.some((p) => p.side === 'request' && p.version === 3),
    formatProblems(problems),
  )
})

test('broken codecs: a wrong flexibleFrom is caught', () => {
  const { problems } = checkApi(apiVersionsCodec({ flexibleFrom: 4 }))
  assert.ok(problemsAt(problems, 'module', 'flexibleFrom').length === 1, formatProblems(problems))
})

test('broken codecs: a field missing from the decoded object is caught in every version', () => {
  const { problems } = checkApi(apiVersionsCodec({ dropZkDefault: true }))
  const zk = problemsAt(problems, 'response', 'zkMigrationReady')
  assert.equal([...new Set(zk.map((p) => p.version))].sort(), [0, 1, 2, 3, 4])
  assert.match(zk[0].message, /missing/)
})

test('exceptions: an entry suppresses its field, and stale or unexplained entries fail', () => {
  const skipTag: FieldException = {
    apiKey: 18,
    side: 'response',
    path: 'finalizedFeaturesEpoch',
    reason: 'test: this codec ignores the epoch',
  }
  const broken = apiVersionsCodec({ ignoreTag: 1 })
  const r = checkApi(broken, { exceptions: [skipTag] })
  assert.is(r.problems.length, 0, formatProblems(r.problems))
  assert.ok(r.used.has(skipTag))
  assert.is(checkExceptions([skipTag], new Map([[18, broken]]), r.used).length, 0)

  // Once the codec handles the field, the entry is stale.
  const fixed = apiVersionsCodec()
  const r2 = checkApi(fixed, { exceptions: [skipTag] })
  const stale = checkExceptions([skipTag], new Map([[18, fixed]]), r2.used)
  assert.is(stale.length, 1)
  assert.match(stale[0].message, /remove the entry/)

  const bad: FieldException[] = [
    { apiKey: 18, side: 'response', path: 'noSuchField', reason: 'a reason long enough' },
    { apiKey: 18, side: 'response', path: 'throttleTimeMs', reason: '' },
  ]
  const problems = checkExceptions(bad, new Map([[18, fixed]]), new Set())
  assert.ok(problems.some((p) => /has no field noSuchField/.test(p.message)))
  assert.ok(problems.some((p) => /needs a reason/.test(p.message)))
})

test.run()
