/**
 * KeySupplyNotificationResponse (type 19; ITU-T Q.4163 clause 8.4, response to key supply
 * notification): the slave KM's answer. `ok` means every key is durably reserved for the slave
 * SAE(s) and the master KM may hand the keys to the master SAE; any other status means the slave
 * KM changed nothing (the master KM then burns the keys at both ends with Void, since it cannot tell
 * a refusal from a lost answer once a timeout has passed).
 *
 *   { re: uint, status: text (status.ts), reason?: text, high?: uint }
 */
import { decodeStatusAnswer, encodeStatusAnswer, type Response } from './response.js';
import type { KxMessageSpec } from './spec.js';

/** The same body as Response; only the type number differs. */
export type KeySupplyNotificationResponse = Response;

export const KeySupplyNotificationResponseSpec: KxMessageSpec<'KeySupplyNotificationResponse', KeySupplyNotificationResponse> = {
  name: 'KeySupplyNotificationResponse',
  type: 19,
  answer: true,
  encode: encodeStatusAnswer,
  decode: (v) => decodeStatusAnswer(v, 'KeySupplyNotificationResponse'),
  example: { re: 7, status: 'ERR_KM_KEY_NOT_AVAILABLE', reason: 'a unit is not available' },
  vector: '84011307a3627265076673746174757378184552525f4b4d5f4b45595f4e4f545f415641494c41424c4566726561736f6e776120756e6974206973206e6f7420617661696c61626c65',
};
