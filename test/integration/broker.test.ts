// The broker is there and speaks Kafka: an ApiVersions v0 round trip with hand-made bytes over plain TCP.
// (Kept byte-level on purpose: it checks the harness, not our codecs.)

import { connect } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ApiVersions } from '../../src/protocol/api-versions.js'
import { decodeResponseHeader, encodeRequestFrame } from '../../src/protocol/headers.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import { acquireCluster, type ClusterLease, loud } from '../helpers/local-kafka.js'

let lease: ClusterLease | undefined
let bootstrap = process.env.KAFKA_BROKERS

test.before(
  loud(async () => {
    if (!bootstrap) {
      lease = await acquireCluster()
      bootstrap = lease.cluster.bootstrap
    }
  }),
)
test.after(
  loud(async () => {
    await lease?.release()
  }),
)

/** Send one request frame and read one response frame (without its size prefix). */
function roundTrip(host: string, port: number, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => socket.destroy(new Error('no response in 10 s')), 10_000)
    socket.on('connect', () => socket.write(request))
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        clearTimeout(timer)
        socket.end()
        resolve(received.subarray(4, 4 + received.readInt32BE(0)))
      }
    })
  })
}

test('ApiVersions v0 round trip with hand-made bytes', async () => {
  const [host, port] = bootstrap!.split(',')[0]!.split(':') as [string, string]
  const clientId = Buffer.from('kafka-wire-test')
  const request = Buffer.alloc(14 + clientId.length)
  request.writeInt32BE(request.length - 4, 0) // size
  request.writeInt16BE(18, 4) // api key: ApiVersions
  request.writeInt16BE(0, 6) // api version 0
  request.writeInt32BE(0x12345678, 8) // correlation id
  request.writeInt16BE(clientId.length, 12) // client id (request header v1)
  clientId.copy(request, 14)

  const response = await roundTrip(host, Number(port), request)
  assert.is(response.readInt32BE(0), 0x12345678, 'correlation id echoed')
  assert.is(response.readInt16BE(4), 0, 'error code')
  const count = response.readInt32BE(6)
  assert.ok(count > 20, `${count} api keys`)
  assert.is(response.length, 10 + count * 6, 'v0 body: error code, then [api key, min, max] only')
  const keys = new Map<number, [number, number]>()
  for (let i = 0, at = 10; i < count; i++, at += 6) {
    keys.set(response.readInt16BE(at), [response.readInt16BE(at + 2), response.readInt16BE(at + 4)])
  }
  for (const key of [0, 1, 3, 18]) assert.ok(keys.has(key), `api key ${key} listed`)
  const [min, max] = keys.get(18)!
  assert.ok(min === 0 && max >= 3, `ApiVersions ${min}-${max}`)
})

test('ApiVersions v0..v4 round trips through our codec and framing', async () => {
  const [host, port] = bootstrap!.split(',')[0]!.split(':') as [string, string]
  for (let version = ApiVersions.minVersion; version <= ApiVersions.maxVersion; version++) {
    const w = new Writer()
    encodeRequestFrame(w, ApiVersions, version, 1000 + version, 'kafka-wire-test', {})
    const frame = await roundTrip(host, Number(port), w.toBuffer())
    const r = new Reader(frame)
    assert.is(decodeResponseHeader(r, ApiVersions, version), 1000 + version, `v${version} correlation id`)
    const response = ApiVersions.decode(r, version)
    r.expectEnd()
    assert.is(response.errorCode, 0, `v${version} error code`)
    const keys = new Set(response.apiKeys.map((k) => k.apiKey))
    for (const key of [0, 1, 3, 18]) assert.ok(keys.has(key), `v${version} lists api key ${key}`)
  }
})

test.run()
