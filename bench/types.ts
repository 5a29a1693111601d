// The bench runner contract shared by every suite (`npm run bench -- <suite>`).

export interface BenchRow {
  /** 'kafka-wire', 'kafkajs', 'platformatic', 'confluent', 'java', ... */
  client: string
  scenario: string
  msgsPerSec?: number
  mbPerSec?: number
  p50Ms?: number
  p99Ms?: number
  rssMb?: number
  /** Resident set of the client's process before it started working (Node, the loader, the client's code), MB. */
  baselineRssMb?: number
  /** kafka-wire consumer: the configured reservoir (reservoirBytes x partitions), MB. */
  reservoirMb?: number
  /** Operations per second, for micro benchmarks that are not message-shaped. */
  opsPerSec?: number
}

export interface BenchContext {
  /** host:port list of the broker the suite should use; started by the runner when the suite needs one. */
  brokers?: string
  /** The Kafka version of that broker, for the results file. */
  kafkaVersion?: string
  /** Resolve a peer client from bench/node_modules (installed on first use). */
  peer<T = unknown>(name: string): Promise<T>
  /** Extra arguments after the suite name. */
  args: string[]
  log(line: string): void
}

export interface BenchSuite {
  /** One line saying what the suite measures. */
  description: string
  /** Whether the runner must provide a broker (started locally unless KAFKA_BROKERS is set). */
  needsBroker: boolean
  /** Peer packages (keys of bench/package.json dependencies) the suite imports. */
  peers?: string[]
  run(ctx: BenchContext): Promise<BenchRow[]>
}

export interface BenchResults {
  suite: string
  node: string
  kafka?: string
  date: string
  machine?: string
  rows: BenchRow[]
}
