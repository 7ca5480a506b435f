/**
 * Interworking routes as joined segments (Y.3818 clause 7.1 routing control function, clause 9.1
 * Fig 9): each provider's controller computes only the segment inside its own network, from the
 * relay's source KM to one of its gateways or from a gateway to the target's KM; the segments are
 * joined at a GWN pair across the Qx link between them. Neither controller sees the other's
 * segment: the far one is known only by its end points, cost and stock (CxiRouteResponse).
 *
 * The local computation is widest-shortest: least total cost, then the largest bottleneck stock,
 * then the lexicographically smallest node sequence, over links with enough stock for the relay
 * and not on its avoid list. It is deliberately small: the network-wide router is the
 * controller's, and any `Router` (host/km/routing.ts) can produce a local segment instead.
 */
import { IwError } from '../errors.js';
import type { RelayRoute, RelayRouteRequest, Router } from '../../km/routing.js';

export interface StockedLink {
  readonly id: string;
  readonly ends: readonly [string, string];
  /** Positive routing cost (1 = one hop). */
  readonly cost: number;
  /** Link units available for relays now. */
  readonly stock: number;
}

export interface StockedTopology {
  readonly nodes: readonly string[];
  readonly links: readonly StockedLink[];
  readonly version: number;
}

export interface Path {
  readonly nodes: readonly string[];
  readonly links: readonly string[];
  readonly cost: number;
  /** Smallest stock along the path (Infinity for a path of one node). */
  readonly stock: number;
}

export class NoInterworkingRouteError extends IwError {
  /** The ETSI GS QKD 020 status to answer with. */
  readonly status: 'no_known_route' | 'insufficient_key_material';
  constructor(status: 'no_known_route' | 'insufficient_key_material', message: string) {
    super('ERR_IW_NO_ROUTE', message);
    this.status = status;
  }
}

function better(a: Path, b: Path): boolean {
  if (a.cost !== b.cost) return a.cost < b.cost;
  if (a.stock !== b.stock) return a.stock > b.stock;
  const n = Math.min(a.nodes.length, b.nodes.length);
  for (let i = 0; i < n; i++) if (a.nodes[i] !== b.nodes[i]) return a.nodes[i]! < b.nodes[i]!;
  return a.nodes.length < b.nodes.length;
}

/** The widest-shortest path from `from` to `to`, or null. Pure; deterministic for equal inputs. */
export function widestShortest(t: StockedTopology, from: string, to: string, units = 0, avoid: readonly string[] = []): Path | null {
  if (!t.nodes.includes(from) || !t.nodes.includes(to)) return null;
  const avoided = new Set(avoid);
  const adj = new Map<string, StockedLink[]>();
  for (const l of t.links) {
    if (avoided.has(l.id) || l.stock < units || !(l.cost > 0)) continue;
    for (const e of l.ends) (adj.get(e) ?? adj.set(e, []).get(e)!).push(l);
  }
  const best = new Map<string, Path>([[from, { nodes: [from], links: [], cost: 0, stock: Infinity }]]);
  const done = new Set<string>();
  while (true) {
    let cur: Path | undefined;
    for (const [n, p] of best) if (!done.has(n) && (!cur || better(p, cur))) cur = p;
    if (!cur) return null;
    const here = cur.nodes[cur.nodes.length - 1]!;
    if (here === to) return cur;
    done.add(here);
    for (const l of adj.get(here) ?? []) {
      const there = l.ends[0] === here ? l.ends[1] : l.ends[0];
      if (done.has(there) || cur.nodes.includes(there)) continue;
      const cand: Path = { nodes: [...cur.nodes, there], links: [...cur.links, l.id], cost: cur.cost + l.cost, stock: Math.min(cur.stock, l.stock) };
      const old = best.get(there);
      if (!old || better(cand, old)) best.set(there, cand);
    }
  }
}

/** A Router (the key manager's seam) over a stocked topology: widest-shortest, minimal and replaceable. */
export class WidestShortestRouter implements Router {
  readonly #view: () => StockedTopology;
  constructor(view: () => StockedTopology) {
    this.#view = view;
  }

  async route(req: RelayRouteRequest): Promise<RelayRoute> {
    const t = this.#view();
    const p = widestShortest(t, req.from, req.to, req.units, req.avoidLinks);
    if (!p) {
      const any = widestShortest(t, req.from, req.to, 0, req.avoidLinks);
      throw new NoInterworkingRouteError(any ? 'insufficient_key_material' : 'no_known_route', `no route ${req.from} → ${req.to} with ${req.units} units per hop`);
    }
    return { nodes: p.nodes, links: p.links, version: t.version };
  }
}

/** One provider's part of an interworking route. `nodes`/`links` are null when it is the other provider's (opaque). */
export interface Segment {
  readonly provider: string;
  readonly from: string;
  readonly to: string;
  readonly nodes: readonly string[] | null;
  readonly links: readonly string[] | null;
  readonly cost: number;
  readonly stock: number;
  readonly version: number;
}

/** The Qx link between two gateways, from the source provider's gateway to the destination's. */
export interface BorderCrossing {
  readonly qx: string;
  readonly egress: string;
  readonly ingress: string;
  readonly cost: number;
  readonly stock: number;
}

export interface JoinedRoute {
  readonly source: Segment;
  readonly border: BorderCrossing;
  readonly destination: Segment;
  readonly cost: number;
  readonly stock: number;
}

/** The segment of a local route, with its cost and stock read from the topology it was computed on. */
export function segmentOf(provider: string, route: RelayRoute, t: StockedTopology): Segment {
  const byId = new Map(t.links.map((l) => [l.id, l]));
  let cost = 0;
  let stock = Infinity;
  route.links.forEach((id, i) => {
    const l = byId.get(id);
    const [a, b] = [route.nodes[i], route.nodes[i + 1]];
    if (!l || !((l.ends[0] === a && l.ends[1] === b) || (l.ends[0] === b && l.ends[1] === a))) throw new IwError('ERR_IW_SEGMENT_MISMATCH', `link ${id} does not join ${String(a)} and ${String(b)}`);
    cost += l.cost;
    stock = Math.min(stock, l.stock);
  });
  if (route.nodes.length !== route.links.length + 1) throw new IwError('ERR_IW_SEGMENT_MISMATCH', 'a route has one more node than links');
  return { provider, from: route.nodes[0]!, to: route.nodes[route.nodes.length - 1]!, nodes: route.nodes, links: route.links, cost, stock, version: route.version };
}

/** Joins two providers' segments at a GWN pair; throws ERR_IW_SEGMENT_MISMATCH if they do not meet there. */
export function joinSegments(source: Segment, border: BorderCrossing, destination: Segment): JoinedRoute {
  const mismatch = (why: string) => new IwError('ERR_IW_SEGMENT_MISMATCH', why);
  if (source.provider === destination.provider) throw mismatch('both segments belong to the same provider');
  if (source.to !== border.egress) throw mismatch(`the source segment ends at ${source.to}, the crossing starts at ${border.egress}`);
  if (destination.from !== border.ingress) throw mismatch(`the crossing ends at ${border.ingress}, the destination segment starts at ${destination.from}`);
  if (source.nodes && destination.nodes && source.nodes.some((n) => destination.nodes!.includes(n))) throw mismatch('the segments share a node (a loop across the border)');
  return { source, border, destination, cost: source.cost + border.cost + destination.cost, stock: Math.min(source.stock, border.stock, destination.stock) };
}

function betterJoin(a: JoinedRoute, b: JoinedRoute): boolean {
  if (a.cost !== b.cost) return a.cost < b.cost;
  if (a.stock !== b.stock) return a.stock > b.stock;
  return a.border.qx < b.border.qx;
}

/**
 * Of the candidate joins (one per GWN pair the two controllers offered), the widest-shortest one
 * that has `units` of stock everywhere; candidates that do not meet are skipped. Throws
 * NoInterworkingRouteError with the ETSI 020 status that explains why none is left.
 */
export function chooseJoin(candidates: readonly { source: Segment; border: BorderCrossing; destination: Segment }[], units: number): JoinedRoute {
  let best: JoinedRoute | undefined;
  let joined = 0;
  for (const c of candidates) {
    let j: JoinedRoute;
    try {
      j = joinSegments(c.source, c.border, c.destination);
    } catch (e) {
      if (e instanceof IwError && e.code === 'ERR_IW_SEGMENT_MISMATCH') continue;
      throw e;
    }
    joined++;
    if (j.stock < units) continue;
    if (!best || betterJoin(j, best)) best = j;
  }
  if (best) return best;
  throw joined > 0
    ? new NoInterworkingRouteError('insufficient_key_material', `no GWN pair has ${units} units along the whole route`)
    : new NoInterworkingRouteError('no_known_route', 'no GWN pair joins the two segments');
}
