/**
 * The control layer's transport: mutually authenticated TLS 1.3 connections carrying the framed
 * CBOR messages of wire.ts (Kx's framing), used for Ck between KMs and a centralized controller
 * and for flooding advertisements between the controllers of neighbouring nodes. The peer is the
 * CN of its verified node certificate (OU=KME; a controller replica has a node certificate of its
 * own ID) and must be one `accept` admits. One connection per peer pair carries requests both
 * ways; whichever side dialled it, either may use it. Anything undecodable closes the connection
 * and is reported as a protocolError.
 */
import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { peerIdentity } from '../pki/identity.js';
import { FrameReader } from '../km/kx/messages.js';
import { mutualTlsDial } from '../km/kx/transport.js';
import { ControllerError } from './errors.js';
import { decodeControl, encodeControlFrame, type ControlBody, type ControlMessage, type ControlMessageName } from './wire.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ChannelTls {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  readonly ca: string | Buffer;
}

export type ControlAnswer = { readonly name: 'Ack'; readonly body: ControlBody<'Ack'> } | { readonly name: 'RouteAnswer'; readonly body: ControlBody<'RouteAnswer'> };

export type ControlRequestHandler = (peer: string, msg: ControlMessage) => ControlAnswer | Promise<ControlAnswer>;

export interface ChannelOptions {
  readonly nodeId: string;
  readonly tls: ChannelTls;
  /** Where to listen; omit for a dial-only end (a KM talking to a controller). */
  readonly listen?: Endpoint;
  /** Which node IDs may connect. */
  readonly accept: (peer: string) => boolean;
  readonly onRequest: ControlRequestHandler;
  readonly connectTimeoutMs?: number;
}

export interface ChannelEvents {
  connected: [peer: string];
  disconnected: [peer: string];
  protocolError: [peer: string | null, error: Error];
}

interface Pending {
  resolve(m: ControlMessage): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

class Connection {
  readonly #reader = new FrameReader();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  closed = false;

  constructor(
    readonly socket: TLSSocket,
    readonly peer: string,
    onRequest: (m: ControlMessage) => void,
    onError: (e: Error) => void,
    onClose: () => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let msgs: ControlMessage[];
      try {
        msgs = this.#reader.push(chunk).map((p) => decodeControl(p));
      } catch (e) {
        onError(e as Error);
        socket.destroy();
        return;
      }
      for (const m of msgs) {
        if (m.re === 0) {
          onRequest(m);
          continue;
        }
        const p = this.#pending.get(m.re);
        if (!p) continue; // an answer after its timeout
        this.#pending.delete(m.re);
        clearTimeout(p.timer);
        p.resolve(m);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new ControllerError('ERR_CTL_UNREACHABLE', `${peer}: connection closed`));
      }
      this.#pending.clear();
      onClose();
    });
  }

  send<N extends ControlMessageName>(name: N, re: number, body: ControlBody<N>): void {
    if (this.closed) throw new ControllerError('ERR_CTL_UNREACHABLE', `${this.peer}: connection closed`);
    this.socket.write(encodeControlFrame(name, 0, re, body));
  }

  request<N extends ControlMessageName>(name: N, body: ControlBody<N>, timeoutMs: number): Promise<ControlMessage> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ControllerError('ERR_CTL_UNREACHABLE', `${this.peer}: no answer to ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        if (this.closed) throw new ControllerError('ERR_CTL_UNREACHABLE', `${this.peer}: connection closed`);
        this.socket.write(encodeControlFrame(name, id, 0, body));
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(e as Error);
      }
    });
  }
}

export class ControlChannel extends EventEmitter<ChannelEvents> {
  readonly #o: ChannelOptions;
  #server: Server | null = null;
  readonly #conns = new Map<string, Connection>();
  readonly #dialling = new Map<string, Promise<Connection>>();
  readonly #raw = new Set<Socket>();
  readonly #all = new Set<Connection>();
  #closing = false;

  constructor(o: ChannelOptions) {
    super();
    this.#o = o;
  }

  get nodeId(): string {
    return this.#o.nodeId;
  }

  listen(): Promise<number> {
    const ep = this.#o.listen;
    if (!ep) return Promise.reject(new ControllerError('ERR_CTL_CONFIG', 'no listen endpoint configured'));
    const server = createServer({ key: this.#o.tls.key, cert: this.#o.tls.cert, ca: this.#o.tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
    server.on('connection', (sock: Socket) => {
      if (this.#closing) return void sock.destroy();
      this.#raw.add(sock);
      sock.once('close', () => this.#raw.delete(sock));
    });
    server.on('secureConnection', (s) => {
      const who = peerIdentity(s);
      if (this.#closing || !who || who.role !== 'KME' || !this.#o.accept(who.id)) {
        this.emit('protocolError', who?.id ?? null, new ControllerError('ERR_CTL_DECODE', `refused control connection from ${who ? `${who.role} ${who.id}` : 'an unidentified peer'}`));
        s.destroy();
        return;
      }
      this.#adopt(s, who.id);
    });
    server.on('tlsClientError', (e) => this.emit('protocolError', null, e));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(ep.port, ep.host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  #adopt(s: TLSSocket, peer: string): Connection {
    const c: Connection = new Connection(
      s,
      peer,
      (m) => void this.#handle(c, m),
      (e) => this.emit('protocolError', peer, e),
      () => {
        this.#all.delete(c);
        if (this.#conns.get(peer) === c) {
          this.#conns.delete(peer);
          this.emit('disconnected', peer);
        }
      },
    );
    this.#all.add(c);
    if (!this.#conns.has(peer)) this.#conns.set(peer, c);
    this.emit('connected', peer);
    return c;
  }

  async #handle(c: Connection, m: ControlMessage): Promise<void> {
    let answer: ControlAnswer;
    try {
      answer = await this.#o.onRequest(c.peer, m);
    } catch (e) {
      const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'ERR_CTL_INTERNAL';
      answer = { name: 'Ack', body: { status: code.slice(0, 64), reason: (e as Error).message.slice(0, 500) } };
    }
    try {
      if (answer.name === 'Ack') c.send('Ack', m.id, answer.body);
      else c.send('RouteAnswer', m.id, answer.body);
    } catch {
      // closed meanwhile: the requester times out
    }
  }

  #dial(peer: string, ep: Endpoint): Promise<Connection> {
    const up = this.#conns.get(peer);
    if (up && !up.closed) return Promise.resolve(up);
    const running = this.#dialling.get(peer);
    if (running) return running;
    const timeoutMs = this.#o.connectTimeoutMs ?? 2000;
    const p = new Promise<Connection>((resolve, reject) => {
      const s = connect(mutualTlsDial(ep, this.#o.tls));
      this.#raw.add(s);
      s.once('close', () => this.#raw.delete(s));
      const fail = (why: string) => {
        clearTimeout(timer);
        s.destroy();
        reject(new ControllerError('ERR_CTL_UNREACHABLE', `${peer}: ${why}`));
      };
      const timer = setTimeout(() => fail(`no connection within ${timeoutMs} ms`), timeoutMs);
      s.once('error', (e) => fail(e.message));
      s.once('secureConnect', () => {
        clearTimeout(timer);
        const who = peerIdentity(s);
        if (!who || who.role !== 'KME' || who.id !== peer) return fail(`certificate names ${who ? `${who.role} ${who.id}` : 'nobody'}, expected ${peer}`);
        const c = this.#adopt(s, peer);
        this.#conns.set(peer, c);
        resolve(c);
      });
    }).finally(() => this.#dialling.delete(peer));
    this.#dialling.set(peer, p);
    return p;
  }

  /** Sends a request to `peer` (on an existing connection, or dialling `ep`) and resolves with the answer. */
  async request<N extends ControlMessageName>(peer: string, ep: Endpoint, name: N, body: ControlBody<N>, timeoutMs: number): Promise<ControlMessage> {
    if (this.#closing) throw new ControllerError('ERR_CTL_UNREACHABLE', 'channel closed');
    const c = await this.#dial(peer, ep);
    return c.request(name, body, timeoutMs);
  }

  connected(peer: string): boolean {
    return this.#conns.has(peer);
  }

  /** Closes every connection with `peer` (it is no longer one to talk to). */
  drop(peer: string): void {
    for (const c of this.#all) if (c.peer === peer) c.socket.destroy();
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const c of this.#all) c.socket.destroy();
    const closed = this.#server ? new Promise<void>((r) => this.#server!.close(() => r())) : Promise.resolve();
    for (const s of this.#raw) s.destroy();
    await closed;
  }
}
