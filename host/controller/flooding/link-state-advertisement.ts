/**
 * LinkStateAdvertisement (type 48, node ↔ node, distributed form): one node's links as it sees
 * them, flooded to every node. `seq` grows with every advertisement the origin makes (it starts
 * from the origin's clock at boot, so a restarted node's advertisements supersede its old ones);
 * `age` is milliseconds since the origin made it, raised by every node that passes it on; `sig`
 * is the origin's ECDSA P-256 signature (the key of its node certificate) over
 * signedBytes(): everything but `age` and `sig`, so forwarding nodes can age it but not alter it.
 *
 *   { origin: id, seq: uint, age: uint, links: [{ link: id, peer: id, status: text, skr: number,
 *     eskr: number, qber: number, qber_alarm: bool, stock_bits: uint, consumption_bps: number }],
 *     sig: bytes }
 */
import { body, bytes, id, uint } from '../../km/kx/fields.js';
import { CONTROL_LIMITS, physFields, physState, real, records } from '../fields.js';
import type { LinkPhysState } from '../view.js';
import { cbor, type ControlMessageSpec } from '../wire.js';

export interface AdvertisedLink extends LinkPhysState {
  readonly link: string;
  readonly peer: string;
  readonly stockBits: number;
  readonly consumptionBps: number;
}

export interface LinkStateAdvertisement {
  readonly origin: string;
  readonly seq: number;
  readonly age: number;
  readonly links: readonly AdvertisedLink[];
  readonly sig: Uint8Array;
}

const linkMap = (l: AdvertisedLink) => ({
  link: l.link,
  peer: l.peer,
  ...physFields(l),
  stock_bits: l.stockBits,
  consumption_bps: l.consumptionBps,
});

/** The bytes the origin signs: [origin, seq, links] in canonical CBOR. */
export function signedBytes(a: Pick<LinkStateAdvertisement, 'origin' | 'seq' | 'links'>): Buffer {
  return cbor(['qkdn-lsa-v1', a.origin, a.seq, a.links.map(linkMap)]);
}

export const LinkStateAdvertisementSpec: ControlMessageSpec<'LinkStateAdvertisement', LinkStateAdvertisement> = {
  name: 'LinkStateAdvertisement',
  type: 48,
  answer: false,
  encode: (m) => ({ origin: m.origin, seq: m.seq, age: m.age, links: m.links.map(linkMap), sig: m.sig }),
  decode(v) {
    const M = 'LinkStateAdvertisement';
    const b = body(v, M);
    return {
      origin: id(b, M, 'origin'),
      seq: uint(b, M, 'seq'),
      age: uint(b, M, 'age'),
      links: records(b, M, 'links', CONTROL_LIMITS.nodeLinks, (r, n) => ({
        link: id(r, n, 'link'),
        peer: id(r, n, 'peer'),
        ...physState(r, n),
        stockBits: uint(r, n, 'stock_bits'),
        consumptionBps: real(r, n, 'consumption_bps', 0, CONTROL_LIMITS.rate),
      })),
      sig: bytes(b, M, 'sig', CONTROL_LIMITS.signature),
    };
  },
  example: {
    origin: 'B',
    seq: 1796000000001,
    age: 250,
    links: [{ link: 'A~B', peer: 'A', status: 'ACTIVE', skr: 12500.25, eskr: 12000, qber: 0.031, qberAlarm: false, stockBits: 65536, consumptionBps: 256 }],
    sig: Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
  },
  vector:
    '850118300700a5666f726967696e614263736571fb427a229f128010006361676518fa656c696e6b7381a9646c696e6b63417e4264706565726141667374617475736641435449564563736b72fb40c86a20000000006465736b72192ee06471626572fb3f9fbe76c8b439586a716265725f616c61726df46a73746f636b5f626974731a000100006f636f6e73756d7074696f6e5f62707319010063736967483006020101020101',
};
