/**
 * The key manager's side of Ck when a centralized controller runs the network: a Router that asks
 * the controller for every relay route (and releases it after), KM reports (stock, consumption;
 * also the heartbeat by which the controller knows the KM is alive) and the topology pushes of
 * configuration control. Replicas are tried in turn: a follower answers ERR_CTL_NOT_LEADER and the
 * client moves on, and remembers who answered. When no controller answers, routes come from the
 * fallback router (the KM's own, over its last topology), so supply goes on from stock.
 */
import { ControlChannel, type ChannelTls, type ControlAnswer, type Endpoint } from './channel.js';
import { ControllerError, ControllerRefusedError, DeadlineError, RouteUnavailableError } from './errors.js';
import type { RelayRoute, RelayRouteRequest, Router } from './router.js';
import type { KmReport } from './ck/km-report.js';
import type { TopologyPush } from './ck/topology-push.js';
import type { ControlMessage } from './wire.js';
import type { LinkReport } from './cq/link-report.js';

export interface ControllerEndpoint extends Endpoint {
  /** The replica's node ID (the CN of its certificate). */
  readonly id: string;
}

export interface CkClientOptions {
  readonly nodeId: string;
  readonly tls: ChannelTls;
  readonly controllers: readonly ControllerEndpoint[];
  readonly timeoutMs?: number;
  readonly fallback?: Router;
  /** A topology push from the controller; throw (e.g. a stale version) to refuse it. */
  readonly onTopology?: (push: TopologyPush) => void;
}

function acked(m: ControlMessage): void {
  if (m.name !== 'Ack') throw new ControllerError('ERR_CTL_DECODE', `a ${m.name} answered where an Ack was due`);
  if (m.body.status !== 'ok') throw new ControllerRefusedError(m.body.status, m.body.reason ?? '');
}

export class CkClient implements Router {
  readonly #o: CkClientOptions;
  readonly #channel: ControlChannel;
  #leader = 0;
  #answered = false;
  readonly counters = { routed: 0, fallback: 0, notLeader: 0, unreachable: 0 };

  constructor(o: CkClientOptions) {
    if (o.controllers.length === 0) throw new ControllerError('ERR_CTL_CONFIG', 'no controller endpoint');
    this.#o = o;
    this.#channel = new ControlChannel({
      nodeId: o.nodeId,
      tls: o.tls,
      accept: () => false,
      onRequest: (peer, m) => this.#onRequest(peer, m),
      connectTimeoutMs: o.timeoutMs ?? 2000,
    });
  }

  #onRequest(peer: string, m: ControlMessage): ControlAnswer {
    if (m.name !== 'TopologyPush' || !this.#o.controllers.some((c) => c.id === peer)) return { name: 'Ack', body: { status: 'ERR_CTL_NOT_PERMITTED', reason: 'only a controller pushes, only topologies' } };
    try {
      this.#o.onTopology?.(m.body);
      return { name: 'Ack', body: { status: 'ok' } };
    } catch (e) {
      return { name: 'Ack', body: { status: String((e as { code?: unknown }).code ?? 'ERR_KM_CONFIG').slice(0, 64), reason: (e as Error).message.slice(0, 500) } };
    }
  }

  /** Sends to the leader, trying each replica once, starting with the last that answered. */
  async #ask(send: (c: ControllerEndpoint) => Promise<ControlMessage>): Promise<ControlMessage> {
    const n = this.#o.controllers.length;
    let last: Error = new ControllerError('ERR_CTL_UNREACHABLE', 'no controller answered');
    for (let i = 0; i < n; i++) {
      const idx = (this.#leader + i) % n;
      const c = this.#o.controllers[idx]!;
      let m: ControlMessage;
      try {
        m = await send(c);
      } catch (e) {
        this.counters.unreachable++;
        last = e as Error;
        continue;
      }
      const status = m.name === 'Ack' || m.name === 'RouteAnswer' ? m.body.status : 'ok';
      if (status === 'ERR_CTL_NOT_LEADER') {
        this.counters.notLeader++;
        last = new ControllerError('ERR_CTL_NOT_LEADER', `${c.id} is not the leader`);
        continue;
      }
      this.#leader = idx;
      this.#answered = true;
      return m;
    }
    throw last;
  }

  /** The replica that answered last (the leader as far as this KM knows), null before any answered. */
  get leader(): string | null {
    return this.#answered ? this.#o.controllers[this.#leader]!.id : null;
  }

  async route(req: RelayRouteRequest): Promise<RelayRoute> {
    let m: ControlMessage;
    try {
      m = await this.#ask((c) => this.#channel.request(c.id, c, 'RouteRequest', req, this.#o.timeoutMs ?? 2000));
    } catch (e) {
      if (!this.#o.fallback) throw e;
      this.counters.fallback++;
      return this.#o.fallback.route(req);
    }
    if (m.name !== 'RouteAnswer') throw new ControllerError('ERR_CTL_DECODE', `a ${m.name} answered a RouteRequest`);
    const a = m.body;
    if ('nodes' in a) {
      this.counters.routed++;
      return { nodes: a.nodes, links: a.links, version: a.version };
    }
    if (a.status === 'ERR_KM_NO_ROUTE') throw new RouteUnavailableError(req.from, req.to, a.reason.replace(/^no key relay route from \S+ to \S+: /, ''));
    if (a.status === 'ERR_CTL_DEADLINE') throw new DeadlineError(req.relayId, req.deadline);
    throw new ControllerRefusedError(a.status, a.reason);
  }

  async release(relay: string, outcome: 'completed' | 'failed'): Promise<void> {
    acked(await this.#ask((c) => this.#channel.request(c.id, c, 'RouteRelease', { relay, outcome }, this.#o.timeoutMs ?? 2000)));
  }

  async report(r: KmReport): Promise<void> {
    acked(await this.#ask((c) => this.#channel.request(c.id, c, 'KmReport', r, this.#o.timeoutMs ?? 2000)));
  }

  /** Cq through the node: a QKD module's link state. */
  async reportLink(r: LinkReport): Promise<void> {
    acked(await this.#ask((c) => this.#channel.request(c.id, c, 'LinkReport', r, this.#o.timeoutMs ?? 2000)));
  }

  close(): Promise<void> {
    return this.#channel.close();
  }
}
