/**
 * The distributed form: a controller in every node. Its view is filled from the link-state
 * database (flooding/), which its own node feeds with the node's links as its key manager sees
 * them: stock from the store, status from Cq reports of the node's QKD modules (a link whose
 * peer KM this node cannot reach over Kx is advertised OFF, whatever the module says). It is the
 * node's relay Router, so every node computes routes from the same database.
 */
import { ControllerView, type LinkPhysState, type NetworkConfig } from './view.js';
import { SessionControl } from './sessions.js';
import { ControllerRouter, type RelayRoute, type RelayRouteRequest, type Router } from './router.js';
import { FloodingNode, type FloodingOptions } from './flooding/flooding.js';
import type { AdvertisedLink } from './flooding/link-state-advertisement.js';
import { publishTrigger } from './diagnostics.js';
import { applyChange, type ConfigChange } from './configuration.js';

/** What the controller reads of its node's key manager. */
export interface LocalKm {
  /** Available units of the link shared with `peer`. */
  stockUnits(peer: string): number;
  /** Whether the peer KM is reachable now (an open Kx connection). */
  reachable(peer: string): boolean;
}

export interface DistributedOptions extends Omit<FloodingOptions, 'localLinks'> {
  readonly config: NetworkConfig;
  readonly configVersion?: number;
  readonly unitBits: number;
  readonly lowWaterUnits: number;
  readonly km: LocalKm;
  /** How often the node's own links are looked at for changes worth advertising. */
  readonly pollMs?: number;
  /** A configuration version was installed here (made here or flooded): the node gives it to its KM. */
  readonly onConfig?: (config: NetworkConfig, version: number) => void;
}

const DEFAULT_PHYS: LinkPhysState = { status: 'ACTIVE', skr: 0, eskr: 0, qber: 0, qberAlarm: false };

export class DistributedController implements Router {
  readonly view: ControllerView;
  readonly sessions = new SessionControl();
  readonly router: ControllerRouter;
  readonly flooding: FloodingNode;
  readonly #o: DistributedOptions;
  /**
   * Configuration control in the distributed form (the shape host/manager's configuration
   * management applies versions through): a change becomes the next version, signed by this node,
   * installed here and flooded to every node, which installs it without a restart.
   */
  readonly configuration: { readonly version: number; readonly config: NetworkConfig; change(c: ConfigChange): Promise<number> };
  readonly #phys = new Map<string, LinkPhysState>();
  #lastStatus = '';
  #lastStock = '';
  #timer: NodeJS.Timeout | null = null;

  constructor(o: DistributedOptions) {
    this.#o = o;
    this.view = new ControllerView({ unitBits: o.unitBits, lowWaterUnits: o.lowWaterUnits });
    this.view.configure(o.config, o.configVersion ?? 1);
    this.router = new ControllerRouter(this.view, this.sessions);
    this.view.on('trigger', (t) => {
      const voided = this.sessions.onTrigger(t);
      publishTrigger({ reason: t.reason, links: t.links, ...(t.node ? { node: t.node } : {}), voided: voided.length });
    });
    this.flooding = new FloodingNode({ ...o, configVersion: o.configVersion ?? 1, localLinks: () => this.#localLinks() });
    this.flooding.on('lsdb', () => this.flooding.applyTo(this.view));
    this.flooding.on('config', (config, version, origin) => {
      try {
        this.view.configure(config, version, true);
        o.onConfig?.(config, version);
      } catch (e) {
        // Signed by a node of the network but not installable here (an inconsistent structure, an
        // older topology at the KM): said, and the version in force stays at this node.
        process.emitWarning(`controller ${o.nodeId}: configuration version ${version} from ${origin} not installed: ${(e as Error).message}`);
        return;
      }
      this.flooding.applyTo(this.view);
      // A link added here is advertised at once, one removed no longer.
      if (this.#timer) this.#check();
    });
    const flooding = this.flooding;
    const view = this.view;
    this.configuration = {
      get version() {
        return flooding.configVersion;
      },
      get config() {
        return view.config();
      },
      change: async (c) => {
        const version = flooding.configVersion + 1;
        flooding.originateConfig(applyChange(view.config(), c), version);
        return version;
      },
    };
  }

  /** Cq: a QKD module of this node reported its link. */
  reportLink(link: string, phys: LinkPhysState): void {
    this.#phys.set(link, phys);
    // Before start the first advertisement carries it.
    if (this.#timer) this.#check();
  }

  #localLinks(): AdvertisedLink[] {
    const me = this.#o.nodeId;
    // Its adjacency, not every link of the network: route computation reads this on every advertisement applied.
    return this.view.adjacent(me).map(({ peer, link }) => {
      const phys = this.#phys.get(link) ?? DEFAULT_PHYS;
      return { link, peer, ...phys, status: this.#o.km.reachable(peer) ? phys.status : 'OFF', stockBits: this.#o.km.stockUnits(peer) * this.#o.unitBits, consumptionBps: 0 };
    });
  }

  /**
   * Advertises when a link's status changed (at once: flooding's urgent change) or its stock
   * moved across a band (per unit near low water, then by 25 %, after the hold-down).
   */
  #check(): void {
    const lw = Math.max(1, this.#o.lowWaterUnits);
    const links = this.#localLinks();
    const status = links.map((l) => `${l.link}:${l.status}:${l.qberAlarm}`).join('|');
    const stock = links
      .map((l) => {
        const u = l.stockBits / this.#o.unitBits;
        return u < 2 * lw ? Math.floor(u) : Math.floor(Math.log(u) / Math.log(1.25));
      })
      .join('|');
    if (status === this.#lastStatus && stock === this.#lastStock) return;
    const urgent = status !== this.#lastStatus;
    this.#lastStatus = status;
    this.#lastStock = stock;
    // This node's routes take the change now (applyTo reads its own links as they are); the
    // advertisement telling the others follows the hold-down.
    this.flooding.applyTo(this.view);
    this.flooding.changed(urgent);
  }

  async start(): Promise<number> {
    const port = await this.flooding.start();
    this.#timer = setInterval(() => this.#check(), this.#o.pollMs ?? 100);
    this.#timer.unref();
    return port;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.sessions.close();
    await this.flooding.stop();
  }

  route(req: RelayRouteRequest): Promise<RelayRoute> {
    return this.router.route(req);
  }

  release(relayId: string, outcome: 'completed' | 'failed'): void {
    this.router.release(relayId, outcome);
  }
}
