/**
 * One trusted node as a process (`qkdn-edge node --config <file>`): its key store, its key
 * sources (QKD links or simulated), its key manager with Kx to the other nodes, and the ETSI 014
 * API for its SAEs. Prints one JSON line `{"event":"ready",...}` on stdout when it serves, and
 * stops cleanly on SIGTERM/SIGINT. A data directory belongs to one running node at a time.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { FastifyInstance } from 'fastify';
import { KeyStore } from '../km/key-store.js';
import { StorageKey } from '../km/storage-key.js';
import { KeyManager } from '../km/key-manager.js';
import { KxTransport, type KxAnswer, type KxEndpoint } from '../km/kx/transport.js';
import type { KxMessage } from '../km/kx/messages.js';
import { KmConfigError } from '../km/errors.js';
import { exitsOfConfig, topologyOf } from '../km/network-config.js';
import { Etsi014Service } from '../api/etsi014.js';
import { apiPort, prepareApiServer, type PreparedApiServer } from '../api/server.js';
import { API_CHANNELS } from '../api/diagnostics.js';
import { checkNodeIdentity } from '../pki/node-identity.js';
import { ancestorWatch } from './parent-watch.js';
import { dataDirProblem } from './data-dir.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS } from '../km/diagnostics.js';
import { loadConfig, parseEndpoint, type EventKind, type NodeConfig } from './config.js';
import { createKeySource } from './key-sources.js';
import { onStopRequest } from './stop-request.js';
import pino, { type Logger } from 'pino';
import { startNodeManagement, type NodeManagement } from './management.js';
import { startNodeGateway, type NodeGateway } from './gateway.js';
import { controlNetworkOf, createNodeControl } from './control.js';
import { qkdRolesOf } from './link-reports.js';

export interface RunningNode {
  readonly id: string;
  readonly apiPort: number;
  readonly kxPort: number;
  readonly km: KeyManager;
  /** The management layer (null when `management.enabled` is false) and its port (null without one). */
  readonly management: NodeManagement['management'];
  readonly managementPort: number | null;
  /** The border endpoint's port of a gateway node (role gateway), else null. */
  readonly borderPort: number | null;
  /** The control layer's form and (distributed) the port its controller listens on; null without a `control` section. */
  readonly control: { readonly form: 'distributed' | 'centralized'; readonly port: number | null } | null;
  /** Milliseconds spent opening each part, for failover diagnostics. */
  readonly startup: Readonly<Record<'store' | 'kx' | 'km' | 'sources' | 'api', number>>;
  stop(): Promise<void>;
}

function readTls(c: NodeConfig): { ca: string; cert: string; key: string } {
  const read = (what: string, p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch (e) {
      throw new KmConfigError(`tls.${what}`, `cannot read ${p}: ${(e as Error).message}`);
    }
  };
  return { ca: read('ca', c.tls.ca), cert: read('cert', c.tls.cert), key: read('key', c.tls.key) };
}

/** Takes the data directory for this process; refuses if another live process holds it. */
function lockDataDir(dir: string): () => void {
  const problem = dataDirProblem(dir);
  if (problem) throw new KmConfigError('dataDir', problem);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = join(dir, 'node.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    let alive = false;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false; // a stale lock from a process that died (crash, SIGKILL)
      }
    }
    if (alive) throw new KmConfigError('dataDir', `${dir} is in use by process ${pid}`);
  }
  writeFileSync(lock, String(process.pid));
  return () => rmSync(lock, { force: true });
}

/** What a node can set up before it owns its data directory (a warm standby holds this). */
export interface PreparedNode {
  readonly tls: { ca: string; cert: string; key: string };
  readonly api: PreparedApiServer;
  readonly log: Logger;
}

/** Structured logs on stderr (stdout carries the node's JSON event lines). */
function nodeLogger(c: NodeConfig): Logger {
  return pino({ level: c.logging?.level ?? 'info', base: { node: c.node } }, pino.destination({ dest: 2, sync: false }));
}

export async function prepareNode(c: NodeConfig): Promise<PreparedNode> {
  const tls = readTls(c);
  // Before anything listens: a node with another's certificate would start and serve no one.
  checkNodeIdentity(c.node, { ca: { file: c.tls.ca, pem: tls.ca }, cert: { file: c.tls.cert, pem: tls.cert }, key: { file: c.tls.key, pem: tls.key } });
  const log = nodeLogger(c);
  return { tls, log, api: await prepareApiServer({ tls, log, ...(c.api.rateLimit ? { rateLimit: c.api.rateLimit } : {}) }) };
}

/** What a node hosting more than its key manager adds (host/node/iwn.ts: an interworking node's two KMs). */
export interface NodeHooks {
  /** Sees each Kx request first; an answer here replaces the key manager's, null leaves it to the key manager. */
  readonly kx?: (peer: string, m: KxMessage, km: KeyManager) => KxAnswer | Promise<KxAnswer> | null;
  /** The provider of this node's network, for its managers (an interworking node hosts KMs of two). */
  readonly provider?: string;
}

export async function startNode(c: NodeConfig, prepared?: PreparedNode, hooks: NodeHooks = {}): Promise<RunningNode> {
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    const ms = Math.round((now - mark) * 10) / 10;
    mark = now;
    return ms;
  };
  const { tls, api, log } = prepared ?? (await prepareNode(c));
  const unlock = lockDataDir(c.dataDir);
  const passphrase = c.storage?.passphraseEnv ? process.env[c.storage.passphraseEnv] : undefined;
  if (c.storage?.passphraseEnv && passphrase === undefined) throw new KmConfigError('storage.passphraseEnv', `environment variable ${c.storage.passphraseEnv} is not set`);
  const store = await KeyStore.open({ path: c.dataDir, nodeId: c.node, storageKey: StorageKey.openOrCreate(join(c.dataDir, 'storage.key'), passphrase) });
  const tStore = lap();
  const topology = topologyOf(c.network);
  const peers = new Map<string, KxEndpoint>(c.network.nodes.filter((n) => n.id !== c.node).map((n) => [n.id, parseEndpoint(n.kx)]));
  let km: KeyManager | null = null;
  let gw: NodeGateway | null = null;
  // A gateway answers the Kx requests that concern the border itself; an IWN's hook those of its
  // other half; the rest go to the KM.
  const kx = new KxTransport({ nodeId: c.node, bootId: store.bootId, tls, listen: c.kx, peers, onRequest: (peer, m) => gw?.onKx(peer, m) ?? hooks.kx?.(peer, m, km!) ?? km!.handleKx(peer, m) });
  // The control layer chooses routes and supply policy when the configuration has one.
  const control = c.control ? createNodeControl({ node: c.node, control: c.control, network: controlNetworkOf(c.network), unitBits: c.km.unitBits, tls, store, kx, qkd: qkdRolesOf(c.node, c.network) }) : null;
  km = new KeyManager({
    ...(control ? { router: control.router, ...(control.supplyPolicy ? { supplyPolicy: control.supplyPolicy } : {}) } : {}),
    nodeId: c.node,
    store,
    topology,
    transport: kx,
    unitBits: c.km.unitBits,
    maxKeyCount: c.km.maxKeyCount,
    peerTimeoutMs: c.km.peerTimeoutMs,
    relayHopTimeoutMs: c.km.relayHopTimeoutMs,
    syncIntervalMs: c.km.syncIntervalMs,
    exits: exitsOfConfig(c.network),
  });
  let app: FastifyInstance | null = null;
  let mgmt: NodeManagement | null = null;
  try {
    const kxPort = await kx.listen();
    const tKx = lap();
    await km.start();
    const controlPort = control ? await control.start(km) : null;
    // Before the key sources and the API: the managers see the first key and the first request.
    mgmt = await startNodeManagement(c, km, tls, log, control?.configuration ?? undefined, hooks.provider, control ? { inService: (l) => control.links.inService(l), setInService: (l, s) => control.setLinkInService(l, s) } : undefined);
    gw = await startNodeGateway(c, km, kx, tls);
    const tKm = lap();
    for (const link of c.network.links) {
      if (!link.ends.includes(c.node)) continue;
      const peer = link.ends[0] === c.node ? link.ends[1] : link.ends[0];
      km.attach(await createKeySource({ link, node: c.node, peer, unitBits: c.km.unitBits, config: c }));
    }
    const tSources = lap();
    const service = new Etsi014Service(km, { keySize: c.km.keySize, minKeySize: c.km.minKeySize, maxKeySize: c.km.maxKeySize, maxKeyPerRequest: c.km.maxKeyPerRequest, maxSaeIdCount: c.km.maxSaeIdCount });
    app = await api.serve(service, c.api.host, c.api.port);
    const startup = { store: tStore, kx: tKx, km: tKm, sources: tSources, api: lap() };
    const running = km;
    let stopping: Promise<void> | null = null;
    return {
      id: c.node,
      apiPort: apiPort(app),
      kxPort,
      km: running,
      management: mgmt.management,
      managementPort: mgmt.management?.port ?? null,
      borderPort: gw?.port ?? null,
      control: control ? { form: control.form, port: controlPort } : null,
      startup,
      stop: () =>
        (stopping ??= (async () => {
          await app!.close();
          await gw?.stop();
          await running.stop();
          await mgmt!.stop();
          await control?.stop();
          log.flush();
          await kx.close();
          await store.close();
          unlock();
        })()),
    };
  } catch (e) {
    await (app ?? api.app).close();
    await gw?.stop();
    await km.stop();
    await mgmt?.stop();
    await control?.stop();
    await kx.close();
    await store.close();
    unlock();
    throw e;
  }
}

function line(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

const EVENT_CHANNELS: Record<EventKind, string> = { relay: CHANNELS.relay, hop: CHANNELS.relayHop, supply: CHANNELS.supply, sync: CHANNELS.sync };

/** The key API's summaries (outages of a slave KME, SAEs over their rate limit, refused client certificates): always printed, a few lines an episode. */
const API_EVENT_CHANNELS: Record<string, string> = { outage: CHANNELS.supplyOutage, 'rate-limited': API_CHANNELS.rateLimited, 'client-refused': API_CHANNELS.clientRefused };

/** Prints the chosen key management events (diagnostics.ts; never key bytes) as JSON lines: `{"event":"relay",...}`. */
function logEvents(kinds: readonly EventKind[]): () => void {
  const channels = [...kinds.map((k): [string, string] => [k, EVENT_CHANNELS[k]]), ...Object.entries(API_EVENT_CHANNELS)];
  const subs = channels.map(([k, name]) => {
    const fn = (m: unknown) => line({ event: k, ...(m as Record<string, unknown>) });
    subscribe(name, fn);
    return () => unsubscribe(name, fn);
  });
  return () => {
    for (const u of subs) u();
  };
}

/** One line for a start that failed: the error's code when it has one, then its message. */
function failure(node: string, e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return `qkdn-edge node ${node}: ${typeof code === 'string' && code.startsWith('ERR_') ? `${code}: ` : ''}${(e as Error).message}\n`;
}

/**
 * The `node` command. With `standby`, everything is loaded but nothing opened until a line
 * `start` arrives on stdin: a warm spare that takes over a data directory in milliseconds (used by
 * the crash tests, and usable for fast failover).
 */
export async function runNodeCommand(opts: { config: string; standby?: boolean; outliveParent?: boolean }): Promise<number> {
  // An interworking node (role: interworking) hosts two KMs: host/node/iwn.ts.
  const { isIwnConfig, runIwnCommand } = await import('./iwn.js');
  if (isIwnConfig(opts.config)) return runIwnCommand(opts.config);
  const watchAncestors = opts.outliveParent ? null : ancestorWatch();
  let config: NodeConfig;
  try {
    config = loadConfig(opts.config);
  } catch (e) {
    process.stderr.write(`qkdn-edge node: ${(e as Error).message}\n`);
    return 2;
  }
  let prepared: PreparedNode | undefined;
  if (opts.standby) {
    try {
      prepared = await prepareNode(config);
    } catch (e) {
      process.stderr.write(failure(config.node, e));
      return 1;
    }
    line({ event: 'standby', node: config.node });
    const rl = createInterface({ input: process.stdin });
    const go = await new Promise<boolean>((resolve) => {
      rl.on('line', (l) => l.trim() === 'start' && resolve(true));
      rl.on('close', () => resolve(false));
    });
    rl.close();
    if (!go) {
      await prepared.api.app.close();
      return 0;
    }
  }
  let node: RunningNode;
  try {
    node = await startNode(config, prepared);
  } catch (e) {
    process.stderr.write(failure(config.node, e));
    return 1;
  }
  const unlog = logEvents(config.events ?? ['relay', 'sync']);
  line({ event: 'ready', node: node.id, api: node.apiPort, kx: node.kxPort, management: node.managementPort, ...(node.control ? { control: node.control } : {}), ...(node.borderPort !== null ? { border: node.borderPort } : {}), pid: process.pid, sources: node.km.sources, startupMs: node.startup });
  let unwatch = () => {};
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    onStopRequest(stop);
    // The command that started us ended (npx killed, its terminal closed): stop with it.
    if (watchAncestors)
      unwatch = watchAncestors((pid) => {
        line({ event: 'parent-gone', node: node.id, pid });
        stop();
      });
  });
  unwatch();
  // Let the process exit: nothing may keep the event loop alive after a stop.
  process.stdin.pause();
  process.stdin.destroy();
  await node.stop();
  unlog();
  line({ event: 'stopped', node: node.id });
  return 0;
}
