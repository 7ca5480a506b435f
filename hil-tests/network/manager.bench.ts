/**
 * `npm run bench -- manager`: what the management layer does and costs on real node processes.
 *
 * - tamper: a live node under SAE load with an emulated aux board (Firmata on a pty); from the
 *   board's pin change (its clock) to the node's storage key destroyed (the node's clock, the
 *   same machine), whether supply is refused after, and how many of the keys reserved at the
 *   node can still be fetched (manager-scenarios.ts). Required: zeroize_ms <= 100.
 * - alarm: a relay failing at N1 (N3 killed in a line of three) to the relay-failure alarm at N1's
 *   XLMO: from the enc_keys request that makes the relay to the alarm's raise time. Required <= 1000.
 * - overhead: the km bench's load (closed-loop enc_keys+dec_keys pairs between two node
 *   processes) on two such networks at once, one with the management layer and one without it
 *   (`management.enabled: false`), in alternating slices; the nodes' CPU time per pair, with over
 *   without, minus one, in percent: the median of six rounds, each on fresh networks, the start
 *   order alternating. Required <= 5 %.
 */
import type { BenchContext, BenchRecord, BenchSuite } from '../../host/bench/benchmark.js';
import { round } from '../../host/bench/benchmark.js';
import { startDemoNetwork } from '../../host/node/demo-network.js';
import { processCpuSeconds } from '../../host/bench/cpu-time.js';
import { relayAlarmScenario, tamperScenario } from './manager-scenarios.js';

/** A two-node network under the km bench's closed-loop load, run in slices on demand. */
async function loadedPair(management: boolean, units: number) {
  const concurrency = 16;
  const net = await startDemoNetwork({ nodes: 2, shape: 'line', rate: 0, initialUnits: units, km: { maxKeyCount: units }, management, bundle: true });
  const master = net.client('sae-N1', concurrency);
  const slave = net.client('sae-N2', concurrency);
  const pids = net.nodes.map((n) => n.pid);
  const cpu = () => pids.reduce((s, p) => s + processCpuSeconds(p), 0);
  return {
    /** Runs the load for `ms`; the nodes' CPU seconds and the pairs completed meanwhile. */
    async slice(ms: number): Promise<{ cpu: number; pairs: number }> {
      let running = true;
      let pairs = 0;
      const worker = async () => {
        while (running) {
          const enc = await master.encKeys('sae-N2', { number: 1 });
          if (enc.status !== 200) continue;
          const dec = await slave.decKeys('sae-N1', [enc.body.keys[0]!.key_ID]);
          if (dec.status === 200) pairs++;
        }
      };
      const c0 = cpu();
      const workers = Array.from({ length: concurrency }, worker);
      await new Promise((r) => setTimeout(r, ms));
      running = false;
      await Promise.all(workers);
      return { cpu: cpu() - c0, pairs };
    },
    stop: () => net.stop(),
  };
}

/**
 * One round: both networks up at once, the load on one then the other in short alternating slices
 * (ABBA), so that the machine's load (other processes, caches) drifts the same for both; the
 * nodes' CPU per pair summed over the slices of each, with over without.
 */
async function oneRound(ctx: BenchContext, withFirst: boolean, management: boolean): Promise<number> {
  const slices = ctx.quick ? 4 : 6;
  const sliceMs = ctx.quick ? 400 : 700;
  const units = 2 * Math.ceil(((slices * sliceMs + 2000) / 1000) * 3000);
  const sum = { without: { cpu: 0, pairs: 0 }, with: { cpu: 0, pairs: 0 } };
  const first = await loadedPair(withFirst ? management : false, units);
  const second = await loadedPair(withFirst ? false : management, units).catch(async (e: unknown) => {
    await first.stop();
    throw e;
  });
  const nets = withFirst ? { with: first, without: second } : { with: second, without: first };
  try {
    // Warm-up (JIT, connections), not counted.
    await nets.without.slice(500);
    await nets.with.slice(500);
    for (let i = 0; i < slices; i++) {
      const order = i % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const);
      for (const k of order) {
        const r = await nets[k].slice(sliceMs);
        sum[k].cpu += r.cpu;
        sum[k].pairs += r.pairs;
      }
    }
  } finally {
    await first.stop();
    await second.stop();
  }
  return sum.with.cpu / sum.with.pairs / (sum.without.cpu / sum.without.pairs);
}

/**
 * The overhead of the management layer, in percent: the median over rounds of a fresh pair of
 * networks each, the start order alternating. Fresh processes per round because a process's own
 * luck (JIT, memory placement) persists: in an A/A run (both without the managers) the network
 * started second measured about 6 % dearer whatever it ran, and one pair of processes gave ±6 %;
 * the median over six rounds is what one round's luck cannot move. `management: false` gives the
 * A/A run, the method's own noise.
 */
export async function overheadPct(ctx: BenchContext, management = true): Promise<number> {
  const rounds = ctx.quick ? 2 : 6;
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await oneRound(ctx, i % 2 === 1, management);
    ratios.push(r);
    ctx.progress(`overhead round ${i + 1}/${rounds} (${i % 2 === 1 ? 'with' : 'without'} started first): ${round2((r - 1) * 100)} %`);
  }
  ratios.sort((a, b) => a - b);
  const mid = ratios.length / 2;
  const median = ratios.length % 2 === 1 ? ratios[Math.floor(mid)]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
  return (median - 1) * 100;
}

const round2 = (x: number) => round(x, 2);

export const suite: BenchSuite = {
  name: 'manager',
  description: 'management layer: tamper to storage key destroyed under load, relay failure to its alarm at the XLMO, CPU cost of the managers under the km load',
  async *run(ctx): AsyncIterable<BenchRecord> {
    ctx.progress('tamper: 2 nodes, aux board emulated on a pty, SAE load, lid opened');
    const t = await tamperScenario({ loadMs: ctx.quick ? 500 : 1500 });
    yield { suite: 'manager', what: 'tamper', zeroize_ms: t.zeroizeMs, supply_refused: t.supplyRefused, keys_readable_after: t.keysReadableAfter };
    ctx.progress('alarm: line of 3 nodes, N3 killed, N1 relays to N3');
    const a = await relayAlarmScenario();
    yield { suite: 'manager', what: 'alarm', ms: a.ms };
    ctx.progress('overhead: the km load on two networks, without and with the management layer, alternating');
    yield { suite: 'manager', what: 'overhead', cpu_pct: round(await overheadPct(ctx), 2) };
  },
};
