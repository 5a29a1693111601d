// The network floor against a real Kafka broker: KAFKA_BROKERS (set by the test runner) for the
// read-only cases, and a single-node cluster of our own for the restart case.

import * as diagnostics from 'node:diagnostics_channel'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Cluster, parseBrokerList } from '../../src/network/cluster.js'
import { Connection } from '../../src/network/connection.js'
import { ApiVersions } from '../../src/protocol/api-versions.js'
import { KafkaWireError } from '../../src/protocol/errors.js'
import { Fetch } from '../../src/protocol/fetch.js'
import { Metadata } from '../../src/protocol/metadata.js'
import { Produce } from '../../src/protocol/produce.js'
import { startCluster } from '../../src/tools/local-broker.js'

const BROKERS = process.env.KAFKA_BROKERS
const EXTERNAL = process.env.KAFKA_WIRE_EXTERNAL === '1'
const first = BROKERS ? parseBrokerList(BROKERS)[0] : undefined

/** Skips (with a printed reason) when there is no broker to talk to. */
function needBroker(name: string): boolean {
  if (first) return true
  console.log(`  skipped "${name}": KAFKA_BROKERS is not set (run through test/run.ts)`)
  return false
}

const open: Array<{ close(): void }> = []
test.after.each(() => {
  for (const c of open.splice(0)) c.close()
})

function connection(options: { maxInFlight?: number } = {}): Connection {
  const c = new Connection({ host: first!.host, port: first!.port, clientId: 'kafka-wire-network-test', ...options })
  open.push(c)
  return c
}

test('connect and negotiate: sane versions for Metadata, Fetch and Produce', async () => {
  if (!needBroker('negotiate')) return
  const c = connection()
  await c.connect()
  assert.ok(c.ready)
  assert.ok(c.brokerVersions.size > 20, `${c.brokerVersions.size} API keys`)
  const range = c.brokerVersions.get(ApiVersions.apiKey)!
  assert.ok(range.min === 0 && range.max >= 3, JSON.stringify(range))
  for (const [api, floor] of [
    [Metadata, 9],
    [Fetch, 12],
    [Produce, 9],
  ] as const) {
    const theirs = c.brokerVersions.get(api.apiKey)!
    const v = c.versionOf(api)
    assert.is(v, Math.min(api.maxVersion, theirs.max), `${api.name}: highest common version`)
    assert.ok(
      v >= floor && v >= api.minVersion && v >= theirs.min,
      `${api.name} v${v} (broker ${theirs.min}-${theirs.max})`,
    )
  }
  const response = await c.request(ApiVersions, {})
  assert.is(response.errorCode, 0)
  assert.ok(
    response.finalizedFeatures.some((f) => f.name === 'metadata.version'),
    'a KRaft broker reports features',
  )
})

test('Metadata through Cluster: cluster id, brokers, controller', async () => {
  if (!needBroker('metadata')) return
  const cluster = new Cluster({ bootstrap: BROKERS!, clientId: 'kafka-wire-network-test' })
  open.push(cluster)
  await cluster.connect()
  assert.type(cluster.clusterId, 'string')
  assert.ok(cluster.clusterId!.length >= 16, `cluster id ${cluster.clusterId}`)
  assert.ok(cluster.brokers.size >= 1)
  for (const b of cluster.brokers.values()) {
    assert.ok(b.nodeId >= 0)
    assert.ok(b.host.length > 0 && b.port > 0 && b.port < 65536, JSON.stringify(b))
  }
  assert.ok(cluster.brokers.has(cluster.controllerId), `controller ${cluster.controllerId} is a known broker`)
  assert.ok(cluster.updatedAt > Date.now() - 60_000)
  // Each advertised broker is reachable by node id.
  for (const id of cluster.brokers.keys()) {
    const c = await cluster.connection(id, 'admin')
    assert.ok(c.ready)
  }
  // The internal-topics view works too (all topics).
  cluster.followAllTopics()
  await cluster.refresh()
  for (const t of cluster.topics.values()) assert.is(cluster.topicNamesById.get(t.topicId), t.name)
})

test('128 pipelined ApiVersions on one connection with maxInFlight 16: all resolve, in order, 16 on the wire', async () => {
  if (!needBroker('pipelining')) return
  const c = connection({ maxInFlight: 16 })
  await c.connect()
  let onWire = 0
  let maxOnWire = 0
  const onRequest = (m: unknown) => {
    if ((m as { broker: string }).broker !== c.address) return
    onWire++
    if (onWire > maxOnWire) maxOnWire = onWire
  }
  const onResponse = (m: unknown) => {
    if ((m as { broker: string }).broker === c.address) onWire--
  }
  diagnostics.subscribe('kafka-wire:request', onRequest)
  diagnostics.subscribe('kafka-wire:response', onResponse)
  try {
    const order: number[] = []
    const promises = Array.from({ length: 128 }, (_, i) =>
      c.request(ApiVersions, {}).then((r) => {
        order.push(i)
        return r
      }),
    )
    assert.is(c.inFlight, 128)
    assert.not.ok(c.writable)
    const responses = await Promise.all(promises)
    assert.equal(
      order,
      Array.from({ length: 128 }, (_, i) => i),
    )
    for (const r of responses) assert.is(r.errorCode, 0)
    assert.is(maxOnWire, 16, 'pipelined to maxInFlight and no further')
    assert.is(onWire, 0)
    assert.is(c.inFlight, 0)
  } finally {
    diagnostics.unsubscribe('kafka-wire:request', onRequest)
    diagnostics.unsubscribe('kafka-wire:response', onResponse)
  }
})

test('zero-copy receive: bytes copied after receipt are a small part of bytes received', async () => {
  if (!needBroker('zero-copy')) return
  const c = connection({ maxInFlight: 32 })
  await c.connect()
  const before = { ...c.receiveStats }
  const batches = 40
  for (let i = 0; i < batches; i++) {
    await Promise.all(Array.from({ length: 50 }, () => c.request(Metadata, { topics: null })))
  }
  const received = c.receiveStats.bytesReceived - before.bytesReceived
  const copied = c.receiveStats.bytesCopied - before.bytesCopied
  assert.is(c.receiveStats.frames - before.frames, batches * 50)
  assert.ok(received > 100_000, `received ${received} bytes`)
  assert.ok(copied * 20 < received, `copied ${copied} of ${received} bytes`)
})

test('broker restart: requests fail retriably while it is down, and the same Cluster recovers', async () => {
  if (EXTERNAL) {
    console.log('  skipped "broker restart": KAFKA_WIRE_EXTERNAL=1 (this test starts its own broker)')
    return
  }
  // Short broker sessions: after a SIGKILL the controller keeps the dead incarnation registered until its
  // session expires (9 s by default), and the restarted broker waits for that before it serves.
  const kafka = await startCluster({
    nodes: 1,
    serverProperties: { 'broker.heartbeat.interval.ms': 300, 'broker.session.timeout.ms': 1500 },
  })
  try {
    const cluster = new Cluster({
      bootstrap: kafka.bootstrap,
      connectTimeoutMs: 2000,
      requestTimeoutMs: 5000,
      reconnectBackoff: { baseMs: 50, maxMs: 500 },
    })
    open.push(cluster)
    await cluster.connect()
    const clusterId = cluster.clusterId
    assert.is(clusterId, kafka.clusterId)

    await kafka.killNode(1, 'SIGKILL')
    const downErrors: unknown[] = []
    for (let i = 0; i < 3; i++) {
      await cluster.refresh().then(
        () => assert.unreachable('a refresh succeeded with the broker down'),
        (err) => downErrors.push(err),
      )
    }
    for (const err of downErrors) {
      assert.instance(err, KafkaWireError, String(err))
      assert.ok((err as KafkaWireError).retriable, `not retriable: ${(err as KafkaWireError).code} ${err}`)
    }

    await kafka.startNode(1)
    // Retry as a user would, with nothing else: a bounded loop on the same Cluster object.
    const deadline = Date.now() + 30_000
    let attempts = 0
    for (;;) {
      attempts++
      try {
        await cluster.refresh()
        break
      } catch (err) {
        assert.instance(err, KafkaWireError, String(err))
        assert.ok((err as KafkaWireError).retriable, String(err))
        if (Date.now() > deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    assert.is(cluster.clusterId, clusterId)
    assert.ok(cluster.brokers.has(1))
    const c = await cluster.connection(1, 'admin')
    assert.is((await c.request(ApiVersions, {})).errorCode, 0)
    assert.ok(attempts < 100, `${attempts} attempts`)
  } finally {
    await kafka.stop()
  }
})

test.run()
