// MurmurHash2 exactly as the Java client computes it (org.apache.kafka.common.utils.Utils.murmur2): seed
// 0x9747b28c, 32-bit arithmetic, little-endian 4-byte blocks, tail bytes mixed in the order 2, 1, 0. The
// default partitioner of the Java client (and librdkafka's "murmur2_random") places a keyed record on
// toPositive(murmur2(key)) % numPartitions; matching it bit for bit keeps keys on the same partitions as
// Java producers.

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's murmur2 of `key`: a signed 32-bit integer, equal to Java's Utils.murmur2. */
export function murmur2(key: Uint8Array): number {
  const length = key.length
  let h = SEED ^ length
  const end4 = length & ~3
  for (let i = 0; i < end4; i += 4) {
    let k = key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  // Tail bytes in the order 2, 1, 0, then one multiply (Java's fall-through switch).
  const tail = length & 3
  if (tail !== 0) {
    if (tail === 3) h ^= key[end4 + 2] << 16
    if (tail >= 2) h ^= key[end4 + 1] << 8
    h ^= key[end4]
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Java's Utils.toPositive: clears the sign bit (not Math.abs, which would overflow on -2^31). */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition the Java client's default partitioner gives a keyed record. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(key)) % numPartitions
}
