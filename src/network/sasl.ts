import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { SaslAuthenticate } from '../protocol/sasl-authenticate.js'
import { SaslHandshake } from '../protocol/sasl-handshake.js'
import type { Connection } from './connection.js'
import { AuthenticationError } from './errors.js'

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512'

export interface OAuthBearerToken {
  value: string
  /** SASL extensions sent with the token (KIP-342). */
  extensions?: Record<string, string>
}

export type SaslConfig =
  | { mechanism: 'PLAIN'; username: string; password: string }
  | { mechanism: ScramMechanism; username: string; password: string }
  | { mechanism: 'OAUTHBEARER'; token: () => Promise<string | OAuthBearerToken> | string | OAuthBearerToken }

/** One SASL exchange: given the server's last message (null at the start), the next client message. */
interface Exchange {
  /** Next client message, or null when the exchange is complete. */
  step(server: Buffer | null): Promise<Buffer | null>
}

const MIN_SCRAM_ITERATIONS = 4096
const SASL_AUTHENTICATION_FAILED = 58
const UNSUPPORTED_SASL_MECHANISM = 33
const ILLEGAL_SASL_STATE = 34

/**
 * The credentials of one SASL configuration, kept in private fields so that no inspect, log or
 * JSON of our objects can print them.
 */
class SaslCredentials {
  readonly mechanism: string
  readonly #config: SaslConfig

  constructor(config: SaslConfig) {
    this.mechanism = config.mechanism
    this.#config = config
  }

  exchange(): Exchange {
    const c = this.#config
    switch (c.mechanism) {
      case 'PLAIN':
        return plainExchange(c.username, c.password)
      case 'SCRAM-SHA-256':
      case 'SCRAM-SHA-512':
        return scramExchange(c.mechanism, c.username, c.password)
      case 'OAUTHBEARER':
        return oauthExchange(c.token)
      default:
        throw new AuthenticationError(`unsupported SASL mechanism ${(c as { mechanism: string }).mechanism}`, {
          code: 'ERR_SASL_MECHANISM',
        })
    }
  }

  toJSON(): object {
    return { mechanism: this.mechanism }
  }
}

/**
 * An `authenticate` hook for Connection: SaslHandshake, then SaslAuthenticate rounds until the
 * mechanism is done, then a re-authentication timer (KIP-368) when the broker gave the session a
 * lifetime.
 */
export function saslAuthenticator(config: SaslConfig): (connection: Connection) => Promise<void> {
  const credentials = new SaslCredentials(config)
  const authenticate = async (connection: Connection): Promise<void> => {
    const broker = connection.address
    const handshake = await connection.request(SaslHandshake, { mechanism: credentials.mechanism }, { priority: true })
    if (handshake.errorCode !== 0) {
      const offered = handshake.mechanisms.join(', ') || 'none'
      const why =
        handshake.errorCode === UNSUPPORTED_SASL_MECHANISM
          ? `${broker} does not enable SASL mechanism ${credentials.mechanism} (it offers ${offered})`
          : `${broker} refused the SASL handshake (error code ${handshake.errorCode})`
      throw new AuthenticationError(why, { broker, code: 'ERR_SASL_MECHANISM' })
    }
    const exchange = credentials.exchange()
    let server: Buffer | null = null
    let lifetimeMs = 0
    for (;;) {
      const message = await exchange.step(server)
      if (message === null) break
      const response = await connection.request(SaslAuthenticate, { authBytes: message }, { priority: true })
      if (response.errorCode !== 0) {
        const detail = response.errorMessage ? `: ${response.errorMessage}` : ''
        const what =
          response.errorCode === SASL_AUTHENTICATION_FAILED
            ? 'authentication failed'
            : response.errorCode === ILLEGAL_SASL_STATE
              ? 'SASL state error'
              : `SASL error code ${response.errorCode}`
        throw new AuthenticationError(`${credentials.mechanism} with ${broker}: ${what}${detail}`, { broker })
      }
      server = response.authBytes
      lifetimeMs = Number(response.sessionLifetimeMs)
    }
    if (lifetimeMs > 0) {
      // Like the Java client: somewhere in 85-95% of the lifetime, so a fleet does not re-authenticate at once.
      const after = Math.max(0, Math.floor(lifetimeMs * (0.85 + Math.random() * 0.1)))
      connection.scheduleReauthentication(after, () => authenticate(connection))
    }
  }
  return authenticate
}

function plainExchange(username: string, password: string): Exchange {
  let sent = false
  return {
    async step() {
      if (sent) return null
      sent = true
      return Buffer.from(`\u0000${username}\u0000${password}`, 'utf8')
    },
  }
}

function oauthExchange(provider: () => Promise<string | OAuthBearerToken> | string | OAuthBearerToken): Exchange {
  let sent = false
  return {
    async step(server) {
      if (sent) {
        // A server message after our token is an error report (RFC 7628 section 3.2.2); answer with the
        // single 0x01 the protocol asks for, and the broker then fails the exchange with its message.
        if (server !== null && server.length > 0) return Buffer.from([0x01])
        return null
      }
      sent = true
      const token = await provider()
      const value = typeof token === 'string' ? token : token.value
      const extensions = typeof token === 'string' ? {} : (token.extensions ?? {})
      let ext = ''
      for (const [k, v] of Object.entries(extensions)) ext += `${k}=${v}\u0001`
      return Buffer.from(`n,,\u0001auth=Bearer ${value}\u0001${ext}\u0001`, 'utf8')
    },
  }
}

/** RFC 5802 saslname: ',' and '=' escaped. */
function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C')
}

function parseAttributes(message: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of message.split(',')) {
    const eq = part.indexOf('=')
    if (eq === 1) out.set(part[0], part.slice(2))
  }
  return out
}

function pbkdf2Async(
  password: string,
  salt: Buffer,
  iterations: number,
  length: number,
  digest: string,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, length, digest, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** RFC 5802 / RFC 7677 SCRAM client, with the server's signature verified at the end. */
export function scramExchange(mechanism: ScramMechanism, username: string, password: string, nonce?: string): Exchange {
  const digest = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512'
  const keyLength = mechanism === 'SCRAM-SHA-256' ? 32 : 64
  const clientNonce = nonce ?? randomBytes(24).toString('base64')
  const clientFirstBare = `n=${saslName(username)},r=${clientNonce}`
  let stage = 0
  let expectedServerSignature: Buffer | null = null
  const fail = (why: string) => new AuthenticationError(`${mechanism}: ${why}`, { code: 'ERR_SCRAM' })
  return {
    async step(server) {
      switch (stage++) {
        case 0:
          return Buffer.from(`n,,${clientFirstBare}`, 'utf8')
        case 1: {
          if (server === null) throw fail('no server-first message')
          const serverFirst = server.toString('utf8')
          const attrs = parseAttributes(serverFirst)
          if (attrs.has('e')) throw fail(`server error ${attrs.get('e')}`)
          const combinedNonce = attrs.get('r') ?? ''
          const salt = Buffer.from(attrs.get('s') ?? '', 'base64')
          const iterations = Number(attrs.get('i'))
          if (!combinedNonce.startsWith(clientNonce) || combinedNonce.length <= clientNonce.length) {
            throw fail('the server nonce does not extend ours')
          }
          if (!Number.isInteger(iterations) || iterations < MIN_SCRAM_ITERATIONS) {
            throw fail(`iteration count ${attrs.get('i')} is below ${MIN_SCRAM_ITERATIONS}`)
          }
          if (salt.length === 0) throw fail('no salt in the server-first message')
          const salted = await pbkdf2Async(password, salt, iterations, keyLength, digest)
          const clientKey = createHmac(digest, salted).update('Client Key').digest()
          const storedKey = createHash(digest).update(clientKey).digest()
          const clientFinalWithoutProof = `c=biws,r=${combinedNonce}`
          const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`
          const clientSignature = createHmac(digest, storedKey).update(authMessage).digest()
          const proof = Buffer.alloc(clientKey.length)
          for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i] ^ clientSignature[i]
          const serverKey = createHmac(digest, salted).update('Server Key').digest()
          expectedServerSignature = createHmac(digest, serverKey).update(authMessage).digest()
          return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`, 'utf8')
        }
        case 2: {
          if (server === null || expectedServerSignature === null) throw fail('no server-final message')
          const attrs = parseAttributes(server.toString('utf8'))
          if (attrs.has('e')) throw fail(`server error ${attrs.get('e')}`)
          const signature = Buffer.from(attrs.get('v') ?? '', 'base64')
          if (
            signature.length !== expectedServerSignature.length ||
            !timingSafeEqual(signature, expectedServerSignature)
          ) {
            throw fail('the server signature does not verify: this broker does not know our password')
          }
          return null
        }
        default:
          return null
      }
    },
  }
}
