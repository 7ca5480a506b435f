/**
 * The management layer's own durable state, in `<dataDir>/manager.lmdb` beside the key store:
 * alarm history, accounting records and configuration versions. Nothing in it is key material or
 * a key ID, so it is not encrypted under the storage key and survives a zeroization (the tamper
 * alarm must outlive the keys it was raised for).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';

export class ManagerStore {
  readonly #root: RootDatabase;
  #closed = false;

  private constructor(root: RootDatabase) {
    this.#root = root;
  }

  static open(dir: string): ManagerStore {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new ManagerStore(open({ path: join(dir, 'manager.lmdb'), maxDbs: 8, compression: false }));
  }

  db<V>(name: 'alarms' | 'accounting' | 'config' | 'network-alarms' | 'network-accounting'): Database<V, string> {
    return this.#root.openDB<V, string>({ name, encoding: 'msgpack' });
  }

  /** Resolves once every write so far is on disk. */
  async flushed(): Promise<void> {
    await this.#root.flushed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#root.close();
  }
}
