/**
 * Real node processes (`qkdn-edge node`) on loopback, in a line and in a ring, with simulated
 * links: SAEs on nodes that share no link get identical keys through ETSI GS QKD 014, the keys
 * having been relayed hop by hop over Kx.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDemoNetwork, type DemoNetwork } from '../../host/node/demo-network.js';

// A down node is refused at once; these only keep a loaded CI machine's stalls from failing a supply.
const km = { peerTimeoutMs: 20_000, relayHopTimeoutMs: 15_000 };
// Node processes from a one-file build of the tree: they start in half the CPU time.
const bundle = true;

async function exchange(net: DemoNetwork, master: string, slave: string, n: number, size: number): Promise<void> {
  const m = net.client(`sae-${master}`);
  const s = net.client(`sae-${slave}`);
  const status = await m.status(`sae-${slave}`);
  assert.is(status.status, 200, status.raw);
  assert.is(status.body.target_KME_ID, slave);
  const enc = await m.encKeys(`sae-${slave}`, { number: n, size });
  assert.is(enc.status, 200, `${master}→${slave}: ${enc.raw}; ${master}'s last relays: ${JSON.stringify(net.events(master).filter((e) => e.event === 'relay').slice(-2))}`);
  assert.is(enc.body.keys.length, n);
  // half by POST, one by GET: both forms
  const ids = enc.body.keys.map((k) => k.key_ID);
  const dec = await s.decKeys(`sae-${master}`, ids.slice(1));
  assert.is(dec.status, 200, dec.raw);
  const one = await s.decKeyGet(`sae-${master}`, ids[0]!);
  assert.is(one.status, 200, one.raw);
  assert.equal([...one.body.keys, ...dec.body.keys], enc.body.keys, `${master}→${slave}: slave keys differ from master keys`);
  for (const k of enc.body.keys) assert.is(Buffer.from(k.key, 'base64').length, size / 8);
  // and only once
  const again = await s.decKeyGet(`sae-${master}`, ids[0]!);
  assert.is(again.status, 400);
}

test('a line of 4 nodes: SAEs two and three hops apart get identical keys through ETSI 014', async () => {
  const net = await startDemoNetwork({ nodes: 4, shape: 'line', initialUnits: 1000, rate: 50, km, bundle });
  try {
    await exchange(net, 'N1', 'N4', 4, 256);
    await exchange(net, 'N4', 'N1', 2, 512);
    await exchange(net, 'N2', 'N4', 3, 128);
    await exchange(net, 'N1', 'N2', 2, 256); // adjacent, for contrast
    // Each relay is observable at its source: route, hops, latency, outcome (JSON lines on stdout).
    const relays = net.events('N1').filter((e) => e.event === 'relay');
    assert.ok(relays.length > 0, 'N1 reported its relays');
    const r = relays.find((e) => (e.route as string[]).at(-1) === 'N4')!;
    assert.equal(r.route, ['N1', 'N2', 'N3', 'N4']);
    assert.is(r.hops, 3);
    assert.is(r.outcome, 'completed');
    assert.ok((r.latencyMs as number) > 0);
  } finally {
    await net.stop();
  }
});

test('a ring of 5 nodes: keys relayed along the shorter way round, in both directions', async () => {
  const net = await startDemoNetwork({ nodes: 5, shape: 'ring', initialUnits: 1000, rate: 50, km, bundle });
  try {
    await exchange(net, 'N1', 'N3', 2, 256); // N1-N2-N3
    await exchange(net, 'N1', 'N4', 2, 256); // N1-N5-N4
    await exchange(net, 'N3', 'N5', 2, 1024);
    // status reports a relayed, simulated key source
    const st = await net.client('sae-N1').status('sae-N4');
    assert.equal(st.body.status_extension, { key_source: 'simulated', relayed: true });
  } finally {
    await net.stop();
  }
});

test('a node that is down makes supply through it fail with 503, and work again once it is back', async () => {
  const net = await startDemoNetwork({ nodes: 4, shape: 'line', initialUnits: 500, rate: 50, km, bundle });
  try {
    await net.stopNode('N2');
    const r = await net.client('sae-N1').encKeys('sae-N4', { number: 1 });
    assert.is(r.status, 503, r.raw);
    await net.restart('N2');
    await exchange(net, 'N1', 'N4', 2, 256);
  } finally {
    await net.stop();
  }
});

test.run();
