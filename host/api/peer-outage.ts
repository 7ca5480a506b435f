/**
 * What enc_keys does while the slave SAE's KME cannot be reached. Every supply reserves keys
 * before it asks the slave's KME, and a request that cannot be confirmed burns them at both ends
 * (key-manager.ts), so an SAE that retries at once through an outage would burn keys on each
 * retry. After the first failure, requests for that KME are refused at once with 503 and a
 * Retry-After for a window that doubles from `firstMs` to `maxMs` while the outage lasts; when it
 * ends, one request tries (the others keep being refused until it is answered); a request that
 * reaches the peer ends the outage.
 *
 * The log sees an outage, not each retry: the `qkdn:km:supply:outage` channel (host/km/diagnostics.ts) gets one message when it
 * begins, one per `summaryMs` while requests are refused, and one when it ends.
 */
import { ApiError } from './errors.js';
import { publishSupplyOutage, type SupplyOutageEvent } from '../km/diagnostics.js';

export interface PeerOutageOptions {
  readonly firstMs?: number;
  readonly maxMs?: number;
  readonly summaryMs?: number;
  readonly now?: () => number;
}

/** Key manager codes that mean the slave's KME (or the route to it) could not be reached. */
export const OUTAGE_CODES: ReadonlySet<string> = new Set(['ERR_KM_PEER_UNREACHABLE', 'ERR_KM_TIMEOUT', 'ERR_KM_NO_ROUTE']);

interface Outage {
  readonly since: number;
  reason: string;
  backoffMs: number;
  until: number;
  probing: boolean;
  refused: number;
  failed: number;
  lastSummary: number;
}

export class PeerOutages {
  readonly #node: string;
  readonly #firstMs: number;
  readonly #maxMs: number;
  readonly #summaryMs: number;
  readonly #now: () => number;
  readonly #open = new Map<string, Outage>();

  constructor(node: string, o: PeerOutageOptions = {}) {
    this.#node = node;
    this.#firstMs = o.firstMs ?? 1000;
    this.#maxMs = o.maxMs ?? 30_000;
    this.#summaryMs = o.summaryMs ?? 10_000;
    this.#now = o.now ?? Date.now;
  }

  /** Throws the 503 while `kme`'s window is open or another request is finding out whether it ended. */
  admit(kme: string): void {
    const o = this.#open.get(kme);
    if (!o) return;
    const now = this.#now();
    if (now >= o.until && !o.probing) {
      o.probing = true;
      return;
    }
    o.refused++;
    const retryAfterS = Math.max(1, Math.ceil((o.until - now) / 1000));
    if (now - o.lastSummary >= this.#summaryMs) this.#publish(kme, o, 'ongoing', now, retryAfterS);
    throw new ApiError('ERR_API_KEYS_UNAVAILABLE', 'the key supply to the slave SAE cannot be completed now', [{ reason: o.reason }], retryAfterS);
  }

  /**
   * The outcome of an admitted request: `unreachable` (with the key manager's code) opens or
   * extends the outage, `reached` ends it, `unknown` (refused before the peer was asked) neither.
   * Returns the Retry-After seconds for an unreachable outcome.
   */
  settle(kme: string, outcome: 'reached' | 'unreachable' | 'unknown', reason = ''): number | undefined {
    const now = this.#now();
    const o = this.#open.get(kme);
    if (outcome === 'unknown') {
      if (o) o.probing = false;
      return undefined;
    }
    if (outcome === 'reached') {
      if (o) {
        this.#open.delete(kme);
        this.#publish(kme, o, 'ended', now);
      }
      return undefined;
    }
    if (!o) {
      const fresh: Outage = { since: now, reason, backoffMs: this.#firstMs, until: now + this.#firstMs, probing: false, refused: 0, failed: 1, lastSummary: now };
      this.#open.set(kme, fresh);
      this.#publish(kme, fresh, 'begun', now, Math.ceil(fresh.backoffMs / 1000));
      return Math.ceil(fresh.backoffMs / 1000);
    }
    o.failed++;
    o.reason = reason;
    if (o.probing || now >= o.until) o.backoffMs = Math.min(o.backoffMs * 2, this.#maxMs);
    o.probing = false;
    o.until = Math.max(o.until, now + o.backoffMs);
    return Math.max(1, Math.ceil((o.until - now) / 1000));
  }

  /** The KMEs in an outage now. */
  get kmes(): string[] {
    return [...this.#open.keys()];
  }

  #publish(kme: string, o: Outage, state: SupplyOutageEvent['state'], now: number, retryAfterS?: number): void {
    publishSupplyOutage({ node: this.#node, kme, state, reason: o.reason, refused: o.refused, failed: o.failed, sinceMs: now - o.since, ...(retryAfterS !== undefined ? { retryAfterS } : {}) });
    o.refused = 0;
    o.failed = 0;
    o.lastSummary = now;
  }
}
