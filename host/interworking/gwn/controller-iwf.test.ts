/**
 * Two GWN controller IWFs on real key managers (host/km/test-network.ts: real stores and Kx over
 * TLS), their Cxi messages passed between them in order: status shared, a failure at one side
 * rerouted together, a route whose segment is lost suspended at both gateway KMs, a plan for
 * another border rejected, supplies held while a round runs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestNetwork, eventually, type TestNetwork } from '../../km/test-network.js';
import type { IwMessage } from '../messages.js';
import { planDigest } from '../cxi/reroute.js';
import { GwnControllerIwf, routeId } from './controller-iwf.js';

type Sent = { from: string; m: IwMessage };

async function pair(holdMs?: number, rerouteTimeoutMs = 400): Promise<{ net: TestNetwork; a: GwnControllerIwf; b: GwnControllerIwf; sent: Sent[]; events: Record<string, unknown>[]; deliver: { on: boolean }; close(): Promise<void> }> {
  // gwn_a~gwn_b stands for the Qx link: its units are what each gateway's store holds with the peer GWN.
  const net = await startTestNetwork({ links: ['a1-gwn_a', 'gwn_a-gwn_b'], saes: { alice: 'a1', erin: 'gwn_a', bob: 'gwn_b' }, initialUnits: 64 });
  const sent: Sent[] = [];
  const events: Record<string, unknown>[] = [];
  const deliver = { on: true };
  const ctl: Record<string, GwnControllerIwf> = {};
  const make = (me: 'gwn_a' | 'gwn_b', peer: 'gwn_a' | 'gwn_b', provider: string, peerProvider: string, shared: readonly string[], foreign: readonly string[]) => {
    const n = net.node(me);
    return new GwnControllerIwf({
      provider,
      peerProvider,
      km: n.km,
      connected: (p) => n.kx.connected(p),
      peerNode: peer,
      qx: 'gwn_a~gwn_b',
      qxUp: () => true,
      shared: shared.map((sae) => ({ sae, rate: 10, bits: 256 })),
      foreignSaes: foreign,
      view: () => ({
        provider,
        network: { nodes: n.km.topology.nodes, links: n.km.topology.links.map((l) => ({ id: l.id, ends: l.ends, cost: 1, stock: 64 })), version: 1 },
        saes: new Map(shared.map((sae) => [sae, n.km.topology.saes.get(sae)!])),
        borders: [{ node: me, peerProvider, peerNode: peer, qx: 'gwn_a~gwn_b', cost: 1, stock: 64 }],
      }),
      send: (name, body) => {
        const m = { name, body, rp: 'Cxi' } as unknown as IwMessage;
        sent.push({ from: me, m });
        if (deliver.on) setImmediate(() => ctl[peer]!.onMessage(m));
        return Promise.resolve();
      },
      event: (e) => events.push({ at: me, ...e }),
      statusIntervalMs: 50,
      rerouteTimeoutMs,
      ...(holdMs ? { holdMs } : {}),
    });
  };
  ctl.gwn_a = make('gwn_a', 'gwn_b', 'qkdn-a', 'qkdn-b', ['alice', 'erin'], ['bob']);
  ctl.gwn_b = make('gwn_b', 'gwn_a', 'qkdn-b', 'qkdn-a', ['bob'], ['alice', 'erin']);
  ctl.gwn_a.start();
  ctl.gwn_b.start();
  return {
    net,
    a: ctl.gwn_a,
    b: ctl.gwn_b,
    sent,
    events,
    deliver,
    close: async () => {
      ctl.gwn_a!.stop();
      ctl.gwn_b!.stop();
      await net.close();
    },
  };
}

test('each controller shares only the Qx link and its shared SAEs; a lost segment is rerouted together and suspended at both KMs', async () => {
  const p = await pair();
  try {
    await eventually(() => !!p.a.peerStatus() && !!p.b.peerStatus() && !!p.a.peerSummary(), 10_000, 'status both ways');
    assert.equal(p.b.peerStatus()!.saes.map((s) => [s.sae, s.reachable]), [['alice', true], ['erin', true]]);
    assert.equal(p.a.peerStatus()!.borders.map((x) => x.qx), ['gwn_a~gwn_b']);
    // the summary names the gateway as the KM of every shared SAE: a1 stays inside
    assert.equal(p.b.peerSummary()!.saes.map((s) => [s.sae, s.km]), [['alice', 'gwn_a'], ['erin', 'gwn_a']]);
    for (const c of [p.a, p.b]) {
      c.crossed('alice', ['bob']);
      c.crossed('erin', ['bob']);
    }
    assert.equal(await p.a.admit('alice', ['bob']), { ok: true });
    // a1 goes away: gwn_a's link to it is down, alice unreachable from the gateway
    await p.net.stopNode('a1');
    await eventually(() => p.a.pushed().length > 0 && p.b.pushed().length > 0, 10_000, 'both to push');
    assert.equal(p.a.pushed()[0]!.digest, p.b.pushed()[0]!.digest, 'the same plan at both');
    assert.ok(p.sent.some((s) => s.from === 'gwn_a' && s.m.name === 'CxiReroutePropose'), 'gwn_a proposed');
    assert.ok(p.sent.some((s) => s.from === 'gwn_b' && s.m.name === 'CxiRerouteVote'), 'gwn_b voted');
    assert.is(p.a.pushed()[0]!.steps, 1, 'the plan carries erin-bob only');
    // the plan could not carry alice-bob: both gateway KMs refuse it now, and carry erin-bob
    const [ra, rb] = await Promise.all([p.a.admit('alice', ['bob']), p.b.admit('alice', ['bob'])]);
    assert.is(ra.ok, false);
    assert.is(rb.ok, false);
    assert.equal(await p.b.admit('erin', ['bob']), { ok: true });
  } finally {
    await p.close();
  }
});

test('a plan for a crossing that is not this border is rejected, and nothing is pushed', async () => {
  const p = await pair();
  try {
    await eventually(() => !!p.b.peerStatus(), 10_000, 'status');
    const round = '0f0e0d0c-0b0a-4908-8706-050403020100';
    const plan = [{ relay: routeId('alice', 'bob'), qx: 'qx-other', egress: 'gwn_a', ingress: 'gwn_b' }];
    p.b.onMessage({ name: 'CxiReroutePropose', rp: 'Cxi', body: { round, proposer: 'gwn_a', epoch: 1, deadline: Date.now() + 5000, plan, digest: planDigest(round, 1, plan) } } as unknown as IwMessage);
    await eventually(() => p.sent.some((s) => s.from === 'gwn_b' && s.m.name === 'CxiRerouteVote'), 5000, 'the vote');
    const vote = p.sent.find((s) => s.m.name === 'CxiRerouteVote')!.m.body as { vote: string; reason: string };
    assert.is(vote.vote, 'reject');
    assert.match(vote.reason, /qx-other/);
    assert.is(p.b.pushed().length, 0);
  } finally {
    await p.close();
  }
});

test('a supply across the border waits while a round runs; an aborted round changes nothing', async () => {
  const p = await pair();
  try {
    await eventually(() => !!p.a.peerStatus(), 10_000, 'status');
    p.a.crossed('erin', ['bob']);
    p.deliver.on = false; // the peer hears nothing: the round times out
    await p.net.stopNode('a1');
    await eventually(() => p.events.some((e) => e.at === 'gwn_a' && e.kind === 'reroute-trigger'), 5000, 'the trigger');
    const t0 = Date.now();
    const r = await p.a.admit('erin', ['bob']);
    assert.ok(Date.now() - t0 >= 100, 'admission waited for the round');
    assert.ok(
      p.events.some((e) => e.at === 'gwn_a' && e.kind === 'reroute-aborted'),
      'the round was aborted',
    );
    assert.equal(r, { ok: true }, 'nothing was agreed, so nothing changed');
    assert.is(p.a.pushed().length, 0);
  } finally {
    await p.close();
  }
});

test('a supply that would wait longer than holdMs for a round is refused, cleanly', async () => {
  // a round that lasts (the peer hears nothing for 3 s), a hold of 50 ms
  const p = await pair(50, 3000);
  try {
    await eventually(() => !!p.a.peerStatus(), 10_000, 'status');
    p.a.crossed('erin', ['bob']);
    p.deliver.on = false;
    await p.net.stopNode('a1');
    await eventually(() => p.events.some((e) => e.at === 'gwn_a' && e.kind === 'reroute-trigger'), 5000, 'the trigger');
    const r = await p.a.admit('erin', ['bob']);
    assert.is(r.ok, false);
    assert.match((r as { reason: string }).reason, /still agreeing/);
  } finally {
    await p.close();
  }
});

test.run();
