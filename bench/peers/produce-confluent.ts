// @confluentinc/kafka-javascript (librdkafka bindings) in the produce benchmark, through its
// node-rdkafka-style API: `produce()` per message into librdkafka's queue, delivery reports (dr_cb) polled on
// librdkafka's background thread (setPollInBackground), ERR__QUEUE_FULL answered by waiting for deliveries.
// Variant 'kafkajs' uses its KafkaJS-compatible API instead (`send` of arrays in chunks, several outstanding),
// which was measured slower here; the suite runs the native API. Settings: acks all, enable.idempotence, lz4
// or none, batch.size 64 KiB, linger.ms 5 (0 for the latency run), 5 in flight, a 32 MiB queue.
import {
  type Adapter,
  type ChildResult,
  chunkSize,
  Latencies,
  type LatencySpec,
  loadPeer,
  paced,
  payload,
  type ThroughputSpec,
  until,
} from './produce-common.js'

interface DeliveryReport {
  opaque?: unknown
}
interface RdProducer {
  connect(o: unknown, cb: (err: Error | null) => void): void
  disconnect(cb: (err: Error | null) => void): void
  setPollInBackground(set: boolean): void
  produce(
    topic: string,
    partition: number | null,
    value: Buffer,
    key: null,
    timestamp?: number,
    opaque?: unknown,
  ): boolean
  on(event: 'delivery-report', cb: (err: Error | null, report: DeliveryReport) => void): void
  on(event: 'event.error', cb: (err: Error) => void): void
  flush(timeout: number, cb: (err: Error | null) => void): void
}
interface KjsProducer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  send(r: { topic: string; messages: Array<{ value: Buffer }> }): Promise<unknown>
}
interface Confluent {
  Producer: new (conf: Record<string, unknown>, topicConf?: Record<string, unknown>) => RdProducer
  KafkaJS: {
    Kafka: new (c: Record<string, unknown>) => { producer(c: Record<string, unknown>): KjsProducer }
    CompressionTypes: { None: string; LZ4: string }
  }
  CODES: { ERRORS: Record<string, number> }
}

function config(brokers: string, compression: string, lingerMs: number): Record<string, unknown> {
  return {
    'bootstrap.servers': brokers,
    'client.id': 'bench-confluent',
    acks: 'all',
    'enable.idempotence': true,
    'max.in.flight.requests.per.connection': 5,
    'compression.codec': compression,
    'batch.size': 65536,
    'linger.ms': lingerMs,
    'queue.buffering.max.kbytes': 32768,
    'queue.buffering.max.messages': 1_000_000,
    dr_cb: true,
  }
}

async function open(
  brokers: string,
  compression: string,
  lingerMs: number,
): Promise<{ lib: Confluent; p: RdProducer }> {
  const mod = await loadPeer<Confluent & { default?: Confluent }>('@confluentinc/kafka-javascript')
  const lib = mod.default ?? mod
  const p = new lib.Producer(config(brokers, compression, lingerMs))
  await new Promise<void>((resolve, reject) => p.connect({}, (err) => (err ? reject(err) : resolve())))
  p.setPollInBackground(true)
  return { lib, p }
}

function close(p: RdProducer): Promise<void> {
  return new Promise((resolve) => p.flush(10_000, () => p.disconnect(() => resolve())))
}

function isQueueFull(err: unknown, lib: Confluent): boolean {
  return (err as { code?: number }).code === lib.CODES.ERRORS.ERR__QUEUE_FULL
}

async function throughputNative(spec: ThroughputSpec): Promise<ChildResult> {
  const { lib, p } = await open(spec.brokers, spec.compression, 5)
  const { topic, count } = spec
  const value = payload(spec.size)
  let delivered = 0
  let failed: Error | null = null
  let waiting = false
  let target = 0
  let onTarget: () => void = () => {}
  let sent = 0
  const pump = () => {
    while (sent < count) {
      try {
        p.produce(topic, null, value, null)
      } catch (err) {
        if (!isQueueFull(err, lib)) throw err
        waiting = true
        return
      }
      sent++
    }
  }
  p.on('delivery-report', (err) => {
    if (err) failed ??= err
    delivered++
    if (waiting) {
      waiting = false
      setImmediate(pump)
    }
    if (delivered === target) onTarget()
  })
  const reach = (n: number) =>
    new Promise<void>((resolve) => {
      target = n
      onTarget = resolve
    })
  // One message first: metadata, producer id and connections before the clock starts.
  const warm = reach(1)
  p.produce(topic, null, value, null)
  await warm
  const started = performance.now()
  const all = reach(1 + count)
  pump()
  await all
  if (failed) throw failed
  const seconds = (performance.now() - started) / 1000
  await close(p)
  return { count, seconds }
}

async function throughputKafkaJS(spec: ThroughputSpec): Promise<ChildResult> {
  const mod = await loadPeer<Confluent & { default?: Confluent }>('@confluentinc/kafka-javascript')
  const { Kafka } = (mod.default ?? mod).KafkaJS
  const producer = new Kafka({ kafkaJS: { logLevel: 0 } }).producer({
    ...config(spec.brokers, spec.compression, 5),
    dr_cb: undefined,
  })
  await producer.connect()
  const { topic, count } = spec
  const value = payload(spec.size)
  await producer.send({ topic, messages: [{ value }] })
  const chunk = chunkSize(spec.size)
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < count) {
      const n = Math.min(chunk, count - next)
      next += n
      const messages = new Array(n)
      for (let i = 0; i < n; i++) messages[i] = { value }
      await producer.send({ topic, messages })
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  const seconds = (performance.now() - started) / 1000
  await producer.disconnect()
  return { count, seconds }
}

async function latency(spec: LatencySpec): Promise<ChildResult> {
  const { p } = await open(spec.brokers, 'none', 0)
  const value = payload(spec.size)
  const total = Math.round(spec.rate * spec.seconds)
  const lat = new Latencies(total)
  let failed: Error | null = null
  let warm = false
  p.on('delivery-report', (err, report) => {
    if (err) failed ??= err
    else if (typeof report.opaque === 'number') lat.acked(report.opaque)
    else warm = true
  })
  p.produce(spec.topic, null, value, null, undefined, 'warm-up')
  await until(() => warm || failed !== null)
  const started = performance.now()
  await paced(spec.rate, spec.seconds, (i) => {
    lat.sent(i)
    p.produce(spec.topic, null, value, null, undefined, i)
  })
  await until(() => lat.count === total || failed !== null)
  if (failed) throw failed
  const seconds = (performance.now() - started) / 1000
  await close(p)
  return { count: total, seconds, ...lat.summary() }
}

const adapter: Adapter = {
  throughput: (spec) => (spec.variant === 'kafkajs' ? throughputKafkaJS(spec) : throughputNative(spec)),
  latency,
}
export default adapter
