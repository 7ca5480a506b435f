/**
 * The policy-based control function (Y.3818 clause 7.1; clause 7.2 in an IWN): what a provider
 * shares with each peer provider, and the abstraction of its network that may cross the border.
 *
 * A provider's full view (`ProviderTopology`) stays inside; the sharing policy says which of its
 * SAEs each peer may reach and at what QoS (keys per second, key size). `summarise` computes the
 * CxiTopologySummary for one peer from the two: the border nodes facing that peer, and for each
 * shared SAE reachable from a border node the KM serving it, the cost of the segment from the
 * border node (widest-shortest, cxi/segments.ts) and its available stock, the bottleneck of the
 * segment and the Qx link. `vocabulary` is the other half: which names the peer may see; the
 * border filter refuses every other name of this provider.
 */
import { ID_PATTERN } from '../../pki/ids.js';
import { IwError } from '../errors.js';
import type { CxiTopologySummary, SummaryKm, SummarySae } from '../cxi/topology-summary.js';
import { widestShortest, type StockedTopology } from '../cxi/segments.js';

/** A Qx link from one of this provider's gateways to a peer provider's gateway. */
export interface BorderLink {
  readonly node: string;
  readonly peerProvider: string;
  readonly peerNode: string;
  readonly qx: string;
  readonly cost: number;
  readonly stock: number;
}

/** Everything a provider knows of its own network. Never sent anywhere. */
export interface ProviderTopology {
  readonly provider: string;
  readonly network: StockedTopology;
  /** SAE ID → the node (KM) serving it. */
  readonly saes: ReadonlyMap<string, string>;
  readonly borders: readonly BorderLink[];
}

export interface SharedSae {
  readonly sae: string;
  /** Keys per second the peer's SAEs may take with this SAE, at most. */
  readonly rate: number;
  /** Largest key size, in bits. */
  readonly bits: number;
}

/** A SharedSae in a configuration file (JSON schema; the gateway's and the IWN's both use it). */
export const SHARED_SAE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['sae', 'rate', 'bits'],
  properties: {
    sae: { type: 'string', pattern: ID_PATTERN.source },
    rate: { type: 'number', exclusiveMinimum: 0 },
    bits: { type: 'integer', minimum: 8, maximum: 65536, multipleOf: 8 },
  },
} as const;

export interface SharingPolicy {
  readonly provider: string;
  /** Peer provider ID → the SAEs shared with it. A peer not listed gets nothing. */
  readonly peers: ReadonlyMap<string, readonly SharedSae[]>;
}

/** The names a peer may see, and the names of this provider it may not. */
export interface Vocabulary {
  readonly shared: { readonly nodes: ReadonlySet<string>; readonly links: ReadonlySet<string>; readonly saes: ReadonlySet<string> };
  readonly internal: { readonly nodes: ReadonlySet<string>; readonly links: ReadonlySet<string>; readonly saes: ReadonlySet<string> };
}

function sharedWith(policy: SharingPolicy, topology: ProviderTopology, peer: string): readonly SharedSae[] {
  if (policy.provider !== topology.provider) throw new IwError('ERR_IW_CONFIG', `the sharing policy of ${policy.provider} does not apply to ${topology.provider}`);
  const list = policy.peers.get(peer) ?? [];
  for (const s of list) if (!topology.saes.has(s.sae)) throw new IwError('ERR_IW_CONFIG', `the sharing policy with ${peer} names SAE ${s.sae}, which ${topology.provider} does not serve`);
  return list;
}

function facing(topology: ProviderTopology, peer: string): readonly BorderLink[] {
  return topology.borders.filter((b) => b.peerProvider === peer);
}

/** The topology summary this provider may send to `peer` (Cxi). */
export function summarise(topology: ProviderTopology, policy: SharingPolicy, peer: string, version: number): CxiTopologySummary {
  const shares = sharedWith(policy, topology, peer);
  const borders = facing(topology, peer);
  if (borders.length === 0) throw new IwError('ERR_IW_CONFIG', `${topology.provider} has no border link to ${peer}`);
  const saes: SummarySae[] = [];
  const kms = new Map<string, SummaryKm>();
  for (const b of [...borders].sort((x, y) => (x.qx < y.qx ? -1 : 1))) {
    for (const s of shares) {
      const km = topology.saes.get(s.sae)!;
      const p = widestShortest(topology.network, b.node, km);
      if (!p) continue;
      const stock = Math.min(p.stock, b.stock);
      saes.push({ sae: s.sae, km, border: b.node, cost: p.cost, stock, rate: s.rate, bits: s.bits });
      const key = `${km}\0${b.node}`;
      if (!kms.has(key)) kms.set(key, { km, border: b.node, cost: p.cost, stock });
    }
  }
  return {
    provider: topology.provider,
    version,
    borders: borders.map((b) => ({ node: b.node, peer: b.peerNode, qx: b.qx, cost: b.cost, stock: b.stock })),
    saes,
    kms: [...kms.values()],
  };
}

/** The names of this provider that `peer` may see (border nodes and links facing it, shared SAEs and their KMs), and the rest. */
export function vocabulary(topology: ProviderTopology, policy: SharingPolicy, peer: string): Vocabulary {
  const shares = sharedWith(policy, topology, peer);
  const borders = facing(topology, peer);
  const saes = new Set(shares.map((s) => s.sae));
  const nodes = new Set<string>([...borders.map((b) => b.node), ...shares.map((s) => topology.saes.get(s.sae)!)]);
  const links = new Set(borders.map((b) => b.qx));
  const allNodes = new Set([...topology.network.nodes, ...topology.borders.map((b) => b.node)]);
  const allLinks = new Set([...topology.network.links.map((l) => l.id), ...topology.borders.map((b) => b.qx)]);
  return {
    shared: { nodes, links, saes },
    internal: {
      nodes: new Set([...allNodes].filter((n) => !nodes.has(n))),
      links: new Set([...allLinks].filter((l) => !links.has(l))),
      saes: new Set([...topology.saes.keys()].filter((s) => !saes.has(s))),
    },
  };
}
