// Kafka's own ConsumerPerformance (org.apache.kafka.tools.ConsumerPerformance, the class behind
// kafka-consumer-perf-test.sh) from the jars the local broker harness caches, with the JVM options the
// producer bench gives ProducerPerformance (kafka-run-class.sh's, -Xmx512M). It consumes --messages in the
// group given, from the earliest offset (its default without --from-latest), 1 MiB per partition and fetch
// (--fetch-size, its default), auto-commit on (the consumer's default). Its nMsg.sec counts from before the
// subscribe (group join included) to the last record, as the Node clients' clocks do. Peak RSS is the JVM's
// VmHWM from /proc/<pid>/status, sampled until it exits.
import type { ConsumeResult, ConsumeSpec } from './consume-common.js'
import { runJavaTool, toolFailure } from './java-tool.js'

export async function runJavaConsumer(spec: ConsumeSpec, timeoutMs: number): Promise<ConsumeResult> {
  const run = await runJavaTool(
    'ConsumerPerformance',
    [
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
    ],
    timeoutMs,
  )
  // A header line of comma-separated names, then one line of values.
  const lines = run.stdout.trim().split('\n')
  const headerAt = lines.findIndex((l) => l.startsWith('start.time'))
  const names = headerAt >= 0 ? lines[headerAt].split(',').map((s) => s.trim()) : []
  const values = headerAt >= 0 ? (lines[headerAt + 1] ?? '').split(',').map((s) => s.trim()) : []
  const field = (name: string) => Number(values[names.indexOf(name)])
  const count = field('data.consumed.in.nMsg')
  const perSec = field('nMsg.sec')
  if (run.code !== 0 || !(count > 0) || !(perSec > 0)) throw toolFailure('ConsumerPerformance', run)
  return {
    count,
    seconds: count / perSec,
    rssMb: run.peakRssMb,
    note: `rebalance ${field('rebalance.time.ms')} ms, fetch-only ${Math.round(field('fetch.nMsg.sec'))} msg/s`,
  }
}
