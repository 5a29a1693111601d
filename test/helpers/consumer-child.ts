// A Consumer in a process of its own, for the consumer-group tests that kill (SIGKILL) or stall (SIGSTOP) a
// member. Run as `node --import tsx test/helpers/consumer-child.ts '<json options>'`.
//
// Reports one JSON object a line on stdout, written with writeSync so that a report made before a message's
// handler returns is out of the process before the next step (a SIGKILL cannot lose it):
//   { ev: 'start' | 'done', p, o }        a message's handler starts / is about to return (batch: one per message)
//   { ev: 'assigned' | 'revoked' | 'lost', tps: [[topic, partition]...] }
//   { ev: 'commit', offsets: [[partition, offset]...] }
//   { ev: 'commit-failed', name, code, message }
//   { ev: 'stopped', name?, code? }  { ev: 'started' }  { ev: 'closed' }
// Every report carries `t` (Date.now()). Commands on stdin, one a line: 'commit' (commit what is safe now),
// 'close' (close the consumer, report 'closed', exit 0).

import { writeSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Consumer, type ConsumerMessage } from '../../src/client/consumer.js'
import { KafkaWireError } from '../../src/protocol/errors.js'

export interface ChildOptions {
  brokers: string
  groupId: string
  topic: string
  /** ms each message takes (a batch takes delayMs x its size). */
  delayMs: number
  /** Use a batchHandler of this size instead of a handler. */
  batchSize?: number
  groupInstanceId?: string
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  commitIntervalMs: number
}

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions

function report(event: Record<string, unknown>): void {
  writeSync(1, `${JSON.stringify({ ...event, t: Date.now() })}\n`)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const pairs = (tps: Array<{ topic: string; partition: number }>) => tps.map((tp) => [tp.topic, tp.partition])
const describe = (err: unknown) => ({
  name: err instanceof Error ? err.name : typeof err,
  code: err instanceof KafkaWireError ? err.code : undefined,
  message: err instanceof Error ? err.message : String(err),
})

const common = {
  brokers: options.brokers,
  groupId: options.groupId,
  topics: [options.topic],
  groupInstanceId: options.groupInstanceId ?? null,
  sessionTimeoutMs: options.sessionTimeoutMs,
  heartbeatIntervalMs: options.heartbeatIntervalMs,
  commitIntervalMs: options.commitIntervalMs,
  autoOffsetReset: 'earliest' as const,
}

const consumer =
  options.batchSize !== undefined
    ? new Consumer({
        ...common,
        batchSize: options.batchSize,
        batchHandler: async (messages: readonly ConsumerMessage[]) => {
          for (const m of messages) report({ ev: 'start', p: m.partition, o: String(m.offset) })
          await sleep(options.delayMs * messages.length)
          for (const m of messages) report({ ev: 'done', p: m.partition, o: String(m.offset) })
        },
      })
    : new Consumer({
        ...common,
        handler: async (m: ConsumerMessage) => {
          report({ ev: 'start', p: m.partition, o: String(m.offset) })
          await sleep(options.delayMs)
          report({ ev: 'done', p: m.partition, o: String(m.offset) })
        },
      })

consumer.on('assigned', (tps) => report({ ev: 'assigned', tps: pairs(tps) }))
consumer.on('revoked', (tps) => report({ ev: 'revoked', tps: pairs(tps) }))
consumer.on('lost', (tps) => report({ ev: 'lost', tps: pairs(tps) }))
consumer.on('commit', (entries: Array<{ partition: number; offset: bigint }>) =>
  report({ ev: 'commit', offsets: entries.map((e) => [e.partition, String(e.offset)]) }),
)
consumer.on('commit-failed', (err) => report({ ev: 'commit-failed', ...describe(err) }))
consumer.on('stopped', (reason: { error?: unknown }) => report({ ev: 'stopped', ...describe(reason?.error) }))
consumer.on('warning', (err) => report({ ev: 'warning', ...describe(err) }))

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = line.trim()
  if (command === 'commit') consumer.commit().catch(() => {})
  else if (command === 'close')
    consumer.close().then(() => {
      report({ ev: 'closed' })
      process.exit(0)
    })
})

consumer.start().then(
  () => report({ ev: 'started' }),
  (err) => {
    report({ ev: 'start-failed', ...describe(err) })
    process.exit(1)
  },
)
