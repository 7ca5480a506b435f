import type { BenchSuite, BenchRecord } from '../../bench/benchmark.js';
import { timeRuns, mbps, median, round } from '../../bench/benchmark.js';
import { Sifter, siftEventsReference } from '../kernels/sift.js';
import { aliceKeep, siftBlock } from './sifting.js';
import { countBits, pack2, packBits, unpack2, unpackBits } from './packing.js';
import { seededRandom } from '../reconciliation/design.js';

/**
 * A link block's sifting at each end, as the worker jobs run it ('sift-tx', 'sift-rx'): the WASM
 * kernel (answerKeep, siftKept: one call per step) against the plain-TypeScript twin
 * (session/sifting.ts aliceKeep and siftBlock over siftEventsReference, with the same packing).
 */
export const suite: BenchSuite = {
  name: 'sifting',
  description: "a link block's sifting at both ends from the session's packed fields (WASM kernel vs TypeScript twin)",
  *run(ctx): Iterable<BenchRecord> {
    // A 10 km block: about 4.5 M detections, classes signal/decoy/vacuum at 0.3/0.5/0.2, a few settings unknown.
    const n = ctx.quick ? 1 << 16 : 4_500_000;
    const runs = ctx.quick ? 3 : 7;
    const rnd = seededRandom(7);
    const bobBasis = Uint8Array.from({ length: n }, () => (rnd() < 0.2 ? 1 : 0));
    const bobValue = Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0));
    const settings = Uint8Array.from({ length: n }, () => {
      const c = rnd();
      const cls = c < 0.3 ? 0 : c < 0.8 ? 1 : 2;
      return (rnd() < 0.5 ? 1 : 0) | ((rnd() < 0.15 ? 1 : 0) << 1) | (cls << 2) | (rnd() < 0.001 ? 0x40 : 0);
    });
    const bb = packBits(bobBasis);
    const sifter = new Sifter();
    const twinSifter = { siftEvents: siftEventsReference };
    const fields = { basis: settings.map((s) => (s >> 1) & 1), value: settings.map((s) => s & 1), intensity: settings.map((s) => (s >> 2) & 3), status: settings.map((s) => s & 0xe0) };
    ctx.progress(`Alice's answer and sifting, ${n} events, ${sifter.target}`);
    const tx = timeRuns(() => {
      const a = sifter.answerKeep(bb, settings, n);
      sifter.siftKept(bb, settings, a.keep, a.cls, n, a.kept);
    }, runs);
    const txRef = timeRuns(() => {
      const basis = unpackBits(bb, n, 'bb');
      const { keep, cls } = aliceKeep(basis, fields);
      siftBlock(twinSifter, basis, fields.value, keep, cls, 'transmitter');
      packBits(keep);
      pack2(cls);
    }, ctx.quick ? 1 : 3);
    // Input per event: Bob's basis bit and Alice's setting byte.
    yield { suite: 'sifting', end: 'alice', target: sifter.target, events: n, events_per_s: Math.round(n / median(tx)), ref_events_per_s: Math.round(n / median(txRef)), mbps: mbps(9 * n, tx), ref_mbps: mbps(9 * n, txRef), speedup: round(median(txRef) / median(tx), 2) };
    const ans = sifter.answerKeep(bb, settings, n);
    ctx.progress(`Bob's sifting by Alice's answer, ${n} events, ${sifter.target}`);
    const rx = timeRuns(() => sifter.siftKept(bb, bobValue, ans.keep, ans.cls, n, countBits(ans.keep, n)), runs);
    const rxRef = timeRuns(() => {
      const keep = unpackBits(ans.keep, n, 'keep');
      const cls = unpack2(ans.cls, countBits(ans.keep, n), 'cls');
      const s = siftBlock(twinSifter, bobBasis, bobValue, keep, cls, 'receiver');
      packBits(s.test);
    }, ctx.quick ? 1 : 3);
    // Input per event: his basis bit, his bit (a byte), Alice's keep flag, and a 2-bit class per kept event.
    const bits = 10 * n + 2 * ans.kept;
    yield { suite: 'sifting', end: 'bob', target: sifter.target, events: n, kept: ans.kept, events_per_s: Math.round(n / median(rx)), ref_events_per_s: Math.round(n / median(rxRef)), mbps: mbps(bits, rx), ref_mbps: mbps(bits, rxRef), speedup: round(median(rxRef) / median(rx), 2) };
  },
};
