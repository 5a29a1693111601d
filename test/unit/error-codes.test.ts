import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  ErrorCode,
  errorByCode,
  errorName,
  isFatal,
  isFenced,
  isRetriable,
  KafkaError,
  MAX_ERROR_CODE,
  needsCoordinatorRefresh,
  needsMetadataRefresh,
  needsRebootstrap,
  needsRejoin,
} from '../../src/protocol/error-codes.js'
import { KafkaWireError } from '../../src/protocol/errors.js'

const HTML = fileURLToPath(new URL('../../../shared/kafka-protocol/errors-3.9.html', import.meta.url))

interface Row {
  code: number
  name: string
  retriable: boolean
  message: string
}

function parseTable(html: string): Row[] {
  const rows: Row[] = []
  for (const tr of html.split('<tr>').slice(1)) {
    const cells = [...tr.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1])
    if (cells.length === 0) continue // the header row uses <th>
    assert.is(cells.length, 4, `row ${tr}`)
    rows.push({ name: cells[0], code: Number(cells[1]), retriable: cells[2] === 'True', message: cells[3] })
  }
  return rows
}

// Kafka 4.1 additions (shared/kafka-protocol/README.md).
const ADDED_IN_4_1: Array<[number, string]> = [
  [128, 'INVALID_REGULAR_EXPRESSION'],
  [129, 'REBOOTSTRAP_REQUIRED'],
  [130, 'STREAMS_INVALID_TOPOLOGY'],
  [131, 'STREAMS_INVALID_TOPOLOGY_EPOCH'],
  [132, 'STREAMS_TOPOLOGY_FENCED'],
  [133, 'SHARE_SESSION_LIMIT_REACHED'],
]

test('every row of the 3.9 error table: code, name, retriable flag and message', () => {
  const rows = parseTable(readFileSync(HTML, 'utf8'))
  assert.is(rows.length, 129)
  assert.equal(
    rows.map((r) => r.code),
    Array.from({ length: 129 }, (_, i) => i - 1),
  )
  for (const row of rows) {
    const e = errorByCode(row.code)
    assert.is(e.code, row.code)
    assert.is(e.name, row.name, `code ${row.code}`)
    assert.is(e.retriable, row.retriable, `${row.name} retriable`)
    assert.is(e.message, row.message, `${row.name} message`)
    assert.is(isRetriable(row.code), row.retriable)
    assert.is((ErrorCode as Record<string, number>)[row.name], row.code, `ErrorCode.${row.name}`)
  }
})

test('the codes Kafka 4.1 added', () => {
  for (const [code, name] of ADDED_IN_4_1) {
    assert.is(errorByCode(code).name, name)
    assert.is((ErrorCode as Record<string, number>)[name], code)
    assert.ok(errorByCode(code).message.length > 0)
  }
  assert.is(MAX_ERROR_CODE, 133)
  assert.is(errorByCode(133).retriable, true, 'ShareSessionLimitReachedException is a RetriableException')
  assert.is(errorByCode(129).retriable, false)
})

test('ErrorCode holds exactly the table', () => {
  const entries = Object.entries(ErrorCode)
  assert.is(entries.length, MAX_ERROR_CODE + 2)
  for (const [name, code] of entries) assert.is(errorByCode(code).name, name)
  assert.is(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6)
  assert.is(ErrorCode.UNKNOWN_SERVER_ERROR, -1)
  assert.is(ErrorCode.NONE, 0)
})

test('unknown codes get a synthetic entry, never undefined', () => {
  for (const code of [-2, 134, 999, 32767, -32768, 1.5, Number.NaN]) {
    const e = errorByCode(code)
    assert.ok(e, `code ${code}`)
    assert.is(e.name, 'UNKNOWN_ERROR_CODE')
    assert.is(e.retriable, false)
    assert.ok(Object.is(e.code, code))
    assert.match(e.message, /unknown/)
    assert.is(errorName(code), 'UNKNOWN_ERROR_CODE')
    assert.is(isRetriable(code), false)
    for (const p of [needsMetadataRefresh, needsCoordinatorRefresh, needsRejoin, isFenced, isFatal, needsRebootstrap]) {
      assert.is(p(code), false, `${p.name}(${code})`)
    }
  }
  assert.is(errorByCode(-1).name, 'UNKNOWN_SERVER_ERROR')
  assert.is(errorName(6), 'NOT_LEADER_OR_FOLLOWER')
  assert.ok(Object.isFrozen(errorByCode(6)))
})

test('needsMetadataRefresh', () => {
  const yes = [
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    ErrorCode.LEADER_NOT_AVAILABLE,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ErrorCode.FENCED_LEADER_EPOCH,
    ErrorCode.NOT_CONTROLLER,
    ErrorCode.KAFKA_STORAGE_ERROR,
    ErrorCode.UNKNOWN_TOPIC_ID,
    ErrorCode.INCONSISTENT_TOPIC_ID,
    ErrorCode.REPLICA_NOT_AVAILABLE,
    ErrorCode.OFFSET_NOT_AVAILABLE,
    ErrorCode.LISTENER_NOT_FOUND,
  ]
  const no = [
    ErrorCode.NONE,
    ErrorCode.NOT_COORDINATOR,
    ErrorCode.UNKNOWN_LEADER_EPOCH,
    ErrorCode.REQUEST_TIMED_OUT,
    ErrorCode.OFFSET_OUT_OF_RANGE,
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    ErrorCode.ELECTION_NOT_NEEDED,
  ]
  for (const c of yes) assert.ok(needsMetadataRefresh(c), errorName(c))
  for (const c of no) assert.not.ok(needsMetadataRefresh(c), errorName(c))
})

test('needsCoordinatorRefresh', () => {
  assert.ok(needsCoordinatorRefresh(ErrorCode.NOT_COORDINATOR))
  assert.ok(needsCoordinatorRefresh(ErrorCode.COORDINATOR_NOT_AVAILABLE))
  assert.not.ok(needsCoordinatorRefresh(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS), 'retry the same coordinator')
  assert.not.ok(needsCoordinatorRefresh(ErrorCode.NOT_LEADER_OR_FOLLOWER))
})

test('needsRejoin', () => {
  for (const c of [
    ErrorCode.UNKNOWN_MEMBER_ID,
    ErrorCode.ILLEGAL_GENERATION,
    ErrorCode.REBALANCE_IN_PROGRESS,
    ErrorCode.MEMBER_ID_REQUIRED,
    ErrorCode.FENCED_MEMBER_EPOCH,
  ]) {
    assert.ok(needsRejoin(c), errorName(c))
  }
  for (const c of [ErrorCode.STALE_MEMBER_EPOCH, ErrorCode.FENCED_INSTANCE_ID, ErrorCode.NOT_COORDINATOR]) {
    assert.not.ok(needsRejoin(c), errorName(c))
  }
})

test('isFenced', () => {
  for (const c of [ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.FENCED_INSTANCE_ID]) {
    assert.ok(isFenced(c), errorName(c))
  }
  for (const c of [
    ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    ErrorCode.FENCED_LEADER_EPOCH,
    ErrorCode.FENCED_MEMBER_EPOCH,
    ErrorCode.TRANSACTION_COORDINATOR_FENCED,
  ]) {
    assert.not.ok(isFenced(c), errorName(c))
  }
})

test('isFatal', () => {
  for (const c of [
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    ErrorCode.GROUP_AUTHORIZATION_FAILED,
    ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    ErrorCode.SASL_AUTHENTICATION_FAILED,
    ErrorCode.UNSUPPORTED_SASL_MECHANISM,
    ErrorCode.UNSUPPORTED_VERSION,
    ErrorCode.INVALID_REQUEST,
    ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  ]) {
    assert.ok(isFatal(c), errorName(c))
  }
  for (const c of [
    ErrorCode.NONE,
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    ErrorCode.REQUEST_TIMED_OUT,
    ErrorCode.PRODUCER_FENCED,
    ErrorCode.UNKNOWN_SERVER_ERROR,
  ]) {
    assert.not.ok(isFatal(c), errorName(c))
  }
})

test('the action sets are consistent with the table', () => {
  for (let code = -1; code <= MAX_ERROR_CODE; code++) {
    const name = errorName(code)
    // Nothing fatal is retriable, and nothing we refresh metadata or the coordinator for is fatal.
    if (isFatal(code)) assert.not.ok(errorByCode(code).retriable, `${name} fatal yet retriable`)
    if (needsMetadataRefresh(code) || needsCoordinatorRefresh(code)) {
      assert.ok(errorByCode(code).retriable, `${name}: refresh-and-retry codes are retriable in Kafka's table`)
      assert.not.ok(isFatal(code), name)
    }
    if (isFenced(code)) assert.not.ok(isFatal(code) || needsRejoin(code), name)
  }
  assert.ok(needsRebootstrap(ErrorCode.REBOOTSTRAP_REQUIRED))
  assert.not.ok(needsRebootstrap(ErrorCode.NOT_LEADER_OR_FOLLOWER))
})

test('KafkaError', () => {
  const e = new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, { topic: 'orders', partition: 3 })
  assert.instance(e, KafkaWireError)
  assert.instance(e, Error)
  assert.is(e.code, 'NOT_LEADER_OR_FOLLOWER')
  assert.is(e.errorCode, 6)
  assert.is(e.retriable, true)
  assert.is(e.topic, 'orders')
  assert.is(e.partition, 3)
  assert.is(e.brokerMessage, undefined)
  assert.is(e.name, 'KafkaError')
  assert.match(e.message, /^NOT_LEADER_OR_FOLLOWER: For requests intended only for the leader/)
  assert.match(e.message, /\(orders-3\)$/)

  const withMessage = new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, {
    brokerMessage: 'Replication factor: 3 larger than available brokers: 1.',
    topic: 't',
  })
  assert.is(withMessage.retriable, false)
  assert.is(withMessage.brokerMessage, 'Replication factor: 3 larger than available brokers: 1.')
  assert.is(
    withMessage.message,
    'INVALID_REPLICATION_FACTOR: Replication factor: 3 larger than available brokers: 1. (topic t)',
  )

  const nullMessage = new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, { brokerMessage: null })
  assert.is(nullMessage.brokerMessage, undefined)
  assert.is(nullMessage.topic, undefined)
  assert.is(nullMessage.message, 'COORDINATOR_NOT_AVAILABLE: The coordinator is not available.')

  const cause = new Error('socket')
  const unknown = new KafkaError(4242, { cause })
  assert.is(unknown.code, 'UNKNOWN_ERROR_CODE')
  assert.is(unknown.errorCode, 4242)
  assert.is(unknown.retriable, false)
  assert.is(unknown.cause, cause)
})

test.run()
