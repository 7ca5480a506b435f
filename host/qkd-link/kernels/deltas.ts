/**
 * The per-event bulk of a block's sifting announcement, as one kernel call per end (the `sift`
 * module, assembly/sift/deltas.ts):
 * - Bob (`announce`): squashes his click masks into basis and value bytes, packs the bases and
 *   re-encodes the block's slot segments as LEB128 deltas from the block's start;
 * - Alice (`partition`): checks Bob's deltas and cuts them into parts for her board's queries,
 *   without decoding the slots into an array.
 * The plain-TypeScript twins (session/sifting.ts squashClicks, session/packing.ts
 * encodeSegmentDeltas, packBits, decodeSlotDeltas, partitionSlotDeltas) define the results and
 * the errors: the same bytes for the same input and random bytes, the same error class and
 * message for malformed segments or deltas.
 */
import type { SlotDeltaRun } from '../../../firmware-bridge/protocol/slot-deltas.js';
import { KernelArgumentError, KernelTrapError, SessionMessageError } from './errors.js';
import { loadKernel, guard, ensureMemory, MemoryViews, type KernelInstance, type LoadOptions } from './loader.js';

/** Random bits for squashing: a cryptographic source in production. */
export type RandomBits = (n: number) => Uint8Array;

/**
 * The events of a block, as the receiver gathers them: segments of slots, each either a whole
 * detection batch still in its wire form (LEB128 deltas from the batch's first slot `base`, as
 * firmware-bridge delivers them) or decoded slots (part of a batch, where a block starts or ends).
 */
export interface SlotSegments {
  /** Per segment: its base slot (raw segments; ignored for decoded ones). */
  readonly base: Float64Array;
  /** Per segment: its number of events. */
  readonly count: Uint32Array;
  /** Per segment: bytes of its raw deltas in `raw`, or -1 when its slots are in `decoded`. */
  readonly rawBytes: Int32Array;
  readonly raw: Uint8Array;
  readonly decoded: Float64Array;
}

interface DeltaExports {
  arena(bytes: number): number;
  countMultiClicks(masks: number, n: number): number;
  announce(masks: number, nMasks: number, rnd: number, nRnd: number, basis: number, value: number, bb: number, start: number, base: number, count: number, rawBytes: number, nSeg: number, raw: number, rawLen: number, decoded: number, nDecoded: number, out: number, cap: number, info: number): number;
  encodeSegmentDeltas(start: number, base: number, count: number, rawBytes: number, nSeg: number, raw: number, rawLen: number, decoded: number, nDecoded: number, out: number, cap: number, info: number): number;
  checkSlotDeltas(bytes: number, len: number, s: number, e: number, n: number, per: number, ends: number, lasts: number, info: number): number;
}

/** Kernel status codes (assembly/sift/deltas.ts). */
const Status = {
  ok: 0,
  segPastEnd: 1,
  segDeltasEnd: 2,
  slotBefore: 3,
  slotMissing: 4,
  segBytesLeft: 5,
  outFull: 6,
  deltasEnd: 7,
  deltaTooLong: 8,
  slotLate: 9,
  bytesLeft: 10,
} as const;

/** Bob's side of sift.announce: `d` and `bb` go on the wire, `basis` and `value` stay for sifting. */
export interface Announcement {
  /** LEB128 slot deltas from the block's start (encodeSegmentDeltas). */
  readonly d: Uint8Array;
  /** The bases, bit-packed (packBits). */
  readonly bb: Uint8Array;
  /** Per event: basis (0 Z, 1 X) and value bytes (squashClicks). */
  readonly basis: Uint8Array;
  readonly value: Uint8Array;
  /** Events where more than one detector clicked. */
  readonly multiClicks: number;
}

const INFO_BYTES = 64;
const MAX_BYTES = 2 ** 31;

const align8 = (x: number) => (x + 7) & ~7;

function check(name: string, value: unknown, type: abstract new (...args: never[]) => unknown): void {
  if (!(value instanceof type)) throw new KernelArgumentError(name, value, `a ${type.name}`);
}

export class SlotDeltaCoder {
  private readonly k: KernelInstance<DeltaExports>;
  private readonly views: MemoryViews;
  constructor(options?: LoadOptions) {
    this.k = loadKernel<DeltaExports>('sift', options);
    this.views = new MemoryViews(this.k.memory);
  }

  get target(): string {
    return this.k.target;
  }

  private region(bytes: number, what: string, size: number): number {
    if (bytes > MAX_BYTES) throw new KernelArgumentError(what, size, 'a size that fits in WASM memory');
    ensureMemory(this.k, bytes + 2 ** 16);
    const base = guard('sift', () => this.k.exports.arena(bytes));
    if (base === 0) throw new KernelArgumentError(what, size, 'a size that fits in WASM memory');
    return base;
  }

  /**
   * Bob's announcement of a block: squashClicks(masks, randomBits) (randomBits is called once,
   * for 2 bytes per multi-click event, only when there are some), packBits of the bases, and
   * encodeSegmentDeltas(start, segments). Throws the twin's RangeError for malformed segments.
   */
  announce(start: number, segments: SlotSegments, masks: Uint8Array, randomBits: RandomBits): Announcement {
    if (typeof start !== 'number') throw new KernelArgumentError('start', start, 'a number (slot)');
    if (typeof segments !== 'object' || segments === null) throw new KernelArgumentError('segments', segments, 'SlotSegments');
    check('segments.base', segments.base, Float64Array);
    check('segments.count', segments.count, Uint32Array);
    check('segments.rawBytes', segments.rawBytes, Int32Array);
    check('segments.raw', segments.raw, Uint8Array);
    check('segments.decoded', segments.decoded, Float64Array);
    check('masks', masks, Uint8Array);
    if (typeof randomBits !== 'function') throw new KernelArgumentError('randomBits', randomBits, 'a function (n) => Uint8Array');
    const { base, count, rawBytes, raw, decoded } = segments;
    const n = masks.length;
    const nSeg = count.length;
    const nDec = decoded.length;
    const rawLen = raw.length;
    // Inside a raw segment each delta is re-encoded in at most its own bytes; the first of each
    // segment and every decoded slot take at most 8. Anything else (non-minimal input) retries.
    const cap = rawLen + 8 * (nSeg + nDec) + 16;

    const pInfo = 0;
    const pMasks = INFO_BYTES;
    const pBasis = pMasks + align8(n);
    const pValue = pBasis + align8(n);
    const pBb = pValue + align8(n);
    const pSegBase = pBb + align8((n + 7) >>> 3) + 8;
    const pCount = pSegBase + 8 * nSeg;
    const pRawBytes = pCount + align8(4 * nSeg);
    const pDecoded = pRawBytes + align8(4 * nSeg);
    const pRaw = pDecoded + 8 * nDec;
    const pOut = pRaw + align8(rawLen);
    const pRnd = pOut + align8(cap);

    let at = this.region(pRnd, 'masks.length', n);
    this.views.u8.set(masks, at + pMasks);
    const multi = guard('sift', () => this.k.exports.countMultiClicks(at + pMasks, n));
    const rnd = multi > 0 ? randomBits(2 * multi) : new Uint8Array(0);
    check('randomBits()', rnd, Uint8Array);
    at = this.region(pRnd + rnd.length, 'masks.length', n);

    const { u8, u32, i32, f64 } = this.views;
    u8.set(rnd, at + pRnd);
    // Segments the twin would read past an array's end: a base reads as NaN, a byte count as
    // "decoded" (its undefined fails `>= 0`), as in the twin.
    const fb = (at + pSegBase) / 8;
    f64.set(base.length > nSeg ? base.subarray(0, nSeg) : base, fb);
    f64.fill(NaN, fb + Math.min(base.length, nSeg), fb + nSeg);
    u32.set(count, (at + pCount) / 4);
    const ib = (at + pRawBytes) / 4;
    i32.set(rawBytes.length > nSeg ? rawBytes.subarray(0, nSeg) : rawBytes, ib);
    i32.fill(-1, ib + Math.min(rawBytes.length, nSeg), ib + nSeg);
    f64.set(decoded, (at + pDecoded) / 8);
    u8.set(raw, at + pRaw);

    const x = this.k.exports;
    let status = guard('sift', () =>
      x.announce(at + pMasks, n, at + pRnd, rnd.length, at + pBasis, at + pValue, at + pBb, start, at + pSegBase, at + pCount, at + pRawBytes, nSeg, at + pRaw, rawLen, at + pDecoded, nDec, at + pOut, cap, at + pInfo),
    );
    let pD = at + pOut;
    if (status === Status.outFull) {
      // Every event written takes a raw byte or a decoded slot, and at most 8 bytes.
      const full = 8 * (rawLen + nDec) + 16;
      const pFull = align8(pRnd + rnd.length);
      at = this.region(pFull + full, 'segments.raw.length', rawLen);
      pD = at + pFull;
      status = guard('sift', () =>
        x.encodeSegmentDeltas(start, at + pSegBase, at + pCount, at + pRawBytes, nSeg, at + pRaw, rawLen, at + pDecoded, nDec, pD, full, at + pInfo),
      );
      if (status === Status.outFull) throw new KernelTrapError('sift', `slot deltas exceed their bound of ${full} bytes`);
    }
    if (status !== Status.ok) throw this.segmentError(status, at + pInfo, segments);
    const v = this.views;
    const len = v.f64[(at + pInfo) / 8]!;
    return {
      d: v.u8.slice(pD, pD + len),
      bb: v.u8.slice(at + pBb, at + pBb + ((n + 7) >>> 3)),
      basis: v.u8.slice(at + pBasis, at + pBasis + n),
      value: v.u8.slice(at + pValue, at + pValue + n),
      multiClicks: multi,
    };
  }

  private segmentError(status: number, pInfo: number, seg: SlotSegments): Error {
    const info = this.views.f64.subarray(pInfo / 8, pInfo / 8 + 6);
    const i = info[1]!;
    const k = info[2]!;
    switch (status) {
      case Status.segPastEnd:
        return new RangeError(`segment ${i}: ${seg.rawBytes[i]} bytes of deltas past the end of ${seg.raw.length}`);
      case Status.segDeltasEnd:
        return new RangeError(`segment ${i}: its deltas end after ${k} of ${seg.count[i]} events`);
      case Status.slotBefore:
        return new RangeError(`slot ${info[3]} in segment ${i} is before ${info[4]}`);
      case Status.slotMissing:
        return new RangeError(`slot undefined in segment ${i} is before ${info[4]}`);
      case Status.segBytesLeft:
        return new RangeError(`segment ${i}: ${info[5]} bytes left after ${seg.count[i]} deltas`);
      default:
        return new KernelTrapError('sift', `announce returned status ${status}`);
    }
  }

  /**
   * Alice's check of Bob's n slot deltas from s (decodeSlotDeltas: complete varints of at most 8
   * bytes, last slot before e, no bytes left; SessionMessageError otherwise) and their cut into
   * `parts` parts (partitionSlotDeltas), in one pass that stores only the parts' boundaries.
   * n must be a non-negative integer (the twin would allocate n slots first).
   */
  partition(d: Uint8Array, s: number, e: number, n: number, parts: number): SlotDeltaRun[] {
    check('d', d, Uint8Array);
    if (typeof s !== 'number') throw new KernelArgumentError('s', s, 'a number (slot)');
    if (typeof e !== 'number') throw new KernelArgumentError('e', e, 'a number (slot)');
    if (!Number.isSafeInteger(n) || n < 0) throw new KernelArgumentError('n', n, 'a non-negative integer');
    const per = Math.max(1, Math.ceil(n / Math.max(1, parts)));
    if (!Number.isSafeInteger(per)) throw new KernelArgumentError('parts', parts, 'a number of parts');
    const len = d.length;
    // More events than bytes fails inside the first len + 1 events, so the kernel counts no further.
    const nK = Math.min(n, len + 1);
    const perK = Math.min(per, nK);
    const nParts = nK === 0 ? 0 : Math.ceil(nK / Math.max(1, perK));
    const pInfo = 0;
    const pLasts = INFO_BYTES;
    const pEnds = pLasts + 8 * nParts;
    const pBytes = pEnds + align8(4 * nParts);
    const at = this.region(pBytes + len, 'd.length', len);
    this.views.u8.set(d, at + pBytes);
    const status = guard('sift', () => this.k.exports.checkSlotDeltas(at + pBytes, len, s, e, nK, Math.max(1, perK), at + pEnds, at + pLasts, at + pInfo));
    const { f64, u32 } = this.views;
    if (status !== Status.ok) {
      const info = f64.subarray((at + pInfo) / 8, (at + pInfo) / 8 + 6);
      switch (status) {
        case Status.deltasEnd:
          throw new SessionMessageError(`sift.announce: slot deltas end after ${info[2]} of ${n} events`);
        case Status.deltaTooLong:
          throw new SessionMessageError(`sift.announce: slot delta ${info[2]} is too long`);
        case Status.slotLate:
          throw new SessionMessageError(`sift.announce: event ${n - 1} at slot ${info[3]} is not before the block end ${e}`);
        case Status.bytesLeft:
          throw new SessionMessageError(`sift.announce: ${info[5]} bytes left after ${n} slot deltas`);
        default:
          throw new KernelTrapError('sift', `checkSlotDeltas returned status ${status}`);
      }
    }
    const out: SlotDeltaRun[] = [];
    const lb = (at + pLasts) / 8;
    const eb = (at + pEnds) / 4;
    for (let j = 0; j < nParts; j++) {
      out.push({ s: j === 0 ? s : f64[lb + j - 1]!, n: Math.min(per, n - j * per), from: j === 0 ? 0 : u32[eb + j - 1]!, to: u32[eb + j]! });
    }
    return out;
  }
}
