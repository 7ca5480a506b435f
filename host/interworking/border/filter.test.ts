import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { BorderFilter } from './filter.js';
import { summarise, type ProviderTopology, type SharingPolicy } from './policy.js';
import { BorderLeakError, IwError } from '../errors.js';
import { CHANNELS, type BorderRefusedEvent } from '../diagnostics.js';
import { decodePayload, encodePayload, type IwBody, type IwMessageName } from '../messages.js';

// QKDN-A: a1 - a2 - gwn-a (Qx to B), a2 - a3 - gwn-a2 (Qx to a third provider C).
const A: ProviderTopology = {
  provider: 'qkdn-a',
  network: {
    nodes: ['a1', 'a2', 'a3', 'gwn-a', 'gwn-a2'],
    links: [
      { id: 'a1-a2', ends: ['a1', 'a2'], cost: 1, stock: 900 },
      { id: 'a2-ga', ends: ['a2', 'gwn-a'], cost: 1, stock: 400 },
      { id: 'a2-a3', ends: ['a2', 'a3'], cost: 1, stock: 700 },
      { id: 'a3-ga2', ends: ['a3', 'gwn-a2'], cost: 1, stock: 700 },
    ],
    version: 1,
  },
  saes: new Map([
    ['alice', 'a1'],
    ['carol', 'a3'],
    ['dave', 'gwn-a'],
  ]),
  borders: [
    { node: 'gwn-a', peerProvider: 'qkdn-b', peerNode: 'gwn-b', qx: 'qx-ab', cost: 1, stock: 300 },
    { node: 'gwn-a2', peerProvider: 'qkdn-c', peerNode: 'gwn-c', qx: 'qx-ac', cost: 1, stock: 300 },
  ],
};
const policy: SharingPolicy = {
  provider: 'qkdn-a',
  peers: new Map([
    ['qkdn-b', [{ sae: 'alice', rate: 10, bits: 256 }, { sae: 'dave', rate: 5, bits: 256 }]],
    ['qkdn-c', [{ sae: 'carol', rate: 1, bits: 128 }]],
  ]),
};

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) Object.values(v).forEach((x) => strings(x, out));
  return out;
}

test('the summary for B names only the border facing B, the shared SAEs and their KMs, with cost and stock', () => {
  const s = summarise(A, policy, 'qkdn-b', 9);
  assert.equal(s.borders, [{ node: 'gwn-a', peer: 'gwn-b', qx: 'qx-ab', cost: 1, stock: 300 }]);
  assert.equal(s.saes, [
    { sae: 'alice', km: 'a1', border: 'gwn-a', cost: 2, stock: 300, rate: 10, bits: 256 },
    { sae: 'dave', km: 'gwn-a', border: 'gwn-a', cost: 0, stock: 300, rate: 5, bits: 256 },
  ]);
  assert.equal(s.kms.map((k) => k.km), ['a1', 'gwn-a']);
  const seen = new Set(strings(s));
  for (const hidden of ['a2', 'a3', 'gwn-a2', 'a1-a2', 'a2-ga', 'qx-ac', 'carol', 'qkdn-c', 'gwn-c']) assert.not.ok(seen.has(hidden), hidden);
  const f = new BorderFilter(A, policy, 'qkdn-b');
  f.check('CxiTopologySummary', s);
  // the same summary would leak to C: alice is not shared with C, gwn-a does not face it
  assert.throws(() => new BorderFilter(A, policy, 'qkdn-c').check('CxiTopologySummary', s), (e: unknown) => e instanceof BorderLeakError);
});

test('a policy naming an SAE the provider does not serve, or a peer without a border, is a configuration error', () => {
  const bad: SharingPolicy = { provider: 'qkdn-a', peers: new Map([['qkdn-b', [{ sae: 'zed', rate: 1, bits: 8 }]]]) };
  assert.throws(() => summarise(A, bad, 'qkdn-b', 1), (e: unknown) => e instanceof IwError && e.code === 'ERR_IW_CONFIG');
  assert.throws(() => summarise(A, policy, 'qkdn-z', 1), (e: unknown) => e instanceof IwError && e.code === 'ERR_IW_CONFIG');
});

test('the filter refuses, counts and publishes every kind of leak; nothing refused is encoded', () => {
  const f = new BorderFilter(A, policy, 'qkdn-b');
  const events: BorderRefusedEvent[] = [];
  const on = (m: unknown) => events.push(m as BorderRefusedEvent);
  subscribe(CHANNELS.borderRefused, on);
  const refuse = <N extends IwMessageName>(name: N, body: IwBody<N>, kind: string, path: string) =>
    assert.throws(() => f.check(name, body), (e: unknown) => e instanceof BorderLeakError && e.kind === kind && e.path === path);
  try {
    refuse('CxiStatus', { provider: 'qkdn-a', seq: 1, at: 1, borders: [{ qx: 'a2-a3', state: 'down', stock: 0, rate: 0 }], saes: [] }, 'internal-link', 'borders[0].qx');
    refuse('CxiStatus', { provider: 'qkdn-a', seq: 1, at: 1, borders: [{ qx: 'qx-ac', state: 'down', stock: 0, rate: 0 }], saes: [] }, 'internal-link', 'borders[0].qx');
    refuse('CxiRouteResponse', { re: 1, request: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', status: 'ok', border: { local: 'gwn-a2', peer: 'gwn-b', qx: 'qx-ab' }, cost: 1, stock: 1, version: 1 }, 'internal-node', 'border.local');
    refuse('MxiFault', { fault: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', reporter: 'xlmo-a', source: 'KMLM', kind: 'relay_failure', severity: 'major', at: 1, detail: 'relay stuck at a3.' }, 'internal-node', 'detail');
    const relay = { relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', qx: 'qx-ab', targets: ['bob'], keys: ['11111111-2222-4333-8444-555555555555'], bits: 64, pads: ['8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a'], ct: new Uint8Array(8), deadline: 1, attempt: 0 };
    refuse('Kxi1KeyRelay', { ...relay, initiator: 'carol' }, 'unshared-sae', 'initiator');
    refuse('Kxi1Ack', { re: 1, status: 'server_side_general_error', reason: 'key was 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b' }, 'key-material', 'reason');
    refuse('Kxi1Ack', { re: 1, status: 'server_side_general_error', reason: 'key=n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' }, 'key-material', 'reason');
    assert.equal(f.counts().refused, { 'internal-node': 2, 'internal-link': 2, 'key-material': 2, 'unshared-sae': 1 });
    assert.is(events.length, 7);
    assert.equal(events[0], { provider: 'qkdn-a', peer: 'qkdn-b', message: 'CxiStatus', kind: 'internal-link', path: 'borders[0].qx' });
    // what may cross does: the relayed ciphertext, shared SAEs, the border facing B, the peer's own names
    const wire = f.check('Kxi1KeyRelay', { ...relay, initiator: 'alice', ct: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) });
    assert.equal(wire.ct, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    f.check('Kxi1Ack', { re: 1, status: 'no_known_route', reason: 'bob is not reachable from gwn-a' });
    assert.is(f.counts().passed, 2);
  } finally {
    unsubscribe(CHANNELS.borderRefused, on);
  }
});

// Random providers: nodes n0..nk, random links, SAEs on random nodes, gateways towards two peers.
const arbProvider = fc
  .record({
    n: fc.integer({ min: 2, max: 12 }),
    linkBits: fc.array(fc.boolean(), { minLength: 66, maxLength: 66 }),
    saeNodes: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
    gwB: fc.nat(),
    gwC: fc.nat(),
    shareB: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    stocks: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 66, maxLength: 66 }),
  })
  .map(({ n, linkBits, saeNodes, gwB, gwC, shareB, stocks }) => {
    const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
    const links = [];
    let k = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++, k++) if (linkBits[k % linkBits.length] || j === i + 1) links.push({ id: `l${i}-${j}`, ends: [nodes[i]!, nodes[j]!] as const, cost: 1 + (k % 3), stock: stocks[k % stocks.length]! });
    const saes = new Map(saeNodes.map((x, i) => [`s${i}`, nodes[x % n]!]));
    const topology: ProviderTopology = {
      provider: 'pa',
      network: { nodes, links, version: 1 },
      saes,
      borders: [
        { node: nodes[gwB % n]!, peerProvider: 'pb', peerNode: 'gb', qx: 'qx-b', cost: 1, stock: 500 },
        { node: nodes[gwC % n]!, peerProvider: 'pc', peerNode: 'gc', qx: 'qx-c', cost: 1, stock: 500 },
      ],
    };
    const shared = [...saes.keys()].filter((_, i) => shareB[i]);
    const pol: SharingPolicy = { provider: 'pa', peers: new Map([['pb', shared.map((sae) => ({ sae, rate: 1, bits: 256 }))]]) };
    return { topology, policy: pol, shared };
  });

test('property: over random topologies and policies, the summary passes the filter and names nothing internal', () => {
  fc.assert(
    fc.property(arbProvider, ({ topology, policy: pol, shared }) => {
      const s = summarise(topology, pol, 'pb', 1);
      new BorderFilter(topology, pol, 'pb').check('CxiTopologySummary', s);
      // independently of the filter: what the summary may name
      const gw = topology.borders.find((b) => b.peerProvider === 'pb')!;
      const allowed = new Set(['pa', gw.node, gw.peerNode, gw.qx, ...shared, ...shared.map((x) => topology.saes.get(x)!)]);
      for (const x of strings(s)) assert.ok(allowed.has(x), `summary names ${x}`);
      // and it survives the wire unchanged
      const m = decodePayload(encodePayload('CxiTopologySummary', 1, s));
      assert.equal(m.body, s);
    }),
    { numRuns: 300, seed: 3818 },
  );
});

test('property: a message naming any internal node, internal link or unshared SAE anywhere is refused', () => {
  fc.assert(
    fc.property(arbProvider, fc.nat(), fc.constantFrom('status.qx', 'status.sae', 'fault.detail', 'fault.qx', 'ack.reason', 'supply.master'), ({ topology, policy: pol, shared }, pick, where) => {
      const gw = topology.borders.find((b) => b.peerProvider === 'pb')!;
      const visible = new Set([gw.node, gw.qx, ...shared, ...shared.map((x) => topology.saes.get(x)!)]);
      const hidden = [
        ...topology.network.nodes.map((n) => [n, 'internal-node'] as const),
        ...topology.network.links.map((l) => [l.id, 'internal-link'] as const),
        ['qx-c', 'internal-link'] as const,
        ...[...topology.saes.keys()].map((s) => [s, 'unshared-sae'] as const),
      ].filter(([n]) => !visible.has(n));
      if (hidden.length === 0) return;
      const [name, kind] = hidden[pick % hidden.length]!;
      const f = new BorderFilter(topology, pol, 'pb');
      const attempt = (): unknown => {
        switch (where) {
          case 'status.qx':
            return f.check('CxiStatus', { provider: 'pa', seq: 1, at: 1, borders: [{ qx: name, state: 'up', stock: 1, rate: 1 }], saes: [] });
          case 'status.sae':
            return f.check('CxiStatus', { provider: 'pa', seq: 1, at: 1, borders: [], saes: [{ sae: name, reachable: true, stock: 1 }] });
          case 'fault.detail':
            return f.check('MxiFault', { fault: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', reporter: 'x', source: 'QLM', kind: 'border_link_down', severity: 'minor', at: 1, detail: `trouble near ${name}, retrying` });
          case 'fault.qx':
            return f.check('MxiFault', { fault: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', reporter: 'x', source: 'QLM', kind: 'border_link_down', severity: 'minor', at: 1, qx: name });
          case 'ack.reason':
            return f.check('Kxi1Ack', { re: 1, status: 'timeout', reason: `${name}: no answer` });
          default:
            return f.check('Kxi2KeySupplyNotification', { supply: '0b5e9c1d-2f3a-4b6c-8d7e-9f0a1b2c3d4e', master: name, masterProvider: 'pa', slaves: ['bob'], slaveProvider: 'pb', size: 256, keys: [{ id: '11111111-2222-4333-8444-555555555555', relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a' }] });
        }
      };
      assert.throws(attempt, (e: unknown) => e instanceof BorderLeakError && e.kind === kind);
      assert.is(Object.values(f.counts().refused).reduce((a, b) => a + b, 0), 1);
    }),
    { numRuns: 500, seed: 3818 },
  );
});

test.run();
