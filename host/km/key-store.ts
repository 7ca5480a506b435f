/**
 * The KMA key store: LMDB, crash-safe, every key encrypted at rest (AES-256-GCM under the data
 * key of its epoch, bound to the key's ID, pool and size; epoch-keys.ts: a new data key every
 * `recordsPerEpoch` records, far below GCM's 2^32 limit, and an epoch's key destroyed once none of
 * its records holds key bytes, so a consumed key cannot be recovered from stale LMDB pages even
 * with the storage key), every change made in
 * one durable transaction (`commit`) that checks the one-life state machine (key-state.ts) before
 * it writes anything. A commit resolves only once LMDB has synced it to disk (overlappingSync off:
 * lmdb-js would otherwise resolve before the sync), so the caller acts (sends a message, answers an
 * SAE) only on what would survive a crash or a power loss.
 *
 * Keys live in pools named by the node that holds the other copy: `link` pools hold the units of a
 * QKD link (index = the link's unit index), `relay` pools hold keys relayed end to end to a node
 * with no direct link (index = arrival order). Each key has one `allocator`, the node that may pick
 * it for an operation, so the two ends of a pool never pick the same key at once.
 *
 * Databases in the environment: `keys` (ID → record), `tombs` (ID → destroyed tombstone),
 * `outbox` ([peer, seq] → void notices still to deliver to a peer KM), `meta`.
 */
import * as crypto from 'node:crypto';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { canTransition, holdsKeyBytes, isTerminal, KEY_STATES, type KeyState } from './key-state.js';
import { KeyIntegrityError, KeyNotAvailableError, KeyStateError, KeyUnknownError, StorageKeyError, StoreClosedError, ZeroizedError } from './errors.js';
import type { StorageKey } from './storage-key.js';
import { openDurableEnv } from '../kq/durable-env.js';
import { EpochKeys, readKeys } from './epoch-keys.js';
import { NONCE_BYTES, OFFLOAD_MIN_RECORDS, openRecord, RecordSealer, sealRecords, TAG_BYTES } from './record-sealer.js';
import { nextRecord, strip, type Batch, type KeyRecord, type OutboxEntry, type PoolOrigin, type StoredRecord, type Tombstone } from './key-record.js';

export interface KeyStoreOptions {
  readonly path: string;
  readonly nodeId: string;
  readonly storageKey: StorageKey;
  /** Records sealed under one data key before the next epoch starts (epoch-keys.ts; default 2^20). */
  readonly recordsPerEpoch?: number;
}

interface PoolMem {
  /** Available keys this node may allocate, in order: ID → seq. */
  readonly queue: Map<string, number>;
  readonly counts: Record<KeyState, number>;
  /** Highest seq stored. */
  high: number;
}

const OUTBOX_CHUNK = 4096;
const RECORD_INFO = 'qkdn-edge/km/key-records/v1';
const EPOCH_WRAP_INFO = 'qkdn-edge/km/epoch-keys/v1';
const DEFAULT_RECORDS_PER_EPOCH = 1 << 20;
const CHECK_PLAINTEXT = Buffer.from('qkdn-edge key store check v1');

function poolKey(peer: string, origin: PoolOrigin): string {
  return `${origin}:${peer}`;
}

function emptyCounts(): Record<KeyState, number> {
  return Object.fromEntries(KEY_STATES.map((s) => [s, 0])) as Record<KeyState, number>;
}

export class KeyStore {
  readonly nodeId: string;
  readonly bootId: string = randomUUID();
  readonly #root: RootDatabase;
  readonly #keys: Database<StoredRecord, string>;
  readonly #tombs: Database<Tombstone, string>;
  readonly #outbox: Database<OutboxEntry, [string, number]>;
  readonly #storageKey: StorageKey;
  /** The first data key: the check value and records from before epochs (no `e`). */
  #dek: Buffer | null;
  readonly #epochs: EpochKeys;
  #closed = false;
  #zeroized = false;
  readonly #pools = new Map<string, PoolMem>();
  /** IDs handed out by take() and not yet committed or returned. */
  readonly #held = new Set<string>();
  #outboxSeq = 0;
  #inDoubt: KeyRecord[] = [];
  /** The sealing thread for large batches of link units, started on the first one. */
  #sealer: RecordSealer | undefined;
  #sealerEpoch = -1;

  private constructor(o: KeyStoreOptions, root: RootDatabase, dek: Buffer, epochs: EpochKeys) {
    this.#epochs = epochs;
    this.nodeId = o.nodeId;
    this.#storageKey = o.storageKey;
    this.#root = root;
    this.#keys = root.openDB<StoredRecord, string>({ name: 'keys', encoding: 'msgpack' });
    this.#tombs = root.openDB<Tombstone, string>({ name: 'tombs', encoding: 'msgpack' });
    this.#outbox = root.openDB<OutboxEntry, [string, number]>({ name: 'outbox', encoding: 'msgpack' });
    this.#dek = dek;
  }

  /** Opens (or creates) the store in `path`; refuses a storage key that did not create it. */
  static async open(o: KeyStoreOptions): Promise<KeyStore> {
    // Durable (durable-env.ts): a transaction's promise resolves only once it is synced to disk.
    const root = openDurableEnv(join(o.path, 'km.lmdb'));
    const meta = root.openDB<unknown, string>({ name: 'meta', encoding: 'msgpack' });
    let salt = meta.get('salt') as Uint8Array | undefined;
    let check = meta.get('check') as { n: Uint8Array; ct: Uint8Array } | undefined;
    const node = meta.get('node') as string | undefined;
    if (node !== undefined && node !== o.nodeId) {
      await root.close();
      throw new StorageKeyError(`store at ${o.path} belongs to node ${node}, not ${o.nodeId}`);
    }
    if (!salt) {
      salt = randomBytes(32);
      const dek = o.storageKey.derive(salt, RECORD_INFO);
      check = seal(dek, 'check', CHECK_PLAINTEXT);
      await root.transaction(() => {
        meta.putSync('salt', salt);
        meta.putSync('check', check);
        meta.putSync('node', o.nodeId);
        meta.putSync('created', Date.now());
      });
      const s = new KeyStore(o, root, dek, KeyStore.#openEpochs(o, salt));
      s.#load();
      return s;
    }
    const dek = o.storageKey.derive(salt, RECORD_INFO);
    try {
      if (!check || !Buffer.from(openRecord(dek, 'check', check.n, check.ct)).equals(CHECK_PLAINTEXT)) throw new Error('check value differs');
    } catch (e) {
      dek.fill(0);
      await root.close();
      throw new StorageKeyError(`the storage key does not open the store at ${o.path}`, e);
    }
    let epochs: EpochKeys;
    try {
      epochs = KeyStore.#openEpochs(o, salt);
    } catch (e) {
      dek.fill(0);
      await root.close();
      throw e;
    }
    const s = new KeyStore(o, root, dek, epochs);
    s.#load();
    return s;
  }

  static #openEpochs(o: KeyStoreOptions, salt: Uint8Array): EpochKeys {
    return EpochKeys.open(join(o.path, 'epochs'), o.storageKey.derive(salt, EPOCH_WRAP_INFO), o.recordsPerEpoch ?? DEFAULT_RECORDS_PER_EPOCH);
  }

  /**
   * Every data key that the files in `path` and the storage key yield (the first one and the
   * epochs' not yet destroyed): what an attacker holding the disk and the storage key would have.
   * For audits and the tests that show a consumed key cannot be recovered.
   */
  static recoverableKeys(path: string, storageKey: StorageKey): Buffer[] {
    const root = open({ path: join(path, 'km.lmdb'), maxDbs: 8, readOnly: true, compression: false });
    try {
      const salt = root.openDB<unknown, string>({ name: 'meta', encoding: 'msgpack' }).get('salt') as Uint8Array;
      return [storageKey.derive(salt, RECORD_INFO), ...readKeys(join(path, 'epochs'), storageKey.derive(salt, EPOCH_WRAP_INFO)).values()];
    } finally {
      void root.close();
    }
  }

  /** The data key that sealed record `r`. */
  #keyOf(r: StoredRecord, dek: Buffer): Buffer {
    if (r.e === undefined) return dek;
    const k = this.#epochs.key(r.e);
    if (!k) throw new KeyIntegrityError(r.id);
    return k;
  }

  /**
   * Reads the states of a store without its storage key (no key bytes can be read): for tests,
   * audits and the reliability checker. The store may be open in a running node meanwhile.
   */
  static inspect(path: string): { records: KeyRecord[]; tombstones: Tombstone[]; outbox: OutboxEntry[] } {
    const root = open({ path: join(path, 'km.lmdb'), maxDbs: 8, readOnly: true, compression: false });
    try {
      const keys = root.openDB<StoredRecord, string>({ name: 'keys', encoding: 'msgpack' });
      const tombs = root.openDB<Tombstone, string>({ name: 'tombs', encoding: 'msgpack' });
      const outbox = root.openDB<OutboxEntry, [string, number]>({ name: 'outbox', encoding: 'msgpack' });
      return {
        records: [...keys.getRange()].map(({ value }) => strip(value)),
        tombstones: [...tombs.getRange()].map(({ value }) => value),
        outbox: [...outbox.getRange()].map(({ value }) => value),
      };
    } finally {
      void root.close();
    }
  }

  #load(): void {
    let highestEpoch = -1;
    for (const { value: r } of this.#keys.getRange()) {
      if (r.e !== undefined) {
        highestEpoch = Math.max(highestEpoch, r.e);
        if (r.ct) this.#epochs.hold(r.e);
      }
      const p = this.#pool(r.peer, r.origin);
      p.counts[r.state]++;
      if (r.seq > p.high) p.high = r.seq;
      if (r.state === 'available' && r.allocator === this.nodeId) p.queue.set(r.id, r.seq);
      if (r.state === 'reserved' && r.phase === 'await-peer') this.#inDoubt.push(strip(r));
    }
    // Queues in seq order: link units are used oldest first.
    for (const p of this.#pools.values()) {
      const sorted = [...p.queue.entries()].sort((a, b) => a[1] - b[1]);
      p.queue.clear();
      for (const [id, seq] of sorted) p.queue.set(id, seq);
    }
    for (const { value } of this.#outbox.getRange()) this.#outboxSeq = Math.max(this.#outboxSeq, value.seq);
    // Epochs that hold nothing any more lose their key; new records go to a new epoch.
    this.#epochs.settle(highestEpoch);
  }

  #pool(peer: string, origin: PoolOrigin): PoolMem {
    const k = poolKey(peer, origin);
    let p = this.#pools.get(k);
    if (!p) {
      p = { queue: new Map(), counts: emptyCounts(), high: -1 };
      this.#pools.set(k, p);
    }
    return p;
  }

  #ensureOpen(): Buffer {
    if (this.#zeroized) throw new ZeroizedError();
    if (this.#closed || !this.#dek) throw new StoreClosedError();
    return this.#dek;
  }

  get zeroized(): boolean {
    return this.#zeroized;
  }

  /**
   * Keys left reserved while waiting for a peer KM's answer when the previous process stopped:
   * nobody knows whether the peer acted, so the KMA burns them at both ends. Taken once.
   */
  takeInDoubt(): KeyRecord[] {
    const r = this.#inDoubt;
    this.#inDoubt = [];
    return r;
  }

  // ---- queries -------------------------------------------------------------------------------

  get(id: string): KeyRecord | undefined {
    if (this.#closed) throw new StoreClosedError();
    const r = this.#keys.get(id);
    return r ? strip(r) : undefined;
  }

  tombstone(id: string): Tombstone | undefined {
    return this.#tombs.get(id);
  }

  /** The key bytes of a key still held (available or reserved). */
  readKey(id: string): Uint8Array {
    const dek = this.#ensureOpen();
    const r = this.#keys.get(id);
    if (!r) throw new KeyUnknownError(id);
    if (!r.n || !r.ct || !holdsKeyBytes(r.state)) throw new KeyNotAvailableError(id, r.state, 'available or reserved');
    try {
      return openRecord(this.#keyOf(r, dek), aad(r), r.n, r.ct);
    } catch {
      throw new KeyIntegrityError(id);
    }
  }

  /** Available keys that this node may allocate in a pool (with seq ≤ `maxSeq`: those the peer also holds). */
  allocatable(peer: string, origin: PoolOrigin, maxSeq = Number.POSITIVE_INFINITY): number {
    const q = this.#pools.get(poolKey(peer, origin))?.queue;
    if (!q) return 0;
    if (maxSeq === Number.POSITIVE_INFINITY) return q.size;
    let n = 0;
    for (const seq of q.values()) {
      if (seq > maxSeq) break;
      n++;
    }
    return n;
  }

  /** Count of keys per state in a pool. */
  counts(peer: string, origin: PoolOrigin): Readonly<Record<KeyState, number>> {
    return { ...(this.#pools.get(poolKey(peer, origin))?.counts ?? emptyCounts()) };
  }

  /** Highest seq stored in a pool (-1 if none): for a link pool, the last unit index received. */
  high(peer: string, origin: PoolOrigin): number {
    return this.#pools.get(poolKey(peer, origin))?.high ?? -1;
  }

  pools(): { peer: string; origin: PoolOrigin }[] {
    return [...this.#pools.keys()].map((k) => {
      const i = k.indexOf(':');
      return { origin: k.slice(0, i) as PoolOrigin, peer: k.slice(i + 1) };
    });
  }

  *records(): Generator<KeyRecord> {
    for (const { value } of this.#keys.getRange()) yield strip(value);
  }

  outbox(peer?: string): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    const range = peer === undefined ? this.#outbox.getRange() : this.#outbox.getRange({ start: [peer, 0], end: [peer, Number.MAX_SAFE_INTEGER] });
    for (const { value } of range) out.push(value);
    return out;
  }

  // ---- allocation (in memory; a commit makes it durable) ---------------------------------------

  /**
   * Takes `count` allocatable keys of a pool, oldest first, with seq ≤ `maxSeq` (a link pool's
   * keys beyond what the peer has confirmed holding are not picked). Returns null, changing
   * nothing, when there are not enough. The caller commits a transition for them or gives them
   * back with `release`.
   */
  take(peer: string, origin: PoolOrigin, count: number, maxSeq = Number.POSITIVE_INFINITY): string[] | null {
    this.#ensureOpen();
    const p = this.#pools.get(poolKey(peer, origin));
    if (!p || p.queue.size < count) return null;
    const ids: string[] = [];
    for (const [id, seq] of p.queue) {
      if (ids.length === count) break;
      if (seq > maxSeq) break;
      ids.push(id);
    }
    if (ids.length < count) return null;
    for (const id of ids) {
      p.queue.delete(id);
      this.#held.add(id);
    }
    return ids;
  }

  /** Gives back keys from `take` that were not committed; those no longer available are dropped. */
  release(ids: readonly string[]): void {
    for (const id of ids) {
      if (!this.#held.delete(id)) continue;
      const r = this.#keys.get(id);
      if (r && r.state === 'available' && r.allocator === this.nodeId) this.#pool(r.peer, r.origin).queue.set(id, r.seq);
    }
  }

  // ---- durable changes -----------------------------------------------------------------------

  /**
   * Adds link units pushed by a key source (Kq). Units whose ID is already known (stored or a
   * tombstone, e.g. voided by the peer before they arrived here) are skipped. Resolves when durable.
   */
  async addLinkUnits(peer: string, units: readonly { id: string; seq: number; bytes: Uint8Array; allocator: string }[], bits: number): Promise<number> {
    this.#ensureOpen();
    const now = Date.now();
    const fresh: StoredRecord[] = [];
    const size = bits / 8;
    for (const u of units) if (u.bytes.length !== size) throw new RangeError(`unit ${u.seq}: ${u.bytes.length * 8} bits, expected ${bits}`);
    // One draw of randomness for the batch's nonces: a draw per record costs more than its sealing.
    const nonces = randomBytes(NONCE_BYTES * units.length);
    const ads = units.map((u) => aad({ id: u.id, peer, origin: 'link', bits }));
    // Counted as held from here: the epoch cannot be destroyed under records being written.
    const { epoch, key } = this.#epochs.forSealing(units.length);
    this.#epochs.hold(epoch, units.length);
    const gather = () => {
      const plain = new Uint8Array(units.length * size);
      units.forEach((u, i) => plain.set(u.bytes, i * size));
      return plain;
    };
    let sealed: Uint8Array | undefined;
    if (units.length >= OFFLOAD_MIN_RECORDS) {
      if (!this.#sealer?.usable || this.#sealerEpoch !== epoch) {
        void this.#sealer?.close();
        this.#sealer = new RecordSealer(key);
        this.#sealerEpoch = epoch;
      }
      // The units move to the thread (and are erased there). A thread that fails is replaced for
      // the next batch; this one is then sealed here.
      sealed = await this.#sealer.seal(ads, gather(), size, nonces).catch(() => undefined);
      this.#ensureOpen(); // closed or zeroized meanwhile: nothing is written
    }
    if (!sealed) {
      const plain = gather();
      sealed = sealRecords(crypto, key, ads, plain, size, nonces);
      plain.fill(0);
    }
    const step = size + TAG_BYTES;
    const added = await this.#root.transaction(() => {
      let n = 0;
      for (let i = 0; i < units.length; i++) {
        const u = units[i]!;
        if (this.#keys.get(u.id) || this.#tombs.get(u.id)) continue;
        const rec: StoredRecord = { id: u.id, peer, origin: 'link', seq: u.seq, allocator: u.allocator, bits, state: 'available', since: now, n: nonces.subarray(NONCE_BYTES * i, NONCE_BYTES * (i + 1)), ct: sealed.subarray(i * step, (i + 1) * step), e: epoch };
        this.#keys.putSync(u.id, rec);
        fresh.push(rec);
        n++;
      }
      return n;
    });
    // Units skipped (already known) hold nothing.
    for (let i = added; i < units.length; i++) this.#epochs.release(epoch);
    const p = this.#pool(peer, 'link');
    for (const r of fresh) {
      p.counts.available++;
      if (r.seq > p.high) p.high = r.seq;
      if (r.allocator === this.nodeId && !this.#held.has(r.id)) p.queue.set(r.id, r.seq);
    }
    return added;
  }

  /**
   * Applies a batch in one durable LMDB transaction. Preconditions are checked first, inside the
   * transaction; if one fails nothing is written and the error names the key and its state.
   */
  async commit(batch: Batch): Promise<void> {
    this.#ensureOpen();
    const now = Date.now();
    const boot = this.bootId;
    const applied: { before: StoredRecord | undefined; after: StoredRecord }[] = [];
    const outboxAdded: OutboxEntry[] = [];
    // lmdb-js does not turn an exception inside a transaction callback into a rejection: the
    // callback returns the failed precondition instead, having written nothing.
    const creating = batch.create?.length ?? 0;
    const sealing = creating > 0 ? this.#epochs.forSealing(creating) : undefined;
    if (sealing) this.#epochs.hold(sealing.epoch, creating);
    const failure = await this.#root.transaction((): Error | null => {
      try {
        this.#apply(batch, sealing, now, boot, applied, outboxAdded);
        return null;
      } catch (e) {
        return e instanceof Error ? e : new Error(String(e));
      }
    });
    if (failure) {
      if (sealing) for (let i = 0; i < creating; i++) this.#epochs.release(sealing.epoch);
      throw failure;
    }
    this.#afterCommit(applied);
  }

  #apply(batch: Batch, sealing: { epoch: number; key: Buffer } | undefined, now: number, boot: string, applied: { before: StoredRecord | undefined; after: StoredRecord }[], outboxAdded: OutboxEntry[]): void {
    // 1. check everything
    const prepared: StoredRecord[] = [];
    const seen = new Set<string>();
    for (const c of batch.create ?? []) {
      if (seen.has(c.id) || this.#keys.get(c.id) || this.#tombs.get(c.id)) throw new KeyNotAvailableError(c.id, 'existing', 'a new key ID');
      seen.add(c.id);
      const base: StoredRecord = { ...c.fields, id: c.id, peer: c.peer, origin: c.origin, seq: c.origin === 'relay' ? this.#nextRelaySeq(c.peer, prepared) : 0, allocator: c.allocator, bits: c.bytes.length * 8, state: c.state, since: now, boot };
      const { n, ct } = seal(sealing!.key, aad(base), c.bytes);
      prepared.push({ ...base, n, ct, e: sealing!.epoch });
    }
    const changes: { before: StoredRecord; after: StoredRecord }[] = [];
    for (const c of batch.change ?? []) {
      if (seen.has(c.id)) throw new KeyNotAvailableError(c.id, 'changed twice in one batch', 'one change per key');
      seen.add(c.id);
      const before = this.#keys.get(c.id);
      if (!before) throw new KeyUnknownError(c.id);
      if (!c.from.includes(before.state)) throw new KeyNotAvailableError(c.id, before.state, c.from.join(' or '));
      if (!canTransition(before.state, c.to)) throw new KeyStateError(c.id, before.state, c.to);
      changes.push({ before, after: nextRecord(before, c.to, c.fields, now, boot) });
    }
    const burns: { before: StoredRecord | undefined; after: StoredRecord }[] = [];
    for (const b of batch.burn ?? []) {
      if (seen.has(b.id)) continue;
      seen.add(b.id);
      const before = this.#keys.get(b.id);
      if (before) {
        if (isTerminal(before.state)) continue;
        burns.push({ before, after: nextRecord(before, b.to, { reason: b.reason }, now, boot) });
      } else if (!this.#tombs.get(b.id) && b.peer !== undefined) {
        // Not here yet (a unit the peer voided before our source pushed it): a tombstone keeps it from ever arriving.
        burns.push({ before: undefined, after: { id: b.id, peer: b.peer, origin: b.origin ?? 'link', seq: -1, allocator: '', bits: 0, state: b.to, since: now, reason: b.reason, boot } });
      }
    }
    // 2. write
    for (const r of prepared) {
      this.#keys.putSync(r.id, r);
      applied.push({ before: undefined, after: r });
    }
    for (const x of [...changes, ...burns]) {
      this.#keys.putSync(x.after.id, x.after);
      applied.push(x);
    }
    for (const v of batch.outbox ?? []) {
      // One Void message carries at most OUTBOX_CHUNK IDs.
      for (let i = 0; i < v.ids.length; i += OUTBOX_CHUNK) {
        const e: OutboxEntry = { peer: v.peer, origin: v.origin, ids: v.ids.slice(i, i + OUTBOX_CHUNK), reason: v.reason, seq: ++this.#outboxSeq };
        this.#outbox.putSync([v.peer, e.seq], e);
        outboxAdded.push(e);
      }
    }
    for (const d of batch.outboxDone ?? []) this.#outbox.removeSync([d.peer, d.seq]);
  }

  /** Memory follows what is now durable. */
  #afterCommit(applied: readonly { before: StoredRecord | undefined; after: StoredRecord }[]): void {
    for (const { before, after } of applied) {
      // Durably no longer holding its key bytes: the last such record of an epoch destroys its key.
      if (before?.ct && !after.ct && before.e !== undefined) this.#epochs.release(before.e);
      const p = this.#pool(after.peer, after.origin);
      if (before) p.counts[before.state]--;
      p.counts[after.state]++;
      if (after.seq > p.high) p.high = after.seq;
      if (after.state === 'available' && after.allocator === this.nodeId && !this.#held.has(after.id)) p.queue.set(after.id, after.seq);
      else p.queue.delete(after.id);
      this.#held.delete(after.id);
    }
  }

  /** Seq for a relay key created in the batch being prepared (the in-memory high is advanced after commit). */
  #nextRelaySeq(peer: string, prepared: readonly StoredRecord[]): number {
    const high = Math.max(this.high(peer, 'relay'), ...prepared.filter((r) => r.peer === peer && r.origin === 'relay').map((r) => r.seq));
    return high + 1;
  }

  /**
   * Moves terminal keys older than `before` (ms epoch) to tombstones: their records shrink to ID,
   * pool and last state, kept so that a reused ID is still recognised.
   */
  async purge(before: number): Promise<number> {
    this.#ensureOpen();
    const victims: StoredRecord[] = [];
    for (const { value } of this.#keys.getRange()) if (isTerminal(value.state) && value.since < before) victims.push(value);
    if (victims.length === 0) return 0;
    await this.#root.transaction(() => {
      for (const v of victims) {
        this.#keys.removeSync(v.id);
        this.#tombs.putSync(v.id, { id: v.id, peer: v.peer, origin: v.origin, last: v.state, at: Date.now() });
      }
    });
    for (const v of victims) {
      const p = this.#pool(v.peer, v.origin);
      p.counts[v.state]--;
      p.counts.destroyed++;
    }
    return victims.length;
  }

  /**
   * Tamper response: destroys the storage key (every record becomes unreadable at once), then
   * clears the key records. The store refuses everything afterwards.
   */
  async zeroize(): Promise<void> {
    this.#zeroized = true;
    this.#dek?.fill(0);
    this.#dek = null;
    this.#storageKey.destroy();
    this.#epochs.destroyAll();
    for (const p of this.#pools.values()) p.queue.clear();
    this.#held.clear();
    await this.#sealer?.close();
    await this.#keys.clearAsync();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#dek?.fill(0);
    this.#dek = null;
    this.#epochs.wipe();
    await this.#sealer?.close();
    await this.#root.close();
  }
}

function aad(r: Pick<KeyRecord, 'id' | 'peer' | 'origin' | 'bits'> | string): string {
  return typeof r === 'string' ? r : `${r.id}|${r.peer}|${r.origin}|${r.bits}`;
}

/** One record sealed (record-sealer.ts) under a fresh random nonce. */
function seal(dek: Buffer, ad: string, plain: Uint8Array): { n: Buffer; ct: Uint8Array } {
  const n = randomBytes(NONCE_BYTES);
  return { n, ct: sealRecords(crypto, dek, [ad], plain, plain.length, n) };
}