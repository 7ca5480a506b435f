/**
 * One network's controller and manager interworking functions outside the interworking node (the
 * unprimed case of Y.3818 clause 6.2: "otherwise, Cxi can be used"; Mxi likewise): controller-A
 * (or B) runs in its own network, in a process of its own (`qkdn-edge node` with role
 * interworking-controller, host/node/iwn-controller.ts), with its XLMO beside it.
 *
 *   QKDN-A                         IWN                                  QKDN-B
 *   controller-A IWF, XLMO-A  <---- Cxi, Mxi (border endpoint, pinned, ctx border) ---->  controller-B IWF, XLMO-B
 *        ^ Ck (mutual TLS, CA-A)                                                  Ck (CA-B) ^
 *        +-------------------- KM-A  ==Kxi-1'/Kxi-2'==  KM-B ------------------------------+
 *
 * Towards its KM in the IWN it serves Ck (ck-link.ts is the KM's end): the Fig 12 admission
 * (CkTransferRequirement → ControllerIwf.checkTransfer → CkTransferDecision), the lifecycle
 * metadata, the KM's faults and recoveries (Fig 13), its stock (CkKmStatus: what the controller
 * IWF collects), and the KMLM's transfer reports for the XLMO (Fig 14, accounting). Towards the
 * other network's host it speaks Cxi (CxiStatus) and Mxi (sealed end to end) through the gateway
 * model's border endpoint: this provider's CA and certificate, the peer pinned by fingerprint,
 * every message through this provider's border filter (nothing of its internal topology crosses).
 *
 * Functional elements of clause 7.2 it carries outside the IWN: the routing control function
 * (the controller IWF's suspend and resume on a fault, shared over Cxi) and the fault management
 * function (the XLMO's Fig 14 over Mxi), with those ControllerIwf and XlmoIwf carry.
 */
import { ControllerIwf, type KmView } from './controller-iwf.js';
import { publishIwnControl } from './diagnostics.js';
import { iwnProviderTopology } from './iwn.js';
import { BorderEndpoint, type BorderConnection } from '../border/endpoint.js';
import { BorderFilter } from '../border/filter.js';
import type { BorderPeer } from '../border/pinning.js';
import type { SharedSae } from '../border/policy.js';
import type { IwMessage } from '../messages.js';
import type { CkKmStatus } from '../ck/km-status.js';
import { epochSeq, MxiSealer, type ManagerKeys } from '../mxi/seal.js';
import { XlmoIwf } from '../mxi/xlmo-iwf.js';
import type { Topology } from '../../km/topology.js';

export interface IwnControllerHostOptions {
  readonly provider: string;
  readonly peerProvider: string;
  /** This host's node ID (its certificate's CN, from its provider's CA). */
  readonly node: string;
  readonly tls: { readonly key: string; readonly cert: string };
  /** The IWN's KM of this network, pinned; it dials in on `ck`. */
  readonly km: BorderPeer;
  readonly ck: { readonly host: string; readonly port: number };
  /** The other network's host, pinned; with `host`/`port` this side dials it, else it dials `listen`. */
  readonly peer: BorderPeer;
  readonly listen?: { readonly host: string; readonly port: number };
  /** This network's topology (for its border filter: what is internal). */
  readonly topology: Topology;
  /** This network's SAEs shared with the other network, and the other's this network places on the IWN's KM. */
  readonly shares: readonly SharedSae[];
  readonly foreign: readonly string[];
  readonly transferLink: string;
  readonly xlmo: { readonly keys: ManagerKeys; readonly peer: { readonly id: string; readonly publicKey: Uint8Array } };
  readonly statusIntervalMs?: number;
  readonly reportIntervalMs?: number;
  /** How old the KM's last CkKmStatus may be for its stock and link to count. */
  readonly staleMs?: number;
  /** Sees every payload crossing the border (Cxi, Mxi), after filtering: a border recording. */
  readonly tap?: (direction: 'out' | 'in', payload: Buffer) => void;
}

/** The KM in the IWN as its controller outside sees it: from its last CkKmStatus. */
class RemoteKm implements KmView {
  readonly nodeId: string;
  #status: { s: CkKmStatus; at: number } | null = null;
  readonly #cbs = new Set<(saes: readonly string[]) => void>();
  readonly #staleMs: number;

  constructor(node: string, staleMs: number) {
    this.nodeId = node;
    this.#staleMs = staleMs;
  }

  update(s: CkKmStatus): void {
    this.#status = { s, at: Date.now() };
  }

  fresh(): CkKmStatus | null {
    return this.#status && Date.now() - this.#status.at <= this.#staleMs ? this.#status.s : null;
  }

  stock(sae: string): number {
    return this.fresh()?.saes.find((x) => x.sae === sae)?.stock ?? 0;
  }

  recovered(saes: readonly string[]): void {
    for (const cb of this.#cbs) cb(saes);
  }

  onRecovered(cb: (saes: readonly string[]) => void): () => void {
    this.#cbs.add(cb);
    return () => this.#cbs.delete(cb);
  }
}

export class IwnControllerHost {
  readonly controller: ControllerIwf;
  readonly xlmo: XlmoIwf;
  readonly filter: BorderFilter;
  readonly #km: RemoteKm;
  readonly #ck: BorderEndpoint;
  readonly #border: BorderEndpoint;
  #kmConn: BorderConnection | null = null;
  #peerConn: BorderConnection | null = null;
  #redial: NodeJS.Timeout | null = null;
  #report: NodeJS.Timeout | null = null;
  #stopped = false;

  private constructor(o: IwnControllerHostOptions) {
    this.#km = new RemoteKm(o.km.node, o.staleMs ?? 3000);
    const foreign = new Set(o.foreign);
    this.filter = new BorderFilter(
      iwnProviderTopology(o.provider, o.topology, o.km.node, foreign, o.peerProvider, o.peer.node, o.transferLink),
      { provider: o.provider, peers: new Map([[o.peerProvider, o.shares]]) },
      o.peerProvider,
    );
    const send = (name: 'CxiStatus' | 'MxiSealed', body: never) => {
      const c = this.#peerConn;
      if (!c || c.closed) throw new Error(`no Cxi/Mxi connection to ${o.peer.node}`);
      c.send(name, body);
    };
    this.controller = new ControllerIwf({
      provider: o.provider,
      id: `controller-${o.provider}`,
      km: this.#km,
      transferLink: o.transferLink,
      shared: o.shares,
      share: (st) => send('CxiStatus', st as never),
      transferLinkUp: () => !!this.#kmConn && !this.#kmConn.closed && this.#km.fresh()?.transferLinkUp === true,
      ...(o.statusIntervalMs ? { statusIntervalMs: o.statusIntervalMs } : {}),
    });
    this.xlmo = new XlmoIwf({
      id: o.xlmo.keys.id,
      provider: o.provider,
      peerProvider: o.peerProvider,
      peer: o.xlmo.peer.id,
      // a restarted host starts above every seq it sealed before: the other XLMO keeps running
      sealer: new MxiSealer(o.xlmo.keys, new Map([[o.xlmo.peer.id, o.xlmo.peer.publicKey]]), { firstSeq: epochSeq() }),
      filter: this.filter,
      transferLink: o.transferLink,
      ctx: 'border',
      send: (m) => send('MxiSealed', m as never),
      publish: publishIwnControl,
    });
    this.#ck = new BorderEndpoint({ provider: o.provider, node: o.node, tls: o.tls, peers: [o.km], filters: new Map(), ctx: 'border', serves: ['Ck'], internal: true, onMessage: (c, m) => this.#onCk(c, m) });
    this.#ck.on('connection', (c: BorderConnection) => {
      this.#kmConn = c;
      publishIwnControl({ kind: 'ck-link', controller: this.controller.id, km: o.km.node, state: 'up' });
    });
    const tap = o.tap;
    this.#border = new BorderEndpoint({
      provider: o.provider,
      node: o.node,
      tls: o.tls,
      peers: [o.peer],
      filters: new Map([[o.peerProvider, this.filter]]),
      ctx: 'border',
      serves: ['Cxi', 'Mxi'],
      onMessage: (_c, m) => this.#onBorder(m),
      ...(tap ? { tap: (dir: 'out' | 'in', _p: unknown, payload: Buffer) => tap(dir, payload) } : {}),
    });
    this.#border.on('connection', (c: BorderConnection) => (this.#peerConn = c));
  }

  #onCk(conn: BorderConnection, m: IwMessage): void {
    switch (m.name) {
      case 'CkKmStatus':
        this.#km.update(m.body);
        return;
      case 'CkTransferRequirement': {
        const d = this.controller.checkTransfer(m.body);
        const body = d.ok ? { re: m.id, transfer: m.body.transfer, ok: true, link: d.link, keys: [...d.keys] } : { re: m.id, transfer: m.body.transfer, ok: false, status: d.status, reason: d.reason.slice(0, 256) };
        conn.send('CkTransferDecision', body);
        return;
      }
      case 'CkLifecycle':
        this.controller.record(m.body);
        return;
      case 'CkFault':
        if (m.body.kind === 'recovered') this.#km.recovered(m.body.saes);
        else for (const sae of m.body.saes) this.controller.fault(sae, m.body.cause ?? 'reported by the KM');
        return;
      case 'CkTransferReport': {
        const r = m.body;
        if (r.outcome === 'failed') this.xlmo.report({ step: r.step!, status: r.status! });
        else this.xlmo.transferred({ master: r.master, slave: r.slave, direction: r.direction!, keys: r.keys!, bits: r.bits!, ms: r.ms ?? 0 });
        return;
      }
      default:
        return;
    }
  }

  #onBorder(m: IwMessage): void {
    if (m.name === 'CxiStatus') this.controller.onPeerStatus(m.body);
    else if (m.rp === 'Mxi') this.xlmo.onMessage(m);
  }

  /** Listens for the KM (Ck) and for, or dials, the other network's host (Cxi, Mxi); starts sharing. */
  static async start(o: IwnControllerHostOptions): Promise<IwnControllerHost> {
    const h = new IwnControllerHost(o);
    await h.#ck.listen(o.ck.port, o.ck.host);
    if (o.listen) await h.#border.listen(o.listen.port, o.listen.host);
    if (o.peer.host !== undefined && o.peer.port !== undefined) {
      const dial = async () => {
        if (h.#stopped || (h.#peerConn && !h.#peerConn.closed)) return;
        h.#peerConn = await h.#border.connect(o.peer.node).catch(() => null);
      };
      await dial();
      h.#redial = setInterval(() => void dial(), 1000);
    }
    h.controller.start();
    h.#report = setInterval(() => h.xlmo.share(), o.reportIntervalMs ?? 60_000);
    return h;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#redial) clearInterval(this.#redial);
    if (this.#report) clearInterval(this.#report);
    this.controller.stop();
    await Promise.all([this.#ck.close(), this.#border.close()]);
  }
}
