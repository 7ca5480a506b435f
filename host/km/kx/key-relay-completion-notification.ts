/**
 * KeyRelayCompletionNotification (type 17; ITU-T Q.4163 clause 8.2, key relay completion
 * notification): tells the relay's source how it ended. Sent directly (not along the route) by the
 * destination once it holds the relayed keys durably (`completed`), or by the hop where the relay
 * broke (`failed`, with `hop` = index in the route of the node reporting, and a reason). On
 * `completed` the source makes the keys available in its relay pool; on `failed` or when no
 * notification comes in time, the source burns them and voids them at the destination. A `failed`
 * notification carries the failing hop's `status` (status.ts), which the source reports; the
 * source accepts `completed` only from the route's destination and `failed` only from a node on it.
 * Answered by a Response.
 *
 *   { relay: uuid, outcome: "completed"|"failed", keys: [uuid], hop?: uint, status?: text, reason?: text }
 */
import { body, defined, keyId, keyIds, oneOf, optText, uint } from './fields.js';
import { LIMITS, type KxMessageSpec } from './spec.js';
import { KX_STATUSES, type KxErrorStatus } from './status.js';

const ERROR_STATUSES = KX_STATUSES.filter((s): s is KxErrorStatus => s !== 'ok');

export interface KeyRelayCompletionNotification {
  readonly relay: string;
  readonly outcome: 'completed' | 'failed';
  readonly keys: readonly string[];
  readonly hop?: number;
  readonly status?: KxErrorStatus;
  readonly reason?: string;
}

export const KeyRelayCompletionNotificationSpec: KxMessageSpec<'KeyRelayCompletionNotification', KeyRelayCompletionNotification> = {
  name: 'KeyRelayCompletionNotification',
  type: 17,
  answer: false,
  encode: (m) => defined({ relay: m.relay, outcome: m.outcome, keys: [...m.keys], hop: m.hop, status: m.status, reason: m.reason }),
  decode(v) {
    const M = 'KeyRelayCompletionNotification';
    const b = body(v, M);
    const reason = optText(b, M, 'reason', 512);
    return {
      relay: keyId(b, M, 'relay'),
      outcome: oneOf(b, M, 'outcome', ['completed', 'failed'] as const),
      keys: keyIds(b, M, 'keys', 1, LIMITS.units),
      ...(b.hop !== undefined ? { hop: uint(b, M, 'hop', LIMITS.route) } : {}),
      ...(b.status !== undefined ? { status: oneOf(b, M, 'status', ERROR_STATUSES) } : {}),
      ...(reason !== undefined ? { reason } : {}),
    };
  },
  example: { relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', outcome: 'completed', keys: ['11111111-2222-4333-8444-555555555555'] },
  vector: '84011107a36572656c6179782433643263316230612d396638652d346437632d386236612d356634653364326331623061676f7574636f6d6569636f6d706c65746564646b65797381782431313131313131312d323232322d343333332d383434342d353535353535353535353535',
};
