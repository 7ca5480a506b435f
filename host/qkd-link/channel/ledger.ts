/**
 * The authentication key of a link: two pad streams (one per direction), each a sequence of
 * key chunks. Both ends append identical chunks in identical order (the pre-shared secret, then a
 * share of each distilled block), so every pad is the same at both ends.
 *
 * A stream is cut into epochs of `keyBytes + framesPerKey · tagBytes` bytes: the epoch's hash key
 * k, then one one-time tag mask r per frame. The pad of frame i is (k of epoch ⌊i / framesPerKey⌋,
 * r number i mod framesPerKey). One-time-padded tags let the hash key serve several frames
 * (Wegman and Carter 1981), so a frame costs about tagBytes of key instead of keyBytes + tagBytes.
 * framesPerKey = 1 gives a fresh hash key per frame.
 *
 * Why the hash key may be reused, accepted and rejected frames alike (a direct argument: the
 * hash of mac.ts is ε-almost-XOR-universal with a padded tag, not the ε-ASU₂ family of the usual
 * key-recycling theorems). Frame i of an epoch carries t_i = h_k(m_i) XOR r_i.
 * 1. Each mask r_i is uniform and used once, so the tags on the wire are uniform and independent
 *    of k: honest frames tell an adversary nothing about the hash key.
 * 2. A forgery (m', t') naming index j is accepted only if h_k(m') XOR h_k(m_j) = t' XOR t_j
 *    (frame j seen, m' ≠ m_j) or h_k(m') = t' XOR r_j (r_j unseen, probability 2^-8·tagBytes):
 *    for any choice of (m', t'), at most a fraction ε (mac.ts collisionBound: the polynomial's
 *    degree over 2^64, per key word) of the hash keys accept it.
 * 3. A rejected attempt tells the adversary only that k is not one of those keys. After q
 *    rejections k is uniform on at least a 1 - qε share of the keys, so the next attempt succeeds
 *    with probability at most ε / (1 - qε), and Q attempts against one key succeed with
 *    probability at most Qε (summing, as long as Qε < 1/2: ≤ 2^-81 here).
 * So the forgery probability of an epoch is at most (framesPerKey + MAX_REJECTED_PER_EPOCH) · ε:
 * the ledger counts the rejected attempts per epoch durably and retires an epoch (raises the
 * floor past it) once it has had MAX_REJECTED_PER_EPOCH of them. estimation/security-budget.ts
 * puts the resulting ε_auth into the link's budget.
 *
 * Forgery attempts cost no pads: a frame that fails verification does not move the floor (the
 * honest frame with that index is still accepted when it comes); only an epoch's retirement
 * skips pads, at most framesPerKey per MAX_REJECTED_PER_EPOCH attempts. Resyncs answering stale
 * hellos (channel.ts) are capped at RESYNCS_PER_FLOOR per value of the floor.
 *
 * Durability rules, so that no pad is ever used twice, even across crashes:
 * - the sender persists a reservation (`sendReserved`) before using a pad below it; after a
 *   restart it resumes at the reservation, burning the pads it may have used;
 * - the receiver persists `acceptFloor` ahead of the pads it accepts, so after a restart a
 *   replayed frame below the floor is refused.
 * Both are written a window at a time, so a durable write happens once per `window` frames.
 */
import type { Database, RootDatabase } from 'lmdb';
import { Direction } from './frame.js';
import { AuthKeyExhaustedError, ChannelReplayError } from './errors.js';

/** Bytes a sealed chunk adds (GCM nonce and tag). */
export const SEAL_OVERHEAD = 28;

/** Rejected forgery attempts an epoch's hash key may see before the epoch is retired. */
export const MAX_REJECTED_PER_EPOCH = 64;
/** Resyncs sent in answer to stale hellos while the floor stays where it is. */
export const RESYNCS_PER_FLOOR = 4;

interface Chunk {
  readonly firstByte: number;
  bytes: Uint8Array;
}

interface StreamState {
  chunks: Chunk[];
  endByte: number;
}

/**
 * Seals the pad chunks at rest (link-state.ts: AES-256-GCM under a subkey of the node storage
 * key), so that the pre-shared secret and the distilled shares are no plain LMDB values: once the
 * storage key is destroyed (zeroize) no copy on the disk, stale LMDB pages included, opens.
 */
export interface PadSealer {
  seal(ad: string, plain: Uint8Array): Uint8Array;
  /** Throws when `sealed` does not open under this key and associated data. */
  open(ad: string, sealed: Uint8Array): Uint8Array;
}

export interface LedgerOptions {
  readonly linkId: string;
  /** Bytes of the hash key of an epoch. */
  readonly keyBytes: number;
  /** Bytes of one tag mask. */
  readonly tagBytes: number;
  /** Frames that share one hash key (default 1). */
  readonly framesPerKey?: number;
  readonly sendDirection: Direction;
  /** The pre-shared secret: installed once, when the ledger is created. */
  readonly psk: Uint8Array;
  /** Frames per durable write of the send reservation and the accept floor (default 64). */
  readonly window?: number;
  /** Seals the pads at rest; without it they are stored as they are (tests of the ledger alone). */
  readonly sealer?: PadSealer;
}

export interface LedgerStats {
  readonly padBytes: number;
  readonly sendDirection: Direction;
  readonly nextSend: number;
  readonly acceptFloor: number;
  readonly remainingSendPads: number;
  readonly remainingReceivePads: number;
  readonly consumedBits: number;
}

export class AuthPadLedger {
  private readonly streams: [StreamState, StreamState] = [
    { chunks: [], endByte: 0 },
    { chunks: [], endByte: 0 },
  ];
  private nextSend = 0;
  private sendReserved = 0;
  private acceptFloor = 0;
  private acceptPersisted = 0;
  /** The durable write of the current send reservation: a pad below sendReserved is used only once it has resolved. */
  private reservation: Promise<unknown> = Promise.resolve();
  /** Rejected attempts per receive epoch (durable). */
  private readonly rejectedIn = new Map<number, number>();
  private resyncFloor = -1;
  private resyncsAtFloor = 0;

  private readonly linkId: string;
  /** Bytes of a frame's pad as pad() returns it: hash key, then tag mask. */
  readonly padBytes: number;
  readonly keyBytes: number;
  readonly tagBytes: number;
  readonly framesPerKey: number;
  private readonly epochBytes: number;
  private replenishedBlock = 0;

  private constructor(
    private readonly db: Database,
    o: LedgerOptions,
    readonly sendDirection: Direction,
    private readonly window: number,
  ) {
    this.linkId = o.linkId;
    this.keyBytes = o.keyBytes;
    this.tagBytes = o.tagBytes;
    this.framesPerKey = o.framesPerKey ?? 1;
    this.padBytes = o.keyBytes + o.tagBytes;
    this.epochBytes = o.keyBytes + this.framesPerKey * o.tagBytes;
  }

  /**
   * Opens (or creates) the ledger of link `linkId` in `root`. `psk` is installed once, the first
   * time the ledger is created; later opens ignore it (the stream has moved on). The pad layout
   * (key and tag sizes, frames per key) is fixed at creation: opening with another is refused.
   */
  static async open(root: RootDatabase, opts: LedgerOptions): Promise<AuthPadLedger> {
    for (const [k, v] of [['keyBytes', opts.keyBytes], ['tagBytes', opts.tagBytes], ['framesPerKey', opts.framesPerKey ?? 1]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`ledger ${k} = ${v}: expected a positive integer`);
    }
    const db = root.openDB({ name: `qkd-link-auth:${opts.linkId}` });
    const ledger = new AuthPadLedger(db, opts, opts.sendDirection, opts.window ?? 64);
    ledger.sealer = opts.sealer;
    const layout = `${opts.keyBytes}/${opts.tagBytes}/${ledger.framesPerKey}`;
    if (db.get('installed') !== true) {
      if (opts.psk.length < 2 * ledger.epochBytes) throw new RangeError(`pre-shared secret of ${opts.psk.length} bytes is too short: at least ${2 * ledger.epochBytes} (one epoch per direction)`);
      await db.transaction(() => {
        ledger.appendShares(opts.psk, true);
        db.put('installed', true);
        db.put('layout', layout);
        if (opts.sealer) db.put('sealed', true);
      });
    } else {
      const stored = db.get('layout') as string | undefined;
      if (stored !== undefined && stored !== layout) throw new RangeError(`ledger of link ${opts.linkId} was created with pad layout ${stored} (key/tag/frames per key), not ${layout}`);
      const sealed = db.get('sealed') === true;
      if (sealed && !opts.sealer) throw new RangeError(`ledger of link ${opts.linkId} is sealed: it opens only with the node storage key`);
      ledger.load(sealed);
      // A ledger from before pads were sealed: seal its chunks now, in one transaction.
      if (!sealed && opts.sealer) {
        await db.transaction(() => {
          for (const dir of [Direction.AliceToBob, Direction.BobToAlice]) for (const c of ledger.streams[dir].chunks) db.put(['stream', dir, c.firstByte], ledger.sealChunk(dir, c.firstByte, c.bytes));
          db.put('sealed', true);
        });
      }
    }
    return ledger;
  }

  /** Byte offset in a stream where frame `index`'s tag mask ends: everything below is needed up to that frame. */
  private endOf(index: number): number {
    const e = Math.floor(index / this.framesPerKey);
    const j = index - e * this.framesPerKey;
    return e * this.epochBytes + this.keyBytes + (j + 1) * this.tagBytes;
  }

  private sealer: PadSealer | undefined;

  private chunkAd(dir: Direction, firstByte: number, length: number): string {
    return `qkd-link-auth|${this.linkId}|${dir}|${firstByte}|${length}`;
  }

  private sealChunk(dir: Direction, firstByte: number, bytes: Uint8Array): Uint8Array {
    return this.sealer ? this.sealer.seal(this.chunkAd(dir, firstByte, bytes.length), bytes) : bytes;
  }

  private load(sealed: boolean): void {
    for (const dir of [Direction.AliceToBob, Direction.BobToAlice]) {
      const s = this.streams[dir];
      for (const { key, value } of this.db.getRange({ start: ['stream', dir], end: ['stream', dir + 1] })) {
        const stored = value as Uint8Array;
        const firstByte = (key as [string, number, number])[2];
        const bytes = sealed ? this.sealer!.open(this.chunkAd(dir, firstByte, stored.length - SEAL_OVERHEAD), stored) : new Uint8Array(stored);
        s.chunks.push({ firstByte, bytes });
        s.endByte = firstByte + bytes.length;
      }
    }
    // Resume beyond everything that may have been used before the restart.
    this.sendReserved = (this.db.get('sendReserved') as number | undefined) ?? 0;
    this.nextSend = this.sendReserved;
    this.acceptPersisted = (this.db.get('acceptFloor') as number | undefined) ?? 0;
    this.acceptFloor = this.acceptPersisted;
    this.replenishedBlock = (this.db.get('replenishedBlock') as number | undefined) ?? 0;
    for (const { key, value } of this.db.getRange({ start: ['rejected', 0], end: ['rejected', Number.MAX_SAFE_INTEGER] })) {
      this.rejectedIn.set((key as [string, number])[1], value as number);
    }
  }

  /** Splits new key material between the two directions and appends it (inside a transaction when `inTxn`). */
  private appendShares(material: Uint8Array, inTxn: boolean): void {
    const half = material.length >>> 1;
    const parts: [Uint8Array, Uint8Array] = [material.subarray(0, half), material.subarray(half, 2 * half)];
    for (const dir of [Direction.AliceToBob, Direction.BobToAlice]) {
      const s = this.streams[dir];
      const bytes = new Uint8Array(parts[dir]);
      const chunk = { firstByte: s.endByte, bytes };
      if (inTxn) this.db.put(['stream', dir, chunk.firstByte], this.sealChunk(dir, chunk.firstByte, bytes));
      s.chunks.push(chunk);
      s.endByte += bytes.length;
    }
  }

  /**
   * Adds distilled key to both pad streams; both ends must call this with identical bytes in the
   * same order. With `block`, the material is that block's share and is added at most once
   * (a restarted end may finish a commit twice); `extra` runs in the same transaction.
   */
  async replenish(material: Uint8Array, block?: number, extra?: () => void): Promise<boolean> {
    if (block !== undefined && block <= this.replenishedBlock) {
      if (extra) await this.db.transaction(extra);
      return false;
    }
    await this.db.transaction(() => {
      this.appendShares(material, true);
      if (block !== undefined) this.db.put('replenishedBlock', block);
      extra?.();
    });
    if (block !== undefined) this.replenishedBlock = block;
    return true;
  }

  /** Erases the pads held in memory (close, zeroize); the ledger is unusable afterwards. */
  wipe(): void {
    for (const s of this.streams) {
      for (const c of s.chunks) c.bytes.fill(0);
      s.chunks = [];
      s.endByte = 0;
    }
  }

  /** The last block whose share was added (0: none). */
  get lastReplenishedBlock(): number {
    return this.replenishedBlock;
  }

  /** The pad of frame `index` of `dir` (epoch hash key, then tag mask), or AuthKeyExhaustedError. */
  pad(dir: Direction, index: number): Uint8Array {
    const s = this.streams[dir];
    const end = this.endOf(index);
    if (end > s.endByte) throw new AuthKeyExhaustedError(Direction[dir], index);
    const epochStart = Math.floor(index / this.framesPerKey) * this.epochBytes;
    const out = new Uint8Array(this.padBytes);
    this.read(s, epochStart, out.subarray(0, this.keyBytes), dir, index);
    this.read(s, end - this.tagBytes, out.subarray(this.keyBytes), dir, index);
    return out;
  }

  private read(s: StreamState, start: number, out: Uint8Array, dir: Direction, index: number): void {
    const end = start + out.length;
    let filled = 0;
    for (const c of s.chunks) {
      const cEnd = c.firstByte + c.bytes.length;
      if (cEnd <= start + filled) continue;
      if (c.firstByte >= end) break;
      const from = start + filled - c.firstByte;
      const n = Math.min(cEnd, end) - (start + filled);
      out.set(c.bytes.subarray(from, from + n), filled);
      filled += n;
      if (filled === out.length) break;
    }
    if (filled !== out.length) throw new AuthKeyExhaustedError(Direction[dir], index);
  }

  /**
   * Reserves the next pad of our send direction and returns its index once the reservation
   * covering it is on disk (flushed, not only committed: the environment is opened durably).
   * The index is taken before the first await, so concurrent callers never share one.
   */
  async nextSendIndex(): Promise<number> {
    const index = this.nextSend;
    // Check availability before reserving so an exhausted stream does not advance.
    this.pad(this.sendDirection, index);
    this.nextSend = index + 1;
    if (index >= this.sendReserved) this.reserve(index + this.window);
    // The latest reservation write covers this index (writes commit in order).
    await this.reservation;
    this.collect(this.sendDirection, index + 1);
    return index;
  }

  private reserve(upTo: number): void {
    this.sendReserved = upTo;
    this.reservation = this.db.put('sendReserved', upTo);
  }

  /** Jumps our send index forward (the peer's floor is above it after a restart). */
  async skipSendTo(index: number): Promise<void> {
    if (index <= this.nextSend) return;
    this.nextSend = index;
    if (index > this.sendReserved) this.reserve(index);
    await this.reservation;
    this.collect(this.sendDirection, index);
  }

  /**
   * Counts, durably, a frame naming pad `index` of the peer's direction whose tag failed, against
   * that pad's epoch; once the epoch has had MAX_REJECTED_PER_EPOCH, retires it: the floor moves to
   * the next epoch (returns true; the peer must be told). Nothing else moves.
   */
  async rejected(index: number): Promise<boolean> {
    const epoch = Math.floor(index / this.framesPerKey);
    const n = (this.rejectedIn.get(epoch) ?? 0) + 1;
    this.rejectedIn.set(epoch, n);
    await this.db.put(['rejected', epoch], n);
    if (n < MAX_REJECTED_PER_EPOCH) return false;
    const next = (epoch + 1) * this.framesPerKey;
    if (next <= this.acceptFloor) return false;
    this.acceptFloor = next;
    if (this.acceptFloor > this.acceptPersisted) {
      this.acceptPersisted = this.acceptFloor + this.window;
      await this.db.put('acceptFloor', this.acceptPersisted);
    }
    this.collect(this.receiveDirection, this.acceptFloor);
    return true;
  }

  /** Rejected attempts counted against the epoch of pad `index` of the peer's direction. */
  rejectedAttempts(index: number): number {
    return this.rejectedIn.get(Math.floor(index / this.framesPerKey)) ?? 0;
  }

  /** Whether a Resync may answer one more stale hello at the current floor (and counts it). */
  takeResync(): boolean {
    if (this.resyncFloor !== this.acceptFloor) {
      this.resyncFloor = this.acceptFloor;
      this.resyncsAtFloor = 0;
    }
    if (this.resyncsAtFloor >= RESYNCS_PER_FLOOR) return false;
    this.resyncsAtFloor++;
    return true;
  }

  get receiveDirection(): Direction {
    return this.sendDirection === Direction.AliceToBob ? Direction.BobToAlice : Direction.AliceToBob;
  }

  /** The lowest pad index of the peer's direction that may still be accepted. */
  get floor(): number {
    return this.acceptFloor;
  }

  /** Refuses an index that is used (replay or reorder) before any pad is looked at. */
  checkFresh(index: number): void {
    if (index < this.acceptFloor) throw new ChannelReplayError(index, this.acceptFloor);
  }

  /** Marks pads below and at `index` of the peer's direction used, durably, after its tag verified. */
  async accept(index: number): Promise<void> {
    this.checkFresh(index);
    this.acceptFloor = index + 1;
    if (this.acceptFloor > this.acceptPersisted) {
      this.acceptPersisted = this.acceptFloor + this.window;
      await this.db.put('acceptFloor', this.acceptPersisted);
    }
    this.collect(this.receiveDirection, this.acceptFloor);
  }

  /** Destroys chunks every byte of which only frames below `belowPad` need: used key does not stay on disk. */
  private collect(dir: Direction, belowPad: number): void {
    const s = this.streams[dir];
    // The epoch of belowPad still needs its hash key.
    const limit = Math.floor(belowPad / this.framesPerKey) * this.epochBytes;
    while (s.chunks.length > 1) {
      const c = s.chunks[0]!;
      if (c.firstByte + c.bytes.length > limit) break;
      c.bytes.fill(0);
      s.chunks.shift();
      void this.db.remove(['stream', dir, c.firstByte]);
    }
    if (dir === this.receiveDirection) {
      // Attempts against epochs below the floor no longer matter.
      const below = Math.floor(belowPad / this.framesPerKey);
      for (const e of this.rejectedIn.keys()) {
        if (e >= below) continue;
        this.rejectedIn.delete(e);
        void this.db.remove(['rejected', e]);
      }
    }
  }

  /** Frames a stream of `bytes` bytes can authenticate. */
  private framesIn(bytes: number): number {
    const whole = Math.floor(bytes / this.epochBytes);
    const rest = bytes - whole * this.epochBytes;
    return whole * this.framesPerKey + Math.max(0, Math.floor((rest - this.keyBytes) / this.tagBytes));
  }

  /** Key bytes the first `frames` frames of a direction use. */
  private bytesFor(frames: number): number {
    return frames === 0 ? 0 : this.endOf(frames - 1);
  }

  stats(): LedgerStats {
    const send = this.streams[this.sendDirection];
    const recv = this.streams[this.receiveDirection];
    return {
      padBytes: this.padBytes,
      sendDirection: this.sendDirection,
      nextSend: this.nextSend,
      acceptFloor: this.acceptFloor,
      remainingSendPads: Math.max(0, this.framesIn(send.endByte) - this.nextSend),
      remainingReceivePads: Math.max(0, this.framesIn(recv.endByte) - this.acceptFloor),
      consumedBits: 8 * (this.bytesFor(this.nextSend) + this.bytesFor(this.acceptFloor)),
    };
  }
}
