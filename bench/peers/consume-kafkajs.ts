// KafkaJS 2.2 in the consume benchmark: `consumer.run({ eachMessage })` with a handler that only counts, in a
// group of its own, subscribed `fromBeginning`; its defaults otherwise (1 MiB per partition, 10 MiB per
// fetch, one partition's batch at a time, auto-commit every 5 s). lz4 is not built in: a codec on lz4-napi's
// frame format is registered, as the `kafkajs-lz4` package does.
import { compressFrameSync, decompressFrameSync } from 'lz4-napi'
import {
  type ConsumeAdapter,
  type ConsumeResult,
  type ConsumeSpec,
  Countdown,
  loadPeer,
  rssMb,
} from './consume-common.js'

interface KConsumer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  subscribe(s: { topics: string[]; fromBeginning: boolean }): Promise<void>
  run(r: { eachMessage: (p: unknown) => Promise<void> }): Promise<void>
}
interface KafkaJS {
  Kafka: new (c: {
    clientId: string
    brokers: string[]
    logLevel: number
  }) => {
    consumer(c: { groupId: string }): KConsumer
  }
  CompressionTypes: { LZ4: number }
  CompressionCodecs: Record<
    number,
    () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }
  >
  logLevel: { NOTHING: number }
}

async function consume(spec: ConsumeSpec): Promise<ConsumeResult> {
  const mod = await loadPeer<KafkaJS & { default?: KafkaJS }>('kafkajs')
  const k = mod.default ?? mod
  k.CompressionCodecs[k.CompressionTypes.LZ4] = () => ({
    compress: async (encoder) => compressFrameSync(encoder.buffer),
    decompress: async (buffer) => decompressFrameSync(buffer),
  })
  const kafka = new k.Kafka({
    clientId: 'bench-kafkajs',
    brokers: spec.brokers.split(','),
    logLevel: k.logLevel.NOTHING,
  })
  const consumer = kafka.consumer({ groupId: spec.groupId })
  const counter = new Countdown(spec.count)
  const baselineRssMb = rssMb()
  const started = performance.now()
  await consumer.connect()
  await consumer.subscribe({ topics: [spec.topic], fromBeginning: true })
  await consumer.run({
    eachMessage: async () => {
      counter.add(1)
    },
  })
  await counter.done
  const seconds = (counter.endedAt - started) / 1000
  await consumer.disconnect()
  return { count: counter.n, seconds, baselineRssMb }
}

const adapter: ConsumeAdapter = { consume }
export default adapter
