import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DescribeProducers } from '../../src/protocol/describe-producers.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')

test('metadata matches the schema', () => {
  assert.is(DescribeProducers.apiKey, 61)
  assert.is(DescribeProducers.minVersion, 0)
  assert.is(DescribeProducers.maxVersion, 0)
  assert.is(DescribeProducers.flexibleFrom, 0)
})

test('request v0 (flexible)', () => {
  const w = new Writer(8)
  DescribeProducers.encode(w, { topics: [{ name: 'a', partitionIndexes: [0, 2] }] }, 0)
  const expected = hex(
    '02', // topics: 1
    '02 61', // 'a'
    '03 00000000 00000002', // partitionIndexes [0, 2]
    '00', // topic tags
    '00', // request tags
  )
  assert.is(w.toBuffer().toString('hex'), expected)
})

test('response v0', () => {
  const bytes = hex(
    '00000000', // throttleTimeMs
    '02', // topics: 1
    '02 61', // 'a'
    '03', // partitions: 2
    '00000000 0000 00', // partition 0, ok, message null
    '02', // activeProducers: 1
    '0000000000000007', // producerId 7
    '00000001', // producerEpoch
    '0000000a', // lastSequence 10
    '0000018c8a3f1e00', // lastTimestamp
    'ffffffff', // coordinatorEpoch -1
    'ffffffffffffffff', // currentTxnStartOffset -1
    '00', // producer tags
    '00', // partition tags
    '00000001 0006 03 6e6f 01', // partition 1, NOT_LEADER_OR_FOLLOWER 'no', no producers
    '00', // partition tags
    '00', // topic tags
    '00', // response tags
  )
  const r = new Reader(Buffer.from(bytes, 'hex'))
  const res = DescribeProducers.decode(r, 0)
  r.expectEnd()
  assert.equal(res, {
    throttleTimeMs: 0,
    topics: [
      {
        name: 'a',
        partitions: [
          {
            partitionIndex: 0,
            errorCode: 0,
            errorMessage: null,
            activeProducers: [
              {
                producerId: 7n,
                producerEpoch: 1,
                lastSequence: 10,
                lastTimestamp: 0x18c8a3f1e00n,
                coordinatorEpoch: -1,
                currentTxnStartOffset: -1n,
              },
            ],
          },
          { partitionIndex: 1, errorCode: 6, errorMessage: 'no', activeProducers: [] },
        ],
      },
    ],
  })
})

test.run()
