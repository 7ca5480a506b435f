/**
 * The slot-delta codec, one for every slot list that travels: the board protocol's (DETECTIONS,
 * QUERY_SETTINGS: messages.ts, detections.ts) and the link session's (`sift.announce`:
 * host/qkd-link/session/packing.ts). Its WebAssembly twin is assembly/sift/deltas.ts (through
 * host/qkd-link/kernels/deltas.ts), which must give the same slots and the same faults.
 *
 * A list is a base slot s and n deltas: slot[i] = s + d[0] + ... + d[i]. Each delta is an unsigned
 * LEB128 varint: 7 bits per byte, the low group first, the high bit set when more bytes follow.
 * Detections at 1 GHz are a few tens of slots apart, so most deltas take one byte.
 *
 * Each use has its limits (`SlotDeltaLimits`): the board's deltas are below 2^32, at most five
 * bytes, minimally encoded; the session's at most eight bytes (its slots are checked against the
 * block's end instead). The codec reports what is wrong as a `SlotDeltaFault` and each use words
 * it in its own error (BadMessageError, SessionMessageError), so the messages stay what they were.
 *
 * Vectors: firmware-bridge/protocol/slot-deltas.test.ts.
 */

export interface SlotDeltaLimits {
  /** Largest delta a list may carry. */
  readonly maxDelta: number;
  /** Most bytes one delta may take. */
  readonly maxBytes: number;
  /** Refuse a varint with a redundant zero group at its end. */
  readonly minimal: boolean;
}

/** The board protocol's deltas: below 2^32, so at most five bytes, minimal. */
export const BOARD_SLOT_DELTAS: SlotDeltaLimits = { maxDelta: 0xffffffff, maxBytes: 5, minimal: true };

/** The session's deltas: at most eight bytes (the slots are checked against the block's end). */
export const SESSION_SLOT_DELTAS: SlotDeltaLimits = { maxDelta: Infinity, maxBytes: 8, minimal: false };

/** What is wrong with a list, where. */
export type SlotDeltaFault =
  /** Encoding: slot `slot` (index `index`) is below `prev`, jumps by more than the limit, or is not a safe integer. */
  | { readonly kind: 'order'; readonly index: number; readonly slot: number; readonly prev: number }
  /** Decoding: the bytes end before delta `index` of `n` starts. */
  | { readonly kind: 'missing'; readonly index: number; readonly n: number }
  /** Decoding: delta `index` ends inside its varint. */
  | { readonly kind: 'truncated'; readonly index: number; readonly n: number }
  /** Decoding: delta `index` is longer than the limit's bytes. */
  | { readonly kind: 'too-long'; readonly index: number; readonly n: number }
  /** Decoding: delta `index` ends with a zero group. */
  | { readonly kind: 'not-minimal'; readonly index: number }
  /** Decoding: delta `index` is `value`, above the limit. */
  | { readonly kind: 'too-big'; readonly index: number; readonly value: number }
  /** Decoding: `bytes` bytes follow the n deltas. */
  | { readonly kind: 'trailing'; readonly bytes: number; readonly n: number }
  /** Decoding: the slots pass 2^53. */
  | { readonly kind: 'unsafe'; readonly slot: number };

/** Turns a fault into the caller's error. */
export type SlotDeltaFail = (fault: SlotDeltaFault) => Error;

/** A run of consecutive deltas: bytes [from, to) of the list, `n` slots counted from `s` (the slot before the run). */
export interface SlotDeltaRun {
  readonly s: number;
  readonly n: number;
  readonly from: number;
  readonly to: number;
}

/** Writes delta d (a non-negative safe integer) at out[pos]; returns the position after it. */
export function putDelta(out: Uint8Array, pos: number, d: number): number {
  if (d < 0x80) {
    out[pos] = d;
    return pos + 1;
  }
  while (d >= 0x80) {
    out[pos++] = (d % 0x80) | 0x80;
    d = Math.floor(d / 0x80);
  }
  out[pos] = d;
  return pos + 1;
}

/** Bytes encodeSlotDeltasInto may write for n deltas under `limits`. */
export function maxEncodedBytes(n: number, limits: SlotDeltaLimits): number {
  return n * limits.maxBytes;
}

/**
 * Writes the deltas of slots[0..n) from `base` into `out` (room for maxEncodedBytes) and returns
 * the bytes written. Slots must be safe integers, non-decreasing from base, no step above the limit.
 */
export function encodeSlotDeltasInto(base: number, slots: ArrayLike<number>, n: number, limits: SlotDeltaLimits, fail: SlotDeltaFail, out: Uint8Array): number {
  let o = 0;
  let prev = base;
  // From a safe-integer base, a delta that is a u32 integer keeps every slot an integer; only
  // the 2^53 ceiling is left to check.
  const fast = Number.isSafeInteger(base) && limits.maxDelta >= 0xffffffff;
  for (let i = 0; i < n; i++) {
    const s = slots[i]!;
    const d = s - prev;
    if (!(fast && d >>> 0 === d && s <= Number.MAX_SAFE_INTEGER) && !(d >= 0 && d <= limits.maxDelta && Number.isSafeInteger(s) && Number.isSafeInteger(d))) {
      throw fail({ kind: 'order', index: i, slot: s, prev });
    }
    o = putDelta(out, o, d);
    prev = s;
  }
  return o;
}

/** The deltas of slots[0..n) from `base`, in a buffer of their own. */
export function encodeSlotDeltas(base: number, slots: ArrayLike<number>, n: number, limits: SlotDeltaLimits, fail: SlotDeltaFail): Uint8Array {
  // Most deltas take one or two bytes: start there and grow only if the list needs it.
  let out = new Uint8Array(Math.min(maxEncodedBytes(n, limits), 2 * n + 16));
  let o = 0;
  let prev = base;
  for (let i = 0; i < n; i++) {
    const s = slots[i]!;
    const d = s - prev;
    if (!(d >= 0 && d <= limits.maxDelta && Number.isSafeInteger(s) && Number.isSafeInteger(d))) throw fail({ kind: 'order', index: i, slot: s, prev });
    if (o + limits.maxBytes > out.length) {
      const grown = new Uint8Array(Math.min(maxEncodedBytes(n, limits), 2 * out.length + limits.maxBytes));
      grown.set(out.subarray(0, o));
      out = grown;
    }
    o = putDelta(out, o, d);
    prev = s;
  }
  return out.slice(0, o);
}

/** A decoder's position in its bytes: local to each call (no module state). */
interface Cursor {
  at: number;
}

/** The delta i at c.at, advancing past it. */
function readDelta(d: Uint8Array, c: Cursor, i: number, n: number, limits: SlotDeltaLimits, fail: SlotDeltaFail): number {
  const len = d.length;
  if (c.at >= len) throw fail({ kind: 'missing', index: i, n });
  let b = d[c.at++]!;
  if (b < 0x80) return b;
  let v = b & 0x7f;
  let mul = 128;
  for (let k = 1; ; k++) {
    if (k >= limits.maxBytes) throw fail({ kind: 'too-long', index: i, n });
    if (c.at >= len) throw fail({ kind: 'truncated', index: i, n });
    b = d[c.at++]!;
    v += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (b === 0 && limits.minimal) throw fail({ kind: 'not-minimal', index: i });
      break;
    }
    mul *= 128;
  }
  if (v > limits.maxDelta) throw fail({ kind: 'too-big', index: i, value: v });
  return v;
}

/**
 * Walks n deltas from base: writes the slots into `out` when given, checks every delta, and
 * returns the last slot and the bytes read. Bytes after the n deltas are the caller's to judge.
 */
export function walkSlotDeltas(base: number, d: Uint8Array, n: number, limits: SlotDeltaLimits, fail: SlotDeltaFail, out?: Float64Array): { last: number; end: number } {
  const c: Cursor = { at: 0 };
  const len = d.length;
  let s = base;
  for (let i = 0; i < n; i++) {
    // One-byte deltas (most, at 1 GHz) inline, the others and every fault through readDelta.
    const b = c.at < len ? d[c.at]! : 0x80;
    if (b < 0x80) {
      c.at++;
      s += b;
    } else s += readDelta(d, c, i, n, limits, fail);
    if (out) out[i] = s;
  }
  return { last: s, end: c.at };
}

/** Decodes exactly n deltas from base (nothing may follow them). */
export function decodeSlotDeltas(base: number, d: Uint8Array, n: number, limits: SlotDeltaLimits, fail: SlotDeltaFail): Float64Array {
  const out = new Float64Array(n);
  const { end } = walkSlotDeltas(base, d, n, limits, fail, out);
  if (end !== d.length) throw fail({ kind: 'trailing', bytes: d.length - end, n });
  return out;
}

/** Checks what decodeSlotDeltas checks without writing the slots; returns the last slot (base if n = 0). */
export function checkSlotDeltas(base: number, d: Uint8Array, n: number, limits: SlotDeltaLimits, fail: SlotDeltaFail): number {
  const { last, end } = walkSlotDeltas(base, d, n, limits, fail);
  if (end !== d.length) throw fail({ kind: 'trailing', bytes: d.length - end, n });
  return last;
}

/**
 * Cuts n deltas from base into runs of at most `per` slots without decoding them into slots:
 * each run, counted from the slot before it, is a valid list of its own. Checks what
 * decodeSlotDeltas checks, and that every slot is a safe integer.
 */
export function splitSlotDeltas(base: number, d: Uint8Array, n: number, per: number, limits: SlotDeltaLimits, fail: SlotDeltaFail): SlotDeltaRun[] {
  const runs: SlotDeltaRun[] = [];
  const c: Cursor = { at: 0 };
  const len = d.length;
  let s = base;
  let runS = base;
  let runFrom = 0;
  let runStart = 0;
  for (let i = 0; i < n; i++) {
    if (i - runStart === per) {
      runs.push({ s: runS, n: per, from: runFrom, to: c.at });
      runS = s;
      runFrom = c.at;
      runStart = i;
    }
    const b = c.at < len ? d[c.at]! : 0x80;
    if (b < 0x80) {
      c.at++;
      s += b;
    } else s += readDelta(d, c, i, n, limits, fail);
  }
  if (c.at !== len) throw fail({ kind: 'trailing', bytes: len - c.at, n });
  if (s > Number.MAX_SAFE_INTEGER) throw fail({ kind: 'unsafe', slot: s });
  if (n > 0) runs.push({ s: runS, n: n - runStart, from: runFrom, to: c.at });
  return runs;
}

/**
 * Cuts a list already checked (its slots decoded as `slots`) into `parts` contiguous runs of
 * nearly equal counts by counting varint terminators: each run can go to the board on its own.
 */
export function partitionSlotDeltas(base: number, d: Uint8Array, slots: Float64Array, parts: number): SlotDeltaRun[] {
  const n = slots.length;
  const per = Math.max(1, Math.ceil(n / Math.max(1, parts)));
  const out: SlotDeltaRun[] = [];
  let pos = 0;
  for (let first = 0; first < n; first += per) {
    const count = Math.min(per, n - first);
    const from = pos;
    for (let k = 0; k < count; k++) while (d[pos++]! & 0x80);
    out.push({ s: first === 0 ? base : slots[first - 1]!, n: count, from, to: pos });
  }
  return out;
}

/** The codec bound to one use's limits and errors, so every call reads (base, slots or bytes, n). */
export class SlotDeltaCodec {
  constructor(readonly limits: SlotDeltaLimits, readonly fail: SlotDeltaFail) {}

  encode(base: number, slots: ArrayLike<number>, n = slots.length): Uint8Array {
    return encodeSlotDeltas(base, slots, n, this.limits, this.fail);
  }

  /** Into `out` (room for maxEncodedBytes); returns the bytes written. */
  encodeInto(base: number, slots: ArrayLike<number>, n: number, out: Uint8Array): number {
    return encodeSlotDeltasInto(base, slots, n, this.limits, this.fail, out);
  }

  decode(base: number, d: Uint8Array, n: number): Float64Array {
    return decodeSlotDeltas(base, d, n, this.limits, this.fail);
  }

  check(base: number, d: Uint8Array, n: number): number {
    return checkSlotDeltas(base, d, n, this.limits, this.fail);
  }

  split(base: number, d: Uint8Array, n: number, per: number): SlotDeltaRun[] {
    return splitSlotDeltas(base, d, n, per, this.limits, this.fail);
  }
}
