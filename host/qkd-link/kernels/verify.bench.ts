import { randomFillSync } from 'node:crypto';
import type { BenchSuite, BenchRecord } from '../../bench/benchmark.js';
import { timeRuns, mbps, round } from '../../bench/benchmark.js';
import { ErrorVerifier, polyHashReference, verificationKeyCount } from './verify.js';

export const suite: BenchSuite = {
  name: 'verify',
  description: 'error verification, polynomial hash over GF(2^64) (WASM vs bit-serial TypeScript twin)',
  *run(ctx): Iterable<BenchRecord> {
    const v = new ErrorVerifier();
    for (const epsCor of [1e-15, 1e-30]) {
      const n = ctx.quick ? 1 << 16 : 1 << 24;
      const t = verificationKeyCount(epsCor, n);
      const block = randomFillSync(new Uint8Array(n / 8));
      const keys = randomFillSync(new Uint8Array(8 * t));
      ctx.progress(`verify n = ${n}, ε_cor = ${epsCor}, ${t} key(s), ${v.target}`);
      const tm = timeRuns(() => v.tag(block, n, keys), ctx.quick ? 3 : 9);
      // The bit-serial twin is slow: time it on a 2^14-bit slice and scale per bit.
      const nr = 1 << 14;
      const tr = timeRuns(() => polyHashReference(block.subarray(0, nr / 8), nr, keys), 3);
      yield {
        suite: 'verify',
        target: v.target,
        n,
        eps_cor: epsCor,
        keys: t,
        tag_bits: 64 * t,
        mbps: mbps(n, tm),
        ref_mbps: mbps(nr, tr),
        ref: 'bit-serial BigInt GF(2^64) twin on a 2^14-bit block',
        speedup: round(mbps(n, tm) / mbps(nr, tr), 1),
      };
    }
  },
};
