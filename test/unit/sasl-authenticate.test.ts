import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Reader } from '../../src/protocol/reader.js'
import { SaslAuthenticate } from '../../src/protocol/sasl-authenticate.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')

function encode(authBytes: Buffer, version: number): string {
  const w = new Writer(8)
  SaslAuthenticate.encode(w, { authBytes }, version)
  return w.toBuffer().toString('hex')
}

function decode(bytes: string, version: number) {
  const r = new Reader(Buffer.from(bytes, 'hex'))
  const response = SaslAuthenticate.decode(r, version)
  r.expectEnd()
  return response
}

// PLAIN token: \0user\0pw
const token = Buffer.from('\0u\0pw', 'latin1')

test('metadata matches the schema', () => {
  assert.is(SaslAuthenticate.apiKey, 36)
  assert.is(SaslAuthenticate.minVersion, 0)
  assert.is(SaslAuthenticate.maxVersion, 2)
  assert.is(SaslAuthenticate.flexibleFrom, 2)
})

test('request v0/v1 (classic): int32 length', () => {
  const expected = hex('00000005', '0075007077')
  assert.is(encode(token, 0), expected)
  assert.is(encode(token, 1), expected)
})

test('request v2 (flexible): uvarint length + 1, tags', () => {
  assert.is(encode(token, 2), hex('06', '0075007077', '00'))
  assert.is(encode(Buffer.alloc(0), 2), hex('01 00'))
})

test('response v0 (classic): no session lifetime', () => {
  const bytes = hex('003a', '0004 6e6f7065', '00000000')
  const res = decode(bytes, 0)
  assert.is(res.errorCode, 58)
  assert.is(res.errorMessage, 'nope')
  assert.is(res.authBytes.length, 0)
  assert.is(res.sessionLifetimeMs, 0n)
})

test('response v1 (classic) with session lifetime', () => {
  const bytes = hex('0000', 'ffff', '00000002 abcd', '0000000000036ee8')
  const res = decode(bytes, 1)
  assert.is(res.errorMessage, null)
  assert.is(res.authBytes.toString('hex'), 'abcd')
  assert.is(res.sessionLifetimeMs, 225000n)
})

test('response v2 (flexible)', () => {
  const bytes = hex('0000', '00', '03 abcd', '7fffffffffffffff', '01 00 01 00', '')
  const res = decode(bytes, 2)
  assert.equal(res, {
    errorCode: 0,
    errorMessage: null,
    authBytes: Buffer.from('abcd', 'hex'),
    sessionLifetimeMs: 9223372036854775807n,
  })
})

test.run()
