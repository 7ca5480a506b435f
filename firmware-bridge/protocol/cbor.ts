/**
 * CBOR (RFC 8949) for board payloads, through cbor-x, behind explicit limits. cbor-x's own size
 * limits are process-global, so untrusted bytes first pass a structural check here that enforces
 * ours (depth, items per container, string lengths, no tags, no indefinite lengths, text map keys)
 * and only then reach cbor-x. Encoding uses definite lengths, minimal map headers, and uint64
 * (not float) for integers above 2^32: what a firmware's CBOR library would produce.
 */
import { Decoder, Encoder } from 'cbor-x';

export interface CborLimits {
  /** Nesting depth of arrays and maps (the top-level map is depth 1). */
  readonly maxDepth: number;
  /** Entries in one array or map. */
  readonly maxItems: number;
  /** Bytes in one byte or text string. */
  readonly maxStringLength: number;
  /** Data items in the whole payload. */
  readonly maxTotalItems: number;
}

export const BOARD_CBOR_LIMITS: CborLimits = {
  maxDepth: 4,
  maxItems: 64,
  maxStringLength: 65536,
  maxTotalItems: 1024,
};

export type CborCheck = { ok: true } | { ok: false; reason: string };

/** Structural check of one CBOR data item filling bytes exactly; never throws. */
export function checkCbor(bytes: Uint8Array, limits: CborLimits = BOARD_CBOR_LIMITS): CborCheck {
  let pos = 0;
  let total = 0;
  const fail = (reason: string): CborCheck => ({ ok: false, reason: `${reason} at byte ${pos}` });

  // Returns the argument of the head at pos (advancing past it), or -1 on error/indefinite.
  const head = (): { major: number; info: number; value: number } | string => {
    if (pos >= bytes.length) return 'truncated';
    const ib = bytes[pos++]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    if (info < 24) return { major, info, value: info };
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (n === 0) return info === 31 ? 'indefinite length not allowed' : 'reserved additional information';
    if (pos + n > bytes.length) return 'truncated';
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + bytes[pos++]!;
    return { major, info, value: v };
  };

  const item = (depth: number, asKey: boolean): string | null => {
    if (++total > limits.maxTotalItems) return `more than ${limits.maxTotalItems} items`;
    const h = head();
    if (typeof h === 'string') return h;
    const { major, info, value } = h;
    if (asKey && major !== 3) return 'map key is not a text string';
    switch (major) {
      case 0:
      case 1:
        return null;
      case 2:
      case 3:
        if (value > limits.maxStringLength) return `string of ${value} bytes exceeds ${limits.maxStringLength}`;
        if (pos + value > bytes.length) return 'truncated';
        if (major === 3 && !validUtf8(bytes, pos, pos + value)) return 'invalid UTF-8';
        pos += value;
        return null;
      case 4:
      case 5: {
        if (depth >= limits.maxDepth) return `nesting deeper than ${limits.maxDepth}`;
        if (value > limits.maxItems) return `container of ${value} entries exceeds ${limits.maxItems}`;
        for (let i = 0; i < value; i++) {
          if (major === 5) {
            const k = item(depth + 1, true);
            if (k) return k;
          }
          const e = item(depth + 1, false);
          if (e) return e;
        }
        return null;
      }
      case 6:
        return 'tags not allowed';
      default:
        // major 7: false, true, null, undefined and floats; no other simple values
        return (info >= 20 && info <= 23) || info === 25 || info === 26 || info === 27 ? null : 'simple value not allowed';
    }
  };

  const err = item(0, false);
  if (err) return fail(err);
  if (pos !== bytes.length) return fail('trailing bytes');
  return { ok: true };
}

function validUtf8(b: Uint8Array, start: number, end: number): boolean {
  let ascii = true;
  for (let i = start; i < end && ascii; i++) ascii = b[i]! < 0x80;
  if (ascii) return true;
  try {
    utf8Decoder.decode(b.subarray(start, end));
    return true;
  } catch {
    return false;
  }
}
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false, pack: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** A plain object whose values are CBOR-encodable (numbers, strings, bytes, arrays, maps, booleans). */
export type CborValue = number | bigint | string | boolean | null | Uint8Array | readonly CborValue[] | { readonly [k: string]: CborValue | undefined };

export function encodeCbor(value: CborValue): Uint8Array {
  return encoder.encode(widenIntegers(value));
}

/** Checks then decodes; returns the reason on failure instead of throwing. */
export function decodeCbor(bytes: Uint8Array, limits: CborLimits = BOARD_CBOR_LIMITS): { ok: true; value: unknown } | { ok: false; reason: string } {
  const check = checkCbor(bytes, limits);
  if (!check.ok) return check;
  try {
    return { ok: true, value: decoder.decode(bytes) as unknown };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

// cbor-x writes integers above 2^32 as float64; a firmware expects major type 0/1 with 8 bytes.
function widenIntegers(v: CborValue): unknown {
  if (typeof v === 'number') return Number.isInteger(v) && (v > 0xffffffff || v < -0x100000000) ? BigInt(v) : v;
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return (v as readonly CborValue[]).map(widenIntegers);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as { readonly [k: string]: CborValue | undefined })) if (x !== undefined) out[k] = widenIntegers(x);
  return out;
}
