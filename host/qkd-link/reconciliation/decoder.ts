/**
 * Host wrapper of the `ldpc` kernel: a layered belief-propagation decoder holding sixteen frames
 * (lanes) of one quasi-cyclic code at once. Each lane is independent: the host loads a frame into
 * a free lane, runs iterations, and takes the lane back when its syndrome matches or it gives up,
 * so slow frames never hold fast ones back. The kernel works on sixteen checks of one frame per
 * instruction, so an iteration costs work only for the lanes asked for.
 *
 * LLRs are fixed point, LLR_SCALE units per nat (posteriors 16-bit, messages 8-bit); positive
 * means bit 0.
 */
import { KernelArgumentError } from '../kernels/errors.js';
import { loadKernel, guard, MemoryViews, type KernelInstance, type LoadOptions } from '../kernels/loader.js';
import type { LdpcCode } from './code.js';
import { FrameLengthError, SyndromeLengthError } from './errors.js';

/** Most frames a decoder holds (its lanes). */
export const LANES = 16;
export const LLR_SCALE = 8;
/** LLR of a bit whose value is known (shortened or revealed). */
export const LLR_KNOWN = 32767;
/** The kernel's padding (i16 entries) before each circulant's posteriors (its PAD). */
const POST_PAD = 16;

interface LdpcExports {
  arena(bytes: number): number;
  configure(z: number, mb: number, nb: number, entryStart: number, entryCol: number, entryShift: number, dmax: number, post: number, postStride: number, msg: number, msgStride: number, synd: number, syndStride: number, scratch: number, addrTable: number): void;
  resetLane(lane: number): void;
  mirrorLane(lane: number): void;
  iterate(active: number, out: number): number;
  unsatisfied(active: number, out: number): number;
  syndrome(bits: number, out: number): void;
  setLayout(keyPos: number, k: number, order: number, d: number): void;
  loadFrame(lane: number, keyBytes: number, llr: number, punctured: number, syndBytes: number): void;
  extractKey(lane: number, out: number): void;
  keyPosteriors(lane: number, out: number): void;
  setCorrection(full: number): void;
}

/**
 * Codes below this rate decode with both correction terms of the box-plus rule (the kernel's
 * boxplusFull): at their QBERs most messages are small, where the second term matters. Above
 * it, messages are large and the cheaper rule loses nothing measurable.
 */
export const FULL_CORRECTION_RATE = 0.7;

/** Channel LLR of a BSC with crossover probability q, quantised. */
export function channelLlr(q: number): number {
  return Math.min(LLR_KNOWN - 1, Math.max(1, Math.round(LLR_SCALE * Math.log((1 - q) / q))));
}

export class LaneDecoder {
  readonly code: LdpcCode;
  private readonly k: KernelInstance<LdpcExports>;
  private readonly views: MemoryViews;
  private readonly postPtr: number;
  private readonly syndPtr: number;
  private readonly unsatPtr: number;
  private readonly bitsPtr: number;
  private readonly outPtr: number;
  private readonly keyPosPtr: number;
  private readonly orderPtr: number;
  private readonly keyIoPtr: number;
  private readonly keyPostPtr: number;
  private readonly syndIoPtr: number;
  private keyCount = -1;
  private readonly z: number;
  /** i16 entries per base column in a lane's posteriors (padding and mirror included). */
  private readonly blockStride: number;
  private readonly postStride: number;
  private readonly msgStride: number;
  private readonly syndStride: number;
  /** Whether the check update uses both correction terms (see FULL_CORRECTION_RATE). */
  readonly fullCorrection: boolean;

  /**
   * `lanes` (1-16): how many frames it holds; each takes about n * 2.4 + edges bytes of WASM
   * memory. One lane whose frame runs many iterations in a row keeps its memory in the CPU's L2
   * cache; lanes taken in turn evict each other.
   */
  constructor(code: LdpcCode, options?: LoadOptions, fullCorrection = code.rate < FULL_CORRECTION_RATE, readonly lanes = LANES) {
    if (!Number.isInteger(lanes) || lanes < 1 || lanes > LANES) throw new KernelArgumentError('lanes', lanes, `an integer in [1, ${LANES}]`);
    this.code = code;
    const { z, nb, mb } = code.spec;
    // Z <= 2048 keeps the kernel's per-byte count of unsatisfied checks (Z / 16 per byte) below 256.
    if (z < 32 || (z & (z - 1)) !== 0 || z > 2048) throw new KernelArgumentError('code.spec.z', z, 'a circulant size that is a power of two in [32, 2048]');
    this.k = loadKernel<LdpcExports>('ldpc', options);
    this.views = new MemoryViews(this.k.memory);
    // Z edges per base entry: the lifted matrix itself is never built here.
    const edges = code.spec.entries.length * z;
    const entries = [...code.spec.entries].sort((a, b) => a.row - b.row || a.col - b.col);
    this.z = z;
    this.blockStride = z + 3 * POST_PAD;
    const align = (x: number) => (x + 63) & ~63;
    this.postStride = align(nb * this.blockStride * 2);
    this.msgStride = align(edges);
    this.syndStride = align(code.m);
    let o = 0;
    const entryStartOff = o; o = align(o + (mb + 1) * 4);
    const entryColOff = o; o = align(o + entries.length * 4);
    const entryShiftOff = o; o = align(o + entries.length * 4);
    const postOff = o; o = align(o + lanes * this.postStride);
    const msgOff = o; o = align(o + lanes * this.msgStride);
    const syndOff = o; o = align(o + lanes * this.syndStride);
    const scratchOff = o; o = align(o + 12 * code.maxRowDegree * 16);
    const tabOff = o; o = align(o + edges / 2);
    const unsatOff = o; o = align(o + 4 * LANES);
    const bitsOff = o; o = align(o + Math.ceil(code.n / 32) * 4);
    const outOff = o; o = align(o + Math.ceil(Math.max(code.n, code.m) / 32) * 4);
    const keyPosOff = o; o = align(o + code.n * 4);
    const orderOff = o; o = align(o + code.n * 4);
    const keyIoOff = o; o = align(o + code.n);
    const keyPostOff = o; o = align(o + code.n * 2);
    const syndIoOff = o; o = align(o + code.m);
    const base = guard('ldpc', () => this.k.exports.arena(o));
    if (base === 0) throw new KernelArgumentError('code.n', code.n, 'a code whose decoder fits in WASM memory');
    const u32 = this.views.u32;
    const entryStart = new Uint32Array(mb + 1);
    for (const e of entries) entryStart[e.row + 1]!++;
    for (let i = 0; i < mb; i++) entryStart[i + 1]! += entryStart[i]!;
    u32.set(entryStart, (base + entryStartOff) >>> 2);
    u32.set(entries.map((e) => (e.col * this.blockStride + POST_PAD) * 2), (base + entryColOff) >>> 2);
    u32.set(entries.map((e) => e.shift), (base + entryShiftOff) >>> 2);
    this.postPtr = base + postOff;
    this.syndPtr = base + syndOff;
    this.unsatPtr = base + unsatOff;
    this.bitsPtr = base + bitsOff;
    this.outPtr = base + outOff;
    this.keyPosPtr = base + keyPosOff;
    this.orderPtr = base + orderOff;
    this.keyIoPtr = base + keyIoOff;
    this.keyPostPtr = base + keyPostOff;
    this.syndIoPtr = base + syndIoOff;
    this.views.u8.fill(0, base + postOff, base + scratchOff);
    guard('ldpc', () => this.k.exports.configure(z, mb, nb, base + entryStartOff, base + entryColOff, base + entryShiftOff, code.maxRowDegree,
      this.postPtr, this.postStride, base + msgOff, this.msgStride, this.syndPtr, this.syndStride, base + scratchOff, base + tabOff));
    this.fullCorrection = fullCorrection;
    guard('ldpc', () => this.k.exports.setCorrection(fullCorrection ? 1 : 0));
  }

  private get laneMask(): number {
    return (1 << this.lanes) - 1;
  }

  get target(): string {
    return this.k.target;
  }

  private i16(): Int16Array {
    return new Int16Array(this.k.memory.buffer);
  }

  private checkLane(lane: number): void {
    if (!Number.isInteger(lane) || lane < 0 || lane >= this.lanes) throw new KernelArgumentError('lane', lane, `an integer in [0, ${this.lanes - 1}]`);
  }

  /**
   * Loads a frame into a lane: its channel LLRs (one per code bit) and the syndrome to match
   * (one bit per byte, one per check). Clears the lane's messages.
   */
  loadLane(lane: number, llr: Int16Array, syndrome: Uint8Array): void {
    this.checkLane(lane);
    if (llr.length !== this.code.n) throw new FrameLengthError('llr', llr.length, this.code.n);
    if (syndrome.length !== this.code.m) throw new SyndromeLengthError(syndrome.length, this.code.m);
    const h = this.i16();
    for (let v = 0; v < llr.length; v++) h[this.postIndex(lane, v)] = llr[v]!;
    guard('ldpc', () => this.k.exports.mirrorLane(lane));
    const s8 = new Int8Array(this.k.memory.buffer);
    const p = this.syndPtr + lane * this.syndStride;
    for (let c = 0; c < syndrome.length; c++) s8[p + c] = syndrome[c] ? -1 : 0;
    guard('ldpc', () => this.k.exports.resetLane(lane));
  }

  /** Index in the i16 view of variable v's posterior in a lane (see the kernel's memory layout). */
  private postIndex(lane: number, v: number): number {
    const j = Math.floor(v / this.z);
    return ((this.postPtr + lane * this.postStride) >>> 1) + j * this.blockStride + POST_PAD + (v - j * this.z);
  }

  /**
   * Fixes the frame layout used by loadFrame() and extractKey(): the code positions of the key
   * bits, and the reserved positions in puncturing order.
   */
  setLayout(keyPositions: Uint32Array, reservedOrder: Uint32Array): void {
    if (keyPositions.length + reservedOrder.length !== this.code.n) throw new FrameLengthError('layout', keyPositions.length + reservedOrder.length, this.code.n);
    const u32 = this.views.u32;
    u32.set(keyPositions, this.keyPosPtr >>> 2);
    u32.set(reservedOrder, this.orderPtr >>> 2);
    this.keyCount = keyPositions.length;
    guard('ldpc', () => this.k.exports.setLayout(this.keyPosPtr, keyPositions.length, this.orderPtr, reservedOrder.length));
  }

  /**
   * Loads a frame into a lane from key bits (one per byte): channel LLR ±`llr` on key bits, 0 on
   * the first `punctured` reserved positions, "known 0" on the rest; `syndrome` one bit per byte.
   */
  loadFrame(lane: number, key: Uint8Array, llr: number, punctured: number, syndrome: Uint8Array): void {
    this.checkLane(lane);
    if (key.length !== this.keyCount) throw new FrameLengthError('key', key.length, this.keyCount);
    if (syndrome.length !== this.code.m) throw new SyndromeLengthError(syndrome.length, this.code.m);
    const u8 = this.views.u8;
    u8.set(key, this.keyIoPtr);
    u8.set(syndrome, this.syndIoPtr);
    guard('ldpc', () => this.k.exports.loadFrame(lane, this.keyIoPtr, llr, punctured, this.syndIoPtr));
  }

  /** Hard decisions of one lane at the key positions, one bit per byte. */
  extractKey(lane: number): Uint8Array {
    this.checkLane(lane);
    guard('ldpc', () => this.k.exports.extractKey(lane, this.keyIoPtr));
    return this.views.u8.slice(this.keyIoPtr, this.keyIoPtr + this.keyCount);
  }

  /** Posteriors of one lane at the key positions (setLayout's order). */
  keyPosteriors(lane: number): Int16Array {
    this.checkLane(lane);
    guard('ldpc', () => this.k.exports.keyPosteriors(lane, this.keyPostPtr));
    return new Int16Array(this.k.memory.buffer, this.keyPostPtr, this.keyCount).slice();
  }

  /** Sets one posterior (a revealed bit becomes ±LLR_KNOWN). */
  setPosterior(lane: number, v: number, value: number): void {
    const h = this.i16();
    const i = this.postIndex(lane, v);
    h[i] = value;
    if (v % this.z < POST_PAD) h[i + this.z] = value; // the kernel's mirror of a circulant's first variables
  }

  /** A copy of one lane's posteriors. */
  posteriors(lane: number): Int16Array {
    this.checkLane(lane);
    const h = this.i16();
    const out = new Int16Array(this.code.n);
    const { z } = this;
    for (let v = 0; v < out.length; v += z) {
      const p = this.postIndex(lane, v);
      out.set(h.subarray(p, p + z), v);
    }
    return out;
  }

  /**
   * One layered iteration over all lanes whose bit is set in `active`. Returns each lane's running
   * estimate of unsatisfied checks (each check's hard decisions right after its update); a 0 is a
   * candidate to confirm with unsatisfied().
   */
  iterate(active = 0xffff): Uint32Array {
    guard('ldpc', () => this.k.exports.iterate(active & this.laneMask, this.unsatPtr));
    return this.views.u32.slice(this.unsatPtr >>> 2, (this.unsatPtr >>> 2) + LANES);
  }

  /** Unsatisfied check count of each lane in `active` (0 for the others). */
  unsatisfied(active = 0xffff): Uint32Array {
    guard('ldpc', () => this.k.exports.unsatisfied(active & this.laneMask, this.unsatPtr));
    return this.views.u32.slice(this.unsatPtr >>> 2, (this.unsatPtr >>> 2) + LANES);
  }

  /** Syndrome of a word given one bit per byte; returns one bit per byte. */
  syndrome(bits: Uint8Array): Uint8Array {
    if (bits.length !== this.code.n) throw new FrameLengthError('word', bits.length, this.code.n);
    const u32 = this.views.u32;
    const w0 = this.bitsPtr >>> 2;
    for (let w = 0, v = 0; v < bits.length; w++) {
      let acc = 0;
      for (let i = 0; i < 32 && v < bits.length; i++, v++) acc |= (bits[v]! & 1) << i;
      u32[w0 + w] = acc;
    }
    guard('ldpc', () => this.k.exports.syndrome(this.bitsPtr, this.outPtr));
    return unpackBits(this.views.u32.subarray(this.outPtr >>> 2, (this.outPtr >>> 2) + Math.ceil(this.code.m / 32)), this.code.m);
  }
}

function unpackBits(words: Uint32Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (words[i >>> 5]! >>> (i & 31)) & 1;
  return out;
}
