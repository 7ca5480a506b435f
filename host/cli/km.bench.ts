/**
 * `npm run bench -- km`: what an SAE pair gets from the key management layer.
 *
 * Supply: two real node processes (`qkdn-edge node`, durable LMDB stores, Kx over mutual TLS) on
 * loopback; `concurrency` closed-loop SAE pairs each ask the master's KME for one 256-bit key
 * (POST enc_keys, which reserves it at the slave's KME over Kx first) and then fetch it at the
 * slave's KME (POST dec_keys), over HTTPS with client certificates and keep-alive. `rps` counts
 * both requests (each an mTLS round trip); `p50_ms`/`p99_ms` are per request; `pairs_per_s` and
 * `pair_p99_ms` are per enc_keys+dec_keys pair. The load generator is this process, so it shares
 * the machine's cores with the two nodes. Every key state change is synced to disk before the KM
 * acts on it (four syncs per pair), so the file system under `store_dir` (the temporary directory:
 * TMPDIR) matters: on a shared virtual disk its sync latency dominates.
 *
 * Relay: `relay5_p99_ms` is the time for a node to relay one 256-bit key to a node five hops away
 * (one-time pad hop by hop, every hop durably committed and acknowledged, completion notified
 * back), measured at the source, over a line of six KMs with Kx over TLS on loopback.
 */
import { tmpdir } from 'node:os';
import type { BenchContext, BenchRecord, BenchSuite } from '../bench/benchmark.js';
import { round } from '../bench/benchmark.js';
import { startDemoNetwork } from '../node/demo-network.js';
import { startTestNetwork } from '../km/test-network.js';
import { processCpuSeconds, threadCpuReader } from '../bench/cpu-time.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KeyStore } from '../km/key-store.js';
import { StorageKey } from '../km/storage-key.js';
import { deriveUnitId } from '../kq/unit-id.js';

/** User+system CPU seconds of processes. */
function cpuSeconds(pids: readonly number[]): number[] {
  return pids.map((pid) => processCpuSeconds(pid));
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function supplyBench(ctx: { quick: boolean; progress(m: string): void }): Promise<BenchRecord> {
  const concurrency = Number(process.env.QKDN_BENCH_CONCURRENCY ?? 16);
  const warmupMs = ctx.quick ? 300 : 1500;
  const measureMs = ctx.quick ? 1000 : 6000;
  // Enough units for ~3000 pairs/s over the whole run: each pair uses one unit of the link.
  const units = 2 * Math.ceil(((warmupMs + measureMs) / 1000) * 3000);
  ctx.progress(`starting 2 node processes with ${units} units on their link`);
  const execArgv = process.env.QKDN_NODE_EXEC_ARGV?.split(' ').filter(Boolean);
  const net = await startDemoNetwork({ nodes: 2, shape: 'line', rate: 0, initialUnits: units, km: { maxKeyCount: units }, ...(execArgv ? { execArgv } : {}) });
  try {
    const master = net.client('sae-N1', concurrency);
    const slave = net.client('sae-N2', concurrency);
    const req: number[] = [];
    const pair: number[] = [];
    let errors = 0;
    let recording = false;
    let running = true;
    const worker = async () => {
      while (running) {
        const t0 = performance.now();
        const enc = await master.encKeys('sae-N2', { number: 1 });
        const t1 = performance.now();
        if (enc.status !== 200) {
          errors++;
          continue;
        }
        const dec = await slave.decKeys('sae-N1', [enc.body.keys[0]!.key_ID]);
        const t2 = performance.now();
        if (dec.status !== 200 || dec.body.keys[0]?.key !== enc.body.keys[0]!.key) {
          errors++;
          continue;
        }
        if (recording) {
          req.push(t1 - t0, t2 - t1);
          pair.push(t2 - t0);
        }
      }
    };
    ctx.progress(`${concurrency} SAE pairs: enc_keys at N1, dec_keys at N2, ${measureMs} ms`);
    const workers = Array.from({ length: concurrency }, worker);
    await new Promise((r) => setTimeout(r, warmupMs));
    recording = true;
    const cpu0 = cpuSeconds([process.pid, ...net.nodes.map((n) => n.pid)]);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, measureMs));
    recording = false;
    const cpu1 = cpuSeconds([process.pid, ...net.nodes.map((n) => n.pid)]);
    const seconds = (performance.now() - t0) / 1000;
    running = false;
    await Promise.all(workers);
    req.sort((a, b) => a - b);
    pair.sort((a, b) => a - b);
    return {
      suite: 'km',
      what: 'supply',
      concurrency,
      rps: Math.round(req.length / seconds),
      p50_ms: round(quantile(req, 0.5), 2),
      p99_ms: round(quantile(req, 0.99), 2),
      pairs_per_s: Math.round(pair.length / seconds),
      pair_p50_ms: round(quantile(pair, 0.5), 2),
      pair_p99_ms: round(quantile(pair, 0.99), 2),
      errors,
      // Where the stores live: the sync latency of that file system bounds the figures.
      store_dir: tmpdir(),
      // CPU seconds per 1000 requests: generator (this process), then each node.
      cpu_ms_per_req_gen: round(((cpu1[0]! - cpu0[0]!) * 1000) / req.length, 3),
      cpu_ms_per_req_nodes: round(((cpu1[1]! - cpu0[1]! + cpu1[2]! - cpu0[2]!) * 1000) / req.length, 3),
    };
  } finally {
    await net.stop();
  }
}

async function relayBench(ctx: { quick: boolean; progress(m: string): void }): Promise<BenchRecord> {
  const relays = ctx.quick ? 30 : 300;
  ctx.progress(`line of 6 KMs, ${relays} relays of one 256-bit key over 5 hops`);
  const net = await startTestNetwork({ links: ['A-B', 'B-C', 'C-D', 'D-E', 'E-F'], saes: {}, initialUnits: 4 * relays + 64 });
  try {
    const km = net.node('A').km;
    for (let i = 0; i < 10; i++) await km.relay('F', 1);
    const t: number[] = [];
    for (let i = 0; i < relays; i++) {
      const t0 = performance.now();
      await km.relay('F', 1);
      t.push(performance.now() - t0);
    }
    t.sort((a, b) => a - b);
    return { suite: 'km', what: 'relay', hops: 5, bits: 256, relays, relay5_p50_ms: round(quantile(t, 0.5), 2), relay5_p99_ms: round(quantile(t, 0.99), 2) };
  } finally {
    await net.close();
  }
}

/**
 * A QKD link's units going into the store as the link pushes them (KeyStore.addLinkUnits, a 10 km
 * block's 2,800 units of 256 bits per call): the main thread's CPU per unit, the figure that
 * counts for a link at 1 GHz (~17,000 units a second), with batches sealed on the store's thread.
 */
async function linkUnitsBench(ctx: BenchContext): Promise<BenchRecord> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-km-units-'));
  const store = await KeyStore.open({ path: join(dir, 'km'), nodeId: 'A', storageKey: StorageKey.openOrCreate(join(dir, 'storage.key')) });
  try {
    const perCall = 2800;
    const calls = ctx.quick ? 3 : 20;
    const material = randomBytes(32 * perCall);
    const mainCpu = threadCpuReader();
    let seq = 0;
    const batch = () => Array.from({ length: perCall }, (_, i) => ({ id: deriveUnitId('A~B', seq + i), seq: seq + i, bytes: material.subarray(32 * i, 32 * i + 32), allocator: 'A' }));
    await store.addLinkUnits('B', batch(), 256); // start-up (the sealing thread) left out
    seq += perCall;
    ctx.progress(`${calls} x ${perCall} link units into a store`);
    let cpu = 0;
    const t0 = performance.now();
    for (let c = 0; c < calls; c++) {
      const units = batch(); // the IDs are the link's work, not the store's
      const c0 = mainCpu() ?? Number.NaN;
      await store.addLinkUnits('B', units, 256);
      cpu += (mainCpu() ?? Number.NaN) - c0;
      seq += perCall;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { suite: 'km', what: 'link-units', units: calls * perCall, units_per_call: perCall, units_per_s: Math.round((calls * perCall) / seconds), main_thread_us_per_unit: round((cpu * 1e6) / (calls * perCall), 2) };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const suite: BenchSuite = {
  name: 'km',
  description: 'ETSI 014 enc_keys+dec_keys over mutual TLS between two node processes (durable stores), and relay of a 256-bit key over 5 hops',
  async *run(ctx): AsyncIterable<BenchRecord> {
    const supply = await supplyBench(ctx);
    const relay = await relayBench(ctx);
    const { suite: _s, what: _w, ...r } = relay;
    yield { ...supply, what: 'supply+relay5', ...r };
    yield await linkUnitsBench(ctx);
  },
};
