/**
 * One controller: view, routing, session, policy and configuration control put together, with
 * the Ck/Cq request handling both forms share. The distributed form runs one in every node (its
 * view fed by the link-state database); the centralized form runs one per replica and serves Ck
 * only while it leads (central/replica.ts).
 */
import { ControllerView, LINK_STATUSES, type LinkPhysState, type NetworkConfig } from './view.js';
import { SessionControl } from './sessions.js';
import { ControllerRouter, type RelayRoute, type RelayRouteRequest } from './router.js';
import { SupplyPolicyControl, type PolicyConfig } from './policy.js';
import { ConfigurationControl } from './configuration.js';
import type { ControlStore } from './store.js';
import type { ControlAnswer } from './channel.js';
import type { ControlMessage } from './wire.js';
import type { Session } from './sessions.js';
import { publishTrigger } from './diagnostics.js';

export interface ControllerOptions {
  readonly store: ControlStore;
  readonly config: NetworkConfig;
  readonly configVersion?: number;
  readonly unitBits: number;
  readonly lowWaterUnits: number;
  readonly policy?: PolicyConfig;
  /** A KM not heard from for this long is lost (its links carry no relay). */
  readonly kmTimeoutMs?: number;
}

const SESSIONS = 'sessions/';

export class Controller {
  readonly view: ControllerView;
  readonly sessions = new SessionControl();
  readonly router: ControllerRouter;
  readonly policy: SupplyPolicyControl;
  readonly configuration: ConfigurationControl;
  readonly store: ControlStore;
  readonly #kmTimeoutMs: number;
  /** Cq: the last report of each end of each link. */
  readonly #linkEnds = new Map<string, Map<string, LinkPhysState>>();
  #timer: NodeJS.Timeout | null = null;
  readonly #writes = new Map<string, Promise<void>>();
  /** The store write of each admission, awaited before the route is given out. */
  readonly #durable = new Map<string, Promise<void>>();
  /** Called when a store write fails (the centralized replica steps down on it). */
  onStoreError: (e: Error) => void = () => {};

  constructor(o: ControllerOptions) {
    this.store = o.store;
    this.view = new ControllerView({ unitBits: o.unitBits, lowWaterUnits: o.lowWaterUnits });
    this.router = new ControllerRouter(this.view, this.sessions);
    this.policy = new SupplyPolicyControl(o.policy ?? {});
    this.configuration = new ConfigurationControl(o.store, o.config, o.configVersion ?? 1);
    this.#kmTimeoutMs = o.kmTimeoutMs ?? 3000;
    this.configuration.subscribe((c, v) => {
      if (v > this.view.configVersion) this.view.configure(c, v);
    });
    this.view.on('trigger', (t) => {
      const voided = this.sessions.onTrigger(t);
      publishTrigger({ reason: t.reason, links: t.links, ...(t.node ? { node: t.node } : {}), voided: voided.length });
    });
    // Sessions are state: a new leader must not hand out units an old one reserved.
    this.sessions.on('admitted', (s) => {
      const stored = this.#write(SESSIONS + s.relayId, JSON.stringify(s));
      stored.catch(() => {}); // awaited by route(); onStoreError has it already
      this.#durable.set(s.relayId, stored);
    });
    this.sessions.on('released', (s) => void this.#write(SESSIONS + s.relayId, null).catch(() => {}));
  }

  /** Writes to one key go out in order (a reroute releases and re-admits the same relay at once). */
  #write(key: string, value: string | null): Promise<void> {
    const prev = this.#writes.get(key) ?? Promise.resolve();
    const done = prev.then(() => (value === null ? this.store.delete(key) : this.store.put(key, value)));
    const next = done
      .catch((e: unknown) => this.onStoreError(e as Error))
      .finally(() => {
        if (this.#writes.get(key) === next) this.#writes.delete(key);
      });
    this.#writes.set(key, next);
    return done;
  }

  /** Resolves when every session write issued so far has been stored. */
  async flushed(): Promise<void> {
    await Promise.all([...this.#writes.values()]);
  }

  /** Loads configuration and live sessions from the store; starts the KM liveness check. */
  async start(): Promise<void> {
    await this.configuration.load();
    const now = Date.now();
    for (const raw of (await this.store.list(SESSIONS)).values()) {
      const s = JSON.parse(raw) as Session;
      if (s.deadline > now) this.sessions.admit({ relayId: s.relayId, from: s.from, to: s.to, units: s.units, deadline: s.deadline, priority: s.priority, attempt: s.attempt, avoidLinks: [] }, s.route);
    }
    this.#durable.clear();
    this.#timer = setInterval(() => this.view.expireKms(Date.now(), this.#kmTimeoutMs), Math.max(100, this.#kmTimeoutMs / 4));
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.sessions.removeAllListeners('released');
    this.sessions.close();
  }

  /**
   * Computes and admits a route, and resolves once its reservation is stored: a leader that dies
   * right after answering leaves the reservation to its successor, which then cannot hand the same
   * units out again. A failed write releases the reservation and refuses the route.
   */
  async route(req: RelayRouteRequest): Promise<RelayRoute> {
    const r = this.router.routeNow(req);
    const stored = this.#durable.get(req.relayId);
    this.#durable.delete(req.relayId);
    try {
      await stored;
    } catch (e) {
      this.sessions.release(req.relayId, 'failed');
      throw e;
    }
    return r;
  }

  /**
   * Each end's module reports its own view of the link: the worse status stands (a link one end
   * sees cut is cut), and either end's QBER alarm, as the distributed form combines advertisements.
   */
  #reportEnd(link: string, node: string, p: LinkPhysState): void {
    let ends = this.#linkEnds.get(link);
    if (!ends) this.#linkEnds.set(link, (ends = new Map()));
    ends.set(node, { status: p.status, skr: p.skr, eskr: p.eskr, qber: p.qber, qberAlarm: p.qberAlarm });
    const seen = [...ends.values()];
    const worst = seen.reduce((w, e) => (LINK_STATUSES.indexOf(e.status) > LINK_STATUSES.indexOf(w.status) ? e : w));
    this.view.reportLink(link, { ...worst, qberAlarm: seen.some((e) => e.qberAlarm) });
  }

  /** Ck and Cq requests from a KM (or a node on behalf of its QKD modules). */
  async handle(peer: string, m: ControlMessage): Promise<ControlAnswer> {
    const ack = (status = 'ok', reason?: string): ControlAnswer => ({ name: 'Ack', body: { status, ...(reason ? { reason } : {}) } });
    try {
      switch (m.name) {
        case 'KmReport': {
          if (m.body.node !== peer) return ack('ERR_CTL_NOT_PERMITTED', 'a KM reports only for itself');
          const at = Date.now();
          this.view.kmSeen(peer, m.body.boot, at);
          for (const l of m.body.links) this.view.reportStock(l.link, peer, { stockBits: l.stockBits, consumptionBps: l.consumptionBps, at });
          return ack();
        }
        case 'LinkReport': {
          const l = this.view.link(m.body.link);
          if (m.body.node !== peer || !l || !l.ends.includes(peer)) return ack('ERR_CTL_NOT_PERMITTED', 'a node reports only its own links');
          this.#reportEnd(m.body.link, peer, m.body);
          return ack();
        }
        case 'RouteRequest': {
          if (m.body.from !== peer) return { name: 'RouteAnswer', body: { relay: m.body.relayId, status: 'ERR_CTL_NOT_PERMITTED', reason: 'a KM routes only relays it starts' } };
          const r = await this.route(m.body);
          return { name: 'RouteAnswer', body: { relay: m.body.relayId, status: 'ok', nodes: r.nodes, links: r.links, version: r.version } };
        }
        case 'RouteRelease': {
          const s = this.sessions.get(m.body.relay);
          if (s && s.from !== peer) return ack('ERR_CTL_NOT_PERMITTED', 'a KM releases only its own relays');
          this.sessions.release(m.body.relay, m.body.outcome);
          return ack();
        }
        default:
          return ack('ERR_CTL_UNKNOWN_TYPE', `${m.name} is not a Ck or Cq request`);
      }
    } catch (e) {
      const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'ERR_CTL_INTERNAL';
      if (m.name === 'RouteRequest') return { name: 'RouteAnswer', body: { relay: m.body.relayId, status: code, reason: (e as Error).message.slice(0, 500) } };
      return ack(code, (e as Error).message.slice(0, 500));
    }
  }
}
