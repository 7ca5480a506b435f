/**
 * Decoy-state bounds and the finite-key secret length of Lim, Curty, Walenta, Xu and Zbinden,
 * "Concise security bounds for practical decoy-state quantum key distribution", PRA 89, 022307
 * (2014), Eqs. (1)-(5). Three intensities μ1 (signal) > μ2 (decoy) + μ3 (vacuum), μ2 > μ3 >= 0.
 *
 * Naming: the paper extracts key from basis X and tests with basis Z. Here they are `key` and
 * `test`, whichever physical basis the link uses for each (our pipeline keys on Z by default).
 * All ε are failure probabilities; each of the 21 error terms of the paper is ε_sec / 21.
 *
 * Which bound: by default Eq. (3) exactly as printed, with the Eq. (2) vacuum bound s_0 as it
 * comes out, negative or not ('printed'). With vacuumBound 'clamped', s_0 enters Eq. (3) as
 * max(0, s_0): sound, because the true s_0 is a count (never negative), so the event "s_0 ≥ bound"
 * that Eq. (2) fails with probability at most its ε is the same event as "s_0 ≥ max(0, bound)",
 * and Eq. (3) grows with s_0. It gives more key where the Hoeffding term swamps the vacuum counts
 * (small blocks); see README.md, "Which finite-key bound". In Eq. (1), s_0 counts as max(0, s_0)
 * in both (a non-negative count's bound can always be raised to 0).
 */
import type { IntensityClass } from '../kernels/sift.js';
import { binaryEntropy } from './statistics.js';
import { EstimationArgumentError, checkCount, checkProbability } from './errors.js';

export type PerClass = Readonly<Record<IntensityClass, number>>;

export interface DecoySource {
  /** Mean photon numbers: signal μ1, decoy μ2, vacuum μ3. */
  readonly intensities: PerClass;
  /** Probabilities p_k with which the transmitter picks each intensity; they sum to 1. */
  readonly probabilities: PerClass;
}

export interface BasisObservation {
  /** Sifted detections n_k per intensity class in this basis. */
  readonly detections: PerClass;
  /** Bit errors m_k per intensity class (disclosed; needed for the test basis). */
  readonly errors?: PerClass;
}

/** How the Eq. (2) vacuum bound enters Eq. (3): as printed, or clamped at 0 (module comment). */
export type VacuumBound = 'printed' | 'clamped';
export const DEFAULT_VACUUM_BOUND: VacuumBound = 'printed';

export interface FiniteKeyParameters {
  readonly source: DecoySource;
  /** Statistics of the key basis (the paper's X): its bits become the key. */
  readonly key: BasisObservation;
  /** Statistics of the test basis (the paper's Z), with its disclosed errors. */
  readonly test: BasisObservation;
  /** Secrecy ε_sec and correctness ε_cor (the error-verification hash's collision bound). */
  readonly epsSec: number;
  readonly epsCor: number;
  /** λ_EC: bits disclosed by error correction (plus any other disclosure about the key bits). */
  readonly leakEC: number;
  /**
   * Bits of the error-verification tag disclosed about the corrected key, subtracted whole. The
   * paper's log2(2/ε_cor) assumes a tag of about that length; the link's tag is 64·t bits (t keys
   * of kernels/verify.ts), up to 128 for ε_cor = 1e-15, so it says how long its tag is. Default:
   * log2(2/ε_cor), the paper's term.
   */
  readonly verificationTagBits?: number;
  /** Default 'printed' (Lim et al.'s Eq. (3) as printed). */
  readonly vacuumBound?: VacuumBound;
}

export interface DecoyBounds {
  /** Lower bound on vacuum events s_0, Eq. (2). */
  readonly s0: number;
  /** Lower bound on single-photon events s_1, Eq. (3). */
  readonly s1: number;
}

export interface FiniteKeyResult {
  /** ℓ, Eq. (1): secret bits to extract by privacy amplification (0 if none). */
  readonly length: number;
  /** Which vacuum bound entered Eq. (3). */
  readonly vacuumBound: VacuumBound;
  readonly key: DecoyBounds & { readonly n: number };
  readonly test: DecoyBounds & { readonly n: number; readonly m: number; readonly v1: number };
  /** Upper bound on the phase-error rate φ of the key basis' single-photon events, Eq. (5). */
  readonly phaseErrorRate: number;
  /** The terms of Eq. (1). */
  readonly terms: {
    readonly singlePhotonEntropy: number;
    readonly leakEC: number;
    readonly secrecy: number;
    /** The error-verification tag: its disclosed bits, or log2(2/ε_cor) when not given. */
    readonly correctness: number;
  };
  /** Why the block gives no key, when it does not. */
  readonly reason?: string;
}

const CLASSES: readonly IntensityClass[] = ['signal', 'decoy', 'vacuum'];

export function checkSource(source: DecoySource): void {
  const { signal: mu1, decoy: mu2, vacuum: mu3 } = source.intensities;
  for (const c of CLASSES) {
    const mu = source.intensities[c];
    if (!Number.isFinite(mu) || mu < 0) throw new EstimationArgumentError(`intensities.${c}`, mu, 'a finite mean photon number >= 0');
    checkProbability(`probabilities.${c}`, source.probabilities[c]);
  }
  if (!(mu2 > mu3)) throw new EstimationArgumentError('intensities.decoy', mu2, `> vacuum intensity ${mu3}`);
  if (!(mu1 > mu2 + mu3)) throw new EstimationArgumentError('intensities.signal', mu1, `> decoy + vacuum = ${mu2 + mu3}`);
  const sum = CLASSES.reduce((s, c) => s + source.probabilities[c], 0);
  if (Math.abs(sum - 1) > 1e-9) throw new EstimationArgumentError('probabilities', sum, 'probabilities summing to 1');
}

function checkObservation(name: string, obs: BasisObservation, needErrors: boolean): void {
  for (const c of CLASSES) checkCount(`${name}.detections.${c}`, obs.detections[c]);
  if (needErrors && !obs.errors) throw new EstimationArgumentError(`${name}.errors`, obs.errors, 'error counts per intensity class');
  if (obs.errors) {
    for (const c of CLASSES) {
      checkCount(`${name}.errors.${c}`, obs.errors[c]);
      if (obs.errors[c] > obs.detections[c]) throw new EstimationArgumentError(`${name}.errors.${c}`, obs.errors[c], `<= detections ${obs.detections[c]}`);
    }
  }
}

/** τ_n = Σ_k p_k e^{-μ_k} μ_k^n / n!: the probability that the transmitter sends n photons. */
export function photonNumberProbability(source: DecoySource, n: number): number {
  let fact = 1;
  for (let i = 2; i <= n; i++) fact *= i;
  return CLASSES.reduce((s, c) => {
    const mu = source.intensities[c];
    return s + (source.probabilities[c] * Math.exp(-mu) * mu ** n) / fact;
  }, 0);
}

function total(v: PerClass): number {
  return v.signal + v.decoy + v.vacuum;
}

/** n±_k = e^{μ_k}/p_k (n_k ± sqrt(n/2 ln(21/ε_sec))), the Hoeffding-corrected counts. */
function corrected(source: DecoySource, counts: PerClass, epsSec: number, sign: 1 | -1, c: IntensityClass): number {
  const delta = Math.sqrt((total(counts) / 2) * Math.log(21 / epsSec));
  return (Math.exp(source.intensities[c]) / source.probabilities[c]) * (counts[c] + sign * delta);
}

/** Eqs. (2) and (3): lower bounds on vacuum and single-photon events in one basis (>= 0). */
export function decoyBounds(source: DecoySource, obs: BasisObservation, epsSec: number, vacuumBound: VacuumBound = DEFAULT_VACUUM_BOUND): DecoyBounds {
  checkSource(source);
  checkObservation('observation', obs, false);
  checkProbability('epsSec', epsSec);
  const { signal: mu1, decoy: mu2, vacuum: mu3 } = source.intensities;
  const n = obs.detections;
  const tau0 = photonNumberProbability(source, 0);
  const tau1 = photonNumberProbability(source, 1);
  const s0eq2 = (tau0 * (mu2 * corrected(source, n, epsSec, -1, 'vacuum') - mu3 * corrected(source, n, epsSec, 1, 'decoy'))) / (mu2 - mu3);
  const s0 = Math.max(0, s0eq2);
  const s0eq3 = vacuumBound === 'clamped' ? s0 : s0eq2;
  const s1num =
    tau1 * mu1 * (corrected(source, n, epsSec, -1, 'decoy') - corrected(source, n, epsSec, 1, 'vacuum') - ((mu2 * mu2 - mu3 * mu3) / (mu1 * mu1)) * (corrected(source, n, epsSec, 1, 'signal') - s0eq3 / tau0));
  const s1 = Math.max(0, s1num / (mu1 * (mu2 - mu3) - mu2 * mu2 + mu3 * mu3));
  return { s0, s1 };
}

/** Eq. (4): upper bound on bit errors among single-photon events of the test basis. */
export function singlePhotonErrorsUpperBound(source: DecoySource, obs: BasisObservation, epsSec: number): number {
  checkSource(source);
  checkObservation('observation', obs, true);
  checkProbability('epsSec', epsSec);
  const { decoy: mu2, vacuum: mu3 } = source.intensities;
  const m = obs.errors!;
  const tau1 = photonNumberProbability(source, 1);
  return Math.max(0, (tau1 * (corrected(source, m, epsSec, 1, 'decoy') - corrected(source, m, epsSec, -1, 'vacuum'))) / (mu2 - mu3));
}

/**
 * γ(a, b, c, d) of Eq. (5): the random-sampling (without replacement) deviation between the
 * phase-error rate of d key-basis events and the error rate b seen on c test-basis events, failing
 * with probability a/21 (the 21² under the logarithm; Eq. (5) passes a = ε_sec).
 */
export function samplingDeviation(a: number, b: number, c: number, d: number): number {
  if (!(c > 0 && d > 0) || !(b > 0 && b < 1)) return Infinity;
  const x = ((c + d) * (1 - b) * b) / (c * d * Math.LN2);
  return Math.sqrt(x * Math.log2(((c + d) / (c * d * (1 - b) * b)) * (21 * 21) / (a * a)));
}

/** Eq. (1): the secret length of a block, with every intermediate bound. */
export function finiteKeyLength(p: FiniteKeyParameters): FiniteKeyResult {
  checkSource(p.source);
  checkObservation('key', p.key, false);
  checkObservation('test', p.test, true);
  checkProbability('epsSec', p.epsSec);
  checkProbability('epsCor', p.epsCor);
  if (!Number.isFinite(p.leakEC) || p.leakEC < 0) throw new EstimationArgumentError('leakEC', p.leakEC, 'a finite number of bits >= 0');
  const tagBits = p.verificationTagBits;
  if (tagBits !== undefined && !(Number.isFinite(tagBits) && tagBits >= Math.log2(1 / p.epsCor))) throw new EstimationArgumentError('verificationTagBits', tagBits, `a tag of at least log2(1/ε_cor) = ${Math.log2(1 / p.epsCor).toFixed(1)} bits`);
  const vacuumBound = p.vacuumBound ?? DEFAULT_VACUUM_BOUND;
  const key = decoyBounds(p.source, p.key, p.epsSec, vacuumBound);
  const test = decoyBounds(p.source, p.test, p.epsSec, vacuumBound);
  const v1 = singlePhotonErrorsUpperBound(p.source, p.test, p.epsSec);
  const secrecy = 6 * Math.log2(21 / p.epsSec);
  const correctness = tagBits ?? Math.log2(2 / p.epsCor);
  const nKey = total(p.key.detections);
  const mTest = total(p.test.errors!);
  const base = { key: { ...key, n: nKey }, test: { ...test, n: total(p.test.detections), m: mTest, v1 } };
  let phi: number;
  let reason: string | undefined;
  if (test.s1 <= 0 || key.s1 <= 0) {
    phi = 0.5;
    reason = 'no single-photon events can be certified (decoy bounds are zero): block too small or channel too lossy';
  } else {
    // With no test errors at all, γ is evaluated at one error's worth so the bound stays conservative.
    const b = Math.min(v1 / test.s1, 0.5);
    const bEff = Math.max(b, 1 / test.s1);
    // Eq. (5) evaluates γ at ε_sec itself: the 21² inside γ already splits it (Appendix B: α1 = ε_sec/21).
    phi = Math.min(0.5, b + samplingDeviation(p.epsSec, bEff, test.s1, key.s1));
  }
  const singlePhotonEntropy = key.s1 * binaryEntropy(phi);
  const raw = key.s0 + key.s1 - singlePhotonEntropy - p.leakEC - secrecy - correctness;
  const length = Math.max(0, Math.floor(raw));
  if (length === 0 && !reason) reason = phi >= 0.5 ? 'phase-error bound reaches 1/2: QBER too high or too few test-basis events' : 'leakage and finite-size terms exceed the certified entropy';
  return {
    length,
    vacuumBound,
    ...base,
    phaseErrorRate: phi,
    terms: { singlePhotonEntropy, leakEC: p.leakEC, secrecy, correctness },
    ...(reason ? { reason } : {}),
  };
}
