// @platformatic/kafka in the consume benchmark: `consumer.consume()` gives a stream of messages; its 'data'
// listener only counts. A group of its own, mode 'committed' with fallbackMode 'earliest' (Kafka's
// auto.offset.reset=earliest), autocommit every 5 s; its defaults otherwise (50 MiB per fetch, 1 MiB per
// partition, a stream highWaterMark of 1024 messages). It declares Node >= 22.22; on Node 20 it runs with a
// Promise.withResolvers polyfill.
import {
  type ConsumeAdapter,
  type ConsumeResult,
  type ConsumeSpec,
  Countdown,
  loadPeer,
  rssMb,
} from './consume-common.js'
import { polyfillWithResolvers } from './produce-platformatic.js'

interface PStream {
  on(event: 'data', cb: (m: unknown) => void): void
  on(event: 'error', cb: (e: Error) => void): void
  close(): Promise<void>
}
interface PConsumer {
  consume(o: { topics: string[]; mode: string; fallbackMode: string; autocommit: number }): Promise<PStream>
  close(force?: boolean): Promise<void>
}
interface Platformatic {
  Consumer: new (o: { clientId: string; groupId: string; bootstrapBrokers: string[] }) => PConsumer
}

async function consume(spec: ConsumeSpec): Promise<ConsumeResult> {
  polyfillWithResolvers()
  const { Consumer } = await loadPeer<Platformatic>('@platformatic/kafka')
  const consumer = new Consumer({
    clientId: 'bench-platformatic',
    groupId: spec.groupId,
    bootstrapBrokers: spec.brokers.split(','),
  })
  const counter = new Countdown(spec.count)
  let failure: Error | null = null
  const baselineRssMb = rssMb()
  const started = performance.now()
  const stream = await consumer.consume({
    topics: [spec.topic],
    mode: 'committed',
    fallbackMode: 'earliest',
    autocommit: 5000,
  })
  stream.on('data', () => {
    counter.add(1)
  })
  stream.on('error', (err) => {
    failure ??= err
  })
  await counter.done
  if (failure) throw failure
  const seconds = (counter.endedAt - started) / 1000
  await stream.close()
  await consumer.close(true)
  return { count: counter.n, seconds, baselineRssMb }
}

const adapter: ConsumeAdapter = { consume }
export default adapter
