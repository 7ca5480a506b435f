/**
 * The procedures of Y.3818 clause 9.1 beyond the key relay, on a gateway node: Fig 10 (key
 * generation and rerouting control: the GWN's controller interworking function,
 * controller-iwf.ts) and Fig 11 (fault management of interworking relay failure: the KMLM of the
 * gateway KM reports a failed crossing to this provider's XLMO, mxi/xlmo-iwf.ts, which sends it
 * sealed to the peer provider's XLMO, diagnoses it and has its QCLM decide; every `reportMs` it
 * packs the performance of each layer and the security events and sends them sealed too).
 *
 * Both speak over the gateway's pinned border connection (Cxi and Mxi beside Kxi-1 and Kxi-2),
 * every message through the provider's border filter; Mxi is sealed end to end between the two
 * XLMOs with their pinned X25519 keys, so the GWN on the way cannot read it either.
 *
 *   gateway events ──▶ crossed: the controller learns the routes in use; the XLMO accounts them
 *                  ──▶ cross-failed: KMLM ──▶ XLMO-A ══MxiSealed(MxiFault)══▶ XLMO-B
 *                                             QCLM-A decides            QCLM-B decides
 *   gateway KM supply ──▶ controller.admit (held while a rerouting round runs; refused if suspended)
 */
import type { KeyManager } from '../../km/key-manager.js';
import type { SharedSae } from '../border/policy.js';
import type { IwMessage } from '../messages.js';
import type { ManagerKeys } from '../mxi/seal.js';
import { MxiSealer } from '../mxi/seal.js';
import type { PerformanceEntry } from '../mxi/performance-bundle.js';
import type { MxiSecurityReport } from '../mxi/security-report.js';
import { XlmoIwf } from '../mxi/xlmo-iwf.js';
import { GwnControllerIwf } from './controller-iwf.js';
import type { Gateway } from './gateway.js';

export interface GwnProceduresOptions {
  readonly gateway: Gateway;
  readonly km: KeyManager;
  /** Whether a peer KM of the gateway KM answers over Kx. */
  readonly connected: (peer: string) => boolean;
  readonly provider: string;
  readonly peerProvider: string;
  readonly peerNode: string;
  readonly qx: string;
  readonly shared: readonly SharedSae[];
  readonly foreignSaes: readonly string[];
  /** This provider's XLMO keys and the peer XLMO's pinned public key (without them, no Fig 11). */
  readonly xlmo?: { readonly keys: ManagerKeys; readonly peer: { readonly id: string; readonly publicKey: Uint8Array }; readonly reportMs: number };
  readonly event: (e: Record<string, unknown>) => void;
  readonly statusIntervalMs?: number;
  readonly rerouteTimeoutMs?: number;
}

/** The security events counted so far, by layer and kind (the XLMO sends what changed in a period). */
type Counted = Map<string, { layer: 'KML' | 'control' | 'management'; kind: MxiSecurityReport['events'][number]['kind']; count: number; last: number }>;

export class GwnProcedures {
  readonly controller: GwnControllerIwf;
  readonly xlmo: XlmoIwf | null;
  readonly #o: GwnProceduresOptions;
  #report: NodeJS.Timeout | null = null;
  #sample: NodeJS.Timeout | null = null;
  /** Qx availability samples over the current period, and the Qx high mark at its start. */
  #qxSamples = { up: 0, all: 0 };
  #qxHigh = -1;
  readonly #reported: Counted = new Map();

  constructor(o: GwnProceduresOptions) {
    this.#o = o;
    const g = o.gateway;
    this.controller = new GwnControllerIwf({
      provider: o.provider,
      peerProvider: o.peerProvider,
      km: o.km,
      connected: o.connected,
      peerNode: o.peerNode,
      qx: o.qx,
      qxUp: () => g.peerUp,
      shared: o.shared,
      foreignSaes: o.foreignSaes,
      view: () => g.view,
      send: (name, body) => g.sendPeer(name, body),
      event: o.event,
      ...(o.statusIntervalMs ? { statusIntervalMs: o.statusIntervalMs } : {}),
      ...(o.rerouteTimeoutMs ? { rerouteTimeoutMs: o.rerouteTimeoutMs } : {}),
    });
    const x = o.xlmo;
    this.xlmo = x
      ? new XlmoIwf({
          id: x.keys.id,
          provider: o.provider,
          peerProvider: o.peerProvider,
          peer: x.peer.id,
          sealer: new MxiSealer(x.keys, new Map([[x.peer.id, x.peer.publicKey]])),
          filter: g.filter,
          transferLink: o.qx,
          ctx: 'border',
          send: (m) => void g.sendPeer('MxiSealed', m).catch(() => {}),
          publish: (e) => o.event(e),
          layers: (from, to) => this.#layers(from, to),
          security: () => this.#security(),
        })
      : null;
  }

  start(): void {
    this.controller.start();
    if (!this.#o.xlmo) return;
    this.#qxHigh = this.#o.km.store.high(this.#o.peerNode, 'link');
    this.#sample = setInterval(() => {
      this.#qxSamples.all++;
      if (this.#o.gateway.peerUp) this.#qxSamples.up++;
    }, 250);
    this.#report = setInterval(() => this.xlmo!.share(), this.#o.xlmo.reportMs);
  }

  stop(): void {
    this.controller.stop();
    if (this.#report) clearInterval(this.#report);
    if (this.#sample) clearInterval(this.#sample);
  }

  /** Cxi and Mxi from the peer GWN (what the gateway itself does not answer). */
  onMessage(m: IwMessage): void {
    if (m.rp === 'Cxi') this.controller.onMessage(m);
    else if (m.rp === 'Mxi') this.xlmo?.onMessage(m);
  }

  /** The gateway's events: routes in use and their accounting; a failed crossing is the KMLM's report to the XLMO. */
  onGatewayEvent(e: Record<string, unknown>): void {
    if (e.kind === 'crossed') {
      const master = String(e.master);
      const slaves = (e.slaves as string[] | undefined) ?? [];
      this.controller.crossed(master, slaves);
      for (const slave of slaves) this.xlmo?.transferred({ master, slave, direction: e.direction === 'in' ? 'in' : 'out', keys: Number(e.keys), bits: Number(e.bits ?? 0), ms: Number(e.ms ?? 0) });
    } else if (e.kind === 'cross-failed') {
      // KMLM-A → XLMO-A (Fig 11): the step and the status only; the reason may name internal nodes.
      this.#o.event({ kind: 'kmlm-relay-failure', supply: e.supply, status: e.status });
      this.xlmo?.report({ step: 'interworking-relay', status: String(e.status) });
    }
  }

  /** Whether the gateway KM may carry this supply now (Fig 10's push: held during a round, refused if suspended). */
  admit(master: string, slaves: readonly string[]): ReturnType<GwnControllerIwf['admit']> {
    return this.controller.admit(master, slaves);
  }

  /** The quantum layer's (the Qx link) and the control layer's entries of the period. */
  #layers(from: number, to: number): PerformanceEntry[] {
    const high = this.#o.km.store.high(this.#o.peerNode, 'link');
    const made = this.#qxHigh < 0 ? 0 : Math.max(0, high - this.#qxHigh);
    this.#qxHigh = high;
    const s = this.#qxSamples;
    const availability = s.all ? Math.round((s.up * 1_000_000) / s.all) : 1_000_000;
    this.#qxSamples = { up: 0, all: 0 };
    const pushes = this.controller.pushed().filter((p) => p.at >= from && p.at < to);
    const restoration = Math.max(0, ...pushes.map((p) => p.ms));
    const zero = { kkrd: 0, kkrdv: 0, kkder: 0, kkdlr: 0 };
    return [
      { layer: 'QL', scope: this.#o.qx, throughput: Math.round((made * this.#o.km.unitBits * 1000) / (to - from)), ...zero, availability, restoration: 0 },
      { layer: 'control', scope: 'border', throughput: 0, ...zero, availability, restoration },
    ];
  }

  /** Security events of the key manager layer at the border: refused peers and refused outgoing messages. */
  #security(): MxiSecurityReport['events'] {
    const now = Date.now();
    const totals: [string, 'KML' | 'control' | 'management', MxiSecurityReport['events'][number]['kind'], number][] = [];
    const refusals = this.#o.gateway.refusals();
    const pin = (refusals.get('ERR_IW_PEER_NOT_PINNED') ?? 0) + (refusals.get('ERR_IW_PEER_MISMATCH') ?? 0);
    const decode = [...refusals].filter(([c]) => c !== 'ERR_IW_PEER_NOT_PINNED' && c !== 'ERR_IW_PEER_MISMATCH').reduce((n, [, k]) => n + k, 0);
    const leaks = Object.values(this.#o.gateway.filter.counts().refused).reduce((n, k) => n + k, 0);
    totals.push(['pin', 'KML', 'pin_mismatch', pin], ['decode', 'KML', 'decode_error', decode], ['leak', 'control', 'border_refusal', leaks]);
    const out: MxiSecurityReport['events'][number][] = [];
    for (const [key, layer, kind, total] of totals) {
      const was = this.#reported.get(key)?.count ?? 0;
      if (total > was) out.push({ layer, kind, count: total - was, last: now });
      this.#reported.set(key, { layer, kind, count: total, last: now });
    }
    return out;
  }
}
