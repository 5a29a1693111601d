// The mirror maker's configuration files: Java properties and JSON, Java setting names mapped to kafka-wire's
// options, security settings, and the errors of bad files (ConfigError, one line naming the file and setting).
import * as assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import { ConfigError } from '../../src/client/errors.js'
import {
  consumerConfigFromSettings,
  loadConsumerConfig,
  loadProducerConfig,
  producerConfigFromSettings,
} from '../../src/tools/client-settings.js'
import { parseProperties, parseSettings } from '../../src/tools/config-file.js'
import { MirrorMaker } from '../../src/tools/mirror/mirror-maker.js'
import { runMirrorCommand } from '../../src/tools/mirror-cli.js'

function throwsConfig(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
    assert.match(err.message, pattern)
    assert.ok(!err.message.includes('\n'), 'one line')
    return true
  })
}

test('properties: separators, comments, blanks, continuations and escapes', () => {
  const s = parseProperties(
    [
      '# a comment',
      '! another',
      '',
      '  bootstrap.servers = a:9092,\\',
      '      b:9092',
      'group.id:mirror',
      'client.id    my\\ client',
      'sasl.password=p\\u0041ss\\=word',
      'empty=',
      'group.id=again',
    ].join('\r\n'),
  )
  assert.deepEqual(Object.fromEntries(s), {
    'bootstrap.servers': 'a:9092,b:9092',
    'group.id': 'again',
    'client.id': 'my client',
    'sasl.password': 'pAss=word',
    empty: '',
  })
})

test('JSON settings: scalars and string lists; anything else is an error', () => {
  const s = parseSettings('{ "bootstrap.servers": ["a:1", "b:2"], "linger.ms": 5, "enable.idempotence": false }')
  assert.deepEqual(Object.fromEntries(s), {
    'bootstrap.servers': 'a:1,b:2',
    'linger.ms': 5,
    'enable.idempotence': false,
  })
  throwsConfig(() => parseSettings('{ "a": { "b": 1 } }', 'p.json'), /^p\.json: setting "a" must be/)
  throwsConfig(() => parseSettings('{ "a": ', 'p.json'), /^p\.json: not valid JSON/)
  throwsConfig(() => parseSettings('[1]', 'p.json'), /must be an object/)
})

test('consumer settings: Java names and our own, mapped and checked', () => {
  const { config, warnings } = consumerConfigFromSettings(
    parseProperties(
      [
        'bootstrap.servers=a:9092',
        'group.id=g',
        'auto.offset.reset=smallest',
        'session.timeout.ms=10000',
        'max.poll.interval.ms=60000',
        'auto.commit.interval.ms=1000',
        'fetch.max.wait.ms=100',
        'partition.assignment.strategy=org.apache.kafka.clients.consumer.RangeAssignor,cooperative-sticky',
        'isolation.level=read_committed',
        'key.deserializer=org.apache.kafka.common.serialization.ByteArrayDeserializer',
        'enable.auto.commit=true',
        'clientId=mm',
      ].join('\n'),
    ),
    'c.properties',
  )
  assert.deepEqual(config, {
    brokers: 'a:9092',
    groupId: 'g',
    autoOffsetReset: 'earliest',
    sessionTimeoutMs: 10000,
    rebalanceTimeoutMs: 60000,
    commitIntervalMs: 1000,
    maxWaitMs: 100,
    assignors: ['range', 'cooperative-sticky'],
    isolationLevel: 'read_committed',
    clientId: 'mm',
  })
  assert.equal(warnings.length, 2)
  assert.match(warnings[0], /^c\.properties: key\.deserializer is ignored/)
})

test('producer settings: acks, compression, flush, idempotence, backoff', () => {
  const { config } = producerConfigFromSettings(
    parseSettings(
      JSON.stringify({
        'bootstrap.servers': 'd:9092',
        acks: -1,
        'compression.type': 'LZ4',
        'linger.ms': '10',
        'batch.size': 131072,
        'enable.idempotence': 'false',
        'max.in.flight.requests.per.connection': 1,
        'retry.backoff.ms': 50,
        'retry.backoff.max.ms': 500,
        'allow.auto.create.topics': true,
      }),
    ),
    'p.json',
  )
  assert.deepEqual(config, {
    brokers: 'd:9092',
    acks: 'all',
    compression: 'lz4',
    flush: { frequencyMs: 10, bytes: 131072 },
    idempotent: false,
    maxInFlight: 1,
    retryBackoff: { baseMs: 50, maxMs: 500 },
    allowAutoTopicCreation: true,
  })
})

test('security: SASL from sasl.jaas.config or sasl.username/password, TLS files, and mismatches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-wire-mirror-unit-'))
  try {
    const pem = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n'
    writeFileSync(join(dir, 'ca.pem'), pem)
    const scram = consumerConfigFromSettings(
      parseProperties(
        [
          'bootstrap.servers=a:9093',
          'group.id=g',
          'security.protocol=SASL_SSL',
          'sasl.mechanism=SCRAM-SHA-512',
          'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s\\\\\\"cret";',
          `ssl.ca.location=${join(dir, 'ca.pem')}`,
          'ssl.endpoint.identification.algorithm=',
        ].join('\n'),
      ),
      'c',
    ).config
    assert.deepEqual({ ...scram.sasl }, { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 's"cret' })
    const tls = scram.tls as { ca: Buffer; checkServerIdentity: () => undefined }
    assert.equal(tls.ca.toString(), pem)
    assert.equal(typeof tls.checkServerIdentity, 'function')
    const plain = producerConfigFromSettings(
      parseProperties('bootstrap.servers=a:1\nsecurity.protocol=SASL_PLAINTEXT\nsasl.username=u\nsasl.password=p'),
      'p',
    ).config
    assert.deepEqual({ ...plain.sasl }, { mechanism: 'PLAIN', username: 'u', password: 'p' })
    assert.equal(plain.tls, undefined)
    const bare = producerConfigFromSettings(parseProperties('bootstrap.servers=a:1\nsecurity.protocol=SSL'), 'p')
    assert.equal(bare.config.tls, true)
    throwsConfig(
      () => producerConfigFromSettings(parseProperties('bootstrap.servers=a:1\nsasl.username=u'), 'p'),
      /^p: sasl\.username needs security\.protocol SASL_PLAINTEXT or SASL_SSL$/,
    )
    throwsConfig(
      () => producerConfigFromSettings(parseProperties('bootstrap.servers=a:1\nsecurity.protocol=SASL_SSL'), 'p'),
      /needs sasl\.username and sasl\.password/,
    )
    throwsConfig(
      () =>
        producerConfigFromSettings(
          parseProperties(`bootstrap.servers=a:1\nsecurity.protocol=SSL\nssl.ca.location=${join(dir, 'none.pem')}`),
          'p',
        ),
      /^p: ssl\.ca\.location .*none\.pem: no such file$/,
    )
    writeFileSync(join(dir, 'ca.der'), Buffer.from([0x30, 0x82, 0x01, 0x0a]))
    throwsConfig(
      () =>
        producerConfigFromSettings(
          parseProperties(`bootstrap.servers=a:1\nsecurity.protocol=SSL\nssl.ca.location=${join(dir, 'ca.der')}`),
          'p',
        ),
      /^p: ssl\.ca\.location .*ca\.der: not a PEM file/,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('bad files: one line naming the file and the setting', () => {
  const consumer = (text: string) => () => consumerConfigFromSettings(parseProperties(text), 'c.properties')
  throwsConfig(consumer('group.id=g'), /^c\.properties: no bootstrap\.servers$/)
  throwsConfig(consumer('bootstrap.servers=a:1'), /^c\.properties: no group\.id$/)
  throwsConfig(consumer('bootstrap.servers=a:1\ngroup.id=g\nfoo.bar=1'), /unknown consumer setting "foo\.bar"$/)
  throwsConfig(
    consumer('bootstrap.servers=a:1\ngroup.id=g\nlinger.ms=5'),
    /unknown consumer setting "linger\.ms" \(a producer setting\)/,
  )
  throwsConfig(
    consumer('bootstrap.servers=a:1\ngroup.id=g\nsession.timeout.ms=ten'),
    /session\.timeout\.ms=ten: expected an integer/,
  )
  throwsConfig(consumer('bootstrap.servers=a:1\ngroup.id=g\nauto.offset.reset=first'), /expected one of earliest/)
  throwsConfig(consumer('zookeeper.connect=zk:2181\ngroup.id=g'), /ZooKeeper is not supported/)
  throwsConfig(
    () => loadConsumerConfig('/nonexistent/c.properties'),
    /^\/nonexistent\/c\.properties: cannot read .*no such file/,
  )
  throwsConfig(() => loadProducerConfig(tmpdir()), /a directory/)
})

test('MirrorMaker options are checked at construction', () => {
  const sources = [{ brokers: 'a:1', groupId: 'g' }]
  const destination = { brokers: 'b:1' }
  throwsConfig(() => new MirrorMaker({ sources, destination }), /exactly one of whitelist and blacklist/)
  throwsConfig(
    () => new MirrorMaker({ sources, destination, whitelist: 'a', blacklist: 'b' }),
    /exactly one of whitelist and blacklist/,
  )
  throwsConfig(() => new MirrorMaker({ sources: [], destination, whitelist: '.*' }), /at least one source/)
  throwsConfig(() => new MirrorMaker({ sources, destination, whitelist: '.*', queueSize: 0 }), /queueSize/)
  throwsConfig(() => new MirrorMaker({ sources, destination, whitelist: '.*', prefix: 'a/b' }), /prefix "a\/b"/)
  const mm = new MirrorMaker({ sources, destination, whitelist: '.*' })
  assert.equal(mm.metrics.get('mirror.messages')?.type, 'meter')
  assert.equal(mm.pending, 0)
})

test('the command: usage errors are ConfigErrors; --help exits 0', async () => {
  await assert.rejects(runMirrorCommand([]), /give at least one --consumer\.config FILE/)
  await assert.rejects(runMirrorCommand(['--consumer.config', 'c']), /give --producer\.config FILE/)
  await assert.rejects(
    runMirrorCommand(['--consumer.config', 'c', '--producer.config', 'p']),
    /exactly one of --whitelist RE and --blacklist RE/,
  )
  await assert.rejects(
    runMirrorCommand(['--consumer.config', '/nonexistent/c', '--producer.config', 'p', '--whitelist', '.*']),
    /cannot read the configuration/,
  )
  await assert.rejects(runMirrorCommand(['--max.procs', '4']), /Unknown option '--max\.procs'/)
  const write = process.stdout.write
  let out = ''
  process.stdout.write = ((chunk: string) => {
    out += chunk
    return true
  }) as typeof process.stdout.write
  try {
    assert.equal(await runMirrorCommand(['--help']), 0)
  } finally {
    process.stdout.write = write
  }
  assert.match(out, /--preserve\.partitions/)
})

test.run()
