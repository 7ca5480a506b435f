/**
 * The jobs a module hands to its worker threads (worker.ts), and the shared-memory handshake by
 * which a worker asks the main thread a question and waits for the answer.
 *
 * Bob's reconciliation (reconciliation/reconcile.ts) talks to Alice through the synchronous
 * AlicePeer interface; over the link every blind round is a message round trip (syndromes and
 * frame tags come in one message beforehand). The decoder therefore runs in a worker, and each
 * reveal there posts the question to the main thread and blocks on Atomics.wait until the main
 * thread, having asked Alice over the channel, writes her answer into shared memory and wakes
 * it. Other blocks keep going on the main thread and on the other workers meanwhile.
 */
import type { FrameReport, PreparedFrame } from '../../reconciliation/reconcile.js';
import type { SlotDeltaRun, SlotSegments } from '../../session/packing.js';
import type { KeptStrings } from '../../kernels/sift.js';

/** Shared-memory answer slot: ctl[0] = state, ctl[1] = byte length of the answer. */
export const ANSWER_WAITING = 0;
export const ANSWER_READY = 1;
export const ANSWER_ABORTED = 2;
export const ANSWER_BYTES = 1 << 20;

export interface ReconcileJob {
  readonly kind: 'reconcile';
  readonly id: number;
  /** QBER the code was planned for (both ends plan from the same number). */
  readonly qec: number;
  readonly codeId: number;
  readonly punctured: number;
  readonly frames: number;
  /** Bob's key bits, one per byte, frames · keyLength. */
  readonly keys: Uint8Array;
  /** Alice's syndromes, one bit per byte, frames · m. */
  readonly syndromes: Uint8Array;
  /** Per frame: hash keys then tag, tagBytes each. */
  readonly tags: Uint8Array;
  readonly tagBytes: number;
  /** Int32Array(2) over it: the answer slot's control words. */
  readonly ctl: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
}

export interface PaJob {
  readonly kind: 'pa';
  readonly id: number;
  /** Packed seed of n + m - 1 bits, packed input of n bits. */
  readonly seed: Uint8Array;
  readonly input: Uint8Array;
  readonly n: number;
  readonly m: number;
}

/**
 * The bulk per-event and per-bit work of a block, off the main thread: at 1 GHz a block is
 * millions of events, and the main thread must keep reading the board (it cannot move: the serial
 * binding's poller runs on the main event loop) and moving the session along.
 */
export type BlockJob =
  /** Bob: squash his click masks, LEB128-encode the slots and pack the bases for sift.announce. */
  | { readonly kind: 'announce'; readonly id: number; readonly start: number; readonly segments: SlotSegments; readonly masks: Uint8Array }
  /**
   * Alice: check Bob's LEB128 slot deltas (sift.announce s, e, n, d): exactly n, every slot in
   * [s, e) (no event of another block); and cut them into `parts` nearly equal parts (one board
   * query each).
   */
  | { readonly kind: 'slots'; readonly id: number; readonly s: number; readonly e: number; readonly n: number; readonly d: Uint8Array; readonly parts: number }
  /** Bob: sift by Alice's reply (packed keep flags and classes); bb his announced bases, packed. */
  | { readonly kind: 'sift-rx'; readonly id: number; readonly bb: Uint8Array; readonly value: Uint8Array; readonly keep: Uint8Array; readonly cls: Uint8Array }
  /**
   * Alice: decide keep and class per event from her board's answer (its SETTINGS bytes, one per
   * event) and Bob's packed bases, and sift.
   */
  | { readonly kind: 'sift-tx'; readonly id: number; readonly n: number; readonly bobBasis: Uint8Array; readonly settings: Uint8Array }
  /**
   * Both: lay the key string out over the LDPC frames planned for qec (postprocess.ts paddedKey).
   * With `prepare` (Alice), also each frame's codeword, syndrome and first verification tag
   * (AliceEndpoint.prepare, ε_cor `prepare.epsCor`).
   */
  | { readonly kind: 'frames'; readonly id: number; readonly qec: number; readonly key: Uint8Array; readonly prepare?: { readonly epsCor: number } }
  /**
   * Both: pack the real bits of the decoded frames (postprocess.ts packKept). Bob also counts, per
   * intensity class, where his corrected bits differ from `reference` (his bits before decoding);
   * `bounds` are where the decoy and the vacuum bits start in the key string.
   */
  | { readonly kind: 'pack'; readonly id: number; readonly qec: number; readonly keyBits: number; readonly bits: Uint8Array; readonly ok: Uint8Array; readonly kept: number; readonly reference?: Uint8Array; readonly bounds?: readonly [number, number] };

export type Job = ReconcileJob | PaJob | BlockJob;

/** A block's sifted strings as a job returns them: the sift kernel's, counts signal, decoy, vacuum. */
export type SiftedStrings = Omit<KeptStrings, 'testPacked'>;

export type BlockJobResult =
  /** `masks` and the segments' `raw` come back (their buffers, for the receiver's next draft). */
  | { readonly kind: 'announce'; readonly id: number; readonly d: Uint8Array; readonly bb: Uint8Array; readonly value: Uint8Array; readonly raw: Uint8Array; readonly masks: Uint8Array }
  | { readonly kind: 'slots'; readonly id: number; readonly parts: readonly SlotDeltaRun[] }
  | { readonly kind: 'sift-rx'; readonly id: number; readonly sifted: SiftedStrings; readonly testPacked: Uint8Array }
  | { readonly kind: 'sift-tx'; readonly id: number; readonly keep: Uint8Array; readonly cls: Uint8Array; readonly sifted: SiftedStrings }
  | { readonly kind: 'frames'; readonly id: number; readonly padded: Uint8Array; readonly prepared?: readonly PreparedFrame[] }
  | { readonly kind: 'pack'; readonly id: number; readonly packed: Uint8Array; readonly errZ?: readonly [number, number, number] };

/** Frame reports without key bits; the corrected keys travel separately, frames · keyLength. */
export type FrameSummary = Omit<FrameReport, 'key'>;

export type JobResult =
  | { readonly kind: 'reconcile'; readonly id: number; readonly reports: FrameSummary[]; readonly corrected: Uint8Array }
  | { readonly kind: 'pa'; readonly id: number; readonly key: Uint8Array }
  | BlockJobResult;

/** A worker's question to the main thread, while it waits on the answer slot. */
export interface PeerQuestion {
  readonly kind: 'ask';
  readonly id: number;
  readonly frame: number;
  readonly positions: Uint32Array;
}

/** `cpu`: the worker thread's CPU seconds so far (Linux; absent elsewhere), reported with every job's end. */
export type WorkerMessage =
  | { readonly kind: 'result'; readonly result: JobResult; readonly cpu?: number }
  | { readonly kind: 'failed'; readonly id: number; readonly code: string; readonly message: string; readonly cpu?: number }
  | { readonly kind: 'question'; readonly question: PeerQuestion };

