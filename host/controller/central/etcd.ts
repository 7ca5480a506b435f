/**
 * The centralized controller's state and leadership in etcd (npm etcd3 against Debian's
 * etcd-server): leader election with etcd3's Election (a campaign key on a lease the replica
 * keeps alive), and a ControlStore whose every write is an etcd transaction conditioned on the
 * campaign key still existing. When the leader's lease lapses (process killed, etcd partitioned
 * from it) etcd deletes the key, the next campaigner leads, and any write the old leader still
 * attempts fails with NotLeaderError instead of overwriting the new leader's state.
 */
import { Etcd3, Election, type Campaign, type Namespace } from 'etcd3';
import { NotLeaderError } from '../errors.js';
import type { ControlStore } from '../store.js';
import type { Elector } from './replica.js';

export interface EtcdOptions {
  /** etcd client URLs, e.g. http://127.0.0.1:2379. */
  readonly hosts: readonly string[];
  /** Key prefix of this network's controller state. */
  readonly prefix: string;
  /** Seconds a leader's lease lives without keep-alive (etcd raises it to its minimum). */
  readonly leaseTtlS?: number;
}

export class EtcdControl implements Elector {
  readonly client: Etcd3;
  readonly #ns: Namespace;
  readonly #prefix: string;
  readonly #election: Election;
  #campaign: Campaign | null = null;
  #leaderKey: string | null = null;
  #lost: (why: string) => void = () => {};

  constructor(o: EtcdOptions) {
    this.client = new Etcd3({ hosts: [...o.hosts], dialTimeout: 2000 });
    this.#prefix = o.prefix.endsWith('/') ? o.prefix : `${o.prefix}/`;
    this.#ns = this.client.namespace(this.#prefix);
    this.#election = new Election(this.#ns, 'controller', o.leaseTtlS ?? 2);
  }

  /** Resolves once this replica leads; `id` is what observers see as the leader. */
  async campaign(id: string): Promise<void> {
    const c = this.#election.campaign(id);
    this.#campaign = c;
    c.on('error', (e: Error) => {
      this.#leaderKey = null;
      this.#lost(`lost the etcd lease: ${e.message}`);
    });
    await c.wait();
    this.#leaderKey = await c.getCampaignKey();
  }

  onLost(fn: (why: string) => void): void {
    this.#lost = fn;
  }

  async leader(): Promise<string | undefined> {
    return this.#election.leader();
  }

  async resign(): Promise<void> {
    const c = this.#campaign;
    this.#campaign = null;
    this.#leaderKey = null;
    if (c) await c.resign().catch(() => {});
  }

  /** The store for this replica's writes: conditioned on leadership. */
  store(): ControlStore {
    const full = (k: string) => this.#prefix + k;
    const guarded = async (what: string, op: (tx: ReturnType<Etcd3['if']>) => ReturnType<Etcd3['if']>) => {
      const key = this.#leaderKey;
      if (!key) throw new NotLeaderError(`${what}: this replica is not the leader`);
      let ok: boolean;
      try {
        ok = (await op(this.client.if(key, 'Create', '>', 0)).commit()).succeeded;
      } catch (e) {
        throw new NotLeaderError(`${what}: etcd unreachable: ${(e as Error).message}`);
      }
      if (!ok) throw new NotLeaderError(`${what}: leadership lapsed (campaign key gone)`);
    };
    return {
      kind: 'etcd',
      get: async (k) => (await this.client.get(full(k)).string()) ?? undefined,
      put: (k, v) => guarded(`put ${k}`, (tx) => tx.then(this.client.put(full(k)).value(v))),
      delete: (k) => guarded(`delete ${k}`, (tx) => tx.then(this.client.delete().key(full(k)))),
      list: async (p) => {
        const all = await this.client.getAll().prefix(full(p)).strings();
        return new Map(Object.entries(all).map(([k, v]) => [k.slice(this.#prefix.length), v]));
      },
    };
  }

  async close(): Promise<void> {
    await this.resign();
    this.client.close();
  }

  /** Drops the client without resigning: what a killed leader leaves behind (tests, failover bench). */
  abandon(): void {
    this.#campaign?.removeAllListeners();
    this.#campaign = null;
    this.#leaderKey = null;
    this.client.close();
  }
}
