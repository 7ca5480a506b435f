/**
 * Which border exit a supply to an SAE of another network leaves by, when this network reaches
 * that network through more than one (a gateway node and an interworking node's KM at once, ITU-T
 * Y.3818 clauses 8.1 and 8.2; `exits` in the network configuration). The KSA ranks the exits at
 * each enc_keys, tries the best and, when an attempt fails, the next: every attempt takes fresh
 * keys and burns its own at both ends when it fails (ksa.ts), so a fallback never delivers a key
 * twice or lets one end hold a key the other lacks.
 *
 * The ranking is deterministic: exits that failed recently (within their backoff) are not tried;
 * of the others, those this KM's Kx connection to is up first (a neighbour's is kept up by key
 * sync, so one that is down is one that stopped answering), then those holding the keys the
 * request needs, then more stock, then the order of the configuration. An exit that fails waits `firstMs`, doubling to `maxMs` while it keeps
 * failing, before it is tried again; one success clears it.
 */
import { KmError } from './errors.js';

export interface ExitCandidate {
  readonly node: string;
  /** Keys of the requested size this KM could supply now by this exit (Ksa.stock). */
  readonly stock: number;
  /** Whether this KM's Kx connection to the exit is up (or, for an exit beyond the neighbours, not known to be down). */
  readonly up: boolean;
}

/** The exits in the order they are tried; those in backoff are left out. */
export function rankExits(candidates: readonly ExitCandidate[], need: number, usable: (node: string) => boolean): string[] {
  return candidates
    .map((c, order) => ({ ...c, order }))
    .filter((c) => usable(c.node))
    .sort((x, y) => Number(y.up) - Number(x.up) || Number(y.stock >= need) - Number(x.stock >= need) || y.stock - x.stock || x.order - y.order)
    .map((c) => c.node);
}

/** Codes of an attempt by one exit that another exit may succeed at (nothing was delivered to the SAE). */
const FALLBACK_CODES: ReadonlySet<string> = new Set(['ERR_KM_PEER_UNREACHABLE', 'ERR_KM_PEER_REFUSED', 'ERR_KM_TIMEOUT', 'ERR_KM_NO_ROUTE', 'ERR_KM_INSUFFICIENT_KEYS', 'ERR_KM_RELAY_FAILED']);

export function fallsBack(e: unknown): boolean {
  return e instanceof KmError && FALLBACK_CODES.has(e.code);
}

/** What the KSA chose, per exit, since it started (a test or an observer reads it). */
export interface ExitCounts {
  /** Supplies delivered by each exit. */
  readonly delivered: Readonly<Record<string, number>>;
  /** Attempts that failed at an exit and went on to the next one. */
  readonly fallbacks: number;
  /** Supplies for which no exit worked. */
  readonly exhausted: number;
}

interface Backoff {
  until: number;
  ms: number;
}

/** The KSA's memory of exits that failed: when each may be tried again. */
export class ExitHealth {
  readonly #down = new Map<string, Backoff>();
  readonly #delivered = new Map<string, number>();
  #fallbacks = 0;
  #exhausted = 0;
  readonly #firstMs: number;
  readonly #maxMs: number;
  readonly #now: () => number;

  constructor(o: { firstMs?: number; maxMs?: number; now?: () => number } = {}) {
    this.#firstMs = o.firstMs ?? 1000;
    this.#maxMs = o.maxMs ?? 8000;
    this.#now = o.now ?? Date.now;
  }

  usable(node: string): boolean {
    const b = this.#down.get(node);
    return !b || this.#now() >= b.until;
  }

  /** An attempt by `node` failed; `next` says whether another exit is tried after it. */
  failed(node: string, next: boolean): void {
    const b = this.#down.get(node);
    const ms = b ? Math.min(this.#maxMs, b.ms * 2) : this.#firstMs;
    this.#down.set(node, { until: this.#now() + ms, ms });
    if (next) this.#fallbacks++;
  }

  delivered(node: string): void {
    this.#down.delete(node);
    this.#delivered.set(node, (this.#delivered.get(node) ?? 0) + 1);
  }

  exhausted(): void {
    this.#exhausted++;
  }

  counts(): ExitCounts {
    return { delivered: Object.fromEntries(this.#delivered), fallbacks: this.#fallbacks, exhausted: this.#exhausted };
  }
}
