/**
 * Cq through the node: each of the node's links in the terms of ETSI GS QKD 015 (status, `skr`,
 * expected `eskr`, QBER and its alarm), from what its QKD module publishes on
 * node:diagnostics_channel (host/qkd-link/module/diagnostics.ts: one BlockReport per block, a
 * LinkStateEvent per connection change). The control layer (control.ts) reports them to the
 * controller or advertises them; the link layer does not know the controller exists.
 *
 * - status: ACTIVE once the module is synchronised (or has made key), PENDING while it listens,
 *   connects or has just connected, OFF when it is disconnected, in board fault, in error or
 *   stopped. A link without a QKD module (simulated) is ACTIVE. An operator may take a link out of
 *   service (`setInService`): it is then OFF whatever the module says.
 * - skr: the last block's final key over the source time the block covers (0 for a block that
 *   made none); eskr: its moving average over the recent blocks, what the link is expected to give.
 * - QBER: the last block's (Z basis, else X); the alarm is raised above `qberThreshold` and
 *   cleared below 80 % of it, so a link near the threshold does not flap.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { BLOCK_CHANNEL, STATE_CHANNEL, type BlockReport, type LinkStateEvent } from '../qkd-link/module/diagnostics.js';
import type { LinkRole } from '../qkd-link/module/config.js';
import type { LinkPhysState, LinkStatus } from '../controller/view.js';
import type { NetworkConfig } from '../km/network-config.js';

/** Weight of the newest block in `eskr`. */
const ESKR_WEIGHT = 0.25;
const CLEAR_RATIO = 0.8;

const STATUS_OF: Readonly<Record<LinkStateEvent['state'], LinkStatus>> = {
  listening: 'PENDING',
  connecting: 'PENDING',
  connected: 'PENDING',
  synchronised: 'ACTIVE',
  disconnected: 'OFF',
  'board-fault': 'OFF',
  stopped: 'OFF',
  error: 'OFF',
};

/** The role this node's module plays on each of its QKD links (link ID → role); simulated links are absent. */
export function qkdRolesOf(node: string, network: Pick<NetworkConfig, 'links'>): ReadonlyMap<string, LinkRole> {
  const roles = new Map<string, LinkRole>();
  for (const l of network.links) {
    if (!l.ends.includes(node) || l.source.type !== 'qkd') continue;
    const role = (l.source as { role?: unknown }).role;
    roles.set(l.id, role === 'alice' || role === 'bob' ? role : l.ends[0] === node ? 'alice' : 'bob');
  }
  return roles;
}

export interface LinkReportsOptions {
  /** The node's links. */
  readonly links: readonly string[];
  /** Its QKD links and the role of its module on each (qkdRolesOf). */
  readonly qkd: ReadonlyMap<string, LinkRole>;
  readonly qberThreshold?: number;
  /** Called when a link's state changed (status or alarm at once; the rates with every block). */
  readonly onChange?: (link: string, state: LinkPhysState) => void;
}

export class LinkReports {
  readonly #o: LinkReportsOptions;
  readonly #threshold: number;
  readonly #state = new Map<string, LinkPhysState>();
  readonly #outOfService = new Set<string>();
  readonly #unsubscribe: () => void;

  constructor(o: LinkReportsOptions) {
    this.#o = o;
    this.#threshold = o.qberThreshold ?? 0.11;
    for (const l of o.links) this.#state.set(l, { status: o.qkd.has(l) ? 'PENDING' : 'ACTIVE', skr: 0, eskr: 0, qber: 0, qberAlarm: false });
    const onBlock = (m: unknown) => this.#block(m as BlockReport);
    const onState = (m: unknown) => this.#linkState(m as LinkStateEvent);
    if (o.qkd.size > 0) {
      subscribe(BLOCK_CHANNEL, onBlock);
      subscribe(STATE_CHANNEL, onState);
    }
    this.#unsubscribe = () => {
      if (o.qkd.size === 0) return;
      unsubscribe(BLOCK_CHANNEL, onBlock);
      unsubscribe(STATE_CHANNEL, onState);
    };
  }

  /** The link's state as the controller is told it. */
  state(link: string): LinkPhysState {
    const s = this.#state.get(link);
    if (!s) throw new RangeError(`${link} is not a link of this node`);
    return this.#outOfService.has(link) ? { ...s, status: 'OFF' } : s;
  }

  inService(link: string): boolean {
    return !this.#outOfService.has(link);
  }

  /** An operator takes the link out of service (OFF: no route uses it) or puts it back. False for an unknown link. */
  setInService(link: string, inService: boolean): boolean {
    if (!this.#state.has(link)) return false;
    if (inService === !this.#outOfService.has(link)) return true;
    if (inService) this.#outOfService.delete(link);
    else this.#outOfService.add(link);
    this.#o.onChange?.(link, this.state(link));
    return true;
  }

  close(): void {
    this.#unsubscribe();
  }

  #mine(linkId: string, role: LinkRole): boolean {
    return this.#o.qkd.get(linkId) === role;
  }

  #set(link: string, next: LinkPhysState): void {
    this.#state.set(link, next);
    this.#o.onChange?.(link, this.state(link));
  }

  #linkState(e: LinkStateEvent): void {
    if (!this.#mine(e.linkId, e.role)) return;
    const s = this.#state.get(e.linkId)!;
    const status = STATUS_OF[e.state];
    if (status !== s.status) this.#set(e.linkId, { ...s, status });
  }

  #block(r: BlockReport): void {
    if (!this.#mine(r.linkId, r.role)) return;
    const s = this.#state.get(r.linkId)!;
    const seconds = (r.slots.end - r.slots.start) / r.slots.clockHz;
    const skr = r.outcome === 'key' && seconds > 0 ? (r.finalBits ?? 0) / seconds : 0;
    const eskr = s.eskr === 0 && s.skr === 0 ? skr : ESKR_WEIGHT * skr + (1 - ESKR_WEIGHT) * s.eskr;
    const qber = r.qber ? (r.qber.Z?.all ?? r.qber.X.all) : s.qber;
    const qberAlarm = s.qberAlarm ? qber >= CLEAR_RATIO * this.#threshold : qber > this.#threshold;
    // A block that made key means the link works, whatever state event came before it.
    const status = r.outcome === 'key' ? 'ACTIVE' : s.status;
    this.#set(r.linkId, { status, skr, eskr, qber, qberAlarm });
  }
}
