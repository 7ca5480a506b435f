/**
 * A replica of the centralized controller (`qkdn-edge controller --config …`). Every replica
 * accepts Ck connections from the network's KMs; only the leader answers them, followers say
 * ERR_CTL_NOT_LEADER so a KM's CkClient moves on. Leadership comes from an Elector: etcd's
 * election for replicated controllers, or the embedded one (a single controller that leads from
 * the start, its state in memory). On election the replica builds its controller from the stored
 * state (configuration versions, live sessions), so nothing reserved by the old leader is handed
 * out twice; when it loses leadership (lease lapsed, etcd lost, a store write refused) it steps
 * down, says so, and campaigns again.
 */
import { EventEmitter } from 'node:events';
import { ControlChannel, type ChannelTls, type ControlAnswer, type Endpoint } from '../channel.js';
import { Controller, type ControllerOptions } from '../controller.js';
import { MemoryStore, type ControlStore } from '../store.js';
import type { ControlMessage } from '../wire.js';
import { publishLeader } from '../diagnostics.js';

export interface Elector {
  campaign(id: string): Promise<void>;
  onLost(fn: (why: string) => void): void;
  resign(): Promise<void>;
  close(): Promise<void>;
  store(): ControlStore;
}

/** A single controller with no etcd: it leads at once and keeps its state in memory. */
export class EmbeddedElector implements Elector {
  readonly #store: ControlStore;
  /** `store`: kept by the caller across controllers (a restart in one process keeps its state). */
  constructor(store: ControlStore = new MemoryStore()) {
    this.#store = store;
  }
  async campaign(): Promise<void> {}
  onLost(): void {}
  async resign(): Promise<void> {}
  async close(): Promise<void> {}
  store(): ControlStore {
    return this.#store;
  }
}

export interface ReplicaOptions extends Omit<ControllerOptions, 'store'> {
  readonly id: string;
  readonly tls: ChannelTls;
  readonly listen: Endpoint;
  /** Node IDs of the KMs allowed to connect. */
  readonly kms: readonly string[];
  readonly elector: Elector;
}

export interface ReplicaEvents {
  elected: [];
  steppedDown: [reason: string];
}

export class CentralReplica extends EventEmitter<ReplicaEvents> {
  readonly id: string;
  readonly #o: ReplicaOptions;
  readonly #channel: ControlChannel;
  #controller: Controller | null = null;
  /** KMs heard from since this replica was elected, and when it was. */
  readonly #reported = new Set<string>();
  #electedAt = 0;
  #stopped = false;
  #port = 0;

  constructor(o: ReplicaOptions) {
    super();
    this.id = o.id;
    this.#o = o;
    this.#channel = new ControlChannel({ nodeId: o.id, tls: o.tls, listen: o.listen, accept: (p) => o.kms.includes(p), onRequest: (p, m) => this.#onRequest(p, m) });
    o.elector.onLost((why) => void this.#stepDown(why));
  }

  get leader(): boolean {
    return this.#controller !== null;
  }

  /** The controller while this replica leads. */
  get controller(): Controller | null {
    return this.#controller;
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<number> {
    this.#port = await this.#channel.listen();
    void this.#campaign();
    return this.#port;
  }

  async #campaign(): Promise<void> {
    while (!this.#stopped && !this.#controller) {
      try {
        await this.#o.elector.campaign(this.id);
        if (this.#stopped) return;
        const c = new Controller({ ...this.#o, store: this.#o.elector.store() });
        c.onStoreError = (e) => void this.#stepDown(e.message);
        await c.start();
        c.configuration.subscribe((config, version) => this.#push(config, version));
        this.#reported.clear();
        this.#electedAt = Date.now();
        this.#controller = c;
        publishLeader({ replica: this.id, event: 'elected' });
        this.emit('elected');
      } catch (e) {
        if (this.#stopped) return;
        await this.#o.elector.resign().catch(() => {});
        process.emitWarning(`controller ${this.id}: campaign failed (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #stepDown(reason: string): Promise<void> {
    const c = this.#controller;
    if (!c) return;
    this.#controller = null;
    c.stop();
    publishLeader({ replica: this.id, event: 'stepped-down', reason });
    this.emit('steppedDown', reason);
    await this.#o.elector.resign().catch(() => {});
    if (!this.#stopped) void this.#campaign();
  }

  /** Configuration control: push each new version to the KMs connected now (others get it when they report). */
  #push(config: ControllerOptions['config'], version: number): void {
    for (const km of this.#o.kms)
      if (this.#channel.connected(km)) this.#channel.request(km, { host: '', port: 0 }, 'TopologyPush', { version, config }, 5000).catch(() => {});
  }

  /**
   * A new leader knows the stored configuration and reservations but not the links' stock: it
   * routes once every KM has reported to it, or a KM timeout after its election (the silent ones
   * are lost by then). Until then the KMs relay on their last good routes.
   */
  #warm(): boolean {
    return this.#reported.size >= this.#o.kms.length || Date.now() - this.#electedAt >= (this.#o.kmTimeoutMs ?? 3000);
  }

  #onRequest(peer: string, m: ControlMessage): ControlAnswer | Promise<ControlAnswer> {
    const c = this.#controller;
    if (c && m.name === 'KmReport') this.#reported.add(peer);
    if (!c || (m.name === 'RouteRequest' && !this.#warm())) {
      const reason = c ? `${this.id} leads but is still learning the KMs' stock` : `${this.id} is a follower`;
      return m.name === 'RouteRequest' ? { name: 'RouteAnswer', body: { relay: m.body.relayId, status: 'ERR_CTL_NOT_LEADER', reason } } : { name: 'Ack', body: { status: 'ERR_CTL_NOT_LEADER', reason } };
    }
    return c.handle(peer, m);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#controller?.stop();
    this.#controller = null;
    await this.#channel.close();
    await this.#o.elector.close();
  }
}
