import { randomFillSync } from 'node:crypto';
import type { BenchSuite, BenchRecord } from '../../cli/benchmark.js';
import { timeRuns, mbps, median, round } from '../../cli/benchmark.js';
import { Sifter, siftPackedReference } from './sift.js';

export const suite: BenchSuite = {
  name: 'sift',
  description: 'basis sifting of bit-packed slots (WASM vs TypeScript twin)',
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
  },
};
