/**
 * Where a controller keeps its state (configuration versions, sessions, the view's reports): an
 * embedded in-memory store for a single controller, or etcd for replicated ones (central/etcd.ts),
 * where every write of the leader is conditioned on its still holding leadership.
 */
export interface ControlStore {
  get(key: string): Promise<string | undefined>;
  /** Resolves once stored; rejects with NotLeaderError when this replica may no longer write. */
  put(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key under `prefix`, with its value. */
  list(prefix: string): Promise<Map<string, string>>;
  readonly kind: 'embedded' | 'etcd';
}

export class MemoryStore implements ControlStore {
  readonly kind = 'embedded' as const;
  readonly #m = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.#m.get(key);
  }
  async put(key: string, value: string): Promise<void> {
    this.#m.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.#m.delete(key);
  }
  async list(prefix: string): Promise<Map<string, string>> {
    return new Map([...this.#m].filter(([k]) => k.startsWith(prefix)));
  }
}
