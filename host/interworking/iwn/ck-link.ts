/**
 * The KM side of Ck in the unprimed case (Y.3818 clause 6.2: "otherwise, Cxi can be used"): when
 * a network's controller and manager IWFs do not run in the interworking node but in that
 * network (host/interworking/iwn/controller-host.ts, a process of its own), the IWN's KM of that
 * network reaches them over this link: mutual TLS 1.3 with its own provider's certificates, the
 * controller's certificate pinned, the Ck messages of ../ck/. It stands in for the in-process
 * controller IWF (TransferControl): the Fig 12 admission is a CkTransferRequirement answered by a
 * CkTransferDecision; the lifecycle metadata, the KM's faults (Fig 13) and the KMLM's transfer
 * reports (Fig 14, accounting) are notifications; the collection of Fig 13 is a CkKmStatus every
 * status interval and on a recovery.
 *
 * Notifications sent while the link is down wait in a bounded queue (the oldest dropped, counted)
 * and go out when it is up again; a requirement while it is down is refused as no_known_route: a
 * transfer is never admitted without its controller. Functional element of clause 7.2: the
 * session control function (each transfer admitted by its controller before any key moves).
 */
import type { KeyManager } from '../../km/key-manager.js';
import { BorderEndpoint, type BorderConnection } from '../border/endpoint.js';
import type { BorderPeer } from '../border/pinning.js';
import type { SharedSae } from '../border/policy.js';
import type { IwBody } from '../messages.js';
import type { LifecycleMetadata } from './diagnostics.js';
import { publishIwnControl } from './diagnostics.js';
import { kmView, type TransferControl, type TransferDecision, type TransferRequirement } from './controller-iwf.js';
import type { TransferFailure } from './km-iwf.js';

export interface CkLinkOptions {
  readonly provider: string;
  readonly km: KeyManager;
  readonly tls: { readonly key: string; readonly cert: string };
  /** The controller IWF of this KM's network: its node ID, address, pinned certificate and this provider's CA. */
  readonly controller: BorderPeer & { readonly host: string; readonly port: number };
  /** This network's SAEs shared with the other network (whose stock the controller shares). */
  readonly shared: readonly SharedSae[];
  readonly transferLinkUp: () => boolean;
  readonly statusIntervalMs?: number;
  readonly timeoutMs?: number;
}

type Notification = { readonly name: 'CkLifecycle'; readonly body: IwBody<'CkLifecycle'> } | { readonly name: 'CkFault'; readonly body: IwBody<'CkFault'> } | { readonly name: 'CkTransferReport'; readonly body: IwBody<'CkTransferReport'> };

const QUEUE = 1024;

export class CkLink implements TransferControl {
  readonly #o: CkLinkOptions;
  readonly #endpoint: BorderEndpoint;
  readonly #view;
  #conn: BorderConnection | null = null;
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  #seq = 0;
  #stopped = false;
  #dialing = false;
  readonly #queue: Notification[] = [];
  #dropped = 0;

  constructor(o: CkLinkOptions) {
    this.#o = o;
    this.#view = kmView(o.km);
    this.#endpoint = new BorderEndpoint({
      provider: o.provider,
      node: o.km.nodeId,
      tls: o.tls,
      peers: [o.controller],
      filters: new Map(),
      ctx: 'border',
      serves: ['Ck'],
      internal: true,
      onMessage: () => {}, // the controller only answers
    });
  }

  get up(): boolean {
    return !!this.#conn && !this.#conn.closed;
  }

  /** Notifications dropped because the queue was full while the link was down. */
  get dropped(): number {
    return this.#dropped;
  }

  start(): void {
    this.#unsubscribe = this.#view.onRecovered((saes) => {
      this.#notify({ name: 'CkFault', body: { km: this.#o.km.nodeId, kind: 'recovered', saes: [...saes] } });
      this.#status();
    });
    void this.#tick();
    this.#timer = setInterval(() => void this.#tick(), this.#o.statusIntervalMs ?? 250);
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    if (!this.up && !this.#dialing) {
      this.#dialing = true;
      try {
        this.#conn = await this.#endpoint.connect(this.#o.controller.node);
        publishIwnControl({ kind: 'ck-link', km: this.#o.km.nodeId, controller: this.#o.controller.node, state: 'up' });
        this.#flush();
      } catch {
        this.#conn = null;
      } finally {
        this.#dialing = false;
      }
    }
    this.#status();
  }

  #status(): void {
    if (!this.up) return;
    try {
      this.#conn!.send('CkKmStatus', { km: this.#o.km.nodeId, seq: ++this.#seq, at: Date.now(), transferLinkUp: this.#o.transferLinkUp(), saes: this.#o.shared.map(({ sae }) => ({ sae, stock: this.#view.stock(sae) })) });
    } catch {
      // the connection went down: the next tick dials again
    }
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.up) {
      const n = this.#queue[0]!;
      try {
        this.#conn!.send(n.name, n.body as never);
      } catch {
        return;
      }
      this.#queue.shift();
    }
  }

  #notify(n: Notification): void {
    this.#queue.push(n);
    if (this.#queue.length > QUEUE) {
      this.#queue.shift();
      this.#dropped++;
    }
    this.#flush();
  }

  async checkTransfer(r: TransferRequirement): Promise<TransferDecision> {
    const refuse = (reason: string): TransferDecision => ({ ok: false, status: 'no_known_route', reason });
    if (!this.up) return refuse(`the controller ${this.#o.controller.node} is unreachable`);
    try {
      const a = await this.#conn!.request('CkTransferRequirement', { ...r, slaves: [...r.slaves], keys: [...r.keys] }, this.#o.timeoutMs ?? 10_000);
      if (a.name !== 'CkTransferDecision' || a.body.transfer !== r.transfer) return refuse('unexpected answer from the controller');
      const d = a.body;
      return d.ok ? { ok: true, link: d.link!, keys: d.keys! } : { ok: false, status: d.status!, reason: d.reason ?? d.status! };
    } catch (e) {
      return refuse(`the controller ${this.#o.controller.node} did not answer: ${(e as Error).message}`);
    }
  }

  record(m: LifecycleMetadata): void {
    this.#notify({ name: 'CkLifecycle', body: { ...m, keys: [...m.keys] } });
  }

  fault(sae: string, cause: string): void {
    this.#notify({ name: 'CkFault', body: { km: this.#o.km.nodeId, kind: 'fault', saes: [sae], cause: cause.slice(0, 256) } });
    this.#status();
  }

  /** The KMLM's report of a failed transfer (Fig 14 starts here), for the XLMO outside the IWN. */
  failed(f: TransferFailure): void {
    const step = f.step;
    this.#notify({ name: 'CkTransferReport', body: { transfer: f.transfer, outcome: 'failed', master: f.master, slave: f.slaves[0]!, step, status: f.status.slice(0, 64), reason: f.reason.slice(0, 256) } });
  }

  /** A transfer that ended well, for the XLMO's accounting. */
  transferred(t: { transfer: string; master: string; slave: string; direction: 'out' | 'in'; keys: number; bits: number; ms: number }): void {
    this.#notify({ name: 'CkTransferReport', body: { transfer: t.transfer, outcome: 'done', master: t.master, slave: t.slave, direction: t.direction, keys: t.keys, bits: t.bits, ms: Math.round(t.ms) } });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#timer) clearInterval(this.#timer);
    await this.#endpoint.close();
  }
}
