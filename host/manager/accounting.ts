/**
 * Accounting management: durable records of key usage per SAE, per SAE pair, per link and per peer
 * network, one record per subject and UTC day (keys, bits, requests, first and last use), in
 * manager.lmdb. Updates are kept in memory and written once a second (and on close), so a crash
 * loses at most the last second of counts, never a record already written. Exported as JSON or
 * CSV. Records name SAEs, links and networks: never a key ID.
 */
import type { Database } from 'lmdb';
import type { ManagerStore } from './store.js';

export const DIMENSIONS = ['sae', 'sae-pair', 'link', 'peer-network'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface UsageRecord {
  readonly dimension: Dimension;
  /** SAE ID, `master>slave`, link ID or peer network name. */
  readonly subject: string;
  /** UTC day, YYYY-MM-DD. */
  readonly day: string;
  readonly keys: number;
  readonly bits: number;
  readonly requests: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

export interface AccountingQuery {
  readonly dimension?: Dimension;
  readonly subject?: string;
  readonly from?: string;
  readonly to?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class Accounting {
  readonly #db: Database<UsageRecord, string>;
  /** Counts since the last write, updated in place (no allocation per supply). */
  readonly #pending = new Map<string, Mutable<UsageRecord>>();
  /** Today's records as last written: what the next count adds to, without reading LMDB per supply. */
  readonly #written = new Map<string, UsageRecord>();
  readonly #timer: NodeJS.Timeout;

  constructor(store: ManagerStore) {
    this.#db = store.db<UsageRecord>('accounting');
    this.#timer = setInterval(() => void this.flush(), 1000);
    this.#timer.unref();
  }

  #day = { from: 0, to: 0, name: '' };

  record(dimension: Dimension, subject: string, keys: number, bits: number, at = Date.now()): void {
    if (at < this.#day.from || at >= this.#day.to) {
      const from = at - (at % 86_400_000);
      this.#day = { from, to: from + 86_400_000, name: new Date(from).toISOString().slice(0, 10) };
      this.#written.clear();
    }
    const day = this.#day.name;
    const k = `${dimension}\u0000${subject}\u0000${day}`;
    const p = this.#pending.get(k);
    if (p) {
      p.keys += keys;
      p.bits += bits;
      p.requests++;
      p.lastAt = at;
      return;
    }
    const before = this.#written.get(k) ?? this.#db.get(k);
    this.#pending.set(k, {
      dimension,
      subject,
      day,
      keys: (before?.keys ?? 0) + keys,
      bits: (before?.bits ?? 0) + bits,
      requests: (before?.requests ?? 0) + 1,
      firstAt: before?.firstAt ?? at,
      lastAt: at,
    });
  }

  /** Writes the pending counts; resolves once they are on disk. */
  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending];
    this.#pending.clear();
    for (const [k, v] of batch) if (v.day === this.#day.name) this.#written.set(k, v);
    await this.#db.transaction(() => {
      for (const [k, v] of batch) void this.#db.put(k, v);
    });
  }

  records(q: AccountingQuery = {}): UsageRecord[] {
    const out = new Map<string, UsageRecord>();
    const start = q.dimension ? `${q.dimension}\u0000${q.subject !== undefined ? `${q.subject}\u0000` : ''}` : undefined;
    const pick = (r: UsageRecord) => (!q.dimension || r.dimension === q.dimension) && (q.subject === undefined || r.subject === q.subject) && (!q.from || r.day >= q.from) && (!q.to || r.day <= q.to);
    for (const { key, value } of this.#db.getRange(start ? { start, end: `${start}\uffff` } : {})) if (pick(value)) out.set(key, value);
    for (const [k, v] of this.#pending) if (pick(v)) out.set(k, v);
    return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  }

  /** CSV, one row per record; with `withNode` a first column names the node (the network manager's export). */
  static csv(records: readonly (UsageRecord & { readonly node?: string })[], withNode = false): string {
    const cell = (s: string | number) => {
      const t = String(s);
      return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
    };
    const head = `${withNode ? 'node,' : ''}dimension,subject,day,keys,bits,requests,first_use,last_use`;
    const rows = records.map((r) => [...(withNode ? [r.node ?? ''] : []), r.dimension, r.subject, r.day, r.keys, r.bits, r.requests, new Date(r.firstAt).toISOString(), new Date(r.lastAt).toISOString()].map(cell).join(','));
    return `${[head, ...rows].join('\n')}\n`;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
