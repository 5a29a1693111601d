// @platformatic/kafka's record batch codec, from its public exports (protocol/records.js): the encoder is
// createRecordsBatch(messages, options), which its Produce requests call per partition with the messages its
// producer has serialized (key, value, headers as a Map of Buffers, bigint timestamps); we take the batch
// writer's `.buffer` (one Buffer, as its connection does with the whole request before socket.write). The
// decoder is readRecordsBatch(Reader.from(bytes)), which its Fetch responses call per batch; it does not check
// the CRC, leaves header keys as Buffers, and returns offset and timestamp deltas (absolute values are
// computed later by its consumer). lz4 is its own (@platformatic/wasm-utils, WebAssembly).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BatchCodec, Compression, FixtureRecord, PeerCodecFactory } from './codec-fixture.js'

const peerRequire = createRequire(new URL('../package.json', import.meta.url))

interface PlatformaticMessage {
  key: Buffer
  value: Buffer
  headers: Map<Buffer, Buffer>
  topic: string
  partition: number
  timestamp: bigint
}
interface PlatformaticBatch {
  firstTimestamp: bigint
  records: { timestampDelta: bigint; key: Buffer; value: Buffer; headers: [Buffer, Buffer][] }[]
}
interface PlatformaticModule {
  createRecordsBatch(messages: PlatformaticMessage[], options: { compression?: string }): { buffer: Buffer }
  readRecordsBatch(reader: unknown): PlatformaticBatch
  Reader: { from(buf: Buffer): unknown }
}

export async function platformaticCodecs(load?: () => Promise<unknown>): Promise<PeerCodecFactory> {
  // Its package.json is not exported: read it next to the resolved entry point (dist/index.js).
  const entry = peerRequire.resolve('@platformatic/kafka')
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string
  }
  const lib = (await (load?.() ?? import(pathToFileURL(entry).href))) as PlatformaticModule
  const { createRecordsBatch, readRecordsBatch, Reader } = lib
  return {
    client: 'platformatic',
    note: `@platformatic/kafka ${version}: createRecordsBatch(...).buffer, readRecordsBatch(Reader.from(bytes)) (no CRC check, header keys as Buffers, deltas only)`,
    create(records: FixtureRecord[], codec: Compression): BatchCodec {
      const messages: PlatformaticMessage[] = records.map((r) => ({
        key: r.key,
        value: r.value,
        headers: new Map(r.headers.map((h) => [Buffer.from(h.key), h.value])),
        topic: 'bench',
        partition: 0,
        timestamp: BigInt(r.timestamp),
      }))
      const options = { compression: codec }
      return {
        encode: () => createRecordsBatch(messages, options).buffer,
        decode: (bytes: Buffer) => readRecordsBatch(Reader.from(bytes)),
        records(decoded) {
          const batch = decoded as PlatformaticBatch
          return batch.records.map((r) => ({
            key: r.key,
            value: r.value,
            timestamp: Number(batch.firstTimestamp + r.timestampDelta),
            headers: r.headers.map(([k, v]) => ({ key: k.toString(), value: v })),
          }))
        },
      }
    },
  }
}
