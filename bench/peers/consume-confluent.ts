// @confluentinc/kafka-javascript (librdkafka bindings) in the consume benchmark, through its
// node-rdkafka-style API: `consume(1000, cb)` in a loop (librdkafka's fetcher thread prefetches into its queue;
// each call takes up to 1000 messages off it in a worker thread), a handler that only counts, called per
// message. A group of its own, auto.offset.reset earliest, auto-commit every 5 s; librdkafka's defaults
// otherwise (1 MiB per partition, 50 MiB per fetch, up to 64 MiB prefetched: queued.max.messages.kbytes).
import {
  type ConsumeAdapter,
  type ConsumeResult,
  type ConsumeSpec,
  Countdown,
  loadPeer,
  rssMb,
} from './consume-common.js'

interface RdConsumer {
  connect(o: unknown, cb: (err: Error | null) => void): void
  disconnect(cb: (err: Error | null) => void): void
  subscribe(topics: string[]): void
  consume(n: number, cb: (err: Error | null, messages: unknown[]) => void): void
  on(event: 'event.error', cb: (err: Error) => void): void
}
interface Confluent {
  KafkaConsumer: new (conf: Record<string, unknown>, topicConf?: Record<string, unknown>) => RdConsumer
}

async function consume(spec: ConsumeSpec): Promise<ConsumeResult> {
  const mod = await loadPeer<Confluent & { default?: Confluent }>('@confluentinc/kafka-javascript')
  const lib = mod.default ?? mod
  const consumer = new lib.KafkaConsumer(
    {
      'bootstrap.servers': spec.brokers,
      'client.id': 'bench-confluent',
      'group.id': spec.groupId,
      'enable.auto.commit': true,
      'auto.commit.interval.ms': 5000,
    },
    { 'auto.offset.reset': 'earliest' },
  )
  const counter = new Countdown(spec.count)
  let failure: Error | null = null
  consumer.on('event.error', (err) => {
    failure ??= err
  })
  const baselineRssMb = rssMb()
  const started = performance.now()
  await new Promise<void>((resolve, reject) => consumer.connect({}, (err) => (err ? reject(err) : resolve())))
  consumer.subscribe([spec.topic])
  await new Promise<void>((resolve, reject) => {
    const next = () => {
      consumer.consume(1000, (err, messages) => {
        if (err) failure ??= err
        if (failure) return reject(failure)
        for (let i = 0; i < messages.length; i++) counter.add(1)
        if (counter.n >= spec.count) resolve()
        else next()
      })
    }
    next()
  })
  const seconds = (counter.endedAt - started) / 1000
  await new Promise<void>((resolve) => consumer.disconnect(() => resolve()))
  return { count: counter.n, seconds, baselineRssMb }
}

const adapter: ConsumeAdapter = { consume }
export default adapter
