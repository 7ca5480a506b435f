/**
 * Schemas of interworking message bodies: JSON Schema (checked by ajv) over the values cbor-x
 * decodes, plus one keyword of ours, `bytes: maxLength`, for CBOR byte strings (JSON has none).
 * Every object is closed (`additionalProperties: false`): a peer that adds a field must bump the
 * version, and nothing unlisted can ride along across a border. The builders below keep each
 * message file short and give the canonical encoding its field order (schema order).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ID_PATTERN } from '../pki/ids.js';
import { IwDecodeError } from './errors.js';

export type Schema = { readonly [k: string]: unknown };

const ajv = new Ajv({ strict: true, strictTypes: false, allErrors: false });
ajv.addKeyword({
  keyword: 'bytes',
  schemaType: 'number',
  validate: (max: number, v: unknown) => v instanceof Uint8Array && v.length <= max,
  error: { message: (cxt) => `must be a byte string of at most ${String(cxt.schema)} bytes` },
});

export const UINT_MAX = Number.MAX_SAFE_INTEGER;

/** A node, link, controller, manager or provider ID: the same rule as certificate CNs (host/pki/ids.ts). */
export const id: Schema = { type: 'string', pattern: ID_PATTERN.source };
/** SAE IDs follow the node ID rule (ETSI 014 puts them in URL paths). */
export const sae: Schema = id;
/** Lower-case UUID: key IDs, relay, supply, round and report IDs. */
export const uuid: Schema = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' };
export const bool: Schema = { type: 'boolean' };
export const uint = (max = UINT_MAX, min = 0): Schema => ({ type: 'integer', minimum: min, maximum: max });
/** Epoch milliseconds. */
export const time: Schema = uint();
export const text = (maxLength: number): Schema => ({ type: 'string', maxLength });
export const oneOf = (values: readonly string[]): Schema => ({ type: 'string', enum: [...values] });
export const bytes = (max: number): Schema => ({ bytes: max });
export const array = (items: Schema, minItems: number, maxItems: number, unique = false): Schema => ({
  type: 'array',
  items,
  minItems,
  maxItems,
  ...(unique ? { uniqueItems: true } : {}),
});
/** A closed object; `optional` fields may be absent (never CBOR undefined or null). */
export function object(required: Readonly<Record<string, Schema>>, optional: Readonly<Record<string, Schema>> = {}): Schema {
  return { type: 'object', additionalProperties: false, required: Object.keys(required), properties: { ...required, ...optional } };
}

export function compile(schema: Schema): ValidateFunction {
  return ajv.compile(schema);
}

function fieldPath(msg: string, e: ErrorObject): string {
  const parts = e.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`));
  const extra = e.keyword === 'required' ? `.${String((e.params as { missingProperty: string }).missingProperty)}` : e.keyword === 'additionalProperties' ? `.${String((e.params as { additionalProperty: string }).additionalProperty)}` : '';
  return msg + parts.join('') + extra;
}

/** Checks `v` against `validate`, throwing an IwDecodeError that names the first failing field. */
export function check(validate: ValidateFunction, msg: string, v: unknown): void {
  if (validate(v)) return;
  const e = validate.errors?.[0];
  if (!e) throw new IwDecodeError(msg, 'does not match its schema');
  throw new IwDecodeError(fieldPath(msg, e), e.keyword === 'additionalProperties' ? 'is not a field of this message' : (e.message ?? 'is invalid'));
}

/**
 * The canonical form of a value under its schema: object fields in schema order, absent fields
 * dropped, byte strings as plain Uint8Array copies. Used both to encode (so equal messages give
 * equal bytes, which the rerouting digest relies on) and to take a decoded body out of cbor-x's
 * buffers.
 */
export function canonical(schema: Schema, v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) {
    const items = (schema.items ?? {}) as Schema;
    return v.map((x) => canonical(items, x));
  }
  if (typeof v === 'object' && v !== null) {
    const props = (schema.properties ?? {}) as Readonly<Record<string, Schema>>;
    const src = v as Readonly<Record<string, unknown>>;
    const out: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(props)) if (src[k] !== undefined) out[k] = canonical(s, src[k]);
    return out;
  }
  return v;
}
