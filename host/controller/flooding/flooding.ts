/**
 * The distributed form's link-state protocol, run by the controller in every node.
 *
 * Each node originates an advertisement of its own links (state and stock) when they change,
 * after a hold-down (default 200 ms, so a burst of changes makes one advertisement), and again
 * every refresh period (so a lost advertisement or a healed partition cannot leave a node stale
 * for long). It floods every advertisement it accepts to its other neighbours, sends its whole
 * database to a neighbour that connects, and drops entries older than the maximum age. An
 * advertisement is accepted only from a known origin, with a valid signature by the origin's
 * node key and a sequence number above the one held; anything else is refused, counted and
 * changes nothing. Every node applies the same database to its view, so every node computes the
 * same routes (router.ts): the field's standard practice, no consensus.
 */
import { EventEmitter } from 'node:events';
import { ControlChannel, type ChannelTls, type ControlAnswer, type Endpoint } from '../channel.js';
import type { ControlMessage } from '../wire.js';
import { signedBytes, type AdvertisedLink, type LinkStateAdvertisement } from './link-state-advertisement.js';
import type { OriginKeys } from './origin-keys.js';
import { signedConfigBytes, type ConfigAdvertisement } from './config-advertisement.js';
import { LINK_STATUSES, type ControllerView, type NetworkConfig } from '../view.js';
import { publishLsa, type LsaEvent } from '../diagnostics.js';

function publishConfigRefused(node: string, from: string, adv: ConfigAdvertisement, reason: string): void {
  publishLsa({ node, origin: adv.origin, seq: adv.version, outcome: 'config-refused', from, reason });
}

export interface FloodingOptions {
  readonly nodeId: string;
  readonly tls: ChannelTls;
  readonly listen: Endpoint;
  /** The nodes this one shares a link with, and where their controllers listen. */
  readonly neighbours: ReadonlyMap<string, Endpoint>;
  readonly origins: OriginKeys;
  readonly sign: (data: Uint8Array) => Uint8Array;
  /** This node's links as it sees them now. */
  readonly localLinks: () => readonly AdvertisedLink[];
  readonly holdDownMs?: number;
  readonly refreshMs?: number;
  readonly maxAgeMs?: number;
  readonly requestTimeoutMs?: number;
  /** The configuration version this node starts with (its file's; default 1). */
  readonly configVersion?: number;
}

export interface FloodingCounters {
  originated: number;
  accepted: number;
  stale: number;
  badSignature: number;
  unknownOrigin: number;
  malformed: number;
  sendFailures: number;
  /** Configuration versions taken from another node, and those refused (stale, conflicting, forged, unknown origin). */
  configAccepted: number;
  configRefused: number;
}

export interface FloodingEvents {
  /** The database changed: `origin`'s entry was replaced, added or aged out. */
  lsdb: [origin: string];
  /** A configuration version was installed (made here or flooded from its origin). */
  config: [config: NetworkConfig, version: number, origin: string];
}

interface Entry {
  readonly lsa: LinkStateAdvertisement;
  readonly receivedAt: number;
}

const ok: ControlAnswer = { name: 'Ack', body: { status: 'ok' } };

export class FloodingNode extends EventEmitter<FloodingEvents> {
  readonly nodeId: string;
  readonly counters: FloodingCounters = { originated: 0, accepted: 0, stale: 0, badSignature: 0, unknownOrigin: 0, malformed: 0, sendFailures: 0, configAccepted: 0, configRefused: 0 };
  readonly #o: FloodingOptions;
  readonly #channel: ControlChannel;
  readonly #lsdb = new Map<string, Entry>();
  #neighbours: ReadonlyMap<string, Endpoint>;
  // Starts from the clock so a restarted node's advertisements supersede the ones it made before.
  #seq = Date.now() * 1000;
  #lastOriginated = 0;
  #holdDown: NodeJS.Timeout | null = null;
  #dueAt = 0;
  #refresh: NodeJS.Timeout | null = null;
  #stopped = false;
  /** The newest configuration version held, and its advertisement (null: the file's, never flooded). */
  #configVersion: number;
  #configAdv: ConfigAdvertisement | null = null;

  constructor(o: FloodingOptions) {
    super();
    this.nodeId = o.nodeId;
    this.#o = o;
    this.#neighbours = o.neighbours;
    this.#configVersion = o.configVersion ?? 1;
    this.#channel = new ControlChannel({
      nodeId: o.nodeId,
      tls: o.tls,
      listen: o.listen,
      accept: (peer) => this.#neighbours.has(peer),
      onRequest: (peer, m) => this.#onRequest(peer, m),
      connectTimeoutMs: o.requestTimeoutMs ?? 2000,
    });
    this.#channel.on('protocolError', (peer) => {
      this.counters.malformed++;
      this.#event({ origin: '?', seq: 0, outcome: 'malformed', from: peer });
    });
    // Database exchange: a neighbour that (re)connects gets everything we hold.
    this.#channel.on('connected', (peer) => {
      for (const e of this.#lsdb.values()) this.#send(peer, e);
      if (this.#configAdv) this.#sendConfig(peer, this.#configAdv);
    });
  }

  get holdDownMs(): number {
    return this.#o.holdDownMs ?? 200;
  }

  async start(): Promise<number> {
    const port = await this.#channel.listen();
    this.#originate();
    const refreshMs = this.#o.refreshMs ?? 30_000;
    this.#refresh = setInterval(() => {
      this.#expire();
      this.#originate();
    }, refreshMs);
    this.#refresh.unref();
    return port;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#holdDown) clearTimeout(this.#holdDown);
    if (this.#refresh) clearInterval(this.#refresh);
    await this.#channel.close();
  }

  /**
   * This node's links changed: advertise after the hold-down, one advertisement per burst. An
   * `urgent` change (a link's status) goes out at once unless one went out less than a hold-down
   * ago, then at the end of it: routes must leave a cut link fast, stock can wait.
   */
  changed(urgent = false): void {
    if (this.#stopped) return;
    const now = Date.now();
    const due = urgent ? Math.max(now, this.#lastOriginated + this.holdDownMs) : now + this.holdDownMs;
    if (this.#holdDown) {
      if (due >= this.#dueAt) return;
      clearTimeout(this.#holdDown);
      this.#holdDown = null;
    }
    if (due <= now) {
      this.#originate();
      return;
    }
    this.#dueAt = due;
    this.#holdDown = setTimeout(() => {
      this.#holdDown = null;
      this.#originate();
    }, due - now);
  }

  /**
   * Configuration control changed this node's links: who it floods to and accepts from. A node
   * no longer a neighbour is disconnected; a new one gets the whole database when it connects
   * (the next advertisement, sent at once, dials it).
   */
  setNeighbours(n: ReadonlyMap<string, Endpoint>): void {
    const gone = [...this.#neighbours.keys()].filter((p) => !n.has(p));
    this.#neighbours = n;
    for (const p of gone) this.#channel.drop(p);
    this.changed(true);
  }

  /** The database: origin → its newest accepted advertisement (with its current age). */
  entries(): LinkStateAdvertisement[] {
    return [...this.#lsdb.values()].map((e) => this.#aged(e));
  }

  entry(origin: string): LinkStateAdvertisement | undefined {
    const e = this.#lsdb.get(origin);
    return e ? this.#aged(e) : undefined;
  }

  #aged(e: Entry): LinkStateAdvertisement {
    return { ...e.lsa, age: e.lsa.age + Math.max(0, Date.now() - e.receivedAt) };
  }

  #originate(): void {
    if (this.#stopped) return;
    const seq = Math.max(this.#seq + 1, Date.now() * 1000);
    this.#seq = seq;
    const links = [...this.#o.localLinks()].sort((a, b) => (a.link < b.link ? -1 : a.link > b.link ? 1 : 0));
    const lsa: LinkStateAdvertisement = { origin: this.nodeId, seq, age: 0, links, sig: this.#o.sign(signedBytes({ origin: this.nodeId, seq, links })) };
    this.#lastOriginated = Date.now();
    this.counters.originated++;
    this.#install(lsa, null);
  }

  get lastOriginated(): number {
    return this.#lastOriginated;
  }

  #install(lsa: LinkStateAdvertisement, from: string | null): void {
    const e: Entry = { lsa, receivedAt: Date.now() };
    this.#lsdb.set(lsa.origin, e);
    for (const n of this.#neighbours.keys()) if (n !== from && n !== lsa.origin) this.#send(n, e);
    this.emit('lsdb', lsa.origin);
  }

  #send(peer: string, e: Entry): void {
    const ep = this.#neighbours.get(peer);
    if (!ep || this.#stopped) return;
    this.#channel.request(peer, ep, 'LinkStateAdvertisement', this.#aged(e), this.#o.requestTimeoutMs ?? 2000).catch(() => this.counters.sendFailures++);
  }

  #event(e: Omit<LsaEvent, 'node'>): void {
    publishLsa({ node: this.nodeId, ...e });
  }

  #onRequest(peer: string, m: ControlMessage): ControlAnswer {
    if (m.name === 'ConfigAdvertisement') return this.receiveConfig(peer, m.body);
    if (m.name !== 'LinkStateAdvertisement') return { name: 'Ack', body: { status: 'ERR_CTL_UNKNOWN_TYPE', reason: `${m.name} is not flooded` } };
    return this.receive(peer, m.body);
  }

  get configVersion(): number {
    return this.#configVersion;
  }

  /** Configuration control at this node: `config` as `version` (above the one held), signed, installed here and flooded. */
  originateConfig(config: NetworkConfig, version: number): void {
    if (version <= this.#configVersion) throw new RangeError(`configuration version ${version} is not above ${this.#configVersion}`);
    const adv: ConfigAdvertisement = { origin: this.nodeId, version, config, sig: this.#o.sign(signedConfigBytes({ origin: this.nodeId, version, config })) };
    this.#installConfig(adv, null);
  }

  #installConfig(adv: ConfigAdvertisement, from: string | null): void {
    this.#configVersion = adv.version;
    this.#configAdv = adv;
    for (const n of this.#neighbours.keys()) if (n !== from && n !== adv.origin) this.#sendConfig(n, adv);
    this.emit('config', adv.config, adv.version, adv.origin);
  }

  #sendConfig(peer: string, adv: ConfigAdvertisement): void {
    const ep = this.#neighbours.get(peer);
    if (!ep || this.#stopped) return;
    this.#channel.request(peer, ep, 'ConfigAdvertisement', adv, this.#o.requestTimeoutMs ?? 2000).catch(() => this.counters.sendFailures++);
  }

  /**
   * Checks and installs a configuration version from neighbour `from`. Above the held version it
   * is taken; the same version from another origin is taken only from the lower origin ID (two
   * nodes that changed the configuration at once end on the same version everywhere); the rest is
   * refused, counted and changes nothing.
   */
  receiveConfig(from: string, adv: ConfigAdvertisement): ControlAnswer {
    const refuse = (status: string, reason: string): ControlAnswer => {
      this.counters.configRefused++;
      publishConfigRefused(this.nodeId, from, adv, reason);
      return { name: 'Ack', body: { status, reason } };
    };
    if (!this.#o.origins.has(adv.origin)) return refuse('ERR_CTL_LSA_UNKNOWN_ORIGIN', `${adv.origin} is not a node of this network`);
    const held = this.#configAdv;
    if (held && adv.version === held.version && adv.origin === held.origin && Buffer.compare(signedConfigBytes(adv), signedConfigBytes(held)) === 0) return ok;
    const newer = adv.version > this.#configVersion || (held !== null && adv.version === held.version && adv.origin < held.origin);
    if (!newer) return refuse('ERR_CTL_LSA_STALE', `configuration version ${adv.version} from ${adv.origin} does not supersede version ${this.#configVersion}${held ? ` from ${held.origin}` : ''}`);
    if (!this.#o.origins.verify(adv.origin, signedConfigBytes(adv), adv.sig)) return refuse('ERR_CTL_LSA_SIGNATURE', `configuration version ${adv.version} is not signed by ${adv.origin}`);
    this.counters.configAccepted++;
    publishLsa({ node: this.nodeId, origin: adv.origin, seq: adv.version, outcome: 'config-accepted', from });
    this.#installConfig(adv, from);
    return ok;
  }

  /** Checks and installs an advertisement from neighbour `from`; refusals are counted and change nothing. */
  receive(from: string, lsa: LinkStateAdvertisement): ControlAnswer {
    const refuse = (outcome: LsaEvent['outcome'], status: string, reason: string): ControlAnswer => {
      this.#event({ origin: lsa.origin, seq: lsa.seq, outcome, from });
      return { name: 'Ack', body: { status, reason } };
    };
    if (!this.#o.origins.has(lsa.origin)) {
      this.counters.unknownOrigin++;
      return refuse('unknown-origin', 'ERR_CTL_LSA_UNKNOWN_ORIGIN', `${lsa.origin} is not a node of this network`);
    }
    // The cheap refusals first: a signature is checked only on what would change the database
    // (each advertisement reaches a node once per neighbour, and most copies are ones it holds).
    const held = lsa.origin === this.nodeId ? undefined : this.#lsdb.get(lsa.origin);
    if (held && lsa.seq === held.lsa.seq && Buffer.compare(Buffer.from(lsa.sig), Buffer.from(held.lsa.sig)) === 0 && Buffer.compare(Buffer.from(signedBytes(lsa)), Buffer.from(signedBytes(held.lsa))) === 0) return ok;
    if (held && lsa.seq <= held.lsa.seq) {
      this.counters.stale++;
      return refuse('stale', 'ERR_CTL_LSA_STALE', `seq ${lsa.seq} is not above ${held.lsa.seq}`);
    }
    if (lsa.origin !== this.nodeId && lsa.age > this.#maxAge()) {
      this.counters.stale++;
      return refuse('stale', 'ERR_CTL_LSA_STALE', `age ${lsa.age} ms exceeds ${this.#maxAge()} ms`);
    }
    if (!this.#o.origins.verify(lsa.origin, signedBytes(lsa), lsa.sig)) {
      this.counters.badSignature++;
      return refuse('bad-signature', 'ERR_CTL_LSA_SIGNATURE', `advertisement of ${lsa.origin} seq ${lsa.seq} is not signed by ${lsa.origin}`);
    }
    if (lsa.origin === this.nodeId) {
      // Our own, from before a restart: jump past it so the next one supersedes it everywhere.
      if (lsa.seq >= this.#seq) {
        this.#seq = lsa.seq;
        this.#originate();
      }
      return ok;
    }
    this.counters.accepted++;
    this.#event({ origin: lsa.origin, seq: lsa.seq, outcome: 'accepted', from });
    this.#install(lsa, from);
    return ok;
  }

  #maxAge(): number {
    return this.#o.maxAgeMs ?? 3 * (this.#o.refreshMs ?? 30_000);
  }

  #expire(): void {
    for (const [origin, e] of this.#lsdb)
      if (origin !== this.nodeId && this.#aged(e).age > this.#maxAge()) {
        this.#lsdb.delete(origin);
        this.emit('lsdb', origin);
      }
  }

  /**
   * Applies the database to a view configured with the network: each link takes the worse status
   * of its two ends' advertisements (a link neither end advertises is OFF) and each end's stock.
   * This node's own end is taken as it is now (`localLinks`), not as last advertised: a change of
   * its own link counts for its own routes at once, while the advertisement of it may still wait
   * for the hold-down (as a router recomputes on its own interface going down before its
   * rate-limited advertisement goes out); otherwise the older advertised state, applied again on
   * any neighbour's advertisement, would route relays over a link this node has just seen cut.
   */
  applyTo(view: ControllerView): void {
    const own = new Map(this.#o.localLinks().map((x) => [x.link, x]));
    const advertised = (n: string, link: string) => (n === this.nodeId ? own.get(link) : this.#lsdb.get(n)?.lsa.links.find((x) => x.link === link));
    for (const l of view.links()) {
      const ends = l.ends.map((n) => ({ node: n, adv: advertised(n, l.id) }));
      const seen = ends.filter((e) => e.adv !== undefined);
      if (seen.length === 0) {
        if (l.status !== 'OFF') view.reportLink(l.id, { status: 'OFF', skr: 0, eskr: l.eskr, qber: l.qber, qberAlarm: l.qberAlarm });
        continue;
      }
      const worst = seen.reduce((w, e) => (LINK_STATUSES.indexOf(e.adv!.status) > LINK_STATUSES.indexOf(w.adv!.status) ? e : w));
      const a = worst.adv!;
      const qberAlarm = seen.some((e) => e.adv!.qberAlarm);
      if (a.status !== l.status || a.skr !== l.skr || a.eskr !== l.eskr || a.qber !== l.qber || qberAlarm !== l.qberAlarm) view.reportLink(l.id, { status: a.status, skr: a.skr, eskr: a.eskr, qber: a.qber, qberAlarm });
      for (const e of seen) {
        const before = l.endState.get(e.node);
        if (before?.stockBits !== e.adv!.stockBits || before.consumptionBps !== e.adv!.consumptionBps) view.reportStock(l.id, e.node, { stockBits: e.adv!.stockBits, consumptionBps: e.adv!.consumptionBps, at: Date.now() });
      }
    }
  }
}
