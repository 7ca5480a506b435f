/**
 * The control layer's wire format, version 1: Ck (KM ↔ controller), Cq (QKD module ↔ controller,
 * through its node) and the link-state advertisements of the distributed form, one table of type
 * numbers, one envelope, one framing (the Kx framing: a uint32 big-endian length, then CBOR).
 *
 * Payload (CBOR, RFC 8949):  [ version: uint = 1, type: uint, id: uint, re: uint, body: map ]
 *
 * `id` numbers the requests a connection end sends (1, 2, ...); an answer names its request in
 * `re` (0 in a request). Decoding is strict: a payload over LIMITS.frame, another version, an
 * unknown type or a body failing its schema is a ControllerError; cbor-x's own limits are
 * process-wide, so the frame limit is what bounds a peer's input.
 *
 * | type | message                 | ref. point | answered by |
 * |------|-------------------------|------------|-------------|
 * |  2   | Ack                     | all        | (answer)    |
 * | 16   | KmReport                | Ck         | Ack         |
 * | 17   | TopologyPush            | Ck         | Ack         |
 * | 18   | RouteRequest            | Ck         | RouteAnswer |
 * | 19   | RouteAnswer             | Ck         | (answer)    |
 * | 20   | RouteRelease            | Ck         | Ack         |
 * | 32   | LinkReport              | Cq         | Ack         |
 * | 48   | LinkStateAdvertisement  | node↔node  | Ack         |
 * | 49   | ConfigAdvertisement     | node↔node  | Ack         |
 */
import { Decoder, Encoder } from 'cbor-x';
import { KxError } from '../km/kx/errors.js';
import { LIMITS, type KxMessageSpec } from '../km/kx/spec.js';
import { ControllerDecodeError, ControllerError } from './errors.js';
import { AckSpec } from './ack.js';
import { KmReportSpec } from './ck/km-report.js';
import { TopologyPushSpec } from './ck/topology-push.js';
import { RouteRequestSpec } from './ck/route-request.js';
import { RouteAnswerSpec } from './ck/route-answer.js';
import { RouteReleaseSpec } from './ck/route-release.js';
import { LinkReportSpec } from './cq/link-report.js';
import { LinkStateAdvertisementSpec } from './flooding/link-state-advertisement.js';
import { ConfigAdvertisementSpec } from './flooding/config-advertisement.js';

export const CONTROL_VERSION = 1;

/** Every message definition: its type number, CBOR mapping with schema check and test vector (id 7, re 0). */
export type ControlMessageSpec<N extends string, T> = KxMessageSpec<N, T>;

export const CONTROL_SPECS = [AckSpec, KmReportSpec, TopologyPushSpec, RouteRequestSpec, RouteAnswerSpec, RouteReleaseSpec, LinkReportSpec, LinkStateAdvertisementSpec, ConfigAdvertisementSpec] as const;

type Spec = (typeof CONTROL_SPECS)[number];
type BodyOf<S> = S extends KxMessageSpec<string, infer T> ? T : never;
export type ControlMessageName = Spec['name'];
export type ControlBody<N extends ControlMessageName> = BodyOf<Extract<Spec, { name: N }>>;
export type ControlMessage = { [N in ControlMessageName]: { readonly name: N; readonly id: number; readonly re: number; readonly body: ControlBody<N> } }[ControlMessageName];

const byType = new Map<number, Spec>(CONTROL_SPECS.map((s) => [s.type, s]));
const byName = new Map<string, Spec>(CONTROL_SPECS.map((s) => [s.name, s]));

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** Canonical CBOR of a plain value (the bytes an advertisement's signature covers). */
export function cbor(v: unknown): Buffer {
  return encoder.encode(v);
}

export function encodeControl<N extends ControlMessageName>(name: N, id: number, re: number, body: ControlBody<N>): Buffer {
  const spec = byName.get(name) as KxMessageSpec<N, ControlBody<N>>;
  const payload = encoder.encode([CONTROL_VERSION, spec.type, id, re, spec.encode(body)]);
  if (payload.length > LIMITS.frame) throw new ControllerError('ERR_CTL_FRAME_TOO_LARGE', `${name}: ${payload.length} bytes exceeds the ${LIMITS.frame}-byte frame limit`);
  return payload;
}

export function encodeControlFrame<N extends ControlMessageName>(name: N, id: number, re: number, body: ControlBody<N>): Buffer {
  const payload = encodeControl(name, id, re, body);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

const uintOk = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function decodeControl(payload: Uint8Array): ControlMessage {
  if (payload.length > LIMITS.frame) throw new ControllerError('ERR_CTL_FRAME_TOO_LARGE', `payload of ${payload.length} bytes`);
  let v: unknown;
  try {
    v = decoder.decode(payload);
  } catch (e) {
    throw new ControllerError('ERR_CTL_DECODE', `not CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 5) throw new ControllerError('ERR_CTL_DECODE', 'envelope: expected [version, type, id, re, body]');
  const [version, type, id, re, body] = v as unknown[];
  if (version !== CONTROL_VERSION) throw new ControllerError('ERR_CTL_VERSION', `envelope: version ${String(version)}, this node speaks ${CONTROL_VERSION}`);
  if (!uintOk(id) || !uintOk(re)) throw new ControllerError('ERR_CTL_DECODE', 'envelope: id and re must be unsigned integers');
  const spec = typeof type === 'number' ? byType.get(type) : undefined;
  if (!spec) throw new ControllerError('ERR_CTL_UNKNOWN_TYPE', `envelope: unknown message type ${String(type)}`);
  try {
    return { name: spec.name, id, re, body: spec.decode(body) } as ControlMessage;
  } catch (e) {
    // The field readers are shared with Kx; their errors become the control layer's.
    if (e instanceof KxError) throw new ControllerDecodeError('field' in e ? String((e as { field: unknown }).field) : spec.name, e.message);
    throw e;
  }
}
