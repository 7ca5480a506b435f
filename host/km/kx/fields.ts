/**
 * Field readers for Kx message bodies (CBOR maps with text keys). Each checks type and bounds and
 * names the field in a KxDecodeError, so a malformed message from a peer is refused precisely
 * instead of reaching the KMA. Unknown fields are ignored: a later minor revision may add some.
 */
import { isKeyId } from '../key-id.js';
import { KxDecodeError } from './errors.js';
import { ID_PATTERN } from '../../pki/ids.js';

export type Body = Readonly<Record<string, unknown>>;

export function body(v: unknown, msg: string): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw new KxDecodeError(msg, 'a map');
  return v as Body;
}

export function uint(b: Body, msg: string, k: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = b[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw new KxDecodeError(`${msg}.${k}`, `an integer in [0, ${max}]`);
  return v;
}

export function text(b: Body, msg: string, k: string, maxLen = 256): string {
  const v = b[k];
  if (typeof v !== 'string' || v.length > maxLen) throw new KxDecodeError(`${msg}.${k}`, `text of at most ${maxLen} characters`);
  return v;
}

export function optText(b: Body, msg: string, k: string, maxLen = 256): string | undefined {
  return b[k] === undefined ? undefined : text(b, msg, k, maxLen);
}

export function id(b: Body, msg: string, k: string): string {
  const v = b[k];
  if (typeof v !== 'string' || !ID_PATTERN.test(v)) throw new KxDecodeError(`${msg}.${k}`, 'an ID (1-64 of A-Z a-z 0-9 . _ ~ -)');
  return v;
}

export function ids(b: Body, msg: string, k: string, min: number, max: number): string[] {
  const v = b[k];
  if (!Array.isArray(v) || v.length < min || v.length > max) throw new KxDecodeError(`${msg}.${k}`, `an array of ${min}-${max} IDs`);
  return v.map((x, i) => {
    if (typeof x !== 'string' || !ID_PATTERN.test(x)) throw new KxDecodeError(`${msg}.${k}[${i}]`, 'an ID');
    return x;
  });
}

export function keyId(b: Body, msg: string, k: string): string {
  const v = b[k];
  if (!isKeyId(v)) throw new KxDecodeError(`${msg}.${k}`, 'a lower-case UUID');
  return v;
}

export function keyIds(b: Body, msg: string, k: string, min: number, max: number): string[] {
  const v = b[k];
  if (!Array.isArray(v) || v.length < min || v.length > max) throw new KxDecodeError(`${msg}.${k}`, `an array of ${min}-${max} key IDs`);
  const seen = new Set<string>();
  return v.map((x, i) => {
    if (!isKeyId(x) || seen.has(x)) throw new KxDecodeError(`${msg}.${k}[${i}]`, 'a distinct lower-case UUID');
    seen.add(x);
    return x;
  });
}

export function optKeyIds(b: Body, msg: string, k: string, min: number, max: number): string[] | undefined {
  return b[k] === undefined ? undefined : keyIds(b, msg, k, min, max);
}

export function bytes(b: Body, msg: string, k: string, maxLen: number): Uint8Array {
  const v = b[k];
  if (!(v instanceof Uint8Array) || v.length > maxLen) throw new KxDecodeError(`${msg}.${k}`, `a byte string of at most ${maxLen} bytes`);
  return new Uint8Array(v);
}

export function oneOf<T extends string>(b: Body, msg: string, k: string, values: readonly T[]): T {
  const v = b[k];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new KxDecodeError(`${msg}.${k}`, `one of ${values.join(', ')}`);
  return v as T;
}

export function array(b: Body, msg: string, k: string, min: number, max: number): unknown[] {
  const v = b[k];
  if (!Array.isArray(v) || v.length < min || v.length > max) throw new KxDecodeError(`${msg}.${k}`, `an array of ${min}-${max} entries`);
  return v;
}

/** Drops undefined fields so that encodings are canonical (no CBOR undefined on the wire). */
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}
