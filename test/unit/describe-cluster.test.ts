import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DescribeCluster, type DescribeClusterRequest } from '../../src/protocol/describe-cluster.js'
import { EncodeError } from '../../src/protocol/errors.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')

function encode(request: DescribeClusterRequest, version: number): string {
  const w = new Writer(8)
  DescribeCluster.encode(w, request, version)
  return w.toBuffer().toString('hex')
}

function decode(bytes: string, version: number) {
  const r = new Reader(Buffer.from(bytes, 'hex'))
  const response = DescribeCluster.decode(r, version)
  r.expectEnd()
  return response
}

test('metadata matches the schema', () => {
  assert.is(DescribeCluster.apiKey, 60)
  assert.is(DescribeCluster.minVersion, 0)
  assert.is(DescribeCluster.maxVersion, 2)
  assert.is(DescribeCluster.flexibleFrom, 0)
})

test('request v0', () => {
  assert.is(encode({ includeClusterAuthorizedOperations: true }, 0), hex('01', '00'))
  assert.is(encode({ includeClusterAuthorizedOperations: false, endpointType: 1 }, 0), hex('00', '00'))
  assert.throws(
    () => encode({ includeClusterAuthorizedOperations: false, endpointType: 2 }, 0),
    (e: unknown) => e instanceof EncodeError,
  )
  assert.throws(
    () => encode({ includeClusterAuthorizedOperations: false, includeFencedBrokers: true }, 1),
    (e: unknown) => e instanceof EncodeError,
  )
})

test('request v1 writes endpointType (default 1)', () => {
  assert.is(encode({ includeClusterAuthorizedOperations: false }, 1), hex('00', '01', '00'))
})

test('request v2', () => {
  assert.is(
    encode({ includeClusterAuthorizedOperations: true, endpointType: 2, includeFencedBrokers: true }, 2),
    hex('01', '02', '01', '00'),
  )
  assert.is(encode({ includeClusterAuthorizedOperations: false }, 2), hex('00', '01', '00', '00'))
})

test('response v0 fills endpointType and isFenced', () => {
  const bytes = hex(
    '00000000', // throttleTimeMs
    '0000', // errorCode
    '00', // errorMessage null
    '04 636c75', // clusterId 'clu'
    '00000001', // controllerId
    '03', // brokers: 2
    '00000001 0a 6c6f63616c686f7374 00002384 00 00', // 1 localhost:9092, rack null, tags
    '00000002 02 68 00002385 03 7231 00', // 2 h:9093, rack 'r1', tags
    '80000000', // clusterAuthorizedOperations: not requested
    '00', // tags
  )
  assert.equal(decode(bytes, 0), {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    endpointType: 1,
    clusterId: 'clu',
    controllerId: 1,
    brokers: [
      { brokerId: 1, host: 'localhost', port: 9092, rack: null, isFenced: false },
      { brokerId: 2, host: 'h', port: 9093, rack: 'r1', isFenced: false },
    ],
    clusterAuthorizedOperations: -2147483648,
  })
})

test('response v2', () => {
  const bytes = hex(
    '00000010', // throttleTimeMs 16
    '0000 00', // errorCode, errorMessage null
    '02', // endpointType controllers
    '04 636c75', // clusterId
    'ffffffff', // controllerId -1
    '02', // brokers: 1
    '00000003 02 68 00002386 00 01 00', // 3 h:9094, rack null, fenced, tags
    '00000df8', // clusterAuthorizedOperations
    '01 00 01 00', // one unknown tag
  )
  assert.equal(decode(bytes, 2), {
    throttleTimeMs: 16,
    errorCode: 0,
    errorMessage: null,
    endpointType: 2,
    clusterId: 'clu',
    controllerId: -1,
    brokers: [{ brokerId: 3, host: 'h', port: 9094, rack: null, isFenced: true }],
    clusterAuthorizedOperations: 3576,
  })
})

test.run()
