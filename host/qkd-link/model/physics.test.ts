import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChannelModel, DetectionGenerator, DEFAULT_DETECTOR, DEFAULT_SOURCE, Sfc32 } from '../../../firmware-bridge/emulator/channel-model.js';
import { squashClicks } from '../session/sifting.js';
import { CLASSES, detectorRates, expectedStatistics, type LinkPhysics } from './physics.js';
import { ModelArgumentError } from './errors.js';

/** The link's protocol defaults (host/qkd-link/module/config.ts) on the emulator's detector. */
const LINK: LinkPhysics = { source: { clockHz: 1e9, mu: [0.5, 0.2, 0], pMu: [0.5, 0.3, 0.2], pZ: 0.7 }, detector: { ...DEFAULT_DETECTOR, pZ: 0.7 }, attenuationDbPerKm: 0.2 };
const EMULATOR: LinkPhysics = { source: DEFAULT_SOURCE, detector: DEFAULT_DETECTOR, attenuationDbPerKm: 0.2 };
/** The link bench's tuned parameters (QKD-link helper's note, 22:16 UTC): higher bias, unequal splitter. */
const TUNED: LinkPhysics = { source: { clockHz: 1e9, mu: [0.45, 0.2, 0], pMu: [0.3, 0.5, 0.2], pZ: 0.85 }, detector: { ...DEFAULT_DETECTOR, pZ: 0.8 }, attenuationDbPerKm: 0.2 };

interface Counts {
  events: number[];
  zClick: number;
  multi: number;
  gain: { Z: number[]; X: number[] };
  errors: { Z: number[]; X: number[] };
}

/** Runs the emulator's receiver over `slots` slots and sifts its events as the link does (squash, keep matching bases). */
function emulate(p: LinkPhysics, km: number, slots: number, seed: number): Counts {
  const model = new ChannelModel({
    seed,
    source: p.source,
    fibre: { distanceKm: km, attenuationDbPerKm: p.attenuationDbPerKm },
    detector: p.detector,
    eve: { interceptFraction: p.interceptFraction ?? 0 },
  });
  const g = new DetectionGenerator(model, 1000, p.source.clockHz, [{ from: 0, to: Infinity, source: p.source }], seed + 1);
  const cap = 3_000_000;
  const s = new Float64Array(cap);
  const m = new Uint8Array(cap);
  const { n, stoppedAt } = g.generate(1000 + slots, s, m, 0, cap);
  assert.is(stoppedAt, 1000 + slots, 'event buffer large enough');
  const rng = new Sfc32(seed, 9);
  const { basis, value } = squashClicks(m.subarray(0, n), (k) => Uint8Array.from({ length: k }, () => rng.nextU32() & 1));
  const c: Counts = { events: [0, 0, 0], zClick: 0, multi: 0, gain: { Z: [0, 0, 0], X: [0, 0, 0] }, errors: { Z: [0, 0, 0], X: [0, 0, 0] } };
  for (let i = 0; i < n; i++) {
    const st = model.txSetting(s[i]!);
    const k = (st >> 2) & 3;
    const b = (st >> 1) & 1;
    c.events[k]!++;
    if (m[i]! & 3) c.zClick++;
    if (m[i]! & (m[i]! - 1)) c.multi++;
    if (basis[i] !== b) continue;
    const key = b === 0 ? 'Z' : 'X';
    c.gain[key][k]!++;
    if (value[i] !== (st & 1)) c.errors[key][k]!++;
  }
  return c;
}

/** |observed - expected| within z standard deviations of a Poisson count, plus a relative model tolerance. */
function close(what: string, observed: number, expected: number, z: number, rel: number): void {
  const tol = z * Math.sqrt(Math.max(expected, 1)) + rel * expected + 1;
  assert.ok(Math.abs(observed - expected) <= tol, `${what}: emulator ${observed}, model ${expected.toFixed(1)} (tolerance ${tol.toFixed(1)})`);
}

function compare(p: LinkPhysics, km: number, slots: number, seed: number, rel: number): void {
  const c = emulate(p, km, slots, seed);
  const e = expectedStatistics(p, km);
  CLASSES.forEach((cls, k) => {
    close(`${km} km events ${cls}`, c.events[k]!, e.events[cls] * slots, 5, rel);
    for (const b of ['Z', 'X'] as const) {
      close(`${km} km ${b} gain ${cls}`, c.gain[b][k]!, e.sifted[b].gain[cls] * slots, 5, rel);
      close(`${km} km ${b} errors ${cls}`, c.errors[b][k]!, e.sifted[b].errors[cls] * slots, 5, rel);
    }
  });
  close(`${km} km Z-click events`, c.zClick, e.zClickEvents * slots, 5, rel);
  close(`${km} km multi-click events`, c.multi, e.multiClickEvents * slots, 5, rel);
}

test('ideal detectors (no dead time, no after-pulses): counts and errors per class and basis match the emulator within 5 sigma', () => {
  for (const base of [LINK, EMULATOR]) {
    const p = { ...base, detector: { ...base.detector, deadNs: 0, afterpulseProbability: 0, darkCountProbability: 2e-5 } };
    compare(p, 10, 10_000_000, 11, 0);
    compare(p, 80, 60_000_000, 12, 0);
  }
});

test("the emulator's detector (50 ns dead time, 2 % after-pulses): counts and errors match within 5 sigma + 2 %", () => {
  compare(LINK, 10, 20_000_000, 21, 0.02);
  compare(LINK, 50, 60_000_000, 22, 0.02);
  compare(EMULATOR, 10, 20_000_000, 23, 0.02);
  compare(TUNED, 10, 20_000_000, 24, 0.02);
});

test('a saturating detector (10 % after-pulses, 100 ns dead time, 0 km) still matches within 5 sigma + 3 %', () => {
  const p = { ...LINK, detector: { ...LINK.detector, afterpulseProbability: 0.1, deadNs: 100 } };
  compare(p, 0, 10_000_000, 31, 0.03);
});

test('an intercept-resend eavesdropper raises the QBER to about 25 % in the model and in the emulator', () => {
  const p = { ...LINK, interceptFraction: 1 };
  const e = expectedStatistics(p, 20);
  assert.ok(e.sifted.Z.qber.signal > 0.24 && e.sifted.Z.qber.signal < 0.27, `model QBER ${e.sifted.Z.qber.signal}`);
  assert.ok(e.yields.X.e1 > 0.24, `single-photon error ${e.yields.X.e1}`);
  compare(p, 20, 20_000_000, 41, 0.02);
});

test('photon-number yields: vacuum gives dark counts only, one photon is detected with about eta', () => {
  const e = expectedStatistics({ ...LINK, detector: { ...LINK.detector, deadNs: 0, afterpulseProbability: 0 } }, 25);
  const pd = LINK.detector.darkCountProbability;
  // Vacuum: an event in the right basis is a dark click of that basis' detectors (or squashed into it).
  assert.ok(e.yields.Z.y0 > pd && e.yields.Z.y0 < 4 * pd, `Y0 ${e.yields.Z.y0}`);
  // One photon: detected with eta, then in the Z arm with rxPZ.
  const want = e.eta * LINK.detector.pZ;
  assert.ok(Math.abs(e.yields.Z.y1 - want) / want < 0.01, `Y1 ${e.yields.Z.y1} vs ${want}`);
  assert.ok(Math.abs(e.yields.Z.e1 - LINK.detector.misalignment) < 0.002, `e1 ${e.yields.Z.e1}`);
});

test('detector rates: the non-paralysable and after-pulse limits', () => {
  const c = 0.01;
  const noAp = detectorRates(c, 50, 0, 100);
  assert.ok(Math.abs(noAp.rate - c / (1 + c * 50)) < 1e-12);
  assert.is(noAp.afterpulses, 0);
  const noDead = detectorRates(c, 0, 0.05, 100);
  assert.ok(Math.abs(noDead.rate - c / 0.95) < 1e-12);
  assert.ok(Math.abs(noDead.afterpulses - 0.05 * noDead.rate) < 1e-12);
  assert.is(noDead.live, 1);
  // More after-pulses: more clicks, less live time.
  const more = detectorRates(c, 50, 0.1, 100);
  assert.ok(more.rate > noAp.rate && more.live < noAp.live);
});

test('bad parameters are refused with ModelArgumentError naming the parameter', () => {
  const bad: [string, LinkPhysics][] = [
    ['source.pMu', { ...LINK, source: { ...LINK.source, pMu: [0.5, 0.3, 0.1] } }],
    ['source.mu[0]', { ...LINK, source: { ...LINK.source, mu: [0.2, 0.2, 0] } }],
    ['source.mu[1]', { ...LINK, source: { ...LINK.source, mu: [0.5, 0, 0] } }],
    ['source.mu', { ...LINK, source: { ...LINK.source, mu: [0.5, 0.2] } }],
    ['detector.efficiency', { ...LINK, detector: { ...LINK.detector, efficiency: 1.2 } }],
    ['detector.afterpulseProbability', { ...LINK, detector: { ...LINK.detector, afterpulseProbability: 1 } }],
    ['attenuationDbPerKm', { ...LINK, attenuationDbPerKm: -0.2 }],
    ['interceptFraction', { ...LINK, interceptFraction: Number.NaN }],
  ];
  for (const [arg, p] of bad) {
    try {
      expectedStatistics(p, 10);
      assert.unreachable(`${arg} accepted`);
    } catch (e) {
      assert.instance(e, ModelArgumentError);
      assert.is((e as ModelArgumentError).code, 'ERR_MODEL_ARGUMENT');
      assert.is((e as ModelArgumentError).argument, arg);
    }
  }
  assert.throws(() => expectedStatistics(LINK, -1), (e: unknown) => e instanceof ModelArgumentError && e.argument === 'distanceKm');
});

test.run();
