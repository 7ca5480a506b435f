/**
 * XLMO, the cross-layer management orchestrator of one node: it holds the node's alarms and the
 * per-layer managers (QLM, KMLM, QCLM) and carries the in-network half of Y.3818 Fig. 11: the
 * KMLM reports a relay failure, the XLMO diagnoses it (which link or node, and why, correlated
 * with what the QLM knows of the links), gives the diagnosis to the QCLM, which decides (reroute
 * or nothing) and publishes the decision for the controller. Every alarm change is republished on
 * `qkdn:manager:alarm` for an XLMO peer (Mxi) and logged.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ControlDecision } from '../controller/diagnostics.js';
import { linkBetween, type NetworkTopology as Topology } from './view.js';
import type { AlarmManager } from './alarms.js';
import { publishAlarmChange } from './diagnostics.js';
import type { RelayFailureReport } from './kmlm.js';
import type { ManagerMetrics } from './metrics.js';
import type { Qclm } from './qclm.js';
import type { Qlm } from './qlm.js';
import { SEVERITIES } from './alarms.js';

export type DiagnosisCause = 'link-down' | 'qber-high' | 'peer-unreachable' | 'timeout' | 'insufficient-keys' | 'refused' | 'unknown';

export interface Diagnosis {
  readonly id: string;
  readonly node: string;
  readonly at: number;
  readonly alarm: string;
  readonly relay: string;
  readonly route: readonly string[];
  /** The element most likely at fault. */
  readonly suspect: { readonly kind: 'link' | 'node'; readonly id: string };
  readonly cause: DiagnosisCause;
  readonly evidence: readonly string[];
}

export interface XlmoOptions {
  readonly node: string;
  readonly alarms: AlarmManager;
  readonly metrics: ManagerMetrics;
  readonly topology: () => Topology;
  readonly log?: Logger;
}

export class Xlmo {
  readonly #o: XlmoOptions;
  readonly #diagnoses: Diagnosis[] = [];
  #qlm: Qlm | null = null;
  #qclm: Qclm | null = null;
  readonly #listeners: ((d: Diagnosis, c: ControlDecision) => void)[] = [];

  constructor(o: XlmoOptions) {
    this.#o = o;
    const { alarms, metrics } = o;
    alarms.on('change', (c) => {
      if (c.op === 'raised') metrics.alarmsRaised.inc({ type: c.alarm.type, severity: c.alarm.severity });
      if (c.op === 'raised' || c.op === 'cleared') this.#o.log?.[c.op === 'raised' && (c.alarm.severity === 'critical' || c.alarm.severity === 'major') ? 'warn' : 'info']({ alarm: c.alarm.id, op: c.op, type: c.alarm.type, severity: c.alarm.severity, source: c.alarm.source, text: c.alarm.text }, `alarm ${c.op}`);
      publishAlarmChange(c);
    });
    metrics.alarmsFrom(() => this.activeBySeverity());
  }

  attach(qlm: Qlm, qclm: Qclm): void {
    this.#qlm = qlm;
    this.#qclm = qclm;
  }

  /** Told of each diagnosis and the decision taken on it (tests, the management log). */
  onDecision(l: (d: Diagnosis, c: ControlDecision) => void): void {
    this.#listeners.push(l);
  }

  diagnoses(): Diagnosis[] {
    return [...this.#diagnoses].reverse();
  }

  /** Step 2 of Fig. 11: a relay failure from the KMLM; diagnosed, then decided on by the QCLM. */
  relayFailed(r: RelayFailureReport): Diagnosis {
    const d = this.diagnose(r);
    this.#diagnoses.push(d);
    if (this.#diagnoses.length > 200) this.#diagnoses.shift();
    this.#o.log?.warn({ diagnosis: d.id, alarm: d.alarm, suspect: d.suspect, cause: d.cause, route: d.route }, 'relay failure diagnosed');
    if (this.#qclm) {
      const c = this.#qclm.decide(d);
      this.#o.log?.info({ decision: c.id, action: c.action, avoidLinks: c.avoidLinks, route: c.route }, 'control decision');
      for (const l of this.#listeners) l(d, c);
    }
    return d;
  }

  diagnose(r: RelayFailureReport): Diagnosis {
    const t = this.#o.topology();
    const hop = Math.max(0, Math.min(r.failedHop ?? 0, r.route.length - 2));
    const a = r.route[hop]!;
    const b = r.route[hop + 1]!;
    const link = linkBetween(t, a, b);
    const reason = r.reason ?? '';
    const evidence = [`${a} reported the failure of hop ${hop} (${a}→${b})${reason ? `: ${reason}` : ''}`];
    let cause: DiagnosisCause = 'unknown';
    let suspect: Diagnosis['suspect'] = link ? { kind: 'link', id: link.id } : { kind: 'node', id: b };
    const known = link ? this.#qlm?.links().find((l) => l.link === link.id) : undefined;
    if (known && known.state !== 'synchronised' && known.state !== 'unknown') {
      cause = 'link-down';
      evidence.push(`QLM: link ${link!.id} is ${known.state}`);
    } else if (link && this.#o.alarms.isActive('qber-high', `link:${link.id}`)) {
      cause = 'qber-high';
      evidence.push(`QLM: link ${link.id} has its QBER above threshold`);
    } else if (/UNREACHABLE|ECONNREFUSED|disconnected/i.test(reason)) {
      cause = 'peer-unreachable';
      suspect = { kind: 'node', id: b };
    } else if (/TIMEOUT/i.test(reason)) cause = 'timeout';
    else if (/INSUFFICIENT/i.test(reason)) cause = 'insufficient-keys';
    else if (/REFUSED|NOT_PERMITTED|NO_ROUTE/i.test(reason)) cause = 'refused';
    return { id: randomUUID(), node: this.#o.node, at: Date.now(), alarm: r.alarm, relay: r.relay, route: r.route, suspect, cause, evidence };
  }

  /** Active alarms per severity (what the management API and the metric show). */
  activeBySeverity(): Record<(typeof SEVERITIES)[number], number> {
    const out = { critical: 0, major: 0, minor: 0, warning: 0 };
    for (const a of this.#o.alarms.active()) out[a.severity]++;
    return out;
  }
}
