// Runs Kafka's own Java tools (console consumer and producer, consumer-groups...) from the jars the
// local broker harness caches: the reference client, for interop tests.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars, resolveJava, toolsLogFlag } from '../../src/tools/local-broker.js'

export interface ToolResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Run a command, feed `input` on stdin, collect its output; killed after `timeoutMs`. */
function runProcess(command: string, args: string[], input: string | Buffer, timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(input)
  })
}

/** Run `mainClass` of Kafka's jars with `args`, feeding `input` on stdin. */
export async function runJavaTool(
  mainClass: string,
  args: string[],
  options: { input?: string; timeoutMs?: number; version?: string } = {},
): Promise<ToolResult> {
  const version = options.version ?? DEFAULT_KAFKA_VERSION
  const libDir = await ensureKafkaJars(version)
  const java = resolveJava(undefined)
  const jvm = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', toolsLogFlag(version)]
  return runProcess(
    java,
    [...jvm, '-cp', join(libDir, '*'), mainClass, ...args],
    options.input ?? '',
    options.timeoutMs ?? 60_000,
  )
}

/** Run kcat with `args`, feeding `input` on stdin. */
export function runKcat(
  args: string[],
  options: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return runProcess('kcat', args, options.input ?? '', options.timeoutMs ?? 30_000)
}
