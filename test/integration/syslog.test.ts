// The syslog producer against the real broker: lines sent by logger(1) (util-linux, from bsdutils) and by plain
// sockets over TCP and UDP, read back from the topic; the LogLine protobuf form decoded by protobufjs with a
// schema of its own; the `kafka-wire syslog` command as a child process, stopped by SIGTERM.
import { spawn, spawnSync } from 'node:child_process'
import * as dgram from 'node:dgram'
import * as net from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Admin } from '../../src/client/admin.js'
import { type Counter, MetricsRegistry } from '../../src/client/metrics.js'
import { parseSyslog } from '../../src/tools/syslog/parse.js'
import { SyslogServer, type SyslogServerConfig } from '../../src/tools/syslog/server.js'
import { type ReadRecord, readTopic } from '../helpers/read-topic.js'

const brokers: string = process.env.KAFKA_BROKERS ?? ''
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

const admin = new Admin({ brokers })
const created: string[] = []
let seq = 0

async function newTopic(): Promise<string> {
  const topic = `syslog-${process.pid}-${Date.now()}-${seq++}`
  await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
  created.push(topic)
  return topic
}

test.after(async () => {
  await admin.deleteTopics(created, { ignoreMissing: true }).catch(() => {})
  admin.close()
})

// logger(1) from util-linux (Debian's bsdutils): the real sender, when installed.
const loggerHelp = spawnSync('logger', ['--help'], { encoding: 'utf8' })
const loggerSkip =
  loggerHelp.error !== undefined
    ? `logger is not installed (apt-get install bsdutils): ${loggerHelp.error.message}`
    : !/--rfc5424/.test(loggerHelp.stdout) || !/--octet-count/.test(loggerHelp.stdout)
      ? 'this logger has no --rfc5424 / --octet-count (util-linux logger needed)'
      : null
if (loggerSkip !== null) console.log(`  syslog.test.ts: the logger(1) part is skipped: ${loggerSkip}`)

function logger(args: string[]): void {
  const r = spawnSync('logger', args, { encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`logger ${args.join(' ')}: exit ${r.status} ${r.stderr}`)
}

function counter(metrics: MetricsRegistry, name: string, labels?: Record<string, string>): number {
  return (metrics.get(name, labels) as Counter | undefined)?.count ?? 0
}

async function until(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function startServer(
  topic: string,
  more: Partial<SyslogServerConfig> = {},
): Promise<{ server: SyslogServer; metrics: MetricsRegistry; tcp: number; udp: number }> {
  const metrics = new MetricsRegistry()
  const server = new SyslogServer({
    brokers,
    topic,
    tcp: { host: '127.0.0.1', port: 0 },
    udp: { host: '127.0.0.1', port: 0 },
    metrics,
    ...more,
  })
  server.on('warning', (err: Error) => console.log(`  syslog warning: ${err.message}`))
  await server.start()
  return { server, metrics, tcp: server.tcpAddress!.port, udp: server.udpAddress!.port }
}

function tcpSend(port: number, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(data))
    socket.on('error', reject)
    socket.on('close', () => resolve())
  })
}

async function udpSend(port: number, datagrams: string[]): Promise<void> {
  const socket = dgram.createSocket('udp4')
  for (const d of datagrams) {
    await new Promise<void>((resolve, reject) =>
      socket.send(Buffer.from(d), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    )
    await new Promise((r) => setTimeout(r, 5)) // UDP: no flood of a loaded machine's socket buffers
  }
  socket.close()
}

function octet(msg: string): string {
  return `${Buffer.byteLength(msg)} ${msg}`
}

const RFC5424_1 =
  "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8"
const RFC5424_2 = "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."
const RFC5424_3 =
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \uFEFFAn application event log entry...'
const RFC5424_4 =
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]'
const RFC3164_1 = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"
const RFC3164_2 = '<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!'

function values(records: ReadRecord[]): string[] {
  return records.map((r) => r.value!.toString('utf8'))
}

test('raw lines from plain sockets (TCP newline and octet-counted, UDP) land in the topic as sent', async () => {
  const topic = await newTopic()
  const { server, metrics, tcp, udp } = await startServer(topic)
  await tcpSend(tcp, `${RFC5424_1}\n${RFC3164_1}\r\n${octet(RFC5424_3)}${octet(RFC5424_4)}`)
  await udpSend(udp, [RFC5424_2, `${RFC3164_2}\n`, 'not a syslog line'])
  await until(() => counter(metrics, 'syslog.messages.produced') === 7, 60_000, '7 produced')
  await server.stop()
  const got = values(await readTopic(brokers, topic))
  assert.equal(
    got.slice(0, 4),
    [RFC5424_1, RFC3164_1, RFC5424_3, RFC5424_4],
    'TCP lines in the order sent, framing stripped',
  )
  assert.equal(got.slice(4).sort(), [RFC3164_2, RFC5424_2, 'not a syslog line'].sort())
  assert.is(counter(metrics, 'syslog.messages.received', { transport: 'tcp' }), 4)
  assert.is(counter(metrics, 'syslog.messages.received', { transport: 'udp' }), 3)
  assert.is(counter(metrics, 'syslog.parse.errors', { transport: 'udp' }), 1)
  assert.is(counter(metrics, 'syslog.parse.errors', { transport: 'tcp' }), 0)
  assert.is(counter(metrics, 'syslog.messages.failed'), 0)
})

test('logger(1): RFC 3164 and RFC 5424 over TCP (newline and octet-counted) and UDP', async () => {
  if (loggerSkip !== null) {
    console.log(`  skipped: ${loggerSkip}`)
    return
  }
  const topic = await newTopic()
  const { server, metrics, tcp, udp } = await startServer(topic)
  const id = `${process.pid}-${Date.now()}`
  const sends: Array<{ args: string[]; text: string; format: 'rfc3164' | 'rfc5424' }> = [
    { args: ['--tcp', '-P', String(tcp), '--rfc3164'], text: `tcp 3164 ${id}`, format: 'rfc3164' },
    { args: ['--tcp', '-P', String(tcp), '--rfc5424'], text: `tcp 5424 ${id} héllo`, format: 'rfc5424' },
    {
      args: ['--tcp', '-P', String(tcp), '--rfc5424', '--octet-count', '--msgid', 'ID9'],
      text: `tcp 5424 octet ${id}`,
      format: 'rfc5424',
    },
    {
      args: ['--tcp', '-P', String(tcp), '--rfc3164', '--octet-count'],
      text: `tcp 3164 octet ${id}`,
      format: 'rfc3164',
    },
    { args: ['--udp', '-P', String(udp), '--rfc3164'], text: `udp 3164 ${id}`, format: 'rfc3164' },
    {
      args: ['--udp', '-P', String(udp), '--rfc5424', '--sd-id', 'kw@32473', '--sd-param', 'run="r\\"1"'],
      text: `udp 5424 ${id}`,
      format: 'rfc5424',
    },
  ]
  for (const s of sends) logger(['-n', '127.0.0.1', ...s.args, '-t', 'kwtest', '-p', 'local3.warning', s.text])
  await until(() => counter(metrics, 'syslog.messages.produced') === sends.length, 60_000, 'logger lines produced')
  await server.stop()
  assert.is(counter(metrics, 'syslog.parse.errors', { transport: 'tcp' }), 0)
  assert.is(counter(metrics, 'syslog.parse.errors', { transport: 'udp' }), 0)
  const got = values(await readTopic(brokers, topic))
  assert.is(got.length, sends.length)
  for (const s of sends) {
    const line = got.find((v) => v.endsWith(s.text))
    assert.ok(line !== undefined, `${s.text} is in the topic: ${JSON.stringify(got)}`)
    const m = parseSyslog(line!)
    assert.is(m.format, s.format, s.text)
    assert.is(m.facility, 19, 'local3')
    assert.is(m.severity, 4, 'warning')
    assert.is(m.appName, 'kwtest')
    assert.is(m.message, s.text)
    assert.ok(m.timestamp !== null && Math.abs(m.timestamp.getTime() - Date.now()) < 10 * 60_000, 'a current time')
    if (s.text.startsWith('udp 5424')) {
      const sd = m.structuredData.find((e) => e.id === 'kw@32473')
      assert.equal(sd?.params, [{ name: 'run', value: 'r"1' }])
    }
    if (s.text.startsWith('tcp 5424 octet')) assert.is(m.msgId, 'ID9')
  }
})

const LOGLINE_SCHEMA = `
syntax = "proto2";
message LogLine {
  message Tag { required string key = 1; required string value = 2; }
  required string line = 1;
  optional string source = 2;
  repeated Tag tag = 3;
  optional int64 logtypeid = 4;
  repeated int64 timings = 5;
}`

test('LogLine protobuf: --source, --tag, --log.type.id; decoded by protobufjs; keyed by source', async () => {
  const topic = await newTopic()
  const { server, metrics, tcp, udp } = await startServer(topic, {
    logLine: {
      source: 'web-7',
      tags: [
        { key: 'dc', value: 'eu-west' },
        { key: 'role', value: 'front' },
      ],
      logTypeId: -2n,
    },
    numProducers: 2,
    requiredAcks: -1,
    compression: 'gzip',
  })
  const before = Date.now()
  await tcpSend(tcp, `${RFC5424_3}\n`)
  await udpSend(udp, [RFC3164_1])
  if (loggerSkip === null)
    logger(['-n', '127.0.0.1', '--udp', '-P', String(udp), '--rfc5424', '-t', 'pb', 'via logger'])
  const expected = loggerSkip === null ? 3 : 2
  await until(() => counter(metrics, 'syslog.messages.produced') === expected, 60_000, 'protobuf lines produced')
  await server.stop()
  const LogLine = protobuf.parse(LOGLINE_SCHEMA).root.lookupType('LogLine')
  const records = await readTopic(brokers, topic)
  assert.is(records.length, expected)
  const decoded = records.map((r) => {
    assert.is(r.key?.toString(), 'web-7')
    return LogLine.toObject(LogLine.decode(r.value!), { longs: Number }) as {
      line: string
      source: string
      tag: Array<{ key: string; value: string }>
      logtypeid: number
      timings: number[]
    }
  })
  const lines = decoded.map((d) => d.line)
  assert.ok(lines.includes(RFC5424_3))
  assert.ok(lines.includes(RFC3164_1))
  if (loggerSkip === null) assert.ok(lines.some((l) => l.endsWith(' via logger')))
  for (const d of decoded) {
    assert.is(d.source, 'web-7')
    assert.equal(d.tag, [
      { key: 'dc', value: 'eu-west' },
      { key: 'role', value: 'front' },
    ])
    assert.is(d.logtypeid, -2)
    assert.is(d.timings.length, 2, 'received and sent')
    assert.ok(before <= d.timings[0] && d.timings[0] <= d.timings[1] && d.timings[1] <= Date.now())
  }
})

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/tools/cli.ts', ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  })
}

test('kafka-wire syslog --help exits 0; a bad flag or value exits non-zero with one clear line', () => {
  const help = cli(['syslog', '--help'])
  assert.is(help.status, 0, help.stderr)
  assert.ok(help.stdout.includes('--queue.size'))
  assert.ok(cli(['--help']).stdout.includes('syslog'))
  for (const [args, says] of [
    [['syslog', '--bogus'], '--bogus'],
    [['syslog', '--topic', 't', '--queue.size', 'many'], '--queue.size'],
    [['syslog', '--topic', 't', '--tag', 'novalue'], '--tag'],
    [['syslog', '--topic', 't', '--required.acks', '2'], '--required.acks'],
    [['syslog', '--topic', 't', '--required.acks'], '--required.acks'],
    [['syslog', '--topic', 't', '--metrics.prometheus', 'nope:x'], '--metrics.prometheus'],
    [['syslog', '--brokers', brokers], '--topic'],
  ] as const) {
    const r = cli([...args])
    assert.ok(r.status !== 0 && r.status !== null, `${args.join(' ')}: exit ${r.status}`)
    const lines = r.stderr.split('\n').filter((l) => l.length > 0 && !l.startsWith('npm warn'))
    assert.is(lines.length, 1, `${args.join(' ')}: ${r.stderr}`)
    assert.ok(lines[0].includes(says), lines[0])
  }
})

test('kafka-wire syslog as a process: lines in, SIGTERM flushes and exits 0', async () => {
  const topic = await newTopic()
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/tools/cli.ts',
      'syslog',
      '--topic',
      topic,
      '--tcp.host',
      '127.0.0.1',
      '--tcp.port',
      '0',
      '--udp.host',
      '127.0.0.1',
      '--udp.port',
      '0',
      '--required.acks',
      '-1',
      '--acks.timeout',
      '5000',
      '--queue.size',
      '100',
      '--metrics.prometheus',
      '127.0.0.1:0',
    ],
    { cwd: ROOT, env: { ...process.env, KAFKA_BROKERS: brokers }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
  try {
    await until(
      () => /Prometheus metrics at \S+/.test(stdout) || child.exitCode !== null,
      120_000,
      () => `the listening line; stdout: ${stdout}; stderr: ${stderr}`,
    )
    assert.is(child.exitCode, null, stderr)
    const m = /tcp [^:]+:(\d+), udp [^:]+:(\d+)/.exec(stdout)!
    const tcp = Number(m[1])
    const udp = Number(m[2])
    const lines = Array.from({ length: 50 }, (_, i) => `<14>1 - cli app - - - line ${i}`)
    await tcpSend(tcp, `${lines.join('\n')}\n`)
    await udpSend(udp, ['<14>Oct 11 22:14:15 h app: over udp'])
    // The counters are scraped from the --metrics.prometheus endpoint; received is enough: the stop must
    // deliver what is still queued or in flight.
    const url = /Prometheus metrics at (\S+)/.exec(stdout)![1]
    let scraped = ''
    await until(
      async () => {
        scraped = await (await fetch(url)).text()
        return scraped.includes('syslog_messages_received_total{transport="udp"} 1')
      },
      30_000,
      () => `the counters on ${url}: ${scraped}`,
    )
    assert.ok(scraped.includes('syslog_messages_received_total{transport="tcp"} 50'), scraped)
    child.kill('SIGTERM')
    const code = await exited
    assert.is(code, 0, stderr)
    assert.ok(stderr.includes('SIGTERM, stopping'), stderr)
    assert.ok(/received 51, produced 51, failed 0, dropped 0, parse errors 0/.test(stderr), stderr)
    const got = values(await readTopic(brokers, topic))
    assert.equal(got.slice(0, 50), lines)
    assert.equal(got.slice(50), ['<14>Oct 11 22:14:15 h app: over udp'])
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})

test.run()
