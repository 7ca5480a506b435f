/**
 * The controller interworking function of a gateway node (Y.3818 clause 7.1; the procedure of
 * clause 9.1 Fig 10, key generation and rerouting control): it collects the status of what its
 * provider runs at the border (the Qx link's module and stock, the gateway KM's links and whether
 * each peer KM answers, the stock towards each shared SAE's KM), shares a summary of it with the
 * peer provider's controller over Cxi (CxiTopologySummary at start, CxiStatus on every change and
 * on a timer: border nodes, Qx links, shared SAEs with reachability, cost and stock, never an
 * internal node or link), and, when a link at the border fails in either network, decides the
 * interworking rerouting together with the peer controller before either KM acts on it:
 *
 *   GWN-A controller (sees a2~gwn_a go down)         GWN-B controller
 *   CxiReroutePropose(plan, digest) ──────────────▶ evaluates the plan against its own status
 *                ◀────────────────────────── CxiRerouteVote(accept, same digest)
 *   CxiRerouteCommit(digest) ────────────────────▶
 *   push to KM-A (the GWN's KM)                    push to KM-B
 *
 * The plan names every interworking route in use (one per pair of SAEs that crossed this border,
 * by an ID both sides derive from the two SAE names) and the crossing it takes from now on (Qx
 * link, egress and ingress GWN); a route whose segment on the proposer's side is lost is left out
 * of the plan, and so is suspended at both ends (when no route in use is left, there is nothing
 * to agree on and no round: the lost routes fail at the side that lost them). The push is the configuration control function:
 * each gateway KM admits supplies on the committed routes only, holds new supplies while a round
 * is in progress (the KMs never act on commands the controllers have not agreed on), and refuses
 * those on a suspended route with no_known_route (the SAE gets a clean 503) until a later round
 * commits it again. Both sides publish the digest they pushed, so that anyone can confirm that the
 * commands agree.
 *
 * In the distributed form this runs in the GWN's node controller; in the centralized form in the
 * GWN node too, from the same collection the node reports to the central controller over Cq (the
 * central controller keeps routing inside the network; only the GWN faces the peer provider).
 * The agreement itself is cxi/reroute.ts (RerouteRounds); this class feeds it messages and time.
 *
 * Functional elements of clause 7.1 it carries: routing control function (the rerouting decided
 * with the peer), configuration control function (the push of the agreed plan to the gateway KM),
 * policy-based control function (only shared SAEs and the Qx link in what it shares; a plan
 * naming anything else is rejected).
 */
import { createHash } from 'node:crypto';
import type { KeyManager } from '../../km/key-manager.js';
import type { ProviderTopology, SharedSae, SharingPolicy } from '../border/policy.js';
import { summarise } from '../border/policy.js';
import type { BorderState, CxiStatus } from '../cxi/status.js';
import type { CxiTopologySummary } from '../cxi/topology-summary.js';
import type { RerouteStep } from '../cxi/reroute-propose.js';
import { RerouteRounds, type RerouteInput, type RerouteOutput } from '../cxi/reroute.js';
import { widestShortest } from '../cxi/segments.js';
import type { IwBody, IwMessage } from '../messages.js';

type CxiName = 'CxiStatus' | 'CxiTopologySummary' | RerouteInput['name'];

export interface GwnControllerOptions {
  readonly provider: string;
  readonly peerProvider: string;
  readonly km: KeyManager;
  /** Whether the peer KM of each of the gateway KM's links answers over Kx. */
  readonly connected: (peer: string) => boolean;
  readonly peerNode: string;
  readonly qx: string;
  /** Whether the Qx link to the peer GWN is usable (its border connection is open). */
  readonly qxUp: () => boolean;
  /** This provider's SAEs shared with the peer, and the peer's SAEs this gateway fronts. */
  readonly shared: readonly SharedSae[];
  readonly foreignSaes: readonly string[];
  /** The border policy's view of this provider (for the topology summary). */
  readonly view: () => ProviderTopology;
  readonly send: <N extends CxiName>(name: N, body: IwBody<N>) => Promise<void>;
  readonly event: (e: Record<string, unknown>) => void;
  readonly statusIntervalMs?: number;
  /** How long a rerouting round waits for the peer's vote (default 5 s). */
  readonly rerouteTimeoutMs?: number;
  /**
   * How long a supply waits for a round in progress before it is refused (default 1.5 s): well
   * under the Kx timeout of the KM that sent it, so that KM never gives up on keys still crossing.
   */
  readonly holdMs?: number;
}

/** The ID both controllers give the interworking route from `master` to `slave`: a UUID from the two SAE names. */
export function routeId(master: string, slave: string): string {
  const h = createHash('sha256').update(`qkdn-edge/iw-route/v1\0${master}\0${slave}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

interface LinkStatus {
  readonly id: string;
  readonly peer: string;
  readonly up: boolean;
  readonly stock: number;
}

export class GwnControllerIwf {
  readonly #o: GwnControllerOptions;
  readonly #me: string;
  readonly #rounds: RerouteRounds;
  #seq = 0;
  #timer: NodeJS.Timeout | null = null;
  #peer: CxiStatus | null = null;
  #peerSummary: CxiTopologySummary | null = null;
  #summarySent = false;
  #lastShared = '';
  #lastPeer = '';
  /** Link states seen at the last collection: a change from up to down triggers a round. */
  #links = new Map<string, boolean>();
  #qxWasUp: boolean | null = null;
  /** Interworking routes that crossed this border, by route ID. */
  readonly #routes = new Map<string, { readonly master: string; readonly slave: string }>();
  /** Routes the last committed plan left out: refused until a later plan carries them again. */
  readonly #suspended = new Set<string>();
  /** A failure seen while a round was in progress: another round follows it. */
  #pending: string | null = null;
  readonly #waiting = new Set<() => void>();
  readonly #pushed: { round: string; digest: string; steps: number; at: number; ms: number }[] = [];
  /** When the round in progress began here (its failure seen, or its proposal received). */
  #roundStart = 0;

  constructor(o: GwnControllerOptions) {
    this.#o = o;
    this.#me = o.km.nodeId;
    this.#rounds = new RerouteRounds({
      self: this.#me,
      participants: [this.#me, o.peerNode],
      timeoutMs: o.rerouteTimeoutMs ?? 5000,
      graceMs: 1000,
      evaluate: (plan) => this.#evaluate(plan),
    });
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#o.statusIntervalMs ?? 250);
    this.#tick();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const w of this.#waiting) w();
  }

  /** Digests this controller pushed to its KM, oldest first. */
  pushed(): readonly { round: string; digest: string; steps: number; at: number; ms: number }[] {
    return this.#pushed;
  }

  peerStatus(): CxiStatus | null {
    return this.#peer;
  }

  peerSummary(): CxiTopologySummary | null {
    return this.#peerSummary;
  }

  // ---- collection and sharing ---------------------------------------------------------------------

  #myLinks(): LinkStatus[] {
    const km = this.#o.km;
    return km.topology.links
      .filter((l) => l.ends.includes(this.#me))
      .map((l) => {
        const peer = l.ends[0] === this.#me ? l.ends[1] : l.ends[0];
        return { id: l.id, peer, up: this.#o.connected(peer), stock: km.store.counts(peer, 'link').available };
      });
  }

  /** The reachability and stock of each shared SAE from this gateway, on the links it knows to be up. */
  #saes(links: readonly LinkStatus[]): { sae: string; reachable: boolean; stock: number; cost: number }[] {
    const km = this.#o.km;
    const t = km.topology;
    const mine = new Map(links.map((l) => [l.id, l]));
    const qxUp = this.#o.qxUp();
    const qxStock = km.store.counts(this.#o.peerNode, 'link').available;
    const stocked = {
      nodes: t.nodes,
      version: km.network.version,
      // links of this gateway as it sees them; others are not limited here (their ends report them inside)
      links: t.links.filter((l) => mine.get(l.id)?.up !== false).map((l) => ({ id: l.id, ends: l.ends, cost: 1, stock: mine.get(l.id)?.stock ?? Number.MAX_SAFE_INTEGER })),
    };
    return this.#o.shared.map(({ sae }) => {
      const node = t.saes.get(sae);
      if (!node) return { sae, reachable: false, stock: 0, cost: 0 };
      if (node === this.#me) return { sae, reachable: qxUp && qxStock > 0, stock: qxStock, cost: 1 };
      const path = widestShortest(stocked, this.#me, node);
      const stock = path ? Math.min(path.stock, qxStock, 0xffffffff) : 0;
      return { sae, reachable: qxUp && !!path && stock > 0, stock, cost: path ? path.cost + 1 : 0 };
    });
  }

  /** Fig 10, collection: the Qx link and the shared SAEs as the peer may see them. */
  collect(): CxiStatus {
    const links = this.#myLinks();
    const qxUp = this.#o.qxUp();
    const qxStock = this.#o.km.store.counts(this.#o.peerNode, 'link').available;
    const state: BorderState = !qxUp ? 'down' : qxStock > 0 ? 'up' : 'degraded';
    return {
      provider: this.#o.provider,
      seq: ++this.#seq,
      at: Date.now(),
      borders: [{ qx: this.#o.qx, state, stock: Math.min(qxStock, 0xffffffff), rate: 0 }],
      saes: this.#saes(links).map(({ sae, reachable, stock }) => ({ sae, reachable, stock })),
    };
  }

  #tick(): void {
    const now = Date.now();
    this.#handle(this.#rounds.tick(now));
    const links = this.#myLinks();
    const qxUp = this.#o.qxUp();
    // A link of this gateway lost (its peer KM no longer answers), or the Qx link: reroute together.
    const lost = links.filter((l) => !l.up && this.#links.get(l.id) === true).map((l) => l.id);
    if (this.#qxWasUp === true && !qxUp) lost.push(this.#o.qx);
    this.#links = new Map(links.map((l) => [l.id, l.up]));
    this.#qxWasUp = qxUp;
    if (lost.length > 0) this.#trigger(`link-down ${lost.length}`, lost);
    else if (this.#pending && !this.#rounds.active) this.#trigger(this.#pending, []);
    if (!qxUp) return;
    if (!this.#summarySent) {
      const policy: SharingPolicy = { provider: this.#o.provider, peers: new Map([[this.#o.peerProvider, this.#o.shared]]) };
      this.#summarySent = true;
      this.#o.send('CxiTopologySummary', this.#summary(policy)).catch(() => (this.#summarySent = false));
    }
    const s = this.collect();
    this.#o.send('CxiStatus', s).catch(() => {});
    const digest = JSON.stringify([s.borders[0]!.state, s.saes.map((x) => [x.sae, x.reachable])]);
    if (digest !== this.#lastShared) {
      this.#lastShared = digest;
      this.#o.event({ kind: 'cxi-status-shared', borders: s.borders, saes: s.saes });
    }
  }

  /**
   * The topology summary, with every shared SAE's KM named as the border node: the peer reaches
   * them all through this gateway, and the KMs inside are internal (unlike an IWN's).
   */
  #summary(policy: SharingPolicy): CxiTopologySummary {
    const s = summarise(this.#o.view(), policy, this.#o.peerProvider, 1);
    const kms = new Map<string, { km: string; border: string; cost: number; stock: number }>();
    for (const k of s.kms) {
      const was = kms.get(k.border);
      kms.set(k.border, { km: k.border, border: k.border, cost: Math.min(was?.cost ?? k.cost, k.cost), stock: Math.max(was?.stock ?? 0, k.stock) });
    }
    return { ...s, saes: s.saes.map((x) => ({ ...x, km: x.border })), kms: [...kms.values()] };
  }

  // ---- the peer controller ------------------------------------------------------------------------

  onMessage(m: IwMessage): void {
    const now = Date.now();
    switch (m.name) {
      case 'CxiStatus': {
        if (this.#peer && m.body.seq <= this.#peer.seq) return;
        this.#peer = m.body;
        const digest = JSON.stringify([m.body.borders.map((b) => b.state), m.body.saes.map((x) => [x.sae, x.reachable])]);
        if (digest !== this.#lastPeer) {
          this.#lastPeer = digest;
          this.#o.event({ kind: 'cxi-status-received', from: m.body.provider, borders: m.body.borders, saes: m.body.saes });
        }
        return;
      }
      case 'CxiTopologySummary':
        this.#peerSummary = m.body;
        this.#o.event({ kind: 'cxi-summary-received', from: m.body.provider, borders: m.body.borders.map((b) => b.node), saes: m.body.saes.map((s) => s.sae) });
        return;
      case 'CxiReroutePropose':
        if (!this.#rounds.active) this.#roundStart = now;
        this.#handle(this.#rounds.receive(this.#o.peerNode, { name: m.name, body: m.body }, now));
        return;
      case 'CxiRerouteVote':
      case 'CxiRerouteCommit':
      case 'CxiRerouteAbort':
        this.#handle(this.#rounds.receive(this.#o.peerNode, { name: m.name, body: m.body } as RerouteInput, now));
        return;
      default:
        return;
    }
  }

  // ---- rerouting ----------------------------------------------------------------------------------

  /** A supply from or to these SAEs crossed the border: its route is one the controllers reroute. */
  crossed(master: string, slaves: readonly string[]): void {
    for (const slave of slaves) this.#routes.set(routeId(master, slave), { master, slave });
  }

  #trigger(reason: string, links: readonly string[]): void {
    if (this.#rounds.active) {
      this.#pending = reason;
      return;
    }
    this.#pending = null;
    const plan = this.#plan();
    this.#o.event({ kind: 'reroute-trigger', reason, links: links.length, routes: plan.length });
    if (plan.length === 0) return;
    this.#roundStart = Date.now();
    this.#handle(this.#rounds.propose(plan, Date.now()));
  }

  /** Every route in use whose segment on this side is still there, over this border's crossing. */
  #plan(): RerouteStep[] {
    const reachable = new Map(this.#saes(this.#myLinks()).map((s) => [s.sae, s.reachable]));
    const steps: RerouteStep[] = [];
    for (const [relay, r] of [...this.#routes].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const out = this.#o.foreignSaes.includes(r.slave);
      const own = out ? r.master : r.slave;
      if (reachable.get(own) !== true) continue;
      steps.push({ relay, qx: this.#o.qx, egress: out ? this.#me : this.#o.peerNode, ingress: out ? this.#o.peerNode : this.#me });
    }
    return steps;
  }

  /** The voter's judgement: this border's crossing, routes between SAEs the policy shares, this side's segment there. */
  #evaluate(plan: readonly RerouteStep[]): { ok: true } | { ok: false; reason: string } {
    if (!this.#o.qxUp()) return { ok: false, reason: `${this.#o.qx} is down at ${this.#me}` };
    const reachable = new Map(this.#saes(this.#myLinks()).map((s) => [s.sae, s.reachable]));
    const known = new Map<string, string>();
    for (const { sae } of this.#o.shared)
      for (const f of this.#o.foreignSaes) {
        known.set(routeId(sae, f), sae);
        known.set(routeId(f, sae), sae);
      }
    for (const s of plan) {
      if (s.qx !== this.#o.qx) return { ok: false, reason: `${s.qx} is not a Qx link of ${this.#me}` };
      const pair = [s.egress, s.ingress].sort().join(' ');
      if (pair !== [this.#me, this.#o.peerNode].sort().join(' ')) return { ok: false, reason: `the crossing ${s.egress} to ${s.ingress} is not this border` };
      const own = known.get(s.relay);
      if (!own) return { ok: false, reason: `route ${s.relay} is not between SAEs shared across this border` };
      if (reachable.get(own) !== true) return { ok: false, reason: `${own} is not reachable in ${this.#o.provider}` };
    }
    return { ok: true };
  }

  #handle(outs: readonly RerouteOutput[]): void {
    for (const o of outs) {
      if (o.kind === 'send') this.#o.send(o.message.name, o.message.body as never).catch(() => {});
      else if (o.kind === 'push') this.#push(o.round, o.digest, o.plan);
      else if (o.kind === 'aborted') {
        this.#o.event({ kind: 'reroute-aborted', round: o.round, reason: o.reason });
        this.#release();
      } else this.#o.event({ kind: 'reroute-refused', from: o.from, reason: o.reason });
    }
  }

  /** Configuration control: the agreed plan becomes what this gateway KM admits. */
  #push(round: string, digest: Uint8Array, plan: readonly RerouteStep[]): void {
    const carried = new Set(plan.map((s) => s.relay));
    for (const id of this.#routes.keys()) {
      if (carried.has(id)) this.#suspended.delete(id);
      else this.#suspended.add(id);
    }
    const hex = Buffer.from(digest).toString('hex');
    const at = Date.now();
    const ms = at - this.#roundStart;
    this.#pushed.push({ round, digest: hex, steps: plan.length, at, ms });
    this.#o.event({ kind: 'reroute-pushed', round, digest: hex, steps: plan.length, suspended: this.#suspended.size, ms });
    this.#release();
  }

  #release(): void {
    const w = [...this.#waiting];
    this.#waiting.clear();
    for (const f of w) f();
  }

  /**
   * Whether the gateway KM may carry a supply between these SAEs now. While a round is in progress
   * it waits for the round's end (commit or abort), `holdMs` at most, and is refused if the round
   * still runs then; a route the committed plan left out is refused.
   */
  async admit(master: string, slaves: readonly string[]): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (this.#rounds.active) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.#waiting.delete(done);
          resolve();
        }, this.#o.holdMs ?? 1500);
        const done = () => {
          clearTimeout(t);
          resolve();
        };
        this.#waiting.add(done);
      });
    }
    if (this.#rounds.active) return { ok: false, reason: 'the controllers are still agreeing on a rerouting' };
    const off = slaves.find((s) => this.#suspended.has(routeId(master, s)));
    return off ? { ok: false, reason: `the interworking route from ${master} to ${off} is suspended by both controllers` } : { ok: true };
  }
}
