/**
 * CkTransferDecision (Ck type 0x51; Fig 12, second step): the controller IWF's answer to a
 * CkTransferRequirement. `ok`: the key resources between KM-A and KM-B are enough, with the
 * transfer link and the keys it determined; otherwise the interworking status (status.ts) and why.
 *
 *   { re: uint, transfer: uuid, ok: bool, link?: id, keys?: [uuid], status?: enum, reason?: text }
 */
import { array, bool, id, object, oneOf, text, uint, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';
import { STATUS_NAMES, type IwStatus } from '../status.js';
import { IwDecodeError } from '../errors.js';

export interface CkTransferDecision {
  readonly re: number;
  readonly transfer: string;
  readonly ok: boolean;
  readonly link?: string;
  readonly keys?: readonly string[];
  readonly status?: IwStatus;
  readonly reason?: string;
}

export const CkTransferDecisionSpec = defineMessage<'CkTransferDecision', CkTransferDecision>({
  name: 'CkTransferDecision',
  rp: 'Ck',
  type: 0x51,
  answer: true,
  schema: object({ re: uint(), transfer: uuid, ok: bool }, { link: id, keys: array(uuid, 1, LIMITS.keys), status: oneOf(STATUS_NAMES), reason: text(LIMITS.text) }),
  check: (m) => {
    if (m.ok !== (m.link !== undefined && m.keys !== undefined) || m.ok === (m.status !== undefined)) throw new IwDecodeError('CkTransferDecision.ok', 'ok carries link and keys, a refusal its status');
  },
  bytes: [],
  freeText: ['reason'],
  example: { re: 3, transfer: '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9', ok: true, link: 'kxi-ab', keys: ['0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'] },
  vector: '850118510700a562726503687472616e73666572782431663265336434632d356236612d343937382d383639352d613462336332643165306639626f6bf5646c696e6b666b78692d6162646b65797381782430613162326333642d346535662d346136622d386337642d396530663161326233633464',
});
