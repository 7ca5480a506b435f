/**
 * Response (type 2): the answer to a request that has no answer message of its own (KeyRelay,
 * KeyRelayCompletionNotification, KeySync, Void). In a relay it is the per-hop acknowledgement: the
 * next hop has durably taken the key over and consumed its pad.
 *
 *   { re: uint, status: text, reason?: text, high?: uint }
 *   status: "ok" or an error code from the table in status.ts; reason: human text, never key material;
 *   high: the responder's highest unit index of the link shared with the requester (watermark).
 */
import { body, defined, oneOf, optText, uint } from './fields.js';
import type { KxMessageSpec } from './spec.js';
import { KX_STATUSES, type KxStatus } from './status.js';

export interface Response {
  readonly re: number;
  readonly status: KxStatus;
  readonly reason?: string;
  readonly high?: number;
}

/** Encoding of a status answer; KeySupplyNotificationResponse has the same body. */
export const encodeStatusAnswer = (m: Response) => defined({ re: m.re, status: m.status, reason: m.reason, high: m.high });

/** Decoding of a status answer; `msg` names the message in a KxDecodeError. */
export function decodeStatusAnswer(v: unknown, msg: string): Response {
  const b = body(v, msg);
  const reason = optText(b, msg, 'reason', 512);
  return {
    re: uint(b, msg, 're'),
    status: oneOf(b, msg, 'status', KX_STATUSES),
    ...(reason !== undefined ? { reason } : {}),
    ...(b.high !== undefined ? { high: uint(b, msg, 'high') } : {}),
  };
}

export const ResponseSpec: KxMessageSpec<'Response', Response> = {
  name: 'Response',
  type: 2,
  answer: true,
  encode: encodeStatusAnswer,
  decode: (v) => decodeStatusAnswer(v, 'Response'),
  example: { re: 7, status: 'ok', high: 1023 },
  vector: '84010207a36272650766737461747573626f6b64686967681903ff',
};
