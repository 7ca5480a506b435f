/**
 * Measures, for every 2^16-bit code of the family and a grid of QBERs, how much each frame must
 * disclose before it decodes, and writes calibration.ts, which the planner reads:
 * `npx tsx host/qkd-link/reconciliation/calibrate.ts [id...]` (with ids: reruns those codes and
 * keeps the other rows). Deterministic: seeded frames, integer decoder; about ten CPU minutes for
 * all codes on one core.
 *
 * Each frame starts below what frames need (all reserved positions punctured, or fewer where
 * that is far too little: well under the least need at the previous QBER; a point where more
 * than a tenth of the frames decode at once is run again from lower down), and blind rounds
 * reveal 0.5 % of k·h(QBER) at a time (punctured bits first; a revealed punctured bit is the
 * same as a shortened one), so a frame's final leak is the least leak, to within a step, at which
 * it decodes with this code at that puncturing. Quantiles of that over the frames give the
 * planner its starting points and its estimate of the mean leak.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CALIBRATION } from './calibration.js';
import { CodeFamily, type CalibrationRow } from './codebook.js';
import type { LdpcCode } from './code.js';
import { binaryEntropy, seededRandom } from './design.js';
import { AliceEndpoint, BobReconciler, MAX_EFFICIENCY } from './reconcile.js';

const FRAMES = 48;
const STEP = 0.005;
const out = fileURLToPath(new URL('./calibration.ts', import.meta.url));

function quantile(sorted: readonly number[], p: number): number {
  const x = p * (sorted.length - 1);
  const i = Math.floor(x);
  return i + 1 < sorted.length ? sorted[i]! + (x - i) * (sorted[i + 1]! - sorted[i]!) : sorted[i]!;
}

/** Efficiency each frame needed (9 for a frame that failed), sorted; share decoded without a blind round; share that needed key reveals. */
function measure(family: CodeFamily, code: LdpcCode, qber: number, punctured: number): { need: number[]; first: number; keyReveals: number } {
  const d = code.punctureOrder.length;
  const k = code.n - d;
  const rnd = seededRandom(0xca11b + code.id * 1000 + Math.round(qber * 1e5));
  const plan = family.planFor(code, qber, punctured);
  // The budget counts Bob's request bits too (some 20 per round, and a frame that starts 0.4
  // below its need takes some 80 rounds of small steps here: 0.5 of k·h at 0.5 % QBER): it is set
  // so that they do not cut a frame short of its need. So is the iteration limit (3-6 per round).
  const bob = new BobReconciler(family, qber, { plan, revealStep: STEP, revealGrowth: Infinity, patience: 3, roundIterations: 30, maxIterations: 2500, maxEfficiency: MAX_EFFICIENCY + 2 });
  const alice = new AliceEndpoint(rnd);
  const frames = [];
  for (let i = 0; i < FRAMES; i++) {
    const a = Uint8Array.from({ length: k }, () => (rnd() < 0.5 ? 1 : 0));
    const b = Uint8Array.from(a, (x) => x ^ (rnd() < qber ? 1 : 0));
    alice.open(i, plan, a);
    frames.push({ frame: i, key: b });
  }
  const reports = bob.reconcile(frames, alice);
  return {
    // Alice's disclosure only: Bob's request bits depend on the step used here; the planner adds
    // them for the step it picks. A need past the budget counts as a failure, as it would in the link.
    need: reports.map((r) => (r.ok && (r.ecLeak - r.bobBits) / r.ecLeak * r.efficiency <= MAX_EFFICIENCY ? ((r.ecLeak - r.bobBits) / r.ecLeak) * r.efficiency : 9)).sort((x, y) => x - y),
    first: reports.filter((r) => r.ok && r.rounds === 0).length / FRAMES,
    keyReveals: reports.filter((r) => r.revealedKey > 0).length / FRAMES,
  };
}

function calibrate(family: CodeFamily, code: LdpcCode, grid: readonly number[]): CalibrationRow[] {
  const d = code.punctureOrder.length;
  const k = code.n - d;
  const rows: CalibrationRow[] = [];
  let floor = 1.0;
  let best = Infinity;
  for (const qber of grid) {
    const kh = k * binaryEntropy(qber);
    const fLow = (code.m - d) / kh; // all reserved punctured
    const fHigh = code.m / kh; // all shortened
    // Only where the code can start near what frames need: not far above, and not so far below
    // that every frame lives on key-bit reveals (a little past full shortening is measured too:
    // there frames need key bits, in the public order, and the planner sees what they cost).
    if (fLow > 1.3 || fHigh < 0.9) continue;
    // Far below its point a code needs far more than the codes made for there (and since the
    // reserved sets grew past the untainted ones, fLow no longer rules those QBERs out).
    if (qber < 0.45 * code.designThreshold) continue;
    let start = Math.max(fLow, floor);
    let m = measure(family, code, qber, Math.min(d, Math.max(0, Math.round(code.m - start * kh))));
    // Too many frames decoded at the start: their need is below it and unmeasured.
    for (let tries = 0; m.first > 0.1 && start > fLow + 1e-9 && tries < 3; tries++) {
      start = Math.max(fLow, start - 0.1);
      m = measure(family, code, qber, Math.min(d, Math.max(0, Math.round(code.m - start * kh))));
    }
    const { need, keyReveals } = m;
    const q = (p: number) => Number(quantile(need, p).toFixed(4));
    process.stderr.write(`code ${code.id} q ${qber} fLow ${fLow.toFixed(3)} start ${start.toFixed(3)} first ${m.first.toFixed(2)} f50 ${q(0.5)} f80 ${q(0.8)} f95 ${q(0.95)} keyRev ${keyReveals.toFixed(2)}\n`);
    if (need[0]! < 2) floor = Math.max(1.0, need[0]! - 0.1);
    // Past the code's best point, once frames live on key reveals and need far more, stop.
    if (keyReveals > 0.9 && q(0.5) > best + 0.15) break;
    best = Math.min(best, q(0.5));
    rows.push([qber, q(0.5), q(0.8), q(0.95), Number(keyReveals.toFixed(3))]);
  }
  return rows;
}

function main(argv: readonly string[]): void {
  const only = argv.map(Number).filter((x) => Number.isInteger(x));
  const family = CodeFamily.load();
  const grid: number[] = [];
  for (let q = 0.003; q < 0.14; q *= 1.1) grid.push(Number(q.toPrecision(3)));
  const table = new Map<number, ReadonlyArray<CalibrationRow>>();
  for (const code of family.codes) {
    if (code.n !== 65536) continue;
    const kept = CALIBRATION.get(code.id);
    table.set(code.id, only.length > 0 && !only.includes(code.id) && kept ? kept : calibrate(family, code, grid));
  }
  const rows = [...table].map(([id, r]) => `  [${id}, [\n${r.map((x) => `    [${x.join(', ')}],\n`).join('')}  ]],`);
  writeFileSync(out, `/**
 * Generated by calibrate.ts (do not edit): per 2^16-bit code id, rows of [QBER, f50, f80, f95,
 * share of frames that needed key bits revealed], where fX is the X-quantile of the efficiency at
 * which ${FRAMES} frames decode when blind rounds reveal ${STEP * 100} % of k·h at a time from below
 * their need. The planner (codebook.ts) reads it.
 */
import type { CalibrationTable } from './codebook.js';

export const CALIBRATION: CalibrationTable = new Map([
${rows.join('\n')}
]);
`);
}

main(process.argv.slice(2));
