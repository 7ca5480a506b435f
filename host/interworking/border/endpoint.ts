/**
 * A border endpoint: mutually authenticated TLS 1.3 between a gateway (or IWN) function of one
 * provider and the pinned peers of another, carrying framed interworking messages (messages.ts).
 * Incoming: the TLS handshake admits only certificates from the pinned providers' CAs, the pin
 * check (pinning.ts) only the pinned certificates, and every frame is decoded with its limits and
 * schema; a message from a reference point this endpoint does not serve, in the wrong context
 * (border vs IWN), or a hello naming another node or provider closes the connection. Outgoing:
 * every message passes the border filter of the peer's provider before it is encoded. Every
 * refusal is counted and published (diagnostics.ts).
 *
 * This is the session control function's transport (Y.3818 clause 7.1); which messages it carries
 * is up to its user: a gateway KM serves Kxi-1 and Kxi-2, a controller Cxi, a manager Mxi.
 */
import { EventEmitter } from 'node:events';
import { checkServerIdentity, connect, createServer, type PeerCertificate, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { IwError, PeerPinningError } from '../errors.js';
import { publishPeerRefused } from '../diagnostics.js';
import { decodePayload, encodeFrame, encodePayload, FrameReader, specOf, type IwBody, type IwContext, type IwMessage, type IwMessageName } from '../messages.js';
import type { ReferencePoint } from '../spec.js';
import type { BorderFilter } from './filter.js';
import { PeerPins, type BorderPeer } from './pinning.js';

export interface BorderEndpointOptions {
  readonly provider: string;
  readonly node: string;
  /** This node's certificate and key, from its own provider's CA. */
  readonly tls: { readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly peers: readonly BorderPeer[];
  /** Peer provider → the filter every message to it passes. A peer provider without one gets nothing. */
  readonly filters: ReadonlyMap<string, BorderFilter>;
  readonly ctx: IwContext;
  readonly serves: readonly ReferencePoint[];
  /**
   * A link inside one provider (Ck: a KM of an interworking node and its own network's controller
   * IWF outside the IWN): the peers are of this provider, and nothing crosses a border, so no
   * border filter applies. Such an endpoint serves Ck only, and no border endpoint serves Ck.
   */
  readonly internal?: boolean;
  /** Requests and notifications from peers (answers to this side's requests resolve `request`). */
  readonly onMessage: (conn: BorderConnection, msg: IwMessage) => void;
  /** Sees every payload sent and received, after filtering (a border recording, for tests and audits). */
  readonly tap?: (direction: 'out' | 'in', peer: BorderPeer, payload: Buffer) => void;
  readonly connectTimeoutMs?: number;
}

export type RefusalCode = 'ERR_IW_PEER_NOT_PINNED' | 'ERR_IW_PEER_MISMATCH' | 'ERR_IW_DECODE' | 'ERR_IW_LIMIT' | 'ERR_IW_VERSION' | 'ERR_IW_UNKNOWN_TYPE';

interface Pending {
  resolve(m: IwMessage): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class BorderConnection {
  readonly peer: BorderPeer;
  readonly #socket: TLSSocket;
  readonly #endpoint: BorderEndpoint;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  constructor(endpoint: BorderEndpoint, socket: TLSSocket, peer: BorderPeer) {
    this.#endpoint = endpoint;
    this.#socket = socket;
    this.peer = peer;
    socket.once('close', () => {
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new IwError('ERR_IW_PEER_UNREACHABLE', `connection to ${peer.node} closed`));
      }
      this.#pending.clear();
    });
  }

  get closed(): boolean {
    return this.#socket.destroyed;
  }

  /** Filters, encodes and sends; returns the request ID. Throws BorderLeakError (nothing sent) on a leak. */
  send<N extends IwMessageName>(name: N, body: IwBody<N>): number {
    const id = this.#nextId++;
    const payload = this.#endpoint.outgoing(this.peer, name, id, body);
    this.#socket.write(encodeFrame(payload));
    return id;
  }

  /** Sends and waits for the message whose `re` names it. */
  request<N extends IwMessageName>(name: N, body: IwBody<N>, timeoutMs = 10_000): Promise<IwMessage> {
    return new Promise((resolve, reject) => {
      let id: number;
      try {
        id = this.send(name, body);
      } catch (e) {
        reject(e as Error);
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new IwError('ERR_IW_TIMEOUT', `no answer from ${this.peer.node} to ${name} ${id} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  /** Internal: an answer to one of this side's requests, if it is one. */
  settle(m: IwMessage): boolean {
    const re = (m.body as { re?: unknown }).re;
    if (typeof re !== 'number') return false;
    const p = this.#pending.get(re);
    if (!p) return false;
    this.#pending.delete(re);
    clearTimeout(p.timer);
    p.resolve(m);
    return true;
  }

  close(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

export class BorderEndpoint extends EventEmitter {
  readonly #o: BorderEndpointOptions;
  readonly #pins: PeerPins;
  readonly #server: Server;
  readonly #sockets = new Set<TLSSocket>();
  readonly #refused = new Map<RefusalCode, number>();

  constructor(o: BorderEndpointOptions) {
    super();
    this.#o = o;
    if (!!o.internal !== o.serves.includes('Ck') || (o.internal && (o.serves.length !== 1 || o.peers.some((p) => p.provider !== o.provider))))
      throw new IwError('ERR_IW_CONFIG', 'Ck runs on an internal endpoint only, between nodes of one provider, and alone');
    this.#pins = new PeerPins(o.peers);
    this.#server = createServer({ key: o.tls.key, cert: o.tls.cert, ca: this.#pins.cas(), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (s) => this.#accept(s));
    // a third provider's node fails here, during the handshake
    this.#server.on('tlsClientError', (e: Error, s: TLSSocket) => this.#refuse('ERR_IW_PEER_NOT_PINNED', `handshake refused: ${e.message}`, s));
  }

  refusals(): ReadonlyMap<RefusalCode, number> {
    return this.#refused;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    return this.#server.address() as AddressInfo;
  }

  #refuse(code: RefusalCode, reason: string, socket: TLSSocket | null): void {
    this.#refused.set(code, (this.#refused.get(code) ?? 0) + 1);
    let fingerprint: string | null;
    try {
      fingerprint = socket?.getPeerCertificate()?.fingerprint256 || null;
    } catch {
      fingerprint = null; // the socket is already gone
    }
    publishPeerRefused({ provider: this.#o.provider, fingerprint, code, reason });
    this.emit('refused', code, reason);
    socket?.destroy();
  }

  #accept(socket: TLSSocket): void {
    let peer: BorderPeer;
    try {
      peer = this.#pins.verify(socket);
    } catch (e) {
      const pe = e as PeerPinningError;
      this.#refuse(pe.code as RefusalCode, pe.message, socket);
      return;
    }
    this.#attach(socket, peer);
  }

  #attach(socket: TLSSocket, peer: BorderPeer): BorderConnection {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    const conn = new BorderConnection(this, socket, peer);
    const reader = new FrameReader();
    socket.on('data', (chunk: Buffer) => {
      let msgs: IwMessage[];
      try {
        msgs = reader.push(chunk).map((p) => {
          this.#o.tap?.('in', peer, p);
          return decodePayload(p);
        });
        for (const m of msgs) this.#admit(peer, m);
      } catch (e) {
        const err = e as IwError;
        this.#refuse((err.code as RefusalCode) ?? 'ERR_IW_DECODE', err.message, socket);
        return;
      }
      for (const m of msgs) if (!conn.settle(m)) this.#o.onMessage(conn, m);
    });
    this.emit('connection', conn);
    return conn;
  }

  /** Checks that an incoming message belongs on this endpoint and, for hellos, names the pinned peer. */
  #admit(peer: BorderPeer, m: IwMessage): void {
    if (m.ctx !== this.#o.ctx) throw new IwError('ERR_IW_DECODE', `${m.name} for ${m.ctx === 'iwn' ? 'an IWN' : 'a border'}; this endpoint serves ${this.#o.ctx}`);
    if (!this.#o.serves.includes(m.rp)) throw new IwError('ERR_IW_DECODE', `${m.name} is ${m.rp}; this endpoint serves ${this.#o.serves.join(', ')}`);
    if (m.name === 'Kxi1Hello' && (m.body.node !== peer.node || m.body.provider !== peer.provider))
      throw new PeerPinningError('ERR_IW_PEER_MISMATCH', `hello names ${m.body.node} of ${m.body.provider}; the certificate is ${peer.node} of ${peer.provider}`);
    if (m.name === 'CxiHello' && m.body.provider !== peer.provider) throw new PeerPinningError('ERR_IW_PEER_MISMATCH', `hello names provider ${m.body.provider}; the certificate is ${peer.provider}'s`);
  }

  /** Internal: the filtered payload of an outgoing message. */
  outgoing<N extends IwMessageName>(peer: BorderPeer, name: N, id: number, body: IwBody<N>): Buffer {
    const filter = this.#o.filters.get(peer.provider);
    if (!filter && !this.#o.internal) throw new IwError('ERR_IW_CONFIG', `no border filter for ${peer.provider}: nothing may be sent there`);
    if (!this.#o.serves.includes(specOf(name).rp)) throw new IwError('ERR_IW_CONFIG', `this endpoint does not serve ${specOf(name).rp}`);
    filter?.check(name, body);
    const payload = encodePayload(name, id, body, this.#o.ctx);
    this.#o.tap?.('out', peer, payload);
    return payload;
  }

  /** Dials a pinned peer; the server's certificate must be the pinned one. */
  connect(node: string): Promise<BorderConnection> {
    const peer = this.#pins.peer(node);
    if (!peer || peer.host === undefined || peer.port === undefined) return Promise.reject(new IwError('ERR_IW_CONFIG', `no dialable pinned peer ${node}`));
    return new Promise((resolve, reject) => {
      let pinError: PeerPinningError | null = null;
      const socket = connect({
        host: peer.host,
        port: peer.port,
        servername: peer.host === '127.0.0.1' || peer.host === '::1' ? 'localhost' : peer.host,
        key: this.#o.tls.key,
        cert: this.#o.tls.cert,
        ca: peer.ca,
        minVersion: 'TLSv1.3',
        checkServerIdentity: (host: string, cert: PeerCertificate) => {
          const e = checkServerIdentity(host, cert);
          if (e) return e;
          if (cert.fingerprint256 !== peer.fingerprint) {
            pinError = new PeerPinningError('ERR_IW_PEER_NOT_PINNED', `${node} presented ${cert.fingerprint256}, pinned ${peer.fingerprint}`);
            return pinError;
          }
          return undefined;
        },
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new IwError('ERR_IW_TIMEOUT', `connecting to ${node} timed out`));
      }, this.#o.connectTimeoutMs ?? 10_000);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        let verified: BorderPeer;
        try {
          verified = this.#pins.verify(socket);
        } catch (e) {
          this.#refuse((e as PeerPinningError).code as RefusalCode, (e as Error).message, socket);
          reject(e as Error);
          return;
        }
        resolve(this.#attach(socket, verified));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        if (pinError) this.#refuse(pinError.code as RefusalCode, pinError.message, socket);
        reject(pinError ?? e);
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server.listening ? this.#server.close(() => resolve()) : resolve()));
  }
}
