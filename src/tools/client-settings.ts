// What the settings of a client configuration file mean: Java client names (bootstrap.servers, group.id,
// linger.ms...), a few librdkafka and go_kafka_client spellings, and kafka-wire's own option names (groupId,
// lingerMs is not one: see SETTINGS below). Read for the mirror maker's --consumer.config / --producer.config,
// and for the connection part of every command's --command-config, where flags of the same names are a layer on
// top of the file. An unknown setting is a ConfigError naming the file and the setting; Java settings that have no
// meaning here (serializers, enable.auto.commit) are ignored with a warning.

import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import type { ConsumerConfig } from '../client/consumer.js'
import { ConfigError } from '../client/errors.js'
import type { Acks, ProducerConfig } from '../client/producer.js'
import type { ClusterOptions } from '../network/cluster.js'
import type { SaslConfig } from '../network/sasl.js'
import type { CompressionName } from '../protocol/compression.js'
import { readSettingsFile, type Settings, type SettingValue } from './config-file.js'

/** The consumer settings of one source cluster (the mirror maker chooses the subscription and the handler). */
export type MirrorConsumerConfig = Omit<
  ConsumerConfig,
  | 'topics'
  | 'whitelist'
  | 'blacklist'
  | 'assignment'
  | 'handler'
  | 'batchHandler'
  | 'batchSize'
  | 'concurrency'
  | 'ordering'
  | 'maxRetries'
  | 'retryBackoff'
  | 'taskTimeoutMs'
  | 'onFailedAttempt'
  | 'onFailure'
  | 'failureThreshold'
  | 'failureWindowMs'
  | 'deadLetter'
  | 'deadLetterTopic'
  | 'deadLetterProducer'
  | 'maxPending'
  | 'blueGreen'
  | 'metrics'
  | 'offsetStore'
> & { groupId: string }

/** The destination producer's settings (the mirror maker chooses partitions and metrics). */
export type MirrorProducerConfig = Omit<
  ProducerConfig<Buffer | null, Buffer | null>,
  'keySerializer' | 'valueSerializer' | 'partitioner' | 'metrics' | 'returnSuccesses' | 'returnErrors'
>

export interface LoadedConfig<T> {
  config: T
  /** What was ignored, a line each (for stderr). */
  warnings: string[]
}

/** How a client reaches the cluster: the part of a configuration every client (Admin, Producer, Consumer) takes. */
export type ConnectionConfig = Pick<
  ClusterOptions,
  | 'clientId'
  | 'tls'
  | 'sasl'
  | 'requestTimeoutMs'
  | 'connectTimeoutMs'
  | 'idleTimeoutMs'
  | 'metadataMaxAgeMs'
  | 'reconnectBackoff'
  | 'allowAutoTopicCreation'
> & { brokers?: string }

/**
 * Settings from one place: a file (messages name it and the setting) or command-line flags of the same dotted
 * names (messages name the flag, `--sasl.username`). Later layers override earlier ones, setting by setting.
 */
export interface SettingsLayer {
  settings: Settings
  /** The file's path, or what to call the flags. */
  source: string
  flags?: boolean
  /** The error for a bad setting of this layer. Default: a ConfigError. */
  error?: (message: string) => Error
}

export interface ConnectionLoadOptions {
  /**
   * The SASL password when no layer gives one, and what to call it in messages (e.g. an environment variable).
   * Read only when SASL is on, so a password lying around in the environment never makes a plaintext setup wrong.
   */
  passwordFallback?: { value: string | undefined; name: string }
}

type Kind = 'common' | 'consumer' | 'producer'

/** Where a value came from: a layer and the name it was given under. */
interface Origin {
  layer: SettingsLayer
  name: string
}

interface Security {
  protocol?: string
  mechanism?: string
  username?: string
  password?: string
  tokenFile?: string
  ca?: string
  cert?: string
  key?: string
  keyPassword?: string
  noHostnameCheck?: boolean
  /** Where each of the above was last set. */
  from: Partial<Record<Exclude<keyof Security, 'from'>, Origin>>
}

interface Context {
  origin: Origin
  value: SettingValue
  /** Security settings, combined once every setting is read. */
  security: Security
}

type Target = Record<string, unknown>

interface Setting {
  kind: Kind
  /** Accepted names: the first is the one documented. */
  names: string[]
  apply(target: Target, ctx: Context): void
}

// ------------------------------------------------------------------------------------------------ value parsers

/** `c.properties: sasl.username` for a file, `--sasl.username` for a flag. */
function at(origin: Origin): string {
  return origin.layer.flags ? `--${origin.name}` : `${origin.layer.source}: ${origin.name}`
}

/** A setting's name as the user of that layer writes it. */
function named(layer: SettingsLayer, name: string): string {
  return layer.flags ? `--${name}` : name
}

/** `c.properties: ` before a message about a file's settings; nothing for flags (which are named in it). */
function prefix(layer: SettingsLayer): string {
  return layer.flags ? '' : `${layer.source}: `
}

function failure(layer: SettingsLayer, message: string, cause?: unknown): Error {
  if (layer.error) return layer.error(message)
  return new ConfigError(message, cause === undefined ? {} : { cause })
}

function bad(ctx: Context, why: string): Error {
  return failure(ctx.origin.layer, `${at(ctx.origin)}=${String(ctx.value)}: ${why}`)
}

function int(ctx: Context, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = typeof ctx.value === 'string' ? ctx.value.trim() : ctx.value
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw bad(ctx, `expected an integer${max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` from ${min} to ${max}`}`)
  return n
}

function bool(ctx: Context): boolean {
  if (typeof ctx.value === 'boolean') return ctx.value
  const v = String(ctx.value).trim().toLowerCase()
  if (v === 'true') return true
  if (v === 'false') return false
  throw bad(ctx, 'expected true or false')
}

function str(ctx: Context): string {
  if (typeof ctx.value !== 'string') throw bad(ctx, 'expected a string')
  return ctx.value.trim()
}

function oneOf<T extends string>(ctx: Context, values: Record<string, T>): T {
  const v = String(ctx.value).trim().toLowerCase()
  const found = values[v]
  if (found === undefined) throw bad(ctx, `expected one of ${Object.keys(values).join(', ')}`)
  return found
}

function list(ctx: Context): string[] {
  return String(ctx.value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

const set =
  (prop: string, parse: (ctx: Context) => unknown) =>
  (target: Target, ctx: Context): void => {
    target[prop] = parse(ctx)
  }

const setIn =
  (group: string, prop: string, parse: (ctx: Context) => unknown) =>
  (target: Target, ctx: Context): void => {
    const inner = (target[group] ??= {}) as Target
    inner[prop] = parse(ctx)
  }

/** A security setting: kept aside with its origin, combined with the others by applySecurity. */
const secure =
  <K extends Exclude<keyof Security, 'from'>>(field: K, parse: (ctx: Context) => Security[K]) =>
  (_target: Target, ctx: Context): void => {
    ctx.security[field] = parse(ctx)
    ctx.security.from[field] = ctx.origin
  }

const ms = (ctx: Context) => int(ctx, 0, 2 ** 31 - 1)
const positive = (ctx: Context) => int(ctx, 1)

const ASSIGNORS: Record<string, string> = {
  range: 'range',
  roundrobin: 'roundrobin',
  'round-robin': 'roundrobin',
  'cooperative-sticky': 'cooperative-sticky',
  'org.apache.kafka.clients.consumer.rangeassignor': 'range',
  'org.apache.kafka.clients.consumer.roundrobinassignor': 'roundrobin',
  'org.apache.kafka.clients.consumer.cooperativestickyassignor': 'cooperative-sticky',
}

// ------------------------------------------------------------------------------------------------ the settings

const SETTINGS: Setting[] = [
  // connection (both)
  { kind: 'common', names: ['bootstrap.servers', 'brokers', 'metadata.broker.list'], apply: set('brokers', str) },
  { kind: 'common', names: ['client.id', 'clientId'], apply: set('clientId', str) },
  { kind: 'common', names: ['request.timeout.ms', 'requestTimeoutMs'], apply: set('requestTimeoutMs', positive) },
  {
    kind: 'common',
    names: ['socket.connection.setup.timeout.ms', 'connectTimeoutMs'],
    apply: set('connectTimeoutMs', positive),
  },
  { kind: 'common', names: ['connections.max.idle.ms', 'idleTimeoutMs'], apply: set('idleTimeoutMs', ms) },
  { kind: 'common', names: ['metadata.max.age.ms', 'metadataMaxAgeMs'], apply: set('metadataMaxAgeMs', positive) },
  { kind: 'common', names: ['reconnect.backoff.ms'], apply: setIn('reconnectBackoff', 'baseMs', ms) },
  { kind: 'common', names: ['reconnect.backoff.max.ms'], apply: setIn('reconnectBackoff', 'maxMs', ms) },
  {
    kind: 'common',
    names: ['allow.auto.create.topics', 'allowAutoTopicCreation'],
    apply: set('allowAutoTopicCreation', bool),
  },
  // security (both)
  {
    kind: 'common',
    names: ['security.protocol'],
    apply: secure('protocol', (ctx) =>
      oneOf(ctx, { plaintext: 'PLAINTEXT', ssl: 'SSL', sasl_plaintext: 'SASL_PLAINTEXT', sasl_ssl: 'SASL_SSL' }),
    ),
  },
  {
    kind: 'common',
    names: ['sasl.mechanism', 'sasl.mechanisms'],
    apply: secure('mechanism', (ctx) =>
      oneOf(ctx, {
        plain: 'PLAIN',
        'scram-sha-256': 'SCRAM-SHA-256',
        'scram-sha-512': 'SCRAM-SHA-512',
        oauthbearer: 'OAUTHBEARER',
      }),
    ),
  },
  { kind: 'common', names: ['sasl.username'], apply: secure('username', str) },
  { kind: 'common', names: ['sasl.password'], apply: secure('password', (ctx) => String(ctx.value)) },
  {
    kind: 'common',
    names: ['sasl.jaas.config'],
    apply: (_t, ctx) => {
      const text = String(ctx.value)
      const user = /\busername\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(text)
      const pass = /\bpassword\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(text)
      if (!user || !pass) throw failure(ctx.origin.layer, `${at(ctx.origin)}: expected username="..." password="..."`)
      ctx.security.username = user[1].replace(/\\(.)/g, '$1')
      ctx.security.password = pass[1].replace(/\\(.)/g, '$1')
      ctx.security.from.username = ctx.security.from.password = ctx.origin
    },
  },
  // Not a Java setting: the Java client gets tokens from a login callback class, which has no equivalent here.
  { kind: 'common', names: ['sasl.oauthbearer.token.file'], apply: secure('tokenFile', str) },
  { kind: 'common', names: ['ssl.ca.location'], apply: secure('ca', str) },
  { kind: 'common', names: ['ssl.certificate.location'], apply: secure('cert', str) },
  { kind: 'common', names: ['ssl.key.location'], apply: secure('key', str) },
  { kind: 'common', names: ['ssl.key.password'], apply: secure('keyPassword', (ctx) => String(ctx.value)) },
  {
    kind: 'common',
    names: ['ssl.endpoint.identification.algorithm'],
    apply: secure('noHostnameCheck', (ctx) => {
      const v = String(ctx.value).trim().toLowerCase()
      if (v !== '' && v !== 'none' && v !== 'https') throw bad(ctx, 'expected https, none or nothing')
      return v !== 'https'
    }),
  },
  // consumer
  { kind: 'consumer', names: ['group.id', 'groupId'], apply: set('groupId', str) },
  { kind: 'consumer', names: ['group.instance.id', 'groupInstanceId'], apply: set('groupInstanceId', str) },
  {
    kind: 'consumer',
    names: ['auto.offset.reset', 'autoOffsetReset'],
    apply: set('autoOffsetReset', (ctx) =>
      oneOf(ctx, { earliest: 'earliest', smallest: 'earliest', latest: 'latest', largest: 'latest', none: 'none' }),
    ),
  },
  { kind: 'consumer', names: ['session.timeout.ms', 'sessionTimeoutMs'], apply: set('sessionTimeoutMs', positive) },
  {
    kind: 'consumer',
    names: ['heartbeat.interval.ms', 'heartbeatIntervalMs'],
    apply: set('heartbeatIntervalMs', positive),
  },
  {
    kind: 'consumer',
    names: ['max.poll.interval.ms', 'rebalanceTimeoutMs'],
    apply: set('rebalanceTimeoutMs', positive),
  },
  {
    kind: 'consumer',
    names: ['auto.commit.interval.ms', 'commitIntervalMs'],
    apply: set('commitIntervalMs', positive),
  },
  { kind: 'consumer', names: ['fetch.max.wait.ms', 'maxWaitMs'], apply: set('maxWaitMs', ms) },
  { kind: 'consumer', names: ['fetch.min.bytes', 'minBytes'], apply: set('minBytes', ms) },
  { kind: 'consumer', names: ['fetch.max.bytes', 'maxBytes'], apply: set('maxBytes', positive) },
  {
    kind: 'consumer',
    names: ['max.partition.fetch.bytes', 'partitionMaxBytes'],
    apply: set('partitionMaxBytes', positive),
  },
  { kind: 'consumer', names: ['reservoir.bytes', 'reservoirBytes'], apply: set('reservoirBytes', positive) },
  {
    kind: 'consumer',
    names: ['isolation.level', 'isolationLevel'],
    apply: set('isolationLevel', (ctx) =>
      oneOf(ctx, { read_uncommitted: 'read_uncommitted', read_committed: 'read_committed' }),
    ),
  },
  {
    kind: 'consumer',
    names: ['partition.assignment.strategy', 'assignors'],
    apply: set('assignors', (ctx) =>
      list(ctx).map((name) => {
        const found = ASSIGNORS[name.toLowerCase()]
        if (found === undefined)
          throw bad(ctx, `unknown assignor ${name} (known: range, roundrobin, cooperative-sticky)`)
        return found
      }),
    ),
  },
  { kind: 'consumer', names: ['client.rack', 'rackId'], apply: set('rackId', str) },
  { kind: 'consumer', names: ['check.crcs', 'verifyCrc'], apply: set('verifyCrc', bool) },
  {
    kind: 'consumer',
    names: ['subscription.refresh.ms', 'subscriptionRefreshMs'],
    apply: set('subscriptionRefreshMs', positive),
  },
  // producer
  {
    kind: 'producer',
    names: ['acks', 'request.required.acks'],
    apply: set('acks', (ctx): Acks => {
      const v = String(ctx.value).trim().toLowerCase()
      if (v === 'all' || v === '-1') return 'all'
      if (v === '1' || v === '0') return Number(v) as Acks
      throw bad(ctx, 'expected all, -1, 1 or 0')
    }),
  },
  { kind: 'producer', names: ['enable.idempotence', 'idempotent'], apply: set('idempotent', bool) },
  {
    kind: 'producer',
    names: ['compression.type', 'compression.codec', 'compression'],
    apply: set(
      'compression',
      (ctx): CompressionName => oneOf(ctx, { none: 'none', gzip: 'gzip', snappy: 'snappy', lz4: 'lz4', zstd: 'zstd' }),
    ),
  },
  {
    kind: 'producer',
    names: ['compression.level', 'compressionLevel'],
    apply: set('compressionLevel', (ctx) => int(ctx, -131072, 22)),
  },
  { kind: 'producer', names: ['linger.ms', 'queue.buffering.max.ms'], apply: setIn('flush', 'frequencyMs', ms) },
  { kind: 'producer', names: ['batch.size'], apply: setIn('flush', 'bytes', positive) },
  { kind: 'producer', names: ['batch.num.messages'], apply: setIn('flush', 'messages', ms) },
  {
    kind: 'producer',
    names: ['max.request.size', 'maxRequestBytes'],
    apply: set('maxRequestBytes', positive),
  },
  {
    kind: 'producer',
    names: ['max.in.flight.requests.per.connection', 'max.in.flight', 'maxInFlight'],
    apply: set('maxInFlight', positive),
  },
  {
    kind: 'producer',
    names: ['delivery.timeout.ms', 'deliveryTimeoutMs'],
    apply: set('deliveryTimeoutMs', positive),
  },
  { kind: 'producer', names: ['buffer.memory', 'bufferBytes'], apply: set('bufferBytes', positive) },
  { kind: 'producer', names: ['max.block.ms', 'maxBlockMs'], apply: set('maxBlockMs', ms) },
  { kind: 'producer', names: ['retry.backoff.ms'], apply: setIn('retryBackoff', 'baseMs', ms) },
  { kind: 'producer', names: ['retry.backoff.max.ms'], apply: setIn('retryBackoff', 'maxMs', ms) },
]

/** Java settings without a meaning here: ignored with a warning. */
const IGNORED: Record<Exclude<Kind, 'common'>, Record<string, string>> = {
  consumer: {
    'key.deserializer': 'keys and values are copied as bytes',
    'value.deserializer': 'keys and values are copied as bytes',
    'enable.auto.commit': 'the mirror maker commits an offset once the destination acknowledged the message',
    'auto.commit.enable': 'the mirror maker commits an offset once the destination acknowledged the message',
    'exclude.internal.topics': 'internal topics are never mirrored',
  },
  producer: {
    'key.serializer': 'keys and values are copied as bytes',
    'value.serializer': 'keys and values are copied as bytes',
    retries: 'the producer retries until delivery.timeout.ms',
  },
}

const BY_NAME = new Map<string, Setting>()
for (const s of SETTINGS) for (const n of s.names) BY_NAME.set(n, s)

/** Settings a Java client knows and we do not read: what to give instead. */
function unknownHint(name: string): string {
  if (name.startsWith('ssl.truststore.') || name.startsWith('ssl.keystore.'))
    return ' (Java key stores are not read: give ssl.ca.location, ssl.certificate.location and ssl.key.location as PEM files)'
  return ''
}

/**
 * Apply the layers' settings to `target`, in order. `kind` says which settings are expected: a consumer's or a
 * producer's (then the other kind's are errors), or the connection's alone (then both kinds are ignored, with one
 * warning line per layer: such files are often shared with the Java tools).
 */
function applySettings(
  layers: readonly SettingsLayer[],
  kind: Exclude<Kind, 'common'> | 'connection',
  target: Target,
  options: ConnectionLoadOptions = {},
): string[] {
  const warnings: string[] = []
  const security: Security = { from: {} }
  for (const layer of layers) {
    const skipped: string[] = []
    for (const [name, value] of layer.settings) {
      if (name === 'zookeeper.connect')
        throw failure(layer, `${prefix(layer)}zookeeper.connect: ZooKeeper is not supported, give bootstrap.servers`)
      const setting = BY_NAME.get(name)
      if (setting === undefined || (setting.kind !== 'common' && setting.kind !== kind)) {
        if (kind === 'connection') {
          if (setting !== undefined || IGNORED.consumer[name] !== undefined || IGNORED.producer[name] !== undefined) {
            skipped.push(name)
            continue
          }
          throw failure(layer, `${prefix(layer)}unknown setting "${name}"${unknownHint(name)}`)
        }
        const ignored = IGNORED[kind][name]
        if (ignored !== undefined) {
          warnings.push(`${layer.source}: ${name} is ignored (${ignored})`)
          continue
        }
        const other = setting !== undefined ? ` (a ${setting.kind} setting)` : unknownHint(name)
        throw failure(layer, `${prefix(layer)}unknown ${kind} setting "${name}"${other}`)
      }
      setting.apply(target, { origin: { layer, name }, value, security })
    }
    if (skipped.length > 0) warnings.push(`${layer.source}: ignored, not connection settings: ${skipped.join(', ')}`)
  }
  applySecurity(security, target, options)
  return warnings
}

function readPem(origin: Origin, path: string): Buffer {
  let pem: Buffer
  try {
    pem = readFileSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (err as Error).message
    throw failure(origin.layer, `${at(origin)} ${path}: ${why}`, err)
  }
  // Node takes PEM only; a DER file or a Java key store would fail later, in the handshake, with a vaguer error.
  if (!pem.includes('-----BEGIN '))
    throw failure(origin.layer, `${at(origin)} ${path}: not a PEM file (no -----BEGIN line)`)
  return pem
}

function checkTokenFile(origin: Origin, path: string): void {
  let token: string
  try {
    token = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw failure(origin.layer, `${at(origin)} ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
  if (token.trim() === '') throw failure(origin.layer, `${at(origin)} ${path}: the file is empty`)
}

function applySecurity(s: Security, target: Target, options: ConnectionLoadOptions): void {
  const protocol = s.protocol ?? 'PLAINTEXT'
  const tlsOn = protocol === 'SSL' || protocol === 'SASL_SSL'
  const saslOn = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL'
  const strayTls = (['ca', 'cert', 'key', 'keyPassword', 'noHostnameCheck'] as const).find((f) => s[f] !== undefined)
  const straySasl = (['mechanism', 'username', 'password', 'tokenFile'] as const).find((f) => s[f] !== undefined)
  if (strayTls !== undefined && !tlsOn) {
    const o = s.from[strayTls]!
    throw failure(o.layer, `${at(o)} needs ${named(o.layer, 'security.protocol')} SSL or SASL_SSL`)
  }
  if (straySasl !== undefined && !saslOn) {
    const o = s.from[straySasl]!
    throw failure(o.layer, `${at(o)} needs ${named(o.layer, 'security.protocol')} SASL_PLAINTEXT or SASL_SSL`)
  }
  if (tlsOn) {
    const tls: TlsConnectionOptions = {}
    if (s.ca !== undefined) tls.ca = readPem(s.from.ca!, s.ca)
    if (s.cert !== undefined) tls.cert = readPem(s.from.cert!, s.cert)
    if (s.key !== undefined) tls.key = readPem(s.from.key!, s.key)
    if (s.keyPassword !== undefined) tls.passphrase = s.keyPassword
    if (s.noHostnameCheck) tls.checkServerIdentity = () => undefined
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      const layer = (s.from.cert ?? s.from.key)!.layer
      throw failure(
        layer,
        `${prefix(layer)}give both ${named(layer, 'ssl.certificate.location')} and ${named(layer, 'ssl.key.location')}, or neither`,
      )
    }
    target.tls = Object.keys(tls).length > 0 ? tls : true
  }
  if (saslOn) {
    // security.protocol is set (the default is PLAINTEXT), so it has an origin.
    const o = s.from.protocol!
    const mechanism = s.mechanism ?? 'PLAIN'
    if (mechanism === 'OAUTHBEARER') {
      const m = s.from.mechanism!
      if (s.tokenFile === undefined)
        throw failure(m.layer, `${at(m)}=OAUTHBEARER needs ${named(m.layer, 'sasl.oauthbearer.token.file')}`)
      checkTokenFile(s.from.tokenFile!, s.tokenFile)
      const path = s.tokenFile
      // Read at every authentication, so a token refreshed in the file is picked up when the session is renewed.
      target.sasl = { mechanism, token: async () => (await readFile(path, 'utf8')).trim() } satisfies SaslConfig
      return
    }
    const password = s.password ?? options.passwordFallback?.value
    if (s.username === undefined || password === undefined) {
      const or = [o.layer.flags ? undefined : 'sasl.jaas.config', options.passwordFallback?.name].filter(Boolean)
      throw failure(
        o.layer,
        `${at(o)}=${protocol} needs ${named(o.layer, 'sasl.username')} and ${named(o.layer, 'sasl.password')}` +
          (or.length > 0 ? ` (or ${or.join(', or ')})` : ''),
      )
    }
    target.sasl = { mechanism: mechanism as 'PLAIN', username: s.username, password } satisfies SaslConfig
  }
}

/**
 * The connection part of client settings (bootstrap.servers, client.id, security.protocol, sasl.*, ssl.*,
 * timeouts), layer over layer; consumer and producer settings are ignored with a warning. The files are read
 * here (PEM files, an OAUTHBEARER token file), so a bad one is an error before anything connects.
 */
export function connectionConfigFromLayers(
  layers: readonly SettingsLayer[],
  options: ConnectionLoadOptions = {},
): LoadedConfig<ConnectionConfig> {
  const target: Target = {}
  const warnings = applySettings(layers, 'connection', target, options)
  return { config: target as ConnectionConfig, warnings }
}

/** The connection part of one file's settings (see connectionConfigFromLayers). */
export function connectionConfigFromSettings(settings: Settings, source: string): LoadedConfig<ConnectionConfig> {
  return connectionConfigFromLayers([{ settings, source }])
}

/** The connection settings of a client properties (or JSON) file, e.g. one written for kafka-topics.sh. */
export function loadConnectionConfig(path: string): LoadedConfig<ConnectionConfig> {
  return connectionConfigFromSettings(readSettingsFile(path), path)
}

function requireBrokers(target: Target, source: string): void {
  if (typeof target.brokers !== 'string' || target.brokers === '')
    throw new ConfigError(`${source}: no bootstrap.servers`)
}

/** The consumer settings of a --consumer.config file (properties or JSON); group.id is required. */
export function consumerConfigFromSettings(settings: Settings, source: string): LoadedConfig<MirrorConsumerConfig> {
  const target: Target = {}
  const warnings = applySettings([{ settings, source }], 'consumer', target)
  requireBrokers(target, source)
  if (typeof target.groupId !== 'string' || target.groupId === '') throw new ConfigError(`${source}: no group.id`)
  return { config: target as MirrorConsumerConfig, warnings }
}

/** The producer settings of a --producer.config file (properties or JSON). */
export function producerConfigFromSettings(settings: Settings, source: string): LoadedConfig<MirrorProducerConfig> {
  const target: Target = {}
  const warnings = applySettings([{ settings, source }], 'producer', target)
  requireBrokers(target, source)
  return { config: target as MirrorProducerConfig, warnings }
}

export function loadConsumerConfig(path: string): LoadedConfig<MirrorConsumerConfig> {
  return consumerConfigFromSettings(readSettingsFile(path), path)
}

export function loadProducerConfig(path: string): LoadedConfig<MirrorProducerConfig> {
  return producerConfigFromSettings(readSettingsFile(path), path)
}
