/**
 * The key manager of one trusted node: its KMA (store, key sync, relay, rollback over Kx) and the
 * KSA behaviour behind ETSI GS QKD 014 (supply to a master SAE with the reservation at the slave
 * SAE's KM first, fetch by the slave SAE). host/api/ turns HTTP requests into calls here.
 *
 * Every operation follows one pattern, so that a crash anywhere leaves nothing ambiguous:
 *   1. the KM that starts an operation reserves its keys durably with phase `await-peer`;
 *   2. it asks the peer KM, which checks and commits its side durably before answering;
 *   3. on `ok` it commits the final state and only then acts (answers the SAE, uses the key);
 *      on anything else (refusal, timeout, lost connection) it burns its keys and queues a Void
 *      for the peer in the same transaction (durable outbox, delivered at least once);
 *   4. after a restart, keys still in `await-peer` are in doubt: burned at both ends the same way.
 * A Void is idempotent and never touches a delivered or consumed key, so the two ends converge on
 * the same state for every key whatever was lost.
 */
import { randomUUID } from 'node:crypto';
import type { KeyRecord, KeyChange, KeyStore, PoolOrigin, VoidNotice } from './key-store.js';
import type { KeySink, KeySource } from './key-source.js';
import { deriveUnitId } from './key-id.js';
import { linkAllocator, linkBetween, neighbours, route as routeOf, type Topology } from './topology.js';
import { InsufficientKeysError, KmError, KmConfigError, NotPermittedError, PeerRefusedError } from './errors.js';
import type { KxAnswer, KxTransport } from './kx/transport.js';
import type { KxMessage } from './kx/messages.js';
import type { KeyRelay } from './kx/key-relay.js';
import type { KeySupplyNotification } from './kx/key-supply-notification.js';
import type { KeyRelayCompletionNotification } from './kx/key-relay-completion-notification.js';
import type { PoolSync } from './kx/key-sync.js';
import { publishRelay, publishRelayHop, publishSupply, publishSync } from './diagnostics.js';

export interface KeyManagerOptions {
  readonly nodeId: string;
  readonly store: KeyStore;
  readonly topology: Topology;
  readonly transport: KxTransport;
  /** Size of every key unit in the network (links and relays), in bits. */
  readonly unitBits: number;
  /** Most available units a pool holds (the ETSI max_key_count, in units). */
  readonly maxKeyCount: number;
  /** Answer time allowed to a peer KM for one request. */
  readonly peerTimeoutMs?: number;
  /** Time allowed to a whole relay, per hop. */
  readonly relayHopTimeoutMs?: number;
  /** KeySync and outbox retry period. */
  readonly syncIntervalMs?: number;
}

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

export interface KeySourceInfo {
  readonly link: string;
  readonly peer: string;
  readonly kind: string;
}

interface RelayWaiter {
  settled: boolean;
  outcome?: KeyRelayCompletionNotification;
  resolve(n: KeyRelayCompletionNotification): void;
  promise: Promise<KeyRelayCompletionNotification>;
}

const OK: KxAnswer = { name: 'Response', body: { status: 'ok' } };

function refuse(code: string, reason: string): KxAnswer {
  return { name: 'Response', body: { status: code, reason } };
}

function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

function xorInto(dst: Uint8Array, src: Uint8Array): void {
  for (let i = 0; i < dst.length; i++) dst[i]! ^= src[i]!;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function errorCode(e: unknown): string {
  return e instanceof KmError ? e.code : typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : 'ERR_KM_INTERNAL';
}

export class KeyManager {
  readonly nodeId: string;
  readonly store: KeyStore;
  readonly topology: Topology;
  readonly unitBits: number;
  readonly maxKeyCount: number;
  readonly #kx: KxTransport;
  readonly #peerMs: number;
  readonly #hopMs: number;
  readonly #syncMs: number;
  /** Highest link unit index each link peer has confirmed holding. */
  readonly #peerHigh = new Map<string, number>();
  readonly #syncing = new Map<string, Promise<void>>();
  readonly #flushing = new Map<string, Promise<void>>();
  readonly #relays = new Map<string, RelayWaiter>();
  readonly #locks = new Map<string, Promise<void>>();
  readonly #sources: KeySource[] = [];
  readonly #background = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(o: KeyManagerOptions) {
    this.nodeId = o.nodeId;
    this.store = o.store;
    this.topology = o.topology;
    this.unitBits = o.unitBits;
    this.maxKeyCount = o.maxKeyCount;
    this.#kx = o.transport;
    this.#peerMs = o.peerTimeoutMs ?? 2000;
    this.#hopMs = o.relayHopTimeoutMs ?? 1500;
    this.#syncMs = o.syncIntervalMs ?? 500;
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Burns what the previous process left in doubt, then starts syncing with peers. */
  async start(): Promise<void> {
    await this.#recover();
    this.#kx.on('connected', (peer) => {
      this.#bg(this.#sync(peer));
      this.#bg(this.#flush(peer));
    });
    this.#timer = setInterval(() => this.#tick(), this.#syncMs);
    this.#tick();
  }

  async #recover(): Promise<void> {
    const doubt = this.store.takeInDoubt();
    if (doubt.length === 0) return;
    const change: KeyChange[] = [];
    const voids = new Map<string, VoidNotice & { ids: string[] }>();
    const addVoid = (peer: string, origin: PoolOrigin, id: string) => {
      const k = `${origin}:${peer}`;
      let v = voids.get(k);
      if (!v) voids.set(k, (v = { peer, origin, ids: [], reason: 'in doubt after a restart' }));
      v.ids.push(id);
    };
    for (const r of doubt) {
      change.push({ id: r.id, from: ['reserved'], to: 'failed', fields: { reason: 'in doubt after a restart' } });
      addVoid(r.peer, r.origin, r.id);
      // Relay material at the source: the destination may hold the relayed key already.
      if (r.purpose === 'relay' && r.relayTo && r.head) addVoid(r.relayTo, 'relay', r.head);
    }
    await this.store.commit({ change, outbox: [...voids.values()] });
    for (const v of voids.values()) publishSync({ node: this.nodeId, peer: v.peer, kind: 'recovery', keys: v.ids.length, reason: v.reason });
  }

  /** Feeds a link's keys into the store (Kq). The source resumes after the last unit stored. */
  attach(source: KeySource): void {
    const link = linkBetween(this.topology, this.nodeId, source.peer);
    if (!link || link.id !== source.linkId) throw new KmConfigError(`links.${source.linkId}`, `no link ${source.linkId} between ${this.nodeId} and ${source.peer}`);
    if (source.unitBits !== this.unitBits) throw new KmConfigError(`links.${source.linkId}`, `unit size ${source.unitBits} differs from the network's ${this.unitBits}`);
    const peer = source.peer;
    const sink: KeySink = {
      capacity: this.maxKeyCount,
      stored: () => this.store.counts(peer, 'link').available,
      push: async (units) => {
        await this.store.addLinkUnits(
          peer,
          units.map((u) => ({ id: deriveUnitId(link.id, u.index), seq: u.index, bytes: u.bytes, allocator: linkAllocator(link.ends, u.index) })),
          this.unitBits,
        );
      },
    };
    this.#sources.push(source);
    source.start(sink, this.store.high(peer, 'link'));
  }

  get sources(): readonly KeySourceInfo[] {
    return this.#sources.map((s) => ({ link: s.linkId, peer: s.peer, kind: s.kind }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await Promise.all(this.#sources.map((s) => s.stop()));
    for (const w of this.#relays.values()) if (!w.settled) w.resolve({ relay: '00000000-0000-4000-8000-000000000000', outcome: 'failed', keys: [], reason: 'key manager stopping' });
    await Promise.allSettled([...this.#background]);
  }

  /** Tamper response: destroys the storage key and with it every key; stops supplying. */
  async zeroize(): Promise<void> {
    // The store destroys the storage key before its first await: the keys are gone the moment
    // this is called, not after the sources (a QKD link can take a while) have stopped.
    const destroyed = this.store.zeroize();
    await Promise.all([destroyed, ...this.#sources.map((s) => s.stop())]);
  }

  #bg(p: Promise<unknown>): void {
    const q = p.catch(() => {});
    this.#background.add(q);
    void q.finally(() => this.#background.delete(q));
  }

  #tick(): void {
    if (this.#stopped) return;
    for (const p of neighbours(this.topology, this.nodeId)) this.#bg(this.#sync(p));
    for (const e of this.store.outbox()) this.#bg(this.#flush(e.peer));
  }

  // ---- key sync and voids ------------------------------------------------------------------------

  #poolsFor(peer: string): PoolSync[] {
    const out: PoolSync[] = [];
    for (const origin of ['link', 'relay'] as const) {
      const high = this.store.high(peer, origin);
      if (high >= 0 || origin === 'link') out.push({ origin, high, available: this.store.counts(peer, origin).available });
    }
    return out;
  }

  #learn(peer: string, pools: readonly PoolSync[]): void {
    for (const p of pools) if (p.origin === 'link') this.#peerHigh.set(peer, p.high);
  }

  #sync(peer: string): Promise<void> {
    const running = this.#syncing.get(peer);
    if (running) return running;
    const p = (async () => {
      const ans = await this.#kx.request(peer, 'KeySync', { pools: this.#poolsFor(peer) }, this.#peerMs);
      if (ans.name === 'KeySync') this.#learn(peer, ans.body.pools);
    })().finally(() => this.#syncing.delete(peer));
    this.#syncing.set(peer, p);
    return p;
  }

  /**
   * Takes `count` link units shared with `peer`, only among those the peer has confirmed holding;
   * when that watermark is what stands in the way, refreshes it once from the peer.
   */
  async #takeLink(peer: string, count: number): Promise<string[] | null> {
    if (!this.#peerHigh.has(peer)) await this.#sync(peer).catch(() => {});
    const ids = this.store.take(peer, 'link', count, this.#peerHigh.get(peer) ?? -1);
    if (ids || this.store.allocatable(peer, 'link') < count) return ids;
    await this.#sync(peer).catch(() => {});
    return this.store.take(peer, 'link', count, this.#peerHigh.get(peer) ?? -1);
  }

  /** Units of a pool this KM may use now: for a link, only those the peer has confirmed holding too. */
  #shared(peer: string, origin: PoolOrigin): number {
    return origin === 'link' ? this.store.allocatable(peer, 'link', this.#peerHigh.get(peer) ?? -1) : this.store.allocatable(peer, origin);
  }

  /** Delivers queued Voids to `peer`, oldest first, until one fails. */
  #flush(peer: string): Promise<void> {
    const running = this.#flushing.get(peer);
    if (running) return running;
    const p = (async () => {
      for (;;) {
        const entries = this.store.outbox(peer);
        if (entries.length === 0) return;
        for (const e of entries) {
          const ans = await this.#kx.request(peer, 'Void', { ids: e.ids, origin: e.origin, reason: e.reason }, this.#peerMs);
          if (ans.name !== 'Response' || ans.body.status !== 'ok') throw new PeerRefusedError(peer, ans.name === 'Response' ? ans.body.status : ans.name, 'Void');
          await this.store.commit({ outboxDone: [{ peer, seq: e.seq }] });
          publishSync({ node: this.nodeId, peer, kind: 'void-sent', keys: e.ids.length, reason: e.reason });
        }
      }
    })().finally(() => this.#flushing.delete(peer));
    this.#flushing.set(peer, p);
    return p;
  }

  /** Burns keys reserved by an operation that did not complete and voids them at the peer(s). */
  async #burn(ids: readonly string[], voids: readonly VoidNotice[], reason: string): Promise<void> {
    await this.store.commit({ change: ids.map((id) => ({ id, from: ['reserved', 'available'], to: 'failed', fields: { reason } })), outbox: voids });
    for (const v of voids) this.#bg(this.#flush(v.peer));
  }

  // ---- supply (ETSI 014 enc_keys / dec_keys) ----------------------------------------------------

  /** Where keys for an SAE pair come from: the pool shared with the slave's node. */
  poolFor(slaveNode: string): { peer: string; origin: PoolOrigin } {
    return { peer: slaveNode, origin: linkBetween(this.topology, this.nodeId, slaveNode) ? 'link' : 'relay' };
  }

  /** Key units of `size` bits. */
  unitsPerKey(size: number): number {
    return Math.ceil(size / this.unitBits);
  }

  /** Keys of `size` bits this KM could supply now to an SAE pair whose slave is on `slaveNode`. */
  stock(slaveNode: string, size: number): number {
    const per = this.unitsPerKey(size);
    const { peer, origin } = this.poolFor(slaveNode);
    let units = this.#shared(peer, origin);
    if (origin === 'relay') {
      try {
        const r = routeOf(this.topology, this.nodeId, slaveNode);
        if (r.length >= 3) units += this.#shared(r[1]!, 'link');
      } catch {
        // no route: only what was relayed before
      }
    }
    return Math.floor(Math.min(units, this.maxKeyCount) / per);
  }

  /**
   * enc_keys: reserves `number` keys at the slave SAE's KM, then delivers them to the master SAE.
   * The caller (KSA) has checked the SAEs and the request's bounds.
   */
  async supply(r: SupplyRequest): Promise<DeliveredKey[]> {
    const t0 = performance.now();
    const target = this.topology.saes.get(r.slaves[0]!);
    if (!target || r.slaves.some((s) => this.topology.saes.get(s) !== target)) throw new NotPermittedError('all slave SAEs must be served by one KME');
    if (target === this.nodeId) throw new NotPermittedError('master and slave SAE are served by the same KME');
    const event = (outcome: 'delivered' | 'refused' | 'failed', reason?: string) =>
      publishSupply({ node: this.nodeId, kind: 'enc_keys', master: r.master, slaves: r.slaves, keys: r.number, size: r.size, outcome, latencyMs: performance.now() - t0, ...(reason ? { reason } : {}) });
    const { peer, origin } = this.poolFor(target);
    const per = this.unitsPerKey(r.size);
    const need = per * r.number;
    if (origin === 'relay' && this.store.allocatable(peer, 'relay') < need) await this.relay(peer, need - this.store.allocatable(peer, 'relay'));
    const ids = origin === 'link' ? await this.#takeLink(peer, need) : this.store.take(peer, 'relay', need);
    if (!ids) {
      event('refused', 'insufficient keys');
      throw new InsufficientKeysError(`${origin}:${peer}`, need, this.#shared(peer, origin));
    }
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
      await this.store.commit({ change });
    } catch (e) {
      this.store.release(ids);
      event('failed', errorCode(e));
      throw e;
    }
    let failure: Error | null = null;
    try {
      const ans = await this.#kx.request(peer, 'KeySupplyNotification', { supply, origin, master: r.master, slaves: r.slaves, size: r.size, keys: keys.map((k) => ({ id: k[0]!, units: k })) }, this.#peerMs);
      if (ans.name !== 'KeySupplyNotificationResponse') failure = new PeerRefusedError(peer, ans.name === 'Response' ? ans.body.status : ans.name, 'unexpected answer');
      else {
        if (ans.body.high !== undefined && origin === 'link') this.#peerHigh.set(peer, Math.max(this.#peerHigh.get(peer) ?? -1, ans.body.high));
        if (ans.body.status !== 'ok') failure = new PeerRefusedError(peer, ans.body.status, ans.body.reason ?? '');
      }
    } catch (e) {
      failure = e as Error;
    }
    if (failure) {
      // Refused, lost or late: the peer may or may not have reserved; burn at both ends.
      await this.#burn(ids, [{ peer, origin, ids, reason: `supply ${supply} not confirmed` }], `supply not confirmed: ${errorCode(failure)}`);
      event('failed', errorCode(failure));
      throw failure;
    }
    const out = keys.map((k) => {
      const bytes = concat(k.map((id) => this.store.readKey(id)));
      return { id: k[0]!, bytes: bytes.subarray(0, r.size / 8) };
    });
    await this.store.commit({ change: ids.map((id) => ({ id, from: ['reserved'], to: 'delivered', fields: { phase: undefined } })) });
    event('delivered');
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
    const t0 = performance.now();
    const unlock = await this.#lock(r.ids);
    try {
      const heads: KeyRecord[] = [];
      for (const id of r.ids) {
        const h = this.store.get(id);
        if (!h || h.head !== id || h.state !== 'reserved' || h.phase !== 'await-sae' || h.master !== r.master || !h.pending?.includes(r.slave)) {
          publishSupply({ node: this.nodeId, kind: 'dec_keys', master: r.master, slaves: [r.slave], keys: r.ids.length, size: 0, outcome: 'refused', latencyMs: performance.now() - t0 });
          throw new NotPermittedError(`key_ID ${id} is not available to this SAE`);
        }
        heads.push(h);
      }
      const out = heads.map((h) => ({ id: h.id, bytes: concat(h.units!.map((u) => this.store.readKey(u))).subarray(0, h.sizeBits! / 8) }));
      const change: KeyChange[] = [];
      for (const h of heads) {
        const pending = h.pending!.filter((s) => s !== r.slave);
        if (pending.length > 0) change.push({ id: h.id, from: ['reserved'], to: 'reserved', fields: { pending } });
        else for (const u of h.units!) change.push({ id: u, from: ['reserved'], to: 'delivered', fields: { phase: undefined } });
      }
      await this.store.commit({ change });
      publishSupply({ node: this.nodeId, kind: 'dec_keys', master: r.master, slaves: [r.slave], keys: out.length, size: heads[0]?.sizeBits ?? 0, outcome: 'delivered', latencyMs: performance.now() - t0 });
      return out;
    } finally {
      unlock();
    }
  }

  // ---- relay --------------------------------------------------------------------------------------

  /**
   * Relays `count` new keys to `dest` hop by hop and adds them to the relay pool shared with it.
   * Resolves with their IDs once the destination has confirmed; on failure everything used is
   * burned at both ends of every hop and the keys are voided at the destination.
   */
  async relay(dest: string, count: number): Promise<string[]> {
    const t0 = performance.now();
    const path = routeOf(this.topology, this.nodeId, dest);
    if (path.length < 3) throw new NotPermittedError(`${dest} shares a link with ${this.nodeId}: no relay needed`);
    const first = path[1]!;
    const units = await this.#takeLink(first, count);
    if (!units) throw new InsufficientKeysError(`link:${first}`, count, this.#shared(first, 'link'));
    const relay = randomUUID();
    const keys = units.map(() => randomUUID());
    const report = (outcome: 'completed' | 'failed', failedHop?: number, reason?: string) =>
      publishRelay({ node: this.nodeId, relay, route: path, hops: path.length - 1, keys: count, bits: this.unitBits, outcome, latencyMs: performance.now() - t0, ...(failedHop !== undefined ? { failedHop } : {}), ...(reason ? { reason } : {}) });
    try {
      await this.store.commit({
        change: units.map((id, i) => ({ id, from: ['available'], to: 'reserved', fields: { op: relay, purpose: 'relay', phase: 'await-peer', head: keys[i], relayTo: dest } })),
      });
    } catch (e) {
      this.store.release(units);
      report('failed', 0, errorCode(e));
      throw e;
    }
    let resolve!: (n: KeyRelayCompletionNotification) => void;
    const waiter: RelayWaiter = { settled: false, resolve: (n) => resolve(n), promise: new Promise((r) => (resolve = r)) };
    const settle = (n: KeyRelayCompletionNotification) => {
      if (waiter.settled) return;
      waiter.settled = true;
      waiter.outcome = n;
      resolve(n);
    };
    waiter.resolve = settle;
    this.#relays.set(relay, waiter);
    const fail = (hop: number, reason: string): KeyRelayCompletionNotification => ({ relay, outcome: 'failed', keys, hop, reason });
    let outcome: KeyRelayCompletionNotification;
    try {
      const ack = this.#kx.request(first, 'KeyRelay', { relay, route: path, hop: 0, keys, bits: this.unitBits, units }, this.#peerMs).then(
        (a) => (a.name === 'Response' && a.body.status === 'ok' ? null : fail(1, a.name === 'Response' ? a.body.status : 'unexpected answer')),
        (e: unknown) => fail(0, errorCode(e)),
      );
      const timeoutMs = this.#hopMs * (path.length - 1);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<KeyRelayCompletionNotification>((r) => (timer = setTimeout(() => r(fail(0, `no completion within ${timeoutMs} ms`)), timeoutMs)));
      const nack = await Promise.race([ack, waiter.promise.then(() => null)]);
      outcome = nack ?? (await Promise.race([waiter.promise, timeout]));
      clearTimeout(timer);
      settle(outcome);
    } finally {
      this.#relays.delete(relay);
    }
    if (outcome.outcome === 'completed') {
      const bytes = units.map((u) => this.store.readKey(u));
      await this.store.commit({
        change: units.map((id) => ({ id, from: ['reserved'], to: 'consumed', fields: { phase: undefined } })),
        create: keys.map((id, i) => ({ id, peer: dest, origin: 'relay', allocator: this.nodeId, bytes: bytes[i]!, state: 'available' })),
      });
      for (const b of bytes) b.fill(0);
      report('completed');
      return keys;
    }
    await this.#burn(
      units,
      [
        { peer: first, origin: 'link', ids: units, reason: `relay ${relay} failed` },
        { peer: dest, origin: 'relay', ids: keys, reason: `relay ${relay} failed` },
      ],
      `relay failed: ${outcome.reason ?? ''}`,
    );
    report('failed', outcome.hop, outcome.reason);
    // The status is the failing hop's error code when it gave one (e.g. ERR_KM_INSUFFICIENT_KEYS).
    const status = /^ERR_[A-Z_]+/.exec(outcome.reason ?? '')?.[0] ?? 'ERR_KM_RELAY_FAILED';
    throw new PeerRefusedError(path[outcome.hop ?? 0] ?? dest, status, `relay to ${dest} failed at hop ${outcome.hop ?? '?'}: ${outcome.reason ?? 'unknown'}`);
  }

  // ---- Kx requests from peers -------------------------------------------------------------------

  handleKx(peer: string, m: KxMessage): KxAnswer | Promise<KxAnswer> {
    if (this.store.zeroized) return refuse('ERR_KM_ZEROIZED', 'this KM has been zeroized');
    switch (m.name) {
      case 'KeySync':
        this.#learn(peer, m.body.pools);
        return { name: 'KeySync', body: { pools: this.#poolsFor(peer) } };
      case 'Void':
        return this.#onVoid(peer, m.body.ids, m.body.origin, m.body.reason);
      case 'KeySupplyNotification':
        return this.#onSupplyNotification(peer, m.body);
      case 'KeyRelay':
        return this.#onKeyRelay(peer, m.body);
      case 'KeyRelayCompletionNotification':
        return this.#onCompletion(peer, m.body);
      default:
        return refuse('ERR_KX_UNKNOWN_TYPE', `${m.name} is not a request`);
    }
  }

  async #onVoid(peer: string, ids: readonly string[], origin: PoolOrigin, reason: string): Promise<KxAnswer> {
    // A peer may only void keys it shares with this KM.
    const burn = ids.filter((id) => {
      const r = this.store.get(id);
      return r ? r.peer === peer && r.origin === origin : true;
    });
    await this.store.commit({ burn: burn.map((id) => ({ id, to: 'voided', reason: `voided by ${peer}: ${reason}`, peer, origin })) });
    publishSync({ node: this.nodeId, peer, kind: 'void-received', keys: burn.length, reason });
    return OK;
  }

  async #onSupplyNotification(peer: string, n: KeySupplyNotification): Promise<KxAnswer> {
    const answer = (status: string, reason?: string): KxAnswer => ({
      name: 'KeySupplyNotificationResponse',
      body: { status, ...(reason ? { reason } : {}), ...(n.origin === 'link' ? { high: Math.max(0, this.store.high(peer, 'link')) } : {}) },
    });
    if (this.topology.saes.get(n.master) !== peer) return answer('ERR_KM_NOT_PERMITTED', 'the master SAE is not served by the sending KM');
    if (n.slaves.some((s) => this.topology.saes.get(s) !== this.nodeId)) return answer('ERR_KM_NOT_PERMITTED', 'a slave SAE is not served by this KM');
    if (n.origin === 'link' && !linkBetween(this.topology, this.nodeId, peer)) return answer('ERR_KM_NOT_PERMITTED', 'no link with the sending KM');
    const per = this.unitsPerKey(n.size);
    const change: KeyChange[] = [];
    for (const k of n.keys) {
      if (k.units.length !== per) return answer('ERR_KX_DECODE', `key ${k.id}: ${k.units.length} units for ${n.size} bits`);
      for (const [j, u] of k.units.entries()) {
        const rec = this.store.get(u);
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
      await this.store.commit({ change });
    } catch (e) {
      return answer(errorCode(e), (e as Error).message);
    }
    return answer('ok');
  }

  async #onCompletion(peer: string, n: KeyRelayCompletionNotification): Promise<KxAnswer> {
    const w = this.#relays.get(n.relay);
    if (!w) return refuse('ERR_KM_KEY_UNKNOWN', 'no relay in progress with this ID');
    w.resolve(n);
    void peer;
    return OK;
  }

  #notifySource(m: KeyRelay, hopIndex: number, reason: string): void {
    const source = m.route[0]!;
    if (source === this.nodeId) return;
    this.#bg(this.#kx.request(source, 'KeyRelayCompletionNotification', { relay: m.relay, outcome: 'failed', keys: m.keys, hop: hopIndex, reason: reason.slice(0, 500) }, this.#peerMs));
  }

  async #onKeyRelay(peer: string, m: KeyRelay): Promise<KxAnswer> {
    const t0 = performance.now();
    const me = m.hop + 1;
    if (m.route[m.hop] !== peer || m.route[me] !== this.nodeId) return refuse('ERR_KM_NOT_PERMITTED', 'this hop is not between the sender and this KM');
    if (m.bits !== this.unitBits) return refuse('ERR_KX_DECODE', `relayed keys of ${m.bits} bits; this network uses ${this.unitBits}`);
    if (!linkBetween(this.topology, this.nodeId, peer)) return refuse('ERR_KM_NOT_PERMITTED', 'no link with the sender');
    const incoming = (m.hop === 0 ? m.units : m.pads)!;
    const hopEvent = (outcome: 'forwarded' | 'delivered' | 'failed', to: string | null, reason?: string) =>
      publishRelayHop({ node: this.nodeId, relay: m.relay, from: peer, to, hop: me, outcome, latencyMs: performance.now() - t0, ...(reason ? { reason } : {}) });
    // Whatever happens, the incoming pads are used up at this end too.
    const burnIncoming = async (reason: string) => {
      await this.store.commit({ burn: incoming.map((id) => ({ id, to: 'failed', reason, peer, origin: 'link' })) }).catch(() => {});
      hopEvent('failed', null, reason);
      this.#notifySource(m, me, reason);
    };
    if (incoming.length !== m.keys.length) {
      await burnIncoming('pad count differs from key count');
      return refuse('ERR_KX_DECODE', `${incoming.length} units for ${m.keys.length} keys`);
    }
    for (const id of incoming) {
      const rec = this.store.get(id);
      if (!rec || rec.peer !== peer || rec.origin !== 'link' || rec.allocator !== peer || rec.state !== 'available') {
        await burnIncoming(`unit ${id} not available`);
        return refuse(rec ? 'ERR_KM_KEY_NOT_AVAILABLE' : 'ERR_KM_KEY_UNKNOWN', `unit ${id} is not available to the sender`);
      }
    }
    const material = concat(incoming.map((id) => this.store.readKey(id)));
    if (m.hop > 0) xorInto(material, m.ct!);
    const usedIn: KeyChange[] = incoming.map((id) => ({ id, from: ['available'], to: 'consumed', fields: { op: m.relay, purpose: m.hop === 0 ? 'relay' : 'pad' } }));
    const bytesPer = m.bits / 8;

    if (me === m.route.length - 1) {
      // Destination: the relayed keys join the relay pool shared with the source.
      const source = m.route[0]!;
      try {
        await this.store.commit({
          change: usedIn,
          create: m.keys.map((id, i) => ({ id, peer: source, origin: 'relay', allocator: source, bytes: material.subarray(i * bytesPer, (i + 1) * bytesPer), state: 'available', fields: { op: m.relay } })),
        });
      } catch (e) {
        material.fill(0);
        await burnIncoming(errorCode(e));
        return refuse(errorCode(e), (e as Error).message);
      }
      material.fill(0);
      hopEvent('delivered', null);
      this.#bg(this.#kx.request(source, 'KeyRelayCompletionNotification', { relay: m.relay, outcome: 'completed', keys: m.keys }, this.#peerMs));
      return OK;
    }

    const next = m.route[me + 1]!;
    if (!linkBetween(this.topology, this.nodeId, next)) {
      material.fill(0);
      await burnIncoming(`no link to ${next}`);
      return refuse('ERR_KM_NO_ROUTE', `no link from ${this.nodeId} to ${next}`);
    }
    const pads = await this.#takeLink(next, m.keys.length);
    if (!pads) {
      material.fill(0);
      await burnIncoming(`not enough key on link ${this.nodeId}-${next}`);
      return refuse('ERR_KM_INSUFFICIENT_KEYS', `not enough key on link ${this.nodeId}-${next}`);
    }
    try {
      await this.store.commit({ change: [...usedIn, ...pads.map((id) => ({ id, from: ['available'] as const, to: 'reserved' as const, fields: { op: m.relay, purpose: 'pad' as const, phase: 'await-peer' as const } }))] });
    } catch (e) {
      this.store.release(pads);
      material.fill(0);
      await burnIncoming(errorCode(e));
      return refuse(errorCode(e), (e as Error).message);
    }
    const ct = material;
    xorInto(ct, concat(pads.map((id) => this.store.readKey(id))));
    // Acknowledge this hop now; forward without holding the previous hop's request open.
    this.#bg(
      (async () => {
        let reason: string | null = null;
        try {
          const ans = await this.#kx.request(next, 'KeyRelay', { relay: m.relay, route: m.route, hop: me, keys: m.keys, bits: m.bits, pads, ct }, this.#peerMs);
          if (ans.name !== 'Response' || ans.body.status !== 'ok') reason = ans.name === 'Response' ? `${ans.body.status}: ${ans.body.reason ?? ''}` : 'unexpected answer';
        } catch (e) {
          reason = errorCode(e);
        }
        if (reason === null) {
          await this.store.commit({ change: pads.map((id) => ({ id, from: ['reserved'], to: 'consumed', fields: { phase: undefined } })) });
          hopEvent('forwarded', next);
          return;
        }
        await this.#burn(pads, [{ peer: next, origin: 'link', ids: pads, reason: `relay ${m.relay} hop not acknowledged` }], `relay hop failed: ${reason}`);
        hopEvent('failed', next, reason);
        this.#notifySource(m, me, reason);
      })(),
    );
    return OK;
  }
}

