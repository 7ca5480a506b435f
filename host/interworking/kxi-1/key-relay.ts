/**
 * Kxi1KeyRelay (Kxi-1 type 0x11; Y.3818 clause 7.1 key relay function, clause 9.1 Fig 9): the
 * border hop of an interworking key relay, GWN-A → GWN-B (inside an IWN, Kxi-1': KM-A → KM-B,
 * the key transfer function of clause 7.2).
 *
 * The keys reached GWN-A over its own network's Kx relay. GWN-A one-time-pads them with `pads`,
 * fresh units of the Qx link `qx` the two gateways share, and sends the XOR as `ct`; GWN-B XORs
 * with its copy of the same units and carries the keys on inside its own network to the KM of the
 * target SAE. Both ends consume the pads whatever happens next, so a pad is never used twice.
 * Nothing else secret crosses: no internal route (each provider routes its own segment), only the
 * relay's ID, the SAEs it serves and the key IDs. The answer is a Kxi1Ack (status table in
 * status.ts) as soon as GWN-B has durably taken the keys over; the end result follows as
 * Kxi1RelayCompletion (ETSI GS QKD 020 ext_keys/ack).
 *
 *   { relay: uuid, qx: id, initiator: sae, targets: [sae], keys: [uuid], bits: uint,
 *     pads: [uuid], ct: bytes, deadline: ms, attempt: uint }
 */
import { IwDecodeError } from '../errors.js';
import { array, bytes, id, object, sae, time, uint, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export interface Kxi1KeyRelay {
  readonly relay: string;
  readonly qx: string;
  readonly initiator: string;
  readonly targets: readonly string[];
  readonly keys: readonly string[];
  readonly bits: number;
  readonly pads: readonly string[];
  readonly ct: Uint8Array;
  readonly deadline: number;
  readonly attempt: number;
}

export const Kxi1KeyRelaySpec = defineMessage<'Kxi1KeyRelay', Kxi1KeyRelay>({
  name: 'Kxi1KeyRelay',
  rp: 'Kxi-1',
  type: 0x11,
  answer: false,
  schema: object({
    relay: uuid,
    qx: id,
    initiator: sae,
    targets: array(sae, 1, LIMITS.saes, true),
    keys: array(uuid, 1, LIMITS.keys, true),
    bits: uint(LIMITS.bits, 8),
    pads: array(uuid, 1, LIMITS.pads, true),
    ct: bytes(LIMITS.ciphertext),
    deadline: time,
    attempt: uint(255),
  }),
  check: (m) => {
    if (m.bits % 8 !== 0) throw new IwDecodeError('Kxi1KeyRelay.bits', 'must be a positive multiple of 8');
    const want = (m.keys.length * m.bits) / 8;
    if (m.ct.length !== want) throw new IwDecodeError('Kxi1KeyRelay.ct', `must be ${want} bytes (keys × bits / 8)`);
    if (m.targets.includes(m.initiator)) throw new IwDecodeError('Kxi1KeyRelay.targets', 'must not include the initiator');
  },
  bytes: ['ct'],
  freeText: [],
  example: {
    relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a',
    qx: 'qx-ab',
    initiator: 'alice',
    targets: ['bob'],
    keys: ['11111111-2222-4333-8444-555555555555'],
    bits: 64,
    pads: ['8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a'],
    ct: Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67]),
    deadline: 1_800_000_000_000,
    attempt: 0,
  },
  vector: '8501110700aa6572656c6179782433643263316230612d396638652d346437632d386236612d3566346533643263316230616271786571782d616269696e69746961746f7265616c69636567746172676574738163626f62646b65797381782431313131313131312d323232322d343333332d383434342d35353535353535353535353564626974731840647061647381782438633064366130652d356631622d386132632d623364342d65356636303731383239336162637448deadbeef0123456768646561646c696e651b000001a3185c500067617474656d707400',
});
