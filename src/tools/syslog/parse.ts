// Syslog messages: RFC 5424 (strict) and RFC 3164 (BSD syslog, lenient as its section 4.3 asks of a relay),
// and the framing of syslog over TCP (RFC 6587): octet counting (`MSG-LEN SP SYSLOG-MSG`) and newline
// ("non-transparent") framing, told apart frame by frame.
//
// What counts as a parse error: no `<PRI>` (or a PRI outside 0..191) at the start of the line, an RFC 5424
// header (`<PRI>VERSION SP ...`) that breaks its grammar (timestamp, field lengths, structured data), and an
// empty line. A line with a valid PRI that is not RFC 5424 is RFC 3164: its timestamp and hostname are taken
// when present, and otherwise the rest of the line is the message (RFC 3164 4.3.2/4.3.3).
import { KafkaWireError } from '../../protocol/errors.js'

/** A line that is neither RFC 5424 nor RFC 3164, or a frame that breaks RFC 6587 framing. */
export class SyslogParseError extends KafkaWireError {
  constructor(message: string) {
    super('ERR_SYSLOG_PARSE', message)
  }
}

export interface SdParam {
  name: string
  value: string
}

export interface SdElement {
  id: string
  params: SdParam[]
}

export interface SyslogMessage {
  format: 'rfc5424' | 'rfc3164'
  /** PRI: facility * 8 + severity. */
  priority: number
  facility: number
  severity: number
  /** RFC 5424's VERSION (1); null for RFC 3164. */
  version: number | null
  /** The timestamp as written; null when NILVALUE (RFC 5424) or absent (RFC 3164). */
  timestampText: string | null
  /** The timestamp as a Date; null when absent. RFC 3164 has no year nor zone: see `ParseOptions`. */
  timestamp: Date | null
  hostname: string | null
  /** APP-NAME, or RFC 3164's TAG. */
  appName: string | null
  /** PROCID, or the pid in brackets after RFC 3164's TAG. */
  procId: string | null
  msgId: string | null
  /** RFC 5424's STRUCTURED-DATA, in order; empty when NILVALUE. */
  structuredData: SdElement[]
  /** MSG, without the BOM; '' when absent. */
  message: string
  /** The MSG began with a UTF-8 BOM (RFC 5424 MSG-UTF8). */
  bom: boolean
}

export interface ParseOptions {
  /**
   * Now, in ms since the epoch, for RFC 3164 timestamps (which carry no year): the year is the one that puts
   * the timestamp nearest to now (Dec 31 received on Jan 1 is last year's). Default Date.now().
   */
  now?: number
  /** RFC 3164 timestamps are local time of this machine (default), or UTC. */
  utc?: boolean
}

const NIL = '-'
const BOM = '\uFEFF'
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
// FULL-DATE "T" FULL-TIME (RFC 5424 6.2.3, RFC 3339 with at most 6 fraction digits and an upper-case T and Z).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/
// Mmm dd hh:mm:ss, dd space-padded ("Feb  5"); one space is taken too.
const BSD_TIME = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?= |$)/
const TAG = /^([^\s:[\]]{1,48})(?:\[([^\]\s]{0,128})\])?:(?: |$)/

function fail(message: string): never {
  throw new SyslogParseError(message)
}

/** Parses one syslog message (one frame: no octet count, no trailing newline). Throws SyslogParseError. */
export function parseSyslog(input: string | Buffer, options: ParseOptions = {}): SyslogMessage {
  let line = typeof input === 'string' ? input : input.toString('utf8')
  // Trailers a sender may leave on a frame (CR of CRLF, NUL of some relays).
  let end = line.length
  while (
    end > 0 &&
    (line.charCodeAt(end - 1) === 10 || line.charCodeAt(end - 1) === 13 || line.charCodeAt(end - 1) === 0)
  )
    end--
  if (end !== line.length) line = line.slice(0, end)
  if (line.length === 0) fail('empty line')
  if (line.charCodeAt(0) !== 60 /* < */) fail('no <PRI> at the start of the line')
  let i = 1
  let priority = 0
  while (i < line.length && i <= 4) {
    const c = line.charCodeAt(i)
    if (c < 48 || c > 57) break
    priority = priority * 10 + (c - 48)
    i++
  }
  const digits = i - 1
  if (digits === 0 || line.charCodeAt(i) !== 62 /* > */) fail('the <PRI> is not 1 to 3 digits in angle brackets')
  if (digits > 3 || priority > 191 || (digits > 1 && line.charCodeAt(1) === 48))
    fail(`PRI ${line.slice(1, i)} is not 0..191 without leading zeros`)
  i++
  // RFC 5424: VERSION (a non-zero digit and at most two more) then SP.
  let j = i
  while (j < line.length && j - i < 4 && line.charCodeAt(j) >= 48 && line.charCodeAt(j) <= 57) j++
  if (j > i && j - i <= 3 && line.charCodeAt(i) !== 48 && line.charCodeAt(j) === 32) {
    return parse5424(line, priority, Number(line.slice(i, j)), j + 1)
  }
  return parse3164(line, priority, i, options)
}

/**
 * The next header field of an RFC 5424 message: 1 to `max` printable US-ASCII characters, then SP (every
 * header field is followed by one: STRUCTURED-DATA is not optional). Returns the value (null for NILVALUE)
 * and where the next field starts.
 */
function field(line: string, cursor: { pos: number }, name: string, max: number): string | null {
  const at = cursor.pos
  const sp = line.indexOf(' ', at)
  if (sp === -1) fail(`RFC 5424 header ends in ${name}`)
  if (sp === at) fail(`RFC 5424 ${name} is empty (two spaces in the header?)`)
  if (sp - at > max) fail(`RFC 5424 ${name} is longer than ${max} characters`)
  for (let k = at; k < sp; k++) {
    const c = line.charCodeAt(k)
    if (c < 33 || c > 126) fail(`RFC 5424 ${name} holds a character outside printable US-ASCII`)
  }
  cursor.pos = sp + 1
  const text = line.slice(at, sp)
  return text === NIL ? null : text
}

function parse5424(line: string, priority: number, version: number, at: number): SyslogMessage {
  const cursor = { pos: at }
  const timestampText = field(line, cursor, 'TIMESTAMP', 32)
  let timestamp: Date | null = null
  if (timestampText !== null) {
    timestamp = parseRfc3339(timestampText)
    if (timestamp === null) fail(`RFC 5424 TIMESTAMP ${JSON.stringify(timestampText)} is not RFC 3339`)
  }
  const hostname = field(line, cursor, 'HOSTNAME', 255)
  const appName = field(line, cursor, 'APP-NAME', 48)
  const procId = field(line, cursor, 'PROCID', 128)
  const msgId = field(line, cursor, 'MSGID', 32)
  let pos = cursor.pos
  const structuredData: SdElement[] = []
  if (line.charCodeAt(pos) === 45 /* - */) {
    pos++
  } else if (line.charCodeAt(pos) === 91 /* [ */) {
    pos = parseStructuredData(line, pos, structuredData)
  } else {
    fail('RFC 5424 STRUCTURED-DATA is neither "-" nor [elements]')
  }
  let message = ''
  if (pos < line.length) {
    if (line.charCodeAt(pos) !== 32) fail('RFC 5424 STRUCTURED-DATA is not followed by a space')
    message = line.slice(pos + 1)
  }
  const bom = message.startsWith(BOM)
  if (bom) message = message.slice(1)
  return {
    format: 'rfc5424',
    priority,
    facility: priority >> 3,
    severity: priority & 7,
    version,
    timestampText,
    timestamp,
    hostname,
    appName,
    procId,
    msgId,
    structuredData,
    message,
    bom,
  }
}

/** SD-NAME: 1 to 32 printable US-ASCII characters except '=', SP, ']' and '"'. Returns where it ends. */
function sdName(line: string, at: number, what: string): number {
  let k = at
  while (k < line.length) {
    const c = line.charCodeAt(k)
    if (c < 33 || c > 126 || c === 61 || c === 93 || c === 34) break
    k++
  }
  if (k === at) fail(`RFC 5424 ${what} is empty`)
  if (k - at > 32) fail(`RFC 5424 ${what} is longer than 32 characters`)
  return k
}

function parseStructuredData(line: string, at: number, out: SdElement[]): number {
  let pos = at
  while (line.charCodeAt(pos) === 91 /* [ */) {
    const idEnd = sdName(line, pos + 1, 'SD-ID')
    const element: SdElement = { id: line.slice(pos + 1, idEnd), params: [] }
    pos = idEnd
    for (;;) {
      const c = line.charCodeAt(pos)
      if (c === 93 /* ] */) {
        pos++
        break
      }
      if (c !== 32) fail(`RFC 5424 SD-ELEMENT [${element.id} is not closed`)
      const nameEnd = sdName(line, pos + 1, 'PARAM-NAME')
      const name = line.slice(pos + 1, nameEnd)
      if (line.charCodeAt(nameEnd) !== 61 || line.charCodeAt(nameEnd + 1) !== 34)
        fail(`RFC 5424 SD-PARAM ${name} is not name="value"`)
      // PARAM-VALUE: '"', '\' and ']' are escaped with '\'; a backslash before anything else stays as it is.
      let value = ''
      let k = nameEnd + 2
      let from = k
      for (;;) {
        if (k >= line.length) fail(`RFC 5424 SD-PARAM ${name} has no closing quote`)
        const v = line.charCodeAt(k)
        if (v === 34) break
        if (v === 92 /* \ */ && k + 1 < line.length) {
          const n = line.charCodeAt(k + 1)
          if (n === 34 || n === 92 || n === 93) {
            value += line.slice(from, k)
            from = k + 1
            k += 2
            continue
          }
        }
        if (v === 93) fail(`RFC 5424 SD-PARAM ${name} holds an unescaped "]"`)
        k++
      }
      value += line.slice(from, k)
      element.params.push({ name, value })
      pos = k + 1
    }
    out.push(element)
  }
  return pos
}

/** An RFC 3339 timestamp as RFC 5424 allows it, or null. */
export function parseRfc3339(text: string): Date | null {
  const m = RFC3339.exec(text)
  if (m === null) return null
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return null
  if (new Date(Date.UTC(Number(y), month - 1, day)).getUTCDate() !== day) return null // Feb 30th and the like
  // A leap second (:60) becomes the first second of the next minute.
  let ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s))
  if (frac !== undefined) ms += Math.floor(Number(frac) * 1000)
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1
    const zh = Number(zone.slice(1, 3))
    const zm = Number(zone.slice(4, 6))
    if (zh > 23 || zm > 59) return null
    ms -= sign * (zh * 60 + zm) * 60_000
  }
  return new Date(ms)
}

function parse3164(line: string, priority: number, at: number, options: ParseOptions): SyslogMessage {
  let pos = at
  let timestampText: string | null = null
  let timestamp: Date | null = null
  let hostname: string | null = null
  const rest = line.slice(pos)
  const bsd = BSD_TIME.exec(rest)
  if (bsd !== null) {
    const month = MONTHS.indexOf(bsd[1])
    const day = Number(bsd[2])
    if (month !== -1 && day >= 1 && day <= 31 && Number(bsd[3]) < 24 && Number(bsd[4]) < 60 && Number(bsd[5]) < 61) {
      timestampText = bsd[0]
      timestamp = bsdDate(month, day, Number(bsd[3]), Number(bsd[4]), Number(bsd[5]), options)
    }
  } else {
    // Many relays (rsyslog, syslog-ng) write an RFC 3339 timestamp in an otherwise BSD line.
    const sp = rest.indexOf(' ')
    const candidate = sp === -1 ? rest : rest.slice(0, sp)
    const date = candidate.length >= 20 ? parseRfc3339(candidate) : null
    if (date !== null) {
      timestampText = candidate
      timestamp = date
    }
  }
  if (timestampText !== null) {
    pos += timestampText.length
    if (line.charCodeAt(pos) === 32) pos++
    // HOSTNAME, unless the next word is already the TAG ("su:" or "cron[12]:"), as local senders write.
    const sp = line.indexOf(' ', pos)
    const word = line.slice(pos, sp === -1 ? line.length : sp)
    if (word.length > 0 && !TAG.test(`${word} `) && sp !== -1) {
      hostname = word
      pos = sp + 1
    }
  }
  let appName: string | null = null
  let procId: string | null = null
  let message = line.slice(pos)
  const tag = TAG.exec(message)
  if (tag !== null) {
    appName = tag[1]
    procId = tag[2] === undefined || tag[2] === '' ? null : tag[2]
    message = message.slice(tag[0].length)
  }
  const bom = message.startsWith(BOM)
  if (bom) message = message.slice(1)
  return {
    format: 'rfc3164',
    priority,
    facility: priority >> 3,
    severity: priority & 7,
    version: null,
    timestampText,
    timestamp,
    hostname,
    appName,
    procId,
    msgId: null,
    structuredData: [],
    message,
    bom,
  }
}

function bsdDate(month: number, day: number, h: number, mi: number, s: number, options: ParseOptions): Date {
  const now = options.now ?? Date.now()
  const make = (year: number) =>
    options.utc ? Date.UTC(year, month, day, h, mi, s) : new Date(year, month, day, h, mi, s).getTime()
  const year = options.utc ? new Date(now).getUTCFullYear() : new Date(now).getFullYear()
  // The year that puts the timestamp nearest to now.
  let best = make(year)
  for (const y of [year - 1, year + 1]) {
    const t = make(y)
    if (Math.abs(t - now) < Math.abs(best - now)) best = t
  }
  return new Date(best)
}

// ------------------------------------------------------------------------------------------------ framing

export interface FramerOptions {
  /** Longest frame kept, in bytes; a longer one is cut off (see `SyslogFramer`). Default 64 KiB. */
  maxFrameBytes?: number
}

/**
 * Splits a TCP byte stream into syslog frames (RFC 6587). A frame that starts with a digit 1-9 is octet
 * counted: `MSG-LEN SP` and exactly MSG-LEN bytes follow; any other frame ends at LF (a CR before it, or a
 * NUL, is stripped). Chunks may split a frame anywhere, also inside MSG-LEN. Frames come back as Buffers of
 * their own (copies), so a frame held in a queue never keeps a whole socket chunk alive.
 *
 * A frame longer than `maxFrameBytes` is cut off at that many bytes: its first `maxFrameBytes` are the frame
 * (reported to `onError` as too long), the rest is skipped up to the end of the frame. An octet count that
 * is not digits then SP (or has more than 9 digits) is reported to `onError`, and the bytes up to the next
 * LF are skipped. Memory stays within `maxFrameBytes` plus one chunk per connection.
 */
export class SyslogFramer {
  readonly maxFrameBytes: number
  /** Bytes of a frame begun in an earlier chunk (newline framing, or the MSG of an octet-counted frame). */
  private partial: Buffer[] = []
  private partialBytes = 0
  /** Octet counting: bytes of MSG still to come; -1 when not inside an octet-counted MSG. */
  private remaining = -1
  /** Octet counting: bytes of an oversized MSG to skip once its first maxFrameBytes are taken. */
  private discardAfter = 0
  /** Digits of an octet count split across chunks. */
  private count = ''
  private inCount = false
  /** Skipping the rest of an oversized or broken frame: 'lf' (up to LF) or a number of bytes. */
  private skipLf = false
  private skipBytes = 0

  constructor(options: FramerOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? 64 * 1024
  }

  /** Bytes held for a frame not yet complete. */
  get pendingBytes(): number {
    return this.partialBytes + this.count.length
  }

  /** Feeds a chunk; calls `onFrame` for each complete frame, `onError` for each framing problem. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void, onError: (err: SyslogParseError) => void): void {
    let pos = 0
    const n = chunk.length
    while (pos < n) {
      if (this.skipBytes > 0) {
        const take = Math.min(this.skipBytes, n - pos)
        this.skipBytes -= take
        pos += take
        continue
      }
      if (this.skipLf) {
        const lf = chunk.indexOf(10, pos)
        if (lf === -1) return
        this.skipLf = false
        pos = lf + 1
        continue
      }
      if (this.remaining >= 0) {
        // Inside an octet-counted MSG.
        const take = Math.min(this.remaining, n - pos)
        this.append(chunk, pos, pos + take)
        this.remaining -= take
        pos += take
        if (this.remaining === 0) {
          this.remaining = -1
          this.skipBytes = this.discardAfter
          this.discardAfter = 0
          this.emit(onFrame)
        }
        continue
      }
      if (this.inCount || (this.partialBytes === 0 && chunk[pos] >= 49 && chunk[pos] <= 57)) {
        // MSG-LEN SP (a leading LF or space between frames was skipped below).
        this.inCount = true
        while (pos < n && chunk[pos] >= 48 && chunk[pos] <= 57 && this.count.length <= 9) {
          this.count += String.fromCharCode(chunk[pos])
          pos++
        }
        if (pos === n) {
          if (this.count.length > 9) this.badCount(onError)
          return
        }
        if (chunk[pos] !== 32 || this.count.length > 9) {
          this.badCount(onError)
          continue
        }
        pos++
        const length = Number(this.count)
        this.count = ''
        this.inCount = false
        this.remaining = Math.min(length, this.maxFrameBytes)
        this.discardAfter = length - this.remaining
        if (this.discardAfter > 0) {
          onError(new SyslogParseError(`octet-counted frame of ${length} bytes is over ${this.maxFrameBytes}: cut off`))
        }
        continue
      }
      if (this.partialBytes === 0) {
        // Between frames: LF, CR, NUL or spaces left over from the previous frame's trailer.
        const c = chunk[pos]
        if (c === 10 || c === 13 || c === 0 || c === 32) {
          pos++
          continue
        }
      }
      // Newline framing.
      const lf = chunk.indexOf(10, pos)
      const end = lf === -1 ? n : lf
      const room = this.maxFrameBytes - this.partialBytes
      if (end - pos > room) {
        this.append(chunk, pos, pos + room)
        onError(new SyslogParseError(`line longer than ${this.maxFrameBytes} bytes: cut off`))
        this.emit(onFrame)
        if (lf === -1) {
          this.skipLf = true
          return
        }
        pos = lf + 1
        continue
      }
      this.append(chunk, pos, end)
      if (lf === -1) return
      pos = lf + 1
      this.emit(onFrame)
    }
  }

  /** The connection ended: what is left of a newline-framed line is a frame (a sender may omit the last LF). */
  end(onFrame: (frame: Buffer) => void, onError: (err: SyslogParseError) => void): void {
    if (this.remaining > 0 || this.inCount) {
      onError(new SyslogParseError('the connection ended inside an octet-counted frame'))
    } else if (this.partialBytes > 0) {
      this.emit(onFrame)
    }
    this.partial = []
    this.partialBytes = 0
    this.remaining = -1
    this.discardAfter = 0
    this.skipBytes = 0
    this.skipLf = false
    this.count = ''
    this.inCount = false
  }

  private badCount(onError: (err: SyslogParseError) => void): void {
    onError(new SyslogParseError(`bad octet count "${this.count.slice(0, 12)}" (RFC 6587 framing): line skipped`))
    this.count = ''
    this.inCount = false
    this.skipLf = true
  }

  private append(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return
    // Copied: a frame must not keep the socket's chunk alive.
    this.partial.push(Buffer.from(chunk.subarray(from, to)))
    this.partialBytes += to - from
  }

  private emit(onFrame: (frame: Buffer) => void): void {
    let frame = this.partial.length === 1 ? this.partial[0] : Buffer.concat(this.partial, this.partialBytes)
    this.partial = []
    this.partialBytes = 0
    // CR of CRLF and NUL trailers.
    let end = frame.length
    while (end > 0 && (frame[end - 1] === 13 || frame[end - 1] === 0)) end--
    if (end !== frame.length) frame = frame.subarray(0, end)
    if (frame.length > 0) onFrame(frame)
  }
}
