// A real Apache Kafka for tests and development, run from Maven Central jars: no Docker, no tarball.
//
// startCluster() resolves the jars once into ~/.cache/kafka-wire/kafka-<version>/lib (Maven, marker file), writes a
// server.properties per node into a state dir, formats each node with StorageTool and starts kafka.Kafka detached
// (Java 17), then waits until every node answers an ApiVersions request. The state dir holds everything a later
// process needs to find the cluster again (cluster.json, a pid file and a log per node): see openCluster().
//
// State dir layout:
//   cluster.json                  what startCluster() decided (ports, cluster id, paths); read by openCluster()
//   tools-log.properties          logging config of StorageTool (WARN to stderr)
//   node-<id>/server.properties   node-<id>/log.properties   node-<id>/kafka.log   node-<id>/kafka.pid   node-<id>/data/
// TLS material (a test CA, a broker keystore, a client keystore) is made once with keytool and cached in
// ~/.cache/kafka-wire/tls, shared by every state dir.
//
// Floor: tools. node: modules only.

import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { homedir, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DEFAULT_KAFKA_VERSION = '4.1.1'

/** Listener names of a local cluster. MTLS is an SSL listener that requires a client certificate. */
export type ListenerName = 'PLAINTEXT' | 'SASL_PLAINTEXT' | 'SSL' | 'SASL_SSL' | 'MTLS'
export const AUTH_LISTENERS: readonly ListenerName[] = ['SASL_PLAINTEXT', 'SSL', 'SASL_SSL', 'MTLS']
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const

export interface KafkaUser {
  username: string
  password: string
}

export interface ClusterOptions {
  /** Number of nodes, each broker+controller. Default 1. With 3+ nodes: replication factor 3, min ISR 2. */
  nodes?: number
  /** Kafka release from Maven Central, e.g. '4.1.1' (default) or '3.9.1'. */
  version?: string
  /**
   * State dir. Default: a new temporary dir under $KAFKA_WIRE_STATE_ROOT or os.tmpdir(), removed by stop()
   * (kept when keepDir is set or $KAFKA_WIRE_KEEP_STATE=1). A given dir is never removed; a stopped cluster found
   * in it is wiped and formatted again, a running one is an error.
   */
  dir?: string
  keepDir?: boolean
  /** Add SASL_PLAINTEXT, SSL, SASL_SSL and MTLS listeners, SCRAM users and TLS material. Default false. */
  auth?: boolean
  /** Users for PLAIN and SCRAM-SHA-256/512. Default alice/alice-secret. */
  users?: KafkaUser[]
  /** auto.create.topics.enable. Default false: tests create their topics. */
  autoCreateTopics?: boolean
  /** Fixed ports: node k (0-based) listens on basePort + 10k + [0 PLAINTEXT, 1 CONTROLLER, 2..5 auth]. Default: free ports. */
  basePort?: number
  /** Host to listen on and advertise. Default 127.0.0.1. */
  host?: string
  /** Extra server.properties, applied last (to every node). */
  serverProperties?: Record<string, string | number | boolean>
  /** Heap of each node (-Xms/-Xmx). Default 512m. */
  heap?: string
  /** Default: $KAFKA_WIRE_JAVA_HOME, else /usr/lib/jvm/java-17-openjdk-amd64 if present, else $JAVA_HOME, else PATH. */
  javaHome?: string
  /** Jar and TLS cache. Default $KAFKA_WIRE_CACHE or ~/.cache/kafka-wire. */
  cacheDir?: string
  /** Default 120000 (all nodes ready), not counting the first Maven download. */
  startTimeoutMs?: number
  /** SIGTERM grace before SIGKILL. Default 15000. */
  stopTimeoutMs?: number
  /** SIGKILL our brokers when this process exits or gets SIGINT/SIGTERM/SIGHUP before stop(). Default true. */
  stopOnExit?: boolean
  /** Progress messages (Maven download, keytool). Default: none. */
  log?: (message: string) => void
}

export interface TlsFiles {
  /** PEM of the test CA that signed the broker and client certificates: the Node client's `ca`. */
  caPath: string
  /** Client certificate and key (PKCS12) for the MTLS listener: the Node client's `pfx` + `passphrase`. */
  clientPfxPath: string
  /** The same client certificate and key as PEM (made with openssl when it is installed). */
  clientCertPath?: string
  clientKeyPath?: string
  /** Password of every keystore and of the PKCS12 files. */
  password: string
  brokerKeystorePath: string
  truststorePath: string
}

export interface NodeState {
  id: number
  dir: string
  dataDir: string
  propertiesPath: string
  logConfigPath: string
  logPath: string
  pidPath: string
  ports: Partial<Record<ListenerName | 'CONTROLLER', number>>
}

export interface ClusterState {
  version: string
  clusterId: string
  dir: string
  temporary: boolean
  host: string
  auth: boolean
  users: KafkaUser[]
  tls?: TlsFiles
  libDir: string
  java: string
  heap: string
  stopTimeoutMs: number
  startTimeoutMs: number
  nodes: NodeState[]
}

export interface NodeStatus {
  id: number
  pid?: number
  /** A process of ours (its command line names this node's server.properties) is alive. */
  running: boolean
  /** The PLAINTEXT listener answered ApiVersions. */
  ready: boolean
  address: string
}

const STATE_FILE = 'cluster.json'
const TLS_PASSWORD = 'kafka-wire-test'
const DEFAULT_USERS: KafkaUser[] = [{ username: 'alice', password: 'alice-secret' }]
const PORT_SLOTS: Record<ListenerName | 'CONTROLLER', number> = {
  PLAINTEXT: 0,
  CONTROLLER: 1,
  SASL_PLAINTEXT: 2,
  SSL: 3,
  SASL_SSL: 4,
  MTLS: 5,
}
const JVM_FLAGS = [
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
]
// Short-lived tool JVMs (StorageTool, keytool) start faster with C1 only and the serial collector.
const TOOL_JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xmx256m']

// kafka/pom.xml sits two levels above this module both in src/tools/ (tsx) and in dist/tools/ (built).
const POM_PATH = fileURLToPath(new URL('../../kafka/pom.xml', import.meta.url))

// ---------------------------------------------------------------------------------------------------------------
// Public API

export class Cluster {
  constructor(readonly state: ClusterState) {}

  get version(): string {
    return this.state.version
  }
  get dir(): string {
    return this.state.dir
  }
  get clusterId(): string {
    return this.state.clusterId
  }
  get nodes(): readonly NodeState[] {
    return this.state.nodes
  }
  get users(): readonly KafkaUser[] {
    return this.state.users
  }
  get tls(): TlsFiles | undefined {
    return this.state.tls
  }
  /** PLAINTEXT host:port of every node, comma separated: the value for KAFKA_BROKERS. */
  get bootstrap(): string {
    return this.addresses('PLAINTEXT').join(',')
  }
  /** host:port per listener, one per node. Auth listeners appear only with `auth`. */
  get listeners(): Partial<Record<ListenerName, string[]>> {
    const names: ListenerName[] = this.state.auth ? ['PLAINTEXT', ...AUTH_LISTENERS] : ['PLAINTEXT']
    return Object.fromEntries(names.map((name) => [name, this.addresses(name)]))
  }

  addresses(listener: ListenerName): string[] {
    return this.state.nodes.map((node) => {
      const port = node.ports[listener]
      if (port === undefined) throw new Error(`listener ${listener} is not enabled (start with auth: true)`)
      return `${this.state.host}:${port}`
    })
  }

  node(id: number): NodeState {
    const node = this.state.nodes.find((n) => n.id === id)
    if (!node) throw new Error(`no node ${id} in ${this.state.dir}`)
    return node
  }

  /** Pid of the node's process if it is alive and ours. */
  pid(id: number): number | undefined {
    return livePid(this.node(id))
  }

  async status(): Promise<NodeStatus[]> {
    return Promise.all(
      this.state.nodes.map(async (node) => {
        const pid = livePid(node)
        const address = `${this.state.host}:${node.ports.PLAINTEXT}`
        let ready = false
        if (pid !== undefined) {
          ready = await probeApiVersions(this.state.host, node.ports.PLAINTEXT!, 2000).then(
            () => true,
            () => false,
          )
        }
        return { id: node.id, pid, running: pid !== undefined, ready, address }
      }),
    )
  }

  /** SIGTERM every node, SIGKILL after stopTimeoutMs; removes the pid files (and a temporary state dir). */
  async stop(): Promise<void> {
    await Promise.all(this.state.nodes.map((node) => terminate(node, 'SIGTERM', this.state.stopTimeoutMs)))
    active.delete(this)
    if (this.state.temporary && !keepState()) rmSync(this.state.dir, { recursive: true, force: true })
  }

  /** Send a signal to one node (default SIGKILL) and wait for it to die; SIGTERM falls back to SIGKILL. */
  async killNode(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await terminate(this.node(id), signal, this.state.stopTimeoutMs)
  }

  /** Start a stopped node again on its existing data (no format) and wait until it answers ApiVersions. */
  async startNode(id: number, timeoutMs = this.state.startTimeoutMs): Promise<void> {
    const node = this.node(id)
    if (livePid(node) !== undefined) throw new Error(`node ${id} is already running (pid ${livePid(node)})`)
    const handle = spawnNode(this.state, node)
    try {
      await waitReady(this.state, node, handle, Date.now() + timeoutMs)
    } catch (error) {
      await terminate(node, 'SIGKILL', 5000)
      throw error
    }
  }

  /** The last lines of each node's log, formatted for printing. */
  logTails(lines = 40): string {
    return formatLogTails(this.state.nodes, lines)
  }
}

/** Resolve the jars (first run only), format and start a cluster, and wait until every node answers ApiVersions. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const version = options.version ?? DEFAULT_KAFKA_VERSION
  const nodeCount = options.nodes ?? 1
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 9) throw new Error(`nodes must be 1..9`)
  const log = options.log ?? (() => {})
  const cacheDir = options.cacheDir ?? defaultCacheDir()
  const java = resolveJava(options.javaHome)

  const libDir = await ensureKafkaJars(version, { cacheDir, log })
  const tls = options.auth
    ? await ensureTlsMaterial({ cacheDir, keytool: siblingTool(java, 'keytool'), log })
    : undefined

  // A dir we made is removed by stop() unless asked to keep it; a given dir never is.
  const temporary = options.dir === undefined && !options.keepDir
  let dir: string
  if (options.dir === undefined) {
    const root = process.env.KAFKA_WIRE_STATE_ROOT || tmpdir()
    mkdirSync(root, { recursive: true })
    dir = await mkdtemp(join(root, 'kafka-wire-'))
  } else {
    dir = resolve(options.dir)
    prepareStateDir(dir)
  }

  for (let attempt = 1; ; attempt++) {
    const state = await layoutCluster({ ...options, version, nodeCount, dir, temporary, libDir, java, tls })
    const cluster = new Cluster(state)
    try {
      await formatNodes(state, options.auth ? (options.users ?? DEFAULT_USERS) : [])
      writeFileSync(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`)
      if (options.stopOnExit !== false) {
        active.add(cluster)
        hookProcessExit()
      }
      const deadline = Date.now() + state.startTimeoutMs
      const handles = state.nodes.map((node) => spawnNode(state, node))
      await Promise.all(state.nodes.map((node, i) => waitReady(state, node, handles[i]!, deadline)))
      return cluster
    } catch (error) {
      await Promise.all(state.nodes.map((node) => terminate(node, 'SIGKILL', 5000)))
      active.delete(cluster)
      const portClash = state.nodes.some((node) => /BindException|Address already in use/.test(logErrors(node.logPath)))
      if (portClash && options.basePort === undefined && attempt < 3) {
        log('a port was taken between choosing and binding it; retrying with new ports')
        continue
      }
      if (temporary && !keepState()) rmSync(dir, { recursive: true, force: true })
      throw error
    }
  }
}

/** A handle on a cluster started earlier (possibly by another process) from its state dir. */
export function openCluster(dir: string): Cluster {
  const file = join(resolve(dir), STATE_FILE)
  if (!existsSync(file)) throw new Error(`no Kafka cluster state in ${resolve(dir)} (${STATE_FILE} not found)`)
  return new Cluster(JSON.parse(readFileSync(file, 'utf8')) as ClusterState)
}

/** Status of each node of the cluster in `dir`; an empty list when there is no cluster state there. */
export async function clusterStatus(dir: string): Promise<NodeStatus[]> {
  if (!existsSync(join(resolve(dir), STATE_FILE))) return []
  return openCluster(dir).status()
}

/** Stop the cluster in `dir` (exactly the pids in its pid files). Returns the ids of nodes that were running. */
export async function stopCluster(dir: string): Promise<number[]> {
  if (!existsSync(join(resolve(dir), STATE_FILE))) return []
  const cluster = openCluster(dir)
  const running = cluster.nodes.filter((node) => livePid(node) !== undefined).map((node) => node.id)
  await cluster.stop()
  return running
}

/** Stop every cluster whose state dir lies under `root` (a test run's safety net). Returns how many had live nodes. */
export async function stopClustersUnder(root: string): Promise<number> {
  let stopped = 0
  for (const dir of findStateDirs(root)) {
    const cluster = openCluster(dir)
    if (cluster.nodes.some((node) => livePid(node) !== undefined)) {
      stopped++
      await Promise.all(cluster.nodes.map((node) => terminate(node, 'SIGKILL', 5000)))
    }
  }
  return stopped
}

/** Log tails of every node of every cluster under `root` (or of the cluster in `root` itself). */
export function logTailsUnder(root: string, lines = 40): string {
  return findStateDirs(root)
    .map((dir) => formatLogTails(openCluster(dir).nodes, lines))
    .join('\n')
}

/**
 * Send an ApiVersions v0 request with hand-made bytes and check the response's correlation id and error code 0.
 * Resolves when the broker answered; rejects on a connection error, a bad answer or the timeout.
 */
export function probeApiVersions(host: string, port: number, timeoutMs = 2000): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const clientId = Buffer.from('kafka-wire-probe')
    const correlationId = 0x4b57 // "KW"
    const request = Buffer.alloc(4 + 10 + clientId.length)
    request.writeInt32BE(10 + clientId.length, 0) // size
    request.writeInt16BE(18, 4) // api key ApiVersions
    request.writeInt16BE(0, 6) // api version 0
    request.writeInt32BE(correlationId, 8)
    request.writeInt16BE(clientId.length, 12)
    clientId.copy(request, 14)

    let received = Buffer.alloc(0)
    const socket = connect({ host, port })
    const done = (error?: Error) => {
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolvePromise()
    }
    const timer = setTimeout(() => done(new Error(`ApiVersions to ${host}:${port} timed out`)), timeoutMs)
    socket.on('connect', () => socket.write(request))
    socket.on('error', (error) => done(error))
    socket.on('close', () => done(new Error(`${host}:${port} closed the connection`)))
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 10) return
      const size = received.readInt32BE(0)
      if (received.length < 4 + size) return
      const echoed = received.readInt32BE(4)
      const errorCode = received.readInt16BE(8)
      if (echoed !== correlationId) done(new Error(`ApiVersions: correlation id ${echoed}, expected ${correlationId}`))
      else if (errorCode !== 0) done(new Error(`ApiVersions: error code ${errorCode}`))
      else done()
    })
  })
}

/**
 * The lib dir of a Kafka release, resolved with Maven into the cache when it is missing or incomplete (no marker),
 * so later runs need no network. Concurrent callers wait on a lock dir.
 */
export async function ensureKafkaJars(
  version: string,
  options: { cacheDir?: string; log?: (message: string) => void } = {},
): Promise<string> {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`Kafka version must look like 4.1.1, got ${version}`)
  const cacheDir = options.cacheDir ?? defaultCacheDir()
  const home = join(cacheDir, `kafka-${version}`)
  const libDir = join(home, 'lib')
  const marker = join(home, '.complete')
  const complete = () =>
    existsSync(marker) &&
    existsSync(join(libDir, `kafka_2.13-${version}.jar`)) &&
    existsSync(join(libDir, `kafka-clients-${version}.jar`))
  if (complete()) return libDir

  mkdirSync(home, { recursive: true })
  await withLock(join(home, '.lock'), async () => {
    if (complete()) return
    const profile = majorVersion(version) >= 4 ? 'kafka-4' : 'kafka-3'
    options.log?.(`resolving Kafka ${version} jars with Maven into ${libDir} (first run only)`)
    rmSync(libDir, { recursive: true, force: true })
    const args = ['-B', '-q', '-f', POM_PATH, '-P', profile, `-Dkafka.version=${version}`, `-Dlib.dir=${libDir}`]
    try {
      await run('mvn', [...args, 'dependency:copy-dependencies'], { timeoutMs: 20 * 60_000 })
    } catch (error) {
      rmSync(libDir, { recursive: true, force: true }) // no half-filled lib dir
      throw error
    }
    const jars = readdirSync(libDir).filter((name) => name.endsWith('.jar'))
    writeFileSync(marker, `${JSON.stringify({ version, profile, jars: jars.length, at: new Date().toISOString() })}\n`)
    if (!complete()) throw new Error(`Maven finished but ${libDir} lacks kafka_2.13-${version}.jar`)
  })
  return libDir
}

/** A test CA, a broker keystore (SAN localhost, 127.0.0.1), a truststore and a client keystore; made once. */
export async function ensureTlsMaterial(
  options: { cacheDir?: string; keytool?: string; log?: (message: string) => void } = {},
): Promise<TlsFiles> {
  const dir = join(options.cacheDir ?? defaultCacheDir(), 'tls')
  const files = tlsFiles(dir)
  if (existsSync(join(dir, '.complete'))) return files

  const keytool = options.keytool ?? siblingTool(resolveJava(undefined), 'keytool')
  mkdirSync(dirname(dir), { recursive: true })
  const work = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  mkdirSync(work, { recursive: true })
  options.log?.(`making test TLS material with keytool in ${dir} (first run only)`)
  const pass = ['-storepass', TLS_PASSWORD, '-keypass', TLS_PASSWORD]
  const kt = (...args: string[]) => run(keytool, [...args, ...TOOL_JVM_FLAGS.map((f) => `-J${f}`)], { cwd: work })
  const newKey = (alias: string, store: string, dname: string, ...ext: string[]) =>
    kt(
      '-genkeypair',
      '-alias',
      alias,
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-validity',
      '3650',
      '-dname',
      dname,
      '-storetype',
      'PKCS12',
      '-keystore',
      store,
      ...pass,
      ...ext,
    )
  const signed = async (alias: string, store: string, dname: string, ext: string[]) => {
    await newKey(alias, store, dname)
    await kt('-certreq', '-alias', alias, '-keystore', store, '-storepass', TLS_PASSWORD, '-file', `${alias}.csr`)
    await kt(
      '-gencert',
      '-alias',
      'ca',
      '-keystore',
      'ca.p12',
      '-storepass',
      TLS_PASSWORD,
      '-infile',
      `${alias}.csr`,
      '-outfile',
      `${alias}-cert.pem`,
      '-rfc',
      '-validity',
      '3650',
      ...ext,
    )
    await kt(
      '-importcert',
      '-alias',
      'ca',
      '-file',
      'ca.pem',
      '-keystore',
      store,
      '-storepass',
      TLS_PASSWORD,
      '-noprompt',
    )
    await kt(
      '-importcert',
      '-alias',
      alias,
      '-file',
      `${alias}-cert.pem`,
      '-keystore',
      store,
      '-storepass',
      TLS_PASSWORD,
    )
  }
  try {
    await newKey('ca', 'ca.p12', 'CN=kafka-wire test CA', '-ext', 'bc:c')
    await kt(
      '-exportcert',
      '-rfc',
      '-alias',
      'ca',
      '-keystore',
      'ca.p12',
      '-storepass',
      TLS_PASSWORD,
      '-file',
      'ca.pem',
    )
    await Promise.all([
      kt(
        '-importcert',
        '-alias',
        'ca',
        '-file',
        'ca.pem',
        '-storetype',
        'PKCS12',
        '-keystore',
        'truststore.p12',
        '-storepass',
        TLS_PASSWORD,
        '-noprompt',
      ),
      signed('broker', 'broker.p12', 'CN=localhost', [
        '-ext',
        'SAN=dns:localhost,ip:127.0.0.1',
        '-ext',
        'EKU=serverAuth,clientAuth',
      ]),
      signed('client', 'client.p12', 'CN=kafka-wire-client', ['-ext', 'EKU=clientAuth']),
    ])
    // PEM key for clients that want one (kcat, Node's key/cert); the PKCS12 is enough for Node's pfx.
    await run(
      'openssl',
      [
        'pkcs12',
        '-in',
        'client.p12',
        '-nocerts',
        '-nodes',
        '-passin',
        `pass:${TLS_PASSWORD}`,
        '-out',
        'client-key.pem',
      ],
      { cwd: work },
    ).catch(() => options.log?.('openssl not found: no client-key.pem'))
    writeFileSync(join(work, '.complete'), `${new Date().toISOString()}\n`)
    try {
      renameSync(work, dir)
    } catch (error) {
      // Another process finished first; use its files.
      if (!existsSync(join(dir, '.complete'))) throw error
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return files
}

// ---------------------------------------------------------------------------------------------------------------
// Layout: ports, properties, format

interface LayoutInput extends ClusterOptions {
  version: string
  nodeCount: number
  dir: string
  temporary: boolean
  libDir: string
  java: string
  tls: TlsFiles | undefined
}

async function layoutCluster(input: LayoutInput): Promise<ClusterState> {
  const host = input.host ?? '127.0.0.1'
  const names: Array<ListenerName | 'CONTROLLER'> = ['PLAINTEXT', 'CONTROLLER', ...(input.auth ? AUTH_LISTENERS : [])]
  const free = input.basePort === undefined ? await freePorts(host, names.length * input.nodeCount) : []
  const nodes: NodeState[] = []
  for (let k = 0; k < input.nodeCount; k++) {
    const id = k + 1
    const dir = join(input.dir, `node-${id}`)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(join(dir, 'data'), { recursive: true })
    const ports: NodeState['ports'] = {}
    names.forEach((name, i) => {
      ports[name] =
        input.basePort === undefined ? free[k * names.length + i]! : input.basePort + 10 * k + PORT_SLOTS[name]
    })
    nodes.push({
      id,
      dir,
      dataDir: join(dir, 'data'),
      propertiesPath: join(dir, 'server.properties'),
      logConfigPath: join(dir, 'log.properties'),
      logPath: join(dir, 'kafka.log'),
      pidPath: join(dir, 'kafka.pid'),
      ports,
    })
  }
  const state: ClusterState = {
    version: input.version,
    clusterId: newClusterId(),
    dir: input.dir,
    temporary: input.temporary,
    host,
    auth: input.auth ?? false,
    users: input.auth ? (input.users ?? DEFAULT_USERS) : [],
    tls: input.tls,
    libDir: input.libDir,
    java: input.java,
    heap: input.heap ?? '512m',
    stopTimeoutMs: input.stopTimeoutMs ?? 15_000,
    startTimeoutMs: input.startTimeoutMs ?? 120_000,
    nodes,
  }
  const kafka4 = majorVersion(state.version) >= 4
  for (const node of nodes) {
    writeProperties(node.propertiesPath, serverProperties(state, node, input))
    writeFileSync(node.logConfigPath, kafka4 ? log4j2Config('INFO', 'SYSTEM_OUT') : log4jConfig('INFO', 'System.out'))
  }
  writeFileSync(
    join(input.dir, 'tools-log.properties'),
    kafka4 ? log4j2Config('WARN', 'SYSTEM_ERR') : log4jConfig('WARN', 'System.err'),
  )
  return state
}

function serverProperties(state: ClusterState, node: NodeState, input: LayoutInput): Record<string, string> {
  const h = state.host
  const n = state.nodes.length
  const replication = Math.min(n, 3)
  const minIsr = n >= 3 ? 2 : 1
  const enabled = (Object.keys(node.ports) as Array<ListenerName | 'CONTROLLER'>).filter(
    (name) => name !== 'CONTROLLER',
  )
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': state.nodes.map((v) => `${v.id}@${h}:${v.ports.CONTROLLER}`).join(','),
    'controller.listener.names': 'CONTROLLER',
    listeners: [...enabled, 'CONTROLLER' as const].map((name) => `${name}://${h}:${node.ports[name]}`).join(','),
    'advertised.listeners': enabled.map((name) => `${name}://${h}:${node.ports[name]}`).join(','),
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map':
      'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL',
    'log.dirs': node.dataDir,
    'num.partitions': 1,
    'auto.create.topics.enable': input.autoCreateTopics ?? false,
    'default.replication.factor': replication,
    'min.insync.replicas': minIsr,
    'offsets.topic.replication.factor': replication,
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': minIsr,
    'group.initial.rebalance.delay.ms': 0,
  }
  if (majorVersion(state.version) >= 4) {
    props['share.coordinator.state.topic.replication.factor'] = replication
    props['share.coordinator.state.topic.min.isr'] = minIsr
  }
  if (state.auth && state.tls) {
    const users = state.users.map((u) => `user_${u.username}="${u.password}"`).join(' ')
    props['sasl.enabled.mechanisms'] = SASL_MECHANISMS.join(',')
    for (const listener of ['sasl_plaintext', 'sasl_ssl']) {
      props[`listener.name.${listener}.plain.sasl.jaas.config`] =
        `org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`
      for (const mechanism of ['scram-sha-256', 'scram-sha-512']) {
        props[`listener.name.${listener}.${mechanism}.sasl.jaas.config`] =
          'org.apache.kafka.common.security.scram.ScramLoginModule required;'
      }
      // OAUTHBEARER with Kafka's unsecured JWT validator (tokens with alg "none"): for tests only.
      props[`listener.name.${listener}.oauthbearer.sasl.jaas.config`] =
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";'
    }
    Object.assign(props, {
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': state.tls.brokerKeystorePath,
      'ssl.keystore.password': state.tls.password,
      'ssl.key.password': state.tls.password,
      'ssl.truststore.type': 'PKCS12',
      'ssl.truststore.location': state.tls.truststorePath,
      'ssl.truststore.password': state.tls.password,
      'listener.name.mtls.ssl.client.auth': 'required',
    })
  }
  Object.assign(props, input.serverProperties)
  return Object.fromEntries(Object.entries(props).map(([key, value]) => [key, String(value)]))
}

async function formatNodes(state: ClusterState, users: KafkaUser[]): Promise<void> {
  const scram = users.flatMap((u) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
      '--add-scram',
      `${m}=[name=${u.username},password=${u.password}]`,
    ]),
  )
  await Promise.all(
    state.nodes.map((node) =>
      run(
        state.java,
        [
          ...TOOL_JVM_FLAGS,
          logConfigFlag(state.version, join(state.dir, 'tools-log.properties')),
          '-cp',
          join(state.libDir, '*'),
          'kafka.tools.StorageTool',
          'format',
          '-t',
          state.clusterId,
          '-c',
          node.propertiesPath,
          ...scram,
        ],
        { timeoutMs: 120_000 },
      ),
    ),
  )
}

/**
 * The JVM flag that makes Kafka's command-line tools (console clients, perf tools, admin commands) of `version`
 * log WARN and above to stderr, so their stdout carries only their output. The config file lives in the cache.
 */
export function toolsLogFlag(version: string = DEFAULT_KAFKA_VERSION, cacheDir: string = defaultCacheDir()): string {
  const kafka4 = majorVersion(version) >= 4
  const file = join(cacheDir, kafka4 ? 'tools-log4j2.properties' : 'tools-log4j.properties')
  mkdirSync(cacheDir, { recursive: true })
  writeFileSync(file, kafka4 ? log4j2Config('WARN', 'SYSTEM_ERR') : log4jConfig('WARN', 'System.err'))
  return logConfigFlag(version, file)
}

function log4j2Config(level: string, target: string): string {
  return [
    'status = warn',
    'appender.out.type = Console',
    'appender.out.name = OUT',
    `appender.out.target = ${target}`,
    'appender.out.layout.type = PatternLayout',
    'appender.out.layout.pattern = [%d] %p %m (%c)%n',
    `rootLogger.level = ${level}`,
    'rootLogger.appenderRef.out.ref = OUT',
    'logger.state.name = state.change.logger',
    'logger.state.level = WARN',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = WARN',
    'logger.config.name = org.apache.kafka.common.config.AbstractConfig',
    'logger.config.level = WARN',
    '',
  ].join('\n')
}

function log4jConfig(level: string, target: string): string {
  return [
    `log4j.rootLogger=${level}, out`,
    'log4j.appender.out=org.apache.log4j.ConsoleAppender',
    `log4j.appender.out.Target=${target}`,
    'log4j.appender.out.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.state.change.logger=WARN',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN',
    '',
  ].join('\n')
}

function logConfigFlag(version: string, path: string): string {
  return majorVersion(version) >= 4 ? `-Dlog4j2.configurationFile=${path}` : `-Dlog4j.configuration=file:${path}`
}

function writeProperties(path: string, props: Record<string, string>): void {
  const escapeValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
  const body = Object.entries(props).map(([key, value]) => `${key}=${escapeValue(value)}`)
  writeFileSync(path, `# written by kafka-wire local-broker\n${body.join('\n')}\n`)
}

function prepareStateDir(dir: string): void {
  if (existsSync(join(dir, STATE_FILE))) {
    const old = openCluster(dir)
    const running = old.nodes.filter((node) => livePid(node) !== undefined)
    if (running.length > 0) {
      throw new Error(
        `a Kafka cluster is already running in ${dir} (node ${running.map((n) => n.id).join(', ')}); stop it first`,
      )
    }
    for (const node of old.nodes) rmSync(node.dir, { recursive: true, force: true })
    rmSync(join(dir, STATE_FILE), { force: true })
  }
  mkdirSync(dir, { recursive: true })
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

function spawnNode(state: ClusterState, node: NodeState): ChildProcess {
  const out = openSync(node.logPath, 'a')
  const args = [
    `-Xms${state.heap}`,
    `-Xmx${state.heap}`,
    ...JVM_FLAGS,
    logConfigFlag(state.version, node.logConfigPath),
    '-cp',
    join(state.libDir, '*'),
    'kafka.Kafka',
    node.propertiesPath,
  ]
  let child: ChildProcess
  try {
    child = spawn(state.java, args, { cwd: node.dir, detached: true, stdio: ['ignore', out, out] })
  } finally {
    closeSync(out)
  }
  child.on('error', () => {}) // reported through the exit check of waitReady
  if (child.pid === undefined) throw new Error(`could not start ${state.java} for node ${node.id}`)
  writeFileSync(node.pidPath, `${child.pid}\n`)
  child.unref()
  return child
}

async function waitReady(state: ClusterState, node: NodeState, child: ChildProcess, deadline: number): Promise<void> {
  const port = node.ports.PLAINTEXT!
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const how = child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`
      throw new Error(`Kafka node ${node.id} exited during startup (${how})\n${formatLogTails([node], 40)}`)
    }
    try {
      await probeApiVersions(state.host, port, 2000)
      return
    } catch {}
    if (Date.now() > deadline) {
      throw new Error(
        `Kafka node ${node.id} did not answer ApiVersions on ${state.host}:${port} within ${state.startTimeoutMs} ms\n` +
          formatLogTails([node], 40),
      )
    }
    await sleep(200)
  }
}

/** Signal a node's process (if alive and ours), wait for it to die, SIGKILL after the timeout; remove its pid file. */
async function terminate(node: NodeState, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  const pid = livePid(node)
  if (pid !== undefined) {
    signalPid(pid, signal)
    if (!(await waitDead(pid, timeoutMs)) && signal !== 'SIGKILL') {
      signalPid(pid, 'SIGKILL')
      await waitDead(pid, 5000)
    }
  }
  rmSync(node.pidPath, { force: true })
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {}
}

async function waitDead(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false
    await sleep(100)
  }
  return true
}

/** The pid in the node's pid file, if that process is alive and its command line names the node's properties. */
function livePid(node: NodeState): number | undefined {
  let pid: number
  try {
    pid = Number.parseInt(readFileSync(node.pidPath, 'utf8'), 10)
  } catch {
    return undefined
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes(node.propertiesPath) ? pid : undefined
  } catch {
    return process.platform === 'linux' ? undefined : pid // no /proc: trust the pid file
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // A zombie (dead, not yet reaped) still answers kill 0.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return process.platform !== 'linux'
  }
}

// Clusters started by this process, killed if it exits without stop().
const active = new Set<Cluster>()
let exitHooked = false

function hookProcessExit(): void {
  if (exitHooked) return
  exitHooked = true
  process.on('exit', killActiveSync)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killActiveSync()
      // Alone on this signal: restore the default action (terminate) and re-raise. Otherwise the owner decides.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal)
        process.kill(process.pid, signal)
      }
    }
    process.on(signal, onSignal)
  }
}

function killActiveSync(): void {
  for (const cluster of active) {
    for (const node of cluster.nodes) {
      const pid = livePid(node)
      if (pid !== undefined) signalPid(pid, 'SIGKILL')
      rmSync(node.pidPath, { force: true })
    }
    if (cluster.state.temporary && !keepState()) rmSync(cluster.dir, { recursive: true, force: true })
  }
  active.clear()
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function formatLogTails(nodes: readonly NodeState[], lines: number): string {
  return nodes
    .map((node) => {
      const errors = logErrors(node.logPath)
      const head = errors ? `----- node ${node.id}: first errors -----\n${errors}\n` : ''
      return `${head}----- node ${node.id}: ${node.logPath} (last ${lines} lines) -----\n${readTail(node.logPath, lines)}`
    })
    .join('\n')
}

/** The first ERROR/FATAL lines of a log, each with the exception line that follows it: the cause, usually. */
function logErrors(path: string, max = 8): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return ''
  }
  const lines = text.split('\n')
  const found: string[] = []
  for (let i = 0; i < lines.length && found.length < max; i++) {
    if (/^\[[^\]]+\] (ERROR|FATAL) /.test(lines[i]!)) {
      found.push(lines[i]!)
      if (lines[i + 1] && !lines[i + 1]!.startsWith('[')) found.push(lines[i + 1]!)
    }
  }
  return found.join('\n')
}

function readTail(path: string, lines: number): string {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return '(no log)'
  }
  try {
    const size = statSync(path).size
    const length = Math.min(size, 64 * 1024 + lines * 400)
    const buffer = Buffer.alloc(length)
    readSync(fd, buffer, 0, length, size - length)
    const all = buffer.toString('utf8').split('\n')
    if (all.at(-1) === '') all.pop()
    return all.slice(-lines).join('\n')
  } finally {
    closeSync(fd)
  }
}

function findStateDirs(root: string): string[] {
  const found: string[] = []
  const visit = (dir: string, depth: number) => {
    if (existsSync(join(dir, STATE_FILE))) {
      found.push(dir)
      return
    }
    if (depth === 0) return
    let entries: string[] = []
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
    } catch {}
    for (const name of entries) visit(join(dir, name), depth - 1)
  }
  visit(resolve(root), 2)
  return found
}

function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

function majorVersion(version: string): number {
  return Number(version.split('.')[0])
}

function defaultCacheDir(): string {
  return process.env.KAFKA_WIRE_CACHE || join(homedir(), '.cache', 'kafka-wire')
}

function keepState(): boolean {
  return process.env.KAFKA_WIRE_KEEP_STATE === '1'
}

/** The java binary: option, $KAFKA_WIRE_JAVA_HOME, Debian's Java 17, $JAVA_HOME, then PATH. */
export function resolveJava(javaHome: string | undefined): string {
  const candidates = [
    javaHome,
    process.env.KAFKA_WIRE_JAVA_HOME,
    '/usr/lib/jvm/java-17-openjdk-amd64',
    process.env.JAVA_HOME,
  ]
  for (const home of candidates) {
    if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java')
  }
  if (javaHome) throw new Error(`no bin/java in ${javaHome}`)
  return 'java'
}

function siblingTool(java: string, tool: string): string {
  return java === 'java' ? tool : join(dirname(java), tool)
}

function tlsFiles(dir: string): TlsFiles {
  const files: TlsFiles = {
    caPath: join(dir, 'ca.pem'),
    clientPfxPath: join(dir, 'client.p12'),
    clientCertPath: join(dir, 'client-cert.pem'),
    password: TLS_PASSWORD,
    brokerKeystorePath: join(dir, 'broker.p12'),
    truststorePath: join(dir, 'truststore.p12'),
  }
  if (existsSync(join(dir, 'client-key.pem'))) files.clientKeyPath = join(dir, 'client-key.pem')
  return files
}

async function freePorts(host: string, count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((ok, fail) => {
          const server = createServer()
          server.once('error', fail)
          server.listen(0, host, () => ok(server))
        }),
    ),
  )
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  await Promise.all(servers.map((server) => new Promise((ok) => server.close(ok))))
  return ports
}

async function withLock<T>(lockDir: string, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30 * 60_000
  for (;;) {
    try {
      mkdirSync(lockDir)
      writeFileSync(join(lockDir, 'pid'), `${process.pid}\n`)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      let owner = Number.NaN
      try {
        owner = Number.parseInt(readFileSync(join(lockDir, 'pid'), 'utf8'), 10)
      } catch {}
      if (Number.isInteger(owner) && !isAlive(owner)) rmSync(lockDir, { recursive: true, force: true })
      else if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockDir}`)
      else await sleep(500)
    }
  }
  try {
    return await body()
  } finally {
    rmSync(lockDir, { recursive: true, force: true })
  }
}

function run(command: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (!error) return ok(stdout)
        const output = `${stdout}${stderr}`.trim().split('\n').slice(-40).join('\n')
        const how = error.killed ? `timed out after ${options.timeoutMs ?? 120_000} ms` : `exit code ${error.code}`
        fail(new Error(`${command} ${args.join(' ')} failed (${how})\n${output}`))
      },
    )
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms))
}
