import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Metadata, type MetadataRequest } from '../../src/protocol/metadata.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Bytes from hex written with spaces and line breaks for readability. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const encode = (request: MetadataRequest, version: number): string => {
  const w = new Writer(8)
  Metadata.encode(w, request, version)
  return w.view().toString('hex')
}

const ID = 'AAECAwQFBgcICQoLDA0ODw' // 00 01 02 ... 0f
const ID_HEX = '000102030405060708090a0b0c0d0e0f'
const ZERO_HEX = '00000000000000000000000000000000'

test('schema facts', () => {
  assert.is(Metadata.apiKey, 3)
  assert.is(Metadata.minVersion, 0)
  assert.is(Metadata.maxVersion, 13)
  assert.is(Metadata.flexibleFrom, 9)
})

test('request v0: topic names; null means all topics (an empty array in v0)', () => {
  assert.is(encode({ topics: [{ name: 'a' }, { name: 'bc' }] }, 0), hex('00000002 0001 61 0002 6263').toString('hex'))
  assert.is(encode({ topics: null }, 0), '00000000')
})

test('request v1: null array means all topics', () => {
  assert.is(encode({ topics: null }, 1), 'ffffffff')
  assert.is(encode({ topics: [] }, 1), '00000000')
})

test('request v4: allowAutoTopicCreation defaults to true', () => {
  assert.is(encode({ topics: [{ name: 'a' }] }, 4), hex('00000001 0001 61 01').toString('hex'))
  assert.is(encode({ topics: [], allowAutoTopicCreation: false }, 4), hex('00000000 00').toString('hex'))
})

test('request v8 and v10: cluster authorized operations flag in v8-10 only', () => {
  const req: MetadataRequest = {
    topics: [],
    includeClusterAuthorizedOperations: true,
    includeTopicAuthorizedOperations: false,
  }
  // topics, allowAutoTopicCreation (default true), includeCluster..., includeTopic...
  assert.is(encode(req, 8), hex('00000000 01 01 00').toString('hex'))
  // v10 flexible: compact array (0+1), the three booleans, empty tagged fields
  assert.is(encode(req, 10), hex('01 01 01 00 00').toString('hex'))
  // v11 drops includeClusterAuthorizedOperations
  assert.is(encode(req, 11), hex('01 01 00 00').toString('hex'))
})

test('request v13: topic ids, null names, compact encodings', () => {
  const req: MetadataRequest = {
    topics: [{ topicId: ID, name: 'a' }, { topicId: ID, name: null }, { name: 'b' }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: true,
  }
  const expected = [
    '04', // 3 topics, compact
    ID_HEX,
    '02 61', // 'a'
    '00', // tagged fields
    ID_HEX,
    '00', // null name
    '00',
    ZERO_HEX, // absent topic id
    '02 62',
    '00',
    '00', // allowAutoTopicCreation
    '01', // includeTopicAuthorizedOperations
    '00', // tagged fields
  ].join('')
  assert.is(encode(req, 13), hex(expected).toString('hex'))
  assert.is(encode({ topics: null }, 13), hex('00 01 00 00').toString('hex'))
})

test('request: a null name before v10 is an encode error', () => {
  assert.throws(() => encode({ topics: [{ name: null }] }, 9), /without a name/)
})

test('response v0: defaults for later fields', () => {
  const bytes = hex(`
    00000001  00000002 0001 68 00002384
    00000001
      0000 0001 74
      00000001
        0000 00000000 00000002 00000001 00000002 00000001 00000002
  `)
  const r = new Reader(bytes)
  const res = Metadata.decode(r, 0)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 2, host: 'h', port: 9092, rack: null }],
    clusterId: null,
    controllerId: -1,
    topics: [
      {
        errorCode: 0,
        name: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 2,
            leaderEpoch: -1,
            replicaNodes: [2],
            isrNodes: [2],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: -2147483648,
      },
    ],
    clusterAuthorizedOperations: -2147483648,
    errorCode: 0,
  })
})

test('response v8 (classic)', () => {
  const bytes = hex(`
    00000064
    00000001
      00000001 0004 686f7374 00002384 ffff
    0003 636964
    00000001
    00000001
      0000 0001 74 00
      00000001
        0000 00000000 00000001 00000005
        00000002 00000001 00000002
        00000001 00000001
        00000001 00000002
      00000df8
    00000001
  `)
  const r = new Reader(bytes)
  const res = Metadata.decode(r, 8)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 100,
    brokers: [{ nodeId: 1, host: 'host', port: 9092, rack: null }],
    clusterId: 'cid',
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: 5,
            replicaNodes: [1, 2],
            isrNodes: [1],
            offlineReplicas: [2],
          },
        ],
        topicAuthorizedOperations: 3576,
      },
    ],
    clusterAuthorizedOperations: 1,
    errorCode: 0,
  })
})

test('response v13 (flexible): null topic name, topic id, top-level error, unknown tags skipped', () => {
  const bytes = hex(`
    00000000
    02
      00000001 05 686f7374 00002384 03 7231 00
    00
    00000001
    02
      0003 00 ${ID_HEX} 01
      02
        0000 00000007 00000001 ffffffff 02 00000001 01 02 00000003 00
      80000000
      00
    0029
    01 05 02 abcd
  `)
  const r = new Reader(bytes)
  const res = Metadata.decode(r, 13)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 1, host: 'host', port: 9092, rack: 'r1' }],
    clusterId: null,
    controllerId: 1,
    topics: [
      {
        errorCode: 3,
        name: null,
        topicId: ID,
        isInternal: true,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 7,
            leaderId: 1,
            leaderEpoch: -1,
            replicaNodes: [1],
            isrNodes: [],
            offlineReplicas: [3],
          },
        ],
        topicAuthorizedOperations: -2147483648,
      },
    ],
    clusterAuthorizedOperations: -2147483648,
    errorCode: 41,
  })
})

test('response: truncated frame is a DecodeError', () => {
  const r = new Reader(hex('00000000 02 00000001'))
  assert.throws(
    () => Metadata.decode(r, 13),
    (e: Error) => e.name === 'DecodeError',
  )
})

test.run()
