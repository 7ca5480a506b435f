/**
 * CkKmStatus (Ck type 0x52; Y.3818 clause 9.2 Fig 13, collection): the KM of an interworking
 * node tells its own network's controller IWF, outside the IWN, what the controller would read
 * from the KM in the IWN: whether the transfer link to the other KM (Kxi-1') is up and its stock
 * towards the KM serving each shared SAE. Sent every status interval and on change; `seq` grows
 * per sender and a receiver keeps only the newest.
 *
 *   { km: id, seq: uint, at: ms, transferLinkUp: bool, saes: [{ sae, stock: uint (units) }] }
 */
import { array, bool, id, object, sae, time, uint } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface CkKmStatus {
  readonly km: string;
  readonly seq: number;
  readonly at: number;
  readonly transferLinkUp: boolean;
  readonly saes: readonly { readonly sae: string; readonly stock: number }[];
}

export const CkKmStatusSpec = defineMessage<'CkKmStatus', CkKmStatus>({
  name: 'CkKmStatus',
  rp: 'Ck',
  type: 0x52,
  answer: false,
  schema: object({ km: id, seq: uint(), at: time, transferLinkUp: bool, saes: array(object({ sae, stock: uint() }), 0, LIMITS.entries) }),
  bytes: [],
  freeText: [],
  example: { km: 'iwn-a', seq: 12, at: 1_800_000_000_000, transferLinkUp: true, saes: [{ sae: 'alice', stock: 380 }] },
  vector: '850118520700a5626b6d6569776e2d61637365710c6261741b000001a3185c50006e7472616e736665724c696e6b5570f5647361657381a26373616565616c6963656573746f636b19017c',
});
