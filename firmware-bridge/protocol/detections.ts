/**
 * DETECTIONS (0x20): one batch of detection events, the hot path of the protocol (PROTOCOL.md 3.7).
 * Payload: CBOR map {acq, i, s, e, d, m[, ovf]}: acquisition id, batch index, the batch's slot
 * range [s, e), slot deltas d (LEB128 varints, slot[k] = s + d[0] + ... + d[k]) and one mask byte
 * per event m (bit j set = detector j clicked: Z0, Z1, X0, X1; bits 4-7 reserved, zero in 1.0).
 * Every click of the receiver in [s, e) is in the batch, so consecutive batches tile the slot axis
 * and a missing index is a known gap.
 */
import { BadMessageError } from '../errors.js';
import { encodeCbor } from './cbor.js';
import { boardDeltasScratch, boardSlotDeltas, payloadMap, uint } from './messages.js';

const EMPTY_SLOTS = new Float64Array(0);

/** Per-event flags derived on the host. */
export const EVENT_MULTI_CLICK = 0x01;

/** Lowest clicked detector of each mask (0xFF for an empty mask). */
const CHANNEL_OF = new Uint8Array(256).map((_, m) => (m & 0x0f ? 31 - Math.clz32(m & -m) : 0xff));
const FLAGS_OF = new Uint8Array(256).map((_, m) => ((m & 0x0f & ((m & 0x0f) - 1)) !== 0 ? EVENT_MULTI_CLICK : 0));

/** Largest batch: fits a 64 KiB payload even when every delta takes 5 bytes (6 per event). */
export const MAX_BATCH_EVENTS = 10000;

export interface DetectionEvent {
  readonly slot: number;
  /** Lowest detector that clicked: 0 Z0, 1 Z1, 2 X0, 3 X1. */
  readonly channel: number;
  /** 0 = Z, 1 = X (channel >> 1). */
  readonly basis: number;
  /** Bit value of that detector (channel & 1). */
  readonly value: number;
  /** Every detector that clicked (bit j = detector j). */
  readonly mask: number;
  /** EVENT_MULTI_CLICK when more than one detector clicked. */
  readonly flags: number;
}

export class DetectionBatch {
  /** Tells batches from gaps in an acquisition's stream. */
  readonly kind = 'batch' as const;
  /** Which acquisition (START.acq) this batch belongs to. */
  readonly acq: number;
  /** Batch index, 0 at START, +1 per batch. */
  readonly index: number;
  /** The batch covers slots [slotStart, slotEnd). */
  readonly slotStart: number;
  readonly slotEnd: number;
  /** Click mask of each event. */
  readonly masks: Uint8Array;
  /** Events the board lost to FIFO overflow inside this batch's slot range. */
  readonly overflow: number;
  private decodedSlots: Float64Array | undefined;
  private encodedDeltas: Uint8Array | undefined;

  constructor(acq: number, index: number, slotStart: number, slotEnd: number, slots: Float64Array, masks: Uint8Array, overflow = 0) {
    this.acq = acq;
    this.index = index;
    this.slotStart = slotStart;
    this.slotEnd = slotEnd;
    this.decodedSlots = slots;
    this.masks = masks;
    this.overflow = overflow;
  }

  /**
   * A batch as it came off the wire: its slots stay LEB128 deltas from slotStart (a byte or two
   * per event instead of eight) until someone reads `slots`. The deltas must be valid for
   * masks.length events (decodeDetections checks them).
   */
  static fromDeltas(acq: number, index: number, slotStart: number, slotEnd: number, deltas: Uint8Array, masks: Uint8Array, overflow = 0): DetectionBatch {
    const b = new DetectionBatch(acq, index, slotStart, slotEnd, EMPTY_SLOTS, masks, overflow);
    b.decodedSlots = undefined;
    b.encodedDeltas = deltas;
    return b;
  }

  /** Slot of each event, increasing (exact integers below 2^53: 104 days at 1 GHz); decoded on first use. */
  get slots(): Float64Array {
    return (this.decodedSlots ??= boardSlotDeltas('DETECTIONS').decode(this.slotStart, this.encodedDeltas!, this.masks.length));
  }

  /** The slots as LEB128 deltas from slotStart, as on the wire (PROTOCOL.md 3.7): slot[k] = slotStart + d[0] + ... + d[k]. */
  get deltas(): Uint8Array {
    return (this.encodedDeltas ??= boardSlotDeltas('DETECTIONS').encode(this.slotStart, this.decodedSlots!));
  }

  /** Whether the deltas are at hand without encoding (a batch from the wire). */
  get hasDeltas(): boolean {
    return this.encodedDeltas !== undefined;
  }

  get length(): number {
    return this.masks.length;
  }

  channel(k: number): number {
    return CHANNEL_OF[this.masks[k]!]!;
  }

  /** Channel of every event (lowest clicked detector), as a new array. */
  channels(): Uint8Array {
    const out = new Uint8Array(this.masks.length);
    for (let k = 0; k < out.length; k++) out[k] = CHANNEL_OF[this.masks[k]!]!;
    return out;
  }

  /** Flags of every event, as a new array. */
  flags(): Uint8Array {
    const out = new Uint8Array(this.masks.length);
    for (let k = 0; k < out.length; k++) out[k] = FLAGS_OF[this.masks[k]!]!;
    return out;
  }

  event(k: number): DetectionEvent {
    const mask = this.masks[k]!;
    const channel = CHANNEL_OF[mask]!;
    return { slot: this.slots[k]!, channel, basis: channel >> 1, value: channel & 1, mask, flags: FLAGS_OF[mask]! };
  }

  *[Symbol.iterator](): IterableIterator<DetectionEvent> {
    for (let k = 0; k < this.masks.length; k++) yield this.event(k);
  }
}

export function encodeDetections(b: DetectionBatch): Uint8Array {
  const body: Record<string, number | Uint8Array> = {
    acq: b.acq,
    i: b.index,
    s: b.slotStart,
    e: b.slotEnd,
    d: b.hasDeltas ? b.deltas : boardDeltasScratch(b.slotStart, b.slots, 'DETECTIONS'),
    m: b.masks,
  };
  if (b.overflow > 0) body.ovf = b.overflow;
  return encodeCbor(body);
}

/** Decodes and validates a batch; its arrays are fresh copies (the frame buffer is reused). */
export function decodeDetections(p: Uint8Array): DetectionBatch {
  const M = 'DETECTIONS';
  const o = payloadMap(M, p);
  const acq = uint(M, o, 'acq');
  const index = uint(M, o, 'i');
  const s = uint(M, o, 's');
  const e = uint(M, o, 'e');
  const ovf = uint(M, o, 'ovf', true) ?? 0;
  const d = o.d;
  const m = o.m;
  if (!(d instanceof Uint8Array)) throw new BadMessageError(M, 'd', 'expected a byte string');
  if (!(m instanceof Uint8Array)) throw new BadMessageError(M, 'm', 'expected a byte string');
  const n = m.length;
  if (n > MAX_BATCH_EVENTS) throw new BadMessageError(M, 'm', `${n} events exceed ${MAX_BATCH_EVENTS}`);
  if (d.length < n || d.length > 5 * n) throw new BadMessageError(M, 'd', `${d.length} bytes cannot hold ${n} deltas`);
  if (e < s) throw new BadMessageError(M, 'e', `slot range [${s}, ${e}) is empty backwards`);
  // Checked here, decoded into slots only if someone asks (DetectionBatch.slots).
  const last = boardSlotDeltas(M).check(s, d, n);
  if (n > 0 && last >= e) throw new BadMessageError(M, 'd', `event at slot ${last} outside [${s}, ${e})`);
  for (let k = 0; k < n; k++) {
    const x = m[k]!;
    if (x === 0 || x > 0x0f) throw new BadMessageError(M, 'm', `event ${k} has click mask 0x${x.toString(16)} (need 0x01-0x0f)`);
  }
  // new Uint8Array(x) copies even when x is a Node Buffer (whose slice() is a view).
  return DetectionBatch.fromDeltas(acq, index, s, e, new Uint8Array(d), new Uint8Array(m), ovf);
}
