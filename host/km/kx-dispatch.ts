/**
 * Kx requests from peer KMs, each to the part of the key manager that answers it: key sync and
 * Voids to the KMA, key supply notifications to the KSA, relay hops and completions to the relay.
 * A zeroized KM answers every request with ERR_KM_ZEROIZED.
 */
import type { Kma } from './kma.js';
import type { Ksa } from './ksa.js';
import type { KeyRelayService } from './relay.js';
import type { KxAnswer } from './kx/transport.js';
import type { KxMessage } from './kx/messages.js';

export function dispatchKx(parts: { kma: Kma; ksa: Ksa; relay: KeyRelayService }, peer: string, m: KxMessage): KxAnswer | Promise<KxAnswer> {
  const { kma, ksa, relay } = parts;
  if (kma.store.zeroized) return { name: 'Response', body: { status: 'ERR_KM_ZEROIZED', reason: 'this KM has been zeroized' } };
  switch (m.name) {
    case 'KeySync':
      kma.learn(peer, m.body.pools);
      return { name: 'KeySync', body: { pools: kma.poolsFor(peer) } };
    case 'Void':
      return kma.onVoid(peer, m.body.ids, m.body.origin, m.body.reason);
    case 'KeySupplyNotification':
      return ksa.onSupplyNotification(peer, m.body);
    case 'KeyRelay':
      return relay.onKeyRelay(peer, m.body);
    case 'KeyRelayCompletionNotification':
      return relay.onCompletion(peer, m.body);
    default:
      return { name: 'Response', body: { status: 'ERR_KX_UNKNOWN_TYPE', reason: `${m.name} is not a request` } };
  }
}
