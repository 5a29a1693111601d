import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Api } from '../../src/protocol/api.js'
import { ApiVersions } from '../../src/protocol/api-versions.js'
import {
  decodeResponseHeader,
  encodeRequestFrame,
  peekCorrelationId,
  responseHeaderVersion,
} from '../../src/protocol/headers.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import { encodeMessage } from '../schema/codec.js'
import { loadSchemas } from '../schema/schema.js'

const hex = (b: Buffer) => b.toString('hex')
const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex')

/** A made-up API: key 3, flexible from v9, body = one int32. */
const Fake: Api<{ x: number }, number> = {
  apiKey: 3,
  name: 'Fake',
  minVersion: 0,
  maxVersion: 12,
  flexibleFrom: 9,
  encode(w, req) {
    w.int32(req.x)
  },
  decode(r) {
    return r.int32()
  },
}

function frame<Q>(
  api: Api<Q, unknown>,
  version: number,
  correlationId: number,
  clientId: string | null,
  req: Q,
): Buffer {
  const w = new Writer(4)
  encodeRequestFrame(w, api, version, correlationId, clientId, req)
  return w.toBuffer()
}

test('request header v1 (classic versions): key, version, correlation id, int16 client id', () => {
  const b = frame(Fake, 8, 0x01020304, 'ab', { x: 7 })
  const body = '0003' + '0008' + '01020304' + '0002' + '6162' + '00000007'
  assert.is(hex(b), (body.length / 2).toString(16).padStart(8, '0') + body)
})

test('request header v2 (flexible versions): the client id keeps its int16 length, then empty tagged fields', () => {
  const b = frame(Fake, 9, 7, 'ab', { x: 7 })
  const body = '0003' + '0009' + '00000007' + '0002' + '6162' + '00' + '00000007'
  assert.is(hex(b), (body.length / 2).toString(16).padStart(8, '0') + body)
  // Not the compact form a flexible string would otherwise use (03 61 62).
  assert.not.match(hex(b), /0000000703616200/)
})

test('a null client id is int16 -1 in both header versions', () => {
  assert.is(hex(frame(Fake, 1, 1, null, { x: 0 }).subarray(12, 14)), 'ffff')
  const v2 = frame(Fake, 10, 1, null, { x: 0 })
  assert.is(hex(v2.subarray(12)), 'ffff' + '00' + '00000000')
})

test('the size prefix equals the number of bytes after it', () => {
  for (const [version, clientId] of [
    [0, 'client'],
    [9, 'client-é'],
    [12, ''],
    [11, null],
  ] as const) {
    const b = frame(Fake, version, 42, clientId, { x: 1 })
    assert.is(b.readInt32BE(0), b.length - 4, `v${version}`)
  }
  // Also when the body is large and the writer grows while writing it.
  const w = new Writer(8)
  w.int8(0x7f) // something already in the writer: the frame starts mid-buffer
  const big = Buffer.alloc(100_000, 1)
  const Blob: Api<Buffer, void> = { ...Fake, encode: (wr, b) => void wr.bytes(b, true), decode: () => {} }
  encodeRequestFrame(w, Blob, 9, 5, 'c', big)
  const out = w.toBuffer()
  assert.is(out.readInt32BE(1), out.length - 5)
})

test('ApiVersions frames match the schemas: header v1 for v0-2, header v2 for v3+', () => {
  const schemas = loadSchemas()
  const header = schemas.byName.get('RequestHeader')!
  const request = schemas.request(18)!
  for (const version of [0, 1, 2, 3, 4]) {
    const headerVersion = version >= 3 ? 2 : 1
    const req = { clientSoftwareName: 'kafka-wire', clientSoftwareVersion: '1.2.3' }
    const expected = Buffer.concat([
      encodeMessage(
        header,
        { requestApiKey: 18, requestApiVersion: version, correlationId: 99, clientId: 'me' },
        headerVersion,
      ),
      encodeMessage(request, req, version),
    ])
    const b = frame(ApiVersions, version, 99, 'me', req)
    assert.is(b.readInt32BE(0), b.length - 4)
    assert.is(hex(b.subarray(4)), hex(expected), `ApiVersions v${version}`)
  }
})

test('response header v0 is just the correlation id; v1 adds a tagged-field section', () => {
  assert.is(responseHeaderVersion(Fake, 8), 0)
  assert.is(responseHeaderVersion(Fake, 9), 1)

  const v0 = new Reader(bytes('0000002a 0000beef'))
  assert.is(decodeResponseHeader(v0, Fake, 8), 42)
  assert.is(v0.offset, 4)
  assert.is(Fake.decode(v0, 8), 0xbeef)
  v0.expectEnd()

  // v1 with an unknown tagged field in the header: skipped.
  const v1 = new Reader(bytes('0000002a 01 00 02 abcd 0000beef'))
  assert.is(decodeResponseHeader(v1, Fake, 9), 42)
  assert.is(v1.offset, 4 + 5)
  assert.is(Fake.decode(v1, 9), 0xbeef)
  v1.expectEnd()
  const empty = new Reader(bytes('0000002a 00'))
  decodeResponseHeader(empty, Fake, 12)
  empty.expectEnd()
})

test('ApiVersions responses always use response header v0, even in flexible versions', () => {
  for (const version of [0, 1, 2, 3, 4]) assert.is(responseHeaderVersion(ApiVersions, version), 0)
  // A v3 response: correlation id, then directly the body (error code 0, no api keys).
  const schemas = loadSchemas()
  const body = encodeMessage(
    schemas.response(18)!,
    {
      errorCode: 0,
      apiKeys: [],
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    },
    3,
  )
  const r = new Reader(Buffer.concat([bytes('00000007'), body]))
  assert.is(decodeResponseHeader(r, ApiVersions, 3), 7)
  assert.is(r.offset, 4, 'no tagged-field byte consumed after the correlation id')
  const res = ApiVersions.decode(r, 3)
  assert.is(res.errorCode, 0)
  r.expectEnd()
})

test('peekCorrelationId', () => {
  assert.is(peekCorrelationId(bytes('0000002a ff')), 42)
  assert.is(peekCorrelationId(bytes('ffffffff')), -1)
  assert.is(peekCorrelationId(bytes('0000')), -1)
})

test.run()
