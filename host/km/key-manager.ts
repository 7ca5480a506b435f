/**
 * The key manager of one trusted node, assembled from its parts: the KMA (kma.ts: store, key sync,
 * Voids, recovery), the KSA behaviour behind ETSI GS QKD 014 (ksa.ts: supply, fetch, the SAE
 * checks), the key relay (relay.ts, routed by a Router, hops carried by RelayHopHandlers) and the
 * Kx dispatch (kx-dispatch.ts). It reads the topology only through its NetworkView, so a controller
 * can replace it while the node runs. host/api/ turns HTTP requests into calls here.
 */
import type { KeyStore } from './key-store.js';
import type { PoolOrigin } from './key-record.js';
import type { KeySource } from '../kq/key-source.js';
import type { Exits, Topology } from './topology.js';
import type { ExitCounts } from './exit-choice.js';
import { Kma, type KeySourceInfo } from './kma.js';
import { Ksa, saePairTarget, type DeliveredKey, type FetchRequest, type SupplyRequest } from './ksa.js';
import { KeyRelayService } from './relay.js';
import { KxRelayHop, RelayHopHandlers } from './relay-hop.js';
import { NetworkView } from './network-view.js';
import { StaticRouter, type Router } from './routing.js';
import { ALLOW_ALL, type SupplyPolicy } from './supply-policy.js';
import { dispatchKx } from './kx-dispatch.js';
import { handOver, type HandOver } from './hand-over.js';
import type { KxAnswer, KxTransport } from './kx/transport.js';
import type { KxMessage } from './kx/messages.js';

export type { DeliveredKey, FetchRequest, SupplyRequest } from './ksa.js';
export type { KeySourceInfo } from './kma.js';
export type { ExitCounts } from './exit-choice.js';
export type { HandOver, HandOverKey } from './hand-over.js';

export interface KeyManagerOptions {
  readonly nodeId: string;
  readonly store: KeyStore;
  /** The network at start; or `network`, a view others may update. */
  readonly topology?: Topology;
  readonly network?: NetworkView;
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
  /** Routes relays (default: StaticRouter over `network`). */
  readonly router?: Router;
  /** Which supplies the KSA may serve (default: all that pass its SAE checks). */
  readonly supplyPolicy?: SupplyPolicy;
  /** SAEs of other networks reached by several border nodes (network `exits`): SAE → those nodes. */
  readonly exits?: Exits;
}

export class KeyManager {
  readonly nodeId: string;
  readonly store: KeyStore;
  readonly unitBits: number;
  readonly maxKeyCount: number;
  readonly network: NetworkView;
  /** How relay hops are carried: register a handler for a next hop that is not a Kx peer. */
  readonly hops: RelayHopHandlers;
  readonly #kma: Kma;
  readonly #ksa: Ksa;
  readonly #relay: KeyRelayService;

  constructor(o: KeyManagerOptions) {
    if (!o.network && !o.topology) throw new TypeError('KeyManager: give a topology or a network view');
    this.nodeId = o.nodeId;
    this.store = o.store;
    this.unitBits = o.unitBits;
    this.maxKeyCount = o.maxKeyCount;
    this.network = o.network ?? new NetworkView(o.topology!);
    this.#kma = new Kma({
      nodeId: o.nodeId,
      store: o.store,
      network: this.network,
      transport: o.transport,
      unitBits: o.unitBits,
      maxKeyCount: o.maxKeyCount,
      peerTimeoutMs: o.peerTimeoutMs ?? 2000,
      syncIntervalMs: o.syncIntervalMs ?? 500,
    });
    const staticRouter = new StaticRouter(this.network);
    this.hops = new RelayHopHandlers(new KxRelayHop(o.transport));
    this.#relay = new KeyRelayService(this.#kma, o.router ?? staticRouter, this.hops, { relayHopTimeoutMs: o.relayHopTimeoutMs ?? 1500 });
    this.#ksa = new Ksa(this.#kma, this.#relay, staticRouter, o.supplyPolicy ?? ALLOW_ALL, o.exits);
  }

  /** The current topology (NetworkView.current()). */
  get topology(): Topology {
    return this.network.current();
  }

  // ---- lifecycle (KMA) ---------------------------------------------------------------------------

  /** Burns what the previous process left in doubt, then starts syncing with peers. */
  start(): Promise<void> {
    return this.#kma.start();
  }

  /** Feeds a link's keys into the store (Kq). The source resumes after the last unit stored. */
  attach(source: KeySource): void {
    this.#kma.attach(source);
  }

  get sources(): readonly KeySourceInfo[] {
    return this.#kma.sources;
  }

  stop(): Promise<void> {
    return this.#kma.stop(() => this.#relay.settleAll('key manager stopping'));
  }

  /** Tamper response: destroys the storage key and with it every key; stops supplying. */
  async zeroize(): Promise<void> {
    // The store destroys the storage key before its first await: the keys are gone the moment
    // this is called, not after the sources (a QKD link can take a while) have stopped.
    const destroyed = this.store.zeroize();
    await Promise.all([destroyed, this.#kma.stopSources()]);
  }

  // ---- KSA (ETSI 014) ------------------------------------------------------------------------------

  /** Whether `sae` is served by this KME (or this node is one of the border exits standing for it). */
  serves(sae: string): boolean {
    return this.#ksa.serves(sae);
  }

  /** The nodes standing for `sae` in this network: its node in `saes`, then its other border exits. */
  exitsOf(sae: string): string[] {
    return this.#ksa.exitsOf(sae);
  }

  /** Supplies delivered by each border exit, fallbacks to another, supplies no exit could serve. */
  exitCounts(): ExitCounts {
    return this.#ksa.exitCounts();
  }

  /** The KME serving the slave SAE(s) of a supply by `master`; throws SaePairError. */
  targetOf(master: string, slaves: readonly string[]): string {
    return saePairTarget(this.topology, this.nodeId, master, slaves);
  }

  /** The policy supplies are checked against (a controller may set its own). */
  set supplyPolicy(p: SupplyPolicy) {
    this.#ksa.policy = p;
  }

  poolFor(slaveNode: string): { peer: string; origin: PoolOrigin } {
    return this.#ksa.poolFor(slaveNode);
  }

  unitsPerKey(size: number): number {
    return this.#ksa.unitsPerKey(size);
  }

  stock(slaveNode: string, size: number): number {
    return this.#ksa.stock(slaveNode, size);
  }

  /** Keys of `size` bits this KM could supply now for the slave SAE `sae`: by its best border exit when it has several. */
  stockFor(sae: string, size: number): number {
    return Math.max(0, ...this.exitsOf(sae).map((n) => this.#ksa.stock(n, size)));
  }

  supply(r: SupplyRequest): Promise<DeliveredKey[]> {
    return this.#ksa.supply(r);
  }

  fetch(r: FetchRequest): Promise<DeliveredKey[]> {
    return this.#ksa.fetch(r);
  }

  // ---- relay and Kx --------------------------------------------------------------------------------

  relay(dest: string, count: number): Promise<string[]> {
    return this.#relay.relay(dest, count);
  }

  /**
   * Keys from another network (an interworking or gateway node): to the slave SAE's KM, reserved
   * there for it (hand-over.ts); a KM beyond the neighbours is reached over a routed key relay.
   */
  handOver(h: HandOver): Promise<void> {
    return handOver(this.#kma, h, (dest, keys) => this.#relay.carry(dest, keys));
  }

  handleKx(peer: string, m: KxMessage): KxAnswer | Promise<KxAnswer> {
    return dispatchKx({ kma: this.#kma, ksa: this.#ksa, relay: this.#relay }, peer, m);
  }
}
