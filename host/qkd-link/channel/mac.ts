/**
 * Wegman-Carter authentication (information-theoretic): tag = h_k(message) XOR r, with h an
 * ε-almost-XOR-universal hash family and (k, r) a fresh one-time pad per message, taken from
 * previously distilled key. A fresh k per message as well as a fresh r keeps the analysis the
 * textbook one (ε-ASU per message) at the cost of keyBytes more key per frame, which is small
 * beside a block's output.
 */
export interface UniversalHash {
  readonly name: string;
  /** Bytes of hash key consumed per message. */
  readonly keyBytes: number;
  /** Bytes of the hash value (and of the tag). */
  readonly tagBytes: number;
  /** ε: the probability that two distinct messages of up to `bytes` bytes collide under a random key. */
  collisionBound(bytes: number): number;
  /** Hashes the concatenation of `parts` under `key` (keyBytes long). */
  hash(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array;
}

export function padBytes(h: UniversalHash): number {
  return h.keyBytes + h.tagBytes;
}

export function wegmanCarterTag(h: UniversalHash, pad: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const tag = h.hash(pad.subarray(0, h.keyBytes), parts);
  const r = pad.subarray(h.keyBytes, h.keyBytes + h.tagBytes);
  for (let i = 0; i < tag.length; i++) tag[i]! ^= r[i]!;
  return tag;
}

/** Compares in time independent of where the tags differ. */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
