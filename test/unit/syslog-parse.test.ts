import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { parseSyslog, SyslogFramer, SyslogParseError } from '../../src/tools/syslog/parse.js'

const BOM = '\uFEFF'

function parseError(line: string | Buffer, includes: string): void {
  try {
    parseSyslog(line)
  } catch (err) {
    assert.instance(err, SyslogParseError)
    assert.is((err as SyslogParseError).code, 'ERR_SYSLOG_PARSE')
    assert.ok((err as Error).message.includes(includes), `"${(err as Error).message}" mentions "${includes}"`)
    return
  }
  assert.unreachable(`${JSON.stringify(String(line))} should not parse`)
}

// ---------------------------------------------------------------------------------------------- RFC 5424

test('RFC 5424 6.5 example 1: no structured data, a BOM before MSG', () => {
  const m = parseSyslog(
    `<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`,
  )
  assert.is(m.format, 'rfc5424')
  assert.is(m.priority, 34)
  assert.is(m.facility, 4)
  assert.is(m.severity, 2)
  assert.is(m.version, 1)
  assert.is(m.timestampText, '2003-10-11T22:14:15.003Z')
  assert.is(m.timestamp?.toISOString(), '2003-10-11T22:14:15.003Z')
  assert.is(m.hostname, 'mymachine.example.com')
  assert.is(m.appName, 'su')
  assert.is(m.procId, null)
  assert.is(m.msgId, 'ID47')
  assert.equal(m.structuredData, [])
  assert.is(m.bom, true)
  assert.is(m.message, "'su root' failed for lonvick on /dev/pts/8")
})

test('RFC 5424 6.5 example 2: a zone offset and microseconds, no MSGID', () => {
  const m = parseSyslog(
    "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
  )
  assert.is(m.facility, 20)
  assert.is(m.severity, 5)
  assert.is(m.timestamp?.toISOString(), '2003-08-24T12:14:15.000Z')
  assert.is(m.hostname, '192.0.2.1')
  assert.is(m.appName, 'myproc')
  assert.is(m.procId, '8710')
  assert.is(m.msgId, null)
  assert.is(m.bom, false)
  assert.is(m.message, "%% It's time to make the do-nuts.")
})

test('RFC 5424 6.5 examples 3 and 4: structured data, one or two elements, with and without MSG', () => {
  const sd = '[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]'
  const m = parseSyslog(
    `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ${sd} ${BOM}An application event log entry...`,
  )
  assert.equal(m.structuredData, [
    {
      id: 'exampleSDID@32473',
      params: [
        { name: 'iut', value: '3' },
        { name: 'eventSource', value: 'Application' },
        { name: 'eventID', value: '1011' },
      ],
    },
  ])
  assert.is(m.bom, true)
  assert.is(m.message, 'An application event log entry...')

  const two = parseSyslog(
    `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 ${sd}[examplePriority@32473 class="high"]`,
  )
  assert.is(two.structuredData.length, 2)
  assert.equal(two.structuredData[1], { id: 'examplePriority@32473', params: [{ name: 'class', value: 'high' }] })
  assert.is(two.message, '')
  assert.is(two.bom, false)
})

test('RFC 5424: escapes in PARAM-VALUE, UTF-8 values, an element without params', () => {
  const m = parseSyslog(
    '<13>1 2024-02-29T23:59:60Z h a p m [x@1 q="say \\"hi\\"" b="C:\\\\dir" c="a\\]b" d="keep\\n" u="héllo ✓"][y@2] msg',
  )
  assert.equal(m.structuredData[0].params, [
    { name: 'q', value: 'say "hi"' },
    { name: 'b', value: 'C:\\dir' },
    { name: 'c', value: 'a]b' },
    { name: 'd', value: 'keep\\n' },
    { name: 'u', value: 'héllo ✓' },
  ])
  assert.equal(m.structuredData[1], { id: 'y@2', params: [] })
  assert.is(m.message, 'msg')
  assert.is(m.timestamp?.toISOString(), '2024-03-01T00:00:00.000Z') // a leap second, as Date can hold it
})

test('RFC 5424: every field NILVALUE', () => {
  const m = parseSyslog('<0>1 - - - - - -')
  assert.is(m.priority, 0)
  assert.is(m.timestampText, null)
  assert.is(m.timestamp, null)
  assert.is(m.hostname, null)
  assert.is(m.appName, null)
  assert.is(m.procId, null)
  assert.is(m.msgId, null)
  assert.equal(m.structuredData, [])
  assert.is(m.message, '')
  assert.is(parseSyslog('<191>1 - - - - - - ').message, '')
})

test('RFC 5424: what logger(1) sends, from a Buffer with UTF-8, CRLF stripped', () => {
  const line = Buffer.from(
    '<13>1 2026-11-22T05:47:46.376354+00:00 vm myapp - ID1 [timeQuality tzKnown="1" isSynced="0"][ex@32473 a="b\\"c"] héllo 5424\r\n',
  )
  const m = parseSyslog(line)
  assert.is(m.appName, 'myapp')
  assert.is(m.structuredData[1].params[0].value, 'b"c')
  assert.is(m.message, 'héllo 5424')
  assert.is(m.timestamp?.toISOString(), '2026-11-22T05:47:46.376Z')
})

test('RFC 5424: broken headers are parse errors', () => {
  parseError('<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su', 'header ends')
  parseError('<34>1 2003-10-11T22:14:15.003Z host app proc msgid', 'header ends in MSGID')
  parseError('<34>1 2003-13-11T22:14:15.003Z h a p m -', 'TIMESTAMP')
  parseError('<34>1 2003-02-30T22:14:15Z h a p m -', 'TIMESTAMP')
  parseError('<34>1 2003-10-11 22:14:15 h a p m -', 'TIMESTAMP')
  parseError('<34>1 2003-10-11T22:14:15.0000001Z h a p m -', 'TIMESTAMP')
  parseError('<34>1 -  h a p m -', 'empty')
  parseError(`<34>1 - h ${'a'.repeat(49)} p m -`, 'APP-NAME is longer than 48')
  parseError(`<34>1 - h a p ${'m'.repeat(33)} -`, 'MSGID is longer than 32')
  parseError('<34>1 - hé a p m -', 'printable US-ASCII')
  parseError('<34>1 - h a p m x', 'STRUCTURED-DATA')
  parseError('<34>1 - h a p m [x a="b', 'closing quote')
  parseError('<34>1 - h a p m [x a="b"', 'not closed')
  parseError('<34>1 - h a p m [x a="b" ', 'PARAM-NAME is empty')
  parseError('<34>1 - h a p m [x a="b]"] m', 'unescaped "]"')
  parseError('<34>1 - h a p m [x a=b]', 'name="value"')
  parseError('<34>1 - h a p m [] m', 'SD-ID is empty')
  parseError('<34>1 - h a p m -msg', 'not followed by a space')
})

// ---------------------------------------------------------------------------------------------- RFC 3164

const OCT_12_2003 = Date.UTC(2003, 9, 12)

test('RFC 3164 5.4 example 1: timestamp, hostname, TAG', () => {
  const m = parseSyslog("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", {
    now: OCT_12_2003,
    utc: true,
  })
  assert.is(m.format, 'rfc3164')
  assert.is(m.facility, 4)
  assert.is(m.severity, 2)
  assert.is(m.version, null)
  assert.is(m.timestampText, 'Oct 11 22:14:15')
  assert.is(m.timestamp?.toISOString(), '2003-10-11T22:14:15.000Z')
  assert.is(m.hostname, 'mymachine')
  assert.is(m.appName, 'su')
  assert.is(m.procId, null)
  assert.is(m.message, "'su root' failed for lonvick on /dev/pts/8")
})

test('RFC 3164 5.4 example 2: a space-padded day, an IP address as hostname, no TAG', () => {
  const m = parseSyslog('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!', { now: Date.UTC(2003, 1, 6), utc: true })
  assert.is(m.timestamp?.toISOString(), '2003-02-05T17:32:18.000Z')
  assert.is(m.hostname, '10.0.0.99')
  assert.is(m.appName, null)
  assert.is(m.message, 'Use the BFG!')
})

test('RFC 3164 5.4 examples 3 and 4: relayed lines that are not quite BSD format still parse', () => {
  const m = parseSyslog(
    "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jated=Yes, Sprinkles=Yes, Frosting=Yes%",
  )
  assert.is(m.format, 'rfc3164')
  assert.is(m.facility, 20)
  assert.is(m.timestampText, 'Aug 24 05:34:00')
  assert.ok(m.message.includes('do-nuts'))
  // A 4-digit year first: no BSD timestamp, the rest is content (RFC 3164 4.3.2).
  const old = parseSyslog("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!")
  assert.is(old.format, 'rfc3164')
  assert.is(old.priority, 0)
  assert.is(old.timestamp, null)
  assert.is(old.hostname, null)
  assert.is(old.message, "1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!")
})

test('RFC 3164: a TAG with a pid and no hostname (local senders), and what logger(1) sends', () => {
  const m = parseSyslog('<78>Oct 11 22:14:15 cron[123]: job done')
  assert.is(m.hostname, null)
  assert.is(m.appName, 'cron')
  assert.is(m.procId, '123')
  assert.is(m.message, 'job done')
  const l = parseSyslog('<13>Nov 22 05:47:46 vm myapp: hello 3164\n')
  assert.is(l.hostname, 'vm')
  assert.is(l.appName, 'myapp')
  assert.is(l.message, 'hello 3164')
})

test('RFC 3164: the year nearest to now (Dec 31 received on Jan 1), local time by default', () => {
  const m = parseSyslog('<13>Dec 31 23:59:59 h t: x', { now: Date.UTC(2024, 0, 1, 0, 0, 10), utc: true })
  assert.is(m.timestamp?.toISOString(), '2023-12-31T23:59:59.000Z')
  const local = parseSyslog('<13>Jun  1 12:00:00 h t: x', { now: new Date(2024, 5, 1, 12, 0, 5).getTime() })
  assert.is(local.timestamp?.getTime(), new Date(2024, 5, 1, 12, 0, 0).getTime())
})

test('RFC 3164 with an RFC 3339 timestamp (rsyslog, syslog-ng), a BOM, a PRI-only line', () => {
  const m = parseSyslog(`<13>2024-01-02T03:04:05.123+01:00 host app[7]: ${BOM}text`)
  assert.is(m.timestamp?.toISOString(), '2024-01-02T02:04:05.123Z')
  assert.is(m.hostname, 'host')
  assert.is(m.appName, 'app')
  assert.is(m.procId, '7')
  assert.is(m.bom, true)
  assert.is(m.message, 'text')
  assert.is(parseSyslog('<13>').message, '')
})

test('garbage: no PRI, a bad PRI, an empty line', () => {
  parseError('', 'empty line')
  parseError('\r\n', 'empty line')
  parseError('hello world', 'no <PRI>')
  parseError(' <13>Oct 11 22:14:15 h t: x', 'no <PRI>')
  parseError('<>1 - - - - - -', 'PRI')
  parseError('<13 hello', 'PRI')
  parseError('<1234>hello', 'PRI')
  parseError('<192>1 - - - - - -', 'PRI 192')
  parseError('<013>hello', 'leading zeros')
  parseError(Buffer.from([0xff, 0xfe, 0x00, 0x01]), 'no <PRI>')
})

// ---------------------------------------------------------------------------------------------- framing

function frames(chunks: Buffer[], max?: number): { frames: string[]; errors: string[] } {
  const framer = new SyslogFramer(max === undefined ? {} : { maxFrameBytes: max })
  const out: string[] = []
  const errors: string[] = []
  const onFrame = (f: Buffer) => out.push(f.toString('utf8'))
  const onError = (e: SyslogParseError) => errors.push(e.message)
  for (const c of chunks) framer.push(c, onFrame, onError)
  framer.end(onFrame, onError)
  return { frames: out, errors }
}

function octet(msg: string): string {
  return `${Buffer.byteLength(msg)} ${msg}`
}

test('newline framing: LF, CRLF, NUL trailers, blank lines skipped, a last line without LF', () => {
  const r = frames([Buffer.from('<13>a\n<13>b\r\n\n\r\n<13>c\0\n<13>d')])
  assert.equal(r.frames, ['<13>a', '<13>b', '<13>c', '<13>d'])
  assert.equal(r.errors, [])
})

test('octet counting (RFC 6587 3.4.1): frames back to back, LF inside a MSG, mixed with newline frames', () => {
  const msgs = [
    '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFFé',
    '<13>Oct 11 22:14:15 h t: two\nlines',
    '<165>1 2003-10-11T22:14:15.003Z h evntslog - ID47 [exampleSDID@32473 iut="3"]',
  ]
  const stream = Buffer.from(`${msgs.map(octet).join('')}<13>newline framed\n${octet('<13>x')}\n${octet('<13>y')}`)
  const expected = [...msgs, '<13>newline framed', '<13>x', '<13>y']
  assert.equal(frames([stream]).frames, expected)
  // Split at every position, and byte by byte: the same frames.
  for (let at = 0; at <= stream.length; at++) {
    const r = frames([stream.subarray(0, at), stream.subarray(at)])
    assert.equal(r.frames, expected, `split at ${at}`)
    assert.equal(r.errors, [])
  }
  const bytes = [...stream].map((b) => Buffer.from([b]))
  assert.equal(frames(bytes).frames, expected)
  // Three pieces, everywhere (a split inside MSG-LEN and inside the MSG at once).
  for (let a = 0; a < stream.length; a += 7) {
    for (let b = a; b < stream.length; b += 11) {
      assert.equal(frames([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]).frames, expected)
    }
  }
})

test('framing limits: a long line is cut off, an oversized octet count is cut off, the next frame is intact', () => {
  const long = `<13>${'x'.repeat(100)}`
  const r = frames([Buffer.from(`${long}\n<13>ok\n`)], 64)
  assert.equal(r.frames, [long.slice(0, 64), '<13>ok'])
  assert.is(r.errors.length, 1)
  assert.ok(r.errors[0].includes('longer than 64'))
  // Across chunks too.
  const split = frames([Buffer.from(long.slice(0, 30)), Buffer.from(`${long.slice(30)}\n<13>ok`)], 64)
  assert.equal(split.frames, [long.slice(0, 64), '<13>ok'])
  const oc = frames([Buffer.from(`${octet(long)}${octet('<13>next')}`)], 64)
  assert.equal(oc.frames, [long.slice(0, 64), '<13>next'])
  assert.ok(oc.errors[0].includes('over 64'))
})

test('framing errors: a bad octet count skips its line; a connection ending inside a frame', () => {
  const r = frames([Buffer.from('12x junk\n<13>ok\n1234567890123 more\n<13>after\n')])
  assert.equal(r.frames, ['<13>ok', '<13>after'])
  assert.is(r.errors.length, 2)
  assert.ok(r.errors[0].includes('bad octet count'))
  const cut = frames([Buffer.from('20 <13>short')])
  assert.equal(cut.frames, [])
  assert.ok(cut.errors[0].includes('inside an octet-counted frame'))
})

test('frames are copies: they do not keep the chunk alive', () => {
  const framer = new SyslogFramer()
  const chunk = Buffer.from('<13>a\n<13>b\n')
  const got: Buffer[] = []
  framer.push(
    chunk,
    (f) => got.push(f),
    () => {},
  )
  chunk.fill(0)
  assert.equal(
    got.map((f) => f.toString()),
    ['<13>a', '<13>b'],
  )
  assert.is(framer.pendingBytes, 0)
})

test.run()
