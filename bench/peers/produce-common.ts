// Shared by the produce benchmark's adapters (bench/produce.ts runs each adapter in a child process of its
// own, so each client's peak RSS is its own). Peer types are declared locally, by the few members we call,
// so `tsc --noEmit` stays clean when bench/node_modules is not installed.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Load a peer from bench/node_modules (as the runner's ctx.peer does; children have no ctx). */
export async function loadPeer<T>(name: string): Promise<T> {
  const require = createRequire(join(benchDir, 'package.json'))
  return (await import(pathToFileURL(require.resolve(name)).href)) as T
}

export type Compression = 'none' | 'lz4'

export interface ThroughputSpec {
  kind: 'throughput'
  brokers: string
  topic: string
  /** Messages to deliver (the clock runs from the first offer to the last acknowledgement). */
  count: number
  /** Value bytes per message (no key, no headers). */
  size: number
  compression: Compression
  /** Adapter-specific variant, e.g. 'send' for kafka-wire's send() of arrays. */
  variant?: string
}

export interface LatencySpec {
  kind: 'latency'
  brokers: string
  topic: string
  /** Messages per second, paced evenly. */
  rate: number
  seconds: number
  size: number
  variant?: string
}

export type Spec = ThroughputSpec | LatencySpec

export interface ChildResult {
  /** Messages acknowledged and the seconds from the first offer to the last acknowledgement. */
  count: number
  seconds: number
  p50Ms?: number
  p99Ms?: number
  /** Peak resident set of the process that ran the client, MiB. */
  rssMb?: number
  note?: string
}

export interface Adapter {
  throughput(spec: ThroughputSpec): Promise<ChildResult>
  latency(spec: LatencySpec): Promise<ChildResult>
}

/**
 * The payload every client sends: `size` random capital letters, one buffer reused for every message, as
 * Kafka's ProducerPerformance does with --record-size (so lz4 sees the same data for every client).
 */
export function payload(size: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  let seed = 0x2545f491
  for (let i = 0; i < size; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    b[i] = 65 + ((seed >>> 16) % 26)
  }
  return b
}

/** Messages per chunk for clients without an accumulator: about one 64 KiB batch per partition (3) per chunk. */
export function chunkSize(size: number, partitions = 3): number {
  return Math.max(1, Math.floor((partitions * 64 * 1024) / (size + 20)))
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** A latency recorder: send times by sequence number, send-to-ack in ms. */
export class Latencies {
  private readonly started: Float64Array
  private readonly took: Float64Array
  private n = 0
  constructor(capacity: number) {
    this.started = new Float64Array(capacity)
    this.took = new Float64Array(capacity)
  }
  /** Mark message `i` as offered now. */
  sent(i: number): void {
    this.started[i] = performance.now()
  }
  /** Message `i` was acknowledged now. */
  acked(i: number): void {
    this.took[this.n++] = performance.now() - this.started[i]
  }
  get count(): number {
    return this.n
  }
  summary(): { p50Ms: number; p99Ms: number } {
    const sorted = this.took.slice(0, this.n).sort()
    return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) }
  }
}

/**
 * Call `offer(i)` for i = 0 .. rate*seconds-1 at a steady `rate` per second: every millisecond tick sends
 * the messages that are due by then (a 1 ms timer is as fine as Node's timers go). Resolves once all were
 * offered; the caller waits for their acknowledgements.
 */
export function paced(rate: number, seconds: number, offer: (i: number, batchEnd: boolean) => void): Promise<number> {
  const total = Math.round(rate * seconds)
  const start = performance.now()
  let sent = 0
  return new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1)
      while (sent < due) {
        const i = sent++
        offer(i, sent === due)
      }
      if (sent >= total) resolve(total)
      else setTimeout(tick, 1)
    }
    tick()
  })
}

/** Resolves when `check()` holds, polling every `everyMs`. */
export async function until(check: () => boolean, everyMs = 2): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, everyMs))
}

export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024
}
