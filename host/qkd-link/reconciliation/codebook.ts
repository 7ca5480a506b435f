/**
 * The loaded code family and rate adaptation: which mother code, how many of its untainted
 * positions are punctured and how many shortened, for a frame at a given QBER.
 *
 * Every code reserves d positions (the first d of its untainted puncturing order), so a frame
 * carries k = n - d key bits whatever the QBER. Of the d, the first p are punctured (Alice fills
 * them with fresh random bits, Bob starts them at LLR 0) and the other d - p are shortened (value
 * 0, known to both). Alice's syndrome then discloses m - p bits about the key. The plan picks p so
 * that this starting leak is `startEfficiency` * k * h(QBER); blind rounds later reveal punctured
 * bits (and then key bits) until the frame decodes (Elkouss et al. 2010; Martinez-Mateo et al. 2012).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeCodeFile, expandCode, type LdpcCode } from './code.js';
import { binaryEntropy } from './design.js';
import { FrameLengthError, QberOutOfRangeError, UnknownCodeError } from './errors.js';
import { FAMILY } from './family.js';

export interface FramePlan {
  readonly code: LdpcCode;
  /** Key bits per frame: n - d. */
  readonly keyLength: number;
  /** Reserved (punctured or shortened) positions. */
  readonly reserved: number;
  /** Punctured at the start (the first `punctured` of the puncturing order). */
  readonly punctured: number;
  /** Code positions carrying key bits, in key order. */
  readonly keyPositions: Uint32Array;
  readonly qber: number;
}

/**
 * Default starting efficiency by QBER, measured with the shipped codes (bench, 32-128 frames):
 * just below where most frames decode without a blind round. Starting lower saves little leak
 * and costs rounds (decoder iterations); starting higher leaks for nothing.
 */
const START_EFFICIENCY: ReadonlyArray<readonly [number, number]> = [
  [0.005, 1.22], [0.01, 1.19], [0.02, 1.09], [0.03, 1.13], [0.05, 1.08], [0.08, 1.08], [0.11, 1.2],
];

export function defaultStartEfficiency(qber: number): number {
  const t = START_EFFICIENCY;
  if (qber <= t[0]![0]) return t[0]![1];
  for (let i = 1; i < t.length; i++) {
    const [q1, f1] = t[i]!;
    if (qber <= q1) {
      const [q0, f0] = t[i - 1]!;
      const w = Math.log(qber / q0) / Math.log(q1 / q0);
      return f0 + w * (f1 - f0);
    }
  }
  return t[t.length - 1]![1];
}

/** Frame length used unless the caller asks for another the family has. */
export const DEFAULT_FRAME_BITS = 65536;

const codesDir = fileURLToPath(new URL('./codes/', import.meta.url));

export class CodeFamily {
  readonly codes: readonly LdpcCode[];
  private readonly keyPositionCache = new Map<number, Uint32Array>();

  constructor(codes: readonly LdpcCode[]) {
    this.codes = [...codes].sort((a, b) => b.rate - a.rate);
  }

  /** Loads the shipped family (codes/*.bin named in family.ts), verifying version and checksum. */
  static load(dir = codesDir): CodeFamily {
    return new CodeFamily(FAMILY.map((e) => {
      const path = `${dir}${e.name}.bin`;
      return expandCode(decodeCodeFile(readFileSync(path), path), path);
    }));
  }

  byId(id: number): LdpcCode {
    const c = this.codes.find((x) => x.id === id);
    if (!c) throw new UnknownCodeError(id, this.codes.map((x) => x.id));
    return c;
  }

  /** Frame lengths (code lengths n) the family offers. */
  get frameLengths(): number[] {
    return [...new Set(this.codes.map((c) => c.n))].sort((a, b) => a - b);
  }

  /** QBER range the family covers at this starting efficiency and frame length. */
  coverage(startEfficiency?: number, frameBits = DEFAULT_FRAME_BITS): { min: number; max: number } {
    let min = 0.5;
    let max = 0;
    for (let q = 0.001; q < 0.2; q *= 1.01) {
      if (this.tryPlan(q, startEfficiency ?? defaultStartEfficiency(q), frameBits)) { min = Math.min(min, q); max = Math.max(max, q); }
    }
    return { min, max };
  }

  private tryPlan(qber: number, startEfficiency: number, frameBits: number): FramePlan | undefined {
    let best: { plan: FramePlan; miss: number } | undefined;
    for (const code of this.codes) {
      if (code.n !== frameBits) continue;
      const d = code.punctureOrder.length;
      const k = code.n - d;
      const kh = k * binaryEntropy(qber);
      const wanted = Math.round(code.m - startEfficiency * kh);
      // Between two codes' ranges, start a little off the wanted efficiency (clamped puncturing)
      // rather than leave a gap; blind rounds absorb a start that is too aggressive.
      const p = Math.min(d, Math.max(0, wanted));
      const miss = Math.abs(p - wanted) / kh;
      if (miss > 0.1) continue;
      // Exact fits first; among those the least puncturing (punctured codes lose more than shortened ones).
      const score = miss > 0 ? 1 + miss : p / code.n;
      if (!best || score < best.miss) best = { plan: { code, keyLength: k, reserved: d, punctured: p, keyPositions: this.keyPositions(code), qber }, miss: score };
    }
    return best?.plan;
  }

  /**
   * Chooses the code and its starting puncturing for a frame at `qber`, among the codes of length
   * `frameBits` (2^16 by default; longer frames leak a little less and take more memory).
   */
  plan(qber: number, startEfficiency = defaultStartEfficiency(qber), frameBits = DEFAULT_FRAME_BITS): FramePlan {
    if (!this.codes.some((c) => c.n === frameBits)) throw new FrameLengthError('frame', frameBits, this.frameLengths);
    const p = Number.isFinite(qber) && qber > 0 && qber < 0.5 ? this.tryPlan(qber, startEfficiency, frameBits) : undefined;
    if (!p) {
      const cov = this.coverage(startEfficiency, frameBits);
      throw new QberOutOfRangeError(qber, Number(cov.min.toPrecision(3)), Number(cov.max.toPrecision(3)));
    }
    return p;
  }

  keyPositions(code: LdpcCode): Uint32Array {
    let kp = this.keyPositionCache.get(code.id);
    if (!kp) {
      const reserved = new Uint8Array(code.n);
      for (const v of code.punctureOrder) reserved[v] = 1;
      kp = new Uint32Array(code.n - code.punctureOrder.length);
      for (let v = 0, j = 0; v < code.n; v++) if (!reserved[v]) kp[j++] = v;
      this.keyPositionCache.set(code.id, kp);
    }
    return kp;
  }
}
