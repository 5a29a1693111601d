import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { murmur2, partitionForKey, toPositive } from '../../src/protocol/murmur2.js'

// [key (UTF-8), Utils.murmur2, toPositive(h) % 7, toPositive(h) % 100] printed by the Java client 4.1.1's
// org.apache.kafka.common.utils.Utils (a throwaway Java program; the first six rows of UtilsTest are among them).
const JAVA: [string, number, number, number][] = [
  ['', 275646681, 2, 81],
  ['a', -1563381124, 5, 24],
  ['ab', 316155434, 0, 34],
  ['abc', 479470107, 4, 7],
  ['abcd', -1323649548, 5, 0],
  ['abcde', 461995741, 4, 41],
  ['21', -973932308, 3, 40],
  ['foobar', -790332482, 0, 66],
  ['hello world', 1221641059, 2, 59],
  ['kafka-wire', -1160557046, 4, 2],
  ['key-0', 29210041, 0, 41],
  ['key-1', 193331640, 5, 40],
  ['key-12345', -952703915, 0, 33],
  ['a-little-bit-long-string', -985981536, 1, 12],
  ['a-little-bit-longer-string', -1486304829, 0, 19],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 3, 77],
  ['ключ', 2122343024, 4, 24],
  ['日本語のキー', -734675706, 0, 42],
  ['🙂emoji', 1463688712, 3, 12],
]

// Bytes with the high bit set (Java's signed bytes are masked with & 0xff), every tail length.
const JAVA_BINARY: [string, number][] = [
  ['ff', -311467685],
  ['ffee', 1750061758],
  ['ffeedd', 2053089151],
  ['ffeeddcc', 705638213],
  ['ffeeddccbb', -435349888],
  ['ffeeddccbbaa', -1576922666],
  ['ffeeddccbbaa99', -1046235303],
  ['ffeeddccbbaa9988', -809053009],
  ['ffeeddccbbaa998877', -1660089088],
]

test('murmur2 matches Java Utils.murmur2 on text keys', () => {
  for (const [key, hash] of JAVA) assert.is(murmur2(Buffer.from(key, 'utf8')), hash, key)
})

test('murmur2 matches Java on binary keys of every tail length', () => {
  for (const [hex, hash] of JAVA_BINARY) assert.is(murmur2(Buffer.from(hex, 'hex')), hash, hex)
})

test('partitionForKey = toPositive(murmur2) % n, as the Java default partitioner', () => {
  for (const [key, , mod7, mod100] of JAVA) {
    assert.is(partitionForKey(Buffer.from(key, 'utf8'), 7), mod7, key)
    assert.is(partitionForKey(Buffer.from(key, 'utf8'), 100), mod100, key)
  }
})

test('toPositive clears the sign bit (no Math.abs overflow)', () => {
  assert.is(toPositive(-2147483648), 0)
  assert.is(toPositive(-1), 0x7fffffff)
  assert.is(toPositive(5), 5)
})

test('murmur2 works on a view into a larger buffer', () => {
  const big = Buffer.from('xxfoobaryy')
  assert.is(murmur2(big.subarray(2, 8)), -790332482)
})

test.run()
