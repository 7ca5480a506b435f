/**
 * Session control: admission of relay sessions (deadline, priority), reservation of their units
 * on every link of their route, release. A reservation lasts until the relay is released
 * (completed, failed, rerouted) or its deadline passes, so a relay that never reports back cannot
 * hold stock forever. When a rerouting trigger hits a link, every session routed over it is
 * voided: its reservation is dropped and `void` tells whoever carries the relay to retry it on a
 * new route (the key manager voids what was in flight, as on any failed hop).
 */
import { EventEmitter } from 'node:events';
import { DeadlineError } from './errors.js';
import type { RelayRoute, RelayRouteRequest } from './router.js';
import type { RerouteTrigger } from './view.js';
import { publishSession } from './diagnostics.js';

export type ReleaseOutcome = 'completed' | 'failed' | 'rerouted' | 'expired' | 'voided';

export interface Session {
  readonly relayId: string;
  readonly from: string;
  readonly to: string;
  readonly units: number;
  readonly priority: number;
  readonly deadline: number;
  readonly attempt: number;
  readonly route: RelayRoute;
}

export interface SessionEvents {
  admitted: [Session];
  released: [Session, ReleaseOutcome];
  /** The session's route was hit by a trigger: retry the relay on a new route. */
  void: [Session, RerouteTrigger];
}

export class SessionControl extends EventEmitter<SessionEvents> {
  readonly #sessions = new Map<string, { s: Session; timer: NodeJS.Timeout }>();
  readonly #reserved = new Map<string, number>();
  readonly #now: () => number;

  constructor(o: { now?: () => number } = {}) {
    super();
    this.#now = o.now ?? Date.now;
  }

  admit(req: RelayRouteRequest, route: RelayRoute): Session {
    const now = this.#now();
    if (now >= req.deadline) throw new DeadlineError(req.relayId, req.deadline);
    this.release(req.relayId, 'rerouted');
    const s: Session = { relayId: req.relayId, from: req.from, to: req.to, units: req.units, priority: req.priority, deadline: req.deadline, attempt: req.attempt, route };
    const timer = setTimeout(() => this.release(s.relayId, 'expired'), req.deadline - now);
    timer.unref();
    this.#sessions.set(s.relayId, { s, timer });
    for (const l of route.links) this.#reserved.set(l, (this.#reserved.get(l) ?? 0) + s.units);
    this.emit('admitted', s);
    publishSession({ relay: s.relayId, event: 'admitted', route: route.nodes, attempt: s.attempt });
    return s;
  }

  /** Drops a session's reservations; false when there was none (already released or expired). */
  release(relayId: string, outcome: ReleaseOutcome): boolean {
    const e = this.#sessions.get(relayId);
    if (!e) return false;
    clearTimeout(e.timer);
    this.#sessions.delete(relayId);
    for (const l of e.s.route.links) {
      const left = (this.#reserved.get(l) ?? 0) - e.s.units;
      if (left > 0) this.#reserved.set(l, left);
      else this.#reserved.delete(l);
    }
    this.emit('released', e.s, outcome);
    publishSession({ relay: relayId, event: outcome, route: e.s.route.nodes, attempt: e.s.attempt });
    return true;
  }

  /** Units admitted relays hold on `link`. */
  reserved(link: string): number {
    return this.#reserved.get(link) ?? 0;
  }

  get(relayId: string): Session | undefined {
    return this.#sessions.get(relayId)?.s;
  }

  list(): Session[] {
    return [...this.#sessions.values()].map((e) => e.s);
  }

  /** Voids every session routed over a link the trigger names; returns them. */
  onTrigger(t: RerouteTrigger): Session[] {
    const hit = new Set(t.links);
    const voided = this.list().filter((s) => s.route.links.some((l) => hit.has(l)));
    for (const s of voided) {
      this.release(s.relayId, 'voided');
      this.emit('void', s, t);
    }
    return voided;
  }

  close(): void {
    for (const id of [...this.#sessions.keys()]) this.release(id, 'expired');
  }
}
