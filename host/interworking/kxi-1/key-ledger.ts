/**
 * Kxi1KeyLedger (Kxi-1 type 0x16; Y.3818 clause 6.1 "key synchronization"): when the digests of
 * a Kxi1KeySync differ, the GWNs exchange their ledgers of the Qx link's unused units below
 * `upTo` (unit index < upTo): each unit's ID and a 16-byte tag of its material (qx-ledger.ts:
 * SHA-256 over a domain label, the link, the unit ID and the unit's bytes, truncated), never the
 * material. `tags` holds the tags in the order of `units`. The request carries the sender's ledger,
 * the answer (with `re`) the receiver's, taken before it voids anything; each end then computes the
 * same comparison and voids its own diverging units.
 *
 *   { qx: id, upTo: uint, units: [uuid], tags: bytes(16 × units), re?: uint }
 */
import { IwDecodeError } from '../errors.js';
import { array, bytes, id, object, uint, uuid } from '../schema.js';
import { defineMessage } from '../spec.js';

/** Units in one ledger, at most (a ledger bounded so is a page: the window shrinks to fit). */
export const LEDGER_UNITS = 4096;
export const TAG_BYTES = 16;

export interface Kxi1KeyLedger {
  readonly qx: string;
  readonly upTo: number;
  readonly units: readonly string[];
  readonly tags: Uint8Array;
  readonly re?: number;
}

export const Kxi1KeyLedgerSpec = defineMessage<'Kxi1KeyLedger', Kxi1KeyLedger>({
  name: 'Kxi1KeyLedger',
  rp: 'Kxi-1',
  type: 0x16,
  answer: false,
  schema: object({ qx: id, upTo: uint(), units: array(uuid, 0, LEDGER_UNITS, true), tags: bytes(LEDGER_UNITS * TAG_BYTES) }, { re: uint() }),
  check: (m) => {
    if (m.tags.length !== m.units.length * TAG_BYTES) throw new IwDecodeError('Kxi1KeyLedger.tags', `must be ${TAG_BYTES} bytes per unit (${m.units.length} units)`);
  },
  bytes: ['tags'],
  freeText: [],
  example: { qx: 'qx-ab', upTo: 4096, units: ['11111111-2222-4333-8444-555555555555', '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a'], tags: new Uint8Array(32).fill(0x5a), re: 4 },
  vector: '8501160700a56271786571782d6162647570546f19100065756e69747382782431313131313131312d323232322d343333332d383434342d353535353535353535353535782433643263316230612d396638652d346437632d386236612d356634653364326331623061647461677358205a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a62726504',
});
