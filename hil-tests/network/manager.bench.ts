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
 *   processes) with the management layer and without it (`management.enabled: false`), runs
 *   alternating; the nodes' CPU time per pair, with over without, minus one. Required <= 5 %.
 */
import type { BenchContext, BenchRecord, BenchSuite } from '../../host/bench/benchmark.js';
import { median, round } from '../../host/bench/benchmark.js';
import { startDemoNetwork } from '../../host/node/demo-network.js';
import { processCpuSeconds } from '../../host/bench/cpu-time.js';
import { relayAlarmScenario, tamperScenario } from './manager-scenarios.js';

async function nodeCpuPerPair(management: boolean, ctx: BenchContext): Promise<number> {
  const concurrency = 16;
  const warmupMs = ctx.quick ? 300 : 1000;
  const measureMs = ctx.quick ? 1000 : 4000;
  const units = 2 * Math.ceil(((warmupMs + measureMs) / 1000) * 3000);
  const net = await startDemoNetwork({ nodes: 2, shape: 'line', rate: 0, initialUnits: units, km: { maxKeyCount: units }, management, bundle: true });
  try {
    const master = net.client('sae-N1', concurrency);
    const slave = net.client('sae-N2', concurrency);
    let running = true;
    let pairs = 0;
    let recording = false;
    const worker = async () => {
      while (running) {
        const enc = await master.encKeys('sae-N2', { number: 1 });
        if (enc.status !== 200) continue;
        const dec = await slave.decKeys('sae-N1', [enc.body.keys[0]!.key_ID]);
        if (dec.status === 200 && recording) pairs++;
      }
    };
    const workers = Array.from({ length: concurrency }, worker);
    await new Promise((r) => setTimeout(r, warmupMs));
    const pids = net.nodes.map((n) => n.pid);
    const cpu0 = pids.map(processCpuSeconds);
    recording = true;
    await new Promise((r) => setTimeout(r, measureMs));
    recording = false;
    const cpu1 = pids.map(processCpuSeconds);
    running = false;
    await Promise.all(workers);
    const cpu = cpu1.reduce((s, c, i) => s + c - cpu0[i]!, 0);
    return cpu / Math.max(1, pairs);
  } finally {
    await net.stop();
  }
}

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
    const runs = ctx.quick ? 1 : 3;
    const withM: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < runs; i++) {
      ctx.progress(`overhead run ${i + 1}/${runs}: km load without, then with the management layer`);
      without.push(await nodeCpuPerPair(false, ctx));
      withM.push(await nodeCpuPerPair(true, ctx));
    }
    yield { suite: 'manager', what: 'overhead', cpu_pct: round((median(withM) / median(without) - 1) * 100, 2) };
  },
};
