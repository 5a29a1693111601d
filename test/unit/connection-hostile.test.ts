// A Connection against a fake broker that misbehaves on purpose. Every case checks that each request
// settles (a hang fails the test), that the error is one of ours with a code, and that nothing is left
// as an unhandled rejection.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tls from 'node:tls'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Connection, type ConnectionOptions } from '../../src/network/connection.js'
import { ConnectionError, ProtocolViolationError, TimeoutError } from '../../src/network/errors.js'
import { ApiVersions, type ApiVersionsResponse } from '../../src/protocol/api-versions.js'
import { DecodeError, type KafkaWireError } from '../../src/protocol/errors.js'
import {
  closedPort,
  encodeApiVersionsBody,
  type FakeBroker,
  type FakeBrokerOptions,
  type FakeConnection,
  type FakeRequest,
  responseFrame,
  startFakeBroker,
} from '../helpers/fake-broker.js'

const OUR_ERRORS = [DecodeError, ConnectionError, TimeoutError, ProtocolViolationError] as const

// Installed for this suite only: a listener turns off Node's crash on unhandled rejections for everyone.
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason)
}
test.before(() => {
  process.on('unhandledRejection', onUnhandled)
})
test.after(() => {
  process.off('unhandledRejection', onUnhandled)
})

const brokers: FakeBroker[] = []
const connections: Connection[] = []

test.after.each(async () => {
  for (const c of connections.splice(0)) c.close()
  for (const b of brokers.splice(0)) await b.close()
  // Let rejections that nobody handled surface before checking.
  await new Promise((resolve) => setTimeout(resolve, 20))
  if (unhandled.length > 0) {
    const found = unhandled.splice(0)
    assert.unreachable(`unhandled rejection(s): ${found.map(String).join('; ')}`)
  }
})

async function fake(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const b = await startFakeBroker(options)
  brokers.push(b)
  return b
}

function connection(b: { host: string; port: number }, options: Partial<ConnectionOptions> = {}): Connection {
  const c = new Connection({ host: b.host, port: b.port, requestTimeoutMs: 5000, connectTimeoutMs: 5000, ...options })
  connections.push(c)
  return c
}

/** Promise.allSettled, failing the test if anything is still pending after `ms`. */
async function settleAll<T>(promises: Array<Promise<T>>, ms = 3000): Promise<Array<PromiseSettledResult<T>>> {
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), ms)
  })
  const result = await Promise.race([Promise.allSettled(promises), guard])
  clearTimeout(timer)
  if (result === 'hang') assert.unreachable(`requests still pending after ${ms} ms`)
  return result as Array<PromiseSettledResult<T>>
}

function rejection<T>(result: PromiseSettledResult<T>): unknown {
  if (result.status !== 'rejected') assert.unreachable('expected a rejection, got a value')
  return (result as PromiseRejectedResult).reason
}

/** The reason is one of our network/decode error classes, with a string code (and the given class/code). */
function assertOurs(
  reason: unknown,
  expected?: (typeof OUR_ERRORS)[number],
  code?: string | RegExp,
): asserts reason is KafkaWireError {
  if (!OUR_ERRORS.some((cls) => reason instanceof cls)) {
    assert.unreachable(
      `not one of our errors: ${reason instanceof Error ? `${reason.name}: ${reason.message}` : reason}`,
    )
  }
  const err = reason as KafkaWireError
  assert.type(err.code, 'string')
  assert.ok(err.code.length > 0)
  if (expected) assert.instance(err, expected, `expected ${expected.name}, got ${err.name}: ${err.message}`)
  if (typeof code === 'string') assert.is(err.code, code, err.message)
  else if (code) assert.match(err.code, code)
}

function closeEvent(c: Connection): Promise<Error> {
  return new Promise((resolve) => c.once('close', resolve))
}

const apiVersions = (c: Connection, timeoutMs?: number) =>
  c.request(ApiVersions, {}, timeoutMs === undefined ? {} : { timeoutMs })

function int32(v: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeInt32BE(v, 0)
  return b
}

/** A fake that answers the handshake, then hands every other request to `misbehave`. */
function misbehaving(misbehave: (request: FakeRequest, c: FakeConnection) => void): Promise<FakeBroker> {
  return fake({ onRequest: misbehave })
}

test('sanity: the fake answers, requests resolve with decoded ApiVersions', async () => {
  const b = await fake()
  const c = connection(b)
  await c.connect()
  assert.is(c.versionOf(ApiVersions), 4)
  const results = await settleAll([apiVersions(c), apiVersions(c)])
  for (const r of results) {
    assert.is(r.status, 'fulfilled')
    assert.is((r as PromiseFulfilledResult<ApiVersionsResponse>).value.errorCode, 0)
  }
})

test('truncated frame, then a graceful close: ConnectionError, every request settles', async () => {
  const b = await misbehaving((req, conn) => {
    // A response that announces 100 bytes and delivers 10, then FIN.
    conn.write(Buffer.concat([int32(100), int32(req.correlationId), Buffer.alloc(6)]))
    conn.end()
  })
  const c = connection(b)
  await c.connect()
  const results = await settleAll([apiVersions(c), apiVersions(c), apiVersions(c)])
  for (const r of results) assertOurs(rejection(r), ConnectionError, 'ERR_CONNECTION_CLOSED')
  assert.ok(c.closed)
  assert.ok((rejection(results[0]) as ConnectionError).retriable)
})

const BAD_SIZES: Array<[string, Buffer]> = [
  ['negative', int32(-5)],
  ['zero', int32(0)],
  ['0x7fffffff', int32(0x7fffffff)],
  ["'HTTP/1.1'", Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n', 'latin1')],
]

for (const [name, bytes] of BAD_SIZES) {
  test(`size prefix ${name}: ProtocolViolationError, connection closed, every request settles`, async () => {
    const b = await misbehaving((_req, conn) => conn.write(bytes))
    const c = connection(b)
    await c.connect()
    const closed = closeEvent(c)
    const heapBefore = process.memoryUsage().arrayBuffers
    const results = await settleAll([apiVersions(c), apiVersions(c)])
    for (const r of results) assertOurs(rejection(r), ProtocolViolationError, 'ERR_PROTOCOL_VIOLATION')
    assertOurs(await closed, ProtocolViolationError)
    assert.ok(c.closed)
    // No buffer of the announced size was made (0x7fffffff would be 2 GiB).
    assert.ok(process.memoryUsage().arrayBuffers - heapBefore < 64 * 1024 * 1024)
    // A closed connection refuses new work with the same error instead of hanging.
    const after = await settleAll([apiVersions(c)])
    assertOurs(rejection(after[0]), ProtocolViolationError)
  })
}

test('a response with the wrong correlation id: ProtocolViolationError for it and for the requests behind it', async () => {
  const b = await misbehaving((req, conn) => {
    conn.reply({ ...req, correlationId: req.correlationId + 1000 }, encodeApiVersionsBody(req.apiVersion))
  })
  const c = connection(b)
  await c.connect()
  const results = await settleAll([apiVersions(c), apiVersions(c), apiVersions(c)])
  for (const r of results) assertOurs(rejection(r), ProtocolViolationError)
  assert.match((rejection(results[0]) as Error).message, /correlation id/)
})

test('a response to no request: the connection closes with ProtocolViolationError, later requests fail typed', async () => {
  const b = await misbehaving((req, conn) => {
    conn.replyApiVersions(req)
    // ... and once more, for nothing.
    conn.write(responseFrame(req.correlationId + 1, encodeApiVersionsBody(req.apiVersion)))
  })
  const c = connection(b)
  await c.connect()
  const closed = closeEvent(c)
  const [first] = await settleAll([apiVersions(c)])
  assert.is(first.status, 'fulfilled', 'the answered request still resolves')
  assertOurs(await closed, ProtocolViolationError)
  const [later] = await settleAll([apiVersions(c)])
  assertOurs(rejection(later), ProtocolViolationError)
})

test('an unsolicited frame on an idle connection closes it with ProtocolViolationError', async () => {
  const b = await fake()
  const c = connection(b)
  await c.connect()
  const closed = closeEvent(c)
  b.connections[0].write(responseFrame(424242, Buffer.alloc(8)))
  assertOurs(await closed, ProtocolViolationError)
})

test('the server resets the connection mid-response: answered requests resolve, the rest fail typed', async () => {
  const b = await misbehaving((req, conn) => {
    if (req.index === 1) conn.replyApiVersions(req)
    else if (req.index === 2) {
      const whole = responseFrame(req.correlationId, encodeApiVersionsBody(req.apiVersion))
      conn.write(whole.subarray(0, whole.length >> 1))
      setTimeout(() => conn.reset(), 20)
    }
  })
  const c = connection(b)
  await c.connect()
  const results = await settleAll([apiVersions(c), apiVersions(c), apiVersions(c), apiVersions(c)])
  assert.is(results[0].status, 'fulfilled')
  for (const r of results.slice(1)) assertOurs(rejection(r), ConnectionError, /^ERR_CONNECTION/)
})

test('a response whose body does not decode: DecodeError for that request, the stream stays usable', async () => {
  const b = await misbehaving((req, conn) => {
    if (req.index === 1)
      conn.reply(req, Buffer.from([0, 0, 0x7f])) // an array length that runs off the frame
    else conn.replyApiVersions(req)
  })
  const c = connection(b)
  await c.connect()
  const results = await settleAll([apiVersions(c), apiVersions(c)])
  assertOurs(rejection(results[0]), DecodeError)
  assert.is(results[1].status, 'fulfilled')
  assert.not.ok(c.closed)
})

test('a server that accepts and never answers: connect() fails with ERR_CONNECT_TIMEOUT during ApiVersions', async () => {
  const b = await fake({ handshake: false, onRequest: () => {} })
  const c = connection(b, { connectTimeoutMs: 300, requestTimeoutMs: 30_000 })
  const started = Date.now()
  const results = await settleAll<unknown>([c.connect(), apiVersions(c)], 2000)
  for (const r of results) assertOurs(rejection(r), TimeoutError, 'ERR_CONNECT_TIMEOUT')
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`)
  assert.ok(c.closed)
  assert.is(b.connections[0].requests[0].apiKey, 18, 'the connection got as far as ApiVersions')
  await b.connections[0].closed
})

test('a server that answers ApiVersions then goes silent: ERR_REQUEST_TIMEOUT and the connection closed as stalled', async () => {
  const b = await misbehaving(() => {})
  const c = connection(b, { requestTimeoutMs: 200 })
  await c.connect()
  const closed = closeEvent(c)
  const queuedBehind = apiVersions(c, 10_000)
  const results = await settleAll([apiVersions(c), queuedBehind], 2000)
  assertOurs(rejection(results[0]), TimeoutError, 'ERR_REQUEST_TIMEOUT')
  assert.ok((rejection(results[0]) as TimeoutError).retriable)
  assertOurs(rejection(results[1]), ConnectionError, 'ERR_CONNECTION_STALLED')
  assertOurs(await closed, ConnectionError, 'ERR_CONNECTION_STALLED')
  assert.ok(c.closed)
  await b.connections[0].closed
})

test('a late response after a timeout is consumed; the next request gets its own response', async () => {
  // Request 0 is answered within request 1's timeout, so the broker is plainly alive (a connection that
  // receives nothing during a whole timeout is closed as stalled, by design). Request 1 is answered late,
  // after request 2 was sent; then request 2 is answered. Each response carries its correlation id in
  // throttleTimeMs, so a mix-up would show even if the correlation check were gone.
  const b = await misbehaving((req, conn) => {
    const answer = () => conn.replyApiVersions(req, { throttleTimeMs: req.correlationId })
    const index = req.index - 1 // 0, 1, 2 after the handshake
    if (index === 0) setTimeout(answer, 150)
    else if (index === 1) setTimeout(answer, 700)
    else if (index === 2)
      setTimeout(answer, 750) // after request 1's late answer, in order
    else answer()
  })
  const c = connection(b)
  await c.connect()
  const r0 = apiVersions(c, 5000)
  const r1 = apiVersions(c, 300)
  const [s0, s1] = await settleAll([r0, r1], 2000)
  assert.is(s0.status, 'fulfilled')
  assertOurs(rejection(s1), TimeoutError, 'ERR_REQUEST_TIMEOUT')
  assert.not.ok(c.closed, 'the connection was not closed: the broker answered within the timeout')
  const [s2] = await settleAll([apiVersions(c, 5000)], 2000)
  assert.is(s2.status, 'fulfilled', s2.status === 'rejected' ? String(s2.reason) : '')
  const requests = b.connections[0].requests
  const expected = requests[requests.length - 1].correlationId
  assert.is((s2 as PromiseFulfilledResult<ApiVersionsResponse>).value.throttleTimeMs, expected)
  assert.is(b.connections[0].answered, 4, 'handshake + 3 answered, the late one consumed')
  assert.not.ok(c.closed)
  // And the stream is still in step afterwards.
  const [s3] = await settleAll([apiVersions(c, 2000)])
  assert.is(s3.status, 'fulfilled')
})

test('connection refused: retriable ConnectionError with the cause', async () => {
  const port = await closedPort()
  const c = connection({ host: '127.0.0.1', port })
  const results = await settleAll<unknown>([c.connect(), apiVersions(c)])
  for (const r of results) {
    const err = rejection(r)
    assertOurs(err, ConnectionError, 'ERR_CONNECTION')
    assert.ok(err.retriable)
    assert.is((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED')
  }
  assert.ok(c.closed)
})

function selfSignedCert(): { key: string; cert: string } | string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-cert-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'pipe' },
    )
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
  } catch (err) {
    return `openssl could not make a certificate: ${(err as Error).message.split('\n')[0]}`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function tlsServer(cert: { key: string; cert: string }): Promise<tls.Server & { port: number }> {
  const server = tls.createServer({ key: cert.key, cert: cert.cert })
  server.on('tlsClientError', () => {})
  server.on('secureConnection', (s) => s.on('error', () => {}))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return Object.assign(server, { port: (server.address() as net.AddressInfo).port })
}

test('plaintext client to a TLS server: a typed error, every request settles', async () => {
  const cert = selfSignedCert()
  if (typeof cert === 'string') {
    console.log(`  skipped: ${cert}`)
    return
  }
  const server = await tlsServer(cert)
  try {
    const c = connection({ host: '127.0.0.1', port: server.port }, { connectTimeoutMs: 2000 })
    const results = await settleAll<unknown>([c.connect(), apiVersions(c)], 4000)
    const first = rejection(results[0])
    // The TLS server answers our request bytes with an alert record (0x15 0x03 ...: an absurd frame size)
    // or just hangs up; either way a typed, retriable-or-not error, never a hang.
    assertOurs(first)
    assert.ok(
      first instanceof ProtocolViolationError || first.code.startsWith('ERR_CONNECTION'),
      `${first.code}: ${first.message}`,
    )
    assertOurs(rejection(results[1]))
  } finally {
    server.close()
  }
})

test('TLS client to a self-signed server without its CA: ERR_TLS, not retriable', async () => {
  const cert = selfSignedCert()
  if (typeof cert === 'string') {
    console.log(`  skipped: ${cert}`)
    return
  }
  const server = await tlsServer(cert)
  try {
    const c = connection({ host: '127.0.0.1', port: server.port }, { tls: { servername: 'localhost' } })
    const [r] = await settleAll([c.connect()])
    const err = rejection(r)
    assertOurs(err, ConnectionError, 'ERR_TLS')
    assert.not.ok(err.retriable)
  } finally {
    server.close()
  }
})

test('TLS client to a plaintext broker: a typed error, no hang', async () => {
  const b = await fake()
  const c = connection(b, { tls: { rejectUnauthorized: false }, connectTimeoutMs: 1000 })
  const [r] = await settleAll([c.connect()])
  assertOurs(rejection(r))
})

test('maxInFlight is respected: the server never sees more outstanding requests than allowed', async () => {
  const b = await misbehaving((req, conn) => setTimeout(() => conn.replyApiVersions(req), 15))
  const c = connection(b, { maxInFlight: 3 })
  await c.connect()
  const promises = Array.from({ length: 15 }, () => apiVersions(c))
  assert.ok(c.inFlight === 15)
  assert.not.ok(c.writable, 'no free slot while 3 are on the wire')
  const results = await settleAll(promises)
  for (const r of results) assert.is(r.status, 'fulfilled')
  const conn = b.connections[0]
  assert.is(conn.maxOutstanding, 3, 'pipelined up to, and not beyond, maxInFlight')
  assert.is(conn.requests.length, 16)
})

test('writes are coalesced: 20 requests issued in one tick leave in one socket write', async () => {
  const b = await fake()
  const c = connection(b, { maxInFlight: 20 })
  await c.connect()
  // Count what reaches the socket's stream layer (one call is one write to the kernel, or fewer).
  const socketWrites: number[] = []
  const proto = net.Socket.prototype as unknown as {
    _write: (this: net.Socket, ...args: unknown[]) => void
    _writev: (this: net.Socket, ...args: unknown[]) => void
  }
  const { _write, _writev } = proto
  proto._write = function (this: net.Socket, ...args: unknown[]) {
    if (this.remotePort === b.port) socketWrites.push(1)
    return _write.apply(this, args)
  }
  proto._writev = function (this: net.Socket, ...args: unknown[]) {
    if (this.remotePort === b.port) socketWrites.push((args[0] as unknown[]).length)
    return _writev.apply(this, args)
  }
  let results: Array<PromiseSettledResult<unknown>>
  try {
    results = await settleAll(Array.from({ length: 20 }, () => apiVersions(c)))
  } finally {
    proto._write = _write
    proto._writev = _writev
  }
  for (const r of results) assert.is(r.status, 'fulfilled')
  assert.equal(socketWrites, [1], `socket writes: ${JSON.stringify(socketWrites)}`)
  const chunks = b.connections[0].framesPerChunk
  assert.ok(Math.max(...chunks) >= 10, `frames per chunk at the server: ${chunks.join(',')}`)
})

test('close() rejects pending and queued requests with ConnectionError', async () => {
  const b = await misbehaving(() => {})
  const c = connection(b, { maxInFlight: 2 })
  await c.connect()
  const promises = Array.from({ length: 5 }, () => apiVersions(c))
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.is(b.connections[0].requests.length, 3, 'handshake + 2 on the wire, 3 queued')
  c.close()
  const results = await settleAll(promises)
  for (const r of results) assertOurs(rejection(r), ConnectionError, 'ERR_CONNECTION_CLOSED')
  assert.ok(c.closed)
  await b.connections[0].closed
  const [after] = await settleAll([apiVersions(c)])
  assertOurs(rejection(after), ConnectionError)
})

test('close(reason) rejects with that reason; close during the handshake settles connect()', async () => {
  const b = await fake({ handshake: false, onRequest: () => {} })
  const c = connection(b)
  const connecting = c.connect()
  const queued = apiVersions(c)
  await b.nextConnection()
  await new Promise((resolve) => setTimeout(resolve, 30))
  const reason = new ConnectionError('ERR_TEST_SHUTDOWN', 'shutting down')
  c.close(reason)
  const results = await settleAll<unknown>([connecting, queued])
  for (const r of results) assert.is(rejection(r), reason)
})

test.run()
