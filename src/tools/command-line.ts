// What the `kafka-wire` commands share: option parsing with usage errors, the connection options (brokers,
// --command-config, SASL and TLS), one-line error reports with exit codes (2: usage, 1: anything else), value
// parsers, text tables, signals and percentiles.
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { quantile } from '../client/metrics.js'
import { KafkaWireError } from '../protocol/errors.js'
import { type ConnectionConfig, connectionConfigFromLayers, type SettingsLayer } from './client-settings.js'
import { readSettingsFile, type Settings } from './config-file.js'

/** The command line is wrong: an unknown option, a missing or malformed value. Exit code 2. */
export class UsageError extends KafkaWireError {
  constructor(message: string) {
    super('ERR_USAGE', message, { retriable: false })
  }
}

/** node:util parseArgs in strict mode, its errors turned into one-line UsageErrors. */
export function parseCommand<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  // A negative number after an option that takes a value is that value (--shift-by -5), not an option.
  const options = config.options ?? {}
  const args = [...(config.args ?? [])]
  for (let i = 0; i < args.length - 1; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : undefined
    if (name !== undefined && options[name]?.type === 'string' && /^-\d/.test(args[i + 1]))
      args.splice(i, 2, `${args[i]}=${args[i + 1]}`)
  }
  try {
    return parseArgs<T>({ strict: true, ...config, args })
  } catch (err) {
    const e = err as { code?: string; message?: string }
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      // Node's messages go on with advice about '--'; the first sentence says what is wrong.
      const first = String(e.message).split(/\.\s/)[0].replace(/\.$/, '')
      throw new UsageError(first.charAt(0).toLowerCase() + first.slice(1))
    }
    throw err
  }
}

/**
 * The options of every command that connects, spread into its parseCommand options. The security flags carry the
 * names of the Java client settings (as in a --command-config file), so one vocabulary serves both.
 */
export const CONNECTION_OPTIONS = {
  brokers: { type: 'string' },
  'command-config': { type: 'string' },
  'security.protocol': { type: 'string' },
  'sasl.mechanism': { type: 'string' },
  'sasl.username': { type: 'string' },
  'sasl.password': { type: 'string' },
  'sasl.oauthbearer.token.file': { type: 'string' },
  'ssl.ca.location': { type: 'string' },
  'ssl.certificate.location': { type: 'string' },
  'ssl.key.location': { type: 'string' },
  'ssl.key.password': { type: 'string' },
  'ssl.endpoint.identification.algorithm': { type: 'string' },
} as const

/** The paragraph about CONNECTION_OPTIONS that every connecting command's --help ends with. */
export const CONNECTION_USAGE = `connection (the flags override the --command-config file):
  --brokers LIST            bootstrap brokers, host:port[,host:port] (default: the file's bootstrap.servers,
                            else $KAFKA_BROKERS)
  --command-config FILE     client settings as Kafka's tools take them: Java properties or JSON with
                            bootstrap.servers, client.id, security.protocol, sasl.*, ssl.*, request.timeout.ms...
                            (consumer and producer settings are ignored, with a warning)
  --security.protocol P     PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL
  --sasl.mechanism M        PLAIN (default), SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER
  --sasl.username NAME
  --sasl.password PASS      default: the file's, else $KAFKA_SASL_PASSWORD (which keeps it out of ps)
  --sasl.oauthbearer.token.file FILE
                            OAUTHBEARER: a file holding the token, read again at each re-authentication
  --ssl.ca.location FILE    CA certificates to trust (PEM; default: Node's bundled CAs)
  --ssl.certificate.location FILE
                            a client certificate (PEM), for brokers that ask for one
  --ssl.key.location FILE   its private key (PEM)
  --ssl.key.password PASS   the key's passphrase
  --ssl.endpoint.identification.algorithm https|none
                            none: do not check that the broker's certificate names its host (default https)`

export type ConnectionValues = { readonly [K in keyof typeof CONNECTION_OPTIONS]?: string }

/** What a command's clients connect with: spread into an Admin, Producer or Consumer configuration. */
export type CommandConnection = ConnectionConfig & { brokers: string }

const SECURITY_FLAGS = (Object.keys(CONNECTION_OPTIONS) as Array<keyof ConnectionValues>).filter(
  (name) => name !== 'brokers' && name !== 'command-config',
)

/**
 * The connection of a command: the --command-config file, the security flags over it, the SASL password from
 * $KAFKA_SASL_PASSWORD when neither gives one, and the brokers from --brokers, else the file, else $KAFKA_BROKERS.
 * Files (the configuration, PEM files, a token file) are read here, so mistakes are one line before connecting:
 * a UsageError for the flags, a ConfigError naming the file and setting for the file.
 */
export function connectionSettingsOf(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv = process.env,
): { connection: CommandConnection; warnings: string[] } {
  const file = values['command-config']
  if (file === '') throw new UsageError('--command-config must not be empty')
  const layers: SettingsLayer[] = []
  if (file !== undefined) layers.push({ settings: readSettingsFile(file), source: file })
  const flags: Settings = new Map()
  for (const name of SECURITY_FLAGS) if (values[name] !== undefined) flags.set(name, values[name])
  layers.push({ settings: flags, source: 'the command line', flags: true, error: (m) => new UsageError(m) })
  const { config, warnings } = connectionConfigFromLayers(layers, {
    passwordFallback: { value: env.KAFKA_SASL_PASSWORD || undefined, name: '$KAFKA_SASL_PASSWORD' },
  })
  const brokers = values.brokers ?? config.brokers ?? env.KAFKA_BROKERS
  if (!brokers)
    throw new UsageError(
      file === undefined
        ? 'no brokers: give --brokers host:port or set KAFKA_BROKERS'
        : `no brokers: give --brokers host:port, bootstrap.servers in ${file}, or set KAFKA_BROKERS`,
    )
  return { connection: { ...config, brokers }, warnings }
}

/** connectionSettingsOf, its warnings written to stderr as `kafka-wire <command>: <warning>`. */
export function connectionOf(command: string, values: ConnectionValues): CommandConnection {
  const { connection, warnings } = connectionSettingsOf(values)
  for (const w of warnings) process.stderr.write(`kafka-wire ${command}: ${w}\n`)
  return connection
}

/** Whether an option is one of CONNECTION_OPTIONS (which every subcommand takes). */
export function isConnectionOption(name: string): boolean {
  return Object.hasOwn(CONNECTION_OPTIONS, name)
}

/** One line for an error: its message, with the code when the message does not start with it. */
export function errorLine(err: unknown): string {
  let text: string
  if (err instanceof KafkaWireError) {
    text = err.message.includes(err.code) || err instanceof UsageError ? err.message : `${err.message} [${err.code}]`
  } else if (err instanceof Error) text = err.message
  else text = String(err)
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

/**
 * Run a command body: an error becomes one line on stderr, `kafka-wire <name>: <what went wrong>`, and exit code 2
 * for usage errors (with a pointer to --help), 1 otherwise.
 */
export async function runCommand(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body()
  } catch (err) {
    const usage = err instanceof UsageError
    const hint = usage ? ` (see kafka-wire ${name} --help)` : ''
    process.stderr.write(`kafka-wire ${name}: ${errorLine(err)}${hint}\n`)
    return usage ? 2 : 1
  }
}

export function printUsage(usage: string): number {
  process.stdout.write(`${usage}\n`)
  return 0
}

/**
 * The subcommand of a command that has them (`topics list`, `groups describe`), or the exit code when there is
 * none to run: the usage for --help (0), a one-line error when it is missing (2).
 */
export function takeSubcommand(
  command: string,
  argv: string[],
  usage: string,
): { sub: string; rest: string[] } | number {
  const [sub, ...rest] = argv
  if (sub === undefined) {
    process.stderr.write(`kafka-wire ${command}: give a subcommand (see kafka-wire ${command} --help)\n`)
    return 2
  }
  if (sub === '-h' || sub === '--help' || sub === 'help') return printUsage(usage)
  return { sub, rest }
}

export function integerOption(
  name: string,
  value: string | undefined,
  bounds: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isSafeInteger(n))
    throw new UsageError(`--${name} must be an integer, got "${value}"`)
  if (bounds.min !== undefined && n < bounds.min) throw new UsageError(`--${name} must be at least ${bounds.min}`)
  if (bounds.max !== undefined && n > bounds.max) throw new UsageError(`--${name} must be at most ${bounds.max}`)
  return n
}

export function bigintOption(name: string, value: string): bigint {
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`--${name} must be an integer, got "${value}"`)
  return BigInt(value.trim())
}

/** A comma-separated list of partition numbers: "0,1,2". */
export function partitionList(name: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined
  const parts = value.split(',').map((s) => s.trim())
  if (parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--${name} takes partition numbers like 0,1,2`)
  return [...new Set(parts.map(Number))].sort((a, b) => a - b)
}

export function nameList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/** "k=v" options (repeatable) into pairs; the value may contain '='. */
export function keyValues(name: string, values: string[] | undefined): Array<[string, string]> {
  return (values ?? []).map((kv) => {
    const at = kv.indexOf('=')
    if (at <= 0) throw new UsageError(`--${name} takes key=value, got "${kv}"`)
    return [kv.slice(0, at), kv.slice(at + 1)]
  })
}

/** Milliseconds since the epoch, or an ISO-8601 date-time ("2024-05-01T12:00:00Z"; without a zone: local time). */
export function timestampOption(name: string, value: string): number {
  const v = value.trim()
  if (/^\d+$/.test(v)) return Number(v)
  const ms = Date.parse(v)
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(ms))
    throw new UsageError(`--${name} takes milliseconds since the epoch or an ISO date-time, got "${value}"`)
  return ms
}

export function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`)
  return value as T
}

/** Columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows) for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i] ?? 0, row[i].length)
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** JSON with bigints as numbers (offsets stay far below 2^53 in practice) and buffers left to the caller. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))
}

/**
 * Call `stop` on the first SIGINT or SIGTERM; a second one exits at once (130). Returns the function that
 * removes the handlers.
 */
export function onStopSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  let seen = false
  const handler = (signal: NodeJS.Signals) => {
    if (seen) process.exit(130)
    seen = true
    stop(signal)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}

export interface Percentiles {
  avg: number
  p50: number
  p95: number
  p99: number
  p999: number
  max: number
}

/** Percentiles of latencies in ms (the array is sorted in place), rounded to microseconds. */
export function percentiles(values: Float64Array): Percentiles {
  values.sort()
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]
  const r = (x: number) => Math.round(x * 1000) / 1000
  return {
    avg: r(values.length ? sum / values.length : 0),
    p50: r(quantile(values, 0.5)),
    p95: r(quantile(values, 0.95)),
    p99: r(quantile(values, 0.99)),
    p999: r(quantile(values, 0.999)),
    max: r(values.length ? values[values.length - 1] : 0),
  }
}

/** Write to stdout, resolving when the stream can take more (an exit that does not lose buffered output). */
export function writeOut(text: string | Buffer): Promise<void> | undefined {
  if (process.stdout.write(text)) return undefined
  return new Promise((resolve) => process.stdout.once('drain', resolve))
}
