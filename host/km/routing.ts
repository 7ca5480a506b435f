/**
 * How a relay finds its route. The relay asks its Router when it starts (and again, with the
 * failed links in `avoidLinks`, on a reroute); StaticRouter, the default, gives the configured
 * route when there is one, else the fewest hops over the current topology, ties broken by node ID
 * so every node computes the same route. A controller can plug its own Router in.
 */
import { NoRouteError } from './errors.js';
import type { NetworkView } from './network-view.js';
import { linkBetween, route as shortestRoute, type Topology } from './topology.js';

export interface RelayRouteRequest {
  readonly relayId: string;
  readonly from: string;
  readonly to: string;
  /** Link units the relay needs on every hop. */
  readonly units: number;
  /** Epoch ms by which the relay must complete. */
  readonly deadline: number;
  /** 0 = default; higher first. */
  readonly priority: number;
  /** 0 first try, then 1, 2 ... on reroute. */
  readonly attempt: number;
  /** Links that failed for this relay. */
  readonly avoidLinks: readonly string[];
}

export interface RelayRoute {
  /** Both ends included. */
  readonly nodes: readonly string[];
  /** The link of each hop: links[i] joins nodes[i] and nodes[i + 1]. */
  readonly links: readonly string[];
  /** The topology version the route was computed on. */
  readonly version: number;
}

export interface Router {
  route(req: RelayRouteRequest): Promise<RelayRoute>;
  /**
   * The relay ended (completed, or failed after its last attempt): a router that reserves stock
   * for a route (a controller's session control) frees it now rather than at the deadline.
   */
  release?(relayId: string, outcome: 'completed' | 'failed'): void | Promise<void>;
}

/** The links along `nodes`; throws NoRouteError when two consecutive nodes share none. */
export function linksOf(t: Topology, nodes: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < nodes.length; i++) {
    const l = linkBetween(t, nodes[i]!, nodes[i + 1]!);
    if (!l) throw new NoRouteError(nodes[0]!, nodes[nodes.length - 1]!);
    out.push(l.id);
  }
  return out;
}

export class StaticRouter implements Router {
  readonly #view: NetworkView;

  constructor(view: NetworkView) {
    this.#view = view;
  }

  route(req: RelayRouteRequest): Promise<RelayRoute> {
    try {
      return Promise.resolve(this.routeNow(req));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** The route now, synchronously (the KSA's stock estimate needs it without waiting). */
  routeNow(req: Pick<RelayRouteRequest, 'from' | 'to' | 'avoidLinks'>): RelayRoute {
    const version = this.#view.version;
    const full = this.#view.current();
    const avoid = new Set(req.avoidLinks);
    const t: Topology = avoid.size === 0 ? full : { ...full, links: full.links.filter((l) => !avoid.has(l.id)) };
    const nodes = shortestRoute(t, req.from, req.to);
    return { nodes, links: linksOf(t, nodes), version };
  }
}
