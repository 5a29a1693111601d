// The connection options of the `kafka-wire` commands: --command-config files, the SASL/TLS flags over them,
// $KAFKA_SASL_PASSWORD and $KAFKA_BROKERS as fallbacks, and one-line errors before anything connects (UsageError
// for a flag, ConfigError naming the file for a file).
import * as assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import { ConfigError } from '../../src/client/errors.js'
import type { SaslConfig } from '../../src/network/sasl.js'
import { connectionConfigFromSettings } from '../../src/tools/client-settings.js'
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  type CommandConnection,
  connectionSettingsOf,
  isConnectionOption,
  parseCommand,
  UsageError,
} from '../../src/tools/command-line.js'
import { parseProperties } from '../../src/tools/config-file.js'

const dir = mkdtempSync(join(tmpdir(), 'kafka-wire-cli-connection-'))
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n'
writeFileSync(join(dir, 'ca.pem'), PEM)
writeFileSync(join(dir, 'client.pem'), PEM)
writeFileSync(join(dir, 'client.key'), KEY)
writeFileSync(join(dir, 'ca.der'), Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x02]))
writeFileSync(join(dir, 'token'), 'header.claims.\n')
writeFileSync(join(dir, 'empty-token'), '\n')

function file(name: string, lines: string[]): string {
  const path = join(dir, name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

/** The command line as a command parses it, then its connection; `env` stands for process.env. */
function connect(argv: string[], env: NodeJS.ProcessEnv = {}): { connection: CommandConnection; warnings: string[] } {
  const { values } = parseCommand({ args: argv, options: { ...CONNECTION_OPTIONS } })
  return connectionSettingsOf(values, env)
}

function sasl(c: CommandConnection): SaslConfig {
  assert.ok(c.sasl, 'SASL is on')
  return { ...c.sasl }
}

function fails(fn: () => unknown, type: typeof UsageError | typeof ConfigError, pattern: RegExp): string {
  let message = ''
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`)
    message = err.message
    assert.match(err.message, pattern)
    assert.ok(!err.message.includes('\n'), 'one line')
    return true
  })
  return message
}

test.after(() => rmSync(dir, { recursive: true, force: true }))

test('flags alone: SASL_PLAINTEXT with SCRAM-SHA-512, brokers from --brokers over $KAFKA_BROKERS', () => {
  const { connection, warnings } = connect(
    [
      '--brokers',
      'b:9094',
      '--security.protocol',
      'sasl_plaintext',
      '--sasl.mechanism',
      'scram-sha-512',
      '--sasl.username',
      'alice',
      '--sasl.password',
      'alice-secret',
    ],
    { KAFKA_BROKERS: 'env:9092' },
  )
  assert.equal(connection.brokers, 'b:9094')
  assert.deepEqual(sasl(connection), { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'alice-secret' })
  assert.equal(connection.tls, undefined)
  assert.deepEqual(warnings, [])
})

test('no security options: plaintext, brokers from $KAFKA_BROKERS, nothing else set', () => {
  const { connection } = connect([], { KAFKA_BROKERS: 'env:9092', KAFKA_SASL_PASSWORD: 'lying-around' })
  assert.deepEqual(connection, { brokers: 'env:9092' })
})

test('a --command-config file: Java settings and JAAS, the PEM CA read, consumer/producer settings warned', () => {
  const path = file('client.properties', [
    'bootstrap.servers=f1:9093,f2:9093',
    'client.id=ops-tool',
    'request.timeout.ms=20000',
    'security.protocol=SASL_SSL',
    'sasl.mechanism=SCRAM-SHA-256',
    'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3cret";',
    `ssl.ca.location=${join(dir, 'ca.pem')}`,
    'group.id=shared-with-java',
    'acks=all',
    'key.deserializer=org.apache.kafka.common.serialization.StringDeserializer',
  ])
  const { connection, warnings } = connect(['--command-config', path], { KAFKA_BROKERS: 'env:9092' })
  assert.equal(connection.brokers, 'f1:9093,f2:9093', "the file's bootstrap.servers before $KAFKA_BROKERS")
  assert.equal(connection.clientId, 'ops-tool')
  assert.equal(connection.requestTimeoutMs, 20000)
  assert.deepEqual(sasl(connection), { mechanism: 'SCRAM-SHA-256', username: 'alice', password: 's3cret' })
  const tls = connection.tls as { ca: Buffer }
  assert.equal(tls.ca.toString(), PEM)
  assert.equal(warnings.length, 1, 'one line for all the ignored settings')
  assert.equal(warnings[0], `${path}: ignored, not connection settings: group.id, acks, key.deserializer`)
})

test('flags override the file, setting by setting; --brokers overrides bootstrap.servers', () => {
  const path = file('override.properties', [
    'bootstrap.servers=f:9093',
    'security.protocol=SASL_SSL',
    'sasl.mechanism=PLAIN',
    'sasl.username=alice',
    'sasl.password=from-file',
  ])
  const { connection } = connect([
    '--command-config',
    path,
    '--brokers',
    'flag:9093',
    '--sasl.mechanism',
    'SCRAM-SHA-512',
    '--sasl.password',
    'from-flag',
    '--ssl.ca.location',
    join(dir, 'ca.pem'),
    '--ssl.endpoint.identification.algorithm',
    'none',
  ])
  assert.equal(connection.brokers, 'flag:9093')
  assert.deepEqual(sasl(connection), { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'from-flag' })
  const tls = connection.tls as { ca: Buffer; checkServerIdentity: unknown }
  assert.equal(typeof tls.checkServerIdentity, 'function', 'no host name check')
  // A flag can also turn security off again.
  const plain = connect([
    '--command-config',
    file('ssl-only.properties', ['bootstrap.servers=f:1', 'security.protocol=SSL']),
    '--security.protocol',
    'PLAINTEXT',
  ])
  assert.equal(plain.connection.tls, undefined)
})

test('$KAFKA_SASL_PASSWORD: the password when neither the flags nor the file give one', () => {
  const flags = ['--brokers', 'b:1', '--security.protocol', 'SASL_SSL', '--sasl.username', 'alice']
  assert.equal(
    (sasl(connect(flags, { KAFKA_SASL_PASSWORD: 'env-pass' }).connection) as { password: string }).password,
    'env-pass',
  )
  const flagWins = connect([...flags, '--sasl.password', 'flag-pass'], { KAFKA_SASL_PASSWORD: 'env-pass' })
  assert.equal((sasl(flagWins.connection) as { password: string }).password, 'flag-pass')
  const path = file('with-password.properties', ['sasl.username=alice', 'sasl.password=file-pass'])
  const fileWins = connect(['--brokers', 'b:1', '--security.protocol', 'SASL_SSL', '--command-config', path], {
    KAFKA_SASL_PASSWORD: 'env-pass',
  })
  assert.equal((sasl(fileWins.connection) as { password: string }).password, 'file-pass')
  // An empty variable is no password.
  fails(() => connect(flags, { KAFKA_SASL_PASSWORD: '' }), UsageError, /needs --sasl\.username and --sasl\.password/)
})

test('mutual TLS from PEM files, with the key passphrase', () => {
  const { connection } = connect([
    '--brokers',
    'b:1',
    '--security.protocol',
    'SSL',
    '--ssl.certificate.location',
    join(dir, 'client.pem'),
    '--ssl.key.location',
    join(dir, 'client.key'),
    '--ssl.key.password',
    'kp',
  ])
  const tls = connection.tls as { cert: Buffer; key: Buffer; passphrase: string; ca?: unknown }
  assert.equal(tls.cert.toString(), PEM)
  assert.equal(tls.key.toString(), KEY)
  assert.equal(tls.passphrase, 'kp')
  assert.equal(tls.ca, undefined, "Node's bundled CAs")
  assert.equal(connect(['--brokers', 'b:1', '--security.protocol', 'SSL']).connection.tls, true)
})

test('OAUTHBEARER: the token is read from --sasl.oauthbearer.token.file at each authentication', async () => {
  const token = join(dir, 'rotating-token')
  writeFileSync(token, 'first.token.\n')
  const { connection } = connect([
    '--brokers',
    'b:1',
    '--security.protocol',
    'SASL_PLAINTEXT',
    '--sasl.mechanism',
    'OAUTHBEARER',
    '--sasl.oauthbearer.token.file',
    token,
  ])
  const config = sasl(connection)
  assert.equal(config.mechanism, 'OAUTHBEARER')
  if (config.mechanism !== 'OAUTHBEARER') return
  assert.equal(await config.token(), 'first.token.')
  writeFileSync(token, 'second.token.')
  assert.equal(await config.token(), 'second.token.', 'a refreshed file is read again')
  fails(
    () => connect(['--brokers', 'b:1', '--security.protocol', 'SASL_SSL', '--sasl.mechanism', 'OAUTHBEARER']),
    UsageError,
    /^--sasl\.mechanism=OAUTHBEARER needs --sasl\.oauthbearer\.token\.file$/,
  )
  fails(
    () =>
      connect([
        ...['--brokers', 'b:1', '--security.protocol', 'SASL_SSL', '--sasl.mechanism', 'OAUTHBEARER'],
        ...['--sasl.oauthbearer.token.file', join(dir, 'empty-token')],
      ]),
    UsageError,
    /empty-token: the file is empty$/,
  )
})

test('errors of flags: UsageError (exit 2), one line, naming the flag', () => {
  const b = ['--brokers', 'b:1']
  fails(
    () => connect([...b, '--sasl.username', 'alice']),
    UsageError,
    /^--sasl\.username needs --security\.protocol SASL_PLAINTEXT or SASL_SSL$/,
  )
  fails(
    () => connect([...b, '--ssl.ca.location', join(dir, 'ca.pem')]),
    UsageError,
    /^--ssl\.ca\.location needs --security\.protocol SSL or SASL_SSL$/,
  )
  fails(
    () => connect([...b, '--security.protocol', 'SASL_PLAINTEXT', '--sasl.username', 'alice'], {}),
    UsageError,
    /^--security\.protocol=SASL_PLAINTEXT needs --sasl\.username and --sasl\.password \(or \$KAFKA_SASL_PASSWORD\)$/,
  )
  fails(
    () => connect([...b, '--security.protocol', 'TLS']),
    UsageError,
    /^--security\.protocol=TLS: expected one of plaintext, ssl, sasl_plaintext, sasl_ssl$/,
  )
  fails(
    () => connect([...b, '--security.protocol', 'SASL_SSL', '--sasl.mechanism', 'GSSAPI']),
    UsageError,
    /^--sasl\.mechanism=GSSAPI: expected one of plain, scram-sha-256, scram-sha-512, oauthbearer$/,
  )
  fails(
    () => connect([...b, '--security.protocol', 'SSL', '--ssl.ca.location', join(dir, 'missing.pem')]),
    UsageError,
    /^--ssl\.ca\.location .*missing\.pem: no such file$/,
  )
  fails(
    () => connect([...b, '--security.protocol', 'SSL', '--ssl.ca.location', join(dir, 'ca.der')]),
    UsageError,
    /ca\.der: not a PEM file/,
  )
  fails(
    () => connect([...b, '--security.protocol', 'SSL', '--ssl.certificate.location', join(dir, 'client.pem')]),
    UsageError,
    /^give both --ssl\.certificate\.location and --ssl\.key\.location, or neither$/,
  )
  fails(
    () => connect([...b, '--security.protocol', 'SSL', '--ssl.endpoint.identification.algorithm', 'dns']),
    UsageError,
    /expected https, none or nothing/,
  )
  fails(
    () => connect(['--security.protocol', 'SSL']),
    UsageError,
    /^no brokers: give --brokers host:port or set KAFKA_BROKERS$/,
  )
  fails(() => connect(['--command-config', '']), UsageError, /--command-config must not be empty/)
  fails(() => connect(['--sasl.username']), UsageError, /--sasl\.username/)
  // A password is never in a message.
  const m = fails(
    () => connect([...b, '--sasl.password', 'hunter2-secret']),
    UsageError,
    /^--sasl\.password needs --security\.protocol/,
  )
  assert.ok(!m.includes('hunter2'))
})

test('errors of a file: ConfigError (exit 1), one line, naming the file and the setting', () => {
  const f = (name: string, lines: string[]) => ['--command-config', file(name, lines)]
  fails(
    () => connect(['--command-config', join(dir, 'nope.properties')]),
    ConfigError,
    /nope\.properties: cannot read the configuration \(no such file\)$/,
  )
  fails(
    () => connect(f('stray.properties', ['bootstrap.servers=a:1', 'sasl.username=u'])),
    ConfigError,
    /stray\.properties: sasl\.username needs security\.protocol SASL_PLAINTEXT or SASL_SSL$/,
  )
  fails(
    () =>
      connect(
        f('nopem.properties', [
          'bootstrap.servers=a:1',
          'security.protocol=SSL',
          `ssl.ca.location=${join(dir, 'missing.pem')}`,
        ]),
      ),
    ConfigError,
    /nopem\.properties: ssl\.ca\.location .*missing\.pem: no such file$/,
  )
  fails(
    () => connect(f('nouser.properties', ['bootstrap.servers=a:1', 'security.protocol=SASL_SSL'])),
    ConfigError,
    /nouser\.properties: security\.protocol=SASL_SSL needs sasl\.username and sasl\.password \(or sasl\.jaas\.config, or \$KAFKA_SASL_PASSWORD\)$/,
  )
  fails(
    () => connect(f('typo.properties', ['bootstrap.servers=a:1', 'sasl.mechansim=PLAIN'])),
    ConfigError,
    /typo\.properties: unknown setting "sasl\.mechansim"$/,
  )
  fails(
    () => connect(f('jks.properties', ['bootstrap.servers=a:1', 'ssl.truststore.location=/etc/kafka/truststore.jks'])),
    ConfigError,
    /unknown setting "ssl\.truststore\.location" \(Java key stores are not read: give ssl\.ca\.location/,
  )
  fails(
    () => connect(f('zk.properties', ['zookeeper.connect=zk:2181'])),
    ConfigError,
    /zk\.properties: zookeeper\.connect: ZooKeeper is not supported/,
  )
  fails(
    () => connect(f('nobrokers.properties', ['client.id=x'])),
    UsageError,
    /^no brokers: give --brokers host:port, bootstrap\.servers in .*nobrokers\.properties, or set KAFKA_BROKERS$/,
  )
  // A flag that fixes the file's mistake makes it right: the layers are combined before they are checked.
  const fixed = connect([
    ...f('fixable.properties', ['bootstrap.servers=a:1', 'sasl.username=u', 'sasl.password=p']),
    '--security.protocol',
    'SASL_PLAINTEXT',
  ])
  assert.deepEqual(sasl(fixed.connection), { mechanism: 'PLAIN', username: 'u', password: 'p' })
})

test('connectionConfigFromSettings: the library form, without flags or environment', () => {
  const { config, warnings } = connectionConfigFromSettings(
    parseProperties(
      'bootstrap.servers=a:1\nsecurity.protocol=SASL_PLAINTEXT\nsasl.username=u\nsasl.password=p\nlinger.ms=5',
    ),
    'c.properties',
  )
  assert.equal(config.brokers, 'a:1')
  assert.deepEqual({ ...config.sasl }, { mechanism: 'PLAIN', username: 'u', password: 'p' })
  assert.deepEqual(warnings, ['c.properties: ignored, not connection settings: linger.ms'])
})

test('the usage paragraph names every connection option', () => {
  for (const name of Object.keys(CONNECTION_OPTIONS)) {
    assert.ok(CONNECTION_USAGE.includes(`--${name} `) || CONNECTION_USAGE.includes(`--${name}\n`), name)
    assert.ok(isConnectionOption(name))
  }
  assert.ok(!isConnectionOption('topic'))
  assert.ok(!isConnectionOption('toString'))
})

test.run()
