#!/usr/bin/env node
// The `kafka-wire` command. Commands are added as the tools land; each has --help, and an error ends
// with a non-zero exit and one clear line.
import { pathToFileURL } from 'node:url'
import { runBrokerCommand } from './broker-cli.js'
import { runConsumeCommand } from './consume-cli.js'
import { runGroupsCommand } from './groups-cli.js'
import { runMirrorCommand } from './mirror-cli.js'
import { runPerfCommand } from './perf-cli.js'
import { runProduceCommand } from './produce-cli.js'
import { runSwitchCommand } from './switch-cli.js'
import { runSyslogCommand } from './syslog-cli.js'
import { runTopicsCommand } from './topics-cli.js'

const USAGE = `usage: kafka-wire <command> [options]

commands:
  broker up|down|status|logs   a local Apache Kafka from Maven Central's jars (see: kafka-wire broker --help)
  switch                       move running consumer fleets to another group (blue/green; see --help)
  syslog                       a syslog server (TCP/UDP, RFC 3164/5424) producing each line to a topic
  mirror                       copy topics from source clusters into a destination cluster (mirror maker)
  produce                      send stdin's lines (or a file's) as messages
  consume                      print messages, as text or JSON lines, in a group or from chosen partitions
  topics                       list, describe, create, delete topics; alter configs; add partitions
  groups                       list, describe (lag), delete consumer groups; reset their offsets
  perf produce|consume         load tests with throughput and latency percentiles

Each command and subcommand takes --help. The commands that connect take --brokers (default: $KAFKA_BROKERS),
--command-config FILE (client properties, as Kafka's tools take them) and SASL/TLS flags named as those
settings: --security.protocol, --sasl.mechanism, --sasl.username, --ssl.ca.location...

options:
  -h, --help                   this text`

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`)
      return command === undefined ? 2 : 0
    case 'broker':
      return runBrokerCommand(rest)
    case 'switch':
      return runSwitchCommand(rest)
    case 'syslog':
      return runSyslogCommand(rest)
    case 'mirror':
      return runMirrorCommand(rest)
    case 'produce':
      return runProduceCommand(rest)
    case 'consume':
      return runConsumeCommand(rest)
    case 'topics':
      return runTopicsCommand(rest)
    case 'groups':
      return runGroupsCommand(rest)
    case 'perf':
      return runPerfCommand(rest)
    default:
      process.stderr.write(`kafka-wire: unknown command "${command}" (try kafka-wire --help)\n`)
      return 2
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      process.stderr.write(`kafka-wire: ${err instanceof Error ? err.message : String(err)}\n`)
      process.exitCode = 1
    },
  )
}
