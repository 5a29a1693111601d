// KafkaJS 2.2.4's record batch codec, reached by deep requires (it exports no codec): the encoder is
// src/protocol/recordBatch/v0 (async, one Encoder per record and per header, copied into the batch), fed the
// way its Produce v3+ request feeds it (requests/produce/v3/request.js, partitionsEncoder); the decoder is
// recordBatch/v0/decoder.js, which its Fetch v4+ response calls once per batch. KafkaJS skips the CRC on decode.
//
// KafkaJS has no lz4 codec of its own: users register one (kafkajs-lz4, which wraps the `lz4` package in
// async functions). kafkajs-lz4 is not installed here, so we register the equivalent on lz4-napi, the
// library kafka-wire uses, exactly the way a KafkaJS user registers a codec:
// CompressionCodecs[CompressionTypes.LZ4] = () => ({ compress, decompress }).
import { createRequire } from 'node:module'
import type { BatchCodec, Compression, FixtureRecord, PeerCodecFactory } from './codec-fixture.js'

const peerRequire = createRequire(new URL('../package.json', import.meta.url))
const ourRequire = createRequire(import.meta.url)

interface KafkaJSEncoder {
  buffer: Buffer
}
interface KafkaJSMessage {
  key: Buffer
  value: Buffer
  timestamp: number
  headers?: { [key: string]: Buffer }
}
interface KafkaJSRecord {
  timestamp: string
  offset: string
  key: Buffer
  value: Buffer
  headers: { [key: string]: Buffer }
}
type RecordEncoderFn = (r: {
  key: Buffer
  value: Buffer
  headers?: { [key: string]: Buffer }
  offsetDelta: number
  timestampDelta: number
}) => KafkaJSEncoder
type RecordBatchFn = (b: {
  compression: number
  records: KafkaJSEncoder[]
  firstTimestamp: number
  maxTimestamp: number
  lastOffsetDelta: number
}) => Promise<KafkaJSEncoder>
type BatchDecoderFn = (decoder: unknown) => Promise<{ records: KafkaJSRecord[] }>

export function kafkajsCodecs(): PeerCodecFactory {
  const { version } = peerRequire('kafkajs/package.json') as { version: string }
  const encodeRecord = peerRequire('kafkajs/src/protocol/recordBatch/record/v0') as RecordEncoderFn
  const { RecordBatch } = peerRequire('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: RecordBatchFn }
  const decodeBatch = peerRequire('kafkajs/src/protocol/recordBatch/v0/decoder') as BatchDecoderFn
  const Decoder = peerRequire('kafkajs/src/protocol/decoder') as new (buf: Buffer) => unknown
  // The same registry object as kafkajs' exported CompressionCodecs.
  const compression = peerRequire('kafkajs/src/protocol/message/compression') as {
    Types: { None: number; LZ4: number }
    Codecs: { [id: number]: () => unknown }
  }
  const lz4 = ourRequire('lz4-napi') as {
    compressFrameSync(b: Buffer): Buffer
    decompressFrameSync(b: Buffer): Buffer
  }
  const lz4Codec = {
    compress: async (encoder: KafkaJSEncoder) => lz4.compressFrameSync(encoder.buffer),
    decompress: async (buffer: Buffer) => lz4.decompressFrameSync(buffer),
  }
  compression.Codecs[compression.Types.LZ4] = () => lz4Codec

  return {
    client: 'kafkajs',
    note: `kafkajs ${version}: recordBatch/v0 encoder fed as by Produce v3 (lz4: an lz4-napi codec registered as kafkajs-lz4 does), recordBatch/v0/decoder (no CRC check)`,
    create(records: FixtureRecord[], codec: Compression): BatchCodec {
      const messages: KafkaJSMessage[] = records.map((r) => ({
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
        headers: r.headers.length === 0 ? undefined : Object.fromEntries(r.headers.map((h) => [h.key, h.value])),
      }))
      const compressionType = codec === 'lz4' ? compression.Types.LZ4 : compression.Types.None
      return {
        // partitionsEncoder of produce/v3/request.js, minus the partition id and size prefix; first and max
        // timestamps by a plain loop (KafkaJS sorts them as strings: we spare it that).
        async encode() {
          let first = messages[0].timestamp
          let max = first
          for (const m of messages) {
            if (m.timestamp < first) first = m.timestamp
            if (m.timestamp > max) max = m.timestamp
          }
          const recs = messages.map((m, i) =>
            encodeRecord({ ...m, offsetDelta: i, timestampDelta: m.timestamp - first }),
          )
          const batch = await RecordBatch({
            compression: compressionType,
            records: recs,
            firstTimestamp: first,
            maxTimestamp: max,
            lastOffsetDelta: recs.length - 1,
          })
          return batch.buffer
        },
        decode: (bytes: Buffer) => decodeBatch(new Decoder(bytes)),
        records(decoded) {
          return (decoded as { records: KafkaJSRecord[] }).records.map((r) => ({
            key: r.key,
            value: r.value,
            timestamp: Number(r.timestamp),
            headers: Object.entries(r.headers).map(([key, value]) => ({ key, value })),
          }))
        },
      }
    },
  }
}
