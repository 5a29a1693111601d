import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DeleteRecords, type DeleteRecordsRequest } from '../../src/protocol/delete-records.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const h = (s: string): string => s.replace(/\s+/g, '')
const encode = (request: DeleteRecordsRequest, version: number): string => {
  const w = new Writer(8)
  DeleteRecords.encode(w, request, version)
  return w.view().toString('hex')
}

test('schema facts', () => {
  assert.is(DeleteRecords.apiKey, 21)
  assert.is(DeleteRecords.minVersion, 0)
  assert.is(DeleteRecords.maxVersion, 2)
  assert.is(DeleteRecords.flexibleFrom, 2)
})

const req: DeleteRecordsRequest = {
  topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 100n }] }],
  timeoutMs: 1000,
}

test('request v0 and v1 (classic)', () => {
  const expected = h('00000001 0001 74 00000001 00000000 0000000000000064 000003e8')
  assert.is(encode(req, 0), expected)
  assert.is(encode(req, 1), expected)
})

test('request v2 (flexible)', () => {
  assert.is(encode(req, 2), h('02 02 74 02 00000000 0000000000000064 00 00 000003e8 00'))
})

test('response v0 (classic)', () => {
  const r = new Reader(hex('00000000 00000001 0001 74 00000001 00000000 0000000000000064 0000'))
  const res = DeleteRecords.decode(r, 0)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 0,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, lowWatermark: 100n, errorCode: 0 }] }],
  })
})

test('response v2 (flexible)', () => {
  const r = new Reader(hex('00000005 02 02 74 02 00000003 ffffffffffffffff 0001 00 00 00'))
  const res = DeleteRecords.decode(r, 2)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 5,
    topics: [{ name: 't', partitions: [{ partitionIndex: 3, lowWatermark: -1n, errorCode: 1 }] }],
  })
})

test.run()
