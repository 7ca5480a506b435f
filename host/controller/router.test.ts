import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ControllerView, type NetworkConfig } from './view.js';
import { ControllerRouter, computeRoute, marginFor, type RelayRouteRequest } from './router.js';
import { SessionControl } from './sessions.js';
import { RouteUnavailableError, DeadlineError, StaleVersionError } from './errors.js';
import { metroNetwork, squareNetwork } from './metro.js';

const UNIT = 256;
const isA = (C: abstract new (...a: never[]) => Error) => (e: unknown) => e instanceof C;

/** A square A-B-C-D-A with a diagonal-free layout: A to C has two 2-hop routes, via B and via D. */
function square(stock: Record<string, number>, lowWaterUnits = 2): ControllerView {
  const cfg = squareNetwork({ alice: 'A', carol: 'C' });
  const v = new ControllerView({ unitBits: UNIT, lowWaterUnits });
  v.configure(cfg, 1);
  for (const l of cfg.links) for (const n of l.ends) v.reportStock(l.id, n, { stockBits: (stock[l.id] ?? 100) * UNIT, consumptionBps: 0, at: 0 });
  return v;
}

const req = (o: Partial<RelayRouteRequest> = {}): RelayRouteRequest => ({ relayId: 'r1', from: 'A', to: 'C', units: 4, deadline: Date.now() + 60_000, priority: 0, attempt: 0, avoidLinks: [], ...o });

test('widest-shortest: of two 2-hop routes the one whose smallest stock is larger wins', () => {
  assert.equal(computeRoute(square({ 'A~B': 10, 'B~C': 50, 'A~D': 40, 'C~D': 30 }), req()).nodes, ['A', 'D', 'C']);
  assert.equal(computeRoute(square({ 'A~B': 45, 'B~C': 50, 'A~D': 40, 'C~D': 30 }), req()).nodes, ['A', 'B', 'C']);
});

test('ties are broken by node ID, so every controller with the same view computes the same route', () => {
  const r = computeRoute(square({}), req());
  assert.equal(r.nodes, ['A', 'B', 'C']);
  assert.equal(r.links, ['A~B', 'B~C']);
  assert.equal(computeRoute(square({}), req()), r);
});

test('fewest hops first: a 1-hop-shorter route wins even with a smaller bottleneck', () => {
  const v = square({ 'A~B': 5, 'B~C': 5 }, 0);
  assert.equal(computeRoute(v, req({ to: 'B', units: 1 })).nodes, ['A', 'B']);
});

test('prune: links not ACTIVE/PASSIVE, below need + low-water, or avoided carry nothing', () => {
  const v = square({});
  v.reportLink('B~C', { status: 'OFF', skr: 0, eskr: 1000, qber: 0, qberAlarm: false });
  assert.equal(computeRoute(v, req()).nodes, ['A', 'D', 'C']);
  v.reportLink('B~C', { status: 'PASSIVE', skr: 0, eskr: 1000, qber: 0, qberAlarm: false });
  assert.equal(computeRoute(v, req()).nodes, ['A', 'B', 'C']);
  v.reportLink('B~C', { status: 'PENDING', skr: 0, eskr: 1000, qber: 0, qberAlarm: false });
  assert.equal(computeRoute(v, req()).nodes, ['A', 'D', 'C']);
  assert.throws(() => computeRoute(v, req({ avoidLinks: ['C~D'] })), (e: unknown) => e instanceof RouteUnavailableError && e.code === 'ERR_KM_NO_ROUTE' && /avoiding C~D/.test(e.message));
  // 4 units needed + 2 of low-water: a link holding 5 is pruned, 6 is enough.
  const w = square({ 'A~B': 5, 'A~D': 6 });
  assert.equal(computeRoute(w, req()).nodes, ['A', 'D', 'C']);
  const x = square({ 'A~B': 5, 'A~D': 5 });
  assert.throws(() => computeRoute(x, req()), isA(RouteUnavailableError));
  // A higher priority digs into the margin.
  assert.is(marginFor(2, 1), 1);
  assert.equal(computeRoute(x, req({ priority: 1 })).nodes, ['A', 'B', 'C']);
});

test('a lost KM takes its links out; a link with one end unreported holds nothing', () => {
  const v = square({});
  v.kmSeen('B', 'boot1', 1000);
  v.expireKms(10_000, 5000);
  assert.equal(computeRoute(v, req()).nodes, ['A', 'D', 'C']);
  const u = new ControllerView({ unitBits: UNIT, lowWaterUnits: 0 });
  u.configure({ nodes: ['A', 'B'], links: [{ id: 'A~B', ends: ['A', 'B'] }], saes: {} }, 1);
  u.reportStock('A~B', 'A', { stockBits: 100 * UNIT, consumptionBps: 0, at: 0 });
  assert.is(u.stockUnits('A~B'), 0);
  assert.throws(() => computeRoute(u, req({ to: 'B', units: 1 })), isA(RouteUnavailableError));
});

test('a passed deadline is refused before any route is computed', () => {
  assert.throws(() => computeRoute(square({}), req({ deadline: Date.now() - 1 })), isA(DeadlineError));
});

test('session control: an admitted relay reserves its units, so the next one is routed around it; release gives them back', () => {
  const v = square({ 'A~B': 12, 'B~C': 12, 'A~D': 10, 'C~D': 10 });
  const sessions = new SessionControl();
  const router = new ControllerRouter(v, sessions);
  assert.equal(router.routeNow(req({ relayId: 'r1', units: 6 })).nodes, ['A', 'B', 'C']);
  assert.is(sessions.reserved('A~B'), 6);
  // 12 - 6 = 6 left on A-B-C, 10 on A-D-C: the second relay goes via D.
  assert.equal(router.routeNow(req({ relayId: 'r2', units: 6 })).nodes, ['A', 'D', 'C']);
  assert.throws(() => router.routeNow(req({ relayId: 'r3', units: 6 })), isA(RouteUnavailableError));
  assert.ok(sessions.release('r1', 'completed'));
  assert.not.ok(sessions.release('r1', 'completed'));
  assert.equal(router.routeNow(req({ relayId: 'r3', units: 6 })).nodes, ['A', 'B', 'C']);
  sessions.close();
});

test('a retry replaces the relay\'s reservation instead of adding to it', () => {
  const v = square({});
  const sessions = new SessionControl();
  const router = new ControllerRouter(v, sessions);
  router.routeNow(req({ units: 10 }));
  const r = router.routeNow(req({ units: 10, attempt: 1, avoidLinks: ['A~B'] }));
  assert.equal(r.nodes, ['A', 'D', 'C']);
  assert.is(sessions.reserved('A~B'), 0);
  assert.is(sessions.reserved('A~D'), 10);
  sessions.close();
});

test('rerouting triggers void the sessions on the link: link down, leaving ACTIVE, QBER alarm, low water, over eskr, KM lost', () => {
  const cases: [string, (v: ControllerView) => void][] = [
    ['link-down', (v) => v.reportLink('A~B', { status: 'OFF', skr: 0, eskr: 0, qber: 0, qberAlarm: false })],
    ['left-active', (v) => v.reportLink('A~B', { status: 'PASSIVE', skr: 0, eskr: 0, qber: 0, qberAlarm: false })],
    ['qber-alarm', (v) => v.reportLink('A~B', { status: 'ACTIVE', skr: 10, eskr: 10, qber: 0.2, qberAlarm: true })],
    ['low-water', (v) => v.reportStock('A~B', 'A', { stockBits: 1 * UNIT, consumptionBps: 0, at: 1 })],
    [
      'over-eskr',
      (v) => {
        v.reportLink('A~B', { status: 'ACTIVE', skr: 1000, eskr: 1000, qber: 0.01, qberAlarm: false });
        v.reportStock('A~B', 'B', { stockBits: 100 * UNIT, consumptionBps: 5000, at: 1 });
      },
    ],
    [
      'km-lost',
      (v) => {
        v.kmSeen('B', 'b', 0);
        v.expireKms(60_000, 1000);
      },
    ],
  ];
  for (const [reason, cause] of cases) {
    const v = square({});
    const sessions = new SessionControl();
    v.on('trigger', (t) => sessions.onTrigger(t));
    const router = new ControllerRouter(v, sessions);
    router.routeNow(req({ relayId: 'on-AB' }));
    router.routeNow(req({ relayId: 'on-AD', from: 'A', to: 'D', units: 1 }));
    const voided: string[] = [];
    sessions.on('void', (s, t) => voided.push(`${s.relayId}:${t.reason}`));
    cause(v);
    assert.equal(voided, [`on-AB:${reason}`], reason);
    assert.is(sessions.reserved('A~B'), 0, reason);
    assert.ok(sessions.get('on-AD'), reason);
    sessions.close();
  }
});

test('configuration: an older version is refused; a link added at run time is routed over', () => {
  const v = new ControllerView({ unitBits: UNIT, lowWaterUnits: 0 });
  const cfg: NetworkConfig = { nodes: ['A', 'B', 'C'], links: [{ id: 'A~B', ends: ['A', 'B'] }, { id: 'B~C', ends: ['B', 'C'] }], saes: {} };
  v.configure(cfg, 2);
  assert.throws(() => v.configure(cfg, 2), isA(StaleVersionError));
  const stock = (id: string, ends: readonly string[]) => ends.forEach((n) => v.reportStock(id, n, { stockBits: 10 * UNIT, consumptionBps: 0, at: 0 }));
  stock('A~B', ['A', 'B']);
  stock('B~C', ['B', 'C']);
  assert.equal(computeRoute(v, req({ units: 1 })).nodes, ['A', 'B', 'C']);
  v.configure({ ...cfg, links: [...cfg.links, { id: 'A~C', ends: ['A', 'C'] }] }, 3);
  // Stock on A-B kept across the reconfiguration; the new link has none until both ends report.
  assert.is(v.stockUnits('A~B'), 10);
  assert.equal(computeRoute(v, req({ units: 1 })).nodes, ['A', 'B', 'C']);
  stock('A~C', ['A', 'C']);
  assert.equal(computeRoute(v, req({ units: 1 })).nodes, ['A', 'C']);
});

test('metro network of 1000 nodes: a route exists between any two rings and its links join its nodes', () => {
  const cfg = metroNetwork(1000);
  assert.is(cfg.nodes.length, 1000);
  const v = new ControllerView({ unitBits: UNIT, lowWaterUnits: 4 });
  v.configure(cfg, 1);
  for (const l of cfg.links) for (const n of l.ends) v.reportStock(l.id, n, { stockBits: 1000 * UNIT, consumptionBps: 0, at: 0 });
  const r = computeRoute(v, req({ from: 'm0n3', to: 'm57n8' }));
  assert.is(r.nodes[0], 'm0n3');
  assert.is(r.nodes.at(-1), 'm57n8');
  r.links.forEach((id, i) => {
    const l = v.link(id)!;
    assert.ok(l.ends.includes(r.nodes[i]!) && l.ends.includes(r.nodes[i + 1]!));
  });
});

test.run();
