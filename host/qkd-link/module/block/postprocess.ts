/**
 * The arithmetic both ends of a block do identically, so that they agree without saying more than
 * the protocol says: framing the key string for the LDPC code, the leak and what failed frames
 * cost, the finite-key length, and the layout of the final key (units, then authentication key).
 */
import { finiteKeyLength, type DecoySource, type FiniteKeyResult, type PerClass } from '../../estimation/finite-key.js';
import { verificationKeyCount } from '../../kernels/verify.js';
import { securityBudget, type SecurityBudget } from '../../estimation/security-budget.js';
import { HEADER_BYTES, MAX_PAYLOAD_BYTES } from '../../channel/frame.js';
import { MAX_REJECTED_PER_EPOCH } from '../../channel/ledger.js';
import { polyMacBound } from '../../channel/mac.js';
import { binaryEntropy } from '../../estimation/statistics.js';
import type { CodeFamily, FramePlan } from '../../reconciliation/codebook.js';
import type { LinkConfig } from '../config.js';
import { LinkError } from '../errors.js';

/** Frames the key string takes: the last one is padded with zeros both ends know. */
export interface Framing {
  readonly plan: FramePlan;
  readonly frames: number;
  /** Key bits per frame (k). */
  readonly k: number;
  /** Real (unpadded) key bits. */
  readonly keyBits: number;
  /** Rank i of a frame's real bits -> its position in the frame (FRAME_SCATTER). */
  readonly order: Uint32Array;
}

/**
 * The fixed pseudo-random order in which a frame's bits take its k key positions: rank i (the
 * i-th key-string bit dealt to the frame) sits at position order[i]. The key string is signal,
 * decoy, vacuum Z bits in that order, so without it the last few per cent of every frame would hold
 * the decoy bits (QBER about twice the signal's) and the vacuum bits (50 %): errors packed onto
 * consecutive key positions, i.e. onto the same structured part of the LDPC code, which belief
 * propagation cannot correct at an average QBER it corrects easily when the errors are spread
 * (measured: 28 of 34 frames failed at 1.9 % QBER, none once scattered). Part of the session's wire
 * layout (both ends compute it): Fisher-Yates over 0..k-1 driven by xorshift32 seeded with
 * FRAME_SCATTER_SEED ^ k.
 */
export const FRAME_SCATTER_SEED = 0x9e3779b9;
const orders = new Map<number, Uint32Array>();

export function frameOrder(k: number): Uint32Array {
  let o = orders.get(k);
  if (!o) {
    o = new Uint32Array(k);
    for (let i = 0; i < k; i++) o[i] = i;
    let x = (FRAME_SCATTER_SEED ^ k) >>> 0 || 1;
    for (let i = k - 1; i > 0; i--) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      const j = x % (i + 1);
      const t = o[i]!;
      o[i] = o[j]!;
      o[j] = t;
    }
    orders.set(k, o);
  }
  return o;
}

export function frameKey(family: CodeFamily, qec: number, keyBits: number): Framing {
  const plan = family.plan(qec);
  const k = plan.keyLength;
  return { plan, frames: Math.max(1, Math.ceil(keyBits / k)), k, keyBits, order: frameOrder(k) };
}

/**
 * The key string laid out over the frames, one bit per byte: key bit j goes to frame j mod F as
 * its rank floor(j / F), at position order[rank]; the rest of each frame is zeros both ends know.
 * Interleaving gives every frame the same share of signal, decoy and vacuum bits (so the block's
 * average QBER), and the scatter order spreads each class over the frame's code positions.
 */
export function paddedKey(key: Uint8Array, fr: Framing): Uint8Array {
  const out = new Uint8Array(fr.frames * fr.k);
  const F = fr.frames;
  const { order } = fr;
  // Frame by frame (key bit f + F·i is rank i of frame f): no division per bit.
  for (let f = 0; f < F; f++) {
    const r = realBits(fr, f);
    const base = f * fr.k;
    for (let i = 0, j = f; i < r; i++, j += F) out[base + order[i]!] = key[j]!;
  }
  return out;
}

/** Index in the key string of the real bit of rank i of frame f (at frame position fr.order[i]). */
export function keyIndex(fr: Framing, f: number, i: number): number {
  return f + fr.frames * i;
}

/** Real key bits in frame f (ranks 0 .. realBits - 1). */
export function realBits(fr: Framing, f: number): number {
  return Math.max(0, Math.min(fr.k, Math.ceil((fr.keyBits - f) / fr.frames)));
}

/**
 * What the kept key costs in the finite-key length beyond the decoy-state entropy, as λ_EC:
 * - each decoded frame's leak from Alice's messages (syndrome, revealed bits, tag), but at most
 *   its real bits (they are functions of those r bits and fresh randomness);
 * - every real bit of a failed frame, discarded: H_min(kept | E, its messages) >= H_min(all | E)
 *   - |discarded| (Alice's messages of the failed frame are functions of the discarded bits);
 * - Bob's messages (requests and success flags, reconciliation/disclosure.ts) of every frame,
 *   decoded or not, in full, and the end of his requests: they are functions of his string, so
 *   neither the cap nor the discarding covers them;
 * - the Z error counts Bob announces per class (log2(n + 1) bits each).
 */
export function keptLeak(fr: Framing, aliceLeak: readonly number[], bobLeak: readonly number[], endBits: number, ok: Uint8Array, nZ: PerClass): { leak: number; dropped: number; kept: number; ecLeak: number } {
  let ecLeak = endBits;
  let dropped = 0;
  let kept = 0;
  for (let f = 0; f < fr.frames; f++) {
    const r = realBits(fr, f);
    ecLeak += bobLeak[f]!;
    if (ok[f]) {
      ecLeak += Math.min(aliceLeak[f]!, r);
      kept += r;
    } else dropped += r;
  }
  const counts = Math.ceil(Math.log2(nZ.signal + 1)) + Math.ceil(Math.log2(nZ.decoy + 1)) + Math.ceil(Math.log2(nZ.vacuum + 1));
  return { leak: ecLeak + dropped + counts, dropped, kept, ecLeak };
}

/** The block's whole reconciliation disclosure, both directions, as both ends check it in `ec.done`. */
export function blockLeakTotal(aliceLeak: readonly number[], bobLeak: readonly number[], endBits: number): number {
  let total = endBits;
  for (let f = 0; f < aliceLeak.length; f++) total += aliceLeak[f]! + bobLeak[f]!;
  return total;
}

/**
 * f of the decoded frames: error-correction leak (tags excluded) over n·h(QBER) of their real
 * bits (not the zeros that pad a frame: they carry no key, so the syndrome bits spent on them
 * count against f).
 */
export function efficiency(fr: Framing, ecLeak: readonly number[], ok: Uint8Array, qber: number): number {
  let leak = 0;
  let bits = 0;
  for (let f = 0; f < fr.frames; f++) {
    if (!ok[f]) continue;
    leak += ecLeak[f]!;
    bits += realBits(fr, f);
  }
  return qber > 0 && bits > 0 ? leak / (bits * binaryEntropy(qber)) : 0;
}

/** The kept real bits, packed (bit i of byte k is bit 8k + i), frame by frame in rank order. */
export function packKept(bits: Uint8Array, fr: Framing, ok: Uint8Array, kept: number): Uint8Array {
  const out = new Uint8Array((kept + 7) >>> 3);
  const { order } = fr;
  let o = 0;
  for (let f = 0; f < fr.frames; f++) {
    if (!ok[f]) continue;
    const r = realBits(fr, f);
    const base = f * fr.k;
    // Branch-free: the bits are random.
    for (let i = 0; i < r; i++, o++) out[o >>> 3]! |= (bits[base + order[i]!]! & 1) << (o & 7);
  }
  return out;
}

/**
 * Per intensity class, the real bits of the decoded frames where `corrected` differs from
 * `reference`; `bounds` are where the decoy and the vacuum bits start in the key string.
 */
export function correctionsPerClass(fr: Framing, ok: Uint8Array, reference: Uint8Array, corrected: Uint8Array, bounds: readonly [number, number]): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  const F = fr.frames;
  const { order } = fr;
  for (let f = 0; f < F; f++) {
    if (!ok[f]) continue;
    const r = realBits(fr, f);
    const base = f * fr.k;
    // Rank i of frame f is key bit f + F·i: the classes are consecutive runs of ranks.
    const cut0 = Math.min(r, Math.max(0, Math.ceil((bounds[0] - f) / F)));
    const cut1 = Math.min(r, Math.max(cut0, Math.ceil((bounds[1] - f) / F)));
    let i = 0;
    for (const [c, end] of [[0, cut0], [1, cut1], [2, r]] as const) {
      let e = 0;
      for (; i < end; i++) {
        const at = base + order[i]!;
        e += (reference[at]! ^ corrected[at]!) & 1;
      }
      out[c] += e;
    }
  }
  return out;
}

export function decoySource(c: LinkConfig): DecoySource {
  const { mu, pMu } = c.protocol;
  return { intensities: { signal: mu[0], decoy: mu[1], vacuum: mu[2] }, probabilities: { signal: pMu[0], decoy: pMu[1], vacuum: pMu[2] } };
}

/** Keys (64 bits each) of the error-verification tag of `kept` corrected bits: both ends compute it. */
export function verificationKeys(c: LinkConfig, kept: number): number {
  return verificationKeyCount(c.security.epsCor, kept);
}

/**
 * The finite-key length of a block whose `kept` corrected bits are verified: the 64·t-bit tag
 * Alice discloses is subtracted whole (it is what leaves, not the log2(2/ε_cor) of the paper).
 */
export function secretLength(c: LinkConfig, nZ: PerClass, nX: PerClass, eX: PerClass, leakEC: number, kept: number): FiniteKeyResult {
  return finiteKeyLength({ source: decoySource(c), key: { detections: nZ }, test: { detections: nX, errors: eX }, epsSec: c.security.epsSec, epsCor: c.security.epsCor, leakEC, verificationTagBits: 64 * verificationKeys(c, kept), vacuumBound: c.security.vacuumBound });
}

/**
 * The block's ε (estimation/security-budget.ts). Its authentication attempts are bounded from the
 * pad bits the channel consumed while it was in flight (every frame costs at least one tag mask;
 * frames of blocks in flight alongside count too, which only over-counts) plus the rejected
 * forgeries the ledger allows against every epoch those frames may have used (both directions).
 */
export function blockSecurity(c: LinkConfig, authConsumedBits: number): SecurityBudget {
  const tagBytes = 8 * c.security.macKeys;
  const frames = Math.ceil(Math.max(0, authConsumedBits) / (8 * tagBytes));
  const epochs = Math.ceil(frames / c.security.framesPerKey) + 2;
  return securityBudget({
    epsSec: c.security.epsSec,
    epsCor: c.security.epsCor,
    epsAuthPerAttempt: polyMacBound(c.security.macKeys, HEADER_BYTES + MAX_PAYLOAD_BYTES),
    authAttempts: frames + MAX_REJECTED_PER_EPOCH * epochs,
  });
}

/** Uniform floats in [0, 1) from cryptographic bytes, for the reconciliation's punctured fill and hash points. */
export function floatSource(random: (n: number) => Uint8Array): () => number {
  let buf: Uint32Array = new Uint32Array(0);
  let i = 0;
  return () => {
    if (i >= buf.length) {
      const b = random(4096);
      buf = new Uint32Array(b.buffer, b.byteOffset, 1024);
      i = 0;
    }
    return buf[i++]! / 2 ** 32;
  };
}

/** Efficiency assumed when Alice checks, before error correction, whether a block can give key at all. */
export const PLANNING_EFFICIENCY = 1.2;

/** The QBER to plan error correction for: the key basis' measured rate when known, else the test basis', clamped to the codes. */
export function planningQber(family: CodeFamily, known: number | undefined, testQber: number): number {
  const cov = family.coverage();
  const q = known ?? testQber;
  const clamped = Math.min(cov.max, Math.max(cov.min * 1.01, q));
  return Number(clamped.toPrecision(4));
}

export function expectedLeak(n: number, qber: number): number {
  return PLANNING_EFFICIENCY * n * binaryEntropy(Math.min(0.5, Math.max(0, qber)));
}

/** Splits ℓ bits of final key: `units` whole units first, then every remaining whole byte for the ledger. */
export function splitFinalKey(key: Uint8Array, finalBits: number, units: number, unitBits: number): { unitBytes: Uint8Array; auth: Uint8Array } {
  const ub = (units * unitBits) / 8;
  const total = Math.floor(finalBits / 8);
  if (ub > total) throw new LinkError('ERR_LINK_PROTOCOL', `${units} units of ${unitBits} bits do not fit ${finalBits} bits`);
  return { unitBytes: key.slice(0, ub), auth: key.slice(ub, total) };
}

/** How many units a block of ℓ bits gives when `shareBits` go to the ledger first. */
export function unitsFor(finalBits: number, unitBits: number, shareBits: number): number {
  return Math.max(0, Math.floor((finalBits - shareBits) / unitBits));
}

export function qberOf(errors: PerClass, n: PerClass): PerClass & { all: number } {
  const q = (e: number, m: number) => (m > 0 ? e / m : 0);
  return {
    signal: q(errors.signal, n.signal),
    decoy: q(errors.decoy, n.decoy),
    vacuum: q(errors.vacuum, n.vacuum),
    all: q(errors.signal + errors.decoy + errors.vacuum, n.signal + n.decoy + n.vacuum),
  };
}
