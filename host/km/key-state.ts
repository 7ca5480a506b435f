/**
 * One key, one life (docs/ARCHITECTURE.md §4): the states a key unit goes through in the KMA
 * store and the transitions allowed between them. The store refuses every other transition, so
 * a key can never come back to `available` once it has been reserved, used or burned.
 *
 *   available ─▶ reserved ─▶ delivered ─┐
 *       │           │    └──▶ consumed ──┤
 *       │           ├──▶ voided ─────────┼──▶ destroyed
 *       ├──▶ consumed (pad: reserved and used in one durable step)
 *       └──▶ voided | failed ───────────┘
 *                   └──▶ failed
 *
 * - available: in its pool, unassigned; key bytes encrypted at rest.
 * - reserved: assigned to one operation (supply to an SAE pair, relay); bytes still held.
 * - delivered: handed to every SAE this KM serves for it; bytes erased in the same transaction.
 * - consumed: used inside the network (one-time pad of a relay hop, relay material); bytes erased.
 * - voided: cancelled by agreement (rollback, or the peer KM voided it); bytes erased.
 * - failed: burned because it was in doubt (crash, lost answer, sync disagreement); bytes erased.
 * - destroyed: a tombstone after the retention period; only the ID and final state remain.
 */
export const KEY_STATES = ['available', 'reserved', 'delivered', 'consumed', 'voided', 'failed', 'destroyed'] as const;
export type KeyState = (typeof KEY_STATES)[number];

const ALLOWED: Readonly<Record<KeyState, readonly KeyState[]>> = {
  available: ['reserved', 'consumed', 'voided', 'failed'],
  // reserved → reserved: a multicast key delivered to some of its local slaves, not all yet.
  reserved: ['reserved', 'delivered', 'consumed', 'voided', 'failed'],
  delivered: ['destroyed'],
  consumed: ['destroyed'],
  voided: ['destroyed'],
  failed: ['destroyed'],
  destroyed: [],
};

export function canTransition(from: KeyState, to: KeyState): boolean {
  return ALLOWED[from].includes(to);
}

/** States in which the store still holds the key bytes. */
export function holdsKeyBytes(state: KeyState): boolean {
  return state === 'available' || state === 'reserved';
}

/** States from which the key can never be used again. */
export function isTerminal(state: KeyState): boolean {
  return !holdsKeyBytes(state);
}

/** Burned without being used: what a void or a recovery produces. */
export function isBurned(state: KeyState): boolean {
  return state === 'voided' || state === 'failed';
}
