// kafka-wire in the produce benchmark. Throughput: `produce()` with 'drain' backpressure and a callback
// counting deliveries (variant 'produce'), or `send()` of arrays in chunks with several in flight (variant
// 'send'). Settings: acks all, idempotent, 64 KiB batches, linger 5 ms, 5 requests in flight, 32 MiB buffer.
import { Producer } from '../../src/client/producer.js'
import {
  type Adapter,
  type ChildResult,
  chunkSize,
  Latencies,
  type LatencySpec,
  paced,
  payload,
  type ThroughputSpec,
  until,
} from './produce-common.js'

function producer(brokers: string, compression: 'none' | 'lz4', lingerMs: number): Producer<Buffer | null, Buffer> {
  return new Producer<Buffer | null, Buffer>({
    brokers,
    clientId: 'bench-kafka-wire',
    acks: 'all',
    idempotent: true,
    compression,
    maxInFlight: 5,
    flush: { bytes: 64 * 1024, frequencyMs: lingerMs },
    bufferBytes: 32 * 1024 * 1024,
  })
}

async function throughput(spec: ThroughputSpec): Promise<ChildResult> {
  const p = producer(spec.brokers, spec.compression, 5)
  const { topic, count } = spec
  const value = payload(spec.size)
  await p.connect()
  await p.send({ topic, value }) // metadata and producer id before the clock starts
  const started = performance.now()
  if (spec.variant === 'send') {
    const chunk = chunkSize(spec.size)
    const concurrency = 8
    let next = 0
    const worker = async () => {
      while (next < count) {
        const n = Math.min(chunk, count - next)
        next += n
        const messages = new Array(n)
        for (let i = 0; i < n; i++) messages[i] = { topic, value }
        await p.send(messages)
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
  } else {
    let done = 0
    let failed: Error | null = null
    let sent = 0
    const message = { topic, value }
    const onDone = (err: Error | null) => {
      if (err) failed ??= err
      done++
    }
    await new Promise<void>((resolve, reject) => {
      const check = (err: Error | null) => {
        onDone(err)
        if (done === count) failed ? reject(failed) : resolve()
      }
      const pump = () => {
        while (sent < count) {
          if (!p.produce(message, check)) {
            p.once('drain', pump)
            return
          }
          sent++
        }
      }
      pump()
    })
  }
  const seconds = (performance.now() - started) / 1000
  await p.close()
  return { count, seconds }
}

async function latency(spec: LatencySpec): Promise<ChildResult> {
  const p = producer(spec.brokers, 'none', 0)
  const value = payload(spec.size)
  await p.connect()
  await p.send({ topic: spec.topic, value })
  const lat = new Latencies(Math.round(spec.rate * spec.seconds))
  let failed: Error | null = null
  const started = performance.now()
  const total = await paced(spec.rate, spec.seconds, (i) => {
    lat.sent(i)
    const ok = p.produce({ topic: spec.topic, value }, (err) => {
      if (err) failed ??= err
      else lat.acked(i)
    })
    if (!ok) failed ??= new Error('buffer full at a paced rate')
  })
  await until(() => lat.count === total || failed !== null)
  if (failed) throw failed
  const seconds = (performance.now() - started) / 1000
  await p.close()
  return { count: total, seconds, ...lat.summary() }
}

const adapter: Adapter = { throughput, latency }
export default adapter
