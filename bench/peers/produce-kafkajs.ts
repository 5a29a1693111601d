// KafkaJS 2.2 in the produce benchmark. KafkaJS has no accumulator and no linger: each `send` is one
// Produce request per leader, so the fastest idiomatic use is `send` of arrays in chunks (about 64 KiB per
// partition each) with several sends outstanding. Idempotence needs maxInFlightRequests 1 (KafkaJS also
// serialises idempotent requests per broker with a lock); acks -1. lz4 is not built in: a codec on lz4-napi's
// frame format is registered here, as the `kafkajs-lz4` package does. No batch size or linger settings exist.
import { compressFrameSync, decompressFrameSync } from 'lz4-napi'
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

interface KMessage {
  value: Buffer
}
interface KProducer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  send(r: { topic: string; messages: KMessage[]; acks: number; compression?: number }): Promise<unknown>
}
interface KafkaJS {
  Kafka: new (c: {
    clientId: string
    brokers: string[]
    logLevel: number
  }) => {
    producer(c: { idempotent: boolean; maxInFlightRequests: number; allowAutoTopicCreation: boolean }): KProducer
  }
  CompressionTypes: { None: number; LZ4: number }
  CompressionCodecs: Record<
    number,
    () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }
  >
  logLevel: { NOTHING: number; ERROR: number }
}

async function open(brokers: string): Promise<{ k: KafkaJS; producer: KProducer }> {
  const mod = await loadPeer<KafkaJS & { default?: KafkaJS }>('kafkajs')
  const k = mod.default ?? mod
  k.CompressionCodecs[k.CompressionTypes.LZ4] = () => ({
    compress: async (encoder) => compressFrameSync(encoder.buffer),
    decompress: async (buffer) => decompressFrameSync(buffer),
  })
  const kafka = new k.Kafka({ clientId: 'bench-kafkajs', brokers: brokers.split(','), logLevel: k.logLevel.NOTHING })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
  await producer.connect()
  return { k, producer }
}

async function throughput(spec: ThroughputSpec): Promise<ChildResult> {
  const { k, producer } = await open(spec.brokers)
  const { topic, count } = spec
  const value = payload(spec.size)
  const compression = spec.compression === 'lz4' ? k.CompressionTypes.LZ4 : k.CompressionTypes.None
  await producer.send({ topic, messages: [{ value }], acks: -1, compression })
  const chunk = chunkSize(spec.size)
  const concurrency = 4
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < count) {
      const n = Math.min(chunk, count - next)
      next += n
      const messages: KMessage[] = new Array(n)
      for (let i = 0; i < n; i++) messages[i] = { value }
      await producer.send({ topic, messages, acks: -1, compression })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  await producer.disconnect()
  return { count, seconds }
}

/** Each 1 ms tick sends the messages due by then in one `send` (KafkaJS has no linger to wait on). */
async function latency(spec: LatencySpec): Promise<ChildResult> {
  const { producer } = await open(spec.brokers)
  const { topic } = spec
  const value = payload(spec.size)
  await producer.send({ topic, messages: [{ value }], acks: -1 })
  const lat = new Latencies(Math.round(spec.rate * spec.seconds))
  let failed: unknown = null
  let batch: number[] = []
  const started = performance.now()
  const total = await paced(spec.rate, spec.seconds, (i, last) => {
    lat.sent(i)
    batch.push(i)
    if (!last) return
    const ids = batch
    batch = []
    producer.send({ topic, messages: ids.map(() => ({ value })), acks: -1 }).then(
      () => {
        for (const id of ids) lat.acked(id)
      },
      (err) => {
        failed ??= err
      },
    )
  })
  await until(() => lat.count === total || failed !== null)
  if (failed) throw failed
  const seconds = (performance.now() - started) / 1000
  await producer.disconnect()
  return { count: total, seconds, ...lat.summary() }
}

const adapter: Adapter = { throughput, latency }
export default adapter
