import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  CompressionCodecs,
  type CompressionId,
  CompressionUnavailableError,
  compress,
  compressionCodec,
  decompress,
  isCompressionAvailable,
  optionalPackage,
  registerCompressionCodec,
} from '../../src/protocol/compression.js'
import { crc32c, crc32cImplementation, crc32cSlicing8 } from '../../src/protocol/crc32c.js'
import { DecodeError } from '../../src/protocol/errors.js'
import { CorruptRecordError, decodeRecordBatches } from '../../src/protocol/record-batch.js'

const fixture = (name: string) => readFileSync(new URL(`../fixtures/record-batch/${name}`, import.meta.url))
const isDecodeError = (code: string) => (e: unknown) => e instanceof DecodeError && e.code === code
const CODED: [string, CompressionId][] = [
  ['gzip', 1],
  ['snappy', 2],
  ['lz4', 3],
  ['zstd', 4],
]

/** Compressible but not trivial: repeating text with a counter. */
function sample(size: number): Buffer {
  const out = Buffer.alloc(size)
  let o = 0
  for (let i = 0; o < size; i++) o += out.write(`record-${i % 97}-${'x'.repeat(i % 13)};`, o)
  return out
}

// --------------------------------------------------------------------------------------------- CRC-32C

test('crc32c: check value, known vectors, both implementations agree', () => {
  assert.is(crc32c(Buffer.from('123456789')), 0xe3069283)
  assert.is(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa) // RFC 3720 B.4
  assert.is(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43)
  assert.is(crc32c(Buffer.alloc(0)), 0)
  const data = randomBytes(4099)
  for (const [s, e] of [
    [0, 4099],
    [1, 4098],
    [3, 10],
    [7, 7],
  ]) {
    assert.is(crc32c(data.subarray(s, e)), crc32cSlicing8(data, s, e), `${s}-${e}`)
  }
  assert.ok(crc32cImplementation === 'native' || crc32cImplementation === 'js-slicing8')
})

// ---------------------------------------------------------------------------------------- round trips

for (const [name, id] of CODED) {
  test(`${name}: round trip at sizes around block boundaries`, () => {
    for (const size of [0, 1, 100, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 64 * 1024 + 7, 300_000]) {
      const input = sample(size)
      const packed = compress(id, input)
      assert.ok(decompress(id, packed).equals(input), `${name} ${size}`)
    }
    const noise = randomBytes(100_000) // incompressible: stored blocks
    assert.ok(decompress(id, compress(id, noise)).equals(noise))
  })
}

test('levels: gzip and zstd honour them', () => {
  const input = sample(200_000)
  assert.ok(compress(1, input, 9).length < compress(1, input, 1).length)
  assert.ok(compress(4, input, 19).length < compress(4, input, 1).length)
  for (const level of [1, 9]) assert.ok(decompress(1, compress(1, input, level)).equals(input))
  for (const level of [-5, 1, 3, 19]) assert.ok(decompress(4, compress(4, input, level)).equals(input))
})

test('snappy writes xerial framing like the Java client: header, version 1/1, 32 KiB blocks', () => {
  const input = sample(100_000)
  const packed = compress(2, input)
  assert.is(packed.subarray(0, 8).toString('hex'), '82534e4150505900')
  assert.is(packed.readInt32BE(8), 1)
  assert.is(packed.readInt32BE(12), 1)
  let blocks = 0
  for (let o = 16; o < packed.length; o += 4 + packed.readInt32BE(o)) blocks++
  assert.is(blocks, 4) // ceil(100000 / 32768)
})

test('snappy reads a raw (unframed) block too', async () => {
  const snappy = (await import('snappy')) as unknown as { compressSync(b: Buffer): Buffer }
  const input = sample(5000)
  assert.ok(decompress(2, snappy.compressSync(input)).equals(input))
})

test('lz4 writes the frame format the Java client reads: magic, version 01, independent blocks', () => {
  const packed = compress(3, sample(1000))
  assert.is(packed.readUInt32LE(0), 0x184d2204)
  assert.is(packed[4] >> 6, 1)
  assert.ok(packed[4] & 0x20)
})

test('the Java client payloads decompress (via their batches)', () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    assert.is(decodeRecordBatches(fixture(`java-v2-${codec}.bin`))[0].records.length, 5)
  }
})

// ------------------------------------------------------------------------------------ corrupt payloads

for (const [name, id] of CODED) {
  test(`${name}: corrupt and truncated payloads are DecodeErrors, never raw exceptions`, () => {
    const packed = compress(id, sample(70_000))
    const inputs = [
      Buffer.from('definitely not compressed'),
      Buffer.alloc(0),
      packed.subarray(0, packed.length >> 1),
      packed.subarray(0, 5),
    ]
    const flipped = Buffer.from(packed)
    for (let i = 20; i < flipped.length; i += 97) flipped[i] ^= 0x5a
    inputs.push(flipped)
    for (const input of inputs) {
      try {
        const out = decompress(id, input)
        // A codec without checksums may "succeed" on damaged input: then it must stay within bounds.
        assert.ok(out.length <= 64 * 1024 * 1024)
      } catch (e) {
        assert.ok(e instanceof DecodeError, `${name}: ${e}`)
        assert.ok((e as DecodeError).code.startsWith('ERR_DECOMPRESS'), (e as DecodeError).code)
      }
    }
  })
}

test('unknown codec ids are DecodeErrors on decompress', () => {
  for (const id of [5, 6, 7, -1, 42])
    assert.throws(() => decompress(id, Buffer.alloc(4)), isDecodeError('ERR_DECOMPRESS'))
})

// ------------------------------------------------------------------------------------ decompression bombs

for (const [name, id] of CODED) {
  test(`${name}: output beyond maxSize is refused (ERR_DECOMPRESS_LIMIT)`, () => {
    const zeros = Buffer.alloc(8 * 1024 * 1024)
    const packed = compress(id, zeros)
    assert.ok(packed.length < 1024 * 1024, `${name} compresses zeros (${packed.length})`)
    assert.throws(() => decompress(id, packed, 1024 * 1024), isDecodeError('ERR_DECOMPRESS_LIMIT'))
    assert.is(decompress(id, packed, 8 * 1024 * 1024).length, zeros.length)
  })
}

test('bomb guards are checked before decompressing: forged headers claiming huge outputs', () => {
  // raw snappy whose length prefix claims 2^32-1 bytes
  assert.throws(
    () => decompress(2, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]), 1 << 20),
    isDecodeError('ERR_DECOMPRESS_LIMIT'),
  )
  // xerial framing with a block claiming 1 GiB
  const x = Buffer.from(compress(2, Buffer.from('abc')))
  const forged = Buffer.concat([x.subarray(0, 16), Buffer.from([0, 0, 0, 6, 0x80, 0x80, 0x80, 0x80, 0x04, 0])])
  assert.throws(() => decompress(2, forged, 1 << 20), isDecodeError('ERR_DECOMPRESS_LIMIT'))
  // zstd: many tiny RLE blocks each claiming 128 KiB
  const z = Buffer.alloc(4 + 2 + 100 * 4)
  z.writeUInt32LE(0xfd2fb528, 0)
  z[4] = 0x00 // no FCS, not single segment
  z[5] = 0x58 // window descriptor
  for (let i = 0; i < 100; i++) {
    const header = ((128 * 1024) << 3) | (1 << 1) | (i === 99 ? 1 : 0) // RLE block of 128 KiB
    const o = 6 + i * 4
    z[o] = header & 0xff
    z[o + 1] = (header >> 8) & 0xff
    z[o + 2] = (header >> 16) & 0xff
    z[o + 3] = 0
  }
  assert.throws(() => decompress(4, z, 1 << 20), isDecodeError('ERR_DECOMPRESS_LIMIT'))
  // lz4 frame of 64 KiB stored blocks
  const blocks = 40
  const l = Buffer.alloc(7 + blocks * (4 + 65536) + 4)
  l.writeUInt32LE(0x184d2204, 0)
  l[4] = 0x60
  l[5] = 0x40
  l[6] = 0x82 // header checksum (not checked by the bound walk)
  for (let i = 0; i < blocks; i++) l.writeUInt32LE((0x80000000 | 65536) >>> 0, 7 + i * 65540)
  assert.throws(() => decompress(3, l, 1 << 20), isDecodeError('ERR_DECOMPRESS_LIMIT'))
})

test('a compressed batch above maxDecompressedBytes is a CorruptRecordError naming the limit', async () => {
  const { encodeRecordBatch } = await import('../../src/protocol/record-batch.js')
  const { Writer } = await import('../../src/protocol/writer.js')
  const w = new Writer()
  encodeRecordBatch(w, { records: [{ value: Buffer.alloc(4 * 1024 * 1024) }], compression: 'zstd' })
  assert.throws(
    () => decodeRecordBatches(w.view(), { topic: 'big', partition: 1, maxDecompressedBytes: 1024 * 1024 }),
    (e: unknown) =>
      e instanceof CorruptRecordError && e.code === 'ERR_DECOMPRESS_LIMIT' && e.topic === 'big' && e.partition === 1,
  )
  assert.is(decodeRecordBatches(w.view()).length, 1)
})

// ------------------------------------------------------------------------------- missing native codecs

test('a missing package is a CompressionUnavailableError naming it, and fails only the batches that need it', () => {
  const load = optionalPackage<{ decompress(b: Buffer): Buffer }>('zstd', 'kafka-wire-no-such-zstd-package')
  assert.throws(
    () => load(),
    (e: unknown) =>
      e instanceof CompressionUnavailableError &&
      e.code === 'ERR_COMPRESSION_UNAVAILABLE' &&
      e.packageName === 'kafka-wire-no-such-zstd-package' &&
      /npm install kafka-wire-no-such-zstd-package/.test(e.message),
  )
  const builtin = compressionCodec(CompressionCodecs.zstd)
  registerCompressionCodec({
    id: 4,
    name: 'zstd',
    packageName: 'kafka-wire-no-such-zstd-package',
    compress: (input) => load().decompress(input),
    decompress: (input) => load().decompress(input),
  })
  try {
    assert.is(isCompressionAvailable(4), true) // a registered codec is trusted to be there
    assert.throws(
      () => decodeRecordBatches(fixture('java-v2-zstd.bin'), { topic: 'z', partition: 2 }),
      (e: unknown) => e instanceof CompressionUnavailableError && e.topic === 'z' && e.partition === 2,
    )
    assert.throws(
      () => compress(4, Buffer.from('x')),
      (e: unknown) => e instanceof CompressionUnavailableError,
    )
    assert.is(decodeRecordBatches(fixture('java-v2-lz4.bin'))[0].records.length, 5)
    assert.is(decodeRecordBatches(fixture('java-v2-none.bin'))[0].records.length, 5)
  } finally {
    registerCompressionCodec(builtin)
  }
  assert.is(decodeRecordBatches(fixture('java-v2-zstd.bin'))[0].records.length, 5)
  for (const id of [0, 1, 2, 3, 4] as const) assert.is(isCompressionAvailable(id), true)
})

test.run()
