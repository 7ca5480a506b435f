/**
 * The KSA behaviour behind ETSI GS QKD 014: which SAE pairs this KME serves (the one place those
 * checks live; host/api/etsi014.ts asks here), supply to a master SAE with the reservation at the
 * slave SAE's KM first (enc_keys), fetch by the slave SAE (dec_keys), and the slave KM's side of a
 * supply (KeySupplyNotification). Keys come from the pool shared with the slave's node: a link's
 * when the two share one, else the relay pool, filled by a relay first when short.
 */
import { randomUUID } from 'node:crypto';
import type { KeyChange, KeyRecord, PoolOrigin } from './key-record.js';
import { exitsOf, linkBetween, type Exits, type Topology } from './topology.js';
import { ExitHealth, fallsBack, rankExits, type ExitCounts } from './exit-choice.js';
import { InsufficientKeysError, NotPermittedError, PeerRefusedError, PeerUnreachableError } from './errors.js';
import { ALLOW_ALL, type SupplyPolicy } from './supply-policy.js';
import { concat, type Kma } from './kma.js';
import type { KeyRelayService } from './relay.js';
import type { StaticRouter } from './routing.js';
import type { KxAnswer } from './kx/transport.js';
import type { KeySupplyNotification } from './kx/key-supply-notification.js';
import { statusOf, type KxStatus } from './kx/status.js';
import { publishSupply } from './diagnostics.js';

export interface DeliveredKey {
  readonly id: string;
  readonly bytes: Uint8Array;
}

export interface SupplyRequest {
  readonly master: string;
  /** The slave SAE first, then the additional slaves (multicast). */
  readonly slaves: readonly string[];
  readonly size: number;
  readonly number: number;
}

export interface FetchRequest {
  readonly slave: string;
  readonly master: string;
  readonly ids: readonly string[];
}

export type SaePairProblem = 'unknown-slave' | 'same-kme' | 'master-is-slave' | 'slaves-split';

/** The SAEs of a request cannot be served as a pair by this KME; `problem` says why. */
export class SaePairError extends NotPermittedError {
  readonly problem: SaePairProblem;
  constructor(problem: SaePairProblem) {
    super(problem === 'slaves-split' ? 'all slave SAEs must be served by one KME' : problem === 'same-kme' ? 'master and slave SAE are served by the same KME' : 'no key supply is available between these SAEs');
    this.problem = problem;
  }
}

/** Whether `sae` is an SAE this node serves. */
export function servesSae(t: Topology, nodeId: string, sae: string): boolean {
  return t.saes.get(sae) === nodeId;
}

/** The KME serving the slave SAE(s) of a supply by a master SAE of `nodeId`; throws SaePairError. */
export function saePairTarget(t: Topology, nodeId: string, master: string, slaves: readonly string[]): string {
  const node = t.saes.get(slaves[0]!);
  if (!node) throw new SaePairError('unknown-slave');
  if (slaves.includes(master)) throw new SaePairError('master-is-slave');
  if (slaves.some((s) => t.saes.get(s) !== node)) throw new SaePairError('slaves-split');
  if (node === nodeId) throw new SaePairError('same-kme');
  return node;
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export class Ksa {
  readonly #kma: Kma;
  readonly #relay: KeyRelayService;
  readonly #router: StaticRouter;
  policy: SupplyPolicy;
  readonly #locks = new Map<string, Promise<void>>();
  readonly #exits: Exits;
  readonly #health = new ExitHealth();

  constructor(kma: Kma, relay: KeyRelayService, router: StaticRouter, policy: SupplyPolicy = ALLOW_ALL, exits: Exits = new Map()) {
    this.#kma = kma;
    this.#relay = relay;
    this.#router = router;
    this.policy = policy;
    this.#exits = exits;
  }

  /** The nodes standing for `sae` in this network: its node in `saes`, then its other border exits. */
  exitsOf(sae: string): string[] {
    return exitsOf(this.#kma.topology, this.#exits, sae);
  }

  /** Whether this node serves `sae`: its node, or one of the border exits standing for it. */
  serves(sae: string): boolean {
    return servesSae(this.#kma.topology, this.#kma.nodeId, sae) || (this.#exits.get(sae)?.includes(this.#kma.nodeId) ?? false);
  }

  /** Supplies delivered by each border exit, fallbacks to another, supplies no exit could serve. */
  exitCounts(): ExitCounts {
    return this.#health.counts();
  }

  /** Where keys for an SAE pair come from: the pool shared with the slave's node. */
  poolFor(slaveNode: string): { peer: string; origin: PoolOrigin } {
    return { peer: slaveNode, origin: linkBetween(this.#kma.topology, this.#kma.nodeId, slaveNode) ? 'link' : 'relay' };
  }

  /** Key units of `size` bits. */
  unitsPerKey(size: number): number {
    return Math.ceil(size / this.#kma.unitBits);
  }

  /** Keys of `size` bits this KM could supply now to an SAE pair whose slave is on `slaveNode`. */
  stock(slaveNode: string, size: number): number {
    const per = this.unitsPerKey(size);
    const { peer, origin } = this.poolFor(slaveNode);
    let units = this.#kma.shared(peer, origin);
    if (origin === 'relay') {
      try {
        const r = this.#router.routeNow({ from: this.#kma.nodeId, to: slaveNode, avoidLinks: [] }).nodes;
        if (r.length >= 3) units += this.#kma.shared(r[1]!, 'link');
      } catch {
        // no route: only what was relayed before
      }
    }
    return Math.floor(Math.min(units, this.#kma.maxKeyCount) / per);
  }

  /**
   * enc_keys: reserves `number` keys at the slave SAE's KM, then delivers them to the master SAE.
   * The caller (the ETSI 014 API) has checked the request's bounds.
   */
  async supply(r: SupplyRequest): Promise<DeliveredKey[]> {
    const kma = this.#kma;
    const t0 = performance.now();
    const event = (outcome: 'delivered' | 'refused' | 'failed', reason?: string, exit?: { exit: string; fallbacks: number }) =>
      publishSupply({ node: kma.nodeId, kind: 'enc_keys', master: r.master, slaves: r.slaves, keys: r.number, size: r.size, outcome, latencyMs: performance.now() - t0, ...(reason ? { reason } : {}), ...exit });
    const target = saePairTarget(kma.topology, kma.nodeId, r.master, r.slaves);
    try {
      this.policy.check(r);
    } catch (e) {
      event('refused', statusOf(e));
      throw e;
    }
    const exits = this.#exits.has(r.slaves[0]!) && r.slaves.every((s) => this.#exits.get(s) === this.#exits.get(r.slaves[0]!)) ? this.exitsOf(r.slaves[0]!) : [target];
    // Several border exits: the best by health and stock first, the next when one fails. One
    // target is tried once, with no backoff to remember.
    const several = exits.length > 1;
    const order = several
      ? rankExits(
          exits.map((node) => ({ node, stock: this.stock(node, r.size), up: kma.kx.connected(node) || !linkBetween(kma.topology, kma.nodeId, node) })),
          r.number,
          (n) => this.#health.usable(n),
        )
      : exits;
    let last: unknown = new PeerUnreachableError(exits.join(', '), 'every border exit failed a moment ago');
    let tried = 0;
    for (const exit of order) {
      try {
        const keys = await this.#supplyTo(r, exit);
        if (several) this.#health.delivered(exit);
        event('delivered', undefined, several ? { exit, fallbacks: tried } : undefined);
        return keys;
      } catch (e) {
        last = e;
        tried++;
        const next = several && fallsBack(e) && tried < order.length;
        if (several && fallsBack(e)) this.#health.failed(exit, next);
        if (!next) break;
      }
    }
    if (several) this.#health.exhausted();
    const insufficient = last instanceof InsufficientKeysError;
    event(insufficient ? 'refused' : 'failed', insufficient ? 'insufficient keys' : statusOf(last), several ? { exit: 'none', fallbacks: Math.max(0, tried - 1) } : undefined);
    throw last;
  }

  /** One supply by the slave SAE's KM `target`; whatever it reserved is burned at both ends when it fails. */
  async #supplyTo(r: SupplyRequest, target: string): Promise<DeliveredKey[]> {
    const kma = this.#kma;
    const { peer, origin } = this.poolFor(target);
    const per = this.unitsPerKey(r.size);
    const need = per * r.number;
    if (origin === 'relay' && kma.store.allocatable(peer, 'relay') < need) await this.#relay.relay(peer, need - kma.store.allocatable(peer, 'relay'));
    const ids = origin === 'link' ? await kma.takeLink(peer, need) : kma.store.take(peer, 'relay', need);
    if (!ids) throw new InsufficientKeysError(`${origin}:${peer}`, need, kma.shared(peer, origin));
    const keys = chunk(ids, per);
    const supply = randomUUID();
    const change: KeyChange[] = [];
    for (const k of keys)
      k.forEach((id, j) =>
        change.push({
          id,
          from: ['available'],
          to: 'reserved',
          fields: { op: supply, purpose: 'supply', phase: 'await-peer', head: k[0], ...(j === 0 ? { units: k, sizeBits: r.size, master: r.master, slaves: [...r.slaves] } : {}) },
        }),
      );
    try {
      await kma.store.commit({ change });
    } catch (e) {
      kma.store.release(ids);
      throw e;
    }
    let failure: Error | null = null;
    try {
      const ans = await kma.kx.request(peer, 'KeySupplyNotification', { supply, origin, master: r.master, slaves: r.slaves, size: r.size, keys: keys.map((k) => ({ id: k[0]!, units: k })) }, kma.peerMs);
      if (ans.name !== 'KeySupplyNotificationResponse') failure = new PeerRefusedError(peer, ans.name === 'Response' ? ans.body.status : ans.name, 'unexpected answer');
      else {
        if (ans.body.high !== undefined && origin === 'link') kma.raiseHigh(peer, ans.body.high);
        if (ans.body.status !== 'ok') failure = new PeerRefusedError(peer, ans.body.status, ans.body.reason ?? '');
      }
    } catch (e) {
      failure = e as Error;
    }
    if (failure) {
      // Refused, lost or late: the peer may or may not have reserved; burn at both ends.
      await kma.burn(ids, [{ peer, origin, ids, reason: `supply ${supply} not confirmed` }], `supply not confirmed: ${statusOf(failure)}`);
      throw failure;
    }
    const out = keys.map((k) => {
      const bytes = concat(k.map((id) => kma.store.readKey(id)));
      return { id: k[0]!, bytes: bytes.subarray(0, r.size / 8) };
    });
    await kma.store.commit({ change: ids.map((id) => ({ id, from: ['reserved'], to: 'delivered', fields: { phase: undefined } })) });
    return out;
  }

  async #lock(ids: readonly string[]): Promise<() => void> {
    const sorted = [...new Set(ids)].sort();
    const waits = sorted.map((id) => this.#locks.get(id)).filter((p): p is Promise<void> => p !== undefined);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    for (const id of sorted) this.#locks.set(id, mine);
    await Promise.all(waits);
    return () => {
      for (const id of sorted) if (this.#locks.get(id) === mine) this.#locks.delete(id);
      release();
    };
  }

  /**
   * dec_keys: hands the slave SAE the keys reserved for it by the master SAE's supply. A key that
   * does not exist, is not addressed to this SAE by this master, or was already delivered to it is
   * refused the same way, so a caller learns nothing about keys that are not its own.
   */
  async fetch(r: FetchRequest): Promise<DeliveredKey[]> {
    const kma = this.#kma;
    const t0 = performance.now();
    const unlock = await this.#lock(r.ids);
    try {
      const heads: KeyRecord[] = [];
      for (const id of r.ids) {
        const h = kma.store.get(id);
        if (!h || h.head !== id || h.state !== 'reserved' || h.phase !== 'await-sae' || h.master !== r.master || !h.pending?.includes(r.slave)) {
          publishSupply({ node: kma.nodeId, kind: 'dec_keys', master: r.master, slaves: [r.slave], keys: r.ids.length, size: 0, outcome: 'refused', latencyMs: performance.now() - t0 });
          throw new NotPermittedError(`key_ID ${id} is not available to this SAE`);
        }
        heads.push(h);
      }
      const out = heads.map((h) => ({ id: h.id, bytes: concat(h.units!.map((u) => kma.store.readKey(u))).subarray(0, h.sizeBits! / 8) }));
      const change: KeyChange[] = [];
      for (const h of heads) {
        const pending = h.pending!.filter((s) => s !== r.slave);
        if (pending.length > 0) change.push({ id: h.id, from: ['reserved'], to: 'reserved', fields: { pending } });
        else for (const u of h.units!) change.push({ id: u, from: ['reserved'], to: 'delivered', fields: { phase: undefined } });
      }
      await kma.store.commit({ change });
      publishSupply({ node: kma.nodeId, kind: 'dec_keys', master: r.master, slaves: [r.slave], keys: out.length, size: heads[0]?.sizeBits ?? 0, outcome: 'delivered', latencyMs: performance.now() - t0 });
      return out;
    } finally {
      unlock();
    }
  }

  /** The slave KM's side of a supply: reserves the master KM's units for the slave SAE(s). */
  async onSupplyNotification(peer: string, n: KeySupplyNotification): Promise<KxAnswer> {
    const kma = this.#kma;
    const t = kma.topology;
    const answer = (status: KxStatus, reason?: string): KxAnswer => ({
      name: 'KeySupplyNotificationResponse',
      body: { status, ...(reason ? { reason } : {}), ...(n.origin === 'link' ? { high: Math.max(0, kma.store.high(peer, 'link')) } : {}) },
    });
    if (!this.exitsOf(n.master).includes(peer)) return answer('ERR_KM_NOT_PERMITTED', 'the master SAE is not served by the sending KM');
    if (n.slaves.some((s) => !this.serves(s))) return answer('ERR_KM_NOT_PERMITTED', 'a slave SAE is not served by this KM');
    if (n.origin === 'link' && !linkBetween(t, kma.nodeId, peer)) return answer('ERR_KM_NOT_PERMITTED', 'no link with the sending KM');
    const per = this.unitsPerKey(n.size);
    const change: KeyChange[] = [];
    for (const k of n.keys) {
      if (k.units.length !== per) return answer('ERR_KX_DECODE', `key ${k.id}: ${k.units.length} units for ${n.size} bits`);
      for (const [j, u] of k.units.entries()) {
        const rec = kma.store.get(u);
        if (!rec) return answer('ERR_KM_KEY_UNKNOWN', `unit ${u} is not known here`);
        if (rec.peer !== peer || rec.origin !== n.origin || rec.allocator !== peer || rec.state !== 'available') return answer('ERR_KM_KEY_NOT_AVAILABLE', `unit ${u} is not available to the sending KM`);
        change.push({
          id: u,
          from: ['available'],
          to: 'reserved',
          fields: { op: n.supply, purpose: 'supply', phase: 'await-sae', head: k.id, ...(j === 0 ? { units: [...k.units], sizeBits: n.size, master: n.master, slaves: [...n.slaves], pending: [...n.slaves] } : {}) },
        });
      }
    }
    try {
      await kma.store.commit({ change });
    } catch (e) {
      return answer(statusOf(e), (e as Error).message);
    }
    return answer('ok');
  }
}
