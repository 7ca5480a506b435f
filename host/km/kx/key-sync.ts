/**
 * KeySync (type 3): which keys of the pools the two KMs share exist at the sender. For each
 * pool: `high`, the highest unit index (link) or arrival number (relay) the sender holds durably,
 * and `available`, how many of those are still available. A KM only allocates link units at or
 * below the peer's `high`, so the peer always holds a unit it is asked to reserve. Which keys were
 * consumed or burned travels in Void messages (void.ts), delivered at least once from a durable
 * outbox; KeySync is sent on every new connection and periodically, and answered by a KeySync
 * (with `re`).
 *
 *   { pools: [{ origin: "link"|"relay", high: int (-1: none), available: uint }], re?: uint }
 */
import { array, body, defined, oneOf, uint } from './fields.js';
import { KxDecodeError } from './errors.js';
import type { KxMessageSpec } from './spec.js';

export interface PoolSync {
  readonly origin: 'link' | 'relay';
  readonly high: number;
  readonly available: number;
}

export interface KeySync {
  readonly pools: readonly PoolSync[];
  readonly re?: number;
}

export const KeySyncSpec: KxMessageSpec<'KeySync', KeySync> = {
  name: 'KeySync',
  type: 3,
  answer: false,
  encode: (m) => defined({ pools: m.pools.map((p) => ({ origin: p.origin, high: p.high, available: p.available })), re: m.re }),
  decode(v) {
    const b = body(v, 'KeySync');
    const pools = array(b, 'KeySync', 'pools', 0, 2).map((x, i) => {
      const p = body(x, `KeySync.pools[${i}]`);
      const high = p.high;
      if (typeof high !== 'number' || !Number.isSafeInteger(high) || high < -1) throw new KxDecodeError(`KeySync.pools[${i}].high`, 'an integer >= -1');
      return { origin: oneOf(p, `KeySync.pools[${i}]`, 'origin', ['link', 'relay'] as const), high, available: uint(p, `KeySync.pools[${i}]`, 'available') };
    });
    return { pools, ...(b.re !== undefined ? { re: uint(b, 'KeySync', 're') } : {}) };
  },
  example: { pools: [{ origin: 'link', high: 4095, available: 2000 }] },
  vector: '84010307a165706f6f6c7381a3666f726967696e646c696e6b6468696768190fff69617661696c61626c651907d0',
};
