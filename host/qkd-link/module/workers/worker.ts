/**
 * A post-processing worker thread (started through worker-entry.mjs): runs a block's bulk work
 * (announcement, sifting, framing, packing), reconciliation and privacy-amplification jobs
 * (jobs.ts) with its own WASM kernel instances. One job at a time.
 */
import { randomBytes } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { Sifter } from '../../kernels/sift.js';
import { SlotDeltaCoder } from '../../kernels/deltas.js';
import { SessionMessageError } from '../../session/messages.js';
import { checkPacked2, checkPackedBits, countBits } from '../../session/packing.js';
import { KernelArgumentError } from '../../kernels/errors.js';
import { correctionsPerClass, floatSource, frameKey, packKept, paddedKey } from '../block/postprocess.js';
import { threadCpuReader } from '../../../bench/cpu-time.js';
import { CodeFamily } from '../../reconciliation/codebook.js';
import { AliceEndpoint, BobReconciler, type AlicePeer, type SyndromeMessage } from '../../reconciliation/reconcile.js';
import type { VerifyTag } from '../../reconciliation/verify.js';
import { ProtocolError } from '../../reconciliation/errors.js';
import { PrivacyAmplifier } from '../../kernels/pa.js';
import { ANSWER_ABORTED, ANSWER_READY, ANSWER_WAITING, type BlockJob, type Job, type JobResult, type PaJob, type ReconcileJob, type WorkerMessage } from './jobs.js';

const port = parentPort;
if (!port) throw new Error('worker.ts runs in a worker thread');

let family: CodeFamily | undefined;
let amplifier: PrivacyAmplifier | undefined;
let sifter: Sifter | undefined;
let deltas: SlotDeltaCoder | undefined;
/** Alice's frame preparation (its own kernels and randomness; no frames are kept open here). */
let aliceSide: AliceEndpoint | undefined;
/** Reconcilers by planned QBER: a link's QBER barely moves, so a few cover a long run. */
const reconcilers = new Map<number, BobReconciler>();

class PeerAborted extends Error {
  readonly code = 'ERR_LINK_PEER_LOST';
}

function post(m: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

/** This thread's CPU seconds, reported with each job's end. */
const threadCpu = threadCpuReader();

/** Cryptographic random bytes: squashing's random bits, Alice's punctured fill and hash points. */
const cryptoBytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

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

/** A kernel's refusal of a field that came from the peer is a protocol error of the block. */
function peerField<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof KernelArgumentError) throw new SessionMessageError(`${what}: ${e.message}`);
    throw e;
  }
}

/** The block's bulk work (jobs.ts BlockJob); its results' buffers are transferred back. */
function blockJob(job: BlockJob): { result: JobResult; transfer: ArrayBufferLike[] } {
  switch (job.kind) {
    case 'announce': {
      const { d, bb, value } = (deltas ??= new SlotDeltaCoder()).announce(job.start, job.segments, job.masks, cryptoBytes);
      const raw = job.segments.raw;
      return { result: { kind: 'announce', id: job.id, d, bb, value, raw, masks: job.masks }, transfer: [d.buffer, bb.buffer, value.buffer, raw.buffer, job.masks.buffer] };
    }
    case 'slots': {
      return { result: { kind: 'slots', id: job.id, parts: (deltas ??= new SlotDeltaCoder()).partition(job.d, job.s, job.e, job.n, job.parts) }, transfer: [] };
    }
    case 'sift-rx': {
      // Alice's keep flags and classes are the peer's: their sizes and values are checked as a message's.
      const n = job.value.length;
      checkPackedBits(job.keep, n, 'sift.reply keep');
      const kept = countBits(job.keep, n);
      checkPacked2(job.cls, kept, 'sift.reply cls');
      const s = peerField('sift.reply', () => (sifter ??= new Sifter()).siftKept(job.bb, job.value, job.keep, job.cls, n, kept));
      const { testPacked, ...sifted } = s;
      return { result: { kind: 'sift-rx', id: job.id, sifted, testPacked }, transfer: [s.key.buffer, s.test.buffer, testPacked.buffer] };
    }
    case 'sift-tx': {
      checkPackedBits(job.bobBasis, job.n, 'sift.announce bb');
      const k = (sifter ??= new Sifter());
      const { keep, cls, kept } = k.answerKeep(job.bobBasis, job.settings, job.n);
      // Bit 0 of a setting is Alice's value: the kernel reads only that bit.
      const { testPacked: _unused, ...sifted } = k.siftKept(job.bobBasis, job.settings, keep, cls, job.n, kept);
      return { result: { kind: 'sift-tx', id: job.id, keep, cls, sifted }, transfer: [keep.buffer, cls.buffer, sifted.key.buffer, sifted.test.buffer] };
    }
    case 'frames': {
      const fr = frameKey((family ??= CodeFamily.load()), job.qec, job.key.length);
      const padded = paddedKey(job.key, fr);
      if (!job.prepare) return { result: { kind: 'frames', id: job.id, padded }, transfer: [padded.buffer] };
      // Alice's frames made ready here (codeword with a fresh random fill, syndrome, tag): her main thread only registers them.
      const alice = (aliceSide ??= new AliceEndpoint(floatSource(cryptoBytes), undefined, job.prepare.epsCor, true));
      const prepared = Array.from({ length: fr.frames }, (_, f) => alice.prepare(fr.plan, padded.subarray(f * fr.k, (f + 1) * fr.k)));
      const transfer = [padded.buffer, ...prepared.flatMap((p) => [p.word.buffer, p.syndrome.buffer])];
      return { result: { kind: 'frames', id: job.id, padded, prepared }, transfer };
    }
    case 'pack': {
      const fr = frameKey((family ??= CodeFamily.load()), job.qec, job.keyBits);
      const packed = packKept(job.bits, fr, job.ok, job.kept);
      if (!job.reference || !job.bounds) return { result: { kind: 'pack', id: job.id, packed }, transfer: [packed.buffer] };
      // Errors corrected, per class, in the decoded frames (the key string is signal, decoy, vacuum).
      const errZ = correctionsPerClass(fr, job.ok, job.reference, job.bits, job.bounds);
      return { result: { kind: 'pack', id: job.id, packed, errZ }, transfer: [packed.buffer] };
    }
  }
}

port.on('message', (job: Job) => {
  try {
    if (job.kind === 'reconcile' || job.kind === 'pa') {
      const result = job.kind === 'reconcile' ? reconcile(job) : pa(job);
      const transfer = result.kind === 'reconcile' ? [result.corrected.buffer as ArrayBuffer] : result.kind === 'pa' ? [result.key.buffer as ArrayBuffer] : [];
      post({ kind: 'result', result, cpu: threadCpu() }, transfer);
      return;
    }
    const { result, transfer } = blockJob(job);
    post({ kind: 'result', result, cpu: threadCpu() }, transfer as ArrayBuffer[]);
  } catch (e) {
    const err = e as Error & { code?: string };
    // A malformed field of the peer's (caught while unpacking it here), or data of a block that does
    // not add up, is a protocol error of the block; reconciliation and amplification keep their codes.
    const blockJob = job.kind !== 'reconcile' && job.kind !== 'pa';
    const code = e instanceof SessionMessageError || (blockJob && typeof err.code !== 'string') ? 'ERR_LINK_PROTOCOL' : typeof err.code === 'string' ? err.code : 'ERR_LINK_WORKER';
    post({ kind: 'failed', id: job.id, code, message: err.message, cpu: threadCpu() });
  }
});
