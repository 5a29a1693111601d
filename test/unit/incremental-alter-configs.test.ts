import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  IncrementalAlterConfigs,
  type IncrementalAlterConfigsRequest,
} from '../../src/protocol/incremental-alter-configs.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')

function encode(request: IncrementalAlterConfigsRequest, version: number): string {
  const w = new Writer(8)
  IncrementalAlterConfigs.encode(w, request, version)
  return w.toBuffer().toString('hex')
}

function decode(bytes: string, version: number) {
  const r = new Reader(Buffer.from(bytes, 'hex'))
  const response = IncrementalAlterConfigs.decode(r, version)
  r.expectEnd()
  return response
}

const request: IncrementalAlterConfigsRequest = {
  resources: [
    {
      resourceType: 2,
      resourceName: 't',
      configs: [
        { name: 'a', configOperation: 0, value: 'x' },
        { name: 'b', configOperation: 1, value: null },
      ],
    },
  ],
  validateOnly: true,
}

test('metadata matches the schema', () => {
  assert.is(IncrementalAlterConfigs.apiKey, 44)
  assert.is(IncrementalAlterConfigs.minVersion, 0)
  assert.is(IncrementalAlterConfigs.maxVersion, 1)
  assert.is(IncrementalAlterConfigs.flexibleFrom, 1)
})

test('request v0 (classic)', () => {
  const expected = hex(
    '00000001', // resources: 1
    '02 0001 74', // TOPIC 't'
    '00000002', // configs: 2
    '0001 61 00 0001 78', // 'a' SET 'x'
    '0001 62 01 ffff', // 'b' DELETE null
    '01', // validateOnly
  )
  assert.is(encode(request, 0), expected)
})

test('request v1 (flexible)', () => {
  const expected = hex(
    '02', // resources: 1
    '02 02 74', // TOPIC 't'
    '03', // configs: 2
    '02 61 00 02 78 00', // 'a' SET 'x', tags
    '02 62 01 00 00', // 'b' DELETE null, tags
    '00', // resource tags
    '01', // validateOnly
    '00', // request tags
  )
  assert.is(encode(request, 1), expected)
})

test('response v0 (classic)', () => {
  const bytes = hex('00000000', '00000002', '0000 ffff 02 0001 74', '0028 0003 626164 04 0001 31')
  assert.equal(decode(bytes, 0), {
    throttleTimeMs: 0,
    responses: [
      { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't' },
      { errorCode: 40, errorMessage: 'bad', resourceType: 4, resourceName: '1' },
    ],
  })
})

test('response v1 (flexible)', () => {
  const bytes = hex('00000009', '02', '0000 00 02 02 74', '01 09 00', '00')
  assert.equal(decode(bytes, 1), {
    throttleTimeMs: 9,
    responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't' }],
  })
})

test.run()
