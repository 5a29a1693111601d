// Bounded fuzzing of every API module's response decoder. Valid response bodies (captured from a real
// broker in test/fixtures/wire/, and random ones from the schema interpreter) are mutated with a
// fixed-seed PRNG: bytes flipped, truncated, extended, length fields set to huge or negative values,
// over-long varints, ranges duplicated or removed. Decoding a mutant may succeed or throw DecodeError;
// anything else (RangeError, TypeError, a hang, an array longer than the frame) is a bug.

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { AnyApi } from '../../src/protocol/api.js'
import { DecodeError } from '../../src/protocol/errors.js'
import { Reader } from '../../src/protocol/reader.js'
import { decodeMessage, encodeMessage, Source } from '../schema/codec.js'
import { Generator, prng } from '../schema/generate.js'
import { discoverApis } from '../schema/modules.js'
import { inVersions, loadSchemas } from '../schema/schema.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/wire/', import.meta.url))

const ITERATIONS_PER_API = 300
/** A mutant of at most SMALL_FRAME bytes must decode (or fail) within SLOW_MS. */
const SMALL_FRAME = 1024
const SLOW_MS = 50
const TOTAL_BUDGET_MS = 10_000
/** Nothing reported by the fuzzing worker for this long: a decoder hangs. */
const HANG_MS = 10_000
/** The worker's start (loading tsx and every module) on a busy machine may take longer. */
const STARTUP_MS = 60_000

const modules: AnyApi[] = [...(await discoverApis()).byKey.values()].sort((a, b) => a.apiKey - b.apiKey)

const schemas = loadSchemas()
const RESPONSE_HEADER = schemas.byName.get('ResponseHeader')!

interface Sample {
  version: number
  body: Buffer
  from: string
}

interface IndexEntry {
  apiKey: number
  version: number
  client: string
  response: string | null
}

const captured: IndexEntry[] = existsSync(join(FIXTURES, 'index.json'))
  ? (JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')) as { frames: IndexEntry[] }).frames
  : []

/** Valid response bodies for `api`: the captured ones, then random ones for every version. */
function samples(api: AnyApi): Sample[] {
  const schema = schemas.response(api.apiKey)!
  const out: Sample[] = []
  for (const f of captured) {
    if (f.apiKey !== api.apiKey || f.response === null) continue
    if (f.version < api.minVersion || f.version > api.maxVersion) continue
    const frame = readFileSync(join(FIXTURES, f.response))
    const flexible = inVersions(schema.flexibleVersions, f.version)
    const src = new Source(frame)
    decodeMessage(RESPONSE_HEADER, src, api.apiKey === 18 ? 0 : flexible ? 1 : 0)
    out.push({ version: f.version, body: frame.subarray(src.pos), from: `captured from ${f.client}` })
  }
  for (let v = api.minVersion; v <= api.maxVersion; v++) {
    for (const seed of [1, 2]) {
      const gen = new Generator(api.apiKey * 1000 + v * 10 + seed, { nullRate: 0.2, minArray: 1, maxArray: 3 })
      out.push({ version: v, body: encodeMessage(schema, gen.message(schema, v), v), from: `generated seed ${seed}` })
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Mutations

type Rand = () => number

const int = (rand: Rand, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))

const LENGTHS_32 = [0x7fffffff, 0xffffffff, 0x80000000, 0x00ffffff, 0xfffffffe, 0x10000]
const LENGTHS_16 = [0x7fff, 0xffff, 0x8000, 0xfffe]
const VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0x0f], // 2^32 - 1
  [0xff, 0xff, 0xff, 0xff, 0x07], // 2^31 - 1
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // longer than 5 bytes
  [0xfe, 0xff, 0xff, 0x7f], // 2^28 - 2
]

interface Mutation {
  name: string
  apply(b: Buffer, rand: Rand): Buffer
}

const MUTATIONS: Mutation[] = [
  {
    name: 'flip bytes',
    apply(b, rand) {
      const out = Buffer.from(b)
      const n = int(rand, 1, 4)
      for (let i = 0; i < n && out.length > 0; i++) out[int(rand, 0, out.length - 1)] ^= int(rand, 1, 255)
      return out
    },
  },
  {
    name: 'truncate',
    apply: (b, rand) => Buffer.from(b.subarray(0, int(rand, 0, Math.max(0, b.length - 1)))),
  },
  {
    name: 'extend',
    apply(b, rand) {
      const extra = Buffer.alloc(int(rand, 1, 16))
      for (let i = 0; i < extra.length; i++) extra[i] = int(rand, 0, 255)
      return Buffer.concat([b, extra])
    },
  },
  {
    name: 'int32 length huge/negative',
    apply(b, rand) {
      const out = Buffer.from(b)
      if (out.length >= 4)
        out.writeUInt32BE(LENGTHS_32[int(rand, 0, LENGTHS_32.length - 1)], int(rand, 0, out.length - 4))
      return out
    },
  },
  {
    name: 'int16 length huge/negative',
    apply(b, rand) {
      const out = Buffer.from(b)
      if (out.length >= 2)
        out.writeUInt16BE(LENGTHS_16[int(rand, 0, LENGTHS_16.length - 1)], int(rand, 0, out.length - 2))
      return out
    },
  },
  {
    name: 'varint huge/overlong',
    apply(b, rand) {
      const v = VARINTS[int(rand, 0, VARINTS.length - 1)]
      const at = int(rand, 0, b.length)
      // Overwrite in place (keeps what follows aligned) or insert.
      if (rand() < 0.5) {
        const out = Buffer.from(b)
        for (let i = 0; i < v.length && at + i < out.length; i++) out[at + i] = v[i]
        return out
      }
      return Buffer.concat([b.subarray(0, at), Buffer.from(v), b.subarray(at)])
    },
  },
  {
    name: 'duplicate range',
    apply(b, rand) {
      if (b.length === 0) return b
      const from = int(rand, 0, b.length - 1)
      const to = int(rand, from + 1, Math.min(b.length, from + 64))
      const at = int(rand, 0, b.length)
      return Buffer.concat([b.subarray(0, at), b.subarray(from, to), b.subarray(at)])
    },
  },
  {
    name: 'remove range',
    apply(b, rand) {
      if (b.length === 0) return b
      const from = int(rand, 0, b.length - 1)
      const to = int(rand, from + 1, Math.min(b.length, from + 16))
      return Buffer.concat([b.subarray(0, from), b.subarray(to)])
    },
  },
]

/** Elements in every array of a decoded value: each costs at least a byte on the wire. */
function arrayElements(v: unknown, depth = 0): number {
  if (depth > 64 || v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return 0
  let n = 0
  if (Array.isArray(v)) {
    n += v.length
    for (const x of v) n += arrayElements(x, depth + 1)
  } else {
    for (const x of Object.values(v)) n += arrayElements(x, depth + 1)
  }
  return n
}

// ---------------------------------------------------------------------------------------------
// The fuzzing itself runs in a worker thread: a decoder caught in a loop cannot hang the unit process,
// the worker is terminated and the test names the API and iteration it was stuck in.

interface Stats {
  api: string
  samples: number
  mutants: number
  decoded: number
  decodeErrors: number
  maxMs: number
}

interface Outcome {
  apiKey: number
  stats: Stats
  failure?: string
}

class Failure extends Error {}

/** Fuzz one module; `progress` gets the iteration before each decode (for naming a hang). */
function fuzzApi(api: AnyApi, progress: (iteration: number) => void): Outcome {
  const base = samples(api)
  const s: Stats = { api: api.name, samples: base.length, mutants: 0, decoded: 0, decodeErrors: 0, maxMs: 0 }
  const fail = (message: string): Outcome => ({ apiKey: api.apiKey, stats: s, failure: message })
  if (base.length === 0) return fail('no sample')
  const rand = prng(0x5eed + api.apiKey)
  // The unmutated samples decode, exactly.
  for (const sample of base) {
    const r = new Reader(sample.body)
    try {
      api.decode(r, sample.version)
    } catch (error) {
      return fail(`v${sample.version} ${sample.from} does not decode: ${error}`)
    }
    if (r.remaining !== 0) return fail(`v${sample.version} ${sample.from}: ${r.remaining} bytes left`)
  }
  for (let i = 0; i < ITERATIONS_PER_API; i++) {
    const sample = base[i % base.length]
    const m1 = MUTATIONS[int(rand, 0, MUTATIONS.length - 1)]
    let mutant = m1.apply(sample.body, rand)
    let what = m1.name
    if (rand() < 0.3) {
      const m2 = MUTATIONS[int(rand, 0, MUTATIONS.length - 1)]
      mutant = m2.apply(mutant, rand)
      what += ` + ${m2.name}`
    }
    const where = () =>
      `${api.name} v${sample.version} (${sample.from}), iteration ${i}, ${what}, ${mutant.length} bytes: ` +
      mutant.toString('hex').slice(0, 400)
    /** Decode once: [ms, outcome]. */
    const attempt = (): [number, 'decoded' | 'DecodeError'] => {
      progress(i)
      const t0 = performance.now()
      try {
        const decoded = api.decode(new Reader(mutant), sample.version)
        const ms = performance.now() - t0
        const elements = arrayElements(decoded)
        if (elements > mutant.length)
          throw new Failure(`${elements} array elements decoded from ${mutant.length} bytes: ${where()}`)
        return [ms, 'decoded']
      } catch (error) {
        const ms = performance.now() - t0
        if (error instanceof DecodeError) return [ms, 'DecodeError']
        if (error instanceof Failure) throw error
        const name = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)
        throw new Failure(`${name}: ${where()}`)
      }
    }
    try {
      s.mutants++
      let [ms, outcome] = attempt()
      if (outcome === 'decoded') s.decoded++
      else s.decodeErrors++
      // A slow decode is measured again (twice), so a GC pause or a JIT compile on a busy machine is not
      // taken for a hang: a decode that is really slow is slow every time.
      for (let retry = 0; retry < 2 && ms > SLOW_MS && mutant.length <= SMALL_FRAME; retry++)
        ms = Math.min(ms, attempt()[0])
      s.maxMs = Math.max(s.maxMs, ms)
      if (mutant.length <= SMALL_FRAME && ms > SLOW_MS) return fail(`decoding took ${ms.toFixed(1)} ms: ${where()}`)
    } catch (error) {
      if (error instanceof Failure) return fail(error.message)
      throw error
    }
  }
  return { apiKey: api.apiKey, stats: s }
}

if (!isMainThread) {
  // Worker: fuzz every module in turn, reporting each outcome; `where` holds [apiKey, iteration].
  const where = new Int32Array(workerData.progress as SharedArrayBuffer)
  const started = performance.now()
  for (const api of modules) {
    Atomics.store(where, 0, api.apiKey)
    const outcome = fuzzApi(api, (i) => Atomics.store(where, 1, i))
    parentPort!.postMessage(outcome)
  }
  parentPort!.postMessage({ elapsedMs: performance.now() - started })
} else {
  const progress = new SharedArrayBuffer(8)
  const where = new Int32Array(progress)
  const outcomes = new Map<number, Outcome>()
  let elapsedMs: number | undefined
  let crashed: unknown
  /** Why the worker was stopped before it finished (a hang). */
  let stopped: string | undefined
  let wake: (() => void) | undefined
  // Start the worker through tsx's API, so it can load this TypeScript file.
  const tsx = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}) })`
  const worker = new Worker(boot, { eval: true, workerData: { progress } })
  worker.on('message', (m: Outcome | { elapsedMs: number }) => {
    if ('elapsedMs' in m) elapsedMs = m.elapsedMs
    else outcomes.set(m.apiKey, m)
    wake?.()
  })
  worker.on('error', (error) => {
    crashed = error
    wake?.()
  })

  /** The outcome for `apiKey`, or a failure once nothing has been reported for HANG_MS. */
  const outcomeOf = async (apiKey: number): Promise<Outcome> => {
    for (;;) {
      const o = outcomes.get(apiKey)
      if (o !== undefined) return o
      if (crashed !== undefined) throw crashed
      if (stopped !== undefined) throw new Error(`not fuzzed: ${stopped}`)
      const limit = outcomes.size === 0 ? STARTUP_MS : HANG_MS
      const reported = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), limit)
        wake = () => {
          clearTimeout(timer)
          resolve(true)
        }
      })
      if (!reported) {
        const stuck = modules.find((m) => m.apiKey === Atomics.load(where, 0))
        stopped = `${stuck?.name ?? 'startup'} hangs at iteration ${Atomics.load(where, 1)}`
        await worker.terminate()
        throw new Error(`no outcome for ${limit} ms: ${stopped} (the PRNG is seeded: rerun to reproduce)`)
      }
    }
  }

  for (const api of modules) {
    test(`${api.name} (key ${api.apiKey}): mutated responses decode or throw DecodeError, quickly`, async () => {
      const o = await outcomeOf(api.apiKey)
      if (o.failure !== undefined) assert.unreachable(o.failure)
      assert.is(o.stats.mutants, ITERATIONS_PER_API)
    })
  }

  test('the fuzz suite stays within its time budget', async () => {
    while (elapsedMs === undefined && crashed === undefined && stopped === undefined)
      await new Promise((r) => setTimeout(r, 10))
    await worker.terminate()
    assert.is(stopped, undefined, 'the worker was stopped')
    assert.is(outcomes.size, modules.length, 'every module was fuzzed')
    assert.ok(elapsedMs! < TOTAL_BUDGET_MS, `fuzzing took ${elapsedMs!.toFixed(0)} ms`)
    if (process.env.FRAME_FUZZ_STATS === '1') {
      for (const { stats: s } of outcomes.values())
        console.log(
          `${s.api}: ${s.samples} samples, ${s.mutants} mutants, ${s.decoded} decoded, ${s.decodeErrors} DecodeError, ` +
            `max ${s.maxMs.toFixed(2)} ms`,
        )
      console.log(`fuzzing took ${elapsedMs!.toFixed(0)} ms`)
    }
  })

  test.after(async () => {
    await worker.terminate()
  })

  test.run()
}
