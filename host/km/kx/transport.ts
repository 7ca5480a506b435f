/**
 * Kx transport: mutually authenticated TLS 1.3 connections between KMs carrying framed CBOR
 * messages (messages.ts). Each KM dials the peers it has requests for (one outbound connection per
 * peer, re-dialled on demand) and answers on the connections peers dial to it; a request always
 * gets its answer on the connection it came in on. The peer's node ID is the CN of its verified
 * certificate (OU=KME) and must match the Hello it sends first; anything else closes the
 * connection.
 */
import { EventEmitter } from 'node:events';
import { connect, createServer, type ConnectionOptions, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { peerIdentity } from '../../pki/identity.js';
import { KmTimeoutError, PeerUnreachableError } from '../errors.js';
import { KxError } from './errors.js';
import { statusOf } from './status.js';
import { decodePayload, encodeFrame, FrameReader, KX_VERSION, type KxBody, type KxMessage, type KxMessageName } from './messages.js';
import type { Hello } from './hello.js';
import { publishAuth } from '../diagnostics.js';

export interface KxEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface KxTls {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  readonly ca: string | Buffer;
}

/** An answer a request handler returns: the transport adds `re`. */
export type KxAnswer =
  | { readonly name: 'Response'; readonly body: Omit<KxBody<'Response'>, 're'> }
  | { readonly name: 'KeySupplyNotificationResponse'; readonly body: Omit<KxBody<'KeySupplyNotificationResponse'>, 're'> }
  | { readonly name: 'KeySync'; readonly body: Omit<KxBody<'KeySync'>, 're'> };

export type KxRequestHandler = (peer: string, msg: KxMessage) => KxAnswer | Promise<KxAnswer>;

export interface KxTransportOptions {
  readonly nodeId: string;
  readonly bootId: string;
  readonly tls: KxTls;
  readonly listen: KxEndpoint;
  /** Where each peer KM listens. Only these node IDs may connect. */
  readonly peers: ReadonlyMap<string, KxEndpoint>;
  readonly onRequest: KxRequestHandler;
  /** Milliseconds to establish a connection (TCP + TLS + Hello). */
  readonly connectTimeoutMs?: number;
}

export interface KxTransportEvents {
  /** A connection to or from `peer` is ready; `boot` is the peer's boot ID (a change means it restarted). */
  connected: [peer: string, direction: 'in' | 'out', boot: string];
  disconnected: [peer: string, direction: 'in' | 'out'];
  /** A peer sent something undecodable or unauthenticated: the connection was closed. */
  protocolError: [peer: string | null, error: Error];
  /** A peer's TLS identity is not the node it claims (or dials as): refused, and counted in `identityRefusals`. */
  identityRefused: [claimed: string | null, certificate: string, direction: 'in' | 'out'];
}

interface Pending {
  resolve(m: KxMessage): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

class KxConnection {
  readonly socket: TLSSocket;
  readonly peer: string;
  readonly #reader = new FrameReader();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  closed = false;
  onMessage: (m: KxMessage) => void = () => {};
  onClose: () => void = () => {};

  constructor(socket: TLSSocket, peer: string, onError: (e: Error) => void) {
    this.socket = socket;
    this.peer = peer;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let msgs: KxMessage[];
      try {
        msgs = this.#reader.push(chunk).map((p) => decodePayload(p));
      } catch (e) {
        onError(e as Error);
        socket.destroy();
        return;
      }
      for (const m of msgs) this.#dispatch(m);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new PeerUnreachableError(peer, 'connection closed'));
      }
      this.#pending.clear();
      this.onClose();
    });
  }

  #dispatch(m: KxMessage): void {
    const re = 're' in m.body ? (m.body as { re?: number }).re : undefined;
    if (re !== undefined) {
      const p = this.#pending.get(re);
      if (!p) return; // an answer after its timeout
      this.#pending.delete(re);
      clearTimeout(p.timer);
      p.resolve(m);
      return;
    }
    this.onMessage(m);
  }

  send<N extends KxMessageName>(name: N, id: number, body: KxBody<N>): void {
    if (this.closed) throw new PeerUnreachableError(this.peer, 'connection closed');
    this.socket.write(encodeFrame(name, id, body));
  }

  request<N extends KxMessageName>(name: N, body: KxBody<N>, timeoutMs: number): Promise<KxMessage> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new KmTimeoutError(this.peer, name, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.send(name, id, body);
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(e as Error);
      }
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * How a node dials another node over mutual TLS (Kx, and the control layer's channels): TLS 1.3,
 * its own certificate, the network's CA. The peer's identity is checked on the certificate's
 * subject after the handshake, not on the host name, so the host-name check is off.
 */
export function mutualTlsDial(ep: { readonly host: string; readonly port: number }, tls: { readonly key: string | Buffer; readonly cert: string | Buffer; readonly ca: string | Buffer }): ConnectionOptions {
  return {
    host: ep.host,
    port: ep.port,
    key: tls.key,
    cert: tls.cert,
    ca: tls.ca,
    minVersion: 'TLSv1.3',
    servername: ep.host === '127.0.0.1' || ep.host === '::1' ? 'localhost' : ep.host,
    checkServerIdentity: () => undefined,
  };
}

export class KxTransport extends EventEmitter<KxTransportEvents> {
  readonly #o: KxTransportOptions;
  #server: Server | null = null;
  readonly #out = new Map<string, Promise<KxConnection>>();
  /** Peers whose outbound connection has been greeted and is open. */
  readonly #established = new Set<string>();
  readonly #in = new Set<KxConnection>();
  /** Every TCP socket accepted, handshaking or not: close() must end them all or server.close() waits forever. */
  readonly #raw = new Set<Socket>();
  #closing = false;
  #identityRefusals = 0;

  constructor(o: KxTransportOptions) {
    super();
    this.#o = o;
  }

  get nodeId(): string {
    return this.#o.nodeId;
  }

  /** Connections refused because the peer's certificate is not the node it claims to be. */
  get identityRefusals(): number {
    return this.#identityRefusals;
  }

  #refuseIdentity(claimed: string | null, who: { role: string; id: string } | null, direction: 'in' | 'out'): void {
    this.#identityRefusals++;
    this.emit('identityRefused', claimed, who ? `${who.role} ${who.id}` : 'none', direction);
  }

  /** Starts accepting peers; resolves with the port (useful when listening on port 0). */
  listen(): Promise<number> {
    const server = createServer({
      key: this.#o.tls.key,
      cert: this.#o.tls.cert,
      ca: this.#o.tls.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
    });
    server.on('connection', (sock: Socket) => {
      if (this.#closing) return void sock.destroy();
      this.#raw.add(sock);
      sock.once('close', () => this.#raw.delete(sock));
    });
    server.on('secureConnection', (s) => this.#accept(s));
    server.on('tlsClientError', (e: Error & { code?: string }) => {
      publishAuth({ node: this.#o.nodeId, where: 'kx', kind: 'tls-handshake', peer: null, code: e.code ?? 'ERR_TLS', reason: e.message.slice(0, 200) });
      this.emit('protocolError', null, e);
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.listen.port, this.#o.listen.host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  #accept(s: TLSSocket): void {
    if (this.#closing) return void s.destroy();
    const who = peerIdentity(s);
    if (!who || who.role !== 'KME' || !this.#o.peers.has(who.id)) {
      publishAuth({ node: this.#o.nodeId, where: 'kx', kind: 'certificate-refused', peer: who?.id ?? null, code: 'ERR_KX_PEER_REFUSED', reason: who ? `${who.role} ${who.id} is not a KME of this network` : 'no usable certificate identity' });
      this.#refuseIdentity(null, who, 'in');
      this.emit('protocolError', who?.id ?? null, new KxError('ERR_KX_DECODE', `refused Kx connection from ${who ? `${who.role} ${who.id}` : 'an unidentified peer'}`));
      s.destroy();
      return;
    }
    const c = new KxConnection(s, who.id, (e) => this.emit('protocolError', who.id, e));
    this.#in.add(c);
    let greeted = false;
    c.onClose = () => {
      this.#in.delete(c);
      if (greeted) this.emit('disconnected', who.id, 'in');
    };
    c.onMessage = (m) => {
      if (!greeted) {
        if (m.name !== 'Hello' || m.body.node !== who.id || !m.body.versions.includes(KX_VERSION)) {
          if (m.name === 'Hello' && m.body.node !== who.id) this.#refuseIdentity(m.body.node, who, 'in');
          this.emit('protocolError', who.id, new KxError('ERR_KX_DECODE', 'the first message must be a Hello naming the certificate node and version 1'));
          c.close();
          return;
        }
        greeted = true;
        c.send('Hello', 0, { node: this.#o.nodeId, boot: this.#o.bootId, versions: [KX_VERSION], re: m.id });
        this.emit('connected', who.id, 'in', m.body.boot);
        return;
      }
      void this.#handle(c, m);
    };
  }

  async #handle(c: KxConnection, m: KxMessage): Promise<void> {
    let answer: KxAnswer;
    try {
      answer = await this.#o.onRequest(c.peer, m);
    } catch (e) {
      answer = { name: 'Response', body: { status: statusOf(e), reason: (e as Error).message.slice(0, 500) } };
    }
    if (c.closed) return;
    try {
      if (answer.name === 'Response') c.send('Response', 0, { ...answer.body, re: m.id });
      else if (answer.name === 'KeySupplyNotificationResponse') c.send('KeySupplyNotificationResponse', 0, { ...answer.body, re: m.id });
      else c.send('KeySync', 0, { ...answer.body, re: m.id });
    } catch {
      // closed meanwhile: the requester times out
    }
  }

  #dial(peer: string): Promise<KxConnection> {
    const existing = this.#out.get(peer);
    if (existing) return existing;
    const ep = this.#o.peers.get(peer);
    if (!ep) return Promise.reject(new PeerUnreachableError(peer, 'not a known node'));
    const timeoutMs = this.#o.connectTimeoutMs ?? 2000;
    const p = new Promise<KxConnection>((resolve, reject) => {
      const s = connect(mutualTlsDial(ep, this.#o.tls));
      const fail = (why: string, e?: unknown) => {
        clearTimeout(timer);
        s.destroy();
        reject(new PeerUnreachableError(peer, why, e));
      };
      const timer = setTimeout(() => fail(`no connection within ${timeoutMs} ms`), timeoutMs);
      s.once('error', (e) => fail(e.message, e));
      s.once('secureConnect', () => {
        const who = peerIdentity(s);
        if (!who || who.role !== 'KME' || who.id !== peer) {
          this.#refuseIdentity(peer, who, 'out');
          return fail(`certificate names ${who ? `${who.role} ${who.id}` : 'nobody'}, expected KME ${peer}`);
        }
        const c = new KxConnection(s, peer, (e) => this.emit('protocolError', peer, e));
        c.onMessage = () => {
          // An outbound connection carries only our requests and their answers.
        };
        c.onClose = () => {
          if (this.#out.get(peer) === p) {
            this.#out.delete(peer);
            this.#established.delete(peer);
          }
          this.emit('disconnected', peer, 'out');
        };
        c.request('Hello', { node: this.#o.nodeId, boot: this.#o.bootId, versions: [KX_VERSION] }, timeoutMs).then(
          (m) => {
            clearTimeout(timer);
            if (m.name !== 'Hello' || m.body.node !== peer) return fail('the peer did not answer Hello');
            resolve(c);
            if (this.#out.get(peer) === p && !c.closed) this.#established.add(peer);
            this.emit('connected', peer, 'out', (m.body as Hello).boot);
          },
          (e: unknown) => fail('no Hello', e),
        );
      });
    });
    this.#out.set(peer, p);
    p.catch(() => {
      if (this.#out.get(peer) === p) this.#out.delete(peer);
    });
    return p;
  }

  /** Sends a request to `peer` (dialling if needed) and resolves with its answer. */
  async request<N extends KxMessageName>(peer: string, name: N, body: KxBody<N>, timeoutMs: number): Promise<KxMessage> {
    if (this.#closing) throw new PeerUnreachableError(peer, 'transport closed');
    const c = await this.#dial(peer);
    return c.request(name, body, timeoutMs);
  }

  /** Whether an outbound connection to `peer` is up (greeted; a dial in progress is not). */
  connected(peer: string): boolean {
    return this.#established.has(peer);
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const p of this.#out.values()) p.then((c) => c.close(), () => {});
    for (const c of this.#in) c.close();
    const closed = this.#server ? new Promise<void>((r) => this.#server!.close(() => r())) : Promise.resolve();
    for (const sock of this.#raw) sock.destroy();
    await closed;
  }
}
