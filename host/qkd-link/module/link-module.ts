/**
 * One end of a QKD link as a component: its board, its durable state, its worker threads, the TCP
 * connection to the other module (Alice listens, Bob connects, both reconnect), the authenticated
 * channel over it, and the session (AliceEnd or BobEnd). It is a Kq key source (host/km/
 * key-source.ts): the key manager (or, standalone, link-process.ts) starts it with a sink and it
 * pushes units with the indexes both ends agree on.
 */
import { connect, type Socket } from 'node:net';
import type { KeySink, KeySource } from '../../kq/key-source.js';
import type { SubkeySource } from '../../kq/link-store.js';
import { AuthenticatedChannel } from '../channel/channel.js';
import { Direction } from '../channel/frame.js';
import { AuthPadLedger } from '../channel/ledger.js';
import { AuthenticatedListener } from '../channel/listener.js';
import { PolyMac } from '../channel/mac.js';
import { CodeFamily } from '../reconciliation/codebook.js';
import { ErrorVerifier } from '../kernels/verify.js';
import { AliceEnd } from './block/alice.js';
import { BobEnd } from './block/bob.js';
import type { ReceiverPort, TransmitterPort } from './boards/boards.js';
import type { LinkConfig } from './config.js';
import { publishState } from './diagnostics.js';
import { LinkError } from './errors.js';
import type { LinkCounters, LinkEnd } from './link-end.js';
import { LinkState } from './state/link-state.js';
import { WorkerPool } from './workers/worker-pool.js';

export interface LinkModuleOptions {
  readonly config: LinkConfig;
  readonly storageKey: SubkeySource;
  /** The board: a transmitter port for Alice, a receiver port for Bob. */
  readonly board: TransmitterPort | ReceiverPort;
  /** Cryptographic randomness (tests may seed it). */
  readonly random?: (n: number) => Uint8Array;
}

export class LinkModule implements KeySource {
  readonly kind = 'qkd' as const;
  readonly linkId: string;
  readonly peer: string;
  readonly unitBits: number;
  readonly config: LinkConfig;
  private end!: LinkEnd;
  private state!: LinkState;
  private pool!: WorkerPool;
  private listener: AuthenticatedListener | undefined;
  private socket: Socket | undefined;
  private serving: Promise<void> = Promise.resolve();
  private running = false;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectDelay = 50;
  private boundPort = 0;

  private constructor(private readonly o: LinkModuleOptions) {
    this.config = o.config;
    this.linkId = o.config.linkId;
    this.peer = o.config.peer;
    this.unitBits = o.config.unitBits;
  }

  /** Opens the durable state, the ledger and the worker threads; finishes Bob's interrupted commits. */
  static async open(o: LinkModuleOptions): Promise<LinkModule> {
    const m = new LinkModule(o);
    const c = o.config;
    m.state = await LinkState.open(c.dataDir, c.linkId, o.storageKey);
    const mac = new PolyMac(c.security.macKeys);
    const ledger = await AuthPadLedger.open(m.state.root, {
      linkId: c.linkId,
      keyBytes: mac.keyBytes,
      tagBytes: mac.tagBytes,
      framesPerKey: c.security.framesPerKey,
      sendDirection: c.role === 'alice' ? Direction.AliceToBob : Direction.BobToAlice,
      psk: c.psk,
      sealer: m.state.padSealer,
    });
    m.pool = new WorkerPool(c.workers);
    const deps = { config: c, state: m.state, ledger, pool: m.pool, family: CodeFamily.load(), verifier: new ErrorVerifier(), ...(o.random ? { random: o.random } : {}) };
    m.mac = mac;
    m.ledger = ledger;
    m.end = c.role === 'alice' ? new AliceEnd(deps, o.board as TransmitterPort) : new BobEnd(deps, o.board as ReceiverPort);
    return m;
  }

  private mac!: PolyMac;
  private ledger!: AuthPadLedger;

  /** CPU seconds this end's worker threads have used (worker-pool.ts cpuSeconds). */
  workerCpuSeconds(): number {
    return this.pool.cpuSeconds();
  }

  get counters(): Readonly<LinkCounters> {
    return this.end.counters;
  }

  get synchronised(): boolean {
    return this.end.isSynchronised;
  }

  /** The TCP port Alice listens on (useful when configured as 0). */
  get port(): number {
    return this.boundPort;
  }

  /** Next unit index this end will output. */
  get nextUnit(): number {
    return this.state.nextUnit;
  }

  get authStats(): ReturnType<AuthPadLedger['stats']> {
    return this.ledger.stats();
  }

  start(sink: KeySink, after: number): void {
    void this.startAsync(sink, after).catch((e: Error) => {
      const err = e instanceof LinkError ? e : new LinkError('ERR_LINK_STORE', e.message, { cause: e });
      publishState({ linkId: this.linkId, role: this.config.role, state: 'error', detail: err.message, code: err.code });
    });
  }

  /** As start(), resolving once listening (Alice) or once the first connection attempt is under way (Bob). */
  async startAsync(sink: KeySink, after: number): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.end.setSink(sink, after);
    await this.end.recover();
    if (this.end instanceof BobEnd) {
      this.end.startAcquisition();
      this.connectLoop();
    } else await this.listen();
  }

  private async listen(): Promise<void> {
    const { host, port } = this.config.address;
    // One peer at a time, and only an authenticated one: a connection becomes the session once
    // the peer's hello verified on it (it then replaces the old one: the peer restarted).
    this.listener = new AuthenticatedListener({ linkId: this.linkId, role: 'alice', ledger: this.ledger, hash: this.mac, handshakeTimeoutMs: this.config.block.timeoutMs });
    this.listener.on('session', (channel, sock) => void this.accept(channel, sock));
    this.listener.on('refused', (reason) => publishState({ linkId: this.linkId, role: 'alice', state: 'listening', detail: `refused a connection: ${reason}` }));
    this.boundPort = await this.listener.listen(port, host);
    publishState({ linkId: this.linkId, role: 'alice', state: 'listening', detail: `${host}:${this.boundPort}` });
  }

  private async accept(channel: AuthenticatedChannel, sock: Socket): Promise<void> {
    // The previous session must be over before a new one synchronises.
    const previous = this.serving;
    let done!: () => void;
    this.serving = new Promise((r) => (done = r));
    try {
      await previous;
      if (this.stopping || channel.isClosed) {
        sock.destroy();
        return;
      }
      this.socket = sock;
      await this.end.serve(channel);
      sock.destroy();
    } finally {
      done();
    }
  }

  private connectLoop(): void {
    if (this.stopping) return;
    const { host, port } = this.config.address;
    publishState({ linkId: this.linkId, role: 'bob', state: 'connecting', detail: `${host}:${port}` });
    const sock = connect(port, host);
    let connected = false;
    sock.once('connect', () => {
      connected = true;
      this.connectDelay = 50;
      this.serving = this.session(sock).finally(() => this.reconnectLater());
    });
    sock.once('error', () => {
      if (connected) return; // the session sees the close
      sock.destroy();
      this.reconnectLater();
    });
  }

  private reconnectLater(): void {
    if (this.stopping) return;
    this.reconnectTimer = setTimeout(() => this.connectLoop(), this.connectDelay);
    this.connectDelay = Math.min(2000, this.connectDelay * 2);
  }

  private async session(sock: Socket): Promise<void> {
    sock.setNoDelay(true);
    this.socket = sock;
    const channel = new AuthenticatedChannel(sock, { linkId: this.linkId, role: this.config.role, ledger: this.ledger, hash: this.mac });
    channel.on('error', () => undefined);
    try {
      await channel.handshake(this.config.block.timeoutMs);
    } catch (e) {
      sock.destroy();
      publishState({ linkId: this.linkId, role: this.config.role, state: 'disconnected', detail: `handshake failed: ${(e as Error).message}` });
      return;
    }
    await this.end.serve(channel);
    sock.destroy();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    this.end.stop();
    this.socket?.destroy();
    await this.listener?.close();
    await this.serving.catch(() => undefined);
    await this.end.drain();
    // Stopped for good (zeroize stops every source; a stopped module is only closed): nothing
    // here needs the pads, the subkeys or the pending blocks' key in memory any more.
    this.ledger.wipe();
    this.state.wipe();
  }

  /** Stops, then closes the board, the worker threads and the durable state. */
  async close(): Promise<void> {
    await this.stop();
    await this.o.board.close();
    if (this.end instanceof BobEnd) await this.end.acquisition;
    await this.pool.close();
    this.ledger.wipe();
    await this.state.close();
    publishState({ linkId: this.linkId, role: this.config.role, state: 'stopped' });
  }
}
