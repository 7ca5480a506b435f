/**
 * Kxi1Ack (Kxi-1 type 0x13): the answer to Kxi1KeyRelay, Kxi1RelayCompletion and Kxi1Void.
 * `status` is a name from the status table (status.ts: `ok` or an ETSI GS QKD 020 error such as
 * `no_known_route`, `insufficient_key_material`, `invalid_routing`); `reason` is human text,
 * never key material; `high` the answerer's highest Qx unit index (a watermark for KeySync).
 *
 *   { re: uint, status: text, reason?: text, high?: uint }
 */
import { object, oneOf, text, uint } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';
import { STATUS_NAMES, type IwStatus } from '../status.js';

export interface Kxi1Ack {
  readonly re: number;
  readonly status: IwStatus;
  readonly reason?: string;
  readonly high?: number;
}

export const Kxi1AckSpec = defineMessage<'Kxi1Ack', Kxi1Ack>({
  name: 'Kxi1Ack',
  rp: 'Kxi-1',
  type: 0x13,
  answer: true,
  schema: object({ re: uint(), status: oneOf(STATUS_NAMES) }, { reason: text(LIMITS.text), high: uint() }),
  bytes: [],
  freeText: ['reason'],
  example: { re: 7, status: 'insufficient_key_material', reason: 'Qx stock below 64 bits', high: 4095 },
  vector: '8501130700a462726507667374617475737819696e73756666696369656e745f6b65795f6d6174657269616c66726561736f6e7651782073746f636b2062656c6f7720363420626974736468696768190fff',
});
