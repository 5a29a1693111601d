// Runs Kafka's own Java tools (console consumer and producer, consumer-groups...) from the jars the
// local broker harness caches: the reference client, for interop tests.
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_KAFKA_VERSION, ensureKafkaJars, resolveJava } from '../../src/tools/local-broker.js'

export interface ToolResult {
  code: number | null
  stdout: string
  stderr: string
}

function logConfig(): string {
  const dir = join(tmpdir(), 'kafka-wire-java-tools')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'log4j2.properties')
  writeFileSync(
    file,
    [
      'status = error',
      'appender.err.type = Console',
      'appender.err.name = STDERR',
      'appender.err.target = SYSTEM_ERR',
      'appender.err.layout.type = PatternLayout',
      'appender.err.layout.pattern = %p %c: %m%n',
      'rootLogger.level = warn',
      'rootLogger.appenderRef.err.ref = STDERR',
      '',
    ].join('\n'),
  )
  return file
}

/** Run `mainClass` of Kafka's jars with `args`, feeding `input` on stdin. */
export async function runJavaTool(
  mainClass: string,
  args: string[],
  options: { input?: string; timeoutMs?: number; version?: string } = {},
): Promise<ToolResult> {
  const libDir = await ensureKafkaJars(options.version ?? DEFAULT_KAFKA_VERSION)
  const java = resolveJava(undefined)
  const jvm = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', `-Dlog4j2.configurationFile=${logConfig()}`]
  return new Promise((resolve, reject) => {
    const child = spawn(java, [...jvm, '-cp', join(libDir, '*'), mainClass, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** Run kcat with `args`, feeding `input` on stdin. */
export function runKcat(
  args: string[],
  options: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}
