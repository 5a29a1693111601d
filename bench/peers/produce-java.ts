// Kafka's own ProducerPerformance (org.apache.kafka.tools.ProducerPerformance, the class behind
// kafka-producer-perf-test.sh) from the jars the local broker harness caches. Run with the JVM options of
// kafka-run-class.sh and the 512 MiB heap of kafka-producer-perf-test.sh; its final line gives records/sec
// and latency percentiles (whole milliseconds). Peak RSS is the JVM's VmHWM from /proc/<pid>/status,
// sampled until it exits.

import { runJavaTool, toolFailure } from './java-tool.js'
import type { ChildResult, Spec } from './produce-common.js'

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
  const records = spec.kind === 'throughput' ? spec.count : Math.round(spec.rate * spec.seconds)
  const run = await runJavaTool(
    'ProducerPerformance',
    [
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
    ],
    timeoutMs,
  )
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/.exec(
      run.stdout,
    )
  if (run.code !== 0 || !m) throw toolFailure('ProducerPerformance', run)
  const count = Number(m[1])
  const perSec = Number(m[2])
  return {
    count,
    seconds: count / perSec,
    p50Ms: Number(m[6]),
    p99Ms: Number(m[8]),
    rssMb: run.peakRssMb,
  }
}
