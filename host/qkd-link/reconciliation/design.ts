/**
 * Degree-distribution design for the binary symmetric channel by EXIT analysis.
 *
 * Check-node curves use the Gaussian approximation with the J function of Brännström, Rasmussen
 * and Grant (2005); variable-node curves keep the channel exact: the output LLR is the BSC's
 * ±ln((1-q)/q) plus a consistent Gaussian from the checks, averaged over both channel outcomes.
 * This predicts thresholds of irregular ensembles on the BSC to within a few per cent, enough to
 * rank candidates; the decoder simulation is the final judge.
 */

const H1 = 0.3073;
const H2 = 0.8935;
const H3 = 1.1064;

/** Mutual information of a consistent Gaussian LLR with standard deviation sigma. */
export function jFunction(sigma: number): number {
  if (sigma <= 0) return 0;
  return Math.pow(1 - Math.pow(2, -H1 * Math.pow(sigma, 2 * H2)), H3);
}

export function jInverse(info: number): number {
  if (info <= 0) return 0;
  if (info >= 1 - 1e-12) return 60;
  return Math.pow(-Math.log2(1 - Math.pow(info, 1 / H3)) / H1, 1 / (2 * H2));
}

export function binaryEntropy(q: number): number {
  if (q <= 0 || q >= 1) return 0;
  return -q * Math.log2(q) - (1 - q) * Math.log2(1 - q);
}

/** Edge-perspective distribution: coefficient per degree. */
export type Distribution = ReadonlyMap<number, number>;

export interface Ensemble {
  readonly lambda: Distribution;
  readonly rho: Distribution;
}

function integral(d: Distribution): number {
  let s = 0;
  for (const [deg, w] of d) s += w / deg;
  return s;
}

export function designRate(e: Ensemble): number {
  return 1 - integral(e.rho) / integral(e.lambda);
}

/** Check-concentrated rho (two consecutive degrees) giving rate `rate` with variable side `lambda`. */
export function concentratedRho(lambda: Distribution, rate: number): Distribution {
  const target = (1 - rate) * integral(lambda); // = sum rho_j / j
  const avg = 1 / target; // edge-perspective harmonic mean of check degrees
  const d = Math.floor(avg);
  // rho_d / d + (1 - rho_d) / (d + 1) = target
  const rd = (target - 1 / (d + 1)) / (1 / d - 1 / (d + 1));
  const rho = new Map<number, number>();
  if (rd > 1e-9) rho.set(d, Math.min(1, rd));
  if (rd < 1 - 1e-9) rho.set(d + 1, 1 - Math.max(0, rd));
  return rho;
}

// Gauss-Hermite-free quadrature: a fixed grid over the standard normal, fine enough for EXIT.
const GRID = 161;
const Z = Float64Array.from({ length: GRID }, (_, i) => -8 + (16 * i) / (GRID - 1));
const W = (() => {
  const w = Float64Array.from(Z, (z) => Math.exp(-z * z / 2));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
})();

function log2OnePlusExpNeg(x: number): number {
  return x > 30 ? Math.exp(-x) / Math.LN2 : Math.log2(1 + Math.exp(-x));
}

/** EXIT of a BSC variable node: output information for incoming Gaussian variance s2 (sum of (dv-1) inputs). */
function vnInfo(q: number, s2: number): number {
  const lc = Math.log((1 - q) / q);
  const mu = s2 / 2;
  const sd = Math.sqrt(s2);
  let e = 0;
  for (let i = 0; i < GRID; i++) {
    const x = mu + sd * Z[i]!;
    e += W[i]! * ((1 - q) * log2OnePlusExpNeg(lc + x) + q * log2OnePlusExpNeg(-lc + x));
  }
  return 1 - e;
}

/** Tabulated variable-node EXIT for one channel: info as a function of sigma^2 in [0, S2MAX]. */
const S2MAX = 400;
const S2STEPS = 4000;
const vnTables = new Map<number, Float64Array>();

function vnTable(q: number): Float64Array {
  let t = vnTables.get(q);
  if (!t) {
    t = new Float64Array(S2STEPS + 1);
    for (let i = 0; i <= S2STEPS; i++) t[i] = vnInfo(q, (S2MAX * i) / S2STEPS);
    vnTables.set(q, t);
  }
  return t;
}

function lookup(t: Float64Array, s2: number): number {
  if (s2 >= S2MAX) return 1;
  const x = (s2 / S2MAX) * S2STEPS;
  const i = Math.floor(x);
  const f = x - i;
  return t[i]! * (1 - f) + t[i + 1]! * f;
}

/** True when EXIT predicts decoding succeeds on BSC(q). */
export function converges(e: Ensemble, q: number, maxIter = 1500): boolean {
  const t = vnTable(q);
  const lam = [...e.lambda];
  const rho = [...e.rho];
  let x = 0; // information variable -> check
  for (let it = 0; it < maxIter; it++) {
    const sx = jInverse(1 - x);
    let yc = 0; // check -> variable
    for (const [d, w] of rho) yc += w * (1 - jFunction(Math.sqrt(d - 1) * sx));
    const sy = jInverse(yc);
    let nx = 0;
    for (const [d, w] of lam) nx += w * lookup(t, (d - 1) * sy * sy);
    if (nx > 0.99999) return true;
    if (nx - x < 1e-7) return false;
    x = nx;
  }
  return false;
}

/** Channel grid for thresholds: geometric, fine (0.2 % relative steps) to share VN tables across candidates. */
export function qberGrid(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let q = lo; q <= hi; q *= 1.002) out.push(Number(q.toPrecision(6)));
  return out;
}

/** Largest grid QBER at which EXIT predicts convergence (binary search; -1 if none). */
export function threshold(e: Ensemble, grid: readonly number[]): number {
  let lo = -1;
  let hi = grid.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (converges(e, grid[mid]!)) lo = mid;
    else hi = mid;
  }
  return lo < 0 ? -1 : grid[lo]!;
}

export interface DesignResult {
  readonly ensemble: Ensemble;
  readonly threshold: number;
  /** Efficiency at the threshold: (1 - R) / h(q*). */
  readonly efficiency: number;
}

/** A small seeded generator (SplitMix32) so designs and constructions are reproducible. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/**
 * Searches lambda over degrees {2, 3, a, b} (for each given pair a < b) with concentrated rho:
 * random points of the simplex, then local perturbation of the best, keeping the highest
 * EXIT threshold. Bounded by `evaluations` threshold computations per (a, b) pair.
 */
export function optimise(rate: number, pairs: ReadonlyArray<readonly [number, number]>, seed: number, evaluations = 160): DesignResult {
  const rnd = seededRandom(seed);
  const capacityQ = inverseEntropy(1 - rate);
  const grid = qberGrid(capacityQ * 0.55, capacityQ);
  let best: DesignResult | undefined;
  for (const [a, b] of pairs) {
    const degs = [2, 3, a, b];
    const evaluate = (w: number[]): DesignResult | undefined => {
      const s = w.reduce((x, y) => x + y, 0);
      const lambda = new Map<number, number>();
      degs.forEach((d, i) => { if (w[i]! > 1e-6) lambda.set(d, w[i]! / s); });
      const rho = concentratedRho(lambda, rate);
      if (Math.min(...rho.keys()) < 3) return undefined;
      const ensemble = { lambda, rho };
      const t = threshold(ensemble, grid);
      if (t <= 0) return undefined;
      return { ensemble, threshold: t, efficiency: (1 - rate) / binaryEntropy(t) };
    };
    let local: { w: number[]; r: DesignResult } | undefined;
    for (let i = 0; i < evaluations; i++) {
      let w: number[];
      if (!local || i < evaluations / 3) w = degs.map(() => -Math.log(1 - rnd()));
      else {
        const scale = 0.15 * (1 - i / evaluations) + 0.01;
        w = local.w.map((x) => Math.max(0, x * (1 + scale * (2 * rnd() - 1)) + (rnd() < 0.1 ? scale * rnd() * 0.1 : 0)));
      }
      const s = w.reduce((x, y) => x + y, 0);
      w = w.map((x) => x / s);
      const r = evaluate(w);
      if (r && (!local || r.threshold > local.r.threshold)) local = { w, r };
    }
    if (local && (!best || local.r.threshold > best.threshold)) best = local.r;
  }
  if (!best) throw new Error(`no convergent ensemble found for rate ${rate}`);
  return best;
}

/** q in (0, 1/2] with h(q) = h. */
export function inverseEntropy(h: number): number {
  let lo = 0;
  let hi = 0.5;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (binaryEntropy(mid) < h) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Dense simplex (Big-M, Bland's rule): maximise c.x subject to rows A x <= b, x >= 0 (b of any
 * sign). Returns undefined when infeasible. Small problems only (tens of variables).
 */
export function linearProgram(c: readonly number[], a: readonly (readonly number[])[], b: readonly number[]): number[] | undefined {
  const nv = c.length;
  const nr = a.length;
  const bigM = 1e6;
  // Columns: x (nv), slack/surplus (nr), artificial (nr), rhs.
  const cols = nv + 2 * nr + 1;
  const t: Float64Array[] = [];
  const basis: number[] = [];
  for (let r = 0; r < nr; r++) {
    const row = new Float64Array(cols);
    const neg = b[r]! < 0;
    const s = neg ? -1 : 1;
    for (let j = 0; j < nv; j++) row[j] = s * a[r]![j]!;
    row[nv + r] = s; // slack (becomes surplus when the row was negated)
    row[cols - 1] = s * b[r]!;
    if (neg) {
      row[nv + nr + r] = 1;
      basis.push(nv + nr + r);
    } else basis.push(nv + r);
    t.push(row);
  }
  // Objective row holds reduced costs (we minimise -c.x + M * artificials).
  const z = new Float64Array(cols);
  for (let j = 0; j < nv; j++) z[j] = -c[j]!;
  for (let r = 0; r < nr; r++) if (basis[r]! >= nv + nr) z[basis[r]!] = bigM;
  for (let r = 0; r < nr; r++) {
    const bj = basis[r]!;
    if (z[bj] !== 0) {
      const f = z[bj]!;
      for (let j = 0; j < cols; j++) z[j]! -= f * t[r]![j]!;
    }
  }
  for (let iter = 0; iter < 5000; iter++) {
    let enter = -1;
    for (let j = 0; j < cols - 1; j++) if (z[j]! < -1e-9) { enter = j; break; }
    if (enter < 0) break;
    let leave = -1;
    let best = Infinity;
    for (let r = 0; r < nr; r++) {
      const p = t[r]![enter]!;
      if (p > 1e-12) {
        const ratio = t[r]![cols - 1]! / p;
        if (ratio < best - 1e-12 || (Math.abs(ratio - best) <= 1e-12 && basis[r]! < basis[leave]!)) { best = ratio; leave = r; }
      }
    }
    if (leave < 0) return undefined; // unbounded: cannot happen with sum(lambda) = 1
    const pr = t[leave]!;
    const pv = pr[enter]!;
    for (let j = 0; j < cols; j++) pr[j]! /= pv;
    for (let r = 0; r < nr; r++) {
      if (r === leave) continue;
      const f = t[r]![enter]!;
      if (f !== 0) for (let j = 0; j < cols; j++) t[r]![j]! -= f * pr[j]!;
    }
    const f = z[enter]!;
    for (let j = 0; j < cols; j++) z[j]! -= f * pr[j]!;
    basis[leave] = enter;
  }
  const x = new Array<number>(nv).fill(0);
  for (let r = 0; r < nr; r++) {
    const bj = basis[r]!;
    if (bj >= nv + nr && t[r]![cols - 1]! > 1e-7) return undefined; // an artificial stays: infeasible
    if (bj < nv) x[bj] = t[r]![cols - 1]!;
  }
  return x;
}

/**
 * For check degrees `rho` and channel q, the lambda over `degrees` of highest rate whose EXIT
 * curve stays open (V(C(x)) >= x + gap) on a grid of x: the classic linear program.
 */
export function bestLambda(rho: Distribution, q: number, degrees: readonly number[], gap = 2e-4): Distribution | undefined {
  const t = vnTable(q);
  const rows: number[][] = [];
  const rhs: number[] = [];
  for (let k = 1; k <= 120; k++) {
    const x = 1 - Math.pow(1 - k / 121, 1.5) ; // denser near 1, where the tunnel usually closes
    const sx = jInverse(1 - Math.min(x, 0.99995));
    let yc = 0;
    for (const [d, w] of rho) yc += w * (1 - jFunction(Math.sqrt(d - 1) * sx));
    const sy = jInverse(yc);
    rows.push(degrees.map((d) => -lookup(t, (d - 1) * sy * sy)));
    rhs.push(-(Math.min(x, 0.99995) + gap));
  }
  rows.push(degrees.map(() => 1)); rhs.push(1);
  rows.push(degrees.map(() => -1)); rhs.push(-1);
  const x = linearProgram(degrees.map((d) => 1 / d), rows, rhs);
  if (!x) return undefined;
  const lambda = new Map<number, number>();
  degrees.forEach((d, i) => { if (x[i]! > 1e-5) lambda.set(d, x[i]!); });
  const s = [...lambda.values()].reduce((a, b) => a + b, 0);
  for (const [d, w] of lambda) lambda.set(d, w / s);
  return lambda;
}

/**
 * Design for a target rate: for each check degree mix, the highest q at which the LP reaches the
 * rate (bisection on q); keeps the best. Returns the ensemble with its EXIT threshold.
 */
export function designByLp(rate: number, degrees: readonly number[], checkDegrees: readonly number[]): DesignResult {
  const capacityQ = inverseEntropy(1 - rate);
  const grid = qberGrid(capacityQ * 0.6, capacityQ);
  let best: DesignResult | undefined;
  for (const dc of checkDegrees) {
    const rho: Distribution = new Map([[dc, 1]]);
    let lo = 0;
    let hi = grid.length - 1;
    let found: Distribution | undefined;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const lam = bestLambda(rho, grid[mid]!, degrees);
      if (lam && designRate({ lambda: lam, rho }) >= rate) { lo = mid; found = lam; } else hi = mid;
    }
    if (!found) continue;
    // Re-fit rho to the exact target rate, then measure the real threshold.
    const ensemble = { lambda: found, rho: concentratedRho(found, rate) };
    const th = threshold(ensemble, grid);
    if (th > 0 && (!best || th > best.threshold)) best = { ensemble, threshold: th, efficiency: (1 - rate) / binaryEntropy(th) };
  }
  if (!best) throw new Error(`no ensemble found for rate ${rate}`);
  return best;
}
