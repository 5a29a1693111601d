// Kafka's own ProducerPerformance (org.apache.kafka.tools.ProducerPerformance, the class behind
// kafka-producer-perf-test.sh) from the jars the local broker harness caches. Run with the JVM options of
// kafka-run-class.sh and the 512 MiB heap of kafka-producer-perf-test.sh; its final line gives records/sec
// and latency percentiles (whole milliseconds). Peak RSS is the JVM's VmHWM from /proc/<pid>/status,
// sampled until it exits.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars, resolveJava, toolsLogFlag } from '../../src/tools/local-broker.js'
import type { ChildResult, Spec } from './produce-common.js'

export const JVM = [
  '-Xmx512M',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
]

export function vmHwmMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

/** The producer properties of a spec: the same settings the Node clients get. */
export function javaProps(spec: Spec): string[] {
  const latency = spec.kind === 'latency'
  return [
    `bootstrap.servers=${spec.brokers}`,
    'client.id=bench-java',
    'acks=all',
    'enable.idempotence=true',
    'max.in.flight.requests.per.connection=5',
    `compression.type=${spec.kind === 'throughput' ? spec.compression : 'none'}`,
    'batch.size=65536',
    `linger.ms=${latency ? 0 : 5}`,
    'buffer.memory=33554432',
  ]
}

export async function runJava(spec: Spec, timeoutMs: number): Promise<ChildResult> {
  const libDir = await ensureKafkaJars(DEFAULT_KAFKA_VERSION)
  const java = resolveJava(undefined)
  const records = spec.kind === 'throughput' ? spec.count : Math.round(spec.rate * spec.seconds)
  const args = [
    ...JVM,
    toolsLogFlag(DEFAULT_KAFKA_VERSION),
    '-cp',
    join(libDir, '*'),
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    spec.topic,
    '--num-records',
    String(records),
    '--record-size',
    String(spec.size),
    '--throughput',
    String(spec.kind === 'throughput' ? -1 : spec.rate),
    '--producer-props',
    ...javaProps(spec),
  ]
  const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  let peak = 0
  const sample = () => {
    const v = child.pid === undefined ? undefined : vmHwmMb(child.pid)
    if (v !== undefined && v > peak) peak = v
  }
  const sampler = setInterval(sample, 50)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    // VmHWM is gone once the JVM is reaped: take a last sample when its output closes.
    child.stdout.on('end', sample)
    child.on('close', resolve)
  })
  clearInterval(sampler)
  clearTimeout(timer)
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/.exec(
      stdout,
    )
  if (code !== 0 || !m) {
    throw new Error(
      `ProducerPerformance exited with ${code}: ${(stderr || stdout).trim().split('\n').slice(-5).join(' | ')}`,
    )
  }
  const count = Number(m[1])
  const perSec = Number(m[2])
  return {
    count,
    seconds: count / perSec,
    p50Ms: Number(m[6]),
    p99Ms: Number(m[8]),
    rssMb: peak || undefined,
  }
}
