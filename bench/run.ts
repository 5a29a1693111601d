// `npm run bench -- <suite> [args]`: runs bench/<suite>.ts, prints a table with each peer's ratio to
// kafka-wire, and writes bench/results/<suite>.json. Peers live in bench/package.json and are installed
// here on first use, so `npm ci` for the tests stays light.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BenchContext, BenchResults, BenchRow, BenchSuite } from './types.js'

const benchDir = dirname(fileURLToPath(import.meta.url))
const RESERVED = new Set(['run', 'types', 'format'])

function suites(): string[] {
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .filter((name) => !RESERVED.has(name))
    .sort()
}

// Peers with a native addon, and the file its build leaves. npm 11 skips install scripts unless allowScripts in
// bench/package.json names the package, and an optional dependency that failed to build is still "installed":
// when the file is missing, the addon is built explicitly (`npm rebuild`, CKJS_LINKING=dynamic: librdkafka as
// a shared library next to the addon). A peer that still does not load is left out by the suite.
const NATIVE: Record<string, string> = {
  '@confluentinc/kafka-javascript': 'build/Release/confluent-kafka-javascript.node',
}

function installPeers(names: string[]): void {
  const env = { ...process.env, CKJS_LINKING: process.env.CKJS_LINKING ?? 'dynamic' }
  const missing = names.filter((n) => !existsSync(join(benchDir, 'node_modules', n, 'package.json')))
  if (missing.length > 0) {
    console.error(`installing bench peers (${missing.join(', ')}) into bench/node_modules ...`)
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', benchDir], { stdio: 'inherit', env })
  }
  for (const n of names) {
    const dir = join(benchDir, 'node_modules', n)
    if (!NATIVE[n] || !existsSync(join(dir, 'package.json')) || existsSync(join(dir, NATIVE[n]))) continue
    console.error(`building the native addon of ${n} (minutes, once) ...`)
    try {
      execFileSync('npm', ['rebuild', n, '--prefix', benchDir, `--allow-scripts=${n}`, '--foreground-scripts'], {
        stdio: 'inherit',
        env,
      })
    } catch (err) {
      console.error(`${n} did not build: ${(err as Error).message.split('\n')[0]}`)
    }
  }
}

async function peer<T>(name: string): Promise<T> {
  const require = createRequire(join(benchDir, 'package.json'))
  const resolved = require.resolve(name)
  return (await import(pathToFileURL(resolved).href)) as T
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '-'
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/** Ratio of kafka-wire to the peer on the scenario's headline metric (higher is better for kafka-wire). */
function ratio(ours: BenchRow | undefined, row: BenchRow): string {
  if (!ours || ours === row) return ''
  const metric = (r: BenchRow) => r.msgsPerSec ?? r.opsPerSec ?? r.mbPerSec
  const a = metric(ours)
  const b = metric(row)
  if (a === undefined || b === undefined || b === 0) return ''
  return `${(a / b).toFixed(2)}x`
}

export function printTable(rows: BenchRow[]): void {
  const header = ['scenario', 'client', 'msgs/s', 'ops/s', 'MB/s', 'p50 ms', 'p99 ms', 'RSS MB', 'kafka-wire vs']
  const lines = rows.map((r) => {
    const ours = rows.find((o) => o.scenario === r.scenario && o.client === 'kafka-wire')
    return [
      r.scenario,
      r.client,
      fmt(r.msgsPerSec),
      fmt(r.opsPerSec),
      fmt(r.mbPerSec, 1),
      fmt(r.p50Ms, 2),
      fmt(r.p99Ms, 2),
      fmt(r.rssMb),
      ratio(ours, r),
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const show = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  console.log(show(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const l of lines) console.log(show(l))
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2)
  const available = suites()
  if (!name || !available.includes(name)) {
    console.error(`usage: npm run bench -- <suite> [args]\nsuites: ${available.join(', ') || '(none yet)'}`)
    process.exit(name ? 2 : 0)
  }
  const suite = (await import(pathToFileURL(join(benchDir, `${name}.ts`)).href)).default as BenchSuite
  if (suite.peers?.length) installPeers(suite.peers)

  let brokers = process.env.KAFKA_BROKERS
  let kafkaVersion = process.env.KAFKA_VERSION
  let stop: (() => Promise<void>) | undefined
  if (suite.needsBroker && !brokers) {
    const { startCluster } = await import('../src/tools/local-broker.js')
    const cluster = await startCluster({})
    brokers = cluster.bootstrap
    kafkaVersion = cluster.version
    stop = () => cluster.stop()
    console.error(`Kafka ${kafkaVersion} started on ${brokers}`)
  }
  const ctx: BenchContext = { brokers, kafkaVersion, peer, args, log: (l) => console.error(l) }
  try {
    console.error(`${name}: ${suite.description}`)
    const rows = await suite.run(ctx)
    printTable(rows)
    const results: BenchResults = {
      suite: name,
      node: process.version,
      kafka: kafkaVersion,
      date: new Date().toISOString(),
      machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      rows,
    }
    mkdirSync(join(benchDir, 'results'), { recursive: true })
    writeFileSync(join(benchDir, 'results', `${name}.json`), `${JSON.stringify(results, null, 2)}\n`)
    console.error(`wrote bench/results/${name}.json`)
  } finally {
    await stop?.()
  }
}

await main()
