import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '../../src/protocol/consumer-protocol.js'
import { DecodeError, EncodeError } from '../../src/protocol/errors.js'

// Golden bytes printed by the Java client 4.1.1 (ConsumerProtocol.serializeSubscription / serializeAssignment, a
// throwaway Java program) for:
//   Subscription(["orders", "payments"], userData [1,2,3], owned [orders-0, orders-2, payments-1], generation 7,
//   rack "rack-a") and Subscription(["t"], null, [], -1, no rack);
//   Assignment([orders-0, orders-2, payments-1], userData [9]) and Assignment([], null).
const JAVA_SUB = [
  '00000000000200066f726465727300087061796d656e747300000003010203',
  '00010000000200066f726465727300087061796d656e7473000000030102030000000200066f726465727300000002000000000000000200087061796d656e74730000000100000001',
  '00020000000200066f726465727300087061796d656e7473000000030102030000000200066f726465727300000002000000000000000200087061796d656e7473000000010000000100000007',
  '00030000000200066f726465727300087061796d656e7473000000030102030000000200066f726465727300000002000000000000000200087061796d656e747300000001000000010000000700067261636b2d61',
]
const JAVA_SUB_MIN = [
  '000000000001000174ffffffff',
  '000100000001000174ffffffff00000000',
  '000200000001000174ffffffff00000000ffffffff',
  '000300000001000174ffffffff00000000ffffffffffff',
]
const ASG_BODY = '0000000200066f726465727300000002000000000000000200087061796d656e747300000001000000010000000109'
const JAVA_ASG = [0, 1, 2, 3].map((v) => `000${v}${ASG_BODY}`)
const JAVA_ASG_EMPTY_V3 = '000300000000ffffffff'
// Java's own v3 subscription relabelled version 9 with 5 trailing bytes: Java reads it as v3, ignoring the tail.
const FUTURE_V9 = `0009${JAVA_SUB[3].slice(4)}7f01020304`

const SUB = {
  topics: ['orders', 'payments'],
  userData: Buffer.from([1, 2, 3]),
  ownedPartitions: [
    { topic: 'orders', partitions: [0, 2] },
    { topic: 'payments', partitions: [1] },
  ],
  generationId: 7,
  rackId: 'rack-a',
}
const ASG = {
  assignedPartitions: [
    { topic: 'orders', partitions: [0, 2] },
    { topic: 'payments', partitions: [1] },
  ],
  userData: Buffer.from([9]),
}

test('subscription: our encoding equals the Java client bytes, v0-v3', () => {
  for (let v = 0; v <= 3; v++) {
    assert.is(encodeConsumerProtocolSubscription(SUB, v).toString('hex'), JAVA_SUB[v], `v${v}`)
    assert.is(encodeConsumerProtocolSubscription({ topics: ['t'] }, v).toString('hex'), JAVA_SUB_MIN[v], `min v${v}`)
  }
})

test('subscription: decodes the Java bytes, defaults for fields the version lacks', () => {
  for (let v = 0; v <= 3; v++) {
    const d = decodeConsumerProtocolSubscription(Buffer.from(JAVA_SUB[v], 'hex'))
    assert.is(d.version, v)
    assert.equal(d.topics, SUB.topics)
    assert.equal(d.userData, SUB.userData)
    assert.equal(d.ownedPartitions, v >= 1 ? SUB.ownedPartitions : [])
    assert.is(d.generationId, v >= 2 ? 7 : -1)
    assert.is(d.rackId, v >= 3 ? 'rack-a' : null)
  }
  const min = decodeConsumerProtocolSubscription(Buffer.from(JAVA_SUB_MIN[3], 'hex'))
  assert.equal(min, { version: 3, topics: ['t'], userData: null, ownedPartitions: [], generationId: -1, rackId: null })
})

test('subscription: a newer version is read as v3 and its trailing bytes ignored (as Java does)', () => {
  const d = decodeConsumerProtocolSubscription(Buffer.from(FUTURE_V9, 'hex'))
  assert.is(d.version, 9)
  assert.equal(d.topics, SUB.topics)
  assert.equal(d.ownedPartitions, SUB.ownedPartitions)
  assert.is(d.generationId, 7)
  assert.is(d.rackId, 'rack-a')
})

test('subscription: empty user data stays distinct from null', () => {
  const d = decodeConsumerProtocolSubscription(
    encodeConsumerProtocolSubscription({ topics: [], userData: Buffer.alloc(0) }),
  )
  assert.ok(d.userData !== null)
  assert.is(d.userData?.length, 0)
})

test('assignment: our encoding equals the Java client bytes and decodes back, v0-v3', () => {
  for (let v = 0; v <= 3; v++) {
    assert.is(encodeConsumerProtocolAssignment(ASG, v).toString('hex'), JAVA_ASG[v], `v${v}`)
    assert.equal(decodeConsumerProtocolAssignment(Buffer.from(JAVA_ASG[v], 'hex')), { version: v, ...ASG })
  }
  assert.is(encodeConsumerProtocolAssignment({ assignedPartitions: [] }, 3).toString('hex'), JAVA_ASG_EMPTY_V3)
  assert.equal(decodeConsumerProtocolAssignment(Buffer.from(JAVA_ASG_EMPTY_V3, 'hex')), {
    version: 3,
    assignedPartitions: [],
    userData: null,
  })
})

test('assignment: a newer version with trailing bytes; an empty buffer is an empty assignment', () => {
  const d = decodeConsumerProtocolAssignment(Buffer.from(`0007${ASG_BODY}deadbeef`, 'hex'))
  assert.equal(d, { version: 7, ...ASG })
  assert.equal(decodeConsumerProtocolAssignment(Buffer.alloc(0)), {
    version: 0,
    assignedPartitions: [],
    userData: null,
  })
})

test('hostile: negative versions, truncation and huge counts are DecodeErrors; bad versions EncodeErrors', () => {
  assert.throws(
    () => decodeConsumerProtocolSubscription(Buffer.from('ffff', 'hex')),
    (e: unknown) => e instanceof DecodeError,
  )
  assert.throws(
    () => decodeConsumerProtocolAssignment(Buffer.from('8000', 'hex')),
    (e: unknown) => e instanceof DecodeError,
  )
  const sub = Buffer.from(JAVA_SUB[3], 'hex')
  for (let cut = 1; cut < sub.length; cut++) {
    assert.throws(
      () => decodeConsumerProtocolSubscription(sub.subarray(0, cut)),
      (e: unknown) => e instanceof DecodeError,
    )
  }
  assert.throws(
    () => decodeConsumerProtocolAssignment(Buffer.from('00037fffffff', 'hex')),
    (e: unknown) => e instanceof DecodeError,
  )
  assert.throws(
    () => encodeConsumerProtocolSubscription(SUB, 4),
    (e: unknown) => e instanceof EncodeError,
  )
  assert.throws(
    () => encodeConsumerProtocolAssignment(ASG, -1),
    (e: unknown) => e instanceof EncodeError,
  )
})

test.run()
