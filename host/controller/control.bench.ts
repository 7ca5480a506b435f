/**
 * `npm run bench -- control`: the control layer.
 *
 * route: time to compute (and admit, then release) one relay route with ControllerRouter on a
 * network of N nodes shaped like metro rings of ten joined by a backbone (metro.ts), stock on
 * every link, between random node pairs (a fixed seed). p50/p99 over the runs, in ms.
 *
 * failover: two replicas of `qkdn-edge controller` (processes) on a real etcd on loopback (lease
 * TTL 2 s), four KMs reporting over Ck every 100 ms; the leader is killed with SIGKILL and `ms` is
 * the time until a KM's route request is answered again (by the follower, now leader): the lease
 * running out, the election, the new leader loading its state and the KMs' next reports. Median
 * of 3 runs (1 with --quick). Needs etcd (apt-get install etcd-server); without it the record is
 * not printed and the progress line says why.
 */
import type { BenchContext, BenchRecord, BenchSuite } from '../bench/benchmark.js';
import { median, round } from '../bench/benchmark.js';
import { ControllerView } from './view.js';
import { ControllerRouter } from './router.js';
import { SessionControl } from './sessions.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initPki } from '../pki/pki.js';
import { etcdBinary, startEtcd } from './central/etcd-server.js';
import { killReplica, spawnReplica, startReportingKms, type ReplicaProcess } from './central/processes.js';
import type { NetworkConfig } from './view.js';
import { metroNetwork, squareNetwork } from './metro.js';

const SQUARE: NetworkConfig = squareNetwork();

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function* failoverRecords(ctx: BenchContext): AsyncGenerator<BenchRecord> {
  if (!etcdBinary()) {
    ctx.progress('failover: skipped, no etcd binary (apt-get install etcd-server)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-failover-'));
  const etcd = await startEtcd();
  const times: number[] = [];
  try {
    const pki = join(dir, 'pki');
    const paths = await initPki(pki, { nodes: [...SQUARE.nodes, 'ctl1', 'ctl2'], saes: [] });
    const ca = readFileSync(paths.ca, 'utf8');
    const tls = (n: string) => ({ ca, cert: readFileSync(paths.cert('KME', n), 'utf8'), key: readFileSync(paths.key('KME', n), 'utf8') });
    for (let run = 0; run < (ctx.quick ? 1 : 3); run++) {
      const prefix = `qkdn/bench${run}`;
      const procs: ReplicaProcess[] = [];
      let kms: ReturnType<typeof startReportingKms> | null = null;
      try {
        for (const id of ['ctl1', 'ctl2']) procs.push(await spawnReplica({ id, dir, pki, etcdUrl: etcd.url, prefix, network: SQUARE, unitBits: 256, lowWaterUnits: 4 }));
        await until(() => procs.some((p) => p.has('elected')) && procs.every((p) => p.has('listening')), 60_000, 'a leader');
        kms = startReportingKms({ network: SQUARE, controllers: procs.map((p) => ({ id: p.id, host: '127.0.0.1', port: p.port })), tls, stockUnits: () => 1000, unitBits: 256, everyMs: 100 });
        const a = kms.clients.get('A')!;
        let n = 0;
        const routed = () => a.route({ relayId: `f${run}-${n++}`, from: 'A', to: 'C', units: 1, deadline: Date.now() + 10_000, priority: 0, attempt: 0, avoidLinks: [] }).then(() => true, () => false);
        await until(routed, 30_000, 'routes before the kill');
        const leader = procs.find((p) => p.has('elected'))!;
        const t0 = performance.now();
        await killReplica(leader);
        await until(routed, 60_000, 'routes after the kill');
        times.push(performance.now() - t0);
        ctx.progress(`failover run ${run + 1}: ${Math.round(times.at(-1)!)} ms`);
      } finally {
        await kms?.close();
        for (const p of procs) await killReplica(p);
      }
    }
  } finally {
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  yield { suite: 'control', what: 'failover', ms: Math.round(median(times)) };
}

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
  description: 'route computation (widest-shortest path) on metro-ring networks of 10, 100 and 1000 nodes; centralized-controller failover on etcd',
  async *run(ctx) {
    yield* routeRecords(ctx.quick);
    yield* failoverRecords(ctx);
  },
};
