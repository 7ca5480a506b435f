/**
 * The centralized manager of a network (`qkdn-edge manager --config <file>`, command.ts): the XLMO
 * for the whole QKDN. It collects from every node's management API over mutual TLS (its operator
 * certificate) on a poll cycle: health, the active alarms and the clearing of the ones it saw,
 * and every few cycles performance (the Y.3807 parameters), links, stocks and accounting. It holds
 * the network's alarms and accounting in its own manager.lmdb, raises its own alarm
 * `node-unreachable` for a node that stops answering (cleared at its next answer), serves all of it
 * on its own API and /metrics (network-server.ts).
 *
 * Why polling rather than a push channel: the node's management API already is the documented,
 * authenticated interface; a poll also notices a node that went silent, which a push channel
 * cannot tell from a quiet one.
 */
import { EventEmitter } from 'node:events';
import type { Database } from 'lmdb';
import pino, { type Logger } from 'pino';
import { Accounting, type AccountingQuery, type UsageRecord } from './accounting.js';
import { AlarmManager, SEVERITIES, type Alarm, type AlarmChange, type AlarmQuery } from './alarms.js';
import { ManagementError } from './errors.js';
import { NodeClient, NodeRefusedError, type NodeHealth, type NodeLink, type NodeStock } from './node-client.js';
import type { QosParameters } from './performance.js';
import { ManagerStore } from './store.js';

export interface NetworkNode {
  readonly id: string;
  /** host:port of the node's management API. */
  readonly endpoint: string;
}

export interface NetworkManagerOptions {
  /** The manager's ID (its certificates' CN). */
  readonly id: string;
  readonly dataDir: string;
  readonly nodes: readonly NetworkNode[];
  /** The manager's operator credentials toward the nodes. */
  readonly tls: { readonly ca: string | Buffer; readonly cert: string | Buffer; readonly key: string | Buffer };
  readonly pollIntervalMs?: number;
  readonly timeoutMs?: number;
  /** Polls in a row without an answer before `node-unreachable` is raised. */
  readonly unreachableAfter?: number;
  /** Performance, links, stocks and accounting are read every this many polls. */
  readonly detailEvery?: number;
  readonly log?: Logger;
}

export interface NodeStatus {
  readonly node: string;
  readonly endpoint: string;
  /** null until the first poll ended. */
  readonly reachable: boolean | null;
  readonly lastSeenAt: number | null;
  readonly lastError: string | null;
  readonly failures: number;
  readonly zeroized: boolean | null;
  readonly alarms: NodeHealth['alarms'] | null;
}

export interface NodePerformance {
  readonly at: number;
  readonly qos: QosParameters;
}

/** An alarm change seen in the network: at a node (mirrored) or the manager's own. */
export type NetworkAlarmChange = AlarmChange & { readonly at: 'node' | 'manager' };

export type NetworkUsageRecord = UsageRecord & { readonly node: string };

const mirrorKey = (a: Alarm) => `${a.id}\u0000${a.node}`;
const same = (a: Alarm, b: Alarm) => a.count === b.count && a.lastAt === b.lastAt && a.state === b.state && a.acknowledgedAt === b.acknowledgedAt;

export class NetworkManager extends EventEmitter<{ alarm: [NetworkAlarmChange]; node: [NodeStatus]; poll: [node: string, answered: boolean] }> {
  readonly id: string;
  readonly log: Logger;
  readonly store: ManagerStore;
  /** The manager's own alarms (node-unreachable, ...), in its own history. */
  readonly alarms: AlarmManager;
  readonly #o: NetworkManagerOptions;
  readonly #clients = new Map<string, NodeClient>();
  readonly #status = new Map<string, NodeStatus>();
  /** The nodes' alarms: history in LMDB, the active ones per node in memory. */
  readonly #mirror: Database<Alarm, string>;
  readonly #active = new Map<string, Map<string, Alarm>>();
  readonly #accounting: Database<NetworkUsageRecord, string>;
  readonly #accounted = new Map<string, number>();
  readonly #accountedNodes = new Set<string>();
  readonly #performance = new Map<string, NodePerformance>();
  readonly #links = new Map<string, readonly NodeLink[]>();
  readonly #stocks = new Map<string, readonly NodeStock[]>();
  readonly #polls = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #cycle: Promise<void> | null = null;
  #stopped = false;

  private constructor(o: NetworkManagerOptions, store: ManagerStore) {
    super();
    this.#o = o;
    this.id = o.id;
    this.log = o.log ?? pino({ level: 'silent' });
    this.store = store;
    this.alarms = new AlarmManager({ node: o.id, store });
    this.alarms.on('change', (c) => this.#changed({ ...c, at: 'manager' }));
    this.#mirror = store.db<Alarm>('network-alarms');
    this.#accounting = store.db<NetworkUsageRecord>('network-accounting');
    for (const n of o.nodes) {
      this.#clients.set(n.id, new NodeClient({ node: n.id, endpoint: n.endpoint, tls: o.tls, ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) }));
      this.#status.set(n.id, { node: n.id, endpoint: n.endpoint, reachable: null, lastSeenAt: null, lastError: null, failures: 0, zeroized: null, alarms: null });
      this.#active.set(n.id, new Map());
      this.#polls.set(n.id, 0);
    }
    for (const { value } of this.#mirror.getRange()) if (value.state === 'active') this.#active.get(value.node)?.set(value.id, value);
  }

  static async start(o: NetworkManagerOptions): Promise<NetworkManager> {
    const m = new NetworkManager(o, ManagerStore.open(o.dataDir));
    const every = o.pollIntervalMs ?? 1000;
    const tick = () => {
      if (m.#stopped) return;
      m.#cycle = m.pollOnce().finally(() => {
        m.#cycle = null;
        if (!m.#stopped) m.#timer = setTimeout(tick, every);
      });
    };
    tick();
    return m;
  }

  /** One poll of every node, in parallel; resolves when each answered or failed. */
  async pollOnce(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => this.#poll(c)));
  }

  async #poll(c: NodeClient): Promise<void> {
    const n = c.node;
    const before = this.#status.get(n)!;
    try {
      const health = await c.get('health', '/api/v1/health');
      if (health.node !== n) throw new NodeRefusedError(n, 200, { message: `the node at ${before.endpoint} says it is ${health.node}` });
      await this.#pollAlarms(c);
      const round = this.#polls.get(n)!;
      this.#polls.set(n, round + 1);
      if (round % (this.#o.detailEvery ?? 5) === 0) await this.#pollDetail(c);
      this.#setStatus({ ...before, reachable: true, lastSeenAt: Date.now(), lastError: null, failures: 0, zeroized: health.zeroized, alarms: health.alarms });
      this.alarms.clear('node-unreachable', `node:${n}`, `${n} answers again`);
      this.emit('poll', n, true);
    } catch (e) {
      if (this.#stopped) return;
      this.emit('poll', n, false);
      const failures = before.failures + 1;
      const reason = (e as Error).message.slice(0, 300);
      const down = failures >= (this.#o.unreachableAfter ?? 2);
      this.#setStatus({ ...before, reachable: down ? false : before.reachable, lastError: reason, failures });
      if (down) this.alarms.raise({ type: 'node-unreachable', source: `node:${n}`, text: `${n} does not answer its management API (${failures} polls): ${reason}`.slice(0, 300), details: { failures, endpoint: before.endpoint } });
    }
  }

  #setStatus(s: NodeStatus): void {
    const before = this.#status.get(s.node);
    this.#status.set(s.node, s);
    if (before?.reachable !== s.reachable) {
      this.log[s.reachable === false ? 'warn' : 'info']({ node: s.node, reachable: s.reachable, error: s.lastError }, 'node status');
      this.emit('node', s);
    }
  }

  /** The node's active alarms: new or changed ones stored, the ones gone from it read once more (cleared). */
  async #pollAlarms(c: NodeClient): Promise<void> {
    const active = this.#active.get(c.node)!;
    const now = (await c.get('alarms', '/api/v1/alarms?state=active&limit=10000')).alarms.filter((a) => a.node === c.node);
    const seen = new Set<string>();
    for (const a of now) {
      seen.add(a.id);
      const old = active.get(a.id);
      if (old && same(old, a)) continue;
      active.set(a.id, a);
      void this.#mirror.put(mirrorKey(a), a);
      this.#changed({ op: old ? 'repeated' : 'raised', alarm: a, at: 'node' });
    }
    for (const [id, old] of [...active]) {
      if (seen.has(id)) continue;
      let a: Alarm;
      try {
        a = await c.get('alarm', `/api/v1/alarms/${id}`);
      } catch (e) {
        if (!(e instanceof NodeRefusedError && e.status === 404)) throw e;
        a = { ...old, state: 'cleared', clearedAt: Date.now(), details: { ...old.details, cleared: 'no longer in the node history' } };
      }
      if (a.state === 'active') continue; // raised again between the two reads: the next poll sees it
      active.delete(id);
      void this.#mirror.put(mirrorKey(a), a);
      this.#changed({ op: 'cleared', alarm: a, at: 'node' });
    }
  }

  async #pollDetail(c: NodeClient): Promise<void> {
    const n = c.node;
    const [perf, links, stocks] = await Promise.all([c.get('performance', '/api/v1/performance'), c.get('links', '/api/v1/links'), c.get('stocks', '/api/v1/stocks')]);
    this.#performance.set(n, { at: Date.now(), qos: perf.qos });
    this.#links.set(n, links.links);
    this.#stocks.set(n, stocks.stocks);
    // Records are per subject and UTC day, cumulative: from yesterday on is enough after the first read.
    const since = this.#accountedNodes.has(n) ? `&from=${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}` : '';
    const acc = await c.get('accounting', `/api/v1/accounting?format=json${since}`);
    await this.#accounting.transaction(() => {
      for (const r of acc.records) {
        const k = `${n}\u0000${r.dimension}\u0000${r.subject}\u0000${r.day}`;
        if (this.#accounted.get(k) === r.lastAt) continue;
        this.#accounted.set(k, r.lastAt);
        void this.#accounting.put(k, { node: n, dimension: r.dimension, subject: r.subject, day: r.day, keys: r.keys, bits: r.bits, requests: r.requests, firstAt: r.firstAt, lastAt: r.lastAt });
      }
    });
    this.#accountedNodes.add(n);
  }

  #changed(c: NetworkAlarmChange): void {
    if (c.op === 'raised' || c.op === 'cleared') this.log[c.op === 'raised' && (c.alarm.severity === 'critical' || c.alarm.severity === 'major') ? 'warn' : 'info']({ alarm: c.alarm.id, node: c.alarm.node, op: c.op, type: c.alarm.type, severity: c.alarm.severity, source: c.alarm.source }, `network alarm ${c.op}`);
    this.emit('alarm', c);
  }

  nodes(): NodeStatus[] {
    return [...this.#status.values()];
  }

  client(node: string): NodeClient {
    const c = this.#clients.get(node);
    if (!c) throw new ManagementError('ERR_MGMT_NOT_FOUND', `no node ${node} in this network`);
    return c;
  }

  /** The network's alarms, the manager's own among them, newest first. */
  listAlarms(q: AlarmQuery & { readonly node?: string } = {}): Alarm[] {
    const limit = q.limit ?? 100;
    const state = q.state ?? 'active';
    const pick = (a: Alarm) => (state === 'all' || a.state === state) && (!q.severity || a.severity === q.severity) && (!q.type || a.type === q.type) && (!q.node || a.node === q.node);
    const own = q.node && q.node !== this.id ? [] : this.alarms.list({ state, limit, ...(q.severity ? { severity: q.severity } : {}), ...(q.type ? { type: q.type } : {}) });
    const theirs: Alarm[] = [];
    if (state === 'active') for (const m of this.#active.values()) theirs.push(...[...m.values()].filter(pick));
    else
      for (const { value } of this.#mirror.getRange({ reverse: true })) {
        const a = this.#active.get(value.node)?.get(value.id) ?? value;
        if (pick(a)) theirs.push(a);
        if (theirs.length >= limit) break;
      }
    return [...own, ...theirs].sort((a, b) => b.raisedAt - a.raisedAt || (a.id < b.id ? 1 : -1)).slice(0, limit);
  }

  activeBySeverity(): Record<(typeof SEVERITIES)[number], number> {
    const out = { critical: 0, major: 0, minor: 0, warning: 0 };
    for (const a of this.listAlarms({ state: 'active', limit: 100_000 })) out[a.severity]++;
    return out;
  }

  /** Acknowledges at the node that holds the alarm (or here, for the manager's own). */
  async acknowledge(node: string, id: string, by: string): Promise<Alarm> {
    if (node === this.id) return this.alarms.acknowledge(id, by);
    const c = this.client(node);
    try {
      const a = await c.send('alarm', 'POST', `/api/v1/alarms/${id}/ack`);
      const active = this.#active.get(node)!;
      if (a.state === 'active') active.set(a.id, a);
      else if (active.delete(a.id)) this.#changed({ op: 'cleared', alarm: a, at: 'node' });
      void this.#mirror.put(mirrorKey(a), a);
      return a;
    } catch (e) {
      if (e instanceof NodeRefusedError && e.status === 404) throw new ManagementError('ERR_MGMT_NOT_FOUND', `no alarm ${id} at ${node}`);
      throw new ManagementError('ERR_MGMT_UNAVAILABLE', `${node} could not acknowledge: ${(e as Error).message}`.slice(0, 300));
    }
  }

  accounting(q: AccountingQuery & { readonly node?: string } = {}): NetworkUsageRecord[] {
    const out: NetworkUsageRecord[] = [];
    const range = q.node ? { start: `${q.node}\u0000`, end: `${q.node}\u0000\uffff` } : {};
    for (const { value: r } of this.#accounting.getRange(range)) {
      if ((q.dimension && r.dimension !== q.dimension) || (q.subject !== undefined && r.subject !== q.subject) || (q.from && r.day < q.from) || (q.to && r.day > q.to)) continue;
      out.push(r);
    }
    return out;
  }

  static csv(records: readonly NetworkUsageRecord[]): string {
    return Accounting.csv(records, true);
  }

  performance(): Record<string, NodePerformance> {
    return Object.fromEntries(this.#performance);
  }

  links(): Record<string, readonly NodeLink[]> {
    return Object.fromEntries(this.#links);
  }

  stocks(): Record<string, readonly NodeStock[]> {
    return Object.fromEntries(this.#stocks);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#cycle?.catch(() => undefined);
    for (const c of this.#clients.values()) c.close();
    this.alarms.close();
    await this.store.close();
  }
}
