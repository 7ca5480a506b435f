/**
 * What the key API tells observers (the node's log, the manager), through node:diagnostics_channel
 * so that nothing here imports them. Summaries, not one message per request: an SAE that retries
 * in a loop must not fill the log.
 *
 * | channel                | message           | when                                                  |
 * |------------------------|-------------------|-------------------------------------------------------|
 * | qkdn:api:outage        | OutageEvent       | a slave KME's outage began, is ongoing (every 10 s of refusals), ended |
 * | qkdn:api:rate-limited  | RateLimitedEvent  | an SAE went over its rate limit (then at most every 10 s while it stays over) |
 */
import { channel } from 'node:diagnostics_channel';

export const API_CHANNELS = {
  outage: 'qkdn:api:outage',
  rateLimited: 'qkdn:api:rate-limited',
} as const;

export interface OutageEvent {
  readonly node: string;
  /** The KME whose SAEs cannot be served. */
  readonly kme: string;
  readonly state: 'begun' | 'ongoing' | 'ended';
  /** The key manager's code for the failure (ERR_KM_PEER_UNREACHABLE, ...). */
  readonly reason: string;
  /** enc_keys refused without trying since the previous message of this outage. */
  readonly refused: number;
  /** Requests that tried and failed (each burnt its reservation) since the previous message. */
  readonly failed: number;
  readonly sinceMs: number;
  /** Seconds the current window still has (begun, ongoing). */
  readonly retryAfterS?: number;
}

export interface RateLimitedEvent {
  readonly node: string;
  readonly sae: string;
  /** Requests refused since the previous message for this SAE. */
  readonly refused: number;
}

const outage = channel(API_CHANNELS.outage);
const rateLimited = channel(API_CHANNELS.rateLimited);

export function publishOutage(e: OutageEvent): void {
  if (outage.hasSubscribers) outage.publish(e);
}

/** Counts an SAE's refusals and publishes the count at most once per `everyMs` per SAE. */
export class RateLimitLog {
  readonly #everyMs: number;
  readonly #now: () => number;
  readonly #bySae = new Map<string, { refused: number; last: number }>();

  constructor(everyMs = 10_000, now: () => number = Date.now) {
    this.#everyMs = everyMs;
    this.#now = now;
  }

  refused(node: string, sae: string): void {
    const now = this.#now();
    let s = this.#bySae.get(sae);
    if (!s || now - s.last >= this.#everyMs * 2) {
      // A new episode: said at once.
      s = { refused: 0, last: -Infinity };
      this.#bySae.set(sae, s);
    }
    s.refused++;
    if (now - s.last >= this.#everyMs) {
      if (rateLimited.hasSubscribers) rateLimited.publish({ node, sae, refused: s.refused } satisfies RateLimitedEvent);
      s.refused = 0;
      s.last = now;
    }
  }
}
