// What the side-by-side suites (produce, consume) share: which clients and scenarios a run takes
// (--only, --scenarios, --reps, --quick), peers that fail to load left out with a line saying why, one
// client's run in a child process of its own (so its peak RSS is its own), and medians.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { BenchContext, BenchRow } from './types.js'

const repoRoot = fileURLToPath(new URL('..', import.meta.url))

export interface SideBySideClient {
  /** The row's client name. */
  name: string
  /** bench/peers/<suite>-<adapter>.ts, or 'java'. */
  adapter: string
  variant?: string
  /** The peer package it needs, if any. */
  peer?: string
}

export interface RunOptions {
  quick: boolean
  /** 1-based scenario numbers to run, or every scenario. */
  scenarios: number[] | undefined
  reps: number
}

function option(args: string[], name: string): string[] | undefined {
  const a = args.find((x) => x.startsWith(`--${name}=`))
  return a?.slice(name.length + 3).split(',')
}

/** The run's options, and the clients it takes (--only) among those whose peer package loads. */
export async function runOptions<C extends SideBySideClient>(
  ctx: BenchContext,
  all: readonly C[],
): Promise<RunOptions & { clients: C[] }> {
  const quick = ctx.args.includes('--quick')
  const only = option(ctx.args, 'only')
  const clients: C[] = []
  for (const c of all) {
    if (only && !only.includes(c.name) && !only.includes(c.adapter)) continue
    const problem = await peerProblem(ctx, c)
    if (problem) ctx.log(`${c.name}: left out, ${c.peer} does not load: ${problem}`)
    else clients.push(c)
  }
  return {
    quick,
    scenarios: option(ctx.args, 'scenarios')?.map(Number),
    reps: Number(option(ctx.args, 'reps')?.[0] ?? (quick ? 1 : 3)),
    clients,
  }
}

async function peerProblem(ctx: BenchContext, client: SideBySideClient): Promise<string | null> {
  if (!client.peer) return null
  try {
    await ctx.peer(client.peer)
    return null
  } catch (err) {
    return (err as Error).message.split('\n')[0]
  }
}

/**
 * Runs `suiteFile --child <adapter> <spec as JSON>` through tsx and resolves with what the child sends back
 * ({ ok } or { error }); the child is killed after `timeoutMs`.
 */
export function runInChild<R>(
  suiteFile: string,
  client: SideBySideClient,
  spec: object,
  timeoutMs: number,
  execArgv: string[] = [],
): Promise<R> {
  const child = fork(suiteFile, ['--child', client.adapter, JSON.stringify({ ...spec, variant: client.variant })], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      if (!settled) reject(new Error(`${client.name}: no result within ${timeoutMs} ms`))
      settled = true
    }, timeoutMs)
    child.on('message', (m: { ok?: R; error?: string }) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (m.ok) resolve(m.ok)
      else reject(new Error(m.error))
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (!settled) reject(new Error(`${client.name}: child exited with ${code ?? signal} before reporting`))
      settled = true
    })
  })
}

/**
 * The child's side: when this process was started by runInChild, runs `measure` on the spec with the adapter
 * module it names, adds the peak RSS, sends the result and exits. Returns false in the parent.
 */
export async function childMain<S, R extends { rssMb?: number }>(
  load: (adapter: string) => Promise<unknown>,
  measure: (adapter: unknown, spec: S) => Promise<R>,
): Promise<boolean> {
  if (process.argv[2] !== '--child') return false
  const send = (m: unknown) => process.send!(m, () => process.exit(0))
  try {
    const adapter = await load(process.argv[3])
    const result = await measure(adapter, JSON.parse(process.argv[4]) as S)
    result.rssMb = process.resourceUsage().maxRSS / 1024
    send({ ok: result })
  } catch (err) {
    send({ error: (err as Error)?.stack ?? String(err) })
  }
  return true
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** The issues' targets: kafka-wire msgs/s over each peer's, at least this much. */
export const TARGETS: Readonly<Record<string, number>> = { kafkajs: 3, platformatic: 1.5, confluent: 1, java: 0.8 }

/**
 * For each scenario of `rows` with a kafka-wire row: the rows compared, one part per peer with a row (its ratio
 * against the target when both have msgs/s, else what `other` says of the pair), for one log line each.
 */
export function targetLines(
  rows: BenchRow[],
  other: (ours: BenchRow, theirs: BenchRow, peer: string) => string | null = () => null,
): Array<{ scenario: string; ours: BenchRow; parts: string[] }> {
  const out: Array<{ scenario: string; ours: BenchRow; parts: string[] }> = []
  for (const scenario of [...new Set(rows.map((r) => r.scenario))]) {
    const ours = rows.find((r) => r.scenario === scenario && r.client === 'kafka-wire')
    if (!ours) continue
    const parts: string[] = []
    for (const [peer, want] of Object.entries(TARGETS)) {
      const theirs = rows.find((r) => r.scenario === scenario && r.client === peer)
      if (!theirs) continue
      if (ours.msgsPerSec !== undefined && theirs.msgsPerSec) {
        const x = ours.msgsPerSec / theirs.msgsPerSec
        parts.push(`${peer} ${x.toFixed(2)}x (>= ${want}x ${x >= want ? 'met' : 'MISSED'})`)
      } else {
        const said = other(ours, theirs, peer)
        if (said !== null) parts.push(said)
      }
    }
    out.push({ scenario, ours, parts })
  }
  return out
}
