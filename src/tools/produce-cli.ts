// `kafka-wire produce`: one message per line of stdin or a file, like kafka-console-producer.

import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import { createInterface, type Interface } from 'node:readline'
import { Admin } from '../client/admin.js'
import { ProduceError } from '../client/errors.js'
import { type Acks, Producer, type ProducerMessage } from '../client/producer.js'
import { CompressionCodecs, type CompressionName } from '../protocol/compression.js'
import { ErrorCode, KafkaError } from '../protocol/error-codes.js'
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  connectionOf,
  integerOption,
  keyValues,
  oneOf,
  onStopSignals,
  parseCommand,
  printUsage,
  runCommand,
  UsageError,
} from './command-line.js'

const USAGE = `usage: kafka-wire produce --topic T [options] < lines

Sends each line of stdin (or of --file) as one message, waits until all are acknowledged, and reports how many
were produced on stderr. The first failure stops the input; what was accepted before it is still delivered.

options:
  --topic T                 the topic (it must exist)
  --file PATH               read lines from this file instead of stdin
  --key-separator SEP       each line is KEY SEP VALUE (split at the first SEP); a line without SEP is an error
  --header k=v              a header on every message (repeatable)
  --partition N             send every message to partition N (default: by key, or sticky without keys)
  --compression C           none (default), gzip, snappy, lz4, zstd
  --acks A                  all (default; idempotent), 1, 0
  -h, --help                this text

${CONNECTION_USAGE}`

export const ACKS = ['all', '-1', '1', '0'] as const

export function acksOf(value: string | undefined): Acks {
  const acks = oneOf('acks', value, ACKS) ?? 'all'
  return acks === 'all' || acks === '-1' ? 'all' : (Number(acks) as 0 | 1)
}

export function compressionOf(value: string | undefined): CompressionName {
  return oneOf('compression', value, Object.keys(CompressionCodecs) as CompressionName[]) ?? 'none'
}

export async function runProduceCommand(argv: string[]): Promise<number> {
  return runCommand('produce', async () => {
    const { values } = parseCommand({
      args: argv,
      options: {
        ...CONNECTION_OPTIONS,
        topic: { type: 'string' },
        file: { type: 'string' },
        'key-separator': { type: 'string' },
        header: { type: 'string', multiple: true },
        partition: { type: 'string' },
        compression: { type: 'string' },
        acks: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (values.help) return printUsage(USAGE)
    const topic = values.topic
    if (!topic) throw new UsageError('give --topic T')
    const separator = values['key-separator']
    if (separator === '') throw new UsageError('--key-separator must not be empty')
    const headers = keyValues('header', values.header).map(([key, value]) => ({ key, value }))
    const partition = integerOption('partition', values.partition, { min: 0 })
    const acks = acksOf(values.acks)
    const compression = compressionOf(values.compression)
    const connection = connectionOf('produce', values)

    // An unknown topic or partition is one clear line now, not a delivery timeout per message later.
    const admin = new Admin({ clientId: 'kafka-wire-cli', ...connection })
    try {
      const [info] = await admin.describeTopics([topic])
      if (partition !== undefined && !info.partitions.some((p) => p.partition === partition))
        throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic, partition })
    } finally {
      admin.close()
    }

    const producer = new Producer({
      clientId: 'kafka-wire-cli',
      ...connection,
      acks,
      idempotent: acks === 'all',
      compression,
    })
    const input = values.file ? createReadStream(values.file) : process.stdin
    input.pause()
    const inputError = new Promise<never>((_, reject) => input.once('error', reject))
    inputError.catch(() => {})
    let lines: Interface | undefined
    let lineNo = 0
    let produced = 0
    let failure: { line: number; error: unknown } | null = null
    let interrupted = false
    const fail = (line: number, error: unknown) => {
      // The earliest failing line is the one reported.
      if (failure === null || line < failure.line) failure = { line, error }
      lines?.close()
    }
    const removeSignals = onStopSignals(() => {
      interrupted = true
      lines?.close()
    })
    try {
      await producer.connect()
      // Made once the loop below can take its lines at once (lines read before the iteration starts are lost).
      lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
      const reading = (async () => {
        for await (const line of lines!) {
          if (failure !== null || interrupted) break
          const n = ++lineNo
          const message: ProducerMessage = { topic, value: line }
          if (separator !== undefined) {
            const at = line.indexOf(separator)
            if (at < 0) {
              fail(n, new UsageError(`line ${n} has no key separator "${separator}"`))
              break
            }
            message.key = line.slice(0, at)
            message.value = line.slice(at + separator.length)
          }
          if (headers.length > 0) message.headers = headers
          if (partition !== undefined) message.partition = partition
          const callback = (err: ProduceError | null) => {
            if (err) fail(n, err)
            else produced++
          }
          while (!producer.produce(message, callback)) await once(producer, 'drain')
        }
      })()
      await Promise.race([reading, inputError])
      await producer.flush()
    } finally {
      removeSignals()
      lines?.close()
      if (input !== process.stdin) input.destroy()
      await producer.close({ timeoutMs: 30_000 })
    }
    const f = failure as { line: number; error: unknown } | null
    if (f !== null) {
      const where = f.error instanceof UsageError ? '' : `line ${f.line}: `
      const what = f.error instanceof Error ? f.error.message.replace(/\s*\n\s*/g, ' ') : String(f.error)
      throw new ProduceError(
        f.error instanceof ProduceError ? f.error.code : 'ERR_INPUT',
        `${where}${what} (${produced} message(s) produced)`,
      )
    }
    process.stderr.write(`produced ${produced} message(s) to ${topic}${interrupted ? ' (interrupted)' : ''}\n`)
    return 0
  })
}
