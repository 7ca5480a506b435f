/**
 * The key store of a link end that runs on its own (host/node/link-main.ts, the emulated link of
 * `npm start` and the link bench): the KMA's store in `<dataDir>/km` under the node storage key
 * `<dataDir>/storage.key`, the same files a node would open, offered to the link layer through
 * Kq's LinkStoreOpener.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LinkStoreOpener, LinkStoreOptions, OwnLinkStore, SubkeySource } from '../kq/link-store.js';
import { KeyStore } from './key-store.js';
import { StorageKey } from './storage-key.js';

function openStorageKey(o: LinkStoreOptions): StorageKey {
  const passphrase = o.passphraseEnv ? process.env[o.passphraseEnv] : undefined;
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  return StorageKey.openOrCreate(join(o.dataDir, 'storage.key'), passphrase);
}

export const linkStoreOpener: LinkStoreOpener = {
  storageKey: openStorageKey,
  async store(o: LinkStoreOptions, storageKey: SubkeySource): Promise<OwnLinkStore> {
    if (!(storageKey instanceof StorageKey)) throw new TypeError('the key store needs the StorageKey this opener gave');
    return KeyStore.open({ path: join(o.dataDir, 'km'), nodeId: o.node, storageKey });
  },
};
