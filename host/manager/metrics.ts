/**
 * The node's Prometheus metrics (prom-client): one Registry per node process, served at /metrics
 * on the management port. Names carry their base unit (seconds, bits, celsius, ratio) and counters
 * end in `_total`. Labels name links, peers, SAE kinds and outcomes only: never a key ID, a relay
 * ID or key material (the set of label values stays small however long the node runs).
 */
import { createRequire } from 'node:module';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QosParameters } from './performance.js';

const require = createRequire(import.meta.url);

/**
 * prom-client's default process metrics (`process_cpu_seconds_total`, `nodejs_*`) in `registry`,
 * all but `nodejs_gc_duration_seconds`: its collector keeps a PerformanceObserver on every garbage
 * collection, which costs an allocating process 15-20 % more CPU (README.md, Figures, has the
 * command), more than the whole management layer may cost on the key supply path. Each collector
 * is prom-client's own, found by the names prom-client lists.
 */
export function processMetrics(registry: Registry): void {
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === 'gc') continue;
    const collect = require(`prom-client/lib/metrics/${name}`) as (r: Registry, config: { eventLoopMonitoringPrecision: number }) => void;
    collect(registry, { eventLoopMonitoringPrecision: 10 });
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ManagerMetrics {
  readonly registry = new Registry();

  // quantum layer (QLM)
  readonly linkUp: Gauge<'link' | 'role'>;
  readonly linkQber: Gauge<'link' | 'role' | 'basis'>;
  readonly linkKeyRate: Gauge<'link' | 'role'>;
  readonly linkKeyBits: Counter<'link' | 'role'>;
  readonly linkBlocks: Counter<'link' | 'role' | 'outcome'>;
  readonly boardAlarms: Counter<'link' | 'board' | 'severity'>;
  readonly boardTemperature: Gauge<'link' | 'board' | 'sensor'>;
  readonly auxTemperature: Gauge<'sensor'>;
  readonly enclosureOpen: Gauge;

  // key management layer (KMLM)
  readonly supplies: Counter<'kind' | 'outcome'>;
  readonly suppliedKeys: Counter<'kind'>;
  readonly suppliedBits: Counter<'kind'>;
  readonly keyResponse: Histogram<'kind'>;
  readonly relays: Counter<'outcome'>;
  readonly relayDuration: Histogram;
  readonly relayHops: Counter<'outcome'>;
  readonly burnedKeys: Counter<'kind'>;
  readonly stockBits: Gauge<'peer' | 'origin'>;
  readonly zeroized: Gauge;

  // control layer (QCLM)
  readonly routes: Counter<'kind'>;
  readonly policyRefusals: Counter<'code'>;
  readonly sessions: Gauge;
  readonly decisions: Counter<'action'>;

  // management
  readonly alarmsRaised: Counter<'type' | 'severity'>;
  readonly alarmsActive: Gauge<'severity'>;
  readonly securityEvents: Counter<'kind'>;
  /** Where the gauges computed at scrape time read their values (set by the managers). */
  readonly #hooks: {
    qos: (() => QosParameters) | null;
    stocks: (() => readonly { peer: string; origin: string; bits: number }[]) | null;
    zeroized: (() => boolean) | null;
    alarms: (() => Readonly<Record<string, number>>) | null;
    supplies: (() => void) | null;
  } = { qos: null, stocks: null, zeroized: null, alarms: null, supplies: null };

  constructor(node: string) {
    const r = [this.registry];
    this.registry.setDefaultLabels({ node });
    processMetrics(this.registry);
    this.linkUp = new Gauge({ name: 'qkdn_link_up', help: 'Whether the QKD link end is synchronised and producing blocks (1) or not (0)', labelNames: ['link', 'role'], registers: r });
    this.linkQber = new Gauge({ name: 'qkdn_link_qber_ratio', help: 'QBER of the last block, per basis', labelNames: ['link', 'role', 'basis'], registers: r });
    this.linkKeyRate = new Gauge({ name: 'qkdn_link_secret_key_rate_bits_per_second', help: 'Secret key rate of the last block (final bits over the block duration)', labelNames: ['link', 'role'], registers: r });
    this.linkKeyBits = new Counter({ name: 'qkdn_link_secret_key_bits_total', help: 'Secret key bits the link produced', labelNames: ['link', 'role'], registers: r });
    this.linkBlocks = new Counter({ name: 'qkdn_link_blocks_total', help: 'Blocks the link ended, by outcome (key, no-key, aborted)', labelNames: ['link', 'role', 'outcome'], registers: r });
    this.boardAlarms = new Counter({ name: 'qkdn_board_alarms_total', help: 'Alarms the QKD boards raised', labelNames: ['link', 'board', 'severity'], registers: r });
    this.boardTemperature = new Gauge({ name: 'qkdn_board_temperature_celsius', help: 'Temperatures in the QKD boards telemetry', labelNames: ['link', 'board', 'sensor'], registers: r });
    this.auxTemperature = new Gauge({ name: 'qkdn_aux_temperature_celsius', help: 'Detector and enclosure temperatures read by the aux I/O board', labelNames: ['sensor'], registers: r });
    this.enclosureOpen = new Gauge({ name: 'qkdn_enclosure_open', help: 'Whether the enclosure tamper switch reads open (1)', registers: r });
    const hooks = this.#hooks;
    // The supply counters are counted by the KMLM in plain numbers and added here when scraped:
    // a labelled inc() hashes its labels, three times per request on the key supply path.
    const supplies = () => hooks.supplies?.();
    this.supplies = new Counter({ name: 'qkdn_km_supply_requests_total', help: 'ETSI 014 enc_keys/dec_keys requests, by outcome', labelNames: ['kind', 'outcome'], registers: r, collect: supplies });
    this.suppliedKeys = new Counter({ name: 'qkdn_km_supplied_keys_total', help: 'Keys delivered to SAEs', labelNames: ['kind'], registers: r, collect: supplies });
    this.suppliedBits = new Counter({ name: 'qkdn_km_supplied_bits_total', help: 'Key bits delivered to SAEs', labelNames: ['kind'], registers: r, collect: supplies });
    this.keyResponse = new Histogram({ name: 'qkdn_km_key_response_seconds', help: 'Time from a key request to its answer (Y.3807 key response delay)', labelNames: ['kind'], buckets: LATENCY_BUCKETS, registers: r });
    this.relays = new Counter({ name: 'qkdn_km_relays_total', help: 'Key relays this node started, by outcome', labelNames: ['outcome'], registers: r });
    this.relayDuration = new Histogram({ name: 'qkdn_km_relay_duration_seconds', help: 'Relay latency at the source, start to completion notification', buckets: LATENCY_BUCKETS, registers: r });
    this.relayHops = new Counter({ name: 'qkdn_km_relay_hops_total', help: 'Relay hops this node carried, by outcome', labelNames: ['outcome'], registers: r });
    this.burnedKeys = new Counter({ name: 'qkdn_km_burned_keys_total', help: 'Keys burned by recovery or Voids (lost to the service)', labelNames: ['kind'], registers: r });
    this.stockBits = new Gauge({
      name: 'qkdn_km_stock_bits',
      help: 'Key material available per peer KM and pool',
      labelNames: ['peer', 'origin'],
      registers: r,
      collect: function (this: Gauge<'peer' | 'origin'>) {
        if (!hooks.stocks) return;
        this.reset();
        for (const s of hooks.stocks()) this.set({ peer: s.peer, origin: s.origin }, s.bits);
      },
    });
    this.zeroized = new Gauge({
      name: 'qkdn_km_zeroized',
      help: 'Whether the key store was zeroized (1)',
      registers: r,
      collect: function (this: Gauge) {
        if (hooks.zeroized) this.set(hooks.zeroized() ? 1 : 0);
      },
    });
    this.routes = new Counter({ name: 'qkdn_controller_routes_total', help: 'Relay routes the controller chose (route) and changed (reroute)', labelNames: ['kind'], registers: r });
    this.policyRefusals = new Counter({ name: 'qkdn_controller_policy_refusals_total', help: 'Supplies the controller refused by policy', labelNames: ['code'], registers: r });
    this.sessions = new Gauge({ name: 'qkdn_controller_sessions', help: 'Open key supply sessions', registers: r });
    this.decisions = new Counter({ name: 'qkdn_manager_decisions_total', help: 'Decisions the QCLM took on diagnosed faults', labelNames: ['action'], registers: r });
    this.alarmsRaised = new Counter({ name: 'qkdn_alarms_raised_total', help: 'Alarms raised (repeats of an active alarm not counted)', labelNames: ['type', 'severity'], registers: r });
    this.alarmsActive = new Gauge({
      name: 'qkdn_alarms_active',
      help: 'Active alarms by severity',
      labelNames: ['severity'],
      registers: r,
      collect: function (this: Gauge<'severity'>) {
        for (const [severity, n] of Object.entries(hooks.alarms?.() ?? {})) this.set({ severity }, n);
      },
    });
    this.securityEvents = new Counter({ name: 'qkdn_security_events_total', help: 'Security events (tamper, authentication failures, QBER alarms, voided keys)', labelNames: ['kind'], registers: r });
    // Y.3807 QoS parameters over the performance window, computed when scraped.
    const qos = (name: string, help: string, pick: (q: QosParameters) => number | null) =>
      new Gauge({
        name,
        help,
        registers: r,
        collect: function (this: Gauge) {
          const q = hooks.qos?.();
          const v = q ? pick(q) : null;
          if (v === null) this.reset();
          else this.set(v);
        },
      });
    qos('qkdn_qos_throughput_bits_per_second', 'Key bits delivered to SAEs per second over the QoS window', (q) => q.throughputBitsPerS);
    qos('qkdn_qos_key_response_delay_seconds', 'Mean key response delay over the QoS window', (q) => (q.keyResponseDelayMs === null ? null : q.keyResponseDelayMs / 1000));
    qos('qkdn_qos_key_response_delay_variation_seconds', 'Standard deviation of the key response delay over the QoS window', (q) => (q.keyResponseDelayVariationMs === null ? null : q.keyResponseDelayVariationMs / 1000));
    qos('qkdn_qos_delivery_error_ratio', 'Requests that failed on the KM side over all served requests', (q) => q.deliveryErrorRatio);
    qos('qkdn_qos_key_loss_ratio', 'Keys burned over keys delivered plus burned', (q) => q.lossRatio);
    qos('qkdn_qos_availability_ratio', 'Share of the QoS window with no SAE pair in an outage', (q) => q.availability);
    qos('qkdn_qos_service_restoration_seconds', 'Mean duration of the outages that ended in the QoS window', (q) => (q.serviceRestorationTimeMs === null ? null : q.serviceRestorationTimeMs / 1000));
  }

  /** Where the stock and zeroized gauges read their values at scrape time. */
  kmFrom(stocks: () => readonly { peer: string; origin: string; bits: number }[], zeroized: () => boolean): void {
    this.#hooks.stocks = stocks;
    this.#hooks.zeroized = zeroized;
  }

  /** What adds the supply counts kept since the last scrape to the supply counters (the KMLM). */
  suppliesFrom(flush: () => void): void {
    this.#hooks.supplies = flush;
  }

  /** Where the active alarm gauge reads its counts at scrape time. */
  alarmsFrom(f: () => Readonly<Record<string, number>>): void {
    this.#hooks.alarms = f;
  }

  /** Where the QoS gauges read their values at scrape time. */
  qosFrom(f: () => QosParameters): void {
    this.#hooks.qos = f;
  }

  /** Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
