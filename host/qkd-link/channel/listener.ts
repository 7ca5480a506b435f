/**
 * The listening end of a link's channel (Alice): accepts TCP connections, but a connection
 * becomes the link's session only once the peer's hello verified on it. Until then it is one of
 * at most `maxPending` candidates that cost us no pad (our hello waits for the peer's) and that
 * cannot touch the session in progress: a stranger who reaches the port neither displaces the
 * authenticated peer nor moves the ledger (channel.ts, ledger.ts). An authenticated newcomer is the
 * peer itself on a new connection (it restarted, or the old connection died unnoticed): it
 * replaces the current session.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { AuthenticatedChannel, type ChannelOptions } from './channel.js';

export interface ListenerOptions extends ChannelOptions {
  /** How long a candidate connection has to prove itself. */
  readonly handshakeTimeoutMs: number;
  /** Candidate connections at once; more are closed at once (default 4). */
  readonly maxPending?: number;
}

export interface ListenerCounters {
  accepted: number;
  /** Connections closed because they did not authenticate (timeout, bad hello, closed). */
  unauthenticated: number;
  /** Connections closed at once because maxPending candidates were waiting. */
  overflow: number;
}

interface ListenerEvents {
  /** A connection whose peer authenticated; the previous session's socket has been destroyed. */
  session: [channel: AuthenticatedChannel, socket: Socket];
  /** A candidate that did not authenticate, with why. */
  refused: [reason: string];
}

export class AuthenticatedListener extends EventEmitter<ListenerEvents> {
  readonly counters: ListenerCounters = { accepted: 0, unauthenticated: 0, overflow: 0 };
  private readonly server: Server;
  private readonly pending = new Set<Socket>();
  private current: Socket | undefined;
  private closed = false;

  constructor(private readonly opts: ListenerOptions) {
    super();
    this.server = createServer((sock) => void this.candidate(sock));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as { port: number }).port));
    });
  }

  private async candidate(sock: Socket): Promise<void> {
    sock.on('error', () => undefined);
    if (this.closed || this.pending.size >= (this.opts.maxPending ?? 4)) {
      this.counters.overflow++;
      sock.destroy();
      return;
    }
    this.pending.add(sock);
    sock.setNoDelay(true);
    const channel = new AuthenticatedChannel(sock, this.opts);
    channel.on('error', () => undefined);
    try {
      await channel.handshake(this.opts.handshakeTimeoutMs, true);
    } catch (e) {
      this.counters.unauthenticated++;
      sock.destroy();
      this.emit('refused', (e as Error).message);
      return;
    } finally {
      this.pending.delete(sock);
    }
    if (this.closed) {
      sock.destroy();
      return;
    }
    this.counters.accepted++;
    // The peer proved itself on a new connection: the old one is over.
    this.current?.destroy();
    this.current = sock;
    this.emit('session', channel, sock);
  }

  /** Stops listening and closes every connection, the session's too. */
  close(): Promise<void> {
    this.closed = true;
    for (const s of this.pending) s.destroy();
    this.current?.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
