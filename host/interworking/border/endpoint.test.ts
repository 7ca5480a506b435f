import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createCa, issue, type CaMaterial, type PemPair } from '../../pki/pki.js';
import { BorderEndpoint, type BorderConnection } from './endpoint.js';
import { fingerprintOf, type BorderPeer } from './pinning.js';
import { BorderFilter } from './filter.js';
import { summarise, type ProviderTopology, type SharingPolicy } from './policy.js';
import { BorderLeakError, IwError, PeerPinningError } from '../errors.js';
import { CHANNELS, type PeerRefusedEvent } from '../diagnostics.js';
import { decodePayload, type IwMessage } from '../messages.js';
import { generateManagerKeys, MxiSealer } from '../mxi/seal.js';
import { eventually as settle } from '../../km/test-network.js';

const eventually = (cond: () => boolean, what: string) => settle(cond, 20_000, what);

// Provider A: a1 - a2 - gwn-a, SAEs alice (shared with B) and carol (not shared). Provider B: gwn-b only.
const topoA: ProviderTopology = {
  provider: 'qkdn-a',
  network: {
    nodes: ['a1', 'a2', 'gwn-a'],
    links: [
      { id: 'a1-a2', ends: ['a1', 'a2'], cost: 1, stock: 500 },
      { id: 'a2-ga', ends: ['a2', 'gwn-a'], cost: 1, stock: 300 },
    ],
    version: 1,
  },
  saes: new Map([
    ['alice', 'a1'],
    ['carol', 'a2'],
  ]),
  borders: [{ node: 'gwn-a', peerProvider: 'qkdn-b', peerNode: 'gwn-b', qx: 'qx-ab', cost: 1, stock: 200 }],
};
const policyA: SharingPolicy = { provider: 'qkdn-a', peers: new Map([['qkdn-b', [{ sae: 'alice', rate: 10, bits: 256 }]]]) };
const topoB: ProviderTopology = {
  provider: 'qkdn-b',
  network: { nodes: ['gwn-b'], links: [], version: 1 },
  saes: new Map([['bob', 'gwn-b']]),
  borders: [{ node: 'gwn-b', peerProvider: 'qkdn-a', peerNode: 'gwn-a', qx: 'qx-ab', cost: 1, stock: 200 }],
};
const policyB: SharingPolicy = { provider: 'qkdn-b', peers: new Map([['qkdn-a', [{ sae: 'bob', rate: 10, bits: 256 }]]]) };

let caA: CaMaterial, caB: CaMaterial, caC: CaMaterial;
let gwnA: PemPair, gwnB: PemPair, gwnC: PemPair, rogueB: PemPair, rogueA: PemPair;
const endpoints: BorderEndpoint[] = [];

test.before(async () => {
  [caA, caB, caC] = await Promise.all([createCa('qkdn-a'), createCa('qkdn-b'), createCa('qkdn-c')]);
  [gwnA, gwnB, gwnC, rogueB, rogueA] = await Promise.all([
    issue(caA, { role: 'KME', id: 'gwn-a' }),
    issue(caB, { role: 'KME', id: 'gwn-b' }),
    issue(caC, { role: 'KME', id: 'gwn-b' }), // a third provider's node claiming to be gwn-b
    issue(caB, { role: 'KME', id: 'gwn-b' }), // B's CA, but not the pinned certificate
    issue(caA, { role: 'KME', id: 'gwn-a' }),
  ]);
});
test.after(async () => {
  await Promise.all(endpoints.map((e) => e.close()));
});

const pinB = (): BorderPeer => ({ provider: 'qkdn-b', node: 'gwn-b', fingerprint: fingerprintOf(gwnB.cert), ca: caB.cert });
const pinA = (port: number, cert = gwnA.cert): BorderPeer => ({ provider: 'qkdn-a', node: 'gwn-a', fingerprint: fingerprintOf(cert), ca: caA.cert, host: '127.0.0.1', port });


/** GWN-A's Kxi-1/Kxi-2/Cxi/Mxi endpoint, answering hellos and relays, recording all it sends and receives. */
async function startA(tls: PemPair = gwnA) {
  const recording: { dir: 'out' | 'in'; payload: Buffer }[] = [];
  const received: IwMessage[] = [];
  const ep = new BorderEndpoint({
    provider: 'qkdn-a',
    node: 'gwn-a',
    tls,
    peers: [pinB()],
    filters: new Map([['qkdn-b', new BorderFilter(topoA, policyA, 'qkdn-b')]]),
    ctx: 'border',
    serves: ['Kxi-1', 'Kxi-2', 'Cxi', 'Mxi'],
    tap: (dir, _peer, payload) => recording.push({ dir, payload: Buffer.from(payload) }),
    onMessage: (conn: BorderConnection, m: IwMessage) => {
      received.push(m);
      if (m.name === 'Kxi1Hello' && m.body.re === undefined) conn.send('Kxi1Hello', { node: 'gwn-a', provider: 'qkdn-a', boot: '6f1c2a3b-4d5e-4f60-8172-839495a6b7c8', versions: [1], nonce: new Uint8Array(16).fill(7), re: m.id });
      if (m.name === 'Kxi1KeyRelay') conn.send('Kxi1Ack', { re: m.id, status: m.body.targets.includes('alice') ? 'ok' : 'target_sae_id_not_recognized' });
    },
  });
  endpoints.push(ep);
  const addr = await ep.listen();
  return { ep, port: addr.port, recording, received };
}

function endpointB(tls: PemPair, port: number, pinnedCert = gwnA.cert) {
  const ep = new BorderEndpoint({
    provider: 'qkdn-b',
    node: 'gwn-b',
    tls,
    peers: [pinA(port, pinnedCert)],
    filters: new Map([['qkdn-a', new BorderFilter(topoB, policyB, 'qkdn-a')]]),
    ctx: 'border',
    serves: ['Kxi-1', 'Kxi-2', 'Cxi', 'Mxi'],
    onMessage: () => {},
  });
  endpoints.push(ep);
  return ep;
}

const relay = {
  relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a',
  qx: 'qx-ab',
  initiator: 'bob',
  targets: ['alice'],
  keys: ['11111111-2222-4333-8444-555555555555'],
  bits: 64,
  pads: ['8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a'],
  ct: Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]),
  deadline: 1_800_000_000_000,
  attempt: 0,
};

test('pinned peers of two providers with their own CAs talk Kxi-1 over mutual TLS; the ciphertext arrives intact', async () => {
  const a = await startA();
  const b = endpointB(gwnB, a.port);
  const conn = await b.connect('gwn-a');
  const hello = await conn.request('Kxi1Hello', { node: 'gwn-b', provider: 'qkdn-b', boot: '0b5e9c1d-2f3a-4b6c-8d7e-9f0a1b2c3d4e', versions: [1], nonce: new Uint8Array(16).fill(1) });
  assert.is(hello.name, 'Kxi1Hello');
  assert.is(hello.name === 'Kxi1Hello' && hello.body.provider, 'qkdn-a');
  const ack = await conn.request('Kxi1KeyRelay', relay);
  assert.equal(ack.name === 'Kxi1Ack' && ack.body.status, 'ok');
  const got = a.received.find((m) => m.name === 'Kxi1KeyRelay');
  assert.equal(got?.name === 'Kxi1KeyRelay' && got.body.ct, relay.ct);
  assert.is(a.ep.refusals().size, 0);
  conn.close();
});

test('a third provider’s GWN, an unpinned certificate of the right CA and a hello naming someone else are refused, counted and published', async () => {
  const a = await startA();
  const events: PeerRefusedEvent[] = [];
  const on = (m: unknown) => events.push(m as PeerRefusedEvent);
  subscribe(CHANNELS.peerRefused, on);
  try {
    // C's CA is unknown to A: the handshake fails (A may close before the client notices; either way no connection)
    const c = endpointB(gwnC, a.port);
    await c.connect('gwn-a').then(
      (conn) => eventually(() => conn.closed, 'A to drop C'),
      () => undefined,
    );
    await eventually(() => (a.ep.refusals().get('ERR_IW_PEER_NOT_PINNED') ?? 0) >= 1, 'refusal of C');
    // B's CA, but not the pinned certificate
    const rogue = endpointB(rogueB, a.port);
    await rogue.connect('gwn-a').then(
      (conn) => eventually(() => conn.closed, 'A to drop the rogue'),
      () => undefined,
    );
    await eventually(() => (a.ep.refusals().get('ERR_IW_PEER_NOT_PINNED') ?? 0) >= 2, 'refusal of the unpinned certificate');
    assert.ok(events.some((e) => e.fingerprint === fingerprintOf(rogueB.cert)), 'the refused fingerprint is published');
    // the pinned B, saying it is C in its hello
    const b = endpointB(gwnB, a.port);
    const conn = await b.connect('gwn-a');
    conn.send('Kxi1Hello', { node: 'gwn-b', provider: 'qkdn-c', boot: '0b5e9c1d-2f3a-4b6c-8d7e-9f0a1b2c3d4e', versions: [1], nonce: new Uint8Array(16) });
    await eventually(() => conn.closed, 'A to close the lying peer');
    assert.is(a.ep.refusals().get('ERR_IW_PEER_MISMATCH'), 1);
    assert.not.ok(a.received.some((m) => m.name === 'Kxi1Hello'), 'nothing of a refused peer reaches the KMA');
    assert.ok(events.length >= 3);
  } finally {
    unsubscribe(CHANNELS.peerRefused, on);
  }
});

test('the dialling side pins too: a server with an unpinned certificate of the right CA is refused', async () => {
  const a = await startA(rogueA);
  const b = endpointB(gwnB, a.port);
  try {
    await b.connect('gwn-a');
    assert.unreachable('connected to an unpinned server');
  } catch (e) {
    assert.instance(e, PeerPinningError);
    assert.is((e as PeerPinningError).code, 'ERR_IW_PEER_NOT_PINNED');
  }
  assert.is(b.refusals().get('ERR_IW_PEER_NOT_PINNED'), 1);
});

test('a message of the wrong context or of a reference point the endpoint does not serve closes the connection', async () => {
  const a = await startA();
  const iwnB = new BorderEndpoint({
    provider: 'qkdn-b',
    node: 'gwn-b',
    tls: gwnB,
    peers: [pinA(a.port)],
    filters: new Map([['qkdn-a', new BorderFilter(topoB, policyB, 'qkdn-a')]]),
    ctx: 'iwn',
    serves: ['Kxi-1'],
    onMessage: () => {},
  });
  endpoints.push(iwnB);
  const conn = await iwnB.connect('gwn-a');
  assert.throws(() => conn.send('CxiStatus', { provider: 'qkdn-b', seq: 1, at: 1, borders: [], saes: [] }), (e: unknown) => e instanceof IwError && e.code === 'ERR_IW_CONFIG');
  conn.send('Kxi1KeyRelay', relay); // Kxi-1' on a border endpoint
  await eventually(() => conn.closed, 'A to close');
  assert.is(a.ep.refusals().get('ERR_IW_DECODE'), 1);
});

test("inside an IWN: KM-A and KM-B, each certified by its own provider's CA, speak Kxi-1' (ctx IWN) over the same pinned mutual TLS", async () => {
  const kmA = await issue(caA, { role: 'KME', id: 'iwn-km-a' });
  const kmB = await issue(caB, { role: 'KME', id: 'iwn-km-b' });
  const got: IwMessage[] = [];
  const a = new BorderEndpoint({
    provider: 'qkdn-a',
    node: 'iwn-km-a',
    tls: kmA,
    peers: [{ provider: 'qkdn-b', node: 'iwn-km-b', fingerprint: fingerprintOf(kmB.cert), ca: caB.cert }],
    filters: new Map([['qkdn-b', new BorderFilter(topoA, policyA, 'qkdn-b')]]),
    ctx: 'iwn',
    serves: ['Kxi-1', 'Kxi-2'],
    onMessage: (conn, m) => {
      got.push(m);
      if (m.name === 'Kxi1KeyRelay') conn.send('Kxi1Ack', { re: m.id, status: 'ok' });
    },
  });
  endpoints.push(a);
  const { port } = await a.listen();
  const b = new BorderEndpoint({
    provider: 'qkdn-b',
    node: 'iwn-km-b',
    tls: kmB,
    peers: [{ provider: 'qkdn-a', node: 'iwn-km-a', fingerprint: fingerprintOf(kmA.cert), ca: caA.cert, host: '127.0.0.1', port }],
    filters: new Map([['qkdn-a', new BorderFilter(topoB, policyB, 'qkdn-a')]]),
    ctx: 'iwn',
    serves: ['Kxi-1', 'Kxi-2'],
    onMessage: () => {},
  });
  endpoints.push(b);
  const conn = await b.connect('iwn-km-a');
  const ack = await conn.request('Kxi1KeyRelay', relay);
  assert.ok(ack.name === 'Kxi1Ack' && ack.body.status === 'ok' && ack.ctx === 'iwn');
  assert.is(got[0]?.ctx, 'iwn');
  conn.close();
});

test('border recording: nothing internal, no unshared SAE and no bytes but relayed ciphertext and sealed Mxi cross; a leak is refused before the wire', async () => {
  const a = await startA();
  const b = endpointB(gwnB, a.port);
  // A's side of the connection B dials: everything A's layers would send goes through it
  const aSide = new Promise<BorderConnection>((resolve) => a.ep.once('connection', resolve));
  const fromB = await b.connect('gwn-a');
  const conn = await aSide;
  const filterA = new BorderFilter(topoA, policyA, 'qkdn-b');
  conn.send('CxiTopologySummary', summarise(topoA, policyA, 'qkdn-b', 1));
  conn.send('CxiStatus', { provider: 'qkdn-a', seq: 1, at: 1, borders: [{ qx: 'qx-ab', state: 'up', stock: 200, rate: 1000 }], saes: [{ sae: 'alice', reachable: true, stock: 200 }] });
  conn.send('Kxi1KeyRelay', { ...relay, initiator: 'alice', targets: ['bob'] });
  conn.send('Kxi2KeySupplyNotification', { supply: '0b5e9c1d-2f3a-4b6c-8d7e-9f0a1b2c3d4e', master: 'alice', masterProvider: 'qkdn-a', slaves: ['bob'], slaveProvider: 'qkdn-b', size: 64, keys: [{ id: relay.keys[0]!, relay: relay.relay }] });
  const mgrA = generateManagerKeys('mgr-a');
  const mgrB = generateManagerKeys('mgr-b');
  const sealer = new MxiSealer(mgrA, new Map([['mgr-b', mgrB.publicKey]]));
  conn.send('MxiSealed', sealer.seal('mgr-b', 'MxiFault', { fault: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', reporter: 'xlmo-a', source: 'KMLM', kind: 'relay_failure', severity: 'major', at: 1, qx: 'qx-ab' }, filterA));
  const leaks = [
    () => conn.send('CxiStatus', { provider: 'qkdn-a', seq: 2, at: 2, borders: [{ qx: 'a2-ga', state: 'down', stock: 0, rate: 0 }], saes: [] }),
    () => conn.send('Kxi1KeyRelay', { ...relay, initiator: 'carol', targets: ['bob'] }),
    () => conn.send('Kxi1Ack', { re: 1, status: 'timeout', reason: 'a2 did not answer' }),
  ];
  for (const leak of leaks) assert.throws(leak, (e: unknown) => e instanceof BorderLeakError);
  await eventually(() => a.recording.filter((r) => r.dir === 'out').length >= 5, 'A’s messages on the wire');
  const out = a.recording.filter((r) => r.dir === 'out').map((r) => decodePayload(r.payload));
  const internal = new Set(['a2', 'a1-a2', 'a2-ga', 'carol']); // a1 serves alice, shared with B: it may be named
  const walk = (v: unknown, path: string, name: string): void => {
    if (typeof v === 'string') assert.not.ok(internal.has(v) || [...internal].some((n) => v.split(/[^A-Za-z0-9._~-]+/).includes(n)), `${name}.${path} = ${v}`);
    else if (v instanceof Uint8Array) assert.ok((name === 'Kxi1KeyRelay' && path === 'ct') || name === 'Kxi1Hello' || name === 'MxiSealed', `bytes at ${name}.${path}`);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`, name));
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k, name);
  };
  for (const m of out) walk(m.body, '', m.name);
  assert.equal(out.map((m) => m.name), ['CxiTopologySummary', 'CxiStatus', 'Kxi1KeyRelay', 'Kxi2KeySupplyNotification', 'MxiSealed']);
  // the summary does say where alice is reachable, through the border
  const summary = out.find((m) => m.name === 'CxiTopologySummary');
  assert.ok(summary?.name === 'CxiTopologySummary' && summary.body.saes.some((s) => s.sae === 'alice' && s.border === 'gwn-a'));
  fromB.close();
});

test.run();
