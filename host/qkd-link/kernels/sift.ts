/**
 * Basis sifting: keeps the receiver's value bit in every slot where transmitter and receiver chose
 * the same basis. Inputs are bit-packed (bit i of byte k is slot 8k+i), the form the boards and the
 * classical channel carry.
 */
import { KernelArgumentError } from './errors.js';
import { loadKernel, guard, MemoryViews, type KernelInstance, type LoadOptions } from './loader.js';

interface SiftExports {
  arena(bytes: number): number;
  siftPacked(basesA: number, basesB: number, values: number, n: number, out: number): number;
}

export interface SiftResult {
  /** Kept value bits, packed, `length` of them. */
  readonly bits: Uint8Array;
  readonly length: number;
}

function checkPacked(name: string, buf: Uint8Array, n: number): void {
  if (!(buf instanceof Uint8Array)) throw new KernelArgumentError(name, buf, 'a Uint8Array');
  if (buf.length < Math.ceil(n / 8)) throw new KernelArgumentError(`${name}.length`, buf.length, `>= ceil(n/8) = ${Math.ceil(n / 8)}`);
}

function checkCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff_ffe0) throw new KernelArgumentError('n', n, 'an integer in [0, 2^32 - 32]');
}

export class Sifter {
  private readonly k: KernelInstance<SiftExports>;
  private readonly views: MemoryViews;
  constructor(options?: LoadOptions) {
    this.k = loadKernel<SiftExports>('sift', options);
    this.views = new MemoryViews(this.k.memory);
  }

  get target(): string {
    return this.k.target;
  }

  /** Sifts `n` slots of bit-packed bases (A, B) and B's values. */
  siftPacked(basesA: Uint8Array, basesB: Uint8Array, values: Uint8Array, n: number): SiftResult {
    checkCount(n);
    checkPacked('basesA', basesA, n);
    checkPacked('basesB', basesB, n);
    checkPacked('values', values, n);
    const words = Math.ceil(n / 32);
    const stride = words * 4;
    const base = guard('sift', () => this.k.exports.arena(stride * 4));
    if (base === 0) throw new KernelArgumentError('n', n, 'a size that fits in WASM memory');
    const u8 = this.views.u8;
    const nb = Math.ceil(n / 8);
    u8.fill(0, base, base + stride * 3);
    u8.set(basesA.subarray(0, nb), base);
    u8.set(basesB.subarray(0, nb), base + stride);
    u8.set(values.subarray(0, nb), base + 2 * stride);
    const kept = guard('sift', () => this.k.exports.siftPacked(base, base + stride, base + 2 * stride, n, base + 3 * stride));
    const bits = this.views.u8.slice(base + 3 * stride, base + 3 * stride + Math.ceil(kept / 8));
    return { bits, length: kept };
  }
}

/** Plain-TypeScript twin of the kernel, for tests and the benchmark's reference figure. */
export function siftPackedReference(basesA: Uint8Array, basesB: Uint8Array, values: Uint8Array, n: number): SiftResult {
  const out = new Uint8Array(Math.ceil(n / 8));
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const byte = i >>> 3;
    const bit = i & 7;
    if ((((basesA[byte] ?? 0) ^ (basesB[byte] ?? 0)) >>> bit) & 1) continue;
    if (((values[byte] ?? 0) >>> bit) & 1) out[kept >>> 3]! |= 1 << (kept & 7);
    kept++;
  }
  return { bits: out.slice(0, Math.ceil(kept / 8)), length: kept };
}
