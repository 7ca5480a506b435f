/**
 * The Kxi-1 sessions of one GWN pair (Y.3818 clause 7.1 session control function; clause 7.2 for
 * Kxi-1' in an IWN): the state of every interworking relay across one Qx link, both ways, so that
 * a key crosses at most once and a Qx unit pads at most one relay.
 *
 * Sending side (the relay's source network):   sent ─ack ok─▶ accepted ─completion─▶ relayed | failed | voided
 *                                               sent ─ack error─▶ failed
 * Receiving side:                               held ─deliver─▶ delivered;  held ─void─▶ voided
 *                                               void after delivery ─▶ failed (ETSI GS QKD 020: a delivered key cannot be voided)
 *
 * Pads are consumed by both ends whatever happens next (as in Kx): a relay naming a unit that
 * either end has used before is refused, and its other units are consumed all the same, so both
 * ends keep the same view of the Qx link. A relay arriving again with the same content (a
 * retransmission after a lost ack) gets the same answer and is not held twice; the same relay ID
 * with other content, or a key ID seen before, is refused. A relay's keys go together: voiding
 * some of them voids the relay.
 */
import { IwError } from '../errors.js';
import { canonicalCbor, wireBody } from '../messages.js';
import type { IwStatus, RelayOutcome } from '../status.js';
import type { Kxi1Ack } from './ack.js';
import type { Kxi1KeyRelay } from './key-relay.js';
import type { Kxi1RelayCompletion } from './relay-completion.js';
import type { Kxi1Void } from './void.js';

export type OutboundState = 'sent' | 'accepted' | RelayOutcome;
export type InboundState = 'held' | 'delivered' | 'voided' | 'failed';
export type Answer = Omit<Kxi1Ack, 're'>;

export interface Kxi1SessionOptions {
  /** The Qx link of this GWN pair. */
  readonly qx: string;
  /** Whether this end holds Qx unit `id` (received from its QKD module and not yet used). */
  readonly holdsUnit: (id: string) => boolean;
}

interface Inbound {
  state: InboundState;
  readonly fingerprint: string;
  readonly answer: Answer;
  readonly relay: Kxi1KeyRelay;
}

export class Kxi1Sessions {
  readonly #o: Kxi1SessionOptions;
  readonly #usedPads = new Set<string>();
  readonly #keys = new Set<string>();
  readonly #out = new Map<string, { state: OutboundState; readonly relay: Kxi1KeyRelay; readonly outcomes: Map<string, RelayOutcome> }>();
  readonly #in = new Map<string, Inbound>();

  constructor(o: Kxi1SessionOptions) {
    this.#o = o;
  }

  outbound(relay: string): OutboundState | undefined {
    return this.#out.get(relay)?.state;
  }

  inbound(relay: string): InboundState | undefined {
    return this.#in.get(relay)?.state;
  }

  padUsed(unit: string): boolean {
    return this.#usedPads.has(unit);
  }

  #consume(pads: readonly string[]): boolean {
    const fresh = pads.every((p) => !this.#usedPads.has(p));
    for (const p of pads) this.#usedPads.add(p);
    return fresh;
  }

  /** Before sending a relay: its pads must be fresh and its ID and keys new. Throws ERR_IW_SESSION otherwise (nothing consumed). */
  begin(m: Kxi1KeyRelay): void {
    if (m.qx !== this.#o.qx) throw new IwError('ERR_IW_SESSION', `relay ${m.relay} names ${m.qx}; this session is ${this.#o.qx}`);
    if (this.#out.has(m.relay) || this.#in.has(m.relay)) throw new IwError('ERR_IW_SESSION', `relay ${m.relay} is already known`);
    const reused = m.pads.find((p) => this.#usedPads.has(p) || !this.#o.holdsUnit(p));
    if (reused) throw new IwError('ERR_IW_SESSION', `Qx unit ${reused} is used or not held: a pad is never used twice`);
    if (m.keys.some((k) => this.#keys.has(k))) throw new IwError('ERR_IW_SESSION', `relay ${m.relay} repeats a key ID`);
    this.#consume(m.pads);
    for (const k of m.keys) this.#keys.add(k);
    this.#out.set(m.relay, { state: 'sent', relay: m, outcomes: new Map() });
  }

  /** The peer's Kxi1Ack to a relay this end sent. */
  acked(relay: string, ack: Answer): OutboundState {
    const o = this.#out.get(relay);
    if (!o) throw new IwError('ERR_IW_SESSION', `an ack for unknown relay ${relay}`);
    if (o.state === 'sent') o.state = ack.status === 'ok' ? 'accepted' : 'failed';
    return o.state;
  }

  /** The peer's Kxi1RelayCompletion for a relay this end sent; the answer to send back. */
  completed(c: Kxi1RelayCompletion): Answer {
    const o = this.#out.get(c.relay);
    if (!o || o.state === 'sent') return { status: 'key_not_present', reason: 'no accepted relay with that ID' };
    if (!o.relay.targets.includes(c.target)) return { status: 'target_sae_id_not_recognized', reason: 'not a target of that relay' };
    if (c.keys.some((k) => !o.relay.keys.includes(k))) return { status: 'key_not_present', reason: 'keys not of that relay' };
    o.outcomes.set(c.target, c.outcome);
    if (o.outcomes.size === o.relay.targets.length) {
      const all = [...o.outcomes.values()];
      o.state = all.every((x) => x === 'relayed') ? 'relayed' : all.every((x) => x === 'voided') ? 'voided' : 'failed';
    }
    return { status: 'ok' };
  }

  /** A relay from the peer: the answer to send (Kxi1Ack without `re`). Holds the keys only if the answer is ok. */
  receive(m: Kxi1KeyRelay): Answer & { duplicate: boolean } {
    const fingerprint = canonicalCbor(wireBody('Kxi1KeyRelay', m)).toString('base64');
    const seen = this.#in.get(m.relay);
    if (seen) {
      if (seen.fingerprint === fingerprint) return { ...seen.answer, duplicate: true };
      return { status: 'invalid_routing', reason: 'a relay ID already used for other keys', duplicate: false };
    }
    const refuse = (status: IwStatus, reason: string): Answer => {
      const answer = { status, reason };
      this.#in.set(m.relay, { state: 'failed', fingerprint, answer, relay: m });
      return answer;
    };
    let answer: Answer;
    if (m.qx !== this.#o.qx) answer = refuse('invalid_routing', 'relay for another Qx link');
    else {
      const held = m.pads.every((p) => this.#o.holdsUnit(p) || this.#usedPads.has(p));
      const fresh = this.#consume(m.pads);
      if (!fresh) answer = refuse('insufficient_key_material', 'a pad named was used before');
      else if (!held) answer = refuse('key_not_present', 'a pad named is not held here');
      else if (m.keys.some((k) => this.#keys.has(k)) || this.#out.has(m.relay)) answer = refuse('invalid_routing', 'a key or relay ID seen before');
      else {
        for (const k of m.keys) this.#keys.add(k);
        answer = { status: 'ok' };
        this.#in.set(m.relay, { state: 'held', fingerprint, answer, relay: m });
      }
    }
    return { ...answer, duplicate: false };
  }

  /** The held keys reached the target's KM: the completion to send to the relay's source. */
  delivered(relay: string, target: string): Kxi1RelayCompletion {
    const i = this.#in.get(relay);
    if (!i || i.state !== 'held' || !i.relay.targets.includes(target)) throw new IwError('ERR_IW_SESSION', `relay ${relay} is not held for ${target}`);
    i.state = 'delivered';
    return { relay, target, outcome: 'relayed', keys: i.relay.keys };
  }

  /** A void from the peer: the answer and, for each target, the completion to send back. */
  void(v: Kxi1Void): { answer: Answer; completions: Kxi1RelayCompletion[] } {
    const i = this.#in.get(v.relay);
    if (!i || i.state === 'failed') return { answer: { status: 'key_not_present' }, completions: [] };
    const keys = v.all ? i.relay.keys : (v.keys ?? []);
    if (keys.some((k) => !i.relay.keys.includes(k))) return { answer: { status: 'key_not_present', reason: 'keys not of that relay' }, completions: [] };
    const outcome: RelayOutcome = i.state === 'delivered' ? 'failed' : 'voided';
    if (i.state === 'held') i.state = 'voided';
    return {
      answer: { status: 'ok' },
      completions: i.relay.targets.map((target) => ({ relay: v.relay, target, outcome, keys: [...keys], ...(outcome === 'failed' ? { message: 'already delivered' } : {}) })),
    };
  }
}
