/**
 * The shared test vectors (vectors/*.json): what each message looks like as a payload, as a
 * decoded frame and on the wire, plus byte sequences a receiver must reject and why. A firmware
 * author checks their side against the same files. JSON cannot hold bytes or typed arrays, so
 * byte strings are written {"hex": "..."} and slot lists as plain arrays.
 */
import { DetectionBatch } from './detections.js';
import type { MessageMap } from './codec.js';
import type { FrameRejectReason } from './frame.js';

export interface MessageVector {
  readonly name: string;
  readonly description: string;
  readonly type: keyof MessageMap;
  readonly typeCode: number;
  readonly seq: number;
  /** The message's fields (JSON form). */
  readonly message: unknown;
  /** CBOR payload. */
  readonly payload: string;
  /** Decoded frame: header, payload, CRC-32C. */
  readonly frame: string;
  /** COBS-encoded frame and its 0x00 delimiter: the bytes on the serial line. */
  readonly wire: string;
}

export interface RejectVector {
  readonly name: string;
  readonly description: string;
  readonly wire: string;
  /** Why the receiver rejects it: a frame-layer reason or 'bad-payload' , 'unknown-type' or 'bad-payload' (well framed, not a valid message). */
  readonly reason: FrameRejectReason | 'bad-payload' | 'unknown-type';
}

export function toJson(v: unknown): unknown {
  if (v instanceof DetectionBatch) {
    return { acq: v.acq, index: v.index, slotStart: v.slotStart, slotEnd: v.slotEnd, slots: Array.from(v.slots), masks: { hex: hex(v.masks) }, overflow: v.overflow };
  }
  if (v instanceof Float64Array) return Array.from(v);
  if (v instanceof Uint8Array) return { hex: hex(v) };
  if (Array.isArray(v)) return v.map(toJson);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

/** Rebuilds a message object from its JSON form, given its type. */
export function fromJson(type: keyof MessageMap, v: unknown): MessageMap[keyof MessageMap] {
  const plain = revive(v) as Record<string, unknown>;
  if (type === 'DETECTIONS') {
    const o = plain as { acq: number; index: number; slotStart: number; slotEnd: number; slots: number[]; masks: Uint8Array; overflow: number };
    return new DetectionBatch(o.acq, o.index, o.slotStart, o.slotEnd, Float64Array.from(o.slots), o.masks, o.overflow);
  }
  if (type === 'QUERY_SETTINGS') return { slots: Float64Array.from(plain.slots as number[]) };
  return plain as unknown as MessageMap[keyof MessageMap];
}

function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.hex === 'string') return fromHex(o.hex);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}
