/**
 * Kxi1RelayCompletion (Kxi-1 type 0x14; Y.3818 clause 7.1 session control function): GWN-B tells
 * GWN-A how an interworking relay ended for one target SAE, in the terms of ETSI GS QKD 020's
 * acknowledgement container (`ack_status`: relayed, voided, failed, key not present). GWN-A passes
 * it on to the source KM so that the master SAE's keys become deliverable only once the slave
 * side holds them. Answered by Kxi1Ack.
 *
 *   { relay: uuid, target: sae, outcome: relayed|voided|failed|key_not_present, keys: [uuid], message?: text }
 */
import { array, object, oneOf, sae, text, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';
import { RELAY_OUTCOMES, type RelayOutcome } from '../status.js';

export interface Kxi1RelayCompletion {
  readonly relay: string;
  readonly target: string;
  readonly outcome: RelayOutcome;
  readonly keys: readonly string[];
  readonly message?: string;
}

export const Kxi1RelayCompletionSpec = defineMessage<'Kxi1RelayCompletion', Kxi1RelayCompletion>({
  name: 'Kxi1RelayCompletion',
  rp: 'Kxi-1',
  type: 0x14,
  answer: false,
  schema: object({ relay: uuid, target: sae, outcome: oneOf(RELAY_OUTCOMES), keys: array(uuid, 1, LIMITS.keys, true) }, { message: text(LIMITS.text) }),
  bytes: [],
  freeText: ['message'],
  example: { relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', target: 'bob', outcome: 'relayed', keys: ['11111111-2222-4333-8444-555555555555'] },
  vector: '8501140700a46572656c6179782433643263316230612d396638652d346437632d386236612d3566346533643263316230616674617267657463626f62676f7574636f6d656772656c61796564646b65797381782431313131313131312d323232322d343333332d383434342d353535353535353535353535',
});
