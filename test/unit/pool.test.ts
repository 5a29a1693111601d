import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConnectionError } from '../../src/network/errors.js'
import { ConnectionPool, TRAFFIC_CLASSES } from '../../src/network/pool.js'
import { ApiVersions } from '../../src/protocol/api-versions.js'
import { closedPort, type FakeBroker, type FakeBrokerOptions, startFakeBroker } from '../helpers/fake-broker.js'

const brokers: FakeBroker[] = []
const pools: ConnectionPool[] = []

test.after.each(async () => {
  for (const p of pools.splice(0)) p.close()
  for (const b of brokers.splice(0)) await b.close()
})

async function fake(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const b = await startFakeBroker(options)
  brokers.push(b)
  return b
}

function pool(options: ConstructorParameters<typeof ConnectionPool>[0] = {}): ConnectionPool {
  const p = new ConnectionPool({ connectTimeoutMs: 2000, requestTimeoutMs: 2000, ...options })
  pools.push(p)
  return p
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function failure(promise: Promise<unknown>): Promise<ConnectionError> {
  try {
    await promise
  } catch (err) {
    assert.instance(err, ConnectionError, String(err))
    return err as ConnectionError
  }
  assert.unreachable('expected a ConnectionError')
  throw new Error('unreachable')
}

test('connections are made lazily, reused, and shared by concurrent callers', async () => {
  const b = await fake()
  const p = pool()
  assert.is(p.openConnections().length, 0)
  const [c1, c2, c3] = await Promise.all([
    p.get(b.host, b.port, 'admin'),
    p.get(b.host, b.port, 'admin'),
    p.get(b.host, b.port, 'admin'),
  ])
  assert.ok(c1 === c2 && c2 === c3)
  assert.ok(c1.ready)
  assert.is(await p.get(b.host, b.port, 'admin'), c1)
  assert.is(b.connections.length, 1, 'one socket')
  assert.equal(p.openConnections(), [c1])
})

test('a separate connection per traffic class, with its own pipeline depth', async () => {
  const b = await fake()
  const p = pool({ maxInFlight: { produce: 2 } })
  const byClass = await Promise.all(TRAFFIC_CLASSES.map((tc) => p.get(b.host, b.port, tc)))
  assert.is(new Set(byClass).size, 4)
  assert.is(b.connections.length, 4, 'one socket per traffic class')
  assert.is(p.openConnections().length, 4)
  for (let i = 0; i < TRAFFIC_CLASSES.length; i++)
    assert.is(await p.get(b.host, b.port, TRAFFIC_CLASSES[i]), byClass[i])
})

test('a stuck fetch does not delay a produce: they do not share a socket', async () => {
  // The fake holds every ApiVersions v0 (our stand-in for a long fetch poll) and answers the rest at once.
  const held: Array<() => void> = []
  const b = await fake({
    onRequest: (req, conn) => {
      if (req.apiVersion === 0) held.push(() => conn.replyApiVersions(req))
      else conn.replyApiVersions(req)
    },
  })
  const p = pool()
  const fetch = await p.get(b.host, b.port, 'fetch')
  const produce = await p.get(b.host, b.port, 'produce')
  const longPoll = fetch.request(ApiVersions, {}, { version: 0 })
  const behindPoll = fetch.request(ApiVersions, {}, { version: 3 }) // fetch has maxInFlight 1: waits
  const started = performance.now()
  const produced = await produce.request(ApiVersions, {}, { version: 3 })
  assert.is(produced.errorCode, 0)
  assert.ok(performance.now() - started < 500)
  assert.is(held.length, 1, 'the fetch request is still held')
  assert.is(fetch.inFlight, 2)
  for (const release of held) release()
  assert.is((await longPoll).errorCode, 0)
  assert.is((await behindPoll).errorCode, 0)
})

test('the pool reconnects after a connection closes', async () => {
  const b = await fake()
  const p = pool()
  const first = await p.get(b.host, b.port, 'group')
  const closed = new Promise((resolve) => first.once('close', resolve))
  b.connections[0].reset()
  await closed
  assert.ok(first.closed)
  assert.is(p.openConnections().length, 0)
  const second = await p.get(b.host, b.port, 'group')
  assert.is.not(second, first)
  assert.ok(second.ready)
  assert.is((await second.request(ApiVersions, {})).errorCode, 0)
  assert.is(b.connections.length, 2)
})

test('reconnect attempts back off exponentially after failures, and the count resets on success', async () => {
  // A broker that accepts and hangs up at once, until told to behave.
  let behave = false
  const acceptedAt: number[] = []
  const b = await fake({
    onConnection: (conn) => {
      acceptedAt.push(performance.now())
      if (!behave) conn.socket.destroy()
    },
  })
  const p = pool({ reconnectBackoff: { baseMs: 100, maxMs: 2000 } })
  for (let i = 0; i < 4; i++) {
    const err = await failure(p.get(b.host, b.port, 'admin'))
    assert.ok(err.retriable)
  }
  assert.is(acceptedAt.length, 4)
  const gaps = acceptedAt.slice(1).map((t, i) => t - acceptedAt[i])
  // Backoff after failure n is in [base*2^(n-1) / 2, base*2^(n-1)]: 50-100, 100-200, 200-400 ms.
  const bounds = [
    [50, 100],
    [100, 200],
    [200, 400],
  ]
  gaps.forEach((gap, i) => {
    assert.ok(gap >= bounds[i][0] - 5 && gap <= bounds[i][1] + 80, `gap ${i}: ${gap.toFixed(0)} ms, gaps ${gaps}`)
  })
  // Next attempt waits 400-800 ms, then succeeds.
  behave = true
  const started = performance.now()
  const c = await p.get(b.host, b.port, 'admin')
  const waited = performance.now() - started
  assert.ok(waited >= 395 && waited <= 900, `waited ${waited.toFixed(0)} ms before the 5th attempt`)
  assert.ok(c.ready)
  // Success resets the backoff: after the next loss the first retry is immediate.
  behave = false
  const lost = new Promise((resolve) => c.once('close', resolve))
  b.connections[b.connections.length - 1].reset()
  await lost
  const retryStarted = performance.now()
  await failure(p.get(b.host, b.port, 'admin'))
  assert.ok(performance.now() - retryStarted < 60, 'no backoff right after a success')
})

test('a refused connection backs off too; concurrent callers share one attempt', async () => {
  const port = await closedPort()
  const p = pool({ reconnectBackoff: { baseMs: 200, maxMs: 200 } })
  const first = await failure(p.get('127.0.0.1', port, 'admin'))
  assert.is(first.code, 'ERR_CONNECTION')
  assert.ok(first.retriable)
  const started = performance.now()
  const [a, c] = await Promise.allSettled([p.get('127.0.0.1', port, 'admin'), p.get('127.0.0.1', port, 'admin')])
  const waited = performance.now() - started
  assert.ok(waited >= 95, `retried after ${waited.toFixed(0)} ms`)
  assert.is(a.status, 'rejected')
  assert.is(c.status, 'rejected')
  assert.is((a as PromiseRejectedResult).reason, (c as PromiseRejectedResult).reason, 'one attempt, one error')
})

test('idle connections are closed when idleTimeoutMs is set; busy ones are kept', async () => {
  // Requests of version 0 are held for 1.6 s (the "busy" connection); the rest are answered.
  const b = await fake({
    onRequest: (req, conn) => {
      if (req.apiVersion === 0) setTimeout(() => conn.replyApiVersions(req), 1600)
      else conn.replyApiVersions(req)
    },
  })
  const p = pool({ idleTimeoutMs: 200 })
  const idle = await p.get(b.host, b.port, 'admin')
  const busy = await p.get(b.host, b.port, 'fetch')
  const busyRequest = busy.request(ApiVersions, {}, { version: 0, timeoutMs: 5000 })
  const idleClosed = new Promise((resolve) => idle.once('close', resolve))
  await Promise.race([idleClosed, delay(2500)])
  assert.ok(idle.closed, 'the idle connection was closed')
  assert.not.ok(busy.closed, 'the connection with a request in flight was kept')
  await b.connections[0].closed
  assert.is((await busyRequest).errorCode, 0)
  assert.equal(p.openConnections(), [busy])
  // An idle-closed slot reconnects on demand.
  const again = await p.get(b.host, b.port, 'admin')
  assert.is.not(again, idle)
  assert.ok(again.ready)
})

test('without idleTimeoutMs connections stay open', async () => {
  const b = await fake()
  const p = pool()
  const c = await p.get(b.host, b.port, 'admin')
  await delay(1200)
  assert.not.ok(c.closed)
})

test('closeBroker and close() close connections; a closed pool refuses new ones', async () => {
  const b = await fake()
  const other = await fake()
  const p = pool()
  const a1 = await p.get(b.host, b.port, 'admin')
  const a2 = await p.get(b.host, b.port, 'produce')
  const o1 = await p.get(other.host, other.port, 'admin')
  p.closeBroker(b.host, b.port)
  assert.ok(a1.closed && a2.closed)
  assert.not.ok(o1.closed)
  p.close()
  assert.ok(o1.closed)
  const err = await failure(p.get(other.host, other.port, 'admin'))
  assert.is(err.code, 'ERR_POOL_CLOSED')
})

test.run()
