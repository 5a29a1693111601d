import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Heartbeat, type HeartbeatRequest } from '../../src/protocol/heartbeat.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: HeartbeatRequest, version: number) => {
  const w = new Writer(8)
  Heartbeat.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = Heartbeat.decode(r, version)
  r.expectEnd()
  return res
}

test('Heartbeat matches the schema header', () => {
  assert.is(Heartbeat.apiKey, 12)
  assert.is(Heartbeat.minVersion, 0)
  assert.is(Heartbeat.maxVersion, 4)
  assert.is(Heartbeat.flexibleFrom, 4)
})

const request: HeartbeatRequest = { groupId: 'grp', generationId: 7, memberId: 'm-1', groupInstanceId: 'i' }

test('Heartbeat v0 request bytes', () => {
  const expected = hex(`
    0003 677270                   -- GroupId 'grp'
    00000007                      -- GenerationId 7
    0003 6d2d31                   -- MemberId 'm-1'
  `)
  assert.is(encode(request, 0), expected.toString('hex'))
})

test('Heartbeat v3 request bytes', () => {
  assert.is(encode(request, 3), hex('0003 677270 00000007 0003 6d2d31 0001 69').toString('hex'))
  const { groupInstanceId, ...dynamic } = request
  assert.is(encode(dynamic, 3), hex('0003 677270 00000007 0003 6d2d31 ffff').toString('hex'))
})

test('Heartbeat v4 request bytes', () => {
  const expected = hex(`
    04 677270                     -- GroupId (compact)
    00000007                      -- GenerationId
    04 6d2d31                     -- MemberId
    02 69                         -- GroupInstanceId 'i'
    00                            -- tagged fields
  `)
  assert.is(encode(request, 4), expected.toString('hex'))
  assert.is(encode({ ...request, groupInstanceId: null }, 4), hex('04 677270 00000007 04 6d2d31 00 00').toString('hex'))
})

test('Heartbeat response decode', () => {
  assert.equal(decode('001b', 0), { throttleTimeMs: 0, errorCode: 27 })
  assert.equal(decode('00000064 0000', 3), { throttleTimeMs: 100, errorCode: 0 })
  assert.equal(decode('00000064 0019 01 07 01 ff', 4), { throttleTimeMs: 100, errorCode: 25 })
})

test.run()
