// `kafka-wire mirror` between two real clusters: the runner's shared one (KAFKA_BROKERS) as the source and a
// single-node cluster of this file's own as the destination. The mirror maker runs as a child process (the CLI):
// killed with SIGKILL mid-stream and restarted, every source message arrives at least once with the same key,
// headers, timestamp and partition; --prefix and --whitelist are honoured; SIGTERM drains, commits (the group's
// offsets reach the ends) and exits 0. Also --preserve.order with two producers and two streams into an existing
// topic with fewer partitions, and a missing destination topic as a clear error. Skipped against an external
// cluster (KAFKA_WIRE_EXTERNAL=1): it starts a cluster of its own.

import * as assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import { Producer, type ProducerMessage } from '../../src/client/producer.js'
import { Cluster as NetworkCluster } from '../../src/network/cluster.js'
import { type Cluster, startCluster } from '../../src/tools/local-broker.js'
import { EXTERNAL, loud } from '../helpers/local-kafka.js'
import { endOffsets, type ReadRecord, readTopic } from '../helpers/read-topic.js'

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'tools', 'cli.ts')
const SOURCE = process.env.KAFKA_BROKERS ?? 'localhost:9092'
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`
const BASE_TIME = Date.now() - 3_600_000

let destination: Cluster | undefined
let dir: string
let sourceAdmin: Admin
let destAdmin: Admin

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(200)
  }
}

test.before(
  loud(async () => {
    if (EXTERNAL) return
    dir = mkdtempSync(join(tmpdir(), 'kafka-wire-mirror-'))
    sourceAdmin = new Admin({ brokers: SOURCE })
    const [cluster] = await Promise.all([
      startCluster(),
      sourceAdmin.createTopics([
        { topic: `mm-${RUN}-a`, partitions: 3 },
        { topic: `mm-${RUN}-b`, partitions: 2 },
        { topic: `other-${RUN}`, partitions: 1 },
        { topic: `ord-${RUN}`, partitions: 3 },
        { topic: `miss-${RUN}`, partitions: 1 },
      ]),
    ])
    destination = cluster
    destAdmin = new Admin({ brokers: cluster.bootstrap })
  }),
)

/** What a failed test leaves running: mirror maker children, background writers. Stopped in teardown. */
const running = new Set<MirrorProcess>()
const cleanups: Array<() => Promise<void> | void> = []

test.after(async () => {
  for (const m of running) m.proc.kill('SIGKILL')
  for (const c of cleanups.reverse()) await c()
  sourceAdmin?.close()
  destAdmin?.close()
  await destination?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A mirror maker child process: its stderr lines, and its exit. */
class MirrorProcess {
  readonly proc: ChildProcess
  readonly lines: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', CLI, 'mirror', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    running.add(this)
    this.proc.on('exit', () => running.delete(this))
    let partial = ''
    const take = (chunk: Buffer) => {
      partial += chunk.toString('utf8')
      const parts = partial.split('\n')
      partial = parts.pop() ?? ''
      this.lines.push(...parts)
    }
    this.proc.stderr!.on('data', take)
    this.proc.stdout!.on('data', take)
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })))
  }

  get started(): boolean {
    return this.lines.some((l) => l.includes('mirror: started'))
  }

  /** Wait for the exit, at most `ms`; SIGKILL and fail after that. */
  async exit(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.proc.kill('SIGKILL')
        reject(new Error(`the mirror maker did not exit within ${ms} ms:\n${this.lines.join('\n')}`))
      }, ms)
    })
    try {
      return await Promise.race([this.exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

function configFiles(name: string, group: string): { consumer: string; producer: string } {
  const consumer = join(dir, `${name}-consumer.properties`)
  const producer = join(dir, `${name}-producer.properties`)
  writeFileSync(
    consumer,
    [
      '# source cluster',
      `bootstrap.servers=${SOURCE}`,
      `group.id=${group}`,
      'auto.offset.reset=earliest',
      'auto.commit.interval.ms=500',
      'session.timeout.ms=10000',
      'heartbeat.interval.ms=1000',
      '',
    ].join('\n'),
  )
  writeFileSync(
    producer,
    JSON.stringify({ 'bootstrap.servers': destination!.bootstrap, acks: 'all', 'linger.ms': 5 }, null, 2),
  )
  return { consumer, producer }
}

interface Sent {
  topic: string
  partition: number
  key: string | null
  value: string
  timestamp: number
  headers: Array<{ key: string; value: string | null }>
}

function message(topic: string, partitions: number, i: number): Sent {
  return {
    topic,
    partition: i % partitions,
    key: i % 7 === 0 ? null : `k${i % 50}`,
    value: `${topic}#${i}`,
    timestamp: BASE_TIME + i,
    headers: [
      { key: 'seq', value: String(i) },
      { key: 'empty', value: null },
    ],
  }
}

async function produce(producer: Producer, messages: Sent[]): Promise<void> {
  await producer.send(messages.map((m) => ({ ...m }) as ProducerMessage))
}

function byValue(records: ReadRecord[]): Map<string, ReadRecord[]> {
  const out = new Map<string, ReadRecord[]>()
  for (const r of records) {
    const v = r.value?.toString('utf8') ?? ''
    const list = out.get(v)
    if (list) list.push(r)
    else out.set(v, [r])
  }
  return out
}

async function destinationCount(topics: string[]): Promise<number> {
  const cluster = new NetworkCluster({ bootstrap: destination!.bootstrap })
  try {
    await cluster.connect()
    let n = 0
    for (const t of topics) {
      cluster.addTopics([t])
      await cluster.refresh()
      if (!cluster.topics.get(t)?.partitions.length) continue
      for (const end of await endOffsets(cluster, t)) n += Number(end)
    }
    return n
  } finally {
    cluster.close()
  }
}

async function committedAtEnds(group: string, topics: Array<{ name: string }>): Promise<boolean> {
  const committed = await sourceAdmin.groupOffsets(group)
  for (const tp of topics) {
    for (const end of await sourceAdmin.listOffsets(tp.name, 'latest')) {
      const c = committed.find((o) => o.topic === tp.name && o.partition === end.partition)
      if (c === undefined || c.offset < end.offset) return false
    }
  }
  return true
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

const t = EXTERNAL ? test.skip : test
if (EXTERNAL)
  console.log('  skipped: the mirror tests start a destination cluster of their own (KAFKA_WIRE_EXTERNAL=1)')

t(
  'SIGKILL mid-stream and a restart: every message at least once, same key, headers, timestamp, partition',
  async () => {
    const topics = [
      { name: `mm-${RUN}-a`, partitions: 3 },
      { name: `mm-${RUN}-b`, partitions: 2 },
    ]
    const group = `mirror-${RUN}`
    const files = configFiles('kill', group)
    const producer = new Producer({ brokers: SOURCE, flush: { frequencyMs: 2 } })
    cleanups.push(() => producer.close().catch(() => {}))
    const sent: Sent[] = []
    let next = 0
    const batch = async (n: number) => {
      const messages: Sent[] = []
      for (let k = 0; k < n; k++, next++) for (const tp of topics) messages.push(message(tp.name, tp.partitions, next))
      sent.push(...messages)
      await produce(producer, messages)
    }
    await batch(1000)
    await produce(producer, [message(`other-${RUN}`, 1, 0)])

    const args = [
      '--consumer.config',
      files.consumer,
      '--producer.config',
      files.producer,
      '--whitelist',
      `^mm-${RUN}-`,
      '--prefix',
      'dc1.',
      '--preserve.partitions',
      '--queue.size',
      '100',
    ]
    const destTopics = topics.map((tp) => `dc1.${tp.name}`)
    const first = new MirrorProcess(args)
    // Keep writing while the first mirror maker runs, and kill it while messages are still coming.
    let writing = true
    cleanups.push(() => {
      writing = false
    })
    const writer = (async () => {
      while (writing) {
        await batch(50)
        await sleep(20)
      }
    })()
    try {
      await until(async () => (await destinationCount(destTopics)) > 500, 60_000, 'the first messages mirrored')
    } catch (err) {
      console.log(first.lines.join('\n'))
      throw err
    }
    first.proc.kill('SIGKILL')
    const killed = await first.exit(10_000)
    assert.equal(killed.signal, 'SIGKILL')
    const atKill = await destinationCount(destTopics)
    await sleep(300)
    writing = false
    await writer
    await batch(200)
    const total = sent.length
    assert.ok(atKill < total, `killed mid-stream: ${atKill} of ${total} mirrored`)

    const second = new MirrorProcess(args)
    try {
      // Copies made twice after the restart make the destination count reach the total early: wait instead
      // until the group committed the source ends, which it does only for acknowledged copies.
      await until(() => committedAtEnds(group, topics), 90_000, `all ${total} messages mirrored and committed`)
    } catch (err) {
      console.log(second.lines.join('\n'))
      throw err
    }
    await until(() => second.started, 10_000, 'the mirror maker to report started')
    second.proc.kill('SIGTERM')
    const stopped = await second.exit(30_000)
    assert.equal(stopped.code, 0, second.lines.join('\n'))
    assert.ok(
      second.lines.some((l) => l.includes('mirror: stopped')),
      second.lines.join('\n'),
    )
    await producer.close()

    // Every message, with its key, headers, timestamp and partition.
    let duplicates = 0
    for (const tp of topics) {
      const copies = byValue(await readTopic(destination!.bootstrap, `dc1.${tp.name}`))
      for (const m of sent.filter((s) => s.topic === tp.name)) {
        const found = copies.get(m.value)
        assert.ok(found && found.length > 0, `${m.value} was not mirrored`)
        duplicates += found.length - 1
        for (const r of found) {
          assert.equal(r.partition, m.partition, `${m.value}: partition`)
          assert.equal(r.key === null ? null : r.key.toString('utf8'), m.key, `${m.value}: key`)
          assert.equal(Number(r.timestamp), m.timestamp, `${m.value}: timestamp`)
          assert.deepEqual(
            r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') })),
            m.headers,
            `${m.value}: headers`,
          )
        }
      }
    }
    console.log(
      `  ${total} messages, ${atKill} mirrored before SIGKILL, ${duplicates} mirrored twice after the restart`,
    )

    // --prefix and --whitelist: the other topic is not mirrored, the mirrored ones carry the prefix.
    const destNames = await destAdmin.listTopics()
    assert.ok(!destNames.some((n) => n.includes(`other-${RUN}`)), `not whitelisted, yet mirrored: ${destNames}`)
    assert.ok(!destNames.includes(`mm-${RUN}-a`), 'mirrored without the prefix')
    const described = await destAdmin.describeTopics(destTopics)
    assert.deepEqual(
      described.map((d) => [d.name, d.partitions.length]),
      topics.map((tp) => [`dc1.${tp.name}`, tp.partitions]),
    )

    // The clean stop committed everything: the group's offsets are the ends of the source partitions.
    const committed = await sourceAdmin.groupOffsets(group)
    for (const tp of topics) {
      const ends = await sourceAdmin.listOffsets(tp.name, 'latest')
      for (const end of ends) {
        const c = committed.find((o) => o.topic === tp.name && o.partition === end.partition)
        assert.equal(c?.offset, end.offset, `${tp.name}-${end.partition}: committed ${c?.offset}, end ${end.offset}`)
      }
    }
  },
)

t('--preserve.order with 2 producers and 2 streams into an existing topic with fewer partitions', async () => {
  const topic = `ord-${RUN}`
  await destAdmin.createTopics([{ topic: `dc2.${topic}`, partitions: 2 }])
  const producer = new Producer({ brokers: SOURCE })
  const sent: Sent[] = []
  for (let i = 0; i < 1500; i++) sent.push(message(topic, 3, i))
  await produce(producer, sent)
  await producer.close()
  const files = configFiles('order', `mirror-order-${RUN}`)
  const port = await freePort()
  const mirror = new MirrorProcess([
    '--metrics.prometheus',
    `127.0.0.1:${port}`,
    '--consumer.config',
    files.consumer,
    '--producer.config',
    files.producer,
    '--whitelist',
    `^${topic}$`,
    '--prefix',
    'dc2.',
    '--preserve.order',
    '--num.producers',
    '2',
    '--num.streams',
    '2',
    '--queue.size',
    '300',
  ])
  try {
    await until(async () => (await destinationCount([`dc2.${topic}`])) >= sent.length, 60_000, 'all mirrored')
    await until(() => mirror.started, 10_000, 'started')
  } catch (err) {
    mirror.proc.kill('SIGKILL')
    console.log(mirror.lines.join('\n'))
    throw err
  }
  // The --metrics.* hook: the mirror's metrics (and its clients') on a Prometheus endpoint.
  const scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const mirrored = /^mirror_messages_total (\d+)/m.exec(scrape)
  assert.ok(mirrored && Number(mirrored[1]) >= sent.length, scrape.slice(0, 2000))
  assert.match(scrape, /^mirror_produce_latency\{quantile="0\.99"\} /m)
  assert.match(scrape, /^consumer_messages_total /m)
  assert.match(scrape, /^producer_messages_sent_total /m)
  mirror.proc.kill('SIGTERM')
  assert.equal((await mirror.exit(30_000)).code, 0, mirror.lines.join('\n'))

  const records = await readTopic(destination!.bootstrap, `dc2.${topic}`)
  const bySource = new Map<string, number>() // "dest partition/source partition" -> last seq
  const seen = new Set<string>()
  for (const r of records) {
    const value = r.value!.toString('utf8')
    const seq = Number(value.slice(value.indexOf('#') + 1))
    const sourcePartition = seq % 3
    if (r.key === null) assert.equal(r.partition, sourcePartition % 2, `${value}: a keyless message's partition`)
    const lane = `${r.partition}/${sourcePartition}`
    const last = bySource.get(lane) ?? -1
    assert.ok(seq > last, `${value} after seq ${last} in destination partition ${r.partition}: out of order`)
    bySource.set(lane, seq)
    seen.add(value)
  }
  assert.equal(seen.size, sent.length)
})

t('a missing destination topic without --create.topics: a clear error and a non-zero exit', async () => {
  const topic = `miss-${RUN}`
  const producer = new Producer({ brokers: SOURCE })
  await producer.send({ topic, key: 'k', value: 'v' })
  await producer.close()
  const files = configFiles('missing', `mirror-missing-${RUN}`)
  const mirror = new MirrorProcess([
    '--consumer.config',
    files.consumer,
    '--producer.config',
    files.producer,
    '--whitelist',
    `^${topic}$`,
    '--prefix',
    'dc3.',
  ])
  const exit = await mirror.exit(60_000)
  assert.equal(exit.code, 1, mirror.lines.join('\n'))
  const last = mirror.lines.filter((l) => l.trim() !== '').at(-1) ?? ''
  assert.match(last, /^kafka-wire: mirror stopped: .*destination topic dc3\.miss-\S+ does not exist/, last)
  assert.match(last, /ERR_DESTINATION_TOPIC/)
  // Nothing was committed past the message that could not be mirrored.
  const committed = await sourceAdmin.groupOffsets(`mirror-missing-${RUN}`)
  assert.ok(
    committed.every((o) => o.offset <= 0n),
    JSON.stringify(committed, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
  )
})

test.run()
