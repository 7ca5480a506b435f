/**
 * Quasi-cyclic construction: a base matrix with the designed degree distribution, lifted with
 * circulant shifts chosen to leave no 4-cycles (girth >= 6) and to avoid 6-cycles where the shift
 * space allows, plus the untainted puncturing order (Elkouss, Martinez-Mateo, Martin 2012).
 */
import type { BaseEntry, CodeSpec, LdpcCode } from './code.js';
import type { Distribution } from './design.js';
import { seededRandom } from './design.js';

/** Node-perspective column degree counts for nb columns from an edge-perspective lambda. */
export function columnDegrees(lambda: Distribution, nb: number): number[] {
  const nodeFrac = [...lambda].map(([d, w]) => [d, w / d] as const);
  const total = nodeFrac.reduce((s, [, f]) => s + f, 0);
  const exact = nodeFrac.map(([d, f]) => [d, (f / total) * nb] as const);
  const counts = exact.map(([d, x]) => [d, Math.floor(x)] as [number, number]);
  let left = nb - counts.reduce((s, [, c]) => s + c, 0);
  const order = exact.map(([, x], i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) { if (left <= 0) break; counts[i]![1]++; left--; }
  const degs: number[] = [];
  for (const [d, c] of counts) for (let k = 0; k < c; k++) degs.push(d);
  return degs.sort((a, b) => a - b);
}

export interface ConstructOptions {
  readonly id: number;
  readonly nb: number;
  readonly mb: number;
  readonly z: number;
  readonly lambda: Distribution;
  readonly seed: number;
  readonly designThreshold: number;
  /** Upper bound on the puncturing list, as a fraction of n. */
  readonly maxPunctureFraction: number;
}

export interface ConstructReport {
  readonly spec: CodeSpec;
  readonly fourCycles: number;
  readonly sixCyclesAvoided: number;
}

export function constructBase(o: ConstructOptions): ConstructReport {
  const rnd = seededRandom(o.seed);
  const { nb, mb, z } = o;
  const colDeg = columnDegrees(o.lambda, nb);
  if (colDeg.some((d) => d > mb)) throw new Error(`column degree ${Math.max(...colDeg)} exceeds mb = ${mb}`);
  // Base placement, lowest-degree columns first: degree-2 columns walk a staircase over the rows
  // (no cycle made of degree-2 columns alone while they last), the rest go to the currently
  // lightest rows, ties broken at random.
  const rowLoad = new Array<number>(mb).fill(0);
  const rows: number[][] = Array.from({ length: nb }, () => []);
  let stair = 0;
  for (let j = 0; j < nb; j++) {
    const d = colDeg[j]!;
    if (d === 2 && stair < mb - 1) {
      rows[j] = [stair, stair + 1];
      stair++;
    } else {
      const cand = Array.from({ length: mb }, (_, i) => i).sort((a, b) => rowLoad[a]! - rowLoad[b]! || rnd() - 0.5);
      rows[j] = cand.slice(0, d);
    }
    for (const i of rows[j]!) rowLoad[i]!++;
  }
  // Shifts, edge by edge: forbid every value closing a 4-cycle; among the rest prefer one that
  // closes no 6-cycle through already-placed edges.
  const shift = new Map<number, number>(); // key i * nb + j
  const rowCols: number[][] = Array.from({ length: mb }, () => []);
  const colRows: number[][] = Array.from({ length: nb }, () => []);
  let fourCycles = 0;
  let sixAvoided = 0;
  const mod = (x: number) => ((x % z) + z) % z;
  for (let j = 0; j < nb; j++) {
    for (const i of rows[j]!) {
      const bad4 = new Uint8Array(z);
      // 4-cycle (i,j)-(i,j2)-(i2,j2)-(i2,j): s_ij - s_ij2 + s_i2j2 - s_i2j = 0
      for (const j2 of rowCols[i]!) {
        const sij2 = shift.get(i * nb + j2)!;
        for (const i2 of colRows[j]!) {
          const si2j2 = shift.get(i2 * nb + j2);
          if (si2j2 === undefined) continue;
          bad4[mod(sij2 - si2j2 + shift.get(i2 * nb + j)!)] = 1;
        }
      }
      // 6-cycle (i,j)-(i,j2)-(i2,j2)-(i2,j3)-(i3,j3)-(i3,j): alternating sum = 0
      const bad6 = new Uint8Array(z);
      let budget = 200_000; // dense high-rate bases cannot avoid 6-cycles anyway: bound the work
      search: for (const j2 of rowCols[i]!) {
        const a = shift.get(i * nb + j2)!;
        for (const i2 of colRows[j2]!) {
          if (i2 === i) continue;
          const b = shift.get(i2 * nb + j2)!;
          for (const j3 of rowCols[i2]!) {
            if (j3 === j2 || j3 === j) continue;
            const c = shift.get(i2 * nb + j3)!;
            if ((budget -= colRows[j]!.length) < 0) break search;
            for (const i3 of colRows[j]!) {
              if (i3 === i || i3 === i2) continue;
              const d = shift.get(i3 * nb + j3);
              if (d === undefined) continue;
              // s_ij - a + b - c + d - s_i3j = 0
              bad6[mod(a - b + c - d + shift.get(i3 * nb + j)!)] = 1;
            }
          }
        }
      }
      const start = Math.floor(rnd() * z);
      let pick = -1;
      let fallback = -1;
      for (let k = 0; k < z; k++) {
        const s = (start + k) % z;
        if (bad4[s]) continue;
        if (fallback < 0) fallback = s;
        if (!bad6[s]) { pick = s; break; }
      }
      if (pick >= 0) sixAvoided++;
      else if (fallback >= 0) pick = fallback;
      else { pick = start; fourCycles++; }
      shift.set(i * nb + j, pick);
      rowCols[i]!.push(j);
      colRows[j]!.push(i);
    }
  }
  const entries: BaseEntry[] = [];
  for (const [key, s] of shift) entries.push({ row: Math.floor(key / nb), col: key % nb, shift: s });
  const spec: CodeSpec = { id: o.id, z, nb, mb, entries, punctureOrder: new Uint32Array(0), designThreshold: o.designThreshold, seed: o.seed };
  return { spec, fourCycles, sixCyclesAvoided: sixAvoided };
}

/**
 * Untainted puncturing: repeatedly puncture a candidate with the smallest two-hop neighbourhood
 * and drop that neighbourhood from the candidates, so every check touches at most one punctured
 * bit and each punctured bit is recoverable in one step. Nested: any prefix is untainted too.
 */
export function untaintedOrder(code: LdpcCode, maxCount: number, seed: number): Uint32Array {
  const rnd = seededRandom(seed);
  const { n, m, rowStart, cols } = code;
  const varChecks: number[][] = Array.from({ length: n }, () => []);
  for (let c = 0; c < m; c++) for (let e = rowStart[c]!; e < rowStart[c + 1]!; e++) varChecks[cols[e]!]!.push(c);
  const twoHop = (v: number) => varChecks[v]!.reduce((s, c) => s + rowStart[c + 1]! - rowStart[c]!, 0);
  const order = Array.from({ length: n }, (_, v) => [twoHop(v), rnd(), v] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const blocked = new Uint8Array(m);
  const out: number[] = [];
  for (const [, , v] of order) {
    if (out.length >= maxCount) break;
    if (varChecks[v]!.some((c) => blocked[c])) continue;
    out.push(v);
    for (const c of varChecks[v]!) blocked[c] = 1;
  }
  return Uint32Array.from(out);
}

/**
 * The reserved positions of a code (punctured or shortened per frame, codebook.ts): the untainted
 * order, then, where its one-per-check rule stops short of `maxCount` (high rates: checks of
 * degree 40-120 leave room for only 2.5-4 % of n), positions that bring no check past two
 * reserved bits, smallest two-hop neighbourhood first. Blind rounds reveal the punctured run from
 * its end, so these later positions are revealed (or shortened) before any untainted one, and a
 * frame at a QBER well below its code's point keeps punctured bits to reveal instead of running on
 * key bits, which tell Bob h(QBER) each (disclosure.ts). Measured with code 2 (rate 0.906) at 1.04
 * % QBER, 24 frames: half of them ran out of untainted positions and failed; with the extension
 * (2780 -> 5242 positions) none, need f50 1.169, f95 1.214.
 */
export function reservedOrder(code: LdpcCode, maxCount: number, seed: number): Uint32Array {
  const untainted = untaintedOrder(code, maxCount, seed);
  if (untainted.length >= maxCount) return untainted;
  const { n, m, rowStart, cols } = code;
  const varChecks: number[][] = Array.from({ length: n }, () => []);
  for (let c = 0; c < m; c++) for (let e = rowStart[c]!; e < rowStart[c + 1]!; e++) varChecks[cols[e]!]!.push(c);
  const count = new Uint8Array(m);
  const reserved = new Uint8Array(n);
  for (const v of untainted) {
    reserved[v] = 1;
    for (const c of varChecks[v]!) count[c]!++;
  }
  const twoHop = (v: number) => varChecks[v]!.reduce((s, c) => s + rowStart[c + 1]! - rowStart[c]!, 0);
  const candidates = Array.from({ length: n }, (_, v) => v).filter((v) => !reserved[v]).map((v) => [twoHop(v), v] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out = Array.from(untainted);
  for (const [, v] of candidates) {
    if (out.length >= maxCount) break;
    if (varChecks[v]!.some((c) => count[c]! >= 2)) continue;
    out.push(v);
    for (const c of varChecks[v]!) count[c]!++;
  }
  return Uint32Array.from(out);
}
