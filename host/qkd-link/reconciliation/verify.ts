/**
 * Error verification of a reconciled frame, on the pipeline's verification kernel
 * (host/qkd-link/kernels/verify.ts: polynomial hashing over GF(2^64)). Alice draws fresh 64-bit
 * hash keys, enough of them for the frame's ε_cor, and sends them with her tag once Bob reports
 * a syndrome match; Bob tags his corrected key with the same keys and compares. The keys are
 * drawn independently of the errors, so a wrong decoding passes with probability at most ε_cor.
 */
import { ErrorVerifier, verificationKeyCount } from '../kernels/verify.js';
import type { LoadOptions } from '../kernels/loader.js';

/** Default collision bound per frame. */
export const DEFAULT_EPS_COR = 1e-15;

export interface VerifyTag {
  /** The 64-bit hash keys, 8 bytes each, little-endian. */
  readonly keys: Uint8Array;
  readonly tag: Uint8Array;
}

/** Bit-per-byte key to the kernel's packed form (bit i of the key = bit i % 8 of byte i / 8). */
export function packBits(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  const whole = bits.length >>> 3;
  // A byte at a time (Bob packs every decoded frame to check its tag).
  for (let j = 0, i = 0; j < whole; j++, i += 8) {
    out[j] = (bits[i]! & 1) | ((bits[i + 1]! & 1) << 1) | ((bits[i + 2]! & 1) << 2) | ((bits[i + 3]! & 1) << 3)
      | ((bits[i + 4]! & 1) << 4) | ((bits[i + 5]! & 1) << 5) | ((bits[i + 6]! & 1) << 6) | ((bits[i + 7]! & 1) << 7);
  }
  for (let i = whole << 3; i < bits.length; i++) out[i >>> 3]! |= (bits[i]! & 1) << (i & 7);
  return out;
}

export class FrameVerifier {
  private readonly kernel: ErrorVerifier;
  constructor(options?: LoadOptions) {
    this.kernel = new ErrorVerifier(options);
  }

  /** Alice's side: fresh keys from `random` (uniform in [0, 1); cryptographic in production) and her tag. */
  makeTag(bits: Uint8Array, random: () => number, epsCor = DEFAULT_EPS_COR): VerifyTag {
    const t = verificationKeyCount(epsCor, bits.length);
    const keys = Uint8Array.from({ length: 8 * t }, () => Math.floor(random() * 256));
    return { keys, tag: this.kernel.tag(packBits(bits), bits.length, keys) };
  }

  /** Bob's side: true when his key has Alice's tag under her keys. */
  check(bits: Uint8Array, t: VerifyTag): boolean {
    const mine = this.kernel.tag(packBits(bits), bits.length, t.keys);
    return mine.length === t.tag.length && mine.every((b, i) => b === t.tag[i]);
  }
}
