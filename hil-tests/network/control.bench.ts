/**
 * `npm run bench -- control` (with host/controller/control.bench.ts): the control layer run by
 * the nodes themselves (host/node/control.ts).
 *
 * reroute: 50 in-process nodes (each its own LMDB store, Kx over mutual TLS on loopback, its
 * control layer wired as a node process wires it) in metro rings of ten joined by a backbone.
 * SAE pairs in every ring draw relayed keys (enc_keys at the source KM, one key a request, four
 * requests in flight per pair); while relays run through m0n2, that node is stopped (its KM and
 * its controller: its links m0n1~m0n2 and m0n2~m0n3 cut). `convergence_ms`: from the stop until
 * every controller still running (distributed: all 49 nodes' own; centralized: the leader's)
 * offers neither link to any route. `relays`: relays completed over the run. After it every key
 * delivered is fetched at the slave's KM: `keys_lost` counts keys delivered at one end and not
 * identical at the other (plus relay pool keys held at one end only), `keys_duplicated` key IDs
 * or key bytes delivered twice. Centralized: one `CentralReplica` on a real etcd (loopback) when
 * etcd is installed, else the embedded store (the progress line says which).
 *
 * footprint: N node processes (`qkdn-edge node`, distributed control layer on, a line of
 * simulated links), idle after start: resident set size per process from /proc, averaged.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { BenchContext, BenchRecord, BenchSuite } from '../../host/bench/benchmark.js';
import { round } from '../../host/bench/benchmark.js';
import { startTestNetwork, type TestNetwork } from '../../host/km/test-network.js';
import { CHANNELS, type RelayEvent } from '../../host/km/diagnostics.js';
import type { Router } from '../../host/km/routing.js';
import { initPki, pkiPaths } from '../../host/pki/pki.js';
import { freePort } from '../../host/bench/ports.js';
import { metroNetwork } from '../../host/controller/metro.js';
import type { ControllerView, NetworkConfig } from '../../host/controller/view.js';
import { CentralReplica, EmbeddedElector, type Elector } from '../../host/controller/central/replica.js';
import { EtcdControl } from '../../host/controller/central/etcd.js';
import { etcdBinary, startEtcd, type EtcdServer } from '../../host/controller/central/etcd-server.js';
import { createNodeControl, loopbackControlSection, type ControlConfig, type NodeControl } from '../../host/node/control.js';
import { startDemoNetwork } from '../../host/node/demo-network.js';

const UNIT = 256;
const CUT = 'm0n2';

async function until(check: () => boolean, ms: number, what: string, everyMs = 10): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Pairs (master node, slave node): two hops apart in every ring, both ways; ring 0's run through CUT. */
function pairsOf(cfg: NetworkConfig): [string, string][] {
  const rings = new Set(cfg.nodes.map((n) => n.replace(/n\d+$/, '')));
  return [...rings].flatMap((r): [string, string][] => [[`${r}n1`, `${r}n3`], [`${r}n3`, `${r}n1`]]);
}

async function rerouteRun(form: ControlConfig['form'], nodes: number, ctx: BenchContext): Promise<BenchRecord> {
  const cfg0 = metroNetwork(nodes);
  const pairs = pairsOf(cfg0);
  const saes: Record<string, string> = {};
  const sae = (m: string, s: string, end: 'm' | 's') => `p${pairs.findIndex((p) => p[0] === m && p[1] === s)}${end}`;
  for (const [m, s] of pairs) {
    saes[sae(m, s, 'm')] = m;
    saes[sae(m, s, 's')] = s;
  }
  const cfg: NetworkConfig = { ...cfg0, saes };
  const routers = new Map<string, Router>();
  const forward: (id: string) => Router = (id) => ({ route: (r) => routers.get(id)!.route(r), release: (relay, o) => routers.get(id)!.release?.(relay, o) });
  const relays: RelayEvent[] = [];
  const onRelay = (m: unknown) => void relays.push(m as RelayEvent);
  subscribe(CHANNELS.relay, onRelay);
  let net: TestNetwork | null = null;
  let etcd: EtcdServer | null = null;
  let replica: CentralReplica | null = null;
  const controls = new Map<string, NodeControl>();
  try {
    net = await startTestNetwork({ links: cfg.links.map((l) => `${l.ends[0]}-${l.ends[1]}`), saes, initialUnits: 300, rate: 20, router: forward });
    const paths = pkiPaths(join(net.dir, 'pki'));
    const ca = readFileSync(paths.ca, 'utf8');
    const tls = (id: string) => ({ ca, cert: readFileSync(paths.cert('KME', id), 'utf8'), key: readFileSync(paths.key('KME', id), 'utf8') });
    let base: ControlConfig;
    if (form === 'centralized') {
      await initPki(join(net.dir, 'pki'), { nodes: ['ctl1'], saes: [] });
      let elector: Elector;
      if (etcdBinary()) {
        etcd = await startEtcd();
        elector = new EtcdControl({ hosts: [etcd.url], prefix: 'qkdn/bench-reroute', leaseTtlS: 2 });
      } else elector = new EmbeddedElector();
      ctx.progress(`reroute centralized: controller on ${etcd ? `etcd ${etcd.url}` : 'the embedded store (no etcd installed)'}`);
      const port = await freePort();
      replica = new CentralReplica({ id: 'ctl1', tls: tls('ctl1'), listen: { host: '127.0.0.1', port }, kms: cfg.nodes, elector, config: cfg, unitBits: UNIT, lowWaterUnits: 4 });
      await replica.start();
      base = { form, lowWaterUnits: 4, controllers: [{ id: 'ctl1', endpoint: `127.0.0.1:${port}` }], reportMs: 200 };
    } else base = { form, lowWaterUnits: 4, holdDownMs: 200, refreshMs: 30_000 };
    const ports = new Map<string, number>();
    if (form === 'distributed') for (const n of cfg.nodes) ports.set(n, await freePort());
    for (const id of cfg.nodes) {
      const n = net.node(id);
      const control = createNodeControl({ node: id, control: loopbackControlSection(base, id, cfg, ports, join(net.dir, 'pki', 'nodes')), network: cfg, unitBits: UNIT, tls: tls(id), store: n.store, kx: n.kx });
      controls.set(id, control);
      routers.set(id, control.router);
    }
    for (const [id, c] of controls) await c.start(net.node(id).km);
    const views = (): ControllerView[] => (form === 'distributed' ? [...controls].filter(([id]) => id !== CUT || net!.nodes.has(id)).map(([, c]) => c.distributed!.view) : replica?.controller ? [replica.controller.view] : []);
    await until(() => views().length > 0 && views().every((v) => cfg.links.every((l) => v.stockUnits(l.id) > 20)), 120_000, 'every controller knowing every link\'s stock', 50);
    ctx.progress(`reroute ${form}: ${nodes} nodes up, ${pairs.length} SAE pairs relaying`);

    // Load: every pair keeps four supplies in flight until told to stop.
    const delivered = new Map<string, { id: string; bytes: string }[]>(pairs.map(([m, s]) => [`${m}>${s}`, []]));
    const after = new Map<string, number>();
    let cutAt = 0;
    let running = true;
    const worker = async (m: string, s: string) => {
      const key = `${m}>${s}`;
      while (running) {
        const km = net!.nodes.get(m)?.km;
        if (!km) return;
        try {
          const keys = await km.supply({ master: sae(m, s, 'm'), slaves: [sae(m, s, 's')], size: UNIT, number: 1 });
          for (const k of keys) delivered.get(key)!.push({ id: k.id, bytes: Buffer.from(k.bytes).toString('hex') });
          if (cutAt) after.set(key, (after.get(key) ?? 0) + 1);
        } catch {
          await new Promise((r) => setTimeout(r, 20)); // a clean refusal (503 at the API): try again
        }
      }
    };
    const workers = pairs.flatMap(([m, s]) => [worker(m, s), worker(m, s), worker(m, s), worker(m, s)]);
    const viaCut = () => relays.filter((r) => r.outcome === 'completed' && r.route.includes(CUT)).length;
    await until(() => viaCut() >= 8, 120_000, `relays through ${CUT}`);
    const cutLinks = cfg.links.filter((l) => l.ends.includes(CUT)).map((l) => l.id);
    const t0 = performance.now();
    cutAt = Date.now();
    await Promise.all([controls.get(CUT)!.stop(), net.stopNode(CUT)]);
    await until(() => views().every((v) => cutLinks.every((l) => !v.usable(l))), 60_000, 'every controller routing around the cut', 1);
    const convergenceMs = performance.now() - t0;
    ctx.progress(`reroute ${form}: converged in ${Math.round(convergenceMs)} ms`);
    // Ring 0's pairs carry on around the ring.
    await until(() => pairs.filter(([m]) => m.startsWith('m0')).every(([m, s]) => (after.get(`${m}>${s}`) ?? 0) >= 5), 120_000, 'ring 0 supplying after the cut', 50);
    running = false;
    await Promise.all(workers);

    let lost = 0;
    let duplicated = 0;
    for (const [m, s] of pairs) {
      const got = delivered.get(`${m}>${s}`)!;
      duplicated += got.length - new Set(got.map((k) => k.id)).size + got.length - new Set(got.map((k) => k.bytes)).size;
      const slave = net.node(s);
      const fetched = await slave.km.fetch({ slave: sae(m, s, 's'), master: sae(m, s, 'm'), ids: got.map((k) => k.id) }).catch(() => []);
      const at = new Map(fetched.map((k) => [k.id, Buffer.from(k.bytes).toString('hex')]));
      lost += got.filter((k) => at.get(k.id) !== k.bytes).length;
      // Relayed and not yet delivered: the same count at both ends.
      lost += Math.abs(net.node(m).store.counts(s, 'relay').available - slave.store.counts(m, 'relay').available);
    }
    const completed = relays.filter((r) => r.outcome === 'completed').length;
    return { suite: 'control', what: 'reroute', form, nodes, convergence_ms: Math.round(convergenceMs), relays: completed, keys_lost: lost, keys_duplicated: duplicated };
  } finally {
    unsubscribe(CHANNELS.relay, onRelay);
    for (const [id, c] of controls) if (id !== CUT) await c.stop().catch(() => {});
    await replica?.stop();
    await net?.close();
    await etcd?.stop();
  }
}

/** Resident set size of a process, in MB (Linux /proc). */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function footprint(nodes: number, ctx: BenchContext): Promise<BenchRecord> {
  const net = await startDemoNetwork({ nodes, shape: 'line', rate: 10, initialUnits: 200, bundle: true, control: { form: 'distributed' } });
  try {
    // Idle: the start's garbage collected, flooding settled.
    await new Promise((r) => setTimeout(r, 5000));
    const rss = net.nodes.map((n) => rssMb(n.pid));
    ctx.progress(`footprint: ${rss.map((x) => Math.round(x)).join(' ')} MB`);
    return { suite: 'control', what: 'footprint', nodes, rss_mb_per_node: round(rss.reduce((a, b) => a + b, 0) / rss.length, 1) };
  } finally {
    await net.stop();
  }
}

export const suite: BenchSuite = {
  name: 'control',
  description: 'nodes running the control layer: reroute convergence after a cut at 50 nodes (both forms), node process footprint',
  async *run(ctx) {
    for (const form of ['distributed', 'centralized'] as const) yield await rerouteRun(form, 50, ctx);
    yield await footprint(ctx.quick ? 4 : 10, ctx);
  },
};
