import { randomFillSync } from 'node:crypto';
import type { BenchSuite, BenchRecord } from '../../bench/benchmark.js';
import { timeRuns, mbps, median, round } from '../../bench/benchmark.js';
import { Sifter, siftPackedReference, siftEventsReference } from './sift.js';

export const suite: BenchSuite = {
  name: 'sift',
  description: 'basis sifting of bit-packed slots and of detection-event lists per intensity class (WASM vs TypeScript twin)',
  *run(ctx): Iterable<BenchRecord> {
    const n = ctx.quick ? 1 << 16 : 1 << 24;
    const runs = ctx.quick ? 3 : 7;
    const nb = n / 8;
    const a = randomFillSync(new Uint8Array(nb));
    const b = randomFillSync(new Uint8Array(nb));
    const v = randomFillSync(new Uint8Array(nb));
    const sifter = new Sifter();
    ctx.progress(`packed sift, n = ${n}, ${sifter.target}`);
    const t = timeRuns(() => sifter.siftPacked(a, b, v, n), runs);
    const tr = timeRuns(() => siftPackedReference(a, b, v, n), ctx.quick ? 1 : 3, 0);
    // Each slot carries one detection's basis and value: input is 3 bits per slot (A basis, B basis, B value).
    yield {
      suite: 'sift',
      mode: 'packed',
      target: sifter.target,
      n,
      events_per_s: Math.round(n / median(t)),
      mbps: mbps(3 * n, t),
      ref_mbps: mbps(3 * n, tr),
      speedup: round(median(tr) / median(t), 2),
    };
    // Event lists: one detection per 4 slots on average, sorted slots, random flags and settings.
    const nE = ctx.quick ? 1 << 16 : 1 << 22;
    const window = 4 * nE;
    const settings = randomFillSync(new Uint8Array(window));
    for (let i = 0; i < window; i++) settings[i] = (settings[i]! & 3) | ((settings[i]! % 3) << 2);
    const slots = randomFillSync(new Uint32Array(nE));
    for (let i = 0; i < nE; i++) slots[i] = slots[i]! % window;
    slots.sort();
    const flags = randomFillSync(new Uint8Array(nE)).map((f) => f & 3);
    ctx.progress(`event sift, ${nE} events over ${window} slots, ${sifter.target}`);
    const te = timeRuns(() => sifter.siftEvents(settings, slots, flags, 'receiver'), runs);
    const tre = timeRuns(() => siftEventsReference(settings, slots, flags, 'receiver'), ctx.quick ? 1 : 3);
    // Input per event: a 32-bit slot index, its flags byte and the transmitter's setting byte.
    yield {
      suite: 'sift',
      mode: 'events',
      target: sifter.target,
      events: nE,
      window,
      events_per_s: Math.round(nE / median(te)),
      ref_events_per_s: Math.round(nE / median(tre)),
      mbps: mbps(48 * nE, te),
      ref_mbps: mbps(48 * nE, tre),
      speedup: round(median(tre) / median(te), 2),
    };
  },
};
