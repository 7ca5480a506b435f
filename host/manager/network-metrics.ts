/**
 * The network manager's Prometheus metrics (prom-client), every series labelled `manager` and the
 * per-node ones `node`: what it collected, computed when scraped from what it holds, so a
 * Prometheus that scrapes only the manager sees the whole network. Labels name nodes, links,
 * peers and severities only.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { NetworkManager } from './network.js';
import type { QosParameters } from './performance.js';

export class NetworkMetrics {
  readonly registry = new Registry();
  readonly polls: Counter<'node' | 'outcome'>;
  readonly alarmsRaised: Counter<'node' | 'type' | 'severity'>;

  constructor(m: NetworkManager) {
    const r = [this.registry];
    this.registry.setDefaultLabels({ manager: m.id });
    collectDefaultMetrics({ register: this.registry });
    this.polls = new Counter({ name: 'qkdn_network_polls_total', help: 'Polls of the nodes management APIs, by outcome (answered, failed)', labelNames: ['node', 'outcome'], registers: r });
    this.alarmsRaised = new Counter({ name: 'qkdn_network_alarms_raised_total', help: 'Alarms seen raised in the network (at a node, or by the manager)', labelNames: ['node', 'type', 'severity'], registers: r });
    m.on('poll', (node, answered) => this.polls.inc({ node, outcome: answered ? 'answered' : 'failed' }));
    m.on('alarm', (c) => {
      if (c.op === 'raised') this.alarmsRaised.inc({ node: c.alarm.node, type: c.alarm.type, severity: c.alarm.severity });
    });
    new Gauge({
      name: 'qkdn_network_node_up',
      help: 'Whether the node answered its last polls (1) or not (0)',
      labelNames: ['node'],
      registers: r,
      collect: function (this: Gauge<'node'>) {
        for (const s of m.nodes()) if (s.reachable !== null) this.set({ node: s.node }, s.reachable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'qkdn_network_node_zeroized',
      help: 'Whether the node reported its key store zeroized (1)',
      labelNames: ['node'],
      registers: r,
      collect: function (this: Gauge<'node'>) {
        for (const s of m.nodes()) if (s.zeroized !== null) this.set({ node: s.node }, s.zeroized ? 1 : 0);
      },
    });
    new Gauge({
      name: 'qkdn_network_alarms_active',
      help: 'Active alarms in the network by node and severity',
      labelNames: ['node', 'severity'],
      registers: r,
      collect: function (this: Gauge<'node' | 'severity'>) {
        this.reset();
        for (const n of [m.id, ...m.nodes().map((s) => s.node)]) for (const severity of ['critical', 'major', 'minor', 'warning']) this.set({ node: n, severity }, 0);
        for (const a of m.listAlarms({ state: 'active', limit: 100_000 })) this.inc({ node: a.node, severity: a.severity });
      },
    });
    new Gauge({
      name: 'qkdn_network_link_up',
      help: 'Whether a link end reported by a node is synchronised (1) or not (0)',
      labelNames: ['node', 'link'],
      registers: r,
      collect: function (this: Gauge<'node' | 'link'>) {
        this.reset();
        for (const [node, links] of Object.entries(m.links())) for (const l of links) this.set({ node, link: l.link }, l.state === 'synchronised' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'qkdn_network_stock_bits',
      help: 'Key material a node holds per peer KM and pool',
      labelNames: ['node', 'peer', 'origin'],
      registers: r,
      collect: function (this: Gauge<'node' | 'peer' | 'origin'>) {
        this.reset();
        for (const [node, stocks] of Object.entries(m.stocks())) for (const s of stocks) this.set({ node, peer: s.peer, origin: s.origin }, s.bits);
      },
    });
    const qos = (name: string, help: string, pick: (q: QosParameters) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['node'],
        registers: r,
        collect: function (this: Gauge<'node'>) {
          this.reset();
          for (const [node, p] of Object.entries(m.performance())) {
            const v = pick(p.qos);
            if (v !== null) this.set({ node }, v);
          }
        },
      });
    qos('qkdn_network_qos_throughput_bits_per_second', 'Key bits a node delivered per second over its QoS window', (q) => q.throughputBitsPerS);
    qos('qkdn_network_qos_key_response_delay_seconds', 'Mean key response delay at a node', (q) => (q.keyResponseDelayMs === null ? null : q.keyResponseDelayMs / 1000));
    qos('qkdn_network_qos_delivery_error_ratio', 'Requests that failed on the KM side at a node over its served requests', (q) => q.deliveryErrorRatio);
    qos('qkdn_network_qos_availability_ratio', 'Share of a node QoS window with no SAE pair in an outage', (q) => q.availability);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
