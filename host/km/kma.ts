/**
 * The KMA's bookkeeping shared by every operation of the key manager: feeding link units into the
 * store (Kq), key sync with each link peer (which units the peer holds: the watermark below which
 * this KM may take units), the durable outbox of Voids, burning what an operation left unfinished,
 * and recovery after a restart. The KSA (ksa.ts) and the key relay (relay.ts) take their units here.
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
import type { KeyStore } from './key-store.js';
import type { KeyChange, PoolOrigin, VoidNotice } from './key-record.js';
import type { KeySource } from '../kq/key-source.js';
import { linkSink } from '../kq/link-store.js';
import { linkBetween, neighbours, type Topology } from './topology.js';
import { KmConfigError, PeerRefusedError } from './errors.js';
import type { NetworkView } from './network-view.js';
import type { KxAnswer, KxTransport } from './kx/transport.js';
import type { PoolSync } from './kx/key-sync.js';
import { publishSync } from './diagnostics.js';

export interface KmaOptions {
  readonly nodeId: string;
  readonly store: KeyStore;
  readonly network: NetworkView;
  readonly transport: KxTransport;
  readonly unitBits: number;
  readonly maxKeyCount: number;
  readonly peerTimeoutMs: number;
  readonly syncIntervalMs: number;
}

export interface KeySourceInfo {
  readonly link: string;
  readonly peer: string;
  readonly kind: string;
}

export const OK: KxAnswer = { name: 'Response', body: { status: 'ok' } };

export class Kma {
  readonly nodeId: string;
  readonly store: KeyStore;
  readonly network: NetworkView;
  readonly kx: KxTransport;
  readonly unitBits: number;
  readonly maxKeyCount: number;
  readonly peerMs: number;
  readonly #syncMs: number;
  /** Highest link unit index each link peer has confirmed holding. */
  readonly #peerHigh = new Map<string, number>();
  readonly #syncing = new Map<string, Promise<void>>();
  readonly #flushing = new Map<string, Promise<void>>();
  readonly #sources: KeySource[] = [];
  readonly #background = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(o: KmaOptions) {
    this.nodeId = o.nodeId;
    this.store = o.store;
    this.network = o.network;
    this.kx = o.transport;
    this.unitBits = o.unitBits;
    this.maxKeyCount = o.maxKeyCount;
    this.peerMs = o.peerTimeoutMs;
    this.#syncMs = o.syncIntervalMs;
  }

  get topology(): Topology {
    return this.network.current();
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Burns what the previous process left in doubt, then starts syncing with peers. */
  async start(): Promise<void> {
    await this.#recover();
    this.kx.on('connected', (peer) => {
      this.bg(this.sync(peer));
      this.bg(this.flush(peer));
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
    const sink = linkSink(this.store, { linkId: link.id, ends: link.ends, peer, unitBits: this.unitBits, capacity: this.maxKeyCount });
    this.#sources.push(source);
    source.start(sink, this.store.high(peer, 'link'));
  }

  get sources(): readonly KeySourceInfo[] {
    return this.#sources.map((s) => ({ link: s.linkId, peer: s.peer, kind: s.kind }));
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Stops the timers and the sources; waits for background work (syncs, Voids, relay hops). */
  async stop(settle: () => void = () => {}): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.stopSources();
    settle();
    await Promise.allSettled([...this.#background]);
  }

  stopSources(): Promise<void> {
    return Promise.all(this.#sources.map((s) => s.stop())).then(() => {});
  }

  /** Runs `p` in the background: stop() waits for it, its failure is retried by the next tick. */
  bg(p: Promise<unknown>): void {
    const q = p.catch(() => {});
    this.#background.add(q);
    void q.finally(() => this.#background.delete(q));
  }

  #tick(): void {
    if (this.#stopped) return;
    for (const p of neighbours(this.topology, this.nodeId)) this.bg(this.sync(p));
    for (const e of this.store.outbox()) this.bg(this.flush(e.peer));
  }

  // ---- key sync and voids ------------------------------------------------------------------------

  poolsFor(peer: string): PoolSync[] {
    const out: PoolSync[] = [];
    for (const origin of ['link', 'relay'] as const) {
      const high = this.store.high(peer, origin);
      if (high >= 0 || origin === 'link') out.push({ origin, high, available: this.store.counts(peer, origin).available });
    }
    return out;
  }

  learn(peer: string, pools: readonly PoolSync[]): void {
    for (const p of pools) if (p.origin === 'link') this.#peerHigh.set(peer, p.high);
  }

  /** Raises the watermark of `peer` (an answer told its high); never lowers it. */
  raiseHigh(peer: string, high: number): void {
    this.#peerHigh.set(peer, Math.max(this.#peerHigh.get(peer) ?? -1, high));
  }

  sync(peer: string): Promise<void> {
    const running = this.#syncing.get(peer);
    if (running) return running;
    const p = (async () => {
      const ans = await this.kx.request(peer, 'KeySync', { pools: this.poolsFor(peer) }, this.peerMs);
      if (ans.name === 'KeySync') this.learn(peer, ans.body.pools);
    })().finally(() => this.#syncing.delete(peer));
    this.#syncing.set(peer, p);
    return p;
  }

  /**
   * Takes `count` link units shared with `peer`, only among those the peer has confirmed holding;
   * when that watermark is what stands in the way, refreshes it once from the peer.
   */
  async takeLink(peer: string, count: number): Promise<string[] | null> {
    if (!this.#peerHigh.has(peer)) await this.sync(peer).catch(() => {});
    const ids = this.store.take(peer, 'link', count, this.#peerHigh.get(peer) ?? -1);
    if (ids || this.store.allocatable(peer, 'link') < count) return ids;
    await this.sync(peer).catch(() => {});
    return this.store.take(peer, 'link', count, this.#peerHigh.get(peer) ?? -1);
  }

  /** Units of a pool this KM may use now: for a link, only those the peer has confirmed holding too. */
  shared(peer: string, origin: PoolOrigin): number {
    return origin === 'link' ? this.store.allocatable(peer, 'link', this.#peerHigh.get(peer) ?? -1) : this.store.allocatable(peer, origin);
  }

  /** Delivers queued Voids to `peer`, oldest first, until one fails. */
  flush(peer: string): Promise<void> {
    const running = this.#flushing.get(peer);
    if (running) return running;
    const p = (async () => {
      for (;;) {
        const entries = this.store.outbox(peer);
        if (entries.length === 0) return;
        for (const e of entries) {
          const ans = await this.kx.request(peer, 'Void', { ids: e.ids, origin: e.origin, reason: e.reason }, this.peerMs);
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
  async burn(ids: readonly string[], voids: readonly VoidNotice[], reason: string): Promise<void> {
    await this.store.commit({ change: ids.map((id) => ({ id, from: ['reserved', 'available'], to: 'failed', fields: { reason } })), outbox: voids });
    for (const v of voids) this.bg(this.flush(v.peer));
  }

  /** A peer's Void: it may only void keys it shares with this KM. */
  async onVoid(peer: string, ids: readonly string[], origin: PoolOrigin, reason: string): Promise<KxAnswer> {
    const burn = ids.filter((id) => {
      const r = this.store.get(id);
      return r ? r.peer === peer && r.origin === origin : true;
    });
    await this.store.commit({ burn: burn.map((id) => ({ id, to: 'voided', reason: `voided by ${peer}: ${reason}`, peer, origin })) });
    publishSync({ node: this.nodeId, peer, kind: 'void-received', keys: burn.length, reason });
    return OK;
  }
}

/** Joins byte strings. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
