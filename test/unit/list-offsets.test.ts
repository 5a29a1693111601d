import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ListOffsets, type ListOffsetsRequest } from '../../src/protocol/list-offsets.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const h = (s: string): string => s.replace(/\s+/g, '')
const encode = (request: ListOffsetsRequest, version: number): string => {
  const w = new Writer(8)
  ListOffsets.encode(w, request, version)
  return w.view().toString('hex')
}

test('schema facts', () => {
  assert.is(ListOffsets.apiKey, 2)
  assert.is(ListOffsets.minVersion, 1)
  assert.is(ListOffsets.maxVersion, 10)
  assert.is(ListOffsets.flexibleFrom, 6)
})

test('request v1: no isolation level, no leader epoch', () => {
  const req: ListOffsetsRequest = {
    replicaId: -1,
    isolationLevel: 1,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 5, timestamp: -2n }] }],
  }
  assert.is(encode(req, 1), h('ffffffff 00000001 0001 74 00000001 00000000 fffffffffffffffe'))
  // v2 adds the isolation level; v4 the current leader epoch
  assert.is(encode(req, 2), h('ffffffff 01 00000001 0001 74 00000001 00000000 fffffffffffffffe'))
  assert.is(encode(req, 4), h('ffffffff 01 00000001 0001 74 00000001 00000000 00000005 fffffffffffffffe'))
})

test('request v10: flexible, defaults, timeout', () => {
  const req: ListOffsetsRequest = {
    replicaId: -1,
    topics: [{ name: 't', partitions: [{ partitionIndex: 3, timestamp: -1n }] }],
    timeoutMs: 30000,
  }
  assert.is(
    encode(req, 10),
    h(`
      ffffffff
      00
      02
        02 74
        02
          00000003 ffffffff ffffffffffffffff 00
        00
      00007530
      00
    `),
  )
  // v9 has no timeout
  assert.is(encode(req, 9), h('ffffffff 00 02 02 74 02 00000003 ffffffff ffffffffffffffff 00 00 00'))
})

test('response v1 (classic)', () => {
  const r = new Reader(hex('00000001 0001 74 00000001 00000000 0000 ffffffffffffffff 000000000000002a'))
  const res = ListOffsets.decode(r, 1)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 0,
    topics: [
      { name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 42n, leaderEpoch: -1 }] },
    ],
  })
})

test('response v4 (classic) and v10 (flexible)', () => {
  const r4 = new Reader(
    hex('00000064 00000001 0001 74 00000001 00000001 0000 0000018f00000000 0000000000000064 00000003'),
  )
  const res4 = ListOffsets.decode(r4, 4)
  assert.is(r4.remaining, 0)
  assert.is(res4.throttleTimeMs, 100)
  assert.equal(res4.topics[0].partitions[0], {
    partitionIndex: 1,
    errorCode: 0,
    timestamp: 0x18f00000000n,
    offset: 100n,
    leaderEpoch: 3,
  })

  const r10 = new Reader(
    hex(`
      00000000
      02
        02 74
        03
          00000001 0000 0000018f00000000 0000000000000064 00000003 00
          00000002 0006 ffffffffffffffff ffffffffffffffff ffffffff 01 09 01 ff
        00
      00
    `),
  )
  const res10 = ListOffsets.decode(r10, 10)
  assert.is(r10.remaining, 0)
  assert.equal(res10, {
    throttleTimeMs: 0,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 1, errorCode: 0, timestamp: 0x18f00000000n, offset: 100n, leaderEpoch: 3 },
          { partitionIndex: 2, errorCode: 6, timestamp: -1n, offset: -1n, leaderEpoch: -1 },
        ],
      },
    ],
  })
})

test.run()
