/**
 * The KM interworking function of one side of an interworking node (Y.3818 clause 7.2): KM-A or
 * KM-B, a member of its own network (its store, its storage key, its QKD link into the network),
 * standing in that network for the other network's shared SAEs.
 *
 * Key transfer function (Fig 12, Kxi-1'): a KM of this network that supplies a key to a master
 * SAE for a slave SAE of the other network reserves the key here, at KM-A, as at any slave KME.
 * KM-A sends the requirement to its controller, which checks the key resources between KM-A and
 * KM-B and determines the transfer link and keys; KM-A takes the keys out of its store (deleted
 * there) and transfers them to KM-B as Kxi1KeyRelay with ctx IWN, padded with IWN transfer pads
 * (transfer-pads.ts). Key supply function (Kxi-2'): KM-A's KSA then notifies KM-B's KSA of the
 * supply (Kxi2KeySupplyNotification); KM-B hands the keys over to the slave SAE's KM in its own
 * network, padded with its own link units (host/km/hand-over.ts), reserved there for the slave,
 * and answers. Only then does KM-A answer the master's KM, which then gives the master its keys:
 * the slave SAE can always fetch them, once, by ID. Both KMs send the keys' lifecycle metadata to
 * their controllers. Session control function: Kxi1Sessions (pads used once, keys once, a
 * retransmission answered again, a void after delivery refused).
 */
import { randomUUID } from 'node:crypto';
import type { KeyManager } from '../../km/key-manager.js';
import type { KxAnswer } from '../../km/kx/transport.js';
import type { KxMessage } from '../../km/kx/messages.js';
import type { KeySupplyNotification } from '../../km/kx/key-supply-notification.js';
import { statusOf, type KxErrorStatus } from '../../km/kx/status.js';
import type { BorderConnection } from '../border/endpoint.js';
import type { IwMessage } from '../messages.js';
import type { IwStatus } from '../status.js';
import { Kxi1Sessions } from '../kxi-1/session.js';
import type { Kxi1KeyRelay } from '../kxi-1/key-relay.js';
import type { Kxi2KeySupplyNotification } from '../kxi-2/key-supply-notification.js';
import type { TransferControl } from './controller-iwf.js';
import type { TransferPads } from './transfer-pads.js';
import { publishIwnControl } from './diagnostics.js';
import type { InEntry, OutEntry, TransferJournal } from './transfer-journal.js';

export interface TransferFailure {
  readonly transfer: string;
  readonly km: string;
  readonly master: string;
  readonly slaves: readonly string[];
  readonly step: 'control' | 'kxi-1' | 'kxi-2' | 'hand-over';
  readonly status: string;
  readonly reason: string;
}

export interface KmIwfOptions {
  readonly provider: string;
  readonly peerProvider: string;
  readonly km: KeyManager;
  /** Its controller IWF: in the IWN (Cxi' case), or outside it over Ck (the unprimed case). */
  readonly controller: TransferControl;
  readonly pads: TransferPads;
  /** This KM's transfer journal (durable, beside its key store). */
  readonly journal: TransferJournal;
  readonly transferLink: string;
  /** The other network's SAEs this KM stands for (its network's topology has them on this KM). */
  readonly foreign: ReadonlySet<string>;
  /** The Kxi-1'/Kxi-2' connection to the other KM, when up. */
  readonly connection: () => BorderConnection | null;
  /** The KMLM's report of a failed transfer (Fig 14 starts here). */
  readonly onFailure: (f: TransferFailure) => void;
  /** The XLMO's accounting of a transfer that ended well (`out` of this network or `in`). */
  readonly onTransferred?: (t: { transfer: string; master: string; slave: string; direction: 'out' | 'in'; keys: number; bits: number; ms: number }) => void;
  readonly timeoutMs?: number;
}

const KX_OF: Partial<Record<IwStatus, KxErrorStatus>> = {
  insufficient_key_material: 'ERR_KM_INSUFFICIENT_KEYS',
  no_known_route: 'ERR_KM_NO_ROUTE',
  unauthorized: 'ERR_KM_NOT_PERMITTED',
  target_sae_id_not_recognized: 'ERR_KM_NOT_PERMITTED',
  timeout: 'ERR_KM_TIMEOUT',
};

export interface TransferCounts {
  transferred: number;
  failed: number;
  received: number;
  supplied: number;
}

interface Held {
  readonly relay: Kxi1KeyRelay;
  readonly material: Uint8Array;
  readonly timer: NodeJS.Timeout;
}

export class KmIwf {
  readonly #o: KmIwfOptions;
  readonly sessions: Kxi1Sessions;
  /** Keys KM-B holds between their Kxi-1' transfer and the Kxi-2' supply that hands them over, in memory only. */
  readonly #held = new Map<string, Held>();
  readonly #transfers: TransferCounts = { transferred: 0, failed: 0, received: 0, supplied: 0 };
  /** Supplies being transferred out now. */
  readonly #inFlight = new Set<string>();

  constructor(o: KmIwfOptions) {
    this.#o = o;
    this.sessions = new Kxi1Sessions({ qx: o.transferLink, holdsUnit: (id) => o.pads.holds(id) });
  }

  get node(): string {
    return this.#o.km.nodeId;
  }

  counts(): Readonly<TransferCounts> {
    return { ...this.#transfers };
  }

  /** Kx requests to this KM: a supply for SAEs of the other network becomes a transfer; everything else is the KM's. */
  kx(peer: string, m: KxMessage): Promise<KxAnswer> | null {
    if (m.name === 'Void') return this.#onVoid(peer, m);
    if (m.name !== 'KeySupplyNotification' || !m.body.slaves.some((s) => this.#o.foreign.has(s))) return null;
    this.#inFlight.add(m.body.supply);
    return this.#transferOut(peer, m).finally(() => this.#inFlight.delete(m.body.supply));
  }

  async #transferOut(peer: string, m: Extract<KxMessage, { name: 'KeySupplyNotification' }>): Promise<KxAnswer> {
    const o = this.#o;
    const km = o.km;
    const n: KeySupplyNotification = m.body;
    const t0 = performance.now();
    const heads = n.keys.map((k) => k.id);
    const units = n.keys.reduce((c, k) => c + k.units.length, 0);
    const answer = (status: KxErrorStatus, reason: string): KxAnswer => ({ name: 'KeySupplyNotificationResponse', body: { status, reason: reason.slice(0, 500), ...(n.origin === 'link' ? { high: Math.max(0, km.store.high(peer, 'link')) } : {}) } });
    const failed = (step: TransferFailure['step'], status: string, reason: string) => {
      this.#transfers.failed++;
      o.onFailure({ transfer: n.supply, km: km.nodeId, master: n.master, slaves: n.slaves, step, status, reason });
      publishIwnControl({ kind: 'transfer', km: km.nodeId, transfer: n.supply, outcome: 'failed', step, status, reason });
    };
    if (!n.slaves.every((s) => o.foreign.has(s))) return answer('ERR_KM_NOT_PERMITTED', 'the slave SAEs of one supply are all in one network');
    if (n.size % km.unitBits !== 0) return answer('ERR_KM_NOT_PERMITTED', `keys transferred between networks are whole ${km.unitBits}-bit units`);
    // Fig 12: the requirement goes to controller-A, which checks the key resources and determines link and keys.
    const d = await o.controller.checkTransfer({ transfer: n.supply, master: n.master, slaves: n.slaves, size: n.size, keys: heads, units });
    if (!d.ok) {
      failed('control', d.status, d.reason);
      return answer(KX_OF[d.status] ?? 'ERR_KM_NOT_PERMITTED', d.reason);
    }
    const conn = o.connection();
    if (!conn || conn.closed) {
      failed('kxi-1', 'no_known_route', 'the Kxi-1 connection is down');
      return answer('ERR_KM_NO_ROUTE', 'the transfer link is down');
    }
    // Reserved here as at any slave KME (durable, and voided if the master's KM gives up) ...
    const reserved = await km.handleKx(peer, m);
    if (reserved.name !== 'KeySupplyNotificationResponse' || reserved.body.status !== 'ok') return reserved;
    const relayId = randomUUID();
    const entry: OutEntry = { supply: n.supply, relay: relayId, peer, origin: n.origin, master: n.master, slaves: [...n.slaves], heads, units: n.keys.flatMap((k) => k.units), state: 'sending', at: Date.now() };
    let material: Uint8Array;
    try {
      // ... journalled before anything leaves this KM: after a crash the transfer is voided at both ends.
      await o.journal.putOut(entry);
      const parts = n.keys.flatMap((k) => k.units.map((u) => km.store.readKey(u)));
      material = Buffer.concat(parts);
      for (const p of parts) p.fill(0);
    } catch (e) {
      await this.#burnOut(entry, (e as Error).message);
      failed('kxi-1', statusOf(e), (e as Error).message);
      return answer(statusOf(e), (e as Error).message);
    }
    const keyBytes = n.size / 8;
    const pads = o.pads.draw(heads.length, keyBytes);
    const ct = new Uint8Array(material);
    material.fill(0);
    o.pads.mask(pads, ct);
    const relay: Kxi1KeyRelay = { relay: relayId, qx: d.link, initiator: n.master, targets: [...n.slaves], keys: heads, bits: n.size, pads, ct, deadline: Date.now() + (o.timeoutMs ?? 10_000), attempt: 0 };
    this.sessions.begin(relay);
    let step: TransferFailure['step'] = 'kxi-1';
    try {
      const ack = await conn.request('Kxi1KeyRelay', relay, o.timeoutMs ?? 10_000);
      ct.fill(0);
      if (ack.name !== 'Kxi1Ack') throw Object.assign(new Error('unexpected answer'), { status: 'server_side_general_error' });
      this.sessions.acked(relay.relay, ack.body);
      if (ack.body.status !== 'ok') throw Object.assign(new Error(ack.body.reason ?? ack.body.status), { status: ack.body.status });
      step = 'kxi-2';
      const r = await conn.request(
        'Kxi2KeySupplyNotification',
        { supply: n.supply, master: n.master, masterProvider: o.provider, slaves: [...n.slaves], slaveProvider: o.peerProvider, size: n.size, keys: heads.map((id) => ({ id, relay: relay.relay })) },
        o.timeoutMs ?? 10_000,
      );
      if (r.name !== 'Kxi2KeySupplyNotificationResponse') throw Object.assign(new Error('unexpected answer'), { status: 'server_side_general_error' });
      if (r.body.status !== 'ok') throw Object.assign(new Error(r.body.reason ?? r.body.status), { status: r.body.status, step: 'hand-over' });
      // Committed durably before the master's KM hears ok; unless its Void came first (it gave up waiting).
      if (!(await o.journal.moveOut(n.supply, ['sending'], 'committed'))) throw Object.assign(new Error('the master’s KM voided the supply meanwhile'), { status: 'timeout' });
    } catch (e) {
      ct.fill(0);
      for (const p of pads) o.pads.take(p)?.fill(0);
      const status = (e as { status?: IwStatus }).status ?? 'timeout';
      // Keys KM-B may hold are voided there; the master's KM burns its copy when it hears our refusal.
      await this.#burnOut(entry, (e as Error).message, step === 'kxi-2' ? 'voiding' : 'voided');
      if (step === 'kxi-2') this.#voidAtPeer(entry);
      o.controller.record({ transfer: n.supply, km: km.nodeId, keys: heads, state: 'failed', data: 'deleted', at: Date.now() });
      failed((e as { step?: TransferFailure['step'] }).step ?? step, status, (e as Error).message);
      return answer(KX_OF[status] ?? 'ERR_KM_RELAY_FAILED', `key transfer to ${o.peerProvider} failed: ${(e as Error).message}`);
    }
    // The key data is deleted here: the keys are delivered, as far as this KM is concerned.
    await this.#deliverOut(entry);
    o.controller.record({ transfer: n.supply, km: km.nodeId, keys: heads, state: 'transferred', data: 'deleted', at: Date.now() });
    this.#transfers.transferred++;
    for (const slave of n.slaves) o.onTransferred?.({ transfer: n.supply, master: n.master, slave, direction: 'out', keys: heads.length, bits: n.size, ms: performance.now() - t0 });
    publishIwnControl({ kind: 'transfer', km: km.nodeId, transfer: n.supply, outcome: 'transferred', keys: heads.length, link: d.link });
    return reserved;
  }

  /** A sent transfer's reserved keys burned here (idempotent: keys already voided by the master's KM stay as they are). */
  async #burnOut(e: OutEntry, reason: string, next: 'voiding' | 'voided' = 'voided'): Promise<void> {
    await this.#o.km.store.commit({ burn: e.units.map((id) => ({ id, to: 'failed' as const, reason: `transfer ${e.supply}: ${reason}`.slice(0, 200) })) });
    await this.#o.journal.moveOut(e.supply, next === 'voided' ? ['sending', 'voiding'] : ['sending'], next);
  }

  /** A committed transfer's keys taken out of this store (delivered; their data erased). */
  async #deliverOut(e: OutEntry): Promise<void> {
    for (const slave of e.slaves) await this.#o.km.fetch({ slave, master: e.master, ids: e.heads }).then((ks) => ks.forEach((k) => k.bytes.fill(0)), () => {});
  }

  /** Kxi1Void to the other KM for a transfer it may hold or have handed over; retried (retryVoids) until answered. */
  #voidAtPeer(e: OutEntry): void {
    const conn = this.#o.connection();
    if (!conn || conn.closed) return;
    void conn
      .request('Kxi1Void', { relay: e.relay, initiator: e.master, targets: [...e.slaves], all: true }, this.#o.timeoutMs ?? 10_000)
      .then(async (a) => {
        if (a.name === 'Kxi1Ack') await this.#o.journal.moveOut(e.supply, ['voiding'], 'voided');
      })
      .catch(() => {});
  }

  /**
   * A Void from a KM of this network. When it names keys of a transfer this KM sent, the master's
   * KM gave up on it (its answer lost or late): the transfer is voided at the other KM too, which
   * voids what it handed over. The KM then burns what it still holds, as for any Void.
   */
  async #onVoid(peer: string, m: Extract<KxMessage, { name: 'Void' }>): Promise<KxAnswer> {
    for (const e of this.#o.journal.outByUnits(m.body.ids)) {
      if (e.peer !== peer) continue;
      const moved = await this.#o.journal.moveOut(e.supply, ['sending', 'committed'], 'voiding');
      // a transfer still on its way sees `voiding` when it would commit, and aborts itself
      if (moved && e.state === 'committed') this.#voidAtPeer(moved);
    }
    return this.#o.km.handleKx(peer, m);
  }

  /** Sends again the Kxi1Voids of transfers voided by their master's KM and not yet answered by the other KM. */
  retryVoids(): void {
    for (const e of this.#o.journal.outEntries()) if (e.state === 'voiding' && !this.#inFlight.has(e.supply)) this.#voidAtPeer(e);
  }

  /** Kxi-1' and Kxi-2' from the other side's KM. */
  async onMessage(conn: BorderConnection, m: IwMessage): Promise<void> {
    switch (m.name) {
      case 'Kxi1KeyRelay':
        conn.send('Kxi1Ack', { re: m.id, ...this.#receive(m.body) });
        return;
      case 'Kxi2KeySupplyNotification':
        conn.send('Kxi2KeySupplyNotificationResponse', { re: m.id, supply: m.body.supply, ...(await this.#supply(conn, m.body)) });
        return;
      case 'Kxi1Void': {
        const { answer } = this.sessions.void(m.body);
        this.#drop(m.body.relay);
        const voided = await this.#voidIn(m.body.relay, 'voided by the sending KM');
        conn.send('Kxi1Ack', { re: m.id, ...(voided ? { status: 'ok' as const } : answer) });
        return;
      }
      case 'Kxi1RelayCompletion':
        conn.send('Kxi1Ack', { re: m.id, ...this.sessions.completed(m.body) });
        return;
      default:
        return;
    }
  }

  #drop(relay: string): void {
    const h = this.#held.get(relay);
    if (!h) return;
    clearTimeout(h.timer);
    h.material.fill(0);
    this.#held.delete(relay);
  }

  #receive(r: Kxi1KeyRelay): { status: IwStatus; reason?: string } {
    const { duplicate, ...answer } = this.sessions.receive(r);
    if (duplicate || answer.status !== 'ok') return answer;
    const material = new Uint8Array(r.ct);
    if (!this.#o.pads.apply(r.pads, material)) return { status: 'key_not_present', reason: 'a transfer pad is not held in this IWN' };
    if (this.#o.km.store.zeroized) {
      material.fill(0);
      return { status: 'server_side_general_error', reason: 'this KM is zeroized' };
    }
    // Held in memory until the supply arrives; dropped unseen if it does not by the deadline.
    const timer = setTimeout(() => this.#drop(r.relay), Math.max(1000, r.deadline - Date.now()));
    timer.unref();
    this.#held.set(r.relay, { relay: r, material, timer });
    this.#transfers.received++;
    return { status: 'ok' };
  }

  async #supply(conn: BorderConnection, s: Kxi2KeySupplyNotification): Promise<{ status: IwStatus; accepted?: string[]; reason?: string }> {
    const o = this.#o;
    const km = o.km;
    const relays = [...new Set(s.keys.map((k) => k.relay))];
    const held = relays.map((r) => this.#held.get(r));
    if (held.some((h) => !h) || relays.length !== 1) return { status: 'key_not_present', reason: 'a named transfer has not arrived' };
    const h = held[0]!;
    const ids = s.keys.map((k) => k.id);
    if (ids.length !== h.relay.keys.length || ids.some((id, i) => id !== h.relay.keys[i]) || s.master !== h.relay.initiator || s.size !== h.relay.bits) return { status: 'invalid_routing', reason: 'the supply does not match its transfer' };
    const dest = km.topology.saes.get(s.slaves[0]!);
    if (!dest || s.slaves.some((x) => km.topology.saes.get(x) !== dest) || dest === km.nodeId) return { status: 'target_sae_id_not_recognized', reason: 'the slave SAEs are not served by one KM of this network' };
    if (!o.foreign.has(s.master)) return { status: 'unauthorized', reason: 'the master SAE is not shared with this network' };
    const unitBytes = km.unitBits / 8;
    const per = s.size / km.unitBits;
    const keyBytes = s.size / 8;
    // The key keeps its ID (its first unit's); further units get IDs of their own in this network.
    const keys = ids.map((id, i) => ({
      id,
      units: Array.from({ length: per }, (_, j) => ({ id: j === 0 ? id : randomUUID(), bytes: h.material.subarray(i * keyBytes + j * unitBytes, i * keyBytes + (j + 1) * unitBytes) })),
    }));
    const entry: InEntry = { relay: h.relay.relay, supply: s.supply, dest, units: keys.flatMap((k) => k.units.map((u) => u.id)), state: 'handing-over', at: Date.now() };
    try {
      // Journalled before the keys reach the slave's KM: voided there if the sender never commits.
      await o.journal.putIn(entry);
      publishIwnControl({ kind: 'transfer', km: km.nodeId, transfer: s.supply, outcome: 'handing-over', keys: ids.length });
      await km.handOver({ supply: s.supply, dest, master: s.master, slaves: s.slaves, size: s.size, keys });
      if (!(await o.journal.moveIn(entry.relay, ['handing-over'], 'handed-over'))) return { status: 'timeout', reason: 'voided by the sending KM during the hand-over' };
    } catch (e) {
      // the hand-over voided the keys at the slave's KM itself, or a Void is queued there
      await o.journal.moveIn(entry.relay, ['handing-over'], 'voided').catch(() => {});
      this.#drop(h.relay.relay);
      o.controller.record({ transfer: s.supply, km: km.nodeId, keys: ids, state: 'failed', data: 'burned', at: Date.now() });
      // Fig 13: the fault goes to this side's controller; Fig 14 starts at KM-A, which hears of it in the answer.
      o.controller.fault(s.slaves[0]!, `hand-over to the slave's KM failed: ${statusOf(e)}`);
      return { status: statusOf(e) === 'ERR_KM_INSUFFICIENT_KEYS' ? 'insufficient_key_material' : 'no_known_route', reason: `hand-over failed: ${statusOf(e)}` };
    }
    this.#drop(h.relay.relay);
    for (const t of s.slaves) {
      const c = this.sessions.delivered(h.relay.relay, t);
      void conn.request('Kxi1RelayCompletion', c).catch(() => {});
    }
    this.#transfers.supplied++;
    for (const slave of s.slaves) o.onTransferred?.({ transfer: s.supply, master: s.master, slave, direction: 'in', keys: ids.length, bits: s.size, ms: 0 });
    o.controller.record({ transfer: s.supply, km: km.nodeId, keys: ids, state: 'supplied', data: 'handed-over', at: Date.now() });
    publishIwnControl({ kind: 'transfer', km: km.nodeId, transfer: s.supply, outcome: 'supplied', keys: ids.length });
    return { status: 'ok', accepted: ids };
  }

  /**
   * A received transfer voided by its sender: what was handed over to the slave SAE's KM is voided
   * there (this KM's durable outbox of Voids; queued before the journal moves, so a crash between
   * the two at worst sends the Void twice, which is harmless). False if there was nothing to void.
   */
  async #voidIn(relay: string, reason: string): Promise<boolean> {
    const e = this.#o.journal.in(relay);
    if (!e || e.state === 'voided') return false;
    await this.#o.km.store.commit({ outbox: [{ peer: e.dest, origin: 'relay', ids: e.units, reason }] });
    await this.#o.journal.moveIn(relay, ['handing-over', 'handed-over'], 'voided');
    publishIwnControl({ kind: 'transfer', km: this.#o.km.nodeId, transfer: e.supply, outcome: 'voided', keys: e.units.length, reason });
    return true;
  }

  /**
   * After a restart, first: every transfer this KM received whose sender (`peer`, the other KM's
   * journal) had not committed it when the IWN stopped is voided at the slave's KM; those committed
   * stand (the master SAE may hold the keys).
   */
  async recoverIn(peer: TransferJournal): Promise<number> {
    let n = 0;
    for (const e of this.#o.journal.inEntries())
      if (e.state !== 'voided' && peer.out(e.supply)?.state !== 'committed') n += (await this.#voidIn(e.relay, 'in doubt after a restart of the interworking node')) ? 1 : 0;
    return n;
  }

  /**
   * Then: transfers this KM was sending are burned here (the master's KM heard no ok and burns its
   * copy; its Void is idempotent); committed ones whose keys are still reserved here are delivered
   * (the data deleted, as it would have been).
   */
  async recoverOut(): Promise<number> {
    let n = 0;
    for (const e of this.#o.journal.outEntries()) {
      if (e.state === 'sending' || e.state === 'voiding') {
        await this.#burnOut(e, 'in doubt after a restart of the interworking node');
        publishIwnControl({ kind: 'transfer', km: this.#o.km.nodeId, transfer: e.supply, outcome: 'voided', keys: e.heads.length, reason: 'in doubt after a restart' });
        n++;
      } else if (e.state === 'committed' && this.#o.km.store.get(e.heads[0]!)?.state === 'reserved') await this.#deliverOut(e);
    }
    return n;
  }

  /** Tamper: every key held between transfer and supply wiped. */
  wipe(): void {
    for (const r of [...this.#held.keys()]) this.#drop(r);
  }
}
