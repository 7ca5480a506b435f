import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { binaryEntropy, hoeffdingDelta, estimateQber, regularizedBeta, serflingDelta } from './statistics.js';
import { EstimationArgumentError } from './errors.js';

test('binary entropy: known points and symmetry', () => {
  assert.is(binaryEntropy(0), 0);
  assert.is(binaryEntropy(0.5), 1);
  assert.ok(Math.abs(binaryEntropy(0.11) - 0.4999157) < 1e-6);
  assert.ok(Math.abs(binaryEntropy(0.03) - binaryEntropy(0.97)) < 1e-15);
  assert.throws(() => binaryEntropy(1.2), (e: unknown) => e instanceof EstimationArgumentError && e.argument === 'x');
});

test('regularized incomplete beta matches closed forms', () => {
  // I_x(1, b) = 1 - (1 - x)^b; I_x(a, 1) = x^a
  assert.ok(Math.abs(regularizedBeta(0.3, 1, 5) - (1 - 0.7 ** 5)) < 1e-12);
  assert.ok(Math.abs(regularizedBeta(0.3, 4, 1) - 0.3 ** 4) < 1e-12);
  assert.ok(Math.abs(regularizedBeta(0.5, 7, 7) - 0.5) < 1e-12);
});

test('Clopper-Pearson QBER bounds: exact at the edges, contain the estimate, tighten with samples', () => {
  // 0 errors in n: upper = 1 - eps^(1/n) (solves (1 - p)^n = eps).
  const z = estimateQber(0, 1000, 1e-3);
  assert.is(z.lower, 0);
  assert.ok(Math.abs(z.upper - (1 - 1e-3 ** (1 / 1000))) < 1e-9);
  const a = estimateQber(30, 1000, 1e-6);
  const b = estimateQber(3000, 100_000, 1e-6);
  assert.ok(a.lower < 0.03 && a.upper > 0.03 && b.lower < 0.03 && b.upper > 0.03);
  assert.ok(b.upper - b.lower < a.upper - a.lower);
  // The upper bound solves P[Bin(n, p) <= e] = eps: check by summing the binomial directly.
  let cdf = 0;
  let term = (1 - a.upper) ** 1000;
  for (let k = 0; k <= 30; k++) {
    cdf += term;
    term *= ((1000 - k) / (k + 1)) * (a.upper / (1 - a.upper));
  }
  assert.ok(Math.abs(cdf - 1e-6) < 1e-9, `P = ${cdf}`);
  assert.equal(estimateQber(0, 0, 0.01), { errors: 0, compared: 0, qber: 0, lower: 0, upper: 1 });
  assert.throws(() => estimateQber(5, 4, 0.01), (e: unknown) => e instanceof EstimationArgumentError && e.argument === 'errors');
  assert.throws(() => estimateQber(1, 4, 2), (e: unknown) => e instanceof EstimationArgumentError && e.argument === 'eps');
});

test('Hoeffding and Serfling deviations', () => {
  assert.ok(Math.abs(hoeffdingDelta(1e6, Math.exp(-2)) - 1000) < 1e-9);
  // n = k = 1e4, eps = e^-1: sqrt(2e4 / 1e8 · 10001 / 1e4) = 0.014143...
  assert.ok(Math.abs(serflingDelta(1e4, 1e4, Math.exp(-1)) - Math.sqrt((2e4 / 1e8) * (10001 / 1e4))) < 1e-12);
  assert.is(serflingDelta(10, 0, 0.1), Infinity);
});

test.run();
