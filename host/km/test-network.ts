/**
 * An in-process network of key managers for tests: real stores in a temporary directory, real Kx
 * over TLS on loopback with certificates from host/pki, simulated links. Multi-process tests over
 * real node processes live in hil-tests/network/.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initPki, pkiPaths } from '../pki/pki.js';
import { freePort } from '../bench/ports.js';
import { linkAllocator } from '../kq/allocator.js';
import { KeyStore } from './key-store.js';
import { StorageKey } from './storage-key.js';
import { KeyManager } from './key-manager.js';
import { KxTransport, type KxAnswer, type KxEndpoint } from './kx/transport.js';
import type { KxMessage } from './kx/messages.js';
import { SimulatedKeySource } from './simulated-key-source.js';
import type { Topology, TopologyLink } from './topology.js';
import type { Router } from './routing.js';

export interface TestNode {
  readonly id: string;
  km: KeyManager;
  kx: KxTransport;
  store: KeyStore;
  readonly dataDir: string;
}

export interface TestNetwork {
  readonly dir: string;
  readonly nodes: Map<string, TestNode>;
  readonly topology: Topology;
  node(id: string): TestNode;
  /** Stops one node's KM (as a clean shutdown), keeping its data. */
  stopNode(id: string): Promise<void>;
  /** Starts a stopped node again on the same data and port. */
  startNode(id: string): Promise<TestNode>;
  close(): Promise<void>;
}

export interface TestNetworkOptions {
  /** Links as "A-B" pairs. */
  readonly links: readonly string[];
  /** SAE ID → node. */
  readonly saes: Readonly<Record<string, string>>;
  readonly unitBits?: number;
  readonly initialUnits?: number;
  readonly rate?: number;
  readonly maxKeyCount?: number;
  readonly peerTimeoutMs?: number;
  /** Each node's relay router (default: the key manager's StaticRouter). */
  readonly router?: (nodeId: string) => Router;
  /** KeySync period (default 100 ms) and simulated sources' tick (default 10 ms): larger for big networks. */
  readonly syncIntervalMs?: number;
  readonly tickMs?: number;
  /** Kx requests a node answers before its key manager (undefined: the key manager's), e.g. a gateway's. */
  readonly onKx?: (nodeId: string, peer: string, m: KxMessage) => Promise<KxAnswer> | undefined;
  /** Border exits of SAEs (network `exits`): SAE → the nodes standing for it, its `saes` node first. */
  readonly exits?: Readonly<Record<string, readonly string[]>>;
}

export async function startTestNetwork(o: TestNetworkOptions): Promise<TestNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-km-net-'));
  const links: TopologyLink[] = o.links.map((l) => {
    const [a, b] = l.split('-') as [string, string];
    return { id: `${a}~${b}`, ends: [a, b], kind: 'simulated' };
  });
  const ids = [...new Set(links.flatMap((l) => l.ends))].sort();
  const topology: Topology = { nodes: ids, links, saes: new Map(Object.entries(o.saes)) };
  const paths = await initPki(join(dir, 'pki'), { nodes: ids, saes: Object.keys(o.saes) });
  const ca = readFileSync(paths.ca, 'utf8');
  const endpoints = new Map<string, KxEndpoint>();
  for (const id of ids) endpoints.set(id, { host: '127.0.0.1', port: await freePort() });
  const unitBits = o.unitBits ?? 256;
  const seed = new Uint8Array(32).fill(42);
  const nodes = new Map<string, TestNode>();

  const startNode = async (id: string): Promise<TestNode> => {
    const dataDir = join(dir, 'data', id);
    const store = await KeyStore.open({ path: dataDir, nodeId: id, storageKey: StorageKey.openOrCreate(join(dir, `${id}.storage.key`)) });
    const peers = new Map([...endpoints].filter(([n]) => n !== id));
    let km: KeyManager | null = null;
    const kx = new KxTransport({
      nodeId: id,
      bootId: store.bootId,
      tls: { ca, cert: readFileSync(paths.cert('KME', id), 'utf8'), key: readFileSync(paths.key('KME', id), 'utf8') },
      listen: endpoints.get(id)!,
      peers,
      onRequest: (peer, m) => o.onKx?.(id, peer, m) ?? km!.handleKx(peer, m),
    });
    // Generous timeouts: a stopped peer is refused at once anyway, and a loaded CI machine can stall a process for seconds.
    km = new KeyManager({ nodeId: id, store, topology, transport: kx, unitBits, maxKeyCount: o.maxKeyCount ?? 100_000, peerTimeoutMs: o.peerTimeoutMs ?? 8000, relayHopTimeoutMs: 4000, syncIntervalMs: o.syncIntervalMs ?? 100, ...(o.router ? { router: o.router(id) } : {}), ...(o.exits ? { exits: new Map(Object.entries(o.exits)) } : {}) });
    await kx.listen();
    await km.start();
    for (const l of links)
      if (l.ends.includes(id)) {
        const peer = l.ends[0] === id ? l.ends[1] : l.ends[0];
        km.attach(new SimulatedKeySource({ linkId: l.id, peer, seed, rate: o.rate ?? 0, unitBits, initialUnits: o.initialUnits ?? 256, tickMs: o.tickMs ?? 10 }));
      }
    const n: TestNode = { id, km, kx, store, dataDir };
    nodes.set(id, n);
    return n;
  };

  const stopNode = async (id: string) => {
    const n = nodes.get(id);
    if (!n) return;
    nodes.delete(id);
    await n.km.stop();
    await n.kx.close();
    await n.store.close();
  };

  const closeAll = async () => {
    for (const id of [...nodes.keys()]) await stopNode(id);
    rmSync(dir, { recursive: true, force: true });
  };
  // Both ends of every link hold the initial units before a test asks for them: supply only
  // takes units the peer also holds, and a loaded machine may start a source late.
  const initial = o.initialUnits ?? 256;
  try {
    for (const id of ids) await startNode(id);
    await eventually(
      () => links.every((l) => nodes.get(l.ends[0])!.store.high(l.ends[1], 'link') >= initial - 1 && nodes.get(l.ends[1])!.store.high(l.ends[0], 'link') >= initial - 1),
      30_000,
      'initial link units at both ends',
    );

    // ...and each end has heard, by a sync, that its peer holds them: a KM takes only units the
    // peer has confirmed, so a test that stops a peer at once would otherwise find nothing to take.
    const own = (ends: readonly [string, string], self: string) => {
      let n = 0;
      for (let i = 0; i < initial; i++) if (linkAllocator(ends, i) === self) n++;
      return n;
    };
    await eventually(
      () => links.every((l) => l.ends.every((self, k) => nodes.get(self)!.km.stock(l.ends[1 - k]!, unitBits) >= own(l.ends, self))),
      30_000,
      'initial link units confirmed by both ends',
    );
  } catch (e) {
    // Nothing left behind when the network cannot start.
    await closeAll().catch(() => {});
    throw e;
  }
  return {
    dir,
    nodes,
    topology,
    node: (id) => {
      const n = nodes.get(id);
      if (!n) throw new Error(`node ${id} is not running`);
      return n;
    },
    stopNode,
    startNode,
    close: closeAll,
  };
}

/** Resolves once `check` holds, polling; rejects after `ms`. */
export async function eventually(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export { pkiPaths };
