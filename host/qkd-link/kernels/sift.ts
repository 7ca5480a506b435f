/**
 * Basis sifting: keeps the value bit in every slot where transmitter and receiver chose the same
 * basis. Two forms:
 * - packed: bases and values bit-packed per slot (bit i of byte k is slot 8k+i);
 * - detection-event lists for decoy-state BB84: the receiver's events (slot index, detected value,
 *   basis) against the transmitter's ring-buffer answer for those slots (value, basis, intensity
 *   class per slot), sifted into one stream per intensity class and basis, with counts.
 */
import { KernelArgumentError } from './errors.js';
import { loadKernel, guard, ensureMemory, MemoryViews, type KernelInstance, type LoadOptions } from './loader.js';

interface SiftExports {
  arena(bytes: number): number;
  siftPacked(basesA: number, basesB: number, values: number, n: number, out: number): number;
  siftEvents(settings: number, window: number, slots: number, flags: number, nEvents: number, fromSettings: number, out: number, streamBytes: number, counts: number): number;
  answerKeep(bb: number, settings: number, n: number, keepOut: number, clsOut: number): number;
  siftKept(bb: number, value: number, keep: number, cls: number, n: number, kept: number, outKey: number, outTest: number, testPacked: number, counts: number, spare: number): number;
}

/** Alice's answer to a block's announcement, packed as the session sends it (session/packing.ts). */
export interface KeepAnswer {
  /** Keep flag per event, bit-packed. */
  readonly keep: Uint8Array;
  /** Intensity class (0 signal, 1 decoy, 2 vacuum) of each kept event, two bits each. */
  readonly cls: Uint8Array;
  readonly kept: number;
}

/** A block's sifted strings at one end, one bit per byte, with counts (signal, decoy, vacuum). */
export interface KeptStrings {
  /** Z values of the kept signal, then decoy, then vacuum events. */
  readonly key: Uint8Array;
  /** X values, same order. */
  readonly test: Uint8Array;
  /** The test string bit-packed. */
  readonly testPacked: Uint8Array;
  readonly nZ: [number, number, number];
  readonly nX: [number, number, number];
}

export type IntensityClass = 'signal' | 'decoy' | 'vacuum';
export type Basis = 'Z' | 'X';
export const INTENSITY_CLASSES: readonly IntensityClass[] = ['signal', 'decoy', 'vacuum'];
export const BASES: readonly Basis[] = ['Z', 'X'];

/** One byte of the transmitter's answer for a slot: bit 0 value, bit 1 basis (X = 1), bits 2-3 class. */
export function encodeSetting(value: 0 | 1, basis: Basis, cls: IntensityClass): number {
  return value | (basis === 'X' ? 2 : 0) | (INTENSITY_CLASSES.indexOf(cls) << 2);
}

/** One byte of a detection event: bit 0 the detected value, bit 1 the receiver's basis (X = 1). */
export function encodeEventFlags(value: 0 | 1, basis: Basis): number {
  return value | (basis === 'X' ? 2 : 0);
}

/** Whose value bit the sifted streams carry: each end keeps its own. */
export type SiftValueSource = 'receiver' | 'transmitter';

export interface ClassCounts {
  /** Events kept (bases agree), by basis. */
  readonly kept: Readonly<Record<Basis, number>>;
  /** Events discarded (bases differ), by the receiver's basis. */
  readonly discarded: Readonly<Record<Basis, number>>;
  /** All events of the class. */
  readonly detections: number;
}

export interface EventSiftResult {
  /** Kept value bits in event order, one stream per intensity class and basis. */
  readonly streams: Readonly<Record<IntensityClass, Readonly<Record<Basis, SiftResult>>>>;
  readonly counts: Readonly<Record<IntensityClass, ClassCounts>>;
}

const MAX_EVENTS = 2 ** 28;

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

  /**
   * Sifts detection events against the transmitter's answer. `settings[s]` is the answer for slot
   * s (see encodeSetting); event i is at slot `slots[i]` with `flags[i]` (see encodeEventFlags).
   * Each event is checked (slot inside the answer, valid flags and setting) inside the kernel's
   * loop, before its slot is read; the first bad one is reported as a KernelArgumentError.
   */
  siftEvents(settings: Uint8Array, slots: Uint32Array, flags: Uint8Array, valueFrom: SiftValueSource): EventSiftResult {
    if (!(settings instanceof Uint8Array)) throw new KernelArgumentError('settings', settings, 'a Uint8Array, one byte per slot');
    if (settings.length > 0xffff_ffff) throw new KernelArgumentError('settings.length', settings.length, '< 2^32');
    if (!(slots instanceof Uint32Array)) throw new KernelArgumentError('slots', slots, 'a Uint32Array of slot indices');
    if (!(flags instanceof Uint8Array)) throw new KernelArgumentError('flags', flags, 'a Uint8Array, one byte per event');
    if (flags.length !== slots.length) throw new KernelArgumentError('flags.length', flags.length, `slots.length = ${slots.length}`);
    if (slots.length > MAX_EVENTS) throw new KernelArgumentError('slots.length', slots.length, '<= 2^28 events per call');
    if (valueFrom !== 'receiver' && valueFrom !== 'transmitter') throw new KernelArgumentError('valueFrom', valueFrom, "'receiver' or 'transmitter'");
    const nE = slots.length;
    const streamBytes = Math.ceil(nE / 64) * 8 + 8;
    const sBytes = Math.ceil(settings.length / 8) * 8;
    const bytes = sBytes + nE * 4 + Math.ceil(nE / 8) * 8 + 6 * streamBytes + 128;
    ensureMemory(this.k, bytes + 2 ** 20);
    const base = guard('sift', () => this.k.exports.arena(bytes));
    if (base === 0) throw new KernelArgumentError('slots.length', nE, 'a size that fits in WASM memory');
    const pCounts = base;
    const pSlots = base + 128;
    const pFlags = pSlots + nE * 4;
    const pSettings = pFlags + Math.ceil(nE / 8) * 8;
    const pOut = pSettings + sBytes;
    const u8 = this.views.u8;
    u8.set(new Uint8Array(slots.buffer, slots.byteOffset, nE * 4), pSlots);
    u8.set(flags, pFlags);
    u8.set(settings, pSettings);
    u8.fill(0, pOut, pOut + 6 * streamBytes);
    const bad = guard('sift', () =>
      this.k.exports.siftEvents(pSettings, settings.length, pSlots, pFlags, nE, valueFrom === 'transmitter' ? 1 : 0, pOut, streamBytes, pCounts),
    );
    if (bad >= 0) throw badEvent(settings, slots, flags, bad);
    const c = this.views.u32.slice(pCounts / 4, pCounts / 4 + 18);
    const view = this.views.u8;
    const stream = (cls: number, b: number): SiftResult => {
      const length = c[12 + 2 * cls + b]!;
      const start = pOut + (2 * cls + b) * streamBytes;
      return { bits: view.slice(start, start + Math.ceil(length / 8)), length };
    };
    return assembleEventResult(stream, (cls, kept, b) => c[4 * cls + 2 * kept + b]!);
  }

  /**
   * Alice's keep decision for a block (session/sifting.ts aliceKeep, with packed output):
   * `settings` is her board's SETTINGS byte per event as on the wire (bit 0 value, bit 1 basis X,
   * bits 2-3 class, bits 5-7 not known); event k is kept when its setting is known, her basis
   * equals Bob's (bit k of `bb`) and its class is 0-2.
   */
  answerKeep(bb: Uint8Array, settings: Uint8Array, n: number): KeepAnswer {
    checkCount(n);
    checkPacked('bb', bb, n);
    if (!(settings instanceof Uint8Array) || settings.length < n) throw new KernelArgumentError('settings.length', settings?.length, `>= n = ${n}`);
    const pb = (n + 7) >>> 3;
    const pc = (((n + 3) >>> 2) + 15) & ~7;
    const pBb = 0;
    const pSettings = pBb + pb + 8;
    const pKeep = pSettings + n;
    const pCls = pKeep + pb + 8;
    const bytes = pCls + pc;
    const base = this.arena(bytes, n);
    const u8 = this.views.u8;
    u8.set(bb.subarray(0, pb), base + pBb);
    u8.set(settings.subarray(0, n), base + pSettings);
    const kept = guard('sift', () => this.k.exports.answerKeep(base + pBb, base + pSettings, n, base + pKeep, base + pCls)) >>> 0;
    const v = this.views.u8;
    return { keep: v.slice(base + pKeep, base + pKeep + pb), cls: v.slice(base + pCls, base + pCls + ((kept + 3) >>> 2)), kept };
  }

  /**
   * Sifts a block's kept events into its key and test strings (session/sifting.ts siftBlock, from
   * packed fields): `bb` Bob's bases (bit-packed), `value` this end's bit per event, `keep` and
   * `cls` Alice's answer with `kept` keep flags among the first n. Throws a KernelArgumentError
   * naming the field when the classes are not 0-2 or the flags count other than `kept`.
   */
  siftKept(bb: Uint8Array, value: Uint8Array, keep: Uint8Array, cls: Uint8Array, n: number, kept: number): KeptStrings {
    checkCount(n);
    checkPacked('bb', bb, n);
    checkPacked('keep', keep, n);
    if (!(value instanceof Uint8Array) || value.length < n) throw new KernelArgumentError('value.length', value?.length, `>= n = ${n}`);
    if (!Number.isSafeInteger(kept) || kept < 0 || kept > n) throw new KernelArgumentError('kept', kept, `an integer in [0, n = ${n}]`);
    if (!(cls instanceof Uint8Array) || cls.length < (kept + 3) >>> 2) throw new KernelArgumentError('cls.length', cls?.length, `>= ceil(kept / 4) = ${(kept + 3) >>> 2}`);
    const pb = (n + 7) >>> 3;
    const pCounts = 0;
    const pBb = 64;
    const pValue = pBb + pb + 8;
    const pKeep = pValue + n;
    const pCls = pKeep + pb + 8;
    const pKey = pCls + ((kept + 3) >>> 2) + 8;
    const pTest = pKey + kept;
    const pPacked = pTest + kept;
    const pSpare = pPacked + ((kept + 7) >>> 3) + 8;
    const bytes = pSpare + 4 * kept;
    const base = this.arena(bytes, n);
    const u8 = this.views.u8;
    u8.set(bb.subarray(0, pb), base + pBb);
    u8.set(value.subarray(0, n), base + pValue);
    u8.set(keep.subarray(0, pb), base + pKeep);
    u8.set(cls.subarray(0, (kept + 3) >>> 2), base + pCls);
    const r = guard('sift', () => this.k.exports.siftKept(base + pBb, base + pValue, base + pKeep, base + pCls, n, kept, base + pKey, base + pTest, base + pPacked, base + pCounts, base + pSpare));
    if (r === -2) throw new KernelArgumentError('kept', kept, 'the number of keep flags set among the first n');
    if (r >= 0) throw new KernelArgumentError(`cls[${r}]`, 3, 'an intensity class 0-2 (signal, decoy, vacuum)');
    const c = this.views.u32.slice((base + pCounts) / 4, (base + pCounts) / 4 + 6);
    const nZ: [number, number, number] = [c[0]!, c[2]!, c[4]!];
    const nX: [number, number, number] = [c[1]!, c[3]!, c[5]!];
    const zs = nZ[0] + nZ[1] + nZ[2];
    const xs = nX[0] + nX[1] + nX[2];
    const v = this.views.u8;
    return { key: v.slice(base + pKey, base + pKey + zs), test: v.slice(base + pTest, base + pTest + xs), testPacked: v.slice(base + pPacked, base + pPacked + ((xs + 7) >>> 3)), nZ, nX };
  }

  /** A scratch region of `bytes` (64-byte aligned, so offsets from it keep their alignment). */
  private arena(bytes: number, n: number): number {
    ensureMemory(this.k, bytes + 2 ** 16);
    const base = guard('sift', () => this.k.exports.arena(bytes));
    if (base === 0) throw new KernelArgumentError('n', n, 'a size that fits in WASM memory');
    return base;
  }
}

function badEvent(settings: Uint8Array, slots: Uint32Array, flags: Uint8Array, i: number): KernelArgumentError {
  const slot = slots[i]!;
  if (slot >= settings.length) return new KernelArgumentError(`slots[${i}]`, slot, `a slot index < settings.length = ${settings.length}`);
  if (flags[i]! > 3) return new KernelArgumentError(`flags[${i}]`, flags[i], 'bits 0-1 only (value, basis)');
  return new KernelArgumentError(`settings[${slot}]`, settings[slot], 'value | basis << 1 | class << 2 with class 0-2 (event ' + i + ')');
}

function assembleEventResult(stream: (cls: number, basis: number) => SiftResult, count: (cls: number, kept: number, basis: number) => number): EventSiftResult {
  const streams = {} as Record<IntensityClass, Record<Basis, SiftResult>>;
  const counts = {} as Record<IntensityClass, ClassCounts>;
  INTENSITY_CLASSES.forEach((name, cls) => {
    streams[name] = { Z: stream(cls, 0), X: stream(cls, 1) };
    const kept = { Z: count(cls, 1, 0), X: count(cls, 1, 1) };
    const discarded = { Z: count(cls, 0, 0), X: count(cls, 0, 1) };
    counts[name] = { kept, discarded, detections: kept.Z + kept.X + discarded.Z + discarded.X };
  });
  return { streams, counts };
}

/** Plain-TypeScript twin of siftEvents (inputs assumed valid). */
export function siftEventsReference(settings: Uint8Array, slots: Uint32Array, flags: Uint8Array, valueFrom: SiftValueSource): EventSiftResult {
  const nE = slots.length;
  const bufs = Array.from({ length: 6 }, () => new Uint8Array(Math.ceil(nE / 8)));
  const lens = new Array<number>(6).fill(0);
  const cnt = new Array<number>(12).fill(0);
  for (let i = 0; i < nE; i++) {
    const a = settings[slots[i]!]!;
    const f = flags[i]!;
    const cls = a >> 2;
    const basis = (f >> 1) & 1;
    const keep = ((a >> 1) & 1) === basis ? 1 : 0;
    cnt[4 * cls + 2 * keep + basis]!++;
    if (!keep) continue;
    const v = valueFrom === 'transmitter' ? a & 1 : f & 1;
    const s = 2 * cls + basis;
    if (v) bufs[s]![lens[s]! >> 3]! |= 1 << (lens[s]! & 7);
    lens[s]!++;
  }
  return assembleEventResult(
    (cls, b) => ({ bits: bufs[2 * cls + b]!.slice(0, Math.ceil(lens[2 * cls + b]! / 8)), length: lens[2 * cls + b]! }),
    (cls, kept, b) => cnt[4 * cls + 2 * kept + b]!,
  );
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
