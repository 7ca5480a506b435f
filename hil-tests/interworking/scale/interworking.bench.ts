/**
 * `npm run bench -- interworking [--json]`: Y.3818 interworking with gateway nodes at the scale of
 * the largest deployed QKD network (Chen et al., Nature 589, 214 (2021)): a backbone provider of
 * 32 trusted relays joining four metropolitan providers of 34-40 nodes each, 180 nodes and five
 * providers in all, each provider its own CA, topology and SAE namespace. Every node runs in this
 * process with its own LMDB store and its Kx over real mutual-TLS sockets (host/km/test-network.ts,
 * as the control bench's reroute run); each border is a GWN pair on a pinned mutual-TLS border
 * connection with its own Qx link (host/interworking/gwn/gateway.ts).
 *
 *   metro-0 ═ bba0 ──────── backbone ladder (two rails of 16, rungs) ──────── bbb15 ═ metro-3
 *   metro-1 ═ bba5 ──────────────────────────────────────────────────────── bbb10 ═ metro-2
 *
 * Four SAE pairs (metro 0 ↔ 3, metro 1 ↔ 2, both ways), master and slave on interior metro nodes,
 * draw one key a supply, one supply in flight each; every supply crosses two borders and the
 * backbone (each provider relaying its own segment). While they run, a backbone link on the route
 * between metro 0's and metro 3's gateways is cut: it leaves every backbone KM's topology at once
 * (as a controller's push), so hops over it are refused and relays in flight fail and are voided.
 *
 * `relay_p50_ms`, `relay_p99_ms`: the master's supply, from request until the keys are held at
 * the slave's KM across both borders, over every completed supply. `reroute_ms`: from the cut
 * until the first supply started after it over the pairs whose route used the link completes.
 * `keys_lost`: keys a master SAE got that its slave SAE then cannot fetch by ID, identical (each
 * fetched at the slave's KM, once). `rss_mb_per_node`: this process's resident set over the nodes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BenchContext, BenchRecord, BenchSuite } from '../../../host/bench/benchmark.js';
import { median, round } from '../../../host/bench/benchmark.js';
import { startTestNetwork, type TestNetwork } from '../../../host/km/test-network.js';
import { waitFor } from '../../../host/node/gwn-network.js';
import { pkiPaths } from '../../../host/pki/pki.js';
import { freePort } from '../../../host/bench/ports.js';
import { metroNetwork } from '../../../host/controller/metro.js';
import { StaticRouter } from '../../../host/km/routing.js';
import { SimulatedKeySource } from '../../../host/km/simulated-key-source.js';
import { fingerprintOf } from '../../../host/interworking/border/pinning.js';
import { Gateway } from '../../../host/interworking/gwn/gateway.js';

const UNIT = 256;

interface Net {
  readonly provider: string;
  readonly nodes: readonly string[];
  readonly links: readonly string[];
  net?: TestNetwork;
}

interface Pair {
  readonly from: number;
  readonly to: number;
  readonly master: string;
  readonly slave: string;
  readonly masterNode: string;
  readonly slaveNode: string;
}

function progress(m: string): void {
  process.stderr.write(`  … ${m}\n`);
}

/** The backbone: two rails of `n/2` trusted relays with a rung at every other one (and the last). */
function ladder(n: number): { nodes: string[]; links: string[] } {
  const half = n / 2;
  const a = (i: number) => `bba${i}`;
  const b = (i: number) => `bbb${i}`;
  const links: string[] = [];
  for (let i = 0; i + 1 < half; i++) links.push(`${a(i)}-${a(i + 1)}`, `${b(i)}-${b(i + 1)}`);
  for (let i = 0; i < half; i += 2) links.push(`${a(i)}-${b(i)}`);
  if ((half - 1) % 2) links.push(`${a(half - 1)}-${b(half - 1)}`);
  return { nodes: [...Array.from({ length: half }, (_, i) => a(i)), ...Array.from({ length: half }, (_, i) => b(i))], links };
}

/** A metro provider of `size` nodes: rings of ten joined twice (host/controller/metro.ts), prefixed. */
function metro(k: number, size: number): { nodes: string[]; links: string[] } {
  const cfg = metroNetwork(size, 10);
  const p = (id: string) => `c${k}${id}`;
  return { nodes: cfg.nodes.map(p), links: cfg.links.map((l) => `${p(l.ends[0])}-${p(l.ends[1])}`) };
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function scale(ctx: BenchContext): Promise<BenchRecord> {
  const quick = ctx.quick;
  const sizes = quick ? [8, 8, 8, 8] : [34, 36, 38, 40];
  const bbSize = quick ? 8 : 32;
  const bb = ladder(bbSize);
  const half = bbSize / 2;
  // Where each metro's border lies on the backbone (metro 0 and 3 at the ends, 1 and 2 between).
  const bbGwn = ['bba0', `bba${Math.floor(half / 3)}`, `bbb${Math.floor((2 * half) / 3)}`, `bbb${half - 1}`];
  const metros = sizes.map((s, k) => ({ ...metro(k, s), provider: `metro-${k}` }));
  const gwn = metros.map((m) => m.nodes[0]!);
  const pairs: Pair[] = (
    [
      [0, 3],
      [3, 0],
      [1, 2],
      [2, 1],
    ] as const
  ).map(([from, to], i) => {
    const mn = metros[from]!.nodes;
    const sn = metros[to]!.nodes;
    return { from, to, master: `sae${i}m`, slave: `sae${i}s`, masterNode: mn[Math.floor(mn.length * 0.6)]!, slaveNode: sn[Math.floor(sn.length * 0.8)]! };
  });
  // SAE namespaces: each metro's own SAEs at their nodes, the partners' at its GWN; the backbone
  // has every pair's SAEs at the GWN facing their metro.
  const metroSaes = metros.map((_, k) => {
    const own: Record<string, string> = {};
    const foreign: Record<string, string> = {};
    for (const p of pairs) {
      if (p.from === k) {
        own[p.master] = p.masterNode;
        foreign[p.slave] = gwn[k]!;
      }
      if (p.to === k) {
        own[p.slave] = p.slaveNode;
        foreign[p.master] = gwn[k]!;
      }
    }
    return { own, foreign };
  });
  const bbSaes: Record<string, string> = {};
  for (const p of pairs) {
    bbSaes[p.master] = bbGwn[p.from]!;
    bbSaes[p.slave] = bbGwn[p.to]!;
  }

  const nets: Net[] = [{ provider: 'backbone', ...bb }, ...metros];
  const N = nets.reduce((a, n) => a + n.nodes.length, 0);
  const gateways = new Map<string, Gateway>();
  const events = new Map<string, Record<string, unknown>[]>();
  const t0 = Date.now();
  try {
    for (const [i, n] of nets.entries()) {
      const saes = i === 0 ? bbSaes : { ...metroSaes[i - 1]!.own, ...metroSaes[i - 1]!.foreign };
      n.net = await startTestNetwork({
        links: n.links,
        saes,
        initialUnits: 400,
        rate: 2,
        tickMs: 250,
        syncIntervalMs: 1000,
        peerTimeoutMs: 60_000,
        onKx: (id, peer, m) => gateways.get(id)?.onKx(peer, m),
      });
      progress(`${n.provider}: ${n.nodes.length} nodes, ${n.links.length} links up (${Math.round((Date.now() - t0) / 1000)} s, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB)`);
    }
    // The GWN pairs: one per metro, each side its own provider's certificate, pinning the other's.
    const tlsOf = (n: Net, id: string) => {
      const p = pkiPaths(join(n.net!.dir, 'pki'));
      return { key: readFileSync(p.key('KME', id), 'utf8'), cert: readFileSync(p.cert('KME', id), 'utf8'), ca: readFileSync(p.ca, 'utf8') };
    };
    const ports = new Map<string, number>();
    for (const g of [...gwn, ...bbGwn]) ports.set(g, await freePort());
    for (const k of metros.keys()) {
      const qx = `qx-${k}`;
      const seed = new Uint8Array(randomBytes(32));
      const ends = [
        { net: nets[k + 1]!, node: gwn[k]!, peerNet: nets[0]!, peer: bbGwn[k]!, fronts: Object.keys(metroSaes[k]!.foreign), shares: Object.keys(metroSaes[k]!.own) },
        { net: nets[0]!, node: bbGwn[k]!, peerNet: nets[k + 1]!, peer: gwn[k]!, fronts: Object.keys(metroSaes[k]!.own), shares: Object.keys(metroSaes[k]!.foreign) },
      ];
      for (const e of ends) {
        const own = tlsOf(e.net, e.node);
        const peer = tlsOf(e.peerNet, e.peer);
        const node = e.net.net!.node(e.node);
        const log: Record<string, unknown>[] = [];
        events.set(e.node, log);
        const g = new Gateway({
          provider: e.net.provider,
          km: node.km,
          kx: node.kx,
          tls: { key: own.key, cert: own.cert },
          listen: { host: '127.0.0.1', port: ports.get(e.node)! },
          peer: { provider: e.peerNet.provider, node: e.peer, fingerprint: fingerprintOf(peer.cert), ca: peer.ca, host: '127.0.0.1', port: ports.get(e.peer)! },
          qx,
          qxSource: new SimulatedKeySource({ linkId: qx, peer: e.peer, seed, rate: 5, unitBits: UNIT, initialUnits: 1500, tickMs: 250 }),
          foreignSaes: e.fronts,
          shared: e.shares.map((sae) => ({ sae, rate: 1000, bits: UNIT })),
          timeoutMs: 60_000,
          syncIntervalMs: 1000,
          event: (ev) => void log.push(ev),
        });
        gateways.set(e.node, g);
        await g.start();
      }
    }
    await waitFor(() => [...events.values()].every((l) => l.some((e) => e.kind === 'peer-synced')), 120_000, 'every GWN pair synced over its border');
    progress(`${N} nodes of ${nets.length} providers up, ${gateways.size} GWNs synced in ${Math.round((Date.now() - t0) / 1000)} s; ${pairs.length} SAE pairs relaying across the backbone`);
    const rssMb = process.memoryUsage().rss / 2 ** 20;

    // Load: one supply in flight per pair, one key each, until told to stop.
    const latencies: number[] = [];
    const completions: { pair: number; started: number; done: number }[] = [];
    const delivered = pairs.map(() => [] as { id: string; hex: string }[]);
    let failures = 0;
    let running = true;
    const worker = async (i: number) => {
      const p = pairs[i]!;
      const km = nets[p.from + 1]!.net!.node(p.masterNode).km;
      while (running) {
        const started = Date.now();
        const t = performance.now();
        try {
          const keys = await km.supply({ master: p.master, slaves: [p.slave], size: UNIT, number: 1 });
          latencies.push(performance.now() - t);
          completions.push({ pair: i, started, done: Date.now() });
          for (const k of keys) delivered[i]!.push({ id: k.id, hex: Buffer.from(k.bytes).toString('hex') });
        } catch {
          failures++;
          await new Promise((r) => setTimeout(r, 100)); // refused cleanly (503 at the API): again
        }
      }
    };
    const workers = pairs.map((_, i) => worker(i));
    const per = quick ? 3 : 12;
    const count = (i: number, since = 0) => completions.filter((c) => c.pair === i && c.started >= since).length;
    await waitFor(() => pairs.every((_, i) => count(i) >= per), 600_000, `${per} supplies per pair`);
    progress(`${completions.length} supplies completed (${failures} refused); cutting a backbone link`);

    // The cut: a link of the route between metro 0's and metro 3's gateways leaves every backbone KM's view.
    const bbNet = nets[0]!.net!;
    const route = new StaticRouter(bbNet.node(bbGwn[0]!).km.network).routeNow({ from: bbGwn[0]!, to: bbGwn[3]!, avoidLinks: [] });
    const cut = route.links[Math.floor(route.links.length / 2)]!;
    const crossing = pairs.map((p, i) => ({ p, i })).filter(({ p }) => {
      const r = new StaticRouter(bbNet.node(bbGwn[p.from]!).km.network).routeNow({ from: bbGwn[p.from]!, to: bbGwn[p.to]!, avoidLinks: [] });
      return r.links.includes(cut);
    });
    const cutAt = Date.now();
    for (const n of bbNet.nodes.values()) {
      const t = n.km.network.current();
      n.km.network.replace({ ...t, links: t.links.filter((l) => l.id !== cut) }, n.km.network.version + 1);
    }
    await waitFor(() => crossing.some(({ i }) => count(i, cutAt) >= 1), 600_000, 'a supply over the cut route after the cut');
    const rerouteMs = Math.min(...completions.filter((c) => c.started >= cutAt && crossing.some(({ i }) => i === c.pair)).map((c) => c.done - cutAt));
    progress(`link ${cut} cut: first supply around it after ${rerouteMs} ms`);
    await waitFor(() => pairs.every((_, i) => count(i, cutAt) >= per), 600_000, `${per} supplies per pair after the cut`);
    running = false;
    await Promise.all(workers);

    // Every key a master got, fetched once at its slave's KM: identical, or lost.
    let lost = 0;
    for (const [i, p] of pairs.entries()) {
      const slaveKm = nets[p.to + 1]!.net!.node(p.slaveNode).km;
      for (const k of delivered[i]!) {
        const got = await slaveKm.fetch({ slave: p.slave, master: p.master, ids: [k.id] }).catch(() => []);
        if (got.length !== 1 || Buffer.from(got[0]!.bytes).toString('hex') !== k.hex) lost++;
      }
    }
    const crossed = [...events.values()].reduce((a, l) => a + l.filter((e) => e.kind === 'crossed').length, 0);
    progress(`${completions.length} supplies, ${failures} refused or failed (voided), ${crossed} border crossings, median ${round(median(latencies), 0)} ms`);
    return {
      suite: 'interworking',
      what: 'scale',
      nodes: N,
      providers: nets.length,
      rss_mb_per_node: round(rssMb / N, 2),
      relay_p50_ms: Math.round(percentile(latencies, 50)),
      relay_p99_ms: Math.round(percentile(latencies, 99)),
      reroute_ms: rerouteMs,
      keys_lost: lost,
    };
  } finally {
    for (const g of gateways.values()) await g.stop().catch(() => {});
    for (const n of nets) await n.net?.close().catch(() => {});
  }
}

export const suite: BenchSuite = {
  name: 'interworking',
  description: 'five providers (a 32-node backbone joining four metros, 180 nodes) with GWN pairs at each border: interworking relays across the backbone, a backbone link cut during them',
  async *run(ctx) {
    yield await scale(ctx);
  },
};
