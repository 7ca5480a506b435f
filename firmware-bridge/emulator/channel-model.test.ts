import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChannelModel, DetectionGenerator, DEFAULT_DETECTOR, DEFAULT_SOURCE, NO_EVE, SIGNAL_CHUNK, SignalProcess, slotHash, type ChannelParams, type EmissionInterval } from './channel-model.js';

const params = (over: Partial<ChannelParams> & { km?: number; det?: Partial<ChannelParams['detector']> } = {}): ChannelParams => ({
  seed: over.seed ?? 42,
  source: over.source ?? DEFAULT_SOURCE,
  fibre: { distanceKm: over.km ?? 10, attenuationDbPerKm: 0.2 },
  detector: { ...DEFAULT_DETECTOR, ...over.det },
  eve: over.eve ?? NO_EVE,
});

function run(model: ChannelModel, start: number, slots: number, cuts = 1, runSeed = 1): { slots: Float64Array; masks: Uint8Array; n: number } {
  const emissions: EmissionInterval[] = [{ from: 0, to: Infinity, source: model.params.source }];
  const g = new DetectionGenerator(model, start, model.params.source.clockHz, emissions, runSeed);
  const cap = 2_000_000;
  const s = new Float64Array(cap);
  const m = new Uint8Array(cap);
  let n = 0;
  for (let c = 1; c <= cuts; c++) n = g.generate(start + Math.round((slots * c) / cuts), s, m, n, cap).n;
  return { slots: s, masks: m, n };
}

test('transmitter choices follow pMu and pZ and are a pure function of seed and slot', () => {
  const model = new ChannelModel(params());
  const counts = [0, 0, 0];
  let z = 0;
  let ones = 0;
  const N = 200_000;
  for (let s = 0; s < N; s++) {
    const b = model.txSetting(2 ** 40 + s);
    counts[(b >> 2) & 3]!++;
    if (((b >> 1) & 1) === 0) z++;
    ones += b & 1;
  }
  DEFAULT_SOURCE.pMu.forEach((p, k) => assert.ok(Math.abs(counts[k]! / N - p) < 5 * Math.sqrt((p * (1 - p)) / N), `class ${k}: ${counts[k]! / N} vs ${p}`));
  assert.ok(Math.abs(z / N - 0.9) < 5 * Math.sqrt(0.09 / N));
  assert.ok(Math.abs(ones / N - 0.5) < 5 * Math.sqrt(0.25 / N));
  const other = new ChannelModel(params());
  for (const s of [0, 1, 2 ** 33 + 7, 2 ** 52]) assert.is(other.txSetting(s), model.txSetting(s));
  const reseeded = new ChannelModel(params({ seed: 43 }));
  let same = 0;
  for (let s = 0; s < 1000; s++) if (reseeded.txSetting(s) === model.txSetting(s)) same++;
  assert.ok(same < 700, 'another seed gives other choices');
});

test('transmitter choices: slotHash stream 1 against the class cuts given S (the signal process of its chunk), stream 2 for value bit and basis against pZ', () => {
  const sources = [DEFAULT_SOURCE, { ...DEFAULT_SOURCE, mu: [0.5], pMu: [1] }, { ...DEFAULT_SOURCE, mu: [0.6, 0.3, 0.1, 0], pMu: [0.4, 0.3, 0.2, 0.1], pZ: 0.5 }, { ...DEFAULT_SOURCE, mu: [0.5, 0.1, 0.2], pMu: [0.5, 0, 0.5] }];
  for (const source of sources) {
    const model = new ChannelModel(params({ km: 0, source }));
    const seed = params().seed;
    const y = source.mu.map((m) => -Math.expm1(-m * model.eta));
    const yBar = source.pMu.reduce((a, p, k) => a + p * y[k]!, 0);
    const list = new Int32Array(SIGNAL_CHUNK);
    let rng = 12345;
    let signals = 0;
    // 40 chunks (the edges of 2^32 and 2^53 among them), 500 slots in each.
    const bases = [0, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - SIGNAL_CHUNK, 2 ** 40, 2 ** 31];
    while (bases.length < 40) bases.push((rng = (Math.imul(rng, 1103515245) + 12345) >>> 0) * 2 ** 20);
    for (const b of bases) {
      const chunk = Math.floor(b / SIGNAL_CHUNK);
      const n = new SignalProcess(seed, yBar).fill(chunk, list);
      const inChunk = new Set(list.subarray(0, n));
      for (let i = 0; i < 500; i++) {
        rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
        const s = Math.max(b, chunk * SIGNAL_CHUNK + (i < 100 ? list[i % Math.max(1, n)]! : rng % SIGNAL_CHUNK));
        const sig = inChunk.has(s - chunk * SIGNAL_CHUNK) ? 1 : 0;
        if (i >= 100) signals += sig;
        const h1 = slotHash(seed, s, 1);
        const h2 = slotHash(seed, s, 2);
        // P(k | S): pMu_k y_k / ȳ for a signal slot, pMu_k (1 - y_k) / (1 - ȳ) otherwise.
        const w = source.pMu.map((p, k) => (sig ? (p * y[k]!) / yBar : (p * (1 - y[k]!)) / (1 - yBar)));
        let acc = 0;
        let k = 0;
        while (k < source.pMu.length - 1 && h1 >= Math.min(0xffffffff, Math.round((acc += w[k]!) * 2 ** 32))) k++;
        const basis = h2 >>> 1 < Math.round(source.pZ * 0x80000000) ? 0 : 1;
        assert.is(model.txSetting(s), (h2 & 1) | (basis << 1) | (k << 2), `slot ${s} with pMu ${source.pMu}`);
      }
    }
    const M = 40 * 400;
    assert.ok(Math.abs(signals / M - yBar) < 5 * Math.sqrt((yBar * (1 - yBar)) / M), `signal slots ${signals / M} vs ȳ ${yBar}`);
  }
});

test('without dead time and after-pulses the click count per intensity class matches the model within 5 sigma', () => {
  for (const km of [10, 50, 100]) {
    const model = new ChannelModel(params({ km, det: { deadNs: 0, afterpulseProbability: 0, darkCountProbability: 1e-5 } }));
    const slots = 20_000_000;
    const r = run(model, 1000, slots);
    const per = [0, 0, 0];
    for (let i = 0; i < r.n; i++) per[(model.txSetting(r.slots[i]!) >> 2) & 3]!++;
    const exp = model.expectedEvents(slots, 1e9);
    exp.perClass.forEach((e, k) => {
      assert.ok(Math.abs(per[k]! - e) < 5 * Math.sqrt(e) + 1, `${km} km class ${k}: ${per[k]} vs ${e.toFixed(1)}`);
    });
    assert.ok(Math.abs(r.n - exp.total) < 5 * Math.sqrt(exp.total), `${km} km total ${r.n} vs ${exp.total}`);
  }
});

test('dead time and after-pulses change the rate as the first-order model says', () => {
  const model = new ChannelModel(params({ km: 10, det: { deadNs: 50, afterpulseProbability: 0.05 } }));
  const slots = 5_000_000;
  const r = run(model, 0, slots);
  const exp = model.expectedEvents(slots, 1e9).total;
  assert.ok(Math.abs(r.n - exp) / exp < 0.02, `${r.n} vs ${exp}`);
  // no two clicks of one detector closer than the dead time
  const last = [-1e9, -1e9, -1e9, -1e9];
  for (let i = 0; i < r.n; i++) {
    for (let j = 0; j < 4; j++) {
      if (r.masks[i]! & (1 << j)) {
        assert.ok(r.slots[i]! - last[j]! > 50, `detector ${j} clicked ${r.slots[i]! - last[j]!} slots after its last click`);
        last[j] = r.slots[i]!;
      }
    }
  }
});

test('the same seed gives the same events however the slot range is cut', () => {
  const model = new ChannelModel(params());
  const a = run(model, 5000, 3_000_000, 1);
  const b = run(model, 5000, 3_000_000, 17);
  assert.is(a.n, b.n);
  assert.equal(Array.from(a.slots.subarray(0, a.n)), Array.from(b.slots.subarray(0, b.n)));
  assert.equal(Array.from(a.masks.subarray(0, a.n)), Array.from(b.masks.subarray(0, b.n)));
  const c = run(model, 5000, 3_000_000, 1, 2);
  assert.not.equal(Array.from(c.slots.subarray(0, 100)), Array.from(a.slots.subarray(0, 100)));
});

function qberZ(model: ChannelModel, slots: number): number {
  const r = run(model, 0, slots);
  let n = 0;
  let err = 0;
  for (let i = 0; i < r.n; i++) {
    const m = r.masks[i]!;
    if (m !== 1 && m !== 2) continue; // single clicks in Z
    const st = model.txSetting(r.slots[i]!);
    if (((st >> 1) & 1) !== 0 || ((st >> 2) & 3) !== 0) continue; // signal class, Z basis
    n++;
    if ((m === 2 ? 1 : 0) !== (st & 1)) err++;
  }
  return err / n;
}

test('errors come from misalignment, and an intercept-resend eavesdropper raises the Z-basis QBER to about 25 %', () => {
  const honest = new ChannelModel(params({ det: { misalignment: 0.02, afterpulseProbability: 0 } }));
  const q = qberZ(honest, 5_000_000);
  assert.ok(Math.abs(q - honest.expectedQberZ()) < 0.006, `QBER ${q} vs ${honest.expectedQberZ()}`);
  const eve = new ChannelModel(params({ det: { misalignment: 0.02, afterpulseProbability: 0 }, eve: { interceptFraction: 1 } }));
  const qe = qberZ(eve, 5_000_000);
  assert.ok(Math.abs(qe - eve.expectedQberZ()) < 0.02 && qe > 0.2, `QBER with Eve ${qe} vs ${eve.expectedQberZ()}`);
});

test("the receiver's clicks follow the transmitter's configured source (its pMu and pZ), not the receiver's defaults", () => {
  const rx = new ChannelModel(params({ det: { afterpulseProbability: 0 } })); // DEFAULT_SOURCE: pZ 0.9
  const source = { ...DEFAULT_SOURCE, mu: [0.6, 0.2, 0], pMu: [0.5, 0.3, 0.2], pZ: 0.7 };
  const tx = new ChannelModel({ ...rx.params, source });
  const g = new DetectionGenerator(rx, 0, 1e9, [{ from: 0, to: Infinity, source }], 1);
  const cap = 400_000;
  const s = new Float64Array(cap);
  const m = new Uint8Array(cap);
  const { n } = g.generate(5_000_000, s, m, 0, cap);
  const perClass = [0, 0, 0];
  const sifted = [0, 0];
  const errors = [0, 0];
  for (let i = 0; i < n; i++) {
    const st = tx.txSetting(s[i]!);
    const cls = (st >> 2) & 3;
    perClass[cls]!++;
    const mask = m[i]!;
    if (cls !== 0 || (mask & (mask - 1)) !== 0) continue; // signal, single clicks
    const channel = 31 - Math.clz32(mask);
    const basis = (st >> 1) & 1;
    if (channel >> 1 !== basis) continue;
    sifted[basis]!++;
    if ((channel & 1) !== (st & 1)) errors[basis]!++;
  }
  // Both bases at about the misalignment, which a wrong pZ would push towards 50 % in X.
  for (const b of [0, 1]) assert.ok(errors[b]! / sifted[b]! < 0.03, `basis ${b}: QBER ${errors[b]! / sifted[b]!} over ${sifted[b]}`);
  const exp = tx.expectedEvents(5_000_000, 1e9).perClass;
  exp.forEach((e, c) => assert.ok(Math.abs(perClass[c]! - e) < 5 * Math.sqrt(e) + 0.02 * e, `class ${c}: ${perClass[c]} vs ${e}`));
});

test('a brighter source reported after the start: its slots click at its rate', () => {
  const rx = new ChannelModel(params({ det: { afterpulseProbability: 0, deadNs: 0 } }));
  const dim = { ...DEFAULT_SOURCE, mu: [0.1], pMu: [1] };
  const bright = { ...DEFAULT_SOURCE, mu: [0.8], pMu: [1] };
  const g = new DetectionGenerator(rx, 0, 1e9, [{ from: 0, to: Infinity, source: dim }], 1);
  const s = new Float64Array(400_000);
  const m = new Uint8Array(400_000);
  let n = g.generate(2_000_000, s, m, 0, s.length).n;
  g.setEmissions([
    { from: 0, to: 2_000_000, source: dim },
    { from: 2_000_000, to: Infinity, source: bright },
  ]);
  const n1 = n;
  n = g.generate(4_000_000, s, m, n, s.length).n;
  const cp = (mu: number) => new ChannelModel({ ...rx.params, source: { ...DEFAULT_SOURCE, mu: [mu], pMu: [1] } }).clickProbability(0);
  for (const [got, p] of [
    [n1, cp(0.1)],
    [n - n1, cp(0.8)],
  ] as const) {
    const e = 2_000_000 * p;
    assert.ok(Math.abs(got - e) < 5 * Math.sqrt(e), `${got} events vs ${e}`);
  }
});

test('a dark source gives dark counts only', () => {
  const model = new ChannelModel(params({ det: { darkCountProbability: 1e-4, deadNs: 0, afterpulseProbability: 0 } }));
  const g = new DetectionGenerator(model, 0, 1e9, [], 1);
  const s = new Float64Array(100000);
  const m = new Uint8Array(100000);
  const { n } = g.generate(10_000_000, s, m, 0, 100000);
  const exp = 10_000_000 * model.clickProbability(-1);
  assert.ok(Math.abs(n - exp) < 5 * Math.sqrt(exp), `${n} vs ${exp}`);
});

test('invalid physics is refused', () => {
  assert.throws(() => new ChannelModel(params({ source: { ...DEFAULT_SOURCE, pMu: [0.5, 0.2, 0.1] } })), /sums/);
  assert.throws(() => new ChannelModel(params({ det: { efficiency: 1.5 } })), /probability/);
});

test.run();
