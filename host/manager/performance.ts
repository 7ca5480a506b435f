/**
 * Performance management: bounded time series (key rate, QBER, stock, relay latency) and the QoS
 * parameters of ITU-T Y.3807 for key supply, computed from the key management events over a
 * sliding window:
 *
 * - throughput: key bits delivered to SAEs per second;
 * - key response delay: mean time from a key request to its answer, and its variation (the
 *   standard deviation);
 * - delivery error ratio: requests that failed on the KM side (no key, peer unreachable, relay
 *   failed) over all requests that were not refused as malformed or not permitted;
 * - key loss ratio: keys burned (Voids, recovery, failed relays) over keys delivered plus burned;
 * - availability: the share of the window in which no SAE pair was in an outage (an outage begins
 *   at a failed request and ends at the pair's next delivery);
 * - service restoration time: mean duration of the outages that ended in the window.
 */

export interface Point {
  readonly t: number;
  readonly v: number;
}

/** One series per name and label set, each at most `maxPoints` long (oldest dropped). */
export class TimeSeries {
  readonly #series = new Map<string, { name: string; labels: Readonly<Record<string, string>>; points: Point[] }>();
  constructor(private readonly maxPoints = 720) {}

  record(name: string, labels: Readonly<Record<string, string>>, v: number, t = Date.now()): void {
    const key = `${name}|${Object.entries(labels).sort().map(([k, x]) => `${k}=${x}`).join(',')}`;
    let s = this.#series.get(key);
    if (!s) this.#series.set(key, (s = { name, labels, points: [] }));
    s.points.push({ t, v });
    if (s.points.length > this.maxPoints) s.points.splice(0, s.points.length - this.maxPoints);
  }

  query(name?: string, since = 0): { name: string; labels: Readonly<Record<string, string>>; points: Point[] }[] {
    return [...this.#series.values()].filter((s) => !name || s.name === name).map((s) => ({ name: s.name, labels: s.labels, points: s.points.filter((p) => p.t >= since) }));
  }

  names(): string[] {
    return [...new Set([...this.#series.values()].map((s) => s.name))].sort();
  }
}

export interface SupplyOutcome {
  readonly pair: string;
  readonly at: number;
  readonly outcome: 'delivered' | 'failed' | 'refused';
  readonly latencyMs: number;
  readonly bits: number;
  readonly keys: number;
}

export interface QosParameters {
  readonly windowS: number;
  readonly requests: number;
  readonly throughputBitsPerS: number;
  readonly keyResponseDelayMs: number | null;
  readonly keyResponseDelayVariationMs: number | null;
  readonly deliveryErrorRatio: number | null;
  readonly lossRatio: number | null;
  readonly availability: number;
  readonly serviceRestorationTimeMs: number | null;
  readonly outages: number;
}

interface Outage {
  readonly pair: string;
  readonly from: number;
  to?: number;
}

/** One second of supply outcomes, summed: the window holds at most windowMs/1000 of these. */
interface Bucket {
  readonly second: number;
  served: number;
  delivered: number;
  bits: number;
  keys: number;
  latencySum: number;
  latencySqSum: number;
  burned: number;
}

export class QosTracker {
  readonly #buckets: Bucket[] = [];
  readonly #outages: Outage[] = [];
  readonly #open = new Map<string, Outage>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  #bucket(at: number): Bucket {
    const second = Math.floor(at / 1000);
    let b = this.#buckets[this.#buckets.length - 1];
    if (!b || b.second < second) {
      this.#buckets.push((b = { second, served: 0, delivered: 0, bits: 0, keys: 0, latencySum: 0, latencySqSum: 0, burned: 0 }));
      this.#trim();
    } else if (b.second > second) b = this.#buckets.find((x) => x.second === second) ?? b; // a late event: the nearest bucket
    return b;
  }

  supply(s: SupplyOutcome): void {
    if (s.outcome !== 'refused') {
      const b = this.#bucket(s.at);
      b.served++;
      if (s.outcome === 'delivered') {
        b.delivered++;
        b.bits += s.bits;
        b.keys += s.keys;
        b.latencySum += s.latencyMs;
        b.latencySqSum += s.latencyMs * s.latencyMs;
      }
    }
    if (s.outcome === 'failed' && !this.#open.has(s.pair)) {
      const o: Outage = { pair: s.pair, from: s.at };
      this.#open.set(s.pair, o);
      this.#outages.push(o);
    } else if (s.outcome === 'delivered') {
      const o = this.#open.get(s.pair);
      if (o) {
        o.to = s.at;
        this.#open.delete(s.pair);
      }
    }
  }

  burned(keys: number, at = this.now()): void {
    this.#bucket(at).burned += keys;
  }

  #trim(): void {
    const from = this.now() - this.windowMs;
    while (this.#buckets.length > 0 && (this.#buckets[0]!.second + 1) * 1000 <= from) this.#buckets.shift();
    while (this.#outages.length > 0 && this.#outages[0]!.to !== undefined && this.#outages[0]!.to < from) this.#outages.shift();
  }

  compute(): QosParameters {
    this.#trim();
    const now = this.now();
    const from = now - this.windowMs;
    let served = 0;
    let delivered = 0;
    let bits = 0;
    let keys = 0;
    let burned = 0;
    let sum = 0;
    let sq = 0;
    for (const b of this.#buckets) {
      served += b.served;
      delivered += b.delivered;
      bits += b.bits;
      keys += b.keys;
      burned += b.burned;
      sum += b.latencySum;
      sq += b.latencySqSum;
    }
    const mean = delivered ? sum / delivered : null;
    const sd = mean === null ? null : Math.sqrt(Math.max(0, sq / delivered - mean * mean));
    // Outage time inside the window, the union over pairs (any pair in outage counts once).
    const spans = this.#outages.map((o) => [Math.max(o.from, from), o.to ?? now] as const).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
    let down = 0;
    let end = -Infinity;
    for (const [a, b] of spans) {
      if (a > end) {
        down += b - a;
        end = b;
      } else if (b > end) {
        down += b - end;
        end = b;
      }
    }
    const ended = this.#outages.filter((o) => o.to !== undefined && o.to >= from);
    const restoration = ended.length ? ended.reduce((n, o) => n + (o.to! - o.from), 0) / ended.length : null;
    const windowS = this.windowMs / 1000;
    return {
      windowS,
      requests: served,
      throughputBitsPerS: bits / windowS,
      keyResponseDelayMs: mean,
      keyResponseDelayVariationMs: sd,
      deliveryErrorRatio: served ? (served - delivered) / served : null,
      lossRatio: keys + burned > 0 ? burned / (keys + burned) : null,
      availability: 1 - down / this.windowMs,
      serviceRestorationTimeMs: restoration,
      outages: this.#outages.filter((o) => (o.to ?? now) >= from).length,
    };
  }
}
