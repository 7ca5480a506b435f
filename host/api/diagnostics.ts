/**
 * What the key API tells observers (the node's log, the manager), through node:diagnostics_channel
 * so that nothing here imports them. Summaries, not one message per request: an SAE that retries
 * in a loop must not fill the log. A slave KME's outage is published on the key management
 * layer's `qkdn:km:supply:outage` (host/km/diagnostics.ts), where the manager hears it.
 *
 * | channel                | message           | when                                                  |
 * |------------------------|-------------------|-------------------------------------------------------|
 * | qkdn:api:rate-limited  | RateLimitedEvent  | an SAE went over its rate limit (then at most every 10 s while it stays over) |
 * | qkdn:api:client-refused | ClientRefusedEvent | a client's certificate was refused (then at most every 10 s per reason) |
 */
import { channel } from 'node:diagnostics_channel';

export const API_CHANNELS = {
  rateLimited: 'qkdn:api:rate-limited',
  clientRefused: 'qkdn:api:client-refused',
} as const;

export interface RateLimitedEvent {
  readonly node: string;
  readonly sae: string;
  /** Requests refused since the previous message for this SAE. */
  readonly refused: number;
}

export interface ClientRefusedEvent {
  readonly node: string;
  /** OpenSSL's verification code, or NO_CERTIFICATE. */
  readonly reason: string;
  /** The TLS alert that names it (given in the 401's details). */
  readonly alert: string;
  /** The refused certificate's subject (`CN=…, OU=…`), when there was one. */
  readonly subject?: string;
  /** Connections refused for this reason since the previous message. */
  readonly refused: number;
}

/**
 * Counts refusals by key (an SAE, a reason) and publishes a count on `channelName` at most once
 * per `everyMs` per key: the first refusal of an episode at once, then summaries.
 */
export class RefusalLog<E extends { readonly refused: number }> {
  readonly #channel;
  readonly #everyMs: number;
  readonly #now: () => number;
  readonly #byKey = new Map<string, { refused: number; last: number }>();

  constructor(channelName: string, everyMs = 10_000, now: () => number = Date.now) {
    this.#channel = channel(channelName);
    this.#everyMs = everyMs;
    this.#now = now;
  }

  refused(key: string, event: (refused: number) => E): void {
    const now = this.#now();
    let s = this.#byKey.get(key);
    if (!s || now - s.last >= this.#everyMs * 2) {
      s = { refused: 0, last: -Infinity };
      this.#byKey.set(key, s);
    }
    s.refused++;
    if (now - s.last >= this.#everyMs) {
      if (this.#channel.hasSubscribers) this.#channel.publish(event(s.refused));
      s.refused = 0;
      s.last = now;
    }
  }
}
