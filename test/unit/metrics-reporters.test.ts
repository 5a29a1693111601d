import { once } from 'node:events'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../src/client/errors.js'
import { type MetricSnapshot, MetricsRegistry } from '../../src/client/metrics.js'
import {
  GraphiteReporter,
  graphiteMetricPath,
  graphitePath,
  graphiteSegment,
} from '../../src/tools/metrics/graphite-reporter.js'
import {
  METRICS_ARG_OPTIONS,
  metricsOptionsFromArgs,
  parseDuration,
  parseHostPort,
  startMetricsReporting,
} from '../../src/tools/metrics/metrics-flags.js'
import {
  PROMETHEUS_CONTENT_TYPE,
  prometheusName,
  renderPrometheus,
  renderPrometheusResult,
  startPrometheusServer,
} from '../../src/tools/metrics/prometheus-exposition.js'
import { MetricsReporterError } from '../../src/tools/metrics/reporter-common.js'

// ---------------------------------------------------------------------------------------------
// helpers

const WAIT_MS = 15_000 // generous: a shared 2-core machine

async function waitFor(what: string, pred: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Asserts that a promise rejects (with an error `check` accepts, when given). */
async function rejects(promise: Promise<unknown>, check?: (e: unknown) => boolean): Promise<void> {
  let error: unknown
  try {
    await promise
  } catch (e) {
    error = e
  }
  assert.ok(error !== undefined, 'expected a rejection')
  if (check !== undefined) assert.ok(check(error), `unexpected error: ${String(error)}`)
}

function fakeClock(start = 1_000_000) {
  let t = start
  return {
    now: () => t,
    advance(ms: number) {
      t += ms
    },
  }
}

/** A registry with one of each kind, labels, and a gauge that fails. Deterministic (fake clock, uniform sample). */
function sampleRegistry() {
  const clock = fakeClock()
  const reg = new MetricsRegistry({ now: clock.now, reservoir: 'uniform' })
  reg.counter('producer.retries').inc(7)
  const sent = reg.meter('producer.messages.sent', { topic: 'orders' })
  sent.mark(100)
  const histogram = reg.histogram('producer.batch.bytes')
  for (let i = 1; i <= 100; i++) histogram.update(i * 3)
  const timer = reg.timer('producer.request.latency')
  for (let i = 1; i <= 50; i++) timer.update(i * 0.5)
  clock.advance(12_000) // two meter ticks: non-zero moving averages
  sent.mark(5)
  reg.gauge('consumer.lag', () => 42, { topic: 'my.topic name', partition: 3 })
  reg.gauge('consumer.broken', () => {
    throw new Error('no value')
  })
  return { reg, clock }
}

interface GraphiteLine {
  path: string
  value: number
  timestamp: number
}

/** A Graphite stand-in: a TCP listener that collects the lines it receives and checks their syntax. */
async function graphiteServer(port = 0) {
  const lines: GraphiteLine[] = []
  const bad: string[] = []
  const sockets = new Set<Socket>()
  let ended = 0
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    let partial = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      partial += chunk
      let nl = partial.indexOf('\n')
      while (nl !== -1) {
        const line = partial.slice(0, nl)
        partial = partial.slice(nl + 1)
        const m = /^([A-Za-z0-9_:\-.]+) (-?\d+(?:\.\d+)?(?:e[-+]?\d+)?) (\d+)$/.exec(line)
        if (m === null || m[1].startsWith('.') || m[1].endsWith('.') || m[1].includes('..')) bad.push(line)
        else lines.push({ path: m[1], value: Number(m[2]), timestamp: Number(m[3]) })
        nl = partial.indexOf('\n')
      }
    })
    socket.on('end', () => {
      ended++
    })
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    lines,
    bad,
    get connections() {
      return sockets.size
    },
    get ended() {
      return ended
    },
    /** Stops listening and drops every connection, as a Graphite that goes away. */
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

const FIXED_NOW = 1_700_000_000_999 // wall clock for the timestamps: 1700000000 s

// ---------------------------------------------------------------------------------------------
// Graphite

test('graphite: path segments are sanitised; labels become name.value pairs sorted by name', () => {
  assert.is(graphiteSegment('my.topic name/x'), 'my_topic_name_x')
  assert.is(graphiteSegment(''), '_')
  assert.is(graphitePath('.kafka..mirror. host1.'), 'kafka.mirror._host1')
  assert.is(
    graphiteMetricPath('pre.fix', 'consumer.lag', { topic: 'a.b c', partition: '3' }),
    'pre.fix.consumer.lag.partition.3.topic.a_b_c',
  )
  assert.is(graphiteMetricPath('', 'weird name.x', {}), 'weird_name.x')
})

test('graphite: a report carries every metric with go-metrics field names, the chosen percentiles and the prefix', async () => {
  const server = await graphiteServer()
  const { reg } = sampleRegistry()
  const reporter = new GraphiteReporter({
    registry: reg,
    host: '127.0.0.1',
    port: server.port,
    prefix: 'test.kw',
    intervalMs: 3_600_000,
    percentiles: [0.99, 0.5],
    now: () => FIXED_NOW,
  })
  try {
    reporter.start()
    await waitFor('connection', () => reporter.connected)
    reporter.report()
    const snap = reg.snapshot()
    const expected = new Map<string, number>()
    const put = (path: string, value: number) => expected.set(path, value)
    for (const s of Object.values(snap)) {
      const base = graphiteMetricPath('test.kw', s.name, s.labels)
      if (s.type === 'counter') put(`${base}.count`, s.count)
      else if (s.type === 'gauge') {
        if (s.value !== null) put(`${base}.value`, s.value)
      } else if (s.type === 'meter') {
        put(`${base}.count`, s.count)
        put(`${base}.one-minute`, s.rate1)
        put(`${base}.five-minute`, s.rate5)
        put(`${base}.fifteen-minute`, s.rate15)
        put(`${base}.mean`, s.rateMean)
      } else {
        put(`${base}.count`, s.count)
        put(`${base}.min`, s.min)
        put(`${base}.max`, s.max)
        put(`${base}.mean`, s.mean)
        put(`${base}.std-dev`, s.stddev)
        put(`${base}.50-percentile`, s.p50)
        put(`${base}.99-percentile`, s.p99)
        if (s.type === 'timer') {
          put(`${base}.one-minute`, s.rate1)
          put(`${base}.five-minute`, s.rate5)
          put(`${base}.fifteen-minute`, s.rate15)
          put(`${base}.mean-rate`, s.rateMean)
        }
      }
    }
    await waitFor('the report', () => server.lines.length >= expected.size)
    await new Promise((r) => setTimeout(r, 50)) // nothing more should come
    assert.equal(server.bad, [])
    assert.is(server.lines.length, expected.size)
    const got = new Map(server.lines.map((l) => [l.path, l.value]))
    assert.equal(got, expected)
    for (const l of server.lines) assert.is(l.timestamp, 1_700_000_000)
    // spot checks written out by hand, independent of the mapping above
    assert.is(got.get('test.kw.producer.retries.count'), 7)
    assert.is(got.get('test.kw.producer.messages.sent.topic.orders.count'), 105)
    assert.is(got.get('test.kw.consumer.lag.partition.3.topic.my_topic_name.value'), 42)
    assert.is(got.get('test.kw.producer.batch.bytes.max'), 300)
    assert.is(got.get('test.kw.producer.request.latency.max'), 25)
    assert.ok((got.get('test.kw.producer.messages.sent.topic.orders.one-minute') ?? 0) > 0)
    assert.not.ok([...got.keys()].some((p) => p.includes('75-percentile') || p.includes('999-percentile')))
    assert.not.ok([...got.keys()].some((p) => p.includes('broken')))
    assert.is(reporter.stats.linesSent, expected.size)
    assert.is(reporter.stats.linesDropped, 0)
  } finally {
    await reporter.stop()
    await server.close()
  }
})

test('graphite: reports on the interval, with the values of the moment', async () => {
  const server = await graphiteServer()
  const reg = new MetricsRegistry()
  const counter = reg.counter('ticks')
  const reporter = new GraphiteReporter({ registry: reg, host: '127.0.0.1', port: server.port, intervalMs: 100 })
  try {
    reporter.start()
    const seen = () => server.lines.filter((l) => l.path === 'ticks.count').map((l) => l.value)
    await waitFor('first report', () => seen().length >= 1)
    counter.inc(5)
    await waitFor('a report with the new value', () => seen().includes(5))
    assert.ok(seen().length >= 2)
    // timestamps are the wall clock, in seconds
    const nowS = Date.now() / 1000
    for (const l of server.lines) assert.ok(Math.abs(l.timestamp - nowS) < 60, `timestamp ${l.timestamp}`)
  } finally {
    await reporter.stop()
    await server.close()
  }
})

test('graphite: reconnects after the listener restarts and sends the reports held meanwhile, in order', async () => {
  let server = await graphiteServer()
  const port = server.port
  const reg = new MetricsRegistry()
  const counter = reg.counter('events')
  const errors: Error[] = []
  const reporter = new GraphiteReporter({
    registry: reg,
    host: '127.0.0.1',
    port,
    intervalMs: 3_600_000,
    reconnect: { baseMs: 20, maxMs: 100 },
    onError: (e) => errors.push(e),
  })
  try {
    reporter.start()
    await waitFor('connection', () => reporter.connected)
    counter.inc(1)
    reporter.report()
    await waitFor('first value', () => server.lines.some((l) => l.value === 1))

    await server.close() // Graphite goes away
    await waitFor('the reporter to notice', () => !reporter.connected)
    await new Promise((r) => setTimeout(r, 150)) // a few refused reconnection attempts
    counter.inc(1)
    reporter.report() // 2, held
    counter.inc(1)
    reporter.report() // 3, held
    assert.ok(reporter.bufferedBytes > 0)
    assert.ok(errors.length >= 1, 'connection errors reach onError')

    server = await graphiteServer(port) // back on the same port
    await waitFor('reconnection and the held reports', () => server.lines.length >= 2)
    assert.equal(
      server.lines.map((l) => [l.path, l.value]),
      [
        ['events.count', 2],
        ['events.count', 3],
      ],
    )
    assert.is(reporter.bufferedBytes, 0)
    assert.is(reporter.stats.connects, 2)
    assert.is(reporter.stats.linesDropped, 0)
    counter.inc(1)
    reporter.report()
    await waitFor('a report on the new connection', () => server.lines.some((l) => l.value === 4))
  } finally {
    await reporter.stop()
    await server.close()
  }
})

test('graphite: while unreachable, memory stays within maxBufferedBytes; the oldest reports are dropped and counted', async () => {
  const port = await deadPort()
  const reg = new MetricsRegistry()
  for (let i = 0; i < 10; i++) reg.counter(`c${i}`).inc(i)
  const errors: Error[] = []
  const probe = new GraphiteReporter({ registry: reg, port, now: () => FIXED_NOW })
  const { text, lines } = probe.render()
  const reportBytes = Buffer.byteLength(text)
  assert.is(lines, 10)
  const reporter = new GraphiteReporter({
    registry: reg,
    host: '127.0.0.1',
    port,
    intervalMs: 3_600_000,
    maxBufferedBytes: Math.floor(reportBytes * 2.5), // room for two reports
    reconnect: { baseMs: 10, maxMs: 50 },
    stopTimeoutMs: 2000,
    now: () => FIXED_NOW,
    onError: (e) => errors.push(e),
  })
  reporter.start()
  for (let i = 0; i < 10; i++) reporter.report()
  assert.is(reporter.bufferedBytes, reportBytes * 2)
  assert.is(reporter.stats.linesDropped, 8 * lines)
  await waitFor('a refused connection', () => errors.length >= 2)
  assert.ok(errors.some((e) => (e as NodeJS.ErrnoException).code === 'ECONNREFUSED'))
  assert.is(reporter.connected, false)
  await reporter.stop() // one more attempt, refused: everything held is dropped
  assert.is(reporter.bufferedBytes, 0)
  assert.is(reporter.stats.linesDropped, 11 * lines) // 10 reports and the last one from stop()
  assert.is(reporter.stats.linesSent, 0)
  assert.is(reporter.stats.reports, 11)
})

test('graphite: a connected server that stops reading makes reports drop instead of piling up in the socket', async () => {
  const sockets: Socket[] = []
  const server = createServer((s) => {
    s.pause() // never reads
    sockets.push(s)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const reg = new MetricsRegistry()
  for (let i = 0; i < 2000; i++) reg.counter(`stalled.metric.number.${i}`).inc(i)
  const reporter = new GraphiteReporter({
    registry: reg,
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    intervalMs: 3_600_000,
    maxBufferedBytes: 256 * 1024,
    stopTimeoutMs: 200,
  })
  try {
    reporter.start()
    await waitFor('connection', () => reporter.connected)
    const perReport = reporter.render().lines
    for (let i = 0; i < 200; i++) reporter.report() // ~20 MB: more than the kernel's socket buffers take
    const { linesSent, linesDropped } = reporter.stats
    assert.is(linesSent + linesDropped, 200 * perReport)
    assert.ok(linesDropped > 0, 'some reports dropped')
    assert.ok(linesSent > 0, 'the first ones went out')
    assert.is(reporter.bufferedBytes, 0)
  } finally {
    await reporter.stop() // cannot deliver to a server that does not read: gives up after stopTimeoutMs
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => server.close(() => r()))
  }
})

test('graphite: a report larger than maxBufferedBytes is dropped, never held', async () => {
  const port = await deadPort()
  const reg = new MetricsRegistry()
  reg.counter('a.long.metric.name.to.make.a.big.line').inc()
  const reporter = new GraphiteReporter({ registry: reg, port, maxBufferedBytes: 10, stopTimeoutMs: 0 })
  reporter.report()
  assert.is(reporter.bufferedBytes, 0)
  assert.is(reporter.stats.linesDropped, 1)
  await reporter.stop() // never started: nothing to do
})

test('graphite: stop() sends a last report and closes the connection', async () => {
  const server = await graphiteServer()
  const reg = new MetricsRegistry()
  const counter = reg.counter('final')
  const reporter = new GraphiteReporter({ registry: reg, host: '127.0.0.1', port: server.port, intervalMs: 3_600_000 })
  try {
    reporter.start()
    await waitFor('connection', () => reporter.connected)
    counter.inc(99)
    await reporter.stop()
    await waitFor('the last report', () => server.lines.length === 1)
    assert.equal(server.lines[0].path, 'final.count')
    assert.is(server.lines[0].value, 99)
    await waitFor('the end of the connection', () => server.ended === 1)
    assert.is(reporter.connected, false)
    assert.throws(
      () => reporter.start(),
      (e: unknown) => e instanceof ConfigError,
    )
    await reporter.stop() // again: a no-op
  } finally {
    await server.close()
  }
})

test('graphite: stop() while still disconnected connects once to deliver the held reports', async () => {
  const port = await deadPort()
  const reg = new MetricsRegistry()
  reg.counter('late').inc(3)
  const reporter = new GraphiteReporter({
    registry: reg,
    host: '127.0.0.1',
    port,
    intervalMs: 3_600_000,
    reconnect: { baseMs: 60_000, maxMs: 60_000 }, // no retry before stop
  })
  reporter.start()
  reporter.report()
  await waitFor('the refused first attempt', () => reporter.stats.errors === 1)
  const server = await graphiteServer(port)
  try {
    await reporter.stop()
    await waitFor('both reports', () => server.lines.length === 2)
    assert.equal(
      server.lines.map((l) => l.value),
      [3, 3],
    )
    assert.is(reporter.stats.linesDropped, 0)
  } finally {
    await server.close()
  }
})

test('graphite: bad options are ConfigErrors', () => {
  const reg = new MetricsRegistry()
  const bad = (o: object) =>
    assert.throws(
      () => new GraphiteReporter({ registry: reg, ...o }),
      (e: unknown) => e instanceof ConfigError,
    )
  bad({ port: 0 })
  bad({ port: 70000 })
  bad({ intervalMs: -1 })
  bad({ percentiles: [0.9] })
  bad({ maxBufferedBytes: 0 })
  bad({ reconnect: { baseMs: 100, maxMs: 10 } })
  bad({ host: '' })
  bad({ registry: [] })
})

// ---------------------------------------------------------------------------------------------
// Prometheus: a small independent parser of the text format 0.0.4

interface ParsedSample {
  name: string
  labels: Record<string, string>
  value: number
}

interface Parsed {
  types: Map<string, string>
  helps: Map<string, string>
  samples: ParsedSample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*'
const VALUE = '(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|[-+]?Inf|NaN)'
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"'
const SAMPLE_RE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL_NAME}=${LABEL_VALUE})(?:,${LABEL_NAME}=${LABEL_VALUE})*,?)?\\})? (${VALUE})$`,
)
const LABEL_RE = new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, 'g')
const HELP_RE = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`)
const TYPE_RE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|summary|histogram|untyped)$`)

function unescapeText(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c))
}

function parseNumber(s: string): number {
  if (s.endsWith('Inf')) return s.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
  return Number(s)
}

/** Parses an exposition, asserting the syntax of every line and the grouping rules of the format. */
function parseExposition(text: string): Parsed {
  assert.ok(text === '' || text.endsWith('\n'), 'the exposition ends with a newline')
  const types = new Map<string, string>()
  const helps = new Map<string, string>()
  const samples: ParsedSample[] = []
  const seenSeries = new Set<string>()
  const closed = new Set<string>() // families whose lines are over: they must not come back
  let current: string | undefined
  const enter = (family: string) => {
    if (family === current) return
    if (current !== undefined) closed.add(current)
    assert.not.ok(closed.has(family), `family ${family} is not contiguous`)
    current = family
  }
  for (const line of text.split('\n').slice(0, -1)) {
    let m = HELP_RE.exec(line)
    if (m !== null) {
      assert.not.ok(helps.has(m[1]), `one HELP for ${m[1]}`)
      enter(m[1])
      helps.set(m[1], unescapeText(m[2]))
      continue
    }
    m = TYPE_RE.exec(line)
    if (m !== null) {
      assert.not.ok(types.has(m[1]), `one TYPE for ${m[1]}`)
      enter(m[1])
      assert.ok(!samples.some((s) => s.name === m![1]), `TYPE ${m[1]} before its samples`)
      types.set(m[1], m[2])
      continue
    }
    m = SAMPLE_RE.exec(line)
    assert.ok(m !== null, `bad line: ${JSON.stringify(line)}`)
    const [, name, labelText, value] = m!
    const labels: Record<string, string> = {}
    if (labelText !== undefined) {
      for (const lm of labelText.matchAll(LABEL_RE)) {
        assert.not.ok(lm[1] in labels, `label ${lm[1]} given twice`)
        labels[lm[1]] = unescapeText(lm[2].slice(1, -1))
      }
    }
    // the family: the name itself, or a summary's name without _sum/_count
    let family = name
    if (!types.has(name)) {
      const base = name.replace(/_(sum|count)$/, '')
      if (types.get(base) === 'summary') family = base
    }
    assert.ok(types.has(family), `sample ${name} has a TYPE line`)
    enter(family)
    if (types.get(family) === 'summary' && name === family) assert.ok('quantile' in labels, 'summary quantile label')
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    assert.not.ok(seenSeries.has(key), `series ${key} appears once`)
    seenSeries.add(key)
    samples.push({ name, labels, value: parseNumber(value) })
  }
  return { types, helps, samples }
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`
}

/** What the exposition should hold, computed from a registry snapshot independently of the renderer. */
function expectedSeries(snap: Record<string, MetricSnapshot>, quantiles = [0.5, 0.75, 0.95, 0.99, 0.999]) {
  const types = new Map<string, string>()
  const values = new Map<string, number>()
  const field = { 0.5: 'p50', 0.75: 'p75', 0.95: 'p95', 0.99: 'p99', 0.999: 'p999' } as const
  const name = (n: string) => {
    const s = n.replace(/[^a-zA-Z0-9_:]/g, '_')
    return /^[0-9]/.test(s) ? `_${s}` : s
  }
  for (const s of Object.values(snap)) {
    const base = name(s.name)
    const rates = (v: { rate1: number; rate5: number; rate15: number; rateMean: number }) => {
      for (const [suffix, value] of [
        ['rate_1m', v.rate1],
        ['rate_5m', v.rate5],
        ['rate_15m', v.rate15],
        ['rate_mean', v.rateMean],
      ] as const) {
        types.set(`${base}_${suffix}`, 'gauge')
        values.set(seriesKey(`${base}_${suffix}`, s.labels), value)
      }
    }
    switch (s.type) {
      case 'counter':
        types.set(`${base}_total`, 'counter')
        values.set(seriesKey(`${base}_total`, s.labels), s.count)
        break
      case 'gauge':
        types.set(base, 'gauge')
        if (s.value !== null) values.set(seriesKey(base, s.labels), s.value)
        break
      case 'meter':
        types.set(`${base}_total`, 'counter')
        values.set(seriesKey(`${base}_total`, s.labels), s.count)
        rates(s)
        break
      default:
        types.set(base, 'summary')
        for (const q of quantiles) {
          values.set(seriesKey(base, { ...s.labels, quantile: String(q) }), s[field[q as keyof typeof field]])
        }
        values.set(seriesKey(`${base}_sum`, s.labels), s.sum)
        values.set(seriesKey(`${base}_count`, s.labels), s.count)
        if (s.type === 'timer') rates(s)
    }
  }
  return { types, values }
}

function prometheusRegistry() {
  const { reg, clock } = sampleRegistry()
  reg.counter('weird-name.with spaces', { path: 'a "quoted" \\ back\nslash' }).inc(2)
  reg.gauge('9lives', () => 9)
  reg.gauge('consumer.lag', () => 7, { topic: 'other', partition: 0 })
  reg.counter('big').inc(2 ** 60)
  reg.histogram('empty.histogram')
  return { reg, clock }
}

test('prometheus: names are sanitised to [a-zA-Z_:][a-zA-Z0-9_:]*', () => {
  assert.is(prometheusName('producer.messages.sent'), 'producer_messages_sent')
  assert.is(prometheusName('weird-name.with spaces'), 'weird_name_with_spaces')
  assert.is(prometheusName('9lives'), '_9lives')
  assert.is(prometheusName('a:b'), 'a:b')
})

test('prometheus: the scraped exposition parses line by line and equals the registry snapshot', async () => {
  const { reg } = prometheusRegistry()
  const server = await startPrometheusServer({ registry: reg, port: 0, host: '127.0.0.1' })
  try {
    assert.is(server.url, `http://127.0.0.1:${server.port}/metrics`)
    const res = await fetch(server.url)
    assert.is(res.status, 200)
    assert.is(res.headers.get('content-type'), PROMETHEUS_CONTENT_TYPE)
    const body = await res.text()
    const parsed = parseExposition(body)
    const expected = expectedSeries(reg.snapshot())
    assert.equal(new Map([...parsed.types].sort()), new Map([...expected.types].sort()))
    const got = new Map(parsed.samples.map((s) => [seriesKey(s.name, s.labels), s.value]))
    assert.equal(new Map([...got].sort()), new Map([...expected.values].sort()))
    for (const family of parsed.types.keys()) assert.ok(parsed.helps.has(family), `HELP for ${family}`)
    // by hand, independent of expectedSeries
    assert.ok(body.includes('# TYPE producer_retries_total counter\nproducer_retries_total 7\n'))
    assert.ok(body.includes('producer_messages_sent_total{topic="orders"} 105\n'))
    assert.ok(body.includes('consumer_lag{partition="3",topic="my.topic name"} 42\n'))
    assert.ok(body.includes('weird_name_with_spaces_total{path="a \\"quoted\\" \\\\ back\\nslash"} 2\n'))
    assert.ok(body.includes('# TYPE producer_batch_bytes summary\n'))
    assert.ok(body.includes('producer_batch_bytes_count 100\n'))
    assert.ok(body.includes('producer_batch_bytes_sum 15150\n'))
    assert.ok(body.includes('big_total 1152921504606847000\n'))
    assert.ok(body.includes('_9lives 9\n'))
    assert.not.match(body, /^consumer_broken /m, 'a failing gauge has no sample')
    assert.ok(body.includes('# TYPE consumer_broken gauge\n'))
    // the same text without a server
    assert.is(renderPrometheus(reg), body)
  } finally {
    await server.close()
  }
})

test('prometheus: HEAD, other paths, other methods, a custom path and quantiles', async () => {
  const { reg } = prometheusRegistry()
  const server = await startPrometheusServer({
    registry: [reg, new MetricsRegistry()],
    port: 0,
    host: '127.0.0.1',
    path: '/prom',
    quantiles: [0.99],
    namespace: 'kafka_wire_',
    help: { 'producer.retries': 'Retried produce requests\nacross all brokers' },
  })
  try {
    const base = `http://127.0.0.1:${server.port}`
    const head = await fetch(`${base}/prom`, { method: 'HEAD' })
    assert.is(head.status, 200)
    assert.is(await head.text(), '')
    assert.is((await fetch(`${base}/metrics`)).status, 404)
    const post = await fetch(`${base}/prom`, { method: 'POST' })
    assert.is(post.status, 405)
    assert.is(post.headers.get('allow'), 'GET, HEAD')
    const body = await (await fetch(`${base}/prom?x=1`)).text()
    const parsed = parseExposition(body)
    assert.ok(parsed.types.has('kafka_wire_producer_retries_total'))
    assert.is(parsed.helps.get('kafka_wire_producer_retries_total'), 'Retried produce requests\nacross all brokers')
    assert.ok(body.includes('# HELP kafka_wire_producer_retries_total Retried produce requests\\nacross all brokers\n'))
    const quantiles = new Set(parsed.samples.filter((s) => 'quantile' in s.labels).map((s) => s.labels.quantile))
    assert.equal([...quantiles], ['0.99'])
    for (const s of parsed.samples) assert.ok(s.name.startsWith('kafka_wire_'), s.name)
  } finally {
    await server.close()
  }
  await rejects(fetch(server.url))
})

test('prometheus: metrics whose names collide after sanitising are left out, and the text stays valid', () => {
  const a = new MetricsRegistry()
  a.counter('a.b').inc(1) // a_b_total (counter)
  a.gauge('a_b_total', () => 5) // same family name, another metric: left out
  a.histogram('h').update(1) // h, h_sum, h_count
  a.gauge('h.count', () => 1) // would emit h_count: left out
  a.counter('a.b', { x: '1' }).inc(2) // same metric name and type, other labels: same family
  const b = new MetricsRegistry()
  b.counter('a.b').inc(3) // the same series again from another registry: the first one counts
  const result = renderPrometheusResult([a, b])
  assert.is(result.skipped, 2)
  const parsed = parseExposition(result.text)
  assert.equal(
    parsed.samples.filter((s) => s.name === 'a_b_total').map((s) => [s.labels, s.value]),
    [
      [{}, 1],
      [{ x: '1' }, 2],
    ],
  )
  assert.not.ok(parsed.types.has('h_count'))
})

test('prometheus: labels reserved by Prometheus are renamed, not duplicated', () => {
  const reg = new MetricsRegistry()
  reg.histogram('lat', { quantile: 'mine' }).update(4)
  reg.gauge('g', () => 1, { __name: 'x' })
  const parsed = parseExposition(renderPrometheus(reg, { quantiles: [0.5] }))
  const lat = parsed.samples.find((s) => s.name === 'lat')!
  assert.equal(lat.labels, { label_quantile: 'mine', quantile: '0.5' })
  assert.equal(parsed.samples.find((s) => s.name === 'g')!.labels, { label___name: 'x' })
})

test('prometheus: a port in use is a MetricsReporterError; bad options are ConfigErrors', async () => {
  const reg = new MetricsRegistry()
  const first = await startPrometheusServer({ registry: reg, port: 0, host: '127.0.0.1' })
  try {
    await rejects(startPrometheusServer({ registry: reg, port: first.port, host: '127.0.0.1' }), (e: unknown) => {
      return (
        e instanceof MetricsReporterError && e.code === 'ERR_METRICS_REPORTER' && /in use|EADDRINUSE/.test(e.message)
      )
    })
  } finally {
    await first.close()
  }
  await rejects(startPrometheusServer({ registry: reg, port: -1 }), (e: unknown) => e instanceof ConfigError)
  await rejects(
    startPrometheusServer({ registry: reg, port: 0, path: 'metrics' }),
    (e: unknown) => e instanceof ConfigError,
  )
  await rejects(
    startPrometheusServer({ registry: reg, port: 0, quantiles: [0.42] }),
    (e: unknown) => e instanceof ConfigError,
  )
  assert.throws(
    () => renderPrometheus(reg, { quantiles: [1] }),
    (e: unknown) => e instanceof ConfigError,
  )
})

// ---------------------------------------------------------------------------------------------
// CLI flags

function flags(argv: string[]) {
  return parseArgs({ args: argv, options: { ...METRICS_ARG_OPTIONS }, strict: true }).values
}

test('flags: --metrics.* values become reporter options', () => {
  assert.equal(metricsOptionsFromArgs(flags([])), {})
  assert.equal(
    metricsOptionsFromArgs(
      flags([
        '--metrics.graphite',
        'carbon.local:2103',
        '--metrics.prefix',
        'kafka.mirror',
        '--metrics.interval=10s',
        '--metrics.percentiles',
        '0.5,0.999',
        '--metrics.prometheus',
        '9464',
      ]),
    ),
    {
      graphite: {
        host: 'carbon.local',
        port: 2103,
        prefix: 'kafka.mirror',
        intervalMs: 10_000,
        percentiles: [0.5, 0.999],
      },
      prometheus: { port: 9464 },
    },
  )
  assert.equal(metricsOptionsFromArgs(flags(['--metrics.graphite', 'carbon'])), {
    graphite: { host: 'carbon', port: 2003 },
  })
  assert.equal(metricsOptionsFromArgs(flags(['--metrics.prometheus', '127.0.0.1:0'])), {
    prometheus: { host: '127.0.0.1', port: 0 },
  })
  assert.equal(metricsOptionsFromArgs(flags(['--metrics.prometheus', '[::1]:9100'])), {
    prometheus: { host: '::1', port: 9100 },
  })
  assert.equal(parseHostPort('[::1]', 'x', { port: 2003 }), { host: '::1', port: 2003 })
  assert.is(parseDuration('500ms', 'x'), 500)
  assert.is(parseDuration('1.5m', 'x'), 90_000)
  assert.is(parseDuration('30', 'x'), 30_000)
})

test('flags: bad values are one-line ConfigErrors naming the flag', () => {
  const bad = (argv: string[], pattern: RegExp) =>
    assert.throws(
      () => metricsOptionsFromArgs(flags(argv)),
      (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && !e.message.includes('\n'),
    )
  bad(['--metrics.prefix', 'x'], /--metrics\.prefix needs --metrics\.graphite/)
  bad(['--metrics.interval', '5s'], /--metrics\.interval needs --metrics\.graphite/)
  bad(['--metrics.graphite', 'h:99999'], /--metrics\.graphite .*port/)
  bad(['--metrics.graphite', 'h:x'], /--metrics\.graphite .*not a number/)
  bad(['--metrics.graphite', ':2003'], /--metrics\.graphite .*no host/)
  bad(['--metrics.graphite', '::1:2003'], /IPv6/)
  bad(['--metrics.graphite', 'h', '--metrics.interval', 'soon'], /--metrics\.interval/)
  bad(['--metrics.graphite', 'h', '--metrics.interval', '1ms'], /--metrics\.interval/)
  bad(['--metrics.graphite', 'h', '--metrics.percentiles', '0.5,0.9'], /--metrics\.percentiles: "0\.9"/)
  bad(['--metrics.prometheus', 'host:'], /--metrics\.prometheus .*not a number/)
})

test('flags: startMetricsReporting runs Graphite and Prometheus together; stop() ends both', async () => {
  const graphite = await graphiteServer()
  const producer = new MetricsRegistry()
  const consumer = new MetricsRegistry()
  producer.counter('producer.retries').inc(4)
  consumer.gauge('consumer.lag', () => 11, { topic: 't', partition: 0 })
  const options = metricsOptionsFromArgs(
    flags([
      '--metrics.graphite',
      `127.0.0.1:${graphite.port}`,
      '--metrics.prefix',
      'kw',
      '--metrics.interval',
      '1h',
      '--metrics.prometheus',
      '127.0.0.1:0',
    ]),
  )
  const logs: string[] = []
  const metrics = await startMetricsReporting([producer, consumer], options, { log: (l) => logs.push(l) })
  try {
    assert.ok(metrics.graphite !== undefined && metrics.prometheus !== undefined)
    const body = await (await fetch(metrics.prometheus!.url)).text()
    const parsed = parseExposition(body)
    assert.equal(
      parsed.samples.map((s) => [s.name, s.value]),
      [
        ['consumer_lag', 11],
        ['producer_retries_total', 4],
      ],
    )
    await waitFor('graphite connection', () => metrics.graphite!.connected)
  } finally {
    await metrics.stop()
    await graphite.close()
  }
  // stop() sent the last report to Graphite and closed the endpoint
  assert.equal(
    graphite.lines.map((l) => [l.path, l.value]),
    [
      ['kw.producer.retries.count', 4],
      ['kw.consumer.lag.partition.0.topic.t.value', 11],
    ],
  )
  await rejects(fetch(metrics.prometheus!.url))
  assert.equal(logs, [])
})

test('flags: an unreachable Graphite is logged once per outage, not once per retry', async () => {
  const port = await deadPort()
  const reg = new MetricsRegistry()
  reg.counter('x').inc()
  const logs: string[] = []
  const metrics = await startMetricsReporting(
    reg,
    {
      graphite: {
        host: '127.0.0.1',
        port,
        intervalMs: 3_600_000,
        reconnect: { baseMs: 10, maxMs: 20 },
        stopTimeoutMs: 500,
      },
    },
    { log: (l) => logs.push(l) },
  )
  try {
    await waitFor('several refused attempts', () => metrics.graphite!.stats.errors >= 3)
    assert.is(logs.length, 1)
    assert.match(logs[0], new RegExp(`Graphite at 127\\.0\\.0\\.1:${port} unreachable .*ECONNREFUSED`))
  } finally {
    await metrics.stop()
  }
})

test('flags: a Prometheus port in use fails the start, and Graphite is not left running', async () => {
  const reg = new MetricsRegistry()
  const taken = await startPrometheusServer({ registry: reg, port: 0, host: '127.0.0.1' })
  try {
    await rejects(
      startMetricsReporting(reg, {
        graphite: { host: '127.0.0.1', port: 2003 },
        prometheus: { host: '127.0.0.1', port: taken.port },
      }),
      (e: unknown) => e instanceof MetricsReporterError,
    )
  } finally {
    await taken.close()
  }
})

test.run()
