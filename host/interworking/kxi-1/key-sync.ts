/**
 * Kxi1KeySync (Kxi-1 type 0x12; Y.3818 clause 6.1 "key synchronization"): the two GWNs compare
 * what they hold of the Qx link's units, after a restart (new `boot` in Kxi1Hello) or a failed
 * relay, before either uses another unit as a pad. `high` is the highest unit index the sender
 * has received from its QKD module, `available` how many of its units are unused, and `digest`
 * the SHA-256 of the sorted IDs of those unused units: equal digests mean both ends would pick
 * the same pads; on a mismatch both drop the units the other lacks. Unit IDs are public (they are
 * derived from the link ID and index), so the digest reveals nothing of the key material. The
 * answer is a Kxi1KeySync with `re`.
 *
 *   { qx: id, high: uint, available: uint, digest: bytes(32), re?: uint }
 */
import { createHash } from 'node:crypto';
import { IwDecodeError } from '../errors.js';
import { bytes, id, object, uint } from '../schema.js';
import { defineMessage } from '../spec.js';

export interface Kxi1KeySync {
  readonly qx: string;
  readonly high: number;
  readonly available: number;
  readonly digest: Uint8Array;
  readonly re?: number;
}

export const Kxi1KeySyncSpec = defineMessage<'Kxi1KeySync', Kxi1KeySync>({
  name: 'Kxi1KeySync',
  rp: 'Kxi-1',
  type: 0x12,
  answer: false,
  schema: object({ qx: id, high: uint(), available: uint(), digest: bytes(32) }, { re: uint() }),
  check: (m) => {
    if (m.digest.length !== 32) throw new IwDecodeError('Kxi1KeySync.digest', 'must be 32 bytes (SHA-256)');
  },
  bytes: ['digest'],
  freeText: [],
  example: { qx: 'qx-ab', high: 4095, available: 1200, digest: new Uint8Array(32).fill(0xab), re: 3 },
  vector: '8501120700a56271786571782d61626468696768190fff69617661696c61626c651904b0666469676573745820abababababababababababababababababababababababababababababababab62726503',
});

/** The `digest` of a set of unused Qx unit IDs: SHA-256 over the IDs sorted and joined by newlines. */
export function qxUnitDigest(unitIds: Iterable<string>): Uint8Array {
  return new Uint8Array(createHash('sha256').update([...unitIds].sort().join('\n')).digest());
}
