/**
 * A small QKD network of real node processes on loopback, for `npm start`, multi-node tests and
 * benchmarks: generated PKI (CA, node and SAE certificates) and configuration in a temporary
 * directory, simulated links, one `qkdn-edge node` process per node. Returns the endpoints and SAE
 * credentials, and stops everything (processes, temporary directory) cleanly.
 *
 *   const net = await startDemoNetwork({ nodes: 4, shape: 'line' });
 *   const alice = net.client('sae-A');          // ETSI 014 client with alice's certificate
 *   ...
 *   await net.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { initPki, pkiPaths } from '../pki/pki.js';
import { freePort } from '../bench/ports.js';
import { EtsiClient } from '../api/client.js';
import { KM_DEFAULTS, type NodeConfig } from './config.js';
import { loopbackControlSection, type ControlConfig } from './control.js';

const CLI = fileURLToPath(new URL('../cli/qkdn-edge.mjs', import.meta.url));
const NODE_MODULE = fileURLToPath(new URL('./node.ts', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

export interface DemoNetworkOptions {
  /** Number of nodes, named N1, N2, ... unless `ids` is given. */
  readonly nodes?: number;
  readonly ids?: readonly string[];
  /** line: N1-N2-...; ring: and back to N1; links: explicit "A-B" pairs. */
  readonly shape?: 'line' | 'ring';
  readonly links?: readonly string[];
  /** SAEs: by default one per node, `sae-<node>`. */
  readonly saes?: Readonly<Record<string, string>>;
  /** Simulated key rate (units/s) and initial stock per link. */
  readonly rate?: number;
  readonly initialUnits?: number;
  readonly km?: Partial<NodeConfig['km']>;
  /** Keep a warm standby process per node so that restart() takes milliseconds. */
  readonly standby?: boolean;
  /** Where to put everything (default: a new temporary directory, removed by stop()). */
  readonly dir?: string;
  /**
   * Run the node program from a one-file build of this tree (esbuild, made once in `dir`) instead
   * of through tsx: a process loads in half the CPU time, which counts for tests that restart
   * nodes a hundred times on a busy machine.
   */
  readonly bundle?: boolean;
  /** Extra Node.js options for the node processes (e.g. `--cpu-prof` to profile them). */
  readonly execArgv?: readonly string[];
  /** Wait until every link's initial units are held at both ends before returning (default true). */
  readonly waitForKeys?: boolean;
  /**
   * Give every node a management port (management API and /metrics) and issue an operator
   * certificate `op` for it; `false` turns the management layer off (a benchmark baseline).
   */
  readonly management?: boolean;
  /** An aux I/O board (tamper switch) per node: node ID → device path. */
  readonly aux?: Readonly<Record<string, string>>;
  /**
   * The control layer every node runs (host/node/control.ts), e.g. `{ form: 'distributed' }`: the
   * distributed form's endpoints and certificates are filled in per node. Default: none (static routes).
   */
  readonly control?: ControlConfig;
  /**
   * `dir/pki` already holds this network's PKI (initPki with these nodes and SAEs, e.g. made
   * before so another network can pin a certificate of it): use it instead of making one.
   */
  readonly pkiReady?: boolean;
  /** SAEs of another network that a node of this one fronts (a gateway): in `network.saes`, with no certificate here. */
  readonly foreignSaes?: Readonly<Record<string, string>>;
  /** More configuration sections per node (e.g. `gateway`), by node ID. */
  readonly sections?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Log level of the node processes (stderr); default warn, so access logs stay out of the way. */
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
}

export interface DemoNode {
  readonly id: string;
  readonly apiUrl: string;
  readonly apiPort: number;
  readonly kxPort: number;
  /** https://127.0.0.1:port of the management API, when the network has one. */
  readonly managementUrl: string | null;
  readonly configPath: string;
  readonly dataDir: string;
  pid: number;
  /** How long the last start of its process took, per part (ms), as the node reported it. */
  startupMs: Readonly<Record<string, number>>;
}

export interface DemoSae {
  readonly id: string;
  readonly node: string;
  readonly apiUrl: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface DemoNetwork {
  readonly dir: string;
  readonly nodes: readonly DemoNode[];
  readonly saes: readonly DemoSae[];
  readonly links: readonly string[];
  node(id: string): DemoNode;
  /** An ETSI 014 client holding this SAE's certificate, talking to its node. */
  client(sae: string, maxSockets?: number): EtsiClient;
  /** A client of a node's management API holding the operator certificate `op` (with `management`). */
  operator(node: string): EtsiClient;
  /** The operator's certificate files (for other clients: Prometheus, curl). */
  readonly operatorCredentials: { readonly ca: string; readonly cert: string; readonly key: string } | null;
  /** SIGKILLs a node's process (no clean shutdown). */
  kill(id: string): Promise<void>;
  /** Starts a killed or stopped node again on the same data directory. */
  restart(id: string): Promise<void>;
  /** Stops one node cleanly (SIGTERM). */
  stopNode(id: string): Promise<void>;
  /**
   * Resolves once every link offers at least `keys` keys of the default size in both directions,
   * as its nodes' SAEs see it through ETSI 014 status (keys both ends of the link hold).
   */
  waitForKeys(keys: number, timeoutMs?: number): Promise<void>;
  /** Whether a node's warm standby process is loaded (restart() then takes milliseconds). */
  spareReady(id: string): boolean;
  /** Recent key management events a node's current process printed (`{"event":"relay",...}`), oldest first. */
  events(id: string): readonly Record<string, unknown>[];
  /** Recent stderr of a node's process (for diagnosing a failed test). */
  stderr(id: string): string;
  stop(): Promise<void>;
}

interface Ready {
  pid: number;
  startupMs: Record<string, number>;
}

interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  err: string[];
  ready: Promise<Ready>;
  standby: Promise<void>;
  loaded: boolean;
  events: Record<string, unknown>[];
}

/**
 * The node program as one ES module in `dir` (its packages stay external, found through a
 * node_modules link beside it). Same sources, same behaviour; only the loading differs.
 */
async function bundleNodeProgram(dir: string): Promise<string[]> {
  const { build } = await import('esbuild');
  const out = join(dir, 'qkdn-edge-node.mjs');
  await build({
    stdin: {
      contents: `import { runNodeCommand } from ${JSON.stringify(NODE_MODULE)};\nconst a = process.argv.slice(2);\nprocess.exitCode = await runNodeCommand({ config: a[a.indexOf('--config') + 1], standby: a.includes('--standby') });\n`,
      resolveDir: dirname(NODE_MODULE),
      sourcefile: 'node-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: out,
    logLevel: 'silent',
  });
  symlinkSync(NODE_MODULES, join(dir, 'node_modules'), 'dir');
  return [out];
}

function spawnNode(program: readonly string[], configPath: string, standby: boolean): Proc {
  // The node stops when our end of its stdin closes: no node outlives a test runner that died.
  const child = spawn(process.execPath, [...program, 'node', '--config', configPath, ...(standby ? ['--standby'] : [])], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, QKDN_NODE_EXIT_WITH_STDIN: '1' },
  });
  const err: string[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    err.push(d.toString());
    if (err.length > 50) err.shift();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const lines = createInterface({ input: child.stdout! });
  const events: Record<string, unknown>[] = [];
  let onReady!: (v: Ready) => void;
  let onStandby!: () => void;
  let onFail!: (e: Error) => void;
  const ready = new Promise<Ready>((res, rej) => {
    onReady = res;
    onFail = rej;
  });
  const standbyP = new Promise<void>((res) => (onStandby = res));
  ready.catch(() => {});
  lines.on('line', (l) => {
    try {
      const m = JSON.parse(l) as { event?: string; pid?: number; startupMs?: Record<string, number> };
      if (m.event === 'ready') onReady({ pid: m.pid ?? child.pid ?? 0, startupMs: m.startupMs ?? {} });
      if (m.event === 'standby') onStandby();
      else if (m.event !== 'ready' && m.event !== 'stopped') {
        events.push(m as Record<string, unknown>);
        if (events.length > 500) events.shift();
      }
    } catch {
      // not an event line
    }
  });
  void exited.then((code) => onFail(new Error(`node process exited (${code}) before ready: ${err.join('').slice(-2000)}`)));
  const proc: Proc = { child, exited, err, ready, standby: standbyP, loaded: false, events };
  void standbyP.then(() => (proc.loaded = true));
  return proc;
}

export async function startDemoNetwork(o: DemoNetworkOptions = {}): Promise<DemoNetwork> {
  const ids = o.ids ?? Array.from({ length: o.nodes ?? 2 }, (_, i) => `N${i + 1}`);
  const links =
    o.links ??
    (() => {
      const l = ids.slice(1).map((id, i) => `${ids[i]}-${id}`);
      if (o.shape === 'ring' && ids.length > 2) l.push(`${ids[ids.length - 1]}-${ids[0]}`);
      return l;
    })();
  const saes = o.saes ?? Object.fromEntries(ids.map((id) => [`sae-${id}`, id]));
  const own = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'qkdn-demo-'));
  let program: string[];
  let paths: Awaited<ReturnType<typeof initPki>>;
  try {
    // Without esbuild (a dependency of tsx) the nodes simply load through tsx, more slowly.
    const entry = o.bundle ? await bundleNodeProgram(dir).catch(() => [CLI]) : [CLI];
    program = [...(o.execArgv ?? []), ...entry];
    paths = o.pkiReady ? pkiPaths(join(dir, 'pki')) : await initPki(join(dir, 'pki'), { network: 'demo', nodes: [...ids], saes: Object.keys(saes), operators: o.management ? ['op'] : [] });
  } catch (e) {
    if (own) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const ports = new Map<string, { api: number; kx: number; management: number }>();
  for (const id of ids) ports.set(id, { api: await freePort(), kx: await freePort(), management: o.management ? await freePort() : 0 });
  const controlPorts = new Map<string, number>();
  if (o.control?.form === 'distributed') for (const id of ids) controlPorts.set(id, await freePort());
  const network: NodeConfig['network'] = {
    nodes: ids.map((id) => ({ id, kx: `127.0.0.1:${ports.get(id)!.kx}` })),
    links: links.map((l) => {
      const [a, b] = l.split('-') as [string, string];
      return { id: `${a}~${b}`, ends: [a, b] as const, source: { type: 'simulated' as const, rate: o.rate ?? 1000, seed: randomBytes(32).toString('hex'), initialUnits: o.initialUnits ?? 2000 } };
    }),
    saes: Object.entries({ ...saes, ...o.foreignSaes }).map(([id, node]) => ({ id, node })),
  };
  const nodes: DemoNode[] = ids.map((id) => {
    const cfg = {
      node: id,
      dataDir: `data/${id}`,
      tls: { ca: paths.ca, cert: paths.cert('KME', id), key: paths.key('KME', id) },
      api: { host: '127.0.0.1', port: ports.get(id)!.api },
      kx: { host: '127.0.0.1', port: ports.get(id)!.kx },
      km: { ...KM_DEFAULTS, ...o.km },
      network,
      logging: { level: o.logLevel ?? 'warn' },
      ...(o.management ? { management: { host: '127.0.0.1', port: ports.get(id)!.management } } : o.management === false ? { management: { enabled: false } } : {}),
      ...(o.aux?.[id] ? { aux: { port: o.aux[id], temperatureIntervalMs: 100 } } : {}),
      ...(o.control ? { control: loopbackControlSection(o.control, id, network, controlPorts, join(dir, 'pki', 'nodes')) } : {}),
      ...o.sections?.[id],
    };
    const configPath = join(dir, `${id}.yaml`);
    writeFileSync(configPath, `# node ${id} of a demo network (simulated links)\n${stringify(cfg)}`);
    return { id, apiUrl: `https://127.0.0.1:${ports.get(id)!.api}`, apiPort: ports.get(id)!.api, kxPort: ports.get(id)!.kx, managementUrl: o.management ? `https://127.0.0.1:${ports.get(id)!.management}` : null, configPath, dataDir: join(dir, 'data', id), pid: 0, startupMs: {} };
  });
  const procs = new Map<string, Proc>();
  const spares = new Map<string, Proc>();
  const clients: EtsiClient[] = [];

  const prepareSpare = (n: DemoNode) => {
    if (o.standby) spares.set(n.id, spawnNode(program, n.configPath, true));
  };
  const launch = async (n: DemoNode) => {
    let p = spares.get(n.id);
    if (p) {
      spares.delete(n.id);
      await p.standby;
      p.child.stdin!.write('start\n');
    } else p = spawnNode(program, n.configPath, false);
    procs.set(n.id, p);
    const r = await p.ready;
    n.pid = r.pid;
    n.startupMs = r.startupMs;
    prepareSpare(n);
  };

  const byId = (id: string) => {
    const n = nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  };

  const stopProc = async (p: Proc, signal: NodeJS.Signals) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    p.child.kill(signal);
    const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    await p.exited;
    clearTimeout(t);
  };

  const net: DemoNetwork = {
    dir,
    nodes,
    links,
    saes: Object.entries(saes).map(([id, node]) => ({ id, node, apiUrl: byId(node).apiUrl, ca: paths.ca, cert: paths.cert('SAE', id), key: paths.key('SAE', id) })),
    node: byId,
    client: (sae, maxSockets) => {
      const s = net.saes.find((x) => x.id === sae);
      if (!s) throw new Error(`no SAE ${sae}`);
      const c = new EtsiClient({ url: s.apiUrl, ca: readFileSync(s.ca), cert: readFileSync(s.cert), key: readFileSync(s.key), maxSockets });
      clients.push(c);
      return c;
    },
    operatorCredentials: o.management ? { ca: paths.ca, cert: paths.cert('OPERATOR', 'op'), key: paths.key('OPERATOR', 'op') } : null,
    operator: (id) => {
      const n = byId(id);
      if (!n.managementUrl) throw new Error('this demo network has no management ports (management: true)');
      const c = new EtsiClient({ url: n.managementUrl, ca: readFileSync(paths.ca), cert: readFileSync(paths.cert('OPERATOR', 'op')), key: readFileSync(paths.key('OPERATOR', 'op')) });
      clients.push(c);
      return c;
    },
    kill: async (id) => {
      const p = procs.get(id);
      if (!p) return;
      procs.delete(id);
      await stopProc(p, 'SIGKILL');
    },
    restart: async (id) => {
      if (procs.has(id)) throw new Error(`node ${id} is running`);
      await launch(byId(id));
    },
    stopNode: async (id) => {
      const p = procs.get(id);
      if (!p) return;
      procs.delete(id);
      await stopProc(p, 'SIGTERM');
    },
    waitForKeys: async (keys, timeoutMs = 60_000) => {
      const saeOn = (node: string) => net.saes.find((s) => s.node === node)?.id;
      const probes: { client: EtsiClient; slave: string; what: string }[] = [];
      const temp: EtsiClient[] = [];
      for (const l of links) {
        const [a, b] = l.split('-') as [string, string];
        for (const [m, s] of [[a, b], [b, a]] as const) {
          const ms = saeOn(m);
          const ss = saeOn(s);
          if (!ms || !ss) continue;
          const c = net.client(ms, 1);
          temp.push(c);
          probes.push({ client: c, slave: ss, what: `${m}→${s}` });
        }
      }
      const deadline = Date.now() + timeoutMs;
      try {
        for (const p of probes) {
          for (;;) {
            const r = await p.client.status(p.slave).catch(() => null);
            if (r?.status === 200 && Number(r.body.stored_key_count) >= keys) break;
            if (Date.now() > deadline) throw new Error(`link ${p.what}: fewer than ${keys} keys after ${timeoutMs} ms (${r?.raw ?? 'no answer'})`);
            await new Promise((res) => setTimeout(res, 50));
          }
        }
      } finally {
        for (const c of temp) c.close();
      }
    },
    spareReady: (id) => spares.get(id)?.loaded ?? false,
    events: (id) => procs.get(id)?.events ?? [],
    stderr: (id) => (procs.get(id)?.err ?? []).join(''),
    stop: async () => {
      for (const c of clients) c.close();
      await Promise.all([...procs.values()].map((p) => stopProc(p, 'SIGTERM')));
      procs.clear();
      await Promise.all([...spares.values()].map(async (p) => {
        p.child.stdin!.end();
        await stopProc(p, 'SIGTERM');
      }));
      spares.clear();
      process.off('exit', leftovers);
      if (own) rmSync(dir, { recursive: true, force: true });
    },
  };
  // A runner that exits without stop(): its nodes stop with their stdin; remove what they leave.
  const leftovers = () => {
    for (const p of [...procs.values(), ...spares.values()]) p.child.kill('SIGKILL');
    if (own) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', leftovers);
  try {
    for (const n of nodes) prepareSpare(n);
    await Promise.all(nodes.map((n) => launch(n)));
    // Each end allocates every other unit of a link: half the initial stock is its share.
    if (o.waitForKeys !== false) await net.waitForKeys(Math.floor((o.initialUnits ?? 2000) / 2));
  } catch (e) {
    await net.stop();
    throw e;
  }
  return net;
}

export { pkiPaths };

export interface NetworkDemoOptions {
  /** Nodes in the line (at least 3; the SAE pair sits at its two ends). Default 4. */
  readonly nodes?: number;
  /** Keys the master SAE asks for, and their size in bits. Default 4 keys of 256 bits. */
  readonly keys?: number;
  readonly size?: number;
  /** Where the report goes (default: stdout). */
  readonly output?: { write(text: string): unknown };
}

export interface NetworkDemoResult {
  /** The nodes in line order; the master SAE is on the first, the slave SAE on the last. */
  readonly route: readonly string[];
  readonly master: string;
  readonly slave: string;
  /** Key IDs the master received, in order. */
  readonly keyIds: readonly string[];
  /** Whether the slave received exactly the master's keys (IDs and bytes). */
  readonly identical: boolean;
  /** Whether the keys were relayed (the two nodes share no link), as the master's KME reports. */
  readonly relayed: boolean;
  readonly encMs: number;
  readonly decMs: number;
}

/**
 * `npm start -- --line`: a line of real node processes with simulated links, an SAE
 * at each end (nodes that share no link), one enc_keys at the master's node and one dec_keys at the
 * slave's, both over ETSI GS QKD 014 with mutual TLS; prints what happened and shows that both
 * SAEs hold identical keys. Starts and stops everything itself (processes, temporary directory).
 */
export async function runNetworkDemo(o: NetworkDemoOptions = {}): Promise<NetworkDemoResult> {
  const out = o.output ?? process.stdout;
  const n = Math.max(3, o.nodes ?? 4);
  const keys = o.keys ?? 4;
  const size = o.size ?? 256;
  const ids = Array.from({ length: n }, (_, i) => `N${i + 1}`);
  const first = ids[0]!;
  const last = ids[n - 1]!;
  const master = 'sae-alice';
  const slave = 'sae-bob';
  const saes: Record<string, string> = { [master]: first, [slave]: last };
  for (const id of ids.slice(1, -1)) saes[`sae-${id}`] = id;
  out.write(`\nKey management: ${n} trusted nodes in a line (${ids.join(' - ')}), simulated QKD links, Kx over mutual TLS\n`);
  const t0 = performance.now();
  const net = await startDemoNetwork({ ids, shape: 'line', saes, rate: 200, initialUnits: 400, bundle: true, control: { form: 'distributed' } });
  try {
    out.write(`  started   ${n} node processes (qkdn-edge node) and their PKI in ${Math.round(performance.now() - t0)} ms\n`);
    const alice = net.client(master);
    const bob = net.client(slave);
    const st = await alice.status(slave);
    if (st.status !== 200) throw new Error(`status: ${st.status} ${st.raw}`);
    const ext = st.body.status_extension as { relayed?: boolean; key_source?: string } | undefined;
    out.write(`  status    ${master} on ${first} → ${slave} on ${last}: ${String(st.body.stored_key_count)} keys of ${String(st.body.key_size)} bits available, source ${ext?.key_source ?? '?'}, relayed ${String(ext?.relayed)}\n`);
    out.write(`  control   every node runs its own controller (distributed form): signed link-state advertisements flooded between neighbours, routes from stock\n`);
    // The first route needs every link's stock flooded to the master's node: a few hundred ms after the start.
    let t1 = performance.now();
    let enc = await alice.encKeys(slave, { number: keys, size });
    for (let i = 0; enc.status === 503 && i < 40; i++) {
      await new Promise((r) => setTimeout(r, 250));
      t1 = performance.now();
      enc = await alice.encKeys(slave, { number: keys, size });
    }
    const encMs = performance.now() - t1;
    if (enc.status !== 200) throw new Error(`enc_keys: ${enc.status} ${enc.raw}`);
    out.write(`  enc_keys  ${master} got ${enc.body.keys.length} keys of ${size} bits from ${first} in ${encMs.toFixed(1)} ms (relayed over ${n - 1} hops, reserved at ${last})\n`);
    const t2 = performance.now();
    const dec = await bob.decKeys(master, enc.body.keys.map((k) => k.key_ID));
    const decMs = performance.now() - t2;
    if (dec.status !== 200) throw new Error(`dec_keys: ${dec.status} ${dec.raw}`);
    out.write(`  dec_keys  ${slave} fetched them by ID from ${last} in ${decMs.toFixed(1)} ms\n`);
    const identical = JSON.stringify(dec.body.keys) === JSON.stringify(enc.body.keys);
    for (const [i, k] of enc.body.keys.entries()) {
      const hex = Buffer.from(k.key, 'base64').toString('hex');
      const other = dec.body.keys[i] ? Buffer.from(dec.body.keys[i]!.key, 'base64').toString('hex') : '';
      out.write(`    ${k.key_ID}  ${first} ${hex.slice(0, 16)}…  ${last} ${other.slice(0, 16)}…  ${hex === other ? 'identical' : 'DIFFERENT'}\n`);
    }
    const again = await bob.decKeys(master, [enc.body.keys[0]!.key_ID]);
    out.write(`  again     a second dec_keys of the same ID is refused: ${again.status} ${(again.body as unknown as { message?: string }).message ?? ''}\n`);
    out.write(`  result    ${identical ? 'both SAEs hold identical keys' : 'THE SAEs HOLD DIFFERENT KEYS'}; each key delivered once at each end\n`);
    return { route: ids, master, slave, keyIds: enc.body.keys.map((k) => k.key_ID), identical, relayed: ext?.relayed === true, encMs, decMs };
  } finally {
    await net.stop();
  }
}
