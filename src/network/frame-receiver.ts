// Splits a byte stream into Kafka frames (int32 size + body) while letting the socket read straight
// into the memory a frame will live in.
//
// Small frames are read into a slab and handed out as views of it; a slab that has handed out views
// is never written again (the views may still be in use), a fresh one is taken instead. A frame too
// big for the slab gets its own buffer the moment its size is known: the bytes already in the slab
// are copied once, and every later read lands directly in the frame. So a large fetch response is
// copied at most one slab's worth, and records decoded from it are views into the frame.

const MIN_READ = 4096

export interface FrameReceiverStats {
  bytesReceived: number
  /** Bytes moved from a slab into a frame buffer or a new slab after the socket delivered them. */
  bytesCopied: number
  frames: number
}

export class FrameSizeError extends Error {
  constructor(readonly size: number) {
    super(`frame size ${size}`)
  }
}

export class FrameReceiver {
  private slab: Buffer
  private start = 0
  private end = 0
  /** Whether views of the current slab were handed out (then it must not be written over). */
  private shared = false
  private frame: Buffer | null = null
  private filled = 0
  readonly stats: FrameReceiverStats = { bytesReceived: 0, bytesCopied: 0, frames: 0 }

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onFrame: (frame: Buffer) => void,
    private readonly slabSize = 64 * 1024,
  ) {
    this.slab = Buffer.allocUnsafe(slabSize)
  }

  /** The memory the next socket read should fill. */
  nextBuffer(): Buffer {
    if (this.frame !== null) return this.frame.subarray(this.filled)
    if (this.slab.length - this.end < MIN_READ) this.renewSlab()
    return this.slab.subarray(this.end)
  }

  /**
   * Account for `n` bytes the socket wrote into the last buffer from nextBuffer(). Emits every
   * complete frame. Throws FrameSizeError for a size prefix outside 1..maxFrameBytes.
   */
  received(n: number): void {
    this.stats.bytesReceived += n
    if (this.frame !== null) {
      this.filled += n
      if (this.filled < this.frame.length) return
      const frame = this.frame
      this.frame = null
      this.filled = 0
      this.emit(frame)
      return
    }
    this.end += n
    this.drainSlab()
  }

  private drainSlab(): void {
    const slab = this.slab
    while (this.end - this.start >= 4) {
      const size = slab.readInt32BE(this.start)
      if (size < 4 || size > this.maxFrameBytes) throw new FrameSizeError(size)
      const bodyStart = this.start + 4
      const available = this.end - bodyStart
      if (available >= size) {
        this.start = bodyStart + size
        this.shared = true
        this.emit(slab.subarray(bodyStart, bodyStart + size))
        continue
      }
      if (bodyStart + size > slab.length) {
        // It will not fit: give it its own buffer now so the rest of it is read in place.
        const frame = Buffer.allocUnsafe(size)
        slab.copy(frame, 0, bodyStart, this.end)
        this.stats.bytesCopied += available
        this.frame = frame
        this.filled = available
        this.start = this.end
      }
      break
    }
    if (this.start === this.end && !this.shared) {
      this.start = 0
      this.end = 0
    }
  }

  /** Continue in a fresh slab (or the same one, when nothing of it is in use), keeping a partial frame header. */
  private renewSlab(): void {
    const pending = this.end - this.start
    const target = this.shared ? Buffer.allocUnsafe(this.slabSize) : this.slab
    this.slab.copy(target, 0, this.start, this.end)
    this.stats.bytesCopied += pending
    this.slab = target
    this.start = 0
    this.end = pending
    this.shared = false
  }

  private emit(frame: Buffer): void {
    this.stats.frames++
    this.onFrame(frame)
  }
}
