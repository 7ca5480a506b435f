/**
 * The control layer driving real key managers (in-process nodes, each with its own LMDB store,
 * Kx over mutual TLS on loopback): relays routed by the controller from the KMs' real stock,
 * rerouted when a node on their route goes down mid-relay, and supply policy enforced at the KSA.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { startTestNetwork, eventually, type TestNetwork } from '../km/test-network.js';
import { CHANNELS as KM_CHANNELS, type RelayEvent } from '../km/diagnostics.js';
import { PolicyRefusedError } from '../km/supply-policy.js';
import { ControllerView, type NetworkConfig } from './view.js';
import { SessionControl } from './sessions.js';
import { ControllerRouter } from './router.js';
import { SupplyPolicyControl } from './policy.js';
import { squareNetwork } from './metro.js';
import type { DistributedController } from './distributed.js';
import { startDistributedControllers } from './test-controllers.js';
import type { RelayRoute, Router } from '../km/routing.js';
import { InvalidRouteError } from '../km/errors.js';
import { RouteUnavailableError } from './errors.js';
import type { Session } from './sessions.js';

const UNIT = 256;
const LINKS = ['A-B', 'B-C', 'C-D', 'A-D'];
const SAES = { alice: 'A', carol: 'C', dave: 'D', bob: 'B' };

const CONFIG: NetworkConfig = squareNetwork(SAES);

/** The distributed form: a controller in every node, flooding over its own mutual-TLS channel. */
const distributedFor = (net: TestNetwork) => startDistributedControllers(net, CONFIG);

function controllerFor(net: () => TestNetwork | undefined, lowWaterUnits = 4) {
  const config = CONFIG;
  const view = new ControllerView({ unitBits: UNIT, lowWaterUnits });
  view.configure(config, 1);
  const sessions = new SessionControl();
  view.on('trigger', (t) => sessions.onTrigger(t));
  const router = new ControllerRouter(view, sessions);
  // Ck as the KMs would send it: every 50 ms each running KM reports its links' stock; a KM that
  // stops reporting is lost.
  const poll = setInterval(() => {
    const n = net();
    if (!n) return; // still starting
    const now = Date.now();
    for (const l of config.links)
      for (const end of l.ends) {
        const node = n.nodes.get(end);
        if (!node) continue;
        const peer = l.ends[0] === end ? l.ends[1] : l.ends[0];
        view.kmSeen(end, node.store.bootId, now);
        view.reportStock(l.id, end, { stockBits: node.store.counts(peer, 'link').available * UNIT, consumptionBps: 0, at: now });
      }
    view.expireKms(now, 300);
  }, 50);
  return { view, sessions, router, stop: () => (clearInterval(poll), sessions.close()) };
}

type Form = 'centralized' | 'distributed';

async function cutMidRelay(form: Form): Promise<void> {
  const at: { net?: TestNetwork } = {};
  const routers = new Map<string, Router>();
  const central = form === 'centralized' ? controllerFor(() => at.net) : null;
  const attempts: number[] = [];
  const relays: RelayEvent[] = [];
  const onRelay = (m: unknown) => void relays.push(m as RelayEvent);
  subscribe(KM_CHANNELS.relay, onRelay);
  // The KMs ask their router per attempt; which one is known once the nodes run.
  const started = await startTestNetwork({ links: LINKS, saes: SAES, initialUnits: 200, router: (id) => ({ route: (r) => routers.get(id)!.route(r), release: (relay, o) => routers.get(id)!.release?.(relay, o) }) });
  at.net = started;
  let distributed: Map<string, DistributedController> | null = null;
  const onAdmitted = (s: Session) => void (s.from === 'A' && attempts.push(s.attempt));
  if (central) {
    for (const n of CONFIG.nodes) routers.set(n, central.router);
    central.sessions.on('admitted', onAdmitted);
  } else {
    distributed = await distributedFor(started);
    for (const [n, c] of distributed) {
      routers.set(n, c);
      c.sessions.on('admitted', onAdmitted);
    }
  }
  const views = central ? [central.view] : [...distributed!.values()].map((c) => c.view);
  try {
    await eventually(() => views.every((v) => CONFIG.links.every((l) => v.stockUnits(l.id) > 100)), 30_000, 'stock known on every link');
    const a = started.node('A').km;
    const delivered: { id: string; bytes: Buffer }[] = [];
    const failures: string[] = [];
    let stopped = false;
    let completed = 0;
    const loop = async () => {
      for (let i = 0; i < 6; i++) {
        try {
          const keys = await a.supply({ master: 'alice', slaves: ['carol'], size: UNIT, number: 1 });
          for (const k of keys) delivered.push({ id: k.id, bytes: Buffer.from(k.bytes) });
          completed++;
        } catch (e) {
          failures.push((e as { code?: string }).code ?? 'untyped');
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    // Cut once relays are flowing over A-B-C (the preferred route: both routes equal, B before D).
    await eventually(() => completed >= 2, 60_000, 'the first relays completing');
    assert.ok(relays.some((r) => r.outcome === 'completed' && r.route.join('-') === 'A-B-C'), 'relays went over B first');
    // The whole node goes: its KM and (distributed form) its controller.
    const cut = Promise.all([started.stopNode('B'), distributed?.get('B')?.stop()]).then(() => (stopped = true));
    await Promise.all(loops);
    await cut;
    assert.ok(stopped);

    // Every relay that failed was retried (attempt > 0) and the later ones went via D.
    assert.ok(relays.some((r) => r.outcome === 'completed' && r.route.join('-') === 'A-D-C'), 'relays continued over A-D-C');
    const failedViaB = relays.filter((r) => r.node === 'A' && r.outcome === 'failed' && r.route.includes('B')).length;
    assert.ok(failedViaB >= 1, 'some relay was cut on its way through B');
    // Each attempt that failed on B was followed by a retry of the same relay (attempt > 0).
    assert.ok(attempts.filter((x) => x > 0).length >= failedViaB, `${failedViaB} failed attempts, retries ${attempts.filter((x) => x > 0).length}`);
    // Concurrent supplies share one relay pool, so one may find the key it relayed taken by
    // another: that is a clean, typed 503 (insufficient keys), never an untyped failure.
    for (const f of failures) assert.is(f, 'ERR_KM_INSUFFICIENT_KEYS');
    assert.ok(delivered.length >= 12, `${delivered.length} keys delivered`);
    // Nothing lost: every key a completed relay brought is delivered or still in the relay pool.
    const relayed = relays.filter((r) => r.node === 'A' && r.outcome === 'completed').reduce((n, r) => n + r.keys, 0);
    assert.is(delivered.length + started.node('A').store.counts('C', 'relay').available, relayed);
    // Nothing duplicated: distinct key IDs and distinct key bytes.
    assert.is(new Set(delivered.map((k) => k.id)).size, delivered.length);
    assert.is(new Set(delivered.map((k) => k.bytes.toString('hex'))).size, delivered.length);
    // Identical at both ends: the slave SAE fetches each key at C, once.
    const c = started.node('C').km;
    const fetched = await c.fetch({ slave: 'carol', master: 'alice', ids: delivered.map((k) => k.id) });
    assert.equal(
      fetched.map((k) => Buffer.from(k.bytes).toString('hex')),
      delivered.map((k) => k.bytes.toString('hex')),
    );
    // The two ends hold the same undelivered relay keys.
    assert.is(started.node('C').store.counts('A', 'relay').available, started.node('A').store.counts('C', 'relay').available);
    // Every relay that ended released its reservation at once (none waits for its deadline).
    const open = central ? central.sessions.list() : [...distributed!.values()].flatMap((d) => d.sessions.list());
    assert.is(open.length, 0, `reservations left: ${JSON.stringify(open.map((x) => x.relayId))}`);
    await c.fetch({ slave: 'carol', master: 'alice', ids: [delivered[0]!.id] }).then(
      () => assert.unreachable('a key was delivered twice'),
      (e: unknown) => assert.is((e as { code?: string }).code, 'ERR_KM_NOT_PERMITTED'),
    );
  } finally {
    unsubscribe(KM_CHANNELS.relay, onRelay);
    central?.stop();
    for (const c of distributed?.values() ?? []) await c.stop();
    await started.close();
  }
}

test('centralized form: a node on the route goes down mid-relay: relays continue on another route, no key lost or duplicated', () => cutMidRelay('centralized'));
test('distributed form: the same cut, routes from every node\'s own link-state database', () => cutMidRelay('distributed'));

test('distributed form: a node\'s own link going OFF counts for its own routes at once, while its advertisement waits for the hold-down; a neighbour\'s advertisement does not undo it', async () => {
  const net = await startTestNetwork({ links: LINKS, saes: SAES, initialUnits: 64 });
  const holdDownMs = 3000;
  const controllers = await startDistributedControllers(net, CONFIG, () => ({ holdDownMs }));
  try {
    const a = controllers.get('A')!;
    const viaB = { relayId: 'r1', from: 'A', to: 'C', units: 2, deadline: Date.now() + 600_000, priority: 0, attempt: 0, avoidLinks: ['A~D'] };
    await eventually(() => {
      try {
        a.router.routeNow(viaB);
        return true;
      } catch {
        return false;
      }
    }, 30_000, 'a route A-B-C at A');
    a.release('r1', 'completed');
    // An advertisement goes out now; the cut, reported in the same turn, waits for the hold-down.
    await eventually(() => Date.now() - a.flooding.lastOriginated > holdDownMs, 30_000, 'the hold-down over');
    a.flooding.changed(true);
    a.reportLink('A~B', { status: 'OFF', skr: 0, eskr: 0, qber: 0, qberAlarm: false });
    // Not advertised yet (what the others see), but A routes around it already.
    assert.is(a.flooding.entry('A')!.links.find((l) => l.link === 'A~B')!.status, 'ACTIVE');
    assert.throws(() => a.router.routeNow({ ...viaB, relayId: 'r2' }), (e: Error) => e instanceof RouteUnavailableError);
    assert.equal(a.router.routeNow({ ...viaB, relayId: 'r3', avoidLinks: [] }).nodes, ['A', 'D', 'C']);
    // The database applied again (as on any advertisement from a neighbour): A~B stays OFF at A.
    a.flooding.applyTo(a.view);
    assert.is(a.view.link('A~B')!.status, 'OFF');
    assert.throws(() => a.router.routeNow({ ...viaB, relayId: 'r4' }), (e: Error) => e instanceof RouteUnavailableError);
  } finally {
    for (const c of controllers.values()) await c.stop();
    await net.close();
  }
});

test('policy at the KSA: a pair outside the allow-list and a quota exceeded are refused with their reason; nothing is taken from stock', async () => {
  const at: { net?: TestNetwork } = {};
  const ctl = controllerFor(() => at.net);
  const started = await startTestNetwork({ links: LINKS, saes: SAES, initialUnits: 64, router: () => ctl.router });
  at.net = started;
  try {
    const policy = new SupplyPolicyControl({ pairs: [{ master: 'alice', slave: 'bob', quota: { bits: 4 * UNIT, periodMs: 3_600_000 } }] });
    const a = started.node('A').km;
    a.supplyPolicy = policy;
    const before = started.node('A').store.counts('B', 'link').available;
    // dave on D is a KME A shares a link with; alice may not get keys for dave.
    await a.supply({ master: 'alice', slaves: ['dave'], size: UNIT, number: 1 }).then(
      () => assert.unreachable('alice got keys for dave'),
      (e: unknown) => {
        assert.instance(e, PolicyRefusedError);
        assert.is((e as PolicyRefusedError).reason, 'not-permitted');
        assert.match((e as Error).message, /alice may not get keys shared with SAE dave/);
      },
    );
    const keys = await a.supply({ master: 'alice', slaves: ['bob'], size: UNIT, number: 3 });
    assert.is(keys.length, 3);
    await a.supply({ master: 'alice', slaves: ['bob'], size: UNIT, number: 2 }).then(
      () => assert.unreachable('quota exceeded but served'),
      (e: unknown) => {
        assert.instance(e, PolicyRefusedError);
        assert.is((e as PolicyRefusedError).reason, 'bad-request');
        assert.match((e as Error).message, /pair-quota/);
      },
    );
    assert.is(started.node('A').store.counts('B', 'link').available, before - 3, 'refusals took no key');
    assert.equal(policy.counters, { admitted: 1, refusedPair: 1, refusedQuota: 1 });
  } finally {
    ctl.stop();
    await started.close();
  }
});

test('a route from the Router over an unknown link, to the wrong node or with a loop is refused with a typed error before any key is taken', async () => {
  let bad: RelayRoute = { nodes: ['A', 'X', 'C'], links: ['A~X', 'X~C'], version: 1 };
  const net = await startTestNetwork({ links: ['A-B', 'B-C'], saes: { alice: 'A', carol: 'C' }, initialUnits: 16, router: () => ({ route: async () => bad }) });
  try {
    const a = net.node('A');
    const before = a.store.counts('B', 'link').available;
    const routes: RelayRoute[] = [
      { nodes: ['A', 'X', 'C'], links: ['A~X', 'X~C'], version: 1 },
      { nodes: ['A', 'B', 'A', 'C'], links: ['A~B', 'A~B', 'B~C'], version: 1 },
      { nodes: ['A', 'B'], links: ['A~B'], version: 1 },
      { nodes: ['A', 'B', 'C'], links: ['A~B', 'A~B'], version: 1 },
    ];
    for (const r of routes) {
      bad = r;
      await a.km.relay('C', 2).then(
        () => assert.unreachable(`relayed over ${r.nodes.join('-')}`),
        (e: unknown) => {
          assert.instance(e, InvalidRouteError, r.nodes.join('-'));
          assert.is((e as InvalidRouteError).code, 'ERR_KM_NO_ROUTE');
        },
      );
    }
    assert.is(a.store.counts('B', 'link').available, before, 'no unit taken');
  } finally {
    await net.close();
  }
});

test.run();
