/**
 * `npm run bench -- control`: the control layer.
 *
 * route: time to compute (and admit, then release) one relay route with ControllerRouter on a
 * network of N nodes shaped like metro rings of ten joined by a backbone (metro.ts), stock on
 * every link, between random node pairs (a fixed seed). p50/p99 over the runs, in ms.
 */
import type { BenchRecord, BenchSuite } from '../bench/benchmark.js';
import { round } from '../bench/benchmark.js';
import { ControllerView } from './view.js';
import { ControllerRouter } from './router.js';
import { SessionControl } from './sessions.js';
import { metroNetwork } from './metro.js';

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A small deterministic generator so runs pick the same pairs. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function* routeRecords(quick: boolean): Generator<BenchRecord> {
  for (const n of [10, 100, 1000]) {
    const cfg = metroNetwork(n);
    const view = new ControllerView({ unitBits: 256, lowWaterUnits: 8 });
    view.configure(cfg, 1);
    const rnd = lcg(n);
    for (const l of cfg.links) for (const e of l.ends) view.reportStock(l.id, e, { stockBits: (500 + Math.floor(rnd() * 5000)) * 256, consumptionBps: 0, at: 0 });
    const sessions = new SessionControl();
    const router = new ControllerRouter(view, sessions);
    const runs = quick ? 200 : 2000;
    const times: number[] = [];
    for (let i = 0; i < runs + 100; i++) {
      const from = cfg.nodes[Math.floor(rnd() * n)]!;
      let to = cfg.nodes[Math.floor(rnd() * n)]!;
      if (to === from) to = cfg.nodes[(cfg.nodes.indexOf(from) + 1) % n]!;
      const t0 = performance.now();
      router.routeNow({ relayId: `r${i}`, from, to, units: 4, deadline: Date.now() + 60_000, priority: 0, attempt: 0, avoidLinks: [] });
      const dt = performance.now() - t0;
      sessions.release(`r${i}`, 'completed');
      if (i >= 100) times.push(dt); // the first runs warm the JIT
    }
    sessions.close();
    times.sort((a, b) => a - b);
    yield { suite: 'control', what: 'route', nodes: n, p50_ms: round(quantile(times, 0.5), 4), p99_ms: round(quantile(times, 0.99), 4) };
  }
}

export const suite: BenchSuite = {
  name: 'control',
  description: 'route computation (widest-shortest path) on metro-ring networks of 10, 100 and 1000 nodes',
  run: (ctx) => routeRecords(ctx.quick),
};
