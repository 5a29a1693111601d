// The records every codec in bench/codec.ts encodes, in a library-neutral shape, and the check that a
// decoder got them back. Each peer adapter converts them once, outside the timed region, into the form its
// library's own producer hands to its record batch encoder.
export interface FixtureHeader {
  key: string
  value: Buffer
}

export interface FixtureRecord {
  key: Buffer
  value: Buffer
  /** Milliseconds since the epoch. */
  timestamp: number
  headers: FixtureHeader[]
}

export type Compression = 'none' | 'lz4'

/** A record batch codec under test: `encode` returns a whole batch ready to be sent, `decode` its records. */
export interface BatchCodec {
  encode(): Buffer | Promise<Buffer>
  decode(bytes: Buffer): unknown | Promise<unknown>
  /** Map what `decode` returned to the neutral shape, to check it against the fixture (untimed). */
  records(decoded: unknown): FixtureRecord[]
}

export interface PeerCodecFactory {
  client: string
  /** How the adapter reaches the library's codec, for the notes printed with the table. */
  note: string
  create(records: FixtureRecord[], compression: Compression): BatchCodec
}

export function fixture(count: number, valueSize: number, headers: boolean): FixtureRecord[] {
  const out: FixtureRecord[] = []
  for (let i = 0; i < count; i++) {
    const key = Buffer.alloc(10)
    key.write(`key-${i}`.padStart(10, '0'))
    const value = Buffer.alloc(valueSize)
    for (let j = 0; j < valueSize; j++) value[j] = 97 + ((i + j * 7) % 26)
    out.push({
      key,
      value,
      timestamp: 1_700_000_000_000 + i,
      headers: headers
        ? [
            { key: 'trace-id', value: Buffer.from('0af7651916cd43dd8448eb211c80319c') },
            { key: 'content-type', value: Buffer.from('application/json') },
          ]
        : [],
    })
  }
  return out
}

/** Throws unless `got` holds the fixture's keys, values, timestamps and headers, in order. */
export function assertSameRecords(client: string, what: string, want: FixtureRecord[], got: FixtureRecord[]): void {
  const fail = (m: string) => {
    throw new Error(`${client} ${what}: ${m}`)
  }
  if (got.length !== want.length) fail(`${got.length} records, expected ${want.length}`)
  for (let i = 0; i < want.length; i++) {
    const a = want[i]
    const b = got[i]
    if (!a.key.equals(b.key)) fail(`record ${i}: key differs`)
    if (!a.value.equals(b.value)) fail(`record ${i}: value differs`)
    if (a.timestamp !== b.timestamp) fail(`record ${i}: timestamp ${b.timestamp}, expected ${a.timestamp}`)
    if (a.headers.length !== b.headers.length) fail(`record ${i}: ${b.headers.length} headers`)
    for (let j = 0; j < a.headers.length; j++) {
      if (a.headers[j].key !== b.headers[j].key || !a.headers[j].value.equals(b.headers[j].value)) {
        fail(`record ${i}: header ${j} differs`)
      }
    }
  }
}
