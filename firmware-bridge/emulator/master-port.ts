/**
 * The board's end of the cable: the pty master. Reads through a libuv TTY stream; writes with
 * non-blocking write(2) on the same descriptor (two libuv handles on one fd would fight over its
 * epoll registration), queueing what the pty cannot take yet. `writable` and onDrain give the
 * board back-pressure, as a USB endpoint that NAKs does.
 */
import { closeSync, writeSync } from 'node:fs';
import tty from 'node:tty';
import type { Pty } from './pty.js';

/** Above this many queued bytes the port reports itself not writable. */
const HIGH_WATER = 256 * 1024;

export class MasterPort {
  private readonly input: tty.ReadStream;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private spins = 0;
  bytesWritten = 0;

  constructor(
    private readonly pty: Pty,
    onData: (chunk: Uint8Array) => void,
    private readonly onDrain: () => void,
  ) {
    this.input = new tty.ReadStream(pty.master);
    this.input.on('data', (d: Buffer) => onData(d));
    // EIO while no host has the slave open cannot happen (we hold the slave), so any error means the pty is gone.
    this.input.on('error', () => this.close());
  }

  get writable(): boolean {
    return !this.closed && this.queued < HIGH_WATER;
  }

  get pendingBytes(): number {
    return this.queued;
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (this.timer === undefined) this.flush();
  }

  private flush(): void {
    this.timer = undefined;
    while (this.queue.length > 0 && !this.closed) {
      const b = this.queue[0]!;
      let n: number;
      const want = b.length - this.head;
      try {
        n = writeSync(this.pty.master, b, this.head, want);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return this.retry();
        this.close();
        return;
      }
      this.spins = 0;
      this.bytesWritten += n;
      this.head += n;
      this.queued -= n;
      if (this.head === b.length) {
        this.queue.shift();
        this.head = 0;
      }
      // A short write means the pty is full: the next write would only throw EAGAIN (an exception
      // each, a measurable part of the board's CPU at full rate), so wait as after one.
      if (n < want) return this.retry();
    }
    if (!this.closed) this.onDrain();
  }

  /**
   * The pty is full (its ~12 KiB drain in well under a millisecond at full rate): retry once at
   * once, then every millisecond. Spinning costs more than it gains: each EAGAIN is a thrown exception.
   */
  private retry(): void {
    this.timer = this.spins++ < 1 ? (setImmediate(() => this.flush()) as unknown as NodeJS.Timeout) : setTimeout(() => this.flush(), 1);
  }

  /** Unplugs: the host's reads fail as on a USB disconnect. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      clearImmediate(this.timer as unknown as NodeJS.Immediate);
    }
    this.queue = [];
    this.queued = 0;
    this.input.destroy(); // closes the master descriptor
    try {
      closeSync(this.pty.slaveHold);
    } catch {
      // already closed
    }
  }
}
