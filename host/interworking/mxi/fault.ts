/**
 * MxiFault (Mxi type 0x40; Y.3818 clause 7.1 fault management function, clause 9.1 Fig 11 and
 * 9.2 Fig 14): XLMO-A tells XLMO-B of a fault that concerns interworking, as reported to it by a
 * layer manager (KMLM: relay or transfer failure; QLM: the Qx link; QCLM: a route). Carried sealed
 * (MxiSealed): the managers' traffic is encrypted end to end.
 *
 *   { fault: uuid, reporter: id, source: KMLM|QLM|QCLM|XLMO, kind: text enum, severity: enum,
 *     at: ms, relay?: uuid, qx?: id, detail?: text }
 */
import { id, object, oneOf, text, time, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';

export const LAYER_MANAGERS = ['KMLM', 'QLM', 'QCLM', 'XLMO'] as const;
export type LayerManager = (typeof LAYER_MANAGERS)[number];
export const FAULT_KINDS = ['relay_failure', 'transfer_failure', 'border_link_down', 'key_sync_mismatch', 'peer_unreachable', 'auth_failure'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface MxiFault {
  readonly fault: string;
  readonly reporter: string;
  readonly source: LayerManager;
  readonly kind: FaultKind;
  readonly severity: Severity;
  readonly at: number;
  readonly relay?: string;
  readonly qx?: string;
  readonly detail?: string;
}

export const MxiFaultSpec = defineMessage<'MxiFault', MxiFault>({
  name: 'MxiFault',
  rp: 'Mxi',
  type: 0x40,
  answer: false,
  schema: object(
    { fault: uuid, reporter: id, source: oneOf(LAYER_MANAGERS), kind: oneOf(FAULT_KINDS), severity: oneOf(SEVERITIES), at: time },
    { relay: uuid, qx: id, detail: text(LIMITS.text) },
  ),
  bytes: [],
  freeText: ['detail'],
  example: {
    fault: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
    reporter: 'xlmo-a',
    source: 'KMLM',
    kind: 'relay_failure',
    severity: 'major',
    at: 1_800_000_000_000,
    relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a',
    qx: 'qx-ab',
    detail: 'no Kxi1Ack before the deadline',
  },
  vector: '850118400700a9656661756c74782439613862376336642d356534662d346133622d396332642d316530663961386237633664687265706f7274657266786c6d6f2d6166736f75726365644b4d4c4d646b696e646d72656c61795f6661696c757265687365766572697479656d616a6f726261741b000001a3185c50006572656c6179782433643263316230612d396638652d346437632d386236612d3566346533643263316230616271786571782d61626664657461696c781e6e6f204b78693141636b206265666f72652074686520646561646c696e65',
});
