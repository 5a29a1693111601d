// The syslog server's queue, backpressure, drops, counters and stop, with producers that the test controls
// (no broker: the integration test covers the real producer). Real TCP and UDP sockets on 127.0.0.1.
import * as dgram from 'node:dgram'
import { EventEmitter } from 'node:events'
import * as net from 'node:net'
import protobuf from 'protobufjs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type Counter, MetricsRegistry } from '../../src/client/metrics.js'
import type { ProducerMessage } from '../../src/client/producer.js'
import { SyslogServer, type SyslogServerConfig, type SyslogSink } from '../../src/tools/syslog/server.js'

/** A producer that takes at most `room` messages until `release()`, then delivers them all. */
class FakeProducer extends EventEmitter implements SyslogSink {
  room: number
  readonly taken: Array<ProducerMessage<Buffer | null, Buffer>> = []
  private readonly callbacks: Array<(err: Error | null, m: unknown) => void> = []
  closed = false

  constructor(room = Number.POSITIVE_INFINITY) {
    super()
    this.room = room
  }

  async connect(): Promise<void> {}

  produce(message: ProducerMessage<Buffer | null, Buffer>, callback: (err: Error | null, m: unknown) => void) {
    if (this.closed || this.taken.length - this.delivered >= this.room) return false
    this.taken.push(message)
    this.callbacks.push(callback)
    if (this.room === Number.POSITIVE_INFINITY) setImmediate(() => this.deliver())
    return true
  }

  delivered = 0
  deliver(): void {
    for (const cb of this.callbacks.splice(0)) {
      this.delivered++
      cb(null, null)
    }
  }

  release(): void {
    this.room = Number.POSITIVE_INFINITY
    this.deliver()
    this.emit('drain')
  }

  async close(): Promise<void> {
    this.deliver()
    this.closed = true
  }
}

function counter(metrics: MetricsRegistry, name: string, labels?: Record<string, string>): number {
  return (metrics.get(name, labels) as Counter | undefined)?.count ?? -1
}

async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function server(
  producers: FakeProducer[],
  config: Partial<SyslogServerConfig> = {},
): Promise<{ server: SyslogServer; metrics: MetricsRegistry; tcp: number; udp: number }> {
  const metrics = new MetricsRegistry()
  let i = 0
  const s = new SyslogServer({
    brokers: 'unused:9092',
    topic: 'logs',
    tcp: { host: '127.0.0.1', port: 0 },
    udp: { host: '127.0.0.1', port: 0 },
    metrics,
    numProducers: producers.length,
    createProducer: () => producers[i++],
    ...config,
  })
  await s.start()
  return { server: s, metrics, tcp: s.tcpAddress?.port ?? 0, udp: s.udpAddress?.port ?? 0 }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket))
    socket.once('error', reject)
  })
}

function sendUdp(port: number, lines: string[]): Promise<void> {
  const socket = dgram.createSocket('udp4')
  return (async () => {
    for (const line of lines) {
      await new Promise<void>((resolve, reject) =>
        socket.send(Buffer.from(line), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      )
    }
    socket.close()
  })()
}

test('TCP and UDP lines reach the producers raw, round robin over several producers; counters', async () => {
  const producers = [new FakeProducer(), new FakeProducer()]
  const { server: s, metrics, tcp, udp } = await server(producers)
  const socket = await connect(tcp)
  socket.end('<13>Oct 11 22:14:15 h t: one\n17 <13>1 - - - - - -\r\n<13>Oct 11 22:14:15 h t: three')
  await sendUdp(udp, ['<13>1 - h app - - - udp\n', '<13>Oct 11 22:14:15 h t: udp2'])
  await until(() => counter(metrics, 'syslog.messages.produced') === 5, 10_000, '5 produced')
  const values = producers.flatMap((p) => p.taken.map((m) => m.value!.toString()))
  assert.equal(values.sort(), [
    '<13>1 - - - - - -',
    '<13>1 - h app - - - udp',
    '<13>Oct 11 22:14:15 h t: one',
    '<13>Oct 11 22:14:15 h t: three',
    '<13>Oct 11 22:14:15 h t: udp2',
  ])
  assert.ok(producers[0].taken.length >= 2 && producers[1].taken.length >= 2, 'both producers took lines')
  assert.ok(producers[0].taken.every((m) => m.key === undefined && m.topic === 'logs'))
  assert.is(counter(metrics, 'syslog.messages.received', { transport: 'tcp' }), 3)
  assert.is(counter(metrics, 'syslog.messages.received', { transport: 'udp' }), 2)
  assert.is(counter(metrics, 'syslog.parse.errors', { transport: 'tcp' }), 0)
  await s.stop()
  assert.ok(producers.every((p) => p.closed))
})

test('garbage lines count as parse errors and are produced raw by default, or dropped', async () => {
  for (const unparsed of ['produce', 'drop'] as const) {
    const producer = new FakeProducer()
    const { server: s, metrics, tcp, udp } = await server([producer], { unparsed })
    const errors: string[] = []
    s.on('parseError', (err: Error) => errors.push(err.message))
    const socket = await connect(tcp)
    socket.end('not syslog at all\n<13>1 2003-13-11T22:14:15Z h a p m -\n<13>Oct 11 22:14:15 h t: fine\n12x bad\n')
    await sendUdp(udp, ['garbage datagram', '<13>1 - h app - - - udp'])
    await until(() => counter(metrics, 'syslog.messages.received', { transport: 'tcp' }) === 3, 10_000, 'tcp lines')
    await until(() => counter(metrics, 'syslog.messages.received', { transport: 'udp' }) === 2, 10_000, 'udp lines')
    await s.stop()
    // Three lines and a framing error on TCP (the bad octet count), one on UDP.
    assert.is(counter(metrics, 'syslog.parse.errors', { transport: 'tcp' }), 3, unparsed)
    assert.is(counter(metrics, 'syslog.parse.errors', { transport: 'udp' }), 1, unparsed)
    assert.is(errors.length, 4)
    const values = producer.taken.map((m) => m.value!.toString()).sort()
    if (unparsed === 'produce') {
      assert.equal(values, [
        '<13>1 - h app - - - udp',
        '<13>1 2003-13-11T22:14:15Z h a p m -',
        '<13>Oct 11 22:14:15 h t: fine',
        'garbage datagram',
        'not syslog at all',
      ])
      assert.is(counter(metrics, 'syslog.messages.dropped', { reason: 'unparsed' }), 0)
    } else {
      assert.equal(values, ['<13>1 - h app - - - udp', '<13>Oct 11 22:14:15 h t: fine'])
      assert.is(counter(metrics, 'syslog.messages.dropped', { reason: 'unparsed' }), 3)
    }
  }
})

test('UDP: a full queue drops datagrams and counts them; the queue never holds more than queue.size', async () => {
  const producer = new FakeProducer(0) // takes nothing until released
  const { server: s, metrics, udp } = await server([producer], { queueSize: 5, tcp: false })
  const lines = Array.from({ length: 40 }, (_, i) => `<13>Oct 11 22:14:15 h t: ${i}`)
  await sendUdp(udp, lines)
  await until(() => counter(metrics, 'syslog.messages.received', { transport: 'udp' }) >= 40, 10_000, '40 datagrams')
  assert.is(s.queued, 5)
  assert.is(counter(metrics, 'syslog.messages.dropped', { reason: 'queue_full' }), 35)
  assert.is((metrics.get('syslog.queue.messages') as { value(): number }).value(), 5)
  producer.release()
  await until(() => counter(metrics, 'syslog.messages.produced') === 5, 10_000, '5 produced')
  // The first five are the ones kept.
  assert.equal(
    producer.taken.map((m) => m.value!.toString()),
    lines.slice(0, 5),
  )
  await s.stop()
})

test('TCP: backpressure pauses the connection (the sender backs up) and nothing is lost once the producer drains', async () => {
  const producer = new FakeProducer(0)
  const { server: s, metrics, tcp } = await server([producer], { queueSize: 100, udp: false })
  const socket = await connect(tcp)
  const total = 200_000
  const line = (i: number) => `<13>Oct 11 22:14:15 host app[1]: message number ${String(i).padStart(7, '0')}\n`
  // Write everything without waiting: what the server does not read stays in the sender's buffers.
  let chunk = ''
  for (let i = 0; i < total; i++) {
    chunk += line(i)
    if (chunk.length > 60_000) {
      socket.write(chunk)
      chunk = ''
    }
  }
  socket.write(chunk)
  await until(() => (metrics.get('syslog.tcp.paused') as { value(): number }).value() === 1, 10_000, 'pause')
  await new Promise((r) => setTimeout(r, 300))
  const received = counter(metrics, 'syslog.messages.received', { transport: 'tcp' })
  assert.is(s.queued, 100, 'the queue is full, not over')
  assert.ok(received < total / 2, `the server stopped reading (received ${received} of ${total})`)
  assert.ok(socket.writableLength > 0, 'the sender is backed up')
  producer.release()
  await until(() => counter(metrics, 'syslog.messages.produced') === total, 60_000, 'all produced')
  const values = producer.taken.map((m) => m.value!.toString())
  assert.is(values.length, total)
  for (let i = 0; i < total; i += 997) assert.is(`${values[i]}\n`, line(i), `line ${i} in order`)
  assert.is(`${values[total - 1]}\n`, line(total - 1))
  assert.is((metrics.get('syslog.tcp.paused') as { value(): number }).value(), 0)
  socket.end()
  await s.stop()
})

test('LogLine protobuf values keyed by source, with the received and sent times', async () => {
  const producer = new FakeProducer()
  const {
    server: s,
    metrics,
    tcp,
  } = await server([producer], {
    udp: false,
    logLine: { source: 'web-1', tags: [{ key: 'dc', value: 'eu' }], logTypeId: 7n },
  })
  const before = Date.now()
  const socket = await connect(tcp)
  socket.end('<13>Oct 11 22:14:15 h t: hello\n')
  await until(() => counter(metrics, 'syslog.messages.produced') === 1)
  await s.stop()
  const m = producer.taken[0]
  assert.is(m.key?.toString(), 'web-1')
  const LogLine = protobuf
    .parse(
      'syntax = "proto2"; message LogLine { message Tag { required string key = 1; required string value = 2; } ' +
        'required string line = 1; optional string source = 2; repeated Tag tag = 3; optional int64 logtypeid = 4; ' +
        'repeated int64 timings = 5; }',
    )
    .root.lookupType('LogLine')
  const decoded = LogLine.toObject(LogLine.decode(m.value!), { longs: Number }) as {
    line: string
    source: string
    tag: Array<{ key: string; value: string }>
    logtypeid: number
    timings: number[]
  }
  assert.is(decoded.line, '<13>Oct 11 22:14:15 h t: hello')
  assert.is(decoded.source, 'web-1')
  assert.equal(decoded.tag, [{ key: 'dc', value: 'eu' }])
  assert.is(decoded.logtypeid, 7)
  assert.is(decoded.timings.length, 2)
  assert.ok(
    decoded.timings[0] >= before && decoded.timings[0] <= decoded.timings[1] && decoded.timings[1] <= Date.now(),
  )
})

test('stop: stops listening, flushes the queue to the producers, then closes them', async () => {
  const producer = new FakeProducer(0)
  const { server: s, metrics, tcp, udp } = await server([producer], { queueSize: 50 })
  const socket = await connect(tcp)
  socket.write(Array.from({ length: 30 }, (_, i) => `<13>Oct 11 22:14:15 h t: ${i}\n`).join(''))
  await until(() => s.queued === 30, 10_000, '30 queued')
  setTimeout(() => producer.release(), 200)
  await s.stop()
  assert.is(counter(metrics, 'syslog.messages.produced'), 30)
  assert.ok(producer.closed)
  assert.is(counter(metrics, 'syslog.messages.dropped', { reason: 'stopped' }), 0)
  // Nothing listens any more.
  const refused = await connect(tcp).then(
    (c) => {
      c.destroy()
      return false
    },
    () => true,
  )
  assert.ok(refused, 'the TCP port is closed')
  assert.ok(udp > 0)
})

test('stop with a producer that never drains: gives up after the timeout and counts what is left', async () => {
  const producer = new FakeProducer(0)
  const { server: s, metrics, udp } = await server([producer], { queueSize: 10, tcp: false })
  await sendUdp(udp, ['<13>a', '<13>b', '<13>c'])
  await until(() => s.queued === 3)
  const t0 = Date.now()
  await s.stop({ timeoutMs: 300 })
  assert.ok(Date.now() - t0 < 5000)
  assert.is(counter(metrics, 'syslog.messages.dropped', { reason: 'stopped' }), 3)
})

test('configuration errors are ConfigErrors; a port in use is a SyslogServerError', async () => {
  assert.throws(() => new SyslogServer({ brokers: 'x:1', topic: '' }), /topic is required/)
  assert.throws(() => new SyslogServer({ brokers: 'x:1', topic: 't', queueSize: 0 }), /queueSize/)
  assert.throws(() => new SyslogServer({ brokers: 'x:1', topic: 't', tcp: false, udp: false }), /neither/)
  const blocker = net.createServer()
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
  const port = (blocker.address() as net.AddressInfo).port
  const producer = new FakeProducer()
  const s = new SyslogServer({
    brokers: 'x:1',
    topic: 't',
    tcp: { host: '127.0.0.1', port },
    udp: false,
    createProducer: () => producer,
  })
  try {
    await s.start()
    assert.unreachable('should not listen')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'ERR_SYSLOG_SERVER')
    assert.ok((err as Error).message.includes(`TCP 127.0.0.1:${port}`))
  }
  assert.ok(producer.closed, 'the producers are closed again')
  blocker.close()
})

test.run()
