/**
 * What the management layer reads of the node it manages, as structural types of its own: the
 * manager imports nothing of the layers below but their diagnostics channels (the dependency
 * rule), so the node hands it its KeyManager, which has this shape.
 */

export interface ManagedLink {
  readonly id: string;
  readonly ends: readonly [string, string];
}

/** The network as the KM sees it (host/km/topology.ts has the same shape). */
export interface NetworkTopology {
  readonly nodes: readonly string[];
  readonly links: readonly ManagedLink[];
  /** SAE ID → node ID. */
  readonly saes: ReadonlyMap<string, string>;
  /** Configured relay routes, by "from>to". */
  readonly routes?: ReadonlyMap<string, readonly string[]>;
}

export type PoolKind = 'link' | 'relay';

export interface ManagedKm {
  readonly nodeId: string;
  readonly unitBits: number;
  readonly topology: NetworkTopology;
  readonly store: {
    readonly zeroized: boolean;
    pools(): { peer: string; origin: PoolKind }[];
    counts(peer: string, origin: PoolKind): { readonly available: number };
  };
  /** The KM's network view: a new topology replaces the current one under a higher version. */
  readonly network?: { readonly version: number; current(): NetworkTopology; replace(t: NetworkTopology, version: number): void };
  /** Tamper response: destroys the storage key before its first await, then the rest. */
  zeroize(): Promise<void>;
}

export function linkBetween(t: NetworkTopology, a: string, b: string): ManagedLink | undefined {
  return t.links.find((l) => (l.ends[0] === a && l.ends[1] === b) || (l.ends[0] === b && l.ends[1] === a));
}
