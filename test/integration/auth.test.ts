// SASL and TLS against a real broker of our own (auth listeners, SCRAM users, a test CA), with
// 3-second sessions so that re-authentication (KIP-368) happens during the test.

import * as diagnostics from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import type * as tls from 'node:tls'
import { inspect } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Cluster } from '../../src/network/cluster.js'
import { Connection } from '../../src/network/connection.js'
import { AuthenticationError, ConnectionError } from '../../src/network/errors.js'
import { type SaslConfig, saslAuthenticator } from '../../src/network/sasl.js'
import { ApiVersions } from '../../src/protocol/api-versions.js'
import { Metadata } from '../../src/protocol/metadata.js'
import { type ListenerName, type Cluster as LocalCluster, startCluster } from '../../src/tools/local-broker.js'

const EXTERNAL = process.env.KAFKA_WIRE_EXTERNAL === '1'
const SESSION_MS = 3000

let kafka: LocalCluster | undefined
const open: Array<{ close(): void }> = []

test.before(async () => {
  if (EXTERNAL) {
    console.log(
      '  auth.test.ts skipped: KAFKA_WIRE_EXTERNAL=1 (these tests start their own broker with auth listeners)',
    )
    return
  }
  kafka = await startCluster({ auth: true, serverProperties: { 'connections.max.reauth.ms': SESSION_MS } })
})

test.after.each(() => {
  for (const c of open.splice(0)) c.close()
})

test.after(async () => {
  await kafka?.stop()
})

function listener(name: ListenerName): { host: string; port: number } {
  const node = kafka!.nodes[0]
  return { host: kafka!.state.host, port: node.ports[name]! }
}

function user() {
  return kafka!.users[0]
}

function ca(): string {
  return readFileSync(kafka!.tls!.caPath, 'utf8')
}

function clientCert(): tls.ConnectionOptions {
  const files = kafka!.tls!
  if (files.clientCertPath && files.clientKeyPath) {
    return { cert: readFileSync(files.clientCertPath), key: readFileSync(files.clientKeyPath) }
  }
  return { pfx: readFileSync(files.clientPfxPath), passphrase: files.password }
}

function connection(
  name: ListenerName,
  options: { sasl?: SaslConfig; tls?: tls.ConnectionOptions | boolean } = {},
): Connection {
  const c = new Connection({
    ...listener(name),
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 10_000,
    tls: options.tls,
    authenticate: options.sasl ? saslAuthenticator(options.sasl) : undefined,
  })
  open.push(c)
  return c
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  assert.unreachable('expected a failure')
  throw new Error('unreachable')
}

function skip(): boolean {
  return kafka === undefined
}

const SCRAM_AND_PLAIN = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const

for (const mechanism of SCRAM_AND_PLAIN) {
  test(`SASL ${mechanism}: the right password connects and serves requests`, async () => {
    if (skip()) return
    const { username, password } = user()
    const c = connection('SASL_PLAINTEXT', { sasl: { mechanism, username, password } })
    await c.connect()
    assert.ok(c.ready)
    assert.is((await c.request(ApiVersions, {})).errorCode, 0)
    const md = await c.request(Metadata, { topics: null })
    assert.is(md.clusterId, kafka!.clusterId)
  })

  test(`SASL ${mechanism}: a wrong password fails with a typed AuthenticationError that does not show it`, async () => {
    if (skip()) return
    const { username, password } = user()
    const wrong = `${password}-but-wrong-3f9a`
    const c = connection('SASL_PLAINTEXT', { sasl: { mechanism, username, password: wrong } })
    const err = await failure(c.connect())
    assert.instance(err, AuthenticationError, String(err))
    const auth = err as AuthenticationError
    assert.is(auth.code, 'ERR_AUTHENTICATION')
    assert.not.ok(auth.retriable)
    assert.match(auth.message, new RegExp(mechanism))
    const shown = `${auth.message} ${auth.stack} ${inspect(auth, { depth: Number.POSITIVE_INFINITY, showHidden: true })}`
    assert.not.ok(shown.includes(wrong), 'the attempted password is in the error')
    assert.not.ok(shown.includes(password), 'the password is in the error')
    assert.ok(c.closed)
    // The closed connection refuses more work with the same error.
    assert.is(await failure(c.request(ApiVersions, {})), err)
  })
}

test('SASL: an unknown user fails typed', async () => {
  if (skip()) return
  const c = connection('SASL_PLAINTEXT', {
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'nobody-here', password: 'whatever' },
  })
  const err = await failure(c.connect())
  assert.instance(err, AuthenticationError, String(err))
})

test('SASL: a mechanism the broker does not enable (SCRAM-SHA-1) fails typed, naming what it offers', async () => {
  if (skip()) return
  const { username, password } = user()
  const config = { mechanism: 'SCRAM-SHA-1', username, password } as unknown as SaslConfig
  const c = connection('SASL_PLAINTEXT', { sasl: config })
  const err = await failure(c.connect())
  assert.instance(err, AuthenticationError, String(err))
  assert.is((err as AuthenticationError).code, 'ERR_SASL_MECHANISM')
  assert.match(err.message, /SCRAM-SHA-512/)
  assert.not.ok(err.message.includes(password))
})

/** An unsecured JWT (alg "none"), which the test broker's default OAUTHBEARER validator accepts. */
function unsecuredToken(sub: string, expiresInS: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  return `${part({ alg: 'none' })}.${part({ sub, iat: now - 10, exp: now + expiresInS })}.`
}

test('SASL OAUTHBEARER: a token from the provider connects; an expired one fails typed', async () => {
  if (skip()) return
  let calls = 0
  const good = connection('SASL_PLAINTEXT', {
    sasl: {
      mechanism: 'OAUTHBEARER',
      token: async () => {
        calls++
        return { value: unsecuredToken('alice', 3600), extensions: { traceId: 'abc' } }
      },
    },
  })
  await good.connect()
  assert.is((await good.request(ApiVersions, {})).errorCode, 0)
  assert.ok(calls >= 1, 'the token provider was asked')
  const expired = connection('SASL_PLAINTEXT', {
    sasl: { mechanism: 'OAUTHBEARER', token: () => unsecuredToken('alice', -60) },
  })
  const err = await failure(expired.connect())
  assert.instance(err, AuthenticationError, String(err))
  assert.not.ok((err as AuthenticationError).retriable)
})

test('TLS with the CA: connects and serves requests', async () => {
  if (skip()) return
  const c = connection('SSL', { tls: { ca: ca() } })
  await c.connect()
  assert.is((await c.request(ApiVersions, {})).errorCode, 0)
  // By name as well as by IP: the broker certificate has SAN localhost and 127.0.0.1.
  const byName = new Connection({ host: 'localhost', port: listener('SSL').port, tls: { ca: ca() } })
  open.push(byName)
  await byName.connect()
  assert.ok(byName.ready)
})

test('TLS without the CA: ERR_TLS, not retriable', async () => {
  if (skip()) return
  const c = connection('SSL', { tls: true })
  const err = await failure(c.connect())
  assert.instance(err, ConnectionError, String(err))
  assert.is((err as ConnectionError).code, 'ERR_TLS', `${(err as ConnectionError).code}: ${err.message}`)
  assert.not.ok((err as ConnectionError).retriable)
})

test('TLS with a servername the certificate does not name: ERR_TLS', async () => {
  if (skip()) return
  const c = connection('SSL', { tls: { ca: ca(), servername: 'not-the-broker.example' } })
  const err = await failure(c.connect())
  assert.instance(err, ConnectionError, String(err))
  assert.is((err as ConnectionError).code, 'ERR_TLS', `${(err as ConnectionError).code}: ${err.message}`)
  assert.match(err.message, /not-the-broker|altname|Hostname/i)
})

test('mTLS listener: the client certificate connects', async () => {
  if (skip()) return
  const c = connection('MTLS', { tls: { ca: ca(), ...clientCert() } })
  await c.connect()
  assert.is((await c.request(ApiVersions, {})).errorCode, 0)
})

test('mTLS listener without a client certificate: a typed error, no hang', async () => {
  if (skip()) return
  const c = connection('MTLS', { tls: { ca: ca() } })
  const started = Date.now()
  const err = await failure(c.connect())
  assert.instance(err, ConnectionError, String(err))
  // TLS 1.3 finishes the client's side of the handshake before the broker checks the certificate, so the
  // broker's refusal can arrive as a TLS alert (ERR_TLS) or as a closed socket.
  assert.match(
    (err as ConnectionError).code,
    /^ERR_(TLS|CONNECTION)/,
    `${(err as ConnectionError).code}: ${err.message}`,
  )
  assert.ok(Date.now() - started < 8000)
  assert.ok(c.closed)
})

test('SASL_SSL + SCRAM-SHA-512 through Cluster: metadata, and no password in inspect or JSON', async () => {
  if (skip()) return
  const { username, password } = user()
  const { host, port } = listener('SASL_SSL')
  const cluster = new Cluster({
    bootstrap: `${host}:${port}`,
    tls: { ca: ca() },
    sasl: { mechanism: 'SCRAM-SHA-512', username, password },
  })
  open.push(cluster)
  await cluster.connect()
  assert.is(cluster.clusterId, kafka!.clusterId)
  const broker = cluster.broker(kafka!.nodes[0].id)
  assert.is(broker.port, port, 'the broker advertises its SASL_SSL address on that listener')
  const c = await cluster.connection(broker.nodeId, 'produce')
  assert.is((await c.request(ApiVersions, {})).errorCode, 0)
  const seen = new WeakSet<object>()
  const json = JSON.stringify(cluster, (_k, v) => {
    if (typeof v === 'bigint') return String(v)
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[cycle]'
      seen.add(v)
    }
    return v
  })
  assert.not.ok(json.includes(password))
  assert.not.ok(inspect(cluster, { depth: Number.POSITIVE_INFINITY, showHidden: true }).includes(password))
})

test('re-authentication: connections keep working across several 3 s sessions, and say so', async () => {
  if (skip()) return
  const { username, password } = user()
  const events: Array<{ broker: string; reauthentication: boolean }> = []
  const onEvent = (m: unknown) => events.push(m as { broker: string; reauthentication: boolean })
  diagnostics.subscribe('kafka-wire:authenticate', onEvent)
  try {
    const plain = connection('SASL_PLAINTEXT', { sasl: { mechanism: 'PLAIN', username, password } })
    const scram = connection('SASL_SSL', {
      tls: { ca: ca() },
      sasl: { mechanism: 'SCRAM-SHA-512', username, password },
    })
    await Promise.all([plain.connect(), scram.connect()])
    const runFor = 8000
    const deadline = Date.now() + runFor
    const run = async (c: Connection) => {
      let requests = 0
      while (Date.now() < deadline) {
        // Several in flight at once, so some are on the wire whenever re-authentication starts.
        const batch = await Promise.all([
          c.request(ApiVersions, {}),
          c.request(Metadata, { topics: null }),
          c.request(ApiVersions, {}),
        ])
        for (const r of batch) assert.is(r.errorCode ?? 0, 0)
        requests += batch.length
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      return requests
    }
    const [n1, n2] = await Promise.all([run(plain), run(scram)])
    assert.ok(n1 > 100 && n2 > 100, `${n1} and ${n2} requests`)
    assert.not.ok(plain.closed || scram.closed, 'a connection was closed')
    for (const c of [plain, scram]) {
      const mine = events.filter((e) => e.broker === c.address)
      assert.is(mine.filter((e) => !e.reauthentication).length, 1, `${c.address}: one first authentication`)
      const reauths = mine.filter((e) => e.reauthentication).length
      assert.ok(
        reauths >= 2,
        `${c.address}: ${reauths} re-authentications in ${runFor} ms of ${SESSION_MS} ms sessions`,
      )
    }
  } finally {
    diagnostics.unsubscribe('kafka-wire:authenticate', onEvent)
  }
})

test.run()
