/**
 * How one hop of a key relay is carried to the next node. The default sends Kx KeyRelay to the
 * next node's KM, a Kx peer, and reads its per-hop acknowledgement. A next hop that is not a Kx
 * peer (a gateway node's Kxi-1 towards another network) gets its own handler, registered for that
 * node; the relay calls whichever handler serves the next hop and acts only on the typed outcome.
 */
import type { KeyRelay } from './kx/key-relay.js';
import type { KxTransport } from './kx/transport.js';
import { statusOf, type KxErrorStatus } from './kx/status.js';

/** The next hop took the hop over durably (`ok`), or did not, with a status and a reason. */
export type HopOutcome = { readonly ok: true } | { readonly ok: false; readonly status: KxErrorStatus; readonly reason: string; readonly answered: boolean };

export interface RelayHopHandler {
  /** Carries `hop` (route[hop.hop] → route[hop.hop + 1] = `next`); never rejects. */
  send(next: string, hop: KeyRelay, timeoutMs: number): Promise<HopOutcome>;
}

/** The default: Kx KeyRelay to the next KM; its Response is the hop's acknowledgement. */
export class KxRelayHop implements RelayHopHandler {
  readonly #kx: KxTransport;
  constructor(kx: KxTransport) {
    this.#kx = kx;
  }

  async send(next: string, hop: KeyRelay, timeoutMs: number): Promise<HopOutcome> {
    try {
      const a = await this.#kx.request(next, 'KeyRelay', hop, timeoutMs);
      if (a.name !== 'Response') return { ok: false, status: 'ERR_KM_RELAY_FAILED', reason: 'unexpected answer', answered: true };
      if (a.body.status === 'ok') return { ok: true };
      return { ok: false, status: a.body.status, reason: a.body.reason ?? '', answered: true };
    } catch (e) {
      // Not answered (unreachable, timeout): whether the next hop took it over is unknown.
      return { ok: false, status: statusOf(e), reason: (e as Error).message, answered: false };
    }
  }
}

/** Which handler carries a hop to a given next node: a registered one, else the Kx default. */
export class RelayHopHandlers {
  readonly #default: RelayHopHandler;
  readonly #byNext = new Map<string, RelayHopHandler>();

  constructor(fallback: RelayHopHandler) {
    this.#default = fallback;
  }

  /** Hops to `next` go through `handler` from now on; returns the function that removes it. */
  register(next: string, handler: RelayHopHandler): () => void {
    this.#byNext.set(next, handler);
    return () => {
      if (this.#byNext.get(next) === handler) this.#byNext.delete(next);
    };
  }

  for(next: string): RelayHopHandler {
    return this.#byNext.get(next) ?? this.#default;
  }
}
