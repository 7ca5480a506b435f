/**
 * An interworking node (Y.3818 clauses 6.2, 7.2, 8.2): one trusted node outside and between two
 * QKDNs, hosting KM-A (a member of QKDN-A, with its own store, storage key and QKD link into A,
 * certified by A's CA) and KM-B (likewise for B), with their controller and manager interworking
 * functions. There is no QKD link inside the IWN: module-A and module-B are not connected.
 *
 *   QKDN-A            IWN                                                   QKDN-B
 *   KM-a1 --Qx/Kx-- [ module-A  KM-A ==Kxi-1'/Kxi-2'== KM-B  module-B ] --Qx/Kx-- KM-b1
 *                     controller-A <===== Cxi' =====> controller-B
 *                     XLMO-A       <===== Mxi' =====> XLMO-B
 *
 * KM-A and KM-B each have a border endpoint (mutual TLS 1.3, each with its own provider's
 * certificate, each pinning the other's; ctx IWN: the primed reference points) on loopback; KM-B's
 * dials KM-A's. The controllers and managers of the two sides speak Cxi' and Mxi' over the same
 * pinned connection. Every message passes the sending provider's border filter (the enforcing half
 * of the policy-based control function). A tamper zeroizes
 * both KMs and wipes every transfer pad and held key (security management function).
 *
 * Configuration management function (clause 7.2), as far as it goes here: the transfer link and
 * the SAEs each network shares are provisioned when the IWN starts, from its configuration, and
 * checked against both networks' (each must place the other's shared SAEs on its KM of the IWN);
 * they do not change while it runs.
 */
import type { KeyManager } from '../../km/key-manager.js';
import type { Topology } from '../../km/topology.js';
import type { KxAnswer } from '../../km/kx/transport.js';
import type { KxMessage } from '../../km/kx/messages.js';
import { BorderEndpoint, type BorderConnection } from '../border/endpoint.js';
import { BorderFilter } from '../border/filter.js';
import { fingerprintOf } from '../border/pinning.js';
import type { ProviderTopology, SharedSae, SharingPolicy } from '../border/policy.js';
import { IwError } from '../errors.js';
import type { IwMessage } from '../messages.js';
import { generateManagerKeys, MxiSealer } from '../mxi/seal.js';
import { ControllerIwf, kmView, type TransferControl } from './controller-iwf.js';
import { KmIwf, type KmIwfOptions } from './km-iwf.js';
import { TransferPads } from './transfer-pads.js';
import { XlmoIwf, type QclmDecision } from '../mxi/xlmo-iwf.js';
import { publishIwnControl } from './diagnostics.js';
import { JOURNAL_RETENTION_MS, type TransferJournal } from './transfer-journal.js';
import { CkLink, type CkLinkOptions } from './ck-link.js';

export interface IwnSideOptions {
  readonly provider: string;
  readonly km: KeyManager;
  /** This KM's certificate and key, from its provider's CA, and that CA's certificate. */
  readonly tls: { readonly key: string; readonly cert: string; readonly ca: string };
  /** This network's SAEs shared with the other network. */
  readonly shares: readonly SharedSae[];
  /** This KM's transfer journal (transfer-journal.ts), in its own data directory. */
  readonly journal: TransferJournal;
  /** This side's QCLM decisions on transfer faults (Fig 14), for its network's manager. */
  readonly onDecision?: (d: QclmDecision) => void;
  /**
   * This network's controller and manager IWFs outside the IWN (controller-host.ts), reached over
   * Ck (ck-link.ts): the unprimed case, the two joined by Cxi and Mxi. Both sides or neither.
   */
  readonly controller?: CkLinkOptions['controller'];
}

export interface IwnOptions {
  readonly node: string;
  /** The transfer link between KM-A and KM-B (Kxi-1'). */
  readonly transferLink: string;
  readonly a: IwnSideOptions;
  readonly b: IwnSideOptions;
  readonly statusIntervalMs?: number;
  readonly timeoutMs?: number;
  /** How often each XLMO shares its accounting and performance with the other (default 60 s). */
  readonly reportIntervalMs?: number;
  /** Sees every payload the two KMs' endpoints send and receive (an IWN recording, for tests and audits). */
  readonly tap?: (side: 'a' | 'b', direction: 'out' | 'in', payload: Buffer) => void;
}

export interface IwnSide {
  readonly provider: string;
  readonly km: KeyManager;
  readonly kmIwf: KmIwf;
  /** The controller and manager IWFs in the IWN (Cxi', Mxi'), or null when they are outside it. */
  readonly controller: ControllerIwf | null;
  readonly xlmo: XlmoIwf | null;
  /** The Ck link to the controller outside the IWN, or null when it is in the IWN. */
  readonly ck: CkLink | null;
  readonly filter: BorderFilter;
  connection(): BorderConnection | null;
}

/**
 * What a provider's border filter knows of it: its own nodes, links and SAEs (less the other
 * network's, placed on its KM of the IWN); the IWN's transfer link as its border.
 */
export function iwnProviderTopology(provider: string, t: Topology, kmNode: string, foreign: ReadonlySet<string>, peerProvider: string, peerNode: string, transferLink: string): ProviderTopology {
  return {
    provider,
    network: { nodes: [...t.nodes], links: t.links.map((l) => ({ id: l.id, ends: l.ends, cost: 1, stock: 0 })), version: 1 },
    saes: new Map([...t.saes].filter(([sae]) => !foreign.has(sae))),
    borders: [{ node: kmNode, peerProvider, peerNode, qx: transferLink, cost: 1, stock: 0 }],
  };
}

export class InterworkingNode {
  readonly node: string;
  readonly pads = new TransferPads();
  readonly a: IwnSide;
  readonly b: IwnSide;
  #connB: BorderConnection | null = null;
  #connA: BorderConnection | null = null;
  readonly #o: IwnOptions;
  readonly #listener: BorderEndpoint;
  #dialer: BorderEndpoint | null = null;
  #redial: NodeJS.Timeout | null = null;
  #report: NodeJS.Timeout | null = null;
  #upkeep: NodeJS.Timeout | null = null;
  #stopped = false;
  #zeroized = false;

  private constructor(o: IwnOptions) {
    this.#o = o;
    this.node = o.node;
    if (!o.a.controller !== !o.b.controller) throw new IwError('ERR_IW_CONFIG', 'both controllers in the IWN (Cxi\') or both outside it (Cxi over Ck): not one of each');
    if (o.a.km.unitBits !== o.b.km.unitBits) throw new IwError('ERR_IW_CONFIG', `KM-A's units are ${o.a.km.unitBits} bits, KM-B's ${o.b.km.unitBits}: an IWN joins networks of one unit size`);
    const keysA = generateManagerKeys(`xlmo-${o.a.provider}`);
    const keysB = generateManagerKeys(`xlmo-${o.b.provider}`);
    const side = (s: IwnSideOptions, peer: IwnSideOptions, conn: () => BorderConnection | null, keys: typeof keysA, peerKeys: typeof keysA): IwnSide => {
      const foreign = new Set(peer.shares.map((x) => x.sae));
      for (const sae of foreign)
        if (s.km.topology.saes.get(sae) !== s.km.nodeId) throw new IwError('ERR_IW_CONFIG', `${s.provider}'s network must place ${peer.provider}'s shared SAE ${sae} on ${s.km.nodeId}, the KM standing for it`);
      const policy: SharingPolicy = { provider: s.provider, peers: new Map([[peer.provider, s.shares]]) };
      const filter = new BorderFilter(iwnProviderTopology(s.provider, s.km.topology, s.km.nodeId, foreign, peer.provider, peer.km.nodeId, o.transferLink), policy, peer.provider);
      const send = (name: 'CxiStatus' | 'MxiSealed', body: never) => {
        const c = conn();
        if (!c || c.closed) throw new IwError('ERR_IW_PEER_UNREACHABLE', `no connection from ${s.km.nodeId} to ${peer.km.nodeId}`);
        c.send(name, body);
      };
      const linkUp = () => !!conn() && !conn()!.closed;
      // The controller and XLMO IWFs: in the IWN (Cxi', Mxi'), or outside it, reached over Ck.
      let controller: ControllerIwf | null = null;
      let xlmo: XlmoIwf | null = null;
      let ck: CkLink | null = null;
      let control: TransferControl;
      let report: Pick<KmIwfOptions, 'onFailure' | 'onTransferred'>;
      if (s.controller) {
        const link = new CkLink({ provider: s.provider, km: s.km, tls: s.tls, controller: s.controller, shared: s.shares, transferLinkUp: linkUp, ...(o.statusIntervalMs ? { statusIntervalMs: o.statusIntervalMs } : {}) });
        ck = control = link;
        report = { onFailure: (f) => link.failed(f), onTransferred: (t) => link.transferred(t) };
      } else {
        const c = new ControllerIwf({
          provider: s.provider,
          id: `controller-${s.provider}`,
          km: kmView(s.km),
          transferLink: o.transferLink,
          shared: s.shares,
          share: (st) => send('CxiStatus', st as never),
          transferLinkUp: linkUp,
          ...(o.statusIntervalMs ? { statusIntervalMs: o.statusIntervalMs } : {}),
        });
        const x = new XlmoIwf({ id: keys.id, provider: s.provider, peerProvider: peer.provider, peer: peerKeys.id, sealer: new MxiSealer(keys, new Map([[peerKeys.id, peerKeys.publicKey]])), filter, transferLink: o.transferLink, ctx: 'iwn', send: (m) => send('MxiSealed', m as never), publish: publishIwnControl, ...(s.onDecision ? { onDecision: s.onDecision } : {}) });
        controller = control = c;
        xlmo = x;
        report = { onFailure: (f) => x.report(f), onTransferred: (t) => x.transferred(t) };
      }
      const kmIwf = new KmIwf({
        provider: s.provider,
        peerProvider: peer.provider,
        km: s.km,
        controller: control,
        pads: this.pads,
        journal: s.journal,
        transferLink: o.transferLink,
        foreign,
        connection: conn,
        ...report,
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
      });
      return { provider: s.provider, km: s.km, kmIwf, controller, xlmo, ck, filter, connection: conn };
    };
    this.a = side(o.a, o.b, () => this.#connA, keysA, keysB);
    this.b = side(o.b, o.a, () => this.#connB, keysB, keysA);
    this.#listener = this.#endpoint('a');
    this.#listener.on('connection', (c: BorderConnection) => (this.#connA = c));
  }

  /**
   * A side's border endpoint: its own certificate, the other KM pinned (with its address when this
   * side dials), the primed context, the sending provider's filter.
   */
  #endpoint(which: 'a' | 'b', dial?: { host: string; port: number }): BorderEndpoint {
    const [s, peer, side] = which === 'a' ? [this.#o.a, this.#o.b, this.a] : [this.#o.b, this.#o.a, this.b];
    const tap = this.#o.tap;
    return new BorderEndpoint({
      provider: s.provider,
      node: s.km.nodeId,
      tls: s.tls,
      peers: [{ provider: peer.provider, node: peer.km.nodeId, fingerprint: fingerprintOf(peer.tls.cert), ca: peer.tls.ca, ...dial }],
      filters: new Map([[peer.provider, side.filter]]),
      ctx: 'iwn',
      // Cxi' and Mxi' only when both controllers and managers are in the IWN
      serves: s.controller ? ['Kxi-1', 'Kxi-2'] : ['Kxi-1', 'Kxi-2', 'Cxi', 'Mxi'],
      onMessage: (c, m) => this.#dispatch(side, c, m),
      ...(tap ? { tap: (dir: 'out' | 'in', _p: unknown, payload: Buffer) => tap(which, dir, payload) } : {}),
    });
  }

  #dispatch(side: IwnSide, conn: BorderConnection, m: IwMessage): void {
    if (m.rp === 'Kxi-1' || m.rp === 'Kxi-2') void side.kmIwf.onMessage(conn, m).catch(() => {});
    else if (m.name === 'CxiStatus') side.controller?.onPeerStatus(m.body);
    else if (m.rp === 'Mxi') side.xlmo?.onMessage(m);
  }

  /**
   * After a restart, before anything is served: the transfers the last process left unfinished are
   * settled from the two KMs' journals (a transfer not committed by its sender is voided at both
   * ends; a committed one stands). Old finished entries are dropped later (`#upkeep`), not here: a
   * master's KM whose answer was lost sends its Void only once it reaches this IWN again, however
   * long the IWN was down.
   */
  async #recover(): Promise<void> {
    const t0 = Date.now();
    const voidedIn = (await this.a.kmIwf.recoverIn(this.#o.b.journal)) + (await this.b.kmIwf.recoverIn(this.#o.a.journal));
    const voidedOut = (await this.a.kmIwf.recoverOut()) + (await this.b.kmIwf.recoverOut());
    if (voidedIn + voidedOut > 0) publishIwnControl({ kind: 'recovered', node: this.node, sent: voidedOut, received: voidedIn, ms: Date.now() - t0 });
  }

  /** Starts the endpoints (KM-B dials KM-A on loopback) and the controllers' status sharing. */
  static async start(o: IwnOptions): Promise<InterworkingNode> {
    const n = new InterworkingNode(o);
    await n.#recover();
    let pruned = Date.now();
    n.#upkeep = setInterval(() => {
      n.a.kmIwf.retryVoids();
      n.b.kmIwf.retryVoids();
      if (Date.now() - pruned > JOURNAL_RETENTION_MS / 6) {
        pruned = Date.now();
        void Promise.all([o.a.journal.prune(pruned - JOURNAL_RETENTION_MS), o.b.journal.prune(pruned - JOURNAL_RETENTION_MS)]).catch(() => {});
      }
    }, 1000);
    const { port } = await n.#listener.listen(0, '127.0.0.1');
    // KM-B dials KM-A on loopback: its endpoint is made once KM-A's port is known.
    const dialer = n.#endpoint('b', { host: '127.0.0.1', port });
    n.#dialer = dialer;
    const dial = async () => {
      if (n.#stopped || (n.#connB && !n.#connB.closed)) return;
      n.#connB = await dialer.connect(o.a.km.nodeId).catch(() => null);
    };
    await dial();
    n.#redial = setInterval(() => void dial(), 1000);
    for (let i = 0; i < 100 && !n.#connA; i++) await new Promise((r) => setTimeout(r, 20));
    for (const side of [n.a, n.b]) {
      side.controller?.start();
      side.ck?.start();
    }
    n.#report = setInterval(() => {
      n.a.xlmo?.share();
      n.b.xlmo?.share();
    }, o.reportIntervalMs ?? 60_000);
    return n;
  }

  /** The Kx hook of each side's node: KM-A (or KM-B) takes supplies for the other network's SAEs. */
  kx(side: 'a' | 'b', peer: string, m: KxMessage): Promise<KxAnswer> | KxAnswer | null {
    return (side === 'a' ? this.a : this.b).kmIwf.kx(peer, m);
  }

  get zeroized(): boolean {
    return this.#zeroized;
  }

  /** Tamper response: both KMs zeroized (their storage keys destroyed first), every pad and held key wiped. */
  async tamper(reason: string): Promise<void> {
    if (this.#zeroized) return;
    this.#zeroized = true;
    const t0 = Date.now();
    this.pads.wipe();
    this.a.kmIwf.wipe();
    this.b.kmIwf.wipe();
    await Promise.all([this.a.km.zeroize(), this.b.km.zeroize()]);
    publishIwnControl({ kind: 'zeroized', node: this.node, reason, kms: [this.a.km.nodeId, this.b.km.nodeId], ms: Date.now() - t0 });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#redial) clearInterval(this.#redial);
    if (this.#report) clearInterval(this.#report);
    if (this.#upkeep) clearInterval(this.#upkeep);
    this.a.controller?.stop();
    this.b.controller?.stop();
    await Promise.all([this.#listener.close(), this.#dialer?.close(), this.a.ck?.stop(), this.b.ck?.stop()]);
    this.pads.wipe();
  }
}
