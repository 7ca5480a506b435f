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
import { CALIBRATION } from './calibration.js';

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
  /** Starting leak (m - punctured) over k·h(qber). */
  readonly startEfficiency?: number;
  /** The planner's estimate of the mean final efficiency (calibrated plans only). */
  readonly expectedEfficiency?: number;
  /** Suggested blind-round reveal as a fraction of k·h (calibrated plans only). */
  readonly revealStep?: number;
}

export type CalibrationRow = readonly [qber: number, f50: number, f80: number, f95: number, keyRevealShare: number];
export type CalibrationTable = ReadonlyMap<number, ReadonlyArray<CalibrationRow>>;

/**
 * What one blind round is worth, in efficiency, when the planner weighs leak against decoder
 * work: a round costs a stall (4 iterations) and the iterations to converge after the reveal,
 * about a third of a frame's decoding. Measured at 3 % QBER (128 frames): 0.015 gives f 1.108
 * at 41 iterations per frame, 0.02 1.110 at 36, 0.03 1.114 at 31 (a fixed start of 1.13 with
 * the old table: 1.132 at 29); 0.03 keeps the decoder's work near that of a fixed start.
 */
export const ROUND_COST = 0.03;

/** Start points (quantiles of the measured needs) and blind steps (fractions of k·h) the planner weighs. */
const START_QUANTILES = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const REVEAL_STEPS = [0.005, 0.01, 0.015, 0.02, 0.03];

interface Need { readonly f50: number; readonly f80: number; readonly f95: number; readonly keyShare: number }

/**
 * Most frames of a plan that may need key bits revealed (calibration's last column): past a
 * code's punctured positions a frame lives on key bits in the public order, which tell Bob
 * h(QBER) each (disclosure.ts), and measured there frames fail (the 1.25 % point of code 30: 4 of
 * 32 when it was chosen at 31 % key reveals). The link's frames (decoy and vacuum bits mixed in)
 * need more than the BSC's: at 0.1 the 100 km link bench lost 13 frames at 2.2 % QBER with code
 * 32 (SKR 68 % of the model), at 0.02 none with code 23 (100 %).
 */
const MAX_KEY_REVEAL_SHARE = 0.02;

/**
 * How far (in k·h) a code's reach, m / (k·h) with every reserved position revealed, must lie past
 * the f95 of its need for the planner to use it: frames past the reach live on key-bit reveals
 * and fail. A block's frames do not share one QBER: the key string holds the intensity classes in
 * turn (the demo's seed-3 block: signal 1.1 %, decoy 1.5 %, estimate 1.24 %; its decoy frames
 * 1.39-1.58 %). There code 30, at the edge of its range (reach 0.042 past f95, 336 punctured
 * bits to reveal), lost 2 decoy frames of 69, and since the decoy-state bound on s_Z,1 rests on
 * the decoy class's key bits (654,151 kept instead of 781,427), the block's secret bits fell from
 * 1,209,480 to 655,295; code 22 (0.19 past) decodes every frame. Code 33 at 2 % (0.009 past) is
 * ruled out too; code 28 at 0.5 % (0.055) and the lower-rate codes (past 0.1) are not.
 */
const MIN_REACH_MARGIN = 0.05;

/**
 * A code's need quantiles at `qber`, interpolated in log QBER between its calibration rows;
 * undefined outside the measured range or where more than 5 % of frames did not decode.
 */
function needAt(rows: ReadonlyArray<CalibrationRow> | undefined, qber: number): Need | undefined {
  if (!rows) return undefined;
  for (let i = 0; i + 1 < rows.length; i++) {
    const a = rows[i]!;
    const b = rows[i + 1]!;
    if (qber < a[0] || qber > b[0]) continue;
    if (a[3] > 2 || b[3] > 2) return undefined;
    const w = Math.log(qber / a[0]) / Math.log(b[0] / a[0]);
    const mix = (j: 1 | 2 | 3 | 4) => a[j] + w * (b[j] - a[j]);
    return { f50: mix(1), f80: Math.max(mix(1), mix(2)), f95: Math.max(mix(1), mix(2), mix(3)), keyShare: mix(4) };
  }
  return undefined;
}

/** Piecewise-linear inverse of the need distribution through its three quantiles, extended at both ends. */
function quantileOf(n: Need, u: number): number {
  if (u <= 0.5) return n.f50 - (0.5 - u) * ((n.f80 - n.f50) / 0.3);
  if (u <= 0.8) return n.f50 + (u - 0.5) * ((n.f80 - n.f50) / 0.3);
  if (u <= 0.95) return n.f80 + (u - 0.8) * ((n.f95 - n.f80) / 0.15);
  return n.f95 + (u - 0.95) * ((n.f95 - n.f80) / 0.15);
}

/**
 * Estimated mean final efficiency plus ROUND_COST per expected blind round, for a start and a
 * step: frames that need less than the start pay the start, the others what they need plus half
 * a step, after ceil((need - start) / step) rounds. Twenty quantiles of the need distribution.
 * The needs are Alice's disclosure (calibrate.ts); Bob's messages (disclosure.ts) add `flag` per
 * frame and `request` per round, both in units of k·h.
 */
function planScore(n: Need, start: number, step: number, flag: number, request: number): { f: number; score: number } {
  let f = flag;
  let rounds = 0;
  for (let i = 0; i < 20; i++) {
    const x = quantileOf(n, (i + 0.5) / 20);
    if (x <= start) f += start / 20;
    else {
      const r = Math.ceil((x - start) / step);
      f += (x + step / 2 + r * request) / 20;
      rounds += r / 20;
    }
  }
  return { f, score: f + ROUND_COST * rounds };
}

/** Bob's bits for one punctured-run request in a block of about 35 frames (2^21 bits): frame and kind, run kind, length. */
function requestBits(reserved: number): number {
  return Math.ceil(Math.log2(71)) + 2 + Math.ceil(Math.log2(reserved + 1));
}

/**
 * Starting efficiency by QBER for the uncalibrated rule (plan() where no code has calibration
 * rows, e.g. below 0.36 %, or a family loaded without them), measured with codes 1-7 (bench,
 * 32-128 frames): just below where most frames decode without a blind round.
 */
const START_EFFICIENCY: ReadonlyArray<readonly [number, number]> = [
  [0.005, 1.22], [0.01, 1.19], [0.02, 1.09], [0.03, 1.13], [0.05, 1.08], [0.08, 1.08], [0.11, 1.2],
];

/**
 * Below this QBER the uncalibrated rule plans nothing. With the reserved sets grown past the
 * untainted ones it would fit code 1 down to 0.1 %, where every frame fails (0.2 %: 4 of 16 fail,
 * f 1.77 for the rest; 0.3 %, calibrated: none of 16, f 1.58); this keeps the range it had.
 */
const MIN_UNCALIBRATED_QBER = 0.0023;

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
  private readonly coverageCache = new Map<string, { readonly min: number; readonly max: number }>();

  /** Codes plus, optionally, their measured needs (default: the shipped calibration.ts). */
  constructor(codes: readonly LdpcCode[], private readonly calibration: CalibrationTable = CALIBRATION) {
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

  /** QBER range the family covers at this starting efficiency (default: calibrated) and frame length. */
  coverage(startEfficiency?: number, frameBits = DEFAULT_FRAME_BITS): { min: number; max: number } {
    // A sweep over every plan, fixed for the family: the link asks it for every block.
    const key = `${startEfficiency ?? 'calibrated'}/${frameBits}`;
    let c = this.coverageCache.get(key);
    if (!c) this.coverageCache.set(key, (c = this.sweepCoverage(startEfficiency, frameBits)));
    return c;
  }

  private sweepCoverage(startEfficiency: number | undefined, frameBits: number): { min: number; max: number } {
    let min = 0.5;
    let max = 0;
    for (let q = 0.001; q < 0.2; q *= 1.01) {
      const p = startEfficiency !== undefined ? this.tryPlan(q, startEfficiency, frameBits)
        : this.calibratedPlan(q, frameBits) ?? this.uncalibratedPlan(q, frameBits);
      if (p) { min = Math.min(min, q); max = Math.max(max, q); }
    }
    return { min, max };
  }

  private uncalibratedPlan(qber: number, frameBits: number): FramePlan | undefined {
    return qber < MIN_UNCALIBRATED_QBER ? undefined : this.tryPlan(qber, defaultStartEfficiency(qber), frameBits);
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
   * The calibrated choice: for each code measured near `qber` (calibration.ts; a 2^17-bit code
   * uses its 2^16-bit sibling's figures, slightly pessimistic), each start point (a quantile of
   * the leak its frames need, or as near as its reserved positions allow) and each blind step,
   * estimate the mean final efficiency and the blind rounds (planScore); the lowest efficiency
   * plus ROUND_COST per round wins.
   */
  private calibratedPlan(qber: number, frameBits: number): FramePlan | undefined {
    let best: { plan: FramePlan; score: number } | undefined;
    const h = binaryEntropy(qber);
    for (const code of this.codes) {
      if (code.n !== frameBits) continue;
      const need = needAt(this.calibration.get(code.id) ?? this.calibration.get(code.id - 10), qber);
      if (!need || need.keyShare > MAX_KEY_REVEAL_SHARE) continue;
      if (code.m / ((code.n - code.punctureOrder.length) * h) < need.f95 + MIN_REACH_MARGIN) continue;
      const d = code.punctureOrder.length;
      const k = code.n - d;
      const kh = k * h;
      for (const u of START_QUANTILES) {
        const p = Math.min(d, Math.max(0, Math.round(code.m - quantileOf(need, u) * kh)));
        const start = (code.m - p) / kh;
        for (const step of REVEAL_STEPS) {
          const { f, score } = planScore(need, start, step, 1 / kh, requestBits(d) / kh);
          if (!best || score < best.score - 1e-12) {
            best = { plan: { code, keyLength: k, reserved: d, punctured: p, keyPositions: this.keyPositions(code), qber, startEfficiency: start, expectedEfficiency: f, revealStep: step }, score };
          }
        }
      }
    }
    return best?.plan;
  }

  /**
   * Chooses the code and its starting puncturing for a frame at `qber`, among the codes of length
   * `frameBits` (2^16 by default; longer frames leak a little less and take more memory). Without
   * `startEfficiency` the choice is calibrated per code (calibratedPlan); with it, every code
   * starts at that multiple of k·h(qber) and the one that fits with the least puncturing wins.
   */
  plan(qber: number, startEfficiency?: number, frameBits = DEFAULT_FRAME_BITS): FramePlan {
    if (!this.codes.some((c) => c.n === frameBits)) throw new FrameLengthError('frame', frameBits, this.frameLengths);
    const valid = Number.isFinite(qber) && qber > 0 && qber < 0.5;
    const p = !valid ? undefined : startEfficiency !== undefined ? this.tryPlan(qber, startEfficiency, frameBits)
      : this.calibratedPlan(qber, frameBits) ?? this.uncalibratedPlan(qber, frameBits);
    if (!p) {
      const cov = this.coverage(startEfficiency, frameBits);
      throw new QberOutOfRangeError(qber, Number(cov.min.toPrecision(3)), Number(cov.max.toPrecision(3)));
    }
    return p;
  }

  /** The plan for a given code and starting puncturing (0 <= punctured <= reserved). */
  planFor(code: LdpcCode, qber: number, punctured: number): FramePlan {
    const d = code.punctureOrder.length;
    if (!Number.isInteger(punctured) || punctured < 0 || punctured > d) throw new RangeError(`punctured ${punctured} outside [0, ${d}] for code ${code.id}`);
    return { code, keyLength: code.n - d, reserved: d, punctured, keyPositions: this.keyPositions(code), qber };
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
