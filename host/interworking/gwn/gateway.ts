/**
 * A gateway node's interworking functions (ITU-T Y.3818 clauses 6.1 and 7.1, procedure of Fig 9):
 * what a GWN adds to its key manager to carry keys across its provider's border.
 *
 * Inside its own network a GWN fronts the peer provider's shared SAEs: the network's
 * configuration lists each of them as served by the GWN, so a supply from an SAE of this network
 * to one of them is, for every other node, an ordinary supply whose slave KME is the GWN (with a
 * relay inside the network when the master's KM shares no link with it). The GWN intercepts that
 * supply's KeySupplyNotification and, before it answers, carries the keys over:
 *
 *   master side (GWN-A)                                     slave side (GWN-B)
 *   Kx KeySupplyNotification from KM-A (keys reserved here)
 *   routing control:   CxiRouteRequest ───────────────▶ B checks the slave SAE is shared and served
 *                      ◀─────────────── CxiRouteResponse (GWN pair, Qx link, cost, stock)
 *   key relay:         Kxi1KeyRelay (keys ⊕ Qx pads) ─▶ ⊕ its Qx pads; stores the keys durably
 *                      ◀───────────────────── Kxi1Ack
 *   key supply:        Kxi2KeySupplyNotification ─────▶ reserves them for the slave SAE(s)
 *                      ◀────── Kxi2KeySupplyNotificationResponse; then Kxi1RelayCompletion
 *   answers KM-A ok (the master SAE gets its keys only now, so the slave can always fetch them);
 *   the copies reserved here are spent.
 *
 * The slave SAE may sit anywhere in B: when GWN-B does not serve it itself, GWN-B carries the
 * keys on inside B to the slave SAE's KM over B's own key relay, on the route B's control layer
 * gives (the key manager's Router), under the key IDs the master SAE got, and notifies that KM of
 * the supply (KeyManager.handOver); only then does it answer the Kxi-2 supply with ok. A sees the
 * GWN pair and B's segment totals only, never the route inside B.
 *
 * The key IDs the master SAE gets are those the slave SAE fetches with; the key material crosses
 * only as Qx-padded ciphertext and inside B only under B's link pads. Nothing of A's network
 * crosses: the border endpoint's filter (border/filter.ts) refuses any message naming an internal
 * node, link or unshared SAE. A Qx unit pads one relay: it is consumed durably before the
 * ciphertext leaves, at the other end before it is used, and the Kxi-1 sessions refuse reuse.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { KeyManager } from '../../km/key-manager.js';
import type { KxAnswer, KxTransport } from '../../km/kx/transport.js';
import type { KxMessage } from '../../km/kx/messages.js';
import type { KeySupplyNotification } from '../../km/kx/key-supply-notification.js';
import type { KeyChange } from '../../km/key-record.js';
import { concat } from '../../km/kma.js';
import { statusOf, type KxErrorStatus, type KxStatus } from '../../km/kx/status.js';
import { linkSink } from '../../kq/link-store.js';
import { deriveUnitId } from '../../kq/unit-id.js';
import type { KeySource } from '../../kq/key-source.js';
import { BorderEndpoint, type BorderConnection } from '../border/endpoint.js';
import { BorderFilter } from '../border/filter.js';
import type { BorderPeer } from '../border/pinning.js';
import type { ProviderTopology, SharedSae, SharingPolicy } from '../border/policy.js';
import { widestShortest, type StockedTopology } from '../cxi/segments.js';
import type { CxiRouteRequest } from '../cxi/route-request.js';
import { IwError } from '../errors.js';
import type { IwBody, IwMessage, IwMessageName } from '../messages.js';
import type { IwStatus } from '../status.js';
import type { Kxi1KeyRelay } from '../kxi-1/key-relay.js';
import { KX_STATUS_OF, Kxi1RelayHop, type RelayContext } from '../kxi-1/relay-hop.js';
import { Kxi1Sessions } from '../kxi-1/session.js';
import { LEDGER_UNITS } from '../kxi-1/key-ledger.js';
import { compareLedgers, ledgerDigest, packLedger, qxTag, unpackLedger, type LedgerEntry } from '../kxi-1/qx-ledger.js';
import type { Kxi2KeySupplyNotification } from '../kxi-2/key-supply-notification.js';

/**
 * Qx units compared per sync, oldest first: the next pads either end will use (units are used
 * oldest first, so each unit is compared before its turn), at a cost that does not grow with stock.
 */
const QX_COMPARED_UNITS = Math.min(512, LEDGER_UNITS);

export interface GatewayOptions {
  readonly provider: string;
  readonly km: KeyManager;
  /** The node's Kx transport (the gateway speaks Kx to its own network's KMs). */
  readonly kx: KxTransport;
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly listen: { readonly host: string; readonly port: number };
  /** The peer GWN, pinned. */
  readonly peer: BorderPeer & { readonly host: string; readonly port: number };
  readonly qx: string;
  /** The Qx link's key source (its peer is the peer GWN). */
  readonly qxSource: KeySource;
  /** The peer's SAEs this gateway fronts in its network. */
  readonly foreignSaes: readonly string[];
  /** This provider's SAEs shared with the peer (the border policy). */
  readonly shared: readonly SharedSae[];
  readonly timeoutMs: number;
  /** Every payload crossing the border (after filtering), for a recording. */
  readonly tap?: (direction: 'out' | 'in', payload: Buffer) => void;
  /** Gateway events (no key material), printed by the node. */
  readonly event?: (e: Record<string, unknown>) => void;
  readonly syncIntervalMs?: number;
  /** The border messages the gateway does not answer itself (Cxi status and rerouting, Mxi), for the node's controller and XLMO. */
  readonly onMessage?: (m: IwMessage) => void;
}

/** A failure of the border procedure, with the status the internal KM is answered with. */
export class GatewayError extends IwError {
  readonly status: KxErrorStatus;
  constructor(status: KxErrorStatus, message: string) {
    super('ERR_IW_SESSION', message);
    this.status = status;
  }
}

/** Held on the slave side: the keys of a relay from the peer, at the KM that serves its target. */
interface Inbound {
  readonly keys: readonly string[];
  readonly km: string;
  readonly target: string;
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export class Gateway {
  readonly #o: GatewayOptions;
  readonly #km: KeyManager;
  readonly #me: string;
  readonly #peerNode: string;
  readonly #endpoint: BorderEndpoint;
  readonly #filters = new Map<string, BorderFilter>();
  readonly #sessions: Kxi1Sessions;
  readonly #hop: Kxi1RelayHop;
  readonly #contexts = new Map<string, RelayContext>();
  /** Qx pads committed as used but not yet sent: the sessions still count them as held. */
  readonly #sending = new Set<string>();
  readonly #inbound = new Map<string, Inbound>();
  readonly #counts = { crossedOut: 0, crossedIn: 0, failed: 0, qxCompared: 0, qxVoided: 0, qxMismatched: 0 };
  /** Tags of the Qx units' material, computed once per unit (the bytes never change). */
  readonly #tags = new Map<string, Uint8Array>();
  /** Qx units ledger comparisons found here only (allocated by the peer), with when first found so. */
  #suspects = new Map<string, number>();
  #comparing: Promise<void> = Promise.resolve();
  /** Below this Qx unit index every unit is used or burned here. */
  #floor = 0;
  #peerHigh = -1;
  #conn: BorderConnection | null = null;
  #dialing: Promise<BorderConnection> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #unregister: () => void = () => {};
  #unwatch: () => void = () => {};
  #port = 0;
  #lastProblem = '';
  #synced = false;

  constructor(o: GatewayOptions) {
    this.#o = o;
    this.#km = o.km;
    this.#me = o.km.nodeId;
    this.#peerNode = o.peer.node;
    this.#refreshFilter();
    this.#endpoint = new BorderEndpoint({
      provider: o.provider,
      node: this.#me,
      tls: o.tls,
      peers: [o.peer],
      filters: this.#filters,
      ctx: 'border',
      serves: ['Kxi-1', 'Kxi-2', 'Cxi', 'Mxi'],
      onMessage: (conn, m) => void this.#onBorder(conn, m),
      ...(o.tap ? { tap: (d: 'out' | 'in', _p: BorderPeer, payload: Buffer) => o.tap!(d, payload) } : {}),
      connectTimeoutMs: o.timeoutMs,
    });
    this.#endpoint.on('refused', (code: string, reason: string) => o.event?.({ kind: 'border-refused', code, reason }));
    this.#sessions = new Kxi1Sessions({ qx: o.qx, holdsUnit: (id) => this.#sending.has(id) || this.#holdsQx(id) });
    this.#hop = new Kxi1RelayHop({ qx: o.qx, sessions: this.#sessions, connection: () => this.#conn, context: (r) => this.#contexts.get(r) });
  }

  get port(): number {
    return this.#port;
  }

  /** This provider's border filter for the peer (what the XLMO passes Mxi through before sealing). */
  get filter(): BorderFilter {
    return this.#filters.get(this.#o.peer.provider)!;
  }

  /** What the border policy lets the peer know of this provider's network (Cxi topology summary). */
  get view(): ProviderTopology {
    return this.#provider();
  }

  /** Whether the border connection to the peer GWN is open. */
  get peerUp(): boolean {
    return !!this.#conn && !this.#conn.closed;
  }

  /** Sends a message to the peer GWN (through the border filter), dialling if needed. */
  async sendPeer<N extends IwMessageName>(name: N, body: IwBody<N>): Promise<void> {
    (await this.#dial()).send(name, body);
  }

  /** Supplies crossed out and in, failed; Qx ledger comparisons, units they voided, of which with diverged material. */
  get counts(): Readonly<{ crossedOut: number; crossedIn: number; failed: number; qxCompared: number; qxVoided: number; qxMismatched: number }> {
    return { ...this.#counts };
  }

  /** Refused peers by code (a third provider's GWN fails the handshake: ERR_IW_PEER_NOT_PINNED). */
  refusals(): ReadonlyMap<string, number> {
    return this.#endpoint.refusals();
  }

  async start(): Promise<number> {
    const km = this.#km;
    const src = this.#o.qxSource;
    const ends: [string, string] = [this.#me, this.#peerNode];
    src.start(linkSink(km.store, { linkId: this.#o.qx, ends, peer: this.#peerNode, unitBits: km.unitBits, capacity: km.maxKeyCount }), km.store.high(this.#peerNode, 'link'));
    // The border hop of a relay the KM itself routes to the peer GWN goes out as Kxi-1.
    this.#unregister = km.hops.register(this.#peerNode, this.#hop);
    this.#unwatch = km.network.onChange(() => this.#refreshFilter());
    const { port } = await this.#endpoint.listen(this.#o.listen.port, this.#o.listen.host);
    this.#port = port;
    this.#timer = setInterval(() => void this.#tick(), this.#o.syncIntervalMs ?? 500);
    void this.#tick();
    return port;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#unregister();
    this.#unwatch();
    await this.#o.qxSource.stop();
    await this.#endpoint.close();
  }

  // ---- border policy ------------------------------------------------------------------------------

  /** This provider's view for the border filter: its nodes and links, its own SAEs, its Qx link. */
  #provider(): ProviderTopology {
    const t = this.#km.topology;
    const foreign = new Set(this.#o.foreignSaes);
    return {
      provider: this.#o.provider,
      network: this.#stocked(),
      saes: new Map([...t.saes].filter(([s]) => !foreign.has(s))),
      borders: [{ node: this.#me, peerProvider: this.#o.peer.provider, peerNode: this.#peerNode, qx: this.#o.qx, cost: 1, stock: this.#qxAvailable() }],
    };
  }

  #refreshFilter(): void {
    const policy: SharingPolicy = { provider: this.#o.provider, peers: new Map([[this.#o.peer.provider, this.#o.shared]]) };
    this.#filters.set(this.#o.peer.provider, new BorderFilter(this.#provider(), policy, this.#o.peer.provider));
  }

  /** The network with stock where this node knows it (its own links); others are not limited here. */
  #stocked(): StockedTopology {
    const t = this.#km.topology;
    return {
      nodes: t.nodes,
      version: this.#km.network.version,
      links: t.links.map((l) => {
        const other = l.ends[0] === this.#me ? l.ends[1] : l.ends[1] === this.#me ? l.ends[0] : null;
        return { id: l.id, ends: l.ends, cost: 1, stock: other ? this.#km.store.counts(other, 'link').available : Number.MAX_SAFE_INTEGER };
      }),
    };
  }

  // ---- the Qx link ----------------------------------------------------------------------------------

  #holdsQx(id: string): boolean {
    const r = this.#km.store.get(id);
    return !!r && r.peer === this.#peerNode && r.origin === 'link' && r.state === 'available';
  }

  #qxAvailable(): number {
    return this.#km.store.counts(this.#peerNode, 'link').available;
  }

  /** Units below both ends' highs as this end knows them: the window both can compare. */
  #window(): number {
    return this.#peerHigh < 0 ? 0 : Math.min(this.#km.store.high(this.#peerNode, 'link'), this.#peerHigh) + 1;
  }

  /**
   * This end's ledger of the unused Qx units with an index below `upTo`: IDs and tags of their
   * material. More units than QX_COMPARED_UNITS shrink the window to the oldest of them.
   */
  #ledger(upTo: number): { upTo: number; entries: LedgerEntry[] } {
    const s = this.#km.store;
    // Qx unit IDs follow from the link and the index: the window is read unit by unit from the
    // lowest index still unused (units are used oldest first), never by scanning the store.
    const entries: LedgerEntry[] = [];
    let floorMoves = true;
    for (let i = this.#floor; i < upTo; i++) {
      const id = deriveUnitId(this.#o.qx, i);
      const r = s.get(id);
      if (!r || r.state !== 'available' || r.peer !== this.#peerNode || r.origin !== 'link') {
        // Below both highs a unit not stored never will be (a full pool drops it); a used one never comes back.
        if (floorMoves && (!r || (r.state !== 'available' && r.state !== 'reserved'))) this.#floor = i + 1;
        this.#tags.delete(id);
        continue;
      }
      floorMoves = false;
      if (entries.length === QX_COMPARED_UNITS) return { upTo: i, entries };
      let tag = this.#tags.get(id);
      if (!tag) {
        let material: Uint8Array;
        try {
          material = s.readKey(id);
        } catch {
          continue; // used since it was read: not in the ledger
        }
        tag = qxTag(this.#o.qx, id, material);
        material.fill(0);
        this.#tags.set(id, tag);
      }
      entries.push({ unit: id, tag });
    }
    return { upTo, entries };
  }

  #qxSync(window: number): { qx: string; high: number; available: number; upTo: number; digest: Uint8Array } {
    const s = this.#km.store;
    const { upTo, entries } = this.#ledger(window);
    return { qx: this.#o.qx, high: Math.max(0, s.high(this.#peerNode, 'link')), available: s.counts(this.#peerNode, 'link').available, upTo, digest: ledgerDigest(entries) };
  }

  /** Each end's side of a ledger comparison: its diverging units voided (never one it is sending as a pad), counted. */
  #diverged(own: readonly LedgerEntry[], peer: readonly LedgerEntry[]): Promise<void> {
    // One comparison at a time (this end's own and the peer's may cross): each sees the last one's voids.
    const run = this.#comparing.then(() => this.#compare(own, peer));
    this.#comparing = run.catch(() => {});
    return run;
  }

  async #compare(own: readonly LedgerEntry[], peer: readonly LedgerEntry[]): Promise<void> {
    // A pad the peer used is spared while its relay may still be on its way (the relay's deadline, 4 × timeout).
    const d = compareLedgers(own, peer, (u) => this.#km.store.get(u)?.allocator === this.#me, this.#suspects, Date.now(), 4 * this.#o.timeoutMs + 1000);
    this.#suspects = d.suspects;
    this.#counts.qxCompared++;
    const ids = d.voidNow.filter((id) => !this.#sending.has(id) && this.#km.store.get(id)?.state === 'available');
    if (ids.length === 0) return;
    const mismatched = ids.filter((id) => d.mismatched.has(id)).length;
    await this.#km.store.commit({ burn: ids.map((id) => ({ id, to: 'voided' as const, reason: 'Qx key sync: diverged from the peer GWN' })) });
    for (const id of ids) this.#tags.delete(id);
    this.#counts.qxVoided += ids.length;
    this.#counts.qxMismatched += mismatched;
    this.#o.event?.({ kind: 'qx-diverged', qx: this.#o.qx, voided: ids.length, mismatched });
  }

  async #tick(): Promise<void> {
    try {
      const conn = await this.#dial();
      const mine = this.#qxSync(this.#window());
      const a = await conn.request('Kxi1KeySync', mine, this.#o.timeoutMs);
      if (a.name === 'Kxi1KeySync') {
        if (!this.#synced) this.#o.event?.({ kind: 'peer-synced', peer: this.#peerNode, qx: this.#o.qx, high: a.body.high });
        this.#synced = true;
        this.#peerHigh = Math.max(this.#peerHigh, a.body.high);
        // A different digest over the same window: the ledgers decide which units diverged.
        if (a.body.upTo === mine.upTo && !Buffer.from(a.body.digest).equals(mine.digest)) {
          const own = this.#ledger(mine.upTo);
          // A comparison the peer started may have voided units here since the digest was taken:
          // a ledger built now would make the peer void as lost what it should find diverged. Such
          // a round is stale; the next tick compares afresh.
          if (own.upTo === mine.upTo && Buffer.from(ledgerDigest(own.entries)).equals(mine.digest)) {
            const l = await conn.request('Kxi1KeyLedger', { qx: this.#o.qx, upTo: own.upTo, ...packLedger(own.entries) }, this.#o.timeoutMs);
            if (l.name === 'Kxi1KeyLedger' && l.body.upTo === own.upTo) await this.#diverged(own.entries, unpackLedger(l.body));
          }
        }
      }
      this.#lastProblem = '';
    } catch (e) {
      // the peer is not up yet or the connection broke: the next tick dials again (reported once)
      const problem = (e as Error).message;
      if (problem !== this.#lastProblem) this.#o.event?.({ kind: 'peer-unreachable', peer: this.#peerNode, reason: problem });
      this.#lastProblem = problem;
    }
  }

  #dial(): Promise<BorderConnection> {
    if (this.#conn && !this.#conn.closed) return Promise.resolve(this.#conn);
    this.#dialing ??= this.#endpoint
      .connect(this.#peerNode)
      .then((c) => {
        this.#conn = c;
        c.send('Kxi1Hello', { node: this.#me, provider: this.#o.provider, boot: this.#km.store.bootId, versions: [1], nonce: new Uint8Array(randomBytes(16)) });
        return c;
      })
      .finally(() => (this.#dialing = null));
    return this.#dialing;
  }

  // ---- Kx from this network ---------------------------------------------------------------------

  /** The Kx requests the gateway answers itself, or undefined for the key manager's own. */
  onKx(peer: string, m: KxMessage): Promise<KxAnswer> | undefined {
    if (m.name === 'KeySupplyNotification' && m.body.slaves.some((s) => this.#o.foreignSaes.includes(s))) return this.#outbound(peer, m.body);
    return undefined;
  }

  /** Master side: the keys KM-A reserved here for a foreign SAE go across before KM-A hears ok. */
  async #outbound(peer: string, n: KeySupplyNotification): Promise<KxAnswer> {
    const t0 = Date.now();
    const answer = (status: KxStatus, reason?: string): KxAnswer => ({ name: 'KeySupplyNotificationResponse', body: { status, ...(reason ? { reason: reason.slice(0, 500) } : {}) } });
    if (!n.slaves.every((s) => this.#o.foreignSaes.includes(s))) return answer('ERR_KM_NOT_PERMITTED', 'slave SAEs of one supply must all be across the same border');
    if (!this.#o.shared.some((s) => s.sae === n.master && n.size <= s.bits)) return answer('ERR_KM_POLICY_REFUSED', `${n.master} is not shared with ${this.#o.peer.provider} at ${n.size} bits`);
    const reserved = await this.#km.handleKx(peer, { name: 'KeySupplyNotification', body: n } as KxMessage);
    if (reserved.name !== 'KeySupplyNotificationResponse' || reserved.body.status !== 'ok') return reserved;
    const units = n.keys.flatMap((k) => k.units);
    try {
      await this.#cross(n, units);
    } catch (e) {
      this.#counts.failed++;
      await this.#km.store.commit({ burn: units.map((id) => ({ id, to: 'failed' as const, reason: `interworking supply ${n.supply} failed` })) });
      const status = e instanceof GatewayError ? e.status : statusOf(e) === 'ERR_KM_INTERNAL' ? 'ERR_KM_RELAY_FAILED' : (statusOf(e) as KxErrorStatus);
      this.#o.event?.({ kind: 'cross-failed', supply: n.supply, master: n.master, slaves: n.slaves, status, reason: (e as Error).message });
      return answer(status, (e as Error).message);
    }
    // The slave's KM holds them now; the copies reserved here are spent.
    await this.#km.store.commit({ change: units.map((id) => ({ id, from: ['reserved'], to: 'delivered', fields: { phase: undefined } })) });
    this.#counts.crossedOut++;
    this.#o.event?.({ kind: 'crossed', direction: 'out', supply: n.supply, master: n.master, slaves: n.slaves, keys: n.keys.length, bits: n.size, ms: Date.now() - t0 });
    return reserved;
  }

  async #cross(n: KeySupplyNotification, units: readonly string[]): Promise<void> {
    const t = this.#o.timeoutMs;
    const conn = await this.#dial().catch((e: Error) => {
      throw new GatewayError('ERR_KM_PEER_UNREACHABLE', `no border connection to ${this.#peerNode}: ${e.message}`);
    });
    const relay = randomUUID();
    const deadline = Date.now() + 4 * t;
    // Routing control: the peer computes its own segment; only the GWN pair and totals come back.
    const route = await conn.request('CxiRouteRequest', { request: randomUUID(), relay, initiator: n.master, target: n.slaves[0]!, keys: n.keys.length, bits: n.size, deadline, priority: 0, attempt: 0, avoid: [] }, t);
    if (route.name !== 'CxiRouteResponse') throw new GatewayError('ERR_KM_RELAY_FAILED', `answered ${route.name} to a route request`);
    if (route.body.status !== 'ok') throw new GatewayError(KX_STATUS_OF[route.body.status], `${this.#o.peer.provider} has no segment: ${route.body.status} ${route.body.reason ?? ''}`);
    // Key relay: the keys under fresh Qx pads, consumed here before the ciphertext leaves.
    const s = this.#km.store;
    if (this.#peerHigh < 0) await this.#tick();
    const pads = s.take(this.#peerNode, 'link', units.length, this.#peerHigh);
    if (!pads) throw new GatewayError('ERR_KM_INSUFFICIENT_KEYS', `fewer than ${units.length} Qx units on ${this.#o.qx} held at both ends`);
    const material = concat(units.map((u) => s.readKey(u)));
    const ct = xor(material, concat(pads.map((p) => s.readKey(p))));
    material.fill(0);
    for (const p of pads) this.#sending.add(p);
    try {
      await s.commit({ change: pads.map((id) => ({ id, from: ['available'], to: 'consumed', fields: { op: relay, purpose: 'pad' } })) });
    } catch (e) {
      for (const p of pads) this.#sending.delete(p);
      s.release(pads);
      throw e;
    }
    this.#contexts.set(relay, { initiator: n.master, targets: n.slaves, deadline, attempt: 0 });
    let out;
    try {
      out = await this.#hop.send(this.#peerNode, { relay, route: [this.#me, this.#peerNode], hop: 1, keys: units, bits: this.#km.unitBits, pads, ct }, 2 * t);
    } finally {
      for (const p of pads) this.#sending.delete(p);
      this.#contexts.delete(relay);
    }
    if (!out.ok) throw new GatewayError(out.status, `Kxi-1 relay ${relay}: ${out.reason}`);
    // Key supply: the slave's KM reserves the keys for the slave SAE(s), under the same key IDs.
    const sup = await conn.request('Kxi2KeySupplyNotification', { supply: n.supply, master: n.master, masterProvider: this.#o.provider, slaves: n.slaves, slaveProvider: this.#o.peer.provider, size: n.size, keys: n.keys.map((k) => ({ id: k.id, relay })) }, t);
    if (sup.name !== 'Kxi2KeySupplyNotificationResponse' || sup.body.status !== 'ok') {
      const status: IwStatus = sup.name === 'Kxi2KeySupplyNotificationResponse' ? sup.body.status : 'server_side_general_error';
      conn.send('Kxi1Void', { relay, initiator: n.master, targets: n.slaves, all: true });
      throw new GatewayError(status === 'ok' ? 'ERR_KM_RELAY_FAILED' : KX_STATUS_OF[status], `Kxi-2 supply ${n.supply}: ${status}`);
    }
  }

  // ---- the border -----------------------------------------------------------------------------------

  async #onBorder(conn: BorderConnection, m: IwMessage): Promise<void> {
    try {
      switch (m.name) {
        case 'Kxi1KeySync':
          this.#peerHigh = Math.max(this.#peerHigh, m.body.high);
          // a late answer to one of ours (its request timed out) is not a request: no answer to it
          if (m.body.re !== undefined || m.body.qx !== this.#o.qx) return;
          // The same window as the peer's (it is below both highs), or a smaller one if it holds too many.
          conn.send('Kxi1KeySync', { ...this.#qxSync(m.body.upTo), re: m.id });
          return;
        case 'Kxi1KeyLedger': {
          if (m.body.re !== undefined || m.body.qx !== this.#o.qx) return;
          // This end's ledger goes back as it was before anything is voided: both ends compare the same two.
          const own = this.#ledger(m.body.upTo);
          conn.send('Kxi1KeyLedger', { qx: this.#o.qx, upTo: own.upTo, ...packLedger(own.entries), re: m.id });
          if (own.upTo === m.body.upTo) await this.#diverged(own.entries, unpackLedger(m.body));
          return;
        }
        case 'Kxi1KeyRelay': {
          const a = await this.#inboundRelay(m.body);
          conn.send('Kxi1Ack', { re: m.id, ...a });
          return;
        }
        case 'Kxi2KeySupplyNotification': {
          const a = await this.#inboundSupply(conn, m.body);
          conn.send('Kxi2KeySupplyNotificationResponse', { re: m.id, supply: m.body.supply, ...a });
          return;
        }
        case 'CxiRouteRequest':
          conn.send('CxiRouteResponse', { re: m.id, request: m.body.request, ...this.#segment(m.body) });
          return;
        case 'Kxi1RelayCompletion':
          conn.send('Kxi1Ack', { re: m.id, ...this.#sessions.completed(m.body) });
          return;
        case 'Kxi1Void': {
          const v = this.#sessions.void(m.body);
          const held = this.#inbound.get(m.body.relay);
          if (v.answer.status === 'ok' && held && v.completions.some((c) => c.outcome === 'voided')) {
            // the keys arrived but were never supplied: burn them here
            await this.#km.store.commit({ burn: held.keys.map((id) => ({ id, to: 'voided' as const, reason: `voided across the border (${m.body.relay})` })) });
          }
          conn.send('Kxi1Ack', { re: m.id, ...v.answer });
          return;
        }
        default:
          // hellos are checked by the endpoint; status, rerouting and Mxi go to the node's controller and XLMO
          this.#o.onMessage?.(m);
          return;
      }
    } catch (e) {
      this.#o.event?.({ kind: 'border-error', message: m.name, reason: (e as Error).message });
      try {
        if (m.name === 'Kxi1KeyRelay' || m.name === 'Kxi1RelayCompletion' || m.name === 'Kxi1Void') conn.send('Kxi1Ack', { re: m.id, status: 'server_side_general_error' });
      } catch {
        // nothing more to say across the border
      }
    }
  }

  /** Routing control, slave side: this provider's own segment, from this GWN to the target's KM. */
  #segment(r: CxiRouteRequest): { status: IwStatus; reason?: string; border?: { local: string; peer: string; qx: string }; cost?: number; stock?: number; version?: number } {
    if (!this.#o.shared.some((s) => s.sae === r.target)) return { status: 'unauthorized', reason: 'the target SAE is not shared with your provider' };
    if (!this.#o.foreignSaes.includes(r.initiator)) return { status: 'unauthorized', reason: 'the initiator SAE is not one this gateway fronts' };
    const km = this.#km.topology.saes.get(r.target);
    if (!km) return { status: 'target_sae_id_not_recognized' };
    const units = Math.ceil(r.bits / this.#km.unitBits) * r.keys;
    const path = widestShortest(this.#stocked(), this.#me, km, units);
    if (!path) return { status: 'no_known_route' };
    const stock = Math.min(path.stock, this.#qxAvailable());
    if (stock < units) return { status: 'insufficient_key_material' };
    return { status: 'ok', border: { local: this.#me, peer: this.#peerNode, qx: this.#o.qx }, cost: path.cost + 1, stock: Math.min(stock, 0xffffffff), version: this.#km.network.version };
  }

  /** Key relay, slave side: unpad with this end's Qx units, then relay inside this network to the target's KM. */
  async #inboundRelay(m: Kxi1KeyRelay): Promise<{ status: IwStatus; reason?: string }> {
    const r = this.#sessions.receive(m);
    if (r.duplicate || r.status !== 'ok') return { status: r.status, ...(r.reason ? { reason: r.reason } : {}) };
    const s = this.#km.store;
    const fail = (status: IwStatus, reason: string) => {
      this.#sessions.void({ relay: m.relay, initiator: m.initiator, targets: m.targets, all: true });
      this.#counts.failed++;
      return { status, reason };
    };
    const padBytes = concat(m.pads.map((p) => s.readKey(p)));
    await s.commit({ change: m.pads.map((id) => ({ id, from: ['available'], to: 'consumed', fields: { op: m.relay, purpose: 'pad' } })) });
    if (m.bits !== this.#km.unitBits) return fail('invalid_routing', `units of ${m.bits} bits; this network uses ${this.#km.unitBits}`);
    const target = m.targets[0]!;
    if (!this.#o.shared.some((x) => x.sae === target) || !m.targets.every((x) => this.#km.topology.saes.get(x) === this.#km.topology.saes.get(target))) return fail('unauthorized', 'a target SAE is not shared with your provider');
    const km = this.#km.topology.saes.get(target);
    if (!km) return fail('target_sae_id_not_recognized', 'the target SAE is not served in this network');
    const material = xor(m.ct, padBytes);
    padBytes.fill(0);
    const per = m.bits / 8;
    try {
      // Durably here before the ack: the keys join the pool this gateway shares with the peer GWN.
      await s.commit({
        create: m.keys.map((id, i) => ({ id, peer: this.#peerNode, origin: 'relay' as const, allocator: this.#peerNode, bytes: material.subarray(i * per, (i + 1) * per), state: 'available' as const, fields: { op: m.relay } })),
      });
    } catch (e) {
      this.#o.event?.({ kind: 'inside-failed', relay: m.relay, status: statusOf(e), reason: (e as Error).message });
      return fail('server_side_general_error', 'the keys could not be stored');
    } finally {
      material.fill(0);
    }
    this.#inbound.set(m.relay, { keys: m.keys, km, target });
    return { status: 'ok' };
  }

  /** Key supply, slave side: the slave's KM reserves the relayed keys for the slave SAE(s). */
  async #inboundSupply(conn: BorderConnection, n: Kxi2KeySupplyNotification): Promise<{ status: IwStatus; reason?: string; accepted?: string[] }> {
    if (n.masterProvider !== this.#o.peer.provider || n.slaveProvider !== this.#o.provider) return { status: 'unauthorized', reason: 'providers do not match this border' };
    if (!this.#o.foreignSaes.includes(n.master)) return { status: 'unauthorized', reason: 'the master SAE is not one this gateway fronts' };
    const per = Math.ceil(n.size / this.#km.unitBits);
    const byKm = new Map<string, { id: string; units: string[] }[]>();
    const relays = new Set<string>();
    for (const k of n.keys) {
      const held = this.#inbound.get(k.relay);
      const at = held?.keys.indexOf(k.id) ?? -1;
      if (!held || at < 0 || at + per > held.keys.length || !n.slaves.includes(held.target)) return { status: 'key_not_present', reason: `key ${k.id} did not arrive with relay ${k.relay}` };
      const list = byKm.get(held.km) ?? [];
      list.push({ id: k.id, units: held.keys.slice(at, at + per) });
      byKm.set(held.km, list);
      relays.add(k.relay);
    }
    if (byKm.size !== 1) return { status: 'invalid_routing', reason: 'the keys of one supply reached different KMs' };
    const [km, keys] = [...byKm][0]!;
    const ok = km === this.#me ? await this.#reserveHere(n, keys) : await this.#carryInside(n, km, keys);
    if (ok.status !== 'ok') return ok;
    for (const relay of relays) {
      const held = this.#inbound.get(relay)!;
      const c = this.#sessions.delivered(relay, held.target);
      this.#inbound.delete(relay);
      void conn.request('Kxi1RelayCompletion', c, this.#o.timeoutMs).catch(() => {});
    }
    this.#counts.crossedIn++;
    this.#o.event?.({ kind: 'crossed', direction: 'in', supply: n.supply, master: n.master, slaves: n.slaves, keys: n.keys.length, bits: n.size, ...(km === this.#me ? {} : { inside: true }) });
    return { status: 'ok', accepted: keys.map((k) => k.id) };
  }

  /** The slave SAE is served here: the relayed keys reserved for it as a master KM's supply would be. */
  async #reserveHere(n: Kxi2KeySupplyNotification, keys: readonly { id: string; units: string[] }[]): Promise<{ status: IwStatus; reason?: string }> {
    // The KSA's side of a supply, as for a master KM inside the network: reserved for the slave SAE(s).
    const change: KeyChange[] = [];
    for (const k of keys)
      k.units.forEach((id, j) =>
        change.push({
          id,
          from: ['available'],
          to: 'reserved',
          fields: { op: n.supply, purpose: 'supply', phase: 'await-sae', head: k.id, ...(j === 0 ? { units: [...k.units], sizeBits: n.size, master: n.master, slaves: [...n.slaves], pending: [...n.slaves] } : {}) },
        }),
      );
    try {
      await this.#km.store.commit({ change });
    } catch (e) {
      this.#o.event?.({ kind: 'inside-failed', supply: n.supply, status: statusOf(e), reason: (e as Error).message });
      return { status: 'key_not_present', reason: 'the relayed keys are no longer available' };
    }
    return { status: 'ok' };
  }

  /**
   * The slave SAE is served by `km`, inside this network: the keys go on over this network's key
   * relay (route from its Router) under their IDs and are reserved there for the slave SAE(s).
   * This gateway's copies are used up first, in one durable step, so they can never serve twice;
   * if the carry fails, the relay has burned and voided what it used, and the master side voids.
   */
  async #carryInside(n: Kxi2KeySupplyNotification, km: string, keys: readonly { id: string; units: string[] }[]): Promise<{ status: IwStatus; reason?: string }> {
    const s = this.#km.store;
    const units = keys.flatMap((k) => k.units);
    let bytes: Uint8Array[];
    try {
      bytes = units.map((u) => s.readKey(u));
      await s.commit({ change: units.map((id) => ({ id, from: ['available'], to: 'consumed', fields: { op: n.supply, purpose: 'relay' } })) });
    } catch (e) {
      this.#o.event?.({ kind: 'inside-failed', supply: n.supply, status: statusOf(e), reason: (e as Error).message });
      return { status: 'key_not_present', reason: 'the relayed keys are no longer available' };
    }
    const handed = keys.map((k) => ({ id: k.id, units: k.units.map((id) => ({ id, bytes: bytes[units.indexOf(id)]! })) }));
    try {
      await this.#km.handOver({ supply: n.supply, dest: km, master: n.master, slaves: n.slaves, size: n.size, keys: handed });
    } catch (e) {
      this.#counts.failed++;
      const status = statusOf(e);
      this.#o.event?.({ kind: 'inside-failed', supply: n.supply, status, reason: (e as Error).message });
      // The reason stays inside: it would name this network's nodes.
      return { status: status === 'ERR_KM_INSUFFICIENT_KEYS' ? 'insufficient_key_material' : status === 'ERR_KM_NO_ROUTE' ? 'no_known_route' : 'server_side_general_error', reason: 'the keys could not be carried to the slave SAE’s KM' };
    } finally {
      for (const b of bytes) b.fill(0);
    }
    return { status: 'ok' };
  }
}
