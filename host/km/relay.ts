/**
 * Key relay (ITU-T Q.4163 clause 8): new keys carried hop by hop under one-time pads from this KM
 * to a KM it shares no link with, ending in the relay pool the two share. The source asks its
 * Router for the route when the relay starts and, after a failed attempt (voided like any failed
 * relay), again with the failed links to avoid, until one completes, `maxAttempts` have been made
 * or the relay's deadline has passed; each hop is carried by the RelayHopHandler serving
 * the next node (Kx KeyRelay by default). Every node of the route consumes the pads of its hops
 * whatever happens; on failure the source burns its units and voids the keys at the destination.
 * The destination confirms with KeyRelayCompletionNotification, accepted only from it (and a
 * failure only from a node of the route, naming itself as the hop).
 */
import { randomUUID } from 'node:crypto';
import type { KeyChange } from './key-record.js';
import { linkBetween, type Topology } from './topology.js';
import { InsufficientKeysError, InvalidRouteError, NotPermittedError, PeerRefusedError } from './errors.js';
import { concat, OK, type Kma } from './kma.js';
import type { RelayRoute, Router } from './routing.js';
import type { RelayHopHandlers } from './relay-hop.js';
import type { KxAnswer } from './kx/transport.js';
import type { KeyRelay } from './kx/key-relay.js';
import type { KeyRelayCompletionNotification } from './kx/key-relay-completion-notification.js';
import { statusOf, type KxErrorStatus } from './kx/status.js';
import { publishRelay, publishRelayHop } from './diagnostics.js';

export interface RelayOptions {
  /** Time allowed to a whole relay, per hop. */
  readonly relayHopTimeoutMs: number;
  /** Time allowed to a whole relay, all attempts together (default: 8 hops' worth). */
  readonly relayDeadlineMs?: number;
  /** Routes tried before the relay gives up (default 4). */
  readonly maxAttempts?: number;
}

interface RelayWaiter {
  settled: boolean;
  readonly route: readonly string[];
  readonly keys: readonly string[];
  resolve(n: KeyRelayCompletionNotification): void;
  readonly promise: Promise<KeyRelayCompletionNotification>;
}

function refuse(status: KxErrorStatus, reason: string): KxAnswer {
  return { name: 'Response', body: { status, reason } };
}

function xorInto(dst: Uint8Array, src: Uint8Array): void {
  for (let i = 0; i < dst.length; i++) dst[i]! ^= src[i]!;
}

/**
 * A route from a Router is checked against this KM's topology before any key is taken: it must
 * run from here to `dest` without a loop, over links the topology has, with `links` naming them.
 * Anything else is refused with a typed InvalidRouteError instead of becoming a broken relay.
 */
export function checkRoute(t: Topology, from: string, dest: string, r: RelayRoute): void {
  const bad = (why: string) => new InvalidRouteError(from, dest, why);
  const n = r.nodes;
  if (n[0] !== from || n[n.length - 1] !== dest) throw bad(`it runs from ${n[0] ?? '?'} to ${n[n.length - 1] ?? '?'}`);
  if (new Set(n).size !== n.length) throw bad('it visits a node twice');
  if (r.links.length !== n.length - 1) throw bad(`${r.links.length} links for ${n.length - 1} hops`);
  for (let i = 0; i + 1 < n.length; i++) {
    const l = t.links.find((x) => x.id === r.links[i]);
    if (!l) throw bad(`no link ${r.links[i]} in this KM's topology`);
    if (!(l.ends.includes(n[i]!) && l.ends.includes(n[i + 1]!))) throw bad(`link ${l.id} does not join ${n[i]} and ${n[i + 1]}`);
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export class KeyRelayService {
  readonly #kma: Kma;
  readonly #router: Router;
  readonly #hops: RelayHopHandlers;
  readonly #hopMs: number;
  readonly #deadlineMs: number;
  readonly #maxAttempts: number;
  readonly #relays = new Map<string, RelayWaiter>();

  constructor(kma: Kma, router: Router, hops: RelayHopHandlers, o: RelayOptions) {
    this.#kma = kma;
    this.#router = router;
    this.#hops = hops;
    this.#hopMs = o.relayHopTimeoutMs;
    this.#deadlineMs = o.relayDeadlineMs ?? 8 * o.relayHopTimeoutMs;
    this.#maxAttempts = o.maxAttempts ?? 4;
  }

  /** Ends every relay still waiting for its completion (the key manager is stopping). */
  settleAll(reason: string): void {
    for (const w of this.#relays.values()) if (!w.settled) w.resolve({ relay: '00000000-0000-4000-8000-000000000000', outcome: 'failed', keys: [], reason });
  }

  /**
   * Relays `count` new keys to `dest` hop by hop and adds them to the relay pool shared with it.
   * Resolves with their IDs once the destination has confirmed; on failure everything used is
   * burned at both ends of every hop and the keys are voided at the destination.
   */
  async relay(dest: string, count: number, o: { readonly priority?: number } = {}): Promise<string[]> {
    // One relay, several attempts: each asks the Router again, avoiding the links that failed,
    // until one completes, the deadline passes or no route is left (the caller gets that error).
    const relayId = randomUUID();
    let outcome: 'completed' | 'failed' = 'failed';
    try {
      const keys = await this.#relayOver(relayId, dest, count, o.priority ?? 0);
      outcome = 'completed';
      return keys;
    } finally {
      // The route's reservation ends with the relay; a router that cannot be reached for it lets the deadline free it.
      void (async () => this.#router.release?.(relayId, outcome))().catch(() => {});
    }
  }

  async #relayOver(relayId: string, dest: string, count: number, priority: number): Promise<string[]> {
    const deadline = Date.now() + this.#deadlineMs;
    const avoid = new Set<string>();
    let failed: Error | null = null;
    for (let attempt = 0; ; attempt++) {
      const req = { relayId, from: this.#kma.nodeId, to: dest, units: count, deadline, priority, attempt, avoidLinks: [...avoid] };
      // After a failure, no other route means the failure stands: the caller hears of it, not of the search.
      const route = failed ? await this.#router.route(req).catch(() => Promise.reject(failed)) : await this.#router.route(req);
      checkRoute(this.#kma.topology, this.#kma.nodeId, dest, route);
      const r = await this.#attempt(dest, count, route.nodes);
      if ('keys' in r) return r.keys;
      // The links touching the node that reported the failure: the hop into it or out of it broke.
      const h = r.hop ?? 0;
      for (const i of [h - 1, h]) if (i >= 0 && i < route.links.length) avoid.add(route.links[i]!);
      failed = r.error;
      if (attempt + 1 >= this.#maxAttempts || Date.now() >= deadline) throw r.error;
    }
  }

  /** One attempt over `path`: the relayed keys, or the failure (everything it used burned and voided). */
  async #attempt(dest: string, count: number, path: readonly string[]): Promise<{ keys: string[] } | { error: Error; hop: number | undefined }> {
    const kma = this.#kma;
    const t0 = performance.now();
    const relay = randomUUID();
    const hopMs = this.#hopMs;
    if (path.length < 3) throw new NotPermittedError(`${dest} shares a link with ${kma.nodeId}: no relay needed`);
    const first = path[1]!;
    const units = await kma.takeLink(first, count);
    if (!units) throw new InsufficientKeysError(`link:${first}`, count, kma.shared(first, 'link'));
    const keys = units.map(() => randomUUID());
    const report = (outcome: 'completed' | 'failed', failedHop?: number, reason?: string) =>
      publishRelay({ node: kma.nodeId, relay, route: [...path], hops: path.length - 1, keys: count, bits: kma.unitBits, outcome, latencyMs: performance.now() - t0, ...(failedHop !== undefined ? { failedHop } : {}), ...(reason ? { reason } : {}) });
    try {
      await kma.store.commit({
        change: units.map((id, i) => ({ id, from: ['available'], to: 'reserved', fields: { op: relay, purpose: 'relay', phase: 'await-peer', head: keys[i], relayTo: dest } })),
      });
    } catch (e) {
      kma.store.release(units);
      report('failed', 0, statusOf(e));
      throw e;
    }
    let resolve!: (n: KeyRelayCompletionNotification) => void;
    const promise = new Promise<KeyRelayCompletionNotification>((r) => (resolve = r));
    const waiter: RelayWaiter = {
      settled: false,
      route: path,
      keys,
      promise,
      resolve: (n) => {
        if (waiter.settled) return;
        waiter.settled = true;
        resolve(n);
      },
    };
    this.#relays.set(relay, waiter);
    const fail = (hop: number, status: KxErrorStatus, reason: string): KeyRelayCompletionNotification => ({ relay, outcome: 'failed', keys, hop, status, reason });
    let outcome: KeyRelayCompletionNotification;
    try {
      const ack = this.#hops
        .for(first)
        .send(first, { relay, route: path, hop: 0, keys, bits: kma.unitBits, units }, kma.peerMs)
        .then((o) => (o.ok ? null : fail(o.answered ? 1 : 0, o.status, o.answered && o.reason ? `${o.status}: ${o.reason}` : o.status)));
      const timeoutMs = hopMs * (path.length - 1);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<KeyRelayCompletionNotification>((r) => (timer = setTimeout(() => r(fail(0, 'ERR_KM_RELAY_FAILED', `no completion within ${timeoutMs} ms`)), timeoutMs)));
      const nack = await Promise.race([ack, promise.then(() => null)]);
      outcome = nack ?? (await Promise.race([promise, timeout]));
      clearTimeout(timer);
      waiter.resolve(outcome);
    } finally {
      this.#relays.delete(relay);
    }
    if (outcome.outcome === 'completed') {
      const bytes = units.map((u) => kma.store.readKey(u));
      await kma.store.commit({
        change: units.map((id) => ({ id, from: ['reserved'], to: 'consumed', fields: { phase: undefined } })),
        create: keys.map((id, i) => ({ id, peer: dest, origin: 'relay', allocator: kma.nodeId, bytes: bytes[i]!, state: 'available' })),
      });
      for (const b of bytes) b.fill(0);
      report('completed');
      return { keys };
    }
    await kma.burn(
      units,
      [
        { peer: first, origin: 'link', ids: units, reason: `relay ${relay} failed` },
        { peer: dest, origin: 'relay', ids: keys, reason: `relay ${relay} failed` },
      ],
      `relay failed: ${outcome.reason ?? ''}`,
    );
    report('failed', outcome.hop, outcome.reason);
    // The status is the failing hop's code when it gave one (e.g. ERR_KM_INSUFFICIENT_KEYS).
    return { hop: outcome.hop, error: new PeerRefusedError(path[outcome.hop ?? 0] ?? dest, outcome.status ?? 'ERR_KM_RELAY_FAILED', `relay to ${dest} failed at hop ${outcome.hop ?? '?'}: ${outcome.reason ?? 'unknown'}`) };
  }

  /** A relay's end, from the destination (completed) or from the node where it broke (failed). */
  onCompletion(peer: string, n: KeyRelayCompletionNotification): KxAnswer {
    const w = this.#relays.get(n.relay);
    if (!w) return refuse('ERR_KM_KEY_UNKNOWN', 'no relay in progress with this ID');
    if (n.outcome === 'completed') {
      if (peer !== w.route[w.route.length - 1]) return refuse('ERR_KM_NOT_PERMITTED', 'only the destination of a relay can complete it');
      if (!sameList(n.keys, w.keys)) return refuse('ERR_KM_NOT_PERMITTED', 'the keys differ from the relay’s');
    } else {
      const at = w.route.indexOf(peer);
      if (at < 1 || (n.hop !== undefined && n.hop !== at)) return refuse('ERR_KM_NOT_PERMITTED', 'only a node of the route can report where the relay broke');
    }
    w.resolve(n);
    return OK;
  }

  #notifySource(m: KeyRelay, hopIndex: number, status: KxErrorStatus, reason: string): void {
    const kma = this.#kma;
    const source = m.route[0]!;
    if (source === kma.nodeId) return;
    kma.bg(kma.kx.request(source, 'KeyRelayCompletionNotification', { relay: m.relay, outcome: 'failed', keys: m.keys, hop: hopIndex, status, reason: reason.slice(0, 500) }, kma.peerMs));
  }

  /** One hop arriving here: the destination stores the keys, an intermediate node forwards them. */
  async onKeyRelay(peer: string, m: KeyRelay): Promise<KxAnswer> {
    const kma = this.#kma;
    const t = kma.topology;
    const t0 = performance.now();
    const me = m.hop + 1;
    if (m.route[m.hop] !== peer || m.route[me] !== kma.nodeId) return refuse('ERR_KM_NOT_PERMITTED', 'this hop is not between the sender and this KM');
    if (m.bits !== kma.unitBits) return refuse('ERR_KX_DECODE', `relayed keys of ${m.bits} bits; this network uses ${kma.unitBits}`);
    if (!linkBetween(t, kma.nodeId, peer)) return refuse('ERR_KM_NOT_PERMITTED', 'no link with the sender');
    // A first hop carries link units, or pads and ct when it hands over keys from another network.
    const incoming = (m.units ?? m.pads)!;
    const hopEvent = (outcome: 'forwarded' | 'delivered' | 'failed', to: string | null, reason?: string) =>
      publishRelayHop({ node: kma.nodeId, relay: m.relay, from: peer, to, hop: me, outcome, latencyMs: performance.now() - t0, ...(reason ? { reason } : {}) });
    // Whatever happens, the incoming pads are used up at this end too.
    const burnIncoming = async (status: KxErrorStatus, reason: string) => {
      await kma.store.commit({ burn: incoming.map((id) => ({ id, to: 'failed', reason, peer, origin: 'link' })) }).catch(() => {});
      hopEvent('failed', null, reason);
      this.#notifySource(m, me, status, reason);
    };
    if (incoming.length !== m.keys.length) {
      await burnIncoming('ERR_KM_RELAY_FAILED', 'pad count differs from key count');
      return refuse('ERR_KX_DECODE', `${incoming.length} units for ${m.keys.length} keys`);
    }
    for (const id of incoming) {
      const rec = kma.store.get(id);
      if (!rec || rec.peer !== peer || rec.origin !== 'link' || rec.allocator !== peer || rec.state !== 'available') {
        await burnIncoming('ERR_KM_RELAY_FAILED', `unit ${id} not available`);
        return refuse(rec ? 'ERR_KM_KEY_NOT_AVAILABLE' : 'ERR_KM_KEY_UNKNOWN', `unit ${id} is not available to the sender`);
      }
    }
    const material = concat(incoming.map((id) => kma.store.readKey(id)));
    if (m.ct) xorInto(material, m.ct);
    const usedIn: KeyChange[] = incoming.map((id) => ({ id, from: ['available'], to: 'consumed', fields: { op: m.relay, purpose: m.units ? 'relay' : 'pad' } }));
    const bytesPer = m.bits / 8;

    if (me === m.route.length - 1) {
      // Destination: the relayed keys join the relay pool shared with the source.
      const source = m.route[0]!;
      try {
        await kma.store.commit({
          change: usedIn,
          create: m.keys.map((id, i) => ({ id, peer: source, origin: 'relay', allocator: source, bytes: material.subarray(i * bytesPer, (i + 1) * bytesPer), state: 'available', fields: { op: m.relay } })),
        });
      } catch (e) {
        material.fill(0);
        await burnIncoming(statusOf(e), statusOf(e));
        return refuse(statusOf(e), (e as Error).message);
      }
      material.fill(0);
      hopEvent('delivered', null);
      kma.bg(kma.kx.request(source, 'KeyRelayCompletionNotification', { relay: m.relay, outcome: 'completed', keys: m.keys }, kma.peerMs));
      return OK;
    }

    const next = m.route[me + 1]!;
    if (!linkBetween(t, kma.nodeId, next)) {
      material.fill(0);
      await burnIncoming('ERR_KM_RELAY_FAILED', `no link to ${next}`);
      return refuse('ERR_KM_NO_ROUTE', `no link from ${kma.nodeId} to ${next}`);
    }
    const pads = await kma.takeLink(next, m.keys.length);
    if (!pads) {
      material.fill(0);
      await burnIncoming('ERR_KM_RELAY_FAILED', `not enough key on link ${kma.nodeId}-${next}`);
      return refuse('ERR_KM_INSUFFICIENT_KEYS', `not enough key on link ${kma.nodeId}-${next}`);
    }
    try {
      await kma.store.commit({ change: [...usedIn, ...pads.map((id) => ({ id, from: ['available'] as const, to: 'reserved' as const, fields: { op: m.relay, purpose: 'pad' as const, phase: 'await-peer' as const } }))] });
    } catch (e) {
      kma.store.release(pads);
      material.fill(0);
      await burnIncoming(statusOf(e), statusOf(e));
      return refuse(statusOf(e), (e as Error).message);
    }
    const ct = material;
    xorInto(ct, concat(pads.map((id) => kma.store.readKey(id))));
    // Acknowledge this hop now; forward without holding the previous hop's request open.
    kma.bg(
      (async () => {
        const o = await this.#hops.for(next).send(next, { relay: m.relay, route: m.route, hop: me, keys: m.keys, bits: m.bits, pads, ct }, kma.peerMs);
        if (o.ok) {
          await kma.store.commit({ change: pads.map((id) => ({ id, from: ['reserved'], to: 'consumed', fields: { phase: undefined } })) });
          hopEvent('forwarded', next);
          return;
        }
        const reason = o.answered ? `${o.status}: ${o.reason}` : o.status;
        await kma.burn(pads, [{ peer: next, origin: 'link', ids: pads, reason: `relay ${m.relay} hop not acknowledged` }], `relay hop failed: ${reason}`);
        hopEvent('failed', next, reason);
        this.#notifySource(m, me, o.status, reason);
      })(),
    );
    return OK;
  }
}
