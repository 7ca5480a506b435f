import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { chooseJoin, joinSegments, NoInterworkingRouteError, segmentOf, widestShortest, WidestShortestRouter, type Segment, type StockedLink, type StockedTopology } from './segments.js';
import { IwError } from '../errors.js';

const L = (id: string, a: string, b: string, cost: number, stock: number): StockedLink => ({ id, ends: [a, b], cost, stock });
// A - B - D and A - C - D at equal cost; the C side has more stock; A - D direct is dearer.
const diamond: StockedTopology = {
  nodes: ['A', 'B', 'C', 'D'],
  links: [L('ab', 'A', 'B', 1, 100), L('bd', 'B', 'D', 1, 100), L('ac', 'A', 'C', 1, 500), L('cd', 'C', 'D', 1, 400), L('ad', 'A', 'D', 3, 1000)],
  version: 4,
};

test('widest-shortest: least cost first, then the larger bottleneck', () => {
  const p = widestShortest(diamond, 'A', 'D')!;
  assert.equal(p.nodes, ['A', 'C', 'D']);
  assert.equal(p.links, ['ac', 'cd']);
  assert.is(p.cost, 2);
  assert.is(p.stock, 400);
  // links without the units the relay needs are left out: only the dear direct link is left
  assert.equal(widestShortest(diamond, 'A', 'D', 450)!.nodes, ['A', 'D']);
  // failed links are avoided
  assert.equal(widestShortest(diamond, 'A', 'D', 0, ['cd'])!.nodes, ['A', 'B', 'D']);
  assert.is(widestShortest(diamond, 'A', 'D', 2000), null);
  assert.is(widestShortest(diamond, 'A', 'Z'), null);
  assert.equal(widestShortest(diamond, 'B', 'B')!.nodes, ['B']);
});

test('the Router seam: a route with the topology version; the ETSI 020 status says why there is none', async () => {
  const r = new WidestShortestRouter(() => diamond);
  const req = { relayId: 'r', from: 'A', to: 'D', units: 10, deadline: 0, priority: 0, attempt: 0, avoidLinks: [] };
  assert.equal(await r.route(req), { nodes: ['A', 'C', 'D'], links: ['ac', 'cd'], version: 4 });
  for (const [units, status] of [[5000, 'insufficient_key_material'], [1, 'no_known_route']] as const) {
    try {
      await r.route({ ...req, units, to: units === 1 ? 'Z' : 'D' });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, NoInterworkingRouteError);
      assert.is((e as NoInterworkingRouteError).status, status);
      assert.is((e as IwError).code, 'ERR_IW_NO_ROUTE');
    }
  }
});

// All simple paths, for checking the computation against the definition on small graphs.
function allPaths(t: StockedTopology, from: string, to: string, units: number): { cost: number; stock: number }[] {
  const out: { cost: number; stock: number }[] = [];
  const walk = (n: string, seen: Set<string>, cost: number, stock: number) => {
    if (n === to) {
      out.push({ cost, stock });
      return;
    }
    for (const l of t.links) {
      if (l.stock < units || (l.ends[0] !== n && l.ends[1] !== n)) continue;
      const m = l.ends[0] === n ? l.ends[1] : l.ends[0];
      if (seen.has(m)) continue;
      walk(m, new Set([...seen, m]), cost + l.cost, Math.min(stock, l.stock));
    }
  };
  walk(from, new Set([from]), 0, Infinity);
  return out;
}

const arbTopology = fc
  .integer({ min: 2, max: 6 })
  .chain((n) => {
    const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
    const pairs = nodes.flatMap((a, i) => nodes.slice(i + 1).map((b) => [a, b] as const));
    return fc.record({
      nodes: fc.constant(nodes),
      links: fc.subarray(pairs).chain((ps) => fc.tuple(...ps.map(([a, b]) => fc.record({ cost: fc.integer({ min: 1, max: 4 }), stock: fc.integer({ min: 0, max: 6 }) }).map((x) => L(`${a}-${b}`, a, b, x.cost, x.stock))))),
    });
  })
  .map((t) => ({ ...t, version: 1 }) as StockedTopology);

test('property: the path is a real path and its (cost, stock) is the best over all simple paths; link order does not matter', () => {
  fc.assert(
    fc.property(arbTopology, fc.integer({ min: 0, max: 4 }), fc.infiniteStream(fc.nat()), (t, units, noise) => {
      const from = t.nodes[0]!;
      const to = t.nodes[t.nodes.length - 1]!;
      const p = widestShortest(t, from, to, units);
      const all = allPaths(t, from, to, units);
      if (all.length === 0) return assert.is(p, null);
      assert.ok(p);
      const bestCost = Math.min(...all.map((x) => x.cost));
      const bestStock = Math.max(...all.filter((x) => x.cost === bestCost).map((x) => x.stock));
      assert.is(p.cost, bestCost);
      assert.is(p.stock, bestStock);
      const seg = segmentOf('P', { nodes: p.nodes, links: p.links, version: 1 }, t);
      assert.is(seg.cost, p.cost);
      assert.is(seg.stock, p.stock);
      const it = noise[Symbol.iterator]();
      const shuffled = { ...t, links: [...t.links].map((l) => [it.next().value as number, l] as const).sort((a, b) => a[0] - b[0]).map((x) => x[1]) };
      assert.equal(widestShortest(shuffled, from, to, units), p);
    }),
    { numRuns: 400, seed: 3818 },
  );
});

const segA: Segment = { provider: 'qkdn-a', from: 'a1', to: 'gwn-a', nodes: ['a1', 'a2', 'gwn-a'], links: ['a1-a2', 'a2-g'], cost: 2, stock: 300, version: 3 };
const segB: Segment = { provider: 'qkdn-b', from: 'gwn-b', to: 'b9', nodes: null, links: null, cost: 3, stock: 200, version: 7 };
const qx = { qx: 'qx-ab', egress: 'gwn-a', ingress: 'gwn-b', cost: 1, stock: 150 };

test('segments join at the GWN pair: costs add, the stock is the narrowest part, the far segment stays opaque', () => {
  const j = joinSegments(segA, qx, segB);
  assert.is(j.cost, 6);
  assert.is(j.stock, 150);
  assert.is(j.destination.nodes, null);
  const bad = (f: () => unknown, why: RegExp) => assert.throws(f, (e: unknown) => e instanceof IwError && e.code === 'ERR_IW_SEGMENT_MISMATCH' && why.test(e.message));
  bad(() => joinSegments(segA, { ...qx, egress: 'gwn-a2' }, segB), /ends at gwn-a/);
  bad(() => joinSegments(segA, { ...qx, ingress: 'gwn-b2' }, segB), /starts at gwn-b/);
  bad(() => joinSegments(segA, qx, { ...segB, provider: 'qkdn-a' }), /same provider/);
  bad(() => joinSegments(segA, qx, { ...segB, nodes: ['gwn-b', 'a2', 'b9'], links: ['x', 'y'] }), /share a node/);
  bad(() => segmentOf('p', { nodes: ['A', 'D'], links: ['ab'], version: 1 }, diamond), /does not join/);
});

test('chooseJoin: the widest-shortest GWN pair with enough stock; the ETSI 020 status when none is left', () => {
  const segA2: Segment = { ...segA, to: 'gwn-a2', cost: 2, stock: 900 };
  const segB2: Segment = { ...segB, from: 'gwn-b2', cost: 3, stock: 900 };
  const qx2 = { qx: 'qx-ab2', egress: 'gwn-a2', ingress: 'gwn-b2', cost: 1, stock: 800 };
  const cands = [
    { source: segA, border: qx, destination: segB },
    { source: segA2, border: qx2, destination: segB2 },
    { source: segA, border: qx2, destination: segB2 }, // does not meet: skipped
  ];
  assert.is(chooseJoin(cands, 10).border.qx, 'qx-ab2'); // same cost, wider
  assert.is(chooseJoin([cands[0]!, { ...cands[1]!, destination: { ...segB2, cost: 9 } }], 10).border.qx, 'qx-ab'); // cheaper wins
  assert.is(chooseJoin(cands, 500).border.qx, 'qx-ab2');
  const status = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as NoInterworkingRouteError).status;
    }
    return 'none';
  };
  assert.is(status(() => chooseJoin(cands, 5000)), 'insufficient_key_material');
  assert.is(status(() => chooseJoin([cands[2]!], 1)), 'no_known_route');
});

test.run();
