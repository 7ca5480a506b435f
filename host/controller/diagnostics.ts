/**
 * The names (and message shapes) on node:diagnostics_channel between the control layer and the
 * management layer, so that neither imports the other: the controller publishes what it did, the
 * QCLM of host/manager publishes its decisions, which a controller subscribed to `decision` acts on.
 *
 * | channel                    | message             | published by | when                                   |
 * |----------------------------|---------------------|--------------|----------------------------------------|
 * | qkdn:controller:route      | RouteEvent          | controller   | a relay route was chosen               |
 * | qkdn:controller:reroute    | RouteEvent          | controller   | a relay was given another route        |
 * | qkdn:controller:session    | SessionEvent        | controller   | a key supply session opened or closed  |
 * | qkdn:controller:policy     | PolicyRefusalEvent  | controller   | a supply refused by policy             |
 * | qkdn:controller:decision   | ControlDecision     | manager QCLM | a decision on a diagnosed fault        |
 */
export const CONTROLLER_CHANNELS = {
  route: 'qkdn:controller:route',
  reroute: 'qkdn:controller:reroute',
  session: 'qkdn:controller:session',
  policy: 'qkdn:controller:policy',
  decision: 'qkdn:controller:decision',
} as const;

export interface RouteEvent {
  readonly node: string;
  readonly relayId: string;
  readonly from: string;
  readonly to: string;
  readonly nodes: readonly string[];
  readonly links: readonly string[];
  readonly attempt: number;
  readonly version: number;
}

export interface SessionEvent {
  readonly node: string;
  readonly session: string;
  readonly master: string;
  readonly slave: string;
  readonly state: 'open' | 'closed';
}

export interface PolicyRefusalEvent {
  readonly node: string;
  readonly master: string;
  readonly slaves: readonly string[];
  readonly code: string;
  readonly reason: string;
}

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
