import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChannelModel, DetectionGenerator, DEFAULT_DETECTOR, DEFAULT_SOURCE, Sfc32 } from '../../../firmware-bridge/emulator/channel-model.js';
import { DEFAULT_BLOCK, DEFAULT_PROTOCOL } from '../module/config.js';
import { finiteKeyLength } from '../estimation/finite-key.js';
import { binaryEntropy } from '../estimation/statistics.js';
import { squashClicks } from '../session/sifting.js';
import { expectedStatistics, type LinkPhysics } from './physics.js';
import { blockTagBits, linkBlock, plobBitsPerUse, predictBlock, predictSkr, type BlockSize } from './skr.js';
import { linkOverheadBits, physicsFromProtocol } from './link-physics.js';
import { ModelArgumentError } from './errors.js';
import { blockSpread } from './spread.js';

/** Fixed parameters (the link's first defaults), so the limits tested here do not move with the link's tuning. */
const LINK: LinkPhysics = { source: { clockHz: 1e9, mu: [0.5, 0.2, 0], pMu: [0.5, 0.3, 0.2], pZ: 0.7 }, detector: { ...DEFAULT_DETECTOR, pZ: 0.7 }, attenuationDbPerKm: 0.2 };
const BLOCK = linkBlock(1 << 20, 0.7);
const OPTS = { f: 1.1 };

test('the link physics follow the protocol section: source, receiver splitter and dead time', () => {
  const p = physicsFromProtocol(DEFAULT_PROTOCOL);
  assert.equal(p.source, { clockHz: DEFAULT_PROTOCOL.clockHz, mu: [...DEFAULT_PROTOCOL.mu], pMu: [...DEFAULT_PROTOCOL.pMu], pZ: DEFAULT_PROTOCOL.pZ });
  assert.is(p.detector.pZ, DEFAULT_PROTOCOL.rxPZ);
  assert.is(p.detector.deadNs, DEFAULT_PROTOCOL.deadNs);
  assert.is(p.detector.efficiency, DEFAULT_DETECTOR.efficiency);
  assert.is(p.attenuationDbPerKm, 0.2);
  const q = physicsFromProtocol(DEFAULT_PROTOCOL, { detector: { efficiency: 0.3 }, attenuationDbPerKm: 0.18, interceptFraction: 0.5 });
  assert.is(q.detector.efficiency, 0.3);
  assert.is(q.attenuationDbPerKm, 0.18);
  assert.is(q.interceptFraction, 0.5);
  assert.equal(BLOCK, { unit: 'z-events', n: Math.ceil((1 << 20) / 0.7) });
  // The link's own defaults give key over the plotted range.
  for (const km of [10, 50, 100]) assert.ok(predictSkr(p, km, linkBlock(DEFAULT_BLOCK.siftedBits, DEFAULT_PROTOCOL.pZ), OPTS).skrBps > 0, `${km} km`);
});

test('rates fall with distance; finite-key <= asymptotic <= PLOB at every distance', () => {
  let prev = { skr: Infinity, asym: Infinity };
  for (let km = 0; km <= 150; km += 5) {
    const r = predictSkr(LINK, km, BLOCK, OPTS);
    assert.ok(r.skrBps > 0, `${km} km: some key`);
    assert.ok(r.skrBps < prev.skr && r.asymptoticBps < prev.asym, `${km} km: ${r.skrBps} after ${prev.skr}`);
    assert.ok(r.skrBps <= r.asymptoticBps && r.asymptoticBps <= r.plobBps, `${km} km: ${r.skrBps} <= ${r.asymptoticBps} <= ${r.plobBps}`);
    prev = { skr: r.skrBps, asym: r.asymptoticBps };
  }
});

test('zero beyond the cutoff: the finite-key rate first, then the asymptotic one', () => {
  const far = predictSkr(LINK, 170, BLOCK, OPTS);
  assert.is(far.skrBps, 0);
  assert.ok(far.block.finiteKey.reason, 'says why');
  assert.ok(far.asymptoticBps > 0, 'the asymptotic rate reaches further');
  const farther = predictSkr(LINK, 400, BLOCK, OPTS);
  assert.is(farther.asymptoticBps, 0);
  assert.is(farther.skrBps, 0);
});

test('PLOB: -log2(1 - eta), about 1.44 eta for small eta', () => {
  assert.is(plobBitsPerUse(0), 0);
  assert.ok(Math.abs(plobBitsPerUse(0.5) - 1) < 1e-12);
  assert.ok(Math.abs(plobBitsPerUse(1e-6) / 1e-6 - 1 / Math.LN2) < 1e-5);
  const r = predictSkr(LINK, 50, BLOCK, OPTS);
  assert.ok(Math.abs(r.plobBps - -Math.log2(1 - 0.1) * 1e9) < 1, 'η = 0.1 at 50 km of 0.2 dB/km');
});

test('larger blocks and better error correction give more key; an eavesdropper gives none', () => {
  const at = (block: BlockSize, f = 1.1) => predictSkr(LINK, 50, block, { f }).skrBps;
  const small = at({ unit: 'sifted-bits', n: 1e5 });
  const mid = at({ unit: 'sifted-bits', n: 1e6 });
  const big = at({ unit: 'sifted-bits', n: 1e8 });
  assert.ok(small < mid && mid < big, `${small} < ${mid} < ${big}`);
  assert.ok(at({ unit: 'sifted-bits', n: 1e6 }, 1.0) > at({ unit: 'sifted-bits', n: 1e6 }, 1.5));
  const eve = predictSkr({ ...LINK, interceptFraction: 1 }, 10, BLOCK, OPTS);
  assert.is(eve.skrBps, 0);
  assert.is(eve.asymptoticBps, 0);
  assert.ok(eve.qberZ > 0.2);
});

test('block units agree: a block of n sifted bits is n / (sifted bits per pulse) pulses', () => {
  const s = expectedStatistics(LINK, 30);
  const a = predictBlock(LINK, s, { unit: 'sifted-bits', n: 1e6 }, OPTS);
  const b = predictBlock(LINK, s, { unit: 'pulses', n: a.pulses }, OPTS);
  assert.ok(Math.abs(a.siftedBits - 1e6) <= 2);
  assert.equal(a.nZ, b.nZ);
  assert.is(a.secretBits, b.secretBits);
  const c = predictBlock(LINK, s, BLOCK, OPTS);
  // The link's rule gives about its target of sifted bits (a Z click may be squashed to X).
  assert.ok(Math.abs(c.siftedBits / (1 << 20) - 1) < 0.02, `${c.siftedBits}`);
});

test("the model's finite-key length matches the length computed from a seeded emulator block", () => {
  const km = 10;
  const s = expectedStatistics(LINK, km);
  const predicted = predictBlock(LINK, s, { unit: 'sifted-bits', n: 1 << 20 }, OPTS);
  const model = new ChannelModel({ seed: 5, source: LINK.source, fibre: { distanceKm: km, attenuationDbPerKm: 0.2 }, detector: { ...DEFAULT_DETECTOR, ...LINK.detector }, eve: { interceptFraction: 0 } });
  const slots = Math.round(predicted.pulses);
  const g = new DetectionGenerator(model, 0, 1e9, [{ from: 0, to: Infinity, source: LINK.source }], 6);
  const cap = 3_000_000;
  const sl = new Float64Array(cap);
  const m = new Uint8Array(cap);
  const { n } = g.generate(slots, sl, m, 0, cap);
  const rng = new Sfc32(5, 1);
  const { basis, value } = squashClicks(m.subarray(0, n), (k) => Uint8Array.from({ length: k }, () => rng.nextU32() & 1));
  const names = ['signal', 'decoy', 'vacuum'] as const;
  const nZ = { signal: 0, decoy: 0, vacuum: 0 };
  const nX = { signal: 0, decoy: 0, vacuum: 0 };
  const eX = { signal: 0, decoy: 0, vacuum: 0 };
  let eZ = 0;
  for (let i = 0; i < n; i++) {
    const st = model.txSetting(sl[i]!);
    const b = (st >> 1) & 1;
    if (basis[i] !== b) continue;
    const c = names[(st >> 2) & 3]!;
    const wrong = value[i] !== (st & 1);
    if (b === 0) {
      nZ[c]++;
      if (wrong) eZ++;
    } else {
      nX[c]++;
      if (wrong) eX[c]++;
    }
  }
  const sifted = nZ.signal + nZ.decoy + nZ.vacuum;
  const { mu, pMu } = LINK.source;
  const fk = finiteKeyLength({
    source: { intensities: { signal: mu[0]!, decoy: mu[1]!, vacuum: mu[2]! }, probabilities: { signal: pMu[0]!, decoy: pMu[1]!, vacuum: pMu[2]! } },
    key: { detections: nZ },
    test: { detections: nX, errors: eX },
    epsSec: 1e-10,
    epsCor: 1e-15,
    leakEC: 1.1 * sifted * binaryEntropy(eZ / sifted),
  });
  assert.ok(Math.abs(sifted - predicted.siftedBits) < 5 * Math.sqrt(sifted) + 0.01 * sifted, `sifted ${sifted} vs ${predicted.siftedBits}`);
  // ℓ of one block varies (mostly with its X-basis errors): within 4 standard deviations of the model's spread.
  const spread = blockSpread(LINK, s, { unit: 'sifted-bits', n: 1 << 20 }, OPTS, 300, 7);
  assert.ok(spread.sd > 0.005 * spread.expected && spread.sd < 0.05 * spread.expected, `sd ${spread.sd}`);
  assert.ok(Math.abs(fk.length - predicted.secretBits) < 4 * spread.sd, `ℓ emulated ${fk.length} vs model ${predicted.secretBits} ± ${spread.sd.toFixed(0)}`);
});

test('block-to-block spread of ℓ: centred on the expected block, seeded, wider for smaller blocks', () => {
  const s = expectedStatistics(LINK, 50);
  const a = blockSpread(LINK, s, BLOCK, OPTS, 200, 3);
  assert.equal(blockSpread(LINK, s, BLOCK, OPTS, 200, 3), a);
  assert.ok(Math.abs(a.mean - a.expected) < 3 * (a.sd / Math.sqrt(a.samples)) + 0.002 * a.expected, `mean ${a.mean} vs ${a.expected}`);
  assert.ok(a.p05 < a.mean && a.sd > 0);
  const small = blockSpread(LINK, s, { unit: 'sifted-bits', n: 1 << 19 }, OPTS, 200, 3);
  assert.ok(small.expected > 0);
  assert.ok(small.sd / small.expected > a.sd / a.expected, 'relative spread grows as blocks shrink');
  assert.throws(() => blockSpread(LINK, s, BLOCK, OPTS, 1), (e: unknown) => e instanceof ModelArgumentError && e.argument === 'samples');
});

test('the emulator defaults (pZ 0.9, decoy 0.1 sent 20 %): no finite key in 2^20-bit blocks, key in 2^27-bit blocks', () => {
  const emu = { source: DEFAULT_SOURCE, detector: DEFAULT_DETECTOR, attenuationDbPerKm: 0.2 };
  const small = predictSkr(emu, 10, linkBlock(1 << 20, 0.9), OPTS);
  assert.is(small.skrBps, 0);
  assert.match(small.block.finiteKey.reason ?? '', /single-photon/);
  const big = predictSkr(emu, 10, { unit: 'sifted-bits', n: 2 ** 27 }, OPTS);
  assert.ok(big.skrBps > 0 && big.skrBps < big.asymptoticBps);
});

test("the link's overhead: a 128-bit tag per frame and the three error counts, and it costs key bit for bit", () => {
  assert.is(linkOverheadBits(60_975), 128 + 3 * 16);
  assert.is(linkOverheadBits(2 ** 21), 35 * 128 + 3 * 22);
  assert.is(linkOverheadBits(1000, { frameKeyBits: 100, tagBitsPerFrame: 64 }), 640 + 30);
  const plain = predictSkr(LINK, 30, BLOCK, OPTS).block.secretBits;
  const taxed = predictSkr(LINK, 30, BLOCK, { ...OPTS, overheadBits: 5000 }).block.secretBits;
  assert.ok(Math.abs(plain - taxed - 5000) <= 1, `${plain} - ${taxed}`);
});

test('the block\'s verification tag is subtracted as the link discloses it: 64 bits per hash key, not log2(2/ε_cor)', () => {
  const p = predictSkr(LINK, 30, { unit: 'sifted-bits', n: 2 ** 21 }, OPTS).block;
  assert.is(p.finiteKey.terms.correctness, 128, 'two keys for 1e-15 over 2^21 bits');
  assert.is(blockTagBits(1e-15, 2 ** 21), 128);
  assert.is(blockTagBits(1e-15, 1_000_000), 64, 'one key below about 1.18 Mbit');
  assert.is(predictSkr(LINK, 30, BLOCK, OPTS).block.finiteKey.terms.correctness, 64);
});

test('bad options are refused with ModelArgumentError', () => {
  const cases: [string, () => unknown][] = [
    ['f', () => predictSkr(LINK, 10, BLOCK, { f: 0.9 })],
    ['epsSec', () => predictSkr(LINK, 10, BLOCK, { f: 1.1, epsSec: 0 })],
    ['block.unit', () => predictSkr(LINK, 10, { unit: 'bytes' as 'pulses', n: 10 }, OPTS)],
    ['block.n', () => predictSkr(LINK, 10, { unit: 'pulses', n: 0 }, OPTS)],
    ['distanceKm', () => predictSkr(LINK, Number.POSITIVE_INFINITY, BLOCK, OPTS)],
    ['overheadBits', () => predictSkr(LINK, 10, BLOCK, { f: 1.1, overheadBits: -1 })],
  ];
  for (const [arg, run] of cases) assert.throws(run, (e: unknown) => e instanceof ModelArgumentError && e.argument === arg, arg);
});

test.run();
