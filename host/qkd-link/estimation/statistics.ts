/**
 * Statistics for parameter estimation: the binary entropy, Hoeffding deviations, exact
 * (Clopper-Pearson) binomial confidence intervals for a QBER measured on disclosed bits, and the
 * Serfling bound for the error rate of the bits left undisclosed when the sample is drawn without
 * replacement from the block.
 */
import { EstimationArgumentError, checkCount, checkProbability } from './errors.js';

/** h(x) = -x log2 x - (1 - x) log2 (1 - x), with h(0) = h(1) = 0. */
export function binaryEntropy(x: number): number {
  if (!Number.isFinite(x) || x < 0 || x > 1) throw new EstimationArgumentError('x', x, 'a number in [0, 1]');
  if (x === 0 || x === 1) return 0;
  return -x * Math.log2(x) - (1 - x) * Math.log2(1 - x);
}

/**
 * Hoeffding: a sum of n independent [0,1] terms deviates from its mean by more than
 * sqrt(n/2 ln(1/ε)) with probability at most ε (one-sided).
 */
export function hoeffdingDelta(n: number, eps: number): number {
  if (!Number.isFinite(n) || n < 0) throw new EstimationArgumentError('n', n, 'a finite number >= 0');
  checkProbability('eps', eps);
  return Math.sqrt((n / 2) * Math.log(1 / eps));
}

// Lanczos approximation (g = 7, n = 9) of ln Γ(x) for x > 0.
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularized incomplete beta (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** I_x(a, b), the regularized incomplete beta function. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaFraction(b, a, 1 - x)) / b;
}

/** Smallest p in [0, 1] with f(p) >= target for increasing f, by bisection. */
function invert(f: (p: number) => number, target: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target) lo = mid;
    else hi = mid;
  }
  return hi;
}

export interface QberEstimate {
  readonly errors: number;
  readonly compared: number;
  /** errors / compared (0 when nothing was compared). */
  readonly qber: number;
  /** Clopper-Pearson bounds, each holding except with probability eps. */
  readonly lower: number;
  readonly upper: number;
}

/**
 * QBER of `compared` disclosed bits of which `errors` differed, with exact one-sided binomial
 * (Clopper-Pearson) bounds at failure probability `eps` each: P[Bin(n, upper) <= e] = eps and
 * P[Bin(n, lower) >= e] = eps.
 */
export function estimateQber(errors: number, compared: number, eps: number): QberEstimate {
  checkCount('errors', errors);
  checkCount('compared', compared);
  checkProbability('eps', eps);
  if (errors > compared) throw new EstimationArgumentError('errors', errors, `<= compared = ${compared}`);
  if (compared === 0) return { errors, compared, qber: 0, lower: 0, upper: 1 };
  const n = compared;
  const e = errors;
  // P[Bin(n, p) >= e] = I_p(e, n - e + 1); P[Bin(n, p) <= e] = 1 - I_p(e + 1, n - e).
  const lower = e === 0 ? 0 : invert((p) => regularizedBeta(p, e, n - e + 1), eps);
  const upper = e === n ? 1 : invert((p) => regularizedBeta(p, e + 1, n - e), 1 - eps);
  return { errors, compared, qber: e / n, lower, upper };
}

/**
 * Serfling: when k of n + k bits are disclosed at random (without replacement) and show an error
 * rate q, the other n bits have an error rate above q + μ with probability at most eps, where
 * μ = sqrt((n + k)(k + 1) / (n k^2) ln(1/eps)) (Tomamichel, Lim, Gisin, Renner, Nat. Commun. 3,
 * 634, 2012).
 */
export function serflingDelta(n: number, k: number, eps: number): number {
  checkCount('n', n);
  checkCount('k', k);
  checkProbability('eps', eps);
  if (n === 0 || k === 0) return Infinity;
  return Math.sqrt((((n + k) / (n * k)) * ((k + 1) / k)) * Math.log(1 / eps));
}
