import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CreateTopics, type CreateTopicsRequest } from '../../src/protocol/create-topics.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): Buffer => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex')

function encode(request: CreateTopicsRequest, version: number): string {
  const w = new Writer(8)
  CreateTopics.encode(w, request, version)
  return w.toBuffer().toString('hex')
}

function decode(bytes: Buffer, version: number) {
  const r = new Reader(bytes)
  const response = CreateTopics.decode(r, version)
  r.expectEnd()
  return response
}

const request: CreateTopicsRequest = {
  topics: [
    {
      name: 't',
      numPartitions: 3,
      replicationFactor: 2,
      assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
      configs: [
        { name: 'a', value: 'b' },
        { name: 'c', value: null },
      ],
    },
  ],
  timeoutMs: 5000,
  validateOnly: true,
}

test('metadata matches the schema', () => {
  assert.is(CreateTopics.apiKey, 19)
  assert.is(CreateTopics.name, 'CreateTopics')
  assert.is(CreateTopics.minVersion, 2)
  assert.is(CreateTopics.maxVersion, 7)
  assert.is(CreateTopics.flexibleFrom, 5)
})

test('request v2 (classic)', () => {
  const expected = hex(
    '00000001', // topics: 1
    '0001 74', // name 't'
    '00000003', // numPartitions
    '0002', // replicationFactor
    '00000001', // assignments: 1
    '00000000', // partitionIndex
    '00000002 00000001 00000002', // brokerIds [1, 2]
    '00000002', // configs: 2
    '0001 61 0001 62', // 'a' = 'b'
    '0001 63 ffff', // 'c' = null
    '00001388', // timeoutMs 5000
    '01', // validateOnly
  )
  assert.is(encode(request, 2), expected.toString('hex'))
  // v3 and v4 are the same on the wire.
  assert.is(encode(request, 4), expected.toString('hex'))
})

test('request v7 (flexible)', () => {
  const expected = hex(
    '02', // topics: 1
    '02 74', // name 't'
    '00000003', // numPartitions
    '0002', // replicationFactor
    '02', // assignments: 1
    '00000000', // partitionIndex
    '03 00000001 00000002', // brokerIds [1, 2]
    '00', // assignment tags
    '03', // configs: 2
    '02 61 02 62 00', // 'a' = 'b', tags
    '02 63 00 00', // 'c' = null, tags
    '00', // topic tags
    '00001388', // timeoutMs
    '01', // validateOnly
    '00', // request tags
  )
  assert.is(encode(request, 7), expected.toString('hex'))
  assert.is(encode(request, 5), expected.toString('hex'))
})

test('request defaults: empty assignments and configs, timeoutMs 60000, validateOnly false', () => {
  const minimal: CreateTopicsRequest = { topics: [{ name: 't', numPartitions: -1, replicationFactor: -1 }] }
  assert.is(encode(minimal, 2), hex('00000001 0001 74 ffffffff ffff 00000000 00000000', '0000ea60 00').toString('hex'))
  assert.is(encode(minimal, 7), hex('02 02 74 ffffffff ffff 01 01 00', '0000ea60 00 00').toString('hex'))
})

test('response v2 (classic) fills defaults for later fields', () => {
  const bytes = hex(
    '00000064', // throttleTimeMs 100
    '00000001', // topics: 1
    '0001 74', // name 't'
    '0024', // errorCode 36
    '0004 6f6f7073', // errorMessage 'oops'
  )
  assert.equal(decode(bytes, 2), {
    throttleTimeMs: 100,
    topics: [
      {
        name: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        errorCode: 36,
        errorMessage: 'oops',
        topicConfigErrorCode: 0,
        numPartitions: -1,
        replicationFactor: -1,
        configs: [],
      },
    ],
  })
})

test('response v7 (flexible) with topic id, configs and tagged fields', () => {
  const bytes = hex(
    '00000000', // throttleTimeMs
    '02', // topics: 1
    '02 74', // name 't'
    '000102030405060708090a0b0c0d0e0f', // topicId
    '0000', // errorCode
    '00', // errorMessage null
    '00000003', // numPartitions
    '0001', // replicationFactor
    '02', // configs: 1
    '02 61 02 62', // name 'a', value 'b'
    '01 05 00', // readOnly, configSource 5, isSensitive false
    '00', // config tags
    '02', // topic tags: 2
    '00 02 0029', // tag 0 topicConfigErrorCode = 41
    '05 01 ff', // unknown tag 5, skipped
    '00', // response tags
  )
  assert.equal(decode(bytes, 7), {
    throttleTimeMs: 0,
    topics: [
      {
        name: 't',
        topicId: 'AAECAwQFBgcICQoLDA0ODw',
        errorCode: 0,
        errorMessage: null,
        topicConfigErrorCode: 41,
        numPartitions: 3,
        replicationFactor: 1,
        configs: [{ name: 'a', value: 'b', readOnly: true, configSource: 5, isSensitive: false }],
      },
    ],
  })
})

test('response v5 with null configs', () => {
  const bytes = hex('00000000 02 02 74 0000 00 ffffffff ffff 00 00 00')
  const res = decode(bytes, 5)
  assert.is(res.topics[0].configs, null)
  assert.is(res.topics[0].topicId, 'AAAAAAAAAAAAAAAAAAAAAA')
  assert.is(res.topics[0].numPartitions, -1)
})

test.run()
