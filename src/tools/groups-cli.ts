// `kafka-wire groups`: list, describe (members and lag per partition), delete, reset-offsets
// (kafka-consumer-groups.sh's jobs).
import { Admin, type ResetTarget } from '../client/admin.js'
import type { TopicPartitionOffset } from '../client/offset-tracker.js'
import { KafkaWireError } from '../protocol/errors.js'
import {
  bigintOption,
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  connectionOf,
  integerOption,
  isConnectionOption,
  nameList,
  parseCommand,
  partitionList,
  printUsage,
  runCommand,
  table,
  takeSubcommand,
  timestampOption,
  toJson,
  UsageError,
} from './command-line.js'

const USAGE = `usage: kafka-wire groups <subcommand> [options]

subcommands:
  list                      every consumer group, with its state
  describe GROUP            members, assignments, and committed offset, end offset and lag per partition
  delete GROUP ...          delete groups (they must have no members)
  reset-offsets GROUP       move a group's committed offsets (the group must have no members)

options of every subcommand:
  -h, --help                the subcommand's options

${CONNECTION_USAGE}`

const HELP = `  -h, --help                this text

${CONNECTION_USAGE}`

const SUB_USAGE: Record<string, string> = {
  list: `usage: kafka-wire groups list [--json]

  --json                    a JSON array of {groupId, state, type, protocolType}
${HELP}`,
  describe: `usage: kafka-wire groups describe GROUP [--topic T[,T2]] [--json]

Prints the group's state and members, then one row per partition it has offsets for (or is assigned):
TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID, as kafka-consumer-groups --describe.
A partition without a committed offset shows "-" and the lag from its earliest offset.

  --topic T[,T2]            only these topics
  --json                    one JSON object: {groupId, state, protocolType, protocol, members, partitions:
                            [{topic, partition, committed, end, lag, memberId, clientId, host}]} (committed -1: none)
${HELP}`,
  delete: `usage: kafka-wire groups delete GROUP ...
${HELP}`,
  'reset-offsets': `usage: kafka-wire groups reset-offsets GROUP (--topic T[,T2] | --all-topics) TARGET [--dry-run | --execute]

Computes the new offsets and prints them; only --execute writes them. The group must have no active members.
Targets outside a partition's log are clamped to it, as Kafka's tool does.

targets (one):
  --to-earliest             the start of each partition
  --to-latest               the end of each partition
  --to-offset N             offset N
  --to-datetime D           the first offset at or after D (ms since the epoch, or ISO-8601 like 2024-05-01T12:00:00Z)
  --shift-by N              the committed offset plus N (negative: back)

  --topic T[,T2]            the topics to reset
  --all-topics              every topic the group has committed offsets for
  --partitions 0,1          only these partitions (with one --topic)
  --dry-run                 print the new offsets only (the default)
  --execute                 write them
  --json                    a JSON array of {topic, partition, offset}
${HELP}`,
}

export async function runGroupsCommand(argv: string[]): Promise<number> {
  const taken = takeSubcommand('groups', argv, USAGE)
  if (typeof taken === 'number') return taken
  const { sub, rest } = taken
  return runCommand(SUB_USAGE[sub] ? `groups ${sub}` : 'groups', async () => {
    if (!SUB_USAGE[sub]) throw new UsageError(`unknown subcommand "${sub}"`)
    const { values, positionals } = parseCommand({
      args: rest,
      allowPositionals: true,
      options: {
        ...CONNECTION_OPTIONS,
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        topic: { type: 'string', multiple: true },
        'all-topics': { type: 'boolean' },
        partitions: { type: 'string' },
        'to-earliest': { type: 'boolean' },
        'to-latest': { type: 'boolean' },
        'to-offset': { type: 'string' },
        'to-datetime': { type: 'string' },
        'shift-by': { type: 'string' },
        'dry-run': { type: 'boolean' },
        execute: { type: 'boolean' },
      },
    })
    if (values.help) return printUsage(SUB_USAGE[sub])
    const allowed: Record<string, string[]> = {
      list: ['json'],
      describe: ['json', 'topic'],
      delete: [],
      'reset-offsets': [
        'json',
        'topic',
        'all-topics',
        'partitions',
        'to-earliest',
        'to-latest',
        'to-offset',
        'to-datetime',
        'shift-by',
        'dry-run',
        'execute',
      ],
    }
    for (const key of Object.keys(values))
      if (!isConnectionOption(key) && key !== 'help' && !allowed[sub].includes(key))
        throw new UsageError(`unknown option '--${key}' for groups ${sub}`)
    if (sub === 'list' && positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    if (sub !== 'list' && positionals.length === 0) throw new UsageError('give a group')
    if ((sub === 'describe' || sub === 'reset-offsets') && positionals.length > 1)
      throw new UsageError(`one group only, got ${positionals.join(' ')}`)
    const topics = (values.topic ?? []).flatMap((t) => nameList(t))
    const reset = sub === 'reset-offsets' ? resetPlan(values, topics) : undefined

    const admin = new Admin({ clientId: 'kafka-wire-cli', ...connectionOf(`groups ${sub}`, values) })
    try {
      switch (sub) {
        case 'list': {
          const groups = await admin.listGroups()
          if (values.json) process.stdout.write(`${toJson(groups)}\n`)
          else if (groups.length > 0)
            process.stdout.write(
              `${table([
                ['GROUP', 'STATE', 'TYPE', 'PROTOCOL-TYPE'],
                ...groups.map((g) => [g.groupId, g.state, g.type || '-', g.protocolType || '-']),
              ])}\n`,
            )
          return 0
        }
        case 'describe':
          return await describe(admin, positionals[0], topics.length > 0 ? topics : undefined, values.json === true)
        case 'delete':
          await admin.deleteGroups(positionals)
          process.stdout.write(`deleted ${positionals.length === 1 ? 'group' : 'groups'} ${positionals.join(', ')}\n`)
          return 0
        case 'reset-offsets':
          return await resetOffsets(admin, positionals[0], reset!, values.json === true)
      }
      return 0
    } finally {
      admin.close()
    }
  })
}

async function describe(admin: Admin, groupId: string, topics: string[] | undefined, json: boolean): Promise<number> {
  const [group, lags] = await Promise.all([admin.describeGroup(groupId), admin.groupLag(groupId, topics)])
  if (group.state === 'Dead' && lags.every((l) => l.committed < 0n))
    throw new KafkaWireError('ERR_GROUP_NOT_FOUND', `consumer group ${groupId} does not exist`)
  const hosts = new Map(group.members.map((m) => [m.memberId, m.clientHost]))
  const partitions = lags.map((l) => ({ ...l, host: l.memberId === null ? null : (hosts.get(l.memberId) ?? null) }))
  if (json) {
    process.stdout.write(`${toJson({ ...group, partitions })}\n`)
    return 0
  }
  const lines = [
    `GROUP ${group.groupId}  STATE ${group.state}  PROTOCOL ${group.protocol || '-'}  MEMBERS ${group.members.length}`,
  ]
  if (group.members.length > 0) {
    lines.push('')
    lines.push(
      table([
        ['CONSUMER-ID', 'HOST', 'CLIENT-ID', 'INSTANCE-ID', '#PARTITIONS', 'ASSIGNMENT'],
        ...group.members.map((m) => [
          m.memberId,
          m.clientHost,
          m.clientId,
          m.groupInstanceId ?? '-',
          String(m.assignment.length),
          compactAssignment(m.assignment) || '-',
        ]),
      ]),
    )
  }
  if (partitions.length > 0) {
    lines.push('')
    lines.push(
      table([
        ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
        ...partitions.map((p) => [
          p.topic,
          String(p.partition),
          p.committed < 0n ? '-' : String(p.committed),
          String(p.end),
          String(p.lag),
          p.memberId ?? '-',
          p.host ?? '-',
          p.clientId ?? '-',
        ]),
      ]),
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}

/** "t(0,1,2) u(0)" */
function compactAssignment(assignment: Array<{ topic: string; partition: number }>): string {
  const byTopic = new Map<string, number[]>()
  for (const a of assignment) {
    let list = byTopic.get(a.topic)
    if (!list) byTopic.set(a.topic, (list = []))
    list.push(a.partition)
  }
  return [...byTopic]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([t, ps]) => `${t}(${ps.sort((a, b) => a - b).join(',')})`)
    .join(' ')
}

interface ResetPlan {
  topics: string[]
  allTopics: boolean
  partitions?: number[]
  target: ResetTarget
  execute: boolean
}

function resetPlan(
  values: {
    'all-topics'?: boolean
    partitions?: string
    'to-earliest'?: boolean
    'to-latest'?: boolean
    'to-offset'?: string
    'to-datetime'?: string
    'shift-by'?: string
    'dry-run'?: boolean
    execute?: boolean
  },
  topics: string[],
): ResetPlan {
  const targets: ResetTarget[] = []
  if (values['to-earliest']) targets.push('earliest')
  if (values['to-latest']) targets.push('latest')
  if (values['to-offset'] !== undefined) {
    const offset = bigintOption('to-offset', values['to-offset'])
    if (offset < 0n) throw new UsageError('--to-offset must not be negative')
    targets.push({ offset })
  }
  if (values['to-datetime'] !== undefined)
    targets.push({ timestamp: timestampOption('to-datetime', values['to-datetime']) })
  if (values['shift-by'] !== undefined) targets.push({ shiftBy: integerOption('shift-by', values['shift-by'])! })
  if (targets.length !== 1)
    throw new UsageError(
      targets.length === 0
        ? 'give a target: --to-earliest, --to-latest, --to-offset N, --to-datetime D or --shift-by N'
        : 'give one target only',
    )
  if (values['dry-run'] && values.execute) throw new UsageError('give --dry-run or --execute, not both')
  const allTopics = values['all-topics'] === true
  if (allTopics === topics.length > 0) throw new UsageError('give --topic T or --all-topics (one of them)')
  const partitions = partitionList('partitions', values.partitions)
  if (partitions && topics.length !== 1) throw new UsageError('--partitions goes with exactly one --topic')
  return { topics, allTopics, partitions, target: targets[0], execute: values.execute === true }
}

async function resetOffsets(admin: Admin, groupId: string, plan: ResetPlan, json: boolean): Promise<number> {
  let topics = plan.topics
  if (plan.allTopics) {
    topics = [...new Set((await admin.groupOffsets(groupId)).map((o) => o.topic))].sort()
    if (topics.length === 0)
      throw new KafkaWireError('ERR_GROUP_NOT_FOUND', `group ${groupId} has no committed offsets to reset`)
  }
  // Check every topic first: a typo in the second one must not leave the first one reset.
  await admin.describeTopics(topics)
  const before = new Map(
    (await admin.groupOffsets(groupId, topics)).map((o) => [`${o.topic}:${o.partition}`, o.offset]),
  )
  const out: Array<TopicPartitionOffset & { previous: bigint }> = []
  for (const topic of topics) {
    const moved = await admin.resetGroupOffsets(groupId, topic, plan.target, {
      partitions: plan.partitions,
      dryRun: !plan.execute,
    })
    for (const m of moved) out.push({ ...m, previous: before.get(`${m.topic}:${m.partition}`) ?? -1n })
  }
  if (json) process.stdout.write(`${toJson(out)}\n`)
  else
    process.stdout.write(
      `${table([
        ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
        ...out.map((o) => [
          groupId,
          o.topic,
          String(o.partition),
          o.previous < 0n ? '-' : String(o.previous),
          String(o.offset),
        ]),
      ])}\n`,
    )
  if (!plan.execute) process.stderr.write('dry run: nothing was written (give --execute to write these offsets)\n')
  return 0
}
