/**
 * Kxi1Void (Kxi-1 type 0x15; ETSI GS QKD 020 ext_keys/void): keys of an interworking relay are
 * to be discarded on the far side and never delivered (the relay was abandoned, rerouted, or the
 * master side lost them). Either `keys` names them, or `all` is true and every key of the relay
 * goes (ETSI 020's all_confirmation rule: no implicit "everything"). Answered by Kxi1Ack; the far
 * side then reports `voided` (or `failed` if a key was already delivered) in Kxi1RelayCompletion.
 *
 *   { relay: uuid, initiator: sae, targets: [sae], keys?: [uuid], all?: bool }
 */
import { IwDecodeError } from '../errors.js';
import { array, bool, object, sae, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface Kxi1Void {
  readonly relay: string;
  readonly initiator: string;
  readonly targets: readonly string[];
  readonly keys?: readonly string[];
  readonly all?: boolean;
}

export const Kxi1VoidSpec = defineMessage<'Kxi1Void', Kxi1Void>({
  name: 'Kxi1Void',
  rp: 'Kxi-1',
  type: 0x15,
  answer: false,
  schema: object({ relay: uuid, initiator: sae, targets: array(sae, 1, LIMITS.saes, true) }, { keys: array(uuid, 1, LIMITS.keys, true), all: bool }),
  check: (m) => {
    if ((m.keys === undefined) === (m.all !== true)) throw new IwDecodeError('Kxi1Void', 'needs either keys or all: true (not both)');
  },
  bytes: [],
  freeText: [],
  example: { relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', initiator: 'alice', targets: ['bob'], keys: ['11111111-2222-4333-8444-555555555555'] },
  vector: '8501150700a46572656c6179782433643263316230612d396638652d346437632d386236612d35663465336432633162306169696e69746961746f7265616c69636567746172676574738163626f62646b65797381782431313131313131312d323232322d343333332d383434342d353535353535353535353535',
});
