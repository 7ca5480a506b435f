/**
 * The durable state of one end of a link, in its own LMDB environment (`<dataDir>/link`): the
 * authentication pad ledger (channel/ledger.ts), the next unit index, the last committed block,
 * and the blocks pending commit (final key held while the peer confirms).
 *
 * Commit protocol (README.md, "Commit"): Alice stores a block's final key as pending before she
 * sends commit.ready; Bob stores it as pending when commit.ready arrives, pushes its units to his
 * key store, then finishes; Alice pushes and finishes on commit.done. "Finishing" is one
 * transaction here: the block's authentication share joins the ledger, the next unit index and
 * the committed block number advance, the pending entry goes. A restart finishes or destroys each
 * pending block by the peer's word (sync.state), so both stores end with the same units.
 *
 * Pending key material and the ledger's authentication pads (the pre-shared secret and every
 * distilled share) are sealed with AES-256-GCM under subkeys of the node storage key (the one the
 * key store uses), so zeroizing the node, which destroys that key, makes them unreadable too,
 * stale LMDB pages included. wipe() erases the subkeys and pending key held in memory.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import type { SubkeySource } from '../../../kq/link-store.js';
import { openDurableEnv } from '../../../kq/durable-env.js';
import type { PadSealer } from '../../channel/ledger.js';
import { LinkError } from '../errors.js';

export interface PendingBlock {
  readonly block: number;
  /** First unit index and number of units. */
  readonly u0: number;
  readonly units: number;
  /** units · unitBits / 8 bytes of key, unit after unit. */
  readonly unitBytes: Uint8Array;
  /** The block's share for the authentication ledger. */
  readonly auth: Uint8Array;
}

interface SealedPending {
  readonly block: number;
  readonly u0: number;
  readonly units: number;
  readonly unitLength: number;
  readonly n: Uint8Array;
  readonly ct: Uint8Array;
}

const SEAL_INFO = 'qkdn-edge/qkd-link/pending/v1';
const PADS_INFO = 'qkdn-edge/qkd-link/auth-pads/v1';

export class LinkState {
  readonly root: RootDatabase;
  private readonly db: Database;
  private readonly dek: Buffer;
  /** Seals the authentication ledger's pads (a subkey of its own: a key per purpose). */
  private readonly padKey: Buffer;
  private pendingMap = new Map<number, PendingBlock>();
  private next = 0;
  private lastCommitted = 0;
  private last = 0;

  private constructor(root: RootDatabase, db: Database, dek: Buffer, padKey: Buffer) {
    this.root = root;
    this.db = db;
    this.dek = dek;
    this.padKey = padKey;
  }

  /** Seals the pad ledger's chunks at rest (channel/ledger.ts PadSealer) under this end's pad subkey. */
  readonly padSealer: PadSealer = {
    seal: (ad, plain) => {
      const n = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', this.padKey, n);
      c.setAAD(Buffer.from(ad));
      return new Uint8Array(Buffer.concat([n, c.update(plain), c.final(), c.getAuthTag()]));
    },
    open: (ad, sealed) => {
      try {
        const d = createDecipheriv('aes-256-gcm', this.padKey, sealed.subarray(0, 12));
        d.setAAD(Buffer.from(ad));
        d.setAuthTag(sealed.subarray(sealed.length - 16));
        return new Uint8Array(Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]));
      } catch (e) {
        throw new LinkError('ERR_LINK_STORE', `authentication pads do not open with this node's storage key`, { cause: e });
      }
    },
  };

  static async open(dataDir: string, linkId: string, storageKey: SubkeySource): Promise<LinkState> {
    // Durable: the ledger's pad reservations live here, and a frame goes out only once its
    // reservation is flushed (a reservation lost to a power cut would let a pad be used twice).
    const root = openDurableEnv(join(dataDir, 'link'));
    const db = root.openDB({ name: `qkd-link-state:${linkId}`, encoding: 'msgpack' });
    let salt = db.get('salt') as Uint8Array | undefined;
    if (!salt) {
      salt = randomBytes(32);
      await db.put('salt', salt);
    }
    const s = new LinkState(root, db, storageKey.derive(salt, SEAL_INFO), storageKey.derive(salt, PADS_INFO));
    s.next = (db.get('nextUnit') as number | undefined) ?? 0;
    s.lastCommitted = (db.get('committed') as number | undefined) ?? 0;
    s.last = Math.max(s.lastCommitted, (db.get('lastBlock') as number | undefined) ?? 0);
    for (const { value } of db.getRange({ start: ['pending', 0], end: ['pending', Number.MAX_SAFE_INTEGER] })) {
      const p = s.unseal(value as SealedPending);
      s.pendingMap.set(p.block, p);
      s.last = Math.max(s.last, p.block);
    }
    return s;
  }

  /** Index of the next unit this link will output (the same at both ends between blocks). */
  get nextUnit(): number {
    return this.next;
  }

  /** Highest block number committed (0: none). */
  get committed(): number {
    return this.lastCommitted;
  }

  /** Highest block number started or seen. */
  get lastBlock(): number {
    return this.last;
  }

  /** Records that block `b` exists, so numbers are not reused after a restart (best effort: sync.state covers a lost write). */
  noteBlock(b: number): void {
    if (b <= this.last) return;
    this.last = b;
    void this.db.put('lastBlock', b).catch(() => undefined);
  }

  /** Takes unit indexes the key store already holds into account (the store is the authority on what it has). */
  async atLeast(nextUnit: number): Promise<void> {
    if (nextUnit <= this.next) return;
    this.next = nextUnit;
    await this.db.put('nextUnit', nextUnit);
  }

  pending(): PendingBlock[] {
    return [...this.pendingMap.values()].sort((a, b) => a.block - b.block);
  }

  getPending(block: number): PendingBlock | undefined {
    return this.pendingMap.get(block);
  }

  async putPending(p: PendingBlock): Promise<void> {
    try {
      await this.db.put(['pending', p.block], this.seal(p));
    } catch (e) {
      throw new LinkError('ERR_LINK_STORE', `cannot store pending block ${p.block}`, { cause: e });
    }
    this.pendingMap.set(p.block, p);
    this.noteBlock(p.block);
  }

  /**
   * Finishes a commit in one transaction: `replenish` (the ledger's, which runs `extra` inside its
   * own transaction of this environment) adds the auth share once; unit index and committed block
   * advance; the pending entry is destroyed.
   */
  async finish(p: PendingBlock, replenish: (material: Uint8Array, block: number, extra: () => void) => Promise<unknown>): Promise<void> {
    const next = Math.max(this.next, p.u0 + p.units);
    const committed = Math.max(this.lastCommitted, p.block);
    try {
      await replenish(p.auth, p.block, () => {
        this.db.putSync('nextUnit', next);
        this.db.putSync('committed', committed);
        this.db.removeSync(['pending', p.block]);
      });
    } catch (e) {
      throw new LinkError('ERR_LINK_STORE', `cannot finish the commit of block ${p.block}`, { cause: e });
    }
    this.next = next;
    this.lastCommitted = committed;
    this.pendingMap.delete(p.block);
    p.unitBytes.fill(0);
    p.auth.fill(0);
  }

  /** Destroys a pending block the peer never committed: none of its key is ever output. */
  async destroy(block: number): Promise<void> {
    const p = this.pendingMap.get(block);
    await this.db.remove(['pending', block]);
    this.pendingMap.delete(block);
    p?.unitBytes.fill(0);
    p?.auth.fill(0);
  }

  /** Erases what this end holds in memory: its subkeys and the pending blocks' key (close, zeroize). */
  wipe(): void {
    this.dek.fill(0);
    this.padKey.fill(0);
    for (const p of this.pendingMap.values()) {
      p.unitBytes.fill(0);
      p.auth.fill(0);
    }
  }

  async close(): Promise<void> {
    this.wipe();
    await this.root.close();
  }

  private seal(p: PendingBlock): SealedPending {
    const n = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.dek, n);
    c.setAAD(Buffer.from(`${p.block}/${p.u0}/${p.units}/${p.unitBytes.length}`));
    const ct = Buffer.concat([c.update(p.unitBytes), c.update(p.auth), c.final(), c.getAuthTag()]);
    return { block: p.block, u0: p.u0, units: p.units, unitLength: p.unitBytes.length, n, ct };
  }

  private unseal(s: SealedPending): PendingBlock {
    try {
      const d = createDecipheriv('aes-256-gcm', this.dek, s.n);
      d.setAAD(Buffer.from(`${s.block}/${s.u0}/${s.units}/${s.unitLength}`));
      d.setAuthTag(s.ct.subarray(s.ct.length - 16));
      const plain = Buffer.concat([d.update(s.ct.subarray(0, s.ct.length - 16)), d.final()]);
      return { block: s.block, u0: s.u0, units: s.units, unitBytes: new Uint8Array(plain.subarray(0, s.unitLength)), auth: new Uint8Array(plain.subarray(s.unitLength)) };
    } catch (e) {
      throw new LinkError('ERR_LINK_STORE', `pending block ${s.block} does not open with this node's storage key`, { cause: e });
    }
  }
}
