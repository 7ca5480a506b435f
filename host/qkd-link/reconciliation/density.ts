/**
 * Density evolution of belief propagation on the binary symmetric channel by population dynamics
 * (each message density held as a large sample), exact up to sampling noise, with nothing
 * assumed about the densities' shape. A check on the EXIT design of design.ts, which takes every
 * message entering a check as a consistent Gaussian: on the BSC a variable node's output is a
 * two-lobed mixture, and at the check degrees of the high rates (30-120) that costs accuracy.
 *
 * `npx tsx host/qkd-link/reconciliation/density.ts [id...]` prints, for the shipped 2^16 codes, the
 * threshold of each code's own degree distribution (read from its base matrix) by this density
 * evolution next to the EXIT design's figure stored in the code file.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeCodeFile } from './code.js';
import { binaryEntropy, inverseEntropy, seededRandom, type Distribution, type Ensemble } from './design.js';

/** Magnitudes are clipped here (tanh(30) is 1 to 26 digits: nothing is lost). */
const CLIP = 60;
const PHI_STEP = 1 / 256;
const PHI_MAX = 40;
const PHI_FINE = 1 / 64;

/** phi(x) = -ln tanh(x / 2), its own inverse on (0, inf). */
function phiExact(x: number): number {
  if (x <= 1e-300) return 2 * CLIP;
  if (x > PHI_MAX) return 2 * Math.exp(-x);
  return -Math.log(Math.tanh(x / 2));
}

const PHI_TABLE = Float64Array.from({ length: Math.ceil(PHI_MAX / PHI_STEP) + 2 }, (_, i) => phiExact(Math.max(i * PHI_STEP, 1e-300)));

/** phi by table with linear interpolation above PHI_FINE (relative error below 1e-5 there); exact below. */
function phi(x: number): number {
  if (x < PHI_FINE || x >= PHI_MAX) return phiExact(x);
  const u = x / PHI_STEP;
  const i = u | 0;
  const f = u - i;
  return PHI_TABLE[i]! * (1 - f) + PHI_TABLE[i + 1]! * f;
}

/** Degrees laid over a population of size n in proportion to the edge-perspective weights (stratified: no degree noise). */
function stratify(d: Distribution, n: number): Uint16Array {
  const out = new Uint16Array(n);
  const entries = [...d].filter(([, w]) => w > 0).sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let acc = 0;
  let i = 0;
  for (const [deg, w] of entries) {
    acc += w / total;
    const end = Math.min(n, Math.round(acc * n));
    for (; i < end; i++) out[i] = deg;
  }
  for (; i < n; i++) out[i] = entries[entries.length - 1]![0];
  return out;
}

export interface Trajectory {
  readonly converged: boolean;
  /** Soft bit E[tanh(L/2)] of the variable-to-check messages entering iteration l (x_0: the channel alone). */
  readonly soft: readonly number[];
}

export interface PopulationOptions {
  /** Population size (default 20 000). */
  readonly size?: number;
  readonly seed?: number;
  readonly maxIterations?: number;
}

/**
 * Runs density evolution of belief propagation for ensemble `e` on BSC(q), the all-zero word
 * sent (the channel is symmetric and so is BP). Converged when the soft bit reaches 1 - 1e-7.
 */
export function evolve(e: Ensemble, q: number, o: PopulationOptions = {}): Trajectory {
  const n = o.size ?? 20_000;
  const rnd = seededRandom(o.seed ?? 0x5eed);
  const maxIterations = o.maxIterations ?? 1500;
  const lc = Math.log((1 - q) / q);
  const vDeg = stratify(e.lambda, n);
  const cDeg = stratify(e.rho, n);
  const v = new Float64Array(n);
  const c = new Float64Array(n);
  const vPhi = new Float64Array(n);
  const vNeg = new Uint8Array(n);
  for (let i = 0; i < n; i++) v[i] = rnd() < q ? -lc : lc;
  let soft = (1 - 2 * q) * (1 - 2 * q);
  let best = soft;
  let bestAt = 0;
  const noise = 0.3 / Math.sqrt(n);
  const softs = [soft];
  let converged = false;
  for (let it = 0; it < maxIterations; it++) {
    for (let i = 0; i < n; i++) {
      const x = v[i]!;
      vNeg[i] = x < 0 ? 1 : 0;
      vPhi[i] = phi(x < 0 ? -x : x);
    }
    for (let i = 0; i < n; i++) {
      const d = cDeg[i]!;
      let s = 0;
      let neg = 0;
      for (let k = 1; k < d; k++) {
        const r = (rnd() * n) | 0;
        s += vPhi[r]!;
        neg ^= vNeg[r]!;
      }
      const m = phi(s);
      c[i] = neg ? -m : m;
    }
    let t = 0;
    for (let i = 0; i < n; i++) {
      const d = vDeg[i]!;
      let s = rnd() < q ? -lc : lc;
      for (let k = 1; k < d; k++) s += c[(rnd() * n) | 0]!;
      if (s > CLIP) s = CLIP;
      else if (s < -CLIP) s = -CLIP;
      v[i] = s;
      t += Math.tanh(s / 2);
    }
    soft = t / n;
    softs.push(soft);
    if (soft > 1 - 1e-7) {
      converged = true;
      break;
    }
    // Stuck: no new best by more than the sampling noise (~0.3 / sqrt(n)) for 150 iterations.
    // Near the threshold the messages creep through the bottleneck slowly; a criterion on the
    // last few iterations' gain would mistake a noisy slow climb for a fixed point.
    if (soft > best + noise) {
      best = soft;
      bestAt = it;
    } else if (it - bestAt >= 150) break;
  }
  return { converged, soft: softs };
}

/** Largest q on `grid` (ascending) at which density evolution converges, by bisection (-1 if none). */
export function thresholdByEvolution(e: Ensemble, grid: readonly number[], o: PopulationOptions = {}): number {
  let lo = -1;
  let hi = grid.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (evolve(e, grid[mid]!, o).converged) lo = mid;
    else hi = mid;
  }
  return lo < 0 ? -1 : grid[lo]!;
}

/** The edge-perspective degree distributions of a base matrix (every circulant is one edge per row and column). */
export function ensembleOfBase(entries: ReadonlyArray<{ readonly row: number; readonly col: number }>, nb: number, mb: number): Ensemble {
  const colDeg = new Array<number>(nb).fill(0);
  const rowDeg = new Array<number>(mb).fill(0);
  for (const e of entries) {
    colDeg[e.col]!++;
    rowDeg[e.row]!++;
  }
  const lambda = new Map<number, number>();
  const rho = new Map<number, number>();
  for (const d of colDeg) if (d > 0) lambda.set(d, (lambda.get(d) ?? 0) + d / entries.length);
  for (const d of rowDeg) if (d > 0) rho.set(d, (rho.get(d) ?? 0) + d / entries.length);
  return { lambda, rho };
}

function main(argv: readonly string[]): void {
  const only = argv.map(Number).filter((x) => Number.isInteger(x));
  const dir = fileURLToPath(new URL('./codes/', import.meta.url));
  for (const file of readdirSync(dir).filter((f) => f.endsWith('-n16.bin')).sort()) {
    const spec = decodeCodeFile(readFileSync(`${dir}${file}`), file);
    if (only.length > 0 && !only.includes(spec.id)) continue;
    const rate = 1 - spec.mb / spec.nb;
    const capacityQ = inverseEntropy(1 - rate);
    const grid: number[] = [];
    for (let q = capacityQ * 0.5; q < capacityQ; q *= 1.004) grid.push(q);
    const q = thresholdByEvolution(ensembleOfBase(spec.entries, spec.nb, spec.mb), grid, { size: 30_000 });
    const f = (t: number) => (t > 0 ? ((1 - rate) / binaryEntropy(t)).toFixed(3) : '-');
    process.stdout.write(`code ${spec.id} ${file}: rate ${rate.toFixed(3)} density evolution q* ${q.toFixed(5)} f* ${f(q)} | EXIT design q* ${spec.designThreshold.toFixed(5)} f* ${f(spec.designThreshold)}\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
