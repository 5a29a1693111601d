// What the settings of a --consumer.config or --producer.config file mean: Java client names (bootstrap.servers,
// group.id, linger.ms...), a few librdkafka and go_kafka_client spellings, and kafka-wire's own option names
// (groupId, lingerMs is not one: see SETTINGS below). An unknown setting is a ConfigError naming the file and the
// setting; Java settings that have no meaning here (serializers, enable.auto.commit) are ignored with a warning.

import { readFileSync } from 'node:fs'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import type { ConsumerConfig } from '../../client/consumer.js'
import { ConfigError } from '../../client/errors.js'
import type { Acks, ProducerConfig } from '../../client/producer.js'
import type { SaslConfig } from '../../network/sasl.js'
import type { CompressionName } from '../../protocol/compression.js'
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
  /** Settings that were ignored, one line each. */
  warnings: string[]
}

type Kind = 'common' | 'consumer' | 'producer'

interface Context {
  source: string
  name: string
  value: SettingValue
  /** Security settings, combined once every setting is read. */
  security: {
    protocol?: string
    mechanism?: string
    username?: string
    password?: string
    ca?: string
    cert?: string
    key?: string
    keyPassword?: string
    noHostnameCheck?: boolean
  }
}

type Target = Record<string, unknown>

interface Setting {
  kind: Kind
  /** Accepted names: the first is the one documented. */
  names: string[]
  apply(target: Target, ctx: Context): void
}

// ------------------------------------------------------------------------------------------------ value parsers

function bad(ctx: Context, why: string): ConfigError {
  return new ConfigError(`${ctx.source}: ${ctx.name}=${String(ctx.value)}: ${why}`)
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
    apply: (_t, ctx) => {
      ctx.security.protocol = oneOf(ctx, {
        plaintext: 'PLAINTEXT',
        ssl: 'SSL',
        sasl_plaintext: 'SASL_PLAINTEXT',
        sasl_ssl: 'SASL_SSL',
      })
    },
  },
  {
    kind: 'common',
    names: ['sasl.mechanism', 'sasl.mechanisms'],
    apply: (_t, ctx) => {
      ctx.security.mechanism = oneOf(ctx, {
        plain: 'PLAIN',
        'scram-sha-256': 'SCRAM-SHA-256',
        'scram-sha-512': 'SCRAM-SHA-512',
      })
    },
  },
  { kind: 'common', names: ['sasl.username'], apply: (_t, ctx) => void (ctx.security.username = str(ctx)) },
  { kind: 'common', names: ['sasl.password'], apply: (_t, ctx) => void (ctx.security.password = String(ctx.value)) },
  {
    kind: 'common',
    names: ['sasl.jaas.config'],
    apply: (_t, ctx) => {
      const text = String(ctx.value)
      const user = /\busername\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(text)
      const pass = /\bpassword\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(text)
      if (!user || !pass)
        throw new ConfigError(`${ctx.source}: sasl.jaas.config: expected username="..." password="..."`)
      ctx.security.username = user[1].replace(/\\(.)/g, '$1')
      ctx.security.password = pass[1].replace(/\\(.)/g, '$1')
    },
  },
  { kind: 'common', names: ['ssl.ca.location'], apply: (_t, ctx) => void (ctx.security.ca = str(ctx)) },
  { kind: 'common', names: ['ssl.certificate.location'], apply: (_t, ctx) => void (ctx.security.cert = str(ctx)) },
  { kind: 'common', names: ['ssl.key.location'], apply: (_t, ctx) => void (ctx.security.key = str(ctx)) },
  {
    kind: 'common',
    names: ['ssl.key.password'],
    apply: (_t, ctx) => void (ctx.security.keyPassword = String(ctx.value)),
  },
  {
    kind: 'common',
    names: ['ssl.endpoint.identification.algorithm'],
    apply: (_t, ctx) => {
      const v = String(ctx.value).trim().toLowerCase()
      if (v !== '' && v !== 'none' && v !== 'https') throw bad(ctx, 'expected https, none or nothing')
      ctx.security.noHostnameCheck = v !== 'https'
    },
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

function applySettings(settings: Settings, source: string, kind: Exclude<Kind, 'common'>, target: Target): string[] {
  const warnings: string[] = []
  const security: Context['security'] = {}
  for (const [name, value] of settings) {
    if (name === 'zookeeper.connect')
      throw new ConfigError(`${source}: zookeeper.connect: ZooKeeper is not supported, give bootstrap.servers`)
    const setting = BY_NAME.get(name)
    if (setting === undefined || (setting.kind !== 'common' && setting.kind !== kind)) {
      const ignored = IGNORED[kind][name]
      if (ignored !== undefined) {
        warnings.push(`${source}: ${name} is ignored (${ignored})`)
        continue
      }
      const other = setting !== undefined ? ` (a ${setting.kind} setting)` : ''
      throw new ConfigError(`${source}: unknown ${kind} setting "${name}"${other}`)
    }
    setting.apply(target, { source, name, value, security })
  }
  applySecurity(security, source, target)
  if (typeof target.brokers !== 'string' || target.brokers === '')
    throw new ConfigError(`${source}: no bootstrap.servers`)
  return warnings
}

function readPem(path: string, source: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new ConfigError(`${source}: ${what} ${path}: ${(err as Error).message}`, { cause: err })
  }
}

function applySecurity(s: Context['security'], source: string, target: Target): void {
  const protocol = s.protocol ?? 'PLAINTEXT'
  const tlsOn = protocol === 'SSL' || protocol === 'SASL_SSL'
  const saslOn = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL'
  const tlsGiven = [s.ca, s.cert, s.key, s.keyPassword, s.noHostnameCheck].some((x) => x !== undefined)
  const saslGiven = [s.mechanism, s.username, s.password].some((x) => x !== undefined)
  if (tlsGiven && !tlsOn) throw new ConfigError(`${source}: ssl.* settings need security.protocol=SSL or SASL_SSL`)
  if (saslGiven && !saslOn)
    throw new ConfigError(`${source}: sasl.* settings need security.protocol=SASL_PLAINTEXT or SASL_SSL`)
  if (tlsOn) {
    const tls: TlsConnectionOptions = {}
    if (s.ca !== undefined) tls.ca = readPem(s.ca, source, 'ssl.ca.location')
    if (s.cert !== undefined) tls.cert = readPem(s.cert, source, 'ssl.certificate.location')
    if (s.key !== undefined) tls.key = readPem(s.key, source, 'ssl.key.location')
    if (s.keyPassword !== undefined) tls.passphrase = s.keyPassword
    if (s.noHostnameCheck) tls.checkServerIdentity = () => undefined
    if ((tls.cert === undefined) !== (tls.key === undefined))
      throw new ConfigError(`${source}: give both ssl.certificate.location and ssl.key.location, or neither`)
    target.tls = Object.keys(tls).length > 0 ? tls : true
  }
  if (saslOn) {
    if (s.username === undefined || s.password === undefined)
      throw new ConfigError(`${source}: ${protocol} needs sasl.username and sasl.password (or sasl.jaas.config)`)
    const sasl: SaslConfig = {
      mechanism: (s.mechanism ?? 'PLAIN') as 'PLAIN',
      username: s.username,
      password: s.password,
    }
    target.sasl = sasl
  }
}

/** The consumer settings of a --consumer.config file (properties or JSON); group.id is required. */
export function consumerConfigFromSettings(settings: Settings, source: string): LoadedConfig<MirrorConsumerConfig> {
  const target: Target = {}
  const warnings = applySettings(settings, source, 'consumer', target)
  if (typeof target.groupId !== 'string' || target.groupId === '') throw new ConfigError(`${source}: no group.id`)
  return { config: target as MirrorConsumerConfig, warnings }
}

/** The producer settings of a --producer.config file (properties or JSON). */
export function producerConfigFromSettings(settings: Settings, source: string): LoadedConfig<MirrorProducerConfig> {
  const target: Target = {}
  const warnings = applySettings(settings, source, 'producer', target)
  return { config: target as MirrorProducerConfig, warnings }
}

export function loadConsumerConfig(path: string): LoadedConfig<MirrorConsumerConfig> {
  return consumerConfigFromSettings(readSettingsFile(path), path)
}

export function loadProducerConfig(path: string): LoadedConfig<MirrorProducerConfig> {
  return producerConfigFromSettings(readSettingsFile(path), path)
}
