// Record batches written by other clients decode correctly with ours: kcat (librdkafka) with
// -z none|gzip|snappy|lz4|zstd, keys (-K) and headers (-H), and Kafka's Java console producer with
// --compression-codec, parse.key, parse.headers and null.marker. Every key, value and header and the
// count are checked through readTopic (our Fetch + record-batch decoder); the raw batches are also
// checked for the codec they were really written with, so decompression is what is being tested.
// (The other direction, our batches read by kcat and the Java consumer, is in producer.test.ts.)

import * as assert from 'node:assert/strict'
import { test } from 'uvu'
import { Admin } from '../../src/client/admin.js'
import { Cluster } from '../../src/network/cluster.js'
import type { CompressionName } from '../../src/protocol/compression.js'
import { Fetch } from '../../src/protocol/fetch.js'
import { decodeRecordBatches, type RecordBatch } from '../../src/protocol/record-batch.js'
import { runJavaTool, runKcat } from '../helpers/java-tools.js'
import { readTopic } from '../helpers/read-topic.js'

const brokers = process.env.KAFKA_BROKERS
if (!brokers) throw new Error('KAFKA_BROKERS is not set: run through npm test, or point it at a cluster')

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
const admin = new Admin({ brokers })
const created: string[] = []
let seq = 0

async function newTopic(): Promise<string> {
  const topic = `interop-${process.pid}-${Date.now()}-${seq++}`
  await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
  created.push(topic)
  return topic
}

test.after(async () => {
  await admin.deleteTopics(created, { ignoreMissing: true }).catch(() => {})
  admin.close()
})

interface Expected {
  key: string | null
  value: string | null
  headers: Array<[string, string | null]>
}

function text(b: Buffer | null): string | null {
  return b === null ? null : b.toString('utf8')
}

/** The raw batches of partition 0, decoded by us (to see which codec each was written with). */
async function batchesOf(topic: string): Promise<RecordBatch[]> {
  const cluster = new Cluster({ bootstrap: brokers! })
  try {
    await cluster.connect()
    cluster.addTopics([topic])
    await cluster.refresh()
    const info = cluster.topics.get(topic)!
    const c = await cluster.connection(info.partitions[0].leader, 'fetch')
    const out: RecordBatch[] = []
    let offset = 0n
    for (let round = 0; round < 100; round++) {
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
            partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 8 * 1024 * 1024 }],
          },
        ],
      })
      const data = response.responses[0].partitions[0]
      assert.equal(data.errorCode, 0)
      const batches = decodeRecordBatches(data.records ?? Buffer.alloc(0), { topic, partition: 0 })
      const fresh = batches.filter((b) => b.baseOffset + BigInt(b.lastOffsetDelta) >= offset)
      if (fresh.length === 0) break
      out.push(...fresh)
      const last = fresh[fresh.length - 1]
      offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n
      if (offset >= data.highWatermark) break
    }
    return out
  } finally {
    cluster.close()
  }
}

async function check(topic: string, expected: Expected[], codec: CompressionName, label: string): Promise<void> {
  const records = await readTopic(brokers!, topic)
  assert.equal(records.length, expected.length, `${label}: record count`)
  records.forEach((r, i) => {
    const e = expected[i]
    assert.equal(r.offset, BigInt(i), `${label}: offset of ${i}`)
    assert.equal(text(r.key), e.key, `${label}: key of ${i}`)
    assert.equal(text(r.value), e.value, `${label}: value of ${i}`)
    assert.deepEqual(
      r.headers.map((h) => [h.key, text(h.value)]),
      e.headers,
      `${label}: headers of ${i}`,
    )
    assert.ok(r.timestamp > 1_600_000_000_000, `${label}: CreateTime of ${i} is set (${r.timestamp})`)
  })
  const batches = (await batchesOf(topic)).filter((b) => !b.isControl)
  assert.ok(batches.length > 0, `${label}: batches`)
  for (const b of batches) {
    assert.equal(b.magic, 2, `${label}: record batch v2`)
    assert.equal(b.compression, codec, `${label}: batch at ${b.baseOffset} written with ${codec}`)
  }
  const inBatches = batches.reduce((n, b) => n + b.records.length, 0)
  assert.equal(inBatches, expected.length, `${label}: records in batches`)
}

// ---------------------------------------------------------------------------------------------
// kcat

/**
 * kcat's input: one message per line, key and value split at the first tab (-K). A line without a
 * tab has no key (null); with -Z an empty value is sent as null. -H adds the same headers to every
 * message ("name=value"; a name without "=" has a null value).
 */
function kcatMessages(codec: string): { input: string; expected: Expected[] } {
  const headers: Array<[string, string | null]> = [
    ['trace', `kcat-${codec}`],
    ['empty', ''],
    ['unicode', 'ünï €'],
    ['nothing', null],
  ]
  const lines: string[] = []
  const expected: Expected[] = []
  for (let i = 0; i < 300; i++) {
    if (i % 10 === 0) {
      lines.push(`unkeyed-${i}`)
      expected.push({ key: null, value: `unkeyed-${i}`, headers })
    } else if (i % 10 === 1) {
      lines.push(`k-${i}\t`)
      expected.push({ key: `k-${i}`, value: null, headers })
    } else {
      const value = `value-${i}-${codec}-${'abc'.repeat(i % 40)}-日本`
      lines.push(`key-${i}-ß\t${value}`)
      expected.push({ key: `key-${i}-ß`, value, headers })
    }
  }
  return { input: `${lines.join('\n')}\n`, expected }
}

for (const codec of CODECS) {
  test(`kcat -z ${codec}: keys, values, headers and count decode as written`, async () => {
    const topic = await newTopic()
    const { input, expected } = kcatMessages(codec)
    const r = await runKcat(
      [
        '-P',
        '-b',
        brokers,
        '-t',
        topic,
        '-z',
        codec,
        '-K',
        '\t',
        '-Z',
        '-H',
        `trace=kcat-${codec}`,
        '-H',
        'empty=',
        '-H',
        'unicode=ünï €',
        '-H',
        'nothing',
        '-X',
        'linger.ms=50',
      ],
      { input, timeoutMs: 60_000 },
    )
    assert.equal(r.code, 0, r.stderr)
    await check(topic, expected, codec, `kcat ${codec}`)
  })
}

// ---------------------------------------------------------------------------------------------
// Kafka's Java console producer

/**
 * Console producer input with parse.headers and parse.key: "h1:v1,h2:v2<TAB>key<TAB>value";
 * null.marker=NULL turns a key, value or header value of NULL into null.
 */
function javaMessages(codec: string): { input: string; expected: Expected[] } {
  const lines: string[] = []
  const expected: Expected[] = []
  for (let i = 0; i < 300; i++) {
    const headers: Array<[string, string | null]> = [
      ['trace', `java-${codec}-${i}`],
      ['nothing', null],
    ]
    if (i % 3 === 0) headers.push(['unicode', 'ünï €'])
    const headerText = headers.map(([k, v]) => `${k}:${v ?? 'NULL'}`).join(',')
    const key = i % 10 === 0 ? null : `key-${i}-ß`
    const value = i % 10 === 1 ? null : `value-${i}-${codec}-${'xyz'.repeat(i % 50)}-日本`
    lines.push(`${headerText}\t${key ?? 'NULL'}\t${value ?? 'NULL'}`)
    expected.push({ key, value, headers })
  }
  return { input: `${lines.join('\n')}\n`, expected }
}

for (const codec of CODECS) {
  test(`Java console producer --compression-codec ${codec}: keys, values, headers and count decode`, async () => {
    const topic = await newTopic()
    const { input, expected } = javaMessages(codec)
    const r = await runJavaTool(
      'org.apache.kafka.tools.ConsoleProducer',
      [
        '--bootstrap-server',
        brokers,
        '--topic',
        topic,
        '--compression-codec',
        codec,
        '--property',
        'parse.key=true',
        '--property',
        'parse.headers=true',
        '--property',
        'null.marker=NULL',
        '--producer-property',
        'linger.ms=50',
      ],
      { input, timeoutMs: 90_000 },
    )
    assert.equal(r.code, 0, r.stderr)
    await check(topic, expected, codec, `Java ${codec}`)
  })
}

test.run()
