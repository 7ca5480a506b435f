/**
 * The manager interworking function of one provider (Y.3818 clauses 7.1 and 7.2; the fault
 * management of interworking relay failure, clause 9.1 Fig 11 with gateway nodes, and of key
 * transfer failure, clause 9.2 Fig 14 with an interworking node): the KMLM of its KM reports a
 * failed relay or transfer to this XLMO, which sends it, sealed end to end (seal.ts), to the other
 * provider's XLMO over Mxi (Mxi' when both managers are in an IWN); each XLMO diagnoses the failure
 * (cause, and on whose side it lies) and reports the diagnosis to its QCLM, which decides the next
 * step (retry, suspend or nothing) and shares the decision with the other manager.
 *
 * The IWN (iwn/iwn.ts) runs one per side in one process; a GWN (gwn/procedures.ts) runs its
 * provider's in the gateway node. Both are this class; what they report comes through `publish`.
 *
 * Functional elements of clause 7.2 it carries: fault management function (this procedure),
 * security management function (the sealing, with pinned manager keys), accounting management
 * function (keys transferred per SAE pair and direction, shared as MxiAccounting), performance
 * management function (the transfer service's Y.3807 parameters over each period, shared as
 * MxiPerformanceBundle, with the entries every other layer's management reports through
 * `layers`), and the security management function's counted events of every layer (`security`,
 * shared as MxiSecurityReport): `share()` packs and sends them for the period since the last share.
 */
import { randomUUID } from 'node:crypto';
import type { BorderFilter } from '../border/filter.js';
import type { IwMessage } from '../messages.js';
import type { MxiSealer } from './seal.js';
import type { MxiFault } from './fault.js';
import type { Cause, MxiDiagnosis } from './diagnosis.js';
import type { DecisionAction, MxiDecision } from './decision.js';
import type { MxiSealed } from './sealed.js';
import type { MxiAccounting, UsageRecord } from './accounting.js';
import type { MxiPerformanceBundle, PerformanceEntry } from './performance-bundle.js';
import type { MxiSecurityReport } from './security-report.js';

/** What a KMLM reports of a failed relay or transfer: the step that failed and the status it gave. */
export interface RelayFailure {
  readonly step: string;
  readonly status: string;
}

/** What the XLMO tells its observers (never key bytes): a fault, a QCLM decision, a peer's report. */
export type XlmoEvent = { readonly kind: 'mxi-fault' | 'qclm-decision' | 'mxi-report' } & Readonly<Record<string, unknown>>;

export interface XlmoIwfOptions {
  /** This XLMO's manager ID (`xlmo-a`) and the other's; this network's provider and the other's. */
  readonly id: string;
  readonly provider: string;
  readonly peerProvider: string;
  readonly peer: string;
  readonly sealer: MxiSealer;
  readonly filter: BorderFilter;
  readonly transferLink: string;
  readonly ctx: 'border' | 'iwn';
  /** Sends a sealed Mxi message to the other XLMO. */
  readonly send: (m: MxiSealed) => void;
  readonly publish: (e: XlmoEvent) => void;
  /** The performance entries of the other layers' management for [from, to) (QL, control, ...). */
  readonly layers?: (from: number, to: number) => readonly PerformanceEntry[];
  /** The security events of every layer for [from, to); with it, every share sends a security report. */
  readonly security?: (from: number, to: number) => MxiSecurityReport['events'];
  /** Each decision of this side's QCLM (its network's manager raises it as an alarm). */
  readonly onDecision?: (d: QclmDecision) => void;
}

export interface QclmDecision {
  readonly fault: string;
  readonly decider: string;
  readonly action: DecisionAction;
  readonly diagnosis: MxiDiagnosis;
}

/** The cause of a transfer failure as the status the failing step gave. */
function causeOf(status: string): Cause {
  if (status === 'insufficient_key_material' || status === 'ERR_KM_INSUFFICIENT_KEYS') return 'qx_exhausted';
  if (status === 'no_known_route' || status === 'ERR_KM_NO_ROUTE') return 'route_lost';
  if (status === 'timeout' || status === 'ERR_KM_PEER_UNREACHABLE' || status === 'ERR_KM_TIMEOUT') return 'peer_unreachable';
  if (status === 'unauthorized') return 'authentication';
  return 'unknown';
}

export class XlmoIwf {
  readonly #o: XlmoIwfOptions;
  readonly #faults: { readonly direction: 'sent' | 'received'; readonly fault: MxiFault }[] = [];
  readonly #decisions: QclmDecision[] = [];
  readonly #peerDecisions: MxiDecision[] = [];
  readonly #peerReports: (MxiAccounting | MxiPerformanceBundle | MxiSecurityReport)[] = [];
  /** Usage and transfer outcomes since the last share. */
  #usage = new Map<string, UsageRecord>();
  #delaysUs: number[] = [];
  #failed = 0;
  #since = Date.now();

  constructor(o: XlmoIwfOptions) {
    this.#o = o;
  }

  /** KMLM → XLMO: a transfer failed on this side. Sent to the other XLMO, diagnosed, decided. */
  report(f: RelayFailure): void {
    this.#failed++;
    const fault: MxiFault = { fault: randomUUID(), reporter: this.#o.id, source: 'KMLM', kind: 'transfer_failure', severity: 'major', at: Date.now(), qx: this.#o.transferLink, detail: `${f.step}: ${f.status}` };
    this.#faults.push({ direction: 'sent', fault });
    this.#o.publish({ kind: 'mxi-fault', xlmo: this.#o.id, direction: 'sent', fault: fault.fault, detail: fault.detail });
    this.#seal('MxiFault', fault);
    this.#decide(fault, 'local');
  }

  /** A transfer this side took part in ended well: `out` from this network, `in` into it. */
  transferred(t: { readonly master: string; readonly slave: string; readonly direction: 'out' | 'in'; readonly keys: number; readonly bits: number; readonly ms: number }): void {
    const k = `${t.master}\0${t.slave}\0${t.direction}`;
    const u = this.#usage.get(k) ?? { master: t.master, slave: t.slave, direction: t.direction, keys: 0, bits: 0 };
    this.#usage.set(k, { ...u, keys: u.keys + t.keys, bits: u.bits + t.keys * t.bits });
    if (t.direction === 'out') this.#delaysUs.push(Math.round(t.ms * 1000));
  }

  /** The accounting and the performance of the period since the last share, sealed to the other XLMO. */
  share(now = Date.now()): { accounting: MxiAccounting; performance: MxiPerformanceBundle; security: MxiSecurityReport | null } {
    const from = this.#since;
    const to = Math.max(now, from + 1);
    const usage = [...this.#usage.values()];
    const d = this.#delaysUs;
    const mean = d.length ? d.reduce((a, b) => a + b, 0) / d.length : 0;
    const sd = d.length ? Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length) : 0;
    const bits = usage.filter((u) => u.direction === 'out').reduce((n, u) => n + u.bits, 0);
    const attempts = d.length + this.#failed;
    const accounting: MxiAccounting = { reporter: this.#o.id, provider: this.#o.provider, peer: this.#o.peerProvider, from, to, usage };
    const performance: MxiPerformanceBundle = {
      bundle: randomUUID(),
      reporter: this.#o.id,
      from,
      to,
      entries: [
        { layer: 'KML', scope: 'border', throughput: Math.round((bits * 1000) / (to - from)), kkrd: Math.round(mean), kkrdv: Math.round(sd), kkder: attempts ? Math.round((this.#failed * 1e6) / attempts) : 0, kkdlr: 0, availability: 1_000_000, restoration: 0 },
        ...(this.#o.layers?.(from, to) ?? []),
      ],
    };
    const security: MxiSecurityReport | null = this.#o.security ? { report: randomUUID(), reporter: this.#o.id, from, to, events: this.#o.security(from, to) } : null;
    if (usage.length > 0) this.#seal('MxiAccounting', accounting);
    this.#seal('MxiPerformanceBundle', performance);
    if (security) this.#seal('MxiSecurityReport', security);
    this.#usage = new Map();
    this.#delaysUs = [];
    this.#failed = 0;
    this.#since = to;
    return { accounting, performance, security };
  }

  #seal<N extends 'MxiFault' | 'MxiDiagnosis' | 'MxiDecision' | 'MxiAccounting' | 'MxiPerformanceBundle' | 'MxiSecurityReport'>(
    name: N,
    body: N extends 'MxiFault' ? MxiFault : N extends 'MxiDiagnosis' ? MxiDiagnosis : N extends 'MxiDecision' ? MxiDecision : N extends 'MxiAccounting' ? MxiAccounting : N extends 'MxiPerformanceBundle' ? MxiPerformanceBundle : MxiSecurityReport,
  ): void {
    try {
      this.#o.send(this.#o.sealer.seal(this.#o.peer, name, body as never, this.#o.filter, this.#o.ctx));
    } catch {
      // Mxi down: the decision stands locally; the other side learns of it from its own KM's failure
    }
  }

  /** The XLMO's diagnosis, to its QCLM, which decides; the decision goes to the other manager too. */
  #decide(f: MxiFault, scope: 'local' | 'peer'): QclmDecision {
    const status = f.detail?.split(': ')[1] ?? '';
    const diagnosis: MxiDiagnosis = { fault: f.fault, diagnoser: this.#o.id, cause: causeOf(status), scope, at: Date.now(), ...(f.detail ? { detail: f.detail } : {}) };
    // A lost route or an exhausted stock stops transfers until the controllers see it recover; anything else is retried.
    const action: DecisionAction = diagnosis.cause === 'route_lost' || diagnosis.cause === 'qx_exhausted' ? 'suspend_border' : diagnosis.cause === 'authentication' ? 'none' : 'retry';
    const d: QclmDecision = { fault: f.fault, decider: this.#o.id.replace(/^xlmo/, 'qclm'), action, diagnosis };
    this.#decisions.push(d);
    this.#o.onDecision?.(d);
    this.#o.publish({ kind: 'qclm-decision', xlmo: this.#o.id, fault: f.fault, cause: diagnosis.cause, scope, action });
    this.#seal('MxiDecision', { fault: f.fault, decider: d.decider, action, at: Date.now() });
    return d;
  }

  /** Mxi' from the other XLMO. */
  onMessage(m: IwMessage): void {
    if (m.name !== 'MxiSealed') return;
    let inner: IwMessage;
    try {
      inner = this.#o.sealer.open(m.body);
    } catch {
      return; // counted by the sealer; nothing from an unpinned or replayed sender acts
    }
    if (inner.name === 'MxiFault') {
      this.#faults.push({ direction: 'received', fault: inner.body });
      this.#o.publish({ kind: 'mxi-fault', xlmo: this.#o.id, direction: 'received', fault: inner.body.fault, detail: inner.body.detail });
      this.#decide(inner.body, 'peer');
    } else if (inner.name === 'MxiDecision') this.#peerDecisions.push(inner.body);
    else if (inner.name === 'MxiAccounting' || inner.name === 'MxiPerformanceBundle' || inner.name === 'MxiSecurityReport') {
      this.#peerReports.push(inner.body);
      const usage = inner.name === 'MxiAccounting' ? inner.body.usage.map((u) => ({ master: u.master, slave: u.slave, direction: u.direction, keys: u.keys })) : undefined;
      const layers = inner.name === 'MxiPerformanceBundle' ? inner.body.entries.map((e) => `${e.layer}:${e.scope}`) : inner.name === 'MxiSecurityReport' ? inner.body.events.map((e) => `${e.layer}:${e.kind}`) : undefined;
      this.#o.publish({ kind: 'mxi-report', xlmo: this.#o.id, message: inner.name, from: inner.body.from, to: inner.body.to, ...(usage ? { usage } : {}), ...(layers ? { layers } : {}) });
    }
  }

  /** Accounting and performance reports received from the other XLMO. */
  peerReports(): readonly (MxiAccounting | MxiPerformanceBundle | MxiSecurityReport)[] {
    return this.#peerReports;
  }

  faults(): readonly { readonly direction: 'sent' | 'received'; readonly fault: MxiFault }[] {
    return this.#faults;
  }

  decisions(): readonly QclmDecision[] {
    return this.#decisions;
  }

  peerDecisions(): readonly MxiDecision[] {
    return this.#peerDecisions;
  }
}
