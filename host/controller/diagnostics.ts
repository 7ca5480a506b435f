/**
 * What the control layer tells observers (the QCLM of the manager, metrics, tests) through named
 * node:diagnostics_channel channels, so that nothing here imports its observers.
 *
 * | channel                      | message        | when                                                |
 * |------------------------------|----------------|-----------------------------------------------------|
 * | qkdn:controller:route        | RouteEvent     | a route was computed or refused                     |
 * | qkdn:controller:session      | SessionEvent   | a relay session was admitted, released or voided    |
 * | qkdn:controller:trigger      | TriggerEvent   | a rerouting trigger fired                           |
 * | qkdn:controller:policy       | PolicyEvent    | a supply request was refused by policy              |
 * | qkdn:controller:lsa          | LsaEvent       | a link-state or configuration advertisement was accepted or refused |
 * | qkdn:controller:leader       | LeaderEvent    | a centralized replica became leader or stepped down |
 * | qkdn:controller:decision     | ControlDecision| the manager's QCLM decided on a diagnosed fault     |
 *
 * The decision channel runs the other way: host/manager publishes on it and a controller subscribed
 * to it acts, so neither layer imports the other. `node` on an event names the node whose controller
 * published it (absent from a centralized replica); a node's QCLM counts only its own.
 */
import { channel } from 'node:diagnostics_channel';

export const CHANNELS = {
  route: 'qkdn:controller:route',
  session: 'qkdn:controller:session',
  trigger: 'qkdn:controller:trigger',
  policy: 'qkdn:controller:policy',
  lsa: 'qkdn:controller:lsa',
  leader: 'qkdn:controller:leader',
  decision: 'qkdn:controller:decision',
} as const;

export interface RouteEvent {
  readonly node?: string;
  readonly relay: string;
  readonly from: string;
  readonly to: string;
  readonly attempt: number;
  readonly outcome: 'routed' | 'refused';
  readonly route?: readonly string[];
  readonly reason?: string;
  readonly computeMs: number;
}

export interface SessionEvent {
  readonly node?: string;
  readonly relay: string;
  readonly event: 'admitted' | 'completed' | 'failed' | 'rerouted' | 'expired' | 'voided';
  readonly route: readonly string[];
  readonly attempt: number;
}

export interface TriggerEvent {
  readonly reason: string;
  readonly links: readonly string[];
  readonly node?: string;
  readonly voided: number;
}

export interface PolicyEvent {
  readonly node?: string;
  readonly master: string;
  readonly slaves: readonly string[];
  readonly code: string;
  readonly reason: string;
}

export interface LsaEvent {
  readonly node: string;
  readonly origin: string;
  /** The advertisement's sequence number (a configuration advertisement's version). */
  readonly seq: number;
  readonly outcome: 'accepted' | 'stale' | 'bad-signature' | 'unknown-origin' | 'malformed' | 'config-accepted' | 'config-refused';
  readonly from: string | null;
  readonly reason?: string;
}

export interface LeaderEvent {
  readonly replica: string;
  readonly event: 'elected' | 'stepped-down';
  readonly reason?: string;
}

const ch = {
  route: channel(CHANNELS.route),
  session: channel(CHANNELS.session),
  trigger: channel(CHANNELS.trigger),
  policy: channel(CHANNELS.policy),
  lsa: channel(CHANNELS.lsa),
  leader: channel(CHANNELS.leader),
};

export const publishRoute = (e: RouteEvent): void => void (ch.route.hasSubscribers && ch.route.publish(e));
export const publishSession = (e: SessionEvent): void => void (ch.session.hasSubscribers && ch.session.publish(e));
export const publishTrigger = (e: TriggerEvent): void => void (ch.trigger.hasSubscribers && ch.trigger.publish(e));
export const publishPolicy = (e: PolicyEvent): void => void (ch.policy.hasSubscribers && ch.policy.publish(e));
export const publishLsa = (e: LsaEvent): void => void (ch.lsa.hasSubscribers && ch.lsa.publish(e));
export const publishLeader = (e: LeaderEvent): void => void (ch.leader.hasSubscribers && ch.leader.publish(e));

/**
 * What the QCLM decided about a diagnosed fault: `reroute` (relays from `from` to `to` should avoid
 * `avoidLinks` from now on), or `none` (nothing the control layer can do; the operator is told by
 * the alarm). `diagnosis` and `alarm` name the XLMO's diagnosis and the alarm behind it.
 */
export interface ControlDecision {
  readonly id: string;
  readonly node: string;
  readonly at: number;
  readonly action: 'reroute' | 'none';
  readonly from: string;
  readonly to: string;
  readonly avoidLinks: readonly string[];
  /** The route the QCLM found around the fault, when it found one. */
  readonly route?: readonly string[];
  readonly reason: string;
  readonly diagnosis: string;
  readonly alarm: string;
}
