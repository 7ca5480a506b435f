/**
 * What a KM knows of its network: nodes, the QKD links between them and which node serves which
 * SAE. From configuration for now (the controller issue will own topology and routing). Routes are
 * the configured ones when given, else the shortest path over links (fewest hops, ties broken by
 * node ID so that every node computes the same route).
 */
import { NoRouteError } from './errors.js';

export interface TopologyLink {
  readonly id: string;
  readonly ends: readonly [string, string];
  /** Where the link's keys come from: a QKD link or a simulated source (labelled as such in status). */
  readonly kind?: 'qkd' | 'simulated';
}

export interface Topology {
  readonly nodes: readonly string[];
  readonly links: readonly TopologyLink[];
  /** SAE ID → node ID. */
  readonly saes: ReadonlyMap<string, string>;
  /** Configured routes, by "from>to". */
  readonly routes?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Border exits of SAEs of other networks that this network reaches by more than one node (a
 * gateway node and an interworking node's KM): SAE → the nodes standing for it, in the order of
 * the configuration. `saes` names the first; a KM accepts a supply to or from any of them.
 */
export type Exits = ReadonlyMap<string, readonly string[]>;

/** The nodes standing for `sae`: its node in `saes`, then its other exits. */
export function exitsOf(t: Topology, exits: Exits, sae: string): string[] {
  const first = t.saes.get(sae);
  return [...new Set([...(first ? [first] : []), ...(exits.get(sae) ?? [])])];
}

export function linkBetween(t: Topology, a: string, b: string): TopologyLink | undefined {
  return t.links.find((l) => (l.ends[0] === a && l.ends[1] === b) || (l.ends[0] === b && l.ends[1] === a));
}

export function neighbours(t: Topology, n: string): string[] {
  const out = new Set<string>();
  for (const l of t.links) {
    if (l.ends[0] === n) out.add(l.ends[1]);
    if (l.ends[1] === n) out.add(l.ends[0]);
  }
  return [...out].sort();
}

/** The route of a relay from `from` to `to`, both ends included. */
export function route(t: Topology, from: string, to: string): string[] {
  const configured = t.routes?.get(`${from}>${to}`);
  if (configured) return [...configured];
  if (from === to) return [from];
  const prev = new Map<string, string>([[from, from]]);
  let frontier = [from];
  while (frontier.length > 0 && !prev.has(to)) {
    const next: string[] = [];
    for (const n of frontier)
      for (const m of neighbours(t, n))
        if (!prev.has(m)) {
          prev.set(m, n);
          next.push(m);
        }
    frontier = next;
  }
  if (!prev.has(to)) throw new NoRouteError(from, to);
  const path = [to];
  while (path[0] !== from) path.unshift(prev.get(path[0]!)!);
  return path;
}
