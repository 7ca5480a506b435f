import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChannelModel, DetectionGenerator, DEFAULT_DETECTOR, DEFAULT_SOURCE, NO_EVE, type ChannelParams, type EmissionInterval, type SourceSettings } from './channel-model.js';
import { DetectionKernel, SettingsKernel } from './detection-kernel.js';
import { boardSlotDeltas } from '../protocol/messages.js';

interface Drawer {
  generate(end: number, slots: Float64Array, masks: Uint8Array, n: number, maxEvents: number): { n: number; stoppedAt: number };
  setEmissions(e: readonly EmissionInterval[]): void;
}

/** Runs a drawer over [start, end) in uneven steps and small outputs; returns every event and every stop. */
function draw(g: Drawer, start: number, end: number, steps: readonly number[], maxEvents: number, change?: { at: number; emissions: readonly EmissionInterval[] }): { slots: number[]; masks: number[]; stops: number[] } {
  const slots = new Float64Array(maxEvents);
  const masks = new Uint8Array(maxEvents);
  const out = { slots: [] as number[], masks: [] as number[], stops: [] as number[] };
  let at = start;
  let i = 0;
  let changed = false;
  while (at < end) {
    if (change && !changed && at >= change.at) {
      g.setEmissions(change.emissions);
      changed = true;
    }
    const target = Math.min(end, at + steps[i++ % steps.length]!);
    const r = g.generate(target, slots, masks, 0, maxEvents);
    for (let k = 0; k < r.n; k++) {
      out.slots.push(slots[k]!);
      out.masks.push(masks[k]!);
    }
    out.stops.push(r.stoppedAt);
    at = r.stoppedAt;
  }
  return out;
}

function params(over: { distanceKm?: number; detector?: Partial<ChannelParams['detector']>; eve?: number; source?: SourceSettings; seed?: number }): ChannelParams {
  return {
    seed: over.seed ?? 7,
    source: over.source ?? DEFAULT_SOURCE,
    fibre: { distanceKm: over.distanceKm ?? 10, attenuationDbPerKm: 0.2 },
    detector: { ...DEFAULT_DETECTOR, ...over.detector },
    eve: over.eve ? { interceptFraction: over.eve } : NO_EVE,
  };
}

function twins(p: ChannelParams, start: number, emissions: readonly EmissionInterval[], runSeed: number): [DetectionGenerator, DetectionKernel] {
  const model = new ChannelModel(p);
  return [new DetectionGenerator(model, start, p.source.clockHz, emissions, runSeed), new DetectionKernel(model, start, p.source.clockHz, emissions, runSeed)];
}

function assertSame(a: ReturnType<typeof draw>, b: ReturnType<typeof draw>, what: string): void {
  assert.ok(a.slots.length > 1000, `${what}: ${a.slots.length} events (too few to compare)`);
  assert.equal(b.slots.length, a.slots.length, `${what}: event count`);
  for (let i = 0; i < a.slots.length; i++) {
    if (a.slots[i] !== b.slots[i] || a.masks[i] !== b.masks[i]) assert.unreachable(`${what}: event ${i} differs: slot ${a.slots[i]} mask ${a.masks[i]} vs slot ${b.slots[i]} mask ${b.masks[i]}`);
  }
  assert.equal(b.stops, a.stops, `${what}: stops`);
}

const always = (source: SourceSettings): EmissionInterval[] => [{ from: 0, to: Infinity, source }];

test('the WASM kernel draws the same events as its TypeScript twin: 10 km link, ranges cut unevenly, outputs filling up', () => {
  const p = params({});
  const [ts, wasm] = twins(p, 12_345, always(p.source), 3);
  const steps = [1 << 20, 77_777, 3, 1 << 22];
  assertSame(draw(ts, 12_345, 4e7, steps, 5000), draw(wasm, 12_345, 4e7, steps, 5000), '10 km');
});

test('same events at 0 km (dead time binding), with after-pulses, many darks and an eavesdropper, past 2^32 slots', () => {
  const start = 2 ** 32 - 1e6;
  const p = params({ distanceKm: 0, detector: { darkCountProbability: 1e-3, afterpulseProbability: 0.2, afterpulseDelayNs: 30 }, eve: 0.5, seed: 0xfedcba98 });
  const [ts, wasm] = twins(p, start, always(p.source), 0x12345678);
  const steps = [333_333, 1 << 21];
  assertSame(draw(ts, start, start + 6e6, steps, 16384), draw(wasm, start, start + 6e6, steps, 16384), '0 km');
});

test('same events across emission changes: dark gaps, a new source and a brighter one reported mid-run', () => {
  const dim: SourceSettings = { ...DEFAULT_SOURCE, mu: [0.2, 0.05, 0], pMu: [0.5, 0.3, 0.2] };
  const bright: SourceSettings = { ...DEFAULT_SOURCE, mu: [0.9, 0.3, 0] };
  const p = params({ distanceKm: 5, source: dim });
  const first: EmissionInterval[] = [{ from: 0, to: 3e6, source: dim }, { from: 4e6, to: 9e6, source: DEFAULT_SOURCE }, { from: 9e6, to: Infinity, source: dim }];
  const second: EmissionInterval[] = [...first.slice(0, 2), { from: 9e6, to: 1.2e7, source: dim }, { from: 1.2e7, to: Infinity, source: bright }];
  const [ts, wasm] = twins(p, 0, first, 9);
  const steps = [250_000, 1_000_001];
  const change = { at: 1e7, emissions: second };
  assertSame(draw(ts, 0, 2e7, steps, 3000, change), draw(wasm, 0, 2e7, steps, 3000, change), 'emissions');
});

test('generateDeltas: the same events and stops as generate, its slots as the protocol encodes them, over batches of several calls', () => {
  const p = params({ distanceKm: 0, detector: { afterpulseProbability: 0.05 } });
  const model = new ChannelModel(p);
  const start = 2 ** 32 - 5e5;
  const a = new DetectionKernel(model, start, p.source.clockHz, always(p.source), 4);
  const b = new DetectionKernel(model, start, p.source.clockHz, always(p.source), 4);
  const max = 4000;
  const slots = new Float64Array(max);
  const masksA = new Uint8Array(max);
  const masksB = new Uint8Array(max);
  let batchStart = start;
  let events = 0;
  // Batches closed when full or at 2^20 slots, filled in uneven steps (several calls per batch), as the producer fills them.
  for (let batch = 0; batch < 12; batch++) {
    const batchEnd = batchStart + (1 << 20);
    const sink = { bytes: new Uint8Array(5 * max), at: 0, prev: batchStart };
    let n = 0;
    let stop = batchStart;
    for (let step = 0; n < max && stop < batchEnd; step++) {
      const target = Math.min(batchEnd, stop + [77_777, 3, 300_001][step % 3]!);
      const ra = a.generate(target, slots, masksA, n, max);
      const rb = b.generateDeltas(target, sink, masksB, n, max);
      assert.equal(rb, ra, `batch ${batch} step ${step}`);
      n = ra.n;
      stop = ra.stoppedAt;
    }
    const expected = boardSlotDeltas('test').encode(batchStart, slots.subarray(0, n));
    assert.equal(sink.bytes.subarray(0, sink.at), expected, `batch ${batch}: deltas`);
    assert.equal(masksB.subarray(0, n), masksA.subarray(0, n), `batch ${batch}: masks`);
    events += n;
    batchStart = stop;
  }
  assert.ok(events > 20_000, `${events} events`);
});

test("the kernel's transmitter answers as ChannelModel.txSetting: detected slots (S = 1 mostly), slots between, across 2^32, two sources", () => {
  const start = 2 ** 32 - 3e6;
  const kernel = new SettingsKernel();
  for (const source of [DEFAULT_SOURCE, { ...DEFAULT_SOURCE, mu: [0.6, 0.3, 0.1, 0], pMu: [0.4, 0.3, 0.2, 0.1], pZ: 0.5 }]) {
    const p = params({ distanceKm: 2, source });
    const [ts] = twins(p, start, always(source), 5);
    const got = draw(ts, start, start + 6e6, [1 << 22], 16384);
    // The detections, and as many slots next to them (mostly without a detected photon).
    const slots = got.slots.flatMap((s) => [s, s + 1]).filter((s, i, a) => i === 0 || s > a[i - 1]!);
    const tx = new ChannelModel(p);
    const out = new Uint8Array(slots.length);
    kernel.answer(tx, slots, 0, slots.length, out, 0);
    const twin = new ChannelModel(p);
    let signals = 0;
    for (let i = 0; i < slots.length; i++) {
      signals += twin.isSignal(slots[i]!);
      if (out[i] !== twin.txSetting(slots[i]!)) assert.unreachable(`slot ${slots[i]}: kernel ${out[i]}, twin ${twin.txSetting(slots[i]!)}`);
    }
    assert.ok(signals > slots.length / 3 && signals < slots.length, `${signals} of ${slots.length} slots with a detected photon: both cuts exercised`);
  }
});

test.run();
