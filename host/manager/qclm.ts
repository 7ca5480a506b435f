/**
 * QCLM, the control layer manager: counts what the controller publishes (routes, reroutes,
 * sessions, policy refusals; host/controller/diagnostics.ts) and, given a diagnosis by the XLMO,
 * decides what the control layer should do about it. A decision is published on
 * `qkdn:controller:decision` for the controller to act on (the last step of Y.3818 Fig. 11 inside
 * the network): `reroute` with the links to avoid and the route found around them, or `none`
 * when no route avoids the fault.
 */
import { randomUUID } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { CHANNELS as CONTROLLER_CHANNELS, type ControlDecision, type PolicyEvent, type RouteEvent, type SessionEvent } from '../controller/diagnostics.js';
import type { NetworkTopology as Topology } from './view.js';
import { listen } from './diagnostics.js';
import type { ManagerMetrics } from './metrics.js';
import type { Diagnosis } from './xlmo.js';

const decisions = channel(CONTROLLER_CHANNELS.decision);

/** Shortest path (fewest hops, ties by node ID) that uses none of `avoid`; null when there is none. */
export function routeAvoiding(t: Topology, from: string, to: string, avoid: ReadonlySet<string>): string[] | null {
  const prev = new Map<string, string | null>([[from, null]]);
  let frontier = [from];
  while (frontier.length > 0 && !prev.has(to)) {
    const next: string[] = [];
    for (const n of frontier.sort()) {
      const hops = t.links.filter((l) => !avoid.has(l.id) && l.ends.includes(n)).map((l) => (l.ends[0] === n ? l.ends[1] : l.ends[0])).sort();
      for (const m of hops) {
        if (prev.has(m)) continue;
        prev.set(m, n);
        next.push(m);
      }
    }
    frontier = next;
  }
  if (!prev.has(to)) return null;
  const path = [to];
  for (let p = prev.get(to); p; p = prev.get(p)) path.unshift(p);
  return path;
}

export interface QclmOptions {
  readonly node: string;
  readonly topology: () => Topology;
  readonly metrics: ManagerMetrics;
}

export class Qclm {
  readonly #o: QclmOptions;
  readonly #log: ControlDecision[] = [];
  #sessions = new Set<string>();
  #off: (() => void) | null = null;

  constructor(o: QclmOptions) {
    this.#o = o;
  }

  start(meter?: (ms: number) => void): void {
    // A centralized replica's events name no node: every node's QCLM sees the network's controller.
    const mine = (m: unknown): boolean => {
      const node = (m as { node?: string }).node;
      return node === undefined || node === this.#o.node;
    };
    this.#off = listen(
      {
        [CONTROLLER_CHANNELS.route]: (m) => mine(m) && this.#route(m as RouteEvent),
        [CONTROLLER_CHANNELS.session]: (m) => mine(m) && this.#session(m as SessionEvent),
        [CONTROLLER_CHANNELS.policy]: (m) => mine(m) && this.#o.metrics.policyRefusals.inc({ code: (m as PolicyEvent).code }),
      },
      meter,
    );
  }

  stop(): void {
    this.#off?.();
    this.#off = null;
  }

  /** The last decisions, newest first. */
  decisions(): ControlDecision[] {
    return [...this.#log].reverse();
  }

  /** Decides on a diagnosis and publishes the decision for the controller. */
  decide(d: Diagnosis): ControlDecision {
    const from = d.route[0]!;
    const to = d.route[d.route.length - 1]!;
    const t = this.#o.topology();
    const avoid = new Set<string>(d.suspect.kind === 'link' ? [d.suspect.id] : t.links.filter((l) => l.ends.includes(d.suspect.id)).map((l) => l.id));
    const around = d.suspect.kind === 'node' && (d.suspect.id === from || d.suspect.id === to) ? null : routeAvoiding(t, from, to, avoid);
    const decision: ControlDecision = {
      id: randomUUID(),
      node: this.#o.node,
      at: Date.now(),
      action: around ? 'reroute' : 'none',
      from,
      to,
      avoidLinks: [...avoid].sort(),
      ...(around ? { route: around } : {}),
      reason: around ? `${d.cause} at ${d.suspect.kind} ${d.suspect.id}: relay ${from}→${to} over ${around.join('-')}` : `${d.cause} at ${d.suspect.kind} ${d.suspect.id}: no route from ${from} to ${to} avoids it`,
      diagnosis: d.id,
      alarm: d.alarm,
    };
    this.#log.push(decision);
    if (this.#log.length > 200) this.#log.shift();
    this.#o.metrics.decisions.inc({ action: decision.action });
    if (decisions.hasSubscribers) decisions.publish(decision);
    return decision;
  }

  #route(e: RouteEvent): void {
    if (e.outcome !== 'routed') return;
    // A relay's first route is a route; every later attempt is a reroute around a failure.
    this.#o.metrics.routes.inc({ kind: e.attempt === 0 ? 'route' : 'reroute' });
  }

  #session(e: SessionEvent): void {
    if (e.event === 'admitted' || e.event === 'rerouted') this.#sessions.add(e.relay);
    else this.#sessions.delete(e.relay);
    this.#o.metrics.sessions.set(this.#sessions.size);
  }
}
