/**
 * The one way this node opens an LMDB environment that holds key material or the state that
 * keeps a pad or a key from being used twice (the key store, a link's ledger and pending blocks).
 *
 * overlappingSync off: lmdb-js would otherwise resolve a write's promise when it is committed,
 * not when it is flushed, and after a power loss LMDB comes back at the last flushed transaction;
 * a pad reservation or a key transition acted on before its flush could be lost and the pad or the
 * key used again. With it off, a write resolves once synced, and writes queued meanwhile share the
 * next sync. Compression off: records are sealed (random-looking) and small.
 */
import { mkdirSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { open, type RootDatabase } from 'lmdb';

export interface DurableEnvOptions {
  readonly maxDbs?: number;
}

/** Opens (creating its directory) the environment at `path` (a file with an extension, else a directory), durably. */
export function openDurableEnv(path: string, o: DurableEnvOptions = {}): RootDatabase {
  mkdirSync(extname(path) ? dirname(path) : path, { recursive: true });
  return open({ path, maxDbs: o.maxDbs ?? 8, compression: false, overlappingSync: false });
}

/** Whether an environment was opened durably (for the tests and the startup checks). */
export function isDurable(root: RootDatabase): boolean {
  return (root as unknown as { overlappingSync?: boolean }).overlappingSync === false;
}
