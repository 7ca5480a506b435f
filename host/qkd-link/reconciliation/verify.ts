/**
 * Error verification of a reconciled frame, on the pipeline's verification kernel
 * (host/qkd-link/kernels/verify.ts: polynomial hashing over GF(2^64)). Alice draws fresh 64-bit
 * hash keys, enough of them for the frame's ε_cor, and sends them with her tag once Bob reports
 * a syndrome match; Bob tags his corrected key with the same keys and compares. The keys are
 * drawn independently of the errors, so a wrong decoding passes with probability at most ε_cor.
 */
import { ErrorVerifier, verificationKeyCount } from '../kernels/verify.js';
import type { LoadOptions } from '../kernels/loader.js';
import { packBits } from '../session/packing.js';

/** Default collision bound per frame. */
export const DEFAULT_EPS_COR = 1e-15;

export interface VerifyTag {
  /** The 64-bit hash keys, 8 bytes each, little-endian. */
  readonly keys: Uint8Array;
  readonly tag: Uint8Array;
}

// Bit-per-byte keys go to the kernel packed in the session's layout (bit i of the key = bit i % 8 of byte i / 8).
export { packBits };

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
