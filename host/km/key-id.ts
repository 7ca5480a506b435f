/**
 * Key IDs. ETSI GS QKD 014 makes `key_ID` a UUID string. Keys of a QKD link get IDs derived from
 * the link ID and the unit's index (host/kq/unit-id.ts); relayed keys get a random UUIDv4 chosen
 * by the relay's source.
 */
import { randomUUID } from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isKeyId(s: unknown): s is string {
  return typeof s === 'string' && UUID_RE.test(s);
}

export function newKeyId(): string {
  return randomUUID();
}
