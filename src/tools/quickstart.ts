// `npm start`: the quickstart on the embedded default. Starts a local Apache Kafka broker (or uses
// KAFKA_BROKERS), connects with kafka-wire, shows what the cluster speaks, and stops what it started.
// The producer and consumer issues grow this into a produce-then-consume run.
import { Cluster } from '../network/cluster.js'
import { API_NAMES } from '../protocol/api-names.js'
import { startCluster } from './local-broker.js'

async function main(): Promise<void> {
  let bootstrap = process.env.KAFKA_BROKERS
  let stop: (() => Promise<void>) | undefined
  if (!bootstrap) {
    console.log('starting a local Apache Kafka broker (first run downloads its jars from Maven Central) ...')
    const started = Date.now()
    const local = await startCluster({ log: (m) => console.log(`  ${m}`) })
    bootstrap = local.bootstrap
    stop = () => local.stop()
    console.log(`Kafka ${local.version} is up on ${bootstrap} (${Date.now() - started} ms)`)
  }
  const cluster = new Cluster({ bootstrap, clientId: 'kafka-wire-quickstart' })
  try {
    const t0 = performance.now()
    await cluster.connect()
    const ms = (performance.now() - t0).toFixed(1)
    console.log(`connected in ${ms} ms: cluster ${cluster.clusterId}, controller ${cluster.controllerId}`)
    for (const b of cluster.brokers.values()) console.log(`  broker ${b.nodeId} at ${b.host}:${b.port}`)
    const [connection] = cluster.pool.openConnections()
    if (connection) {
      console.log('API versions the broker speaks:')
      const rows: string[] = []
      for (const [key, range] of [...connection.brokerVersions].sort((a, b) => a[0] - b[0])) {
        const name = API_NAMES[key]
        if (name) rows.push(`  ${String(key).padStart(2)} ${name.padEnd(26)} broker ${range.min}-${range.max}`)
      }
      console.log(rows.join('\n'))
    }
  } finally {
    cluster.close()
    await stop?.()
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err)
  process.exit(1)
})
