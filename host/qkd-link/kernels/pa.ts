/**
 * Privacy amplification by Toeplitz hashing: y = T x over GF(2), T the m x n Toeplitz matrix
 * T[i][j] = s[i - j + n - 1] of a uniformly random seed s of n + m - 1 bits. Toeplitz matrices form
 * a 2-universal family (Krawczyk, CRYPTO '94), so by the leftover hash lemma y is ε-close to
 * uniform when m is the finite-key length. Bits are packed little-endian (bit i of byte k is bit
 * 8k + i), as everywhere in the pipeline.
 *
 * The kernel (assembly/pa) computes the product with Schönhage's ternary FFT over GF(2)[y]; see
 * pa-twin.ts for the algorithm and its TypeScript twin.
 */
import { KernelArgumentError } from './errors.js';
import { loadKernel, guard, ensureMemory, MemoryViews, type KernelInstance, type LoadOptions } from './loader.js';
import { planToeplitz, MAX_TOEPLITZ_BITS, type ToeplitzPlan } from './pa-twin.js';

export { toeplitzDirect, toeplitzTwin, planToeplitz, MAX_TOEPLITZ_BITS, type ToeplitzPlan } from './pa-twin.js';

interface PaExports {
  arena(bytes: number): number;
  toeplitzWorkWords(n: number, m: number, K: number, P: number, L: number): number;
  toeplitz(seed: number, x: number, out: number, n: number, m: number, K: number, P: number, L: number, work: number): void;
}

function checkSize(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > MAX_TOEPLITZ_BITS) {
    throw new KernelArgumentError(name, v, `an integer in [${min}, 2^28]`);
  }
}

function checkBits(name: string, buf: Uint8Array, bits: number): void {
  if (!(buf instanceof Uint8Array)) throw new KernelArgumentError(name, buf, 'a Uint8Array');
  const need = Math.ceil(bits / 8);
  if (buf.length !== need) throw new KernelArgumentError(`${name}.length`, buf.length, `exactly ceil(${bits}/8) = ${need} bytes`);
}

/** Seed length in bits for an n-bit input hashed to m bits. */
export function toeplitzSeedBits(n: number, m: number): number {
  return n + m - 1;
}

export class PrivacyAmplifier {
  private readonly k: KernelInstance<PaExports>;
  private readonly views: MemoryViews;
  constructor(options?: LoadOptions) {
    this.k = loadKernel<PaExports>('pa', options);
    this.views = new MemoryViews(this.k.memory);
  }

  get target(): string {
    return this.k.target;
  }

  /**
   * Hashes the n-bit block `x` to m bits with the Toeplitz matrix of `seed` (n + m - 1 bits).
   * Buffers must be exactly ceil(bits/8) bytes; bits past the end in the last byte are ignored.
   */
  hash(seed: Uint8Array, x: Uint8Array, n: number, m: number): Uint8Array {
    checkSize('n', n, 1);
    checkSize('m', m, 1);
    checkBits('seed', seed, toeplitzSeedBits(n, m));
    checkBits('x', x, n);
    return this.run(seed, x, planToeplitz(n, m));
  }

  /** As hash(), with an explicit plan (tests use it to exercise every transform length). */
  hashWithPlan(seed: Uint8Array, x: Uint8Array, plan: ToeplitzPlan): Uint8Array {
    const { n, m, K, P, L, j } = plan;
    checkSize('plan.n', n, 1);
    checkSize('plan.m', m, 1);
    if (!Number.isSafeInteger(j) || j < 1 || j > 17 || K !== 3 ** j) throw new KernelArgumentError('plan.K', K, 'K = 3^j, 1 <= j <= 17');
    if (!Number.isSafeInteger(P) || P < 1 || K * P < n + m - 1) throw new KernelArgumentError('plan.P', P, `an integer with K P >= n + m - 1 = ${n + m - 1}`);
    if (!Number.isSafeInteger(L) || L < P || L % (K / 3) !== 0 || L > MAX_TOEPLITZ_BITS) {
      throw new KernelArgumentError('plan.L', L, `a multiple of K/3 = ${K / 3} with P <= L <= 2^28`);
    }
    checkBits('seed', seed, toeplitzSeedBits(n, m));
    checkBits('x', x, n);
    return this.run(seed, x, plan);
  }

  private run(seed: Uint8Array, x: Uint8Array, plan: ToeplitzPlan): Uint8Array {
    const { n, m, K, P, L } = plan;
    const e = this.k.exports;
    const seedWords = Math.ceil((n + m - 1) / 64) + 1;
    const xWords = Math.ceil(n / 64) + 1;
    const outWords = Math.ceil(m / 64) + 1;
    const workWords = e.toeplitzWorkWords(n, m, K, P, L);
    const bytes = (seedWords + xWords + outWords + workWords) * 8;
    if (!Number.isSafeInteger(bytes) || bytes > 2 ** 32 - 2 ** 24) throw new KernelArgumentError('n', n, 'a block whose work space fits in 4 GiB of WASM memory');
    // arena() grows memory itself; growing first keeps a failure typed.
    ensureMemory(this.k, bytes + 2 ** 20);
    const base = guard('pa', () => e.arena(bytes));
    if (base === 0) throw new KernelArgumentError('n', n, 'a size that fits in WASM memory');
    const pSeed = base;
    const pX = pSeed + seedWords * 8;
    const pOut = pX + xWords * 8;
    const pWork = pOut + outWords * 8;
    const u8 = this.views.u8;
    u8.fill(0, pSeed, pWork);
    u8.set(seed, pSeed);
    u8.set(x, pX);
    guard('pa', () => e.toeplitz(pSeed, pX, pOut, n, m, K, P, L, pWork));
    const out = this.views.u8.slice(pOut, pOut + Math.ceil(m / 8));
    if (m & 7) out[out.length - 1]! &= (1 << (m & 7)) - 1;
    return out;
  }
}
