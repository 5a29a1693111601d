import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FindCoordinator, type FindCoordinatorRequest } from '../../src/protocol/find-coordinator.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const h = (s: string): string => s.replace(/\s+/g, '')
const encode = (request: FindCoordinatorRequest, version: number): string => {
  const w = new Writer(8)
  FindCoordinator.encode(w, request, version)
  return w.view().toString('hex')
}

test('schema facts', () => {
  assert.is(FindCoordinator.apiKey, 10)
  assert.is(FindCoordinator.minVersion, 0)
  assert.is(FindCoordinator.maxVersion, 6)
  assert.is(FindCoordinator.flexibleFrom, 3)
})

test('request v0-3: one key, key type from v1, compact from v3', () => {
  assert.is(encode({ key: 'g' }, 0), h('0001 67'))
  assert.is(encode({ key: 'tx', keyType: 1 }, 1), h('0002 7478 01'))
  assert.is(encode({ key: 'g' }, 3), h('02 67 00 00'))
  // a single coordinator key stands in for key
  assert.is(encode({ coordinatorKeys: ['g'] }, 2), h('0001 67 00'))
})

test('request v4-6: batched coordinator keys', () => {
  assert.is(encode({ keyType: 0, coordinatorKeys: ['a', 'b'] }, 4), h('00 03 02 61 02 62 00'))
  assert.is(encode({ key: 'g:id:0', keyType: 2 }, 6), h('02 02 07 673a69643a30 00'))
  assert.is(encode({ coordinatorKeys: [] }, 6), h('00 01 00'))
})

test('request: what an old version cannot carry is an EncodeError', () => {
  assert.throws(
    () => encode({ key: 'tx', keyType: 1 }, 0),
    (e: Error) => e.name === 'EncodeError',
  )
  assert.throws(
    () => encode({ coordinatorKeys: ['a', 'b'] }, 3),
    (e: Error) => e.name === 'EncodeError',
  )
})

test('response v0 (classic)', () => {
  const r = new Reader(hex('0000 00000001 0004 686f7374 00002384'))
  const res = FindCoordinator.decode(r, 0)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: '',
    nodeId: 1,
    host: 'host',
    port: 9092,
    coordinators: [],
  })
})

test('response v1 (classic) and v3 (flexible)', () => {
  const r1 = new Reader(hex('00000000 0000 ffff 00000001 0004 686f7374 00002384'))
  const res1 = FindCoordinator.decode(r1, 1)
  assert.is(r1.remaining, 0)
  assert.is(res1.errorMessage, null)
  assert.is(res1.host, 'host')

  const r3 = new Reader(hex('00000000 000f 05 6e6f7065 ffffffff 01 00000000 00'))
  const res3 = FindCoordinator.decode(r3, 3)
  assert.is(r3.remaining, 0)
  assert.equal(res3, {
    throttleTimeMs: 0,
    errorCode: 15,
    errorMessage: 'nope',
    nodeId: -1,
    host: '',
    port: 0,
    coordinators: [],
  })
})

test('response v6 (flexible): coordinators', () => {
  const r = new Reader(
    hex(`
      00000064
      03
        02 67 00000001 02 68 00002384 0000 00 00
        02 74 ffffffff 01 ffffffff 000f 03 6e6f 00
      00
    `),
  )
  const res = FindCoordinator.decode(r, 6)
  assert.is(r.remaining, 0)
  assert.equal(res, {
    throttleTimeMs: 100,
    errorCode: 0,
    errorMessage: '',
    nodeId: 0,
    host: '',
    port: 0,
    coordinators: [
      { key: 'g', nodeId: 1, host: 'h', port: 9092, errorCode: 0, errorMessage: null },
      { key: 't', nodeId: -1, host: '', port: -1, errorCode: 15, errorMessage: 'no' },
    ],
  })
})

test.run()
