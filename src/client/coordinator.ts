import { backoffDelay, sleep } from '../network/backoff.js'
import type { Cluster } from '../network/cluster.js'
import { KafkaError } from '../protocol/error-codes.js'
import { FindCoordinator } from '../protocol/find-coordinator.js'

export interface CoordinatorAddress {
  nodeId: number
  host: string
  port: number
}

/**
 * The group coordinator of `groupId`, asked of any broker. Retriable errors (a coordinator still loading or
 * moving) are retried with backoff until `stop()` says so; others throw a KafkaError.
 */
export async function findGroupCoordinator(
  cluster: Cluster,
  groupId: string,
  stop: () => boolean = () => false,
): Promise<CoordinatorAddress> {
  for (let attempt = 0; ; attempt++) {
    const response = await cluster.requestAny(
      FindCoordinator,
      { key: groupId, keyType: 0, coordinatorKeys: [groupId] },
      'group',
    )
    const c = response.coordinators.length > 0 ? response.coordinators[0] : response
    if (c.errorCode === 0) return { nodeId: c.nodeId, host: c.host, port: c.port }
    const err = new KafkaError(c.errorCode, { brokerMessage: c.errorMessage })
    if (!err.retriable || stop()) throw err
    await sleep(backoffDelay(attempt, { baseMs: 100, maxMs: 2000 }))
  }
}
