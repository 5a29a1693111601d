// Kafka's own ConsumerPerformance (org.apache.kafka.tools.ConsumerPerformance, the class behind
// kafka-consumer-perf-test.sh) from the jars the local broker harness caches, with the JVM options the
// producer bench gives ProducerPerformance (kafka-run-class.sh's, -Xmx512M). It consumes --messages in the
// group given, from the earliest offset (its default without --from-latest), 1 MiB per partition and fetch
// (--fetch-size, its default), auto-commit on (the consumer's default). Its nMsg.sec counts from before the
// subscribe (group join included) to the last record, as the Node clients' clocks do. Peak RSS is the JVM's
// VmHWM from /proc/<pid>/status, sampled until it exits.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars, resolveJava, toolsLogFlag } from '../../src/tools/local-broker.js'
import type { ConsumeResult, ConsumeSpec } from './consume-common.js'
import { JVM, vmHwmMb } from './produce-java.js'

export async function runJavaConsumer(spec: ConsumeSpec, timeoutMs: number): Promise<ConsumeResult> {
  const libDir = await ensureKafkaJars(DEFAULT_KAFKA_VERSION)
  const java = resolveJava(undefined)
  const args = [
    ...JVM,
    toolsLogFlag(DEFAULT_KAFKA_VERSION),
    '-cp',
    join(libDir, '*'),
    'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server',
    spec.brokers,
    '--topic',
    spec.topic,
    '--group',
    spec.groupId,
    '--messages',
    String(spec.count),
    '--timeout',
    '60000',
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
    child.stdout.on('end', sample)
    child.on('close', resolve)
  })
  clearInterval(sampler)
  clearTimeout(timer)
  // A header line of comma-separated names, then one line of values.
  const lines = stdout.trim().split('\n')
  const headerAt = lines.findIndex((l) => l.startsWith('start.time'))
  const names = headerAt >= 0 ? lines[headerAt].split(',').map((s) => s.trim()) : []
  const values = headerAt >= 0 ? (lines[headerAt + 1] ?? '').split(',').map((s) => s.trim()) : []
  const field = (name: string) => Number(values[names.indexOf(name)])
  const count = field('data.consumed.in.nMsg')
  const perSec = field('nMsg.sec')
  if (code !== 0 || !(count > 0) || !(perSec > 0)) {
    throw new Error(
      `ConsumerPerformance exited with ${code}: ${(stderr || stdout).trim().split('\n').slice(-5).join(' | ')}`,
    )
  }
  return {
    count,
    seconds: count / perSec,
    rssMb: peak || undefined,
    note: `rebalance ${field('rebalance.time.ms')} ms, fetch-only ${Math.round(field('fetch.nMsg.sec'))} msg/s`,
  }
}
