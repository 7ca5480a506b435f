import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestNetwork } from './test-network.js';
import { KxRelayHop, type HopOutcome } from './relay-hop.js';
import type { KeyRelay } from './kx/key-relay.js';
import { PeerRefusedError } from './errors.js';
import { PolicyRefusedError } from './supply-policy.js';

// Each case starts its own network: no case depends on another's keys or restarts.

test('a relay completion is accepted only from the route’s destination (and a failure only from the hop that reports it)', async () => {
  const net = await startTestNetwork({ links: ['A-B', 'B-C'], saes: {}, initialUnits: 64 });
  try {
    const A = net.node('A');
    // Hold the first hop at A until the forged notifications have been answered.
    let captured!: KeyRelay;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let seen!: () => void;
    const held = new Promise<void>((r) => (seen = r));
    const kx = new KxRelayHop(A.kx);
    A.km.hops.register('B', {
      async send(next, hop, timeoutMs): Promise<HopOutcome> {
        captured = hop;
        seen();
        await gate;
        return kx.send(next, hop, timeoutMs);
      },
    });
    const relayed = A.km.relay('C', 2);
    await held;
    const B = net.node('B');
    const forged = await B.kx.request('A', 'KeyRelayCompletionNotification', { relay: captured.relay, outcome: 'completed', keys: captured.keys }, 8000);
    assert.is(forged.name === 'Response' && forged.body.status, 'ERR_KM_NOT_PERMITTED', 'B is not the destination');
    const wrongHop = await B.kx.request('A', 'KeyRelayCompletionNotification', { relay: captured.relay, outcome: 'failed', keys: captured.keys, hop: 2, status: 'ERR_KM_INSUFFICIENT_KEYS' }, 8000);
    assert.is(wrongHop.name === 'Response' && wrongHop.body.status, 'ERR_KM_NOT_PERMITTED', 'B is hop 1 of the route, not 2');
    release();
    const ids = await relayed;
    assert.equal(ids, [...captured.keys]);
    for (const id of ids) {
      assert.is(A.store.get(id)?.state, 'available');
      assert.equal(A.store.readKey(id), net.node('C').store.readKey(id), 'the destination holds the same key');
    }
  } finally {
    await net.close();
  }
});

test('a hop refused with a status: the relay fails with that status (typed, not parsed from text) and burns its units', async () => {
  const net = await startTestNetwork({ links: ['A-B', 'B-C'], saes: {}, initialUnits: 64 });
  try {
    const A = net.node('A');
    A.km.hops.register('B', { send: async () => ({ ok: false, status: 'ERR_KM_INSUFFICIENT_KEYS', reason: 'ERR_KM_NO_ROUTE looks like a code but is text', answered: true }) });
    const before = A.store.counts('B', 'link').failed;
    try {
      await A.km.relay('C', 3);
      assert.unreachable('refused hop');
    } catch (e) {
      assert.instance(e, PeerRefusedError);
      assert.is((e as PeerRefusedError).status, 'ERR_KM_INSUFFICIENT_KEYS');
    }
    assert.is(A.store.counts('B', 'link').failed - before, 3, 'the hop-0 units are burned');
  } finally {
    await net.close();
  }
});

test('a supply policy refuses before anything is reserved; the default allows', async () => {
  const net = await startTestNetwork({ links: ['A-B'], saes: { alice: 'A', bob: 'B' }, initialUnits: 64 });
  try {
    const A = net.node('A');
    const before = A.store.counts('B', 'link');
    A.km.supplyPolicy = {
      check: (r) => {
        if (r.number > 2) throw new PolicyRefusedError('bad-request', 'at most 2 keys per request here');
      },
    };
    try {
      await A.km.supply({ master: 'alice', slaves: ['bob'], size: 256, number: 3 });
      assert.unreachable('refused by policy');
    } catch (e) {
      assert.instance(e, PolicyRefusedError);
      assert.is((e as PolicyRefusedError).reason, 'bad-request');
    }
    assert.equal(A.store.counts('B', 'link'), before, 'nothing reserved or burned');
    assert.is((await A.km.supply({ master: 'alice', slaves: ['bob'], size: 256, number: 2 })).length, 2);
  } finally {
    await net.close();
  }
});

test('a topology pushed at run time is what the next relay routes over', async () => {
  const net = await startTestNetwork({ links: ['A-B', 'B-C', 'A-D', 'D-C'], saes: {}, initialUnits: 64 });
  try {
    const A = net.node('A');
    const routes: string[][] = [];
    const kx = new KxRelayHop(A.kx);
    for (const first of ['B', 'D'])
      A.km.hops.register(first, {
        send: (next, hop, ms) => {
          routes.push([...hop.route]);
          return kx.send(next, hop, ms);
        },
      });
    await A.km.relay('C', 1);
    const t = A.km.topology;
    A.km.network.replace({ ...t, routes: new Map([['A>C', ['A', 'D', 'C']]]) }, 1);
    await A.km.relay('C', 1);
    assert.equal(routes, [
      ['A', 'B', 'C'],
      ['A', 'D', 'C'],
    ]);
  } finally {
    await net.close();
  }
});

test.run();
