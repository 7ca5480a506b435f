/**
 * KmReport (type 16, Ck, KM → controller): a KM's state and, for each of its links, the key it
 * holds and how fast it is being used. Sent periodically (it is also the KM's heartbeat: a KM not
 * heard from is lost) and on change.
 *
 *   { node: id, boot: text, seq: uint, links: [{ link: id, peer: id, stock_bits: uint, consumption_bps: number }] }
 */
import { body, id, text, uint } from '../../km/kx/fields.js';
import { CONTROL_LIMITS, real, records } from '../fields.js';
import type { ControlMessageSpec } from '../wire.js';

export interface KmLinkReport {
  readonly link: string;
  readonly peer: string;
  readonly stockBits: number;
  readonly consumptionBps: number;
}

export interface KmReport {
  readonly node: string;
  readonly boot: string;
  readonly seq: number;
  readonly links: readonly KmLinkReport[];
}

export const KmReportSpec: ControlMessageSpec<'KmReport', KmReport> = {
  name: 'KmReport',
  type: 16,
  answer: false,
  encode: (m) => ({
    node: m.node,
    boot: m.boot,
    seq: m.seq,
    links: m.links.map((l) => ({ link: l.link, peer: l.peer, stock_bits: l.stockBits, consumption_bps: l.consumptionBps })),
  }),
  decode(v) {
    const M = 'KmReport';
    const b = body(v, M);
    return {
      node: id(b, M, 'node'),
      boot: text(b, M, 'boot', CONTROL_LIMITS.bootId),
      seq: uint(b, M, 'seq'),
      links: records(b, M, 'links', CONTROL_LIMITS.nodeLinks, (r, n) => ({
        link: id(r, n, 'link'),
        peer: id(r, n, 'peer'),
        stockBits: uint(r, n, 'stock_bits'),
        consumptionBps: real(r, n, 'consumption_bps', 0, CONTROL_LIMITS.rate),
      })),
    };
  },
  example: { node: 'B', boot: '6f1c', seq: 42, links: [{ link: 'A~B', peer: 'A', stockBits: 65536, consumptionBps: 1500.5 }] },
  vector:
    '8501100700a4646e6f6465614264626f6f74643666316363736571182a656c696e6b7381a4646c696e6b63417e42647065657261416a73746f636b5f626974731a000100006f636f6e73756d7074696f6e5f627073fb4097720000000000',
};
