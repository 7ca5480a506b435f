import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NetworkView, StaleTopologyError, type TopologyChange } from './network-view.js';
import { StaticRouter } from './routing.js';
import { route, type Topology } from './topology.js';
import { NoRouteError } from './errors.js';

const topo = (links: string[], routes?: Record<string, string[]>): Topology => {
  const ls = links.map((l) => {
    const [a, b] = l.split('-') as [string, string];
    return { id: `${a}~${b}`, ends: [a, b] as const };
  });
  return { nodes: [...new Set(ls.flatMap((l) => l.ends))].sort(), links: ls, saes: new Map(), ...(routes ? { routes: new Map(Object.entries(routes)) } : {}) };
};

const req = { relayId: 'r', units: 1, deadline: 0, priority: 0, attempt: 0, avoidLinks: [] as string[] };

test('fewest hops; between equal routes the one through the lower node IDs, whatever order the links are listed in', () => {
  // A square A-B-D, A-C-D: two routes of two hops; B sorts before C.
  assert.equal(route(topo(['A-B', 'B-D', 'A-C', 'C-D']), 'A', 'D'), ['A', 'B', 'D']);
  assert.equal(route(topo(['C-D', 'A-C', 'B-D', 'A-B']), 'A', 'D'), ['A', 'B', 'D']);
  // From the other end too, so both ends of a relay agree on the path's nodes.
  assert.equal(route(topo(['A-B', 'B-D', 'A-C', 'C-D']), 'D', 'A'), ['D', 'B', 'A']);
  // A shorter route wins over lower IDs.
  assert.equal(route(topo(['A-B', 'B-C', 'C-E', 'A-Z', 'Z-E']), 'A', 'E'), ['A', 'Z', 'E']);
});

test('a configured route is taken as given; no path is a NoRouteError', () => {
  const t = topo(['A-B', 'B-D', 'A-C', 'C-D'], { 'A>D': ['A', 'C', 'D'] });
  assert.equal(route(t, 'A', 'D'), ['A', 'C', 'D']);
  assert.throws(() => route(topo(['A-B', 'C-D']), 'A', 'D'), (e: unknown) => e instanceof NoRouteError);
});

test('StaticRouter: nodes, the link of each hop, the topology version; avoided links are routed around', async () => {
  const view = new NetworkView(topo(['A-B', 'B-D', 'A-C', 'C-D']), 3);
  const r = new StaticRouter(view);
  assert.equal(await r.route({ ...req, from: 'A', to: 'D' }), { nodes: ['A', 'B', 'D'], links: ['A~B', 'B~D'], version: 3 });
  assert.equal((await r.route({ ...req, from: 'A', to: 'D', attempt: 1, avoidLinks: ['B~D'] })).nodes, ['A', 'C', 'D']);
  try {
    await r.route({ ...req, from: 'A', to: 'D', avoidLinks: ['B~D', 'C~D'] });
    assert.unreachable('every link to D avoided');
  } catch (e) {
    assert.instance(e, NoRouteError);
  }
});

test('NetworkView: a pushed topology is what routing sees next; an older version is refused; listeners hear each change', async () => {
  const view = new NetworkView(topo(['A-B', 'B-C']), 1);
  const router = new StaticRouter(view);
  const seen: TopologyChange[] = [];
  const off = view.onChange((c) => seen.push(c));
  assert.equal((await router.route({ ...req, from: 'A', to: 'C' })).nodes, ['A', 'B', 'C']);
  const next = topo(['A-B', 'B-C', 'A-C']);
  view.replace(next, 2);
  assert.equal(await router.route({ ...req, from: 'A', to: 'C' }), { nodes: ['A', 'C'], links: ['A~C'], version: 2 });
  assert.throws(() => view.replace(topo(['A-B']), 1), (e: unknown) => e instanceof StaleTopologyError && e.code === 'ERR_KM_CONFIG');
  assert.is(view.current(), next, 'the refused push changed nothing');
  assert.is(seen.length, 1);
  assert.is(seen[0]!.version, 2);
  off();
  view.replace(topo(['A-C']), 5);
  assert.is(seen.length, 1, 'a removed listener hears nothing');
});

test.run();
