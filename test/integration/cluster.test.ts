// The local broker harness itself: a 3-node cluster (up, a node killed and restarted on its data, down with no
// process left), and the SASL/SSL/mTLS listeners checked with kcat, Kafka's Java client and node:tls.
// Skips when KAFKA_BROKERS points to an external cluster (KAFKA_WIRE_EXTERNAL=1).

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type Cluster, probeApiVersions, startCluster } from '../../src/tools/local-broker.js'
import {
  acquireCluster,
  type ClusterLease,
  EXTERNAL,
  hasKcat,
  isProcessOf,
  javaListTopics,
  kcatMetadata,
  loud,
} from '../helpers/local-kafka.js'

const hostPort = (address: string): [string, number] => {
  const [host, port] = address.split(':') as [string, string]
  return [host, Number(port)]
}

// ---------------------------------------------------------------------------------------------------------------
const three = suite('three nodes')
let cluster3: Cluster | undefined

three.before(
  loud(async () => {
    if (EXTERNAL) return
    const started = Date.now()
    cluster3 = await startCluster({ nodes: 3 })
    console.log(`  3-node Kafka ${cluster3.version} started in ${Date.now() - started} ms`)
  }),
)
three.after(loud(async () => cluster3?.stop()))

const t3 = EXTERNAL ? three.skip : three

t3('every node answers ApiVersions; one pid each', async () => {
  const c = cluster3!
  assert.is(c.nodes.length, 3)
  assert.is(c.bootstrap.split(',').length, 3)
  for (const address of c.bootstrap.split(',')) await probeApiVersions(...hostPort(address))
  const status = await c.status()
  assert.equal(
    status.map((s) => [s.id, s.running, s.ready]),
    [
      [1, true, true],
      [2, true, true],
      [3, true, true],
    ],
  )
  assert.is(new Set(status.map((s) => s.pid)).size, 3)
  const props = readFileSync(c.node(2).propertiesPath, 'utf8')
  assert.match(props, /^controller\.quorum\.voters=1@127\.0\.0\.1:\d+,2@127\.0\.0\.1:\d+,3@127\.0\.0\.1:\d+$/m)
  assert.match(props, /^min\.insync\.replicas=2$/m)
  assert.match(props, /^offsets\.topic\.replication\.factor=3$/m)
})

t3('a killed node restarts on its data without a format', async () => {
  const c = cluster3!
  const pid = c.pid(3)!
  await c.killNode(3)
  assert.not.ok(isProcessOf(pid, c.dir), 'node 3 is gone')
  const down = await c.status()
  assert.equal(
    down.map((s) => s.running),
    [true, true, false],
  )
  await c.startNode(3)
  assert.ok(c.pid(3) !== undefined && c.pid(3) !== pid)
  await probeApiVersions(...hostPort(c.addresses('PLAINTEXT')[2]!))
  const meta = readFileSync(join(c.node(3).dataDir, 'meta.properties'), 'utf8')
  assert.ok(meta.includes(`cluster.id=${c.clusterId}`), 'same cluster id')
})

t3('stop leaves no process of ours and no pid file', async () => {
  const c = cluster3!
  const pids = c.nodes.map((node) => c.pid(node.id)!)
  cluster3 = undefined
  await c.stop()
  for (const pid of pids) assert.not.ok(isProcessOf(pid, c.dir), `pid ${pid} is gone`)
  for (const node of c.nodes) assert.not.ok(existsSync(node.pidPath), `${node.pidPath} removed`)
})

three.run()

// ---------------------------------------------------------------------------------------------------------------
const auth = suite('auth listeners')
let lease: ClusterLease | undefined
const kcat = !EXTERNAL && (await hasKcat())

auth.before(
  loud(async () => {
    if (EXTERNAL) return
    if (!kcat) console.log('  kcat not found (apt-get install -y kcat): its checks are skipped')
    lease = await acquireCluster({ auth: true })
  }),
)
auth.after(loud(async () => lease?.release()))

const ta = EXTERNAL ? auth.skip : auth
const tk = (name: string, body: (c: Cluster) => Promise<void>) =>
  (kcat ? ta : auth.skip)(name, () => body(lease!.cluster))

const alice = (c: Cluster) => c.users[0]!

tk('kcat: SASL_PLAINTEXT with PLAIN, and a wrong password fails', async (c) => {
  const broker = c.addresses('SASL_PLAINTEXT')[0]!
  const settings = {
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanisms': 'PLAIN',
    'sasl.username': alice(c).username,
    'sasl.password': alice(c).password,
  }
  const ok = await kcatMetadata(broker, settings)
  assert.is(ok.code, 0, ok.output)
  assert.match(ok.output, /broker 1 at 127\.0\.0\.1:\d+/)
  const bad = await kcatMetadata(broker, { ...settings, 'sasl.password': 'wrong' }, 2)
  assert.is.not(bad.code, 0)
  assert.match(bad.output, /Authentication failed|SASL authentication error/)
})

tk('kcat: SSL with the CA PEM; without it verification fails', async (c) => {
  const broker = c.addresses('SSL')[0]!
  const ok = await kcatMetadata(broker, { 'security.protocol': 'SSL', 'ssl.ca.location': c.tls!.caPath })
  assert.is(ok.code, 0, ok.output)
  assert.match(ok.output, /broker 1 at/)
  const bad = await kcatMetadata(broker, { 'security.protocol': 'SSL' }, 2)
  assert.is.not(bad.code, 0)
  assert.match(bad.output, /certificate verify failed|SSL handshake failed/)
})

tk('kcat: SASL_SSL with PLAIN', async (c) => {
  const ok = await kcatMetadata(c.addresses('SASL_SSL')[0]!, {
    'security.protocol': 'SASL_SSL',
    'ssl.ca.location': c.tls!.caPath,
    'sasl.mechanisms': 'PLAIN',
    'sasl.username': alice(c).username,
    'sasl.password': alice(c).password,
  })
  assert.is(ok.code, 0, ok.output)
})

tk('kcat: MTLS with the client certificate; without it the broker refuses', async (c) => {
  const broker = c.addresses('MTLS')[0]!
  const ok = await kcatMetadata(broker, {
    'security.protocol': 'SSL',
    'ssl.ca.location': c.tls!.caPath,
    'ssl.keystore.location': c.tls!.clientPfxPath,
    'ssl.keystore.password': c.tls!.password,
  })
  assert.is(ok.code, 0, ok.output)
  const bad = await kcatMetadata(broker, { 'security.protocol': 'SSL', 'ssl.ca.location': c.tls!.caPath }, 2)
  assert.is.not(bad.code, 0)
})

// Debian's kcat 1.7.1 (librdkafka 2.0.2) cannot do SCRAM against Kafka 4.x (fixed in librdkafka 2.6.1); Kafka's
// own Java client checks the SCRAM users here, kcat checks them on 3.9.1 (kafka3.test.ts).
ta('Java client: SCRAM-SHA-512 on SASL_PLAINTEXT, and a wrong password fails', async () => {
  const c = lease!.cluster
  const broker = c.addresses('SASL_PLAINTEXT')[0]!
  const jaas = (password: string) =>
    `org.apache.kafka.common.security.scram.ScramLoginModule required username="${alice(c).username}" password="${password}";`
  const props = { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-512' }
  const [ok, bad] = await Promise.all([
    javaListTopics(c, broker, { ...props, 'sasl.jaas.config': jaas(alice(c).password) }),
    javaListTopics(c, broker, { ...props, 'sasl.jaas.config': jaas('wrong') }),
  ])
  assert.is(ok.code, 0, ok.output)
  assert.is.not(bad.code, 0)
  assert.match(bad.output, /invalid credentials/)
})

ta('Java client: SCRAM-SHA-256 on SASL_SSL, trusting the CA PEM', async () => {
  const c = lease!.cluster
  const ok = await javaListTopics(c, c.addresses('SASL_SSL')[0]!, {
    'security.protocol': 'SASL_SSL',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': c.tls!.caPath,
    'sasl.mechanism': 'SCRAM-SHA-256',
    'sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${alice(c).username}" password="${alice(c).password}";`,
  })
  assert.is(ok.code, 0, ok.output)
})

/** TLS handshake, then an ApiVersions v0 request (no client id): resolves to the response's error code. */
function tlsApiVersions(address: string, options: { ca: Buffer; pfx?: Buffer; passphrase?: string }): Promise<number> {
  const [host, port] = hostPort(address)
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, ...options }, () => {
      if (!socket.authorized) reject(new Error(`not authorized: ${socket.authorizationError}`))
      socket.write(Buffer.from('0000000a00120000000000070000', 'hex'))
    })
    let received = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        socket.end()
        resolve(received.readInt16BE(8))
      }
    })
    socket.on('error', reject)
    socket.setTimeout(10_000, () => socket.destroy(new Error('TLS ApiVersions timed out')))
  })
}

ta('node:tls: SSL with the CA PEM, MTLS with the client PKCS12', async () => {
  const c = lease!.cluster
  const ca = readFileSync(c.tls!.caPath)
  assert.is(await tlsApiVersions(c.addresses('SSL')[0]!, { ca }), 0)
  const pfx = readFileSync(c.tls!.clientPfxPath)
  assert.is(await tlsApiVersions(c.addresses('MTLS')[0]!, { ca, pfx, passphrase: c.tls!.password }), 0)
  await tlsApiVersions(c.addresses('MTLS')[0]!, { ca }).then(
    () => assert.unreachable('MTLS without a client certificate'),
    (error: Error) => assert.match(error.message, /certificate|alert|ECONNRESET|socket hang up/),
  )
})

auth.run()
