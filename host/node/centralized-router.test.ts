/**
 * The centralized form's Router at a node (control.ts CentralizedRouter): a route release sent
 * while no controller answers is kept and sent again once one answers. Without that, the
 * successor, which restores the stored reservations, would hold the relay's units until its
 * deadline and refuse routes meanwhile.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initPki } from '../pki/pki.js';
import { freePort } from '../bench/ports.js';
import { eventually } from '../km/test-network.js';
import { CentralReplica, EmbeddedElector } from '../controller/central/replica.js';
import { startReportingKms } from '../controller/central/processes.js';
import { MemoryStore } from '../controller/store.js';
import { squareNetwork } from '../controller/metro.js';
import type { RelayRoute, RelayRouteRequest } from '../controller/router.js';
import { RouteUnavailableError } from '../controller/errors.js';
import { CentralizedRouter } from './control.js';

const UNIT = 256;
const NETWORK = squareNetwork({ alice: 'A', carol: 'C' });
const req = (relayId: string): RelayRouteRequest => ({ relayId, from: 'A', to: 'C', units: 4, deadline: Date.now() + 120_000, priority: 0, attempt: 0, avoidLinks: [] });

/** A controller replica (its state in a store that outlives it, as etcd's does for a successor) and the KMs reporting their stock to it. */
async function setup(localDown?: () => readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-release-'));
  const paths = await initPki(join(dir, 'pki'), { nodes: [...NETWORK.nodes, 'ctl1'], saes: [] });
  const ca = readFileSync(paths.ca, 'utf8');
  const tls = (id: string) => ({ ca, cert: readFileSync(paths.cert('KME', id), 'utf8'), key: readFileSync(paths.key('KME', id), 'utf8') });
  const port = await freePort();
  const store = new MemoryStore();
  const replica = () => new CentralReplica({ id: 'ctl1', tls: tls('ctl1'), listen: { host: '127.0.0.1', port }, kms: NETWORK.nodes, elector: new EmbeddedElector(store), config: NETWORK, unitBits: UNIT, lowWaterUnits: 4 });
  const leader = replica();
  await leader.start();
  const kms = startReportingKms({ network: NETWORK, controllers: [{ id: 'ctl1', host: '127.0.0.1', port }], tls, stockUnits: () => 100, unitBits: UNIT });
  const router = new CentralizedRouter(kms.clients.get('A')!, 30_000, localDown);
  /** Asks for a route every 100 ms until a controller answers one (not the last good route of a silent controller). */
  const routed = async (id: string): Promise<RelayRoute> => {
    const t0 = Date.now();
    const before = router.counters.fromController;
    for (;;) {
      const r = await router.route(req(id)).catch((e: Error) => {
        if (Date.now() - t0 > 20_000) throw e;
        return null;
      });
      if (r && router.counters.fromController > before) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  return { dir, leader, replica, kms, router, routed };
}

test('a release no controller took is sent again once a controller answers: the successor frees the units', async () => {
  const s = await setup();
  const { dir, replica, kms, router, routed } = s;
  let leader = s.leader;
  try {
    await routed('r1');
    assert.ok(leader.controller!.sessions.get('r1'), 'r1 reserved at the leader');

    // No controller answers: the release is refused as unanswered, and kept.
    await leader.stop();
    await router.release('r1', 'completed').then(
      () => assert.unreachable('a release with no controller up succeeded'),
      (e: { code?: string }) => assert.ok(e.code === 'ERR_CTL_UNREACHABLE' || e.code === 'ERR_CTL_NOT_LEADER', String(e.code)),
    );

    // The successor restores r1's reservation from the store; the router's next answer sends the release.
    leader = replica();
    await leader.start();
    await eventually(() => leader.controller !== null, 20_000, 'the successor leading');
    assert.ok(leader.controller!.sessions.get('r1'), 'the successor restored r1');
    await routed('r2');
    await eventually(() => leader.controller!.sessions.get('r1') === undefined, 10_000, 'r1 released at the successor');
    assert.ok(leader.controller!.sessions.get('r2'), 'r2 reserved');
  } finally {
    await kms.close();
    await leader.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('links the node knows are down are avoided by every route it asks for, and by the last good route, before the controller hears of them', async () => {
  let down: string[] = [];
  const { dir, leader, kms, routed, router } = await setup(() => down);
  try {
    // Both routes equal: the controller's tie-break takes B.
    assert.equal((await routed('r1')).nodes, ['A', 'B', 'C']);
    // A~B cut as A sees it (its peer KM lost, or out of service), not yet reported: the controller still has it ACTIVE.
    down = ['A~B'];
    assert.is(leader.controller!.view.link('A~B')!.status, 'ACTIVE');
    assert.equal((await routed('r2')).nodes, ['A', 'D', 'C']);
    down = [];
    assert.equal((await routed('r3')).nodes, ['A', 'B', 'C']);
    // No controller answers: the last good route (over B) serves, but not once A~B is down here.
    await leader.stop();
    assert.equal((await router.route(req('r4'))).nodes, ['A', 'B', 'C']);
    down = ['A~B'];
    await router.route(req('r5')).then(
      () => assert.unreachable('the last good route over a link down at A was used'),
      (e: unknown) => {
        assert.instance(e, RouteUnavailableError);
        assert.match((e as Error).message, /avoiding the failed links/);
      },
    );
    assert.is(router.counters.lastGood, 1);
  } finally {
    await kms.close();
    await leader.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
