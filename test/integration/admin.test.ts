// The Admin API against the real broker: topics, partitions, configs, offsets, records and consumer groups.
import * as assert from 'node:assert/strict'
import { test } from 'uvu'
import { Admin, AdminError } from '../../src/client/admin.js'
import { Consumer } from '../../src/client/consumer.js'
import { ConfigError } from '../../src/client/errors.js'
import { Producer } from '../../src/client/producer.js'
import { ErrorCode, KafkaError } from '../../src/protocol/error-codes.js'

const brokers: string = process.env.KAFKA_BROKERS ?? ''
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')

const admin = new Admin({ brokers })
const producer = new Producer({ brokers })
const stem = `admin-${process.pid}-${Date.now()}`
const created: string[] = []

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const isKafka = (code: number) => (err: unknown) => err instanceof KafkaError && err.errorCode === code

test.after(async () => {
  await producer.close()
  await admin.deleteTopics(created, { ignoreMissing: true }).catch(() => {})
  admin.close()
})

test('topics: create with configs, describe partitions/leaders/replicas/ISR, grow partitions, alter and describe configs', async () => {
  const topic = `${stem}-topics`
  await admin.createTopics([
    { topic, partitions: 2, replicationFactor: 1, configs: { 'retention.ms': '3600000', 'cleanup.policy': 'delete' } },
  ])
  created.push(topic)
  assert.ok((await admin.listTopics()).includes(topic))

  const [d] = await admin.describeTopics([topic])
  assert.equal(d.name, topic)
  assert.equal(d.internal, false)
  assert.match(d.topicId, /^[A-Za-z0-9_-]{22}$/)
  assert.deepEqual(
    d.partitions.map((p) => p.partition),
    [0, 1],
  )
  const nodeIds = [...admin.cluster.brokers.keys()]
  for (const p of d.partitions) {
    assert.ok(nodeIds.includes(p.leader), `partition ${p.partition} has a live leader`)
    assert.deepEqual(p.replicas, [p.leader])
    assert.deepEqual(p.isr, [p.leader])
  }

  await admin.createPartitions([{ topic, count: 4 }])
  const [grown] = await admin.describeTopics([topic])
  assert.equal(grown.partitions.length, 4)
  await assert.rejects(admin.createPartitions([{ topic, count: 3 }]), isKafka(ErrorCode.INVALID_PARTITIONS))
  await assert.rejects(admin.createPartitions([{ topic, count: 0 }]), ConfigError)

  const configs = await admin.describeConfigs({ type: 'topic', name: topic })
  assert.equal(configs['retention.ms'].value, '3600000')
  assert.equal(configs['retention.ms'].source, 'topic')
  assert.equal(configs['segment.bytes'].source, 'default')

  await admin.alterConfigs({ type: 'topic', name: topic }, [
    { name: 'retention.ms', op: 'delete' },
    { name: 'max.message.bytes', value: '2000000' },
  ])
  const after = await admin.describeConfigs({ type: 'topic', name: topic }, ['retention.ms', 'max.message.bytes'])
  assert.deepEqual(Object.keys(after).sort(), ['max.message.bytes', 'retention.ms'])
  assert.equal(after['retention.ms'].source, 'default', 'deleting a config restores the default')
  assert.equal(after['max.message.bytes'].value, '2000000')
  await assert.rejects(
    admin.alterConfigs({ type: 'topic', name: topic }, [{ name: 'no.such.config', value: '1' }]),
    KafkaError,
  )

  const broker = await admin.describeConfigs({ type: 'broker', name: nodeIds[0] }, ['num.partitions'])
  assert.equal(broker['num.partitions'].value, '1')

  await assert.rejects(admin.describeTopics([`${stem}-missing`]), isKafka(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
  await assert.rejects(admin.createTopics([{ topic: 'bad/name' }]), ConfigError)
})

test('offsets and records: earliest, latest, by timestamp; delete records moves the low watermark', async () => {
  const topic = `${stem}-records`
  await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
  created.push(topic)
  await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic, value: `a${i}`, timestamp: 1_000_000 + i })))
  await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic, value: `b${i}`, timestamp: 2_000_000 + i })))

  assert.deepEqual(await admin.listOffsets(topic, 'earliest'), [{ topic, partition: 0, offset: 0n }])
  assert.deepEqual(await admin.listOffsets(topic, 'latest'), [{ topic, partition: 0, offset: 20n }])
  assert.deepEqual(await admin.listOffsets(topic, { timestamp: 1_500_000 }), [{ topic, partition: 0, offset: 10n }])
  assert.deepEqual(await admin.listOffsets(topic, { timestamp: 9_000_000 }), [{ topic, partition: 0, offset: 20n }])

  assert.deepEqual(await admin.deleteRecords(topic, [{ partition: 0, offset: 5n }]), [
    { topic, partition: 0, offset: 5n },
  ])
  assert.deepEqual(await admin.listOffsets(topic, 'earliest'), [{ topic, partition: 0, offset: 5n }])
  await assert.rejects(
    admin.deleteRecords(topic, [{ partition: 0, offset: 50n }]),
    isKafka(ErrorCode.OFFSET_OUT_OF_RANGE),
  )
})

test('groups: list, describe with members and assignments, lag, reset offsets (refused while active), delete', async () => {
  const topic = `${stem}-groups`
  const groupId = `${stem}-group`
  await admin.createTopics([{ topic, partitions: 3, replicationFactor: 1 }])
  created.push(topic)
  await producer.send(Array.from({ length: 90 }, (_, i) => ({ topic, partition: i % 3, value: String(i) })))

  let handled = 0
  const consumer = new Consumer({
    brokers,
    groupId,
    clientId: 'admin-test-consumer',
    topics: [topic],
    autoOffsetReset: 'earliest',
    commitIntervalMs: 100,
    handler: () => void handled++,
  })
  await consumer.start()
  await until(() => handled === 90, 20_000, 'the 90 messages')
  await consumer.commit()

  const listed = (await admin.listGroups()).find((g) => g.groupId === groupId)
  assert.ok(listed, 'the group is listed')
  assert.equal(listed.protocolType, 'consumer')
  assert.equal(listed.state, 'Stable')

  const described = await admin.describeGroup(groupId)
  assert.equal(described.state, 'Stable')
  assert.equal(described.protocol, 'cooperative-sticky')
  assert.equal(described.members.length, 1)
  assert.equal(described.members[0].clientId, 'admin-test-consumer')
  assert.deepEqual(described.members[0].topics, [topic])
  assert.deepEqual(described.members[0].assignment.map((a) => a.partition).sort(), [0, 1, 2])

  // 30 more per partition, not consumed: the lag shows them.
  await consumer.close()
  await producer.send(Array.from({ length: 30 }, (_, i) => ({ topic, partition: i % 3, value: `late${i}` })))
  const lag = await admin.groupLag(groupId)
  assert.deepEqual(
    lag.map((l) => [l.partition, l.committed, l.end, l.lag, l.memberId]),
    [
      [0, 30n, 40n, 10n, null],
      [1, 30n, 40n, 10n, null],
      [2, 30n, 40n, 10n, null],
    ],
  )

  // Resets: earliest, shift, a given offset (clamped to the log), latest, a dry run.
  const reset = (to: Parameters<Admin['resetGroupOffsets']>[2], options = {}) =>
    admin.resetGroupOffsets(groupId, topic, to, options).then((r) => r.map((o) => o.offset))
  assert.deepEqual(await reset('earliest'), [0n, 0n, 0n])
  assert.deepEqual(
    (await admin.groupOffsets(groupId)).map((o) => o.offset),
    [0n, 0n, 0n],
  )
  assert.deepEqual(await reset({ shiftBy: 7 }), [7n, 7n, 7n])
  assert.deepEqual(await reset({ offset: 1000n }, { partitions: [1] }), [40n])
  assert.deepEqual(
    (await admin.groupOffsets(groupId, [topic])).map((o) => o.offset),
    [7n, 40n, 7n],
  )
  assert.deepEqual(await reset('latest', { dryRun: true }), [40n, 40n, 40n])
  assert.deepEqual(
    (await admin.groupOffsets(groupId)).map((o) => o.offset),
    [7n, 40n, 7n],
    'a dry run writes nothing',
  )

  // A consumer started after the reset resumes from the reset offsets.
  const seen: string[] = []
  const again = new Consumer({ brokers, groupId, topics: [topic], handler: (m) => void seen.push(m.value!.toString()) })
  await again.start()
  await until(() => seen.length === 33 + 33, 20_000, 'the messages after the reset offsets')
  await assert.rejects(admin.resetGroupOffsets(groupId, topic, 'earliest'), (err: unknown) => {
    return err instanceof AdminError && err.code === 'ERR_GROUP_ACTIVE'
  })
  await again.close()

  await admin.deleteGroups([groupId])
  assert.equal(
    (await admin.listGroups()).some((g) => g.groupId === groupId),
    false,
  )
  assert.equal((await admin.describeGroup(groupId)).state, 'Dead')
  await assert.rejects(admin.deleteGroups([groupId]), isKafka(ErrorCode.GROUP_ID_NOT_FOUND))
})

test.run()
