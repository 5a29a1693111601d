// Kafka's own perf tools (org.apache.kafka.tools.*) from the jars the local broker harness caches, run with the
// JVM options of kafka-run-class.sh and the 512 MiB heap of the perf scripts. Peak RSS is the JVM's VmHWM from
// /proc/<pid>/status, sampled every 50 ms until it exits.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars, resolveJava, toolsLogFlag } from '../../src/tools/local-broker.js'

export const JVM = [
  '-Xmx512M',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
]

export function vmHwmMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

export interface JavaToolRun {
  code: number | null
  stdout: string
  stderr: string
  /** Peak RSS in MiB, undefined when never sampled. */
  peakRssMb: number | undefined
}

/** Runs `org.apache.kafka.tools.<tool>` with `args`; killed after `timeoutMs`. */
export async function runJavaTool(tool: string, args: string[], timeoutMs: number): Promise<JavaToolRun> {
  const libDir = await ensureKafkaJars(DEFAULT_KAFKA_VERSION)
  const java = resolveJava(undefined)
  const argv = [...JVM, toolsLogFlag(DEFAULT_KAFKA_VERSION), '-cp', join(libDir, '*'), `org.apache.kafka.tools.${tool}`]
  const child = spawn(java, [...argv, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  let peak = 0
  const sample = () => {
    const v = child.pid === undefined ? undefined : vmHwmMb(child.pid)
    if (v !== undefined && v > peak) peak = v
  }
  const sampler = setInterval(sample, 50)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    // VmHWM is gone once the JVM is reaped: take a last sample when its output closes.
    child.stdout.on('end', sample)
    child.on('close', resolve)
  }).finally(() => {
    clearInterval(sampler)
    clearTimeout(timer)
  })
  return { code, stdout, stderr, peakRssMb: peak || undefined }
}

/** The last lines of a failed tool's output, for the error. */
export function toolFailure(tool: string, run: JavaToolRun): Error {
  const tail = (run.stderr || run.stdout).trim().split('\n').slice(-5).join(' | ')
  return new Error(`${tool} exited with ${run.code}: ${tail}`)
}
