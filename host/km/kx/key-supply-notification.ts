/**
 * KeySupplyNotification (type 18; ITU-T Q.4163 clause 8.3, key supply notification): the master
 * SAE's KM tells the slave SAE's KM which keys it is about to supply to the master SAE, so that the
 * slave KM reserves them for the slave SAE(s) before the master gets them (ETSI GS QKD 014: the
 * slave's dec_keys must always find a key the master has). Each key is made of one or more units of
 * the pool the two KMs share (a link pool, or the relay pool filled by an earlier key relay),
 * concatenated and cut to `size` bits; its key_ID is its first unit's ID. Answered by
 * KeySupplyNotificationResponse.
 *
 *   { supply: uuid, origin: "link"|"relay", master: id, slaves: [id], size: uint (bits),
 *     keys: [{ id: uuid, units: [uuid] }] }
 */
import { array, body, defined, id, ids, keyId, keyIds, oneOf, uint } from './fields.js';
import { KxDecodeError } from './errors.js';
import { LIMITS, type KxMessageSpec } from './spec.js';

export interface SuppliedKey {
  /** key_ID: equal to units[0]. */
  readonly id: string;
  readonly units: readonly string[];
}

export interface KeySupplyNotification {
  readonly supply: string;
  readonly origin: 'link' | 'relay';
  readonly master: string;
  readonly slaves: readonly string[];
  readonly size: number;
  readonly keys: readonly SuppliedKey[];
}

export const KeySupplyNotificationSpec: KxMessageSpec<'KeySupplyNotification', KeySupplyNotification> = {
  name: 'KeySupplyNotification',
  type: 18,
  answer: false,
  encode: (m) =>
    defined({ supply: m.supply, origin: m.origin, master: m.master, slaves: [...m.slaves], size: m.size, keys: m.keys.map((k) => ({ id: k.id, units: [...k.units] })) }),
  decode(v) {
    const M = 'KeySupplyNotification';
    const b = body(v, M);
    let total = 0;
    const keys = array(b, M, 'keys', 1, LIMITS.units).map((x, i) => {
      const k = body(x, `${M}.keys[${i}]`);
      const units = keyIds(k, `${M}.keys[${i}]`, 'units', 1, LIMITS.units);
      const kid = keyId(k, `${M}.keys[${i}]`, 'id');
      if (kid !== units[0]) throw new KxDecodeError(`${M}.keys[${i}].id`, 'the ID of the first unit');
      total += units.length;
      if (total > LIMITS.units) throw new KxDecodeError(`${M}.keys`, `at most ${LIMITS.units} units in all`);
      return { id: kid, units };
    });
    const size = uint(b, M, 'size', 1 << 20);
    if (size === 0 || size % 8 !== 0) throw new KxDecodeError(`${M}.size`, 'a positive multiple of 8');
    return { supply: keyId(b, M, 'supply'), origin: oneOf(b, M, 'origin', ['link', 'relay'] as const), master: id(b, M, 'master'), slaves: ids(b, M, 'slaves', 1, LIMITS.slaves), size, keys };
  },
  example: {
    supply: '0b5e9c1d-2f3a-4b6c-8d7e-9f0a1b2c3d4e',
    origin: 'link',
    master: 'sae-alice',
    slaves: ['sae-bob'],
    size: 256,
    keys: [{ id: '8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a', units: ['8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a'] }],
  },
  vector: '84011207a666737570706c79782430623565396331642d326633612d346236632d386437652d396630613162326333643465666f726967696e646c696e6b666d6173746572697361652d616c69636566736c6176657381677361652d626f626473697a65190100646b65797381a2626964782438633064366130652d356631622d386132632d623364342d65356636303731383239336165756e69747381782438633064366130652d356631622d386132632d623364342d653566363037313832393361',
};
