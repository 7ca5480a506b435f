import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { startTestNetwork, eventually, type TestNetwork } from './test-network.js';
import { CHANNELS, type RelayEvent } from './diagnostics.js';
import { InsufficientKeysError, NotPermittedError } from './errors.js';
import type { KeyState } from './key-state.js';

// Every case runs on a network of its own, a line A - B - C - D with SAEs on A, B and D: no case
// depends on another's keys, restarts or order.
let net: TestNetwork;

function state(node: string, id: string): KeyState | undefined {
  return net.node(node).store.get(id)?.state;
}

function onLine(name: string, fn: () => Promise<void>): void {
  test(name, async () => {
    net = await startTestNetwork({ links: ['A-B', 'B-C', 'C-D'], saes: { alice: 'A', bob: 'B', dave: 'D', dora: 'D' }, initialUnits: 400 });
    try {
      await fn();
    } finally {
      await net.close();
    }
  });
}

onLine('supply between adjacent nodes: the slave gets exactly the master key, once', async () => {
  const keys = await net.node('A').km.supply({ master: 'alice', slaves: ['bob'], size: 256, number: 3 });
  assert.is(keys.length, 3);
  for (const k of keys) {
    assert.is(k.bytes.length, 32);
    assert.is(state('A', k.id), 'delivered');
    assert.is(state('B', k.id), 'reserved');
  }
  const got = await net.node('B').km.fetch({ slave: 'bob', master: 'alice', ids: keys.map((k) => k.id) });
  assert.equal(got.map((k) => Buffer.from(k.bytes).toString('hex')), keys.map((k) => Buffer.from(k.bytes).toString('hex')));
  for (const k of keys) assert.is(state('B', k.id), 'delivered');
  // a second fetch of the same key is refused, as is a fetch naming the wrong master
  try {
    await net.node('B').km.fetch({ slave: 'bob', master: 'alice', ids: [keys[0]!.id] });
    assert.unreachable('delivered twice');
  } catch (e) {
    assert.instance(e, NotPermittedError);
  }
});

onLine('a supply larger than the units shared with the peer is refused, reporting the shared units, changing nothing', async () => {
  const A = net.node('A').store;
  const before = A.counts('B', 'link');
  const shared = A.allocatable('B', 'link', net.node('B').store.high('A', 'link'));
  try {
    await net.node('A').km.supply({ master: 'alice', slaves: ['bob'], size: 256, number: shared + 1 });
    assert.unreachable('more keys than shared');
  } catch (e) {
    assert.instance(e, InsufficientKeysError);
    assert.is((e as InsufficientKeysError).wanted, shared + 1);
    assert.is((e as InsufficientKeysError).available, shared);
  }
  assert.equal(A.counts('B', 'link'), before);
});

onLine('keys of several units and sizes that are not a whole number of units', async () => {
  const [k] = await net.node('A').km.supply({ master: 'alice', slaves: ['bob'], size: 8 * 40, number: 1 });
  assert.is(k!.bytes.length, 40);
  const rec = net.node('A').store.get(k!.id)!;
  assert.is(rec.units!.length, 2);
  const [g] = await net.node('B').km.fetch({ slave: 'bob', master: 'alice', ids: [k!.id] });
  assert.equal(g!.bytes, k!.bytes);
  for (const u of rec.units!) assert.is(state('B', u), 'delivered');
});

onLine('only the addressed slave, with the right master, can fetch a key', async () => {
  const [k] = await net.node('A').km.supply({ master: 'alice', slaves: ['bob'], size: 256, number: 1 });
  for (const attempt of [
    { slave: 'bob', master: 'mallory', ids: [k!.id] },
    { slave: 'eve', master: 'alice', ids: [k!.id] },
  ]) {
    try {
      await net.node('B').km.fetch(attempt);
      assert.unreachable(JSON.stringify(attempt));
    } catch (e) {
      assert.instance(e, NotPermittedError);
    }
  }
  assert.is(state('B', k!.id), 'reserved', 'refused fetches change nothing');
});

onLine('multicast to two slaves on one node: each gets the key once, then it is delivered', async () => {
  const [k] = await net.node('A').km.relay('D', 1).then(async () => net.node('A').km.supply({ master: 'alice', slaves: ['dave', 'dora'], size: 256, number: 1 }));
  const a = await net.node('D').km.fetch({ slave: 'dave', master: 'alice', ids: [k!.id] });
  assert.is(state('D', k!.id), 'reserved');
  const b = await net.node('D').km.fetch({ slave: 'dora', master: 'alice', ids: [k!.id] });
  assert.equal(a[0]!.bytes, k!.bytes);
  assert.equal(b[0]!.bytes, k!.bytes);
  assert.is(state('D', k!.id), 'delivered');
});

onLine('relay over three hops: the key arrives identical, pads are consumed at both ends of every hop, the relay is observable', async () => {
  const events: RelayEvent[] = [];
  const onRelay = (m: unknown) => events.push(m as RelayEvent);
  subscribe(CHANNELS.relay, onRelay);
  try {
    // The previous test's relay may still be committing its pads at B and C (after the ack).
    await eventually(() => net.node('B').store.counts('C', 'link').reserved === 0 && net.node('C').store.counts('D', 'link').reserved === 0, 5000, 'earlier relays settled');
    const before = { ab: net.node('A').store.counts('B', 'link').consumed, bc: net.node('B').store.counts('C', 'link').consumed, cd: net.node('C').store.counts('D', 'link').consumed };
    const ids = await net.node('A').km.relay('D', 4);
    assert.is(ids.length, 4);
    for (const id of ids) {
      assert.is(state('A', id), 'available');
      await eventually(() => state('D', id) === 'available', 5000, 'relayed key at D');
      assert.equal(net.node('A').store.readKey(id), net.node('D').store.readKey(id));
    }
    // Intermediate hops commit their outgoing pads once the next hop has acknowledged.
    await eventually(() => net.node('C').store.counts('D', 'link').consumed - before.cd === 4, 5000, 'C-D pads consumed at C');
    await eventually(() => net.node('B').store.counts('C', 'link').consumed - before.bc === 4, 5000, 'B-C pads consumed at B');
    assert.is(net.node('A').store.counts('B', 'link').consumed - before.ab, 4);
    assert.is(net.node('B').store.counts('A', 'link').consumed >= 4, true);
    assert.is(net.node('D').store.counts('C', 'link').consumed >= 4, true);
    await eventually(() => events.length > 0, 3000, 'relay event');
    const ev = events.at(-1)!;
    assert.is(ev.outcome, 'completed');
    assert.is(ev.hops, 3);
    assert.equal(ev.route, ['A', 'B', 'C', 'D']);
    assert.ok(ev.latencyMs > 0);
  } finally {
    unsubscribe(CHANNELS.relay, onRelay);
  }
});

onLine('supply to a non-adjacent node relays first, then reserves at the destination', async () => {
  const keys = await net.node('A').km.supply({ master: 'alice', slaves: ['dave'], size: 512, number: 2 });
  const got = await net.node('D').km.fetch({ slave: 'dave', master: 'alice', ids: keys.map((k) => k.id) });
  assert.equal(got.map((k) => Buffer.from(k.bytes).toString('hex')), keys.map((k) => Buffer.from(k.bytes).toString('hex')));
});

onLine('a relay that breaks mid-route is rolled back: keys voided at the destination, pads burned at both ends', async () => {
  await net.stopNode('C');
  try {
    await net.node('A').km.relay('D', 2);
    assert.unreachable('relay through a stopped node');
  } catch (e) {
    assert.match(String(e), /relay to D failed/);
  }
  // A burned its hop-0 units; B burned its pads towards C (C was down) and queued a Void for C.
  const burnedAtA = [...net.node('A').store.records()].filter((r) => r.purpose === 'relay' && r.state === 'failed');
  assert.ok(burnedAtA.length >= 2);
  await eventually(() => [...net.node('B').store.records()].some((r) => r.peer === 'C' && r.state === 'failed'), 3000, 'B burns pads to C');
  const pending = net.node('B').store.outbox('C');
  assert.ok(pending.length >= 1, 'B queued a Void for C');
  const voided = pending.flatMap((p) => p.ids);
  await net.startNode('C');
  // After C is back, B's outbox drains and C voids the pads too.
  await eventually(() => net.node('B').store.outbox('C').length === 0, 5000, 'outbox drained');
  for (const id of voided) assert.ok(['voided', 'failed', 'consumed'].includes(state('C', id)!), `pad ${id} at C: ${state('C', id)}`);
});

onLine('a supply whose peer is down fails with nothing usable left at either end', async () => {
  await net.stopNode('B');
  let keyIds: string[] = [];
  try {
    await net.node('A').km.supply({ master: 'alice', slaves: ['bob'], size: 256, number: 2 });
    assert.unreachable('supply with the slave KM down');
  } catch {
    keyIds = [...net.node('A').store.records()].filter((r) => r.purpose === 'supply' && r.state === 'failed').map((r) => r.id);
  }
  assert.ok(keyIds.length >= 2);
  await net.startNode('B');
  await eventually(() => net.node('A').store.outbox('B').length === 0, 5000, 'A voids at B');
  for (const id of keyIds) assert.ok(['voided', 'failed'].includes(state('B', id)!), `${id} at B: ${state('B', id)}`);
});

onLine('after restarts both ends of every link agree on every key', async () => {
  // Traffic, then a relay broken by a stopped node, then restarts of two nodes.
  const keys = await net.node('A').km.supply({ master: 'alice', slaves: ['dave'], size: 256, number: 2 });
  await net.node('D').km.fetch({ slave: 'dave', master: 'alice', ids: keys.map((k) => k.id) });
  await net.stopNode('C');
  await net.node('A').km.relay('D', 2).then(
    () => assert.unreachable('relay through a stopped node'),
    () => {},
  );
  await net.startNode('C');
  await net.stopNode('B');
  await net.startNode('B');
  await eventually(() => [...net.nodes.values()].every((n) => n.store.outbox().length === 0), 5000, 'outboxes drained');
  for (const l of net.topology.links) {
    const [a, b] = l.ends;
    const A = net.node(a).store;
    const B = net.node(b).store;
    for (const r of A.records()) {
      if (r.peer !== b || r.origin !== 'link' || r.seq < 0) continue;
      const s = B.get(r.id)?.state;
      if (s === undefined) continue; // not pushed at B yet
      const ok =
        (r.state === 'available' && s === 'available') ||
        (['consumed', 'failed', 'voided'].includes(r.state) && ['consumed', 'failed', 'voided'].includes(s)) ||
        (r.state === 'delivered' && (s === 'reserved' || s === 'delivered')) ||
        (s === 'delivered' && (r.state === 'reserved' || r.state === 'delivered'));
      assert.ok(ok, `${l.id} ${r.id}: ${a}=${r.state} ${b}=${s}`);
    }
  }
});

test.run();
