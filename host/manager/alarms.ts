/**
 * Fault management: alarms with an ID, a severity (ITU-T X.733: critical, major, minor, warning),
 * a source (the managed object: `node:N1`, `link:N1~N2`, `aux`, ...), raise and clear, and a
 * persisted history (LMDB, manager.lmdb).
 *
 * - Deduplicated: an alarm of the same type and source that is still active is not raised again;
 *   its `count` and `lastAt` grow (written to disk at most once a second).
 * - Rate-limited: new alarms beyond a token bucket (default a burst of 20, then 5 a second) are
 *   not stored one by one; one `alarm-flood` alarm counts them by type. Critical alarms always pass.
 * - History bounded: beyond `maxHistory` records the oldest cleared ones are dropped.
 *
 * Alarms of a condition (link down, QBER high) clear when the condition ends; alarms of events
 * (keys voided, authentication failures) have no such end and clear when an operator acknowledges
 * them. Listeners see every change ('change'); the XLMO, the metrics and the management API read here.
 */
import { EventEmitter } from 'node:events';
import type { Database } from 'lmdb';
import { ManagementError } from './errors.js';
import type { ManagerStore } from './store.js';

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Every alarm type the node raises; README.md documents each with its cause and clearing. */
export const ALARM_TYPES = {
  tamper: { severity: 'critical', text: 'the enclosure was opened: the key store was zeroized' },
  zeroized: { severity: 'critical', text: 'the key store is zeroized: no key can be supplied' },
  'relay-failure': { severity: 'major', text: 'a key relay failed' },
  'link-down': { severity: 'major', text: 'a QKD link is not producing key' },
  'qber-high': { severity: 'major', text: 'the QBER of a link is above its threshold (possible eavesdropping)' },
  'board-alarm': { severity: 'major', text: 'a QKD board reported an alarm' },
  temperature: { severity: 'minor', text: 'a temperature is outside its limits' },
  'aux-disconnected': { severity: 'major', text: 'the aux I/O board (tamper switch) is not connected' },
  'api-outage': { severity: 'major', text: 'the key supply API is failing or refusing requests above its threshold' },
  'node-unreachable': { severity: 'major', text: 'a node of the network does not answer its management API' },
  'auth-failure': { severity: 'minor', text: 'authentication failures at a Kx or key API endpoint', event: true },
  'border-refused': { severity: 'major', text: 'the interworking border refused a message that would show this network inside', event: true },
  'link-security': { severity: 'major', text: 'the authenticated channel of a QKD link refused a message', event: true },
  'config-refused': { severity: 'minor', text: 'a configuration version was refused where it applies; the version in force stays', event: true },
  'interworking-transfer': { severity: 'major', text: 'a key transfer with a peer network failed (interworking fault management)', event: true },
  'keys-voided': { severity: 'warning', text: 'keys were burned (voided) between two KMs', event: true },
  'alarm-flood': { severity: 'warning', text: 'alarms arrived faster than the rate limit: counted, not stored one by one', event: true },
} as const satisfies Record<string, { severity: Severity; text: string; event?: true }>;
export type AlarmType = keyof typeof ALARM_TYPES;

export type AlarmDetails = Readonly<Record<string, string | number | boolean>>;

export interface Alarm {
  readonly id: string;
  readonly node: string;
  readonly type: AlarmType;
  readonly severity: Severity;
  readonly source: string;
  readonly text: string;
  readonly details: AlarmDetails;
  readonly raisedAt: number;
  readonly lastAt: number;
  /** How many times it was raised while active (deduplicated). */
  readonly count: number;
  readonly state: 'active' | 'cleared';
  readonly clearedAt?: number;
  readonly acknowledgedBy?: string;
  readonly acknowledgedAt?: number;
}

export interface RaiseRequest {
  readonly type: AlarmType;
  readonly source: string;
  readonly severity?: Severity;
  readonly text?: string;
  readonly details?: AlarmDetails;
}

export type AlarmChange = { readonly op: 'raised' | 'repeated' | 'cleared' | 'acknowledged'; readonly alarm: Alarm };

export interface AlarmOptions {
  readonly node: string;
  readonly store: ManagerStore;
  readonly burst?: number;
  readonly perSecond?: number;
  readonly maxHistory?: number;
  readonly now?: () => number;
}

export interface AlarmQuery {
  readonly state?: 'active' | 'cleared' | 'all';
  readonly severity?: Severity;
  readonly type?: AlarmType;
  readonly limit?: number;
}

export class AlarmManager extends EventEmitter<{ change: [AlarmChange] }> {
  readonly node: string;
  readonly #db: Database<Alarm, string>;
  readonly #active = new Map<string, Alarm>();
  readonly #dirty = new Set<string>();
  readonly #now: () => number;
  readonly #burst: number;
  readonly #rate: number;
  readonly #maxHistory: number;
  #tokens: number;
  #refilledAt: number;
  #seq = 0;
  #pruning = false;
  #pending: Promise<unknown> = Promise.resolve();
  #stored: number;
  #suppressed = new Map<string, number>();
  #timer: NodeJS.Timeout;

  constructor(o: AlarmOptions) {
    super();
    this.node = o.node;
    this.#db = o.store.db<Alarm>('alarms');
    this.#now = o.now ?? Date.now;
    this.#burst = o.burst ?? 20;
    this.#rate = o.perSecond ?? 5;
    this.#maxHistory = o.maxHistory ?? 10_000;
    this.#tokens = this.#burst;
    this.#refilledAt = this.#now();
    let n = 0;
    for (const { value } of this.#db.getRange()) {
      n++;
      if (value.state === 'active') this.#active.set(keyOf(value.type, value.source), value);
    }
    this.#stored = n;
    this.#timer = setInterval(() => this.#flush(), 1000);
    this.#timer.unref();
  }

  /** Raises an alarm (or counts a repeat of the active one); returns it, or null when rate-limited. */
  raise(r: RaiseRequest): Alarm | null {
    const k = keyOf(r.type, r.source);
    const now = this.#now();
    const active = this.#active.get(k);
    if (active) {
      const a: Alarm = { ...active, count: active.count + 1, lastAt: now, ...(r.details ? { details: r.details } : {}) };
      this.#active.set(k, a);
      this.#dirty.add(k);
      this.emit('change', { op: 'repeated', alarm: a });
      return a;
    }
    const severity = r.severity ?? ALARM_TYPES[r.type].severity;
    if (severity !== 'critical' && r.type !== 'alarm-flood' && !this.#take(now)) {
      this.#suppressed.set(r.type, (this.#suppressed.get(r.type) ?? 0) + 1);
      const byType = Object.fromEntries(this.#suppressed);
      const total = [...this.#suppressed.values()].reduce((x, y) => x + y, 0);
      this.raise({ type: 'alarm-flood', source: `node:${this.node}`, text: `${total} alarms over the rate limit were counted, not stored`, details: { suppressed: total, ...byType } });
      return null;
    }
    const a: Alarm = {
      id: `${now.toString().padStart(14, '0')}-${(this.#seq++).toString().padStart(6, '0')}`,
      node: this.node,
      type: r.type,
      severity,
      source: r.source,
      text: r.text ?? ALARM_TYPES[r.type].text,
      details: r.details ?? {},
      raisedAt: now,
      lastAt: now,
      count: 1,
      state: 'active',
    };
    this.#active.set(k, a);
    this.#stored++;
    this.#pending = this.#db.put(a.id, a).then(() => this.#prune());
    this.emit('change', { op: 'raised', alarm: a });
    return a;
  }

  /** Clears the active alarm of this type and source, if any. */
  clear(type: AlarmType, source: string, reason?: string): Alarm | null {
    const k = keyOf(type, source);
    const active = this.#active.get(k);
    if (!active) return null;
    this.#active.delete(k);
    this.#dirty.delete(k);
    if (type === 'alarm-flood') this.#suppressed.clear();
    const a: Alarm = { ...active, state: 'cleared', clearedAt: this.#now(), ...(reason ? { details: { ...active.details, cleared: reason } } : {}) };
    // settled() covers the clear too: a reader after it sees the alarm cleared, not still active.
    const put = this.#db.put(a.id, a);
    this.#pending = Promise.all([this.#pending, put]).then(() => undefined);
    this.emit('change', { op: 'cleared', alarm: a });
    return a;
  }

  acknowledge(id: string, by: string): Alarm {
    const found = this.get(id);
    if (!found) throw new ManagementError('ERR_MGMT_NOT_FOUND', `no alarm ${id}`);
    const a: Alarm = { ...found, acknowledgedBy: by, acknowledgedAt: this.#now() };
    if (a.state === 'active') this.#active.set(keyOf(a.type, a.source), a);
    void this.#db.put(a.id, a);
    this.emit('change', { op: 'acknowledged', alarm: a });
    if (a.state === 'active' && 'event' in ALARM_TYPES[a.type]) return this.clear(a.type, a.source, `acknowledged by ${by}`)!;
    return a;
  }

  isActive(type: AlarmType, source: string): boolean {
    return this.#active.has(keyOf(type, source));
  }

  active(): Alarm[] {
    return [...this.#active.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  get(id: string): Alarm | undefined {
    for (const a of this.#active.values()) if (a.id === id) return a;
    return this.#db.get(id);
  }

  /** Newest first. */
  list(q: AlarmQuery = {}): Alarm[] {
    const limit = q.limit ?? 100;
    const state = q.state ?? 'all';
    const out: Alarm[] = [];
    const pick = (a: Alarm) => (state === 'all' || a.state === state) && (!q.severity || a.severity === q.severity) && (!q.type || a.type === q.type);
    if (state === 'active') return this.active().filter(pick).slice(0, limit);
    for (const { value } of this.#db.getRange({ reverse: true })) {
      const a = this.#active.get(keyOf(value.type, value.source))?.id === value.id ? this.#active.get(keyOf(value.type, value.source))! : value;
      if (pick(a)) out.push(a);
      if (out.length >= limit) break;
    }
    return out;
  }

  #take(now: number): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Runs after a write is committed, one at a time (reads see committed records only). */
  async #prune(): Promise<void> {
    if (this.#pruning || this.#stored <= this.#maxHistory) return;
    this.#pruning = true;
    try {
      const drop: string[] = [];
      for (const { key, value } of this.#db.getRange()) {
        if (this.#stored - drop.length <= this.#maxHistory) break;
        if (value.state === 'cleared') drop.push(key);
      }
      await Promise.all(drop.map((k) => this.#db.remove(k)));
      this.#stored -= drop.length;
    } finally {
      this.#pruning = false;
    }
  }

  #flush(): void {
    for (const k of this.#dirty) {
      const a = this.#active.get(k);
      if (a) void this.#db.put(a.id, a);
    }
    this.#dirty.clear();
  }

  /** Resolves once the last raise and clear are on disk and the history pruned after them. */
  async settled(): Promise<void> {
    await this.#pending;
  }

  /** Writes what is pending and stops the timer (the store is closed by its owner). */
  close(): void {
    clearInterval(this.#timer);
    this.#flush();
  }
}

function keyOf(type: string, source: string): string {
  return `${type}\u0000${source}`;
}
