import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CreatePartitions, type CreatePartitionsRequest } from '../../src/protocol/create-partitions.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')

function encode(request: CreatePartitionsRequest, version: number): string {
  const w = new Writer(8)
  CreatePartitions.encode(w, request, version)
  return w.toBuffer().toString('hex')
}

function decode(bytes: string, version: number) {
  const r = new Reader(Buffer.from(bytes, 'hex'))
  const response = CreatePartitions.decode(r, version)
  r.expectEnd()
  return response
}

const request: CreatePartitionsRequest = {
  topics: [
    { name: 'a', count: 3, assignments: [{ brokerIds: [1] }, { brokerIds: [2, 3] }] },
    { name: 'b', count: 6, assignments: null },
  ],
  timeoutMs: 2000,
  validateOnly: false,
}

test('metadata matches the schema', () => {
  assert.is(CreatePartitions.apiKey, 37)
  assert.is(CreatePartitions.minVersion, 0)
  assert.is(CreatePartitions.maxVersion, 3)
  assert.is(CreatePartitions.flexibleFrom, 2)
})

test('request v0 (classic)', () => {
  const expected = hex(
    '00000002', // topics: 2
    '0001 61', // 'a'
    '00000003', // count
    '00000002', // assignments: 2
    '00000001 00000001', // [1]
    '00000002 00000002 00000003', // [2, 3]
    '0001 62', // 'b'
    '00000006', // count
    'ffffffff', // assignments null
    '000007d0', // timeoutMs 2000
    '00', // validateOnly
  )
  assert.is(encode(request, 0), expected)
  assert.is(encode(request, 1), expected)
})

test('request v3 (flexible)', () => {
  const expected = hex(
    '03', // topics: 2
    '02 61', // 'a'
    '00000003', // count
    '03', // assignments: 2
    '02 00000001 00', // [1], tags
    '03 00000002 00000003 00', // [2, 3], tags
    '00', // topic tags
    '02 62', // 'b'
    '00000006', // count
    '00', // assignments null
    '00', // topic tags
    '000007d0', // timeoutMs
    '00', // validateOnly
    '00', // request tags
  )
  assert.is(encode(request, 3), expected)
  assert.is(encode(request, 2), expected)
})

test('response v0 (classic)', () => {
  const bytes = hex('00000000', '00000002', '0001 61 0000 ffff', '0001 62 0025 0003 626164')
  assert.equal(decode(bytes, 0), {
    throttleTimeMs: 0,
    results: [
      { name: 'a', errorCode: 0, errorMessage: null },
      { name: 'b', errorCode: 37, errorMessage: 'bad' },
    ],
  })
})

test('response v3 (flexible)', () => {
  const bytes = hex('00000007', '02', '02 61 0059 04 626164', '01 02 01 00', '00')
  assert.equal(decode(bytes, 3), { throttleTimeMs: 7, results: [{ name: 'a', errorCode: 89, errorMessage: 'bad' }] })
})

test.run()
