/**
 * The control layer on its own (`npm start -- --control`): one controller (replicated on a loopback etcd when
 * etcd is installed, else a single controller with an embedded store, which it says), four KMs
 * reporting over Ck, a route from stock, a link going down over Cq and the route moving.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initPki } from '../pki/pki.js';
import { freePort } from '../bench/ports.js';
import { CentralReplica, EmbeddedElector, type Elector } from './central/replica.js';
import { EtcdControl } from './central/etcd.js';
import { etcdBinary, startEtcd, type EtcdServer } from './central/etcd-server.js';
import { startReportingKms } from './central/processes.js';
import type { NetworkConfig } from './view.js';
import { squareNetwork } from './metro.js';

const NETWORK: NetworkConfig = squareNetwork({ alice: 'A', carol: 'C' });

export async function runControlDemo(out: { write(s: string): void } = process.stdout, o: { readonly etcd?: boolean } = {}): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-control-demo-'));
  let etcd: EtcdServer | null = null;
  let replica: CentralReplica | null = null;
  let kms: ReturnType<typeof startReportingKms> | null = null;
  try {
    out.write('\ncontrol layer (host/controller): a centralized controller routing relays from stock and health\n');
    const paths = await initPki(join(dir, 'pki'), { nodes: [...NETWORK.nodes, 'ctl1'], saes: [] });
    const ca = readFileSync(paths.ca, 'utf8');
    const tls = (n: string) => ({ ca, cert: readFileSync(paths.cert('KME', n), 'utf8'), key: readFileSync(paths.key('KME', n), 'utf8') });
    let elector: Elector;
    if (o.etcd ?? etcdBinary() !== null) {
      etcd = await startEtcd();
      elector = new EtcdControl({ hosts: [etcd.url], prefix: 'qkdn/demo' });
      out.write(`  store      etcd on ${etcd.url} (leader election, state in etcd)\n`);
    } else {
      elector = new EmbeddedElector();
      out.write('  store      no etcd on this machine: a single controller with an embedded in-memory store (no replication, no failover; apt-get install etcd-server for both)\n');
    }
    const port = await freePort();
    replica = new CentralReplica({ id: 'ctl1', tls: tls('ctl1'), listen: { host: '127.0.0.1', port }, kms: NETWORK.nodes, elector, config: NETWORK, unitBits: 256, lowWaterUnits: 8 });
    await replica.start();
    const stock: Record<string, number> = { 'A~B': 300, 'B~C': 500, 'C~D': 400, 'A~D': 600 };
    kms = startReportingKms({ network: NETWORK, controllers: [{ id: 'ctl1', host: '127.0.0.1', port }], tls, stockUnits: (l) => stock[l] ?? 0, unitBits: 256, everyMs: 200 });
    const a = kms.clients.get('A')!;
    const ask = async (id: string): Promise<string> => {
      for (let i = 0; i < 100; i++) {
        try {
          return (await a.route({ relayId: id, from: 'A', to: 'C', units: 16, deadline: Date.now() + 10_000, priority: 0, attempt: 0, avoidLinks: [] })).nodes.join(' → ');
        } catch {
          await new Promise((r) => setTimeout(r, 100)); // the first reports are on their way
        }
      }
      return 'no route';
    };
    // The controller knows a link's stock once both its ends have reported.
    for (let i = 0; i < 300 && !NETWORK.links.every((l) => (replica?.controller?.view.stockUnits(l.id) ?? 0) > 0); i++) await new Promise((r) => setTimeout(r, 50));
    out.write(`  stock      A~B ${stock['A~B']}, B~C ${stock['B~C']}, C~D ${stock['C~D']}, A~D ${stock['A~D']} units\n`);
    const first = await ask('demo-1');
    out.write(`  route      A to C: ${first} (two 2-hop routes; the wider bottleneck wins)\n`);
    await kms.clients.get('A')!.reportLink({ link: 'A~D', node: 'A', status: 'OFF', skr: 0, eskr: 5000, qber: 0, qberAlarm: false });
    const second = await ask('demo-2');
    out.write(`  Cq         link A~D reported OFF by its module\n  reroute    A to C: ${second}\n`);
    return first === 'A → D → C' && second === 'A → B → C';
  } finally {
    await kms?.close();
    await replica?.stop();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
