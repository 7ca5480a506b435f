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
 *   processes) with the managers of both nodes running and paused (PUT /api/v1/managers) in
 *   alternating slices in the same processes; the nodes' CPU time per pair, running over paused,
 *   minus one, in percent. Required <= 5 %.
 */
import type { BenchContext, BenchRecord, BenchSuite } from '../../host/bench/benchmark.js';
import { round } from '../../host/bench/benchmark.js';
import { startDemoNetwork } from '../../host/node/demo-network.js';
import { relayAlarmScenario, tamperScenario } from './manager-scenarios.js';
import { join } from 'node:path';
import { startTestNetwork } from '../../host/km/test-network.js';
import { startManagement } from '../../host/manager/management.js';
import { publishSupply } from '../../host/km/diagnostics.js';

/**
 * A two-node network with the management layer under the km bench's closed-loop load, run in
 * slices on demand; between slices the managers of both nodes are paused or resumed over their
 * management API (PUT /api/v1/managers), so that both conditions run in the same processes.
 */
async function loadedPair(units: number) {
  const concurrency = 16;
  const net = await startDemoNetwork({ nodes: 2, shape: 'line', rate: 0, initialUnits: units, km: { maxKeyCount: units }, management: true, bundle: true });
  const master = net.client('sae-N1', concurrency);
  const slave = net.client('sae-N2', concurrency);
  // The nodes' own CPU time (process.cpuUsage, microseconds, as prom-client exports it): /proc's
  // stat counts in 10 ms ticks, which over a slice of a second was noise of a few percent.
  const cpu = async () => {
    let total = 0;
    for (const n of net.nodes) {
      const r = await net.operator(n.id).send<string>('GET', '/metrics');
      const m = /^process_cpu_seconds_total(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(r.raw);
      if (r.status !== 200 || !m) throw new Error(`${n.id}: no process_cpu_seconds_total in /metrics (${r.status})`);
      total += Number(m[1]);
    }
    return total;
  };
  return {
    async managers(running: boolean): Promise<void> {
      for (const n of net.nodes) {
        const r = await net.operator(n.id).send<{ running: boolean }>('PUT', '/api/v1/managers', { running });
        if (r.status !== 200 || r.body.running !== running) throw new Error(`${n.id}: managers not ${running ? 'resumed' : 'paused'}: ${r.status} ${r.raw}`);
      }
    },
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
      const c0 = await cpu();
      const workers = Array.from({ length: concurrency }, worker);
      await new Promise((r) => setTimeout(r, ms));
      running = false;
      await Promise.all(workers);
      return { cpu: (await cpu()) - c0, pairs };
    },
    stop: () => net.stop(),
  };
}

/**
 * The overhead of the management layer, in percent: the nodes' CPU time per enc_keys+dec_keys
 * pair with the managers running over that with them paused, in the same two node processes, in
 * alternating slices (ABBA: the machine's drift falls on both alike), the median over the
 * alternations. Same processes, so no
 * process's own luck (JIT, memory placement) enters, which across processes was ±6 % (an A/A run
 * of two networks). `managed: false` keeps the managers paused in both conditions: the A/A run,
 * the method's own noise.
 */
export async function overheadPct(ctx: BenchContext, managed = true): Promise<number> {
  const slices = ctx.quick ? 4 : 20;
  const sliceMs = ctx.quick ? 500 : 800;
  // Keys enough for 1500 pairs a second (this machine made 200-400 under load).
  const units = 2 * Math.ceil(((2 * slices * sliceMs + 3000) / 1000) * 1500);
  const sum = { without: { cpu: 0, pairs: 0 }, with: { cpu: 0, pairs: 0 } };
  const ratios: number[] = [];
  const per = (x: { cpu: number; pairs: number }) => (x.cpu / x.pairs) * 1e6;
  const net = await loadedPair(units);
  try {
    // Warm-up (JIT, connections), not counted.
    await net.slice(1000);
    for (let i = 0; i < slices; i++) {
      const order = i % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const);
      const got = { without: { cpu: 0, pairs: 0 }, with: { cpu: 0, pairs: 0 } };
      for (const k of order) {
        await net.managers(managed && k === 'with');
        got[k] = await net.slice(sliceMs);
        sum[k].cpu += got[k].cpu;
        sum[k].pairs += got[k].pairs;
      }
      ratios.push(per(got.with) / per(got.without));
    }
  } finally {
    await net.stop();
  }
  // The median of the alternations' ratios: a slice that another process's burst slowed moves it
  // less than it moves the totals.
  ratios.sort((a, b) => a - b);
  const mid = ratios.length / 2;
  const median = ratios.length % 2 === 1 ? ratios[Math.floor(mid)]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
  ctx.progress(`overhead: with ${round2(per(sum.with))} µs CPU per pair (${sum.with.pairs} pairs), without ${round2(per(sum.without))} µs (${sum.without.pairs} pairs); totals ${round2((per(sum.with) / per(sum.without) - 1) * 100)} %, median of ${ratios.length} alternations ${round2((median - 1) * 100)} %`);
  return (median - 1) * 100;
}

const round2 = (x: number) => round(x, 2);

/**
 * The managers' handlers alone: CPU µs per supply event published through a real node's
 * management layer (an in-process KM), running and paused, `rounds` rounds of `events` events:
 * what the end-to-end figure is made of, without the machine's noise.
 */
export async function handlerCostUs(events = 200_000, rounds = 3): Promise<{ running: number; paused: number }[]> {
  const net = await startTestNetwork({ links: ['A-B'], saes: { 'sae-a': 'A', 'sae-b': 'B' }, initialUnits: 8 });
  const m = await startManagement({ km: net.node('A').km, dataDir: join(net.dir, 'mgmt') });
  const run = () => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < events / 2; i++) {
      publishSupply({ node: 'A', kind: 'enc_keys', master: 'sae-a', slaves: ['sae-b'], keys: 1, size: 256, outcome: 'delivered', latencyMs: 1.5 });
      publishSupply({ node: 'A', kind: 'dec_keys', master: 'sae-a', slaves: ['sae-b'], keys: 1, size: 256, outcome: 'delivered', latencyMs: 1.5 });
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / events;
  };
  const out: { running: number; paused: number }[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      m.setRunning(true);
      const running = run();
      m.setRunning(false);
      out.push({ running: round2(running), paused: round2(run()) });
    }
  } finally {
    await m.stop();
    await net.close();
  }
  return out;
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
    ctx.progress('overhead: the km load on two nodes, their managers running and paused in alternating slices');
    yield { suite: 'manager', what: 'overhead', cpu_pct: round(await overheadPct(ctx), 2) };
    ctx.progress(`overhead, the handlers alone: µs of CPU per supply event, running / paused: ${(await handlerCostUs(ctx.quick ? 20_000 : 200_000)).map((r) => `${r.running} / ${r.paused}`).join(', ')}`);
  },
};
