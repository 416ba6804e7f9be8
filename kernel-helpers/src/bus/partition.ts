/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`, seed 0x9747b28c) of a key's bytes, as a signed
 * 32-bit integer: the hash the Java default partitioner and kafkajs' DefaultPartitioner place keys by.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last 1-3 bytes, as the Java original's falling-through switch takes them.
  const rest = length & 3;
  if (rest === 3) h ^= data[whole + 2] << 16;
  if (rest >= 2) h ^= data[whole + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ data[whole], m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition a keyed record goes to under Kafka's default partitioner (Java's, and kafkajs'
 * DefaultPartitioner): `(murmur2(UTF-8 key) & 0x7fffffff) % partitions`. librdkafka's default
 * (`consistent_random`, CRC32) differs: its clients must set `partitioner=murmur2_random`.
 */
export function partitionOfKey(key: string | Uint8Array, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1)
    throw new RangeError(`partitions must be ≥ 1, not ${partitions}`);
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : key;
  return (murmur2(bytes) & 0x7fffffff) % partitions;
}
