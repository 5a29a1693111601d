import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FrameReceiver, FrameSizeError } from '../../src/network/frame-receiver.js'

/** A frame's body filled with a pattern derived from its index, so any mix-up or overwrite shows. */
function body(index: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) b[i] = (index * 31 + i * 7) & 0xff
  if (size >= 4) b.writeInt32BE(index, 0)
  return b
}

function stream(bodies: Buffer[]): Buffer {
  return Buffer.concat(
    bodies.flatMap((b) => {
      const size = Buffer.alloc(4)
      size.writeInt32BE(b.length, 0)
      return [size, b]
    }),
  )
}

/**
 * What a socket with `onread` does: ask for a buffer, copy what arrived into it (at most its length),
 * report the count. Returns the buffers handed out by nextBuffer(), for zero-copy checks.
 */
function feed(receiver: FrameReceiver, chunk: Buffer): Buffer[] {
  const targets: Buffer[] = []
  let at = 0
  while (at < chunk.length) {
    const target = receiver.nextBuffer()
    assert.ok(target.length > 0, 'nextBuffer() returned an empty buffer')
    targets.push(target)
    const n = Math.min(target.length, chunk.length - at)
    chunk.copy(target, 0, at, at + n)
    at += n
    receiver.received(n)
  }
  return targets
}

function collect(maxFrameBytes = 1 << 20, slabSize?: number) {
  const frames: Buffer[] = []
  const receiver = new FrameReceiver(maxFrameBytes, (f) => frames.push(f), slabSize)
  return { receiver, frames }
}

function assertFrames(frames: Buffer[], bodies: Buffer[], what: string) {
  assert.is(frames.length, bodies.length, `${what}: frame count`)
  for (let i = 0; i < bodies.length; i++) {
    if (!frames[i].equals(bodies[i])) assert.unreachable(`${what}: frame ${i} (${bodies[i].length} bytes) differs`)
  }
}

// Sizes chosen around the slab (8 KiB) and MIN_READ (4 KiB) boundaries, plus tiny frames.
const SLAB = 8192
const SIZES = [4, 5, 100, 4091, 4096, 4097, 8188, 8192, 9000, 20_000, 7, 3000, 6000, 4]
const BODIES = SIZES.map((size, i) => body(i, size))
const STREAM = stream(BODIES)

test('frames fed in chunks of every size from 1 to 64 bytes, and a few large chunk sizes', () => {
  const chunkSizes = [...Array.from({ length: 64 }, (_, i) => i + 1), 1000, 4095, 4096, 4097, 8191, 65536]
  for (const chunkSize of chunkSizes) {
    const { receiver, frames } = collect(1 << 20, SLAB)
    for (let at = 0; at < STREAM.length; at += chunkSize) feed(receiver, STREAM.subarray(at, at + chunkSize))
    // Checked after the whole stream went in: views handed out early must not have been written over.
    assertFrames(frames, BODIES, `chunk size ${chunkSize}`)
    assert.is(receiver.stats.frames, BODIES.length)
    assert.is(receiver.stats.bytesReceived, STREAM.length)
  }
})

test('the stream split in two at every byte boundary', () => {
  const bodies = [body(1, 10), body(2, 300), body(3, 5000), body(4, 9000), body(5, 4)]
  const s = stream(bodies)
  for (let cut = 0; cut <= s.length; cut++) {
    const { receiver, frames } = collect(1 << 20, SLAB)
    feed(receiver, s.subarray(0, cut))
    feed(receiver, s.subarray(cut))
    assertFrames(frames, bodies, `cut at ${cut}`)
  }
})

test('a partial frame emits nothing until its last byte arrives', () => {
  const b = body(9, 50)
  const s = stream([b])
  const { receiver, frames } = collect(1 << 20, SLAB)
  feed(receiver, s.subarray(0, s.length - 1))
  assert.is(frames.length, 0)
  feed(receiver, s.subarray(s.length - 1))
  assertFrames(frames, [b], 'last byte')
})

test('many small frames in one chunk: all emitted in order, nothing copied', () => {
  const bodies = Array.from({ length: 2000 }, (_, i) => body(i, 4 + (i % 13)))
  const s = stream(bodies)
  const { receiver, frames } = collect()
  feed(receiver, s)
  assertFrames(frames, bodies, 'small frames')
  assert.is(receiver.stats.frames, 2000)
  assert.ok(
    receiver.stats.bytesCopied <= 64 * 1024,
    `copied ${receiver.stats.bytesCopied} bytes for ${s.length} received`,
  )
})

test('a frame larger than the slab is read in place: at most one slab copied, later reads land in the frame', () => {
  const slab = 64 * 1024
  const big = body(7, 3 * 1024 * 1024 + 17)
  const small = body(8, 100)
  const s = stream([small, big, small])
  const { receiver, frames } = collect(16 * 1024 * 1024, slab)
  const targets: Buffer[] = []
  for (let at = 0; at < s.length; at += 50_000) targets.push(...feed(receiver, s.subarray(at, at + 50_000)))
  assertFrames(frames, [small, big, small], 'big frame')
  assert.ok(receiver.stats.bytesCopied <= slab, `copied ${receiver.stats.bytesCopied} bytes, slab is ${slab}`)
  // The emitted frame is the very memory the socket was asked to read into.
  const bigFrame = frames[1]
  const readIntoFrame = targets.filter((t) => t.buffer === bigFrame.buffer)
  assert.ok(readIntoFrame.length > 10, `only ${readIntoFrame.length} reads went straight into the frame`)
  const intoFrameBytes = readIntoFrame.reduce((n, t) => n + Math.min(t.length, big.length), 0)
  assert.ok(intoFrameBytes >= big.length - slab, 'most of the frame was read in place')
})

test('views handed out stay intact after more data arrives (a slab with views is never reused)', () => {
  const { receiver, frames } = collect(1 << 20, SLAB)
  const snapshots: Buffer[] = []
  const bodies: Buffer[] = []
  for (let round = 0; round < 200; round++) {
    const b = body(round, 50 + ((round * 97) % 3000))
    bodies.push(b)
    feed(receiver, stream([b]))
    snapshots.push(Buffer.from(frames[frames.length - 1]))
    // Every view so far still holds what it held when it was handed out.
    for (let i = 0; i < frames.length; i++) {
      if (!frames[i].equals(snapshots[i])) assert.unreachable(`view ${i} changed after round ${round}`)
    }
  }
  assertFrames(frames, bodies, 'views')
})

test('the slab is reused in place when no view of it was handed out', () => {
  // A partial frame header at the end of the slab is moved to its front, with no new slab.
  const { receiver } = collect(1 << 20, SLAB)
  const first = receiver.nextBuffer()
  const b = body(1, 6000)
  const s = stream([b])
  feed(receiver, s.subarray(0, 6000)) // incomplete: no view handed out, slab end near 6000 > SLAB - MIN_READ
  const next = receiver.nextBuffer()
  assert.is(next.buffer, first.buffer, 'same slab memory')
})

function sizePrefix(bytes: number[] | Buffer): Buffer {
  return Buffer.from(bytes)
}

const int32 = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(v, 0)
  return b
}

const BAD_PREFIXES: Array<[string, Buffer, number]> = [
  ['negative', int32(-1), -1],
  ['most negative', int32(-0x80000000), -0x80000000],
  ['zero', int32(0), 0],
  ['below a correlation id (3)', int32(3), 3],
  ['one over the maximum', int32(1024 * 1024 + 1), 1024 * 1024 + 1],
  ['0x7fffffff', int32(0x7fffffff), 0x7fffffff],
  ["'HTTP'", sizePrefix(Buffer.from('HTTP/1.1 400 Bad Request\r\n', 'latin1')), 0x48545450],
]

for (const [name, prefix, size] of BAD_PREFIXES) {
  test(`size prefix ${name}: FrameSizeError before any allocation of that size`, () => {
    const allocations: number[] = []
    const original = Buffer.allocUnsafe
    Buffer.allocUnsafe = ((n: number) => {
      allocations.push(n)
      return original(n)
    }) as typeof Buffer.allocUnsafe
    let error: unknown
    try {
      const { receiver, frames } = collect(1024 * 1024, SLAB)
      try {
        // Byte by byte: the check must hold however the prefix arrives.
        for (const byte of prefix) feed(receiver, Buffer.from([byte]))
      } catch (err) {
        error = err
      }
      assert.is(frames.length, 0)
    } finally {
      Buffer.allocUnsafe = original
    }
    assert.instance(error, FrameSizeError)
    assert.is((error as FrameSizeError).size, size)
    const largest = Math.max(0, ...allocations)
    assert.ok(largest <= SLAB, `allocated ${largest} bytes`)
  })
}

test('a frame of exactly maxFrameBytes is accepted; the same after a valid frame in one chunk fails', () => {
  const max = 20_000
  const ok = body(1, max)
  const { receiver, frames } = collect(max, SLAB)
  feed(receiver, stream([ok]))
  assertFrames(frames, [ok], 'max-sized frame')
  // A valid frame followed by a bad prefix in the same chunk: the valid one is emitted, then the error.
  const small = body(2, 10)
  let error: unknown
  try {
    feed(receiver, Buffer.concat([stream([small]), int32(max + 1)]))
  } catch (err) {
    error = err
  }
  assert.is(frames.length, 2)
  assert.ok(frames[1].equals(small))
  assert.instance(error, FrameSizeError)
})

test.run()
