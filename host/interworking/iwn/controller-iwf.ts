/**
 * The controller interworking function of one side of an interworking node (Y.3818 clause 7.2;
 * controller-A or controller-B of Figs 6-8): it collects the state of its QKD modules and its KM
 * and shares it with the other side's controller (Fig 13: CxiStatus over Cxi' when both
 * controllers are in the IWN, Cxi otherwise), checks the key resources between KM-A and KM-B
 * before a transfer and determines the transfer link and keys (Fig 12), keeps the lifecycle
 * metadata both KMs send it, and on a fault decides, with the other controller, whether key
 * transfer towards an SAE is suspended or resumed (the rerouting decision of Fig 13: with one
 * IWN the transfer either runs through it or not at all).
 *
 * Functional elements of clause 7.2 it carries: routing control function (the transfer route and
 * its suspension), session control function (admission of each transfer), policy-based control
 * function (only SAEs the policy shares, within their key size), configuration control function
 * (the transfer link it hands its KM).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { KeyManager } from '../../km/key-manager.js';
import { CHANNELS as KM_CHANNELS, type SyncEvent } from '../../km/diagnostics.js';
import type { CxiStatus } from '../cxi/status.js';
import type { CkTransferRequirement } from '../ck/transfer-requirement.js';
import type { IwStatus } from '../status.js';
import type { SharedSae } from '../border/policy.js';
import { publishIwnControl, type LifecycleMetadata } from './diagnostics.js';

/**
 * What the controller IWF collects from its KM (Fig 13): the KM's stock towards the KM serving
 * each shared SAE, and when a KM that stopped answering answers again. In the IWN this is the KM
 * itself (kmView); when the controller runs outside the IWN, the KM's reports over Ck (ck-link.ts).
 */
export interface KmView {
  readonly nodeId: string;
  /** Units this KM can supply towards the KM serving `sae` (0: none, no route, zeroized). */
  stock(sae: string): number;
  /** Calls `cb` with the SAEs served by a KM that answers again (its queued Voids delivered); returns the unsubscribe. */
  onRecovered(cb: (saes: readonly string[]) => void): () => void;
}

/** The view of a KM in the same process. */
export function kmView(km: KeyManager): KmView {
  return {
    nodeId: km.nodeId,
    stock: (sae) => {
      const node = km.topology.saes.get(sae);
      try {
        return node && node !== km.nodeId && !km.store.zeroized ? km.stock(node, km.unitBits) : 0;
      } catch {
        return 0; // no route to that KM: not reachable
      }
    },
    onRecovered: (cb) => {
      const f = (m: unknown) => {
        const e = m as SyncEvent;
        if (e.node !== km.nodeId || e.kind !== 'void-sent') return;
        cb([...km.topology.saes].filter(([, n]) => n === e.peer).map(([sae]) => sae));
      };
      subscribe(KM_CHANNELS.sync, f);
      return () => unsubscribe(KM_CHANNELS.sync, f);
    },
  };
}

/** What a KM IWF asks of its controller IWF (Fig 12 admission, lifecycle metadata, faults): in process, or over Ck. */
export interface TransferControl {
  checkTransfer(r: TransferRequirement): TransferDecision | Promise<TransferDecision>;
  record(m: LifecycleMetadata): void;
  fault(sae: string, cause: string): void;
}

/** KM-A's interworking key transfer requirement (Fig 12): the same fields in process as over Ck. */
export type TransferRequirement = CkTransferRequirement;

export interface ControllerIwfOptions {
  readonly provider: string;
  /** This controller's ID (`controller-a`). */
  readonly id: string;
  readonly km: KmView;
  /** The transfer link inside the IWN (Kxi-1' between KM-A and KM-B). */
  readonly transferLink: string;
  /** This network's SAEs shared with the other network, and on what terms. */
  readonly shared: readonly SharedSae[];
  /** Sends a status to the other side's controller (Cxi' or Cxi). */
  readonly share: (s: CxiStatus) => void;
  /** Whether the Kxi-1' connection between the two KMs is up. */
  readonly transferLinkUp: () => boolean;
  readonly statusIntervalMs?: number;
  /** How old the other side's last status may be for a transfer to be admitted. */
  readonly staleMs?: number;
}

export type TransferDecision =
  | { readonly ok: true; readonly link: string; readonly keys: readonly string[] }
  | { readonly ok: false; readonly status: IwStatus; readonly reason: string };

export interface RerouteDecision {
  readonly controller: string;
  readonly sae: string;
  readonly action: 'suspend' | 'resume';
  readonly cause: string;
  readonly at: number;
}

export class ControllerIwf implements TransferControl {
  readonly #o: ControllerIwfOptions;
  #seq = 0;
  #peer: { status: CxiStatus; received: number } | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #lifecycle: LifecycleMetadata[] = [];
  readonly #decisions: RerouteDecision[] = [];
  /** SAEs to which transfer is suspended (of either network), and why. */
  readonly #suspended = new Map<string, string>();
  /** This network's SAEs whose KM a transfer failed to reach: unreachable until that KM answers again. */
  readonly #faulty = new Map<string, string>();
  /** SAEs of the other network seen reachable at least once. */
  readonly #seen = new Set<string>();
  #unsubscribe: (() => void) | null = null;
  #lastShared = '';

  constructor(o: ControllerIwfOptions) {
    this.#o = o;
  }

  get id(): string {
    return this.#o.id;
  }

  start(): void {
    this.#unsubscribe = this.#o.km.onRecovered((saes) => this.#recovered(saes));
    this.shareNow();
    this.#timer = setInterval(() => this.shareNow(), this.#o.statusIntervalMs ?? 250);
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Fig 13, collection: the modules' links and the KM's stock towards each shared SAE's KM. */
  collect(): CxiStatus {
    const up = this.#o.transferLinkUp();
    const saes = this.#o.shared.map(({ sae }) => {
      const stock = this.#o.km.stock(sae);
      return { sae, reachable: up && stock > 0 && !this.#faulty.has(sae), stock };
    });
    const stock = saes.reduce((n, s) => n + s.stock, 0);
    return { provider: this.#o.provider, seq: ++this.#seq, at: Date.now(), borders: [{ qx: this.#o.transferLink, state: up ? (stock > 0 ? 'up' : 'degraded') : 'down', stock, rate: 0 }], saes };
  }

  /** Fig 13, sharing: the status now, to the other controller (also on a timer). */
  shareNow(): void {
    const s = this.collect();
    try {
      this.#o.share(s);
    } catch {
      return; // the Cxi connection is down: the next tick tries again
    }
    // Printed when reachability changes, or the stock while it is low (where a transfer may find too little).
    const digest = JSON.stringify(s.saes.map((x) => [x.sae, x.reachable, Math.min(x.stock, 64)]));
    if (digest !== this.#lastShared) {
      this.#lastShared = digest;
      publishIwnControl({ kind: 'status-shared', controller: this.#o.id, saes: s.saes.map((x) => ({ sae: x.sae, reachable: x.reachable, stock: x.stock })) });
    }
  }

  /** The other controller's status: newest only; a change of reachability is a fault or a recovery both controllers act on. */
  onPeerStatus(s: CxiStatus): void {
    if (this.#peer && s.seq <= this.#peer.status.seq) return;
    this.#peer = { status: s, received: Date.now() };
    for (const x of s.saes) {
      const was = this.#suspended.get(x.sae);
      // An SAE never yet reachable (its link still filling at start) is no fault: checkTransfer refuses on its stock.
      if (x.reachable) this.#seen.add(x.sae);
      if (!x.reachable && was === undefined && this.#seen.has(x.sae)) this.#decide(x.sae, 'suspend', `${s.provider} reports ${x.sae} unreachable (stock ${x.stock})`);
      else if (x.reachable && was !== undefined) this.#decide(x.sae, 'resume', `${s.provider} reports ${x.sae} reachable again`);
    }
  }

  /**
   * A fault seen on this side (a failed hand-over towards one of this network's SAEs): this
   * controller suspends transfer towards it and shares its status at once, so that the other
   * controller decides the same.
   */
  fault(sae: string, cause: string): void {
    publishIwnControl({ kind: 'fault', controller: this.#o.id, sae, cause });
    if (this.#o.shared.some((s) => s.sae === sae)) {
      this.#faulty.set(sae, cause);
      if (!this.#suspended.has(sae)) this.#decide(sae, 'suspend', cause);
    }
    this.shareNow();
  }

  /** The KM delivered its queued Voids to a peer KM: that KM answers again, and the SAEs it serves are reachable. */
  #recovered(saes: readonly string[]): void {
    for (const sae of saes) {
      if (!this.#faulty.has(sae)) continue;
      this.#faulty.delete(sae);
      if (this.#suspended.has(sae)) this.#decide(sae, 'resume', `the KM serving ${sae} answers again`);
    }
    this.shareNow();
  }

  #decide(sae: string, action: 'suspend' | 'resume', cause: string): void {
    if (action === 'suspend') this.#suspended.set(sae, cause);
    else this.#suspended.delete(sae);
    const d: RerouteDecision = { controller: this.#o.id, sae, action, cause, at: Date.now() };
    this.#decisions.push(d);
    publishIwnControl({ kind: 'reroute-decision', ...d });
  }

  decisions(): readonly RerouteDecision[] {
    return this.#decisions;
  }

  peerStatus(): CxiStatus | null {
    return this.#peer?.status ?? null;
  }

  /**
   * Fig 12: KM-A's interworking key transfer requirement. Admitted if every slave SAE is shared by
   * the other network, transfer towards it is not suspended, the other side's last status (fresh)
   * shows enough stock to carry the keys on to the slave's KM, and the transfer link is up; then
   * the transfer link and the keys are determined.
   */
  checkTransfer(r: TransferRequirement): TransferDecision {
    const refuse = (status: IwStatus, reason: string): TransferDecision => {
      publishIwnControl({ kind: 'transfer-refused', controller: this.#o.id, transfer: r.transfer, status, reason });
      return { ok: false, status, reason };
    };
    const shared = this.#o.shared.find((s) => s.sae === r.master);
    if (!shared) return refuse('unauthorized', `${r.master} is not shared with the other network`);
    if (r.size > shared.bits) return refuse('unauthorized', `${r.size}-bit keys exceed the ${shared.bits} bits shared for ${r.master}`);
    if (!this.#o.transferLinkUp()) return refuse('no_known_route', `transfer link ${this.#o.transferLink} is down`);
    const peer = this.#peer;
    if (!peer || Date.now() - peer.received > (this.#o.staleMs ?? 5000)) return refuse('no_known_route', 'no recent status from the other controller');
    for (const slave of r.slaves) {
      const suspended = this.#suspended.get(slave);
      if (suspended) return refuse('no_known_route', `transfer to ${slave} suspended: ${suspended}`);
      const s = peer.status.saes.find((x) => x.sae === slave);
      if (!s) return refuse('target_sae_id_not_recognized', `${slave} is not shared by ${peer.status.provider}`);
      if (!s.reachable || s.stock < r.units) return refuse('insufficient_key_material', `${peer.status.provider} can carry ${s.stock} unit(s) on to ${slave}; ${r.units} needed`);
    }
    publishIwnControl({ kind: 'transfer-admitted', controller: this.#o.id, transfer: r.transfer, link: this.#o.transferLink, keys: r.keys.length });
    return { ok: true, link: this.#o.transferLink, keys: r.keys };
  }

  /** Lifecycle metadata of a transferred key, from this side's KM (Fig 12, last step). */
  record(m: LifecycleMetadata): void {
    this.#lifecycle.push(m);
    publishIwnControl({ kind: 'lifecycle', controller: this.#o.id, ...m });
  }

  lifecycle(): readonly LifecycleMetadata[] {
    return this.#lifecycle;
  }
}
