import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { OffsetDelete } from '../../src/protocol/offset-delete.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')

test('metadata matches the schema', () => {
  assert.is(OffsetDelete.apiKey, 47)
  assert.is(OffsetDelete.minVersion, 0)
  assert.is(OffsetDelete.maxVersion, 0)
  assert.is(OffsetDelete.flexibleFrom, Number.POSITIVE_INFINITY)
})

test('request v0', () => {
  const w = new Writer(8)
  OffsetDelete.encode(
    w,
    {
      groupId: 'g',
      topics: [
        { name: 'a', partitions: [{ partitionIndex: 0 }, { partitionIndex: 5 }] },
        { name: 'b', partitions: [] },
      ],
    },
    0,
  )
  const expected = hex(
    '0001 67', // groupId 'g'
    '00000002', // topics: 2
    '0001 61 00000002 00000000 00000005', // 'a' [0, 5]
    '0001 62 00000000', // 'b' []
  )
  assert.is(w.toBuffer().toString('hex'), expected)
})

test('response v0', () => {
  const bytes = hex(
    '0000', // errorCode
    '00000014', // throttleTimeMs 20
    '00000001', // topics: 1
    '0001 61', // 'a'
    '00000002 00000000 0000 00000005 0056', // 0 ok, 5 GROUP_SUBSCRIBED_TO_TOPIC (86)
  )
  const r = new Reader(Buffer.from(bytes, 'hex'))
  const res = OffsetDelete.decode(r, 0)
  r.expectEnd()
  assert.equal(res, {
    errorCode: 0,
    throttleTimeMs: 20,
    topics: [
      {
        name: 'a',
        partitions: [
          { partitionIndex: 0, errorCode: 0 },
          { partitionIndex: 5, errorCode: 86 },
        ],
      },
    ],
  })
})

test.run()
