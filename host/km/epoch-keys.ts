/**
 * The key store's data keys, one per epoch. Records are sealed under the current epoch's key
 * (random 96-bit GCM nonces); an epoch ends after `recordsPerEpoch` seals (and at every open), far
 * below NIST SP 800-38D's 2^32 invocations per key. A record names its epoch, so old epochs stay
 * readable as long as they hold key bytes.
 *
 * Why files and not LMDB: a consumed key's record loses its ciphertext in the same transaction,
 * but LMDB's copy-on-write keeps the old page, which would still decrypt under a key that lives
 * on. Once no record of an epoch holds key bytes (every one consumed, voided, failed), its key is
 * destroyed the way the storage key is (overwritten, flushed, unlinked): whatever the database
 * file keeps of that epoch no longer opens. A key lives in `<store>/epochs/<n>.key`, wrapped with
 * AES-256-GCM under a subkey of the node storage key, so the disk alone opens nothing either.
 *
 * Records sealed before epochs existed carry no epoch and open with the store's first data key
 * (`legacy`, derived from the storage key), which lives as long as the store.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { destroyFile, fsyncDir, writeDurably } from './storage-key.js';
import { StorageKeyError } from './errors.js';

const FILE_VERSION = 1;
const WRAP_AAD = 'qkdn-edge key store epoch key v1';

export class EpochKeys {
  readonly #dir: string;
  readonly #wrap: Buffer;
  readonly #keys = new Map<number, Buffer>();
  /** Records holding key bytes per epoch. */
  readonly #live = new Map<number, number>();
  #current = -1;
  #sealed = 0;

  private constructor(dir: string, wrap: Buffer, readonly recordsPerEpoch: number) {
    this.#dir = dir;
    this.#wrap = wrap;
  }

  /** Loads the epoch keys in `dir`; `wrap` (a storage key subkey) unwraps them. */
  static open(dir: string, wrap: Buffer, recordsPerEpoch: number): EpochKeys {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A crash while a key was written or destroyed leaves a temporary file, never a torn <n>.key:
    // finish the destruction; a key whose write did not finish sealed nothing yet.
    for (const name of readdirSync(dir)) if (/^\d+\.key\.(tmp|destroy)$/.test(name)) destroyFile(join(dir, name));
    const k = new EpochKeys(dir, wrap, recordsPerEpoch);
    for (const [epoch, key] of readKeys(dir, wrap)) k.#keys.set(epoch, key);
    return k;
  }

  /** Counts a stored record of `epoch` that holds key bytes (at load and on creation). */
  hold(epoch: number, n = 1): void {
    this.#live.set(epoch, (this.#live.get(epoch) ?? 0) + n);
  }

  /** A record of `epoch` no longer holds key bytes (durably); an epoch left with none is destroyed. */
  release(epoch: number): void {
    const n = (this.#live.get(epoch) ?? 0) - 1;
    if (n > 0) {
      this.#live.set(epoch, n);
      return;
    }
    this.#live.delete(epoch);
    if (epoch !== this.#current) this.#destroy(epoch);
  }

  /** After load: destroys the keys of epochs that hold nothing any more, and starts a new epoch. */
  settle(highestSeen: number): void {
    for (const e of [...this.#keys.keys()]) if (!this.#live.has(e)) this.#destroy(e);
    this.#rotate(Math.max(highestSeen, ...this.#keys.keys()) + 1);
  }

  /** The key and epoch to seal `count` new records under (a new epoch when the current is full). */
  forSealing(count: number): { epoch: number; key: Buffer } {
    if (this.#sealed + count > this.recordsPerEpoch && this.#sealed > 0) {
      const old = this.#current;
      this.#rotate(old + 1);
      if (!this.#live.has(old)) this.#destroy(old);
    }
    this.#sealed += count;
    return { epoch: this.#current, key: this.#keys.get(this.#current)! };
  }

  /** The key of `epoch`, or undefined when it has been destroyed. */
  key(epoch: number): Buffer | undefined {
    return this.#keys.get(epoch);
  }

  get current(): number {
    return this.#current;
  }

  /** Epochs whose key exists. */
  epochs(): number[] {
    return [...this.#keys.keys()].sort((a, b) => a - b);
  }

  /** Zeroize: destroys every epoch key. */
  destroyAll(): void {
    for (const e of [...this.#keys.keys()]) this.#destroy(e);
  }

  /** Erases the keys from memory (close). */
  wipe(): void {
    for (const k of this.#keys.values()) k.fill(0);
    this.#keys.clear();
    this.#wrap.fill(0);
  }

  #rotate(epoch: number): void {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#wrap, nonce);
    c.setAAD(Buffer.from(`${WRAP_AAD}|${epoch}`));
    const wrapped = Buffer.concat([c.update(key), c.final()]);
    const path = join(this.#dir, `${epoch}.key`);
    // Written aside and renamed into place: a crash mid-write must not leave a key file that opens
    // with nothing and stops the node from starting.
    writeDurably(`${path}.tmp`, JSON.stringify({ v: FILE_VERSION, epoch, nonce: nonce.toString('base64'), wrapped: wrapped.toString('base64'), tag: c.getAuthTag().toString('base64') }));
    renameSync(`${path}.tmp`, path);
    fsyncDir(this.#dir);
    this.#keys.set(epoch, key);
    this.#current = epoch;
    this.#sealed = 0;
  }

  #destroy(epoch: number): void {
    this.#keys.get(epoch)?.fill(0);
    this.#keys.delete(epoch);
    const path = join(this.#dir, `${epoch}.key`);
    // Renamed first, so a crash while it is overwritten leaves no <n>.key of random bytes behind.
    try {
      renameSync(path, `${path}.destroy`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    fsyncDir(this.#dir);
    destroyFile(`${path}.destroy`);
  }
}

/**
 * Every epoch key the files in `dir` yield under `wrap`: what an attacker holding the disk and the
 * storage key would have (audits and tests).
 */
export function readKeys(dir: string, wrap: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const m = /^(\d+)\.key$/.exec(name);
    if (!m) continue;
    const epoch = Number(m[1]);
    try {
      const f = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { v: number; epoch: number; nonce: string; wrapped: string; tag: string };
      if (f.v !== FILE_VERSION || f.epoch !== epoch) throw new Error(`not a version ${FILE_VERSION} key of epoch ${epoch}`);
      const d = createDecipheriv('aes-256-gcm', wrap, Buffer.from(f.nonce, 'base64'));
      d.setAAD(Buffer.from(`${WRAP_AAD}|${epoch}`));
      d.setAuthTag(Buffer.from(f.tag, 'base64'));
      out.set(epoch, Buffer.concat([d.update(Buffer.from(f.wrapped, 'base64')), d.final()]));
    } catch (e) {
      throw new StorageKeyError(`epoch key ${join(dir, name)} does not open with this storage key`, e);
    }
  }
  return out;
}
