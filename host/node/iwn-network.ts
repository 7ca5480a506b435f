/**
 * Two providers joined by an interworking node, as real processes on loopback (Y.3818 Fig 6,
 * distributed-distributed): QKDN-A is node a1 (SAE alice) with a simulated QKD link into the
 * IWN's KM-A; QKDN-B is node b1 (SAE bob) with a link into the IWN's KM-B; the IWN is one
 * `qkdn-edge node` process with `role: interworking` hosting KM-A, KM-B, controller-A and
 * controller-B (Cxi') and XLMO-A and XLMO-B (Mxi'). Each provider has its own CA. Everything is
 * written to a temporary directory: the PKI, the five configuration files (the shape of those in
 * host/interworking/iwn/examples/) and the data directories. `npm start -- --model iwn`, the
 * end-to-end tests of hil-tests/interworking/iwn and the conformance runner start this builder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { initPki, type PkiPaths } from '../pki/pki.js';
import { generateManagerKeys, type ManagerKeys } from '../interworking/mxi/seal.js';
import { freePort } from '../bench/ports.js';
import { EtsiClient } from '../api/client.js';
import { controlNetworkOf, loopbackControlSection, type ControlConfig } from './control.js';
import type { NetworkConfig } from '../km/network-config.js';
import { startEtcd, type EtcdServer } from '../controller/central/etcd-server.js';
import { killReplica, spawnReplica, type ReplicaProcess, type ReplicaSpec } from '../controller/central/processes.js';

const CLI = fileURLToPath(new URL('../cli/qkdn-edge.mjs', import.meta.url));

export type IwnEvent = { readonly event: string; readonly kind?: string } & Readonly<Record<string, unknown>>;

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly events: IwnEvent[];
  readonly err: string[];
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

function spawnNode(name: string, config: string, shared?: IwnEvent[]): Proc {
  const child = spawn(process.execPath, [CLI, 'node', '--config', config], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, QKDN_NODE_EXIT_WITH_STDIN: '1' } });
  const events: IwnEvent[] = shared ?? [];
  const err: string[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    err.push(d.toString());
    if (err.length > 40) err.shift();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      let m: IwnEvent;
      try {
        m = JSON.parse(l) as IwnEvent;
      } catch {
        return;
      }
      if (m.event === 'ready') resolve();
      else events.push(m);
    });
    void exited.then(() => reject(new Error(`${name} exited before ready: ${err.join('').slice(-2000)}`)));
  });
  ready.catch(() => {});
  return { name, child, events, err, ready, exited };
}

export interface IwnNetwork {
  readonly dir: string;
  /** With the controllers outside the IWN: each side's XLMO keys and border recording (Cxi, Mxi between ctl-a-iw and ctl-b-iw). */
  readonly outside?: IwnConfigs['outside'];
  /** ETSI 014 clients: alice at a1 (QKDN-A), bob at b1 (QKDN-B). */
  readonly alice: EtsiClient;
  readonly bob: EtsiClient;
  /**
   * GET on the management API of the IWN's KM-A (`a`: QKDN-A's managers, an operator of CA-A) or
   * KM-B (`b`); the body as text (JSON or the Prometheus format of /metrics).
   */
  manage(side: 'a' | 'b', path: string): Promise<{ status: number; body: string }>;
  /** The IWN's event lines (`{"event":"iwn","kind":...}`), with the controller hosts' when they are outside it. */
  iwnEvents(kind?: string): IwnEvent[];
  /** How many IWN event lines have been printed so far (a mark for `waitFor`). */
  mark(): number;
  /** Waits for an IWN event matching `match`, among those printed after `since` (a mark). */
  waitFor(kind: string, match?: (e: IwnEvent) => boolean, o?: { timeoutMs?: number; since?: number }): Promise<IwnEvent>;
  /** A line to the IWN process's stdin (`tamper`). */
  tellIwn(line: string): void;
  stopNode(name: 'a1' | 'b1' | 'ctl-a' | 'ctl-b'): Promise<void>;
  /** A signal to a process (SIGSTOP, SIGCONT: a node that stops answering without closing its connections). */
  signal(name: 'a1' | 'b1' | 'iwn', signal: NodeJS.Signals): void;
  /** kill -9 of the IWN process: no shutdown of any kind. */
  crashIwn(): Promise<void>;

  /** A node (or the IWN) started again from the same configuration and data directory. */
  restartNode(name: 'a1' | 'b1' | 'iwn' | 'ctl-a' | 'ctl-b'): Promise<void>;
  stderr(name: 'a1' | 'b1' | 'iwn' | 'ctl-a' | 'ctl-b'): string;
  stop(): Promise<void>;
}

/**
 * The configurations of Y.3818 clause 8.2: 6 distributed-distributed, 7 centralized QKDN-A and
 * distributed QKDN-B, 8 centralized-centralized. A distributed network's nodes (its KM in the IWN
 * too) each run their controller; a centralized network's are Ck clients of a `qkdn-edge
 * controller` replica on a real etcd.
 */
export type IwnConfiguration = 6 | 7 | 8;

export const CONTROL_FORMS: Readonly<Record<IwnConfiguration, readonly ['distributed' | 'centralized', 'distributed' | 'centralized']>> = {
  6: ['distributed', 'distributed'],
  7: ['centralized', 'distributed'],
  8: ['centralized', 'centralized'],
};

export interface IwnNetworkOptions {
  readonly configuration?: IwnConfiguration;
  readonly initialUnits?: number;
  readonly rate?: number;
  /**
   * A centralized network's controller state: in a real etcd (default), or in the controller's
   * embedded store (a single replica, no failover), for a machine without etcd.
   */
  readonly etcd?: boolean;
  /**
   * Where the two controllers and managers run: in the IWN (default; Cxi', Mxi'), or `outside` it,
   * each in a process of its own network (`role: interworking-controller`, ctl-a-iw and ctl-b-iw),
   * reached by its KM over Ck and joined to the other over Cxi and Mxi across a pinned border
   * (the unprimed case), each recording what crosses that border.
   */
  readonly controllers?: 'iwn' | 'outside';
}


export interface IwnConfigs {
  readonly pkiA: PkiPaths;
  readonly pkiB: PkiPaths;
  /** `<node>-api` and `<node>-kx` ports of a1, iwn-a, iwn-b, b1. */
  readonly port: Readonly<Record<string, number>>;
  /** The centralized controllers to start before the nodes (one per centralized network). */
  readonly replicas: readonly Omit<ReplicaSpec, 'etcdUrl'>[];
  /** With controllers outside the IWN: each side's XLMO keys and border recording file. */
  readonly outside?: { readonly a: { readonly xlmo: ManagerKeys; readonly record: string }; readonly b: { readonly xlmo: ManagerKeys; readonly record: string } };
}

/**
 * Writes the two providers' PKI and the five configuration files into `dir`: a1.yaml, b1.yaml
 * (plain nodes), km-a.yaml and km-b.yaml (the IWN's KMs, ordinary node configurations of their
 * networks), iwn.yaml (role: interworking), network-a.yaml and network-b.yaml.
 */
export async function writeIwnConfigs(dir: string, o: IwnNetworkOptions = {}): Promise<IwnConfigs> {
  const [pkiA, pkiB] = await Promise.all([
    initPki(join(dir, 'pki-a'), { network: 'qkdn-a', nodes: ['a1', 'iwn-a', 'ctl-a', ...(o.controllers === 'outside' ? ['ctl-a-iw'] : [])], saes: ['alice'], operators: ['op-a'] }),
    initPki(join(dir, 'pki-b'), { network: 'qkdn-b', nodes: ['iwn-b', 'b1', 'ctl-b', ...(o.controllers === 'outside' ? ['ctl-b-iw'] : [])], saes: ['bob'], operators: ['op-b'] }),
  ]);
  const port: Record<string, number> = {};
  for (const p of ['a1-api', 'a1-kx', 'a1-ctl', 'iwn-a-api', 'iwn-a-kx', 'iwn-a-ctl', 'iwn-b-api', 'iwn-b-kx', 'iwn-b-ctl', 'b1-api', 'b1-kx', 'b1-ctl', 'ctl-a', 'ctl-b', 'iwn-a-mgmt', 'iwn-b-mgmt', 'ctl-a-iw-ck', 'ctl-b-iw-ck', 'ctl-a-iw-border']) port[p] = await freePort();
  const link = (id: string, ends: [string, string]) => ({ id, ends, source: { type: 'simulated', rate: o.rate ?? 50, seed: randomBytes(32).toString('hex'), initialUnits: o.initialUnits ?? 400 } });
  // Each network places the other's shared SAE on the IWN's KM that stands for it.
  const networkA = { nodes: [{ id: 'a1', kx: `127.0.0.1:${port['a1-kx']}` }, { id: 'iwn-a', kx: `127.0.0.1:${port['iwn-a-kx']}` }], links: [link('a1~iwn-a', ['a1', 'iwn-a'])], saes: [{ id: 'alice', node: 'a1' }, { id: 'bob', node: 'iwn-a' }] };
  const networkB = { nodes: [{ id: 'iwn-b', kx: `127.0.0.1:${port['iwn-b-kx']}` }, { id: 'b1', kx: `127.0.0.1:${port['b1-kx']}` }], links: [link('iwn-b~b1', ['iwn-b', 'b1'])], saes: [{ id: 'bob', node: 'b1' }, { id: 'alice', node: 'iwn-b' }] };
  writeFileSync(join(dir, 'network-a.yaml'), stringify(networkA));
  writeFileSync(join(dir, 'network-b.yaml'), stringify(networkB));
  const km = { peerTimeoutMs: 20_000, relayHopTimeoutMs: 15_000 };
  const [formA, formB] = CONTROL_FORMS[o.configuration ?? 6];
  const ctlPorts = new Map(['a1', 'iwn-a', 'iwn-b', 'b1'].map((n) => [n, port[`${n}-ctl`]!]));
  const replicas: Omit<ReplicaSpec, 'etcdUrl'>[] = [];
  const controlOf = (form: 'distributed' | 'centralized', side: 'a' | 'b', network: typeof networkA, pki: string): ((node: string) => ControlConfig) => {
    if (form === 'distributed') return (node) => loopbackControlSection({ form }, node, network, ctlPorts, join(pki, 'nodes'));
    replicas.push({ id: `ctl-${side}`, dir, pki, prefix: `qkdn-${side}/`, network: controlNetworkOf(network as unknown as NetworkConfig), unitBits: 256, lowWaterUnits: 4, port: port[`ctl-${side}`]! });
    return () => ({ form, controllers: [{ id: `ctl-${side}`, endpoint: `127.0.0.1:${port[`ctl-${side}`]!}` }], reportMs: 200 });
  };
  const control: Record<string, ControlConfig> = {};
  const ca = controlOf(formA, 'a', networkA, join(dir, 'pki-a'));
  const cb = controlOf(formB, 'b', networkB, join(dir, 'pki-b'));
  for (const n of ['a1', 'iwn-a']) control[n] = ca(n);
  for (const n of ['iwn-b', 'b1']) control[n] = cb(n);
  const nodeConfig = (id: string, pki: typeof pkiA, network: string) => ({
    node: id,
    dataDir: `data/${id}`,
    tls: { ca: pki.ca, cert: pki.cert('KME', id), key: pki.key('KME', id) },
    api: { host: '127.0.0.1', port: port[`${id}-api`] },
    kx: { host: '127.0.0.1', port: port[`${id}-kx`] },
    km,
    network,
    logging: { level: 'warn' },
    control: control[id],
    // The IWN's two KMs each run their network's managers, each with its own management API and /metrics.
    ...(id.startsWith('iwn') ? { management: { host: '127.0.0.1', port: port[`${id}-mgmt`] } } : {}),
  });
  writeFileSync(join(dir, 'a1.yaml'), stringify(nodeConfig('a1', pkiA, 'network-a.yaml')));
  writeFileSync(join(dir, 'b1.yaml'), stringify(nodeConfig('b1', pkiB, 'network-b.yaml')));
  writeFileSync(join(dir, 'km-a.yaml'), stringify(nodeConfig('iwn-a', pkiA, 'network-a.yaml')));
  writeFileSync(join(dir, 'km-b.yaml'), stringify(nodeConfig('iwn-b', pkiB, 'network-b.yaml')));
  const shares = { a: [{ sae: 'alice', rate: 100, bits: 4096 }], b: [{ sae: 'bob', rate: 100, bits: 4096 }] };
  const outside = o.controllers === 'outside' ? writeControllerHosts(dir, { a: pkiA, b: pkiB }, port, shares) : undefined;
  writeFileSync(
    join(dir, 'iwn.yaml'),
    stringify({
      role: 'interworking',
      node: 'iwn',
      transferLink: 'kxi-ab',
      statusIntervalMs: 200,
      timeoutMs: 20_000,
      reportIntervalMs: 500,
      sides: (['a', 'b'] as const).map((x) => ({
        provider: `qkdn-${x}`,
        config: `km-${x}.yaml`,
        shares: shares[x],
        ...(outside ? { controller: { node: `ctl-${x}-iw`, address: `127.0.0.1:${port[`ctl-${x}-iw-ck`]!}`, cert: (x === 'a' ? pkiA : pkiB).cert('KME', `ctl-${x}-iw`) } } : {}),
      })),
    }),
  );
  return { pkiA, pkiB, port, replicas, ...(outside ? { outside } : {}) };
}

/**
 * The two controller hosts of the unprimed case (ctl-a.yaml, ctl-b.yaml): each its network's
 * controller and XLMO IWFs, its KM of the IWN pinned for Ck, the other host pinned for Cxi and Mxi
 * (ctl-b-iw dials ctl-a-iw), an X25519 key for its XLMO pinned by the other, a border recording.
 */
function writeControllerHosts(dir: string, pki: { a: PkiPaths; b: PkiPaths }, port: Readonly<Record<string, number>>, shares: Record<'a' | 'b', { sae: string; rate: number; bits: number }[]>) {
  const keys = { a: generateManagerKeys('xlmo-qkdn-a'), b: generateManagerKeys('xlmo-qkdn-b') };
  const out = { a: { xlmo: keys.a, record: join(dir, 'border-a.jsonl') }, b: { xlmo: keys.b, record: join(dir, 'border-b.jsonl') } };
  for (const x of ['a', 'b'] as const) {
    const y = x === 'a' ? 'b' : 'a';
    writeFileSync(join(dir, `xlmo-${x}.pem`), keys[x].privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    writeFileSync(
      join(dir, `ctl-${x}.yaml`),
      stringify({
        role: 'interworking-controller',
        node: `ctl-${x}-iw`,
        provider: `qkdn-${x}`,
        peerProvider: `qkdn-${y}`,
        tls: { ca: pki[x].ca, cert: pki[x].cert('KME', `ctl-${x}-iw`), key: pki[x].key('KME', `ctl-${x}-iw`) },
        network: `network-${x}.yaml`,
        km: { node: `iwn-${x}`, cert: pki[x].cert('KME', `iwn-${x}`) },
        ck: `127.0.0.1:${port[`ctl-${x}-iw-ck`]!}`,
        ...(x === 'a' ? { border: `127.0.0.1:${port['ctl-a-iw-border']!}` } : {}),
        peer: { node: `ctl-${y}-iw`, cert: pki[y].cert('KME', `ctl-${y}-iw`), ca: pki[y].ca, ...(x === 'b' ? { address: `127.0.0.1:${port['ctl-a-iw-border']!}` } : {}) },
        transferLink: 'kxi-ab',
        shares: shares[x],
        foreign: [shares[y][0]!.sae],
        mxi: { id: keys[x].id, key: `xlmo-${x}.pem`, peer: { id: keys[y].id, publicKey: Buffer.from(keys[y].publicKey).toString('base64url') } },
        statusIntervalMs: 200,
        reportIntervalMs: 500,
        record: out[x].record,
      }),
    );
  }
  return out;
}

export async function startIwnNetwork(o: IwnNetworkOptions = {}): Promise<IwnNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-iwn-'));
  const procs = new Map<string, Proc>();
  const clients: EtsiClient[] = [];
  const stopProc = async (p: Proc) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill('SIGTERM');
    const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
    await p.exited;
    clearTimeout(t);
  };
  let etcd: EtcdServer | null = null;
  const controllers: ReplicaProcess[] = [];
  const stop = async () => {
    for (const c of clients) c.close();
    await Promise.all([...procs.values()].map(stopProc));
    for (const r of controllers) await killReplica(r);
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { pkiA, pkiB, port, replicas, outside } = await writeIwnConfigs(dir, o);
    if (replicas.length > 0) {
      if (o.etcd ?? true) etcd = await startEtcd();
      for (const r of replicas) controllers.push(await spawnReplica({ ...r, ...(etcd ? { etcdUrl: etcd.url } : {}) }));
      const t0 = Date.now();
      while (!controllers.every((r) => r.has('listening') && r.has('elected'))) {
        if (Date.now() - t0 > 60_000) throw new Error('the centralized controllers did not start');
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    // With the controllers outside, the IWN's events and theirs are one log, in the order they arrive.
    const log: IwnEvent[] | undefined = outside ? [] : undefined;
    if (outside) {
      for (const n of ['ctl-a', 'ctl-b']) procs.set(n, spawnNode(n, join(dir, `${n}.yaml`), log));
      await Promise.all([procs.get('ctl-a')!.ready, procs.get('ctl-b')!.ready]);
    }
    for (const n of ['a1', 'b1', 'iwn']) procs.set(n, spawnNode(n, join(dir, `${n}.yaml`), n === 'iwn' ? log : undefined));
    await Promise.all([...procs.values()].map((p) => p.ready));
    const client = (pki: typeof pkiA, sae: string, apiPort: number) => {
      const c = new EtsiClient({ url: `https://127.0.0.1:${apiPort}`, ca: readFileSync(pki.ca), cert: readFileSync(pki.cert('SAE', sae)), key: readFileSync(pki.key('SAE', sae)) });
      clients.push(c);
      return c;
    };
    const iwn = () => procs.get('iwn')!;
    const manage = (side: 'a' | 'b', path: string) => {
      const pki = side === 'a' ? pkiA : pkiB;
      const op = side === 'a' ? 'op-a' : 'op-b';
      return new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port: port[`iwn-${side}-mgmt`], path, ca: readFileSync(pki.ca), cert: readFileSync(pki.cert('OPERATOR', op)), key: readFileSync(pki.key('OPERATOR', op)), servername: 'localhost', agent: false },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    };
    const net: IwnNetwork = {
      dir,
      ...(outside ? { outside } : {}),
      alice: client(pkiA, 'alice', port['a1-api']!),
      bob: client(pkiB, 'bob', port['b1-api']!),
      manage,
      iwnEvents: (kind) => iwn().events.filter((e) => e.event === 'iwn' && (kind === undefined || e.kind === kind)),
      mark: () => net.iwnEvents().length,
      waitFor: async (kind, match = () => true, { timeoutMs = 60_000, since = 0 } = {}) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const e = net
            .iwnEvents()
            .slice(since)
            .find((x) => x.kind === kind && match(x));
          if (e) return e;
          if (Date.now() > deadline) throw new Error(`no IWN event ${kind} in ${timeoutMs} ms; last events: ${JSON.stringify(net.iwnEvents().slice(-8))}; stderr: ${net.stderr('iwn').slice(-1500)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      tellIwn: (l) => iwn().child.stdin!.write(`${l}\n`),
      stopNode: async (name) => {
        const p = procs.get(name);
        if (p) await stopProc(p);
      },
      restartNode: async (name) => {
        const p = spawnNode(name, join(dir, `${name}.yaml`), name === 'iwn' || name.startsWith('ctl-') ? log : undefined);
        procs.set(name, p);
        await p.ready;
      },
      signal: (name, sig) => void procs.get(name)?.child.kill(sig),
      crashIwn: async () => {
        const p = iwn();
        p.child.kill('SIGKILL');
        await p.exited;
      },

      stderr: (name) => (procs.get(name)?.err ?? []).join(''),
      stop,
    };
    return net;
  } catch (e) {
    await stop();
    throw e;
  }
}
