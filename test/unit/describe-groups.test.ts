import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DescribeGroups, type DescribeGroupsRequest } from '../../src/protocol/describe-groups.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: DescribeGroupsRequest, version: number) => {
  const w = new Writer(8)
  DescribeGroups.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = DescribeGroups.decode(r, version)
  r.expectEnd()
  return res
}

test('DescribeGroups matches the schema header', () => {
  assert.is(DescribeGroups.apiKey, 15)
  assert.is(DescribeGroups.minVersion, 0)
  assert.is(DescribeGroups.maxVersion, 6)
  assert.is(DescribeGroups.flexibleFrom, 5)
})

test('DescribeGroups request bytes', () => {
  const req = { groups: ['g', 'h'], includeAuthorizedOperations: true }
  // v0: Groups as an int32-counted array of int16-length strings.
  assert.is(encode(req, 0), hex('00000002 0001 67 0001 68').toString('hex'))
  // v3: IncludeAuthorizedOperations follows; default false.
  assert.is(encode(req, 3), hex('00000002 0001 67 0001 68 01').toString('hex'))
  assert.is(encode({ groups: [] }, 4), hex('00000000 00').toString('hex'))
  // v6: compact array and strings, then the tagged-field section.
  const v6 = hex(`
    03 02 67 02 68                -- Groups ['g', 'h']
    01                            -- IncludeAuthorizedOperations
    00                            -- tagged fields
  `)
  assert.is(encode(req, 6), v6.toString('hex'))
})

test('DescribeGroups v0 response decode', () => {
  const res = decode(
    `00000001                     -- Groups: 1
       0000                       --   ErrorCode
       0001 67                    --   GroupId 'g'
       0006 537461626c65          --   GroupState 'Stable'
       0008 636f6e73756d6572      --   ProtocolType 'consumer'
       0005 72616e6765            --   ProtocolData 'range'
       00000001                   --   Members: 1
         0001 6d                  --     MemberId 'm'
         0001 63                  --     ClientId 'c'
         000a 2f3132372e302e302e31 --    ClientHost '/127.0.0.1'
         00000001 01              --     MemberMetadata
         00000002 0203            --     MemberAssignment`,
    0,
  )
  assert.equal(res, {
    throttleTimeMs: 0,
    groups: [
      {
        errorCode: 0,
        errorMessage: null,
        groupId: 'g',
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'range',
        members: [
          {
            memberId: 'm',
            groupInstanceId: null,
            clientId: 'c',
            clientHost: '/127.0.0.1',
            memberMetadata: Buffer.from([1]),
            memberAssignment: Buffer.from([2, 3]),
          },
        ],
        authorizedOperations: -2147483648,
      },
    ],
  })
})

test('DescribeGroups v4 response decode (instance id, authorized operations)', () => {
  const res = decode(
    `00000000 00000001 0000 0001 67 0006 537461626c65 0008 636f6e73756d6572 0005 72616e6765
       00000001 0001 6d 0001 69 0001 63 0001 68 00000000 00000000
       00000ff8                   --   AuthorizedOperations`,
    4,
  )
  assert.is(res.groups[0].members[0].groupInstanceId, 'i')
  assert.is(res.groups[0].members[0].memberMetadata.length, 0)
  assert.is(res.groups[0].authorizedOperations, 0xff8)
})

test('DescribeGroups v6 response decode', () => {
  const res = decode(
    `00000005                     -- ThrottleTimeMs
     03                           -- Groups: 2
       0045                       --   ErrorCode GROUP_ID_NOT_FOUND
       03 6e66                    --   ErrorMessage 'nf'
       02 67 05 44656164 01 01    --   GroupId 'g', GroupState 'Dead', ProtocolType '', ProtocolData ''
       01                         --   Members: 0
       80000000 00                --   AuthorizedOperations, tagged fields
       0000 00 02 68 07 537461626c65 09 636f6e73756d6572 06 72616e6765
       02                         --   Members: 1
         02 6d 00 02 63 02 68 02 01 01 00
       00000008 00
     00`,
    6,
  )
  assert.equal(res, {
    throttleTimeMs: 5,
    groups: [
      {
        errorCode: 69,
        errorMessage: 'nf',
        groupId: 'g',
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
        authorizedOperations: -2147483648,
      },
      {
        errorCode: 0,
        errorMessage: null,
        groupId: 'h',
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'range',
        members: [
          {
            memberId: 'm',
            groupInstanceId: null,
            clientId: 'c',
            clientHost: 'h',
            memberMetadata: Buffer.from([1]),
            memberAssignment: Buffer.alloc(0),
          },
        ],
        authorizedOperations: 8,
      },
    ],
  })
})

test.run()
