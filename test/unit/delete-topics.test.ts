import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DeleteTopics, type DeleteTopicsRequest } from '../../src/protocol/delete-topics.js'
import { EncodeError } from '../../src/protocol/errors.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')

function encode(request: DeleteTopicsRequest, version: number): string {
  const w = new Writer(8)
  DeleteTopics.encode(w, request, version)
  return w.toBuffer().toString('hex')
}

function decode(bytes: string, version: number) {
  const r = new Reader(Buffer.from(bytes, 'hex'))
  const response = DeleteTopics.decode(r, version)
  r.expectEnd()
  return response
}

const ID = 'AAECAwQFBgcICQoLDA0ODw' // 000102...0f

test('metadata matches the schema', () => {
  assert.is(DeleteTopics.apiKey, 20)
  assert.is(DeleteTopics.minVersion, 1)
  assert.is(DeleteTopics.maxVersion, 6)
  assert.is(DeleteTopics.flexibleFrom, 4)
})

test('request v1 (classic): array of names', () => {
  const expected = hex(
    '00000002', // topicNames: 2
    '0001 61', // 'a'
    '0002 6263', // 'bc'
    '00007530', // timeoutMs 30000
  )
  assert.is(encode({ topicNames: ['a', 'bc'], timeoutMs: 30000 }, 1), expected)
  assert.is(encode({ topicNames: ['a', 'bc'], timeoutMs: 30000 }, 3), expected)
})

test('request v4/v5 (flexible, still names)', () => {
  const expected = hex('03 02 61 03 6263', '00007530', '00')
  assert.is(encode({ topicNames: ['a', 'bc'], timeoutMs: 30000 }, 4), expected)
  assert.is(encode({ topicNames: ['a', 'bc'], timeoutMs: 30000 }, 5), expected)
})

test('request v6: topics with name or id', () => {
  const expected = hex(
    '03', // topics: 2
    '02 61', // name 'a'
    '00000000000000000000000000000000', // zero id
    '00', // tags
    '00', // name null
    '000102030405060708090a0b0c0d0e0f', // topicId
    '00', // tags
    '000003e8', // timeoutMs 1000
    '00', // request tags
  )
  assert.is(encode({ topics: [{ name: 'a' }, { topicId: ID }], timeoutMs: 1000 }, 6), expected)
})

test('names and topics convert across the v6 boundary', () => {
  assert.is(
    encode({ topicNames: ['a'], timeoutMs: 1000 }, 6),
    hex('02 02 61 00000000000000000000000000000000 00 000003e8 00'),
  )
  assert.is(encode({ topics: [{ name: 'a', topicId: ID }], timeoutMs: 1000 }, 1), hex('00000001 0001 61 000003e8'))
  assert.throws(
    () => encode({ topics: [{ topicId: ID }], timeoutMs: 1000 }, 5),
    (e: unknown) => e instanceof EncodeError,
  )
})

test('response v1 (classic)', () => {
  const bytes = hex('0000000a', '00000001', '0001 61', '0003')
  assert.equal(decode(bytes, 1), {
    throttleTimeMs: 10,
    responses: [{ name: 'a', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', errorCode: 3, errorMessage: null }],
  })
})

test('response v5 (flexible, error message)', () => {
  const bytes = hex('00000000', '02', '02 61', '0029', '03 6e6f', '00', '00')
  assert.equal(decode(bytes, 5).responses, [
    { name: 'a', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', errorCode: 41, errorMessage: 'no' },
  ])
})

test('response v6 (null name, topic id, tagged fields skipped)', () => {
  const bytes = hex(
    '00000005', // throttleTimeMs
    '02', // responses: 1
    '00', // name null
    '000102030405060708090a0b0c0d0e0f', // topicId
    '0064', // errorCode 100
    '00', // errorMessage null
    '01 07 02 abcd', // one unknown tag
    '00', // response tags
  )
  assert.equal(decode(bytes, 6), {
    throttleTimeMs: 5,
    responses: [{ name: null, topicId: ID, errorCode: 100, errorMessage: null }],
  })
})

test.run()
