/**
 * What the reconciliation of one block discloses, counted identically at both ends.
 *
 * Alice's messages (syndrome, revealed bits) are functions of her frame and fresh randomness;
 * they cost m − (punctured bits never revealed) + (revealed key bits) per frame. Bob's messages
 * are not free either: which frame asks, when, for which positions, and whether a frame decoded
 * all depend on his string, i.e. on the error pattern x ⊕ y. Eve may know y on the events she
 * caused (a click she injected on a vacuum pulse), so e tells her x there: Bob's messages are
 * charged too, by the length of a prefix-free description of his whole transcript (an upper bound
 * on what it can say, whatever the error pattern):
 * - every request (a reveal or a tag request) names its frame and kind, or the end of the block:
 *   ⌈log2(2F + 1)⌉ bits, the end once per block (`endBits`);
 * - a reveal says which of three kinds it is (2 bits): the next s punctured positions in the
 *   public puncturing order (then s: ⌈log2(p + 1)⌉, p punctured positions still secret), the next
 *   s key positions in the public key reveal order (`keyRevealOrder`; ⌈log2(k' + 1)⌉, k' key bits
 *   still secret), or any s of the U secret positions left (⌈log2(U + 1)⌉ + ⌈log2 C(U, s)⌉);
 * - every frame's success flag: 1 bit.
 * Bob's bits are counted in full for every frame, decoded or not: they are functions of his
 * string, not of Alice's discarded bits, so dropping a failed frame does not cover them.
 *
 * Why Bob reveals key bits in a public order and not the ones his decoder is least sure of: a
 * chosen set costs ⌈log2 C(U, s)⌉ ≈ s log2(e U / s) bits, about 13 per revealed bit at 1-2 % QBER,
 * for at most one bit of information each; a bit in a fixed order costs one bit and tells Bob
 * h(QBER) (0.08-0.4 at 1-8 %). Both are far worse than a punctured bit (one bit for one bit), so
 * the planner's job is to leave enough punctured positions that key bits are rarely needed.
 */
import type { FramePlan } from './codebook.js';
import { ProtocolError } from './errors.js';

interface FrameDisclosure {
  puncturedLeft: number;
  revealedPunctured: number;
  revealedKey: number;
  bobBits: number;
  /** Positions revealed so far (allocated at the first reveal that is not the next punctured run). */
  revealed: Uint8Array | undefined;
}

const ranks = new WeakMap<FramePlan['code'], Int32Array>();

/** Position -> index in the code's puncturing order, -1 for positions outside it. */
function rankOf(code: FramePlan['code']): Int32Array {
  let r = ranks.get(code);
  if (!r) {
    const out = new Int32Array(code.n).fill(-1);
    code.punctureOrder.forEach((v, i) => { out[v] = i; });
    ranks.set(code, (r = out));
  }
  return r;
}

/** ⌈log2 C(u, s)⌉, summed term by term in a fixed order so that both ends get the same integer. */
export function log2BinomialCeil(u: number, s: number): number {
  if (s < 0 || s > u) throw new RangeError(`C(${u}, ${s})`);
  const t = Math.min(s, u - s);
  let bits = 0;
  for (let i = 0; i < t; i++) bits += Math.log2((u - i) / (t - i));
  // A sum of logs can land a hair above an exact integer: round such values, not up.
  const r = Math.round(bits);
  return Math.abs(bits - r) < 1e-9 ? r : Math.ceil(bits);
}

const bitsFor = (values: number) => Math.ceil(Math.log2(values));

const keyOrders = new WeakMap<Uint32Array, Uint32Array>();

/**
 * The public order in which a frame's key positions are revealed once its punctured ones are
 * spent: rank j is key position (j · g) mod k, g the odd number coprime to k nearest k (√5 − 1) / 2,
 * so that consecutive reveals spread over the code's column blocks instead of shortening one.
 */
export function keyRevealOrder(plan: FramePlan): Uint32Array {
  const kp = plan.keyPositions;
  let o = keyOrders.get(kp);
  if (!o) {
    const k = kp.length;
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    let g = Math.max(1, Math.round((k * (Math.sqrt(5) - 1)) / 2)) | 1;
    while (k > 1 && gcd(g, k) !== 1) g += 2;
    o = new Uint32Array(k);
    for (let j = 0, at = 0; j < k; j++, at = (at + g) % k) o[j] = kp[at]!;
    keyOrders.set(kp, o);
  }
  return o;
}

export class DisclosureLedger {
  private readonly frames: FrameDisclosure[];
  private readonly rank: Int32Array;
  private readonly keyOrder: Uint32Array;
  /** Bits naming one request's frame and kind, or the block's end. */
  readonly symbolBits: number;

  constructor(readonly plan: FramePlan, frames: number) {
    if (!(Number.isInteger(frames) && frames > 0)) throw new ProtocolError(`a block of ${frames} frames`);
    this.frames = Array.from({ length: frames }, () => ({ puncturedLeft: plan.punctured, revealedPunctured: 0, revealedKey: 0, bobBits: 1, revealed: undefined }));
    this.rank = rankOf(plan.code);
    this.keyOrder = keyRevealOrder(plan);
    this.symbolBits = bitsFor(2 * frames + 1);
  }

  get frameCount(): number {
    return this.frames.length;
  }

  /** The end of Bob's requests, once per block. */
  get endBits(): number {
    return this.symbolBits;
  }

  private frame(f: number): FrameDisclosure {
    const d = this.frames[f];
    if (!d) throw new ProtocolError(`frame ${f} of ${this.frames.length}`);
    return d;
  }

  /** Bob asks for frame f's tag (when it did not come with the syndrome). */
  tagRequest(f: number): void {
    this.frame(f).bobBits += this.symbolBits;
  }

  /**
   * Bob asks Alice to reveal `positions` of frame f. Checks they are secret positions not revealed
   * before (else ProtocolError), charges the request and returns how many were punctured and key.
   */
  reveal(f: number, positions: Uint32Array): { punctured: number; key: number } {
    const d = this.frame(f);
    const { code, punctured, keyLength } = this.plan;
    const s = positions.length;
    if (s === 0) throw new ProtocolError(`frame ${f}: a reveal of no position`);
    let run = s <= d.puncturedLeft;
    for (let i = 0; run && i < s; i++) run = positions[i] === code.punctureOrder[d.puncturedLeft - s + i];
    if (run && d.revealed === undefined) {
      // The next s punctured positions: the common case, known to both ends without a list.
      d.bobBits += this.symbolBits + 2 + bitsFor(d.puncturedLeft + 1);
      d.puncturedLeft -= s;
      d.revealedPunctured += s;
      return { punctured: s, key: 0 };
    }
    let keyRun = d.puncturedLeft === 0 && d.revealed === undefined && d.revealedKey + s <= keyLength;
    for (let i = 0; keyRun && i < s; i++) keyRun = positions[i] === this.keyOrder[d.revealedKey + i];
    if (keyRun) {
      // The next s key positions in the public order.
      d.bobBits += this.symbolBits + 2 + bitsFor(keyLength - d.revealedKey + 1);
      d.revealedKey += s;
      return { punctured: 0, key: s };
    }
    const seen = (d.revealed ??= this.revealedSoFar(d));
    const secret = d.puncturedLeft + keyLength - d.revealedKey;
    let p = 0;
    for (let i = 0; i < s; i++) {
      const v = positions[i]!;
      if (!(v < code.n)) throw new ProtocolError(`frame ${f}: reveal of position ${v} outside the code`);
      const r = this.rank[v]!;
      if (r >= punctured) throw new ProtocolError(`frame ${f}: position ${v} is shortened, not secret`);
      if (seen[v]) throw new ProtocolError(`frame ${f}: position ${v} is revealed twice`);
      seen[v] = 1;
      if (r >= 0) p++;
    }
    d.bobBits += this.symbolBits + 2 + bitsFor(secret + 1) + log2BinomialCeil(secret, s);
    d.puncturedLeft -= p;
    d.revealedPunctured += p;
    d.revealedKey += s - p;
    return { punctured: p, key: s - p };
  }

  /** Before the first reveal off the runs: the runs revealed so far (punctured from the top of the order, key from the start of theirs). */
  private revealedSoFar(d: FrameDisclosure): Uint8Array {
    const seen = new Uint8Array(this.plan.code.n);
    for (let i = d.puncturedLeft; i < this.plan.punctured; i++) seen[this.plan.code.punctureOrder[i]!] = 1;
    for (let i = 0; i < d.revealedKey; i++) seen[this.keyOrder[i]!] = 1;
    return seen;
  }

  /** Punctured bits of frame f never revealed: their randomness cancels as many syndrome bits. */
  puncturedLeft(f: number): number {
    return this.frame(f).puncturedLeft;
  }

  revealedPunctured(f: number): number {
    return this.frame(f).revealedPunctured;
  }

  revealedKey(f: number): number {
    return this.frame(f).revealedKey;
  }

  /** Alice's error-correction disclosure for frame f: m − punctured left + revealed key bits. */
  aliceBits(f: number): number {
    const d = this.frame(f);
    return this.plan.code.m - d.puncturedLeft + d.revealedKey;
  }

  /** Bob's messages about frame f: its requests and its success flag. */
  bobBits(f: number): number {
    return this.frame(f).bobBits;
  }
}
