import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  DefaultPartitioner,
  defaultPartitioner,
  fnv1a32,
  fnv1aPartitioner,
  fnv1aPartitionForKey,
  fnv1aReferencePartitioner,
  manualPartitioner,
  murmur2Partitioner,
  type PartitionerMessage,
  partitionerByName,
  RoundRobinPartitioner,
  randomPartitioner,
  resolvePartitioner,
  roundRobinPartitioner,
  StickyPartitioner,
} from '../../src/client/partitioners.js'
import { KafkaWireError } from '../../src/protocol/errors.js'

const COUNTS = [1, 3, 7, 100]

// [key, Utils.murmur2(key), partition for 1, 3, 7 and 100 partitions], printed by the Java client 4.1.1
// (org.apache.kafka.clients.producer.internals.BuiltInPartitioner.partitionForKey, checked equal to
// Utils.toPositive(Utils.murmur2(k)) % n) from a throwaway Java program. Keys are UTF-8 strings, except
// 'hex:..' (raw bytes) and 'repeat:c:n' (the character c n times).
const JAVA: [string, number, number[]][] = [
  ['', 275646681, [0, 0, 2, 81]],
  ['a', -1563381124, [0, 1, 5, 24]],
  ['ab', 316155434, [0, 2, 0, 34]],
  ['abc', 479470107, [0, 0, 4, 7]],
  ['abcd', -1323649548, [0, 2, 5, 0]],
  ['abcde', 461995741, [0, 1, 4, 41]],
  ['0', 971027396, [0, 2, 3, 96]],
  ['1', -1993445489, [0, 0, 2, 59]],
  ['42', 417700972, [0, 1, 3, 72]],
  ['-1', 1531782027, [0, 0, 6, 27]],
  ['key', -1079937367, [0, 1, 4, 81]],
  ['key-0', 29210041, [0, 1, 0, 41]],
  ['key-1', 193331640, [0, 0, 5, 40]],
  ['key-2', 852269702, [0, 2, 4, 2]],
  ['key-3', -1839136101, [0, 2, 4, 47]],
  ['key-4', 647367033, [0, 0, 5, 33]],
  ['key-5', -1698326880, [0, 2, 4, 68]],
  ['key-6', -758453868, [0, 2, 5, 80]],
  ['key-7', 713419675, [0, 1, 3, 75]],
  ['key-8', -1340033413, [0, 1, 4, 35]],
  ['key-9', -1335190451, [0, 0, 2, 97]],
  ['key-10', 1368331310, [0, 2, 3, 10]],
  ['key-99', -876232990, [0, 1, 6, 58]],
  ['key-1000', -1903456244, [0, 0, 5, 4]],
  ['user:12345', 1192617008, [0, 2, 2, 8]],
  ['user:67890', 1845498085, [0, 1, 4, 85]],
  ['order-2024-01-01', -1893673500, [0, 2, 4, 48]],
  ['The quick brown fox jumps over the lazy dog', 495243318, [0, 0, 3, 18]],
  ['kafka', -798503068, [0, 1, 3, 80]],
  ['kafka-wire', -1160557046, [0, 0, 4, 2]],
  ['sarama', 770765511, [0, 0, 5, 11]],
  ['franz-go', 211766740, [0, 1, 3, 40]],
  ['java', 1756037247, [0, 0, 6, 47]],
  ['hello world', 1221641059, [0, 1, 2, 59]],
  ['ключ', 2122343024, [0, 2, 4, 24]],
  ['日本語', 1431860170, [0, 1, 6, 70]],
  ['🚀', 761778625, [0, 1, 6, 25]],
  ['café', -1358007374, [0, 0, 6, 74]],
  [' ', -987232127, [0, 0, 2, 21]],
  ['  ', 255423005, [0, 2, 5, 5]],
  ['a b c', -290100725, [0, 0, 4, 23]],
  ['UPPER', 1464349545, [0, 0, 1, 45]],
  ['MiXeD', -2101753555, [0, 1, 3, 93]],
  ['repeat:x:64', 1222492685, [0, 2, 1, 85]],
  ['repeat:y:255', 453229187, [0, 2, 5, 87]],
  ['hex:00', 375494588, [0, 2, 0, 88]],
  ['hex:ff', -311467685, [0, 0, 5, 63]],
  ['hex:00000000', 850957120, [0, 1, 6, 20]],
  ['hex:ffffffff', 644171429, [0, 2, 6, 29]],
  ['hex:deadbeef', 833564499, [0, 0, 5, 99]],
  ['hex:0102030405060708090a0b', -234812442, [0, 2, 5, 6]],
]

// [key, FNV-1a 32, Sarama NewHashPartitioner for 1, 3, 7, 100, NewReferenceHashPartitioner for the same],
// computed by an independent implementation of Go's semantics (int32 conversion, truncating remainder).
const SARAMA: [string, number, number[], number[]][] = [
  ['', 0x811c9dc5, [0, 0, 2, 35], [0, 2, 0, 13]],
  ['a', 0xe40c292c, [0, 0, 6, 76], [0, 2, 3, 72]],
  ['foobar', 0xbf9cf968, [0, 0, 4, 76], [0, 2, 5, 72]],
  ['key', 0x6815c86c, [0, 1, 4, 28], [0, 1, 4, 28]],
  ['key-0', 0x58e035d9, [0, 0, 6, 57], [0, 0, 6, 57]],
  ['key-1', 0x57e03446, [0, 1, 1, 38], [0, 1, 1, 38]],
  ['key-2', 0x56e032b3, [0, 2, 3, 19], [0, 2, 3, 19]],
  ['key-3', 0x55e03120, [0, 0, 5, 0], [0, 0, 5, 0]],
  ['hello world', 0xd58b3fa7, [0, 1, 4, 89], [0, 1, 5, 59]],
  ['kafka', 0x0d33c4e1, [0, 2, 4, 45], [0, 2, 4, 45]],
  ['sarama', 0x7dff12b2, [0, 0, 3, 66], [0, 0, 3, 66]],
  ['user:12345', 0x073a60a3, [0, 0, 5, 39], [0, 0, 5, 39]],
  ['ключ', 0x95c4e9e1, [0, 2, 0, 83], [0, 0, 2, 65]],
  ['🚀', 0x7fa78ada, [0, 2, 6, 90], [0, 2, 6, 90]],
]

function keyBytes(spec: string): Buffer {
  if (spec.startsWith('hex:')) return Buffer.from(spec.slice(4), 'hex')
  if (spec.startsWith('repeat:')) {
    const [, c, n] = spec.split(':')
    return Buffer.from(c.repeat(Number(n)), 'utf8')
  }
  return Buffer.from(spec, 'utf8')
}

function msg(key: Buffer | string | null, topic = 't', partition?: number): PartitionerMessage {
  const k = typeof key === 'string' ? Buffer.from(key) : key
  return partition === undefined ? { topic, key: k, value: null } : { topic, key: k, value: null, partition }
}

/** A deterministic random() (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function throwsPartitionError(fn: () => unknown, match?: RegExp): void {
  try {
    fn()
  } catch (err) {
    assert.instance(err, KafkaWireError)
    const e = err as KafkaWireError
    assert.is(e.code, 'ERR_PARTITION')
    assert.is(e.retriable, false)
    if (match) assert.match(e.message, match)
    return
  }
  assert.unreachable('expected ERR_PARTITION')
}

test('fixtures: 51 keys from Java, 14 for FNV-1a', () => {
  assert.is(JAVA.length, 51)
  assert.is(SARAMA.length, 14)
})

test('murmur2Partitioner picks what the Java client picks', () => {
  for (const [spec, , expected] of JAVA) {
    const key = keyBytes(spec)
    COUNTS.forEach((n, i) => {
      assert.is(murmur2Partitioner(msg(key), n), expected[i], `${spec} % ${n}`)
    })
  }
})

test('defaultPartitioner hashes keys like Java, over all partitions even when some are unavailable', () => {
  const p = defaultPartitioner()
  for (const [spec, , expected] of JAVA) {
    COUNTS.forEach((n, i) => {
      assert.is(p.partition(msg(keyBytes(spec)), n, [0]), expected[i], `${spec} % ${n}`)
    })
  }
})

test('murmur2Partitioner: a null key is random among the available partitions', () => {
  for (let i = 0; i < 50; i++) {
    const p = murmur2Partitioner(msg(null), 10, [3, 5])
    assert.ok(p === 3 || p === 5)
  }
})

test('FNV-1a 32: known vectors', () => {
  assert.is(fnv1a32(Buffer.alloc(0)), 0x811c9dc5)
  assert.is(fnv1a32(Buffer.from('a')), 0xe40c292c)
  assert.is(fnv1a32(Buffer.from('foobar')), 0xbf9cf968)
})

test("fnv1aPartitioner: Sarama's mapping (int32 % n, negated when negative) and the reference variant", () => {
  for (const [key, hash, saramaParts, referenceParts] of SARAMA) {
    const k = Buffer.from(key, 'utf8')
    assert.is(fnv1a32(k), hash, key)
    COUNTS.forEach((n, i) => {
      assert.is(fnv1aPartitioner(msg(k), n), saramaParts[i], `${key} % ${n}`)
      assert.is(fnv1aPartitionForKey(k, n), saramaParts[i])
      assert.is(fnv1aReferencePartitioner(msg(k), n), referenceParts[i], `${key} % ${n} (reference)`)
      assert.is(fnv1aPartitionForKey(k, n, true), referenceParts[i])
    })
  }
  // The two mappings differ when the top bit is set: "" hashes to 0x811c9dc5 = int32 -2128831035.
  assert.is(fnv1aPartitionForKey(Buffer.alloc(0), 100), 35) // -2128831035 % 100 = -35, negated
  assert.is(fnv1aPartitionForKey(Buffer.alloc(0), 100, true), 13) // 18652613 % 100
})

test('fnv1aPartitioner: a null key is random', () => {
  for (let i = 0; i < 50; i++) {
    const p = fnv1aPartitioner(msg(null), 4)
    assert.ok(p >= 0 && p < 4 && Number.isInteger(p))
  }
})

test('manualPartitioner uses message.partition and validates it', () => {
  assert.is(manualPartitioner(msg(null, 't', 2), 3), 2)
  assert.is(manualPartitioner(msg('k', 't', 0), 1), 0)
  throwsPartitionError(() => manualPartitioner(msg(null), 3), /needs message.partition/)
  throwsPartitionError(() => manualPartitioner(msg(null, 't', 3), 3), /3 partitions; partition 3/)
  throwsPartitionError(() => manualPartitioner(msg(null, 't', -1), 3))
  throwsPartitionError(() => manualPartitioner(msg(null, 't', 1.5), 3))
  throwsPartitionError(() => manualPartitioner(msg(null, 't', 0), 0), /partition count/)
  try {
    manualPartitioner(msg(null, 'orders', 7), 3)
  } catch (err) {
    assert.is((err as KafkaWireError).topic, 'orders')
    assert.is((err as KafkaWireError).partition, 7)
  }
})

test('every built-in rejects a partition count that is not a positive integer', () => {
  for (const p of [murmur2Partitioner, fnv1aPartitioner, randomPartitioner]) {
    throwsPartitionError(() => p(msg('k'), 0))
    throwsPartitionError(() => p(msg('k'), Number.NaN))
  }
  throwsPartitionError(() => new StickyPartitioner().partition(msg(null), 0))
  throwsPartitionError(() => new RoundRobinPartitioner().partition(msg(null), -1))
  throwsPartitionError(() => defaultPartitioner().partition(msg('k'), 0))
})

test('randomPartitioner stays in range and uses only available partitions', () => {
  const seen = new Set<number>()
  for (let i = 0; i < 500; i++) {
    const p = randomPartitioner(msg(null), 5)
    assert.ok(Number.isInteger(p) && p >= 0 && p < 5)
    seen.add(p)
    const q = randomPartitioner(msg(null), 5, [1, 4])
    assert.ok(q === 1 || q === 4)
  }
  assert.is(seen.size, 5)
})

test('round robin cycles per topic, over available partitions when given', () => {
  const rr = roundRobinPartitioner()
  assert.equal(
    Array.from({ length: 7 }, () => rr.partition(msg(null, 'a'), 3)),
    [0, 1, 2, 0, 1, 2, 0],
  )
  // Another topic has its own counter.
  assert.equal(
    Array.from({ length: 4 }, () => rr.partition(msg(null, 'b'), 2)),
    [0, 1, 0, 1],
  )
  assert.is(rr.partition(msg(null, 'a'), 3), 1)
  const rr2 = new RoundRobinPartitioner()
  assert.equal(
    Array.from({ length: 6 }, () => rr2.partition(msg('keys are ignored'), 10, [2, 5, 7])),
    [2, 5, 7, 2, 5, 7],
  )
})

test('sticky: stays on one partition until its batch is closed, then moves to another', () => {
  const s = new StickyPartitioner({ random: seeded(1) })
  const first = s.partition(msg(null), 6)
  for (let i = 0; i < 100; i++) assert.is(s.partition(msg(null), 6), first)
  assert.is(s.current('t'), first)
  // A batch closed on another partition (say a keyed one) changes nothing.
  s.onBatchClosed('t', (first + 1) % 6)
  s.onBatchClosed('other-topic', first)
  assert.is(s.partition(msg(null), 6), first)
  let previous = first
  for (let round = 0; round < 50; round++) {
    s.onBatchClosed('t', previous)
    assert.is(s.current('t'), undefined)
    const next = s.partition(msg(null), 6)
    assert.ok(next !== previous, 'a new partition, never the one just left')
    assert.ok(next >= 0 && next < 6)
    assert.is(s.partition(msg(null), 6), next)
    previous = next
  }
})

test('sticky: spreads over all partitions over time', () => {
  const s = new StickyPartitioner({ random: seeded(7) })
  const counts = new Array(4).fill(0)
  for (let i = 0; i < 4000; i++) {
    const p = s.partition(msg(null), 4)
    counts[p]++
    if (i % 10 === 9) s.onBatchClosed('t', p)
  }
  for (const c of counts) assert.ok(c > 700 && c < 1300, `counts ${counts}`)
})

test('sticky: topics are independent', () => {
  const s = new StickyPartitioner({ random: seeded(3) })
  const a = s.partition(msg(null, 'a'), 50)
  const b = s.partition(msg(null, 'b'), 50)
  s.onBatchClosed('a', a)
  assert.is(s.current('b'), b)
  assert.is(s.partition(msg(null, 'b'), 50), b)
  assert.is.not(s.partition(msg(null, 'a'), 50), a)
})

test('sticky: chooses only available partitions, and leaves a partition that lost its leader', () => {
  const s = new StickyPartitioner({ random: seeded(11) })
  const available = [1, 3]
  for (let round = 0; round < 40; round++) {
    const p = s.partition(msg(null), 5, available)
    assert.ok(p === 1 || p === 3, `chose ${p}`)
    s.onBatchClosed('t', p)
    // With two candidates and the previous one excluded, it alternates.
    assert.is(s.partition(msg(null), 5, available), p === 1 ? 3 : 1)
    s.onBatchClosed('t', p === 1 ? 3 : 1)
  }
  const stuck = s.partition(msg(null), 5, [2])
  assert.is(stuck, 2)
  // Partition 2 loses its leader: the next message moves without waiting for a batch to close.
  const moved = s.partition(msg(null), 5, [0, 4])
  assert.ok(moved === 0 || moved === 4, `moved to ${moved}`)
  assert.is(s.current('t'), moved)
  // An empty list (no leader anywhere) falls back to all partitions, like Java.
  const any = new StickyPartitioner({ random: seeded(5) }).partition(msg(null), 5, [])
  assert.ok(any >= 0 && any < 5)
})

test('sticky: a shrunken partition count drops the sticky partition', () => {
  const s = new StickyPartitioner({ random: () => 0.99 })
  assert.is(s.partition(msg(null), 10), 9)
  assert.is(s.partition(msg(null), 4), 3)
  assert.is(s.partition(msg(null), 1), 0)
})

test('sticky KIP-794: moves after stickyBytes once a batch closes, or after twice that', () => {
  const s = new StickyPartitioner({ stickyBytes: 1000, random: seeded(2) })
  const p = s.partition(msg(null), 8)
  s.onAppend('t', p, 400)
  s.onBatchClosed('t', p) // a batch closed by linger with 400 bytes: stay
  assert.is(s.partition(msg(null), 8), p)
  s.onAppend('t', p, 700) // 1100 bytes, but the open batch is not closed yet: stay
  assert.is(s.partition(msg(null), 8), p)
  s.onBatchClosed('t', p) // batch boundary after stickyBytes: move
  const q = s.partition(msg(null), 8)
  assert.is.not(q, p)
  // Without any batch boundary it moves at 2 * stickyBytes.
  s.onAppend('t', q, 1999)
  assert.is(s.partition(msg(null), 8), q)
  s.onAppend('t', q, 1)
  assert.is.not(s.partition(msg(null), 8), q)
  // Appends to other partitions (keyed messages) do not count.
  const r = s.current('t')!
  s.onAppend('t', (r + 1) % 8, 5000)
  assert.is(s.current('t'), r)
})

test('sticky KIP-794: onAppend is a no-op in KIP-480 mode', () => {
  const s = new StickyPartitioner({ random: seeded(2) })
  const p = s.partition(msg(null), 8)
  s.onAppend('t', p, 1e9)
  assert.is(s.current('t'), p)
})

test('sticky KIP-794: updateLoad weights the next choice towards short queues', () => {
  // Queue sizes 0, 3, 1 give weights 4, 1, 3 and a cumulative table 4, 5, 8 over [0, 8).
  const points = [0, 3.99 / 8, 4 / 8, 4.99 / 8, 5 / 8, 7.99 / 8]
  const expected = [10, 10, 20, 20, 30, 30]
  for (let i = 0; i < points.length; i++) {
    const s = new StickyPartitioner({ random: () => points[i] })
    const first = s.partition(msg(null), 40)
    s.updateLoad('t', [10, 20, 30], [0, 3, 1], 40)
    s.onBatchClosed('t', first)
    assert.is(s.partition(msg(null), 40), expected[i], `random ${points[i]}`)
  }
  // Statistically: partition 10 gets about half of the switches.
  const s = new StickyPartitioner({ random: seeded(9) })
  s.partition(msg(null), 40)
  s.updateLoad('t', [10, 20, 30], [0, 3, 1], 40)
  const counts = new Map<number, number>()
  for (let i = 0; i < 8000; i++) {
    s.onBatchClosed('t', s.current('t')!)
    const p = s.partition(msg(null), 40)
    counts.set(p, (counts.get(p) ?? 0) + 1)
  }
  assert.ok(Math.abs(counts.get(10)! / 8000 - 4 / 8) < 0.03, `${[...counts]}`)
  assert.ok(Math.abs(counts.get(20)! / 8000 - 1 / 8) < 0.03)
  assert.ok(Math.abs(counts.get(30)! / 8000 - 3 / 8) < 0.03)
  // Equal queues over every partition: uniform again (and the previous partition is avoided again).
  s.updateLoad('t', [0, 1, 2], [2, 2, 2], 3)
  for (let i = 0; i < 20; i++) {
    const prev = s.current('t')!
    s.onBatchClosed('t', prev)
    const p = s.partition(msg(null), 3)
    assert.ok(p !== prev && p < 3)
  }
  // Equal queues but a partition left out (slow leader): still weighted, only the listed ones.
  s.updateLoad('t', [0, 2], [1, 1], 3)
  for (let i = 0; i < 20; i++) {
    s.onBatchClosed('t', s.current('t')!)
    const p = s.partition(msg(null), 3)
    assert.ok(p === 0 || p === 2)
  }
  // Empty lists turn it off.
  s.updateLoad('t', [], [])
  const seen = new Set<number>()
  for (let i = 0; i < 50; i++) {
    s.onBatchClosed('t', s.current('t')!)
    seen.add(s.partition(msg(null), 3))
  }
  assert.is(seen.size, 3)
})

test('sticky: rejects a bad stickyBytes', () => {
  throwsPartitionError(() => new StickyPartitioner({ stickyBytes: 0 }))
  throwsPartitionError(() => new StickyPartitioner({ stickyBytes: 1.5 }))
})

test('default partitioner: explicit partition, then murmur2 of the key, then sticky', () => {
  const d = new DefaultPartitioner({ random: seeded(4) })
  assert.is(d.partition(msg('a', 't', 2), 3), 2)
  assert.is(d.partition(msg(null, 't', 0), 3), 0)
  throwsPartitionError(() => d.partition(msg('a', 't', 3), 3))
  assert.is(d.partition(msg('a'), 7), 5) // Java: murmur2("a") -> 5 of 7
  const sticky = d.partition(msg(null), 7)
  for (let i = 0; i < 20; i++) assert.is(d.partition(msg(null), 7), sticky)
  // An empty key is a key (hashed), not a null key.
  assert.is(d.partition(msg(Buffer.alloc(0)), 100), 81)
  d.onBatchClosed('t', sticky)
  assert.is.not(d.partition(msg(null), 7), sticky)
  // partitioner.ignore.keys
  const ignoring = defaultPartitioner({ ignoreKeys: true, random: seeded(4) })
  const p = ignoring.partition(msg('a'), 7)
  for (let i = 0; i < 10; i++) assert.is(ignoring.partition(msg(`k${i}`), 7), p)
})

test('resolvePartitioner: names, functions and objects, with hooks and checked results', () => {
  for (const name of ['default', 'murmur2', 'sticky', 'round-robin', 'random', 'fnv1a', 'manual'] as const) {
    const r = resolvePartitioner(name)
    const p = r.partition(msg('k', 't', 1), 3, [0, 1, 2])
    assert.ok(p >= 0 && p < 3, name)
    r.onBatchClosed('t', p)
    r.onAppend('t', p, 10)
    r.updateLoad('t', [0, 1, 2], [0, 1, 2], 3)
  }
  assert.is(resolvePartitioner().partition(msg('a'), 7), 5)
  assert.is(resolvePartitioner((_m, n) => n - 1).partition(msg(null), 4), 3)
  throwsPartitionError(() => resolvePartitioner(() => 4).partition(msg(null), 4), /returned 4/)
  throwsPartitionError(() => resolvePartitioner(() => 0.5).partition(msg(null), 4))
  throwsPartitionError(() => resolvePartitioner((() => Number.NaN) as never).partition(msg(null), 4))
  // A factory passed uncalled returns an object: a helpful error.
  throwsPartitionError(
    () => resolvePartitioner(roundRobinPartitioner as never).partition(msg(null), 4),
    /must be called/,
  )
  throwsPartitionError(() => resolvePartitioner('nope' as never))
  throwsPartitionError(() => resolvePartitioner({} as never))
  // Hooks of an object are called on it.
  const calls: string[] = []
  const custom = {
    partition: () => 0,
    onBatchClosed(topic: string, partition: number) {
      calls.push(`${this === custom} ${topic}/${partition}`)
    },
  }
  const r = resolvePartitioner(custom)
  r.onBatchClosed('x', 0)
  r.onAppend('x', 0, 1)
  assert.equal(calls, ['true x/0'])
  // Fresh state per resolution.
  assert.is.not(partitionerByName('sticky'), partitionerByName('sticky'))
})

test.run()
