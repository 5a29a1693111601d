// Captures test/fixtures/wire/: request and response frames of real clients talking to a real broker.
// Not part of npm test; run it to regenerate the fixtures (10-15 minutes; Java 17, kcat, the cached jars):
//
//   node --import tsx test/tools/capture-golden.ts [--levels 0-14] [--no-java39] [--no-kcat] [--only REGEX] [--out DIR]
//
// A local Kafka 4.1.1 (with its SASL listener) is started with its PLAINTEXT and SASL_PLAINTEXT
// listeners advertised at two capture proxies (test/tools/capture-proxy.ts), so clients reach the
// broker only through them, bootstrap and every later connection. Then Kafka's Java tools (4.1.1,
// and 3.9.1 once) and kcat (librdkafka) run a battery: topics, configs, console producers with every
// compression, idempotent and transactional producers, console consumers in classic and consumer
// groups, consumer-group admin, delete-records, offsets, cluster and producer descriptions, SASL.
//
// Older versions: at "level" L the proxies lower the max version each API advertises in ApiVersions
// responses to max(min, max - L), so the same real clients speak older versions to the same real
// broker (the bytes are still the Java client's and librdkafka's own serializers, and the broker's).
// A client refuses some old versions (the Java client never sends Metadata v0): those floors are
// in CLIENT_FLOORS. The broker's own connections to its advertised listener (transaction markers,
// AddPartitionsToTxn verification) are recorded as client "broker-4.1.1" and never capped. After
// level 0 a step runs again only while it can still capture an (api, version, client) not yet kept.
// Some steps fail at some levels (a transactional producer whose versions no longer match the
// broker's finalized transaction.version, a v0 FindCoordinator that cannot name a transaction):
// they are reported and skipped, what they did capture is kept.
//
// For each (api key, version, client) one exchange is kept: the one with the largest frames that
// are both at most KEEP_BYTES (or the smallest, if none is), written as raw frames without their
// size prefix (request: header + body; response: header + body) plus index.json. Versions outside
// the schema's validVersions (librdkafka's Produce v0-2, which Kafka 4 still advertises) are dropped.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type Cluster, DEFAULT_KAFKA_VERSION, startCluster } from '../../src/tools/local-broker.js'
import { runJavaTool, runKcat, type ToolResult } from '../helpers/java-tools.js'
import { loadSchemas } from '../schema/schema.js'
import { CaptureProxy, type Exchange } from './capture-proxy.js'

const OUT_DEFAULT = fileURLToPath(new URL('../fixtures/wire/', import.meta.url))
const KEEP_BYTES = 16384
const OLD_JAVA = '3.9.1'
const KCAT_FAMILY = 'kcat-1.7.1-librdkafka-2.0.2'

/**
 * Versions below which capping only breaks a tool: the client refuses to build the request, or the
 * broker advertises versions it rejects.
 */
const CLIENT_FLOORS: Record<string, Record<number, number>> = {
  java: {
    0: 3, // Kafka 4 advertises Produce v0-2 (for old librdkafka, KAFKA-18659) but closes connections that use them
    3: 1, // "MetadataRequest versions older than 1 are not supported"
    17: 1, // after SaslHandshake v0 the SASL tokens travel unframed
  },
  kcat: {
    0: 3,
    17: 1,
  },
}

const { values: args } = parseArgs({
  options: {
    levels: { type: 'string', default: '0-14' },
    'no-java39': { type: 'boolean', default: false },
    'no-kcat': { type: 'boolean', default: false },
    out: { type: 'string', default: OUT_DEFAULT },
    only: { type: 'string' },
  },
})

function parseLevels(text: string): number[] {
  const out: number[] = []
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim())
    if (!m) throw new Error(`bad --levels ${text}`)
    for (let l = Number(m[1]); l <= Number(m[2] ?? m[1]); l++) out.push(l)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// What a step is

type Family = string

interface Ctx {
  /** Bootstrap through the PLAINTEXT proxy. */
  bootstrap: string
  /** Bootstrap through the SASL_PLAINTEXT proxy. */
  saslBootstrap: string
  /** The broker itself, bypassing the proxies (setup that is not captured). */
  direct: string
  /** Unique per level: topic and group names. */
  tag: string
  tmp: string
  user: { username: string; password: string }
}

interface Step {
  name: string
  family: Family
  /** Floors table to use (java or kcat). */
  floors: 'java' | 'kcat'
  /** Always run at every level (it creates what later steps need). */
  setup?: boolean
  /** Not captured (it talks to the broker directly, without caps; e.g. creating kcat's topic). */
  uncaptured?: boolean
  run(ctx: Ctx): Promise<ToolResult>
}

function java(version: string) {
  return (mainClass: string, toolArgs: string[], input?: string, timeoutMs = 60_000) =>
    runJavaTool(mainClass, toolArgs, { input, version, timeoutMs })
}

function propsFile(ctx: Ctx, name: string, props: Record<string, string>): string {
  const file = join(ctx.tmp, `${ctx.tag}-${name}.properties`)
  writeFileSync(
    file,
    `${Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  )
  return file
}

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

/** Console producer input: headers, key and value separated by tabs (parse.headers, parse.key). */
function consoleLines(prefix: string, n: number): string {
  const lines: string[] = []
  for (let i = 0; i < n; i++) lines.push(`h1:a${i},h2:b\t${prefix}-key-${i}\t${prefix}-value-${i}`)
  return `${lines.join('\n')}\n`
}

function javaSteps(version: string): Step[] {
  const run = java(version)
  const v4 = version.startsWith('4.')
  const family = `java-${version}`
  const step = (name: string, fn: Step['run'], extra: Partial<Step> = {}): Step => ({
    name,
    family,
    floors: 'java',
    run: fn,
    ...extra,
  })
  const topic = (ctx: Ctx) => `gw-${ctx.tag}-${version}-a`
  const group = (ctx: Ctx, n: number) => `gw-${ctx.tag}-${version}-g${n}`
  const consumer = (ctx: Ctx, g: string, protocol: 'classic' | 'consumer', timeoutMs: number) =>
    run('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server',
      ctx.bootstrap,
      '--topic',
      topic(ctx),
      '--group',
      g,
      '--from-beginning',
      '--max-messages',
      '100000',
      '--timeout-ms',
      String(timeoutMs),
      '--property',
      'print.key=true',
      '--property',
      'print.headers=true',
      '--consumer-property',
      `group.protocol=${protocol}`,
      ...(protocol === 'classic'
        ? ['--consumer-property', 'heartbeat.interval.ms=200', '--consumer-property', 'session.timeout.ms=10000']
        : []),
      '--consumer-property',
      'auto.commit.interval.ms=200',
    ])
  const groups = (ctx: Ctx, extra: string[]) =>
    run('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--bootstrap-server', ctx.bootstrap, ...extra])
  const steps: Step[] = [
    step(
      'topics-create-topic',
      (ctx) =>
        run('org.apache.kafka.tools.TopicCommand', [
          '--bootstrap-server',
          ctx.bootstrap,
          '--create',
          '--topic',
          topic(ctx),
          '--partitions',
          '2',
          '--replication-factor',
          '1',
          '--config',
          'retention.ms=86400000',
          '--config',
          'segment.ms=600000',
        ]),
      { setup: true },
    ),
    step('topics-alter', (ctx) =>
      run('org.apache.kafka.tools.TopicCommand', [
        '--bootstrap-server',
        ctx.bootstrap,
        '--alter',
        '--topic',
        topic(ctx),
        '--partitions',
        '3',
      ]),
    ),
    step('topics-describe', (ctx) =>
      run('org.apache.kafka.tools.TopicCommand', [
        '--bootstrap-server',
        ctx.bootstrap,
        '--describe',
        '--topic',
        topic(ctx),
      ]),
    ),
    step('topics-list', (ctx) =>
      run('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', ctx.bootstrap, '--list']),
    ),
    step('configs-alter', (ctx) =>
      run('kafka.admin.ConfigCommand', [
        '--bootstrap-server',
        ctx.bootstrap,
        '--entity-type',
        'topics',
        '--entity-name',
        topic(ctx),
        '--alter',
        '--add-config',
        'retention.ms=3600000,max.message.bytes=2000000',
        '--delete-config',
        'segment.ms',
      ]),
    ),
    step('configs-describe-topic', (ctx) =>
      run('kafka.admin.ConfigCommand', [
        '--bootstrap-server',
        ctx.bootstrap,
        '--entity-type',
        'topics',
        '--entity-name',
        topic(ctx),
        '--describe',
      ]),
    ),
    step('configs-describe-broker', (ctx) =>
      run('kafka.admin.ConfigCommand', [
        '--bootstrap-server',
        ctx.bootstrap,
        '--entity-type',
        'brokers',
        '--entity-name',
        '1',
        '--describe',
      ]),
    ),
    ...CODECS.map((codec) =>
      step(
        `console-producer-${codec}`,
        (ctx) =>
          run(
            v4 ? 'org.apache.kafka.tools.ConsoleProducer' : 'kafka.tools.ConsoleProducer',
            [
              '--bootstrap-server',
              ctx.bootstrap,
              '--topic',
              topic(ctx),
              '--compression-codec',
              codec,
              '--property',
              'parse.key=true',
              '--property',
              'parse.headers=true',
            ],
            consoleLines(codec, 20),
          ),
        { setup: codec === 'none' },
      ),
    ),
    step('producer-perf-idempotent', (ctx) =>
      run('org.apache.kafka.tools.ProducerPerformance', [
        '--topic',
        topic(ctx),
        '--num-records',
        '50',
        '--record-size',
        '20',
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${ctx.bootstrap}`,
        'acks=all',
        'enable.idempotence=true',
        'linger.ms=5',
      ]),
    ),
    step('producer-perf-acks1', (ctx) =>
      run('org.apache.kafka.tools.ProducerPerformance', [
        '--topic',
        topic(ctx),
        '--num-records',
        '20',
        '--record-size',
        '10',
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${ctx.bootstrap}`,
        'acks=1',
        'enable.idempotence=false',
        'compression.type=lz4',
      ]),
    ),
    step('producer-perf-transactional', (ctx) =>
      run('org.apache.kafka.tools.ProducerPerformance', [
        '--topic',
        topic(ctx),
        '--num-records',
        '30',
        '--record-size',
        '20',
        '--throughput',
        '-1',
        '--transactional-id',
        `gw-${ctx.tag}-${version}-txn`,
        '--transaction-duration-ms',
        '200',
        '--producer-props',
        `bootstrap.servers=${ctx.bootstrap}`,
      ]),
    ),
    step('consumer-classic-1', (ctx) => consumer(ctx, group(ctx, 1), 'classic', 2500), { setup: true }),
    // Same group again: committed offsets (with leader epochs) are fetched and validated (OffsetForLeaderEpoch).
    step('consumer-classic-2', (ctx) => consumer(ctx, group(ctx, 1), 'classic', 1500)),
    step('consumer-classic-3', (ctx) => consumer(ctx, group(ctx, 1), 'classic', 1500)),
    step('consumer-new-protocol', (ctx) => consumer(ctx, group(ctx, 2), 'consumer', 2500), { setup: true }),
    step('consumer-new-protocol-2', (ctx) => consumer(ctx, group(ctx, 2), 'consumer', 1500)),
    step('groups-list', (ctx) => groups(ctx, ['--list'])),
    step('groups-list-state', (ctx) => groups(ctx, ['--list', '--state'])),
    step('groups-describe-classic', (ctx) => groups(ctx, ['--describe', '--group', group(ctx, 1)])),
    step('groups-describe-members', (ctx) =>
      groups(ctx, ['--describe', '--members', '--verbose', '--group', group(ctx, 1)]),
    ),
    step('groups-describe-consumer', (ctx) => groups(ctx, ['--describe', '--group', group(ctx, 2)])),
    step('groups-reset-offsets', (ctx) =>
      groups(ctx, ['--reset-offsets', '--group', group(ctx, 1), '--topic', topic(ctx), '--to-earliest', '--execute']),
    ),
    step('groups-delete-offsets', (ctx) =>
      groups(ctx, ['--delete-offsets', '--group', group(ctx, 1), '--topic', `${topic(ctx)}:0`]),
    ),
    step('groups-delete', (ctx) => groups(ctx, ['--delete', '--group', group(ctx, 1)])),
    step('delete-records', (ctx) => {
      const file = join(ctx.tmp, `${ctx.tag}-${version}-delete-records.json`)
      writeFileSync(
        file,
        JSON.stringify({
          partitions: [
            { topic: topic(ctx), partition: 0, offset: 2 },
            { topic: topic(ctx), partition: 1, offset: 1 },
          ],
          version: 1,
        }),
      )
      return run('org.apache.kafka.tools.DeleteRecordsCommand', [
        '--bootstrap-server',
        ctx.bootstrap,
        '--offset-json-file',
        file,
      ])
    }),
    ...['-1', '-2', '-3', '-4', '1700000000000'].map((time) =>
      step(`get-offsets${time}`, (ctx) =>
        run('org.apache.kafka.tools.GetOffsetShell', [
          '--bootstrap-server',
          ctx.bootstrap,
          '--topic',
          topic(ctx),
          '--time',
          time,
        ]),
      ),
    ),
    step('cluster-id', (ctx) =>
      run('org.apache.kafka.tools.ClusterTool', ['cluster-id', '--bootstrap-server', ctx.bootstrap]),
    ),
    step('describe-producers', (ctx) =>
      run('org.apache.kafka.tools.TransactionsCommand', [
        '--bootstrap-server',
        ctx.bootstrap,
        'describe-producers',
        '--topic',
        topic(ctx),
        '--partition',
        '0',
      ]),
    ),
    ...(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const).map((mechanism) =>
      step(`sasl-${mechanism.toLowerCase()}`, (ctx) => {
        const module =
          mechanism === 'PLAIN'
            ? 'org.apache.kafka.common.security.plain.PlainLoginModule'
            : 'org.apache.kafka.common.security.scram.ScramLoginModule'
        const file = propsFile(ctx, `${version}-${mechanism}`, {
          'security.protocol': 'SASL_PLAINTEXT',
          'sasl.mechanism': mechanism,
          'sasl.jaas.config': `${module} required username="${ctx.user.username}" password="${ctx.user.password}";`,
        })
        return run('org.apache.kafka.tools.TopicCommand', [
          '--bootstrap-server',
          ctx.saslBootstrap,
          '--command-config',
          file,
          '--list',
        ])
      }),
    ),
    step('topics-delete', (ctx) =>
      run('org.apache.kafka.tools.TopicCommand', [
        '--bootstrap-server',
        ctx.bootstrap,
        '--delete',
        '--topic',
        topic(ctx),
      ]),
    ),
  ]
  if (v4) {
    steps.splice(
      steps.findIndex((s) => s.name === 'groups-list-state') + 1,
      0,
      step('groups-command-list', (ctx) =>
        run('org.apache.kafka.tools.GroupsCommand', ['--bootstrap-server', ctx.bootstrap, '--list']),
      ),
      step('groups-command-list-consumer', (ctx) =>
        run('org.apache.kafka.tools.GroupsCommand', [
          '--bootstrap-server',
          ctx.bootstrap,
          '--list',
          '--group-type',
          'consumer',
        ]),
      ),
      step('cluster-endpoints', (ctx) =>
        run('org.apache.kafka.tools.ClusterTool', ['list-endpoints', '--bootstrap-server', ctx.bootstrap]),
      ),
    )
  }
  return steps
}

function kcatSteps(): Step[] {
  const family = KCAT_FAMILY
  const topic = (ctx: Ctx) => `gw-${ctx.tag}-kcat-a`
  const step = (name: string, fn: Step['run'], extra: Partial<Step> = {}): Step => ({
    name,
    family,
    floors: 'kcat',
    run: fn,
    ...extra,
  })
  const kcat = (toolArgs: string[], input?: string) => runKcat(toolArgs, { input, timeoutMs: 30_000 })
  return [
    step(
      'create-topic',
      (ctx) =>
        runJavaTool('org.apache.kafka.tools.TopicCommand', [
          '--bootstrap-server',
          ctx.direct,
          '--create',
          '--topic',
          topic(ctx),
          '--partitions',
          '2',
        ]),
      { setup: true, uncaptured: true },
    ),
    step('metadata', (ctx) => kcat(['-L', '-b', ctx.bootstrap])),
    step('metadata-topic', (ctx) => kcat(['-L', '-b', ctx.bootstrap, '-t', topic(ctx)])),
    ...CODECS.map((codec) =>
      step(
        `produce-${codec}`,
        (ctx) => {
          const lines = Array.from({ length: 20 }, (_, i) => `${codec}-key-${i}\t${codec}-value-${i}`).join('\n')
          return kcat(
            ['-P', '-b', ctx.bootstrap, '-t', topic(ctx), '-z', codec, '-K', '\t', '-H', 'h1=a', '-H', 'h2=b'],
            `${lines}\n`,
          )
        },
        { setup: codec === 'none' },
      ),
    ),
    step('produce-idempotent', (ctx) =>
      kcat(
        ['-P', '-b', ctx.bootstrap, '-t', topic(ctx), '-X', 'enable.idempotence=true', '-K', '\t'],
        'k\tv\nk2\tv2\n',
      ),
    ),
    step('consume', (ctx) => kcat(['-C', '-b', ctx.bootstrap, '-t', topic(ctx), '-o', 'beginning', '-e', '-q'])),
    step('consume-group', (ctx) =>
      kcat([
        '-G',
        `gw-${ctx.tag}-kcat-g`,
        '-b',
        ctx.bootstrap,
        '-X',
        'auto.offset.reset=earliest',
        '-X',
        'heartbeat.interval.ms=200',
        '-X',
        'auto.commit.interval.ms=200',
        '-e',
        '-q',
        topic(ctx),
      ]),
    ),
    step('query-offsets', (ctx) =>
      kcat(['-Q', '-b', ctx.bootstrap, '-t', `${topic(ctx)}:0:1700000000000`, '-t', `${topic(ctx)}:1:-1`]),
    ),
    step('sasl-plain', (ctx) =>
      kcat([
        '-L',
        '-b',
        ctx.saslBootstrap,
        '-X',
        'security.protocol=SASL_PLAINTEXT',
        '-X',
        'sasl.mechanisms=PLAIN',
        '-X',
        `sasl.username=${ctx.user.username}`,
        '-X',
        `sasl.password=${ctx.user.password}`,
      ]),
    ),
  ]
}

// ---------------------------------------------------------------------------------------------
// Keeping one exchange per (api key, version, client)

interface Kept {
  exchange: Exchange
  family: Family
  step: string
  level: number
}

function score(e: Exchange): number {
  const res = e.response?.length ?? 0
  const size = Math.max(e.request.length, res)
  if (e.response === null) return -1e9 + e.request.length
  // Frames that fit are preferred, the largest first (more content); otherwise the smallest.
  return size <= KEEP_BYTES ? size : -size
}

const kept = new Map<string, Kept>()
const stepApis = new Map<string, Set<number>>()
/** The highest version each client family used per API (uncapped, it is the client's own max). */
const clientMax = new Map<string, number>()

/** The broker's own connections to its advertised listener (transaction markers, AddPartitionsToTxn checks). */
const BROKER_CLIENT = /^(broker-\d+-|AddPartitionsManager-)/

function record(e: Exchange, level: number): void {
  let [family, step] = e.label.split('|')
  if (family === undefined || step === undefined) return
  if (e.clientId !== null && BROKER_CLIENT.test(e.clientId)) {
    family = `broker-${DEFAULT_KAFKA_VERSION}`
    step = `during ${step}`
  } else {
    let apis = stepApis.get(`${family}|${step}`)
    if (apis === undefined) stepApis.set(`${family}|${step}`, (apis = new Set()))
    apis.add(e.apiKey)
    const k = `${e.apiKey}|${family}`
    clientMax.set(k, Math.max(clientMax.get(k) ?? -1, e.version))
  }
  const key = `${e.apiKey}|${e.version}|${family}`
  const old = kept.get(key)
  if (old === undefined || score(e) > score(old.exchange)) kept.set(key, { exchange: e, family, step, level })
}

// ---------------------------------------------------------------------------------------------
// Main

const levels = parseLevels(args.levels!)
const outDir = args.out!
const tmp = mkdtempSync(join(tmpdir(), 'kafka-wire-golden-'))
const plain = new CaptureProxy()
const sasl = new CaptureProxy()
let level = 0
plain.onExchange = (e) => record(e, level)
sasl.onExchange = (e) => record(e, level)
const plainPort = await plain.listen()
const saslPort = await sasl.listen()

let cluster: Cluster | undefined
const say = (line: string) => process.stdout.write(`${line}\n`)
const started = Date.now()
try {
  say(`starting Kafka ${DEFAULT_KAFKA_VERSION}, advertised at proxies ${plainPort} and ${saslPort}`)
  cluster = await startCluster({
    auth: true,
    serverProperties: {
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${plainPort},SASL_PLAINTEXT://127.0.0.1:${saslPort}`,
    },
  })
  const node = cluster.nodes[0]
  plain.target = { host: cluster.state.host, port: node.ports.PLAINTEXT! }
  sasl.target = { host: cluster.state.host, port: node.ports.SASL_PLAINTEXT! }

  // What the broker speaks (from the first exchange of a probe) decides how far caps go.
  const brokerRanges = new Map<number, [number, number]>()
  plain.label = 'probe|probe'
  const probe = await runKcat(['-L', '-b', plain.address])
  if (probe.code !== 0) throw new Error(`kcat -L failed: ${probe.stderr}`)
  const av = [...kept.values()].find((k) => k.exchange.apiKey === 18)
  if (av?.exchange.response)
    for (const [k, lo, hi] of parseApiVersions(av.exchange.response)) brokerRanges.set(k, [lo, hi])
  kept.clear()
  stepApis.clear()

  const steps: Step[] = [...javaSteps(DEFAULT_KAFKA_VERSION)]
  if (!args['no-kcat']) steps.push(...kcatSteps())
  const only = args.only === undefined ? undefined : new RegExp(args.only)
  const user = cluster.users[0] ?? { username: 'alice', password: 'alice-secret' }

  const base = { bootstrap: plain.address, saslBootstrap: sasl.address, direct: cluster.bootstrap, tmp, user }
  // ApiVersions itself is never capped: clients send it at their own max on every new connection.
  // The broker's own connections (transaction markers, AddPartitionsToTxn checks) are never capped either.
  const capFor =
    (floors: Record<number, number>, l: number) =>
    (apiKey: number, min: number, max: number, e?: Exchange): number => {
      if (apiKey === 18 || (e?.clientId != null && BROKER_CLIENT.test(e.clientId))) return max
      return Math.max(min, floors[apiKey] ?? min, max - l)
    }

  const runStep = async (s: Step, l: number, ctx: Ctx): Promise<ToolResult> => {
    const floors = CLIENT_FLOORS[s.floors] ?? {}
    const cap = l === 0 || s.uncaptured ? undefined : capFor(floors, l)
    plain.capVersion = cap
    sasl.capVersion = cap
    const label = s.uncaptured ? '' : `${s.family}|${s.name}`
    plain.label = label
    sasl.label = label
    const t0 = Date.now()
    const result = await s.run(ctx)
    const ms = Date.now() - t0
    const ok = result.code === 0
    const why = ok ? '' : ` exit ${result.code}: ${lastLines(result.stderr || result.stdout, 3)}`
    say(`  L${l} ${label || s.name} ${ms} ms${why}`)
    return result
  }

  // Whether a step would capture an (api, version, client) we do not have yet at level l.
  const wanted = (s: Step, l: number): boolean => {
    if (only !== undefined && !only.test(s.name)) return false
    if (l === 0) return true
    const apis = stepApis.get(`${s.family}|${s.name}`)
    if (apis === undefined) return !s.uncaptured
    const floors = CLIENT_FLOORS[s.floors] ?? {}
    for (const k of apis) {
      const range = brokerRanges.get(k)
      if (range === undefined) continue
      const own = clientMax.get(`${k}|${s.family}`) ?? range[1]
      const v = Math.min(own, capFor(floors, l)(k, range[0], range[1]))
      if (!kept.has(`${k}|${v}|${s.family}`)) return true
    }
    return false
  }

  for (const l of levels) {
    level = l
    const ctx: Ctx = { ...base, tag: `l${l}` }
    const todo = steps.filter((s) => wanted(s, l))
    if (todo.length === 0) {
      say(`level ${l}: nothing new to capture`)
      continue
    }
    say(`level ${l}: up to ${todo.length} steps`)
    for (const s of steps) {
      // Setup steps always run (later steps need their topics, data and groups); others only while
      // they can still add something (an earlier step of this level may have captured it already).
      if (!s.setup && !wanted(s, l)) continue
      if (only !== undefined && !only.test(s.name)) continue
      const result = await runStep(s, l, ctx)
      if (result.code !== 0 && s.name.endsWith('create-topic')) await ensureTopic(s, ctx)
    }
  }
  if (!args['no-java39']) {
    level = 0
    const ctx: Ctx = { ...base, tag: 'old' }
    say(`Java ${OLD_JAVA} tools, uncapped`)
    for (const s of javaSteps(OLD_JAVA)) if (only === undefined || only.test(s.name)) await runStep(s, 0, ctx)
  }
  for (const e of [...plain.errors, ...sasl.errors]) say(`proxy: ${e}`)
  writeFixtures(outDir, cluster.version)
  say(`done in ${Math.round((Date.now() - started) / 1000)} s`)
} finally {
  await cluster?.stop()
  await plain.close()
  await sasl.close()
  rmSync(tmp, { recursive: true, force: true })
}

/** A setup step failed to create its topic at this level's versions: create it directly (not captured). */
async function ensureTopic(s: Step, ctx: Ctx): Promise<void> {
  const topic = s.family === KCAT_FAMILY ? `gw-${ctx.tag}-kcat-a` : `gw-${ctx.tag}-${s.family.replace(/^java-/, '')}-a`
  plain.label = ''
  plain.capVersion = undefined
  const r = await runJavaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server',
    ctx.direct,
    '--create',
    '--if-not-exists',
    '--topic',
    topic,
    '--partitions',
    '2',
  ])
  say(`  created ${topic} directly${r.code === 0 ? '' : `: exit ${r.code} ${lastLines(r.stderr, 2)}`}`)
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' / ').slice(0, 400)
}

/** (apiKey, min, max) of an ApiVersions response frame (header v0 + body, v3+). */
function parseApiVersions(frame: Buffer): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = []
  let at = 6
  let n = 0
  let shift = 0
  for (;;) {
    const b = frame[at++]
    n |= (b & 0x7f) << shift
    if (b < 0x80) break
    shift += 7
  }
  for (let i = 0; i < n - 1; i++) {
    out.push([frame.readInt16BE(at), frame.readInt16BE(at + 2), frame.readInt16BE(at + 4)])
    at += 6
    if (frame[at] !== 0) throw new Error('tagged fields in an ApiVersions entry')
    at += 1
  }
  return out
}

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()
}

function writeFixtures(dir: string, brokerVersion: string): void {
  const schemas = loadSchemas()
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const entries = [...kept.values()].sort(
    (a, b) =>
      a.exchange.apiKey - b.exchange.apiKey ||
      a.exchange.version - b.exchange.version ||
      a.family.localeCompare(b.family),
  )
  const index = []
  for (const k of entries) {
    const e = k.exchange
    const valid = schemas.request(e.apiKey)?.validVersions
    if (valid !== undefined && (e.version < valid.lo || e.version > valid.hi)) {
      say(`  not kept: ${e.apiKey} v${e.version} from ${k.family} (outside the schema's validVersions)`)
      continue
    }
    const name = schemas.request(e.apiKey)?.name.replace(/Request$/, '') ?? `api-${e.apiKey}`
    const base = `${kebab(name)}/v${e.version}-${k.family}`
    mkdirSync(join(dir, kebab(name)), { recursive: true })
    writeFileSync(join(dir, `${base}.req.bin`), e.request)
    if (e.response !== null) writeFileSync(join(dir, `${base}.res.bin`), e.response)
    index.push({
      apiKey: e.apiKey,
      name,
      version: e.version,
      client: k.family,
      tool: k.step,
      clientId: e.clientId,
      capLevel: k.level,
      request: `${base}.req.bin`,
      response: e.response === null ? null : `${base}.res.bin`,
    })
  }
  const doc = {
    comment:
      'Frames captured from real clients talking to a real broker by test/tools/capture-golden.ts; ' +
      'request/response files hold the frame without its int32 size prefix (header + body).',
    broker: `Apache Kafka ${brokerVersion}`,
    frames: index,
  }
  writeFileSync(join(dir, 'index.json'), `${JSON.stringify(doc, null, 2)}\n`)
  let bytes = 0
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f)
      if (statSync(p).isDirectory()) walk(p)
      else bytes += statSync(p).size
    }
  }
  walk(dir)
  say(`wrote ${index.length} exchanges, ${(bytes / 1024).toFixed(0)} KiB, to ${dir}`)
}
