import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LeaveGroup, type LeaveGroupRequest } from '../../src/protocol/leave-group.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: LeaveGroupRequest, version: number) => {
  const w = new Writer(8)
  LeaveGroup.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = LeaveGroup.decode(r, version)
  r.expectEnd()
  return res
}

test('LeaveGroup matches the schema header', () => {
  assert.is(LeaveGroup.apiKey, 13)
  assert.is(LeaveGroup.minVersion, 0)
  assert.is(LeaveGroup.maxVersion, 5)
  assert.is(LeaveGroup.flexibleFrom, 4)
})

test('LeaveGroup v0 request bytes (single member)', () => {
  const expected = hex(`
    0001 67                       -- GroupId 'g'
    0001 6d                       -- MemberId 'm'
  `)
  assert.is(encode({ groupId: 'g', memberId: 'm' }, 0), expected.toString('hex'))
  assert.is(encode({ groupId: 'g' }, 2), hex('0001 67 0000').toString('hex'))
})

test('LeaveGroup v3 request bytes (members array)', () => {
  const expected = hex(`
    0001 67                       -- GroupId
    00000002                      -- Members: 2
      0001 6d ffff                --   'm', no instance id
      0000 0001 69                --   '', instance 'i'
  `)
  const req = { groupId: 'g', members: [{ memberId: 'm' }, { memberId: '', groupInstanceId: 'i', reason: 'x' }] }
  assert.is(encode(req, 3), expected.toString('hex'))
  assert.is(encode({ groupId: 'g' }, 3), hex('0001 67 00000000').toString('hex'))
})

test('LeaveGroup v5 request bytes', () => {
  const expected = hex(`
    02 67                         -- GroupId (compact)
    03                            -- Members: 2
      02 6d 00 00 00              --   'm', instance null, reason null, tagged fields
      01 02 69 05 62796521 00     --   '', instance 'i', reason 'bye!', tagged fields
    00                            -- tagged fields
  `)
  const req = {
    groupId: 'g',
    memberId: 'ignored in v3+',
    members: [{ memberId: 'm' }, { memberId: '', groupInstanceId: 'i', reason: 'bye!' }],
  }
  assert.is(encode(req, 5), expected.toString('hex'))
})

test('LeaveGroup v0 and v1 response decode', () => {
  assert.equal(decode('0019', 0), { throttleTimeMs: 0, errorCode: 25, members: [] })
  assert.equal(decode('00000005 0000', 1), { throttleTimeMs: 5, errorCode: 0, members: [] })
})

test('LeaveGroup v3 response decode', () => {
  assert.equal(decode('00000000 0000 00000002 0001 6d ffff 0000 0000 0001 69 006f', 3), {
    throttleTimeMs: 0,
    errorCode: 0,
    members: [
      { memberId: 'm', groupInstanceId: null, errorCode: 0 },
      { memberId: '', groupInstanceId: 'i', errorCode: 111 },
    ],
  })
})

test('LeaveGroup v5 response decode', () => {
  const res = decode(
    `00000002 0000
     02                           -- Members: 1
       02 6d 02 69 0019 00        --   'm', instance 'i', UNKNOWN_MEMBER_ID, tagged fields
     00`,
    5,
  )
  assert.equal(res, {
    throttleTimeMs: 2,
    errorCode: 0,
    members: [{ memberId: 'm', groupInstanceId: 'i', errorCode: 25 }],
  })
})

test.run()
