import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { finiteKeyLength, decoyBounds, photonNumberProbability, samplingDeviation, type DecoySource, type FiniteKeyParameters, type PerClass } from './finite-key.js';
import { binaryEntropy } from './statistics.js';
import { EstimationArgumentError } from './errors.js';

const close = (got: number, want: number, rel = 1e-9, msg = '') => assert.ok(Math.abs(got - want) <= rel * Math.max(1, Math.abs(want)), `${msg} ${got} != ${want}`);

// The paper's regime: μ3 = 2e-4 (Lim et al. Sec. IV), signal 0.5, decoy 0.1.
const source: DecoySource = { intensities: { signal: 0.5, decoy: 0.1, vacuum: 2e-4 }, probabilities: { signal: 0.7, decoy: 0.2, vacuum: 0.1 } };

const vector1: FiniteKeyParameters = {
  source,
  key: { detections: { signal: 8_000_000, decoy: 450_000, vacuum: 1_000 } },
  test: { detections: { signal: 900_000, decoy: 50_000, vacuum: 120 }, errors: { signal: 9_000, decoy: 700, vacuum: 60 } },
  epsSec: 1e-10,
  epsCor: 1e-15,
  leakEC: 700_000,
};

test('τ_n: photon-number probabilities of the three-intensity source', () => {
  // τ0 = 0.7 e^-0.5 + 0.2 e^-0.1 + 0.1 e^-0.0002; τ1 = 0.7 · 0.5 e^-0.5 + 0.2 · 0.1 e^-0.1 + 0.1 · 2e-4 e^-0.0002
  close(photonNumberProbability(source, 0), 0.7055189474059019);
  close(photonNumberProbability(source, 1), 0.23040247526054086);
});

test('Eqs. (1)-(5) on a worked parameter set (values derived step by step outside this code)', () => {
  // Hoeffding term: sqrt(8451000 / 2 · ln(21e10)) = 10495.6; with 1000 vacuum counts s_X,0 is 0.
  // These values take the vacuum bound clamped at 0 into Eq. (3); the next test pins both.
  const r = finiteKeyLength({ ...vector1, vacuumBound: 'clamped' });
  assert.is(r.key.s0, 0);
  close(r.key.s1, 4501128.483461195, 1e-9, 's_X,1');
  close(r.test.s1, 390713.05332847615, 1e-9, 's_Z,1');
  close(r.test.v1, 20331.0893122516, 1e-9, 'v_Z,1');
  close(r.phaseErrorRate, 0.05551389144670901, 1e-9, 'φ_X');
  close(r.terms.secrecy, 6 * Math.log2(21e10));
  close(r.terms.correctness, Math.log2(2e15));
  assert.is(r.length, 2408323);
  // A key basis with more vacuum counts certifies vacuum events too.
  const r2 = finiteKeyLength({ ...vector1, key: { detections: { signal: 8_000_000, decoy: 450_000, vacuum: 60_000 } }, vacuumBound: 'clamped' });
  close(r2.key.s0, 346175.2647152322, 1e-9, 's_X,0');
  close(r2.key.s1, 2852329.755943246, 1e-9, 's_X,1');
  close(r2.phaseErrorRate, 0.055595169558073074, 1e-9, 'φ_X');
  assert.is(r2.length, 1614846);
  assert.is(r2.reason, undefined);
});

test('which vacuum bound enters Eq. (3): as printed by default (less key where Eq. (2) is negative), clamped at 0 on request', () => {
  // Hoeffding swamps 1000 vacuum counts: Eq. (2) is negative for both bases.
  const printed = finiteKeyLength(vector1);
  const clamped = finiteKeyLength({ ...vector1, vacuumBound: 'clamped' });
  assert.is(printed.vacuumBound, 'printed');
  assert.is(clamped.vacuumBound, 'clamped');
  close(printed.key.s1, 4489548.813565031, 1e-9, 's_X,1 printed');
  close(printed.test.s1, 386710.2011035425, 1e-9, 's_Z,1 printed');
  close(printed.phaseErrorRate, 0.05608643817307072, 1e-9, 'φ_X printed');
  assert.is(printed.length, 2389837);
  assert.is(clamped.length, 2408323);
  assert.ok(clamped.length > printed.length);
});

/**
 * The paper's own rate formulas (Lim et al., PRA 89, 022307, 2014, Sec. IV), to reproduce its
 * regime here: η_sys = 10^(-α L / 10) η_Bob, D_k = 1 - (1 - 2 p_dc) e^{-η_sys μ_k},
 * R_k = D_k (1 + p_ap), e_k = p_dc + e_mis (1 - e^{-η_sys μ_k}) + p_ap D_k / 2. The project's link
 * model is host/qkd-link/model/physics.ts; this is a test vector's source, not a second model.
 */
function paperRates(km: number, mu: number): { detection: number; error: number } {
  const [alpha, etaBob, pdc, pap, emis] = [0.2, 0.1, 6e-7, 4e-2, 5e-3];
  const etaSys = 10 ** ((-alpha * km) / 10) * etaBob;
  const d = 1 - (1 - 2 * pdc) * Math.exp(-etaSys * mu);
  return { detection: d * (1 + pap), error: pdc + emis * (1 - Math.exp(-etaSys * mu)) + (pap * d) / 2 };
}

/** Expected statistics of a block of nKey key-basis detections over `km` of fibre (paper's model). */
function block(km: number, nKey: number, qKey = 0.7, f = 1.16): FiniteKeyParameters {
  const classes = ['signal', 'decoy', 'vacuum'] as const;
  const rates = Object.fromEntries(classes.map((c) => [c, paperRates(km, source.intensities[c])])) as Record<(typeof classes)[number], ReturnType<typeof paperRates>>;
  const perPulse = classes.reduce((s, c) => s + source.probabilities[c] * rates[c].detection, 0);
  const pulses = nKey / (qKey * qKey * perPulse);
  const per = (fn: (c: (typeof classes)[number]) => number): PerClass => ({ signal: fn('signal'), decoy: fn('decoy'), vacuum: fn('vacuum') });
  const keyDet = per((c) => Math.round(pulses * qKey * qKey * source.probabilities[c] * rates[c].detection));
  const testDet = per((c) => Math.round(pulses * (1 - qKey) ** 2 * source.probabilities[c] * rates[c].detection));
  const testErr = per((c) => Math.round(pulses * (1 - qKey) ** 2 * source.probabilities[c] * rates[c].error));
  const keyErr = classes.reduce((s, c) => s + source.probabilities[c] * rates[c].error, 0) / perPulse;
  const n = keyDet.signal + keyDet.decoy + keyDet.vacuum;
  return { source, key: { detections: keyDet }, test: { detections: testDet, errors: testErr }, epsSec: 1e-10, epsCor: 1e-15, leakEC: Math.ceil(f * n * binaryEntropy(keyErr)) };
}

test('the secret fraction grows with the block size (paper model, 25 km, q_key = 0.7)', () => {
  let prev = 0;
  for (const n of [1e7, 1e8, 1e9]) {
    const r = finiteKeyLength(block(25, n));
    const fraction = r.length / r.key.n;
    assert.ok(fraction > prev, `n_X = ${n}: ${fraction} > ${prev}`);
    assert.ok(fraction < 1, 'never more key than detections');
    prev = fraction;
  }
  assert.ok(prev > 0.2, `large blocks at 25 km keep a fifth of the bits (${prev})`);
});

test('no key from small blocks, long fibres or a high QBER, and the result says why', () => {
  const small = finiteKeyLength(block(25, 1e5));
  assert.is(finiteKeyLength(block(25, 1e6)).length, 0, 'the finite-size terms still dominate at 1e6');
  assert.is(small.length, 0);
  assert.ok(small.reason);
  const far = finiteKeyLength(block(300, 1e6));
  assert.is(far.length, 0);
  assert.ok(far.reason);
  // 12 % errors in every test-basis class: the phase-error bound reaches 1/2 or the leak eats the key.
  const b = block(25, 1e7);
  const noisy: FiniteKeyParameters = {
    ...b,
    test: { detections: b.test.detections, errors: { signal: Math.round(0.12 * b.test.detections.signal), decoy: Math.round(0.12 * b.test.detections.decoy), vacuum: Math.round(0.5 * b.test.detections.vacuum) } },
    leakEC: Math.ceil(1.16 * b.key.detections.signal * binaryEntropy(0.12)),
  };
  const r = finiteKeyLength(noisy);
  assert.is(r.length, 0);
  assert.ok(r.phaseErrorRate > 0.12);
});

test('the key length falls with distance and with the leak', () => {
  const lengths = [10, 50, 100, 150].map((km) => finiteKeyLength(block(km, 1e8)).length / 1e8);
  for (let i = 1; i < lengths.length; i++) assert.ok(lengths[i]! < lengths[i - 1]!, `${lengths}`);
  const b = block(50, 1e7);
  assert.is(finiteKeyLength({ ...b, leakEC: b.leakEC + 1000 }).length, finiteKeyLength(b).length - 1000);
});

test('decoy bounds: the single-photon bound never exceeds the detections; the sampling term shrinks with size', () => {
  const b = block(50, 1e7);
  const bounds = decoyBounds(b.source, b.key, 1e-10);
  const n = b.key.detections.signal + b.key.detections.decoy + b.key.detections.vacuum;
  assert.ok(bounds.s1 > 0 && bounds.s1 < n);
  assert.ok(samplingDeviation(1e-10, 0.02, 1e4, 1e5) > samplingDeviation(1e-10, 0.02, 1e6, 1e7));
  assert.is(samplingDeviation(1e-10, 0, 1e4, 1e5), Infinity);
  // γ(a, b, c, d)^2 = (c + d)(1 - b) b / (c d ln 2) · log2((c + d) / (c d (1 - b) b) · 21^2 / a^2)
  const [a, b2, c2, d2] = [1e-10, 0.05, 1e5, 1e6];
  const want = Math.sqrt((((c2 + d2) * (1 - b2) * b2) / (c2 * d2 * Math.LN2)) * Math.log2(((c2 + d2) / (c2 * d2 * (1 - b2) * b2)) * (441 / (a * a))));
  close(samplingDeviation(a, b2, c2, d2), want, 1e-12, 'γ');
});

test('finite-key estimation rejects bad intensities, probabilities, counts and ε by name', () => {
  const arg = (name: string) => (e: unknown) => e instanceof EstimationArgumentError && e.argument === name && e.code === 'ERR_ESTIMATION_ARGUMENT';
  assert.throws(() => finiteKeyLength({ ...vector1, source: { ...source, intensities: { signal: 0.5, decoy: 0.1, vacuum: 0.2 } } }), arg('intensities.decoy'));
  assert.throws(() => finiteKeyLength({ ...vector1, source: { ...source, intensities: { signal: 0.1, decoy: 0.08, vacuum: 0.05 } } }), arg('intensities.signal'));
  assert.throws(() => finiteKeyLength({ ...vector1, source: { ...source, intensities: { signal: Number.NaN, decoy: 0.1, vacuum: 0 } } }), arg('intensities.signal'));
  assert.throws(() => finiteKeyLength({ ...vector1, source: { ...source, probabilities: { signal: 0.7, decoy: 0.2, vacuum: 0.2 } } }), arg('probabilities'));
  assert.throws(() => finiteKeyLength({ ...vector1, epsSec: 0 }), arg('epsSec'));
  assert.throws(() => finiteKeyLength({ ...vector1, epsCor: Infinity }), arg('epsCor'));
  assert.throws(() => finiteKeyLength({ ...vector1, leakEC: -1 }), arg('leakEC'));
  assert.throws(() => finiteKeyLength({ ...vector1, key: { detections: { signal: 1.5, decoy: 1, vacuum: 1 } } }), arg('key.detections.signal'));
  assert.throws(() => finiteKeyLength({ ...vector1, test: { detections: vector1.test.detections } }), arg('test.errors'));
  assert.throws(() => finiteKeyLength({ ...vector1, test: { detections: vector1.test.detections, errors: { signal: 1e7, decoy: 0, vacuum: 0 } } }), arg('test.errors.signal'));
});

test.run();
