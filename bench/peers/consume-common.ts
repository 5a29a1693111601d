// Shared by the consume benchmark's adapters (bench/consume.ts runs each adapter in a child process of its
// own, so each client's peak RSS is its own). Peer types are declared locally in each adapter, by the few
// members it calls, so `tsc --noEmit` stays clean when bench/node_modules is not installed.

export { loadPeer } from './produce-common.js'

export interface ConsumeSpec {
  brokers: string
  topic: string
  /** A group of its own, new for every run: nothing committed, so every client starts at the earliest offset. */
  groupId: string
  /** Messages the topic holds; the run ends when the handler has counted this many. */
  count: number
  /** Value bytes per message (for MB/s). */
  size: number
  partitions: number
  variant?: string
}

export interface ConsumeResult {
  /** Messages counted and the seconds from the start (connect, group join) to the last one counted. */
  count: number
  seconds: number
  /** Peak resident set of the process that ran the client, MiB. */
  rssMb?: number
  /** Resident set just before the clock started (client made, nothing consumed), MiB. */
  baselineRssMb?: number
  /** kafka-wire: the configured reservoir, reservoirBytes x partitions, MiB. */
  reservoirMb?: number
  note?: string
}

export interface ConsumeAdapter {
  consume(spec: ConsumeSpec): Promise<ConsumeResult>
}

/** A counter that resolves `done` when it reaches `target`, with the time of that last message. */
export class Countdown {
  n = 0
  endedAt = 0
  readonly done: Promise<void>
  private resolve!: () => void

  constructor(readonly target: number) {
    this.done = new Promise((r) => {
      this.resolve = r
    })
  }

  add(k: number): void {
    this.n += k
    if (this.n >= this.target && this.endedAt === 0) {
      this.endedAt = performance.now()
      this.resolve()
    }
  }
}

export function rssMb(): number {
  return process.memoryUsage.rss() / 2 ** 20
}
