import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExitHealth, fallsBack, rankExits } from './exit-choice.js';
import { InsufficientKeysError, NotPermittedError, PeerRefusedError, PeerUnreachableError } from './errors.js';
import { eventually, startTestNetwork } from './test-network.js';

test('rankExits: exits holding the keys first, then more stock, then the configured order; exits in backoff left out', () => {
  const all = () => true;
  assert.equal(rankExits([{ node: 'g', stock: 3 }, { node: 'i', stock: 9 }], 2, all), ['i', 'g']);
  assert.equal(rankExits([{ node: 'g', stock: 5 }, { node: 'i', stock: 5 }], 2, all), ['g', 'i'], 'a tie keeps the configured order');
  assert.equal(rankExits([{ node: 'g', stock: 1 }, { node: 'i', stock: 0 }], 4, all), ['g', 'i'], 'neither has enough: more stock first');
  assert.equal(rankExits([{ node: 'g', stock: 9 }, { node: 'i', stock: 1 }], 2, (n) => n !== 'g'), ['i']);
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

test('a KSA with two exits for bob: the first by stock, the other when it is down, a clean failure when both are; keys identical at the exit that delivered', async () => {
  const net = await startTestNetwork({ links: ['A-E1', 'A-E2'], saes: { alice: 'A', bob: 'E1' }, exits: { bob: ['E1', 'E2'] }, initialUnits: 64 });
  try {
    const a = net.node('A').km;
    const supply = () => a.supply({ master: 'alice', slaves: ['bob'], size: 256, number: 2 });
    const fetchAt = async (node: string, ids: string[]) => (await net.node(node).km.fetch({ slave: 'bob', master: 'alice', ids })).map((k) => Buffer.from(k.bytes).toString('hex'));
    const hex = (ks: { bytes: Uint8Array }[]) => ks.map((k) => Buffer.from(k.bytes).toString('hex'));
    await eventually(() => a.stock('E1', 256) > 0 && a.stock('E1', 256) === a.stock('E2', 256), 10_000, 'both links held at both ends');
    const k1 = await supply();
    assert.equal(await fetchAt('E1', k1.map((k) => k.id)), hex(k1), 'a tie in stock: the configured first exit');
    assert.equal(a.exitCounts(), { delivered: { E1: 1 }, fallbacks: 0, exhausted: 0 });
    // E2 has more stock now (E1's link gave two units): it is chosen, and it is down
    await net.stopNode('E2');
    const k2 = await supply();
    assert.equal(await fetchAt('E1', k2.map((k) => k.id)), hex(k2), 'E2 down: by E1');
    assert.equal(a.exitCounts(), { delivered: { E1: 2 }, fallbacks: 1, exhausted: 0 });
    for (const k of k2) assert.is(net.node('A').store.get(k.id)?.state, 'delivered');
    await net.stopNode('E1');
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
