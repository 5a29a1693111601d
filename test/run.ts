// The test orchestrator behind `npm test`:
//   1. typecheck   tsc --noEmit -p tsconfig.json (a failure counts as one failed test)
//   2. unit        every test/unit/**/*.test.ts, in one uvu process (through tsx)
//   3. integration every test/integration/**/*.test.ts, one uvu process per file, against KAFKA_BROKERS; when it is
//                  unset, a local single-node Kafka (with its SASL/SSL listeners) is started here, in parallel with
//                  tiers 1-2, and stopped at the end (also on failure and on SIGINT/SIGTERM).
// Ends with one line: `N passed, N failed[, N skipped]`; exits non-zero on any failure.
//
// usage: tsx test/run.ts [--unit] [--integration] [--no-typecheck] [filter ...]
//   --unit / --integration  only that tier (plus the typecheck); both or neither: everything
//   filter                  only test files whose path contains one of the filters (the typecheck is then skipped)
//
// Environment given to integration test files:
//   KAFKA_BROKERS          bootstrap list (the user's, or the local broker's PLAINTEXT addresses)
//   KAFKA_WIRE_EXTERNAL=1  KAFKA_BROKERS came from the user: tests that start clusters of their own skip
//   KAFKA_WIRE_CLUSTER_DIR the local broker's state dir (openCluster(dir) gives listeners, users, CA path)
//   KAFKA_WIRE_STATE_ROOT  where clusters started by tests keep their state; their logs are printed on failure
// Also read: KAFKA_VERSION (local broker's version), KAFKA_WIRE_TEST_TIMEOUT (ms per integration file, default
// 15 min), KAFKA_WIRE_KEEP_STATE=1 (keep broker state dirs and logs after the run).

import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  type Cluster,
  DEFAULT_KAFKA_VERSION,
  logTailsUnder,
  startCluster,
  stopClustersUnder,
} from '../src/tools/local-broker.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const UVU_BIN = join(ROOT, 'node_modules', 'uvu', 'bin.js')
const TSC_BIN = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const FILE_TIMEOUT_MS = Number(process.env.KAFKA_WIRE_TEST_TIMEOUT) || 15 * 60_000

interface Counts {
  passed: number
  failed: number
  skipped: number
}

const totals: Counts = { passed: 0, failed: 0, skipped: 0 }
const timings: string[] = []
let current: ReturnType<typeof spawn> | undefined
let cluster: Cluster | undefined
let brokerStarted: string | undefined
let stateRoot: string | undefined

function say(line = ''): void {
  process.stdout.write(`${line}\n`)
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

function add(counts: Counts): void {
  totals.passed += counts.passed
  totals.failed += counts.failed
  totals.skipped += counts.skipped
}

function testFiles(dir: string, filters: string[]): string[] {
  const found: string[] = []
  const walk = (d: string) => {
    let entries: import('node:fs').Dirent[] = []
    try {
      entries = readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const path = join(d, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.test.ts')) found.push(path)
    }
  }
  walk(dir)
  return found
    .filter((file) => filters.length === 0 || filters.some((f) => relative(ROOT, file).includes(f)))
    .sort((a, b) => a.localeCompare(b))
}

/** Spawn a command, echo its output live, and return the output and exit code. */
function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; echo?: boolean } = {},
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((done) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    current = child
    let output = ''
    let timedOut = false
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (options.echo !== false) process.stdout.write(chunk)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true
          child.kill('SIGTERM')
          setTimeout(() => child.kill('SIGKILL'), 5000).unref()
        }, options.timeoutMs)
      : undefined
    child.on('error', (error) => {
      output += `${error.message}\n`
    })
    child.on('close', (code) => {
      if (timer) clearTimeout(timer)
      current = undefined
      done({ code, output, timedOut })
    })
  })
}

/** Counts from uvu's summary; a run with no summary or a non-zero exit without failures counts one failure. */
function uvuCounts(output: string, code: number | null): Counts {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '')
  const number = (label: string) => {
    const all = [...plain.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm'))]
    return all.length === 0 ? undefined : Number(all.at(-1)![1])
  }
  const total = number('Total')
  const passed = number('Passed')
  const skipped = number('Skipped') ?? 0
  if (total === undefined || passed === undefined) return { passed: 0, failed: 1, skipped: 0 }
  // uvu counts a test whose suite hook threw as neither passed nor failed (and may exit 0): Total - Passed.
  let failed = total - passed
  const reported = plain.match(/^\s*FAIL\s/gm)?.length ?? 0
  if (failed > reported) {
    say(`(${failed - reported} test(s) neither passed nor failed: a suite hook threw; uvu does not print hook errors,`)
    say(' wrap hooks with loud() from test/helpers/local-kafka.ts)')
  }
  if (failed === 0 && code !== 0) failed = 1
  return { passed, failed, skipped }
}

function uvuArgs(dir: string, files: string[]): string[] {
  const names = files.map((file) => relative(dir, file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  const color = process.stdout.isTTY ? [] : ['--no-color']
  return ['--import', 'tsx', UVU_BIN, relative(ROOT, dir), `^(?:${names.join('|')})$`, ...color]
}

async function typecheck(): Promise<void> {
  const started = Date.now()
  say('── typecheck: tsc --noEmit -p tsconfig.json')
  const { code, output } = await runCommand(process.execPath, [TSC_BIN, '--noEmit', '-p', 'tsconfig.json'], {
    echo: false,
  })
  if (code === 0) {
    add({ passed: 1, failed: 0, skipped: 0 })
    say('typecheck ok')
  } else {
    add({ passed: 0, failed: 1, skipped: 0 })
    process.stdout.write(output)
    say('typecheck FAILED')
  }
  timings.push(`typecheck    ${code === 0 ? 'ok' : 'FAILED'}  ${seconds(Date.now() - started)}`)
}

async function unit(files: string[]): Promise<void> {
  const started = Date.now()
  say(`── unit: ${files.length} file(s)`)
  const { code, output } = await runCommand(process.execPath, uvuArgs(join(ROOT, 'test', 'unit'), files))
  const counts = uvuCounts(output, code)
  add(counts)
  timings.push(`unit         ${describe(counts)}  ${seconds(Date.now() - started)}`)
}

async function integration(files: string[], broker: Promise<Cluster | undefined> | undefined): Promise<void> {
  const started = Date.now()
  say(`── integration: ${files.length} file(s)`)
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 }
  const env: NodeJS.ProcessEnv = { ...process.env }
  let ready = true
  if (broker) {
    try {
      const local = await broker
      if (brokerStarted) say(brokerStarted)
      if (local) {
        env.KAFKA_BROKERS = local.bootstrap
        env.KAFKA_WIRE_CLUSTER_DIR = local.dir
        delete env.KAFKA_WIRE_EXTERNAL
      }
    } catch (error) {
      say(`could not start the local Kafka broker: ${(error as Error).message}`)
      counts.failed++
      ready = false
    }
  } else {
    env.KAFKA_WIRE_EXTERNAL = '1'
    say(`using KAFKA_BROKERS=${env.KAFKA_BROKERS} (external: tests that start their own clusters skip)`)
  }
  if (ready) {
    const dir = join(ROOT, 'test', 'integration')
    for (const file of files) {
      if (cleaning) return // interrupted
      say(`── ${relative(ROOT, file)}`)
      const fileStarted = Date.now()
      const run = await runCommand(process.execPath, uvuArgs(dir, [file]), { env, timeoutMs: FILE_TIMEOUT_MS })
      const fileCounts = uvuCounts(run.output, run.code)
      if (run.timedOut) {
        say(`${relative(ROOT, file)} timed out after ${seconds(FILE_TIMEOUT_MS)}`)
        fileCounts.failed = Math.max(fileCounts.failed, 1)
      }
      say(`   ${relative(ROOT, file)}: ${describe(fileCounts)} in ${seconds(Date.now() - fileStarted)}`)
      counts.passed += fileCounts.passed
      counts.failed += fileCounts.failed
      counts.skipped += fileCounts.skipped
    }
  }
  if (counts.failed > 0 && stateRoot && !cleaning) {
    const tails = logTailsUnder(stateRoot, 40)
    if (tails) say(`── broker logs (tails)\n${tails}`)
  }
  add(counts)
  timings.push(`integration  ${describe(counts)}  ${seconds(Date.now() - started)}`)
}

function describe(counts: Counts): string {
  return `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`
}

let cleaning: Promise<void> | undefined

/** Stop the local broker and whatever tests left running; remove the state root. Safe to call twice. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (cluster) {
      await cluster.stop().catch((error: Error) => say(`stopping the local broker: ${error.message}`))
      cluster = undefined
    }
    if (stateRoot) {
      const leftovers = await stopClustersUnder(stateRoot)
      if (leftovers > 0) say(`stopped ${leftovers} cluster(s) that tests left running`)
      if (userKeepsState) say(`broker state and logs kept in ${stateRoot}`)
      else rmSync(stateRoot, { recursive: true, force: true })
    }
  })()
  return cleaning
}

const userKeepsState = process.env.KAFKA_WIRE_KEEP_STATE === '1'

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      unit: { type: 'boolean' },
      integration: { type: 'boolean' },
      'no-typecheck': { type: 'boolean' },
    },
  })
  const filters = positionals
  const all = !values.unit && !values.integration
  const unitFiles = all || values.unit ? testFiles(join(ROOT, 'test', 'unit'), filters) : []
  const integrationFiles = all || values.integration ? testFiles(join(ROOT, 'test', 'integration'), filters) : []
  const doTypecheck = filters.length === 0 && !values['no-typecheck']
  if (filters.length > 0 && unitFiles.length + integrationFiles.length === 0) {
    say(`no test file matches ${filters.join(', ')}`)
    say('0 passed, 1 failed')
    return 1
  }

  // Every cluster of this run (ours and the tests') keeps its state under one root, for log tails and cleanup.
  stateRoot = mkdtempSync(join(tmpdir(), 'kafka-wire-test-'))
  process.env.KAFKA_WIRE_STATE_ROOT = stateRoot
  process.env.KAFKA_WIRE_KEEP_STATE = '1'

  let broker: Promise<Cluster | undefined> | undefined
  if (integrationFiles.length > 0 && !process.env.KAFKA_BROKERS) {
    const version = process.env.KAFKA_VERSION || DEFAULT_KAFKA_VERSION
    const started = Date.now()
    // The shared broker has the SASL/SSL listeners too: one start per run instead of a dedicated auth cluster.
    broker = startCluster({ version, auth: true, log: (message) => say(`kafka: ${message}`) }).then((local) => {
      cluster = local
      // Printed when the integration tier begins, not in the middle of the unit tests' output.
      brokerStarted = `Kafka ${local.version} started on ${local.bootstrap} in ${Date.now() - started} ms`
      return local
    })
    broker.catch(() => {}) // reported by integration()
  }

  const started = Date.now()
  try {
    if (doTypecheck) await typecheck()
    if (unitFiles.length > 0) await unit(unitFiles)
    if (integrationFiles.length > 0) await integration(integrationFiles, broker)
  } finally {
    if (broker) await broker.catch(() => undefined)
    await cleanup()
  }
  say('')
  for (const line of timings) say(line)
  say(`wall time    ${seconds(Date.now() - started)}`)
  const skipped = totals.skipped ? `, ${totals.skipped} skipped` : ''
  say(`${totals.passed} passed, ${totals.failed} failed${skipped}`)
  return totals.failed > 0 || totals.passed === 0 ? 1 : 0
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (!cleaning) say(`\n${signal}: stopping`)
    current?.kill('SIGTERM')
    cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  })
}

process.exitCode = await main().catch((error: unknown) => {
  say(`test runner error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  return 1
})
