/**
 * A network shaped like the ones QKDNs are built as: metro rings of about ten nodes, each ring
 * joined to a backbone ring through two of its nodes. Used by the route benchmark and the tests.
 */
import type { NetworkConfig } from './view.js';

export function metroNetwork(nodes: number, ringSize = 10): NetworkConfig {
  const rings = Math.max(1, Math.round(nodes / ringSize));
  const ids: string[] = [];
  const links: { id: string; ends: [string, string] }[] = [];
  const link = (a: string, b: string) => links.push({ id: `${a}~${b}`, ends: [a, b] });
  const name = (r: number, i: number) => `m${r}n${i}`;
  for (let r = 0; r < rings; r++) {
    const size = r === rings - 1 ? nodes - ringSize * (rings - 1) : ringSize;
    for (let i = 0; i < size; i++) ids.push(name(r, i));
    for (let i = 0; i < size && size > 1; i++) if (size > 2 || i === 0) link(name(r, i), name(r, (i + 1) % size));
  }
  // Backbone: node 0 of each ring joined to node 0 of the next, and node half-way round to the next's.
  for (let r = 0; r < rings && rings > 1; r++) {
    const s = (r + 1) % rings;
    if (rings === 2 && r === 1) break;
    link(name(r, 0), name(s, 0));
    const h = Math.floor(ringSize / 2);
    if (ids.includes(name(r, h)) && ids.includes(name(s, h))) link(name(r, h), name(s, h));
  }
  return { nodes: ids, links, saes: {} };
}

/**
 * The smallest network with a choice of routes: a square A-B-C-D, so A to C has two 2-hop routes
 * (via B, which wins ties by ID, and via D). Tests, the demo and the failover bench use it.
 */
export function squareNetwork(saes: Readonly<Record<string, string>> = {}): NetworkConfig {
  return {
    nodes: ['A', 'B', 'C', 'D'],
    links: [
      { id: 'A~B', ends: ['A', 'B'] },
      { id: 'B~C', ends: ['B', 'C'] },
      { id: 'C~D', ends: ['C', 'D'] },
      { id: 'A~D', ends: ['A', 'D'] },
    ],
    saes,
  };
}
