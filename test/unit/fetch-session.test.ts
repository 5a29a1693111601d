import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FetchSession, type WantedPartition } from '../../src/client/fetch-session.js'
import { ErrorCode } from '../../src/protocol/error-codes.js'

const ID_A = '00000000-0000-0000-0000-00000000000a'
const ID_B = '00000000-0000-0000-0000-00000000000b'

const want = (partition: number, offset: number, topic = 'a', topicId = ID_A): WantedPartition => ({
  topic,
  topicId,
  partition,
  fetchOffset: BigInt(offset),
  maxBytes: 1024,
})

/** The partitions a request names, as "topic-partition@offset". */
function named(req: ReturnType<FetchSession['build']>): string[] {
  return req.topics.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p.partition}@${p.fetchOffset}`))
}

function forgotten(req: ReturnType<FetchSession['build']>): string[] {
  return req.forgottenTopicsData.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`))
}

test('the first request is full and asks for a session; then only what changed is named', () => {
  const s = new FetchSession()
  const first = s.build([want(0, 10), want(1, 20), want(0, 5, 'b', ID_B)])
  assert.is(first.full, true)
  assert.is(first.sessionId, 0)
  assert.is(first.sessionEpoch, 0)
  assert.equal(named(first), ['a-0@10', 'a-1@20', 'b-0@5'])
  s.answered(0, 77)
  assert.is(s.id, 77)
  assert.is(s.epoch, 1)

  // Nothing moved: an empty incremental request (the broker long-polls every partition of the session).
  const idle = s.build([want(0, 10), want(1, 20), want(0, 5, 'b', ID_B)])
  assert.is(idle.full, false)
  assert.is(idle.sessionId, 77)
  assert.is(idle.sessionEpoch, 1)
  assert.equal(named(idle), [])
  assert.equal(forgotten(idle), [])
  // Every partition of the session is in `offsets`, named or not.
  assert.equal([...idle.offsets.values()], [10n, 20n, 5n])
  s.answered(0, 77)
  assert.is(s.epoch, 2)

  // a-0 moved, a-2 is new, a-1 left (its reservoir is full): named, named, forgotten.
  const changed = s.build([want(0, 15), want(0, 5, 'b', ID_B), want(2, 0)])
  assert.equal(named(changed), ['a-0@15', 'a-2@0'])
  assert.equal(forgotten(changed), ['a-1'])
  assert.is(changed.forgottenTopicsData[0].topicId, ID_A)
  s.answered(0, 77)
  assert.is(s.size, 3)
  assert.is(s.epoch, 3)
})

test('a session error starts over with a full request that closes the old session', () => {
  for (const code of [
    ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
    ErrorCode.INVALID_FETCH_SESSION_EPOCH,
    ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
  ]) {
    const s = new FetchSession()
    s.build([want(0, 1)])
    s.answered(0, 5)
    s.build([want(0, 2)])
    s.answered(code, 0)
    const again = s.build([want(0, 2)])
    assert.is(again.full, true, String(code))
    assert.is(again.sessionId, 5) // epoch 0 with the old id: close it, open a new one
    assert.is(again.sessionEpoch, 0)
    assert.equal(named(again), ['a-0@2'])
    s.answered(0, 6)
    assert.is(s.id, 6)
    assert.is(s.epoch, 1)
  }
})

test('another error leaves the session as before the request; a failed request makes the next one full', () => {
  const s = new FetchSession()
  s.build([want(0, 1), want(1, 1)])
  s.answered(0, 9)
  s.build([want(0, 3)])
  s.answered(ErrorCode.UNKNOWN_SERVER_ERROR, 0)
  // Not applied: a-1 is still in the session, a-0 still at 1 as far as the broker knows.
  const next = s.build([want(0, 3), want(1, 1)])
  assert.is(next.sessionEpoch, 1)
  assert.equal(named(next), ['a-0@3'])
  assert.equal(forgotten(next), [])
  s.failed()
  const full = s.build([want(0, 3), want(1, 1)])
  assert.is(full.full, true)
  assert.equal(named(full), ['a-0@3', 'a-1@1'])
})

test('no session from the broker (id 0): every request stays full', () => {
  const s = new FetchSession()
  s.build([want(0, 1)])
  s.answered(0, 0)
  const again = s.build([want(0, 1)])
  assert.is(again.full, true)
  assert.is(again.sessionId, 0)
  assert.is(again.sessionEpoch, 0)
})

test('a recreated topic (new id) starts the session over; the epoch wraps to 1', () => {
  const s = new FetchSession()
  s.build([want(0, 1)])
  s.answered(0, 3)
  const recreated = s.build([want(0, 0, 'a', ID_B)])
  assert.is(recreated.full, true)
  assert.is(recreated.topics[0].topicId, ID_B)
  s.answered(0, 4)
  s.epoch = 0x7fffffff
  s.build([want(0, 1, 'a', ID_B)])
  s.answered(0, 4)
  assert.is(s.epoch, 1)
})

test.run()
