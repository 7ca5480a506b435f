/**
 * The authentication key of a link: two pad streams (one per direction), each a sequence of
 * key chunks. Pad i of a direction is bytes [i·padBytes, (i+1)·padBytes) of its stream. Both ends
 * append identical chunks in identical order (the pre-shared secret, then a share of each
 * distilled block), so pad i is the same at both ends.
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

interface Chunk {
  readonly firstByte: number;
  bytes: Uint8Array;
}

interface StreamState {
  chunks: Chunk[];
  endByte: number;
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

  private constructor(
    private readonly db: Database,
    readonly padBytes: number,
    readonly sendDirection: Direction,
    private readonly window: number,
  ) {}

  /**
   * Opens (or creates) the ledger of link `linkId` in `root`. `psk` is installed once, the first
   * time the ledger is created; later opens ignore it (the stream has moved on).
   */
  static async open(
    root: RootDatabase,
    opts: { linkId: string; padBytes: number; sendDirection: Direction; psk: Uint8Array; window?: number },
  ): Promise<AuthPadLedger> {
    const db = root.openDB({ name: `qkd-link-auth:${opts.linkId}` });
    const ledger = new AuthPadLedger(db, opts.padBytes, opts.sendDirection, opts.window ?? 64);
    if (db.get('installed') !== true) {
      if (opts.psk.length < 4 * opts.padBytes) throw new RangeError(`pre-shared secret of ${opts.psk.length} bytes is too short: at least ${4 * opts.padBytes}`);
      await db.transaction(() => {
        ledger.appendShares(opts.psk, true);
        db.put('installed', true);
      });
    } else {
      ledger.load();
    }
    return ledger;
  }

  private load(): void {
    for (const dir of [Direction.AliceToBob, Direction.BobToAlice]) {
      const s = this.streams[dir];
      for (const { key, value } of this.db.getRange({ start: ['stream', dir], end: ['stream', dir + 1] })) {
        const bytes = value as Uint8Array;
        const firstByte = (key as [string, number, number])[2];
        s.chunks.push({ firstByte, bytes: new Uint8Array(bytes) });
        s.endByte = firstByte + bytes.length;
      }
    }
    // Resume beyond everything that may have been used before the restart.
    this.sendReserved = (this.db.get('sendReserved') as number | undefined) ?? 0;
    this.nextSend = this.sendReserved;
    this.acceptPersisted = (this.db.get('acceptFloor') as number | undefined) ?? 0;
    this.acceptFloor = this.acceptPersisted;
  }

  /** Splits new key material between the two directions and appends it (inside a transaction when `inTxn`). */
  private appendShares(material: Uint8Array, inTxn: boolean): void {
    const half = material.length >>> 1;
    const parts: [Uint8Array, Uint8Array] = [material.subarray(0, half), material.subarray(half, 2 * half)];
    for (const dir of [Direction.AliceToBob, Direction.BobToAlice]) {
      const s = this.streams[dir];
      const bytes = new Uint8Array(parts[dir]);
      const chunk = { firstByte: s.endByte, bytes };
      if (inTxn) this.db.put(['stream', dir, chunk.firstByte], bytes);
      s.chunks.push(chunk);
      s.endByte += bytes.length;
    }
  }

  /** Adds distilled key to both pad streams; both ends must call this with identical bytes. */
  async replenish(material: Uint8Array): Promise<void> {
    await this.db.transaction(() => this.appendShares(material, true));
  }

  /** The pad at `index` of `dir`, or AuthKeyExhaustedError. */
  pad(dir: Direction, index: number): Uint8Array {
    const s = this.streams[dir];
    const start = index * this.padBytes;
    const end = start + this.padBytes;
    if (end > s.endByte) throw new AuthKeyExhaustedError(Direction[dir], index);
    const out = new Uint8Array(this.padBytes);
    let filled = 0;
    for (const c of s.chunks) {
      const cEnd = c.firstByte + c.bytes.length;
      if (cEnd <= start + filled) continue;
      if (c.firstByte >= end) break;
      const from = start + filled - c.firstByte;
      const n = Math.min(cEnd, end) - (start + filled);
      out.set(c.bytes.subarray(from, from + n), filled);
      filled += n;
      if (filled === this.padBytes) break;
    }
    if (filled !== this.padBytes) throw new AuthKeyExhaustedError(Direction[dir], index);
    return out;
  }

  /** Reserves the next pad of our send direction, durably, and returns its index. */
  async nextSendIndex(): Promise<number> {
    const index = this.nextSend;
    // Check availability before reserving so an exhausted stream does not advance.
    this.pad(this.sendDirection, index);
    if (index >= this.sendReserved) {
      this.sendReserved = index + this.window;
      await this.db.put('sendReserved', this.sendReserved);
    }
    this.nextSend = index + 1;
    this.collect(this.sendDirection, this.nextSend);
    return index;
  }

  /** Jumps our send index forward (the peer's floor is above it after a restart). */
  async skipSendTo(index: number): Promise<void> {
    if (index <= this.nextSend) return;
    this.nextSend = index;
    if (index > this.sendReserved) {
      this.sendReserved = index;
      await this.db.put('sendReserved', index);
    }
    this.collect(this.sendDirection, index);
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

  /** Destroys chunks every pad of which is below `belowPad`: used key does not stay on disk. */
  private collect(dir: Direction, belowPad: number): void {
    const s = this.streams[dir];
    const limit = belowPad * this.padBytes;
    while (s.chunks.length > 1) {
      const c = s.chunks[0]!;
      if (c.firstByte + c.bytes.length > limit) break;
      c.bytes.fill(0);
      s.chunks.shift();
      void this.db.remove(['stream', dir, c.firstByte]);
    }
  }

  stats(): LedgerStats {
    const send = this.streams[this.sendDirection];
    const recv = this.streams[this.receiveDirection];
    return {
      padBytes: this.padBytes,
      sendDirection: this.sendDirection,
      nextSend: this.nextSend,
      acceptFloor: this.acceptFloor,
      remainingSendPads: Math.max(0, Math.floor(send.endByte / this.padBytes) - this.nextSend),
      remainingReceivePads: Math.max(0, Math.floor(recv.endByte / this.padBytes) - this.acceptFloor),
      consumedBits: 8 * this.padBytes * (this.nextSend + this.acceptFloor),
    };
  }
}
