import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { InitProducerId, type InitProducerIdRequest } from '../../src/protocol/init-producer-id.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const h = (s: string): string => s.replace(/\s+/g, '')
const encode = (request: InitProducerIdRequest, version: number): string => {
  const w = new Writer(8)
  InitProducerId.encode(w, request, version)
  return w.view().toString('hex')
}

test('schema facts', () => {
  assert.is(InitProducerId.apiKey, 22)
  assert.is(InitProducerId.minVersion, 0)
  assert.is(InitProducerId.maxVersion, 6)
  assert.is(InitProducerId.flexibleFrom, 2)
})

test('request v0 (classic): null transactional id', () => {
  assert.is(encode({ transactionalId: null, transactionTimeoutMs: 60000 }, 0), h('ffff 0000ea60'))
  assert.is(encode({ transactionalId: 'tx', transactionTimeoutMs: 60000 }, 1), h('0002 7478 0000ea60'))
})

test('request v2 and v3 (flexible): producer id and epoch default to -1 from v3', () => {
  const req: InitProducerIdRequest = { transactionalId: null, transactionTimeoutMs: 60000 }
  assert.is(encode(req, 2), h('00 0000ea60 00'))
  assert.is(encode(req, 3), h('00 0000ea60 ffffffffffffffff ffff 00'))
})

test('request v6: two-phase commit flags', () => {
  const req: InitProducerIdRequest = {
    transactionalId: 'tx',
    transactionTimeoutMs: 60000,
    producerId: 5n,
    producerEpoch: 2,
    enable2Pc: true,
  }
  assert.is(encode(req, 6), h('03 7478 0000ea60 0000000000000005 0002 01 00 00'))
})

test('response v0 (classic): defaults for the v6 fields', () => {
  const r = new Reader(hex('00000000 0000 000000000000002a 0000'))
  const res = InitProducerId.decode(r, 0)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 0,
    errorCode: 0,
    producerId: 42n,
    producerEpoch: 0,
    ongoingTxnProducerId: -1n,
    ongoingTxnProducerEpoch: -1,
  })
})

test('response v6 (flexible)', () => {
  const r = new Reader(hex('00000001 005a ffffffffffffffff ffff 0000000000000029 0003 00'))
  const res = InitProducerId.decode(r, 6)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 1,
    errorCode: 90,
    producerId: -1n,
    producerEpoch: -1,
    ongoingTxnProducerId: 41n,
    ongoingTxnProducerEpoch: 3,
  })
})

test.run()
