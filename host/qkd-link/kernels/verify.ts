/**
 * Error verification: after reconciliation both ends hash their corrected key with the same
 * freshly drawn keys and compare tags; equal tags mean equal keys except with probability ε_cor.
 * The hash is polynomial hashing over GF(2^64) (see assembly/verify): for blocks of at most l
 * 64-bit words (plus the length word), one key collides with probability at most (l + 1) / 2^64,
 * and t independent keys (a 64 t-bit tag) bring that to ((l + 1) / 2^64)^t. The tag is disclosed,
 * so its 64 t bits count as leakage in the finite-key length.
 */
import { KernelArgumentError } from './errors.js';
import { loadKernel, guard, ensureMemory, MemoryViews, type KernelInstance, type LoadOptions } from './loader.js';

interface VerifyExports {
  arena(bytes: number): number;
  tableBytes(t: number): number;
  polyHash(data: number, nbits: number, keys: number, t: number, out: number, tab: number): void;
}

/** Largest block (bits) accepted: 2^32 bits, far beyond any reconciliation block. */
export const MAX_VERIFY_BITS = 2 ** 32;
/** At most this many 64-bit keys per tag (a 1024-bit tag). */
export const MAX_VERIFY_KEYS = 16;

function checkBits(nbits: number): void {
  if (!Number.isSafeInteger(nbits) || nbits < 0 || nbits > MAX_VERIFY_BITS) throw new KernelArgumentError('nbits', nbits, 'an integer in [0, 2^32]');
}

/** Collision probability of one key for blocks of `nbits` bits: (ceil(nbits/64) + 1) / 2^64. */
export function verificationCollisionBound(nbits: number, keys = 1): number {
  checkBits(nbits);
  if (!Number.isSafeInteger(keys) || keys < 1 || keys > MAX_VERIFY_KEYS) throw new KernelArgumentError('keys', keys, `an integer in [1, ${MAX_VERIFY_KEYS}]`);
  return ((Math.ceil(nbits / 64) + 1) / 2 ** 64) ** keys;
}

/** Number of 64-bit keys (tag words) so that two different `nbits`-bit blocks collide with probability <= epsCor. */
export function verificationKeyCount(epsCor: number, nbits: number): number {
  if (!Number.isFinite(epsCor) || epsCor <= 0 || epsCor >= 1) throw new KernelArgumentError('epsCor', epsCor, 'a number in (0, 1)');
  const one = verificationCollisionBound(nbits, 1);
  const t = Math.max(1, Math.ceil(Math.log(epsCor) / Math.log(one) - 1e-12));
  if (t > MAX_VERIFY_KEYS) throw new KernelArgumentError('epsCor', epsCor, `a bound reachable with at most ${MAX_VERIFY_KEYS} keys`);
  return t;
}

export class ErrorVerifier {
  private readonly k: KernelInstance<VerifyExports>;
  private readonly views: MemoryViews;
  constructor(options?: LoadOptions) {
    this.k = loadKernel<VerifyExports>('verify', options);
    this.views = new MemoryViews(this.k.memory);
  }

  get target(): string {
    return this.k.target;
  }

  /**
   * Tags the first `nbits` bits of `block` with the 64-bit keys in `keys` (8 t bytes, little-endian).
   * Returns the 8 t-byte tag.
   */
  tag(block: Uint8Array, nbits: number, keys: Uint8Array): Uint8Array {
    checkBits(nbits);
    if (!(block instanceof Uint8Array)) throw new KernelArgumentError('block', block, 'a Uint8Array');
    if (block.length < Math.ceil(nbits / 8)) throw new KernelArgumentError('block.length', block.length, `>= ceil(nbits/8) = ${Math.ceil(nbits / 8)}`);
    if (!(keys instanceof Uint8Array)) throw new KernelArgumentError('keys', keys, 'a Uint8Array');
    if (keys.length === 0 || keys.length % 8 !== 0 || keys.length > 8 * MAX_VERIFY_KEYS) {
      throw new KernelArgumentError('keys.length', keys.length, `a multiple of 8 in [8, ${8 * MAX_VERIFY_KEYS}]`);
    }
    const t = keys.length / 8;
    const e = this.k.exports;
    const dataBytes = Math.ceil(nbits / 64) * 8 + 8;
    const tab = e.tableBytes(t);
    const bytes = dataBytes + 8 * t + 8 * t + tab + 64;
    ensureMemory(this.k, bytes + 2 ** 20);
    const base = guard('verify', () => e.arena(bytes));
    if (base === 0) throw new KernelArgumentError('nbits', nbits, 'a block that fits in WASM memory');
    const pKeys = base;
    const pOut = pKeys + 8 * t;
    const pTab = pOut + 8 * t;
    const pData = pTab + tab;
    const u8 = this.views.u8;
    u8.set(keys, pKeys);
    const nb = Math.ceil(nbits / 8);
    u8.set(block.subarray(0, nb), pData);
    u8.fill(0, pData + nb, pData + dataBytes);
    guard('verify', () => e.polyHash(pData, nbits, pKeys, t, pOut, pTab));
    return this.views.u8.slice(pOut, pOut + 8 * t);
  }
}

const MASK64 = (1n << 64n) - 1n;

/** Plain-TypeScript twin: schoolbook carry-less multiply and reduction, one bit at a time. */
function gfMul(a: bigint, b: bigint): bigint {
  let r = 0n;
  for (let i = 0n; i < 64n; i++) {
    if ((b >> i) & 1n) r ^= a << i;
  }
  for (let i = 126n; i >= 64n; i--) {
    if ((r >> i) & 1n) r ^= (1n << i) | (0x1bn << (i - 64n));
  }
  return r & MASK64;
}

function word(buf: Uint8Array, i: number, nbits: number): bigint {
  let w = 0n;
  for (let b = 7; b >= 0; b--) w = (w << 8n) | BigInt(buf[8 * i + b] ?? 0);
  const end = 64 * (i + 1);
  if (end > nbits) w &= (1n << BigInt(64 - (end - nbits))) - 1n;
  return w;
}

export function polyHashReference(block: Uint8Array, nbits: number, keys: Uint8Array): Uint8Array {
  const t = keys.length / 8;
  const words = Math.ceil(nbits / 64);
  const out = new Uint8Array(8 * t);
  for (let j = 0; j < t; j++) {
    const k = word(keys, j, 64 * (j + 1));
    let h = 0n;
    for (let i = 0; i < words; i++) h = gfMul(h ^ word(block, i, nbits), k);
    h = gfMul(h ^ BigInt(nbits), k);
    for (let b = 0; b < 8; b++) out[8 * j + b] = Number((h >> BigInt(8 * b)) & 0xffn);
  }
  return out;
}
