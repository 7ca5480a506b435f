import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initPki, type PkiPaths } from '../../pki/pki.js';
import { eventually } from '../../km/test-network.js';
import { freePort } from '../../bench/ports.js';
import { CentralReplica, EmbeddedElector } from './replica.js';
import { EtcdControl } from './etcd.js';
import { etcdBinary, startEtcd, type EtcdServer } from './etcd-server.js';
import { CkClient, type ControllerEndpoint } from '../ck-client.js';
import { killReplica, spawnReplica, startReportingKms, type ReplicaProcess } from './processes.js';
import type { NetworkConfig } from '../view.js';
import type { TopologyPush } from '../ck/topology-push.js';
import type { RelayRouteRequest } from '../router.js';
import { squareNetwork } from '../metro.js';

const UNIT = 256;
const NETWORK: NetworkConfig = squareNetwork({ alice: 'A', carol: 'C' });

let dir: string;
let paths: PkiPaths;
let ca: string;
const tlsOf = (id: string) => ({ ca, cert: readFileSync(paths.cert('KME', id), 'utf8'), key: readFileSync(paths.key('KME', id), 'utf8') });

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qkdn-central-'));
  paths = await initPki(join(dir, 'pki'), { nodes: [...NETWORK.nodes, 'ctl1', 'ctl2'], saes: [] });
  ca = readFileSync(paths.ca, 'utf8');
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const startKms = (controllers: ControllerEndpoint[], stock: (link: string) => number, pushes: TopologyPush[] = []) =>
  startReportingKms({ network: NETWORK, controllers, tls: tlsOf, stockUnits: stock, unitBits: UNIT, onTopology: (_n, p) => void pushes.push(p) });

const req = (o: Partial<RelayRouteRequest>): RelayRouteRequest => ({ relayId: 'r', from: 'A', to: 'C', units: 4, deadline: Date.now() + 60_000, priority: 0, attempt: 0, avoidLinks: [], ...o });

async function routeOr(c: CkClient, r: RelayRouteRequest): Promise<string> {
  try {
    return (await c.route(r)).nodes.join('-');
  } catch (e) {
    return (e as { code?: string }).code ?? 'error';
  }
}

/** Asks for a route every 100 ms until `want` is answered or `tries` run out; the last answer. */
async function routeUntil(c: CkClient, want: string, tries: number, r: (i: number) => RelayRouteRequest): Promise<string> {
  let got = '';
  for (let i = 0; i < tries && got !== want; i++) {
    got = await routeOr(c, r(i));
    if (got !== want) await new Promise((res) => setTimeout(res, 100));
  }
  return got;
}

test('embedded controller: KMs report over Ck, routes follow stock, a link added at run time is pushed to the KMs and routed over', async () => {
  const port = await freePort();
  const replica = new CentralReplica({ id: 'ctl1', tls: tlsOf('ctl1'), listen: { host: '127.0.0.1', port }, kms: NETWORK.nodes, elector: new EmbeddedElector(), config: NETWORK, unitBits: UNIT, lowWaterUnits: 4 });
  await replica.start();
  const pushes: TopologyPush[] = [];
  const stock: Record<string, number> = { 'A~B': 100, 'B~C': 100, 'A~D': 100, 'C~D': 100, 'A~C': 100 };
  const kms = startKms([{ id: 'ctl1', host: '127.0.0.1', port }], (l) => stock[l] ?? 0, pushes);
  try {
    await eventually(() => replica.leader, 10_000, 'the embedded controller leading');
    const a = kms.clients.get('A')!;
    const r = await routeUntil(a, 'A-B-C', 100, (i) => req({ relayId: `r${i}` }));
    assert.is(r, 'A-B-C');
    // Stock drains on B-C: the next relay goes via D.
    stock['B~C'] = 5;
    await kms.report();
    assert.is(await routeOr(a, req({ relayId: 'r-drained' })), 'A-D-C');
    // A KM may only route relays it starts.
    assert.is(await routeOr(kms.clients.get('B')!, req({ relayId: 'r-foreign' })), 'ERR_CTL_REFUSED');

    // Configuration control: a direct link A-C at run time, version 2, pushed to the connected KMs.
    const v = await replica.controller!.configuration.change({ addLinks: [{ id: 'A~C', ends: ['A', 'C'] }] });
    assert.is(v, 2);
    await eventually(() => pushes.filter((p) => p.version === 2).length === NETWORK.nodes.length, 10_000, 'every KM receiving version 2');
    assert.ok(pushes.find((p) => p.version === 2)!.config.links.some((l) => l.id === 'A~C'));
    kms.setLinks([...NETWORK.links, { id: 'A~C', ends: ['A', 'C'] }]);
    await kms.report();
    assert.is(await routeOr(a, req({ relayId: 'r-direct' })), 'A-C');
  } finally {
    await kms.close();
    await replica.stop();
  }
});

const withEtcd = etcdBinary() ? test : test.skip;
if (!etcdBinary()) console.log('central.test.ts: etcd tests skipped: no etcd binary (apt-get install etcd-server)');

const replica = (id: string, etcd: EtcdServer, prefix: string) => spawnReplica({ id, dir, pki: join(dir, 'pki'), etcdUrl: etcd.url, prefix, network: NETWORK, unitBits: UNIT, lowWaterUnits: 4 });

withEtcd('centralized: two replicas on a real etcd; the leader is killed, the follower takes over, serves routes and honours the old leader\'s reservations', async () => {
  const etcd = await startEtcd();
  const procs: ReplicaProcess[] = [];
  let kms: ReturnType<typeof startKms> | null = null;
  try {
    procs.push(await replica('ctl1', etcd, 'qkdn/failover'), await replica('ctl2', etcd, 'qkdn/failover'));
    await eventually(() => procs.every((p) => p.has('listening')), 60_000, 'both replicas listening');
    await eventually(() => procs.some((p) => p.has('elected')), 30_000, 'a leader');
    assert.ok(procs.every((p) => p.events.find((e) => e.event === 'store')?.kind === 'etcd'));
    const [leader, follower] = procs[0]!.has('elected') ? [procs[0]!, procs[1]!] : [procs[1]!, procs[0]!];
    assert.not.ok(follower.has('elected'), 'one leader only');
    const controllers = procs.map((p, i) => ({ id: `ctl${i + 1}`, host: '127.0.0.1', port: p.port }));
    kms = startKms(controllers, () => 100);
    const a = kms.clients.get('A')!;
    const held = await routeUntil(a, 'A-B-C', 200, () => req({ relayId: 'held', units: 60 }));
    assert.is(held, 'A-B-C');

    const t0 = Date.now();
    await killReplica(leader);
    const after = await routeUntil(a, 'A-D-C', 300, () => req({ relayId: 'after', units: 60 }));
    const failoverMs = Date.now() - t0;
    // 100 units on each link, 60 still reserved on A-B-C by the killed leader's session: the new
    // leader must route the next 60-unit relay via D, not hand out the same units again.
    assert.is(after, 'A-D-C');
    assert.ok(follower.has('elected'), 'the follower says it leads');
    assert.ok(failoverMs < 30_000, `failover took ${failoverMs} ms`);
  } finally {
    await kms?.close();
    for (const p of procs) await killReplica(p);
    await etcd.stop();
  }
});

withEtcd('a leader that loses etcd steps down and says so; a lapsed leader cannot write', async () => {
  const etcd = await startEtcd();
  const control = new EtcdControl({ hosts: [etcd.url], prefix: 'qkdn/stepdown', leaseTtlS: 2 });
  const replica = new CentralReplica({ id: 'ctl1', tls: tlsOf('ctl1'), listen: { host: '127.0.0.1', port: await freePort() }, kms: NETWORK.nodes, elector: control, config: NETWORK, unitBits: UNIT, lowWaterUnits: 4 });
  const reasons: string[] = [];
  replica.on('steppedDown', (r) => reasons.push(r));
  try {
    await replica.start();
    await eventually(() => replica.leader, 20_000, 'leader');
    // Another client deletes the campaign key, as etcd does when the lease lapses.
    const other = new EtcdControl({ hosts: [etcd.url], prefix: 'qkdn/stepdown' });
    await other.client.delete().prefix('qkdn/stepdown/election/').exec();
    other.abandon();
    const store = control.store();
    await store.put('probe', 'x').then(
      () => assert.unreachable('a write without leadership succeeded'),
      (e: unknown) => assert.is((e as { code?: string }).code, 'ERR_CTL_NOT_LEADER'),
    );
    // A configuration change now fails to store: the replica steps down.
    await replica.controller?.configuration.change({ addSaes: { bob: 'B' } }).catch(() => {});
    replica.controller?.sessions.admit(req({ relayId: 'x' }), { nodes: ['A', 'B', 'C'], links: ['A~B', 'B~C'], version: 1 });
    await eventually(() => reasons.length > 0, 20_000, 'stepping down');
    assert.match(reasons[0]!, /leadership lapsed|not the leader/);
  } finally {
    await replica.stop();
    await etcd.stop();
  }
});

withEtcd('etcd lost (its process killed): the leader steps down and says so; its KMs are told it no longer leads', async () => {
  const etcd = await startEtcd();
  const port = await freePort();
  const replica = new CentralReplica({ id: 'ctl1', tls: tlsOf('ctl1'), listen: { host: '127.0.0.1', port }, kms: NETWORK.nodes, elector: new EtcdControl({ hosts: [etcd.url], prefix: 'qkdn/etcd-lost', leaseTtlS: 2 }), config: NETWORK, unitBits: UNIT, lowWaterUnits: 4 });
  const reasons: string[] = [];
  replica.on('steppedDown', (r) => reasons.push(r));
  const kms = startKms([{ id: 'ctl1', host: '127.0.0.1', port }], () => 100);
  try {
    await replica.start();
    await eventually(() => replica.leader, 20_000, 'leader');
    const a = kms.clients.get('A')!;
    const r = await routeUntil(a, 'A-B-C', 100, (i) => req({ relayId: `before${i}` }));
    assert.is(r, 'A-B-C');
    etcd.process.kill('SIGKILL');
    // The lease can no longer be kept alive: within a few lease periods the replica steps down.
    await eventually(() => reasons.length > 0, 30_000, 'stepping down after etcd died');
    assert.not.ok(replica.leader);
    assert.match(reasons[0]!, /lease|etcd|leader/i);
    // A KM asking now hears that no one leads (and relays on its last good routes: host/node/control.ts).
    assert.is(await routeOr(a, req({ relayId: 'after' })), 'ERR_CTL_NOT_LEADER');
  } finally {
    await kms.close();
    await replica.stop();
    await etcd.stop();
  }
});

test.run();
