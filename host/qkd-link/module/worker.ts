/**
 * A post-processing worker thread (started through worker-entry.mjs): runs reconciliation and
 * privacy-amplification jobs (jobs.ts) with its own WASM kernel instances. One job at a time.
 */
import { parentPort } from 'node:worker_threads';
import { CodeFamily } from '../reconciliation/codebook.js';
import { BobReconciler, type AlicePeer, type SyndromeMessage } from '../reconciliation/reconcile.js';
import type { VerifyTag } from '../reconciliation/verify.js';
import { ProtocolError } from '../reconciliation/errors.js';
import { PrivacyAmplifier } from '../kernels/pa.js';
import { ANSWER_ABORTED, ANSWER_READY, ANSWER_WAITING, type Job, type JobResult, type PaJob, type ReconcileJob, type WorkerMessage } from './jobs.js';

const port = parentPort;
if (!port) throw new Error('worker.ts runs in a worker thread');

let family: CodeFamily | undefined;
let amplifier: PrivacyAmplifier | undefined;
/** Reconcilers by planned QBER: a link's QBER barely moves, so a few cover a long run. */
const reconcilers = new Map<number, BobReconciler>();

class PeerAborted extends Error {
  readonly code = 'ERR_LINK_PEER_LOST';
}

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

/** AlicePeer over the answer slot: each call posts a question and sleeps until the main thread answers. */
class RemoteAlice implements AlicePeer {
  private readonly ctl: Int32Array;
  private readonly m: number;
  constructor(private readonly job: ReconcileJob, m: number) {
    this.ctl = new Int32Array(job.ctl);
    this.m = m;
  }

  syndrome(frame: number): SyndromeMessage {
    const { m } = this;
    const tb = this.job.tagBytes;
    const t = this.job.tags.subarray(frame * 2 * tb, (frame + 1) * 2 * tb);
    return { frame, codeId: this.job.codeId, punctured: this.job.punctured, syndrome: this.job.syndromes.subarray(frame * m, (frame + 1) * m), tag: { keys: t.subarray(0, tb), tag: t.subarray(tb) } };
  }

  private wait(): number {
    for (;;) {
      const r = Atomics.wait(this.ctl, 0, ANSWER_WAITING, 120_000);
      const state = Atomics.load(this.ctl, 0);
      if (state === ANSWER_READY) {
        const len = this.ctl[1]!;
        Atomics.store(this.ctl, 0, ANSWER_WAITING);
        return len;
      }
      if (state === ANSWER_ABORTED || r === 'timed-out') throw new PeerAborted('the block was abandoned while reconciling');
    }
  }

  reveal(frame: number, positions: Uint32Array): Uint8Array {
    post({ kind: 'question', question: { kind: 'ask', id: this.job.id, frame, positions: positions.slice() } });
    const len = this.wait();
    return new Uint8Array(this.job.data, 0, len).slice();
  }

  verify(frame: number): VerifyTag {
    // Every frame's tag came with the syndromes.
    throw new ProtocolError(`frame ${frame}: no verification tag came with its syndrome`);
  }
}

function reconcile(job: ReconcileJob): JobResult {
  family ??= CodeFamily.load();
  let bob = reconcilers.get(job.qec);
  if (!bob) {
    bob = new BobReconciler(family, job.qec);
    reconcilers.set(job.qec, bob);
    if (reconcilers.size > 4) reconcilers.delete(reconcilers.keys().next().value!);
  }
  const k = bob.plan.keyLength;
  const frames = Array.from({ length: job.frames }, (_, f) => ({ frame: f, key: job.keys.subarray(f * k, (f + 1) * k) }));
  const reports = bob.reconcile(frames, new RemoteAlice(job, bob.plan.code.m));
  const corrected = new Uint8Array(job.frames * k);
  const summaries = reports.map((r) => {
    if (r.key) corrected.set(r.key, r.frame * k);
    const { key: _key, ...rest } = r;
    return rest;
  });
  return { kind: 'reconcile', id: job.id, reports: summaries, corrected };
}

function pa(job: PaJob): JobResult {
  amplifier ??= new PrivacyAmplifier();
  return { kind: 'pa', id: job.id, key: amplifier.hash(job.seed, job.input, job.n, job.m) };
}

port.on('message', (job: Job) => {
  try {
    const result = job.kind === 'reconcile' ? reconcile(job) : pa(job);
    const transfer = result.kind === 'reconcile' ? [result.corrected.buffer as ArrayBuffer] : [result.key.buffer as ArrayBuffer];
    post({ kind: 'result', result }, transfer);
  } catch (e) {
    const err = e as Error & { code?: string };
    post({ kind: 'failed', id: job.id, code: typeof err.code === 'string' ? err.code : 'ERR_LINK_WORKER', message: err.message });
  }
});
