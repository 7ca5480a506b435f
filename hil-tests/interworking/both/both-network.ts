/**
 * Both models of ITU-T Y.3818 at once, as real node processes on loopback: QKDN-A and QKDN-B
 * joined by a gateway pair (clause 8.1: gwn_a ══Qx══ gwn_b) and by an interworking node (clause
 * 8.2, Fig 6: the IWN process hosting KM-A iwn-a and KM-B iwn-b), each network with its own CA.
 *
 *              ┌─ gwn_a ══Qx══ gwn_b ─┐
 *   alice ─ a1 ┤                      ├ b1 ─ bob
 *              └─ iwn-a ─[IWN]─ iwn-b ┘
 *
 * Each network lists the other's SAE with both exits (`exits` in its network configuration:
 * bob → gwn_a, iwn-a in A; alice → gwn_b, iwn-b in B), so a1's KSA may supply bob by either.
 * The IWN part is the configuration of host/node/iwn-network.ts (writeIwnConfigs), to which this
 * adds the gateway nodes, their links and the exits; there is no control layer in the networks
 * (static routes), the IWN's controllers run in it as usual.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { initPki } from '../../../host/pki/pki.js';
import { freePort } from '../../../host/bench/ports.js';
import { EtsiClient } from '../../../host/api/client.js';
import { fingerprintOf } from '../../../host/interworking/border/pinning.js';
import { spawnNode, writeIwnConfigs, type IwnEvent, type IwnProc } from '../../../host/node/iwn-network.js';

export type BothProcess = 'a1' | 'b1' | 'gwn_a' | 'gwn_b' | 'iwn';

export interface BothNetwork {
  readonly alice: EtsiClient;
  readonly bob: EtsiClient;
  /** Event lines a process printed (a1 prints its supplies: `{"event":"supply",...,"exit":...}`). */
  events(name: BothProcess): readonly IwnEvent[];
  kill(name: BothProcess): Promise<void>;
  /** A signal to a process (SIGSTOP: it stops answering without closing its connections; SIGCONT). */
  signal(name: BothProcess, signal: NodeJS.Signals): void;
  restart(name: BothProcess): Promise<void>;
  stderr(name: BothProcess): string;
  stop(): Promise<void>;
}

export interface BothNetworkOptions {
  /** Initial units of the IWN's links (a1~iwn-a, iwn-b~b1). */
  readonly iwnUnits: number;
  /** Initial units of the gateways' links (a1~gwn_a, gwn_b~b1). */
  readonly gwnUnits: number;
  /** Key rate of every link, units/s. */
  readonly rate?: number;
}

type Yaml = Record<string, unknown>;

export async function startBothNetwork(o: BothNetworkOptions): Promise<BothNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-both-'));
  const procs = new Map<BothProcess, IwnProc>();
  const clients: EtsiClient[] = [];
  const stopProc = async (p: IwnProc, signal: NodeJS.Signals = 'SIGTERM') => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill(signal);
    const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
    await p.exited;
    clearTimeout(t);
  };
  const stop = async () => {
    for (const c of clients) c.close();
    await Promise.all([...procs.values()].map((p) => stopProc(p)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const rate = o.rate ?? 50;
    const { pkiA, pkiB, port: iwnPorts } = await writeIwnConfigs(dir, { initialUnits: o.iwnUnits, rate });
    const port: Record<string, number> = { ...iwnPorts };
    await Promise.all([initPki(join(dir, 'pki-a'), { network: 'qkdn-a', nodes: ['gwn_a'], saes: [] }), initPki(join(dir, 'pki-b'), { network: 'qkdn-b', nodes: ['gwn_b'], saes: [] })]);
    for (const p of ['gwn_a-api', 'gwn_a-kx', 'gwn_a-border', 'gwn_b-api', 'gwn_b-kx', 'gwn_b-border']) port[p] = await freePort();
    const read = (f: string) => parse(readFileSync(join(dir, f), 'utf8')) as Yaml;
    const write = (f: string, v: Yaml) => writeFileSync(join(dir, f), stringify(v));
    const link = (id: string, ends: [string, string]) => ({ id, ends, source: { type: 'simulated', rate, seed: randomBytes(32).toString('hex'), initialUnits: o.gwnUnits } });
    // Each network: its gateway node and link added, the other's SAE on the gateway first and the IWN's KM as the second exit.
    const widen = (f: string, gwn: string, ends: [string, string], foreign: string, iwnKm: string) => {
      const n = read(f) as { nodes: Yaml[]; links: Yaml[]; saes: { id: string; node: string }[] };
      n.nodes.push({ id: gwn, kx: `127.0.0.1:${port[`${gwn}-kx`]!}` });
      n.links.push(link(`${ends[0]}~${ends[1]}`, ends));
      n.saes = n.saes.map((s) => (s.id === foreign ? { id: foreign, node: gwn } : s));
      write(f, { ...n, exits: [{ sae: foreign, nodes: [gwn, iwnKm] }] });
    };
    widen('network-a.yaml', 'gwn_a', ['a1', 'gwn_a'], 'bob', 'iwn-a');
    widen('network-b.yaml', 'gwn_b', ['gwn_b', 'b1'], 'alice', 'iwn-b');
    // No control layer in the networks; a1 prints its supplies (with the exit each left by).
    for (const f of ['a1.yaml', 'b1.yaml', 'km-a.yaml', 'km-b.yaml']) {
      const { control: _control, ...c } = read(f);
      write(f, { ...c, km: { peerTimeoutMs: 10_000, relayHopTimeoutMs: 5000 }, ...(f === 'a1.yaml' ? { events: ['supply', 'relay', 'sync'] } : {}) });
    }
    const qx = { id: 'qx-ab', source: { type: 'simulated', rate: 500, seed: randomBytes(32).toString('hex'), initialUnits: 2000 } };
    const gateway = (me: 'a' | 'b') => {
      const [pki, peerPki, id, peer, foreign, shared] = me === 'a' ? [pkiA, pkiB, 'gwn_a', 'gwn_b', 'bob', 'alice'] : [pkiB, pkiA, 'gwn_b', 'gwn_a', 'alice', 'bob'];
      return {
        node: id,
        dataDir: `data/${id}`,
        tls: { ca: pki.ca, cert: pki.cert('KME', id), key: pki.key('KME', id) },
        api: { host: '127.0.0.1', port: port[`${id}-api`] },
        kx: { host: '127.0.0.1', port: port[`${id}-kx`] },
        km: { peerTimeoutMs: 10_000, relayHopTimeoutMs: 5000 },
        network: `network-${me}.yaml`,
        logging: { level: 'warn' },
        gateway: {
          provider: `qkdn-${me}`,
          border: { host: '127.0.0.1', port: port[`${id}-border`] },
          peer: { provider: `qkdn-${me === 'a' ? 'b' : 'a'}`, node: peer, address: `127.0.0.1:${port[`${peer}-border`]!}`, fingerprint: fingerprintOf(readFileSync(peerPki.cert('KME', peer), 'utf8')), ca: peerPki.ca },
          qx,
          foreignSaes: [foreign],
          shared: [{ sae: shared, rate: 100, bits: 4096 }],
          timeoutMs: 5000,
        },
      };
    };
    write('gwn_a.yaml', gateway('a'));
    write('gwn_b.yaml', gateway('b'));
    const launch = async (name: BothProcess) => {
      const p = spawnNode(name, join(dir, `${name}.yaml`));
      procs.set(name, p);
      await p.ready;
    };
    await Promise.all((['gwn_a', 'gwn_b', 'a1', 'b1', 'iwn'] as const).map(launch));
    const client = (pki: typeof pkiA, sae: string, apiPort: number) => {
      const c = new EtsiClient({ url: `https://127.0.0.1:${apiPort}`, ca: readFileSync(pki.ca), cert: readFileSync(pki.cert('SAE', sae)), key: readFileSync(pki.key('SAE', sae)) });
      clients.push(c);
      return c;
    };
    return {
      alice: client(pkiA, 'alice', port['a1-api']!),
      bob: client(pkiB, 'bob', port['b1-api']!),
      events: (name) => procs.get(name)?.events ?? [],
      kill: async (name) => {
        const p = procs.get(name);
        if (p) await stopProc(p, 'SIGKILL');
      },
      signal: (name, sig) => void procs.get(name)?.child.kill(sig),
      restart: launch,
      stderr: (name) => (procs.get(name)?.err ?? []).join(''),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
