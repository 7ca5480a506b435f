/**
 * Outage alarms of the key supply API. Two kinds, both `api-outage`:
 *
 * - source `api:<node>`: the share of key requests (enc_keys, dec_keys) that failed or were
 *   refused over a sliding window (default 10 s) is above `ratio` (default 0.5) with at least
 *   `minRequests` (default 10) in the window. Failed: the KM could not serve (peer unreachable, no
 *   key, relay failed) or the API refused it at once during a peer's outage window; refused: the
 *   request was malformed or not permitted. Cleared when a window with at least `minRequests`
 *   requests is at or below half the ratio (no flapping at the threshold), checked on every
 *   request and once a second.
 * - source `kme:<peer>`: the key API's own outage summary (`qkdn:km:supply:outage`): requests for the
 *   SAEs of that KME cannot be served; raised when the outage begins, cleared when it ends.
 *
 * Per request this is a few additions into one-second buckets: it sits on the key supply path.
 */
import type { SupplyOutageEvent } from '../km/diagnostics.js';
import type { AlarmManager } from './alarms.js';

export interface SupplyWatchOptions {
  readonly node: string;
  readonly alarms: AlarmManager;
  readonly ratio?: number;
  readonly minRequests?: number;
  readonly windowMs?: number;
  readonly now?: () => number;
}

export class SupplyWatch {
  readonly #o: SupplyWatchOptions;
  readonly #ratio: number;
  readonly #min: number;
  readonly #seconds: number;
  readonly #now: () => number;
  readonly #source: string;
  /** Ring of one-second buckets: [second, good, bad]. */
  readonly #ring: Float64Array;
  #good = 0;
  #bad = 0;
  #raised = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(o: SupplyWatchOptions) {
    this.#o = o;
    this.#ratio = o.ratio ?? 0.5;
    this.#min = o.minRequests ?? 10;
    this.#seconds = Math.max(1, Math.round((o.windowMs ?? 10_000) / 1000));
    this.#now = o.now ?? Date.now;
    this.#source = `api:${o.node}`;
    this.#ring = new Float64Array(this.#seconds * 3);
    for (let i = 0; i < this.#ring.length; i += 3) this.#ring[i] = -1;
  }

  /** Checks the window once a second too, so that an alarm clears (or rises) between requests. */
  start(): void {
    this.#timer = setInterval(() => this.check(), 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One key request's outcome (`n` requests at once for the API's refusal counts). */
  outcome(ok: boolean, n = 1): void {
    const s = Math.floor(this.#now() / 1000);
    const i = (s % this.#seconds) * 3;
    if (this.#ring[i] !== s) this.#expire(s);
    this.#ring[i + (ok ? 1 : 2)]! += n;
    if (ok) this.#good += n;
    else this.#bad += n;
    this.#evaluate();
  }

  /** The key API's outage summary for one peer KME. */
  outage(e: SupplyOutageEvent): void {
    if (e.node !== this.#o.node) return;
    const source = `kme:${e.kme}`;
    if (e.state === 'ended') {
      this.#o.alarms.clear('api-outage', source, `the key supply to ${e.kme} works again after ${Math.round(e.sinceMs / 1000)} s`);
      return;
    }
    if (e.refused > 0) this.outcome(false, e.refused);
    this.#o.alarms.raise({ type: 'api-outage', source, text: `key requests for the SAEs of ${e.kme} cannot be served: ${e.reason}`.slice(0, 300), details: { kme: e.kme, reason: e.reason, refused: e.refused, failed: e.failed, sinceMs: Math.round(e.sinceMs) } });
  }

  /** Drops the buckets that left the window ending at second `s`, and gives `s` its bucket. */
  #expire(s: number): void {
    for (let i = 0; i < this.#ring.length; i += 3) {
      const at = this.#ring[i]!;
      if (at === -1 || at > s - this.#seconds) continue;
      this.#good -= this.#ring[i + 1]!;
      this.#bad -= this.#ring[i + 2]!;
      this.#ring[i] = -1;
      this.#ring[i + 1] = 0;
      this.#ring[i + 2] = 0;
    }
    // The bucket of `s` held an older second (expired just now) or none: it starts at zero.
    this.#ring[(s % this.#seconds) * 3] = s;
  }

  /** Looks at the window now (the timer's tick). */
  check(): void {
    this.#expire(Math.floor(this.#now() / 1000));
    this.#evaluate();
  }

  #evaluate(): void {
    const total = this.#good + this.#bad;
    if (total < this.#min) return;
    const r = this.#bad / total;
    if (!this.#raised && r > this.#ratio) {
      this.#raised = true;
      this.#o.alarms.raise({ type: 'api-outage', source: this.#source, text: `${Math.round(r * 100)} % of ${total} key requests in ${this.#seconds} s failed or were refused (threshold ${Math.round(this.#ratio * 100)} %)`, details: { requests: total, bad: this.#bad, ratio: Math.round(r * 1000) / 1000 } });
    } else if (this.#raised && r <= this.#ratio / 2) {
      this.#raised = false;
      this.#o.alarms.clear('api-outage', this.#source, `${Math.round(r * 100)} % of ${total} key requests failed or were refused`);
    }
  }

  /** The window now: requests that succeeded and that failed or were refused. */
  window(): { good: number; bad: number } {
    return { good: this.#good, bad: this.#bad };
  }
}
