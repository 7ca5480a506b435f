import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { planDigest, RerouteRounds, type RerouteInput, type RerouteOutput } from './reroute.js';
import type { RerouteStep } from './reroute-propose.js';
import { decodePayload, encodePayload } from '../messages.js';
import { IwError } from '../errors.js';

const R1 = '7e6d5c4b-3a29-4180-8f7e-6d5c4b3a2918';
const R2 = '8f7e6d5c-4b3a-4291-8a7b-6c5d4e3f2a1b';
const plan: RerouteStep[] = [{ relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', qx: 'qx-ab2', egress: 'gwn-a2', ingress: 'gwn-b2' }];
const planB: RerouteStep[] = [{ relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', qx: 'qx-ab3', egress: 'gwn-a3', ingress: 'gwn-b3' }];

type Verdict = { ok: true } | { ok: false; reason: string };
function node(self: string, participants: string[], evaluate: () => Verdict = () => ({ ok: true })) {
  return new RerouteRounds({ self, participants, timeoutMs: 1000, graceMs: 500, evaluate });
}

/** Delivers every send between the machines, in order, through the real wire encoding; collects the rest. */
function run(machines: Record<string, RerouteRounds>, first: { from: string; out: RerouteOutput[] }[], now = 0, drop: (m: RerouteInput, to: string) => boolean = () => false) {
  const log: { at: string; out: RerouteOutput }[] = [];
  const queue = [...first];
  while (queue.length > 0) {
    const { from, out } = queue.shift()!;
    for (const o of out) {
      log.push({ at: from, out: o });
      if (o.kind !== 'send' || drop(o.message, o.to) || !machines[o.to]) continue;
      const wire = decodePayload(encodePayload(o.message.name, 1, o.message.body as never));
      queue.push({ from: o.to, out: machines[o.to]!.receive(from, { name: wire.name, body: wire.body } as RerouteInput, now) });
    }
  }
  return {
    log,
    pushes: log.filter((l) => l.out.kind === 'push').map((l) => ({ at: l.at, ...(l.out as Extract<RerouteOutput, { kind: 'push' }>) })),
    aborted: log.filter((l) => l.out.kind === 'aborted').map((l) => ({ at: l.at, reason: (l.out as Extract<RerouteOutput, { kind: 'aborted' }>).reason })),
    refused: log.filter((l) => l.out.kind === 'refused').map((l) => (l.out as Extract<RerouteOutput, { kind: 'refused' }>).reason),
  };
}

test('propose, vote, commit on one digest: both controllers push the same plan, the voter only after the commit', () => {
  const a = node('ctl-a', ['ctl-a', 'ctl-b']);
  const b = node('ctl-b', ['ctl-a', 'ctl-b']);
  const r = run({ 'ctl-a': a, 'ctl-b': b }, [{ from: 'ctl-a', out: a.propose(plan, 0, R1) }]);
  assert.equal(r.pushes.map((p) => p.at).sort(), ['ctl-a', 'ctl-b']);
  assert.equal(r.pushes[0]!.digest, planDigest(R1, 1, plan));
  assert.equal(r.pushes[1]!.digest, r.pushes[0]!.digest);
  assert.equal(r.pushes[1]!.plan, plan);
  const kinds = r.log.map((l) => (l.out.kind === 'send' ? `${l.at}>${l.out.message.name}` : `${l.at}:${l.out.kind}`));
  assert.equal(kinds, ['ctl-a>CxiReroutePropose', 'ctl-b>CxiRerouteVote', 'ctl-a>CxiRerouteCommit', 'ctl-a:push', 'ctl-b:push']);
  assert.is(a.active, null);
  assert.is(b.active, null);
});

test('the digest binds round, epoch and plan', () => {
  const d = planDigest(R1, 1, plan);
  assert.is(d.length, 32);
  assert.not.equal(planDigest(R2, 1, plan), d);
  assert.not.equal(planDigest(R1, 2, plan), d);
  assert.not.equal(planDigest(R1, 1, planB), d);
  assert.equal(planDigest(R1, 1, [{ ingress: 'gwn-b2', egress: 'gwn-a2', qx: 'qx-ab2', relay: plan[0]!.relay }]), d); // field order does not matter
});

test('disagreement: a voter rejecting the plan, or voting on another digest, aborts the round and nobody pushes', () => {
  const a = node('ctl-a', ['ctl-a', 'ctl-b']);
  const b = node('ctl-b', ['ctl-a', 'ctl-b'], () => ({ ok: false, reason: 'gwn-b2 has no stock' }));
  const r = run({ 'ctl-a': a, 'ctl-b': b }, [{ from: 'ctl-a', out: a.propose(plan, 0, R1) }]);
  assert.is(r.pushes.length, 0);
  assert.equal(r.aborted, [{ at: 'ctl-a', reason: 'disagreement' }]);
  assert.is(a.active, null);
  assert.is(b.active, null);

  const a2 = node('ctl-a', ['ctl-a', 'ctl-b']);
  a2.propose(plan, 0, R1);
  const out = a2.receive('ctl-b', { name: 'CxiRerouteVote', body: { round: R1, voter: 'ctl-b', digest: planDigest(R1, 1, planB), vote: 'accept' } }, 1);
  assert.ok(out.some((o) => o.kind === 'aborted' && o.reason === 'disagreement'));
  assert.ok(out.some((o) => o.kind === 'send' && o.message.name === 'CxiRerouteAbort'));
  assert.not.ok(out.some((o) => o.kind === 'push'));
});

test('a proposal whose plan does not match its digest is rejected by the voter', () => {
  const b = node('ctl-b', ['ctl-a', 'ctl-b']);
  const out = b.receive('ctl-a', { name: 'CxiReroutePropose', body: { round: R1, proposer: 'ctl-a', epoch: 1, deadline: 1000, plan: planB, digest: planDigest(R1, 1, plan) } }, 0);
  assert.equal(out.map((o) => o.kind === 'send' && o.message.name === 'CxiRerouteVote' && o.message.body.vote), ['reject']);
  assert.is(b.active, null);
});

test('forged votes change nothing: not a participant, a vote naming someone else, a duplicate, an unknown round', () => {
  const parts = ['ctl-a', 'ctl-b', 'ctl-c'];
  const a = node('ctl-a', parts);
  a.propose(plan, 0, R1);
  const d = planDigest(R1, 1, plan);
  const vote = (from: string, voter: string, round = R1) => a.receive(from, { name: 'CxiRerouteVote', body: { round, voter, digest: d, vote: 'accept' } }, 1);
  assert.equal(vote('ctl-x', 'ctl-x'), [{ kind: 'refused', from: 'ctl-x', reason: 'not_participant' }]);
  assert.equal(vote('ctl-c', 'ctl-b'), [{ kind: 'refused', from: 'ctl-c', reason: 'forged_vote' }]);
  assert.equal(vote('ctl-c', 'ctl-c', R2), [{ kind: 'refused', from: 'ctl-c', reason: 'unknown_round' }]);
  assert.equal(vote('ctl-c', 'ctl-c'), []); // counted, waiting for ctl-b
  assert.equal(vote('ctl-c', 'ctl-c'), [{ kind: 'refused', from: 'ctl-c', reason: 'duplicate_vote' }]);
  assert.is(a.active?.round, R1);
  const done = vote('ctl-b', 'ctl-b');
  assert.equal(done.filter((o) => o.kind === 'send').map((o) => o.kind === 'send' && o.to), ['ctl-b', 'ctl-c']);
  assert.ok(done.some((o) => o.kind === 'push'));
  assert.is(a.refusals().get('forged_vote'), 1);
});

test('a forged commit is refused and a commit on other bytes aborts: the voter never pushes either', () => {
  const parts = ['ctl-a', 'ctl-b', 'ctl-c'];
  const b = node('ctl-b', parts);
  const d = planDigest(R1, 1, plan);
  b.receive('ctl-a', { name: 'CxiReroutePropose', body: { round: R1, proposer: 'ctl-a', epoch: 1, deadline: 1000, plan, digest: d } }, 0);
  assert.equal(b.receive('ctl-c', { name: 'CxiRerouteCommit', body: { round: R1, committer: 'ctl-a', digest: d } }, 1), [{ kind: 'refused', from: 'ctl-c', reason: 'forged_commit' }]);
  assert.equal(b.receive('ctl-c', { name: 'CxiRerouteCommit', body: { round: R1, committer: 'ctl-c', digest: d } }, 1), [{ kind: 'refused', from: 'ctl-c', reason: 'forged_commit' }]);
  const out = b.receive('ctl-a', { name: 'CxiRerouteCommit', body: { round: R1, committer: 'ctl-a', digest: planDigest(R1, 1, planB) } }, 2);
  assert.ok(out.some((o) => o.kind === 'aborted' && o.reason === 'disagreement'));
  assert.not.ok(out.some((o) => o.kind === 'push'));
  // a proposal from someone posing as another proposer
  assert.equal(b.receive('ctl-c', { name: 'CxiReroutePropose', body: { round: R2, proposer: 'ctl-a', epoch: 2, deadline: 1000, plan, digest: planDigest(R2, 2, plan) } }, 3), [{ kind: 'refused', from: 'ctl-c', reason: 'forged_proposal' }]);
});

test('timeout: a missing vote aborts the proposer’s round; a voter without a commit gives up after deadline + grace; late messages change nothing', () => {
  const a = node('ctl-a', ['ctl-a', 'ctl-b']);
  const b = node('ctl-b', ['ctl-a', 'ctl-b']);
  const r = run({ 'ctl-a': a, 'ctl-b': b }, [{ from: 'ctl-a', out: a.propose(plan, 0, R1) }], 0, (m) => m.name === 'CxiRerouteVote');
  assert.is(r.pushes.length, 0);
  assert.equal(a.tick(999), []);
  const t = a.tick(1000);
  assert.ok(t.some((o) => o.kind === 'aborted' && o.reason === 'timeout'));
  const abortMsg = t.find((o) => o.kind === 'send')!;
  assert.ok(abortMsg.kind === 'send' && abortMsg.to === 'ctl-b' && abortMsg.message.name === 'CxiRerouteAbort');
  // the vote arrives after all: the round is gone
  assert.equal(a.receive('ctl-b', { name: 'CxiRerouteVote', body: { round: R1, voter: 'ctl-b', digest: planDigest(R1, 1, plan), vote: 'accept' } }, 1001), [{ kind: 'refused', from: 'ctl-b', reason: 'unknown_round' }]);
  // the voter, having lost the abort too, gives up on its own and then refuses a late commit
  assert.equal(b.tick(1499), []);
  assert.ok(b.tick(1500).some((o) => o.kind === 'aborted' && o.reason === 'timeout'));
  assert.equal(b.receive('ctl-a', { name: 'CxiRerouteCommit', body: { round: R1, committer: 'ctl-a', digest: planDigest(R1, 1, plan) } }, 1600), [{ kind: 'refused', from: 'ctl-a', reason: 'unknown_round' }]);
  // a vote arriving after the proposer's deadline but before its tick cannot commit
  const a2 = node('ctl-a', ['ctl-a', 'ctl-b']);
  a2.propose(plan, 0, R2);
  const late = a2.receive('ctl-b', { name: 'CxiRerouteVote', body: { round: R2, voter: 'ctl-b', digest: planDigest(R2, 1, plan), vote: 'accept' } }, 1000);
  assert.not.ok(late.some((o) => o.kind === 'push'));
  assert.ok(late.some((o) => o.kind === 'aborted' && o.reason === 'timeout'));
});

test('crossing proposals: the higher epoch, then the lower proposer ID wins; both push the winner’s plan only', () => {
  const a = node('ctl-a', ['ctl-a', 'ctl-b']);
  const b = node('ctl-b', ['ctl-a', 'ctl-b']);
  const r = run({ 'ctl-a': a, 'ctl-b': b }, [
    { from: 'ctl-a', out: a.propose(plan, 0, R1) },
    { from: 'ctl-b', out: b.propose(planB, 0, R2) },
  ]);
  assert.equal(r.pushes.map((p) => [p.at, p.round]).sort(), [['ctl-a', R1], ['ctl-b', R1]]);
  assert.ok(r.aborted.some((x) => x.at === 'ctl-b' && x.reason === 'superseded'));
  assert.throws(() => {
    a.propose(plan, 0);
    a.propose(plan, 0);
  }, (e: unknown) => e instanceof IwError && e.code === 'ERR_IW_REROUTE');
});

test('property: whatever is dropped or reordered and whoever forges, no two controllers push different bytes for a round, and a push means everyone accepted', () => {
  const parts = ['ctl-a', 'ctl-b', 'ctl-c'];
  let fullCommits = 0;
  let allPushes = 0;
  const arbEvent = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 700 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('forge' as const), to: fc.constantFrom(...parts), as: fc.constantFrom(...parts), from: fc.constantFrom(...parts, 'ctl-x'), msg: fc.constantFrom('vote', 'commit') }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('propose' as const), by: fc.constantFrom(...parts), alt: fc.boolean() }) },
  );
  fc.assert(
    fc.property(fc.array(arbEvent, { maxLength: 60 }), fc.array(fc.constantFrom(true, true, true, false), { minLength: 3, maxLength: 3 }), (events, accepts) => {
      const m: Record<string, RerouteRounds> = Object.fromEntries(parts.map((p, i) => [p, node(p, parts, () => (accepts[i] ? { ok: true } : { ok: false, reason: 'no' }))]));
      let now = 0;
      const inflight: { from: string; to: string; msg: RerouteInput }[] = [];
      const pushes = new Map<string, { at: string; digest: string }[]>();
      const proposer = new Map<string, string>();
      const take = (from: string, out: RerouteOutput[]) => {
        for (const o of out) {
          if (o.kind === 'send') inflight.push({ from, to: o.to, msg: o.message });
          if (o.kind === 'send' && o.message.name === 'CxiReroutePropose' && o.message.body.proposer === from) proposer.set(o.message.body.round, from);
          if (o.kind === 'push') {
            const list = pushes.get(o.round) ?? [];
            list.push({ at: from, digest: Buffer.from(o.digest).toString('hex') });
            pushes.set(o.round, list);
          }
        }
      };
      for (const e of events) {
        if (e.kind === 'tick') {
          now += e.dt;
          for (const p of parts) take(p, m[p]!.tick(now));
        } else if (e.kind === 'propose') {
          try {
            take(e.by, m[e.by]!.propose(e.alt ? planB : plan, now));
          } catch (err) {
            assert.instance(err, IwError);
          }
        } else if (e.kind === 'forge') {
          const act = m[e.to]!.active;
          const digest = act ? act.digest : new Uint8Array(32);
          const round = act ? act.round : R1;
          const msg: RerouteInput = e.msg === 'vote' ? { name: 'CxiRerouteVote', body: { round, voter: e.as, digest, vote: 'accept' } } : { name: 'CxiRerouteCommit', body: { round, committer: e.as, digest } };
          // a forger is anyone sending in someone else's name
          if (e.from !== e.as) take(e.to, m[e.to]!.receive(e.from, msg, now));
        } else if (inflight.length > 0) {
          const [x] = inflight.splice(e.pick % inflight.length, 1);
          if (e.kind === 'deliver') take(x!.to, m[x!.to]!.receive(x!.from, x!.msg, now));
        }
      }
      for (const [round, list] of pushes) {
        assert.is(new Set(list.map((p) => p.digest)).size, 1, 'one digest per round');
        assert.is(new Set(list.map((p) => p.at)).size, list.length, 'one push per controller per round');
        assert.ok(parts.every((p, i) => p === proposer.get(round) || accepts[i]), 'a push only if every voter accepts plans');
        if (list.length === parts.length) fullCommits++;
        allPushes += list.length;
      }
    }),
    { numRuns: 800, seed: 3818 },
  );
  // the runs did reach commits, so the safety checks above were exercised
  assert.ok(fullCommits > 0 && allPushes > 20, `${fullCommits} rounds committed at every controller, ${allPushes} pushes`);
});

test.run();
