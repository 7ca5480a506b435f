/**
 * Kxi2KeySupplyNotification (Kxi-2 type 0x20; Y.3818 clause 7.1 key supply function): the KSA of
 * the master SAE's network (QKDN-A) tells the KSA of the slave SAEs' network (QKDN-B) which keys
 * it supplied to the master over ETSI GS QKD 014 (enc_keys), so that the slaves can fetch the same
 * keys by ID (dec_keys) from their own KME. Each key names the interworking relay (Kxi-1) that
 * carried it: the slave side accepts a key only if that relay delivered it there, which is how the
 * two KSAs synchronise and authenticate the keys they share across the border. Inside an IWN the
 * same message runs over Kxi-2'. Answered by Kxi2KeySupplyNotificationResponse.
 *
 *   { supply: uuid, master: sae, masterProvider: id, slaves: [sae], slaveProvider: id,
 *     size: uint (bits), keys: [{ id: uuid, relay: uuid }] }
 */
import { IwDecodeError } from '../errors.js';
import { array, id, object, sae, uint, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface SuppliedKey {
  readonly id: string;
  readonly relay: string;
}

export interface Kxi2KeySupplyNotification {
  readonly supply: string;
  readonly master: string;
  readonly masterProvider: string;
  readonly slaves: readonly string[];
  readonly slaveProvider: string;
  readonly size: number;
  readonly keys: readonly SuppliedKey[];
}

export const Kxi2KeySupplyNotificationSpec = defineMessage<'Kxi2KeySupplyNotification', Kxi2KeySupplyNotification>({
  name: 'Kxi2KeySupplyNotification',
  rp: 'Kxi-2',
  type: 0x20,
  answer: false,
  schema: object({
    supply: uuid,
    master: sae,
    masterProvider: id,
    slaves: array(sae, 1, LIMITS.saes, true),
    slaveProvider: id,
    size: uint(LIMITS.bits, 8),
    keys: array(object({ id: uuid, relay: uuid }), 1, LIMITS.keys),
  }),
  check: (m) => {
    if (m.size % 8 !== 0) throw new IwDecodeError('Kxi2KeySupplyNotification.size', 'must be a positive multiple of 8');
    if (m.masterProvider === m.slaveProvider) throw new IwDecodeError('Kxi2KeySupplyNotification.slaveProvider', 'must differ from masterProvider (Kxi-2 crosses a border)');
    if (m.slaves.includes(m.master)) throw new IwDecodeError('Kxi2KeySupplyNotification.slaves', 'must not include the master');
    const seen = new Set<string>();
    m.keys.forEach((k, i) => {
      if (seen.has(k.id)) throw new IwDecodeError(`Kxi2KeySupplyNotification.keys[${i}].id`, 'must be distinct');
      seen.add(k.id);
    });
  },
  bytes: [],
  freeText: [],
  example: {
    supply: '0b5e9c1d-2f3a-4b6c-8d7e-9f0a1b2c3d4e',
    master: 'alice',
    masterProvider: 'qkdn-a',
    slaves: ['bob'],
    slaveProvider: 'qkdn-b',
    size: 256,
    keys: [{ id: '11111111-2222-4333-8444-555555555555', relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a' }],
  },
  vector: '850118200700a766737570706c79782430623565396331642d326633612d346236632d386437652d396630613162326333643465666d617374657265616c6963656e6d617374657250726f766964657266716b646e2d6166736c617665738163626f626d736c61766550726f766964657266716b646e2d626473697a65190100646b65797381a2626964782431313131313131312d323232322d343333332d383434342d3535353535353535353535356572656c6179782433643263316230612d396638652d346437632d386236612d356634653364326331623061',
});
