/**
 * A fixed pool of post-processing worker threads. Jobs queue until a worker is free; each worker
 * runs one job at a time, so independent blocks reconcile and amplify in parallel on the
 * machine's cores while the main thread keeps the channel, the board and the stores moving.
 */
import { Worker } from 'node:worker_threads';
import { LinkError, type LinkErrorCode } from '../errors.js';
import { ANSWER_ABORTED, ANSWER_BYTES, ANSWER_READY, type BlockJob, type BlockJobResult, type Job, type JobResult, type PeerQuestion, type WorkerMessage } from './jobs.js';

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/** Answers a worker's questions for one reconciliation job (Bob asks Alice over the channel). */
export interface PeerAnswers {
  ask(frame: number, positions: Uint32Array): Promise<Uint8Array>;
}

interface Slot {
  readonly worker: Worker;
  busy: Running | undefined;
  /** The thread's CPU seconds as of its last finished job. */
  cpu: number;
}

/** Codes a worker's failure keeps; anything else is a reconciliation failure, as before. */
const PASSED_CODES: ReadonlySet<string> = new Set<LinkErrorCode>(['ERR_LINK_PROTOCOL', 'ERR_LINK_PEER_LOST']);

interface Running {
  readonly job: Job;
  readonly transfer?: readonly ArrayBuffer[];
  readonly resolve: (r: JobResult) => void;
  readonly reject: (e: Error) => void;
  readonly answers?: PeerAnswers;
  readonly ctl?: Int32Array;
  readonly data?: SharedArrayBuffer;
  aborted: boolean;
}

type Pending = Omit<Running, 'aborted'>;

/** Handle on a running reconciliation: abort() wakes the worker so the job fails at once. */
export interface ReconcileHandle {
  readonly result: Promise<Extract<JobResult, { kind: 'reconcile' }>>;
  abort(): void;
}

let nextId = 1;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;
  /** CPU seconds of workers that have exited. */
  private retiredCpu = 0;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(ENTRY);
    const slot: Slot = { worker, busy: undefined, cpu: 0 };
    worker.on('message', (m: WorkerMessage) => this.onMessage(slot, m));
    worker.on('error', (e) => {
      const r = slot.busy;
      slot.busy = undefined;
      r?.reject(new LinkError('ERR_LINK_STORE', `worker thread failed: ${e.message}`, { cause: e }));
    });
    worker.on('exit', () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      this.retiredCpu += slot.cpu;
      const r = slot.busy;
      slot.busy = undefined;
      r?.reject(new LinkError('ERR_LINK_STOPPED', 'worker thread exited'));
      if (!this.closed) this.spawn();
      this.pump();
    });
    this.slots.push(slot);
    return slot;
  }

  /**
   * CPU seconds the pool's threads have used, as of each one's last finished job (Linux; 0
   * elsewhere): what post-processing costs this end beyond its main thread.
   */
  cpuSeconds(): number {
    return this.slots.reduce((s, w) => s + w.cpu, this.retiredCpu);
  }

  private onMessage(slot: Slot, m: WorkerMessage): void {
    if (m.kind !== 'question' && m.cpu !== undefined) slot.cpu = m.cpu;
    const r = slot.busy;
    if (!r) return;
    switch (m.kind) {
      case 'question':
        void this.answer(r, m.question);
        return;
      case 'result':
        slot.busy = undefined;
        r.resolve(m.result);
        this.pump();
        return;
      case 'failed':
        slot.busy = undefined;
        r.reject(new LinkError(r.aborted ? 'ERR_LINK_PEER_LOST' : PASSED_CODES.has(m.code) ? (m.code as LinkErrorCode) : 'ERR_LINK_RECONCILIATION', m.message));
        this.pump();
        return;
    }
  }

  private async answer(r: Running, q: PeerQuestion): Promise<void> {
    const ctl = r.ctl!;
    const data = r.data!;
    try {
      if (r.aborted) throw new Error('aborted');
      const bits = await r.answers!.ask(q.frame, q.positions);
      if (bits.length > ANSWER_BYTES) throw new Error('answer too large');
      new Uint8Array(data, 0, bits.length).set(bits);
      ctl[1] = bits.length;
      Atomics.store(ctl, 0, r.aborted ? ANSWER_ABORTED : ANSWER_READY);
    } catch {
      r.aborted = true;
      Atomics.store(ctl, 0, ANSWER_ABORTED);
    }
    Atomics.notify(ctl, 0);
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const next = this.queue.shift();
      if (!next) return;
      const running: Running = { ...next, aborted: false };
      slot.busy = running;
      slot.worker.postMessage(next.job, next.transfer ? [...next.transfer] : []);
    }
  }

  private submit(job: Job, answers?: PeerAnswers, ctl?: Int32Array, data?: SharedArrayBuffer, transfer?: readonly ArrayBuffer[]): { promise: Promise<JobResult>; pending: () => Running | Pending | undefined } {
    if (this.closed) return { promise: Promise.reject(new LinkError('ERR_LINK_STOPPED', 'worker pool is closed')), pending: () => undefined };
    let entry!: Pending;
    const promise = new Promise<JobResult>((resolve, reject) => {
      entry = { job, resolve, reject, ...(answers ? { answers } : {}), ...(ctl ? { ctl } : {}), ...(data ? { data } : {}), ...(transfer ? { transfer } : {}) };
    });
    this.queue.push(entry);
    this.pump();
    return {
      promise,
      pending: () => this.slots.find((s) => s.busy?.job === job)?.busy ?? this.queue.find((p) => p.job === job),
    };
  }

  /** Bob's decoding of a block's frames, asking Alice through `answers`. */
  reconcile(job: Omit<Extract<Job, { kind: 'reconcile' }>, 'id' | 'ctl' | 'data' | 'kind'>, answers: PeerAnswers): ReconcileHandle {
    const ctlBuf = new SharedArrayBuffer(8);
    const data = new SharedArrayBuffer(ANSWER_BYTES);
    const ctl = new Int32Array(ctlBuf);
    const full: Job = { ...job, kind: 'reconcile', id: nextId++, ctl: ctlBuf, data };
    const { promise, pending } = this.submit(full, answers, ctl, data);
    return {
      result: promise as Promise<Extract<JobResult, { kind: 'reconcile' }>>,
      abort: () => {
        const p = pending();
        if (p && 'aborted' in p) p.aborted = true;
        else if (p) {
          const i = this.queue.indexOf(p);
          if (i >= 0) this.queue.splice(i, 1);
          p.reject(new LinkError('ERR_LINK_PEER_LOST', 'the block was abandoned before reconciliation started'));
        }
        Atomics.store(ctl, 0, ANSWER_ABORTED);
        Atomics.notify(ctl, 0);
      },
    };
  }

  /**
   * A block's bulk work (jobs.ts BlockJob). Buffers in `transfer` move to the worker: the caller
   * must not use them afterwards.
   */
  async run<K extends BlockJob['kind']>(job: Omit<Extract<BlockJob, { kind: K }>, 'id'> & { readonly kind: K }, transfer: readonly ArrayBuffer[] = []): Promise<Extract<BlockJobResult, { kind: K }>> {
    const full = { ...job, id: nextId++ } as unknown as BlockJob;
    const r = await this.submit(full, undefined, undefined, undefined, transfer).promise;
    if (r.kind !== job.kind) throw new LinkError('ERR_LINK_PROTOCOL', `worker answered a ${r.kind} job for a ${job.kind} job`);
    return r as Extract<BlockJobResult, { kind: K }>;
  }

  /** Toeplitz hashing of a packed n-bit input to m bits. */
  async amplify(seed: Uint8Array, input: Uint8Array, n: number, m: number): Promise<Uint8Array> {
    const r = await this.submit({ kind: 'pa', id: nextId++, seed, input, n, m }).promise;
    if (r.kind !== 'pa') throw new LinkError('ERR_LINK_PROTOCOL', 'worker answered another job');
    return r.key;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new LinkError('ERR_LINK_STOPPED', 'worker pool closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
