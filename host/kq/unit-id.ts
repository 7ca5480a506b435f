/**
 * Unit IDs on Kq. ETSI GS QKD 014 makes `key_ID` a UUID string. Keys of a QKD link get IDs that
 * both ends derive identically from the link ID and the unit's index ("keys pushed with IDs"), so
 * the two KMAs of a link name the same key the same way without exchanging IDs: a UUIDv8
 * (RFC 9562 section 5.8) whose 122 free bits are the first bits of SHA-256("qkdn-edge/kq/v1" ‖
 * link ID ‖ index).
 */
import { createHash } from 'node:crypto';

export function deriveUnitId(linkId: string, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`unit index ${index}: expected a non-negative integer`);
  const h = createHash('sha256').update('qkdn-edge/kq/v1\0').update(linkId).update('\0').update(String(index)).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8
  h[8] = (h[8]! & 0x3f) | 0x80; // variant 10
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
