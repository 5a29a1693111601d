import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  ConsumerGroupHeartbeat,
  type ConsumerGroupHeartbeatRequest,
} from '../../src/protocol/consumer-group-heartbeat.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: ConsumerGroupHeartbeatRequest, version: number) => {
  const w = new Writer(8)
  ConsumerGroupHeartbeat.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = ConsumerGroupHeartbeat.decode(r, version)
  r.expectEnd()
  return res
}

// The UUID 00010203-0405-0607-0809-0a0b0c0d0e0f in Kafka's text form.
const TOPIC_ID = 'AAECAwQFBgcICQoLDA0ODw'
const TOPIC_ID_HEX = '000102030405060708090a0b0c0d0e0f'

test('ConsumerGroupHeartbeat matches the schema header', () => {
  assert.is(ConsumerGroupHeartbeat.apiKey, 68)
  assert.is(ConsumerGroupHeartbeat.minVersion, 0)
  assert.is(ConsumerGroupHeartbeat.maxVersion, 1)
  assert.is(ConsumerGroupHeartbeat.flexibleFrom, 0)
})

test('ConsumerGroupHeartbeat v0 request bytes (join)', () => {
  const expected = hex(`
    02 67                         -- GroupId 'g'
    01                            -- MemberId ''
    00000000                      -- MemberEpoch 0 (join)
    00                            -- InstanceId null
    02 72                         -- RackId 'r'
    000493e0                      -- RebalanceTimeoutMs 300000
    02 02 74                      -- SubscribedTopicNames ['t']
    08 756e69666f726d             -- ServerAssignor 'uniform'
    01                            -- TopicPartitions [] (empty, not null)
    00                            -- tagged fields
  `)
  const req: ConsumerGroupHeartbeatRequest = {
    groupId: 'g',
    memberId: '',
    memberEpoch: 0,
    rackId: 'r',
    rebalanceTimeoutMs: 300000,
    subscribedTopicNames: ['t'],
    subscribedTopicRegex: 'ignored before v1',
    serverAssignor: 'uniform',
    topicPartitions: [],
  }
  assert.is(encode(req, 0), expected.toString('hex'))
})

test('ConsumerGroupHeartbeat v1 request bytes', () => {
  // Everything left out: the "unchanged since the last heartbeat" defaults.
  const defaults = hex(`
    02 67 02 6d                   -- GroupId 'g', MemberId 'm'
    00000005                      -- MemberEpoch 5
    00 00                         -- InstanceId, RackId null
    ffffffff                      -- RebalanceTimeoutMs -1
    00                            -- SubscribedTopicNames null
    00                            -- SubscribedTopicRegex null
    00                            -- ServerAssignor null
    00                            -- TopicPartitions null
    00
  `)
  assert.is(encode({ groupId: 'g', memberId: 'm', memberEpoch: 5 }, 1), defaults.toString('hex'))
  const full = hex(`
    02 67 02 6d
    ffffffff                      -- MemberEpoch -1 (leave)
    02 69                         -- InstanceId 'i'
    00
    0000ea60                      -- RebalanceTimeoutMs 60000
    01                            -- SubscribedTopicNames [] (empty, not null)
    04 612e2a                     -- SubscribedTopicRegex 'a.*'
    00
    02                            -- TopicPartitions: 1
      ${TOPIC_ID_HEX}             --   TopicId
      03 00000000 00000001        --   Partitions [0, 1]
      00                          --   tagged fields
    00
  `)
  const req: ConsumerGroupHeartbeatRequest = {
    groupId: 'g',
    memberId: 'm',
    memberEpoch: -1,
    instanceId: 'i',
    rebalanceTimeoutMs: 60000,
    subscribedTopicNames: [],
    subscribedTopicRegex: 'a.*',
    topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 1] }],
  }
  assert.is(encode(req, 1), full.toString('hex'))
})

test('ConsumerGroupHeartbeat v0 response decode (with assignment)', () => {
  const res = decode(
    `00000000 0000                -- ThrottleTimeMs, ErrorCode
     00                           -- ErrorMessage null
     02 6d                        -- MemberId 'm'
     00000001                     -- MemberEpoch 1
     00001388                     -- HeartbeatIntervalMs 5000
     01                           -- Assignment present
       02                         --   TopicPartitions: 1
         ${TOPIC_ID_HEX} 03 00000000 00000002 00
       00                         --   Assignment's tagged fields
     00`,
    0,
  )
  assert.equal(res, {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    memberId: 'm',
    memberEpoch: 1,
    heartbeatIntervalMs: 5000,
    assignment: { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 2] }] },
  })
})

test('ConsumerGroupHeartbeat v1 response decode (no assignment, error)', () => {
  const res = decode(
    `00000003 006e                -- ThrottleTimeMs 3, FENCED_MEMBER_EPOCH
     02 78                        -- ErrorMessage 'x'
     00                           -- MemberId null
     ffffffff 00000000
     ff                           -- Assignment null
     01 00 01 00                  -- an unknown tagged field, skipped`,
    1,
  )
  assert.equal(res, {
    throttleTimeMs: 3,
    errorCode: 110,
    errorMessage: 'x',
    memberId: null,
    memberEpoch: -1,
    heartbeatIntervalMs: 0,
    assignment: null,
  })
  // An empty assignment is not a null one.
  assert.equal(decode('00000000 0000 00 02 6d 00000002 00000bb8 01 01 00 00', 1).assignment, { topicPartitions: [] })
})

test.run()
