/**
 * Decoder limits for CBOR from another provider, checked before cbor-x builds any value.
 * cbor-x's own size limits are process-wide (setSizeLimits) and would change every other
 * decoder in the node, so the interworking layer walks the item headers itself: nesting depth,
 * the length of each array, map and string, the number of items in the whole payload, and only
 * the definite-length, untagged forms our encoder writes (RFC 8949 section 4.2.1 preferred
 * serialisation) are accepted. Nothing is allocated per item.
 */
import { IwLimitError } from './errors.js';

export interface CborLimits {
  /** Bytes of the whole payload. */
  readonly bytes: number;
  /** Nesting depth of arrays and maps (the envelope is depth 1). */
  readonly depth: number;
  /** Entries of one array or map. */
  readonly container: number;
  /** Bytes of one byte or text string. */
  readonly string: number;
  /** Data items in the whole payload. */
  readonly items: number;
}

export const BORDER_CBOR_LIMITS: CborLimits = {
  bytes: 1024 * 1024,
  depth: 8,
  container: 8192,
  string: 512 * 1024,
  items: 65536,
};

/** Throws IwLimitError unless `buf` is exactly one well-formed CBOR item within `limits`. */
export function checkCborBounds(buf: Uint8Array, limits: CborLimits = BORDER_CBOR_LIMITS): void {
  if (buf.length > limits.bytes) throw new IwLimitError('bytes', `payload of ${buf.length} bytes exceeds ${limits.bytes}`);
  let pos = 0;
  let items = 0;
  const arg = (info: number): number => {
    if (info < 24) return info;
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (n === 0) throw new IwLimitError('form', `CBOR additional information ${info} (indefinite or reserved) at byte ${pos - 1}`);
    if (pos + n > buf.length) throw new IwLimitError('truncated', 'CBOR truncated');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + buf[pos + i]!;
    pos += n;
    return v;
  };
  const item = (depth: number): void => {
    if (++items > limits.items) throw new IwLimitError('items', `more than ${limits.items} CBOR items`);
    if (pos >= buf.length) throw new IwLimitError('truncated', 'CBOR truncated');
    const head = buf[pos++]!;
    const major = head >> 5;
    const info = head & 31;
    if (major === 7) {
      // simple values and floats: 20-23 inline, 25/26/27 half/single/double
      if (info < 24) return;
      const n = info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
      if (n === 0) throw new IwLimitError('form', `CBOR simple/break form ${info}`);
      pos += n;
      if (pos > buf.length) throw new IwLimitError('truncated', 'CBOR truncated');
      return;
    }
    const v = arg(info);
    if (major === 0 || major === 1) return;
    if (major === 2 || major === 3) {
      if (v > limits.string) throw new IwLimitError('string', `string of ${v} bytes exceeds ${limits.string}`);
      pos += v;
      if (pos > buf.length) throw new IwLimitError('truncated', 'CBOR truncated');
      return;
    }
    if (major === 6) throw new IwLimitError('form', `CBOR tag ${v}: no tags are used at the border`);
    if (depth >= limits.depth) throw new IwLimitError('depth', `nesting deeper than ${limits.depth}`);
    if (v > limits.container) throw new IwLimitError('container', `container of ${v} entries exceeds ${limits.container}`);
    const n = major === 5 ? v * 2 : v;
    for (let i = 0; i < n; i++) item(depth + 1);
  };
  item(0);
  if (pos !== buf.length) throw new IwLimitError('trailing', `${buf.length - pos} bytes after the CBOR item`);
}
