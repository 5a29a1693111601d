// Hostile input for the record batch decoder: every failure must be a DecodeError (a CorruptRecordError naming
// the topic, partition and base offset), never a RangeError, a hang or a huge allocation.
import { readdirSync, readFileSync } from 'node:fs'
import { crc32 } from 'node:zlib'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { crc32c } from '../../src/protocol/crc32c.js'
import { DecodeError } from '../../src/protocol/errors.js'
import {
  CorruptRecordError,
  type DecodeRecordBatchesOptions,
  decodeRecordBatches,
  encodeRecordBatch,
  type RecordBatchInput,
} from '../../src/protocol/record-batch.js'
import { Writer } from '../../src/protocol/writer.js'

const FIXTURES = new URL('../fixtures/record-batch/', import.meta.url)
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES))
const OPTS = { topic: 'orders', partition: 3 }

function encode(input: RecordBatchInput): Buffer {
  const w = new Writer()
  encodeRecordBatch(w, input, { now: 1_700_000_000_000 })
  return w.toBuffer()
}

/** Recompute the CRC-32C of the v2 batch at `start` (so a mutation reaches the parser behind the CRC). */
function fixCrc(buf: Buffer, start = 0): Buffer {
  const end = start + 12 + buf.readInt32BE(start + 8)
  if (end <= buf.length && end >= start + 21) buf.writeUInt32BE(crc32c(buf.subarray(start + 21, end)), start + 17)
  return buf
}

/** A valid batch header (from our encoder) around arbitrary record bytes and record count, CRC fixed. */
function withRecords(records: Buffer, count: number, attributes = 0): Buffer {
  const header = Buffer.from(encode({ records: [{ value: null }] }).subarray(0, 61))
  header.writeInt16BE(attributes, 21)
  header.writeInt32BE(count, 57)
  const buf = Buffer.concat([header, records])
  buf.writeInt32BE(buf.length - 12, 8)
  return fixCrc(buf)
}

function expectCorrupt(
  buf: Buffer,
  code = 'ERR_CORRUPT_RECORD',
  baseOffset?: bigint,
  opts: DecodeRecordBatchesOptions = OPTS,
) {
  try {
    decodeRecordBatches(buf, opts)
  } catch (e) {
    assert.ok(e instanceof CorruptRecordError, `not a CorruptRecordError: ${e}`)
    assert.ok(e instanceof DecodeError)
    assert.is(e.code, code, e.message)
    assert.is(e.topic, opts.topic)
    assert.is(e.partition, opts.partition)
    if (baseOffset !== undefined) assert.is(e.baseOffset, baseOffset)
    return e
  }
  throw new Error('decoded without an error')
}

// ----------------------------------------------------------------------------------------------- CRC

test('CRC mismatch: CorruptRecordError naming topic, partition and base offset; verifyCrc:false skips it', () => {
  const buf = Buffer.from(fixture('java-v2-none.bin'))
  const at = buf.indexOf('value-0')
  buf[at] = 'V'.charCodeAt(0)
  const e = expectCorrupt(buf, 'ERR_CORRUPT_RECORD', 100n)
  assert.match(e.message, /CRC-32C mismatch/)
  assert.match(e.message, /orders-3/)
  assert.match(e.message, /offset 100/)
  const [batch] = decodeRecordBatches(buf, { verifyCrc: false })
  assert.is(batch.records[0].value?.toString(), 'Value-0')
})

test('the CRC covers attributes..end but not the partition leader epoch (as in Kafka)', () => {
  const attrs = Buffer.from(fixture('java-v2-none.bin'))
  attrs[22] ^= 0x10 // transactional flag
  expectCorrupt(attrs, 'ERR_CORRUPT_RECORD', 100n)
  const epoch = Buffer.from(fixture('java-v2-none.bin'))
  epoch.writeInt32BE(77, 12)
  assert.is(decodeRecordBatches(epoch)[0].partitionLeaderEpoch, 77)
})

test('legacy message CRC-32 mismatch is a CorruptRecordError too', () => {
  for (const name of ['java-v1-none.bin', 'java-v0-gzip.bin']) {
    const buf = Buffer.from(fixture(name))
    buf[buf.length - 1] ^= 1
    const e = expectCorrupt(buf, 'ERR_CORRUPT_RECORD')
    assert.match(e.message, /CRC-32 mismatch/)
  }
})

// ----------------------------------------------------------------------------------------- framing

test('a batch truncated in the middle of a fetch (its length swallowing the next) is corrupt, not skipped', () => {
  const three = fixture('java-v2-three-batches.bin')
  const first = 12 + three.readInt32BE(8)
  // the middle batch loses 10 bytes: its length now runs into the third batch
  const spliced = Buffer.concat([three.subarray(0, first + 70), three.subarray(first + 80)])
  expectCorrupt(spliced, 'ERR_CORRUPT_RECORD', 32n)
  // the first batch claims 5 bytes more or less than it has (CRC recomputed: the parser must catch it)
  for (const delta of [5, -5]) {
    const buf = Buffer.from(three)
    buf.writeInt32BE(buf.readInt32BE(8) + delta, 8)
    expectCorrupt(fixCrc(buf), 'ERR_CORRUPT_RECORD', 30n)
  }
})

test('impossible batch lengths: negative, zero, shorter than the header', () => {
  for (const length of [-1, -2147483648, 0, 13, 48]) {
    const buf = Buffer.from(fixture('java-v2-none.bin'))
    buf.writeInt32BE(length, 8)
    const e = expectCorrupt(buf, 'ERR_CORRUPT_RECORD', 100n)
    assert.match(e.message, /declares/)
  }
})

test('a length beyond the buffer is the partial batch at the end of a fetch: earlier batches are returned', () => {
  const three = Buffer.from(fixture('java-v2-three-batches.bin'))
  const second = 12 + three.readInt32BE(8)
  three.writeInt32BE(0x7fffffff, second + 8)
  assert.equal(
    decodeRecordBatches(three).map((b) => b.baseOffset),
    [30n],
  )
  assert.equal(decodeRecordBatches(Buffer.alloc(16)), []) // fewer bytes than a batch header's magic
})

test('unknown magic bytes are corrupt', () => {
  for (const magic of [3, 0x7f, 0xff]) {
    const buf = Buffer.from(fixture('java-v2-none.bin'))
    buf[16] = magic
    assert.match(expectCorrupt(buf, 'ERR_CORRUPT_RECORD', 100n).message, /magic/)
  }
})

// -------------------------------------------------------------------------------------------- counts

test('record count 2^31-1 in a small batch throws at once, allocating nothing large', () => {
  const small = encode({ records: [{ key: Buffer.from('k'), value: Buffer.from('v') }] })
  for (const compression of ['none', 'lz4'] as const) {
    const buf = Buffer.from(compression === 'none' ? small : encode({ records: [{ value: null }], compression }))
    buf.writeInt32BE(0x7fffffff, 57)
    fixCrc(buf)
    const heap = process.memoryUsage().heapUsed
    const t0 = performance.now()
    const e = expectCorrupt(buf)
    assert.ok(performance.now() - t0 < 50, 'fast')
    assert.ok(process.memoryUsage().heapUsed - heap < 16 * 1024 * 1024, 'no big allocation')
    assert.match(e.message, /cannot fit/)
  }
})

test('record counts that disagree with the records: negative, one too many, one too few', () => {
  const buf = encode({ records: [{ value: Buffer.from('a') }, { value: Buffer.from('b') }] })
  for (const count of [-1, 3, 1]) {
    const mutated = Buffer.from(buf)
    mutated.writeInt32BE(count, 57)
    expectCorrupt(fixCrc(mutated))
  }
})

// ------------------------------------------------------------------------------------------- records

test('hostile record fields: lengths, key/value/header sizes, over-long varints', () => {
  const records: [string, Buffer][] = [
    ['negative record length', Buffer.from([0x01, 0, 0, 0, 1, 1, 0])],
    ['record length past the batch', Buffer.from([0x7e, 0, 0, 0, 1, 1, 0])],
    ['record length below the minimum', Buffer.from([0x02, 0, 0, 0, 1, 1, 0])],
    ['key length -2', Buffer.from([0x0c, 0, 0, 0, 0x03, 1, 0])],
    ['key length past the record', Buffer.from([0x0c, 0, 0, 0, 0x40, 1, 0])],
    ['value length -5', Buffer.from([0x0c, 0, 0, 0, 1, 0x09, 0])],
    ['negative header count', Buffer.from([0x0c, 0, 0, 0, 1, 1, 0x01])],
    ['header count past the record', Buffer.from([0x0c, 0, 0, 0, 1, 1, 0x7e])],
    ['negative header key length', Buffer.from([0x10, 0, 0, 0, 1, 1, 0x02, 0x01, 0x01])],
    ['record longer than its fields', Buffer.from([0x0e, 0, 0, 0, 1, 1, 0, 0])],
    ['varint over 32 bits', Buffer.from([0x12, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 1, 0])],
    ['varlong over 2^53', Buffer.from([0x1a, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 1, 1, 0])],
    ['varint running off the end', Buffer.from([0x80, 0x80, 0x80])],
    ['8-byte varlong above 2^53', Buffer.from([0x1a, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 1, 1, 0])],
  ]
  for (const [what, bytes] of records) {
    const buf = withRecords(bytes, 1)
    try {
      decodeRecordBatches(buf, OPTS)
      assert.unreachable(what)
    } catch (e) {
      assert.ok(e instanceof CorruptRecordError, `${what}: ${e}`)
      assert.is(e.code, 'ERR_CORRUPT_RECORD', what)
      assert.is(e.topic, 'orders')
    }
  }
  // sanity: the minimal valid record (null key and value, no headers) decodes
  const ok = decodeRecordBatches(withRecords(Buffer.from([0x0c, 0, 0, 0, 1, 1, 0]), 1))
  assert.is(ok[0].records[0].key, null)
})

test('unknown compression ids in attributes (5-7) are corrupt', () => {
  for (const codec of [5, 6, 7]) expectCorrupt(withRecords(Buffer.from([0x0c, 0, 0, 0, 1, 1, 0]), 1, codec))
})

test('control batch whose record key is too short to name a control type', () => {
  const buf = encode({ records: [{ key: Buffer.from([0, 0]), value: null }], isControl: true })
  expectCorrupt(buf)
})

// -------------------------------------------------------------------------------------- compression

test('corrupt compressed payload behind a valid CRC: CorruptRecordError with code ERR_DECOMPRESS', () => {
  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const buf = encode({ records: [{ value: Buffer.alloc(5000, 'z') }, { value: Buffer.from('end') }], compression })
    buf.fill(0x55, 61 + 4, 61 + 24)
    fixCrc(buf)
    try {
      decodeRecordBatches(buf, OPTS)
      assert.unreachable(compression)
    } catch (e) {
      assert.ok(e instanceof CorruptRecordError, `${compression}: ${e}`)
      assert.ok(['ERR_DECOMPRESS', 'ERR_CORRUPT_RECORD'].includes(e.code), `${compression}: ${e.code}`)
      assert.is(e.baseOffset, 0n)
      assert.is(e.partition, 3)
    }
    // truncated payload
    const cut = Buffer.from(buf.subarray(0, buf.length - 7))
    cut.writeInt32BE(cut.length - 12, 8)
    assert.throws(
      () => decodeRecordBatches(fixCrc(cut), OPTS),
      (e: unknown) => e instanceof CorruptRecordError,
    )
  }
})

// --------------------------------------------------------------------------------------------- fuzz

/** mulberry32: a small fixed-seed PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

test('fuzz: 2000 mutated batches only ever decode or throw DecodeError', () => {
  const seeds: Buffer[] = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.bin'))
    .map((f) => fixture(f))
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    seeds.push(
      encode({
        compression,
        records: [
          { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }] },
          { key: null, value: Buffer.alloc(0), headers: [{ key: 'n', value: null }] },
          { key: Buffer.alloc(0), value: null, timestamp: 5 },
        ],
      }),
    )
  }
  const rand = prng(0x5eed)
  const int = (n: number) => Math.floor(rand() * n)
  const t0 = performance.now()
  let decoded = 0
  let rejected = 0
  for (let i = 0; i < 2000; i++) {
    let buf = Buffer.from(seeds[int(seeds.length)])
    const kind = int(6)
    if (kind === 0) {
      for (let n = 1 + int(4); n > 0; n--) buf[int(buf.length)] ^= 1 << int(8)
    } else if (kind === 1) {
      buf[int(buf.length)] = [0x00, 0xff, 0x7f, 0x80, 0x01][int(5)]
    } else if (kind === 2) {
      buf = buf.subarray(0, int(buf.length + 1))
    } else if (kind === 3) {
      const at = int(buf.length)
      const len = int(16)
      buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + len), buf.subarray(at)])
    } else if (kind === 4 && buf.length >= 4) {
      buf.writeInt32BE([0x7fffffff, -1, 0x80000000 | 0, int(1 << 20), -int(1000)][int(5)], int(buf.length - 3))
    } else {
      // mutate behind the checksum: past the header, then fix the CRC so the record parser sees it
      const at = 61 + int(Math.max(1, buf.length - 61))
      if (at < buf.length) buf[at] ^= 1 + int(255)
    }
    // Half of the time, make the checksum agree so mutations reach the parsers behind it.
    if (rand() < 0.5 && buf.length >= 21) {
      if (buf[16] === 2) fixCrc(buf)
      else if (buf.length >= 16 + 1 && buf.readInt32BE(8) >= 14 && 12 + buf.readInt32BE(8) <= buf.length) {
        buf.writeUInt32BE(crc32(buf.subarray(16, 12 + buf.readInt32BE(8))) >>> 0, 12)
      }
    }
    for (const verifyCrc of [true, false]) {
      try {
        const batches = decodeRecordBatches(buf, { ...OPTS, verifyCrc, maxDecompressedBytes: 1 << 20 })
        for (const b of batches) for (const r of b.records) assert.is(typeof r.offset, 'bigint')
        decoded++
      } catch (e) {
        if (!(e instanceof DecodeError)) {
          throw new Error(`iteration ${i} (kind ${kind}): ${e} on ${buf.toString('hex')}`)
        }
        rejected++
      }
    }
  }
  const ms = performance.now() - t0
  assert.ok(ms < 3000, `fuzz took ${ms} ms`)
  assert.ok(decoded > 100 && rejected > 100, `decoded ${decoded}, rejected ${rejected}`)
})

test.run()
