/**
 * Replicas of the centralized controller as real processes (`qkdn-edge controller --config`),
 * for the failover test and benchmark: started with a generated configuration, their JSON event
 * lines collected, killed with SIGKILL as a crash would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../bench/ports.js';
import type { NetworkConfig } from '../view.js';
import { CkClient, type ControllerEndpoint } from '../ck-client.js';
import type { ChannelTls } from '../channel.js';
import type { TopologyPush } from '../ck/topology-push.js';

const CLI = fileURLToPath(new URL('../../cli/qkdn-edge.mjs', import.meta.url));

export interface ReplicaProcess {
  readonly id: string;
  readonly p: ChildProcess;
  readonly port: number;
  readonly events: Record<string, unknown>[];
  has(event: string): boolean;
}

export interface ReplicaSpec {
  readonly id: string;
  /** Directory for the configuration file; `pki` holds the CA and node certificates. */
  readonly dir: string;
  readonly pki: string;
  /** etcd's client URL; without, the replica runs on its embedded store (a single controller, as it says). */
  readonly etcdUrl?: string;
  readonly prefix: string;
  readonly network: NetworkConfig;
  readonly unitBits: number;
  readonly lowWaterUnits: number;
  /** The port to listen on (default: a free one), for KMs configured before the replica starts. */
  readonly port?: number;
}

export async function spawnReplica(s: ReplicaSpec): Promise<ReplicaProcess> {
  const port = s.port ?? (await freePort());
  const cfg = { id: s.id, listen: { host: '127.0.0.1', port }, pki: s.pki, ...(s.etcdUrl ? { etcd: { hosts: [s.etcdUrl], prefix: s.prefix, leaseTtlS: 2 } } : {}), unitBits: s.unitBits, lowWaterUnits: s.lowWaterUnits, network: s.network };
  const file = join(s.dir, `${s.id}-${s.prefix.replace(/\W/g, '_')}.json`);
  writeFileSync(file, JSON.stringify(cfg));
  const p = spawn(process.execPath, [CLI, 'controller', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  createInterface({ input: p.stdout! }).on('line', (l) => {
    try {
      events.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not an event line
    }
  });
  p.stderr!.resume();
  return { id: s.id, p, port, events, has: (e) => events.some((x) => x.event === e) };
}

export async function killReplica(r: ReplicaProcess): Promise<void> {
  if (r.p.exitCode !== null || r.p.signalCode !== null) return;
  const exited = new Promise((res) => r.p.once('exit', res));
  r.p.kill('SIGKILL');
  await exited;
}

/**
 * The network's KMs as Ck clients, each reporting its links' stock every `everyMs` (the heartbeat
 * a controller goes by), for tests and benchmarks of the centralized form.
 */
export function startReportingKms(o: {
  readonly network: NetworkConfig;
  readonly controllers: readonly ControllerEndpoint[];
  readonly tls: (node: string) => ChannelTls;
  readonly stockUnits: (link: string) => number;
  readonly unitBits: number;
  readonly everyMs?: number;
  readonly onTopology?: (node: string, p: TopologyPush) => void;
}) {
  const clients = new Map(o.network.nodes.map((n) => [n, new CkClient({ nodeId: n, tls: o.tls(n), controllers: o.controllers, timeoutMs: 3000, onTopology: (p) => o.onTopology?.(n, p) })]));
  let links = o.network.links;
  let stopped = false;
  const report = async () => {
    for (const [n, c] of clients) {
      const mine = links.filter((l) => l.ends.includes(n)).map((l) => ({ link: l.id, peer: l.ends[0] === n ? l.ends[1] : l.ends[0], stockBits: o.stockUnits(l.id) * o.unitBits, consumptionBps: 0 }));
      await c.report({ node: n, boot: 'b1', seq: Date.now(), links: mine }).catch(() => {});
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await report();
      await new Promise((r) => setTimeout(r, o.everyMs ?? 200));
    }
  })();
  return {
    clients,
    report,
    setLinks: (l: NetworkConfig['links']) => (links = l),
    close: async () => {
      stopped = true;
      await loop;
      for (const c of clients.values()) await c.close();
    },
  };
}
