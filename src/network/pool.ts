import { type BackoffOptions, backoffDelay, sleep } from './backoff.js'
import { Connection, type ConnectionOptions } from './connection.js'
import { ConnectionError } from './errors.js'
import { type SaslConfig, saslAuthenticator } from './sasl.js'

/**
 * Traffic classes get separate connections to a broker, so a long fetch poll or a JoinGroup never
 * sits in front of a heartbeat or a produce on the same socket.
 */
export type TrafficClass = 'produce' | 'fetch' | 'group' | 'admin'

export const TRAFFIC_CLASSES: readonly TrafficClass[] = ['produce', 'fetch', 'group', 'admin']

export interface PoolOptions extends Omit<ConnectionOptions, 'host' | 'port' | 'maxInFlight' | 'label'> {
  /** Pipeline depth per traffic class. */
  maxInFlight?: Partial<Record<TrafficClass, number>>
  /** Reconnect backoff after failed attempts. */
  reconnectBackoff?: BackoffOptions
  /** Close connections with nothing in flight after this long unused; 0 keeps them. */
  idleTimeoutMs?: number
  /** SASL credentials; turned into an authenticate hook at once and never stored as given. */
  sasl?: SaslConfig
}

const DEFAULT_IN_FLIGHT: Record<TrafficClass, number> = { produce: 5, fetch: 1, group: 5, admin: 10 }

interface Slot {
  connection: Connection | null
  connecting: Promise<Connection> | null
  failures: number
  notBefore: number
  lastUsed: number
}

/** Lazily created connections per broker address and traffic class, reconnected with backoff. */
export class ConnectionPool {
  private readonly slots = new Map<string, Slot>()
  private readonly options: PoolOptions
  private idleTimer: NodeJS.Timeout | null = null
  private closed = false

  constructor(options: PoolOptions = {}) {
    const { sasl, ...rest } = options
    this.options = sasl ? { ...rest, authenticate: saslAuthenticator(sasl) } : rest
    const idle = options.idleTimeoutMs ?? 0
    if (idle > 0) {
      this.idleTimer = setInterval(() => this.closeIdle(idle), Math.max(1000, idle / 2))
      this.idleTimer.unref()
    }
  }

  /** A ready connection to host:port for `trafficClass`, connecting (after any backoff) if needed. */
  async get(host: string, port: number, trafficClass: TrafficClass, label?: string): Promise<Connection> {
    if (this.closed) throw new ConnectionError('ERR_POOL_CLOSED', 'the connection pool is closed')
    const key = `${host}:${port}/${trafficClass}`
    let slot = this.slots.get(key)
    if (slot === undefined) {
      slot = { connection: null, connecting: null, failures: 0, notBefore: 0, lastUsed: 0 }
      this.slots.set(key, slot)
    }
    slot.lastUsed = Date.now()
    if (slot.connection !== null && !slot.connection.closed) return slot.connection
    if (slot.connecting === null) slot.connecting = this.open(slot, host, port, trafficClass, label)
    return slot.connecting
  }

  private async open(
    slot: Slot,
    host: string,
    port: number,
    trafficClass: TrafficClass,
    label?: string,
  ): Promise<Connection> {
    try {
      const wait = slot.notBefore - Date.now()
      if (wait > 0) await sleep(wait)
      if (this.closed) throw new ConnectionError('ERR_POOL_CLOSED', 'the connection pool is closed')
      const connection = new Connection({
        ...this.options,
        host,
        port,
        label,
        maxInFlight: this.options.maxInFlight?.[trafficClass] ?? DEFAULT_IN_FLIGHT[trafficClass],
      })
      connection.on('close', () => {
        if (slot.connection === connection) slot.connection = null
      })
      await connection.connect()
      slot.failures = 0
      slot.notBefore = 0
      slot.connection = connection
      if (this.closed) connection.close()
      return connection
    } catch (err) {
      slot.failures++
      slot.notBefore = Date.now() + backoffDelay(slot.failures - 1, this.options.reconnectBackoff)
      throw err
    } finally {
      slot.connecting = null
    }
  }

  /** Connections currently open, for diagnostics and tests. */
  openConnections(): Connection[] {
    const out: Connection[] = []
    for (const slot of this.slots.values())
      if (slot.connection !== null && !slot.connection.closed) out.push(slot.connection)
    return out
  }

  /** Close every connection to host:port (e.g. a broker left the cluster). */
  closeBroker(host: string, port: number): void {
    const prefix = `${host}:${port}/`
    for (const [key, slot] of this.slots) {
      if (!key.startsWith(prefix)) continue
      slot.connection?.close()
      this.slots.delete(key)
    }
  }

  private closeIdle(idleMs: number): void {
    const cutoff = Date.now() - idleMs
    for (const slot of this.slots.values()) {
      const c = slot.connection
      if (c !== null && c.inFlight === 0 && slot.lastUsed < cutoff) {
        slot.connection = null
        c.close()
      }
    }
  }

  close(): void {
    this.closed = true
    if (this.idleTimer !== null) clearInterval(this.idleTimer)
    for (const slot of this.slots.values()) slot.connection?.close()
    this.slots.clear()
  }
}
