import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { OffsetCommit, type OffsetCommitRequest } from '../../src/protocol/offset-commit.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: OffsetCommitRequest, version: number) => {
  const w = new Writer(8)
  OffsetCommit.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = OffsetCommit.decode(r, version)
  r.expectEnd()
  return res
}

// The UUID 00010203-0405-0607-0809-0a0b0c0d0e0f in Kafka's text form.
const TOPIC_ID = 'AAECAwQFBgcICQoLDA0ODw'
const TOPIC_ID_HEX = '000102030405060708090a0b0c0d0e0f'
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

test('OffsetCommit matches the schema header', () => {
  assert.is(OffsetCommit.apiKey, 8)
  assert.is(OffsetCommit.minVersion, 2)
  assert.is(OffsetCommit.maxVersion, 10)
  assert.is(OffsetCommit.flexibleFrom, 8)
})

const request: OffsetCommitRequest = {
  groupId: 'g',
  generationIdOrMemberEpoch: 3,
  memberId: 'm',
  topics: [
    {
      name: 't',
      topicId: TOPIC_ID,
      partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 5, committedMetadata: null }],
    },
  ],
}

test('OffsetCommit v2 request bytes', () => {
  const expected = hex(`
    0001 67                       -- GroupId 'g'
    00000003                      -- GenerationIdOrMemberEpoch 3
    0001 6d                       -- MemberId 'm'
    ffffffffffffffff              -- RetentionTimeMs default -1
    00000001                      -- Topics: 1
      0001 74                     --   Name 't'
      00000001                    --   Partitions: 1
        00000000                  --     PartitionIndex 0
        000000000000002a          --     CommittedOffset 42
        ffff                      --     CommittedMetadata null
  `)
  assert.is(encode(request, 2), expected.toString('hex'))
  const retention = hex('0001 67 ffffffff 0000 0000000005265c00 00000000')
  assert.is(
    encode({ groupId: 'g', memberId: '', retentionTimeMs: 86400000n, topics: [] }, 4),
    retention.toString('hex'),
  )
})

test('OffsetCommit v6 and v7 request bytes (leader epoch, instance id)', () => {
  const v6 = hex(`
    0001 67 00000003 0001 6d      -- no RetentionTimeMs from v5
    00000001 0001 74 00000001
      00000000 000000000000002a
      00000005                    -- CommittedLeaderEpoch 5
      0002 6d64                   -- CommittedMetadata 'md'
  `)
  const withMetadata = {
    ...request,
    topics: [
      {
        name: 't',
        partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: 5, committedMetadata: 'md' }],
      },
    ],
  }
  assert.is(encode(withMetadata, 6), v6.toString('hex'))
  const v7 = hex(`
    0001 67 00000003 0001 6d
    0001 69                       -- GroupInstanceId 'i'
    00000001 0001 74 00000001 00000000 000000000000002a
      ffffffff                    -- CommittedLeaderEpoch default -1
      ffff
  `)
  const noEpoch = {
    ...request,
    groupInstanceId: 'i',
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 42n, committedMetadata: null }] }],
  }
  assert.is(encode(noEpoch, 7), v7.toString('hex'))
})

test('OffsetCommit v8 request bytes (flexible, names)', () => {
  const expected = hex(`
    02 67 00000003 02 6d
    00                            -- GroupInstanceId null
    02                            -- Topics: 1
      02 74                       --   Name 't'
      02                          --   Partitions: 1
        00000000 000000000000002a 00000005
        00                        --     CommittedMetadata null
        00                        --     tagged fields
      00                          --   tagged fields
    00                            -- tagged fields
  `)
  assert.is(encode(request, 8), expected.toString('hex'))
})

test('OffsetCommit v10 request bytes (topic ids)', () => {
  const expected = hex(`
    02 67                         -- GroupId
    00000003                      -- GenerationIdOrMemberEpoch
    02 6d                         -- MemberId
    00                            -- GroupInstanceId null
    02                            -- Topics: 1
      ${TOPIC_ID_HEX}             --   TopicId (no Name from v10)
      02                          --   Partitions: 1
        00000000 000000000000002a 00000005 00 00
      00
    00
  `)
  assert.is(encode(request, 10), expected.toString('hex'))
})

test('OffsetCommit v2 response decode', () => {
  assert.equal(decode('00000001 0001 74 00000002 00000000 0000 00000001 0003', 2), {
    throttleTimeMs: 0,
    topics: [
      {
        name: 't',
        topicId: ZERO_UUID,
        partitions: [
          { partitionIndex: 0, errorCode: 0 },
          { partitionIndex: 1, errorCode: 3 },
        ],
      },
    ],
  })
})

test('OffsetCommit v3 response decode (throttle time)', () => {
  assert.equal(decode('00000064 00000000', 3), { throttleTimeMs: 100, topics: [] })
})

test('OffsetCommit v8 and v10 response decode', () => {
  assert.equal(decode('0000000a 02 02 74 02 00000001 0000 00 00 00', 8), {
    throttleTimeMs: 10,
    topics: [{ name: 't', topicId: ZERO_UUID, partitions: [{ partitionIndex: 1, errorCode: 0 }] }],
  })
  assert.equal(decode(`00000000 02 ${TOPIC_ID_HEX} 02 00000002 0064 00 00 01 02 01 00`, 10), {
    throttleTimeMs: 0,
    topics: [{ name: '', topicId: TOPIC_ID, partitions: [{ partitionIndex: 2, errorCode: 100 }] }],
  })
})

test.run()
