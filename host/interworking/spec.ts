/**
 * What every interworking message definition provides (one file per message, as in host/km/kx/):
 * its reference point and type number (one table: messages.ts), its schema, the semantic checks
 * a schema cannot express, which fields may carry bytes and which are free text (for the border
 * filter), and a test vector: the hex of the whole envelope of `example` sent with request ID 7
 * across a border (unprimed), checked both ways by wire.test.ts.
 */
import type { ValidateFunction } from 'ajv';
import { canonical, check, compile, type Schema } from './schema.js';

/**
 * The Y.3818 reference points between two QKDNs (clause 6.1); their primed forms (6.2) reuse the
 * messages. Ck (Y.3802, KM ↔ controller) carries the interworking messages between a KM of an
 * interworking node and its own network's controller and manager IWFs when those run outside the
 * IWN (ck/): inside one provider, never across a border.
 */
export type ReferencePoint = 'Kxi-1' | 'Kxi-2' | 'Cxi' | 'Mxi' | 'Ck';

export interface IwMessageDef<N extends string, T> {
  readonly name: N;
  readonly rp: ReferencePoint;
  readonly type: number;
  /** Whether the message answers a request (carries `re`). */
  readonly answer: boolean;
  readonly schema: Schema;
  /** Checks beyond the schema (cross-field rules); throws IwDecodeError. */
  readonly check?: (m: T) => void;
  /** Field paths (`a.b`, `a[].b`) that may carry byte strings; nothing else may. */
  readonly bytes: readonly string[];
  /** Field paths of human text: the border filter scans these for internal names and key-like runs. */
  readonly freeText: readonly string[];
  readonly example: T;
  readonly vector: string;
}

export interface IwMessageSpec<N extends string, T> extends IwMessageDef<N, T> {
  encode(m: T): Record<string, unknown>;
  decode(body: unknown): T;
}

export function defineMessage<N extends string, T>(def: IwMessageDef<N, T>): IwMessageSpec<N, T> {
  let validate: ValidateFunction | undefined;
  const v = () => (validate ??= compile(def.schema));
  return {
    ...def,
    encode(m) {
      const body = canonical(def.schema, m) as Record<string, unknown>;
      // the sender is held to the same schema as the receiver: a bad message is a local bug
      check(v(), def.name, body);
      def.check?.(body as T);
      return body;
    },
    decode(body) {
      check(v(), def.name, body);
      const m = canonical(def.schema, body) as T;
      def.check?.(m);
      return m;
    },
  };
}

/** Limits shared by the message schemas (BORDER_CBOR_LIMITS in messages.ts bounds everything else too). */
export const LIMITS = {
  /** Keys in one relay, supply or void. */
  keys: 4096,
  /** Qx units used as pads by one relay. */
  pads: 4096,
  /** Bytes of relay ciphertext (4096 keys of 1024 bits). */
  ciphertext: 512 * 1024,
  /** Bits of one key. */
  bits: 65536,
  /** SAEs named in one supply or route request. */
  saes: 16,
  /** Entries of a summary, status, report or accounting table. */
  entries: 1024,
  /** Free text. */
  text: 256,
  /** Bytes of an Mxi sealed payload. */
  sealed: 256 * 1024,
} as const;
