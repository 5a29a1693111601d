// Reads a whole topic back with raw Fetch requests and our record-batch decoder: how integration
// tests check what a producer (ours, kcat's, Java's) really wrote. Not the consumer: no groups, no
// offsets committed, just "what is in the log".
import type { Admin } from '../../src/client/admin.js'
import { Cluster } from '../../src/network/cluster.js'
import { ErrorCode, KafkaError } from '../../src/protocol/error-codes.js'
import { Fetch } from '../../src/protocol/fetch.js'
import { ListOffsets } from '../../src/protocol/list-offsets.js'
import { decodeRecordBatches, type KafkaRecord } from '../../src/protocol/record-batch.js'

export interface ReadRecord extends KafkaRecord {
  partition: number
}

/**
 * The latest offset (high watermark) of each partition of `topic`. A topic just created may not have its leaders
 * known everywhere yet: retriable errors (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, ...) are retried for a while.
 */
export async function endOffsets(cluster: Cluster, topic: string): Promise<bigint[]> {
  cluster.addTopics([topic])
  for (let attempt = 0; ; attempt++) {
    await cluster.refresh()
    const info = cluster.topics.get(topic)
    try {
      const code = info === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : info.errorCode
      if (info === undefined || code !== 0) throw new KafkaError(code)
      const out: bigint[] = []
      for (const p of info.partitions) {
        if (p.leader < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, { topic, partition: p.partition })
        const c = await cluster.connection(p.leader, 'admin')
        const r = await c.request(ListOffsets, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [{ name: topic, partitions: [{ partitionIndex: p.partition, timestamp: -1n }] }],
        })
        const part = r.topics[0].partitions[0]
        if (part.errorCode !== 0) throw new KafkaError(part.errorCode, { topic, partition: p.partition })
        out[p.partition] = part.offset
      }
      return out
    } catch (err) {
      if (!(err instanceof KafkaError) || !err.retriable || attempt >= 50) throw err
      await new Promise((r) => setTimeout(r, 200))
    }
  }
}

/** Every record of every partition of `topic`, in offset order per partition. */
export async function readTopic(brokers: string, topic: string): Promise<ReadRecord[]> {
  const cluster = new Cluster({ bootstrap: brokers })
  try {
    await cluster.connect()
    const ends = await endOffsets(cluster, topic)
    const info = cluster.topics.get(topic)!
    const out: ReadRecord[] = []
    for (const p of info.partitions) {
      let offset = 0n
      const end = ends[p.partition]
      const c = await cluster.connection(p.leader, 'fetch')
      while (offset < end) {
        const response = await c.request(Fetch, {
          replicaId: -1,
          maxWaitMs: 100,
          minBytes: 1,
          maxBytes: 16 * 1024 * 1024,
          isolationLevel: 0,
          topics: [
            {
              topic,
              topicId: info.topicId,
              partitions: [{ partition: p.partition, fetchOffset: offset, partitionMaxBytes: 8 * 1024 * 1024 }],
            },
          ],
        })
        if (response.errorCode !== 0) throw new Error(`Fetch error ${response.errorCode}`)
        const data = response.responses[0].partitions[0]
        if (data.errorCode !== 0) throw new Error(`Fetch ${topic}-${p.partition}: error ${data.errorCode}`)
        const batches = decodeRecordBatches(data.records ?? Buffer.alloc(0), { topic, partition: p.partition })
        let advanced = false
        for (const batch of batches) {
          for (const record of batch.records) {
            if (record.offset < offset || batch.isControl) continue
            out.push({ ...record, partition: p.partition })
          }
          const next = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n
          if (next > offset) {
            offset = next
            advanced = true
          }
        }
        if (!advanced) throw new Error(`Fetch of ${topic}-${p.partition} at ${offset} made no progress`)
      }
    }
    return out
  } finally {
    cluster.close()
  }
}

/** A group's committed offset of each partition of `topic` (-1n where it has none). */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
  partitions: number,
): Promise<bigint[]> {
  const found = new Map((await admin.groupOffsets(groupId, [topic])).map((o) => [o.partition, o.offset]))
  return Array.from({ length: partitions }, (_, p) => found.get(p) ?? -1n)
}
