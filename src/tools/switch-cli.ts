// `kafka-wire switch`: write a blue/green switch request to the control topic (docs/blue-green.md).
import { parseArgs } from 'node:util'
import { DEFAULT_CONTROL_TOPIC, requestSwitch, type SwitchTarget } from '../client/blue-green.js'
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connectionOf } from './command-line.js'

const USAGE = `usage: kafka-wire switch --from GROUP --to GROUP [target options] [--swap [source options]]

Moves every running instance of group --from (consumers started with blueGreen) to group --to: they drain,
commit, leave, and join --to, resuming from its committed offsets. With --swap, the instances of --to move
to --from at the same time.

options:
  --from GROUP           the group whose instances move
  --to GROUP             the group they join
  --to-topics T1,T2      the subscription in --to (default: keep the current one)
  --to-whitelist RE      ... or every topic matching RE
  --to-blacklist RE      ... or every topic not matching RE
  --swap                 also move the instances of --to to --from
  --from-topics T1,T2    with --swap: the subscription they take in --from
  --from-whitelist RE
  --from-blacklist RE
  --control-topic NAME   default ${DEFAULT_CONTROL_TOPIC}
  -h, --help             this text

${CONNECTION_USAGE}`

function target(groupId: string, topics?: string, whitelist?: string, blacklist?: string): SwitchTarget {
  const given = [topics, whitelist, blacklist].filter((x) => x !== undefined).length
  if (given > 1) throw new Error(`group ${groupId}: give topics, a whitelist or a blacklist, not several`)
  const t: SwitchTarget = { groupId }
  if (topics !== undefined)
    t.topics = topics
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  if (whitelist !== undefined) t.whitelist = whitelist
  if (blacklist !== undefined) t.blacklist = blacklist
  return t
}

export async function runSwitchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...CONNECTION_OPTIONS,
      from: { type: 'string' },
      to: { type: 'string' },
      'to-topics': { type: 'string' },
      'to-whitelist': { type: 'string' },
      'to-blacklist': { type: 'string' },
      swap: { type: 'boolean' },
      'from-topics': { type: 'string' },
      'from-whitelist': { type: 'string' },
      'from-blacklist': { type: 'string' },
      'control-topic': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (!values.from || !values.to) throw new Error('give --from GROUP and --to GROUP (see kafka-wire switch --help)')
  if (!values.swap && (values['from-topics'] || values['from-whitelist'] || values['from-blacklist']))
    throw new Error('--from-topics, --from-whitelist and --from-blacklist only go with --swap')
  const switches = [
    {
      from: values.from,
      to: target(values.to, values['to-topics'], values['to-whitelist'], values['to-blacklist']),
    },
  ]
  if (values.swap)
    switches.push({
      from: values.to,
      to: target(values.from, values['from-topics'], values['from-whitelist'], values['from-blacklist']),
    })
  const requests = await requestSwitch({
    ...connectionOf('switch', values),
    controlTopic: values['control-topic'] ?? DEFAULT_CONTROL_TOPIC,
    switches,
  })
  for (const r of requests) process.stdout.write(`${JSON.stringify(r)}\n`)
  return 0
}
