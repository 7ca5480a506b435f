/**
 * LinkReport (type 32, Cq, QKD module → controller through its node): a link's state in the terms
 * of ETSI GS QKD 015: status (ACTIVE, PASSIVE, PENDING, OFF), secret key rate `skr` and expected
 * secret key rate `eskr` in bit/s, QBER, and whether the QBER alarm is raised.
 *
 *   { link: id, node: id, status: text, skr: number, eskr: number, qber: number, qber_alarm: bool }
 */
import { body, id } from '../../km/kx/fields.js';
import { physFields, physState } from '../fields.js';
import type { LinkPhysState } from '../view.js';
import type { ControlMessageSpec } from '../wire.js';

export interface LinkReport extends LinkPhysState {
  readonly link: string;
  /** The node whose module reports. */
  readonly node: string;
}

export const LinkReportSpec: ControlMessageSpec<'LinkReport', LinkReport> = {
  name: 'LinkReport',
  type: 32,
  answer: false,
  encode: (m) => ({ link: m.link, node: m.node, ...physFields(m) }),
  decode(v) {
    const M = 'LinkReport';
    const b = body(v, M);
    return { link: id(b, M, 'link'), node: id(b, M, 'node'), ...physState(b, M) };
  },
  example: { link: 'A~B', node: 'A', status: 'ACTIVE', skr: 12500.25, eskr: 12000, qber: 0.031, qberAlarm: false },
  vector:
    '850118200700a7646c696e6b63417e42646e6f64656141667374617475736641435449564563736b72fb40c86a20000000006465736b72192ee06471626572fb3f9fbe76c8b439586a716265725f616c61726df4',
};
