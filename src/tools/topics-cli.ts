// `kafka-wire topics`: list, describe, create, delete, alter configs, add partitions (kafka-topics.sh's jobs).
import { Admin, type ConfigChange } from '../client/admin.js'
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  connectionOf,
  integerOption,
  isConnectionOption,
  keyValues,
  parseCommand,
  printUsage,
  runCommand,
  table,
  takeSubcommand,
  toJson,
  UsageError,
} from './command-line.js'

const USAGE = `usage: kafka-wire topics <subcommand> [options]

subcommands:
  list                      the topics' names
  describe [TOPIC ...]      partitions, leaders, replicas, ISR and the topic's own configs
  create TOPIC              a new topic
  delete TOPIC ...          delete topics
  alter TOPIC               set or delete topic configs
  add-partitions TOPIC      grow a topic to more partitions

options of every subcommand:
  -h, --help                the subcommand's options

${CONNECTION_USAGE}`

const HELP = `  -h, --help                this text

${CONNECTION_USAGE}`

const SUB_USAGE: Record<string, string> = {
  list: `usage: kafka-wire topics list [--internal] [--json]

  --internal                include internal topics (__consumer_offsets, ...)
  --json                    a JSON array of names
${HELP}`,
  describe: `usage: kafka-wire topics describe [TOPIC ...] [--json]

Without topics: every topic. Shows each partition's leader, replicas and in-sync replicas, and the configs set
on the topic itself.

  --json                    a JSON array of {name, topicId, internal, partitions: [{partition, leader, replicas,
                            isr, offlineReplicas}], configs}
${HELP}`,
  create: `usage: kafka-wire topics create TOPIC [--partitions N] [--replication-factor N] [--config k=v ...]

  --partitions N            default: the broker's num.partitions
  --replication-factor N    default: the broker's default.replication.factor
  --config k=v              a topic config (repeatable), e.g. --config cleanup.policy=compact
  --if-not-exists           an existing topic is not an error
${HELP}`,
  delete: `usage: kafka-wire topics delete TOPIC ... [--if-exists]

  --if-exists               a missing topic is not an error
${HELP}`,
  alter: `usage: kafka-wire topics alter TOPIC [--config k=v ...] [--delete-config k ...]

Changes only the configs named; the others keep their values.

  --config k=v              set a config (repeatable)
  --delete-config KEY       remove a config override, back to the broker's default (repeatable)
${HELP}`,
  'add-partitions': `usage: kafka-wire topics add-partitions TOPIC --partitions N

  --partitions N            the new partition count (Kafka never removes partitions)
${HELP}`,
}

export async function runTopicsCommand(argv: string[]): Promise<number> {
  const taken = takeSubcommand('topics', argv, USAGE)
  if (typeof taken === 'number') return taken
  const { sub, rest } = taken
  const name = `topics ${sub}`
  return runCommand(SUB_USAGE[sub] ? name : 'topics', async () => {
    if (!SUB_USAGE[sub]) throw new UsageError(`unknown subcommand "${sub}"`)
    const { values, positionals } = parseCommand({
      args: rest,
      allowPositionals: true,
      options: {
        ...CONNECTION_OPTIONS,
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
        internal: { type: 'boolean' },
        partitions: { type: 'string' },
        'replication-factor': { type: 'string' },
        config: { type: 'string', multiple: true },
        'delete-config': { type: 'string', multiple: true },
        'if-not-exists': { type: 'boolean' },
        'if-exists': { type: 'boolean' },
      },
    })
    if (values.help) return printUsage(SUB_USAGE[sub])
    // Options are shared by the parser: one that this subcommand does not take is an error all the same.
    const allowed: Record<string, string[]> = {
      list: ['internal', 'json'],
      describe: ['json'],
      create: ['partitions', 'replication-factor', 'config', 'if-not-exists'],
      delete: ['if-exists'],
      alter: ['config', 'delete-config'],
      'add-partitions': ['partitions'],
    }
    for (const key of Object.keys(values))
      if (!isConnectionOption(key) && key !== 'help' && !allowed[sub].includes(key))
        throw new UsageError(`unknown option '--${key}' for topics ${sub}`)
    const positional = (what: string, many = false) => {
      if (positionals.length === 0) throw new UsageError(`give ${what}`)
      if (!many && positionals.length > 1) throw new UsageError(`one topic only, got ${positionals.join(' ')}`)
      return positionals
    }
    if (sub === 'list' && positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`)
    // Check the arguments before connecting.
    const partitions = integerOption('partitions', values.partitions, { min: 1 })
    const replicationFactor = integerOption('replication-factor', values['replication-factor'], { min: 1 })
    const configs = keyValues('config', values.config)
    const topics = sub === 'list' || sub === 'describe' ? positionals : positional('a topic', sub === 'delete')
    if (sub === 'add-partitions' && partitions === undefined) throw new UsageError('give --partitions N')
    if (sub === 'alter' && configs.length === 0 && !values['delete-config'])
      throw new UsageError('give --config k=v or --delete-config KEY')

    const admin = new Admin({ clientId: 'kafka-wire-cli', ...connectionOf(name, values) })
    try {
      switch (sub) {
        case 'list': {
          const names = await admin.listTopics({ includeInternal: values.internal === true })
          process.stdout.write(values.json ? `${JSON.stringify(names)}\n` : names.map((n) => `${n}\n`).join(''))
          return 0
        }
        case 'describe':
          return await describe(admin, topics.length > 0 ? topics : undefined, values.json === true)
        case 'create':
          await admin.createTopics(
            [{ topic: topics[0], partitions, replicationFactor, configs: Object.fromEntries(configs) }],
            { ignoreExisting: values['if-not-exists'] === true },
          )
          process.stdout.write(`created topic ${topics[0]}\n`)
          return 0
        case 'delete':
          await admin.deleteTopics(topics, { ignoreMissing: values['if-exists'] === true })
          process.stdout.write(`deleted ${topics.length === 1 ? 'topic' : 'topics'} ${topics.join(', ')}\n`)
          return 0
        case 'alter': {
          const changes: ConfigChange[] = [
            ...configs.map(([key, value]) => ({ name: key, op: 'set' as const, value })),
            ...(values['delete-config'] ?? []).map((key) => ({ name: key, op: 'delete' as const })),
          ]
          await admin.describeTopics([topics[0]])
          await admin.alterConfigs({ type: 'topic', name: topics[0] }, changes)
          process.stdout.write(`altered ${changes.length} config(s) of topic ${topics[0]}\n`)
          return 0
        }
        case 'add-partitions': {
          const [info] = await admin.describeTopics([topics[0]])
          if (partitions! <= info.partitions.length)
            throw new UsageError(
              `topic ${topics[0]} has ${info.partitions.length} partitions: --partitions must be more (Kafka never removes partitions)`,
            )
          await admin.createPartitions([{ topic: topics[0], count: partitions! }])
          process.stdout.write(`topic ${topics[0]} now has ${partitions} partitions\n`)
          return 0
        }
      }
      return 0
    } finally {
      admin.close()
    }
  })
}

async function describe(admin: Admin, topics: string[] | undefined, json: boolean): Promise<number> {
  const descriptions = await admin.describeTopics(topics)
  const out = await Promise.all(
    descriptions.map(async (d) => {
      const all = await admin.describeConfigs({ type: 'topic', name: d.name })
      const configs: Record<string, string | null> = {}
      for (const [key, entry] of Object.entries(all))
        if (entry.source === 'topic') configs[key] = entry.sensitive ? '(sensitive)' : entry.value
      return { ...d, configs }
    }),
  )
  if (json) {
    process.stdout.write(`${toJson(out)}\n`)
    return 0
  }
  const lines: string[] = []
  for (const t of out) {
    const rf = t.partitions[0]?.replicas.length ?? 0
    const configs = Object.entries(t.configs)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')
    lines.push(
      `Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${configs}`,
    )
    const rows = t.partitions.map((p) => [
      '',
      `Partition: ${p.partition}`,
      `Leader: ${p.leader < 0 ? 'none' : p.leader}`,
      `Replicas: ${p.replicas.join(',')}`,
      `Isr: ${p.isr.join(',')}`,
      p.offlineReplicas.length > 0 ? `Offline: ${p.offlineReplicas.join(',')}` : '',
    ])
    if (rows.length > 0) lines.push(table(rows))
  }
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}
