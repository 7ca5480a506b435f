/**
 * The controller's view of its network: nodes, links, SAEs (from configuration, versioned), each
 * link's state in the vocabulary of ETSI GS QKD 015 (status, `skr`, `eskr`, QBER) learned over Cq,
 * each link end's stock and consumption and each KM's liveness learned over Ck. Route computation
 * (router.ts) reads it; it raises the rerouting triggers when a link or KM changes for the worse.
 * Both forms use it: the distributed form fills it from the link-state database, the centralized
 * form from Ck/Cq reports (and etcd).
 */
import { EventEmitter } from 'node:events';
import { ControllerConfigError, StaleVersionError } from './errors.js';

/** ETSI GS QKD 015 link status: ACTIVE generates key, PASSIVE holds key but generates none, PENDING being set up, OFF down. */
export type LinkStatus = 'ACTIVE' | 'PASSIVE' | 'PENDING' | 'OFF';
export const LINK_STATUSES: readonly LinkStatus[] = ['ACTIVE', 'PASSIVE', 'PENDING', 'OFF'];

export interface LinkConfig {
  readonly id: string;
  readonly ends: readonly [string, string];
}

/** What configuration control versions: the network's nodes, links and SAEs. */
export interface NetworkConfig {
  readonly nodes: readonly string[];
  readonly links: readonly LinkConfig[];
  /** SAE ID → node ID. */
  readonly saes: Readonly<Record<string, string>>;
}

/** One end's view of a link's key store (Ck). */
export interface LinkEndState {
  readonly stockBits: number;
  /** Key taken from the link, bits per second, averaged by the reporting KM. */
  readonly consumptionBps: number;
  readonly at: number;
}

/** A link's physical state (Cq, from the QKD module through its node). */
export interface LinkPhysState {
  readonly status: LinkStatus;
  readonly skr: number;
  readonly eskr: number;
  readonly qber: number;
  readonly qberAlarm: boolean;
}

export interface LinkState extends LinkPhysState {
  readonly id: string;
  readonly ends: readonly [string, string];
  readonly endState: ReadonlyMap<string, LinkEndState>;
}

export interface KmState {
  readonly node: string;
  readonly boot: string;
  readonly up: boolean;
  readonly lastSeen: number;
}

export type RerouteReason = 'link-down' | 'left-active' | 'low-water' | 'qber-alarm' | 'over-eskr' | 'km-lost' | 'link-removed';

export interface RerouteTrigger {
  readonly reason: RerouteReason;
  /** The links whose relays must move (for km-lost: every link of the node). */
  readonly links: readonly string[];
  readonly node?: string;
}

export interface ViewEvents {
  /** Anything changed; `stateVersion` is the new one. */
  change: [stateVersion: number];
  /** A link or KM changed so that relays on it must be rerouted. */
  trigger: [RerouteTrigger];
}

export interface ViewOptions {
  /** Bits in one key unit (the network's unit size). */
  readonly unitBits: number;
  /** Stock in units under which a link is no longer offered to relays beyond their need. */
  readonly lowWaterUnits: number;
}

interface MutableLink {
  id: string;
  ends: readonly [string, string];
  phys: LinkPhysState;
  endState: Map<string, LinkEndState>;
}

/** A link nobody has reported on yet is taken as ACTIVE: configuration says it exists, and today's KMs use it so. */
const UNREPORTED: LinkPhysState = { status: 'ACTIVE', skr: 0, eskr: 0, qber: 0, qberAlarm: false };

export interface Adjacent {
  readonly peer: string;
  readonly link: string;
}

export class ControllerView extends EventEmitter<ViewEvents> {
  readonly unitBits: number;
  readonly lowWaterUnits: number;
  #configVersion = 0;
  #stateVersion = 0;
  #nodes: string[] = [];
  #saes = new Map<string, string>();
  readonly #links = new Map<string, MutableLink>();
  readonly #kms = new Map<string, KmState>();
  /** Per node, its links' peers sorted by peer ID then link ID, so route computation is deterministic. */
  #adj = new Map<string, Adjacent[]>();

  constructor(o: ViewOptions) {
    super();
    if (!Number.isSafeInteger(o.unitBits) || o.unitBits <= 0) throw new ControllerConfigError('unitBits', 'a positive integer');
    if (!Number.isSafeInteger(o.lowWaterUnits) || o.lowWaterUnits < 0) throw new ControllerConfigError('lowWaterUnits', 'a non-negative integer');
    this.unitBits = o.unitBits;
    this.lowWaterUnits = o.lowWaterUnits;
  }

  get configVersion(): number {
    return this.#configVersion;
  }

  /** Bumped on every change of configuration or state: a route names the state it was computed on. */
  get stateVersion(): number {
    return this.#stateVersion;
  }

  get nodes(): readonly string[] {
    return this.#nodes;
  }

  /**
   * Installs a configuration; keeps the state of links that stay; refuses an older version (and
   * the same one unless `sameVersion`: the distributed form's tie between two origins of one version).
   */
  configure(config: NetworkConfig, version: number, sameVersion = false): void {
    if (version < this.#configVersion || (version === this.#configVersion && !sameVersion)) throw new StaleVersionError('network configuration', version, this.#configVersion);
    checkConfig(config);
    const removed = [...this.#links.keys()].filter((id) => !config.links.some((l) => l.id === id));
    for (const l of config.links) {
      const old = this.#links.get(l.id);
      if (old && old.ends[0] === l.ends[0] && old.ends[1] === l.ends[1]) continue;
      this.#links.set(l.id, { id: l.id, ends: [l.ends[0], l.ends[1]], phys: UNREPORTED, endState: new Map() });
    }
    for (const id of removed) this.#links.delete(id);
    this.#nodes = [...config.nodes].sort();
    this.#saes = new Map(Object.entries(config.saes));
    this.#configVersion = version;
    this.#rebuildAdjacency();
    this.#changed();
    if (removed.length > 0) this.emit('trigger', { reason: 'link-removed', links: removed });
  }

  config(): NetworkConfig {
    return {
      nodes: [...this.#nodes],
      links: [...this.#links.values()].map((l) => ({ id: l.id, ends: l.ends })),
      saes: Object.fromEntries(this.#saes),
    };
  }

  #rebuildAdjacency(): void {
    const adj = new Map<string, Adjacent[]>(this.#nodes.map((n) => [n, []]));
    for (const l of this.#links.values()) {
      adj.get(l.ends[0])?.push({ peer: l.ends[1], link: l.id });
      adj.get(l.ends[1])?.push({ peer: l.ends[0], link: l.id });
    }
    for (const list of adj.values()) list.sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : a.link < b.link ? -1 : a.link > b.link ? 1 : 0));
    this.#adj = adj;
  }

  adjacent(node: string): readonly Adjacent[] {
    return this.#adj.get(node) ?? [];
  }

  #changed(): void {
    this.#stateVersion++;
    this.emit('change', this.#stateVersion);
  }

  link(id: string): LinkState | undefined {
    const l = this.#links.get(id);
    return l ? { id: l.id, ends: l.ends, ...l.phys, endState: l.endState } : undefined;
  }

  links(): LinkState[] {
    return [...this.#links.keys()].sort().map((id) => this.link(id)!);
  }

  /** Units both ends hold: the smaller of the two reports (0 until both ends have reported). */
  stockUnits(id: string): number {
    const l = this.#links.get(id);
    if (!l) return 0;
    const a = l.endState.get(l.ends[0]);
    const b = l.endState.get(l.ends[1]);
    if (!a || !b) return 0;
    return Math.floor(Math.min(a.stockBits, b.stockBits) / this.unitBits);
  }

  /**
   * Whether the link may carry relays at all: ACTIVE or PASSIVE, no QBER alarm (the trigger moves
   * relays off it; routing them back onto it would only repeat that), and both end KMs not known to be lost.
   */
  usable(id: string): boolean {
    const l = this.#links.get(id);
    if (!l || (l.phys.status !== 'ACTIVE' && l.phys.status !== 'PASSIVE') || l.phys.qberAlarm) return false;
    return l.ends.every((n) => this.#kms.get(n)?.up !== false);
  }

  /** Cq: a QKD module's report of its link. */
  reportLink(id: string, phys: LinkPhysState): void {
    const l = this.#links.get(id);
    if (!l) throw new ControllerConfigError(`links.${id}`, 'not a configured link');
    const before = l.phys;
    l.phys = { ...phys };
    this.#changed();
    if (before.status === 'ACTIVE' && phys.status !== 'ACTIVE') this.emit('trigger', { reason: phys.status === 'OFF' ? 'link-down' : 'left-active', links: [id] });
    if (!before.qberAlarm && phys.qberAlarm) this.emit('trigger', { reason: 'qber-alarm', links: [id] });
    this.#checkEskr(l);
  }

  /** Ck: one end's stock and consumption of a link. */
  reportStock(id: string, node: string, s: LinkEndState): void {
    const l = this.#links.get(id);
    if (!l) throw new ControllerConfigError(`links.${id}`, 'not a configured link');
    if (!l.ends.includes(node)) throw new ControllerConfigError(`links.${id}`, `${node} is not an end of it`);
    const before = this.stockUnits(id);
    l.endState.set(node, s);
    this.#changed();
    const after = this.stockUnits(id);
    if (before >= this.lowWaterUnits && after < this.lowWaterUnits && l.endState.size === 2) this.emit('trigger', { reason: 'low-water', links: [id] });
    this.#checkEskr(l);
  }

  #checkEskr(l: MutableLink): void {
    // Consumption above the expected rate drains the link: move relays off it before it is dry.
    if (l.phys.eskr <= 0) return;
    const over = [...l.endState.values()].some((e) => e.consumptionBps > l.phys.eskr);
    if (over) this.emit('trigger', { reason: 'over-eskr', links: [l.id] });
  }

  /** Ck: a KM said it is alive (a report or heartbeat). */
  kmSeen(node: string, boot: string, at: number): void {
    this.#kms.set(node, { node, boot, up: true, lastSeen: at });
    this.#changed();
  }

  /** Marks KMs not heard from for `timeoutMs` as lost and raises km-lost for each. */
  expireKms(now: number, timeoutMs: number): string[] {
    const lost: string[] = [];
    for (const k of this.#kms.values()) if (k.up && now - k.lastSeen > timeoutMs) lost.push(k.node);
    for (const n of lost) this.kmLost(n);
    return lost;
  }

  kmLost(node: string): void {
    const k = this.#kms.get(node);
    this.#kms.set(node, { node, boot: k?.boot ?? '', up: false, lastSeen: k?.lastSeen ?? 0 });
    this.#changed();
    this.emit('trigger', { reason: 'km-lost', node, links: this.adjacent(node).map((a) => a.link) });
  }

  km(node: string): KmState | undefined {
    return this.#kms.get(node);
  }

  saeNode(sae: string): string | undefined {
    return this.#saes.get(sae);
  }
}

function checkConfig(c: NetworkConfig): void {
  const nodes = new Set(c.nodes);
  if (nodes.size !== c.nodes.length) throw new ControllerConfigError('nodes', 'duplicate node IDs');
  const ids = new Set<string>();
  for (const [i, l] of c.links.entries()) {
    if (ids.has(l.id)) throw new ControllerConfigError(`links[${i}]`, `duplicate link ID ${l.id}`);
    ids.add(l.id);
    if (l.ends[0] === l.ends[1]) throw new ControllerConfigError(`links[${i}]`, 'a link joins two different nodes');
    for (const n of l.ends) if (!nodes.has(n)) throw new ControllerConfigError(`links[${i}]`, `unknown node ${n}`);
  }
  for (const [sae, n] of Object.entries(c.saes)) if (!nodes.has(n)) throw new ControllerConfigError(`saes.${sae}`, `unknown node ${n}`);
}
