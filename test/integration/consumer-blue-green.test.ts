// Blue/green: two running fleets swap groups through the control topic, under load, losing nothing.
import * as assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import { decodeSwitchRequest, requestSwitch, SwitchRequestError } from '../../src/client/blue-green.js'
import { Consumer } from '../../src/client/consumer.js'
import { Producer } from '../../src/client/producer.js'
import { committedOffsets, endOffsets } from '../helpers/read-topic.js'

const brokers: string = process.env.KAFKA_BROKERS ?? ''
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')

const admin = new Admin({ brokers })
const stem = `bg-${process.pid}-${Date.now()}`
const topicA = `${stem}-a`
const topicB = `${stem}-b`
const controlTopic = `__${stem}-control`
const groupA = `${stem}-group-a`
const groupB = `${stem}-group-b`
const consumers: Consumer[] = []

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test.after(async () => {
  await Promise.all(consumers.map((c) => c.close().catch(() => {})))
  await admin.deleteTopics([topicA, topicB, controlTopic], { ignoreMissing: true }).catch(() => {})
  admin.close()
})

test('two fleets of 2 consumers swap groups under load: each moves once, nothing is lost, offsets end at the end', async () => {
  await admin.createTopics([
    { topic: topicA, partitions: 3, replicationFactor: 1 },
    { topic: topicB, partitions: 3, replicationFactor: 1 },
  ])
  // Processed values per instance, and which (group, topic) each value was processed in.
  const processed = new Map<string, number>()
  const wrongTopic: string[] = []
  const switched: Array<{ instance: number; from: string; to: string }> = []
  const make = (instance: number, groupId: string, topic: string) => {
    const c = new Consumer({
      brokers,
      groupId,
      topics: [topic],
      blueGreen: { controlTopic },
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 300,
      commitIntervalMs: 200,
      autoOffsetReset: 'earliest',
      concurrency: 2,
      handler: async (m) => {
        const expected = c.groupId === groupA ? topicA : topicB
        if (m.topic !== expected) wrongTopic.push(`${instance}:${m.topic} in ${c.groupId}`)
        const v = `${m.topic}/${m.value!.toString()}`
        processed.set(v, (processed.get(v) ?? 0) + 1)
        await new Promise((r) => setTimeout(r, 1))
      },
    })
    c.on('switched', (e: { from: string; to: string }) => switched.push({ instance, from: e.from, to: e.to }))
    consumers.push(c)
    return c
  }
  const blue = [make(0, groupA, topicA), make(1, groupA, topicA)]
  const green = [make(2, groupB, topicB), make(3, groupB, topicB)]
  await Promise.all([...blue, ...green].map((c) => c.start()))

  // Load: both topics get messages before, during and after the switch.
  const producer = new Producer({ brokers })
  let sent = 0
  const total = 3000
  const load = (async () => {
    while (sent < total) {
      const batch = Array.from({ length: 50 }, (_, i) => String(sent + i))
      await producer.send(batch.flatMap((value) => [topicA, topicB].map((topic) => ({ topic, key: value, value }))))
      sent += 50
      await new Promise((r) => setTimeout(r, 15))
    }
  })()
  await until(() => processed.size > 600, 30_000, 'consumption before the switch')

  const requests = await requestSwitch({
    brokers,
    controlTopic,
    switches: [
      { from: groupA, to: { groupId: groupB, topics: [topicB] } },
      { from: groupB, to: { groupId: groupA, topics: [topicA] } },
    ],
  })
  assert.equal(requests.length, 2)
  assert.equal(requests[0].id, requests[1].id, 'one request id for both directions')

  await until(() => switched.length === 4, 60_000, 'all four instances to switch')
  await load
  await producer.close()
  await until(() => processed.size === 2 * total, 60_000, 'every message processed')

  // Each instance moved exactly once, to the other group.
  assert.deepEqual(
    switched.sort((x, y) => x.instance - y.instance),
    [
      { instance: 0, from: groupA, to: groupB },
      { instance: 1, from: groupA, to: groupB },
      { instance: 2, from: groupB, to: groupA },
      { instance: 3, from: groupB, to: groupA },
    ],
  )
  assert.deepEqual(
    [...blue, ...green].map((c) => c.groupId),
    [groupB, groupB, groupA, groupA],
  )
  assert.deepEqual(wrongTopic, [], 'an instance only ever consumes the topics of the group it is in')
  for (let i = 0; i < total; i++) {
    assert.ok(processed.has(`${topicA}/${i}`), `${topicA}/${i} processed`)
    assert.ok(processed.has(`${topicB}/${i}`), `${topicB}/${i} processed`)
  }
  await Promise.all(consumers.map((c) => c.close()))

  // The groups' committed offsets are the ends: the fleets resumed from each other's commits.
  assert.deepEqual(await committedOffsets(admin, groupA, topicA, 3), await endOffsets(admin.cluster, topicA))
  assert.deepEqual(await committedOffsets(admin, groupB, topicB, 3), await endOffsets(admin.cluster, topicB))
})

test('kafka-wire switch (the CLI) moves a running consumer to another group and subscription', async () => {
  const from = `${stem}-cli-from`
  const to = `${stem}-cli-to`
  const seen: string[] = []
  const c = new Consumer({
    brokers,
    groupId: from,
    topics: [topicA],
    blueGreen: { controlTopic },
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 300,
    autoOffsetReset: 'earliest',
    handler: (m) => void seen.push(m.topic),
  })
  consumers.push(c)
  await c.start()
  const switchedTo = new Promise<string>((resolve) => c.once('switched', (e: { to: string }) => resolve(e.to)))
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'tools', 'cli.ts')
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        cli,
        'switch',
        '--brokers',
        brokers,
        '--control-topic',
        controlTopic,
        '--from',
        from,
        '--to',
        to,
        '--to-topics',
        topicB,
      ],
      { timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    ),
  )
  const written = JSON.parse(out.trim().split('\n')[0])
  assert.equal(written.from, from)
  assert.deepEqual(written.to, { groupId: to, topics: [topicB] })
  assert.equal(await switchedTo, to)
  assert.equal(c.groupId, to)
  assert.deepEqual(c.topics, [topicB])
  seen.length = 0
  await until(() => seen.length > 0, 20_000, 'messages of the new subscription')
  assert.ok(seen.every((t) => t === topicB))
  await c.close()

  // Usage errors: non-zero exit and one clear line.
  const bad = await new Promise<{ code: number; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', cli, 'switch', '--from', from],
      { env: { ...process.env, KAFKA_BROKERS: brokers } },
      (err, _o, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }),
    ),
  )
  assert.notEqual(bad.code, 0)
  assert.match(bad.stderr.trim(), /^kafka-wire: give --from GROUP and --to GROUP/)
})

test('control records that are not switch requests are typed errors; bad requests are refused before writing', async () => {
  assert.throws(() => decodeSwitchRequest(Buffer.from('nope')), SwitchRequestError)
  assert.throws(() => decodeSwitchRequest(Buffer.from('{"v":2}')), SwitchRequestError)
  assert.throws(() => decodeSwitchRequest(null), SwitchRequestError)
  assert.throws(
    () => decodeSwitchRequest(Buffer.from('{"v":1,"id":"x","from":"a","to":{"groupId":"b","whitelist":"("}}')),
    SwitchRequestError,
  )
  await assert.rejects(requestSwitch({ brokers, controlTopic, switches: [] }), SwitchRequestError)
  await assert.rejects(
    requestSwitch({ brokers, controlTopic, switches: [{ from: 'a', to: { groupId: 'a' } }] }),
    SwitchRequestError,
  )
  await assert.rejects(
    requestSwitch({ brokers, controlTopic: 'bad topic!', switches: [{ from: 'a', to: { groupId: 'b' } }] }),
    SwitchRequestError,
  )
})

test.run()
