/**
 * The messages of board protocol 1.0 (PROTOCOL.md section 3): one table of types, one TypeScript
 * type per message, and one validating decoder per message. Payloads are CBOR maps with short text
 * keys; unknown keys are ignored (minor versions only add keys and messages), missing or mistyped
 * required keys reject the message with BadMessageError.
 */
import { BadMessageError } from '../errors.js';
import { decodeCbor, encodeCbor, type CborValue } from './cbor.js';
import { BOARD_SLOT_DELTAS, SlotDeltaCodec, maxEncodedBytes, type SlotDeltaFail, type SlotDeltaRun } from './slot-deltas.js';
export type { SlotDeltaRun } from './slot-deltas.js';

export const MessageType = {
  HELLO: 0x01,
  IDENTIFY: 0x02,
  CONFIGURE: 0x03,
  START: 0x04,
  STOP: 0x05,
  CREDIT: 0x06,
  RESEND: 0x07,
  QUERY_SETTINGS: 0x08,
  GET_TELEMETRY: 0x09,
  ACK: 0x10,
  SETTINGS: 0x11,
  TELEMETRY: 0x12,
  DETECTIONS: 0x20,
  BATCH_LOST: 0x21,
  ALARM: 0x30,
  ERROR: 0x7f,
} as const;
export type MessageTypeName = keyof typeof MessageType;
export type MessageTypeCode = (typeof MessageType)[MessageTypeName];

export const MESSAGE_NAMES: ReadonlyMap<number, MessageTypeName> = new Map(
  (Object.entries(MessageType) as [MessageTypeName, number][]).map(([k, v]) => [v, k]),
);

export type BoardRole = 'tx' | 'rx';

export interface Hello {
  /** [major, minor] the host prefers. */
  readonly v: readonly [number, number];
  /** Every major version the host implements. */
  readonly majors: readonly number[];
  readonly host: string;
}

export interface Capabilities {
  /** Highest source clock (tx) or gate rate (rx), Hz. */
  readonly maxClockHz: number;
  /** Detectors (rx; 0 on tx): 4 for passive-basis BB84 (Z0, Z1, X0, X1). */
  readonly detectors: number;
  /** Intensity classes the source can produce (tx). */
  readonly intensities: number;
  /** Slots the transmitter keeps its choices for (tx). */
  readonly ringSlots: number;
  /** Most events in one DETECTIONS batch (rx). */
  readonly maxBatchEvents: number;
  /** Batches the receiver keeps for RESEND (rx). */
  readonly replayBatches: number;
}

export interface Identify {
  readonly re: number;
  readonly v: readonly [number, number];
  readonly model: string;
  readonly serial: string;
  readonly fw: string;
  readonly role: BoardRole;
  /** Changes at every power-up/reset: a reconnection to the same boot can resume. */
  readonly boot: number;
  readonly caps: Capabilities;
}

/** Configuration; each board uses the keys of its role and ignores the others. */
export interface Configure {
  readonly clockHz?: number;
  /** tx: mean photon number of each intensity class, signal first (e.g. [0.5, 0.1, 0]). */
  readonly mu?: readonly number[];
  /** tx: probability of each intensity class; sums to 1. */
  readonly pMu?: readonly number[];
  /** tx: probability of the Z basis (biased basis choice); rx: of the Z arm of the passive splitter. */
  readonly pZ?: number;
  /** rx: detector gate width, ns. */
  readonly gateNs?: number;
  /** rx: detector bias, volts. */
  readonly biasV?: number;
  /** rx: detector dead time, ns. */
  readonly deadNs?: number;
  /** rx: slots per DETECTIONS batch (a batch also ends at caps.maxBatchEvents events). */
  readonly batchSlots?: number;
}

export interface Start {
  /** Acquisition id chosen by the host, echoed in every batch. */
  readonly acq: number;
  /** Batches with index below this may be sent (credit-based flow control). */
  readonly credit: number;
}
export interface Credit {
  readonly acq: number;
  readonly upTo: number;
}
export interface Resend {
  readonly acq: number;
  readonly from: number;
  readonly to: number;
}
export interface QuerySettings {
  /** Slots in increasing order. */
  readonly slots: Float64Array;
}
export interface Ack {
  readonly re: number;
  /** Per-request detail, e.g. the effective configuration or where an acquisition starts. */
  readonly info?: { readonly [k: string]: CborValue | undefined };
}

/** One byte per queried slot: bit 0 value, bit 1 basis (1 = X), bits 2-3 intensity class. */
export const SETTING_VALUE = 0x01;
export const SETTING_BASIS_X = 0x02;
export const SETTING_CLASS_SHIFT = 2;
/** The slot has left the ring buffer (too old). */
export const SETTING_EXPIRED = 0x80;
/** The slot has not been emitted yet. */
export const SETTING_FUTURE = 0x40;
/** The source was not emitting in that slot (before START or after STOP). */
export const SETTING_DARK = 0x20;

export interface Settings {
  readonly re: number;
  readonly settings: Uint8Array;
}

export interface Telemetry {
  readonly re?: number;
  /** Board uptime, ms. */
  readonly t: number;
  /** Current slot of the board's clock. */
  readonly slot: number;
  readonly acquiring: boolean;
  /** rx: clicks per second per detector over the last telemetry interval. */
  readonly rates: readonly number[];
  readonly temps: { readonly [sensor: string]: number };
  readonly biasV: number;
  /** Events lost to FIFO overflow since START (host too slow to grant credit). */
  readonly overflow: number;
  /** rx while acquiring: index of the next batch the board will produce. */
  readonly nextBatch?: number;
}

/** Detector click mask bits (wire byte of each event, PROTOCOL.md 3.7). */
export const DETECTOR_Z0 = 0x01;
export const DETECTOR_Z1 = 0x02;
export const DETECTOR_X0 = 0x04;
export const DETECTOR_X1 = 0x08;

export interface BatchLost {
  readonly acq: number;
  readonly from: number;
  readonly to: number;
  readonly s: number;
  readonly e: number;
}

export type AlarmSeverity = 'info' | 'warning' | 'critical';
export interface Alarm {
  readonly code: string;
  readonly sev: AlarmSeverity;
  readonly msg: string;
  /** Board uptime, ms. */
  readonly t: number;
  readonly clear?: boolean;
}

export type ErrorCode = 'unsupported-version' | 'unknown-type' | 'bad-payload' | 'bad-state' | 'out-of-range' | 'wrong-role';
export interface ErrorMessage {
  readonly re?: number;
  readonly code: ErrorCode | string;
  readonly msg: string;
  /** With unsupported-version: the majors the sender implements. */
  readonly majors?: readonly number[];
}

// ---- field readers -------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function asMap(message: string, v: unknown): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) throw new BadMessageError(message, '', 'payload is not a map');
  return v as Obj;
}
export function uint(message: string, o: Obj, k: string, optional?: false): number;
export function uint(message: string, o: Obj, k: string, optional: true): number | undefined;
export function uint(message: string, o: Obj, k: string, optional = false): number | undefined {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  const u = asUint(v);
  if (u === undefined) throw new BadMessageError(message, k, `expected an unsigned integer, got ${show(v)}`);
  return u;
}

/**
 * A CBOR unsigned integer as a number, or undefined if it is not one (or not below 2^53). Values
 * from 2^32 on travel as uint64 and decode as bigints: at 1 GHz every slot 4.3 s after the epoch.
 */
export function asUint(v: unknown): number | undefined {
  if (typeof v === 'bigint') return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}
function num(message: string, o: Obj, k: string, optional?: false): number;
function num(message: string, o: Obj, k: string, optional: true): number | undefined;
function num(message: string, o: Obj, k: string, optional = false): number | undefined {
  let v = o[k];
  if (v === undefined && optional) return undefined;
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadMessageError(message, k, `expected a finite number, got ${show(v)}`);
  return v;
}
function str(message: string, o: Obj, k: string, maxLength = 256): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > maxLength) throw new BadMessageError(message, k, `expected a string of at most ${maxLength} characters, got ${show(v)}`);
  return v;
}
function bytes(message: string, o: Obj, k: string): Uint8Array {
  const v = o[k];
  if (!(v instanceof Uint8Array)) throw new BadMessageError(message, k, `expected a byte string, got ${show(v)}`);
  return v;
}
function numArray(message: string, o: Obj, k: string, optional = false, integers = false): number[] | undefined {
  const v = o[k];
  if (v === undefined && optional) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!integers || (Number.isSafeInteger(x) && x >= 0)))) {
    throw new BadMessageError(message, k, `expected an array of ${integers ? 'unsigned integers' : 'numbers'}, got ${show(v)}`);
  }
  return v as number[];
}
function version(message: string, o: Obj, k: string): [number, number] {
  const v = numArray(message, o, k, false, true)!;
  if (v.length !== 2 || v[0]! > 255) throw new BadMessageError(message, k, `expected [major, minor], got ${show(v)}`);
  return [v[0]!, v[1]!];
}
function show(v: unknown): string {
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (typeof v === 'bigint') return `${v}n`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return typeof v;
  }
}

/** CBOR-decodes a payload (with limits) into a map, or throws BadMessageError. */
export function payloadMap(message: string, payload: Uint8Array): Obj {
  const r = decodeCbor(payload);
  if (!r.ok) throw new BadMessageError(message, '', `not acceptable CBOR: ${r.reason}`);
  return asMap(message, r.value);
}

// ---- encoders and decoders -----------------------------------------------------------------

export function encodeHello(m: Hello): Uint8Array {
  return encodeCbor({ v: [...m.v], majors: [...m.majors], host: m.host });
}
export function decodeHello(p: Uint8Array): Hello {
  const o = payloadMap('HELLO', p);
  return { v: version('HELLO', o, 'v'), majors: numArray('HELLO', o, 'majors', false, true)!, host: str('HELLO', o, 'host') };
}

export function encodeIdentify(m: Identify): Uint8Array {
  return encodeCbor({ re: m.re, v: [...m.v], model: m.model, serial: m.serial, fw: m.fw, role: m.role, boot: m.boot, caps: { ...m.caps } });
}
export function decodeIdentify(p: Uint8Array): Identify {
  const M = 'IDENTIFY';
  const o = payloadMap(M, p);
  const role = str(M, o, 'role');
  if (role !== 'tx' && role !== 'rx') throw new BadMessageError(M, 'role', `expected "tx" or "rx", got ${show(role)}`);
  const c = asMap(M, o.caps);
  return {
    re: uint(M, o, 're'),
    v: version(M, o, 'v'),
    model: str(M, o, 'model'),
    serial: str(M, o, 'serial'),
    fw: str(M, o, 'fw'),
    role,
    boot: uint(M, o, 'boot'),
    caps: {
      maxClockHz: uint(M, c, 'maxClockHz'),
      detectors: uint(M, c, 'detectors'),
      intensities: uint(M, c, 'intensities'),
      ringSlots: uint(M, c, 'ringSlots'),
      maxBatchEvents: uint(M, c, 'maxBatchEvents'),
      replayBatches: uint(M, c, 'replayBatches'),
    },
  };
}

export function encodeConfigure(m: Configure): Uint8Array {
  return encodeCbor({ ...m, mu: m.mu ? [...m.mu] : undefined, pMu: m.pMu ? [...m.pMu] : undefined });
}
export function decodeConfigure(p: Uint8Array): Configure {
  const M = 'CONFIGURE';
  const o = payloadMap(M, p);
  const out: { -readonly [K in keyof Configure]: Configure[K] } = {};
  const clockHz = uint(M, o, 'clockHz', true);
  if (clockHz !== undefined) out.clockHz = clockHz;
  const mu = numArray(M, o, 'mu', true);
  if (mu) out.mu = mu;
  const pMu = numArray(M, o, 'pMu', true);
  if (pMu) out.pMu = pMu;
  for (const k of ['pZ', 'gateNs', 'biasV', 'deadNs'] as const) {
    const v = num(M, o, k, true);
    if (v !== undefined) out[k] = v;
  }
  const batchSlots = uint(M, o, 'batchSlots', true);
  if (batchSlots !== undefined) out.batchSlots = batchSlots;
  return out;
}

export function encodeStart(m: Start): Uint8Array {
  return encodeCbor({ acq: m.acq, credit: m.credit });
}
export function decodeStart(p: Uint8Array): Start {
  const o = payloadMap('START', p);
  return { acq: uint('START', o, 'acq'), credit: uint('START', o, 'credit') };
}
export function encodeCredit(m: Credit): Uint8Array {
  return encodeCbor({ acq: m.acq, upTo: m.upTo });
}
export function decodeCredit(p: Uint8Array): Credit {
  const o = payloadMap('CREDIT', p);
  return { acq: uint('CREDIT', o, 'acq'), upTo: uint('CREDIT', o, 'upTo') };
}
export function encodeResend(m: Resend): Uint8Array {
  return encodeCbor({ acq: m.acq, from: m.from, to: m.to });
}
export function decodeResend(p: Uint8Array): Resend {
  const o = payloadMap('RESEND', p);
  const r = { acq: uint('RESEND', o, 'acq'), from: uint('RESEND', o, 'from'), to: uint('RESEND', o, 'to') };
  if (r.to < r.from) throw new BadMessageError('RESEND', 'to', `${r.to} is below from = ${r.from}`);
  return r;
}

/** Most slots in one QUERY_SETTINGS (at 5 bytes per delta, well inside 64 KiB). */
export const MAX_QUERY_SLOTS = 12000;

export function encodeQuerySettings(m: QuerySettings): Uint8Array {
  const n = m.slots.length;
  const s = n > 0 ? m.slots[0]! : 0;
  return encodeQuerySettingsDeltas(s, n, boardDeltasScratch(s, m.slots, 'QUERY_SETTINGS'));
}
/** QUERY_SETTINGS of n slots given as encoded deltas d from s (slot[k] = s + d[0] + ... + d[k]). */
export function encodeQuerySettingsDeltas(s: number, n: number, d: Uint8Array): Uint8Array {
  return encodeCbor({ s, n, d });
}
export function decodeQuerySettings(p: Uint8Array): QuerySettings {
  const M = 'QUERY_SETTINGS';
  const o = payloadMap(M, p);
  const n = uint(M, o, 'n');
  if (n > MAX_QUERY_SLOTS) throw new BadMessageError(M, 'n', `${n} slots exceed ${MAX_QUERY_SLOTS}`);
  return { slots: boardSlotDeltas(M).decode(uint(M, o, 's'), bytes(M, o, 'd'), n) };
}

export function encodeAck(m: Ack): Uint8Array {
  return encodeCbor(m.info ? { re: m.re, info: m.info } : { re: m.re });
}
export function decodeAck(p: Uint8Array): Ack {
  const o = payloadMap('ACK', p);
  const info = o.info;
  if (info !== undefined) return { re: uint('ACK', o, 're'), info: asMap('ACK', info) as Ack['info'] & object };
  return { re: uint('ACK', o, 're') };
}

export function encodeSettings(m: Settings): Uint8Array {
  return encodeCbor({ re: m.re, b: m.settings });
}
/** Settings as a fresh copy (the caller may keep them beyond the frame). */
export function decodeSettings(p: Uint8Array): Settings {
  const s = decodeSettingsView(p);
  return { re: s.re, settings: new Uint8Array(s.settings) }; // a copy even of a Buffer
}
/** Settings as a view into p, for a caller that owns p and copies them out at once. */
export function decodeSettingsView(p: Uint8Array): Settings {
  const o = payloadMap('SETTINGS', p);
  return { re: uint('SETTINGS', o, 're'), settings: bytes('SETTINGS', o, 'b') };
}

export function encodeTelemetry(m: Telemetry): Uint8Array {
  return encodeCbor({ ...m, rates: [...m.rates], temps: { ...m.temps } });
}
export function decodeTelemetry(p: Uint8Array): Telemetry {
  const M = 'TELEMETRY';
  const o = payloadMap(M, p);
  const tempsRaw = asMap(M, o.temps ?? {});
  const temps: Record<string, number> = {};
  for (const k of Object.keys(tempsRaw)) temps[k] = num(M, tempsRaw, k);
  const acquiring = o.acquiring;
  if (typeof acquiring !== 'boolean') throw new BadMessageError(M, 'acquiring', `expected a boolean, got ${show(acquiring)}`);
  const re = uint(M, o, 're', true);
  const nextBatch = uint(M, o, 'nextBatch', true);
  const base = {
    t: uint(M, o, 't'),
    slot: uint(M, o, 'slot'),
    acquiring,
    rates: numArray(M, o, 'rates')!,
    temps,
    biasV: num(M, o, 'biasV'),
    overflow: uint(M, o, 'overflow'),
    ...(nextBatch === undefined ? {} : { nextBatch }),
  };
  return re === undefined ? base : { re, ...base };
}

export function encodeBatchLost(m: BatchLost): Uint8Array {
  return encodeCbor({ acq: m.acq, from: m.from, to: m.to, s: m.s, e: m.e });
}
export function decodeBatchLost(p: Uint8Array): BatchLost {
  const M = 'BATCH_LOST';
  const o = payloadMap(M, p);
  return { acq: uint(M, o, 'acq'), from: uint(M, o, 'from'), to: uint(M, o, 'to'), s: uint(M, o, 's'), e: uint(M, o, 'e') };
}

export function encodeAlarm(m: Alarm): Uint8Array {
  return encodeCbor(m.clear ? { code: m.code, sev: m.sev, msg: m.msg, t: m.t, clear: true } : { code: m.code, sev: m.sev, msg: m.msg, t: m.t });
}
export function decodeAlarm(p: Uint8Array): Alarm {
  const M = 'ALARM';
  const o = payloadMap(M, p);
  const sev = str(M, o, 'sev');
  if (sev !== 'info' && sev !== 'warning' && sev !== 'critical') throw new BadMessageError(M, 'sev', `expected info, warning or critical, got ${show(sev)}`);
  const base = { code: str(M, o, 'code', 64), sev, msg: str(M, o, 'msg', 1024), t: uint(M, o, 't') } as const;
  return o.clear === true ? { ...base, clear: true } : base;
}

export function encodeError(m: ErrorMessage): Uint8Array {
  const o: Record<string, CborValue> = { code: m.code, msg: m.msg };
  if (m.re !== undefined) o.re = m.re;
  if (m.majors) o.majors = [...m.majors];
  return encodeCbor(o);
}
export function decodeError(p: Uint8Array): ErrorMessage {
  const M = 'ERROR';
  const o = payloadMap(M, p);
  const re = uint(M, o, 're', true);
  const majors = numArray(M, o, 'majors', true, true);
  return { code: str(M, o, 'code', 64), msg: str(M, o, 'msg', 1024), ...(re === undefined ? {} : { re }), ...(majors ? { majors } : {}) };
}

// ---- slot lists ----------------------------------------------------------------------------

/**
 * Slot lists travel as a base `s` and deltas `d` (slot-deltas.ts, the one codec): slot[i] = s +
 * d[0] + ... + d[i], each delta an unsigned LEB128 varint below 2^32, so at most 5 bytes, minimally
 * encoded. Detections at 1 GHz are a few tens of slots apart: one byte each.
 */
export const MAX_SLOT_DELTA = BOARD_SLOT_DELTAS.maxDelta;

/** The board protocol's wording of a slot-list fault, as BadMessageError on `message`. */
function boardFault(message: string): SlotDeltaFail {
  return (f) => {
    switch (f.kind) {
      case 'order': return new BadMessageError(message, 'd', `slot ${f.slot} after ${f.prev}: slots must not decrease, nor jump by 2^32 or more`);
      case 'missing': return new BadMessageError(message, 'd', `${f.n} deltas expected, ${f.index} found`);
      case 'truncated':
      case 'too-long': return new BadMessageError(message, 'd', `delta ${f.index} is truncated or longer than 5 bytes`);
      case 'not-minimal': return new BadMessageError(message, 'd', `delta ${f.index} is not minimally encoded`);
      case 'too-big': return new BadMessageError(message, 'd', `delta ${f.index} = ${f.value} is 2^32 or more`);
      case 'trailing': return new BadMessageError(message, 'd', `${f.bytes} bytes after the ${f.n} deltas`);
      case 'unsafe': return new BadMessageError(message, 'd', `slots reach ${f.slot}, beyond 2^53`);
    }
  };
}

const boardCodecs = new Map<string, SlotDeltaCodec>();

/** The slot-delta codec of the board protocol, its errors naming `message` (one per message name, kept). */
export function boardSlotDeltas(message: string): SlotDeltaCodec {
  let c = boardCodecs.get(message);
  if (!c) boardCodecs.set(message, (c = new SlotDeltaCodec(BOARD_SLOT_DELTAS, boardFault(message))));
  return c;
}

/** Scratch for deltas that go straight into a CBOR encoder (which copies them): one buffer, reused. */
let deltaScratch = new Uint8Array(0);

/** The board deltas of `slots` from `base` in a shared buffer: the view is valid until the next call. */
export function boardDeltasScratch(base: number, slots: ArrayLike<number>, message: string): Uint8Array {
  const need = maxEncodedBytes(slots.length, BOARD_SLOT_DELTAS);
  if (deltaScratch.length < need) deltaScratch = new Uint8Array(Math.max(need, 4096));
  return deltaScratch.subarray(0, boardSlotDeltas(message).encodeInto(base, slots, slots.length, deltaScratch));
}

/** Cuts a list into runs of at most `per` slots (SlotDeltaCodec.split), checking its base first. */
export function splitSlotDeltas(base: number, d: Uint8Array, n: number, per: number, message: string): SlotDeltaRun[] {
  if (!Number.isSafeInteger(base) || base < 0) throw new BadMessageError(message, 's', `${base} is not a slot number`);
  return boardSlotDeltas(message).split(base, d, n, per);
}
