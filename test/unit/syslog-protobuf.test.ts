// The LogLine encoder, checked against protobufjs (an independent decoder) and against bytes worked out by hand
// from the protobuf encoding rules.
import protobuf from 'protobufjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeLogLine, LogLineEncoder, varintSize, writeVarint } from '../../src/tools/syslog/protobuf.js'

// go_kafka_client's syslog/syslog_proto/logline.proto, with field 4 named as in the issue.
const SCHEMA = `
syntax = "proto2";
package syslog.proto;
message LogLine {
  message Tag {
    required string key = 1;
    required string value = 2;
  }
  required string line = 1;
  optional string source = 2;
  repeated Tag tag = 3;
  optional int64 logtypeid = 4;
  repeated int64 timings = 5;
}
`
const LogLine = protobuf.parse(SCHEMA).root.lookupType('syslog.proto.LogLine')

interface Decoded {
  line: string
  source?: string
  tag: Array<{ key: string; value: string }>
  logtypeid?: string
  timings: string[]
}

function decode(bytes: Buffer): Decoded {
  const message = LogLine.decode(bytes)
  return LogLine.toObject(message, { longs: String, defaults: false, arrays: true }) as Decoded
}

function hex(b: Buffer): string {
  return b.toString('hex')
}

test('varints: sizes and bytes at the 7-bit boundaries, beyond 2^32, and negative int64 in 10 bytes', () => {
  const cases: Array<[number | bigint, string]> = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2 ** 32, '8080808010'],
    [1_700_000_000_123, 'fbd095ffbc31'],
    [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
    [(1n << 63n) - 1n, 'ffffffffffffffff7f'],
    [-1, 'ffffffffffffffffff01'],
    [-1n << 63n, '80808080808080808001'],
  ]
  for (const [value, bytes] of cases) {
    const buf = Buffer.alloc(12)
    const end = writeVarint(buf, 0, value)
    assert.is(hex(buf.subarray(0, end)), bytes, String(value))
    assert.is(varintSize(value), bytes.length / 2, `size of ${value}`)
  }
  assert.throws(() => varintSize(1n << 63n), /out of range/)
  assert.throws(() => varintSize(1.5), /not an integer/)
})

test('a LogLine with only the line: bytes by hand, and protobufjs agrees', () => {
  const bytes = encodeLogLine({ line: '<13>hi' })
  // field 1, wire type 2 -> key 0x0a; length 6; the bytes.
  assert.is(hex(bytes), `0a06${Buffer.from('<13>hi').toString('hex')}`)
  assert.equal(decode(bytes), { line: '<13>hi', tag: [], timings: [] })
})

test('every field: source, tags in order, logtypeid, two timings (unpacked, as proto2 writes them)', () => {
  const bytes = encodeLogLine({
    line: Buffer.from('<34>1 2003-10-11T22:14:15.003Z host su - ID47 - \uFEFFé'),
    source: 'web-1',
    tags: [
      { key: 'dc', value: 'eu-west' },
      { key: 'env', value: 'prod=1' },
    ],
    logTypeId: 42n,
    timings: [1_700_000_000_123, 1_700_000_000_456],
  })
  assert.equal(decode(bytes), {
    line: '<34>1 2003-10-11T22:14:15.003Z host su - ID47 - \uFEFFé',
    source: 'web-1',
    tag: [
      { key: 'dc', value: 'eu-west' },
      { key: 'env', value: 'prod=1' },
    ],
    logtypeid: '42',
    timings: ['1700000000123', '1700000000456'],
  })
  // The tail by hand: logtypeid (key 0x20) then each timing with its own key 0x28.
  assert.ok(hex(bytes).endsWith('202a28fbd095ffbc3128c8d395ffbc31'), hex(bytes))
})

test('a negative logtypeid, an empty source, multi-byte lengths, UTF-8 tags', () => {
  const line = 'x'.repeat(300)
  const bytes = encodeLogLine({
    line,
    source: '',
    tags: [{ key: 'ключ', value: '値' }],
    logTypeId: -5,
    timings: [0],
  })
  assert.is(hex(bytes.subarray(0, 3)), '0aac02') // length 300 as a 2-byte varint
  assert.equal(decode(bytes), {
    line,
    source: '',
    tag: [{ key: 'ключ', value: '値' }],
    logtypeid: '-5',
    timings: ['0'],
  })
})

test('LogLineEncoder: the fixed fields are encoded once, every line gets its own buffer of the exact size', () => {
  const encoder = new LogLineEncoder({ source: 's', tags: [{ key: 'k', value: 'v' }] })
  const a = encoder.encode(Buffer.from('<13>a'), [1, 2])
  const b = encoder.encode('<13>bb', [3, 4])
  assert.equal(decode(a), { line: '<13>a', source: 's', tag: [{ key: 'k', value: 'v' }], timings: ['1', '2'] })
  assert.equal(decode(b), { line: '<13>bb', source: 's', tag: [{ key: 'k', value: 'v' }], timings: ['3', '4'] })
  assert.is(b.length, a.length + 1)
  // No fields but the line and timings.
  assert.equal(decode(new LogLineEncoder().encode('x', [])), { line: 'x', tag: [], timings: [] })
})

test.run()
