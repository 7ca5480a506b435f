import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExitHealth, fallsBack, rankExits } from './exit-choice.js';
import { InsufficientKeysError, NotPermittedError, PeerRefusedError, PeerUnreachableError } from './errors.js';
import { eventually, startTestNetwork } from './test-network.js';

test('rankExits: exits whose connection is up first, then those holding the keys, then more stock, then the configured order; exits in backoff left out', () => {
  const all = () => true;
  assert.equal(rankExits([{ node: 'g', stock: 3, up: true }, { node: 'i', stock: 9, up: true }], 2, all), ['i', 'g']);
  assert.equal(rankExits([{ node: 'g', stock: 5, up: true }, { node: 'i', stock: 5, up: true }], 2, all), ['g', 'i'], 'a tie keeps the configured order');
  assert.equal(rankExits([{ node: 'g', stock: 1, up: true }, { node: 'i', stock: 0, up: true }], 4, all), ['g', 'i'], 'neither has enough: more stock first');
  assert.equal(rankExits([{ node: 'g', stock: 3, up: true }, { node: 'i', stock: 9, up: false }], 2, all), ['g', 'i'], 'a connection down ranks after, still tried');
  assert.equal(rankExits([{ node: 'g', stock: 9, up: true }, { node: 'i', stock: 1, up: true }], 2, (n) => n !== 'g'), ['i']);
});

test('ExitHealth: a failed exit waits, doubling while it keeps failing, and one delivery clears it; counts', () => {
  let now = 0;
  const h = new ExitHealth({ firstMs: 100, maxMs: 300, now: () => now });
  h.failed('g', true);
  assert.not.ok(h.usable('g'));
  now = 100;
  assert.ok(h.usable('g'));
  h.failed('g', false);
  now = 299;
  assert.not.ok(h.usable('g'), 'the second failure waits 200 ms');
  now = 300;
  h.failed('g', false);
  now = 599;
  assert.not.ok(h.usable('g'), 'at most maxMs');
  h.delivered('g');
  assert.ok(h.usable('g'));
  h.exhausted();
  assert.equal(h.counts(), { delivered: { g: 1 }, fallbacks: 1, exhausted: 1 });
});

test('fallsBack: failures at an exit go on to the next; a refusal of the request itself does not', () => {
  assert.ok(fallsBack(new PeerUnreachableError('g', 'refused')));
  assert.ok(fallsBack(new PeerRefusedError('g', 'ERR_KM_NO_ROUTE', 'border down')));
  assert.ok(fallsBack(new InsufficientKeysError('link:g', 2, 0)));
  assert.not.ok(fallsBack(new NotPermittedError('no')));
  assert.not.ok(fallsBack(new Error('other')));
});

test('a KSA with two exits for bob: the first by stock; the next when one refuses (counted); one whose connection is down after the others; a clean failure when both are; keys identical at the exit that delivered', async () => {
  // E2 refuses supplies while `refusing` (as an exit whose border is down answers).
  let refusing = false;
  const net = await startTestNetwork({
    links: ['A-E1', 'A-E2'],
    saes: { alice: 'A', bob: 'E1' },
    exits: { bob: ['E1', 'E2'] },
    initialUnits: 64,
    onKx: (node, _peer, m) => (node === 'E2' && refusing && m.name === 'KeySupplyNotification' ? Promise.resolve({ name: 'KeySupplyNotificationResponse', body: { status: 'ERR_KM_NO_ROUTE', reason: 'the border is down' } }) : undefined),
  });
  try {
    const a = net.node('A').km;
    const supply = () => a.supply({ master: 'alice', slaves: ['bob'], size: 256, number: 2 });
    const fetchAt = async (node: string, ids: string[]) => (await net.node(node).km.fetch({ slave: 'bob', master: 'alice', ids })).map((k) => Buffer.from(k.bytes).toString('hex'));
    const hex = (ks: { bytes: Uint8Array }[]) => ks.map((k) => Buffer.from(k.bytes).toString('hex'));
    await eventually(() => a.stock('E1', 256) > 0 && a.stock('E1', 256) === a.stock('E2', 256), 10_000, 'both links held at both ends');
    const k1 = await supply();
    assert.equal(await fetchAt('E1', k1.map((k) => k.id)), hex(k1), 'a tie in stock: the configured first exit');
    assert.equal(a.exitCounts(), { delivered: { E1: 1 }, fallbacks: 0, exhausted: 0 });
    // E2 has more stock now (E1's link gave two units): it is chosen, and it refuses
    refusing = true;
    const k2 = await supply();
    assert.equal(await fetchAt('E1', k2.map((k) => k.id)), hex(k2), 'E2 refused: by E1');
    assert.equal(a.exitCounts(), { delivered: { E1: 2 }, fallbacks: 1, exhausted: 0 });
    for (const k of k2) assert.is(net.node('A').store.get(k.id)?.state, 'delivered');
    // E2 answers again (its backoff over): chosen by stock
    refusing = false;
    await new Promise((r) => setTimeout(r, 1100));
    const k3 = await supply();
    assert.equal(await fetchAt('E2', k3.map((k) => k.id)), hex(k3), 'by E2, with more stock');
    // E1 stops: though it has as much stock and comes first, its connection is down, so E2 is tried first
    await net.stopNode('E1');
    await eventually(() => !net.node('A').kx.connected('E1'), 10_000, 'A sees E1 gone');
    assert.ok(a.stock('E1', 256) >= a.stock('E2', 256), `E1 ${a.stock('E1', 256)} >= E2 ${a.stock('E2', 256)}`);
    const k4 = await supply();
    assert.equal(await fetchAt('E2', k4.map((k) => k.id)), hex(k4), 'E1 down: by E2');
    assert.equal(a.exitCounts(), { delivered: { E1: 2, E2: 2 }, fallbacks: 1, exhausted: 0 }, 'no attempt at E1');
    await net.stopNode('E2');
    try {
      await supply();
      assert.unreachable('no exit works');
    } catch (e) {
      assert.ok(fallsBack(e), `a failure the API answers with 503: ${(e as Error).message}`);
    }
    assert.is(a.exitCounts().exhausted, 1);
  } finally {
    await net.close();
  }
});

test.run();
