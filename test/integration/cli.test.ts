// The `kafka-wire` command line, run as users run it: the built bin (dist/tools/cli.js) in a child process
// against the broker. dist is rebuilt first when any file under src/ is newer than it.
import * as assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import type { Cluster } from '../../src/tools/local-broker.js'
import { acquireCluster, type ClusterLease, EXTERNAL, loud } from '../helpers/local-kafka.js'

const brokers: string = process.env.KAFKA_BROKERS ?? ''
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BIN = join(ROOT, 'dist', 'tools', 'cli.js')
const admin = new Admin({ brokers })
const prefix = `cli-${process.pid}-${Date.now()}`
let seq = 0
const topicName = () => `${prefix}-${seq++}`

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

/** Build dist when it is missing or older than a source file (tsc still emits when others' files fail to check). */
function ensureBuilt(): void {
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= newestMtime(join(ROOT, 'src'))) return
  const started = Date.now()
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' })
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < started - 1000)
    throw new Error(`npm run build did not produce ${BIN}:\n${r.stdout}${r.stderr}`)
  if (r.status !== 0) console.log(`(the build reported errors, dist was emitted anyway)\n${r.stdout}`)
}

/** Run `kafka-wire ...args` with KAFKA_BROKERS set; `input` goes to its stdin. */
function cli(args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<Run>((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_BROKERS: brokers, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(new Error(`kafka-wire ${args.join(' ')} did not end in time; stderr: ${stderr}`))
    }, options.timeoutMs ?? 60_000)
    child.on('error', fail)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      done({ code, signal, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

async function ok(args: string[], input?: string): Promise<Run> {
  const r = await cli(args, { input })
  assert.equal(r.code, 0, `kafka-wire ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r
}

/** A failure: the given exit code and exactly one line on stderr, nothing on stdout. */
async function fails(
  args: string[],
  code: number,
  pattern: RegExp,
  input?: string,
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const r = await cli(args, { input, env })
  assert.equal(r.code, code, `kafka-wire ${args.join(' ')}: exit code (stderr: ${r.stderr})`)
  const lines = r.stderr.split('\n').filter(Boolean)
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`)
  assert.match(lines[0], pattern)
  assert.equal(r.stdout, '')
  return lines[0]
}

async function endSum(topic: string): Promise<number> {
  const ends = await admin.listOffsets(topic, 'latest')
  return ends.reduce((sum, e) => sum + Number(e.offset), 0)
}

test.before(
  loud(async () => {
    ensureBuilt()
  }),
)

/**
 * A broker with SASL and TLS listeners: test/run.ts's shared one (started with auth), else one of this file's own;
 * none when KAFKA_BROKERS came from the user (KAFKA_WIRE_EXTERNAL=1).
 */
let secured: ClusterLease | undefined
async function securedCluster(): Promise<Cluster | undefined> {
  if (EXTERNAL) {
    console.log('  SASL/TLS tests skipped: KAFKA_WIRE_EXTERNAL=1 (they need the local broker and its listeners)')
    return undefined
  }
  secured ??= await acquireCluster({ auth: true })
  return secured.cluster
}

const scratch = mkdtempSync(join(tmpdir(), 'kafka-wire-cli-test-'))

test.after(async () => {
  rmSync(scratch, { recursive: true, force: true })
  await secured?.release()
  const all = await admin.listTopics().catch(() => [] as string[])
  await admin
    .deleteTopics(
      all.filter((t) => t.startsWith(prefix)),
      { ignoreMissing: true },
    )
    .catch(() => {})
  admin.close()
})

test('produce and consume: keys, headers, JSON lines, static partitions and a group', async () => {
  const topic = topicName()
  await ok(['topics', 'create', topic, '--partitions', '2', '--replication-factor', '1'])
  const lines = ['user-1|{"n":1}', 'user-2|{"n":2}', 'user-1|{"n":3}', 'user-3|caf\u00e9 \u2603']
  const produced = await ok(
    ['produce', '--topic', topic, '--key-separator', '|', '--header', 'source=cli', '--header', 'trace=a=b'],
    `${lines.join('\n')}\n`,
  )
  assert.match(produced.stderr, /^produced 4 message\(s\) to /)

  const r = await ok([
    'consume',
    '--topic',
    topic,
    '--partitions',
    '0,1',
    '--from-beginning',
    '--format',
    'json',
    '--max-messages',
    '4',
  ])
  const messages = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.equal(messages.length, 4)
  const byValue = new Map(messages.map((m) => [m.value, m]))
  for (const line of lines) {
    const [key, value] = line.split('|')
    const m = byValue.get(value)
    assert.ok(m, `message ${value} consumed`)
    assert.equal(m.key, key)
    assert.equal(m.topic, topic)
    assert.ok(m.partition === 0 || m.partition === 1)
    assert.equal(typeof m.offset, 'number')
    assert.ok(Math.abs(m.timestamp - Date.now()) < 120_000, 'timestamp is recent')
    assert.deepEqual(m.headers, [
      { key: 'source', value: 'cli' },
      { key: 'trace', value: 'a=b' },
    ])
  }
  // Same key, same partition, in order.
  const user1 = messages.filter((m) => m.key === 'user-1')
  assert.equal(user1[0].partition, user1[1].partition)
  assert.ok(user1[0].offset < user1[1].offset)
  assert.match(r.stderr, /consumed 4 message\(s\)/)

  // base64, and the default value format in a group that exits when idle.
  const b64 = await ok([
    'consume',
    '--topic',
    topic,
    '--partitions',
    '0,1',
    '--from-beginning',
    '--format',
    'json',
    '--base64',
    '--max-messages',
    '1',
  ])
  const one = JSON.parse(b64.stdout)
  const decoded = (s: string) => Buffer.from(s, 'base64').toString('utf8')
  assert.ok(lines.includes(`${decoded(one.key)}|${decoded(one.value)}`), b64.stdout)
  assert.equal(decoded(one.headers[0].value), 'cli')
  const group = await ok([
    'consume',
    '--topic',
    topic,
    '--group',
    `${topic}-g`,
    '--from-beginning',
    '--timeout-ms',
    '1500',
  ])
  assert.deepEqual(group.stdout.trim().split('\n').sort(), lines.map((l) => l.split('|')[1]).sort())
  // From a timestamp in a new group: the group's offsets are set there first, then it reads from them.
  const since = new Date(Date.now() - 10 * 60_000).toISOString()
  const fromTime = await ok([
    'consume',
    '--topic',
    topic,
    '--group',
    `${topic}-t`,
    '--from-timestamp',
    since,
    '--max-messages',
    '4',
  ])
  assert.equal(fromTime.stdout.trim().split('\n').length, 4)
  // A timestamp after every message: nothing to read, the idle timeout ends it.
  const future = await ok([
    'consume',
    '--topic',
    topic,
    '--partitions',
    '0,1',
    '--from-timestamp',
    String(Date.now() + 60_000),
    '--timeout-ms',
    '500',
  ])
  assert.equal(future.stdout, '')
})

test('topics: create, describe, list, alter, add partitions, delete', async () => {
  const topic = topicName()
  const created = await ok(['topics', 'create', topic, '--partitions', '3', '--config', 'retention.ms=3600000'])
  assert.match(created.stdout, /created topic/)
  await fails(['topics', 'create', topic, '--partitions', '3'], 1, /TOPIC_ALREADY_EXISTS/)
  await ok(['topics', 'create', topic, '--if-not-exists'])

  const [described] = JSON.parse((await ok(['topics', 'describe', topic, '--json'])).stdout)
  assert.equal(described.name, topic)
  assert.equal(described.partitions.length, 3)
  for (const p of described.partitions) {
    assert.ok(p.leader >= 0)
    assert.deepEqual(p.replicas, [p.leader])
    assert.deepEqual(p.isr, [p.leader])
  }
  assert.deepEqual(described.configs, { 'retention.ms': '3600000' })
  const text = (await ok(['topics', 'describe', topic])).stdout
  assert.match(text, new RegExp(`Topic: ${topic}\\tTopicId: \\S+\\tPartitionCount: 3\\tReplicationFactor: 1`))
  assert.match(text, /Partition: 2\s+Leader: \d+\s+Replicas: \d+\s+Isr: \d+/)

  assert.ok((await ok(['topics', 'list'])).stdout.split('\n').includes(topic))
  assert.ok(JSON.parse((await ok(['topics', 'list', '--json'])).stdout).includes(topic))

  await ok(['topics', 'alter', topic, '--config', 'cleanup.policy=compact', '--delete-config', 'retention.ms'])
  const altered = await admin.describeConfigs({ type: 'topic', name: topic }, ['cleanup.policy', 'retention.ms'])
  assert.equal(altered['cleanup.policy'].value, 'compact')
  assert.notEqual(altered['retention.ms'].source, 'topic')

  await ok(['topics', 'add-partitions', topic, '--partitions', '5'])
  assert.equal((await admin.describeTopics([topic]))[0].partitions.length, 5)
  await fails(['topics', 'add-partitions', topic, '--partitions', '2'], 2, /never removes partitions/)

  await ok(['topics', 'delete', topic])
  assert.ok(!(await ok(['topics', 'list'])).stdout.split('\n').includes(topic))
  await fails(['topics', 'describe', topic], 1, /UNKNOWN_TOPIC_OR_PARTITION/)
  await fails(['topics', 'delete', topic], 1, /UNKNOWN_TOPIC_OR_PARTITION/)
  await ok(['topics', 'delete', topic, '--if-exists'])
})

test('groups: describe shows committed, end and lag; reset-offsets dry run and execute; delete', async () => {
  const topic = topicName()
  const groupId = `${topic}-g`
  await ok(['topics', 'create', topic, '--partitions', '2'])
  await ok(
    ['produce', '--topic', topic, '--partition', '0'],
    `${Array.from({ length: 10 }, (_, i) => `m${i}`).join('\n')}\n`,
  )
  await ok(['produce', '--topic', topic, '--partition', '1'], 'x\ny\nz\n')
  // 4 printed from partition 0 (static assignment committed to the group): the committed offset is 4, not more.
  const first = await ok([
    'consume',
    '--topic',
    topic,
    '--partitions',
    '0',
    '--group',
    groupId,
    '--from-beginning',
    '--max-messages',
    '4',
  ])
  assert.equal(first.stdout, 'm0\nm1\nm2\nm3\n')
  const tail = await ok(['consume', '--topic', topic, '--partitions', '0', '--offset', '8', '--timeout-ms', '500'])
  assert.equal(tail.stdout, 'm8\nm9\n')

  const describe = async () => {
    const d = JSON.parse((await ok(['groups', 'describe', groupId, '--json'])).stdout)
    return new Map<number, { committed: number; end: number; lag: number }>(
      d.partitions.map((p: { partition: number; committed: number; end: number; lag: number }) => [p.partition, p]),
    )
  }
  const lag = await describe()
  assert.deepEqual({ ...lag.get(0) }, { ...lag.get(0), committed: 4, end: 10, lag: 6 })
  const text = (await ok(['groups', 'describe', groupId])).stdout
  assert.match(text, /TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CONSUMER-ID\s+HOST\s+CLIENT-ID/)
  assert.match(text, new RegExp(`${topic}\\s+0\\s+4\\s+10\\s+6\\s`))
  assert.ok(
    JSON.parse((await ok(['groups', 'list', '--json'])).stdout).some((g: { groupId: string }) => g.groupId === groupId),
  )

  // Dry run by default: printed, not written.
  const dry = await ok(['groups', 'reset-offsets', groupId, '--topic', topic, '--partitions', '0', '--to-earliest'])
  assert.match(dry.stdout, new RegExp(`${groupId}\\s+${topic}\\s+0\\s+4\\s+0`))
  assert.match(dry.stderr, /dry run/)
  assert.equal((await describe()).get(0)?.committed, 4)

  await ok(['groups', 'reset-offsets', groupId, '--topic', topic, '--to-offset', '7', '--execute'])
  let now = await describe()
  assert.equal(now.get(0)?.committed, 7)
  assert.equal(now.get(0)?.lag, 3)
  assert.equal(now.get(1)?.committed, 3, 'partition 1 clamped to its end')

  const shifted = JSON.parse(
    (await ok(['groups', 'reset-offsets', groupId, '--all-topics', '--shift-by', '-2', '--execute', '--json'])).stdout,
  )
  assert.deepEqual(
    shifted.map((o: { partition: number; offset: number }) => [o.partition, o.offset]),
    [
      [0, 5],
      [1, 1],
    ],
  )
  now = await describe()
  assert.equal(now.get(0)?.lag, 5)
  // The group resumes where it was reset to.
  const resumed = await ok([
    'consume',
    '--topic',
    topic,
    '--partitions',
    '0',
    '--group',
    groupId,
    '--max-messages',
    '1',
  ])
  assert.equal(resumed.stdout, 'm5\n')

  await fails(['groups', 'reset-offsets', groupId, '--topic', topic], 2, /give a target/)
  await ok(['groups', 'delete', groupId])
  await fails(['groups', 'describe', groupId], 1, /does not exist/)
})

test('perf produce sends exactly --count and reports JSON; perf consume reads them', async () => {
  const topic = topicName()
  await ok(['topics', 'create', topic, '--partitions', '3'])
  const count = 20_000
  const r = await ok([
    'perf',
    'produce',
    '--topic',
    topic,
    '--count',
    String(count),
    '--size',
    '200',
    '--compression',
    'lz4',
    '--interval-ms',
    '100',
    '--json',
  ])
  const report = JSON.parse(r.stdout)
  assert.equal(report.type, 'produce')
  assert.equal(report.messages, count)
  assert.equal(report.failed, 0)
  assert.equal(report.bytes, count * 200)
  for (const key of ['seconds', 'msgPerSec', 'mbPerSec']) assert.ok(report[key] > 0, key)
  for (const key of ['avg', 'p50', 'p95', 'p99', 'p999', 'max']) assert.equal(typeof report.latencyMs[key], 'number')
  assert.ok(report.latencyMs.p50 <= report.latencyMs.p99 && report.latencyMs.p99 <= report.latencyMs.max)
  assert.equal(await endSum(topic), count, 'the topic holds exactly --count messages')

  // Rate-limited: 2000 messages at 4000/s take about half a second.
  const limited = JSON.parse(
    (
      await ok([
        'perf',
        'produce',
        '--topic',
        topic,
        '--count',
        '2000',
        '--throughput',
        '4000',
        '--acks',
        '1',
        '--size',
        '200',
        '--json',
      ])
    ).stdout,
  )
  assert.equal(limited.messages, 2000)
  assert.ok(limited.seconds >= 0.45, `throttled run took ${limited.seconds} s`)
  assert.ok(limited.msgPerSec <= 4400, `rate ${limited.msgPerSec}`)
  assert.equal(await endSum(topic), count + 2000)

  const c = await ok(['perf', 'consume', '--topic', topic, '--count', String(count + 2000), '--json'])
  const consumed = JSON.parse(c.stdout)
  assert.equal(consumed.type, 'consume')
  assert.equal(consumed.messages, count + 2000)
  assert.equal(consumed.bytes, (count + 2000) * 200)
  assert.match(consumed.group, /^kafka-wire-perf-/)
  for (const key of ['avg', 'p50', 'p95', 'p99', 'p999', 'max']) {
    assert.equal(typeof consumed.latencyMs[key], 'number')
    assert.equal(typeof consumed.endToEndMs[key], 'number')
  }
  // Asked for more than there is: the idle timeout ends it with exit 1, one line, and the report still printed.
  const short = await cli(['perf', 'consume', '--topic', topic, '--count', '999999', '--timeout-ms', '1000', '--json'])
  assert.equal(short.code, 1)
  assert.equal(JSON.parse(short.stdout).messages, count + 2000)
  assert.match(short.stderr.trim(), /^kafka-wire perf consume: read 22000 of 999999 messages/)
})

test('consume: SIGTERM commits and leaves the group, exit 0', async () => {
  const topic = topicName()
  const groupId = `${topic}-g`
  await ok(['topics', 'create', topic, '--partitions', '1'])
  const child = spawn(process.execPath, [BIN, 'consume', '--topic', topic, '--group', groupId], {
    env: { ...process.env, KAFKA_BROKERS: brokers },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c))
  child.stderr.on('data', (c: Buffer) => (stderr += c))
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)))
  try {
    const deadline = Date.now() + 30_000
    while ((await admin.describeGroup(groupId)).state !== 'Stable') {
      if (Date.now() > deadline) throw new Error(`the consumer did not join: ${stderr}`)
      await new Promise((r) => setTimeout(r, 100))
    }
    await ok(['produce', '--topic', topic], 'a\nb\nc\n')
    while (stdout !== 'a\nb\nc\n') {
      if (Date.now() > deadline) throw new Error(`not consumed: ${stdout} ${stderr}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGTERM')
    assert.equal(await exited, 0, stderr)
    assert.match(stderr, /consumed 3 message\(s\)/)
    const g = await admin.describeGroup(groupId)
    assert.equal(g.members.length, 0, 'left the group')
    assert.deepEqual(
      (await admin.groupOffsets(groupId)).map((o) => Number(o.offset)),
      [3],
    )
  } finally {
    child.kill('SIGKILL')
  }
})

test('SASL and TLS flags: SCRAM-SHA-512 and SCRAM-SHA-256 ($KAFKA_SASL_PASSWORD), OAUTHBEARER, mutual TLS', async () => {
  const kafka = await securedCluster()
  if (!kafka) return
  const { username, password } = kafka.users[0]
  const topic = topicName()
  const saslPlaintext = [
    '--brokers',
    kafka.addresses('SASL_PLAINTEXT').join(','),
    '--security.protocol',
    'SASL_PLAINTEXT',
  ]
  const scram512 = [...saslPlaintext, '--sasl.mechanism', 'SCRAM-SHA-512', '--sasl.username', username]
  await ok(['topics', 'create', topic, '--partitions', '1', ...scram512, '--sasl.password', password])
  const listed = await ok(['topics', 'list', ...scram512, '--sasl.password', password])
  assert.ok(listed.stdout.split('\n').includes(topic), listed.stdout)
  assert.equal(listed.stderr, '')

  // The password from the environment, out of argv.
  const viaEnv = await cli(
    ['topics', 'list', ...saslPlaintext, '--sasl.mechanism', 'SCRAM-SHA-256', '--sasl.username', username],
    { env: { KAFKA_SASL_PASSWORD: password } },
  )
  assert.equal(viaEnv.code, 0, viaEnv.stderr)
  assert.ok(viaEnv.stdout.split('\n').includes(topic))

  // OAUTHBEARER: an unsecured JWT (alg "none"), which the test broker's default validator accepts.
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const tokenFile = join(scratch, 'token')
  writeFileSync(tokenFile, `${part({ alg: 'none' })}.${part({ sub: username, iat: now - 10, exp: now + 3600 })}.\n`)
  const oauth = await ok([
    ...['topics', 'describe', topic, '--json', ...saslPlaintext],
    ...['--sasl.mechanism', 'OAUTHBEARER', '--sasl.oauthbearer.token.file', tokenFile],
  ])
  assert.equal(JSON.parse(oauth.stdout)[0].name, topic)

  // Mutual TLS with the client certificate as PEM files (made when openssl is installed).
  const tls = kafka.tls!
  if (tls.clientCertPath && tls.clientKeyPath) {
    const mtls = await ok([
      ...['topics', 'list', '--brokers', kafka.addresses('MTLS').join(','), '--security.protocol', 'SSL'],
      ...['--ssl.ca.location', tls.caPath, '--ssl.certificate.location', tls.clientCertPath],
      ...['--ssl.key.location', tls.clientKeyPath],
    ])
    assert.ok(mtls.stdout.split('\n').includes(topic))
  }
})

test('SASL_SSL from a --command-config file: produce, then consume in a group; Java-only settings warned', async () => {
  const kafka = await securedCluster()
  if (!kafka) return
  const { username, password } = kafka.users[0]
  const topic = topicName()
  // What a kafka-topics.sh --command-config file looks like, with settings of the Java consumer and producer that
  // these commands do not read. Its bootstrap.servers wins over $KAFKA_BROKERS (the PLAINTEXT listener).
  const config = join(scratch, 'client.properties')
  writeFileSync(
    config,
    [
      `bootstrap.servers=${kafka.addresses('SASL_SSL').join(',')}`,
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${username}" password="${password}";`,
      `ssl.ca.location=${tls(kafka)}`,
      'group.id=from-the-java-tools',
      'acks=all',
      '',
    ].join('\n'),
  )
  const warning = new RegExp(
    `: ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ignored, not connection settings: group.id, acks$`,
  )
  const created = await ok(['topics', 'create', topic, '--partitions', '2', '--command-config', config])
  assert.match(created.stderr.trim(), warning)

  const produced = await ok(
    ['produce', '--topic', topic, '--key-separator', ':', '--command-config', config],
    'k1:one\nk2:two\nk3:three\n',
  )
  const lines = produced.stderr.trim().split('\n')
  assert.equal(lines.length, 2, produced.stderr)
  assert.match(lines[0], /^kafka-wire produce: /)
  assert.match(lines[0], warning)
  assert.match(lines[1], /^produced 3 message\(s\) to /)

  const consumed = await ok([
    ...['consume', '--topic', topic, '--group', `${topic}-g`, '--from-beginning', '--max-messages', '3'],
    ...['--format', 'json', '--timeout-ms', '30000', '--command-config', config],
  ])
  const got = consumed.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { key: string; value: string })
    .map((m) => `${m.key}:${m.value}`)
    .sort()
  assert.deepEqual(got, ['k1:one', 'k2:two', 'k3:three'])
  assert.match(consumed.stderr, /consumed 3 message\(s\)/)
})

test('SASL and TLS mistakes: a wrong password is one line and exit 1; bad options fail before connecting', async () => {
  const kafka = await securedCluster()
  if (!kafka) return
  const { username, password } = kafka.users[0]
  const wrong = `${password}-but-wrong-7c1e`
  const sasl = ['--brokers', kafka.addresses('SASL_PLAINTEXT').join(','), '--security.protocol', 'SASL_PLAINTEXT']
  const started = Date.now()
  const line = await fails(
    [
      'topics',
      'list',
      ...sasl,
      '--sasl.mechanism',
      'SCRAM-SHA-512',
      '--sasl.username',
      username,
      '--sasl.password',
      wrong,
    ],
    1,
    /^kafka-wire topics list: SCRAM-SHA-512 with .*authentication failed/,
  )
  assert.ok(!line.includes(wrong) && !line.includes(password), line)
  assert.ok(Date.now() - started < 30_000, 'an authentication failure is not retried until a timeout')
  // The same over SASL_SSL with the password from the environment, for a producer.
  await fails(
    [
      ...['produce', '--topic', 'any', '--brokers', kafka.addresses('SASL_SSL').join(',')],
      ...['--security.protocol', 'SASL_SSL', '--ssl.ca.location', tls(kafka), '--sasl.username', username],
    ],
    1,
    /^kafka-wire produce: PLAIN with .*authentication failed/,
    'x\n',
    { KAFKA_SASL_PASSWORD: wrong },
  )
  // TLS without the test CA: the broker's certificate is not trusted.
  await fails(
    ['topics', 'list', '--brokers', kafka.addresses('SSL').join(','), '--security.protocol', 'SSL'],
    1,
    /^kafka-wire topics list: TLS with .* failed: .*certificate/,
  )
  // Before connecting: a SASL flag without a SASL protocol (usage, 2), a file naming a missing PEM file (1).
  await fails(
    ['groups', 'list', '--sasl.username', username],
    2,
    /^kafka-wire groups list: --sasl\.username needs --security\.protocol SASL_PLAINTEXT or SASL_SSL/,
  )
  const config = join(scratch, 'missing-ca.properties')
  writeFileSync(config, `security.protocol=SSL\nssl.ca.location=${join(scratch, 'no-such-ca.pem')}\n`)
  await fails(
    ['consume', '--topic', 't', '--group', 'g', '--command-config', config],
    1,
    /missing-ca\.properties: ssl\.ca\.location .*no-such-ca\.pem: no such file/,
  )
  await fails(
    ['topics', 'list', '--security.protocol', 'SASL_SSL', '--sasl.mechanism', 'GSSAPI'],
    2,
    /--sasl\.mechanism=GSSAPI: expected one of/,
  )
})

function tls(kafka: Cluster): string {
  return kafka.tls!.caPath
}

test('usage errors and help: exit 2 and one line; --help on every command and subcommand', async () => {
  const topic = topicName()
  await Promise.all([
    fails(['produce', '--topic', 't', '--bogus'], 2, /^kafka-wire produce: unknown option '--bogus'/),
    fails(['consume', '--topic', 't'], 2, /give --group G .* or --partitions/),
    fails(['consume', '--topic', 't', '--group', 'g', '--offset', '3'], 2, /--offset needs --partitions/),
    fails(['topics', 'create', 'x', '--partitions', 'many'], 2, /--partitions must be an integer/),
    fails(['topics', 'frobnicate'], 2, /unknown subcommand "frobnicate"/),
    fails(['groups', 'list', '--partitions', '1'], 2, /unknown option '--partitions' for groups list/),
    fails(['perf', 'produce', '--topic', 't', '--acks', '2'], 2, /--acks must be one of/),
    fails(['perf', 'bench'], 2, /unknown subcommand/),
    fails(['nonsense'], 2, /unknown command "nonsense"/),
  ])
  // No brokers anywhere.
  const none = await cli(['topics', 'list'], { env: { KAFKA_BROKERS: '' } })
  assert.equal(none.code, 2)
  assert.match(none.stderr, /^kafka-wire topics list: no brokers: give --brokers host:port or set KAFKA_BROKERS/)
  // A topic that does not exist: exit 1, one line.
  await fails(['produce', '--topic', `${topic}-missing`], 1, /UNKNOWN_TOPIC_OR_PARTITION/, 'x\n')
  await fails(['consume', '--topic', `${topic}-missing`, '--group', 'g'], 1, /UNKNOWN_TOPIC_OR_PARTITION/)

  const helps = [
    [],
    ['produce'],
    ['consume'],
    ['topics'],
    ...['list', 'describe', 'create', 'delete', 'alter', 'add-partitions'].map((s) => ['topics', s]),
    ['groups'],
    ...['list', 'describe', 'delete', 'reset-offsets'].map((s) => ['groups', s]),
    ['perf'],
    ['perf', 'produce'],
    ['perf', 'consume'],
    ['switch'],
    ['syslog'],
  ]
  const runs = await Promise.all(helps.map((h) => cli([...h, '--help'])))
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, `${helps[i].join(' ')} --help: ${r.stderr}`)
    assert.match(r.stdout, /^usage: kafka-wire/, `${helps[i].join(' ')} --help`)
    // Every command that connects lists the connection options (the overviews point to the subcommands').
    const overview = helps[i].length === 0 || (helps[i].length === 1 && helps[i][0] === 'perf')
    if (!overview)
      assert.match(r.stdout, /--command-config FILE[\s\S]*--ssl\.ca\.location/, `${helps[i].join(' ')} --help`)
  })
})

test.run()
