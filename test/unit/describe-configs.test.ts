import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DescribeConfigs, type DescribeConfigsRequest } from '../../src/protocol/describe-configs.js'
import { EncodeError } from '../../src/protocol/errors.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (...parts: string[]): string => parts.join('').replace(/\s+/g, '')

function encode(request: DescribeConfigsRequest, version: number): string {
  const w = new Writer(8)
  DescribeConfigs.encode(w, request, version)
  return w.toBuffer().toString('hex')
}

function decode(bytes: string, version: number) {
  const r = new Reader(Buffer.from(bytes, 'hex'))
  const response = DescribeConfigs.decode(r, version)
  r.expectEnd()
  return response
}

const request: DescribeConfigsRequest = {
  resources: [
    { resourceType: 2, resourceName: 't', configurationKeys: ['a', 'b'] },
    { resourceType: 4, resourceName: '1', configurationKeys: null },
  ],
  includeSynonyms: true,
}

test('metadata matches the schema', () => {
  assert.is(DescribeConfigs.apiKey, 32)
  assert.is(DescribeConfigs.minVersion, 1)
  assert.is(DescribeConfigs.maxVersion, 4)
  assert.is(DescribeConfigs.flexibleFrom, 4)
})

test('request v1 (classic)', () => {
  const expected = hex(
    '00000002', // resources: 2
    '02 0001 74', // TOPIC 't'
    '00000002 0001 61 0001 62', // keys ['a', 'b']
    '04 0001 31', // BROKER '1'
    'ffffffff', // keys null
    '01', // includeSynonyms
  )
  assert.is(encode(request, 1), expected)
  assert.is(encode(request, 2), expected)
})

test('request v3 adds includeDocumentation; v1-2 refuse it', () => {
  assert.is(
    encode({ ...request, includeDocumentation: true }, 3),
    hex('00000002 02 0001 74 00000002 0001 61 0001 62 04 0001 31 ffffffff', '01', '01'),
  )
  assert.throws(
    () => encode({ ...request, includeDocumentation: true }, 2),
    (e: unknown) => e instanceof EncodeError,
  )
  // false (the default) is fine in any version
  assert.is(encode({ ...request, includeDocumentation: false }, 1), encode(request, 1))
})

test('request v4 (flexible)', () => {
  const expected = hex(
    '03', // resources: 2
    '02 02 74', // TOPIC 't'
    '03 02 61 02 62', // keys ['a', 'b']
    '00', // tags
    '04 02 31', // BROKER '1'
    '00', // keys null
    '00', // tags
    '01', // includeSynonyms
    '00', // includeDocumentation (default false)
    '00', // request tags
  )
  assert.is(encode(request, 4), expected)
})

test('response v1 (classic)', () => {
  const bytes = hex(
    '00000000', // throttleTimeMs
    '00000001', // results: 1
    '0000 ffff', // errorCode, errorMessage null
    '02 0001 74', // TOPIC 't'
    '00000001', // configs: 1
    '0001 61', // name 'a'
    '0001 31', // value '1'
    '00', // readOnly
    '01', // configSource DYNAMIC_TOPIC_CONFIG
    '00', // isSensitive
    '00000002', // synonyms: 2
    '0001 61 0001 31 01', // 'a' = '1' from 1
    '0001 61 ffff 05', // 'a' = null from 5
  )
  assert.equal(decode(bytes, 1), {
    throttleTimeMs: 0,
    results: [
      {
        errorCode: 0,
        errorMessage: null,
        resourceType: 2,
        resourceName: 't',
        configs: [
          {
            name: 'a',
            value: '1',
            readOnly: false,
            configSource: 1,
            isSensitive: false,
            synonyms: [
              { name: 'a', value: '1', source: 1 },
              { name: 'a', value: null, source: 5 },
            ],
            configType: 0,
            documentation: '',
          },
        ],
      },
    ],
  })
})

test('response v4 (flexible)', () => {
  const bytes = hex(
    '00000003', // throttleTimeMs
    '02', // results: 1
    '0000 00', // errorCode, errorMessage null
    '04 02 31', // BROKER '1'
    '02', // configs: 1
    '02 62', // name 'b'
    '00', // value null
    '01 04 01', // readOnly, configSource STATIC_BROKER_CONFIG, isSensitive
    '01', // synonyms: 0
    '02', // configType STRING
    '04 646f63', // documentation 'doc'
    '00', // config tags
    '01 03 01 ff', // result tags: one unknown
    '00', // response tags
  )
  assert.equal(decode(bytes, 4), {
    throttleTimeMs: 3,
    results: [
      {
        errorCode: 0,
        errorMessage: null,
        resourceType: 4,
        resourceName: '1',
        configs: [
          {
            name: 'b',
            value: null,
            readOnly: true,
            configSource: 4,
            isSensitive: true,
            synonyms: [],
            configType: 2,
            documentation: 'doc',
          },
        ],
      },
    ],
  })
})

test.run()
