/**
 * The control half of Y.3818 Figs 9 and 10 between two providers' controllers over a real pinned
 * mutual-TLS Cxi connection: hello, topology summary, segment requests per GWN pair, joining
 * (each side computing only its own segment), then a consistent reroute after a border link
 * degrades, pushed on both sides only after the commit.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCa, issue } from '../../pki/pki.js';
import { BorderEndpoint, type BorderConnection } from '../border/endpoint.js';
import { BorderFilter } from '../border/filter.js';
import { fingerprintOf } from '../border/pinning.js';
import { summarise, type ProviderTopology, type SharingPolicy } from '../border/policy.js';
import type { IwMessage } from '../messages.js';
import { RerouteRounds, type RerouteInput, type RerouteOutput } from './reroute.js';
import { chooseJoin, segmentOf, WidestShortestRouter, type BorderCrossing, type Segment } from './segments.js';
import type { CxiRouteRequest } from './route-request.js';
import type { CxiTopologySummary } from './topology-summary.js';
import { eventually } from '../../km/test-network.js';

// A: alice at a1; a1 - a2 - gwn-a (qx-ab to gwn-b) and a1 - a3 - gwn-a2 (qx-ab2 to gwn-b2).
const topoA: ProviderTopology = {
  provider: 'qkdn-a',
  network: {
    nodes: ['a1', 'a2', 'a3', 'gwn-a', 'gwn-a2'],
    links: [
      { id: 'a1-a2', ends: ['a1', 'a2'], cost: 1, stock: 800 },
      { id: 'a2-ga', ends: ['a2', 'gwn-a'], cost: 1, stock: 800 },
      { id: 'a1-a3', ends: ['a1', 'a3'], cost: 1, stock: 600 },
      { id: 'a3-ga2', ends: ['a3', 'gwn-a2'], cost: 1, stock: 600 },
    ],
    version: 5,
  },
  saes: new Map([['alice', 'a1']]),
  borders: [
    { node: 'gwn-a', peerProvider: 'qkdn-b', peerNode: 'gwn-b', qx: 'qx-ab', cost: 1, stock: 900 },
    { node: 'gwn-a2', peerProvider: 'qkdn-b', peerNode: 'gwn-b2', qx: 'qx-ab2', cost: 1, stock: 700 },
  ],
};
// B: bob at b1; gwn-b - b1 and gwn-b2 - b2 - b1.
const topoB: ProviderTopology = {
  provider: 'qkdn-b',
  network: {
    nodes: ['gwn-b', 'gwn-b2', 'b1', 'b2'],
    links: [
      { id: 'gb-b1', ends: ['gwn-b', 'b1'], cost: 1, stock: 500 },
      { id: 'gb2-b2', ends: ['gwn-b2', 'b2'], cost: 1, stock: 650 },
      { id: 'b2-b1', ends: ['b2', 'b1'], cost: 1, stock: 650 },
    ],
    version: 12,
  },
  saes: new Map([['bob', 'b1']]),
  borders: [
    { node: 'gwn-b', peerProvider: 'qkdn-a', peerNode: 'gwn-a', qx: 'qx-ab', cost: 1, stock: 900 },
    { node: 'gwn-b2', peerProvider: 'qkdn-a', peerNode: 'gwn-a2', qx: 'qx-ab2', cost: 1, stock: 700 },
  ],
};
const policyA: SharingPolicy = { provider: 'qkdn-a', peers: new Map([['qkdn-b', [{ sae: 'alice', rate: 10, bits: 256 }]]]) };
const policyB: SharingPolicy = { provider: 'qkdn-b', peers: new Map([['qkdn-a', [{ sae: 'bob', rate: 10, bits: 256 }]]]) };

const RELAY = '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a';
const endpoints: BorderEndpoint[] = [];
test.after(async () => {
  await Promise.all(endpoints.map((e) => e.close()));
});

function inbox() {
  const waiting: { pred: (m: IwMessage) => boolean; resolve: (m: IwMessage) => void }[] = [];
  const seen: IwMessage[] = [];
  return {
    push(m: IwMessage) {
      const i = waiting.findIndex((w) => w.pred(m));
      if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
      else seen.push(m);
    },
    next(pred: (m: IwMessage) => boolean): Promise<IwMessage> {
      const i = seen.findIndex(pred);
      if (i >= 0) return Promise.resolve(seen.splice(i, 1)[0]!);
      return new Promise((resolve) => waiting.push({ pred, resolve }));
    },
  };
}

test('two controllers join their own segments at the best GWN pair, then reroute together and push only after the commit', async () => {
  const [caA, caB] = await Promise.all([createCa('qkdn-a'), createCa('qkdn-b')]);
  const [ctlA, ctlB] = await Promise.all([issue(caA, { role: 'KME', id: 'ctl-a' }), issue(caB, { role: 'KME', id: 'ctl-b' })]);
  const routerB = new WidestShortestRouter(() => topoB.network);
  const pushes: { at: string; round: string; digest: string; order: number }[] = [];
  let order = 0;
  const roundsOf = (self: string) =>
    new RerouteRounds({
      self,
      participants: ['ctl-a', 'ctl-b'],
      timeoutMs: 20_000,
      graceMs: 5_000,
      // each controller checks the plan against its own network: its end of the Qx link must have stock
      evaluate: (plan) => {
        const topo = self === 'ctl-a' ? topoA : topoB;
        return plan.every((s) => topo.borders.some((b) => b.qx === s.qx && b.stock > 0)) ? { ok: true } : { ok: false, reason: 'no stock on that Qx link' };
      },
    });
  const rounds = { 'ctl-a': roundsOf('ctl-a'), 'ctl-b': roundsOf('ctl-b') };
  const drive = (self: 'ctl-a' | 'ctl-b', conn: BorderConnection, outs: RerouteOutput[]) => {
    for (const o of outs) {
      if (o.kind === 'send') conn.send(o.message.name, o.message.body as never);
      if (o.kind === 'push') pushes.push({ at: self, round: o.round, digest: Buffer.from(o.digest).toString('hex'), order: order++ });
    }
  };
  const isReroute = (m: IwMessage): m is IwMessage & RerouteInput => ['CxiReroutePropose', 'CxiRerouteVote', 'CxiRerouteCommit', 'CxiRerouteAbort'].includes(m.name);

  // controller-B: answers hellos and route requests, takes part in reroute rounds
  const epB = new BorderEndpoint({
    provider: 'qkdn-b',
    node: 'ctl-b',
    tls: ctlB,
    peers: [{ provider: 'qkdn-a', node: 'ctl-a', fingerprint: fingerprintOf(ctlA.cert), ca: caA.cert }],
    filters: new Map([['qkdn-a', new BorderFilter(topoB, policyB, 'qkdn-a')]]),
    ctx: 'border',
    serves: ['Cxi'],
    onMessage: async (conn, m) => {
      if (m.name === 'CxiHello') {
        conn.send('CxiHello', { controller: 'ctl-b', provider: 'qkdn-b', form: 'distributed', versions: [1], capabilities: ['summary', 'route', 'status', 'reroute'], borders: ['gwn-b', 'gwn-b2'], re: m.id });
        conn.send('CxiTopologySummary', summarise(topoB, policyB, 'qkdn-a', 1));
      } else if (m.name === 'CxiRouteRequest') {
        const req: CxiRouteRequest = m.body;
        const border = topoB.borders.find((b) => b.node === req.ingress)!;
        try {
          const route = await routerB.route({ relayId: req.relay, from: border.node, to: topoB.saes.get(req.target)!, units: req.keys, deadline: req.deadline, priority: req.priority, attempt: req.attempt, avoidLinks: [] });
          const seg = segmentOf('qkdn-b', route, topoB.network);
          conn.send('CxiRouteResponse', { re: m.id, request: req.request, status: 'ok', border: { local: border.node, peer: border.peerNode, qx: border.qx }, cost: seg.cost, stock: seg.stock, version: route.version });
        } catch {
          conn.send('CxiRouteResponse', { re: m.id, request: req.request, status: 'no_known_route' });
        }
      } else if (isReroute(m)) drive('ctl-b', conn, rounds['ctl-b'].receive(conn.peer.node, m, Date.now()));
    },
  });
  endpoints.push(epB);
  const { port } = await epB.listen();

  const fromB = inbox();
  const epA = new BorderEndpoint({
    provider: 'qkdn-a',
    node: 'ctl-a',
    tls: ctlA,
    peers: [{ provider: 'qkdn-b', node: 'ctl-b', fingerprint: fingerprintOf(ctlB.cert), ca: caB.cert, host: '127.0.0.1', port }],
    filters: new Map([['qkdn-b', new BorderFilter(topoA, policyA, 'qkdn-b')]]),
    ctx: 'border',
    serves: ['Cxi'],
    onMessage: (conn, m) => (isReroute(m) ? drive('ctl-a', conn, rounds['ctl-a'].receive(conn.peer.node, m, Date.now())) : fromB.push(m)),
  });
  endpoints.push(epA);
  const connA = await epA.connect('ctl-b');

  // hello and capabilities, then B's summary: bob is reachable through both of B's gateways
  const hello = await connA.request('CxiHello', { controller: 'ctl-a', provider: 'qkdn-a', form: 'centralized', versions: [1], capabilities: ['summary', 'route', 'status', 'reroute'], borders: ['gwn-a', 'gwn-a2'] });
  assert.is(hello.name === 'CxiHello' && hello.body.form, 'distributed');
  const sm = await fromB.next((m) => m.name === 'CxiTopologySummary');
  const summary = sm.body as CxiTopologySummary;
  assert.equal(summary.saes.map((s) => [s.sae, s.border, s.cost]), [['bob', 'gwn-b', 1], ['bob', 'gwn-b2', 2]]);
  for (const hidden of ['b2', 'gb-b1', 'gb2-b2', 'b2-b1']) assert.not.ok(JSON.stringify(summary).includes(`"${hidden}"`), hidden);

  // interworking route: A's own segments to each gateway, B's segment per ingress over Cxi, joined at the best pair
  const routerA = new WidestShortestRouter(() => topoA.network);
  const candidates: { source: Segment; border: BorderCrossing; destination: Segment }[] = [];
  for (const b of topoA.borders) {
    const local = segmentOf('qkdn-a', await routerA.route({ relayId: RELAY, from: 'a1', to: b.node, units: 100, deadline: 0, priority: 0, attempt: 0, avoidLinks: [] }), topoA.network);
    const answer = await connA.request('CxiRouteRequest', { request: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', relay: RELAY, initiator: 'alice', target: 'bob', keys: 100, bits: 256, deadline: 1_800_000_000_000, priority: 0, attempt: 0, avoid: [], ingress: b.peerNode });
    assert.ok(answer.name === 'CxiRouteResponse' && answer.body.status === 'ok');
    const r = answer.body as Required<typeof answer.body>;
    candidates.push({
      source: local,
      border: { qx: r.border.qx, egress: r.border.peer, ingress: r.border.local, cost: b.cost, stock: b.stock },
      destination: { provider: 'qkdn-b', from: r.border.local, to: 'bob', nodes: null, links: null, cost: r.cost, stock: r.stock, version: r.version },
    });
  }
  const joined = chooseJoin(candidates, 100);
  assert.is(joined.border.qx, 'qx-ab'); // 2 + 1 + 1 against 2 + 1 + 2
  assert.equal(joined.source.nodes, ['a1', 'a2', 'gwn-a']);
  assert.is(joined.destination.nodes, null); // B's inside stays B's

  // qx-ab degrades (its stock is gone at both ends): A proposes moving the relay to qx-ab2; both agree; both push
  const degraded = (t: ProviderTopology): ProviderTopology => ({ ...t, borders: t.borders.map((b) => (b.qx === 'qx-ab' ? { ...b, stock: 0 } : b)) });
  Object.assign(topoA, degraded(topoA));
  Object.assign(topoB, degraded(topoB));
  drive('ctl-a', connA, rounds['ctl-a'].propose([{ relay: RELAY, qx: 'qx-ab2', egress: 'gwn-a2', ingress: 'gwn-b2' }], Date.now(), '7e6d5c4b-3a29-4180-8f7e-6d5c4b3a2918'));
  await eventually(() => pushes.length >= 2, 20_000, 'both pushes');
  assert.equal(pushes.map((p) => p.at).sort(), ['ctl-a', 'ctl-b']);
  assert.is(pushes[0]!.digest, pushes[1]!.digest);
  assert.is(pushes[0]!.at, 'ctl-a', 'the proposer pushes as it commits; the voter only once the commit has arrived');

  // a plan onto the dead link is rejected by B: nobody pushes
  drive('ctl-a', connA, rounds['ctl-a'].propose([{ relay: RELAY, qx: 'qx-ab', egress: 'gwn-a', ingress: 'gwn-b' }], Date.now(), '8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b'));
  await eventually(() => rounds['ctl-a'].active === null, 20_000, 'the rejected round to end');
  assert.is(pushes.length, 2);
  connA.close();
});

test.run();
