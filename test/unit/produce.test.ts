import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Produce, type ProduceRequest } from '../../src/protocol/produce.js'
import { Reader } from '../../src/protocol/reader.js'
import type { EncodableRecords } from '../../src/protocol/record-batch.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const h = (s: string): string => s.replace(/\s+/g, '')
const encode = (request: ProduceRequest, version: number): string => {
  const w = new Writer(8)
  Produce.encode(w, request, version)
  return w.view().toString('hex')
}

/** Records that write `bytes` into the request buffer, claiming `declared` bytes. */
const encodable = (bytes: string, declared = bytes.length / 2): EncodableRecords => ({
  byteLength: declared,
  writeTo(w: Writer) {
    w.raw(Buffer.from(bytes, 'hex'))
  },
})

const ID = 'AAECAwQFBgcICQoLDA0ODw'
const ID_HEX = '000102030405060708090a0b0c0d0e0f'

test('schema facts', () => {
  assert.is(Produce.apiKey, 0)
  assert.is(Produce.minVersion, 3)
  assert.is(Produce.maxVersion, 13)
  assert.is(Produce.flexibleFrom, 9)
})

test('request v3: classic encodings, Buffer and null records', () => {
  const req: ProduceRequest = {
    acks: -1,
    timeoutMs: 30000,
    topicData: [
      {
        name: 't',
        partitionData: [
          { index: 0, records: Buffer.from([1, 2, 3]) },
          { index: 1, records: null },
        ],
      },
    ],
  }
  assert.is(
    encode(req, 3),
    h(`
      ffff
      ffff
      00007530
      00000001
        0001 74
        00000002
          00000000 00000003 010203
          00000001 ffffffff
    `),
  )
})

test('request v3: EncodableRecords get an int32 length prefix and write in place', () => {
  const req: ProduceRequest = {
    transactionalId: 'tx',
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: 't', partitionData: [{ index: 2, records: encodable('aabbccdd') }] }],
  }
  assert.is(encode(req, 3), h('0002 7478 0001 000003e8 00000001 0001 74 00000001 00000002 00000004 aabbccdd'))
})

test('request v9: compact encodings', () => {
  const req: ProduceRequest = {
    acks: -1,
    timeoutMs: 0,
    topicData: [{ name: 'ab', partitionData: [{ index: 0, records: Buffer.from([9]) }] }],
  }
  assert.is(encode(req, 9), h('00 ffff 00000000 02 03 6162 02 00000000 02 09 00 00 00'))
})

test('request v13: topic ids replace names', () => {
  const req: ProduceRequest = {
    transactionalId: 'tx',
    acks: 1,
    timeoutMs: 1000,
    topicData: [
      {
        name: 'ignored in v13',
        topicId: ID,
        partitionData: [
          { index: 0, records: encodable('aabbcc') },
          { index: 2, records: null },
        ],
      },
    ],
  }
  assert.is(
    encode(req, 13),
    h(`
      03 7478
      0001
      000003e8
      02
        ${ID_HEX}
        03
          00000000 04 aabbcc 00
          00000002 00 00
        00
      00
    `),
  )
})

test('request: EncodableRecords that write a different length are an EncodeError', () => {
  const req: ProduceRequest = {
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: 't', partitionData: [{ index: 0, records: encodable('aabbcc', 4) }] }],
  }
  assert.throws(
    () => encode(req, 3),
    (e: Error) => e.name === 'EncodeError',
  )
  assert.throws(
    () => encode(req, 13),
    (e: Error) => e.name === 'EncodeError',
  )
})

test('response v3 (classic): defaults for later fields', () => {
  const bytes = hex(`
    00000001
      0001 74
      00000001
        00000000 0000 000000000000000a ffffffffffffffff
    00000000
  `)
  const r = new Reader(bytes)
  const res = Produce.decode(r, 3)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    responses: [
      {
        name: 't',
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitionResponses: [
          {
            index: 0,
            errorCode: 0,
            baseOffset: 10n,
            logAppendTimeMs: -1n,
            logStartOffset: -1n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
          },
        ],
      },
    ],
    throttleTimeMs: 0,
    nodeEndpoints: [],
  })
})

test('response v8 (classic): record errors', () => {
  const bytes = hex(`
    00000001
      0001 74
      00000001
        00000003 0057 ffffffffffffffff 0000018f00000000 0000000000000005
        00000001 00000002 0003 626164
        0004 6f6f7073
    00000064
  `)
  const r = new Reader(bytes)
  const res = Produce.decode(r, 8)
  assert.is(r.remaining, 0)
  const p = res.responses[0].partitionResponses[0]
  assert.is(p.index, 3)
  assert.is(p.errorCode, 87)
  assert.is(p.baseOffset, -1n)
  assert.is(p.logAppendTimeMs, 0x18f00000000n)
  assert.is(p.logStartOffset, 5n)
  assert.equal(p.recordErrors, [{ batchIndex: 2, batchIndexErrorMessage: 'bad' }])
  assert.is(p.errorMessage, 'oops')
  assert.is(res.throttleTimeMs, 100)
})

test('response v13 (flexible): topic ids, current leader and node endpoints', () => {
  const bytes = hex(`
    02
      ${ID_HEX}
      02
        00000001 0006 ffffffffffffffff ffffffffffffffff ffffffffffffffff
        01
        00
        01 00 09 00000002 00000007 00
      00
    00000000
    01 00 0d 02 00000002 02 68 00002384 00 00
  `)
  const r = new Reader(bytes)
  const res = Produce.decode(r, 13)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    responses: [
      {
        name: '',
        topicId: ID,
        partitionResponses: [
          {
            index: 1,
            errorCode: 6,
            baseOffset: -1n,
            logAppendTimeMs: -1n,
            logStartOffset: -1n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId: 2, leaderEpoch: 7 },
          },
        ],
      },
    ],
    throttleTimeMs: 0,
    nodeEndpoints: [{ nodeId: 2, host: 'h', port: 9092, rack: null }],
  })
})

test('response v9: tags that only exist from v10 are skipped', () => {
  const bytes = hex(`
    02
      02 74
      02
        00000001 0000 0000000000000000 ffffffffffffffff 0000000000000000
        01 00
        01 00 09 00000002 00000007 00
      00
    00000000
    01 00 0d 02 00000002 02 68 00002384 00 00
  `)
  const r = new Reader(bytes)
  const res = Produce.decode(r, 9)
  assert.is(r.remaining, 0)
  assert.equal(res.responses[0].partitionResponses[0].currentLeader, { leaderId: -1, leaderEpoch: -1 })
  assert.equal(res.nodeEndpoints, [])
})

test('response: an overlong tagged field is a DecodeError', () => {
  // CurrentLeader claims 4 bytes but needs 9
  const bytes = hex(`
    02 02 74 02
      00000001 0000 0000000000000000 ffffffffffffffff 0000000000000000 01 00
      01 00 04 00000002 00000007 00
    00 00000000 00
  `)
  assert.throws(
    () => Produce.decode(new Reader(bytes), 10),
    (e: Error) => e.name === 'DecodeError',
  )
})

test.run()
