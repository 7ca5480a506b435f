/**
 * Void (type 4): rollback. The sender burned these keys (in doubt after a crash or a lost answer,
 * a relay that failed, a supply that was not answered) and the receiver must burn its copies too:
 * available or reserved keys become `voided`; keys already delivered, consumed or burned stay as
 * they are (Void is idempotent and delivered at least once from the sender's durable outbox). IDs
 * the receiver does not hold yet (a link unit its source has not pushed) are tombstoned so they
 * never become available. Answered by a Response once durable.
 *
 *   { ids: [uuid], origin: "link"|"relay", reason: text }
 */
import { body, keyIds, oneOf, text } from './fields.js';
import { LIMITS, type KxMessageSpec } from './spec.js';

export interface Void {
  readonly ids: readonly string[];
  readonly origin: 'link' | 'relay';
  readonly reason: string;
}

export const VoidSpec: KxMessageSpec<'Void', Void> = {
  name: 'Void',
  type: 4,
  answer: false,
  encode: (m) => ({ ids: [...m.ids], origin: m.origin, reason: m.reason }),
  decode(v) {
    const b = body(v, 'Void');
    return { ids: keyIds(b, 'Void', 'ids', 1, LIMITS.units), origin: oneOf(b, 'Void', 'origin', ['link', 'relay'] as const), reason: text(b, 'Void', 'reason', 256) };
  },
  example: { ids: ['8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a'], origin: 'link', reason: 'in doubt after restart' },
  vector: '84010407a36369647381782438633064366130652d356631622d386132632d623364342d653566363037313832393361666f726967696e646c696e6b66726561736f6e76696e20646f7562742061667465722072657374617274',
};
