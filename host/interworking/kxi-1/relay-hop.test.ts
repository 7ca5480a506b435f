import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCa, issue } from '../../pki/pki.js';
import { RelayHopHandlers, type RelayHopHandler } from '../../km/relay-hop.js';
import type { KeyRelay } from '../../km/kx/key-relay.js';
import { BorderEndpoint, type BorderConnection } from '../border/endpoint.js';
import { BorderFilter } from '../border/filter.js';
import { fingerprintOf } from '../border/pinning.js';
import type { ProviderTopology, SharingPolicy } from '../border/policy.js';
import type { IwMessage } from '../messages.js';
import { Kxi1RelayHop, type RelayContext } from './relay-hop.js';
import { Kxi1Sessions } from './session.js';

const topoA: ProviderTopology = {
  provider: 'qkdn-a',
  network: { nodes: ['a1', 'gwn-a'], links: [{ id: 'a1-ga', ends: ['a1', 'gwn-a'], cost: 1, stock: 100 }], version: 1 },
  saes: new Map([
    ['alice', 'a1'],
    ['carol', 'a1'],
  ]),
  borders: [{ node: 'gwn-a', peerProvider: 'qkdn-b', peerNode: 'gwn-b', qx: 'qx-ab', cost: 1, stock: 100 }],
};
const policyA: SharingPolicy = { provider: 'qkdn-a', peers: new Map([['qkdn-b', [{ sae: 'alice', rate: 10, bits: 256 }]]]) };
const topoB: ProviderTopology = {
  provider: 'qkdn-b',
  network: { nodes: ['gwn-b'], links: [], version: 1 },
  saes: new Map([['bob', 'gwn-b']]),
  borders: [{ node: 'gwn-b', peerProvider: 'qkdn-a', peerNode: 'gwn-a', qx: 'qx-ab', cost: 1, stock: 100 }],
};
const policyB: SharingPolicy = { provider: 'qkdn-b', peers: new Map([['qkdn-a', [{ sae: 'bob', rate: 10, bits: 256 }]]]) };

const unit = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const rel = (i: number) => `3d2c1b0a-9f8e-4d7c-8b6a-${i.toString(16).padStart(12, '0')}`;
const key = (i: number) => `11111111-2222-4333-8444-${i.toString(16).padStart(12, '0')}`;
// The hop the key manager hands over at GWN-A: route a1 → gwn-a → gwn-b, second hop, padded with Qx units.
const hop = (i: number, pads: number[]): KeyRelay => ({ relay: rel(i), route: ['a1', 'gwn-a', 'gwn-b'], hop: 1, keys: [key(i)], bits: 64, pads: pads.map(unit), ct: Uint8Array.from([i, 2, 3, 4, 5, 6, 7, 8]) });

const endpoints: BorderEndpoint[] = [];
test.after(async () => {
  await Promise.all(endpoints.map((e) => e.close()));
});

test('a border hop goes out as Kxi1KeyRelay without the internal route; the peer’s ETSI 020 answers become hop outcomes', async () => {
  const [caA, caB] = await Promise.all([createCa('qkdn-a'), createCa('qkdn-b')]);
  const [gwnA, gwnB] = await Promise.all([issue(caA, { role: 'KME', id: 'gwn-a' }), issue(caB, { role: 'KME', id: 'gwn-b' })]);
  const holds = (id: string) => parseInt(id.slice(-12), 16) < 50;
  const sessionsB = new Kxi1Sessions({ qx: 'qx-ab', holdsUnit: holds });
  const gotB: IwMessage[] = [];
  const epB = new BorderEndpoint({
    provider: 'qkdn-b',
    node: 'gwn-b',
    tls: gwnB,
    peers: [{ provider: 'qkdn-a', node: 'gwn-a', fingerprint: fingerprintOf(gwnA.cert), ca: caA.cert }],
    filters: new Map([['qkdn-a', new BorderFilter(topoB, policyB, 'qkdn-a')]]),
    ctx: 'border',
    serves: ['Kxi-1'],
    onMessage: (conn, m) => {
      gotB.push(m);
      if (m.name === 'Kxi1KeyRelay') {
        const { duplicate: _d, ...answer } = sessionsB.receive(m.body);
        conn.send('Kxi1Ack', { re: m.id, ...answer });
      }
    },
  });
  endpoints.push(epB);
  const { port } = await epB.listen();
  const epA = new BorderEndpoint({
    provider: 'qkdn-a',
    node: 'gwn-a',
    tls: gwnA,
    peers: [{ provider: 'qkdn-b', node: 'gwn-b', fingerprint: fingerprintOf(gwnB.cert), ca: caB.cert, host: '127.0.0.1', port }],
    filters: new Map([['qkdn-b', new BorderFilter(topoA, policyA, 'qkdn-b')]]),
    ctx: 'border',
    serves: ['Kxi-1'],
    onMessage: () => {},
  });
  endpoints.push(epA);
  let conn: BorderConnection | null = await epA.connect('gwn-b');
  const contexts = new Map<string, RelayContext>();
  const ctx = (i: number, initiator = 'alice') => contexts.set(rel(i), { initiator, targets: ['bob'], deadline: 1_800_000_000_000, attempt: 0 });
  const sessionsA = new Kxi1Sessions({ qx: 'qx-ab', holdsUnit: (id) => parseInt(id.slice(-12), 16) < 100 }); // A holds more of the Qx units than B has received
  const kxi1 = new Kxi1RelayHop({ qx: 'qx-ab', sessions: sessionsA, connection: () => conn, context: (r) => contexts.get(r) });

  // the key manager picks the handler by next hop: gwn-b is served by Kxi-1, anything else by its default
  const kxDefault: RelayHopHandler = { send: async () => ({ ok: false, status: 'ERR_KM_CONFIG', reason: 'the Kx default', answered: false }) };
  const handlers = new RelayHopHandlers(kxDefault);
  handlers.register('gwn-b', kxi1);
  assert.is(handlers.for('gwn-b'), kxi1);
  assert.is(handlers.for('a1'), kxDefault);

  ctx(1);
  assert.equal(await handlers.for('gwn-b').send('gwn-b', hop(1, [1, 2]), 10_000), { ok: true });
  const crossed = gotB[0];
  assert.ok(crossed?.name === 'Kxi1KeyRelay');
  assert.equal(Object.keys(crossed.body).sort(), ['attempt', 'bits', 'ct', 'deadline', 'initiator', 'keys', 'pads', 'qx', 'relay', 'targets']);
  assert.not.ok(JSON.stringify(crossed.body).includes('a1'), 'the internal route stays inside');
  assert.equal(crossed.body.ct, hop(1, [1, 2]).ct);
  assert.is(sessionsA.outbound(rel(1)), 'accepted');
  assert.is(sessionsB.inbound(rel(1)), 'held');

  // a pad A already used: refused before anything crosses
  ctx(2);
  const reuse = await kxi1.send('gwn-b', hop(2, [2, 3]), 10_000);
  assert.equal(reuse.ok === false && [reuse.status, reuse.answered], ['ERR_KM_KEY_NOT_AVAILABLE', false]);
  assert.is(gotB.length, 1);
  // a pad B does not hold: B answers key_not_present, which the key manager sees as an unknown key
  ctx(3);
  const missing = await kxi1.send('gwn-b', hop(3, [60]), 10_000);
  assert.equal(missing.ok === false && [missing.status, missing.answered], ['ERR_KM_KEY_UNKNOWN', true]);
  // B used the pad for another relay already (sessions out of step): insufficient key material
  sessionsB.receive({ relay: rel(9), qx: 'qx-ab', initiator: 'alice', targets: ['bob'], keys: [key(9)], bits: 64, pads: [unit(7)], ct: new Uint8Array(8), deadline: 1, attempt: 0 });
  ctx(4);
  const stale = await kxi1.send('gwn-b', hop(4, [7]), 10_000);
  assert.equal(stale.ok === false && stale.status, 'ERR_KM_INSUFFICIENT_KEYS');
  // an SAE not shared with B: the border filter refuses, nothing crosses
  ctx(5, 'carol');
  const leak = await kxi1.send('gwn-b', hop(5, [8]), 10_000);
  assert.equal(leak.ok === false && [leak.status, leak.answered], ['ERR_KM_NOT_PERMITTED', false]);
  assert.is(gotB.length, 3);
  // no context, a hop without ciphertext, no connection
  assert.equal((await kxi1.send('gwn-b', hop(6, [9]), 10_000)).ok, false);
  ctx(7);
  const first = await kxi1.send('gwn-b', { relay: rel(7), route: ['gwn-a', 'gwn-b'], hop: 0, keys: [key(7)], bits: 64, units: [unit(10)] }, 10_000);
  assert.equal(first.ok === false && first.status, 'ERR_KM_CONFIG');
  conn.close();
  conn = null;
  ctx(8);
  const down = await kxi1.send('gwn-b', hop(8, [11]), 10_000);
  assert.equal(down.ok === false && [down.status, down.answered], ['ERR_KM_PEER_UNREACHABLE', false]);
});

test.run();
