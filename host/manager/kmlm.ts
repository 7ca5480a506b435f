/**
 * KMLM, the key management layer manager: follows this node's KM from its diagnostics channels
 * (relays, relay hops, supplies, burns) and reads its stocks when asked. Feeds the metrics, the
 * time series, the QoS tracker and accounting; raises `relay-failure` and `keys-voided`; reports
 * each relay failure to the XLMO (the first step of Y.3818 Fig. 11 inside the network); feeds the
 * key supply API's outage alarms (supply-watch.ts) with every request's outcome and the API's
 * outage summaries.
 */
import { CHANNELS, type RelayEvent, type RelayHopEvent, type SupplyEvent, type SupplyOutageEvent, type SyncEvent } from '../km/diagnostics.js';
import { linkBetween, type ManagedKm, type PoolKind } from './view.js';
import type { Accounting } from './accounting.js';
import type { AlarmManager } from './alarms.js';
import { listen, MANAGER_CHANNELS, type PeerNetworkUsage } from './diagnostics.js';
import type { ManagerMetrics } from './metrics.js';
import type { QosTracker, TimeSeries } from './performance.js';
import type { SupplyWatch } from './supply-watch.js';

export interface RelayFailureReport {
  readonly node: string;
  readonly relay: string;
  readonly route: readonly string[];
  readonly failedHop?: number;
  readonly reason?: string;
  readonly alarm: string;
  readonly at: number;
}

export interface StockView {
  readonly peer: string;
  readonly origin: PoolKind;
  readonly link?: string;
  readonly units: number;
  readonly bits: number;
}

export interface KmlmOptions {
  readonly km: ManagedKm;
  readonly alarms: AlarmManager;
  readonly metrics: ManagerMetrics;
  readonly series: TimeSeries;
  readonly qos: QosTracker;
  readonly accounting: Accounting;
  readonly onRelayFailure: (r: RelayFailureReport) => void;
  readonly onVoid?: (e: SyncEvent) => void;
  /** The key supply API's outage alarms. */
  readonly watch?: SupplyWatch;
}

export class Kmlm {
  readonly #o: KmlmOptions;
  readonly node: string;
  #off: (() => void) | null = null;
  #linksOf: object | null = null;
  readonly #direct = new Map<string, string | null>();
  readonly #tallies = new Map<string, { kind: SupplyEvent['kind']; outcome: SupplyEvent['outcome']; requests: number; keys: number; bits: number; response: { observe(v: number): void } }>();

  constructor(o: KmlmOptions) {
    this.#o = o;
    this.node = o.km.nodeId;
    o.metrics.kmFrom(() => this.stocks(), () => o.km.store.zeroized);
    o.metrics.suppliesFrom(() => this.#flushTallies());
  }

  start(meter?: (ms: number) => void): void {
    this.#off = listen(
      {
        [CHANNELS.supply]: (m) => this.#supply(m as SupplyEvent),
        [CHANNELS.relay]: (m) => this.#relay(m as RelayEvent),
        [CHANNELS.relayHop]: (m) => this.#hop(m as RelayHopEvent),
        [CHANNELS.sync]: (m) => this.#sync(m as SyncEvent),
        [MANAGER_CHANNELS.peerNetworkUsage]: (m) => this.#peerNetwork(m as PeerNetworkUsage),
        [CHANNELS.supplyOutage]: (m) => this.#o.watch?.outage(m as SupplyOutageEvent),
      },
      meter,
    );
  }

  stop(): void {
    this.#off?.();
    this.#off = null;
  }

  /** Available key material per peer KM and pool, now. */
  stocks(): StockView[] {
    const km = this.#o.km;
    if (km.store.zeroized) return [];
    return km.store.pools().map(({ peer, origin }) => {
      const units = km.store.counts(peer, origin).available;
      const link = origin === 'link' ? linkBetween(km.topology, km.nodeId, peer)?.id : undefined;
      return { peer, origin, ...(link ? { link } : {}), units, bits: units * km.unitBits };
    });
  }

  /** Supply counts since the last scrape, per kind and outcome, added to the counters when scraped. */
  #tally(kind: SupplyEvent['kind'], outcome: SupplyEvent['outcome']) {
    const k = `${kind}|${outcome}`;
    let c = this.#tallies.get(k);
    if (!c) {
      const m = this.#o.metrics;
      c = { kind, outcome, requests: 0, keys: 0, bits: 0, response: m.keyResponse.labels({ kind }) };
      this.#tallies.set(k, c);
    }
    return c;
  }

  #flushTallies(): void {
    const m = this.#o.metrics;
    for (const c of this.#tallies.values()) {
      if (c.requests > 0) m.supplies.inc({ kind: c.kind, outcome: c.outcome }, c.requests);
      if (c.keys > 0) m.suppliedKeys.inc({ kind: c.kind }, c.keys);
      if (c.bits > 0) m.suppliedBits.inc({ kind: c.kind }, c.bits);
      c.requests = c.keys = c.bits = 0;
    }
  }

  #supply(e: SupplyEvent): void {
    if (e.node !== this.node) return;
    const c = this.#tally(e.kind, e.outcome);
    c.requests++;
    const bits = e.keys * e.size;
    const master = e.master;
    const slave = e.slaves[0] ?? '';
    const pair = `${master}>${slave}`;
    if (e.outcome === 'delivered') {
      c.keys += e.keys;
      c.bits += bits;
      c.response.observe(e.latencyMs / 1000);
      const acc = this.#o.accounting;
      if (e.kind === 'enc_keys') {
        acc.record('sae', master, e.keys, bits);
        acc.record('sae-pair', pair, e.keys, bits);
        // A direct supply consumes the link to the slave's node; relayed key is accounted per link when relayed.
        const link = this.#directLink(slave);
        if (link) acc.record('link', link, e.keys, bits);
      } else {
        for (const s of e.slaves) acc.record('sae', s, e.keys, bits);
      }
    }
    this.#o.watch?.outcome(e.outcome === 'delivered');
    this.#o.qos.supply({ pair: `${e.kind}:${pair}`, at: Date.now(), outcome: e.outcome, latencyMs: e.latencyMs, bits: e.outcome === 'delivered' ? bits : 0, keys: e.outcome === 'delivered' ? e.keys : 0 });
  }

  /** The link to a slave SAE's node, per SAE, looked up again only when the topology changes (not per supply). */
  #directLink(slave: string): string | undefined {
    const t = this.#o.km.topology;
    if (t !== this.#linksOf) {
      this.#linksOf = t;
      this.#direct.clear();
    }
    let l = this.#direct.get(slave);
    if (l === undefined) {
      const target = t.saes.get(slave);
      l = (target ? linkBetween(t, this.node, target)?.id : undefined) ?? null;
      this.#direct.set(slave, l);
    }
    return l ?? undefined;
  }

  #relay(e: RelayEvent): void {
    if (e.node !== this.node) return;
    const m = this.#o.metrics;
    m.relays.inc({ outcome: e.outcome });
    const ends = `${e.route[0] ?? '?'}>${e.route[e.route.length - 1] ?? '?'}`;
    const source = `relay:${ends}`;
    if (e.outcome === 'completed') {
      m.relayDuration.observe(e.latencyMs / 1000);
      this.#o.series.record('relay_latency_seconds', { route: ends }, e.latencyMs / 1000);
      for (let i = 1; i < e.route.length; i++) {
        const link = linkBetween(this.#o.km.topology, e.route[i - 1]!, e.route[i]!);
        if (link) this.#o.accounting.record('link', link.id, e.keys, e.keys * e.bits);
      }
      this.#o.alarms.clear('relay-failure', source, `relay ${e.route.join('-')} completed`);
      return;
    }
    this.#o.qos.burned(e.keys);
    const alarm = this.#o.alarms.raise({
      type: 'relay-failure',
      source,
      text: `relay ${e.route.join('-')} failed${e.failedHop !== undefined ? ` at hop ${e.failedHop} (${e.route[e.failedHop] ?? '?'})` : ''}: ${e.reason ?? 'no reason given'}`.slice(0, 300),
      details: { route: e.route.join('-'), ...(e.failedHop !== undefined ? { failedHop: e.failedHop } : {}), ...(e.reason ? { reason: e.reason.slice(0, 200) } : {}) },
    });
    this.#o.onRelayFailure({ node: this.node, relay: e.relay, route: e.route, ...(e.failedHop !== undefined ? { failedHop: e.failedHop } : {}), ...(e.reason ? { reason: e.reason } : {}), alarm: alarm?.id ?? '', at: Date.now() });
  }

  #hop(e: RelayHopEvent): void {
    if (e.node !== this.node) return;
    this.#o.metrics.relayHops.inc({ outcome: e.outcome });
  }

  #sync(e: SyncEvent): void {
    if (e.node !== this.node) return;
    this.#o.metrics.burnedKeys.inc({ kind: e.kind }, e.keys);
    this.#o.qos.burned(e.keys);
    this.#o.alarms.raise({ type: 'keys-voided', source: `peer:${e.peer}`, text: `${e.keys} keys burned with ${e.peer} (${e.kind}): ${e.reason}`.slice(0, 300), details: { kind: e.kind, keys: e.keys } });
    this.#o.onVoid?.(e);
  }

  #peerNetwork(e: PeerNetworkUsage): void {
    if (e.node !== this.node) return;
    this.#o.accounting.record('peer-network', e.network, e.keys, e.bits);
  }
}
