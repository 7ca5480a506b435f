/**
 * CkTransferRequirement (Ck type 0x50; Y.3818 clause 9.2 Fig 12, first step): the KM IWF of an
 * interworking node's KM hands an interworking key transfer requirement to its own network's
 * controller IWF when that controller runs outside the IWN (the unprimed case: the controllers
 * joined by Cxi, not Cxi'). Answered by CkTransferDecision. Runs inside one provider (its CA on
 * both ends), never across a border.
 *
 *   { transfer: uuid, master: sae, slaves: [sae], size: uint (bits), keys: [uuid], units: uint }
 */
import { array, object, sae, uint, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface CkTransferRequirement {
  readonly transfer: string;
  readonly master: string;
  readonly slaves: readonly string[];
  readonly size: number;
  readonly keys: readonly string[];
  readonly units: number;
}

export const CkTransferRequirementSpec = defineMessage<'CkTransferRequirement', CkTransferRequirement>({
  name: 'CkTransferRequirement',
  rp: 'Ck',
  type: 0x50,
  answer: false,
  schema: object({ transfer: uuid, master: sae, slaves: array(sae, 1, LIMITS.saes), size: uint(LIMITS.bits, 1), keys: array(uuid, 1, LIMITS.keys), units: uint(LIMITS.keys * 256, 1) }),
  bytes: [],
  freeText: [],
  example: { transfer: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', master: 'alice', slaves: ['bob'], size: 256, keys: ['0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'], units: 1 },
  vector: '850118500700a6687472616e73666572782431663265336434632d356236612d343937382d383639352d613462336332643165306639666d617374657265616c69636566736c617665738163626f626473697a65190100646b65797381782430613162326333642d346535662d346136622d386337642d39653066316132623363346465756e69747301',
});
