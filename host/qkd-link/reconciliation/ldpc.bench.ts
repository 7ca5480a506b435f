import type { BenchSuite, BenchRecord } from '../../bench/benchmark.js';
import { round, median, timeRuns } from '../../bench/benchmark.js';
import { CodeFamily } from './codebook.js';
import { seededRandom } from './design.js';
import { BobReconciler, AliceEndpoint, type FrameReport } from './reconcile.js';
import { ReferenceDecoder } from './reference.js';
import { channelLlr, LaneDecoder } from './decoder.js';

/**
 * The five QBERs at the default frame length (`point: 'required'`), QBERs between and
 * beyond them (`point: 'sweep'`: the link runs at whatever QBER it measures, so efficiency and
 * speed must hold everywhere in 0.5-11 %), then 3 % again with 2^17-bit frames.
 */
const REQUIRED = [0.01, 0.02, 0.03, 0.05, 0.08];
const SWEEP = [0.005, 0.0075, 0.0125, 0.015, 0.025, 0.04, 0.065, 0.095, 0.11];
const CASES: ReadonlyArray<{ qber: number; frameBits: number; point: 'required' | 'sweep' }> = [
  ...[...REQUIRED, ...SWEEP].sort((a, b) => a - b).map((qber) => ({ qber, frameBits: 65536, point: REQUIRED.includes(qber) ? 'required' as const : 'sweep' as const })),
  { qber: 0.03, frameBits: 131072, point: 'sweep' },
];

export const suite: BenchSuite = {
  name: 'ldpc',
  description: 'blind LDPC reconciliation over a simulated BSC: efficiency, frame error rate, sifted Mbit/s (one core)',
  *run(ctx): Iterable<BenchRecord> {
    const family = CodeFamily.load();
    const frames = ctx.quick ? 16 : 128;
    for (const { qber, frameBits, point } of CASES) {
      const rnd = seededRandom(0xbe9c4 + Math.round(qber * 1e4));
      const bob = new BobReconciler(family, qber, { frameBits });
      const alice = new AliceEndpoint(rnd);
      const k = bob.plan.keyLength;
      const bobFrames = [];
      for (let i = 0; i < frames; i++) {
        const a = Uint8Array.from({ length: k }, () => (rnd() < 0.5 ? 1 : 0));
        const b = Uint8Array.from(a, (x) => x ^ (rnd() < qber ? 1 : 0));
        alice.open(i, bob.plan, a);
        bobFrames.push({ frame: i, key: b });
      }
      ctx.progress(`QBER ${qber}: code ${bob.plan.code.id}, ${frames} frames of ${k} bits, ${bob.target}`);
      const warm = bobFrames.slice(0, 8);
      bob.reconcile(warm, warmAlice(bob, warm.map((f) => f.key), rnd));
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      const reports: FrameReport[] = bob.reconcile(bobFrames, alice);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = process.cpuUsage(c0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      const ok = reports.filter((r) => r.ok);
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
      yield {
        suite: 'ldpc',
        point,
        qber,
        n: bob.plan.code.n,
        k,
        code: bob.plan.code.id,
        frames,
        f: round(mean(ok.map((r) => r.efficiency)), 4),
        f_max: round(Math.max(...ok.map((r) => r.efficiency)), 4),
        f_total: round(mean(ok.map((r) => r.efficiencyTotal)), 4),
        fer: round((frames - ok.length) / frames, 4),
        mbps: round((frames * k) / seconds / 1e6, 2),
        // Per second of this process's CPU time (the decoder's thread, and V8's background threads): what a free core would give (wall time counts
        // the time other processes hold the core).
        mbps_cpu: round((frames * k) / cpuSeconds / 1e6, 2),
        iterations: round(mean(reports.map((r) => r.iterations)), 1),
        rounds: round(mean(reports.map((r) => r.rounds)), 2),
        // Bob's requests and success flag per frame, charged in f (disclosure.ts).
        bob_bits: round(mean(reports.map((r) => r.bobBits)), 1),
        first_round: round(reports.filter((r) => r.ok && r.rounds === 0).length / frames, 3),
        target: bob.target,
      };
    }
    // One decoder iteration per frame at 3 %: the WASM kernel against its plain-TypeScript twin.
    const plan = family.plan(0.03);
    const llr = new Int16Array(plan.code.n).fill(channelLlr(0.03));
    const ref = new ReferenceDecoder(plan.code, llr, new Uint8Array(plan.code.m));
    const refIter = median(timeRuns(() => ref.iterate(), ctx.quick ? 1 : 3));
    // One frame, iteration after iteration, as BobReconciler runs it.
    const dec = new LaneDecoder(plan.code, undefined, undefined, 1);
    dec.loadLane(0, llr, new Uint8Array(plan.code.m));
    const wasmIter = median(timeRuns(() => dec.iterate(1), ctx.quick ? 5 : 15));
    yield {
      suite: 'ldpc', mode: 'iteration', qber: 0.03, n: plan.code.n, edges: plan.code.cols.length, target: dec.target,
      ms_per_frame_iteration: round(wasmIter * 1e3, 3), ref_ms_per_frame_iteration: round(refIter * 1e3, 2), speedup: round(refIter / wasmIter, 1),
    };
  },
};

/** A throwaway Alice for one warm-up batch (compiles the hot paths before timing). */
function warmAlice(bob: BobReconciler, keys: readonly Uint8Array[], rnd: () => number): AliceEndpoint {
  const a = new AliceEndpoint(rnd);
  keys.forEach((key, i) => a.open(i, bob.plan, key));
  return a;
}
