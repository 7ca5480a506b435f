/**
 * Byte layouts of the session's bulk fields (messages.ts): bit-packed flags and values (bit i of
 * byte k is item 8k + i, as everywhere in the pipeline), 2-bit packed intensity classes, LEB128
 * slot deltas and u32 little-endian position lists. Decoders check lengths and ranges and throw
 * SessionMessageError: the peer is authenticated but may still have a bug.
 */
import { SessionMessageError } from './messages.js';
import type { SlotSegments } from '../kernels/deltas.js';
import { SESSION_SLOT_DELTAS, SlotDeltaCodec, partitionSlotDeltas, putDelta, walkSlotDeltas, type SlotDeltaFault, type SlotDeltaRun } from '../../../firmware-bridge/protocol/slot-deltas.js';

// The segments are the kernel's interface (kernels/deltas.ts); the codec is firmware-bridge's, the kernel its twin.
export type { SlotDeltaRun, SlotSegments };
export { partitionSlotDeltas };

/** Packs one bit per byte (only bit 0 of each is used) into bytes. */
export function packBits(bits: ArrayLike<number>, n = bits.length): Uint8Array {
  const out = new Uint8Array((n + 7) >>> 3);
  const whole = n >>> 3;
  // Eight items per output byte without branches: the bits are random, a branch per bit mispredicts half the time.
  for (let o = 0, i = 0; o < whole; o++, i += 8) {
    out[o] = (bits[i]! & 1) | ((bits[i + 1]! & 1) << 1) | ((bits[i + 2]! & 1) << 2) | ((bits[i + 3]! & 1) << 3)
      | ((bits[i + 4]! & 1) << 4) | ((bits[i + 5]! & 1) << 5) | ((bits[i + 6]! & 1) << 6) | ((bits[i + 7]! & 1) << 7);
  }
  for (let i = whole << 3; i < n; i++) out[i >>> 3]! |= (bits[i]! & 1) << (i & 7);
  return out;
}

/** Checks that a bit-packed field of n items is exactly ceil(n/8) bytes. */
export function checkPackedBits(packed: Uint8Array, n: number, what: string): void {
  if (packed.length !== (n + 7) >>> 3) throw new SessionMessageError(`${what}: ${packed.length} bytes for ${n} bits, expected ${(n + 7) >>> 3}`);
}

/** Checks that a field of n 2-bit values is exactly ceil(n/4) bytes. */
export function checkPacked2(packed: Uint8Array, n: number, what: string): void {
  if (packed.length !== (n + 3) >>> 2) throw new SessionMessageError(`${what}: ${packed.length} bytes for ${n} 2-bit values, expected ${(n + 3) >>> 2}`);
}

/** Unpacks n bits into one byte each; the field must be exactly ceil(n/8) bytes. */
export function unpackBits(packed: Uint8Array, n: number, what: string): Uint8Array {
  checkPackedBits(packed, n, what);
  const out = new Uint8Array(n);
  unpackBitsInto(packed, n, out, 0);
  return out;
}

/** Unpacks the first n bits of `packed` into out[at..at+n), one per byte (no length checks). */
export function unpackBitsInto(packed: Uint8Array, n: number, out: Uint8Array, at: number): void {
  const whole = n >>> 3;
  for (let o = 0, i = at; o < whole; o++, i += 8) {
    const b = packed[o]!;
    out[i] = b & 1;
    out[i + 1] = (b >>> 1) & 1;
    out[i + 2] = (b >>> 2) & 1;
    out[i + 3] = (b >>> 3) & 1;
    out[i + 4] = (b >>> 4) & 1;
    out[i + 5] = (b >>> 5) & 1;
    out[i + 6] = (b >>> 6) & 1;
    out[i + 7] = b >>> 7;
  }
  for (let i = whole << 3; i < n; i++) out[at + i] = (packed[i >>> 3]! >>> (i & 7)) & 1;
}

/** Number of set bits in the first n bits of a packed field. */
export function countBits(packed: Uint8Array, n: number): number {
  let c = 0;
  const whole = Math.min(n >>> 3, packed.length);
  for (let o = 0; o < whole; o++) c += BYTE_POPCOUNT[packed[o]!]!;
  for (let i = whole << 3; i < n; i++) c += (packed[i >>> 3]! >>> (i & 7)) & 1;
  return c;
}

const BYTE_POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0;
  for (let x = b; x; x &= x - 1) c++;
  return c;
});

/** Packs values 0..3 two bits each (item i in bits 2(i mod 4)..+1 of byte i/4). */
export function pack2(values: ArrayLike<number>, n = values.length): Uint8Array {
  const out = new Uint8Array((n + 3) >>> 2);
  for (let i = 0; i < n; i++) out[i >>> 2]! |= (values[i]! & 3) << ((i & 3) << 1);
  return out;
}

export function unpack2(packed: Uint8Array, n: number, what: string): Uint8Array {
  checkPacked2(packed, n, what);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (packed[i >>> 2]! >>> ((i & 3) << 1)) & 3;
  return out;
}

/** The session's wording of a slot-list fault (the kernel's, kernels/deltas.ts, word for word). */
function sessionFault(f: SlotDeltaFault): Error {
  switch (f.kind) {
    case 'order': return new RangeError(`slot ${f.slot} at ${f.index} is before ${f.prev}`);
    case 'missing':
    case 'truncated': return new SessionMessageError(`sift.announce: slot deltas end after ${f.index} of ${f.n} events`);
    case 'too-long': return new SessionMessageError(`sift.announce: slot delta ${f.index} is too long`);
    case 'trailing': return new SessionMessageError(`sift.announce: ${f.bytes} bytes left after ${f.n} slot deltas`);
    default: return new SessionMessageError(`sift.announce: slot deltas: ${f.kind}`);
  }
}

/**
 * The session's slot deltas (`sift.announce`): the one codec (firmware-bridge/protocol/slot-deltas.ts)
 * with deltas of at most eight bytes; the slots are checked against the block's end
 * (decodeAnnouncedSlots). At the detection rates of a link most deltas take one or two bytes.
 */
export const SESSION_DELTAS = new SlotDeltaCodec(SESSION_SLOT_DELTAS, sessionFault);

/** LEB128 deltas of slots[0..n) from s (non-decreasing from s). */
export function encodeSlotDeltas(s: number, slots: ArrayLike<number>, n = slots.length): Uint8Array {
  return SESSION_DELTAS.encode(s, slots, n);
}

/** Decodes n deltas from s into absolute slots, each in [s, e). */
export function decodeAnnouncedSlots(s: number, bytes: Uint8Array, n: number, e: number): Float64Array {
  const out = new Float64Array(n);
  const { last, end } = walkSlotDeltas(s, bytes, n, SESSION_SLOT_DELTAS, sessionFault, out);
  // Slots only grow, so checking the last against the end checks them all.
  if (n > 0 && last >= e) throw new SessionMessageError(`sift.announce: event ${n - 1} at slot ${last} is not before the block end ${e}`);
  if (end !== bytes.length) throw sessionFault({ kind: 'trailing', bytes: bytes.length - end, n });
  return out;
}

/** A batch of events for slotSegments: its slots, kept in wire form (LEB128 deltas from `base`) or decoded. */
export interface SegmentBatch {
  readonly base: number;
  readonly slots: ArrayLike<number>;
  readonly wire: boolean;
}

/** The segments of consecutive batches (a decoded batch's base is kept as given: nothing reads it). */
export function slotSegments(batches: readonly SegmentBatch[]): SlotSegments {
  const raw: Uint8Array[] = [];
  const decoded: number[] = [];
  const rawBytes = new Int32Array(batches.length);
  batches.forEach((b, i) => {
    if (!b.wire) {
      rawBytes[i] = -1;
      for (let k = 0; k < b.slots.length; k++) decoded.push(b.slots[k]!);
      return;
    }
    const bytes = encodeSlotDeltas(b.base, b.slots);
    rawBytes[i] = bytes.length;
    raw.push(bytes);
  });
  const all = new Uint8Array(raw.reduce((n, r) => n + r.length, 0));
  raw.reduce((at, r) => (all.set(r, at), at + r.length), 0);
  return { base: Float64Array.from(batches, (b) => b.base), count: Uint32Array.from(batches, (b) => b.slots.length), rawBytes, raw: all, decoded: Float64Array.from(decoded) };
}

/**
 * encodeSlotDeltas of the segments' slots from s, without materialising them: each slot is
 * decoded from its batch's varint and re-encoded against the previous one in one pass.
 */
export function encodeSegmentDeltas(s: number, seg: SlotSegments): Uint8Array {
  let n = 0;
  for (let i = 0; i < seg.count.length; i++) n += seg.count[i]!;
  let out = new Uint8Array(Math.max(16, n * 3));
  let pos = 0;
  let prev = s;
  let rp = 0;
  let dp = 0;
  const raw = seg.raw;
  for (let i = 0; i < seg.count.length; i++) {
    const count = seg.count[i]!;
    const bytes = seg.rawBytes[i]!;
    const rawEnd = rp + bytes;
    let slot = seg.base[i]!;
    if (bytes >= 0 && rawEnd > raw.length) throw new RangeError(`segment ${i}: ${bytes} bytes of deltas past the end of ${raw.length}`);
    for (let k = 0; k < count; k++) {
      if (bytes >= 0) {
        let d = 0;
        let scale = 1;
        for (;;) {
          if (rp >= rawEnd) throw new RangeError(`segment ${i}: its deltas end after ${k} of ${count} events`);
          const b = raw[rp++]!;
          d += (b & 0x7f) * scale;
          if (b < 0x80) break;
          scale *= 0x80;
        }
        slot += d;
      } else slot = seg.decoded[dp++]!;
      const d = slot - prev;
      if (!(d >= 0) || !Number.isSafeInteger(d)) throw new RangeError(`slot ${slot} in segment ${i} is before ${prev}`);
      prev = slot;
      if (pos + 8 > out.length) {
        const grown = new Uint8Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      pos = putDelta(out, pos, d);
    }
    if (bytes >= 0 && rp !== rawEnd) throw new RangeError(`segment ${i}: ${rawEnd - rp} bytes left after ${count} deltas`);
  }
  return out.slice(0, pos);
}

export function encodeU32s(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setUint32(4 * i, values[i]!, true);
  return out;
}

export function decodeU32s(bytes: Uint8Array, what: string): Uint32Array {
  if (bytes.length % 4 !== 0) throw new SessionMessageError(`${what}: ${bytes.length} bytes is not a whole number of u32`);
  const out = new Uint32Array(bytes.length / 4);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(4 * i, true);
  return out;
}
