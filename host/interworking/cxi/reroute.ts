/**
 * Consistent interworking rerouting (Y.3818 clause 7.1 routing control function, clause 9.1
 * Fig 10: the controllers "share information to change rerouting path simultaneously. After
 * confirming commands of controllers are consistent, they send interworking rerouting information
 * to KM-A and KM-B"), as a deterministic state machine; its `push` output is where the
 * configuration control function takes over: inputs are messages from authenticated
 * peers and the time, outputs are messages to send and, only after a commit, the push of the plan
 * to this provider's KMs. It owns no timers and no sockets, so every interleaving can be tested.
 *
 *   proposer                          voter(s)
 *   propose(plan) ── Propose(digest) ──▶ recompute digest, evaluate plan
 *                ◀── Vote(accept, digest)
 *   all accepted on the same digest:
 *   push(plan)    ── Commit(digest) ──▶ push(plan)
 *   a reject, another digest, or no vote by the deadline:
 *                 ── Abort ──────────▶ nothing is pushed
 *
 * The digest is SHA-256 over the canonical CBOR of [round, epoch, plan]. A vote counts only if it
 * comes from the participant it names (`from` is the identity the Cxi connection authenticated),
 * for the round in progress, once; anything else is refused and counted, and changes nothing.
 * Two proposals that cross: the higher epoch wins, then the lower proposer ID; the other is
 * aborted as superseded. A voter waits for the commit until the round's deadline plus `graceMs`,
 * so that a commit sent just before the deadline still arrives in time.
 */
import { createHash, randomUUID } from 'node:crypto';
import { IwError } from '../errors.js';
import { publishReroute } from '../diagnostics.js';
import { canonicalCbor } from '../messages.js';
import { canonical } from '../schema.js';
import type { AbortReason, CxiRerouteAbort } from './reroute-abort.js';
import type { CxiRerouteCommit } from './reroute-commit.js';
import { PLAN_SCHEMA, type CxiReroutePropose, type RerouteStep } from './reroute-propose.js';
import type { CxiRerouteVote } from './reroute-vote.js';

export function planDigest(round: string, epoch: number, plan: readonly RerouteStep[]): Uint8Array {
  return new Uint8Array(createHash('sha256').update(canonicalCbor([round, epoch, canonical(PLAN_SCHEMA, plan)])).digest());
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export type RerouteInput =
  | { readonly name: 'CxiReroutePropose'; readonly body: CxiReroutePropose }
  | { readonly name: 'CxiRerouteVote'; readonly body: CxiRerouteVote }
  | { readonly name: 'CxiRerouteCommit'; readonly body: CxiRerouteCommit }
  | { readonly name: 'CxiRerouteAbort'; readonly body: CxiRerouteAbort };

export type RefusalReason = 'forged_vote' | 'not_participant' | 'unknown_round' | 'duplicate_vote' | 'forged_commit' | 'forged_proposal';

export type RerouteOutput =
  | { readonly kind: 'send'; readonly to: string; readonly message: RerouteInput }
  | { readonly kind: 'push'; readonly round: string; readonly digest: Uint8Array; readonly plan: readonly RerouteStep[] }
  | { readonly kind: 'aborted'; readonly round: string; readonly reason: AbortReason }
  | { readonly kind: 'refused'; readonly from: string; readonly reason: RefusalReason };

export interface RerouteOptions {
  /** This controller's ID. */
  readonly self: string;
  /** Every controller that must agree, this one included. */
  readonly participants: readonly string[];
  /** How long a proposer waits for votes. */
  readonly timeoutMs: number;
  /** How much longer a voter waits for the commit after the round's deadline. */
  readonly graceMs: number;
  /** This controller's own judgement of a plan: its gateways, its stock, its policy. */
  readonly evaluate: (plan: readonly RerouteStep[], proposer: string) => { ok: true } | { ok: false; reason: string };
}

interface Round {
  readonly role: 'proposer' | 'voter';
  readonly round: string;
  readonly proposer: string;
  readonly epoch: number;
  readonly digest: Uint8Array;
  readonly plan: readonly RerouteStep[];
  readonly deadline: number;
  readonly accepted: Set<string>;
}

export class RerouteRounds {
  readonly #o: RerouteOptions;
  #active: Round | null = null;
  #epoch = 0;
  readonly #refused = new Map<RefusalReason, number>();

  constructor(o: RerouteOptions) {
    if (!o.participants.includes(o.self)) throw new IwError('ERR_IW_CONFIG', `${o.self} is not among the rerouting participants`);
    this.#o = o;
  }

  get active(): { round: string; role: 'proposer' | 'voter'; digest: Uint8Array } | null {
    const a = this.#active;
    return a ? { round: a.round, role: a.role, digest: a.digest } : null;
  }

  refusals(): ReadonlyMap<RefusalReason, number> {
    return this.#refused;
  }

  #others(): string[] {
    return this.#o.participants.filter((p) => p !== this.#o.self);
  }

  #refuse(from: string, reason: RefusalReason): RerouteOutput[] {
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
    return [{ kind: 'refused', from, reason }];
  }

  #abort(reason: AbortReason, notify: readonly string[]): RerouteOutput[] {
    const a = this.#active!;
    this.#active = null;
    publishReroute({ controller: this.#o.self, round: a.round, outcome: 'aborted', reason });
    const abort: CxiRerouteAbort = { round: a.round, by: this.#o.self, reason };
    return [...notify.map((to): RerouteOutput => ({ kind: 'send', to, message: { name: 'CxiRerouteAbort', body: abort } })), { kind: 'aborted', round: a.round, reason }];
  }

  #push(a: Round): RerouteOutput {
    this.#active = null;
    publishReroute({ controller: this.#o.self, round: a.round, outcome: 'committed' });
    return { kind: 'push', round: a.round, digest: a.digest, plan: a.plan };
  }

  /** Starts a round for `plan`. One round at a time: throws ERR_IW_REROUTE while one is in progress. */
  propose(plan: readonly RerouteStep[], now: number, round: string = randomUUID()): RerouteOutput[] {
    if (this.#active) throw new IwError('ERR_IW_REROUTE', `round ${this.#active.round} is still in progress`);
    const epoch = ++this.#epoch;
    const digest = planDigest(round, epoch, plan);
    const deadline = now + this.#o.timeoutMs;
    this.#active = { role: 'proposer', round, proposer: this.#o.self, epoch, digest, plan, deadline, accepted: new Set([this.#o.self]) };
    const body: CxiReroutePropose = { round, proposer: this.#o.self, epoch, deadline, plan, digest };
    const out: RerouteOutput[] = this.#others().map((to) => ({ kind: 'send', to, message: { name: 'CxiReroutePropose', body } }));
    if (this.#others().length === 0) out.push(this.#push(this.#active));
    return out;
  }

  /** A message from `from`, the controller its Cxi connection authenticated. */
  receive(from: string, m: RerouteInput, now: number): RerouteOutput[] {
    if (!this.#o.participants.includes(from) || from === this.#o.self) return this.#refuse(from, 'not_participant');
    switch (m.name) {
      case 'CxiReroutePropose':
        return this.#onPropose(from, m.body, now);
      case 'CxiRerouteVote':
        return this.#onVote(from, m.body, now);
      case 'CxiRerouteCommit':
        return this.#onCommit(from, m.body);
      case 'CxiRerouteAbort': {
        const a = this.#active;
        if (!a || a.round !== m.body.round || m.body.by !== from) return this.#refuse(from, 'unknown_round');
        // a voter's abort ends the proposer's round for everyone; the proposer's ends the voter's
        return this.#abort(m.body.reason, a.role === 'proposer' ? this.#others().filter((p) => p !== from) : []);
      }
    }
  }

  #vote(to: string, p: CxiReroutePropose, vote: 'accept' | 'reject', reason?: string): RerouteOutput {
    const body: CxiRerouteVote = { round: p.round, voter: this.#o.self, digest: p.digest, vote, ...(reason ? { reason } : {}) };
    return { kind: 'send', to, message: { name: 'CxiRerouteVote', body } };
  }

  #onPropose(from: string, p: CxiReroutePropose, now: number): RerouteOutput[] {
    if (p.proposer !== from) return this.#refuse(from, 'forged_proposal');
    this.#epoch = Math.max(this.#epoch, p.epoch);
    const out: RerouteOutput[] = [];
    const a = this.#active;
    if (a) {
      const theirsWins = p.epoch > a.epoch || (p.epoch === a.epoch && p.proposer < a.proposer);
      if (!theirsWins) return [{ kind: 'send', to: from, message: { name: 'CxiRerouteAbort', body: { round: p.round, by: this.#o.self, reason: 'superseded' } } }];
      out.push(...this.#abort('superseded', a.role === 'proposer' ? this.#others() : []));
    }
    if (!same(planDigest(p.round, p.epoch, p.plan), p.digest)) return [...out, this.#vote(from, p, 'reject', 'the digest does not match the plan')];
    if (p.deadline <= now) return [...out, this.#vote(from, p, 'reject', 'the deadline has passed')];
    const verdict = this.#o.evaluate(p.plan, from);
    if (!verdict.ok) return [...out, this.#vote(from, p, 'reject', verdict.reason)];
    this.#active = { role: 'voter', round: p.round, proposer: from, epoch: p.epoch, digest: p.digest, plan: p.plan, deadline: Math.min(p.deadline, now + this.#o.timeoutMs) + this.#o.graceMs, accepted: new Set() };
    return [...out, this.#vote(from, p, 'accept')];
  }

  #onVote(from: string, v: CxiRerouteVote, now: number): RerouteOutput[] {
    const a = this.#active;
    if (!a || a.role !== 'proposer' || a.round !== v.round) return this.#refuse(from, 'unknown_round');
    // a vote after the deadline cannot commit: the voters may already have given up
    if (now >= a.deadline) return this.#abort('timeout', this.#others());
    if (v.voter !== from) return this.#refuse(from, 'forged_vote');
    if (a.accepted.has(from)) return this.#refuse(from, 'duplicate_vote');
    if (v.vote !== 'accept' || !same(v.digest, a.digest)) return this.#abort('disagreement', this.#others());
    a.accepted.add(from);
    if (!this.#o.participants.every((p) => a.accepted.has(p))) return [];
    const commit: CxiRerouteCommit = { round: a.round, committer: this.#o.self, digest: a.digest };
    return [...this.#others().map((to): RerouteOutput => ({ kind: 'send', to, message: { name: 'CxiRerouteCommit', body: commit } })), this.#push(a)];
  }

  #onCommit(from: string, c: CxiRerouteCommit): RerouteOutput[] {
    const a = this.#active;
    if (!a || a.role !== 'voter' || a.round !== c.round) return this.#refuse(from, 'unknown_round');
    if (c.committer !== from || from !== a.proposer) return this.#refuse(from, 'forged_commit');
    // the proposer committed other bytes than this controller voted on: never push those
    if (!same(c.digest, a.digest)) return this.#abort('disagreement', [a.proposer]);
    return [this.#push(a)];
  }

  /** Advances time: a round past its deadline is aborted (a proposer tells the others). */
  tick(now: number): RerouteOutput[] {
    const a = this.#active;
    if (!a || now < a.deadline) return [];
    return this.#abort('timeout', a.role === 'proposer' ? this.#others() : []);
  }
}
