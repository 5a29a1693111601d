import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Reader } from '../../src/protocol/reader.js'
import { SaslHandshake } from '../../src/protocol/sasl-handshake.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')

function encode(mechanism: string, version: number): string {
  const w = new Writer(8)
  SaslHandshake.encode(w, { mechanism }, version)
  return w.toBuffer().toString('hex')
}

function decode(bytes: string, version: number) {
  const r = new Reader(Buffer.from(bytes, 'hex'))
  const response = SaslHandshake.decode(r, version)
  r.expectEnd()
  return response
}

test('metadata matches the schema: never flexible', () => {
  assert.is(SaslHandshake.apiKey, 17)
  assert.is(SaslHandshake.minVersion, 0)
  assert.is(SaslHandshake.maxVersion, 1)
  assert.is(SaslHandshake.flexibleFrom, Number.POSITIVE_INFINITY)
})

test('request v0 and v1', () => {
  const expected = hex('0005', '504c41494e') // 'PLAIN'
  assert.is(encode('PLAIN', 0), expected)
  assert.is(encode('PLAIN', 1), expected)
})

test('response v0 and v1', () => {
  const bytes = hex(
    '0021', // errorCode 33 UNSUPPORTED_SASL_MECHANISM
    '00000002', // mechanisms: 2
    '0005 504c41494e', // 'PLAIN'
    '000d 534352414d2d5348412d353132', // 'SCRAM-SHA-512'
  )
  const expected = { errorCode: 33, mechanisms: ['PLAIN', 'SCRAM-SHA-512'] }
  assert.equal(decode(bytes, 0), expected)
  assert.equal(decode(bytes, 1), expected)
})

test.run()
