/**
 * Kxi1KeySync (Kxi-1 type 0x12; Y.3818 clause 6.1 "key synchronization"): the two GWNs compare
 * what they hold of the Qx link's units, periodically and before either relies on another unit as
 * a pad. `high` is the highest unit index the sender has received from its QKD module, `available`
 * how many of its units are unused, and `digest` the digest of its ledger of the unused units
 * with an index below `upTo` (both ends' window: below both highs the sender knows): SHA-256 over
 * each unit's ID and a tag of its material (qx-ledger.ts), never the material itself. The answer
 * (a Kxi1KeySync with `re`) gives the receiver's digest over the same window; equal digests mean
 * both ends hold the same units with the same bytes. On a difference the ledgers are compared
 * (Kxi1KeyLedger) and the diverging units voided at both ends.
 *
 *   { qx: id, high: uint, available: uint, upTo: uint, digest: bytes(32), re?: uint }
 */
import { IwDecodeError } from '../errors.js';
import { bytes, id, object, uint } from '../schema.js';
import { defineMessage } from '../spec.js';

export interface Kxi1KeySync {
  readonly qx: string;
  readonly high: number;
  readonly available: number;
  readonly upTo: number;
  readonly digest: Uint8Array;
  readonly re?: number;
}

export const Kxi1KeySyncSpec = defineMessage<'Kxi1KeySync', Kxi1KeySync>({
  name: 'Kxi1KeySync',
  rp: 'Kxi-1',
  type: 0x12,
  answer: false,
  schema: object({ qx: id, high: uint(), available: uint(), upTo: uint(), digest: bytes(32) }, { re: uint() }),
  check: (m) => {
    if (m.digest.length !== 32) throw new IwDecodeError('Kxi1KeySync.digest', 'must be 32 bytes (SHA-256)');
  },
  bytes: ['digest'],
  freeText: [],
  example: { qx: 'qx-ab', high: 4095, available: 1200, upTo: 4000, digest: new Uint8Array(32).fill(0xab), re: 3 },
  vector: '8501120700a66271786571782d61626468696768190fff69617661696c61626c651904b0647570546f190fa0666469676573745820abababababababababababababababababababababababababababababababab62726503',
});
