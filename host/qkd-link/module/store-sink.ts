/**
 * The key store a standalone link module writes into (`qkdn-edge link`): the KMA's store
 * (host/km/key-store.ts) in `<dataDir>/km`, under the node storage key `<dataDir>/storage.key`,
 * fed exactly as the key manager feeds it from a source (KeyManager.attach): unit IDs derived from
 * the link ID and index, the allocator alternating between the two ends by index. When a node
 * process hosts the key manager, the manager attaches the module itself and this is not used.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deriveUnitId } from '../../km/key-id.js';
import type { KeySink } from '../../km/key-source.js';
import { KeyStore } from '../../km/key-store.js';
import { StorageKey } from '../../km/storage-key.js';
import { linkAllocator } from '../../km/topology.js';
import type { LinkConfig } from './config.js';

export interface StoreSink {
  readonly store: KeyStore;
  readonly sink: KeySink;
  /** Highest unit index the store holds (-1: none): the source resumes after it. */
  readonly after: number;
}

export function openStorageKey(c: LinkConfig): StorageKey {
  const passphrase = c.passphraseEnv ? process.env[c.passphraseEnv] : undefined;
  mkdirSync(c.dataDir, { recursive: true, mode: 0o700 });
  return StorageKey.openOrCreate(join(c.dataDir, 'storage.key'), passphrase);
}

export async function openStoreSink(c: LinkConfig, storageKey: StorageKey, capacity = 1 << 30): Promise<StoreSink> {
  const store = await KeyStore.open({ path: join(c.dataDir, 'km'), nodeId: c.node, storageKey });
  const ends: [string, string] = [c.node, c.peer];
  const sink: KeySink = {
    capacity,
    stored: () => store.counts(c.peer, 'link').available,
    push: async (units) => {
      await store.addLinkUnits(
        c.peer,
        units.map((u) => ({ id: deriveUnitId(c.linkId, u.index), seq: u.index, bytes: u.bytes, allocator: linkAllocator(ends, u.index) })),
        c.unitBits,
      );
    },
  };
  return { store, sink, after: store.high(c.peer, 'link') };
}
