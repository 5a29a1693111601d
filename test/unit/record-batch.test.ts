import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { CompressionName } from '../../src/protocol/compression.js'
import * as crc from '../../src/protocol/crc32c.js'
import {
  ControlRecordType,
  controlRecordType,
  decodeEndTransactionMarker,
  decodeRecordBatches,
  EMPTY_HEADERS,
  encodeRecordBatch,
  type KafkaRecord,
  prepareRecordBatch,
  RECORD_BATCH_OVERHEAD,
  type RecordBatch,
  type RecordInput,
  TimestampType,
} from '../../src/protocol/record-batch.js'
import { Writer } from '../../src/protocol/writer.js'

// Fixtures under test/fixtures/record-batch/java-*.bin were written by the Java client 4.1.1's own classes
// (MemoryRecords.withRecords / builder / withEndTransactionMarker, in a throwaway Java program).
const fixture = (name: string) => readFileSync(new URL(`../fixtures/record-batch/${name}`, import.meta.url))
const b = (s: string | null) => (s === null ? null : Buffer.from(s, 'utf8'))
const text = (buf: Buffer | null) => (buf === null ? null : buf.toString('utf8'))
const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

let BIG = ''
for (let i = 0; i < 30; i++) BIG += `payload-${i};`

/** The five records of java-v2-<codec>.bin, as the Java program built them. */
const JAVA_RECORDS: RecordInput[] = [
  {
    timestamp: 1700000000000,
    key: b('key-0'),
    value: b('value-0'),
    headers: [
      { key: 'h1', value: b('v1') },
      { key: 'h-null', value: null },
    ],
  },
  { timestamp: 1700000000005, key: null, value: b('value-1') },
  { timestamp: 1699999999990, key: Buffer.alloc(0), value: Buffer.alloc(0) },
  { timestamp: 1700000000001, key: b('k3'), value: null, headers: [{ key: '', value: Buffer.alloc(0) }] },
  { timestamp: 1700000000002, key: b('ключ'), value: b(BIG), headers: [{ key: 'ключ-é', value: b('é') }] },
]

function assertRecordsEqual(actual: KafkaRecord[], expected: RecordInput[], baseOffset: bigint) {
  assert.is(actual.length, expected.length)
  expected.forEach((e, i) => {
    const a = actual[i]
    assert.is(a.offset, baseOffset + BigInt(i), `offset ${i}`)
    if (e.timestamp !== undefined) assert.is(a.timestamp, e.timestamp, `timestamp ${i}`)
    assert.equal(a.key === null ? null : Buffer.from(a.key), e.key == null ? null : Buffer.from(e.key), `key ${i}`)
    assert.equal(
      a.value === null ? null : Buffer.from(a.value),
      e.value === null ? null : Buffer.from(e.value),
      `v ${i}`,
    )
    const eh = (e.headers ?? []).map((h) => [h.key, h.value === null ? null : Buffer.from(h.value)])
    assert.equal(
      a.headers.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value)]),
      eh,
      `headers ${i}`,
    )
  })
}

// ------------------------------------------------------------------------------- Java golden batches

for (const codec of CODECS) {
  test(`decodes a ${codec} batch written by the Java client, every field`, () => {
    const buf = fixture(`java-v2-${codec}.bin`)
    const batches = decodeRecordBatches(buf)
    assert.is(batches.length, 1)
    const batch = batches[0]
    const { records, ...header } = batch
    assert.equal(header, {
      baseOffset: 100n,
      batchLength: buf.length - 12,
      partitionLeaderEpoch: 5,
      magic: 2,
      crc: buf.readUInt32BE(17),
      attributes: CODECS.indexOf(codec),
      compression: codec,
      timestampType: TimestampType.CreateTime,
      isTransactional: false,
      isControl: false,
      hasDeleteHorizon: false,
      lastOffsetDelta: 4,
      firstTimestamp: 1700000000000,
      maxTimestamp: 1700000000005,
      producerId: 4242n,
      producerEpoch: 3,
      baseSequence: 17,
      controlType: -1,
    })
    assertRecordsEqual(records, JAVA_RECORDS, 100n)
    // null and empty stay distinct
    assert.is(records[1].key, null)
    assert.is(records[2].key?.length, 0)
    assert.is(records[2].value?.length, 0)
    assert.is(records[3].value, null)
    assert.is(records[0].headers[1].value, null)
    assert.is(records[3].headers[0].value?.length, 0)
    assert.is(records[1].headers, EMPTY_HEADERS)
  })
}

test('our uncompressed encoding of the same input is byte-identical to the Java client', () => {
  const w = new Writer(8)
  encodeRecordBatch(w, {
    records: JAVA_RECORDS,
    baseOffset: 100n,
    producerId: 4242n,
    producerEpoch: 3,
    baseSequence: 17,
    partitionLeaderEpoch: 5,
  })
  assert.is(w.view().toString('hex'), fixture('java-v2-none.bin').toString('hex'))
})

test('control batches from the Java client: COMMIT and ABORT markers; our encoding is identical', () => {
  const cases = [
    ['java-v2-control-commit.bin', 9n, ControlRecordType.Commit, 11, 1700000002000],
    ['java-v2-control-abort.bin', 10n, ControlRecordType.Abort, 12, 1700000003000],
  ] as const
  for (const [file, offset, type, epoch, ts] of cases) {
    const buf = fixture(file)
    const [batch] = decodeRecordBatches(buf)
    assert.is(batch.isControl, true)
    assert.is(batch.isTransactional, true)
    assert.is(batch.controlType, type)
    assert.is(batch.baseOffset, offset)
    assert.is(batch.producerId, 99n)
    assert.is(batch.producerEpoch, 1)
    assert.is(batch.partitionLeaderEpoch, 2)
    assert.is(batch.records.length, 1)
    assert.is(controlRecordType(batch.records[0].key), type)
    assert.equal(decodeEndTransactionMarker(batch.records[0].value), { version: 0, coordinatorEpoch: epoch })
    const w = new Writer(8)
    encodeRecordBatch(w, {
      records: [{ key: batch.records[0].key, value: batch.records[0].value, timestamp: ts }],
      baseOffset: offset,
      partitionLeaderEpoch: 2,
      producerId: 99n,
      producerEpoch: 1,
      isControl: true,
      isTransactional: true,
    })
    assert.ok(w.view().equals(buf), file)
  }
})

test('transactional gzip batch from the Java client', () => {
  const [batch] = decodeRecordBatches(fixture('java-v2-transactional-gzip.bin'))
  assert.is(batch.isTransactional, true)
  assert.is(batch.isControl, false)
  assert.is(batch.compression, 'gzip')
  assert.is(batch.attributes, 0x11)
  assert.is(batch.producerId, 99n)
  assert.is(batch.baseSequence, 0)
  assertRecordsEqual(batch.records, [{ key: b('tk'), value: b('tv'), timestamp: 1700000001000 }], 7n)
})

test('LogAppendTime batch: every record carries the batch maxTimestamp', () => {
  const [batch] = decodeRecordBatches(fixture('java-v2-log-append-time-lz4.bin'))
  assert.is(batch.timestampType, TimestampType.LogAppendTime)
  assert.is(batch.maxTimestamp, 1700000009999)
  assert.is(batch.firstTimestamp, 1700000000000)
  assert.equal(
    batch.records.map((r) => [r.offset, r.timestamp, text(r.key), text(r.value)]),
    [
      [20n, 1700000009999, 'a', '1'],
      [21n, 1700000009999, 'b', '2'],
    ],
  )
})

test('several batches back to back; a partial batch at the end is skipped at every cut', () => {
  const buf = fixture('java-v2-three-batches.bin')
  const batches = decodeRecordBatches(buf)
  assert.equal(
    batches.map((x) => [x.baseOffset, x.compression, x.records.map((r) => text(r.key))]),
    [
      [30n, 'none', ['m0a', 'm0b']],
      [32n, 'snappy', ['m1a', 'm1b']],
      [34n, 'none', ['m2a', 'm2b']],
    ],
  )
  const ends: number[] = []
  let o = 0
  while (o < buf.length) {
    o += 12 + buf.readInt32BE(o + 8)
    ends.push(o)
  }
  for (let cut = 0; cut <= buf.length; cut++) {
    const complete = ends.filter((e) => e <= cut).length
    assert.is(decodeRecordBatches(buf.subarray(0, cut)).length, complete, `cut at ${cut}`)
  }
})

// ------------------------------------------------------------------------------------- legacy (v0/v1)

for (const magic of [0, 1]) {
  for (const codec of ['none', 'gzip', 'snappy', 'lz4'] as const) {
    test(`legacy magic ${magic} ${codec} message set from the Java client`, () => {
      const batches = decodeRecordBatches(fixture(`java-v${magic}-${codec}.bin`))
      const records = batches.flatMap((x) => x.records)
      const ts = (t: number) => (magic === 0 ? -1 : t)
      assert.equal(
        records.map((r) => [r.offset, r.timestamp, text(r.key), text(r.value), r.headers.length]),
        [
          [50n, ts(1700000000000), 'lk0', 'lv0', 0],
          [51n, ts(1700000000003), null, 'lv1', 0],
          [52n, ts(1700000000001), '', null, 0],
        ],
      )
      for (const x of batches) {
        assert.is(x.magic, magic)
        assert.is(x.compression, codec)
        assert.is(x.producerId, -1n)
        assert.is(x.isControl, false)
      }
      if (codec === 'none') {
        assert.is(batches.length, 3) // one batch per uncompressed legacy message, as Java sees them
      } else {
        assert.is(batches.length, 1)
        assert.is(batches[0].baseOffset, 50n)
        assert.is(batches[0].lastOffsetDelta, 2)
        assert.is(batches[0].maxTimestamp, ts(1700000000003))
      }
    })
  }
}

test('legacy magic-0 LZ4: the broken frame header checksum old clients wrote is repaired', async () => {
  const { decompressFrameSync } = (await import('lz4-napi')) as { decompressFrameSync(b: Buffer): Buffer }
  const buf = fixture('java-v0-lz4.bin')
  // The wrapper value: offset 8, size 4, crc 4, magic 1, attributes 1, key -1 (4), value length (4), value.
  const value = buf.subarray(30, 30 + buf.readInt32BE(26))
  assert.throws(() => decompressFrameSync(value)) // lz4 itself rejects the header checksum
  assert.is(decodeRecordBatches(buf)[0].records.length, 3)
})

// ------------------------------------------------------------------------------------------ round trips

const KEYS = [null, Buffer.alloc(0), Buffer.from('k'), Buffer.alloc(300, 'K')]
const VALUES = [null, Buffer.alloc(0), Buffer.from('value'), Buffer.alloc(200, 'v')]
const HEADER_SETS: (RecordInput['headers'] | undefined)[] = [
  undefined,
  [],
  [
    { key: 'h', value: Buffer.from('hv') },
    { key: 'null', value: null },
    { key: 'empty', value: Buffer.alloc(0) },
    { key: '', value: Buffer.from('x') },
    { key: 'ünïcødé ключ', value: Buffer.alloc(130, 1) },
  ],
]

function roundTripRecords(): RecordInput[] {
  const records: RecordInput[] = []
  let t = 1_700_000_000_000
  for (const key of KEYS) {
    for (const value of VALUES) {
      for (const headers of HEADER_SETS) {
        records.push({ key, value, headers, timestamp: t })
        t += records.length % 3 === 0 ? -7 : 11
      }
    }
  }
  // timestamp deltas that need the varlong slow path, both signs
  records.push({ key: null, value: Buffer.from('far future'), timestamp: t + 5_000_000_000 })
  records.push({ key: null, value: Buffer.from('far past'), timestamp: 1_000 })
  return records
}

for (const codec of CODECS) {
  test(`round trip (${codec}): keys x values x headers, null/empty distinct, both encode paths`, () => {
    const records = roundTripRecords()
    const input = {
      records,
      compression: codec,
      baseOffset: 1234567890123n,
      producerId: 9007199254740993n,
      producerEpoch: 7,
      baseSequence: 2147483000,
      partitionLeaderEpoch: 3,
      isTransactional: true,
    }
    const prepared = prepareRecordBatch(input)
    const w = new Writer(16)
    w.int32(0x01020304) // the records start mid-request
    prepared.writeTo(w)
    assert.is(w.offset - 4, prepared.byteLength, 'byteLength is exactly what writeTo writes')
    const direct = new Writer(1)
    encodeRecordBatch(direct, input)
    if (codec !== 'gzip') assert.ok(direct.view().equals(w.view().subarray(4)), 'both paths write the same bytes')

    const [batch] = decodeRecordBatches(w.view().subarray(4), { topic: 't', partition: 0 })
    assert.is(batch.compression, codec)
    assert.is(batch.baseOffset, 1234567890123n)
    assert.is(batch.producerId, 9007199254740993n)
    assert.is(batch.producerEpoch, 7)
    assert.is(batch.baseSequence, 2147483000)
    assert.is(batch.partitionLeaderEpoch, 3)
    assert.is(batch.isTransactional, true)
    assert.is(batch.lastOffsetDelta, records.length - 1)
    assert.is(batch.firstTimestamp, records[0].timestamp)
    assert.is(batch.maxTimestamp, Math.max(...records.map((r) => r.timestamp ?? 0)))
    assertRecordsEqual(batch.records, records, 1234567890123n)
    batch.records.forEach((r, i) => {
      const h = records[i].headers
      if (h === undefined || h.length === 0) assert.is(r.headers, EMPTY_HEADERS)
    })
  })
}

test('uncompressed decoding is zero-copy: keys, values and header values are views of the input', () => {
  const w = new Writer()
  encodeRecordBatch(w, {
    records: [{ key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: Buffer.from('x') }] }],
  })
  const buf = w.toBuffer()
  const [r] = decodeRecordBatches(buf)[0].records
  for (const view of [r.key, r.value, r.headers[0].value]) {
    assert.ok(view !== null && view.buffer === buf.buffer)
    assert.ok(view.byteOffset >= buf.byteOffset && view.byteOffset < buf.byteOffset + buf.length)
  }
  buf[buf.length - 1] = 'y'.charCodeAt(0) // header value is the last byte
  assert.is(text(r.headers[0].value), 'y')
})

test('default timestamps: records without one take `now`; the batch base is the first record', () => {
  const w = new Writer()
  encodeRecordBatch(
    w,
    { records: [{ value: b('a') }, { value: b('b'), timestamp: 5 }, { value: b('c') }] },
    { now: 1_700_000_000_000 },
  )
  const [batch] = decodeRecordBatches(w.view())
  assert.equal(
    batch.records.map((r) => r.timestamp),
    [1_700_000_000_000, 5, 1_700_000_000_000],
  )
  assert.is(batch.firstTimestamp, 1_700_000_000_000)
  assert.is(batch.maxTimestamp, 1_700_000_000_000)
})

test('the batch header sits where Kafka expects it', () => {
  const w = new Writer()
  encodeRecordBatch(w, { records: [{ value: b('x') }], compression: 'lz4', producerId: 5n })
  const buf = w.view()
  assert.is(buf.readInt32BE(8), buf.length - 12) // batchLength
  assert.is(buf[16], 2) // magic
  assert.is(buf.readInt16BE(21), 3) // attributes: lz4
  assert.is(buf.readBigInt64BE(43), 5n)
  assert.is(buf.readInt32BE(57), 1) // record count
  assert.ok(buf.length > RECORD_BATCH_OVERHEAD)
})

test('encoding rejects what the format cannot carry', () => {
  const w = new Writer()
  const bad: unknown[] = [
    { records: [] },
    { records: [{ value: 'string' }] },
    { records: [{ value: null, key: 5 }] },
    { records: [{ value: null, timestamp: 1.5 }] },
    { records: [{ value: null, timestamp: -2 }] },
    { records: [{ value: null, timestamp: 2 ** 52 }] },
    { records: [{ value: null, timestamp: Number.NaN }] },
    { records: [{ value: null, headers: [{ key: 1, value: null }] }] },
    { records: [{ value: null }], compression: 'brotli' },
    { records: [{ value: null }], compression: 6 },
  ]
  for (const input of bad) {
    assert.throws(
      () => encodeRecordBatch(w, input as Parameters<typeof encodeRecordBatch>[1]),
      (e: unknown) => (e as { code?: string }).code === 'ERR_ENCODE',
      JSON.stringify(input),
    )
  }
})

test('a batch too big for the shared scratch writer still round-trips (and the scratch shrinks back)', () => {
  const records = Array.from({ length: 600 }, (_, i) => ({ key: b(`k${i}`), value: Buffer.alloc(10_000, i) }))
  for (const compression of ['lz4', 'zstd'] as const) {
    const w = new Writer()
    encodeRecordBatch(w, { records, compression })
    const [batch] = decodeRecordBatches(w.view())
    assert.is(batch.records.length, 600)
    assert.ok(batch.records[599].value?.equals(Buffer.alloc(10_000, 599)))
  }
})

test('header keys: thousands of distinct keys (interning cache collisions), long and non-ASCII keys', () => {
  const keys = Array.from({ length: 3000 }, (_, i) =>
    i % 3 === 0 ? `k${i}` : i % 3 === 1 ? `ключ-${i}` : `long-${i}-${'x'.repeat(70)}`,
  )
  const records = keys.map((key, i) => ({ value: null, headers: [{ key, value: Buffer.from([i & 0xff]) }] }))
  for (let round = 0; round < 2; round++) {
    const w = new Writer()
    encodeRecordBatch(w, { records })
    const [batch] = decodeRecordBatches(w.view())
    batch.records.forEach((r, i) => {
      assert.is(r.headers[0].key, keys[i])
      assert.is(r.headers[0].value?.[0], i & 0xff)
    })
  }
  // A key with invalid UTF-8 decodes with replacement characters, consistently.
  const w = new Writer()
  encodeRecordBatch(w, { records: [{ value: null, headers: [{ key: 'ab', value: null }] }] })
  const buf = w.toBuffer()
  const at = buf.lastIndexOf('ab')
  buf[at] = 0xff
  const { crc32c } = crc
  buf.writeUInt32BE(crc32c(buf.subarray(21)), 17)
  assert.is(decodeRecordBatches(buf)[0].records[0].headers[0].key, '\ufffdb')
  assert.is(decodeRecordBatches(buf)[0].records[0].headers[0].key, '\ufffdb')
})

test('decoded batches are plain objects with every field (stable shape)', () => {
  const w = new Writer()
  encodeRecordBatch(w, { records: [{ value: b('x') }] })
  const [batch] = decodeRecordBatches(w.view()) as RecordBatch[]
  assert.equal(Object.keys(batch), Object.keys(decodeRecordBatches(fixture('java-v1-gzip.bin'))[0]))
})

test.run()
