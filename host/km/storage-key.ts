/**
 * The node storage key: a 256-bit key-encryption key in `<dataDir>/storage.key` from which the
 * store derives the AES-256-GCM key that encrypts every key record at rest. Destroying this one
 * file (zeroize, tamper response) makes every record in the store unreadable at once, however
 * large the store is and whatever the disk keeps of deleted pages.
 *
 * The file holds the key either as is (`raw`, protected by file permissions 0600) or wrapped
 * with AES-256-GCM under a key derived by scrypt from a passphrase (`scrypt`), given to the node
 * through an environment variable so that the disk alone does not open the store.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageKeyError } from './errors.js';

const FILE_VERSION = 1;
/**
 * scrypt for a passphrase-wrapped storage key. The key protects every key of the node and is
 * opened once per start, not per login, so it gets more than RFC 7914's interactive example
 * (N = 2^14): N = 2^17, r = 8, p = 1, i.e. 128 MiB and a few hundred milliseconds per guess, 8
 * times the work of the former 2^15. Percival's "sensitive storage" N = 2^20 would need 1 GiB,
 * too much beside the link's worker threads on an edge node. Files record their parameters;
 * files without them were made with N = 2^15 and still open.
 */
const SCRYPT = { N: 1 << 17, r: 8, p: 1 } as const;
const LEGACY_SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;
const MAX_SCRYPT_N = 1 << 20;

function scryptOptions(c: { N: number; r: number; p: number }): { N: number; r: number; p: number; maxmem: number } {
  return { ...c, maxmem: 128 * c.N * c.r * c.p + 32 * 1024 * 1024 };
}

interface RawFile {
  v: 1;
  kind: 'raw';
  key: string;
}
interface WrappedFile {
  v: 1;
  kind: 'scrypt';
  salt: string;
  /** scrypt parameters (absent: N = 2^15, r = 8, p = 1). */
  N?: number;
  r?: number;
  p?: number;
  nonce: string;
  wrapped: string;
  tag: string;
}
type StorageKeyFile = RawFile | WrappedFile;

export class StorageKey {
  #kek: Buffer | null;
  readonly path: string;

  private constructor(path: string, kek: Buffer) {
    this.path = path;
    this.#kek = kek;
  }

  /** Opens the storage key at `path`, creating it when absent. */
  static openOrCreate(path: string, passphrase?: string): StorageKey {
    if (existsSync(path)) return StorageKey.open(path, passphrase);
    const kek = randomBytes(32);
    writeDurably(path, JSON.stringify(wrap(kek, passphrase)));
    return new StorageKey(path, kek);
  }

  static open(path: string, passphrase?: string): StorageKey {
    let parsed: unknown;
    try {
      const mode = statSync(path).mode & 0o077;
      if (mode !== 0) throw new StorageKeyError(`${path} is readable by group or others (mode ${(statSync(path).mode & 0o777).toString(8)}); expected 600`);
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      if (e instanceof StorageKeyError) throw e;
      throw new StorageKeyError(`cannot read the storage key ${path}`, e);
    }
    return new StorageKey(path, unwrap(path, parsed, passphrase));
  }

  get destroyed(): boolean {
    return this.#kek === null;
  }

  /** A subkey for one purpose (HKDF-SHA256); the store keeps only subkeys, never the KEK. */
  derive(salt: Uint8Array, info: string): Buffer {
    if (!this.#kek) throw new StorageKeyError('the storage key has been destroyed');
    return Buffer.from(hkdfSync('sha256', this.#kek, salt, info, 32));
  }

  /**
   * Zeroize: overwrite the file with random bytes, flush, unlink, and wipe the key from memory.
   * Afterwards nothing on this machine can decrypt the store.
   */
  destroy(): void {
    if (this.#kek) this.#kek.fill(0);
    this.#kek = null;
    destroyFile(this.path);
  }
}

/** Overwrites a key file with random bytes, flushes, unlinks it and flushes its directory. */
export function destroyFile(path: string): void {
  if (!existsSync(path)) return;
  const size = Math.max(statSync(path).size, 64);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, randomBytes(size), 0, size, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  unlinkSync(path);
  fsyncDir(dirname(path));
}

function wrap(kek: Buffer, passphrase?: string): StorageKeyFile {
  if (passphrase === undefined) return { v: FILE_VERSION, kind: 'raw', key: kek.toString('base64') };
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const wk = scryptSync(passphrase, salt, 32, scryptOptions(SCRYPT));
  const c = createCipheriv('aes-256-gcm', wk, nonce);
  c.setAAD(Buffer.from('qkdn-edge storage key v1'));
  const wrapped = Buffer.concat([c.update(kek), c.final()]);
  wk.fill(0);
  return { v: FILE_VERSION, kind: 'scrypt', salt: salt.toString('base64'), ...SCRYPT, nonce: nonce.toString('base64'), wrapped: wrapped.toString('base64'), tag: c.getAuthTag().toString('base64') };
}

function unwrap(path: string, f: unknown, passphrase?: string): Buffer {
  if (typeof f !== 'object' || f === null || (f as { v?: unknown }).v !== FILE_VERSION) throw new StorageKeyError(`${path}: not a version ${FILE_VERSION} storage key file`);
  const file = f as StorageKeyFile;
  if (file.kind === 'raw') {
    const key = Buffer.from(String(file.key), 'base64');
    if (key.length !== 32) throw new StorageKeyError(`${path}: the key is not 256 bits`);
    return key;
  }
  if (file.kind === 'scrypt') {
    if (passphrase === undefined) throw new StorageKeyError(`${path} is wrapped with a passphrase and none was given`);
    const params = file.N === undefined ? LEGACY_SCRYPT : { N: file.N, r: file.r ?? 8, p: file.p ?? 1 };
    const { N, r, p } = params;
    if (!Number.isSafeInteger(N) || N < 2 || N > MAX_SCRYPT_N || (N & (N - 1)) !== 0 || !Number.isSafeInteger(r) || r < 1 || r > 32 || !Number.isSafeInteger(p) || p < 1 || p > 16) {
      throw new StorageKeyError(`${path}: scrypt parameters N=${N} r=${r} p=${p} out of range`);
    }
    const wk = scryptSync(passphrase, Buffer.from(file.salt, 'base64'), 32, scryptOptions(params));
    try {
      const d = createDecipheriv('aes-256-gcm', wk, Buffer.from(file.nonce, 'base64'));
      d.setAAD(Buffer.from('qkdn-edge storage key v1'));
      d.setAuthTag(Buffer.from(file.tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(file.wrapped, 'base64')), d.final()]);
    } catch (e) {
      throw new StorageKeyError(`${path}: wrong passphrase or altered file`, e);
    } finally {
      wk.fill(0);
    }
  }
  throw new StorageKeyError(`${path}: unknown storage key kind`);
}

/** Creates a file (mode 0600, failing if it exists) with `text`, flushed with its directory. */
export function writeDurably(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(dirname(path));
}

/** Flushes a directory, so that a file created, renamed or unlinked in it stays so after a power loss. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
