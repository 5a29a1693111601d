import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { OffsetForLeaderEpoch, type OffsetForLeaderEpochRequest } from '../../src/protocol/offset-for-leader-epoch.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const h = (s: string): string => s.replace(/\s+/g, '')
const encode = (request: OffsetForLeaderEpochRequest, version: number): string => {
  const w = new Writer(8)
  OffsetForLeaderEpoch.encode(w, request, version)
  return w.view().toString('hex')
}

test('schema facts', () => {
  assert.is(OffsetForLeaderEpoch.apiKey, 23)
  assert.is(OffsetForLeaderEpoch.minVersion, 2)
  assert.is(OffsetForLeaderEpoch.maxVersion, 4)
  assert.is(OffsetForLeaderEpoch.flexibleFrom, 4)
})

test('request v2 and v3: classic; replicaId from v3 defaults to -2', () => {
  const req: OffsetForLeaderEpochRequest = {
    topics: [{ topic: 't', partitions: [{ partition: 0, leaderEpoch: 3 }] }],
  }
  assert.is(encode(req, 2), h('00000001 0001 74 00000001 00000000 ffffffff 00000003'))
  assert.is(encode(req, 3), h('fffffffe 00000001 0001 74 00000001 00000000 ffffffff 00000003'))
})

test('request v4: flexible', () => {
  const req: OffsetForLeaderEpochRequest = {
    replicaId: -1,
    topics: [{ topic: 't', partitions: [{ partition: 1, currentLeaderEpoch: 5, leaderEpoch: 3 }] }],
  }
  assert.is(encode(req, 4), h('ffffffff 02 02 74 02 00000001 00000005 00000003 00 00 00'))
})

test('response v2 (classic)', () => {
  const r = new Reader(hex('0000000a 00000001 0001 74 00000001 0000 00000000 00000003 0000000000000064'))
  const res = OffsetForLeaderEpoch.decode(r, 2)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 10,
    topics: [{ topic: 't', partitions: [{ errorCode: 0, partition: 0, leaderEpoch: 3, endOffset: 100n }] }],
  })
})

test('response v4 (flexible)', () => {
  const r = new Reader(
    hex(
      '00000000 02 02 74 03 0000 00000000 00000003 0000000000000064 00 004a 00000001 ffffffff ffffffffffffffff 00 00 00',
    ),
  )
  const res = OffsetForLeaderEpoch.decode(r, 4)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 0,
    topics: [
      {
        topic: 't',
        partitions: [
          { errorCode: 0, partition: 0, leaderEpoch: 3, endOffset: 100n },
          { errorCode: 74, partition: 1, leaderEpoch: -1, endOffset: -1n },
        ],
      },
    ],
  })
})

test.run()
