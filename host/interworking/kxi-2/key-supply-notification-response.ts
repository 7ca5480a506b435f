/**
 * Kxi2KeySupplyNotificationResponse (Kxi-2 type 0x21): the slave side's KSA answers a
 * Kxi2KeySupplyNotification. `ok` means every key is held for the slaves (and `accepted` lists
 * them); otherwise a status from status.ts (e.g. `key_not_present` when a named relay has not
 * delivered, `unauthorized` when a slave SAE is not shared with the master's provider) and no key
 * of the supply becomes deliverable.
 *
 *   { re: uint, supply: uuid, status: text, accepted?: [uuid], reason?: text }
 */
import { array, object, oneOf, text, uint, uuid } from '../schema.js';
import { defineMessage, LIMITS } from '../spec.js';
import { STATUS_NAMES, type IwStatus } from '../status.js';

export interface Kxi2KeySupplyNotificationResponse {
  readonly re: number;
  readonly supply: string;
  readonly status: IwStatus;
  readonly accepted?: readonly string[];
  readonly reason?: string;
}

export const Kxi2KeySupplyNotificationResponseSpec = defineMessage<'Kxi2KeySupplyNotificationResponse', Kxi2KeySupplyNotificationResponse>({
  name: 'Kxi2KeySupplyNotificationResponse',
  rp: 'Kxi-2',
  type: 0x21,
  answer: true,
  schema: object({ re: uint(), supply: uuid, status: oneOf(STATUS_NAMES) }, { accepted: array(uuid, 1, LIMITS.keys, true), reason: text(LIMITS.text) }),
  bytes: [],
  freeText: ['reason'],
  example: { re: 7, supply: '0b5e9c1d-2f3a-4b6c-8d7e-9f0a1b2c3d4e', status: 'ok', accepted: ['11111111-2222-4333-8444-555555555555'] },
  vector: '850118210700a46272650766737570706c79782430623565396331642d326633612d346236632d386437652d39663061316232633364346566737461747573626f6b68616363657074656481782431313131313131312d323232322d343333332d383434342d353535353535353535353535',
});
