/**
 * Real node processes (`qkdn-edge node`) running the control layer their configuration chooses,
 * in a square A-B-C-D (A to C two hops either way), SAEs on A and C asking for keys over ETSI 014:
 *
 * - both forms: node B killed (SIGKILL: its links A~B and B~C cut) while relays run through it;
 *   later relays go A-D-C at their first attempt (the controller's routes), every key delivered
 *   is identical at both SAEs and delivered once, every answer a 200 or a clean 503;
 * - both forms: only the QKD link A~B cut (taken out of service at A: OFF over Cq), B running:
 *   the same, and B still serves its SAE over B~C;
 * - centralized: two `qkdn-edge controller` replicas on a real etcd; the leader killed while the
 *   SAEs ask for keys; the standby takes over and supply continues;
 * - centralized: every controller gone: relays go on over the last good routes for `lastRoutesMs`,
 *   then the SAE gets a 503 naming the missing route.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoNetwork, type DemoNetwork } from '../../host/node/demo-network.js';
import type { ControlConfig } from '../../host/node/control.js';
import { initPki } from '../../host/pki/pki.js';
import { freePort } from '../../host/bench/ports.js';
import { etcdBinary, startEtcd, type EtcdServer } from '../../host/controller/central/etcd-server.js';
import { killReplica, spawnReplica, type ReplicaProcess } from '../../host/controller/central/processes.js';
import { squareNetwork } from '../../host/controller/metro.js';
import type { EtsiKey } from '../../host/api/client.js';

const IDS = ['A', 'B', 'C', 'D'];
const LINKS = ['A-B', 'B-C', 'C-D', 'A-D'];
const SAES = { 'sae-A': 'A', 'sae-B': 'B', 'sae-C': 'C', 'sae-D': 'D' };
// A killed node refuses connections at once; a relay already inside it waits for its hop timeout.
const KM = { peerTimeoutMs: 10_000, relayHopTimeoutMs: 4000 };

async function eventually(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Exchange {
  readonly delivered: EtsiKey[];
  readonly statuses: number[];
  readonly raws: string[];
}

const newExchange = (): Exchange => ({ delivered: [], statuses: [], raws: [] });

/** One enc_keys from sae-A for sae-C, recorded. */
async function ask(net: DemoNetwork, x: Exchange, number = 1): Promise<number> {
  const r = await net.client('sae-A').encKeys('sae-C', { number });
  x.statuses.push(r.status);
  if (r.status === 200) x.delivered.push(...r.body.keys);
  else x.raws.push(r.raw);
  return r.status;
}

/** The slave SAE fetches every delivered key at C: the same bytes, each once, no two alike. */
async function checkBothEnds(net: DemoNetwork, x: Exchange): Promise<void> {
  const ids = x.delivered.map((k) => k.key_ID);
  assert.is(new Set(ids).size, ids.length, 'a key ID delivered twice');
  assert.is(new Set(x.delivered.map((k) => k.key)).size, ids.length, 'two keys with the same bytes');
  const c = net.client('sae-C');
  for (let i = 0; i < ids.length; i += 16) {
    const chunk = x.delivered.slice(i, i + 16);
    const dec = await c.decKeys('sae-A', chunk.map((k) => k.key_ID));
    assert.is(dec.status, 200, dec.raw);
    assert.equal(dec.body.keys, chunk, 'the slave SAE got other keys than the master');
  }
  const again = await c.decKeys('sae-A', [ids[0]!]);
  assert.is(again.status, 400, 'a key delivered twice at the slave');
}

type RelayLine = { event: string; relay: string; route: string[]; outcome: string };
const relaysOf = (net: DemoNetwork, node: string) => net.events(node).filter((e) => e.event === 'relay') as unknown as RelayLine[];
const path = (r: RelayLine) => r.route.join('-');

/**
 * Relays from A to C run through B; `cut` takes B's part away (B killed, or only the link A~B) while
 * four SAE clients keep asking. The control layer moves the routes: the last relays go A-D-C at
 * their first attempt, none failing first.
 */
async function cutWhileRelaying(net: DemoNetwork, cut: () => Promise<void>): Promise<void> {
  const x = newExchange();
  // The controllers have the stock of every link (flooded, or reported): a relay gets a route.
  // Widest-shortest: relays take B or D, whichever route holds more stock; wait for one via B.
  await eventually(async () => (await ask(net, x)) === 200 && relaysOf(net, 'A').some((r) => r.outcome === 'completed' && path(r) === 'A-B-C'), 60_000, 'a relayed supply via B');
  let cutDone = false;
  let afterCut = 0;
  const worker = async () => {
    for (let i = 0; i < 40 && afterCut < 8; i++) {
      const s = await ask(net, x, 1 + (i % 2));
      if (cutDone && s === 200) afterCut++;
    }
  };
  const workers = [worker(), worker(), worker(), worker()];
  await eventually(() => x.delivered.length >= 6, 60_000, 'relays flowing');
  const before = new Set(relaysOf(net, 'A').map((r) => r.relay));
  await cut();
  // From the first relay the control layer sent over D: a relay that started as B went down may
  // still have tried it (and been retried); those after may not.
  await eventually(() => relaysOf(net, 'A').some((r) => !before.has(r.relay) && r.outcome === 'completed' && path(r) === 'A-D-C'), 60_000, 'a relay over D after the cut');
  cutDone = true;
  await Promise.all(workers);
  assert.ok(afterCut >= 8, `${afterCut} supplies after the cut`);
  for (const s of x.statuses) assert.ok(s === 200 || s === 503, `status ${s}`);
  for (const raw of x.raws) assert.match(raw, /ERR_KM_|ERR_API_/, raw);
  // The tail of A's relays: over D, completed, no failed attempt among them (no try via B first).
  const relays = relaysOf(net, 'A');
  const tail = relays.slice(-4);
  assert.ok(tail.length === 4 && tail.every((r) => r.outcome === 'completed' && path(r) === 'A-D-C'), `A's last relays: ${JSON.stringify(tail)}`);
  await checkBothEnds(net, x);
}

/** The QKD link A~B cut at A (its module's link taken out of service through A's management API: OFF over Cq); B keeps running. */
async function cutLinkAB(net: DemoNetwork): Promise<void> {
  const op = net.operator('A');
  const unknown = await op.send('POST', '/api/v1/links/B~C/service', { inService: false });
  assert.is(unknown.status, 404, 'B~C is not a link of A');
  assert.is((await op.send('POST', '/api/v1/links/A~B/service', { inService: 'no' })).status, 400);
  const r = await op.send<{ inService: boolean }>('POST', '/api/v1/links/A~B/service', { inService: false });
  assert.is(r.status, 200, r.raw);
  assert.is(r.body.inService, false);
}

/** After a cut of A~B only: B still serves, and its own link to C still gives keys. */
async function bStillServes(net: DemoNetwork): Promise<void> {
  const r = await net.client('sae-B').encKeys('sae-C', { number: 1 });
  assert.is(r.status, 200, r.raw);
  const d = await net.client('sae-C').decKeys('sae-B', [r.body.keys[0]!.key_ID]);
  assert.equal(d.body.keys, r.body.keys);
}

function demo(control: ControlConfig, dir?: string, management = false): Promise<DemoNetwork> {
  return startDemoNetwork({ ids: IDS, links: LINKS, saes: SAES, initialUnits: 400, rate: 20, km: KM, bundle: true, control: { lowWaterUnits: 4, ...control }, ...(dir ? { dir } : {}), ...(management ? { management: true } : {}) });
}

test('distributed form: B killed mid-relay, relays rerouted around it by every node\'s own controller; keys identical at both SAEs, none lost or duplicated', async () => {
  const net = await demo({ form: 'distributed', holdDownMs: 200, refreshMs: 5000 });
  try {
    await cutWhileRelaying(net, () => net.kill('B'));
  } finally {
    await net.stop();
  }
});

test('distributed form: the link A~B cut at A mid-relay (B running): relays rerouted over D; keys identical at both SAEs, none lost or duplicated', async () => {
  const net = await demo({ form: 'distributed', holdDownMs: 200, refreshMs: 5000 }, undefined, true);
  try {
    await cutWhileRelaying(net, () => cutLinkAB(net));
    await bStillServes(net);
  } finally {
    await net.stop();
  }
});

const withEtcd = etcdBinary() ? test : test.skip;
if (!etcdBinary()) console.log('control.test.ts: centralized tests skipped: no etcd binary (apt-get install etcd-server)');

interface Central {
  readonly dir: string;
  readonly etcd: EtcdServer;
  readonly replicas: ReplicaProcess[];
  readonly control: ControlConfig;
  close(): Promise<void>;
}

/** Two controller replicas on a real etcd, and the PKI the nodes will share with them. */
async function central(prefix: string, lastRoutesMs: number): Promise<Central> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-control-hil-'));
  const etcd = await startEtcd();
  const replicas: ReplicaProcess[] = [];
  const close = async () => {
    for (const r of replicas) await killReplica(r);
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await initPki(join(dir, 'pki'), { network: 'demo', nodes: ['ctl1', 'ctl2'], saes: [] });
    const network = squareNetwork(SAES);
    const ports = [await freePort(), await freePort()];
    for (const [i, id] of ['ctl1', 'ctl2'].entries()) replicas.push(await spawnReplica({ id, dir, pki: join(dir, 'pki'), etcdUrl: etcd.url, prefix, network, unitBits: 256, lowWaterUnits: 4, port: ports[i]! }));
    await eventually(() => replicas.every((r) => r.has('listening')) && replicas.some((r) => r.has('elected')), 60_000, 'replicas listening and a leader');
    const control: ControlConfig = { form: 'centralized', controllers: ['ctl1', 'ctl2'].map((id, i) => ({ id, endpoint: `127.0.0.1:${ports[i]!}` })), reportMs: 200, lastRoutesMs };
    return { dir, etcd, replicas, control, close };
  } catch (e) {
    await close();
    throw e;
  }
}

withEtcd('centralized form: B killed mid-relay, the controller reroutes; keys identical at both SAEs, none lost or duplicated', async () => {
  const c = await central('qkdn/hil-cut', 30_000);
  let net: DemoNetwork | null = null;
  try {
    net = await demo(c.control, c.dir);
    await cutWhileRelaying(net, () => net!.kill('B'));
  } finally {
    await net?.stop();
    await c.close();
  }
});

withEtcd('centralized form: the link A~B cut at A mid-relay (B running): the controller reroutes over D; keys identical at both SAEs, none lost or duplicated', async () => {
  const c = await central('qkdn/hil-link-cut', 30_000);
  let net: DemoNetwork | null = null;
  try {
    net = await demo(c.control, c.dir, true);
    await cutWhileRelaying(net, () => cutLinkAB(net!));
    await bStillServes(net);
  } finally {
    await net?.stop();
    await c.close();
  }
});

withEtcd('centralized form: the leader replica killed while SAEs ask for keys: the standby takes over, supply continues', async () => {
  const c = await central('qkdn/hil-failover', 30_000);
  let net: DemoNetwork | null = null;
  try {
    net = await demo(c.control, c.dir);
    const x = newExchange();
    await eventually(async () => (await ask(net!, x)) === 200, 60_000, 'a first relayed supply');
    const leader = c.replicas.find((r) => r.has('elected'))!;
    const standby = c.replicas.find((r) => r !== leader)!;
    let killed = false;
    let afterTakeover = 0;
    const worker = async () => {
      for (let i = 0; i < 200 && afterTakeover < 6; i++) {
        const s = await ask(net!, x);
        if (killed && standby.has('elected') && s === 200) afterTakeover++;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const workers = [worker(), worker()];
    await eventually(() => x.delivered.length >= 4, 60_000, 'supplies before the kill');
    await killReplica(leader);
    killed = true;
    await eventually(() => standby.has('elected'), 60_000, 'the standby elected');
    await Promise.all(workers);
    assert.ok(afterTakeover >= 6, `${afterTakeover} supplies after the takeover`);
    for (const s of x.statuses) assert.ok(s === 200 || s === 503, `status ${s}`);
    // While the standby was being elected the KMs relayed on their last good routes: no gap in supply.
    assert.is(x.statuses.filter((s) => s !== 200).length, 0, x.raws.join('\n'));
    await checkBothEnds(net, x);
  } finally {
    await net?.stop();
    await c.close();
  }
});

withEtcd('centralized form, no controller answering: relays go on over the last good routes for lastRoutesMs, then a clear 503', async () => {
  const lastRoutesMs = 4000;
  const c = await central('qkdn/hil-gone', lastRoutesMs);
  let net: DemoNetwork | null = null;
  try {
    net = await demo(c.control, c.dir);
    const x = newExchange();
    await eventually(async () => (await ask(net!, x)) === 200, 60_000, 'a first relayed supply');
    for (const r of c.replicas) await killReplica(r);
    const gone = Date.now();
    // Within the bound: relayed over the route the controller gave last.
    assert.is(await ask(net, x, 2), 200, x.raws.join('\n'));
    assert.ok(Date.now() - gone < lastRoutesMs, 'the machine was too slow to ask within the bound');
    await new Promise((r) => setTimeout(r, lastRoutesMs + 500));
    // Past it: no route, and the SAE is told so. More keys than any relay left in the pool.
    const r = await net.client('sae-A').encKeys('sae-C', { number: 16 });
    assert.is(r.status, 503, r.raw);
    assert.match(r.raw, /ERR_KM_NO_ROUTE/);
    assert.ok(relaysOf(net, 'A').some((e) => e.outcome === 'completed'), 'A relayed');
    await checkBothEnds(net, x);
  } finally {
    await net?.stop();
    await c.close();
  }
});

test.run();
