// `kafka-wire consume`: print messages, one per line, like kafka-console-consumer and kcat -C.
import { Admin } from '../client/admin.js'
import { type AssignedPartition, Consumer, type ConsumerMessage, type SeekTarget } from '../client/consumer.js'
import { ErrorCode, KafkaError } from '../protocol/error-codes.js'
import {
  bigintOption,
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  connectionOf,
  errorLine,
  integerOption,
  nameList,
  oneOf,
  onStopSignals,
  parseCommand,
  partitionList,
  printUsage,
  runCommand,
  timestampOption,
  UsageError,
} from './command-line.js'

const USAGE = `usage: kafka-wire consume --topic T (--group G | --partitions 0,1) [options]

Prints each message on a line of stdout until --max-messages, --timeout-ms, or SIGINT/SIGTERM, then commits
(with a group), leaves the group, and reports how many were printed on stderr.

options:
  --topic T                 the topic (with --group, several: T1,T2)
  --group G                 consume in group G: partitions are shared with its other members, offsets committed
  --partitions 0,1          read these partitions directly, outside any group (with --group too: commit to G)
  --from-beginning          start at the earliest offset (with a group: when it has no committed offset)
  --offset N                start at offset N of each partition (needs --partitions)
  --from-timestamp T        start at the first message at or after T: ms since the epoch or ISO-8601
                            (with a group: its committed offsets are reset to T first, as groups reset-offsets
                            --to-datetime --execute does; the group must have no active members)
                            default start: the group's committed offset, else the end (new messages only)
  --max-messages N          stop after N messages
  --timeout-ms MS           stop after MS without a message
  --format F                value (default): the value alone ("null" for none)
                            json: {"topic","partition","offset","timestamp","key","value","headers":[{"key","value"}]}
  --base64                  keys, values and header values as base64 instead of UTF-8 text
  -h, --help                this text

${CONNECTION_USAGE}`

export async function runConsumeCommand(argv: string[]): Promise<number> {
  return runCommand('consume', async () => {
    const { values } = parseCommand({
      args: argv,
      options: {
        ...CONNECTION_OPTIONS,
        topic: { type: 'string' },
        group: { type: 'string' },
        partitions: { type: 'string' },
        'from-beginning': { type: 'boolean' },
        offset: { type: 'string' },
        'from-timestamp': { type: 'string' },
        'max-messages': { type: 'string' },
        'timeout-ms': { type: 'string' },
        format: { type: 'string' },
        base64: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (values.help) return printUsage(USAGE)
    const topics = nameList(values.topic)
    if (topics.length === 0) throw new UsageError('give --topic T')
    const groupId = values.group
    if (groupId === '') throw new UsageError('--group must not be empty')
    const partitions = partitionList('partitions', values.partitions)
    if (groupId === undefined && partitions === undefined)
      throw new UsageError('give --group G (group subscription) or --partitions 0,1 (no group)')
    if (partitions !== undefined && topics.length > 1) throw new UsageError('--partitions goes with one --topic')
    const starts = [values['from-beginning'], values.offset, values['from-timestamp']].filter((x) => x !== undefined)
    if (starts.length > 1) throw new UsageError('give one of --from-beginning, --offset and --from-timestamp')
    let start: SeekTarget | undefined
    if (values['from-beginning']) start = 'earliest'
    if (values.offset !== undefined) {
      if (partitions === undefined) throw new UsageError('--offset needs --partitions')
      start = bigintOption('offset', values.offset)
      if (start < 0n) throw new UsageError('--offset must not be negative')
    }
    if (values['from-timestamp'] !== undefined)
      start = { timestamp: timestampOption('from-timestamp', values['from-timestamp']) }
    const maxMessages = integerOption('max-messages', values['max-messages'], { min: 1 })
    const timeoutMs = integerOption('timeout-ms', values['timeout-ms'], { min: 1 })
    const format = oneOf('format', values.format, ['value', 'json'] as const) ?? 'value'
    const encoding = values.base64 ? 'base64' : 'utf8'
    const connection = connectionOf('consume', values)

    // Unknown topics and partitions are one clear line now, not a consumer waiting for them forever.
    const admin = new Admin({ clientId: 'kafka-wire-cli', ...connection })
    try {
      const infos = await admin.describeTopics(topics)
      for (const p of partitions ?? [])
        if (!infos[0].partitions.some((x) => x.partition === p))
          throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: topics[0], partition: p })
      // A group starts at a timestamp through its committed offsets: set before joining, they hold for every
      // partition, whichever member gets it.
      if (groupId !== undefined && typeof start === 'object')
        for (const topic of topics) await admin.resetGroupOffsets(groupId, topic, start, { partitions })
    } finally {
      admin.close()
    }

    const format1 = (m: ConsumerMessage): string => {
      const text = (b: Buffer | null) => (b === null ? null : b.toString(encoding))
      if (format === 'value') return `${text(m.value) ?? 'null'}\n`
      return `${JSON.stringify({
        topic: m.topic,
        partition: m.partition,
        offset: Number(m.offset),
        timestamp: m.timestamp,
        key: text(m.key),
        value: text(m.value),
        headers: m.headers.map((h) => ({ key: h.key, value: text(h.value) })),
      })}\n`
    }

    let printed = 0
    let lastActivity = Date.now()
    let stopping = false
    let stop: (why: string) => void = () => {}
    const stopped = new Promise<string>((resolve) => {
      stop = (why) => {
        stopping = true
        resolve(why)
      }
    })
    // A closed stdout (| head) ends the run quietly.
    const onStdoutError = (err: NodeJS.ErrnoException) => stop(err.code === 'EPIPE' ? 'stdout closed' : errorLine(err))
    process.stdout.on('error', onStdoutError)

    const assignment: AssignedPartition[] | undefined = partitions?.map((partition) => ({
      topic: topics[0],
      partition,
      offset:
        groupId !== undefined && typeof start === 'object'
          ? undefined
          : (start ?? (groupId === undefined ? 'latest' : undefined)),
    }))
    const consumer = new Consumer({
      clientId: 'kafka-wire-cli',
      ...connection,
      groupId,
      ...(assignment ? { assignment } : { topics }),
      autoOffsetReset: start === 'earliest' ? 'earliest' : 'latest',
      concurrency: 1,
      maxRetries: 0,
      taskTimeoutMs: 0,
      commitIntervalMs: 2000,
      // Messages past the last one printed are parked and abandoned at close: they are not committed.
      revokeMode: 'abandon',
      handler: (m) => {
        if (stopping) return new Promise<void>(() => {})
        lastActivity = Date.now()
        const ok = process.stdout.write(format1(m))
        printed++
        if (maxMessages !== undefined && printed >= maxMessages) stop('max messages')
        if (!ok && !stopping) return new Promise<void>((resolve) => process.stdout.once('drain', resolve))
      },
    })
    let failure: unknown = null
    consumer.on('stopped', (reason: { error?: unknown }) => {
      failure = reason?.error ?? new Error('the consumer stopped')
      stop('failed')
    })
    const removeSignals = onStopSignals(() => stop('signal'))
    let idleTimer: NodeJS.Timeout | undefined
    try {
      await Promise.race([consumer.start(), stopped])
      lastActivity = Date.now()
      if (timeoutMs !== undefined)
        idleTimer = setInterval(
          () => {
            if (Date.now() - lastActivity >= timeoutMs) stop('idle')
          },
          Math.min(timeoutMs, 200),
        )
      await stopped
    } finally {
      if (idleTimer) clearInterval(idleTimer)
      removeSignals()
      stopping = true
      await consumer.close()
      process.stdout.off('error', onStdoutError)
    }
    if (failure !== null) throw failure
    process.stderr.write(`consumed ${printed} message(s)\n`)
    return 0
  })
}
