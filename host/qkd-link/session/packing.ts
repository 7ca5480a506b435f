/**
 * Byte layouts of the session's bulk fields (messages.ts): bit-packed flags and values (bit i of
 * byte k is item 8k + i, as everywhere in the pipeline), 2-bit packed intensity classes, LEB128
 * slot deltas and u32 little-endian position lists. Decoders check lengths and ranges and throw
 * SessionMessageError: the peer is authenticated but may still have a bug.
 */
import { SessionMessageError } from './messages.js';

/** Packs one bit per byte (only bit 0 of each is used) into bytes. */
export function packBits(bits: ArrayLike<number>, n = bits.length): Uint8Array {
  const out = new Uint8Array((n + 7) >>> 3);
  for (let i = 0; i < n; i++) if (bits[i]! & 1) out[i >>> 3]! |= 1 << (i & 7);
  return out;
}

/** Unpacks n bits into one byte each; the field must be exactly ceil(n/8) bytes. */
export function unpackBits(packed: Uint8Array, n: number, what: string): Uint8Array {
  if (packed.length !== (n + 7) >>> 3) throw new SessionMessageError(`${what}: ${packed.length} bytes for ${n} bits, expected ${(n + 7) >>> 3}`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (packed[i >>> 3]! >>> (i & 7)) & 1;
  return out;
}

/** Number of set bits in the first n bits of a packed field. */
export function countBits(packed: Uint8Array, n: number): number {
  let c = 0;
  for (let i = 0; i < n; i++) c += (packed[i >>> 3]! >>> (i & 7)) & 1;
  return c;
}

/** Packs values 0..3 two bits each (item i in bits 2(i mod 4)..+1 of byte i/4). */
export function pack2(values: ArrayLike<number>, n = values.length): Uint8Array {
  const out = new Uint8Array((n + 3) >>> 2);
  for (let i = 0; i < n; i++) out[i >>> 2]! |= (values[i]! & 3) << ((i & 3) << 1);
  return out;
}

export function unpack2(packed: Uint8Array, n: number, what: string): Uint8Array {
  if (packed.length !== (n + 3) >>> 2) throw new SessionMessageError(`${what}: ${packed.length} bytes for ${n} 2-bit values, expected ${(n + 3) >>> 2}`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (packed[i >>> 2]! >>> ((i & 3) << 1)) & 3;
  return out;
}

/**
 * Slot deltas as unsigned LEB128 (7 bits per byte, low first, high bit = more): at the detection
 * rates of a link most deltas fit one or two bytes, against four for u32. slot[k] = s + d[0] +
 * ... + d[k]; slots must be non-decreasing from s.
 */
export function encodeSlotDeltas(s: number, slots: ArrayLike<number>, n = slots.length): Uint8Array {
  let out = new Uint8Array(Math.max(16, n * 2));
  let pos = 0;
  let prev = s;
  for (let k = 0; k < n; k++) {
    let d = slots[k]! - prev;
    if (!(d >= 0) || !Number.isSafeInteger(d)) throw new RangeError(`slot ${slots[k]} at ${k} is before ${prev}`);
    prev = slots[k]!;
    if (pos + 8 > out.length) {
      const grown = new Uint8Array(out.length * 2);
      grown.set(out);
      out = grown;
    }
    while (d >= 0x80) {
      out[pos++] = (d % 0x80) | 0x80;
      d = Math.floor(d / 0x80);
    }
    out[pos++] = d;
  }
  return out.slice(0, pos);
}

/** Decodes n deltas into absolute slots, each in [s, e). */
export function decodeSlotDeltas(bytes: Uint8Array, s: number, e: number, n: number): Float64Array {
  const out = new Float64Array(n);
  let pos = 0;
  let slot = s;
  for (let k = 0; k < n; k++) {
    let d = 0;
    let scale = 1;
    for (;;) {
      if (pos >= bytes.length) throw new SessionMessageError(`sift.announce: slot deltas end after ${k} of ${n} events`);
      const byte = bytes[pos++]!;
      d += (byte & 0x7f) * scale;
      if (!(byte & 0x80)) break;
      scale *= 0x80;
      if (scale > 2 ** 49) throw new SessionMessageError(`sift.announce: slot delta ${k} is too long`);
    }
    slot += d;
    if (slot >= e) throw new SessionMessageError(`sift.announce: event ${k} at slot ${slot} is not before the block end ${e}`);
    out[k] = slot;
  }
  if (pos !== bytes.length) throw new SessionMessageError(`sift.announce: ${bytes.length - pos} bytes left after ${n} slot deltas`);
  return out;
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
