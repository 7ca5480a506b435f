/**
 * The receiver's side of the driver: one acquisition's detection stream in batch order, with
 * credit-based back-pressure, resend of missing batches and gaps for what is lost for good.
 * The driver (board-driver.ts) feeds it what arrives and sends what it asks for.
 */
import { BridgeClosedError, type BridgeError } from '../errors.js';
import type { DetectionBatch } from '../protocol/detections.js';
import type * as msg from '../protocol/messages.js';

/** Slots for which no detection data will ever arrive. */
export class DetectionGap {
  readonly kind = 'gap' as const;
  constructor(
    readonly acq: number,
    /** Batches [fromBatch, toBatch) are lost. */
    readonly fromBatch: number,
    readonly toBatch: number,
    /** Their slots [slotStart, slotEnd). */
    readonly slotStart: number,
    readonly slotEnd: number,
    /** 'lost': the board no longer had them; 'board-reset': the board restarted, the acquisition ended. */
    readonly reason: 'lost' | 'board-reset',
  ) {}
}

export type AcquisitionItem = DetectionBatch | DetectionGap;

/** What an acquisition needs of its driver. */
export interface AcquisitionHost {
  readonly resendTimeoutMs: number;
  sendCredit(acq: number, upTo: number): void;
  sendResend(acq: number, from: number, to: number): void;
  noteGap(g: DetectionGap): void;
  noteDuplicate(index: number): void;
  noteDelivered(b: DetectionBatch): void;
}

/**
 * One acquisition of a receiver: an async iterable of DetectionBatch and DetectionGap in batch
 * order. Pulling from it is what grants the board credit, so a slow consumer slows the stream
 * (and, past the board's FIFO, costs events that the batches then report as overflow).
 */
export class Acquisition implements AsyncIterable<AcquisitionItem> {
  readonly acq: number;
  firstSlot = 0;
  finished = false;
  private expected = 0;
  /** End of the slot range delivered so far. */
  private slotCursor = 0;
  private readonly stash = new Map<number, DetectionBatch>();
  private highestSeen = 0;
  private lost: Array<{ from: number; to: number; e: number }> = [];
  private readonly queue: AcquisitionItem[] = [];
  private waiter: ((v: void) => void) | undefined;
  private consumed = 0;
  private creditSent = 0;
  private lastCreditAt = 0;
  private lastResendAt = 0;
  private lastResendFrom = -1;
  private total = -1;
  private error: BridgeError | undefined;

  constructor(
    private readonly driver: AcquisitionHost,
    acq: number,
    private readonly window: number,
  ) {
    this.acq = acq;
    this.creditSent = window;
  }

  /** @internal */
  begin(firstSlot: number): void {
    this.firstSlot = firstSlot;
    this.slotCursor = firstSlot;
  }

  /** @internal Called by stop(): the acquisition has `batches` batches in all. */
  stopAt(batches: number): void {
    // Not a reason to ask for batches: the ACK overtakes batches still waiting for credit. The
    // board's TELEMETRY nextBatch, sent after what it counts, reveals a lost last batch.
    this.total = batches;
    this.maybeFinish();
  }

  /** @internal */
  end(err: BridgeError): void {
    if (this.finished) return;
    this.error = err;
    this.finished = true;
    this.wake();
  }

  /** @internal */
  onBatch(b: DetectionBatch): void {
    if (b.index < this.expected || this.stash.has(b.index)) {
      this.driver.noteDuplicate(b.index);
      return;
    }
    this.highestSeen = Math.max(this.highestSeen, b.index + 1);
    if (b.index === this.expected) this.enqueue(b);
    else this.stash.set(b.index, b);
    this.drain();
    this.checkMissing();
  }

  /** @internal */
  onLost(l: msg.BatchLost): void {
    this.lost.push({ from: l.from, to: l.to, e: l.e });
    this.highestSeen = Math.max(this.highestSeen, l.to);
    this.drain();
  }

  /** @internal The board has sent batches below `next`. */
  onNextBatch(next: number): void {
    if (next > this.highestSeen) {
      this.highestSeen = next;
      this.checkMissing();
    }
  }

  /** @internal */
  afterReconnect(resumed: boolean): void {
    if (this.finished) return;
    if (!resumed) {
      const g = new DetectionGap(this.acq, this.expected, Math.max(this.expected, this.highestSeen, this.total), this.slotCursor, Infinity, 'board-reset');
      this.driver.noteGap(g);
      this.queue.push(g);
      this.finished = true;
      this.wake();
      return;
    }
    // Whatever was in flight when the line went down is asked for again; the board answers
    // with what it still holds and BATCH_LOST for the rest.
    this.creditSent = this.consumed + this.window;
    this.driver.sendCredit(this.acq, this.creditSent);
    this.lastResendAt = 0;
    this.highestSeen = Math.max(this.highestSeen, this.expected + 1);
    // Ask at once, whatever was asked before the line went down.
    this.lastResendFrom = -1;
    this.checkMissing();
  }

  /** @internal Asks for batches that should have arrived (gap before a later batch, or the board says it sent them). */
  checkMissing(): void {
    if (this.finished && this.queue.length === 0) return;
    const now = Date.now();
    if (now - this.lastCreditAt > 500 && !this.finished) {
      this.lastCreditAt = now;
      this.driver.sendCredit(this.acq, this.creditSent);
    }
    if (this.expected >= this.highestSeen) return;
    if (this.stash.has(this.expected)) return;
    if (this.lastResendFrom === this.expected && now - this.lastResendAt < this.driver.resendTimeoutMs) return;
    let to = this.expected + 1;
    while (to < this.highestSeen && !this.stash.has(to) && to - this.expected < 256) to++;
    this.lastResendAt = now;
    this.lastResendFrom = this.expected;
    this.driver.sendResend(this.acq, this.expected, to);
  }

  private enqueue(item: DetectionBatch): void {
    this.queue.push(item);
    this.driver.noteDelivered(item);
    this.expected = item.index + 1;
    this.slotCursor = item.slotEnd;
    this.wake();
  }

  private drain(): void {
    for (;;) {
      const b = this.stash.get(this.expected);
      if (b) {
        this.stash.delete(this.expected);
        this.enqueue(b);
        continue;
      }
      const l = this.lost.find((x) => x.from <= this.expected && this.expected < x.to);
      if (l) {
        const g = new DetectionGap(this.acq, this.expected, l.to, this.slotCursor, l.e, 'lost');
        this.driver.noteGap(g);
        this.queue.push(g);
        this.expected = l.to;
        this.slotCursor = l.e;
        this.lost = this.lost.filter((x) => x.to > this.expected);
        this.wake();
        continue;
      }
      break;
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.total >= 0 && this.expected >= this.total && !this.finished) {
      this.finished = true;
      this.wake();
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AcquisitionItem> {
    for (;;) {
      while (this.queue.length > 0) {
        const item = this.queue.shift()!;
        if (item.kind === 'batch') {
          this.consumed = item.index + 1;
          // Grant credit in quarter-window steps: fewer frames, the board never starves.
          if (this.consumed + this.window - this.creditSent >= this.window / 4) {
            this.creditSent = this.consumed + this.window;
            this.driver.sendCredit(this.acq, this.creditSent);
          }
        }
        yield item;
      }
      if (this.finished) {
        if (this.error && !(this.error instanceof BridgeClosedError)) throw this.error;
        return;
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}
