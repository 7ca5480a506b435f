/**
 * Wegman-Carter authentication (information-theoretic): tag = h_k(message) XOR r, with h an
 * ε-almost-XOR-universal hash family and (k, r) a fresh one-time pad per message, taken from
 * previously distilled key. A fresh k per message as well as a fresh r keeps the analysis the
 * textbook one (ε-ASU per message) at the cost of keyBytes more key per frame, which is small
 * beside a block's output. The ledger (ledger.ts) may also let one hash key serve several frames.
 */
import { timingSafeEqual } from 'node:crypto';
import { ErrorVerifier } from '../kernels/verify.js';
import type { LoadOptions } from '../kernels/loader.js';

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

/** Compares in time independent of where the tags differ (tag lengths are public). */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** ε of PolyMac with `t` keys for messages of up to `bytes` bytes: ((⌈bytes / 8⌉ + 1) / 2^64)^t. */
export function polyMacBound(t: number, bytes: number): number {
  return ((Math.ceil(bytes / 8) + 1) / 2 ** 64) ** t;
}

/**
 * The link's MAC hash: polynomial hashing over GF(2^64) (the error-verification kernel,
 * kernels/verify.ts) of the message's bytes, with t independent 64-bit keys. For a message of L
 * bytes, two different messages give a given XOR difference of their hashes for at most
 * (⌈8L / 64⌉ + 1) of the 2^64 values of each key: the family is ε-almost-XOR-universal with
 * ε = ((⌈L / 8⌉ + 1) / 2^64)^t, what Wegman-Carter with one-time-padded tags needs. Messages are
 * hashed as bit strings of 8L bits, the length being part of the hash, so different lengths are
 * covered too.
 */
export class PolyMac implements UniversalHash {
  readonly name: string;
  readonly keyBytes: number;
  readonly tagBytes: number;
  private readonly verifier: ErrorVerifier;

  /** `t` 64-bit keys (and tag words): 2 gives ε ≈ 2^-94 for a 1 MiB message. */
  constructor(readonly t = 2, options?: LoadOptions) {
    if (!Number.isSafeInteger(t) || t < 1 || t > 4) throw new RangeError(`PolyMac: t = ${t}, expected 1-4 keys`);
    this.name = `gf64-poly-${t}`;
    this.keyBytes = 8 * t;
    this.tagBytes = 8 * t;
    this.verifier = new ErrorVerifier(options);
  }

  collisionBound(bytes: number): number {
    return polyMacBound(this.t, bytes);
  }

  hash(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
    const msg = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return this.verifier.tag(msg, 8 * msg.length, key.subarray(0, this.keyBytes));
  }
}
