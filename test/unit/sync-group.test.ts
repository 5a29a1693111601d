import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Reader } from '../../src/protocol/reader.js'
import { SyncGroup, type SyncGroupRequest } from '../../src/protocol/sync-group.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: SyncGroupRequest, version: number) => {
  const w = new Writer(8)
  SyncGroup.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = SyncGroup.decode(r, version)
  r.expectEnd()
  return res
}

test('SyncGroup matches the schema header', () => {
  assert.is(SyncGroup.apiKey, 14)
  assert.is(SyncGroup.minVersion, 0)
  assert.is(SyncGroup.maxVersion, 5)
  assert.is(SyncGroup.flexibleFrom, 4)
})

const request: SyncGroupRequest = {
  groupId: 'g',
  generationId: 1,
  memberId: 'm',
  protocolType: 'consumer',
  protocolName: 'range',
  assignments: [{ memberId: 'm', assignment: Buffer.from([0, 1, 2]) }],
}

test('SyncGroup v0 request bytes', () => {
  const expected = hex(`
    0001 67                       -- GroupId 'g'
    00000001                      -- GenerationId 1
    0001 6d                       -- MemberId 'm'
    00000001                      -- Assignments: 1
      0001 6d                     --   MemberId
      00000003 000102             --   Assignment
  `)
  assert.is(encode(request, 0), expected.toString('hex'))
})

test('SyncGroup v3 request bytes (group instance id)', () => {
  const expected = hex('0001 67 00000001 0001 6d 0001 69 00000000')
  assert.is(encode({ ...request, groupInstanceId: 'i', assignments: [] }, 3), expected.toString('hex'))
})

test('SyncGroup v5 request bytes', () => {
  const expected = hex(`
    02 67                         -- GroupId (compact)
    00000001                      -- GenerationId
    02 6d                         -- MemberId
    00                            -- GroupInstanceId null (default)
    09 636f6e73756d6572           -- ProtocolType 'consumer'
    06 72616e6765                 -- ProtocolName 'range'
    02                            -- Assignments: 1
      02 6d 04 000102 00          --   MemberId, Assignment, tagged fields
    00                            -- tagged fields
  `)
  assert.is(encode(request, 5), expected.toString('hex'))
  // Protocol type and name default to null.
  const defaults = hex('02 67 00000001 02 6d 00 00 00 01 00')
  assert.is(encode({ groupId: 'g', generationId: 1, memberId: 'm', assignments: [] }, 5), defaults.toString('hex'))
})

test('SyncGroup v0 response decode', () => {
  assert.equal(decode('0000 00000002 0102', 0), {
    throttleTimeMs: 0,
    errorCode: 0,
    protocolType: null,
    protocolName: null,
    assignment: Buffer.from([1, 2]),
  })
})

test('SyncGroup v4 and v5 response decode', () => {
  assert.equal(decode('00000000 001b 01 00', 4), {
    throttleTimeMs: 0,
    errorCode: 27,
    protocolType: null,
    protocolName: null,
    assignment: Buffer.alloc(0),
  })
  assert.equal(decode('0000000a 0000 09 636f6e73756d6572 06 72616e6765 03 0102 00', 5), {
    throttleTimeMs: 10,
    errorCode: 0,
    protocolType: 'consumer',
    protocolName: 'range',
    assignment: Buffer.from([1, 2]),
  })
})

test.run()
