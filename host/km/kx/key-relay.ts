/**
 * KeyRelay (type 16; ITU-T Q.4163 clause 8.1, key relay): one hop of a hop-by-hop one-time-pad
 * relay of keys from `route[0]` (source KM) to the last node of `route` (destination KM).
 *
 * Sent by route[hop] to route[hop + 1]. On the first hop (hop = 0) the relayed key material is
 * `units` of the link the two share, which the receiver already holds: nothing secret travels. On
 * every later hop the sender XORs the material with `pads`, fresh units of the link it shares with
 * the receiver, and sends the result as `ct`; the receiver XORs again with its copy of the pads.
 * Both ends consume the pads whatever happens next. Each relayed key gets the ID `keys[i]` in the
 * relay pools of source and destination and is `bits` long; the material is keys.length × bits
 * bits. The receiver acknowledges with a Response as soon as it has durably taken the hop over
 * (per-hop acknowledgement); the destination then sends KeyRelayCompletionNotification to the
 * source.
 *
 * A first hop may instead carry `pads` and `ct` like a later one: keys that came from outside this
 * network (an interworking node's KM handing over keys transferred from the other network,
 * Y.3818 clause 9.2) have no link unit of their own here, so they are padded on their first hop.
 *
 *   { relay: uuid, route: [id], hop: uint, keys: [uuid], bits: uint,
 *     units?: [uuid] (hop 0), pads?: [uuid] and ct?: bytes (hop > 0) }
 */
import { body, bytes, defined, ids, keyId, keyIds, optKeyIds, uint } from './fields.js';
import { KxDecodeError } from './errors.js';
import { LIMITS, type KxMessageSpec } from './spec.js';

export interface KeyRelay {
  readonly relay: string;
  readonly route: readonly string[];
  readonly hop: number;
  readonly keys: readonly string[];
  readonly bits: number;
  readonly units?: readonly string[];
  readonly pads?: readonly string[];
  readonly ct?: Uint8Array;
}

export const KeyRelaySpec: KxMessageSpec<'KeyRelay', KeyRelay> = {
  name: 'KeyRelay',
  type: 16,
  answer: false,
  encode: (m) =>
    defined({
      relay: m.relay,
      route: [...m.route],
      hop: m.hop,
      keys: [...m.keys],
      bits: m.bits,
      units: m.units ? [...m.units] : undefined,
      pads: m.pads ? [...m.pads] : undefined,
      ct: m.ct,
    }),
  decode(v) {
    const M = 'KeyRelay';
    const b = body(v, M);
    const route = ids(b, M, 'route', 2, LIMITS.route);
    if (new Set(route).size !== route.length) throw new KxDecodeError(`${M}.route`, 'distinct nodes (no loop)');
    const hop = uint(b, M, 'hop', route.length - 2);
    const keys = keyIds(b, M, 'keys', 1, LIMITS.units);
    const bits = uint(b, M, 'bits', 1 << 16);
    if (bits === 0 || bits % 8 !== 0) throw new KxDecodeError(`${M}.bits`, 'a positive multiple of 8');
    const units = optKeyIds(b, M, 'units', 1, LIMITS.units);
    const pads = optKeyIds(b, M, 'pads', 1, LIMITS.units);
    const ct = b.ct === undefined ? undefined : bytes(b, M, 'ct', LIMITS.ciphertext);
    if (hop === 0 && units) {
      if (pads || ct) throw new KxDecodeError(M, 'units (and no pads or ct) on the first hop');
    } else if (hop === 0 && !pads) {
      throw new KxDecodeError(M, 'units, or pads and ct (keys handed over from another network), on the first hop');
    } else {
      if (units || !pads || !ct) throw new KxDecodeError(M, 'pads and ct (and no units) after the first hop');
      if (ct.length !== (keys.length * bits) / 8) throw new KxDecodeError(`${M}.ct`, `${(keys.length * bits) / 8} bytes (keys × bits / 8)`);
    }
    return { relay: keyId(b, M, 'relay'), route, hop, keys, bits, ...(units ? { units } : {}), ...(pads ? { pads, ct: ct! } : {}) };
  },
  example: {
    relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a',
    route: ['A', 'B', 'C'],
    hop: 1,
    keys: ['11111111-2222-4333-8444-555555555555'],
    bits: 64,
    pads: ['8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a'],
    ct: Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67]),
  },
  vector: '84011007a76572656c6179782433643263316230612d396638652d346437632d386236612d35663465336432633162306165726f7574658361416142614363686f7001646b65797381782431313131313131312d323232322d343333332d383434342d35353535353535353535353564626974731840647061647381782438633064366130652d356631622d386132632d623364342d65356636303731383239336162637448deadbeef01234567',
};
