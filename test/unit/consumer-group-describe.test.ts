import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConsumerGroupDescribe } from '../../src/protocol/consumer-group-describe.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Hex with whitespace and `-- comments` allowed; strict, so a typo cannot silently truncate. */
const hex = (s: string) => {
  const h = s.replace(/--[^\n]*/g, '').replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new Error(`bad hex: ${h}`)
  return Buffer.from(h, 'hex')
}
const encode = (req: Parameters<typeof ConsumerGroupDescribe.encode>[1], version: number) => {
  const w = new Writer(8)
  ConsumerGroupDescribe.encode(w, req, version)
  return w.toBuffer().toString('hex')
}
const decode = (bytes: string, version: number) => {
  const r = new Reader(hex(bytes))
  const res = ConsumerGroupDescribe.decode(r, version)
  r.expectEnd()
  return res
}

// The UUID 00010203-0405-0607-0809-0a0b0c0d0e0f in Kafka's text form.
const TOPIC_ID = 'AAECAwQFBgcICQoLDA0ODw'
const TOPIC_ID_HEX = '000102030405060708090a0b0c0d0e0f'

test('ConsumerGroupDescribe matches the schema header', () => {
  assert.is(ConsumerGroupDescribe.apiKey, 69)
  assert.is(ConsumerGroupDescribe.minVersion, 0)
  assert.is(ConsumerGroupDescribe.maxVersion, 1)
  assert.is(ConsumerGroupDescribe.flexibleFrom, 0)
})

test('ConsumerGroupDescribe request bytes', () => {
  assert.is(encode({ groupIds: ['g'] }, 0), hex('02 02 67 00 00').toString('hex'))
  const v1 = hex(`
    03 02 67 02 68                -- GroupIds ['g', 'h']
    01                            -- IncludeAuthorizedOperations
    00                            -- tagged fields
  `)
  assert.is(encode({ groupIds: ['g', 'h'], includeAuthorizedOperations: true }, 1), v1.toString('hex'))
})

const group = (memberType: string) => `
  0000                            -- ErrorCode
  00                              -- ErrorMessage null
  02 67                           -- GroupId 'g'
  07 537461626c65                 -- GroupState 'Stable'
  00000003 00000002               -- GroupEpoch 3, AssignmentEpoch 2
  08 756e69666f726d               -- AssignorName 'uniform'
  02                              -- Members: 1
    02 6d                         --   MemberId 'm'
    00                            --   InstanceId null
    02 72                         --   RackId 'r'
    00000003                      --   MemberEpoch
    02 63 02 68                   --   ClientId 'c', ClientHost 'h'
    02 02 74                      --   SubscribedTopicNames ['t']
    00                            --   SubscribedTopicRegex null
    02                            --   Assignment: TopicPartitions: 1
      ${TOPIC_ID_HEX} 02 74 03 00000000 00000001 00
    00                            --   Assignment's tagged fields
    01 00                         --   TargetAssignment: empty
    ${memberType}
    00                            --   member's tagged fields
  80000000                        -- AuthorizedOperations (not requested)
  00                              -- group's tagged fields
`

const expectedGroup = (memberType: number) => ({
  errorCode: 0,
  errorMessage: null,
  groupId: 'g',
  groupState: 'Stable',
  groupEpoch: 3,
  assignmentEpoch: 2,
  assignorName: 'uniform',
  members: [
    {
      memberId: 'm',
      instanceId: null,
      rackId: 'r',
      memberEpoch: 3,
      clientId: 'c',
      clientHost: 'h',
      subscribedTopicNames: ['t'],
      subscribedTopicRegex: null,
      assignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: 't', partitions: [0, 1] }] },
      targetAssignment: { topicPartitions: [] },
      memberType,
    },
  ],
  authorizedOperations: -2147483648,
})

test('ConsumerGroupDescribe v0 response decode', () => {
  const res = decode(`00000000 02 ${group('')} 00`, 0)
  assert.equal(res, { throttleTimeMs: 0, groups: [expectedGroup(-1)] })
})

test('ConsumerGroupDescribe v1 response decode (member type)', () => {
  const notFound = '0045 03 6e66 02 78 01 ffffffff ffffffff 01 01 80000000 00'
  const res = decode(`00000009 03 ${group('01 -- MemberType consumer')} ${notFound} 00`, 1)
  assert.equal(res, {
    throttleTimeMs: 9,
    groups: [
      expectedGroup(1),
      {
        errorCode: 69,
        errorMessage: 'nf',
        groupId: 'x',
        groupState: '',
        groupEpoch: -1,
        assignmentEpoch: -1,
        assignorName: '',
        members: [],
        authorizedOperations: -2147483648,
      },
    ],
  })
})

test.run()
