/**
 * The Kx message set, version 1: one table of type numbers, the envelope and the framing.
 *
 * Frame on the TLS stream:   | length: uint32 big-endian | payload: `length` bytes |
 * Payload (CBOR, RFC 8949):  [ version: uint = 1, type: uint, id: uint, body: map ]
 *
 * `id` numbers the requests a connection end sends (1, 2, ...); an answer (Response,
 * KeySupplyNotificationResponse, or a Hello/KeySync carrying `re`) names the request in `re`.
 * Decoding is strict: a payload over LIMITS.frame, CBOR outside KX_CBOR_LIMITS (depth, entries
 * per container, string length, items in all; no tags, no indefinite lengths: checked before
 * cbor-x sees the bytes, with the structural check the board protocol uses, since cbor-x's own
 * limits are global to the process), a version other than 1, an unknown type or a body that fails
 * its message's schema is refused with a KxError and the connection is closed.
 *
 * | type | message                          | Q.4163 clause | answered by                     |
 * |------|----------------------------------|---------------|---------------------------------|
 * |  1   | Hello                            | -             | Hello (re)                      |
 * |  2   | Response                         | -             | (answer)                        |
 * |  3   | KeySync                          | -             | KeySync (re)                    |
 * |  4   | Void                             | -             | Response                        |
 * | 16   | KeyRelay                         | 8.1           | Response (per-hop ack)          |
 * | 17   | KeyRelayCompletionNotification   | 8.2           | Response                        |
 * | 18   | KeySupplyNotification            | 8.3           | KeySupplyNotificationResponse   |
 * | 19   | KeySupplyNotificationResponse    | 8.4           | (answer)                        |
 */
import { Decoder, Encoder } from 'cbor-x';
import { checkCbor, type CborLimits } from '../../../firmware-bridge/protocol/cbor.js';
import { HelloSpec } from './hello.js';
import { ResponseSpec } from './response.js';
import { KeySyncSpec } from './key-sync.js';
import { VoidSpec } from './void.js';
import { KeyRelaySpec } from './key-relay.js';
import { KeyRelayCompletionNotificationSpec } from './key-relay-completion-notification.js';
import { KeySupplyNotificationSpec } from './key-supply-notification.js';
import { KeySupplyNotificationResponseSpec } from './key-supply-notification-response.js';
import { KxError } from './errors.js';
import { LIMITS, type KxMessageSpec } from './spec.js';

export const KX_VERSION = 1;

/**
 * What a Kx payload may contain. Deepest message: KeySupplyNotification, envelope → body → keys →
 * key → units (5 levels); largest container: LIMITS.units IDs; longest string: a relay's ciphertext.
 */
export const KX_CBOR_LIMITS: CborLimits = {
  maxDepth: 5,
  maxItems: LIMITS.units,
  maxStringLength: LIMITS.ciphertext,
  maxTotalItems: 8 * LIMITS.units,
};

export const MESSAGE_SPECS = [
  HelloSpec,
  ResponseSpec,
  KeySyncSpec,
  VoidSpec,
  KeyRelaySpec,
  KeyRelayCompletionNotificationSpec,
  KeySupplyNotificationSpec,
  KeySupplyNotificationResponseSpec,
] as const;

type Spec = (typeof MESSAGE_SPECS)[number];
type BodyOf<S> = S extends KxMessageSpec<string, infer T> ? T : never;
export type KxMessageName = Spec['name'];
export type KxBody<N extends KxMessageName> = BodyOf<Extract<Spec, { name: N }>>;
export type KxMessage = { [N in KxMessageName]: { readonly name: N; readonly id: number; readonly body: KxBody<N> } }[KxMessageName];

const byType = new Map<number, Spec>(MESSAGE_SPECS.map((s) => [s.type, s]));
const byName = new Map<string, Spec>(MESSAGE_SPECS.map((s) => [s.name, s]));

// Definite-length maps with text keys, byte strings untagged: plain RFC 8949 that any CBOR library reads.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export function specOf(name: KxMessageName): Spec {
  return byName.get(name)!;
}

/** The CBOR payload of a message (no length prefix). */
export function encodePayload<N extends KxMessageName>(name: N, id: number, msg: KxBody<N>): Buffer {
  const spec = byName.get(name) as KxMessageSpec<N, KxBody<N>>;
  return encoder.encode([KX_VERSION, spec.type, id, spec.encode(msg)]);
}

/** A whole frame: length prefix and payload. */
export function encodeFrame<N extends KxMessageName>(name: N, id: number, msg: KxBody<N>): Buffer {
  const payload = encodePayload(name, id, msg);
  if (payload.length > LIMITS.frame) throw new KxError('ERR_KX_FRAME_TOO_LARGE', `${name}: ${payload.length} bytes exceeds the ${LIMITS.frame}-byte frame limit`);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

export function decodePayload(payload: Uint8Array): KxMessage {
  if (payload.length > LIMITS.frame) throw new KxError('ERR_KX_FRAME_TOO_LARGE', `payload of ${payload.length} bytes`);
  const shape = checkCbor(payload, KX_CBOR_LIMITS);
  if (!shape.ok) throw new KxError('ERR_KX_DECODE', `CBOR refused: ${shape.reason}`);
  let v: unknown;
  try {
    v = decoder.decode(payload);
  } catch (e) {
    throw new KxError('ERR_KX_DECODE', `not CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 4) throw new KxError('ERR_KX_DECODE', 'envelope: expected [version, type, id, body]');
  const [version, type, id, body] = v as [unknown, unknown, unknown, unknown];
  if (version !== KX_VERSION) throw new KxError('ERR_KX_VERSION', `envelope: version ${String(version)}, this KM speaks ${KX_VERSION}`);
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new KxError('ERR_KX_DECODE', 'envelope: id must be an unsigned integer');
  const spec = typeof type === 'number' ? byType.get(type) : undefined;
  if (!spec) throw new KxError('ERR_KX_UNKNOWN_TYPE', `envelope: unknown message type ${String(type)}`);
  return { name: spec.name, id, body: spec.decode(body) } as KxMessage;
}

/** Splits a TLS byte stream into payloads; refuses a frame over the limit before buffering it. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: Buffer[] = [];
    while (this.#buf.length >= 4) {
      const len = this.#buf.readUInt32BE(0);
      if (len > LIMITS.frame) throw new KxError('ERR_KX_FRAME_TOO_LARGE', `frame of ${len} bytes announced; limit ${LIMITS.frame}`);
      if (this.#buf.length < 4 + len) break;
      out.push(this.#buf.subarray(4, 4 + len));
      this.#buf = this.#buf.subarray(4 + len);
    }
    return out;
  }
}
