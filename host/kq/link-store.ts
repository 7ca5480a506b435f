/**
 * What a QKD link needs from a key store, and the one way its units are written there. The key
 * manager (KeyManager.attach) and a standalone link process (host/node/link-main.ts) both feed a
 * store through `linkSink`, so a unit gets the same ID and allocator whoever hosts the link.
 * host/km's KeyStore and StorageKey implement these interfaces; the link layer sees only them.
 */
import { linkAllocator } from './allocator.js';
import type { KeySink } from './key-source.js';
import { deriveUnitId } from './unit-id.js';

/** A link unit as the store records it. */
export interface LinkUnitRecord {
  readonly id: string;
  readonly seq: number;
  readonly bytes: Uint8Array;
  /** The end that may allocate it (linkAllocator). */
  readonly allocator: string;
}

/** The store operations a link's sink uses: its pool of units shared with `peer`. */
export interface LinkUnitStore {
  addLinkUnits(peer: string, units: readonly LinkUnitRecord[], unitBits: number): Promise<unknown>;
  counts(peer: string, origin: 'link'): { readonly available: number };
  /** Highest unit index held (-1: none). */
  high(peer: string, origin: 'link'): number;
}

/** A standalone link's store: it also reads units back (the emulated link compares both ends). */
export interface OwnLinkStore extends LinkUnitStore {
  readKey(id: string): Uint8Array;
  close(): Promise<void>;
}

/** Subkeys of the node storage key: the link seals its durable state under one of them. */
export interface SubkeySource {
  derive(salt: Uint8Array, info: string): Buffer;
}

export interface LinkStoreOptions {
  readonly dataDir: string;
  readonly node: string;
  /** Environment variable holding the storage key's passphrase, if it is wrapped. */
  readonly passphraseEnv?: string | undefined;
}

/** Opens the storage key (and, with a store, the key store) of a link end that runs on its own. */
export interface LinkStoreOpener {
  storageKey(o: LinkStoreOptions): SubkeySource;
  store(o: LinkStoreOptions, storageKey: SubkeySource): Promise<OwnLinkStore>;
}

export interface LinkSinkOptions {
  readonly linkId: string;
  /** The link's two node IDs (both ends compute the allocator from them). */
  readonly ends: readonly [string, string];
  readonly peer: string;
  readonly unitBits: number;
  readonly capacity: number;
}

/** The sink a link's source pushes into: unit IDs from the link ID and index, allocators alternating. */
export function linkSink(store: LinkUnitStore, o: LinkSinkOptions): KeySink {
  return {
    capacity: o.capacity,
    stored: () => store.counts(o.peer, 'link').available,
    push: async (units) => {
      await store.addLinkUnits(
        o.peer,
        units.map((u) => ({ id: deriveUnitId(o.linkId, u.index), seq: u.index, bytes: u.bytes, allocator: linkAllocator(o.ends, u.index) })),
        o.unitBits,
      );
    },
  };
}
