// kafka-wire in the consume benchmark: the high-level Consumer in a group of its own, autoOffsetReset
// 'earliest', a handler that only counts (one message at a time, as the peers' per-message handlers run), and
// the defaults otherwise: 4 MiB reservoir per partition, 1 MiB per partition and fetch, commits every 5 s.
import { Consumer } from '../../src/client/consumer.js'
import { type ConsumeAdapter, type ConsumeResult, type ConsumeSpec, Countdown, rssMb } from './consume-common.js'

const RESERVOIR_BYTES = 4 * 1024 * 1024

async function consume(spec: ConsumeSpec): Promise<ConsumeResult> {
  const counter = new Countdown(spec.count)
  const consumer = new Consumer({
    brokers: spec.brokers,
    clientId: 'bench-kafka-wire',
    groupId: spec.groupId,
    topics: [spec.topic],
    autoOffsetReset: 'earliest',
    reservoirBytes: RESERVOIR_BYTES,
    handler: () => {
      counter.add(1)
    },
  })
  let failure: unknown = null
  consumer.on('partition-error', (err) => {
    failure ??= err
  })
  consumer.on('stopped', (reason) => {
    failure ??= reason
  })
  const baselineRssMb = rssMb()
  const started = performance.now()
  await consumer.start()
  await Promise.race([
    counter.done,
    new Promise<void>((_, reject) => {
      const check = setInterval(() => {
        if (failure !== null) {
          clearInterval(check)
          reject(failure instanceof Error ? failure : new Error(JSON.stringify(failure)))
        }
      }, 100)
      counter.done.then(() => clearInterval(check))
    }),
  ])
  const seconds = (counter.endedAt - started) / 1000
  await consumer.close()
  return {
    count: counter.n,
    seconds,
    baselineRssMb,
    reservoirMb: (RESERVOIR_BYTES * spec.partitions) / 2 ** 20,
  }
}

const adapter: ConsumeAdapter = { consume }
export default adapter
