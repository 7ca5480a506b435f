/**
 * One-way syndrome reconciliation with blind rounds, both ends.
 *
 * Alice (AliceEndpoint) holds the reference key: per frame she sends the syndrome of her word,
 * answers requests to reveal bits, and finally sends a verification tag. Bob (BobReconciler)
 * decodes frames in the WASM decoder (BOB_LANES at once, each lane on its own clock): when a
 * lane's decoding stalls he asks Alice to reveal more (first punctured bits, then key bits in a
 * public order) and carries on from where the decoder was,
 * instead of discarding the frame. Every disclosed bit is counted, Bob's requests and success flags
 * too (disclosure.ts).
 *
 * The two ends talk through the AlicePeer interface; here it is called in-process (tests, bench),
 * over the link it is carried by the authenticated classical channel.
 */
import { CodeFamily, type FramePlan } from './codebook.js';
import { LaneDecoder, LLR_KNOWN, channelLlr } from './decoder.js';
import { binaryEntropy } from './design.js';
import { DisclosureLedger, keyRevealOrder } from './disclosure.js';
import { FrameLengthError, ProtocolError } from './errors.js';
import { DEFAULT_EPS_COR, FrameVerifier, type VerifyTag } from './verify.js';
import type { LoadOptions } from '../kernels/loader.js';

/** Alice's opening message for a frame. */
export interface SyndromeMessage {
  readonly frame: number;
  readonly codeId: number;
  readonly punctured: number;
  /** One bit per byte, m of them. */
  readonly syndrome: Uint8Array;
  /**
   * The frame's verification tag, sent with the syndrome to save a round trip per frame (an
   * endpoint opened with `tagWithSyndrome`). Its keys are drawn before Bob decodes but
   * independently of everything the decoder sees, so a wrong decoding still passes with
   * probability at most ε_cor; every check of the frame uses it, and its bits count once.
   */
  readonly tag?: VerifyTag;
}

/** What Bob needs from Alice; each call is one message exchange. */
export interface AlicePeer {
  syndrome(frame: number): SyndromeMessage;
  /** Values of Alice's word at the given code positions (punctured or key positions only). */
  reveal(frame: number, positions: Uint32Array): Uint8Array;
  /** Sent once Bob reports success: fresh hash keys and Alice's tag. */
  verify(frame: number): VerifyTag;
}

interface AliceFrame {
  readonly plan: FramePlan;
  readonly word: Uint8Array;
  readonly key: Uint8Array;
  readonly syndrome: Uint8Array;
  /** Tag for the next verify, drawn ahead (its keys stay secret until sent, so still fresh). */
  nextTag: VerifyTag | undefined;
}

/** A frame made ready for Alice's side (AliceEndpoint.prepare), possibly on another thread. */
export interface PreparedFrame {
  readonly word: Uint8Array;
  readonly syndrome: Uint8Array;
  readonly tag: VerifyTag | undefined;
}

/** Alice's side. `random` must be a cryptographic source in production (punctured fill, hash points). */
export class AliceEndpoint implements AlicePeer {
  private readonly frames = new Map<number, AliceFrame>();
  private readonly encoders = new Map<number, LaneDecoder>();
  private readonly ranks = new Map<number, Int32Array>();

  private readonly verifier: FrameVerifier;

  /**
   * `epsCor` bounds, per frame, the chance that a wrong decoding passes verification. With
   * `tagWithSyndrome` the syndrome message carries the frame's tag (SyndromeMessage.tag).
   */
  constructor(private readonly random: () => number, private readonly options?: LoadOptions, private readonly epsCor = DEFAULT_EPS_COR, private readonly tagWithSyndrome = false) {
    this.verifier = new FrameVerifier(options);
  }

  /**
   * Registers a frame of key bits (one per byte, plan.keyLength of them). `prepared` is what
   * prepare() gave for the same plan and key elsewhere (a worker thread), so this thread need not
   * compute the codeword and syndrome.
   */
  open(frame: number, plan: FramePlan, key: Uint8Array, prepared?: PreparedFrame): void {
    if (key.length !== plan.keyLength) throw new FrameLengthError('key', key.length, plan.keyLength);
    if (this.frames.has(frame)) throw new ProtocolError(`frame ${frame} is already open`);
    const p = prepared ?? this.prepare(plan, key);
    if (p.word.length !== plan.code.n) throw new FrameLengthError('word', p.word.length, plan.code.n);
    if (p.syndrome.length !== plan.code.m) throw new FrameLengthError('syndrome', p.syndrome.length, plan.code.m);
    this.frames.set(frame, { plan, word: p.word, key, syndrome: p.syndrome, nextTag: p.tag });
  }

  /**
   * A frame's codeword (key bits at their positions, a random fill of the punctured ones), its
   * syndrome and its first verification tag: computed when the frame is ready, not when Bob asks.
   */
  prepare(plan: FramePlan, key: Uint8Array): PreparedFrame {
    if (key.length !== plan.keyLength) throw new FrameLengthError('key', key.length, plan.keyLength);
    const { code } = plan;
    const word = new Uint8Array(code.n); // shortened positions stay 0
    for (let j = 0; j < key.length; j++) word[plan.keyPositions[j]!] = key[j]! & 1;
    for (let i = 0; i < plan.punctured; i++) word[code.punctureOrder[i]!] = this.random() < 0.5 ? 1 : 0;
    return { word, syndrome: this.encoder(plan).syndrome(word), tag: this.verifier.makeTag(key, this.random, this.epsCor) };
  }

  private get(frame: number): AliceFrame {
    const f = this.frames.get(frame);
    if (!f) throw new ProtocolError(`frame ${frame} is not open`);
    return f;
  }

  private encoder(plan: FramePlan): LaneDecoder {
    let e = this.encoders.get(plan.code.id);
    if (!e) this.encoders.set(plan.code.id, (e = new LaneDecoder(plan.code, this.options, undefined, 1)));
    return e;
  }

  syndrome(frame: number): SyndromeMessage {
    const f = this.get(frame);
    const base = { frame, codeId: f.plan.code.id, punctured: f.plan.punctured, syndrome: f.syndrome };
    return this.tagWithSyndrome && f.nextTag ? { ...base, tag: f.nextTag } : base;
  }

  reveal(frame: number, positions: Uint32Array): Uint8Array {
    const f = this.get(frame);
    const { code } = f.plan;
    const rank = this.rankOf(f.plan);
    const out = new Uint8Array(positions.length);
    for (let i = 0; i < positions.length; i++) {
      const v = positions[i]!;
      if (v >= code.n) throw new ProtocolError(`reveal of position ${v} outside the code`);
      if (rank[v]! >= f.plan.punctured) throw new ProtocolError(`position ${v} is shortened, not secret`);
      out[i] = f.word[v]!;
    }
    return out;
  }

  /** Position -> index in the puncturing order (shortened ones >= plan.punctured), -1 for key positions. */
  private rankOf(plan: FramePlan): Int32Array {
    let r = this.ranks.get(plan.code.id);
    if (!r) {
      r = new Int32Array(plan.code.n).fill(-1);
      plan.code.punctureOrder.forEach((v, i) => { r![v] = i; });
      this.ranks.set(plan.code.id, r);
    }
    return r;
  }

  verify(frame: number): VerifyTag {
    const f = this.get(frame);
    const tag = f.nextTag ?? this.verifier.makeTag(f.key, this.random, this.epsCor);
    f.nextTag = undefined; // a second verification of the frame gets new keys
    return tag;
  }

  close(frame: number): void {
    this.frames.delete(frame);
  }
}

export interface BlindOptions {
  /** Code length n of the frames (a length the family has; 2^16 by default). */
  readonly frameBits?: number;
  /** Starting leak as a multiple of k*h(QBER) for every code; default: each code's calibrated start (calibration.ts). */
  readonly startEfficiency?: number;
  /** Bits revealed per blind round, as a fraction of k*h(QBER); default: the plan's calibrated step, else 1 %. */
  readonly revealStep?: number;
  /** Iterations without a new lowest unsatisfied-check count before a blind round. */
  readonly patience?: number;
  /** Iterations of one round before a blind round regardless. */
  readonly roundIterations?: number;
  /** Iterations per frame before it is given up. */
  readonly maxIterations?: number;
  /** Leak (as a multiple of k*h) beyond which the frame is given up rather than revealed further. */
  readonly maxEfficiency?: number;
  /** Blind rounds per doubling of the reveal step (default 4). */
  readonly revealGrowth?: number;
  /** A fixed plan (code and starting puncturing, e.g. from CodeFamily.planFor) instead of the family's choice. */
  readonly plan?: FramePlan;
}

export interface FrameReport {
  readonly frame: number;
  readonly ok: boolean;
  readonly codeId: number;
  readonly keyLength: number;
  /** Syndrome bits sent (m). */
  readonly syndromeBits: number;
  /** Punctured bits never revealed (their randomness cancels that many syndrome bits). */
  readonly punctured: number;
  readonly revealedPunctured: number;
  readonly revealedKey: number;
  /** Verification tag bits received (64 per hash key; one key per tag at the default ε_cor). */
  readonly verifyBits: number;
  /**
   * Bob's messages about the frame (its requests to Alice and its success flag; disclosure.ts),
   * charged because they depend on his string.
   */
  readonly bobBits: number;
  /** Bits disclosed by error correction: syndromeBits - punctured + revealedKey + bobBits. */
  readonly ecLeak: number;
  /** Everything disclosed about the key: ecLeak + verifyBits (what privacy amplification removes). */
  readonly leak: number;
  /**
   * Reconciliation efficiency ecLeak / (keyLength * h(qber)): the usual f. The verification tag
   * is not in f (it is usually quoted apart); it is disclosed all the same, so it is in `leak`
   * and in efficiencyTotal, and the link subtracts its bits whole.
   */
  readonly efficiency: number;
  /** leak / (keyLength * h(qber)), tag included. */
  readonly efficiencyTotal: number;
  readonly iterations: number;
  readonly rounds: number;
  /** Bob's corrected key (one bit per byte) when ok; never set for a failed frame. */
  readonly key?: Uint8Array;
  /** Why a frame failed: 'budget' (gave up) or 'verify' (its last decoding was a wrong word). */
  readonly failure?: 'budget' | 'verify';
}

export interface BobFrame {
  readonly frame: number;
  /** Bob's key bits, one per byte, plan.keyLength of them. */
  readonly key: Uint8Array;
}

interface Lane {
  readonly frame: number;
  /** Index in the frames being reconciled. */
  readonly index: number;
  punctured: number;
  revealedPunctured: number;
  revealedKey: number;
  iterations: number;
  roundIterations: number;
  best: number;
  sinceBest: number;
  rounds: number;
  /** Tag bits received so far. */
  tagBits: number;
  /** The tag that came with the syndrome, if any: used for every check of the frame. */
  readonly tag: VerifyTag | undefined;
}

/**
 * Frames Bob decodes at once. The kernel's work is per frame (sixteen checks per instruction), so
 * more lanes do not make an iteration cheaper per frame; one frame at a time, iteration after
 * iteration, keeps its messages and posteriors (~0.6 MB at n = 2^16) in the core's L2 cache,
 * where lanes taken in turn would stream theirs from L3: about 1.4x faster per iteration.
 */
const BOB_LANES = 1;

/**
 * Leak (a multiple of k·h) past which Bob gives a frame up. A failed frame loses all its k key
 * bits and still costs Bob's messages, while a frame decoded at 2 k·h keeps most of them (at 0.5 %
 * QBER that leak is 9 % of k): so the budget only bounds the work on a frame that cannot decode.
 * At 1.6 (before) 7 of 128 frames at 0.5 % QBER were given up with secret punctured bits left;
 * at 2.0 none (the ldpc bench), for +0.012 in the mean f of decoded frames.
 */
export const MAX_EFFICIENCY = 2.0;

export class BobReconciler {
  readonly plan: FramePlan;
  private readonly decoder: LaneDecoder;
  private readonly o: Required<Omit<BlindOptions, 'frameBits' | 'plan' | 'startEfficiency' | 'revealStep'>>;
  /** Bits revealed per blind round as a fraction of k·h: the caller's, else the plan's (calibrated), else 1 %. */
  private readonly revealStep: number;
  private readonly entropy: number;
  private readonly verifier: FrameVerifier;

  constructor(family: CodeFamily, qber: number, options: BlindOptions = {}, load?: LoadOptions) {
    this.o = {
      patience: options.patience ?? 4,
      roundIterations: options.roundIterations ?? 40,
      maxIterations: options.maxIterations ?? 400,
      maxEfficiency: options.maxEfficiency ?? MAX_EFFICIENCY,
      revealGrowth: options.revealGrowth ?? 4,
    };
    this.plan = options.plan ?? family.plan(qber, options.startEfficiency, options.frameBits);
    this.revealStep = options.revealStep ?? this.plan.revealStep ?? 0.01;
    this.decoder = new LaneDecoder(this.plan.code, load, undefined, BOB_LANES);
    this.decoder.setLayout(this.plan.keyPositions, this.plan.code.punctureOrder);
    this.verifier = new FrameVerifier(load);
    this.entropy = binaryEntropy(qber);
  }

  get target(): string {
    return this.decoder.target;
  }

  /** Reconciles frames against Alice; returns one report per frame, in input order. */
  reconcile(frames: readonly BobFrame[], alice: AlicePeer): FrameReport[] {
    const { plan } = this;
    const { code } = plan;
    for (const f of frames) if (f.key.length !== plan.keyLength) throw new FrameLengthError('key', f.key.length, plan.keyLength);
    const dec = this.decoder;
    const lc = channelLlr(plan.qber);
    const kh = plan.keyLength * this.entropy;
    const step = Math.max(1, Math.round(this.revealStep * kh));
    const reports = new Map<number, FrameReport>();
    const lanes: (Lane | undefined)[] = new Array(dec.lanes).fill(undefined);
    // Both ends count the disclosure the same way; Bob's side of it is counted here (by index in `frames`).
    const ledger = new DisclosureLedger(plan, Math.max(1, frames.length));
    let next = 0;

    const finish = (slot: number, lane: Lane, ok: boolean, failure?: 'budget' | 'verify', key?: Uint8Array) => {
      const verifyBits = lane.tagBits;
      const bobBits = ledger.bobBits(lane.index);
      const ecLeak = ledger.aliceBits(lane.index) + bobBits;
      const leak = ecLeak + verifyBits;
      reports.set(lane.frame, {
        frame: lane.frame, ok, codeId: code.id, keyLength: plan.keyLength, syndromeBits: code.m, punctured: lane.punctured,
        revealedPunctured: lane.revealedPunctured, revealedKey: lane.revealedKey, verifyBits, bobBits, ecLeak, leak,
        efficiency: ecLeak / kh, efficiencyTotal: leak / kh, iterations: lane.iterations, rounds: lane.rounds,
        ...(ok && key ? { key } : {}), ...(failure ? { failure } : {}),
      });
      lanes[slot] = undefined;
    };

    const blindRound = (slot: number, lane: Lane): boolean => {
      const leakNow = ledger.aliceBits(lane.index) + ledger.bobBits(lane.index) + lane.tagBits;
      // Fine steps first; a frame still failing after several rounds is far off, so the step
      // doubles every four rounds rather than spending hundreds of iterations on small reveals.
      const size = step * 2 ** Math.floor(lane.rounds / this.o.revealGrowth);
      if (lane.iterations >= this.o.maxIterations || leakNow + size > this.o.maxEfficiency * kh) return false;
      let positions: Uint32Array;
      if (lane.punctured > 0) {
        const take = Math.min(size, lane.punctured);
        positions = code.punctureOrder.slice(lane.punctured - take, lane.punctured);
      } else {
        // Key bits in the public order: a set Bob chose would cost more than it tells (disclosure.ts).
        const order = keyRevealOrder(plan);
        positions = order.slice(lane.revealedKey, Math.min(order.length, lane.revealedKey + size));
        if (positions.length === 0) return false;
      }
      ledger.reveal(lane.index, positions);
      const values = alice.reveal(lane.frame, positions);
      if (values.length !== positions.length) throw new ProtocolError(`reveal answered ${values.length} values for ${positions.length} positions`);
      for (let i = 0; i < positions.length; i++) {
        dec.setPosterior(slot, positions[i]!, values[i] ? -LLR_KNOWN : LLR_KNOWN);
      }
      if (lane.punctured > 0) { lane.punctured -= positions.length; lane.revealedPunctured += positions.length; } else lane.revealedKey += positions.length;
      lane.rounds++;
      lane.best = Infinity;
      lane.sinceBest = 0;
      lane.roundIterations = 0;
      return true;
    };

    for (;;) {
      for (let slot = 0; slot < dec.lanes && next < frames.length; slot++) {
        if (lanes[slot]) continue;
        const index = next++;
        const f = frames[index]!;
        const msg = alice.syndrome(f.frame);
        if (msg.codeId !== code.id || msg.punctured !== plan.punctured) throw new ProtocolError(`frame ${f.frame}: Alice used code ${msg.codeId}/${msg.punctured}, Bob expects ${code.id}/${plan.punctured}`);
        dec.loadFrame(slot, f.key, lc, plan.punctured, msg.syndrome);
        // A tag sent with the syndrome is disclosed whether or not the frame decodes: count it now.
        const tagBits = msg.tag ? 8 * msg.tag.tag.length : 0;
        lanes[slot] = { frame: f.frame, index, punctured: plan.punctured, revealedPunctured: 0, revealedKey: 0, iterations: 0, roundIterations: 0, best: Infinity, sinceBest: 0, rounds: 0, tagBits, tag: msg.tag };
      }
      let active = 0;
      for (let slot = 0; slot < dec.lanes; slot++) if (lanes[slot]) active |= 1 << slot;
      if (active === 0) break;
      let unsat = dec.iterate(active);
      // The running estimate is free; confirm a candidate zero with an exact syndrome pass.
      for (let slot = 0; slot < dec.lanes; slot++) {
        if (lanes[slot] && unsat[slot] === 0) { unsat = dec.unsatisfied(active); break; }
      }
      for (let slot = 0; slot < dec.lanes; slot++) {
        const lane = lanes[slot];
        if (!lane) continue;
        lane.iterations++;
        lane.roundIterations++;
        const u = unsat[slot]!;
        if (u === 0) {
          const key = dec.extractKey(slot);
          if (!lane.tag) ledger.tagRequest(lane.index);
          const tag = lane.tag ?? alice.verify(lane.frame);
          if (!lane.tag) lane.tagBits += 8 * tag.tag.length;
          if (this.verifier.check(key, tag)) {
            finish(slot, lane, true, undefined, key);
          } else if (!blindRound(slot, lane)) {
            // The decoder settled on a wrong word that satisfies the syndrome (a near-codeword of
            // the code): reveal more and go on, until the budget runs out.
            finish(slot, lane, false, 'verify');
          }
          continue;
        }
        if (u < lane.best) { lane.best = u; lane.sinceBest = 0; } else lane.sinceBest++;
        if (lane.sinceBest >= this.o.patience || lane.roundIterations >= this.o.roundIterations) {
          if (!blindRound(slot, lane)) finish(slot, lane, false, 'budget');
        }
      }
    }
    return frames.map((f) => reports.get(f.frame)!);
  }

}

/** Convenience: reconciles whole keys in-process (both ends here), e.g. for tests and the bench. */
export function reconcileLocal(family: CodeFamily, qber: number, aliceKeys: readonly Uint8Array[], bobKeys: readonly Uint8Array[], random: () => number, options?: BlindOptions, load?: LoadOptions): FrameReport[] {
  const bob = new BobReconciler(family, qber, options, load);
  const alice = new AliceEndpoint(random, load);
  aliceKeys.forEach((k, i) => alice.open(i, bob.plan, k));
  return bob.reconcile(bobKeys.map((key, frame) => ({ frame, key })), alice);
}
