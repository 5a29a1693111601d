// Compression codecs of record batches, by the id stored in a batch's attributes (bits 0-2):
// 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
//
// gzip comes with Node (node:zlib). snappy, lz4 and zstd are native npm packages loaded on first use
// (createRequire, synchronously, because the protocol floor is synchronous): a missing package fails only
// the batches that need it, with a CompressionUnavailableError naming the package to install.
//
// Every decompression is bounded by `maxSize` (a decompression bomb guard). For snappy, lz4 and zstd the
// bound is checked *before* decompressing, from the framing alone (snappy's length prefix, lz4 and zstd block
// headers give an upper bound on the output); gzip stops inflating at the limit (zlib maxOutputLength).
//
// All codecs here are synchronous. gzip at level 6 runs at ~20-60 MB/s and blocks the event loop while it
// runs: a producer compressing large gzip batches may prefer to compress off-thread (zlib's async variants
// run on the libuv pool). The other codecs run at hundreds of MB/s or more, where sync is the right call.
import { createRequire } from 'node:module'
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib'
import { DecodeError, EncodeError, type ErrorDetails, KafkaWireError } from './errors.js'

/** Codec ids as stored in the low 3 bits of a record batch's attributes. */
export const CompressionCodecs = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const
export type CompressionName = keyof typeof CompressionCodecs
export type CompressionId = (typeof CompressionCodecs)[CompressionName]

const NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/** Default bound on the decompressed size of one batch's records: 64 MiB. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

/** A compression codec. `decompress` must throw DecodeError when the output would exceed `maxSize` bytes. */
export interface CompressionCodec {
  readonly id: CompressionId
  readonly name: CompressionName
  /** The npm package providing it, when it is not built in. */
  readonly packageName?: string
  compress(input: Buffer, level?: number): Buffer
  decompress(input: Buffer, maxSize: number): Buffer
}

/** A codec whose npm package is not installed (or failed to load). */
export class CompressionUnavailableError extends KafkaWireError {
  readonly codec: CompressionName
  readonly packageName: string

  constructor(codec: CompressionName, packageName: string, details: ErrorDetails = {}) {
    super(
      'ERR_COMPRESSION_UNAVAILABLE',
      `${codec} compression needs the npm package '${packageName}', which could not be loaded: npm install ${packageName}`,
      details,
    )
    this.codec = codec
    this.packageName = packageName
  }
}

/** Name of a codec id, or undefined for ids no codec uses (5-7). */
export function compressionName(id: number): CompressionName | undefined {
  return NAMES[id]
}

/** Codec id of a name or id. */
export function compressionId(codec: CompressionName | CompressionId | number): CompressionId {
  const id = typeof codec === 'number' ? codec : CompressionCodecs[codec]
  if (id === undefined || !(id >= 0 && id <= 4) || (id | 0) !== id)
    throw new EncodeError(`unknown compression ${codec}`)
  return id as CompressionId
}

function tooLarge(codec: string, size: number, maxSize: number): DecodeError {
  return new DecodeError(
    `${codec} payload would decompress to ${size} bytes or more, above the limit of ${maxSize} (maxDecompressedBytes)`,
    { code: 'ERR_DECOMPRESS_LIMIT' },
  )
}

function corrupt(codec: string, what: string, at?: number): DecodeError {
  return new DecodeError(`corrupt ${codec} payload: ${what}`, { code: 'ERR_DECOMPRESS', at })
}

/**
 * A loader of an optional CommonJS package: loads it on first call, and throws CompressionUnavailableError (now
 * and on every later call) when it cannot be loaded. For codecs given to registerCompressionCodec too.
 */
export function optionalPackage<T>(codec: CompressionName, packageName: string): () => T {
  let loaded: T | undefined
  let failure: unknown
  return () => {
    if (loaded !== undefined) return loaded
    if (failure !== undefined) throw new CompressionUnavailableError(codec, packageName, { cause: failure })
    try {
      loaded = createRequire(import.meta.url)(packageName) as T
      return loaded
    } catch (err) {
      failure = err
      throw new CompressionUnavailableError(codec, packageName, { cause: err })
    }
  }
}

// ---------------------------------------------------------------------------------------------- none

const none: CompressionCodec = {
  id: 0,
  name: 'none',
  compress: (input) => input,
  decompress: (input, maxSize) => {
    if (input.length > maxSize) throw tooLarge('uncompressed', input.length, maxSize)
    return input
  },
}

// ---------------------------------------------------------------------------------------------- gzip

const gzip: CompressionCodec = {
  id: 1,
  name: 'gzip',
  compress: (input, level) => gzipSync(input, { level: level ?? zlibConstants.Z_DEFAULT_COMPRESSION }),
  decompress: (input, maxSize) => {
    try {
      return gunzipSync(input, { maxOutputLength: Math.max(1, maxSize) })
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('gzip', maxSize + 1, maxSize)
      throw new DecodeError(`corrupt gzip payload: ${(err as Error).message}`, { code: 'ERR_DECOMPRESS', cause: err })
    }
  },
}

// -------------------------------------------------------------------------------------------- snappy

interface SnappyModule {
  compressSync(input: Uint8Array): Buffer
  uncompressSync(input: Uint8Array, options?: { asBuffer?: boolean }): string | Buffer
}

const loadSnappy = optionalPackage<SnappyModule>('snappy', 'snappy')

/** snappy-java's stream header: 0x82 'SNAPPY' 0x00, then int32 version 1 and int32 minimum compatible version 1. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_SIZE = 16
/** snappy-java (and so the Java client) compresses its input in 32 KiB blocks. */
const XERIAL_BLOCK_SIZE = 32 * 1024

function isXerial(input: Buffer): boolean {
  return input.length >= XERIAL_HEADER_SIZE && input.compare(XERIAL_MAGIC, 0, 8, 0, 8) === 0
}

/** The uncompressed length a raw snappy block declares (its varint prefix). */
function snappyDeclaredLength(input: Buffer, start: number, end: number): number {
  let result = 0
  let shift = 0
  for (let o = start; o < end && shift <= 28; o++) {
    const b = input[o]
    result += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return result
    shift += 7
  }
  throw corrupt('snappy', 'bad length prefix', start)
}

function snappyBlock(snappy: SnappyModule, block: Buffer): Buffer {
  const out = snappy.uncompressSync(block, { asBuffer: true })
  return typeof out === 'string' ? Buffer.from(out) : out
}

const snappy: CompressionCodec = {
  id: 2,
  name: 'snappy',
  packageName: 'snappy',
  // Written in xerial framing like the Java client: older Java consumers require it.
  compress: (input) => {
    const lib = loadSnappy()
    const blocks: Buffer[] = []
    let size = XERIAL_HEADER_SIZE
    for (let o = 0; o < input.length; o += XERIAL_BLOCK_SIZE) {
      const block = lib.compressSync(input.subarray(o, Math.min(input.length, o + XERIAL_BLOCK_SIZE)))
      blocks.push(block)
      size += 4 + block.length
    }
    const out = Buffer.allocUnsafe(size)
    XERIAL_MAGIC.copy(out, 0)
    out.writeInt32BE(1, 8)
    out.writeInt32BE(1, 12)
    let o = XERIAL_HEADER_SIZE
    for (const block of blocks) {
      out.writeInt32BE(block.length, o)
      block.copy(out, o + 4)
      o += 4 + block.length
    }
    return out
  },
  // Reads both xerial framing and a bare raw snappy block.
  decompress: (input, maxSize) => {
    const lib = loadSnappy()
    if (!isXerial(input)) {
      const declared = snappyDeclaredLength(input, 0, input.length)
      if (declared > maxSize) throw tooLarge('snappy', declared, maxSize)
      return snappyBlock(lib, input)
    }
    // First pass: validate the framing and add up the declared sizes, before decompressing anything.
    let total = 0
    let count = 0
    let o = XERIAL_HEADER_SIZE
    while (o < input.length) {
      if (o + 4 > input.length) throw corrupt('snappy', 'truncated xerial block length', o)
      const n = input.readInt32BE(o)
      if (n <= 0 || o + 4 + n > input.length) throw corrupt('snappy', `bad xerial block length ${n}`, o)
      total += snappyDeclaredLength(input, o + 4, o + 4 + n)
      if (total > maxSize) throw tooLarge('snappy', total, maxSize)
      count++
      o += 4 + n
    }
    if (count === 1) {
      const n = input.readInt32BE(XERIAL_HEADER_SIZE)
      return snappyBlock(lib, input.subarray(XERIAL_HEADER_SIZE + 4, XERIAL_HEADER_SIZE + 4 + n))
    }
    const out = Buffer.allocUnsafe(total)
    let w = 0
    o = XERIAL_HEADER_SIZE
    while (o < input.length) {
      const n = input.readInt32BE(o)
      const block = snappyBlock(lib, input.subarray(o + 4, o + 4 + n))
      if (w + block.length > total) throw corrupt('snappy', 'block longer than it declared', o)
      block.copy(out, w)
      w += block.length
      o += 4 + n
    }
    return w === total ? out : out.subarray(0, w)
  },
}

// ----------------------------------------------------------------------------------------------- lz4

interface Lz4Module {
  compressFrameSync(data: Buffer): Buffer
  decompressFrameSync(data: Buffer): Buffer
  /** One raw LZ4 block after its uncompressed size (uint32 LE): lz4_flex's compress_prepend_size. */
  compressSync(data: Buffer): Buffer
}

const loadLz4 = optionalPackage<Lz4Module>('lz4', 'lz4-napi')

const LZ4_MAGIC = 0x184d2204

/**
 * Walk an LZ4 frame (lz4_Frame_format.md) without decompressing it and return an upper bound on its output:
 * the size of each stored block; for each compressed block the smaller of the frame's block maximum and 255
 * times its compressed size.
 */
function lz4FrameBound(input: Buffer, maxSize: number): number {
  let bound = 0
  let o = 0
  while (o < input.length) {
    if (o + 4 > input.length) throw corrupt('lz4', 'truncated frame magic', o)
    const magic = input.readUInt32LE(o)
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // Skippable frame: magic, uint32 size, payload.
      if (o + 8 > input.length) throw corrupt('lz4', 'truncated skippable frame', o)
      o += 8 + input.readUInt32LE(o + 4)
      continue
    }
    if (magic !== LZ4_MAGIC) throw corrupt('lz4', `bad frame magic 0x${magic.toString(16)}`, o)
    if (o + 7 > input.length) throw corrupt('lz4', 'truncated frame descriptor', o)
    const flg = input[o + 4]
    const bd = input[o + 5]
    if (flg >>> 6 !== 1) throw corrupt('lz4', `unsupported frame version ${flg >>> 6}`, o + 4)
    const blockChecksum = (flg & 0x10) !== 0
    const contentChecksum = (flg & 0x04) !== 0
    const blockSizeId = (bd >>> 4) & 7
    if (blockSizeId < 4) throw corrupt('lz4', `bad block size id ${blockSizeId}`, o + 5)
    const blockMax = 1 << (2 * blockSizeId + 8)
    o += 6 + ((flg & 0x08) !== 0 ? 8 : 0) + ((flg & 0x01) !== 0 ? 4 : 0) + 1
    for (;;) {
      if (o + 4 > input.length) throw corrupt('lz4', 'truncated block header', o)
      const word = input.readUInt32LE(o)
      o += 4
      if (word === 0) break // end mark
      const size = word & 0x7fffffff
      if (size > blockMax) throw corrupt('lz4', `block of ${size} bytes exceeds the frame's maximum ${blockMax}`, o - 4)
      // A compressed LZ4 block expands at most 255-fold (each match-length byte adds at most 255).
      bound += word & 0x80000000 ? size : Math.min(blockMax, size * 255)
      if (bound > maxSize) throw tooLarge('lz4', bound, maxSize)
      o += size + (blockChecksum ? 4 : 0)
      if (o > input.length) throw corrupt('lz4', 'truncated block', o)
    }
    if (contentChecksum) o += 4
  }
  if (o !== input.length) throw corrupt('lz4', 'truncated frame', o)
  return bound
}

// LZ4 frames as Kafka clients write them (the Java client, librdkafka and lz4-napi alike: version 01, no
// checksums besides the header's, no content size, no dictionary) are decoded here, in JS, straight into one
// Buffer of the exact output size: lz4-napi's decompressFrameSync grows a Vec through a stream reader and then
// copies it into a Buffer, which costs several times the decoding itself on large batches. Every other frame,
// and any frame the JS decoder finds malformed, goes to lz4-napi, which decides: the two accept and reject
// the same frames, and lz4-napi's error is the one reported.

const P32_1 = 0x9e3779b1
const P32_2 = 0x85ebca77
const P32_3 = 0xc2b2ae3d
const P32_5 = 0x165667b1

/** The LZ4 frame header checksum byte of FLG and BD: second byte of xxHash32(seed 0) of those two bytes. */
function lz4HeaderChecksum(flg: number, bd: number): number {
  let h = (P32_5 + 2) | 0
  for (const b of [flg, bd]) {
    h = (h + Math.imul(b, P32_5)) | 0
    h = Math.imul((h << 11) | (h >>> 21), P32_1)
  }
  h ^= h >>> 15
  h = Math.imul(h, P32_2)
  h ^= h >>> 13
  h = Math.imul(h, P32_3)
  h ^= h >>> 16
  return (h >>> 8) & 0xff
}

/** Header checksums of the frame descriptors the JS decoder takes (FLG 0x40/0x60, BD 0x40-0x70), by FLG << 8 | BD. */
const LZ4_PLAIN_DESCRIPTORS = new Map<number, number>()
for (const flg of [0x40, 0x60]) {
  for (const bd of [0x40, 0x50, 0x60, 0x70]) LZ4_PLAIN_DESCRIPTORS.set((flg << 8) | bd, lz4HeaderChecksum(flg, bd))
}

/**
 * Decoded size of the LZ4 block src[s, end), or -1 when the block is malformed or ends with a match (the
 * format's last sequence holds literals only). Reads the sequence headers only.
 */
function lz4BlockSize(src: Buffer, s: number, end: number): number {
  let size = 0
  for (;;) {
    if (s >= end) return -1
    const token = src[s++]
    let lit = token >>> 4
    if (lit === 15) {
      let b: number
      do {
        if (s >= end) return -1
        b = src[s++]
        lit += b
      } while (b === 255)
    }
    if (lit > end - s) return -1
    s += lit
    size += lit
    if (s === end) return size
    if (end - s < 2) return -1
    s += 2
    let match = (token & 15) + 4
    if (match === 19) {
      let b: number
      do {
        if (s >= end) return -1
        b = src[s++]
        match += b
      } while (b === 255)
    }
    size += match
  }
}

/**
 * Decode the LZ4 block src[s, end) into out at d (room checked by lz4BlockSize); matches reach back to `low`
 * at most. Returns the new output position, or -1 on a bad match offset.
 */
function lz4DecodeBlock(src: Buffer, s: number, end: number, out: Buffer, d: number, low: number): number {
  for (;;) {
    const token = src[s++]
    let lit = token >>> 4
    if (lit === 15) {
      let b: number
      do {
        b = src[s++]
        lit += b
      } while (b === 255)
    }
    if (lit < 32) {
      for (let i = 0; i < lit; i++) out[d + i] = src[s + i]
    } else {
      src.copy(out, d, s, s + lit)
    }
    s += lit
    d += lit
    if (s === end) return d
    const offset = src[s] | (src[s + 1] << 8)
    s += 2
    let match = (token & 15) + 4
    if (match === 19) {
      let b: number
      do {
        b = src[s++]
        match += b
      } while (b === 255)
    }
    if (offset === 0 || offset > d - low) return -1
    const from = d - offset
    if (match < 32) {
      for (let i = 0; i < match; i++) out[d + i] = out[from + i]
    } else if (offset >= match) {
      out.copyWithin(d, from, from + match)
    } else {
      // The match overlaps its own output: it repeats with period `offset`. Copy chunks that are multiples
      // of the period, doubling, from the start of the match source.
      let done = 0
      while (done < match) {
        const n = Math.min(done + offset, match - done)
        out.copyWithin(d + done, from, from + n)
        done += n
      }
    }
    d += match
  }
}

/**
 * Decode the first frame of `input` in JS, or return undefined when the frame is not a plain one (see above), is
 * malformed or exceeds `bound` (from lz4FrameBound). The rest of `input` was checked by lz4FrameBound and is ignored, as lz4-napi ignores it.
 */
function lz4DecodePlainFrame(input: Buffer, bound: number): Buffer | undefined {
  if (input.length < 7 || input.readUInt32LE(0) !== LZ4_MAGIC) return undefined
  const flg = input[4]
  const bd = input[5]
  if (LZ4_PLAIN_DESCRIPTORS.get((flg << 8) | bd) !== input[6]) return undefined
  const independent = (flg & 0x20) !== 0
  const blockMax = 1 << (2 * ((bd >>> 4) & 7) + 8)
  // First pass: block sizes, compressed block structure and output size.
  let total = 0
  let o = 7
  for (;;) {
    const word = input.readUInt32LE(o)
    o += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    const n = word & 0x80000000 ? size : lz4BlockSize(input, o, o + size)
    if (n < 0 || n > blockMax) return undefined
    total += n
    o += size
  }
  if (total > bound) return undefined
  const out = Buffer.allocUnsafe(total)
  let d = 0
  o = 7
  for (;;) {
    const word = input.readUInt32LE(o)
    o += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    if (word & 0x80000000) {
      input.copy(out, d, o, o + size)
      d += size
    } else {
      d = lz4DecodeBlock(input, o, o + size, out, d, independent ? d : 0)
      if (d < 0) return undefined
    }
    o += size
  }
  return out
}

/**
 * The LZ4 frame lz4-napi's compressFrameSync writes, byte for byte, built around one compressSync block when
 * the input takes exactly one block of more than 64 KiB (the frame encoder then picks a 256 KiB or 4 MiB block
 * size and compresses the block as compressSync does): compressFrameSync streams through a growing Vec and
 * costs ~1.7x as much on a 1 MiB batch. Version 01, independent blocks, no checksums; a block that does not
 * shrink is stored. Smaller and larger inputs go to compressFrameSync (its small blocks use another hash table).
 */
function lz4CompressFrame(lib: Lz4Module, input: Buffer): Buffer {
  const n = input.length
  if (n <= 0x10000 || n > 0x400000) return lib.compressFrameSync(input)
  const bd = n <= 0x40000 ? 0x50 : 0x70
  const packed = lib.compressSync(input)
  const stored = packed.length - 4 >= n
  const block = stored ? input : packed.subarray(4)
  const out = Buffer.allocUnsafe(7 + 4 + block.length + 4)
  out.writeUInt32LE(LZ4_MAGIC, 0)
  out[4] = 0x60
  out[5] = bd
  out[6] = LZ4_PLAIN_DESCRIPTORS.get((0x60 << 8) | bd)!
  out.writeUInt32LE(stored ? (0x80000000 | n) >>> 0 : block.length, 7)
  block.copy(out, 11)
  out.writeUInt32LE(0, 11 + block.length)
  return out
}

const lz4: CompressionCodec = {
  id: 3,
  name: 'lz4',
  packageName: 'lz4-napi',
  // LZ4 frame format with independent blocks and no checksums, as the Java client writes (lz4-napi has no
  // level; the Java client's default level 9 only matters for its high-compression mode).
  compress: (input) => lz4CompressFrame(loadLz4(), input),
  decompress: (input, maxSize) => {
    const lib = loadLz4()
    const bound = lz4FrameBound(input, maxSize)
    const plain = lz4DecodePlainFrame(input, bound)
    if (plain !== undefined) return plain
    const out = lib.decompressFrameSync(input)
    if (out.length > bound) throw corrupt('lz4', 'frame decompressed past its own bound')
    return out
  },
}

// ---------------------------------------------------------------------------------------------- zstd

interface ZstdModule {
  Encoder: new (level: number) => { encodeSync(data: Buffer): Buffer }
  Decoder: new () => { decodeSync(data: Buffer): Buffer }
}

const loadZstd = optionalPackage<ZstdModule>('zstd', '@toondepauw/node-zstd')

const ZSTD_MAGIC = 0xfd2fb528
/** A zstd block never regenerates more than 128 KiB. */
const ZSTD_BLOCK_MAX = 128 * 1024
/** The Java client's default zstd level. */
const ZSTD_DEFAULT_LEVEL = 3

/** Walk zstd frames (RFC 8878) without decompressing them and return an upper bound on their output. */
function zstdFrameBound(input: Buffer, maxSize: number): number {
  let bound = 0
  let o = 0
  while (o < input.length) {
    if (o + 4 > input.length) throw corrupt('zstd', 'truncated frame magic', o)
    const magic = input.readUInt32LE(o)
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      if (o + 8 > input.length) throw corrupt('zstd', 'truncated skippable frame', o)
      o += 8 + input.readUInt32LE(o + 4)
      continue
    }
    if (magic !== ZSTD_MAGIC) throw corrupt('zstd', `bad frame magic 0x${magic.toString(16)}`, o)
    if (o + 5 > input.length) throw corrupt('zstd', 'truncated frame header', o)
    const fhd = input[o + 4]
    if (fhd & 0x08) throw corrupt('zstd', 'reserved frame header bit set', o + 4)
    const singleSegment = (fhd & 0x20) !== 0
    const fcsFlag = fhd >>> 6
    const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : 1 << fcsFlag
    const didSize = [0, 1, 2, 4][fhd & 3]
    o += 5 + (singleSegment ? 0 : 1) + didSize + fcsSize
    for (;;) {
      if (o + 3 > input.length) throw corrupt('zstd', 'truncated block header', o)
      const header = input[o] | (input[o + 1] << 8) | (input[o + 2] << 16)
      o += 3
      const last = header & 1
      const type = (header >>> 1) & 3
      const size = header >>> 3
      if (size > ZSTD_BLOCK_MAX) throw corrupt('zstd', `block of ${size} bytes exceeds 128 KiB`, o - 3)
      if (type === 0) {
        bound += size
        o += size
      } else if (type === 1) {
        bound += size
        o += 1
      } else if (type === 2) {
        bound += ZSTD_BLOCK_MAX
        o += size
      } else {
        throw corrupt('zstd', 'reserved block type', o - 3)
      }
      if (bound > maxSize) throw tooLarge('zstd', bound, maxSize)
      if (o > input.length) throw corrupt('zstd', 'truncated block', o)
      if (last) break
    }
    if (fhd & 0x04) o += 4 // content checksum
  }
  if (o !== input.length) throw corrupt('zstd', 'truncated frame', o)
  return bound
}

const zstdEncoders = new Map<number, { encodeSync(data: Buffer): Buffer }>()
let zstdDecoder: { decodeSync(data: Buffer): Buffer } | undefined

const zstd: CompressionCodec = {
  id: 4,
  name: 'zstd',
  packageName: '@toondepauw/node-zstd',
  compress: (input, level = ZSTD_DEFAULT_LEVEL) => {
    let encoder = zstdEncoders.get(level)
    if (encoder === undefined) {
      encoder = new (loadZstd().Encoder)(level)
      zstdEncoders.set(level, encoder)
    }
    return encoder.encodeSync(input)
  },
  decompress: (input, maxSize) => {
    const lib = loadZstd()
    const bound = zstdFrameBound(input, maxSize)
    zstdDecoder ??= new lib.Decoder()
    const out = zstdDecoder.decodeSync(input)
    if (out.length > bound) throw corrupt('zstd', 'frame decompressed past its own bound')
    return out
  },
}

// ---------------------------------------------------------------------------------------------- registry

const builtins: readonly CompressionCodec[] = [none, gzip, snappy, lz4, zstd]
const registry: CompressionCodec[] = [...builtins]

/**
 * Replace the implementation of a codec (e.g. a pure-JS zstd where native addons cannot be installed).
 * The codec must keep the wire format and honour `maxSize`.
 */
export function registerCompressionCodec(codec: CompressionCodec): void {
  registry[compressionId(codec.id)] = codec
}

/** The codec of an id (throws EncodeError for ids 5-7). Does not load its package. */
export function compressionCodec(id: number): CompressionCodec {
  const codec = registry[id]
  if (codec === undefined) throw new EncodeError(`unknown compression codec id ${id}`)
  return codec
}

/**
 * Compress `input` with codec `id`. Throws CompressionUnavailableError when the codec's package is missing,
 * EncodeError when the codec fails.
 */
export function compress(id: CompressionId, input: Buffer, level?: number): Buffer {
  const codec = compressionCodec(id)
  try {
    return codec.compress(input, level)
  } catch (err) {
    if (err instanceof KafkaWireError) throw err
    throw new EncodeError(`${codec.name} compression failed: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Decompress `input` with codec `id`, producing at most `maxSize` bytes. Throws DecodeError
 * ('ERR_DECOMPRESS' for corrupt payloads and unknown codec ids, 'ERR_DECOMPRESS_LIMIT' above maxSize) or
 * CompressionUnavailableError when the codec's package is missing; never a raw exception from a codec.
 */
export function decompress(id: number, input: Buffer, maxSize = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  const codec = registry[id]
  if (codec === undefined) throw new DecodeError(`unknown compression codec id ${id}`, { code: 'ERR_DECOMPRESS' })
  try {
    return codec.decompress(input, maxSize)
  } catch (err) {
    if (err instanceof KafkaWireError) throw err
    throw new DecodeError(`corrupt ${codec.name} payload: ${(err as Error).message}`, {
      code: 'ERR_DECOMPRESS',
      cause: err,
    })
  }
}

/** Whether the package of codec `id` can be loaded (loads it). */
export function isCompressionAvailable(id: CompressionId): boolean {
  if (registry[id] !== builtins[id]) return true
  try {
    if (id === 2) loadSnappy()
    else if (id === 3) loadLz4()
    else if (id === 4) loadZstd()
    return true
  } catch {
    return false
  }
}
