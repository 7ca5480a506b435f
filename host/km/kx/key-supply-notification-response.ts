/**
 * KeySupplyNotificationResponse (type 19; ITU-T Q.4163 clause 8.4, response to key supply
 * notification): the slave KM's answer. `ok` means every key is durably reserved for the slave
 * SAE(s) and the master KM may hand the keys to the master SAE; any other status means the slave
 * KM changed nothing (the master KM then burns the keys at both ends with Void, since it cannot tell
 * a refusal from a lost answer once a timeout has passed).
 *
 *   { re: uint, status: text, reason?: text, high?: uint }
 */
import { body, defined, optText, text, uint } from './fields.js';
import type { KxMessageSpec } from './spec.js';

export interface KeySupplyNotificationResponse {
  readonly re: number;
  readonly status: string;
  readonly reason?: string;
  readonly high?: number;
}

export const KeySupplyNotificationResponseSpec: KxMessageSpec<'KeySupplyNotificationResponse', KeySupplyNotificationResponse> = {
  name: 'KeySupplyNotificationResponse',
  type: 19,
  answer: true,
  encode: (m) => defined({ re: m.re, status: m.status, reason: m.reason, high: m.high }),
  decode(v) {
    const M = 'KeySupplyNotificationResponse';
    const b = body(v, M);
    const reason = optText(b, M, 'reason', 512);
    return { re: uint(b, M, 're'), status: text(b, M, 'status', 64), ...(reason !== undefined ? { reason } : {}), ...(b.high !== undefined ? { high: uint(b, M, 'high') } : {}) };
  },
  example: { re: 7, status: 'ERR_KM_KEY_NOT_AVAILABLE', reason: 'a unit is not available' },
  vector: '84011307a3627265076673746174757378184552525f4b4d5f4b45595f4e4f545f415641494c41424c4566726561736f6e776120756e6974206973206e6f7420617661696c61626c65',
};
