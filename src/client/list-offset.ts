import type { Cluster } from '../network/cluster.js'
import { ErrorCode, KafkaError } from '../protocol/error-codes.js'
import { ListOffsets } from '../protocol/list-offsets.js'

/** ListOffsets' special timestamps. */
export const EARLIEST = -2n
export const LATEST = -1n

export type IsolationLevel = 'read_uncommitted' | 'read_committed'

/** A partition and the timestamp to look up (ms since the epoch, or EARLIEST / LATEST). */
export interface OffsetQuery {
  topic: string
  partition: number
  timestamp: bigint
}

/**
 * The offsets of many partitions at once: one ListOffsets request per leader, sent together. The answers come
 * in the order of `queries`, each the offset (as `listOffset` gives it) or the error of that partition (a
 * KafkaError, or what the connection threw): one partition's failure does not fail the others.
 */
export async function listOffsets(
  cluster: Cluster,
  queries: readonly OffsetQuery[],
  isolation: IsolationLevel = 'read_uncommitted',
): Promise<Array<bigint | Error>> {
  const answers: Array<bigint | Error> = new Array(queries.length)
  cluster.addTopics([...new Set(queries.map((q) => q.topic))])
  if (queries.some((q) => cluster.leaderFor(q.topic, q.partition) < 0)) await cluster.refresh()
  const byLeader = new Map<number, number[]>()
  for (const [i, q] of queries.entries()) {
    const leader = cluster.leaderFor(q.topic, q.partition)
    if (leader < 0) {
      answers[i] = new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, { topic: q.topic, partition: q.partition })
      continue
    }
    let list = byLeader.get(leader)
    if (list === undefined) byLeader.set(leader, (list = []))
    list.push(i)
  }
  let refresh = false
  await Promise.all(
    [...byLeader].map(async ([leader, indexes]) => {
      try {
        const topics = new Map<
          string,
          Array<{ partitionIndex: number; currentLeaderEpoch: number; timestamp: bigint }>
        >()
        for (const i of indexes) {
          const q = queries[i]
          let partitions = topics.get(q.topic)
          if (partitions === undefined) topics.set(q.topic, (partitions = []))
          partitions.push({ partitionIndex: q.partition, currentLeaderEpoch: -1, timestamp: q.timestamp })
        }
        const c = await cluster.connection(leader, 'admin')
        const r = await c.request(ListOffsets, {
          replicaId: -1,
          isolationLevel: isolation === 'read_committed' ? 1 : 0,
          topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
        })
        const found = new Map<string, { errorCode: number; offset: bigint }>()
        for (const t of r.topics) for (const p of t.partitions) found.set(`${t.name}\u0000${p.partitionIndex}`, p)
        for (const i of indexes) {
          const q = queries[i]
          const p = found.get(`${q.topic}\u0000${q.partition}`)
          if (p === undefined) {
            answers[i] = new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, {
              topic: q.topic,
              partition: q.partition,
            })
          } else if (p.errorCode !== 0) {
            if (p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) refresh = true
            answers[i] = new KafkaError(p.errorCode, { topic: q.topic, partition: q.partition })
          } else answers[i] = p.offset
        }
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err))
        for (const i of indexes) answers[i] = error
      }
    }),
  )
  if (refresh) cluster.refresh().catch(() => {})
  return answers
}

/**
 * The offset of a partition at `timestamp` (ms since the epoch, or EARLIEST / LATEST), asked of its leader:
 * the first offset whose timestamp is at or after it, or the end offset (-1 from the broker) when none is.
 */
export async function listOffset(
  cluster: Cluster,
  topic: string,
  partition: number,
  timestamp: bigint,
  isolation: IsolationLevel = 'read_uncommitted',
): Promise<bigint> {
  const [answer] = await listOffsets(cluster, [{ topic, partition, timestamp }], isolation)
  if (answer instanceof Error) throw answer
  return answer
}
