/**
 * Per-block plumbing shared by both ends: the mailbox a block's messages queue in (in protocol
 * order; an `abort` from the peer fails the block), the commit gate that lets blocks finish in
 * block order (unit indexes are assigned at commit, so both ends assign the same), and the
 * stage clock of the block report.
 */
import type { MessageOf, MessageType, SessionMessage } from '../../session/messages.js';
import { LinkError, peerCode } from '../errors.js';
import type { StageTimes } from '../diagnostics.js';

export class BlockMailbox {
  private readonly queue: SessionMessage[] = [];
  private waiter: { readonly types: readonly MessageType[]; resolve(m: SessionMessage): void; reject(e: LinkError): void; timer: NodeJS.Timeout } | undefined;
  private failure: LinkError | undefined;

  constructor(readonly block: number, private readonly timeoutMs: number) {}

  get failed(): LinkError | undefined {
    return this.failure;
  }

  push(m: SessionMessage): void {
    if (this.failure) return;
    if (m.t === 'abort') {
      this.fail(new LinkError(peerCode(m.code), `peer abandoned block ${this.block}: ${m.why}`, { fromPeer: true }));
      return;
    }
    this.queue.push(m);
    this.deliver();
  }

  /** Fails the block: the pending and every later next() rejects with `err`. */
  fail(err: LinkError): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  /** The next message of the block, which must be one of `types`. */
  next<T extends MessageType>(types: readonly T[]): Promise<MessageOf<T>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new LinkError('ERR_LINK_PROTOCOL', `block ${this.block}: two waits at once`));
    return new Promise<MessageOf<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.fail(new LinkError('ERR_LINK_TIMEOUT', `block ${this.block}: no ${types.join(' or ')} from the peer within ${this.timeoutMs} ms`));
        reject(this.failure);
      }, this.timeoutMs);
      this.waiter = { types, resolve: resolve as (m: SessionMessage) => void, reject, timer };
      this.deliver();
    });
  }

  private deliver(): void {
    const w = this.waiter;
    if (!w || this.queue.length === 0) return;
    const m = this.queue.shift()!;
    this.waiter = undefined;
    clearTimeout(w.timer);
    if (!w.types.includes(m.t)) {
      const err = new LinkError('ERR_LINK_PROTOCOL', `block ${this.block}: peer sent ${m.t}, expected ${w.types.join(' or ')}`);
      this.fail(err);
      w.reject(err);
      return;
    }
    w.resolve(m);
  }
}

/** Lets blocks commit strictly in block order; blocks that end otherwise leave the line. */
export class CommitGate {
  private readonly active = new Set<number>();
  private waiters: Array<{ block: number; resolve(): void }> = [];

  enter(block: number): void {
    this.active.add(block);
  }

  /** Resolves when every block before `block` has left. */
  turn(block: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ block, resolve });
      this.wake();
    });
  }

  leave(block: number): void {
    this.active.delete(block);
    this.wake();
  }

  get size(): number {
    return this.active.size;
  }

  private wake(): void {
    let min = Infinity;
    for (const b of this.active) min = Math.min(min, b);
    const ready = this.waiters.filter((w) => w.block <= min);
    this.waiters = this.waiters.filter((w) => w.block > min);
    for (const w of ready) w.resolve();
  }
}

export class StageClock {
  readonly stageMs: StageTimes = { sift: 0, pe: 0, ec: 0, verify: 0, pa: 0, commit: 0 };
  private readonly t0 = performance.now();
  private mark = this.t0;

  /** Charges the time since the last mark to `stage`. */
  lap(stage: keyof StageTimes): void {
    const now = performance.now();
    this.stageMs[stage] += now - this.mark;
    this.mark = now;
  }

  get totalMs(): number {
    return performance.now() - this.t0;
  }

  rounded(): StageTimes {
    const r = (x: number) => Math.round(x * 10) / 10;
    const s = this.stageMs;
    return { sift: r(s.sift), pe: r(s.pe), ec: r(s.ec), verify: r(s.verify), pa: r(s.pa), commit: r(s.commit) };
  }
}
