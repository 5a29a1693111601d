import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { EncodeError } from '../../src/protocol/errors.js'
import { OffsetFetch, type OffsetFetchRequest } from '../../src/protocol/offset-fetch.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: OffsetFetchRequest, version: number) => {
  const w = new Writer(8)
  OffsetFetch.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = OffsetFetch.decode(r, version)
  r.expectEnd()
  return res
}

// The UUID 00010203-0405-0607-0809-0a0b0c0d0e0f in Kafka's text form.
const TOPIC_ID = 'AAECAwQFBgcICQoLDA0ODw'
const TOPIC_ID_HEX = '000102030405060708090a0b0c0d0e0f'
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

test('OffsetFetch matches the schema header', () => {
  assert.is(OffsetFetch.apiKey, 9)
  assert.is(OffsetFetch.minVersion, 1)
  assert.is(OffsetFetch.maxVersion, 10)
  assert.is(OffsetFetch.flexibleFrom, 6)
})

test('OffsetFetch v1 request bytes', () => {
  const expected = hex(`
    0001 67                       -- GroupId 'g'
    00000001                      -- Topics: 1
      0001 74                     --   Name 't'
      00000002 00000000 00000001  --   PartitionIndexes [0, 1]
  `)
  assert.is(encode({ groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }] }, 1), expected.toString('hex'))
  assert.throws(
    () => encode({ groupId: 'g', topics: null }, 1),
    (e: unknown) => e instanceof EncodeError,
  )
})

test('OffsetFetch v2 request bytes (null topics: every topic)', () => {
  assert.is(encode({ groupId: 'g', topics: null }, 2), hex('0001 67 ffffffff').toString('hex'))
  assert.is(encode({ groupId: 'g' }, 5), hex('0001 67 00000000').toString('hex'))
})

test('OffsetFetch v7 request bytes (flexible, require stable)', () => {
  const expected = hex(`
    02 67                         -- GroupId (compact)
    02                            -- Topics: 1
      02 74                       --   Name
      03 00000000 00000001        --   PartitionIndexes [0, 1]
      00                          --   tagged fields
    01                            -- RequireStable true
    00                            -- tagged fields
  `)
  const req = { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }], requireStable: true }
  assert.is(encode(req, 7), expected.toString('hex'))
  assert.is(encode({ groupId: 'g', topics: null }, 7), hex('02 67 00 00 00').toString('hex'))
  assert.is(encode({ groupId: 'g', topics: null }, 6), hex('02 67 00 00').toString('hex'))
})

test('OffsetFetch v8 request bytes (groups)', () => {
  const expected = hex(`
    03                            -- Groups: 2
      02 67                       --   GroupId 'g'
      02                          --   Topics: 1
        02 74 02 00000003 00      --     Name 't', PartitionIndexes [3], tagged fields
      00                          --   tagged fields
      02 68                       --   GroupId 'h'
      00                          --   Topics null
      00
    00                            -- RequireStable false
    00                            -- tagged fields
  `)
  const req: OffsetFetchRequest = {
    groups: [
      { groupId: 'g', topics: [{ name: 't', partitionIndexes: [3] }] },
      { groupId: 'h', topics: null },
    ],
  }
  assert.is(encode(req, 8), expected.toString('hex'))
})

test('OffsetFetch v10 request bytes (member epoch, topic ids)', () => {
  const expected = hex(`
    03                            -- Groups: 2
      02 67                       --   GroupId 'g'
      02 6d                       --   MemberId 'm'
      00000005                    --   MemberEpoch 5
      02                          --   Topics: 1
        ${TOPIC_ID_HEX}           --     TopicId (no Name from v10)
        02 00000003               --     PartitionIndexes [3]
        00
      00
      02 68                       --   GroupId 'h'
      00                          --   MemberId null (default)
      ffffffff                    --   MemberEpoch -1 (default)
      00                          --   Topics null
      00
    01                            -- RequireStable
    00
  `)
  const req: OffsetFetchRequest = {
    groups: [
      {
        groupId: 'g',
        memberId: 'm',
        memberEpoch: 5,
        topics: [{ name: 't', topicId: TOPIC_ID, partitionIndexes: [3] }],
      },
      { groupId: 'h', topics: null },
    ],
    requireStable: true,
  }
  assert.is(encode(req, 10), expected.toString('hex'))
})

test('OffsetFetch v1 response decode', () => {
  const res = decode(
    `00000001 0001 74 00000001
       00000000 000000000000000a 0000 0000`,
    1,
  )
  assert.equal(res, {
    throttleTimeMs: 0,
    topics: [
      {
        name: 't',
        partitions: [{ partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }],
      },
    ],
    errorCode: 0,
    groups: [],
  })
})

test('OffsetFetch v5 response decode (leader epoch, top-level error)', () => {
  const res = decode(
    `00000014                     -- ThrottleTimeMs 20
     00000001 0001 74 00000001
       00000002 ffffffffffffffff  -- PartitionIndex 2, CommittedOffset -1
       00000007                   -- CommittedLeaderEpoch 7
       ffff                       -- Metadata null
       0000
     0010                         -- ErrorCode NOT_COORDINATOR`,
    5,
  )
  assert.equal(res, {
    throttleTimeMs: 20,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 2, committedOffset: -1n, committedLeaderEpoch: 7, metadata: null, errorCode: 0 },
        ],
      },
    ],
    errorCode: 16,
    groups: [],
  })
})

test('OffsetFetch v7 response decode (flexible, one group)', () => {
  const res = decode('00000000 02 02 74 02 00000000 0000000000000001 ffffffff 03 6d64 0058 00 00 0000 00', 7)
  assert.equal(res.topics, [
    {
      name: 't',
      partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, metadata: 'md', errorCode: 88 }],
    },
  ])
})

test('OffsetFetch v8 response decode (groups)', () => {
  const res = decode(
    `00000000
     02                           -- Groups: 1
       02 67                      --   GroupId 'g'
       02                         --   Topics: 1
         02 74                    --     Name 't'
         02                       --     Partitions: 1
           00000000 0000000000000064 ffffffff 00 0000 00
         00
       0000                       --   ErrorCode
       00
     00`,
    8,
  )
  assert.equal(res, {
    throttleTimeMs: 0,
    topics: [],
    errorCode: 0,
    groups: [
      {
        groupId: 'g',
        topics: [
          {
            name: 't',
            topicId: ZERO_UUID,
            partitions: [
              { partitionIndex: 0, committedOffset: 100n, committedLeaderEpoch: -1, metadata: null, errorCode: 0 },
            ],
          },
        ],
        errorCode: 0,
      },
    ],
  })
})

test('OffsetFetch v10 response decode (topic ids)', () => {
  const res = decode(
    `00000000 03
       02 67 02 ${TOPIC_ID_HEX} 02 00000001 0000000000000005 00000003 01 0000 00 00 0000 00
       02 68 01 0045 00          -- group 'h': no topics, GROUP_ID_NOT_FOUND
     00`,
    10,
  )
  assert.equal(res.groups, [
    {
      groupId: 'g',
      topics: [
        {
          name: '',
          topicId: TOPIC_ID,
          partitions: [{ partitionIndex: 1, committedOffset: 5n, committedLeaderEpoch: 3, metadata: '', errorCode: 0 }],
        },
      ],
      errorCode: 0,
    },
    { groupId: 'h', topics: [], errorCode: 69 },
  ])
})

test.run()
