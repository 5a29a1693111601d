import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { JoinGroup } from '../../src/protocol/join-group.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: Parameters<typeof JoinGroup.encode>[1], version: number) => {
  const w = new Writer(8)
  JoinGroup.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = JoinGroup.decode(r, version)
  r.expectEnd()
  return res
}

test('JoinGroup matches the schema header', () => {
  assert.is(JoinGroup.apiKey, 11)
  assert.is(JoinGroup.minVersion, 0)
  assert.is(JoinGroup.maxVersion, 9)
  assert.is(JoinGroup.flexibleFrom, 6)
})

const request = {
  groupId: 'g',
  sessionTimeoutMs: 30000,
  rebalanceTimeoutMs: 60000,
  memberId: 'm',
  groupInstanceId: 'i',
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: Buffer.from([1, 2]) }],
  reason: 'r',
}

test('JoinGroup v0 request bytes', () => {
  const expected = hex(`
    0001 67                       -- GroupId 'g' (int16 length)
    00007530                      -- SessionTimeoutMs 30000
    0001 6d                       -- MemberId 'm'
    0008 636f6e73756d6572         -- ProtocolType 'consumer'
    00000001                      -- Protocols: 1 (int32 count)
      0005 72616e6765             --   Name 'range'
      00000002 0102               --   Metadata (int32 length)
  `)
  assert.is(encode(request, 0), expected.toString('hex'))
})

test('JoinGroup v5 request bytes with defaults', () => {
  const expected = hex(`
    0001 67
    00007530
    ffffffff                      -- RebalanceTimeoutMs default -1
    0000                          -- MemberId ''
    ffff                          -- GroupInstanceId null
    0008 636f6e73756d6572
    00000001 0005 72616e6765 00000002 0102
  `)
  const { rebalanceTimeoutMs, groupInstanceId, reason, ...rest } = request
  assert.is(encode({ ...rest, memberId: '' }, 5), expected.toString('hex'))
})

test('JoinGroup v9 request bytes', () => {
  const expected = hex(`
    02 67                         -- GroupId (compact)
    00007530                      -- SessionTimeoutMs
    0000ea60                      -- RebalanceTimeoutMs 60000
    02 6d                         -- MemberId
    02 69                         -- GroupInstanceId 'i'
    09 636f6e73756d6572           -- ProtocolType
    02                            -- Protocols: 1 (uvarint n+1)
      06 72616e6765               --   Name
      03 0102                     --   Metadata (compact bytes)
      00                          --   tagged fields
    02 72                         -- Reason 'r'
    00                            -- tagged fields
  `)
  assert.is(encode(request, 9), expected.toString('hex'))
  const nullReason = hex('02 67 00007530 0000ea60 02 6d 00 09 636f6e73756d6572 02 06 72616e6765 03 0102 00 00 00')
  assert.is(encode({ ...request, groupInstanceId: null, reason: null }, 8), nullReason.toString('hex'))
})

test('JoinGroup v0 response decode', () => {
  const res = decode(
    `0000 00000005 0005 72616e6765 0001 6d 0001 6d
     00000001 0001 6d 00000001 01`,
    0,
  )
  assert.equal(res, {
    throttleTimeMs: 0,
    errorCode: 0,
    generationId: 5,
    protocolType: null,
    protocolName: 'range',
    leader: 'm',
    skipAssignment: false,
    memberId: 'm',
    members: [{ memberId: 'm', groupInstanceId: null, metadata: Buffer.from([1]) }],
  })
})

test('JoinGroup v2 response decode (throttle time)', () => {
  const res = decode('0000000a 0019 ffffffff 0000 0000 0000 00000000', 2)
  assert.is(res.throttleTimeMs, 10)
  assert.is(res.errorCode, 25)
  assert.is(res.generationId, -1)
  assert.is(res.protocolName, '')
  assert.equal(res.members, [])
})

test('JoinGroup v9 response decode', () => {
  const res = decode(
    `0000000a 0000 00000005
     09 636f6e73756d6572          -- ProtocolType 'consumer'
     00                           -- ProtocolName null
     02 6d                        -- Leader
     01                           -- SkipAssignment
     02 6d                        -- MemberId
     03                           -- Members: 2
       02 6d 00 02 01 00          --   'm', no instance id, metadata 01
       02 6e 02 69 01 00          --   'n', instance 'i', empty metadata
     01 05 02 aabb                -- an unknown tagged field, skipped`,
    9,
  )
  assert.equal(res, {
    throttleTimeMs: 10,
    errorCode: 0,
    generationId: 5,
    protocolType: 'consumer',
    protocolName: null,
    leader: 'm',
    skipAssignment: true,
    memberId: 'm',
    members: [
      { memberId: 'm', groupInstanceId: null, metadata: Buffer.from([1]) },
      { memberId: 'n', groupInstanceId: 'i', metadata: Buffer.alloc(0) },
    ],
  })
})

test.run()
