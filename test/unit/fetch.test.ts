import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Fetch, type FetchRequest } from '../../src/protocol/fetch.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const h = (s: string): string => s.replace(/\s+/g, '')
const encode = (request: FetchRequest, version: number): string => {
  const w = new Writer(8)
  Fetch.encode(w, request, version)
  return w.view().toString('hex')
}

const ID = 'AAECAwQFBgcICQoLDA0ODw'
const ID_HEX = '000102030405060708090a0b0c0d0e0f'
const DIR = '_-7dzLuqmYh3ZlVEMyIRAA'
const DIR_HEX = 'ffeeddccbbaa99887766554433221100'

test('schema facts', () => {
  assert.is(Fetch.apiKey, 1)
  assert.is(Fetch.minVersion, 4)
  assert.is(Fetch.maxVersion, 18)
  assert.is(Fetch.flexibleFrom, 12)
})

test('request v4: classic, defaults for replicaId and maxBytes', () => {
  const req: FetchRequest = {
    maxWaitMs: 500,
    minBytes: 1,
    isolationLevel: 1,
    topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 100n, partitionMaxBytes: 1048576 }] }],
  }
  assert.is(
    encode(req, 4),
    h(`
      ffffffff
      000001f4
      00000001
      7fffffff
      01
      00000001
        0001 74
        00000001
          00000000 0000000000000064 00100000
    `),
  )
})

test('request v7 and v11: sessions, forgotten topics, rack id', () => {
  const req: FetchRequest = {
    replicaId: -1,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 1000,
    sessionId: 9,
    sessionEpoch: 2,
    topics: [],
    forgottenTopicsData: [{ topic: 'f', partitions: [1, 2] }],
    rackId: 'r',
  }
  // v7: replicaId, maxWait, minBytes, maxBytes, isolation (default 0), session id/epoch, topics, forgotten
  assert.is(
    encode(req, 7),
    h('ffffffff 000001f4 00000001 000003e8 00 00000009 00000002 00000000 00000001 0001 66 00000002 00000001 00000002'),
  )
  // v11 adds the current leader epoch per partition (none here) and the rack id
  assert.is(
    encode(req, 11),
    h(
      'ffffffff 000001f4 00000001 000003e8 00 00000009 00000002 00000000 00000001 0001 66 00000002 00000001 00000002 0001 72',
    ),
  )
})

test('request v12: flexible, no tagged fields when defaults', () => {
  const req: FetchRequest = {
    maxWaitMs: 0,
    minBytes: 0,
    topics: [
      {
        topic: 't',
        partitions: [
          { partition: 1, currentLeaderEpoch: 3, fetchOffset: 0n, lastFetchedEpoch: 2, partitionMaxBytes: 10 },
        ],
      },
    ],
  }
  assert.is(
    encode(req, 12),
    h(`
      ffffffff 00000000 00000000 7fffffff 00 00000000 ffffffff
      02
        02 74
        02
          00000001 00000003 0000000000000000 00000002 ffffffffffffffff 0000000a
          00
        00
      01
      01
      00
    `),
  )
})

test('request v15: replicaState is tagged, sent only when not the default', () => {
  const base: FetchRequest = { maxWaitMs: 0, minBytes: 0, topics: [] }
  // no replicaId in v15; empty topics, empty forgotten topics, empty rack id, no tags
  assert.is(
    encode({ ...base, replicaState: { replicaId: -1, replicaEpoch: -1n } }, 15),
    h('00000000 00000000 7fffffff 00 00000000 ffffffff 01 01 01 00'),
  )
  assert.is(
    encode({ ...base, replicaState: { replicaId: 1, replicaEpoch: -1n } }, 15),
    h('00000000 00000000 7fffffff 00 00000000 ffffffff 01 01 01 01 01 0d 00000001 ffffffffffffffff 00'),
  )
})

test('request v18: topic ids and every tagged field', () => {
  const req: FetchRequest = {
    clusterId: 'c',
    replicaState: { replicaId: 1, replicaEpoch: 9n },
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 0xa00000,
    isolationLevel: 1,
    sessionId: 42,
    sessionEpoch: 3,
    topics: [
      {
        topicId: ID,
        partitions: [
          {
            partition: 5,
            currentLeaderEpoch: 4,
            fetchOffset: 1000n,
            lastFetchedEpoch: 3,
            partitionMaxBytes: 1048576,
            replicaDirectoryId: DIR,
            highWatermark: 2000n,
          },
        ],
      },
    ],
    forgottenTopicsData: [{ topicId: ID, partitions: [1, 2] }],
    rackId: 'r1',
  }
  assert.is(
    encode(req, 18),
    h(`
      000001f4 00000001 00a00000 01 0000002a 00000003
      02
        ${ID_HEX}
        02
          00000005 00000004 00000000000003e8 00000003 ffffffffffffffff 00100000
          02 00 10 ${DIR_HEX} 01 08 00000000000007d0
        00
      02
        ${ID_HEX}
        03 00000001 00000002
        00
      03 7231
      02
        00 02 02 63
        01 0d 00000001 0000000000000009 00
    `),
  )
})

test('request v17: replicaDirectoryId only; highWatermark is v18+', () => {
  const req: FetchRequest = {
    maxWaitMs: 0,
    minBytes: 0,
    topics: [
      {
        topicId: ID,
        partitions: [
          { partition: 0, fetchOffset: 0n, partitionMaxBytes: 1, replicaDirectoryId: DIR, highWatermark: 5n },
        ],
      },
    ],
  }
  assert.is(
    encode(req, 17),
    h(`
      00000000 00000000 7fffffff 00 00000000 ffffffff
      02 ${ID_HEX}
        02 00000000 ffffffff 0000000000000000 ffffffff ffffffffffffffff 00000001
          01 00 10 ${DIR_HEX}
        00
      01 01 00
    `),
  )
})

test('response v4 (classic): aborted transactions and records as a view', () => {
  const bytes = hex(`
    00000000
    00000001
      0001 74
      00000001
        00000000 0000 000000000000000a 0000000000000009
        00000001 0000000000000007 0000000000000003
        00000003 010203
  `)
  const r = new Reader(bytes)
  const res = Fetch.decode(r, 4)
  assert.is(r.remaining, 0)
  const p = res.responses[0].partitions[0]
  assert.equal(res.responses[0].topic, 't')
  assert.equal(res.responses[0].topicId, 'AAAAAAAAAAAAAAAAAAAAAA')
  assert.equal(p, {
    partitionIndex: 0,
    errorCode: 0,
    highWatermark: 10n,
    lastStableOffset: 9n,
    logStartOffset: -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: [{ producerId: 7n, firstOffset: 3n }],
    preferredReadReplica: -1,
    records: Buffer.from([1, 2, 3]),
  })
  assert.is(res.throttleTimeMs, 0)
  assert.is(res.errorCode, 0)
  assert.is(res.sessionId, 0)
  assert.equal(res.nodeEndpoints, [])
  // a view into the frame, not a copy
  assert.is(p.records?.buffer, bytes.buffer)
  assert.is(p.records?.byteOffset, bytes.byteOffset + bytes.length - 3)
})

test('response v11 (classic): session, log start offset, preferred read replica, null records', () => {
  const bytes = hex(`
    00000064 0000 00000007
    00000001
      0001 74
      00000001
        00000002 0001 0000000000000000 0000000000000000 0000000000000001
        ffffffff
        00000003
        ffffffff
  `)
  const r = new Reader(bytes)
  const res = Fetch.decode(r, 11)
  assert.is(r.remaining, 0)
  assert.is(res.throttleTimeMs, 100)
  assert.is(res.sessionId, 7)
  const p = res.responses[0].partitions[0]
  assert.is(p.partitionIndex, 2)
  assert.is(p.errorCode, 1)
  assert.is(p.logStartOffset, 1n)
  assert.is(p.abortedTransactions, null)
  assert.is(p.preferredReadReplica, 3)
  assert.is(p.records, null)
})

test('response v18 (flexible): topic ids, every tagged field', () => {
  const bytes = hex(`
    00000000 0000 00000005
    02
      ${ID_HEX}
      02
        00000001 0000 0000000000000064 0000000000000060 0000000000000010
        00
        ffffffff
        04 aabbcc
        03
          00 0d 00000004 0000000000000064 00
          01 09 00000002 00000007 00
          02 0d 0000000000000063 00000003 00
      00
    01 00 0d 02 00000002 02 68 00002384 00 00
  `)
  const r = new Reader(bytes)
  const res = Fetch.decode(r, 18)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 5,
    responses: [
      {
        topic: '',
        topicId: ID,
        partitions: [
          {
            partitionIndex: 1,
            errorCode: 0,
            highWatermark: 100n,
            lastStableOffset: 96n,
            logStartOffset: 16n,
            divergingEpoch: { epoch: 4, endOffset: 100n },
            currentLeader: { leaderId: 2, leaderEpoch: 7 },
            snapshotId: { endOffset: 99n, epoch: 3 },
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: Buffer.from([0xaa, 0xbb, 0xcc]),
          },
        ],
      },
    ],
    nodeEndpoints: [{ nodeId: 2, host: 'h', port: 9092, rack: null }],
  })
})

test('response v12: names, unknown partition tag skipped, NodeEndpoints tag ignored before v16', () => {
  const bytes = hex(`
    00000000 0000 00000000
    02
      02 74
      02
        00000000 0000 0000000000000000 0000000000000000 0000000000000000
        02 0000000000000001 0000000000000002 00
        00000001
        00
        01 07 02 abcd
      00
    01 00 0d 02 00000002 02 68 00002384 00 00
  `)
  const r = new Reader(bytes)
  const res = Fetch.decode(r, 12)
  assert.is(r.remaining, 0)
  const p = res.responses[0].partitions[0]
  assert.is(res.responses[0].topic, 't')
  assert.equal(p.abortedTransactions, [{ producerId: 1n, firstOffset: 2n }])
  assert.is(p.preferredReadReplica, 1)
  assert.is(p.records, null)
  assert.equal(p.currentLeader, { leaderId: -1, leaderEpoch: -1 })
  assert.equal(res.nodeEndpoints, [])
})

test('response: tagged fields out of order or overlong are DecodeErrors', () => {
  const partition = (tags: string) =>
    hex(`00000000 0000 00000000 02 02 74 02
      00000000 0000 0000000000000000 0000000000000000 0000000000000000 00 ffffffff 00
      ${tags} 00 00`)
  assert.throws(
    () => Fetch.decode(new Reader(partition('02 01 09 00000002 00000007 00 00 0d 00000004 0000000000000064 00')), 12),
    (e: Error) => e.name === 'DecodeError',
  )
  assert.throws(
    () => Fetch.decode(new Reader(partition('01 01 04 00000002 00000007 00')), 12),
    (e: Error) => e.name === 'DecodeError',
  )
})

test.run()
