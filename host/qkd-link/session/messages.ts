/**
 * The messages of a QKD link session, version 1: what the transmitter (Alice) and the receiver
 * (Bob) say to each other over the authenticated classical channel to turn one block of
 * detections into key. One definition, used by both ends; test vectors in vectors/.
 *
 * Each message is a CBOR map with `v` (protocol version), `t` (type) and `b` (block number, from
 * 1; 0 in messages about no block), plus the fields of its type below. Byte strings carry
 * bit-packed data (bit i of byte k is item 8k+i; packing.ts), LEB128 varints or u32 little-endian
 * arrays, as each field says. Even though the channel is authenticated, a decoder checks every
 * field: a peer with a bug must not crash the other end.
 *
 * One block, in order (Bob drives: he holds the detections):
 *   Bob   sift.announce  detected slots of [s, e): n events, slot deltas d (LEB128: slot[k] =
 *                        s + d[0] + ... + d[k]), his basis per event bb (packed, 1 = X)
 *   Alice sift.reply     keep (packed per event: her basis matches and the slot was emitting) and
 *                        cls (2 bits per kept event, packed: its intensity class)
 *   Bob   pe.disclose    his bits of the kept X-basis events (packed, event order): sacrificed
 *   Alice pe.result      per class: kept Z events, kept X events, X errors; go or not (why); qec,
 *                        the QBER the error correction is planned for
 *   Alice ec.syndromes   code, punctured count and one syndrome per frame (packed, m bits each)
 *                        of the block's Z key, cut into frames of the code's key length (the
 *                        last frame padded with zeros both ends know); per frame the hash keys
 *                        and tag that check a decoding (tagBytes each, reconciliation/verify.ts)
 *   Bob   ec.ask         frame f: reveal the values at these code positions (u32 LE); a blind round
 *   Alice ec.reveal      the values (packed)
 *   Bob   ec.done        per frame ok (packed); leak (bits, for Alice to compare with her count);
 *                        Z errors corrected per class
 *   Alice ver.tag        fresh keys and tag of a GF(2^64) polynomial hash of her block key
 *   Bob   ver.result     tags equal or not
 *   Alice pa.seed        input and output length and the fresh Toeplitz seed (n + m - 1 bits)
 *   Alice commit.ready   the block's key is durable on her side: units [u0, u0 + n), then `auth`
 *                        bits that replenish the channel's authentication key
 *   Bob   commit.done    the block's key is in his key store: Alice may release hers
 *   either abort         the block is abandoned (code, why); nothing of it is kept
 * After a (re)connection, before any block:
 *   either sync.state    last committed block, highest block started, next unit index, blocks
 *                        pending commit (Alice), digest of the configuration both must share
 */
// The board protocol's CBOR profile (definite lengths, no tags, checked limits) serves here too.
import { decodeCbor, encodeCbor, type CborLimits, type CborValue } from '../../../firmware-bridge/protocol/cbor.js';

export const SESSION_VERSION = 1;

export type FieldKind = 'uint' | 'bytes' | 'bool' | 'text' | 'float' | 'uints';

/** Field tables: one per message type. The decoder checks presence and kind of every field. */
export const MESSAGE_FIELDS = {
  'sift.announce': { acq: 'uint', s: 'uint', e: 'uint', n: 'uint', d: 'bytes', bb: 'bytes' },
  'sift.reply': { keep: 'bytes', cls: 'bytes' },
  'pe.disclose': { bits: 'bytes' },
  'pe.result': { nZ: 'uints', nX: 'uints', eX: 'uints', go: 'bool', why: 'text', qec: 'float' },
  'ec.syndromes': { qec: 'float', code: 'uint', punctured: 'uint', frames: 'uint', keyBits: 'uint', syn: 'bytes', tagBytes: 'uint', tags: 'bytes' },
  'ec.ask': { f: 'uint', pos: 'bytes' },
  'ec.reveal': { f: 'uint', bits: 'bytes' },
  'ec.done': { ok: 'bytes', leak: 'uint', errZ: 'uints' },
  'ver.tag': { keys: 'bytes', tag: 'bytes' },
  'ver.result': { ok: 'bool' },
  'pa.seed': { n: 'uint', m: 'uint', seed: 'bytes' },
  'commit.ready': { u0: 'uint', n: 'uint', auth: 'uint' },
  'commit.done': { u0: 'uint', n: 'uint' },
  abort: { code: 'text', why: 'text' },
  'sync.state': { committed: 'uint', last: 'uint', nextUnit: 'uint', pending: 'uints', cfg: 'text' },
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

import { SessionMessageError } from '../kernels/errors.js';

export { SessionMessageError };

export function encodeMessage(m: SessionMessage): Uint8Array {
  return encodeCbor({ v: SESSION_VERSION, ...m } as CborValue);
}

/**
 * CBOR carries integers of 2^32 and above as 64-bit, which the decoder yields as bigint: slot
 * numbers pass 2^32 after about four seconds at 1 GHz. Those up to 2^53 become numbers again.
 */
function safeNumber(v: unknown): unknown {
  return typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
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
  const b = safeNumber(m.b);
  if (!kindOk('uint', b)) throw new SessionMessageError(`${t}: block number ${String(m.b)} is not an unsigned integer`);
  const fields = MESSAGE_FIELDS[t as MessageType] as Record<string, FieldKind>;
  const out: Record<string, unknown> = { t, b };
  for (const [name, kind] of Object.entries(fields)) {
    const v = kind === 'uint' ? safeNumber(m[name]) : kind === 'uints' && Array.isArray(m[name]) ? (m[name] as unknown[]).map(safeNumber) : m[name];
    if (!kindOk(kind, v)) throw new SessionMessageError(`${t}: field ${name} is missing or not ${kind}`);
    // cbor-x yields Buffers; hand out plain Uint8Array views so callers see one type.
    out[name] = v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : v;
  }
  return out as SessionMessage;
}
