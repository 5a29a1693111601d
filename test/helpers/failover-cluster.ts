// The 3-node cluster of the failover tests: their own (brokers are killed there), with short broker sessions
// so that a killed broker is fenced, and a restarted one back, in seconds rather than ~20 s. Not started
// against an external cluster (KAFKA_WIRE_EXTERNAL=1): the tests then skip.
import { type Cluster, startCluster } from '../../src/tools/local-broker.js'

export const external = process.env.KAFKA_WIRE_EXTERNAL === '1'

export function startFailoverCluster(
  serverProperties: Record<string, string | number | boolean> = {},
): Promise<Cluster> {
  return startCluster({
    nodes: 3,
    serverProperties: {
      'broker.session.timeout.ms': 2000,
      'broker.heartbeat.interval.ms': 300,
      'controller.quorum.fetch.timeout.ms': 1000,
      'controller.quorum.election.timeout.ms': 500,
      ...serverProperties,
    },
  })
}
