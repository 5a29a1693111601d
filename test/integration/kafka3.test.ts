// Kafka 3.9.1 starts with the same library call (its jars are resolved into the cache on the first run), answers
// ApiVersions, and its SCRAM users (added at format time) log in with kcat. Skips with an external KAFKA_BROKERS.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type Cluster, probeApiVersions, startCluster } from '../../src/tools/local-broker.js'
import { EXTERNAL, hasKcat, isProcessOf, kcatMetadata, loud } from '../helpers/local-kafka.js'

let cluster: Cluster | undefined
const kcat = !EXTERNAL && (await hasKcat())

test.before(
  loud(async () => {
    if (EXTERNAL) return
    const started = Date.now()
    cluster = await startCluster({ version: '3.9.1', auth: true, log: (m) => console.log(`  ${m}`) })
    console.log(`  Kafka ${cluster.version} started in ${Date.now() - started} ms`)
  }),
)
test.after(loud(async () => cluster?.stop()))

const t = EXTERNAL ? test.skip : test

t('3.9.1 answers ApiVersions', async () => {
  const [host, port] = cluster!.bootstrap.split(':') as [string, string]
  await probeApiVersions(host, Number(port))
  assert.is(cluster!.version, '3.9.1')
})

;(kcat ? t : test.skip)('kcat: SCRAM-SHA-512 on SASL_PLAINTEXT, and a wrong password fails', async () => {
  const c = cluster!
  const user = c.users[0]!
  const settings = {
    'security.protocol': 'SASL_PLAINTEXT',
    'sasl.mechanisms': 'SCRAM-SHA-512',
    'sasl.username': user.username,
    'sasl.password': user.password,
  }
  const broker = c.addresses('SASL_PLAINTEXT')[0]!
  const [ok, bad] = await Promise.all([
    kcatMetadata(broker, settings),
    kcatMetadata(broker, { ...settings, 'sasl.password': 'wrong' }, 2),
  ])
  assert.is(ok.code, 0, ok.output)
  assert.match(ok.output, /broker 1 at 127\.0\.0\.1:\d+/)
  assert.is.not(bad.code, 0)
  assert.match(bad.output, /Authentication failed|SASL authentication error/)
})

t('stop leaves no process of ours', async () => {
  const c = cluster!
  const pid = c.pid(1)!
  cluster = undefined
  await c.stop()
  assert.not.ok(isProcessOf(pid, c.dir))
})

test.run()
