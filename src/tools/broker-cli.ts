// `npm run kafka -- up|down|status|logs [--nodes 3] [--version 3.9.1] [--auth] [--dir D] [--port P]`
//
// up      start a local cluster (see local-broker.ts) and exit, leaving it running; prints the listener table
// down    stop exactly the pids in the state dir's pid files
// status  which nodes are up (exit code 1 when none is)
// logs    the last lines of each node's log
//
// The state dir defaults to .kafka/ in the current directory (gitignored), so `down` and `status` find what `up`
// started. runBrokerCommand() is the reusable entry point for the `kafka-wire broker ...` command.

import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import {
  AUTH_LISTENERS,
  type Cluster,
  clusterStatus,
  DEFAULT_KAFKA_VERSION,
  type ListenerName,
  openCluster,
  SASL_MECHANISMS,
  startCluster,
  stopCluster,
} from './local-broker.js'

export const DEFAULT_STATE_DIR = '.kafka'

const USAGE = `usage: kafka up|down|status|logs [options]
  --nodes N           nodes, each broker+controller (default 1; 3 for replication tests)
  --version V         Kafka release from Maven Central (default ${DEFAULT_KAFKA_VERSION}; also 3.9.1)
  --auth              add SASL_PLAINTEXT, SSL, SASL_SSL and MTLS listeners (user alice/alice-secret)
  --auto-create-topics  auto.create.topics.enable=true (default false)
  --port P            fixed ports from P (node k: P+10k PLAINTEXT, +1 CONTROLLER, +2..5 auth); default free ports
  --dir D             state dir (default ${DEFAULT_STATE_DIR}/ in the current directory)
  --lines N           lines per node for \`logs\` (default 40)`

export interface CommandIO {
  out: (line: string) => void
  err: (line: string) => void
}

const consoleIO: CommandIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}

/** Run `up|down|status|logs` with CLI arguments; resolves to the process exit code. */
export async function runBrokerCommand(argv: string[], io: CommandIO = consoleIO): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    io.err(`${(error as Error).message}\n${USAGE}`)
    return 2
  }
  const { command, values } = parsed
  if (values.help || command === 'help') {
    io.out(USAGE)
    return 0
  }
  const dir = resolve(values.dir ?? DEFAULT_STATE_DIR)

  switch (command) {
    case 'up': {
      const running = (await clusterStatus(dir)).filter((node) => node.running)
      if (running.length > 0) {
        io.out(`already running in ${dir} (nodes ${running.map((n) => n.id).join(', ')}); \`down\` first to restart`)
        printCluster(openCluster(dir), io)
        return 0
      }
      const started = Date.now()
      try {
        const cluster = await startCluster({
          dir,
          nodes: values.nodes === undefined ? 1 : Number(values.nodes),
          version: values.version ?? DEFAULT_KAFKA_VERSION,
          auth: values.auth ?? false,
          autoCreateTopics: values['auto-create-topics'] ?? false,
          basePort: values.port === undefined ? undefined : Number(values.port),
          stopOnExit: false,
          log: (message) => io.err(message),
        })
        io.out(
          `Kafka ${cluster.version}, ${cluster.nodes.length} node(s), up in ${Date.now() - started} ms; state in ${dir}`,
        )
        printCluster(cluster, io)
        return 0
      } catch (error) {
        io.err((error as Error).message)
        return 1
      }
    }
    case 'down': {
      const stopped = await stopCluster(dir)
      io.out(stopped.length > 0 ? `stopped node(s) ${stopped.join(', ')} in ${dir}` : `nothing running in ${dir}`)
      return 0
    }
    case 'status': {
      const nodes = await clusterStatus(dir)
      if (nodes.length === 0) {
        io.out(`no cluster in ${dir}`)
        return 1
      }
      for (const node of nodes) {
        const state = node.ready ? 'ready' : node.running ? 'running, not answering' : 'down'
        io.out(`node ${node.id}  ${node.address.padEnd(21)}  ${state}${node.pid ? `  (pid ${node.pid})` : ''}`)
      }
      return nodes.some((node) => node.running) ? 0 : 1
    }
    case 'logs': {
      try {
        io.out(openCluster(dir).logTails(values.lines === undefined ? 40 : Number(values.lines)))
        return 0
      } catch (error) {
        io.err((error as Error).message)
        return 1
      }
    }
    default:
      io.err(`unknown command ${command ?? '(none)'}\n${USAGE}`)
      return 2
  }
}

function parse(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nodes: { type: 'string' },
      version: { type: 'string' },
      auth: { type: 'boolean' },
      'auto-create-topics': { type: 'boolean' },
      port: { type: 'string' },
      dir: { type: 'string' },
      lines: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  for (const key of ['nodes', 'port', 'lines'] as const) {
    if (values[key] !== undefined && !/^\d+$/.test(values[key])) throw new Error(`--${key} needs a number`)
  }
  return { command: positionals[0], values }
}

function printCluster(cluster: Cluster, io: CommandIO): void {
  const listeners = cluster.listeners
  const names = Object.keys(listeners) as ListenerName[]
  const rows = [['listener', ...cluster.nodes.map((node) => `node ${node.id}`)]]
  for (const name of names) rows.push([name === 'MTLS' ? 'MTLS (SSL, client cert)' : name, ...(listeners[name] ?? [])])
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  for (const row of rows)
    io.out(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
  if (names.some((name) => AUTH_LISTENERS.includes(name))) {
    for (const user of cluster.users) io.out(`user ${user.username}/${user.password} (${SASL_MECHANISMS.join(', ')})`)
    if (cluster.tls) {
      io.out(`CA (PEM): ${cluster.tls.caPath}`)
      io.out(`client cert for MTLS: ${cluster.tls.clientPfxPath} (PKCS12, password ${cluster.tls.password})`)
    }
  }
  io.out(`export KAFKA_BROKERS=${cluster.bootstrap}`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await runBrokerCommand(process.argv.slice(2))
}
