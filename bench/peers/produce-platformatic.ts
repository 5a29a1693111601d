// @platformatic/kafka in the produce benchmark. Its `send({ messages })` has no accumulator or linger: each
// call is one Produce request per leader, so the fastest use is `send` of arrays in chunks (about 64 KiB per
// partition each) with several calls outstanding. `idempotent: true` forces acks -1 and maxInflights 1 per
// connection (its own rule), so the outstanding calls queue in the client. lz4 is built in (WebAssembly).
// It declares Node >= 22.22; on Node 20 the only thing missing for producing is Promise.withResolvers
// (ES2024), polyfilled below before it loads.
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

interface PMessage {
  topic: string
  value: Buffer
}
interface PProducer {
  send(o: { messages: PMessage[] }): Promise<unknown>
  close(): Promise<void>
}
interface Platformatic {
  Producer: new (o: {
    clientId: string
    bootstrapBrokers: string[]
    idempotent: boolean
    acks: number
    compression: string
    autocreateTopics: boolean
  }) => PProducer
}

export function polyfillWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: () => unknown }
  if (typeof P.withResolvers === 'function') return
  P.withResolvers = <T>() => {
    let resolve!: (v: T) => void
    let reject!: (e: unknown) => void
    const promise = new Promise<T>((a, b) => {
      resolve = a
      reject = b
    })
    return { promise, resolve, reject }
  }
}

async function open(brokers: string, compression: string): Promise<PProducer> {
  polyfillWithResolvers()
  const { Producer } = await loadPeer<Platformatic>('@platformatic/kafka')
  return new Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: brokers.split(','),
    idempotent: true,
    acks: -1,
    compression,
    autocreateTopics: false,
  })
}

async function throughput(spec: ThroughputSpec): Promise<ChildResult> {
  const producer = await open(spec.brokers, spec.compression)
  const { topic, count } = spec
  const value = payload(spec.size)
  await producer.send({ messages: [{ topic, value }] })
  const chunk = chunkSize(spec.size)
  const concurrency = 4
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < count) {
      const n = Math.min(chunk, count - next)
      next += n
      const messages: PMessage[] = new Array(n)
      for (let i = 0; i < n; i++) messages[i] = { topic, value }
      await producer.send({ messages })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  await producer.close()
  return { count, seconds }
}

/** Each 1 ms tick sends the messages due by then in one `send` (no linger to wait on). */
async function latency(spec: LatencySpec): Promise<ChildResult> {
  const producer = await open(spec.brokers, 'none')
  const { topic } = spec
  const value = payload(spec.size)
  await producer.send({ messages: [{ topic, value }] })
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
    producer.send({ messages: ids.map(() => ({ topic, value })) }).then(
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
  await producer.close()
  return { count: total, seconds, ...lat.summary() }
}

const adapter: Adapter = { throughput, latency }
export default adapter
