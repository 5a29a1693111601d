#!/usr/bin/env node
// The `kafka-wire` command. Commands are added as the tools land; each has --help, and an error ends
// with a non-zero exit and one clear line.
import { pathToFileURL } from 'node:url'
import { runBrokerCommand } from './broker-cli.js'
import { runMirrorCommand } from './mirror-cli.js'
import { runSwitchCommand } from './switch-cli.js'
import { runSyslogCommand } from './syslog-cli.js'

const USAGE = `usage: kafka-wire <command> [options]

commands:
  broker up|down|status|logs   a local Apache Kafka from Maven Central's jars (see: kafka-wire broker --help)
  switch                       move running consumer fleets to another group (blue/green; see --help)
  syslog                       a syslog server (TCP/UDP, RFC 3164/5424) producing each line to a topic
  mirror                       copy topics from source clusters into a destination cluster (mirror maker)

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
