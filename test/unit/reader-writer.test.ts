import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DecodeError, EncodeError } from '../../src/protocol/errors.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (b: Buffer) => b.toString('hex')
const bytes = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex')

function written(fn: (w: Writer) => void, initial = 1): Buffer {
  const w = new Writer(initial)
  fn(w)
  return w.toBuffer()
}

// Reference LEB128 / zigzag in BigInt, independent of the code under test (Kafka ByteUtils semantics:
// unsigned varint = 7 bits per byte, low group first, high bit = more; zigzag = (v << 1) ^ (v >> 63)).
function leb128(u: bigint): string {
  const out: number[] = []
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80)
    u >>= 7n
  }
  out.push(Number(u))
  return Buffer.from(out).toString('hex')
}
const zigzag64 = (v: bigint) => BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))

function throwsDecode(fn: () => unknown, what: string, pattern?: RegExp): void {
  try {
    fn()
  } catch (e) {
    assert.instance(e, DecodeError, `${what}: threw ${e instanceof Error ? e.constructor.name : e}: ${e}`)
    if (pattern) assert.match((e as Error).message, pattern, what)
    return
  }
  assert.unreachable(`${what}: did not throw`)
}

// ---------------------------------------------------------------------------------------------
// Fixed-width primitives

test('fixed-width primitives round-trip at their edges', () => {
  const b = written((w) => {
    w.int8(-128).int8(127).int8(-1).boolean(true).boolean(false)
    w.int16(-32768).int16(32767).uint16(0).uint16(65535)
    w.int32(-0x80000000).int32(0x7fffffff).uint32(0).uint32(0xffffffff)
    w.int64(-(2n ** 63n))
      .int64(2n ** 63n - 1n)
      .int64(-1n)
    w.int64n(-1)
      .int64n(2 ** 53 - 1)
      .int64n(-(2 ** 53 - 1))
      .int64n(0x1_0000_0000)
    w.float64(Math.PI).float64(-0).float64(Number.POSITIVE_INFINITY)
  })
  const r = new Reader(b)
  assert.equal([r.int8(), r.int8(), r.int8(), r.boolean(), r.boolean()], [-128, 127, -1, true, false])
  assert.equal([r.int16(), r.int16(), r.uint16(), r.uint16()], [-32768, 32767, 0, 65535])
  assert.equal([r.int32(), r.int32(), r.uint32(), r.uint32()], [-0x80000000, 0x7fffffff, 0, 0xffffffff])
  assert.equal([r.int64(), r.int64(), r.int64()], [-(2n ** 63n), 2n ** 63n - 1n, -1n])
  assert.equal([r.int64n(), r.int64n(), r.int64n(), r.int64n()], [-1, 2 ** 53 - 1, -(2 ** 53 - 1), 0x1_0000_0000])
  assert.is(r.float64(), Math.PI)
  assert.ok(Object.is(r.float64(), -0))
  assert.is(r.float64(), Number.POSITIVE_INFINITY)
  r.expectEnd()
})

test('fixed-width primitives are big-endian', () => {
  assert.is(hex(written((w) => w.int16(0x0102))), '0102')
  assert.is(hex(written((w) => w.int32(-2))), 'fffffffe')
  assert.is(hex(written((w) => w.int64(0x0102030405060708n))), '0102030405060708')
  assert.is(hex(written((w) => w.int64n(-2))), 'fffffffffffffffe')
  assert.is(hex(written((w) => w.float64(1))), '3ff0000000000000')
})

test('a boolean is any non-zero byte', () => {
  assert.is(new Reader(bytes('02')).boolean(), true)
  assert.is(new Reader(bytes('ff')).boolean(), true)
  assert.is(new Reader(bytes('00')).boolean(), false)
})

// ---------------------------------------------------------------------------------------------
// Varints

test('unsigned varints: known bytes and extremes', () => {
  const cases: Array<[number, string]> = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2 ** 31 - 1, 'ffffffff07'],
    [2 ** 32 - 1, 'ffffffff0f'],
  ]
  for (const [v, h] of cases) {
    assert.is(hex(written((w) => w.uvarint(v))), h, `uvarint ${v}`)
    assert.is(leb128(BigInt(v)), h, `reference ${v}`)
    const r = new Reader(bytes(h))
    assert.is(r.uvarint(), v)
    r.expectEnd()
  }
})

test('zigzag varints: known bytes and extremes', () => {
  const cases: Array<[number, string]> = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-2, '03'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [300, 'd804'],
    [-300, 'd704'],
    [2 ** 31 - 1, 'feffffff0f'],
    [-(2 ** 31), 'ffffffff0f'],
  ]
  for (const [v, h] of cases) {
    assert.is(hex(written((w) => w.varint(v))), h, `varint ${v}`)
    assert.is(leb128(zigzag64(BigInt(v))), h, `reference ${v}`)
    const r = new Reader(bytes(h))
    assert.is(r.varint(), v, `read ${h}`)
    r.expectEnd()
  }
})

test('varlong (number): exact up to ±(2^53 - 1), same bytes as the BigInt form', () => {
  const values = [
    0,
    -1,
    1,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 40 + 3,
    -(2 ** 40) - 3,
    2 ** 52 - 1,
    -(2 ** 52) + 1,
    2 ** 52,
    -(2 ** 52),
    2 ** 52 + 1,
    -(2 ** 52) - 1,
    2 ** 53 - 2,
    -(2 ** 53) + 2,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    1_700_000_000_000,
  ]
  for (const v of values) {
    const expected = leb128(zigzag64(BigInt(v)))
    assert.is(hex(written((w) => w.varlong(v))), expected, `varlong ${v}`)
    const r = new Reader(bytes(expected))
    assert.is(r.varlong(), v, `read varlong ${v}`)
    r.expectEnd()
  }
})

test('varlong (number) refuses what a number cannot hold', () => {
  // zigzag(2^53) needs 8 bytes and is beyond the safe range
  throwsDecode(() => new Reader(bytes(leb128(zigzag64(2n ** 53n)))).varlong(), 'read 2^53', /beyond 2\^53/)
  throwsDecode(() => new Reader(bytes(leb128(zigzag64(-(2n ** 53n))))).varlong(), 'read -2^53', /beyond 2\^53/)
  throwsDecode(() => new Reader(bytes(leb128(zigzag64(2n ** 62n)))).varlong(), 'read 2^62')
  assert.throws(
    () => new Writer().varlong(2 ** 53),
    (e: unknown) => e instanceof EncodeError,
  )
  assert.throws(
    () => new Writer().varlong(1.5e10 + 0.5),
    (e: unknown) => e instanceof EncodeError,
  )
})

test('varlongBig: the full int64 range', () => {
  const values = [0n, -1n, 1n, 300n, -(2n ** 31n), 2n ** 53n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n)]
  for (const v of values) {
    const expected = leb128(zigzag64(v))
    assert.is(hex(written((w) => w.varlongBig(v))), expected, `varlongBig ${v}`)
    const r = new Reader(bytes(expected))
    assert.is(r.varlongBig(), v)
    r.expectEnd()
  }
  assert.is(hex(written((w) => w.varlongBig(2n ** 63n - 1n))), 'feffffffffffffffff01')
  assert.is(hex(written((w) => w.varlongBig(-(2n ** 63n)))), 'ffffffffffffffffff01')
})

test('over-long varints are rejected', () => {
  throwsDecode(() => new Reader(bytes('ffffffffff01')).uvarint(), '6-byte uvarint', /longer than 32 bits/)
  throwsDecode(() => new Reader(bytes('ffffffff1f')).uvarint(), '5-byte uvarint beyond 2^32')
  throwsDecode(() => new Reader(bytes('ffffffffff01')).varint(), '6-byte varint')
  throwsDecode(() => new Reader(bytes('ffffffffffffffff01')).varlong(), '9-byte varlong')
  throwsDecode(() => new Reader(bytes('ffffffffffffffffffff01')).varlongBig(), '11-byte varlong')
})

// ---------------------------------------------------------------------------------------------
// Strings, bytes, arrays: classic vs compact

test('strings: classic int16 length vs compact uvarint length + 1, and nulls', () => {
  assert.is(hex(written((w) => w.string('abc', false))), '0003616263')
  assert.is(hex(written((w) => w.string('abc', true))), '04616263')
  assert.is(hex(written((w) => w.string('', false))), '0000')
  assert.is(hex(written((w) => w.string('', true))), '01')
  assert.is(hex(written((w) => w.nullableString(null, false))), 'ffff')
  assert.is(hex(written((w) => w.nullableString(null, true))), '00')
  assert.is(hex(written((w) => w.nullableString(undefined, true))), '00')
  // Lengths count UTF-8 bytes, not characters.
  assert.is(hex(written((w) => w.string('é€', false))), '0005c3a9e282ac')
  assert.is(hex(written((w) => w.string('😀', true))), '05f09f9880')

  const r = new Reader(bytes('0003616263 04616263 ffff 00 0005c3a9e282ac 01'))
  assert.is(r.string(false), 'abc')
  assert.is(r.string(true), 'abc')
  assert.is(r.nullableString(false), null)
  assert.is(r.nullableString(true), null)
  assert.is(r.nullableString(false), 'é€')
  assert.is(r.string(true), '')
  r.expectEnd()
})

test('a classic string longer than int16 allows is an EncodeError', () => {
  assert.throws(
    () => new Writer().string('x'.repeat(0x8000), false),
    (e: unknown) => e instanceof EncodeError,
  )
  assert.is(new Writer().string('x'.repeat(0x7fff), false).offset, 0x7fff + 2)
  assert.is(new Writer().string('x'.repeat(0x8000), true).offset, 0x8000 + 3)
})

test('bytes: classic int32 length vs compact, nulls, and views', () => {
  const data = bytes('0a0b0c')
  assert.is(hex(written((w) => w.bytes(data, false))), '000000030a0b0c')
  assert.is(hex(written((w) => w.bytes(data, true))), '040a0b0c')
  assert.is(hex(written((w) => w.nullableBytes(null, false))), 'ffffffff')
  assert.is(hex(written((w) => w.nullableBytes(null, true))), '00')
  const buf = bytes('000000030a0b0c 040a0b0c ffffffff 00')
  const r = new Reader(buf)
  const a = r.bytes(false)
  assert.is(hex(a), '0a0b0c')
  assert.is(a.buffer, buf.buffer, 'bytes are a view into the frame')
  assert.is(hex(r.bytes(true)), '0a0b0c')
  assert.is(r.nullableBytes(false), null)
  assert.is(r.nullableBytes(true), null)
  r.expectEnd()
})

test('arrays: classic int32 count vs compact count + 1, and null arrays', () => {
  assert.is(hex(written((w) => w.arrayLength(2, false))), '00000002')
  assert.is(hex(written((w) => w.arrayLength(2, true))), '03')
  assert.is(hex(written((w) => w.arrayLength(0, true))), '01')
  assert.is(hex(written((w) => w.nullableArrayLength(null, false))), 'ffffffff')
  assert.is(hex(written((w) => w.nullableArrayLength(null, true))), '00')
  const r = new Reader(bytes('00000002 0000 03 0000 ffffffff 00'))
  assert.is(r.arrayLength(false), 2)
  r.skip(2)
  assert.is(r.arrayLength(true), 2)
  r.skip(2)
  assert.is(r.nullableArrayLength(false), -1)
  assert.is(r.nullableArrayLength(true), -1)
  r.expectEnd()
})

// ---------------------------------------------------------------------------------------------
// UUIDs

test('UUIDs in Kafka text form: 22 chars of unpadded base64url', () => {
  const raw = bytes('000102030405060708090a0b0c0d0e0f')
  const text = 'AAECAwQFBgcICQoLDA0ODw'
  assert.is(hex(written((w) => w.uuid(text))), hex(raw))
  assert.is(hex(written((w) => w.uuid(raw))), hex(raw))
  assert.is(new Reader(raw).uuid(), text)
  // URL-safe alphabet: 0xfb 0xff -> '-' and '_'
  const urlSafe = bytes('fbfffffbfffffbfffffbfffffbfffffb')
  const t = new Reader(urlSafe).uuid()
  assert.is(t.length, 22)
  assert.ok(/^[A-Za-z0-9_-]{22}$/.test(t) && /[-_]/.test(t), t)
  assert.is(hex(written((w) => w.uuid(t))), hex(urlSafe))
  // The zero UUID, and null/undefined written as zero.
  assert.is(new Reader(Buffer.alloc(16)).uuid(), 'AAAAAAAAAAAAAAAAAAAAAA')
  assert.is(hex(written((w) => w.uuid(null))), '00'.repeat(16))
  assert.is(hex(written((w) => w.uuid(undefined))), '00'.repeat(16))
  for (const bad of ['AAAA', 'AAECAwQFBgcICQoLDA0ODw==', `${text}A`, Buffer.alloc(15)]) {
    assert.throws(
      () => new Writer().uuid(bad),
      (e: unknown) => e instanceof EncodeError,
      String(bad),
    )
  }
})

// ---------------------------------------------------------------------------------------------
// Tagged fields

test('tagged fields: empty section, small sizes, and sizes that need a 2- or 3-byte varint', () => {
  assert.is(hex(written((w) => w.emptyTaggedFields())), '00')
  for (const size of [0, 1, 127, 128, 200, 16383, 16384, 70000]) {
    const payload = Buffer.alloc(size, 7)
    // A small initial buffer, so widening the size prefix also has to grow the buffer.
    const b = written((w) => {
      w.int8(0x55)
      w.taggedFields([
        [0, (t) => t.raw(payload)],
        [5, (t) => t.int32(0x01020304)],
      ])
      w.int8(0x66)
    }, 4)
    const expected = `55 02 00 ${leb128(BigInt(size))} ${hex(payload)} 05 04 01020304 66`.replace(/ /g, '')
    assert.is(hex(b), expected, `size ${size}`)
    const r = new Reader(b)
    assert.is(r.int8(), 0x55)
    const seen: Array<[number, number]> = []
    r.taggedFields((tag, t) => {
      if (tag === 0) {
        const got = t.raw(t.remaining)
        assert.ok(got.equals(payload))
        seen.push([tag, got.length])
        return true
      }
      seen.push([tag, t.int32()])
      return true
    })
    assert.equal(seen, [
      [0, size],
      [5, 0x01020304],
    ])
    assert.is(r.int8(), 0x66)
    r.expectEnd()
  }
})

test('tagged fields: nested sections widen correctly', () => {
  const inner = Buffer.alloc(150, 1)
  const b = written((w) =>
    w.taggedFields([
      [
        1,
        (t) =>
          t.taggedFields([
            [2, (u) => u.raw(inner)],
            [3, (u) => u.raw(inner)],
          ]),
      ],
    ]),
  )
  const r = new Reader(b)
  const got: Buffer[] = []
  r.taggedFields((tag, t) => {
    assert.is(tag, 1)
    t.taggedFields((_tag2, u) => {
      got.push(u.raw(u.remaining))
      return true
    })
    t.expectEnd('tag 1')
    return true
  })
  r.expectEnd()
  assert.is(got.length, 2)
  assert.ok(got.every((g) => g.equals(inner)))
})

test('tagged fields: unknown tags are skipped, bounds are enforced', () => {
  const b = bytes('03 01 02 aaaa 04 01 07 09 03 616263 ff')
  const r = new Reader(b)
  const seen: number[] = []
  r.taggedFields((tag, t) => {
    seen.push(tag)
    if (tag === 4) {
      assert.is(t.int8(), 7)
      return true
    }
    return false // unknown: skipped whatever was read
  })
  assert.equal(seen, [1, 4, 9])
  assert.is(r.uint8(), 0xff)
  r.expectEnd()

  // A reader inside a tag cannot read past the tag's declared size.
  throwsDecode(
    () =>
      new Reader(bytes('01 01 02 0000 ffffffff')).taggedFields((_tag, t) => {
        t.int32()
        return true
      }),
    'read past a tag',
  )
  throwsDecode(() => new Reader(bytes('01 01 09 00')).taggedFields(() => true), 'size past the end')
  throwsDecode(() => new Reader(bytes('02 05 00 03 00')).taggedFields(() => true), 'tags out of order', /order/)
  new Reader(bytes('02 01 00 03 01 00')).skipTaggedFields()
  throwsDecode(() => new Reader(bytes('01 01 05 00')).skipTaggedFields(), 'skip past the end')
})

// ---------------------------------------------------------------------------------------------
// Writer mechanics

test('reserve and patch', () => {
  const w = new Writer(2)
  const at = w.reserveInt32()
  w.string('hello', true)
  w.patchInt32(at, w.offset - at - 4)
  const u = w.reserve(4)
  w.patchUint32(u, 0xfffffffe)
  const r = new Reader(w.toBuffer())
  assert.is(r.int32(), 6)
  assert.is(r.string(true), 'hello')
  assert.is(r.uint32(), 0xfffffffe)
  r.expectEnd()
})

test('the buffer grows across many writes and keeps everything', () => {
  const w = new Writer(1)
  for (let i = 0; i < 20000; i++)
    w.int32(i)
      .varint(-i)
      .string(`s${i}`, (i & 1) === 1)
  const r = new Reader(w.toBuffer())
  for (let i = 0; i < 20000; i++) {
    assert.is(r.int32(), i)
    assert.is(r.varint(), -i)
    assert.is(r.string((i & 1) === 1), `s${i}`)
  }
  r.expectEnd()
  assert.ok(w.buf.length < w.offset * 3, 'growth stays geometric, not excessive')
})

test('view, toBuffer and reset', () => {
  const w = new Writer(8)
  w.int16(1)
  const owned = w.toBuffer()
  const view = w.view()
  w.reset().int16(2)
  assert.is(hex(owned), '0001')
  assert.is(hex(view), '0002', 'a view sees later writes')
  assert.is(w.offset, 2)
})

test('expectEnd', () => {
  const r = new Reader(bytes('0001 02'))
  r.int16()
  throwsDecode(() => r.expectEnd(), 'one byte left', /1 unread bytes/)
  r.int8()
  r.expectEnd()
  // A reader over a window of a buffer ends at the window.
  const w = new Reader(bytes('ff 0102 ff'), 1, 3)
  assert.is(w.int16(), 0x0102)
  w.expectEnd()
  throwsDecode(() => w.int8(), 'past the window')
})

// ---------------------------------------------------------------------------------------------
// Hostile input

test('every read on a short buffer throws DecodeError, never RangeError', () => {
  const reads: Array<[string, string, (r: Reader) => unknown]> = [
    ['int8', '01', (r) => r.int8()],
    ['uint8', '01', (r) => r.uint8()],
    ['boolean', '01', (r) => r.boolean()],
    ['int16', '0102', (r) => r.int16()],
    ['uint16', '0102', (r) => r.uint16()],
    ['int32', '01020304', (r) => r.int32()],
    ['uint32', '01020304', (r) => r.uint32()],
    ['int64', '0102030405060708', (r) => r.int64()],
    ['int64n', '0102030405060708', (r) => r.int64n()],
    ['float64', '3ff0000000000000', (r) => r.float64()],
    ['uvarint', 'ffffffff0f', (r) => r.uvarint()],
    ['varint', 'feffffff0f', (r) => r.varint()],
    ['varlong', 'feffffffffffff0f', (r) => r.varlong()],
    ['varlongBig', 'feffffffffffffffff01', (r) => r.varlongBig()],
    ['raw', '01020304', (r) => r.raw(4)],
    ['skip', '01020304', (r) => r.skip(4)],
    ['utf8', '61626364', (r) => r.utf8(4)],
    ['string classic', '000461626364', (r) => r.string(false)],
    ['string compact', '0561626364', (r) => r.string(true)],
    ['nullableString classic', '000461626364', (r) => r.nullableString(false)],
    ['nullableString compact', '0561626364', (r) => r.nullableString(true)],
    ['bytes classic', '0000000201 02', (r) => r.bytes(false)],
    ['bytes compact', '030102', (r) => r.bytes(true)],
    ['nullableBytes classic', '000000020102', (r) => r.nullableBytes(false)],
    ['nullableBytes compact', '030102', (r) => r.nullableBytes(true)],
    ['arrayLength classic', '00000000', (r) => r.arrayLength(false)],
    ['nullableArrayLength classic', '00000000', (r) => r.nullableArrayLength(false)],
    ['uuid', '000102030405060708090a0b0c0d0e0f', (r) => r.uuid()],
    ['skipTaggedFields', '0201020a0b0301ff', (r) => r.skipTaggedFields()],
    ['taggedFields', '0201020a0b0301ff', (r) => r.taggedFields(() => false)],
  ]
  for (const [name, full, read] of reads) {
    const buf = bytes(full)
    read(new Reader(buf)) // the whole encoding reads fine
    for (let n = 0; n < buf.length; n++) {
      throwsDecode(() => read(new Reader(buf.subarray(0, n))), `${name} on ${n} of ${buf.length} bytes`)
      // Also when the buffer is longer but the reader's window is short.
      throwsDecode(() => read(new Reader(buf, 0, n)), `${name} in a window of ${n} bytes`)
    }
  }
})

test('negative and null lengths where none are allowed', () => {
  throwsDecode(() => new Reader(bytes('fffe')).nullableString(false), 'string length -2', /negative/)
  throwsDecode(() => new Reader(bytes('ffff')).string(false), 'null non-nullable string', /null/)
  throwsDecode(() => new Reader(bytes('00')).string(true), 'compact null non-nullable string', /null/)
  throwsDecode(() => new Reader(bytes('fffffffb')).nullableBytes(false), 'bytes length -5', /negative/)
  throwsDecode(() => new Reader(bytes('ffffffff')).bytes(false), 'null non-nullable bytes', /null/)
  throwsDecode(() => new Reader(bytes('00')).bytes(true), 'compact null bytes', /null/)
  throwsDecode(() => new Reader(bytes('fffffffe')).nullableArrayLength(false), 'array count -2', /negative/)
  throwsDecode(() => new Reader(bytes('ffffffff')).arrayLength(false), 'null non-nullable array')
  throwsDecode(() => new Reader(bytes('00')).arrayLength(true), 'compact null non-nullable array')
  throwsDecode(() => new Reader(bytes('80000000')).utf8(-1), 'utf8(-1)')
  throwsDecode(() => new Reader(bytes('00')).raw(-1), 'raw(-1)')
})

test('array counts beyond the bytes left are rejected before anything is sized by them', () => {
  // 2^31 - 1 elements claimed with 4 bytes left; the same for a compact count of 2^32 - 2.
  throwsDecode(() => new Reader(bytes('7fffffff 00000000')).arrayLength(false), 'classic', /cannot fit/)
  throwsDecode(() => new Reader(bytes('ffffffff0f 00')).arrayLength(true), 'compact', /cannot fit/)
  throwsDecode(() => new Reader(bytes('7fffffff 00')).nullableArrayLength(false), 'nullable', /cannot fit/)
  throwsDecode(() => new Reader(bytes('00000005 01020304')).arrayLength(false), 'one short', /cannot fit/)
  assert.is(new Reader(bytes('00000004 01020304')).arrayLength(false), 4)
  // Huge string/bytes lengths fail on the bounds check, not on an allocation.
  throwsDecode(() => new Reader(bytes('7fffffff 00')).bytes(false), 'bytes 2^31-1')
  throwsDecode(() => new Reader(bytes('ffffffff0f 00')).bytes(true), 'compact bytes 2^32-2')
  throwsDecode(() => new Reader(bytes('7fff 00')).string(false), 'string 32767')
})

test.run()
