/**
 * The messages of a QKD link session, version 1: what the transmitter (Alice) and the receiver
 * (Bob) say to each other over the authenticated classical channel to turn one block of
 * detections into key. One definition, used by both ends; test vectors in vectors/.
 *
 * Each message is a CBOR map with `v` (protocol version), `t` (type) and `b` (block number),
 * plus the fields of its type below. Byte strings carry bit-packed data (bit i of byte k is item
 * 8k+i) or u32 little-endian arrays. Even though the channel is authenticated, a decoder checks
 * every field: a peer with a bug must not crash the other end.
 *
 * One block, in order (Bob drives: he holds the detections):
 *   Bob   sift.announce   detected slots of [s, e) and his basis for each
 *   Alice sift.reply      per detected slot: kept (bases match and the slot is valid), intensity class
 *   Bob   pe.disclose     his bits in the test basis (X), which are sacrificed
 *   Alice pe.result       test-basis counts and errors per intensity class; go or abort
 *   Alice ec.syndrome     one per frame: code, rate-adaptation parameters, syndrome
 *   Bob   ec.result       decoded or not; on failure Alice may answer ec.reveal (blind round)
 *   Alice ec.reveal       more of her frame's bits, for a frame Bob could not decode
 *   Alice ver.tag         universal-hash seed and tag of her corrected key
 *   Bob   ver.result      tags equal or not
 *   Alice pa.seed         Toeplitz seed (fresh per block) and the final length both ends use
 *   Alice commit.ready    the block's key is durable on her side, as units [u0, u0 + n)
 *   Bob   commit.done     the block's key is durable on his side: both may release it to the KM
 *   either abort          the block is abandoned (why); nothing of it is kept
 * After a (re)connection:
 *   either sync.state     last committed block and next unit index; blocks pending commit
 */
// The board protocol's CBOR profile (definite lengths, no tags, checked limits) serves here too.
import { decodeCbor, encodeCbor, type CborLimits, type CborValue } from '../../../firmware-bridge/protocol/cbor.js';

export const SESSION_VERSION = 1;

export type FieldKind = 'uint' | 'bytes' | 'bool' | 'text' | 'float' | 'uints';

/** Field tables: one per message type. The decoder checks presence and kind of every field. */
export const MESSAGE_FIELDS = {
  'sift.announce': { acq: 'uint', s: 'uint', e: 'uint', d: 'bytes', bb: 'bytes' },
  'sift.reply': { keep: 'bytes', cls: 'bytes' },
  'pe.disclose': { bits: 'bytes' },
  'pe.result': { nX: 'uints', eX: 'uints', nZ: 'uints', go: 'bool', why: 'text' },
  'ec.syndrome': { f: 'uint', code: 'text', shorten: 'uint', puncture: 'uint', syn: 'bytes' },
  'ec.result': { f: 'uint', ok: 'bool', it: 'uint' },
  'ec.reveal': { f: 'uint', round: 'uint', bits: 'bytes' },
  'ver.tag': { seed: 'bytes', tag: 'bytes' },
  'ver.result': { ok: 'bool' },
  'pa.seed': { n: 'uint', m: 'uint', seed: 'bytes' },
  'commit.ready': { u0: 'uint', n: 'uint' },
  'commit.done': { u0: 'uint', n: 'uint' },
  abort: { code: 'text', why: 'text' },
  'sync.state': { committed: 'uint', nextUnit: 'uint', pending: 'uints' },
} as const satisfies Record<string, Record<string, FieldKind>>;

export type MessageType = keyof typeof MESSAGE_FIELDS;

type KindType<K> = K extends 'uint' | 'float' ? number : K extends 'bytes' ? Uint8Array : K extends 'bool' ? boolean : K extends 'text' ? string : number[];

export type SessionMessage = {
  [T in MessageType]: { readonly t: T; readonly b: number } & { readonly [F in keyof (typeof MESSAGE_FIELDS)[T]]: KindType<(typeof MESSAGE_FIELDS)[T][F]> };
}[MessageType];

export type MessageOf<T extends MessageType> = Extract<SessionMessage, { t: T }>;

/** Sizes bounded by the largest block we process (2^24 detected slots). */
export const SESSION_CBOR_LIMITS: CborLimits = {
  maxDepth: 3,
  maxItems: 64,
  maxStringLength: 64 * 1024 * 1024,
  maxTotalItems: 512,
};

export class SessionMessageError extends Error {
  readonly code = 'ERR_SESSION_MESSAGE';
  constructor(message: string) {
    super(message);
    this.name = 'SessionMessageError';
  }
}

export function encodeMessage(m: SessionMessage): Uint8Array {
  return encodeCbor({ v: SESSION_VERSION, ...m } as CborValue);
}

function kindOk(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case 'uint':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    case 'float':
      return typeof v === 'number' && Number.isFinite(v);
    case 'bytes':
      return v instanceof Uint8Array;
    case 'bool':
      return typeof v === 'boolean';
    case 'text':
      return typeof v === 'string' && v.length <= 1024;
    case 'uints':
      return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0);
  }
}

/** Decodes and checks a message; throws SessionMessageError naming what is wrong. */
export function decodeMessage(bytes: Uint8Array): SessionMessage {
  const decoded = decodeCbor(bytes, SESSION_CBOR_LIMITS);
  if (!decoded.ok) throw new SessionMessageError(`malformed CBOR: ${decoded.reason}`);
  const raw = decoded.value;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SessionMessageError('message is not a map');
  const m = raw as Record<string, unknown>;
  if (m.v !== SESSION_VERSION) throw new SessionMessageError(`unsupported session version ${String(m.v)}`);
  const t = m.t;
  if (typeof t !== 'string' || !Object.hasOwn(MESSAGE_FIELDS, t)) throw new SessionMessageError(`unknown message type ${String(t)}`);
  if (!kindOk('uint', m.b)) throw new SessionMessageError(`${t}: block number ${String(m.b)} is not an unsigned integer`);
  const fields = MESSAGE_FIELDS[t as MessageType] as Record<string, FieldKind>;
  const out: Record<string, unknown> = { t, b: m.b };
  for (const [name, kind] of Object.entries(fields)) {
    const v = m[name];
    if (!kindOk(kind, v)) throw new SessionMessageError(`${t}: field ${name} is missing or not ${kind}`);
    // cbor-x yields Buffers; hand out plain Uint8Array views so callers see one type.
    out[name] = v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : v;
  }
  return out as SessionMessage;
}
