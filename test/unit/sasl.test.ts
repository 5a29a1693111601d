import * as diagnostics from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Cluster } from '../../src/network/cluster.js'
import { Connection } from '../../src/network/connection.js'
import { AuthenticationError } from '../../src/network/errors.js'
import { ConnectionPool } from '../../src/network/pool.js'
import { type SaslConfig, type ScramMechanism, saslAuthenticator, scramExchange } from '../../src/network/sasl.js'
import { ApiVersions } from '../../src/protocol/api-versions.js'
import { Writer } from '../../src/protocol/writer.js'
import {
  type FakeBroker,
  type FakeConnection,
  type FakeRequest,
  requestBody,
  startFakeBroker,
} from '../helpers/fake-broker.js'

// RFC 7677, section 3: SCRAM-SHA-256 with user "user", password "pencil".
const RFC = {
  user: 'user',
  password: 'pencil',
  clientNonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
}

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'))

async function rejectsWith(promise: Promise<unknown>, check: (err: AuthenticationError) => void): Promise<void> {
  try {
    await promise
  } catch (err) {
    assert.instance(err, AuthenticationError, `got ${err}`)
    check(err as AuthenticationError)
    return
  }
  assert.unreachable('expected an AuthenticationError')
}

test('SCRAM-SHA-256 matches the RFC 7677 test vector, and the server signature verifies', async () => {
  const ex = scramExchange('SCRAM-SHA-256', RFC.user, RFC.password, RFC.clientNonce)
  assert.is(text(await ex.step(null)), RFC.clientFirst)
  assert.is(text(await ex.step(Buffer.from(RFC.serverFirst))), RFC.clientFinal)
  assert.is(await ex.step(Buffer.from(RFC.serverFinal)), null, 'done after a verified server-final')
})

async function rfcUpToFinal(serverFirst = RFC.serverFirst, password = RFC.password) {
  const ex = scramExchange('SCRAM-SHA-256', RFC.user, password, RFC.clientNonce)
  await ex.step(null)
  return { ex, final: () => ex.step(Buffer.from(serverFirst)) }
}

test('SCRAM: a tampered server signature is rejected', async () => {
  const { ex, final } = await rfcUpToFinal()
  await final()
  const sig = Buffer.from(RFC.serverFinal.slice(2), 'base64')
  sig[0] ^= 1
  await rejectsWith(ex.step(Buffer.from(`v=${sig.toString('base64')}`)), (err) => {
    assert.is(err.code, 'ERR_SCRAM')
    assert.not.ok(err.retriable)
    assert.match(err.message, /signature/)
  })
})

test('SCRAM: a server-final of the wrong length, or without v=, is rejected', async () => {
  for (const serverFinal of ['v=AAAA', 'x=1', '']) {
    const { ex, final } = await rfcUpToFinal()
    await final()
    await rejectsWith(ex.step(Buffer.from(serverFinal)), (err) => assert.is(err.code, 'ERR_SCRAM'))
  }
})

test('SCRAM: a server error (e=) in the server-final is rejected', async () => {
  const { ex, final } = await rfcUpToFinal()
  await final()
  await rejectsWith(ex.step(Buffer.from('e=invalid-proof')), (err) => assert.match(err.message, /invalid-proof/))
})

test('SCRAM: the signature of the right exchange with the wrong password does not verify', async () => {
  // Same server messages, other password: our proof differs and the broker's signature cannot match ours.
  const { ex, final } = await rfcUpToFinal(RFC.serverFirst, 'not-pencil')
  const clientFinal = text(await final())
  assert.is.not(clientFinal, RFC.clientFinal)
  await rejectsWith(ex.step(Buffer.from(RFC.serverFinal)), (err) => assert.not.match(err.message, /pencil/))
})

test('SCRAM: a server nonce that does not extend ours is rejected', async () => {
  const cases = [
    RFC.serverFirst.replace('r=rOprNGfwEbeRWgbNEkqO', 'r=XOprNGfwEbeRWgbNEkqO'), // other prefix
    `r=${RFC.clientNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, // ours, not extended
    's=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', // none
  ]
  for (const serverFirst of cases) {
    const { final } = await rfcUpToFinal(serverFirst)
    await rejectsWith(final(), (err) => {
      assert.is(err.code, 'ERR_SCRAM')
      assert.match(err.message, /nonce/)
    })
  }
})

test('SCRAM: an iteration count below 4096 (4095, 0, missing, not a number) is rejected', async () => {
  for (const i of ['i=4095', 'i=0', 'i=-1', 'i=4096.5', 'i=abc', '']) {
    const serverFirst = `${RFC.serverFirst.replace(',i=4096', '')}${i ? `,${i}` : ''}`
    const { final } = await rfcUpToFinal(serverFirst)
    await rejectsWith(final(), (err) => {
      assert.is(err.code, 'ERR_SCRAM')
      assert.match(err.message, /iteration/)
    })
  }
})

test('SCRAM: a server-first error (e=) or a missing salt is rejected', async () => {
  const { final } = await rfcUpToFinal('e=unknown-user')
  await rejectsWith(final(), (err) => assert.match(err.message, /unknown-user/))
  const noSalt = await rfcUpToFinal(`r=${RFC.clientNonce}abc,i=4096`)
  await rejectsWith(noSalt.final(), (err) => assert.match(err.message, /salt/))
})

test('SCRAM: user names escape "," and "=" (RFC 5802 saslname); a random nonce is used by default', async () => {
  const ex = scramExchange('SCRAM-SHA-512', 'a,b=c', 'pw', 'nonce')
  assert.is(text(await ex.step(null)), 'n,,n=a=2Cb=3Dc,r=nonce')
  const first = text(await scramExchange('SCRAM-SHA-512', 'u', 'pw').step(null))!
  const other = text(await scramExchange('SCRAM-SHA-512', 'u', 'pw').step(null))!
  assert.match(first, /^n,,n=u,r=[A-Za-z0-9+/=]{24,}$/)
  assert.is.not(first, other)
})

// ---------------------------------------------------------------------------------------------------------------
// The authenticate hook against a fake broker that speaks SaslHandshake v1 and SaslAuthenticate v2.

interface SaslBehaviour {
  mechanisms?: string[]
  /** Answer to each SaslAuthenticate: error code and message, server bytes, session lifetime. */
  authenticate?: (
    authBytes: Buffer,
    round: number,
  ) => { errorCode?: number; errorMessage?: string | null; authBytes?: Buffer; lifetimeMs?: bigint; delayMs?: number }
}

interface SaslLog {
  handshakes: string[]
  authBytes: Buffer[]
  /** Every request in arrival order, as 'H' (handshake), 'A' (authenticate) and 'V' (ApiVersions). */
  order: string[]
}

async function saslFake(behaviour: SaslBehaviour): Promise<{ broker: FakeBroker; log: SaslLog }> {
  const log: SaslLog = { handshakes: [], authBytes: [], order: [] }
  let round = 0
  const broker = await startFakeBroker({
    onRequest: (req: FakeRequest, conn: FakeConnection) => {
      if (req.apiKey === 17) {
        log.order.push('H')
        const mechanism = requestBody(req, false).string(false)
        log.handshakes.push(mechanism)
        const offered = behaviour.mechanisms ?? ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']
        const w = new Writer(64)
        w.int16(offered.includes(mechanism) ? 0 : 33)
        w.arrayLength(offered.length, false)
        for (const m of offered) w.string(m, false)
        conn.reply(req, w.toBuffer())
      } else if (req.apiKey === 36) {
        log.order.push('A')
        assert.is(req.apiVersion, 2)
        const bytes = Buffer.from(requestBody(req, true).bytes(true))
        log.authBytes.push(bytes)
        const answer = behaviour.authenticate?.(bytes, round++) ?? {}
        const w = new Writer(64)
        w.int16(answer.errorCode ?? 0)
        w.nullableString(answer.errorMessage ?? null, true)
        w.bytes(answer.authBytes ?? Buffer.alloc(0), true)
        w.int64(answer.lifetimeMs ?? 0n)
        w.emptyTaggedFields()
        const body = w.toBuffer()
        if (answer.delayMs) setTimeout(() => conn.reply(req, body, true), answer.delayMs)
        else conn.reply(req, body, true)
      } else if (req.apiKey === 18) {
        log.order.push('V')
        conn.replyApiVersions(req)
      }
    },
  })
  return { broker, log }
}

test('PLAIN sends \\0user\\0password in one SaslAuthenticate after a SaslHandshake', async () => {
  const { broker, log } = await saslFake({})
  const c = new Connection({
    host: broker.host,
    port: broker.port,
    authenticate: saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: 'älice-secret' }),
  })
  try {
    await c.connect()
    assert.equal(log.handshakes, ['PLAIN'])
    assert.is(log.authBytes.length, 1)
    assert.equal([...log.authBytes[0]], [...Buffer.from('\u0000alice\u0000älice-secret', 'utf8')])
    assert.is((await c.request(ApiVersions, {})).errorCode, 0)
  } finally {
    c.close()
    await broker.close()
  }
})

const SECRET = 'p4ssw0rd-that-must-not-leak'

test('a failed authentication: typed AuthenticationError, not retriable, connection closed, no password in it', async () => {
  const { broker } = await saslFake({
    authenticate: () => ({ errorCode: 58, errorMessage: 'Authentication failed: Invalid username or password' }),
  })
  const authenticate = saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: SECRET })
  const c = new Connection({ host: broker.host, port: broker.port, authenticate })
  try {
    let error: unknown
    await c.connect().catch((err) => {
      error = err
    })
    assert.instance(error, AuthenticationError)
    const err = error as AuthenticationError
    assert.is(err.code, 'ERR_AUTHENTICATION')
    assert.not.ok(err.retriable)
    assert.match(err.message, /PLAIN/)
    assert.match(err.message, /Invalid username or password/)
    assert.ok(c.closed)
    // Work sent to the dead connection fails at once with the same error (it once hung until the request timeout).
    const started = performance.now()
    const later = await c.request(ApiVersions, {}, { timeoutMs: 5000 }).then(
      () => 'resolved',
      (e) => e,
    )
    assert.is(later, err)
    assert.ok(performance.now() - started < 100)
    for (const s of [
      err.message,
      String(err.stack),
      inspect(err, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    ])
      assert.not.ok(s.includes(SECRET), 'the password is in the error')
    assert.not.ok(inspect(c, { depth: Number.POSITIVE_INFINITY, showHidden: true }).includes(SECRET))
  } finally {
    c.close()
    await broker.close()
  }
})

test('a mechanism the broker does not enable: AuthenticationError ERR_SASL_MECHANISM naming what it offers', async () => {
  const { broker, log } = await saslFake({ mechanisms: ['PLAIN'] })
  const c = new Connection({
    host: broker.host,
    port: broker.port,
    authenticate: saslAuthenticator({ mechanism: 'SCRAM-SHA-512', username: 'alice', password: SECRET }),
  })
  try {
    await rejectsWith(c.connect(), (err) => {
      assert.is(err.code, 'ERR_SASL_MECHANISM')
      assert.match(err.message, /SCRAM-SHA-512/)
      assert.match(err.message, /PLAIN/)
      assert.not.ok(err.message.includes(SECRET))
    })
    assert.is(log.authBytes.length, 0, 'no credentials sent')
  } finally {
    c.close()
    await broker.close()
  }
})

test('an unknown mechanism in the configuration fails typed, before any credential is sent', async () => {
  const { broker, log } = await saslFake({ mechanisms: ['PLAIN', 'SCRAM-SHA-1'] })
  const config = { mechanism: 'SCRAM-SHA-1', username: 'alice', password: SECRET } as unknown as SaslConfig
  const c = new Connection({ host: broker.host, port: broker.port, authenticate: saslAuthenticator(config) })
  try {
    await rejectsWith(c.connect(), (err) => assert.is(err.code, 'ERR_SASL_MECHANISM'))
    assert.is(log.authBytes.length, 0)
  } finally {
    c.close()
    await broker.close()
  }
})

test('SCRAM against a broker that does not know the password: the server signature check fails the connect', async () => {
  // The fake plays the server's part with any salt and a made-up signature.
  const { broker } = await saslFake({
    mechanisms: ['SCRAM-SHA-256'],
    authenticate: (bytes, round) => {
      if (round === 0) {
        const nonce = /r=([^,]+)/.exec(bytes.toString())![1]
        return { authBytes: Buffer.from(`r=${nonce}server,s=${Buffer.from('salt').toString('base64')},i=4096`) }
      }
      return { authBytes: Buffer.from(`v=${Buffer.alloc(32, 7).toString('base64')}`) }
    },
  })
  const c = new Connection({
    host: broker.host,
    port: broker.port,
    authenticate: saslAuthenticator({ mechanism: 'SCRAM-SHA-256', username: 'alice', password: SECRET }),
  })
  try {
    await rejectsWith(c.connect(), (err) => {
      assert.is(err.code, 'ERR_SCRAM')
      assert.not.ok(err.message.includes(SECRET))
    })
    assert.ok(c.closed)
  } finally {
    c.close()
    await broker.close()
  }
})

test('re-authentication (KIP-368): repeated before the session lifetime, requests held meanwhile, reported', async () => {
  const { broker, log } = await saslFake({
    // 300 ms sessions; each re-authentication answer takes 80 ms, during which requests must wait.
    authenticate: (_bytes, round) => ({ lifetimeMs: 300n, delayMs: round === 0 ? 0 : 80 }),
  })
  const events: Array<{ reauthentication: boolean }> = []
  const onEvent = (message: unknown) => events.push(message as { reauthentication: boolean })
  diagnostics.subscribe('kafka-wire:authenticate', onEvent)
  const c = new Connection({
    host: broker.host,
    port: broker.port,
    authenticate: saslAuthenticator({ mechanism: 'PLAIN', username: 'alice', password: SECRET }),
  })
  try {
    await c.connect()
    const deadline = Date.now() + 1100
    let requests = 0
    while (Date.now() < deadline) {
      const response = await c.request(ApiVersions, {}, { timeoutMs: 1000 })
      assert.is(response.errorCode, 0)
      requests++
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    assert.ok(requests > 20, `${requests} requests`)
    const reauths = log.handshakes.length - 1
    assert.ok(reauths >= 3, `${reauths} re-authentications in 1.1 s of 300 ms sessions`)
    assert.is(events.filter((e) => !e.reauthentication).length, 1)
    assert.ok(events.filter((e) => e.reauthentication).length >= 3)
    // Between a re-authentication's handshake and its authenticate answer, no other request went out.
    const order = log.order.join('')
    assert.not.match(order, /HV|H[^A]/, order)
    assert.ok(!c.closed)
  } finally {
    diagnostics.unsubscribe('kafka-wire:authenticate', onEvent)
    c.close()
    await broker.close()
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Credentials never show in inspect, JSON or errors.

const CONFIGS: SaslConfig[] = [
  { mechanism: 'PLAIN', username: 'alice', password: SECRET },
  { mechanism: 'SCRAM-SHA-256', username: 'alice', password: SECRET },
  { mechanism: 'SCRAM-SHA-512' as ScramMechanism, username: 'alice', password: SECRET },
  { mechanism: 'OAUTHBEARER', token: () => SECRET },
]

/** JSON that survives the cycles of live sockets. */
function json(value: unknown): string {
  const seen = new WeakSet<object>()
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return String(v)
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[cycle]'
      seen.add(v)
    }
    return v
  })
}

function assertNoSecret(what: string, value: unknown): void {
  const shown = inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true })
  assert.not.ok(shown.includes(SECRET), `${what}: the password shows in util.inspect`)
  assert.not.ok(json(value).includes(SECRET), `${what}: the password shows in JSON`)
}

test('Cluster, ConnectionPool and Connection with SASL credentials: no password in inspect or JSON', () => {
  for (const sasl of CONFIGS) {
    const cluster = new Cluster({ bootstrap: '127.0.0.1:9', sasl })
    const pool = new ConnectionPool({ sasl })
    const connection = new Connection({ host: '127.0.0.1', port: 9, authenticate: saslAuthenticator(sasl) })
    try {
      assertNoSecret(`Cluster ${sasl.mechanism}`, cluster)
      assertNoSecret(`ConnectionPool ${sasl.mechanism}`, pool)
      assertNoSecret(`Connection ${sasl.mechanism}`, connection)
      // Plain JSON.stringify works on an unconnected client (no cycles) and is clean too.
      assert.not.ok(JSON.stringify(cluster).includes(SECRET))
      assert.not.ok(JSON.stringify(pool).includes(SECRET))
    } finally {
      cluster.close()
      pool.close()
      connection.close()
    }
  }
})

test('a pool connected and authenticated over SASL: no password in inspect or JSON of it or its connection', async () => {
  const { broker } = await saslFake({})
  const pool = new ConnectionPool({ sasl: CONFIGS[0] })
  try {
    const c = await pool.get(broker.host, broker.port, 'admin')
    assert.ok(c.ready)
    await c.request(ApiVersions, {})
    assertNoSecret('pool', pool)
    assertNoSecret('connection', c)
  } finally {
    pool.close()
    await broker.close()
  }
})

test.run()
