// How integration tests find a Kafka: the shared broker of test/run.ts, KAFKA_BROKERS from the user, or a cluster
// of their own started through src/tools/local-broker.ts. Also kcat and Kafka's Java client for auth checks.

import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Cluster,
  type ClusterOptions,
  DEFAULT_KAFKA_VERSION,
  openCluster,
  startCluster,
} from '../../src/tools/local-broker.js'

/** KAFKA_BROKERS was given by the user: tests that start clusters of their own skip. */
export const EXTERNAL = process.env.KAFKA_WIRE_EXTERNAL === '1'

/** The runner's shared local cluster (KAFKA_WIRE_CLUSTER_DIR), if there is one. */
export function sharedCluster(): Cluster | undefined {
  const dir = process.env.KAFKA_WIRE_CLUSTER_DIR
  return dir ? openCluster(dir) : undefined
}

export interface ClusterLease {
  cluster: Cluster
  /** Stops the cluster if this lease started it; a no-op for the shared one. */
  release(): Promise<void>
}

/** The shared cluster when it fits the options (nodes, version, auth), else a new one. */
export async function acquireCluster(options: ClusterOptions = {}): Promise<ClusterLease> {
  const shared = sharedCluster()
  const fits =
    shared !== undefined &&
    shared.nodes.length === (options.nodes ?? 1) &&
    shared.version === (options.version ?? DEFAULT_KAFKA_VERSION) &&
    (!options.auth || shared.state.auth)
  if (fits) return { cluster: shared, release: async () => {} }
  const cluster = await startCluster(options)
  return { cluster, release: () => cluster.stop() }
}

export interface CommandResult {
  code: number
  output: string
}

export function runTool(command: string, args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((done) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      done({ code, output: `${stdout}${stderr}` })
    })
  })
}

let kcatFound: boolean | undefined
export async function hasKcat(): Promise<boolean> {
  kcatFound ??= (await runTool('kcat', ['-V'], 10_000)).code === 0
  return kcatFound
}

/** `kcat -L` (metadata) with -X settings; `metadataTimeoutS` bounds how long a failing login retries. */
export function kcatMetadata(broker: string, settings: Record<string, string>, metadataTimeoutS = 10) {
  const x = Object.entries(settings).flatMap(([key, value]) => ['-X', `${key}=${value}`])
  return runTool('kcat', ['-L', '-b', broker, '-m', String(metadataTimeoutS), ...x], (metadataTimeoutS + 20) * 1000)
}

/**
 * Kafka's own Java client (TopicCommand --list) with client properties: the reference for SCRAM, since kcat builds
 * on librdkafka < 2.6.1 fail SCRAM against Kafka 4.x brokers (confluentinc/librdkafka#4895).
 */
export async function javaListTopics(
  cluster: Cluster,
  broker: string,
  properties: Record<string, string>,
): Promise<CommandResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-wire-client-'))
  const file = join(dir, 'client.properties')
  writeFileSync(
    file,
    `${Object.entries(properties)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  )
  const log = join(cluster.dir, 'tools-log.properties')
  const logFlag = cluster.version.startsWith('3.')
    ? `-Dlog4j.configuration=file:${log}`
    : `-Dlog4j2.configurationFile=${log}`
  const classpath = join(cluster.state.libDir, '*')
  const tool = 'org.apache.kafka.tools.TopicCommand'
  try {
    return await runTool(
      cluster.state.java,
      [
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        logFlag,
        '-cp',
        classpath,
        tool,
        '--bootstrap-server',
        broker,
        '--command-config',
        file,
        '--list',
      ],
      60_000,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Wrap a uvu before/after hook so its error is printed: uvu 0.5 swallows errors thrown by hooks (the suite's tests
 * then count as not passed, which test/run.ts reports as failed, but the reason would be lost).
 */
export function loud(hook: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await hook()
    } catch (error) {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error)
      throw error
    }
  }
}

/** Whether a pid is a live process whose command line mentions `marker` (e.g. a cluster's state dir). */
export function isProcessOf(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)
  } catch {
    return false
  }
}
