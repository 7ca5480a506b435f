import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensembleOfBase, evolve, thresholdByEvolution } from './density.js';

// The (3,6)-regular ensemble's BP threshold on the BSC is 0.084 (Richardson and Urbanke 2001).
const regular36 = { lambda: new Map([[3, 1]]), rho: new Map([[6, 1]]) };

test('density evolution puts the (3,6)-regular threshold on the BSC at 0.084', () => {
  assert.ok(evolve(regular36, 0.08, { size: 10_000 }).converged, 'converges at 0.080');
  assert.not.ok(evolve(regular36, 0.088, { size: 10_000 }).converged, 'stuck at 0.088');
  const grid = Array.from({ length: 21 }, (_, i) => 0.075 + i * 0.001);
  const q = thresholdByEvolution(regular36, grid, { size: 10_000 });
  assert.ok(q >= 0.082 && q <= 0.086, `threshold ${q}`);
});

test('a stuck run keeps a soft bit well below 1; a converged one reaches it', () => {
  const stuck = evolve(regular36, 0.1, { size: 5000 });
  assert.ok(stuck.soft[stuck.soft.length - 1]! < 0.9, `soft bit ${stuck.soft[stuck.soft.length - 1]}`);
  const ok = evolve(regular36, 0.05, { size: 5000 });
  assert.ok(ok.soft[ok.soft.length - 1]! > 1 - 1e-6);
});

test('the degree distributions of a base matrix are counted per edge', () => {
  // Columns of degree 1, 2, 2; rows of degree 3 and 2: five edges.
  const e = ensembleOfBase([{ row: 0, col: 0 }, { row: 0, col: 1 }, { row: 1, col: 1 }, { row: 0, col: 2 }, { row: 1, col: 2 }], 3, 2);
  assert.equal([...e.lambda].sort((a, b) => a[0] - b[0]), [[1, 0.2], [2, 0.8]]);
  assert.equal([...e.rho].sort((a, b) => a[0] - b[0]), [[2, 0.4], [3, 0.6]]);
});

test.run();
