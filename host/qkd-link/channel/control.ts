/**
 * Payloads of the channel's own frames (frame.ts types Hello, Resync, Close), version 1. CBOR
 * maps with text keys, decoded behind explicit limits and checked field by field: a control
 * payload comes from the peer (after its tag verified) but is never trusted for its shape.
 *
 *   Hello   { v: 1, linkId: text (1-256 bytes), role: "alice" | "bob" }
 *   Resync  { floor: uint (safe integer), hello: bool }   "your next pad index must be >= floor;
 *            hello: your hello was refused, send it again"
 *   Close   { reason: text (at most 1024 bytes) }
 */
import { decodeCbor, encodeCbor, type CborLimits } from '../../../firmware-bridge/protocol/cbor.js';
import { CHANNEL_VERSION } from './frame.js';

export type LinkRole = 'alice' | 'bob';

export interface HelloPayload {
  readonly v: number;
  readonly linkId: string;
  readonly role: LinkRole;
}

export interface ResyncPayload {
  readonly floor: number;
  readonly hello: boolean;
}

export interface ClosePayload {
  readonly reason: string;
}

/** Control payloads are small flat maps: anything bigger is refused before cbor-x sees it. */
export const CONTROL_CBOR_LIMITS: CborLimits = { maxDepth: 1, maxItems: 8, maxStringLength: 1024, maxTotalItems: 17 };
export const MAX_CONTROL_BYTES = 2048;
const MAX_LINK_ID_BYTES = 256;

export function encodeHello(h: HelloPayload): Uint8Array {
  return encodeCbor({ v: h.v, linkId: h.linkId, role: h.role });
}

export function encodeResync(r: ResyncPayload): Uint8Array {
  return encodeCbor({ floor: r.floor, hello: r.hello });
}

export function encodeClose(c: ClosePayload): Uint8Array {
  return encodeCbor({ reason: c.reason.slice(0, 512) });
}

function map(bytes: Uint8Array): Record<string, unknown> | string {
  if (bytes.length > MAX_CONTROL_BYTES) return `${bytes.length} bytes exceeds ${MAX_CONTROL_BYTES}`;
  const d = decodeCbor(bytes, CONTROL_CBOR_LIMITS);
  if (!d.ok) return d.reason;
  if (typeof d.value !== 'object' || d.value === null || Array.isArray(d.value) || d.value instanceof Uint8Array) return 'not a map';
  return d.value as Record<string, unknown>;
}

/** The decoded payload, or a string saying what is wrong with it. */
export function decodeHello(bytes: Uint8Array): HelloPayload | string {
  const m = map(bytes);
  if (typeof m === 'string') return m;
  if (m.v !== CHANNEL_VERSION) return `hello version ${String(m.v)}`;
  if (typeof m.linkId !== 'string' || m.linkId.length === 0 || Buffer.byteLength(m.linkId) > MAX_LINK_ID_BYTES) return 'hello linkId';
  if (m.role !== 'alice' && m.role !== 'bob') return 'hello role';
  return { v: m.v, linkId: m.linkId, role: m.role };
}

export function decodeResync(bytes: Uint8Array): ResyncPayload | string {
  const m = map(bytes);
  if (typeof m === 'string') return m;
  // CBOR carries integers of 2^32 and above as 64-bit: the decoder gives those as bigint.
  const floor = typeof m.floor === 'bigint' && m.floor <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(m.floor) : m.floor;
  if (typeof floor !== 'number' || !Number.isSafeInteger(floor) || floor < 0) return 'resync floor';
  if (typeof m.hello !== 'boolean') return 'resync hello';
  return { floor, hello: m.hello };
}

export function decodeClose(bytes: Uint8Array): ClosePayload | string {
  const m = map(bytes);
  if (typeof m === 'string') return m;
  if (typeof m.reason !== 'string') return 'close reason';
  return { reason: m.reason };
}
