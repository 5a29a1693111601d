import type { Cluster } from '../network/cluster.js'
import { ErrorCode, KafkaError } from '../protocol/error-codes.js'
import { ListOffsets } from '../protocol/list-offsets.js'

/** ListOffsets' special timestamps. */
export const EARLIEST = -2n
export const LATEST = -1n

/**
 * The offset of a partition at `timestamp` (ms since the epoch, or EARLIEST / LATEST), asked of its leader:
 * the first offset whose timestamp is at or after it, or the end offset (-1 from the broker) when none is.
 */
export async function listOffset(
  cluster: Cluster,
  topic: string,
  partition: number,
  timestamp: bigint,
  isolation: 'read_uncommitted' | 'read_committed' = 'read_uncommitted',
): Promise<bigint> {
  cluster.addTopics([topic])
  if (cluster.leaderFor(topic, partition) < 0) await cluster.refresh()
  const leader = cluster.leaderFor(topic, partition)
  if (leader < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, { topic, partition })
  const c = await cluster.connection(leader, 'admin')
  const r = await c.request(ListOffsets, {
    replicaId: -1,
    isolationLevel: isolation === 'read_committed' ? 1 : 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp }] }],
  })
  const p = r.topics[0]?.partitions[0]
  if (!p) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic, partition })
  if (p.errorCode !== 0) {
    if (p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) cluster.refresh().catch(() => {})
    throw new KafkaError(p.errorCode, { topic, partition })
  }
  return p.offset
}
