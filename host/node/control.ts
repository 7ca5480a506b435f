/**
 * The control layer of a node, as its configuration's `control` section chooses (host/controller):
 *
 * - `distributed`: the node runs its own controller. It advertises its links (stock from the
 *   store, OFF while the peer KM is unreachable over Kx) to its neighbours' controllers over
 *   mutual TLS, signed with its node key, and computes every relay route from the flooded database.
 * - `centralized`: the node is a Ck client of the `qkdn-edge controller` replicas. It reports its
 *   links' stock every `reportMs` (its heartbeat) and each link going OFF or back ACTIVE as its
 *   peer KM is lost or found (Cq through the node), asks the leader for every relay route,
 *   releases it when the relay ends, and installs the topology versions the controller pushes.
 *
 * Either way the key manager's Router, its supply policy (`policy`: allow-lists, quotas) and its
 * route releases come from here. Without the section the node routes with the key manager's
 * StaticRouter, as before.
 *
 * While no controller answers (centralized), a relay goes over the last route the controller gave
 * to the same destination, for `lastRoutesMs` after the controller was last heard; after that, or
 * with no such route, the relay is refused with a NoRouteError saying so, which the ETSI 014 API
 * answers with 503. Supplies from stock need no route and go on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyStore } from '../km/key-store.js';
import type { KxTransport } from '../km/kx/transport.js';
import type { KeyManager } from '../km/key-manager.js';
import type { RelayRoute, RelayRouteRequest, Router } from '../km/routing.js';
import type { Topology } from '../km/topology.js';
import type { SupplyPolicy } from '../km/supply-policy.js';
import { KmConfigError } from '../km/errors.js';
import type { ChannelTls, Endpoint } from '../controller/channel.js';
import { DistributedController } from '../controller/distributed.js';
import { CkClient } from '../controller/ck-client.js';
import { ControllerError, RouteUnavailableError } from '../controller/errors.js';
import { OriginKeys, signer } from '../controller/flooding/origin-keys.js';
import { POLICY_SCHEMA, SupplyPolicyControl, type PolicyConfig } from '../controller/policy.js';
import type { LinkPhysState, NetworkConfig as ControlNetwork } from '../controller/view.js';
import type { TopologyPush } from '../controller/ck/topology-push.js';
import type { NetworkConfig } from '../km/network-config.js';
import type { LinkRole } from '../qkd-link/module/config.js';
import { LinkReports } from './link-reports.js';
import type { ConfigurationControlPort } from '../manager/control-target.js';

export interface ControlConfig {
  readonly form: 'distributed' | 'centralized';
  /** Stock (units) a link keeps beyond what a relay takes before routes avoid it (default 4). */
  readonly lowWaterUnits?: number;
  /** Supply policy enforced at this node's KSA: allow-lists, quotas, QoS classes. */
  readonly policy?: PolicyConfig;
  /** QBER of a QKD link's block above which its QBER alarm is raised over Cq (default 0.11; cleared below 80 % of it). */
  readonly qberThreshold?: number;
  // distributed
  /** Where this node's controller listens for its neighbours' controllers. */
  readonly listen?: { readonly host: string; readonly port: number };
  /** The controller endpoint ("host:port") of every node this one shares a link with. */
  readonly neighbours?: Readonly<Record<string, string>>;
  /** Directory of the network's node certificates (`<ID>.pem`, as `qkdn-edge pki init` writes them in nodes/). */
  readonly certificates?: string;
  readonly holdDownMs?: number;
  readonly refreshMs?: number;
  // centralized
  /** The replicas of `qkdn-edge controller`, by node ID (the CN of their certificates). */
  readonly controllers?: readonly { readonly id: string; readonly endpoint: string }[];
  /** Ck report period (the KM's heartbeat; default 200 ms). */
  readonly reportMs?: number;
  /** How long the last good routes serve while no controller answers (default 30 s). */
  readonly lastRoutesMs?: number;
  readonly timeoutMs?: number;
}

const ENDPOINT_STRING = { type: 'string', pattern: '^[^\\s]+:[0-9]{1,5}$' } as const;
const ms = (max: number) => ({ type: 'integer', minimum: 1, maximum: max }) as const;

/** The `control` section's schema (host/node/config.ts checks it with the rest of the node's part). */
export const CONTROL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['form'],
  properties: {
    form: { enum: ['distributed', 'centralized'] },
    lowWaterUnits: { type: 'integer', minimum: 0, maximum: 1_000_000 },
    policy: POLICY_SCHEMA,
    qberThreshold: { type: 'number', exclusiveMinimum: 0, maximum: 0.5 },
    listen: { type: 'object', additionalProperties: false, required: ['host', 'port'], properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 0, maximum: 65535 } } },
    neighbours: { type: 'object', maxProperties: 4096, additionalProperties: ENDPOINT_STRING },
    certificates: { type: 'string', minLength: 1 },
    holdDownMs: ms(60_000),
    refreshMs: ms(3_600_000),
    controllers: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: { type: 'object', additionalProperties: false, required: ['id', 'endpoint'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, endpoint: ENDPOINT_STRING } },
    },
    reportMs: ms(600_000),
    lastRoutesMs: ms(86_400_000),
    timeoutMs: ms(600_000),
  },
} as const;

const DISTRIBUTED_ONLY = ['listen', 'neighbours', 'certificates', 'holdDownMs', 'refreshMs'] as const;
const CENTRALIZED_ONLY = ['controllers', 'reportMs', 'lastRoutesMs', 'timeoutMs'] as const;

/** Cross-references of the section against the node and its network; throws KmConfigError naming the field. */
export function checkControlConfig(node: string, network: NetworkConfig, c: ControlConfig): void {
  const fail = (path: string, msg: string): never => {
    throw new KmConfigError(`control.${path}`, msg);
  };
  const other = c.form === 'distributed' ? CENTRALIZED_ONLY : DISTRIBUTED_ONLY;
  for (const f of other) if (c[f] !== undefined) fail(f, `not a field of the ${c.form} form`);
  if (c.form === 'distributed') {
    if (!c.listen) fail('listen', 'the distributed form needs the endpoint its controller listens on');
    if (!c.certificates) fail('certificates', 'the distributed form needs the directory of the node certificates');
    const peers = network.links.filter((l) => l.ends.includes(node)).map((l) => (l.ends[0] === node ? l.ends[1] : l.ends[0]));
    for (const p of peers) if (!c.neighbours?.[p]) fail('neighbours', `no controller endpoint for neighbour ${p}`);
    for (const n of Object.keys(c.neighbours ?? {})) if (!peers.includes(n)) fail(`neighbours.${n}`, `${n} shares no link with ${node}`);
  } else if (!c.controllers) fail('controllers', 'the centralized form needs the controller replicas');
}

function endpointOf(s: string): Endpoint {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}

/** The controller's view of a node's network configuration: nodes, links, SAEs. */
export function controlNetworkOf(n: NetworkConfig): ControlNetwork {
  return { nodes: n.nodes.map((x) => x.id), links: n.links.map((l) => ({ id: l.id, ends: [l.ends[0], l.ends[1]] })), saes: Object.fromEntries(n.saes.map((s) => [s.id, s.node])) };
}

export interface NodeControlOptions {
  readonly node: string;
  readonly control: ControlConfig;
  /** The network as the controller sees it (controlNetworkOf a node's `network`). */
  readonly network: ControlNetwork;
  readonly unitBits: number;
  /** The node's own TLS material (PEM): its certificate names it on every control connection and its key signs its advertisements. */
  readonly tls: ChannelTls & { readonly ca: string };
  readonly store: Pick<KeyStore, 'counts' | 'bootId'>;
  /** Kx reachability of the peer KMs; a connection lost or found is reported at once (centralized). */
  readonly kx: Pick<KxTransport, 'connected' | 'on' | 'off'>;
  /** The node's QKD links and its module's role on each (link-reports.ts qkdRolesOf); the others are simulated. */
  readonly qkd?: ReadonlyMap<string, LinkRole>;
}

export interface NodeControl {
  readonly form: ControlConfig['form'];
  /** The key manager's Router (with release). */
  readonly router: Router;
  readonly supplyPolicy: SupplyPolicy | undefined;
  /** The distributed controller (null in the centralized form). */
  readonly distributed: DistributedController | null;
  /** The Ck client (null in the distributed form). */
  readonly ck: CkClient | null;
  /** Cq: the node's links in ETSI GS QKD 015 terms, as reported or advertised. */
  readonly links: LinkReports;
  /**
   * An operator takes a link out of service or back; resolves once the control layer has it: the
   * controller acknowledged the report (centralized; or none answers within its timeout; the
   * node's own routes avoid the link from the start either way), or this node's own controller
   * routes around it (distributed, at once; its advertisement follows within the hold-down).
   * False for a link that is not the node's.
   */
  setLinkInService(link: string, inService: boolean): Promise<boolean>;
  /**
   * The distributed controller's configuration control (null in the centralized form, whose
   * configuration control is the controller's): the management API's configuration versions change
   * the network's structure through it, and every node installs them.
   */
  readonly configuration: ConfigurationControlPort | null;
  /** Starts flooding or reporting; `km` receives the topology pushes. Resolves with the control port (distributed) or null. */
  start(km: KeyManager): Promise<number | null>;
  stop(): Promise<void>;
}

/** Every this many reports (the heartbeat), the links' state goes to the controller again even unchanged. */
const RESEND_REPORTS = 25;

const peerOf = (node: string, ends: readonly [string, string]) => (ends[0] === node ? ends[1] : ends[0]);

/** The key manager's Topology for a configuration the controller pushed (link kinds kept from the current one). */
function topologyOfPush(p: TopologyPush, current: Topology): Topology {
  const kind = new Map(current.links.map((l) => [l.id, l.kind]));
  return {
    nodes: [...p.config.nodes],
    links: p.config.links.map((l) => {
      const k = kind.get(l.id);
      return { id: l.id, ends: [l.ends[0], l.ends[1]], ...(k ? { kind: k } : {}) };
    }),
    saes: new Map(Object.entries(p.config.saes)),
  };
}

/** Whether an error means no controller answered (rather than one refusing the route). */
const unanswered = (e: unknown) => e instanceof ControllerError && (e.code === 'ERR_CTL_UNREACHABLE' || e.code === 'ERR_CTL_NOT_LEADER');

/**
 * The centralized form's Router: the leader's route, remembered per destination; while no
 * controller answers, that last good route for a bounded time, then a clear refusal.
 *
 * The links of this node that it knows are down (`localDown`: out of service, OFF at its module,
 * peer KM unreachable over Kx) are avoided by every route it asks for and by the last good route:
 * the controller learns of them by the node's next report, and until then (or after a new leader
 * took over without them) it would route relays over a link this node has seen cut.
 */
export class CentralizedRouter implements Router {
  readonly #ck: CkClient;
  readonly #lastRoutesMs: number;
  readonly #localDown: () => readonly string[];
  /** Per destination, the route of the latest request answered (an older request answered late does not replace it). */
  readonly #last = new Map<string, { readonly route: RelayRoute; readonly asked: number }>();
  readonly #unreleased = new Map<string, 'completed' | 'failed'>();
  #asked = 0;
  #heard = Date.now();
  readonly counters = { fromController: 0, lastGood: 0, refused: 0 };

  constructor(ck: CkClient, lastRoutesMs: number, localDown: () => readonly string[] = () => []) {
    this.#ck = ck;
    this.#lastRoutesMs = lastRoutesMs;
    this.#localDown = localDown;
  }

  get lastHeard(): number {
    return this.#heard;
  }

  async route(asked: RelayRouteRequest): Promise<RelayRoute> {
    const down = this.#localDown();
    const req = down.length === 0 ? asked : { ...asked, avoidLinks: [...new Set([...asked.avoidLinks, ...down])] };
    const n = ++this.#asked;
    try {
      const r = await this.#ck.route(req);
      this.heard();
      if ((this.#last.get(req.to)?.asked ?? 0) < n) this.#last.set(req.to, { route: r, asked: n });
      this.counters.fromController++;
      return r;
    } catch (e) {
      if (!unanswered(e)) {
        this.heard();
        throw e;
      }
      const silentMs = Date.now() - this.#heard;
      const last = this.#last.get(req.to)?.route;
      if (silentMs <= this.#lastRoutesMs && last && !last.links.some((l) => req.avoidLinks.includes(l))) {
        this.counters.lastGood++;
        return last;
      }
      this.counters.refused++;
      const why =
        silentMs > this.#lastRoutesMs
          ? `no controller has answered for ${silentMs} ms (last good routes serve for ${this.#lastRoutesMs} ms)`
          : `no controller answers (${(e as Error).message}) and no last good route to ${req.to}${last ? ' avoiding the failed links' : ''}`;
      throw new RouteUnavailableError(req.from, req.to, why);
    }
  }

  /**
   * Frees the relay's reservation at the leader. A release no controller took (the leader died,
   * no successor yet) is kept and sent again once one answers: lost, it would hold the units
   * reserved at the new leader, which restores reservations, until the relay's deadline, and
   * routes would be refused meanwhile.
   */
  release(relayId: string, outcome: 'completed' | 'failed'): Promise<void> {
    return this.#ck.release(relayId, outcome).then(
      () => this.heard(),
      (e: unknown) => {
        if (unanswered(e)) this.#unreleased.set(relayId, outcome);
        throw e;
      },
    );
  }

  /** A controller answered (a route, a report): the last good routes stay good, and releases it missed are sent. */
  heard(): void {
    this.#heard = Date.now();
    for (const [relayId, outcome] of this.#unreleased) {
      this.#unreleased.delete(relayId);
      void this.release(relayId, outcome).catch(() => {});
    }
  }
}

/** Builds the node's control layer from its `control` section (not started). */
export function createNodeControl(o: NodeControlOptions): NodeControl {
  const c = o.control;
  const lowWaterUnits = c.lowWaterUnits ?? 4;
  const supplyPolicy = c.policy ? new SupplyPolicyControl(c.policy) : undefined;
  const config = o.network;
  const myLinks = config.links.filter((l) => l.ends.includes(o.node));
  const stockUnits = (peer: string) => o.store.counts(peer, 'link').available;
  let onLink: (link: string, phys: LinkPhysState) => void = () => {};
  const links = new LinkReports({ links: myLinks.map((l) => l.id), qkd: o.qkd ?? new Map(), ...(c.qberThreshold !== undefined ? { qberThreshold: c.qberThreshold } : {}), onChange: (l, p) => onLink(l, p) });

  if (c.form === 'distributed') {
    const dir = c.certificates!;
    const origins = new OriginKeys(o.tls.ca, new Map(config.nodes.map((n) => [n, readFileSync(join(dir, `${n}.pem`), 'utf8')])));
    let km: KeyManager | null = null;
    const d = new DistributedController({
      nodeId: o.node,
      tls: o.tls,
      listen: c.listen!,
      neighbours: new Map(Object.entries(c.neighbours ?? {}).map(([n, e]) => [n, endpointOf(e)])),
      origins,
      sign: signer(o.tls.key),
      config,
      unitBits: o.unitBits,
      lowWaterUnits,
      km: { stockUnits, reachable: (peer) => o.kx.connected(peer) },
      ...(c.holdDownMs !== undefined ? { holdDownMs: c.holdDownMs } : {}),
      ...(c.refreshMs !== undefined ? { refreshMs: c.refreshMs } : {}),
      // Configuration control: a version flooded from any node (or made here) goes to the KM's topology.
      onConfig: (config, version) => km?.network.replace(topologyOfPush({ version, config }, km.network.current()), version),
    });
    // Cq through the node: the modules' state goes into this node's advertisements.
    for (const l of myLinks) d.reportLink(l.id, links.state(l.id));
    onLink = (l, p) => d.reportLink(l, p);
    const stop = async () => {
      links.close();
      await d.stop();
    };
    const setLinkInService = async (link: string, inService: boolean) => links.setInService(link, inService);
    const start = (k: KeyManager) => {
      km = k;
      return d.start();
    };
    return { form: 'distributed', router: d, supplyPolicy, distributed: d, ck: null, links, setLinkInService, configuration: d.configuration, start, stop };
  }

  let km: KeyManager | null = null;
  const ck = new CkClient({
    nodeId: o.node,
    tls: o.tls,
    controllers: c.controllers!.map((x) => ({ id: x.id, ...endpointOf(x.endpoint) })),
    timeoutMs: c.timeoutMs ?? 2000,
    onTopology: (p) => {
      if (!km) throw new KmConfigError('control', 'the key manager is not running yet');
      km.network.replace(topologyOfPush(p, km.network.current()), p.version);
    },
  });
  /** Each of the node's links as reported: its module's state (link-reports.ts), OFF while the peer KM cannot be reached. */
  const physOf = (l: (typeof myLinks)[number]): LinkPhysState => {
    const p = links.state(l.id);
    return o.kx.connected(peerOf(o.node, l.ends)) ? p : { ...p, status: 'OFF' };
  };
  const usable = (s: LinkPhysState['status']) => s === 'ACTIVE' || s === 'PASSIVE';
  const router = new CentralizedRouter(ck, c.lastRoutesMs ?? 30_000, () => myLinks.filter((l) => !usable(physOf(l).status)).map((l) => l.id));
  const sent = new Map<string, string>();
  /** The replica whose controller has the reports in `sent`: another one (or a new term of it) gets them all again. */
  let sentTo: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let seq = 0;
  let reporting: Promise<void> = Promise.resolve();
  const report = async () => {
    // Cq through the node: each link as its QKD module reports it (link-reports.ts), OFF while
    // the peer KM cannot be reached; sent when it changed, and again until the controller took it.
    // A controller that did not take them (another replica now leads, or this one's view was
    // rebuilt on its re-election) gets every link's state again, lest it take a cut link as ACTIVE.
    if (ck.leader !== sentTo || seq % RESEND_REPORTS === 0) {
      sent.clear();
      sentTo = ck.leader;
    }
    for (const l of myLinks) {
      const phys = physOf(l);
      const key = `${phys.status}|${phys.qberAlarm}|${phys.skr}|${phys.eskr}|${phys.qber}`;
      if (sent.get(l.id) === key) continue;
      await ck.reportLink({ link: l.id, node: o.node, ...phys }).then(
        () => sent.set(l.id, key),
        () => {},
      );
    }
    const stocks = myLinks.map((l) => {
      const peer = peerOf(o.node, l.ends);
      return { link: l.id, peer, stockBits: stockUnits(peer) * o.unitBits, consumptionBps: 0 };
    });
    await ck.report({ node: o.node, boot: o.store.bootId, seq: ++seq, links: stocks }).then(
      () => router.heard(),
      () => {},
    );
  };
  // One report at a time: the periodic one, or one at once for a link's change.
  const reportOnce = () => (reporting = reporting.then(report));
  const loop = () => {
    void reportOnce().finally(() => {
      if (timer) timer = setTimeout(loop, c.reportMs ?? 200);
    });
  };
  // A link's change, or a peer KM lost or found over Kx (its link's status): the controller hears of it now.
  const onKx = () => {
    if (timer) void reportOnce();
  };
  onLink = onKx;
  return {
    form: 'centralized',
    router,
    supplyPolicy,
    distributed: null,
    ck,
    links,
    configuration: null,
    setLinkInService: async (link, inService) => {
      if (!links.setInService(link, inService)) return false;
      await reportOnce();
      return true;
    },
    start: async (k) => {
      km = k;
      timer = setTimeout(loop, 0);
      o.kx.on('connected', onKx);
      o.kx.on('disconnected', onKx);
      return null;
    },
    stop: async () => {
      const t = timer;
      timer = null;
      if (t) clearTimeout(t);
      o.kx.off('connected', onKx);
      o.kx.off('disconnected', onKx);
      links.close();
      await reporting;
      await ck.close();
    },
  };
}

/**
 * A node's `control` section for a network on one host (the demo network, tests, benchmarks):
 * `base` for every node; in the distributed form each node's controller on `ports.get(node)` of
 * loopback, its neighbours' likewise, the node certificates in `certificates`.
 */
export function loopbackControlSection(base: ControlConfig, node: string, network: { readonly links: readonly { readonly ends: readonly [string, string] }[] }, ports: ReadonlyMap<string, number>, certificates: string): ControlConfig {
  if (base.form !== 'distributed') return base;
  const peers = network.links.filter((l) => l.ends.includes(node)).map((l) => peerOf(node, l.ends));
  return { ...base, listen: { host: '127.0.0.1', port: ports.get(node)! }, neighbours: Object.fromEntries(peers.map((p) => [p, `127.0.0.1:${ports.get(p)!}`])), certificates };
}
