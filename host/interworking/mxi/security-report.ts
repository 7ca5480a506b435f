/**
 * MxiSecurityReport (Mxi type 0x44; Y.3818 clause 7.1 security management function, clause 9.1
 * Fig 11): security-relevant events of every layer over [from, to), counted, packed by the XLMO
 * and sent sealed to the peer's XLMO: refused border peers (pinning), refused outgoing border
 * messages (the border filter), authentication failures, replays, tamper events, QBER alarms.
 *
 *   { report: uuid, reporter: id, from: ms, to: ms,
 *     events: [{ layer, kind: enum, count: uint, last: ms }] }
 */
import { IwDecodeError } from '../errors.js';
import { array, id, object, oneOf, time, uint, uuid } from '../schema.js';
import { defineMessage } from '../spec.js';
import { LAYERS, type Layer } from './performance-bundle.js';

export const SECURITY_EVENTS = ['pin_mismatch', 'border_refusal', 'auth_failure', 'replay', 'tamper', 'qber_alarm', 'decode_error'] as const;
export type SecurityEventKind = (typeof SECURITY_EVENTS)[number];

export interface MxiSecurityReport {
  readonly report: string;
  readonly reporter: string;
  readonly from: number;
  readonly to: number;
  readonly events: readonly { readonly layer: Layer; readonly kind: SecurityEventKind; readonly count: number; readonly last: number }[];
}

export const MxiSecurityReportSpec = defineMessage<'MxiSecurityReport', MxiSecurityReport>({
  name: 'MxiSecurityReport',
  rp: 'Mxi',
  type: 0x44,
  answer: false,
  schema: object({
    report: uuid,
    reporter: id,
    from: time,
    to: time,
    events: array(object({ layer: oneOf(LAYERS), kind: oneOf(SECURITY_EVENTS), count: uint(), last: time }), 0, 256),
  }),
  check: (m) => {
    if (m.to <= m.from) throw new IwDecodeError('MxiSecurityReport.to', 'must be after from');
  },
  bytes: [],
  freeText: [],
  example: {
    report: '2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7a8b',
    reporter: 'xlmo-a',
    from: 1_800_000_000_000,
    to: 1_800_000_060_000,
    events: [{ layer: 'KML', kind: 'pin_mismatch', count: 2, last: 1_800_000_042_000 }],
  },
  vector: '850118440700a5667265706f7274782432613362346335642d366537662d343038312d396132622d336334643565366637613862687265706f7274657266786c6d6f2d616466726f6d1b000001a3185c500062746f1b000001a3185d3a60666576656e747381a4656c61796572634b4d4c646b696e646c70696e5f6d69736d6174636865636f756e7402646c6173741b000001a3185cf410',
});
