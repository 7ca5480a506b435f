/**
 * The authenticated classical channel between the two modules of a QKD link: frames of
 * frame.ts over a byte stream (TCP), every frame tagged Wegman-Carter style with a one-time pad
 * from the link's AuthPadLedger. Frames are processed strictly in order; a frame is acted on only
 * after its tag verified and its pad was durably marked used.
 *
 * Reactions: a bad tag or a used pad index (replay, reordering) is refused, counted, published
 * on the `qkdn:qkd-link:security` diagnostics channel and surfaced as an 'error' event (the
 * session aborts the block in flight). What a refusal costs is bounded, so that a stranger who
 * can reach the port cannot drain the authentication key:
 * - a frame whose tag fails moves nothing: the floor stays, no pad is burned; the ledger counts
 *   the attempt against the epoch of the pad it names and retires that epoch after
 *   MAX_REJECTED_PER_EPOCH of them (ledger.ts, "Forgery attempts");
 * - a replayed frame costs nothing but its count: no Resync answers it;
 * - a Resync (one of our pads) answers only a stale hello, the mark of a peer that restarted,
 *   at most RESYNCS_PER_FLOOR times per value of our floor, and an epoch's retirement.
 * A structurally bad frame (version, type, size) cannot be resynchronised on a byte stream, so
 * the connection is closed.
 */
import { EventEmitter } from 'node:events';
import { channel as diagnostics } from 'node:diagnostics_channel';
import type { Duplex } from 'node:stream';
import { CHANNEL_VERSION, Direction, FrameType, HEADER_BYTES, MAX_PAYLOAD_BYTES, decodeHeader, encodeHeader, isFrameType } from './frame.js';
import type { AuthPadLedger } from './ledger.js';
import { tagsEqual, wegmanCarterTag, type UniversalHash } from './mac.js';
import { ChannelAuthError, ChannelError, ChannelReplayError } from './errors.js';
import { decodeClose, decodeHello, decodeResync, encodeClose, encodeHello, encodeResync, type HelloPayload, type LinkRole } from './control.js';

export type { LinkRole } from './control.js';

export interface ChannelOptions {
  readonly linkId: string;
  readonly role: LinkRole;
  readonly ledger: AuthPadLedger;
  readonly hash: UniversalHash;
  readonly maxPayloadBytes?: number;
}

export interface ChannelCounters {
  framesSent: number;
  framesReceived: number;
  authFailures: number;
  replays: number;
  /** Hellos below our floor during a handshake: the mark of a peer that restarted (see process()). */
  staleHellos: number;
  malformed: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface SecurityEvent {
  readonly linkId: string;
  readonly code: string;
  readonly message: string;
}

const securityChannel = diagnostics('qkdn:qkd-link:security');

interface ChannelEvents {
  message: [payload: Uint8Array];
  error: [err: ChannelError];
  /** A refused hello of a peer that restarted behind our floor; it is told where to resume. */
  'stale-hello': [err: ChannelReplayError];
  close: [reason: string];
}

export class AuthenticatedChannel extends EventEmitter<ChannelEvents> {
  readonly counters: ChannelCounters = { framesSent: 0, framesReceived: 0, authFailures: 0, replays: 0, staleHellos: 0, malformed: 0, bytesSent: 0, bytesReceived: 0 };
  private readonly sendDir: Direction;
  private readonly recvDir: Direction;
  private readonly maxPayload: number;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private queue: Promise<void> = Promise.resolve();
  private sendChain: Promise<void> = Promise.resolve();
  private closed = false;
  /** The peer's hello on this connection, once it verified. */
  private peerHelloSeen: HelloPayload | undefined;
  private peerHello: ((h: HelloPayload) => void) | undefined;
  private helloSent = false;

  constructor(
    private readonly socket: Duplex,
    private readonly opts: ChannelOptions,
  ) {
    super();
    this.sendDir = opts.role === 'alice' ? Direction.AliceToBob : Direction.BobToAlice;
    this.recvDir = opts.role === 'alice' ? Direction.BobToAlice : Direction.AliceToBob;
    if (opts.ledger.sendDirection !== this.sendDir) throw new RangeError(`ledger sends ${Direction[opts.ledger.sendDirection]}, role ${opts.role} needs ${Direction[this.sendDir]}`);
    this.maxPayload = opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.finish('connection closed'));
    socket.on('error', (err: Error) => this.finish(`connection error: ${err.message}`));
  }

  /**
   * Exchanges Hello frames; resolves when the peer proved it holds this link's key and role.
   * With `waitForPeer` (the listening end) our hello goes out only after the peer's verified: a
   * connection that never proves itself costs us no pad.
   */
  async handshake(timeoutMs = 10_000, waitForPeer = false): Promise<void> {
    const got = new Promise<HelloPayload>((resolve, reject) => {
      if (this.peerHelloSeen) {
        resolve(this.peerHelloSeen);
        return;
      }
      const timer = setTimeout(() => reject(new ChannelError('ERR_CHANNEL_PEER', `no authenticated hello from the peer within ${timeoutMs} ms`)), timeoutMs);
      this.peerHello = (h) => {
        clearTimeout(timer);
        resolve(h);
      };
      this.once('close', (reason: string) => {
        clearTimeout(timer);
        reject(new ChannelError('ERR_CHANNEL_CLOSED', reason));
      });
    });
    got.catch(() => undefined);
    if (waitForPeer) {
      await got;
      await this.sendHello();
      return;
    }
    await this.sendHello();
    await got;
  }

  /** Whether the peer's hello verified on this connection. */
  get authenticated(): boolean {
    return this.peerHelloSeen !== undefined;
  }

  private async sendHello(): Promise<void> {
    this.helloSent = true;
    await this.sendFrame(FrameType.Hello, encodeHello({ v: CHANNEL_VERSION, linkId: this.opts.linkId, role: this.opts.role }));
  }

  /** Sends one session message; resolves once it is handed to the socket (after back-pressure). */
  send(payload: Uint8Array): Promise<void> {
    return this.sendFrame(FrameType.Data, payload);
  }

  close(reason = 'closed by local end'): void {
    if (this.closed) return;
    void this.sendFrame(FrameType.Close, encodeClose({ reason })).catch(() => undefined).finally(() => this.socket.end());
    this.finish(reason);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private sendFrame(type: FrameType, payload: Uint8Array): Promise<void> {
    // Serialised: pad indices must go out in the order they were reserved.
    const run = this.sendChain.then(async () => {
      if (this.closed && type !== FrameType.Close) throw new ChannelError('ERR_CHANNEL_CLOSED', 'channel is closed');
      if (payload.length > this.maxPayload) throw new ChannelError('ERR_CHANNEL_FRAME', `payload of ${payload.length} bytes exceeds ${this.maxPayload}`);
      const index = await this.opts.ledger.nextSendIndex();
      const header = encodeHeader({ type, direction: this.sendDir, padIndex: BigInt(index), payloadLength: payload.length });
      const tag = wegmanCarterTag(this.opts.hash, this.opts.ledger.pad(this.sendDir, index), [header, payload]);
      const frame = Buffer.concat([header, payload, tag]);
      this.counters.framesSent++;
      this.counters.bytesSent += frame.length;
      if (!this.socket.write(frame)) await new Promise<void>((resolve) => this.socket.once('drain', resolve));
    });
    this.sendChain = run.catch(() => undefined);
    return run;
  }

  private onData(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.counters.bytesReceived += chunk.length;
    for (;;) {
      if (this.closed || this.pendingBytes < HEADER_BYTES) return;
      const head = this.peek(HEADER_BYTES);
      const h = decodeHeader(head);
      const problem =
        h.version !== CHANNEL_VERSION ? `unsupported channel version ${h.version}` :
        !isFrameType(h.type) ? `unknown frame type ${h.type}` :
        h.direction !== this.recvDir ? `frame of direction ${h.direction} is not from the peer` :
        h.payloadLength > this.maxPayload ? `payload length ${h.payloadLength} exceeds ${this.maxPayload}` :
        h.padIndex > BigInt(Number.MAX_SAFE_INTEGER) ? `pad index ${h.padIndex} out of range` : undefined;
      if (problem) {
        this.counters.malformed++;
        const code = h.version !== CHANNEL_VERSION ? 'ERR_CHANNEL_VERSION' : 'ERR_CHANNEL_FRAME';
        this.fail(new ChannelError(code, problem));
        this.socket.destroy();
        this.finish(problem);
        return;
      }
      const total = HEADER_BYTES + h.payloadLength + this.opts.hash.tagBytes;
      if (this.pendingBytes < total) return;
      const frame = this.peek(total);
      this.consume(total);
      const index = Number(h.padIndex);
      const payload = frame.subarray(HEADER_BYTES, HEADER_BYTES + h.payloadLength);
      const tag = frame.subarray(HEADER_BYTES + h.payloadLength);
      this.queue = this.queue.then(() => this.process(h.type, index, frame.subarray(0, HEADER_BYTES), payload, tag));
    }
  }

  private async process(type: FrameType, index: number, header: Uint8Array, payload: Uint8Array, tag: Uint8Array): Promise<void> {
    if (this.closed) return;
    const ledger = this.opts.ledger;
    try {
      ledger.checkFresh(index);
    } catch (err) {
      if (type === FrameType.Hello && this.peerHelloSeen === undefined) {
        // A restarted peer resumes at its durable reservation, which our floor (persisted a window
        // ahead) may exceed: its first hello is refused here as a matter of course. Refused all the
        // same, so a replayed hello gains nothing; counted and reported, but not as an attack.
        this.counters.staleHellos++;
        this.emit('stale-hello', err as ChannelReplayError);
        // Tell it where to resume. The hello is not verified (its pad may be gone), so anyone can
        // replay one: the answers per floor are capped, and the floor moves with every accepted frame.
        if (ledger.takeResync()) await this.sendResync(true);
      } else {
        // A replay or a reordering: refused and counted, nothing else (no answer costs us a pad).
        this.counters.replays++;
        this.fail(err as ChannelReplayError);
      }
      return;
    }
    let expected: Uint8Array;
    try {
      expected = wegmanCarterTag(this.opts.hash, ledger.pad(this.recvDir, index), [header, payload]);
    } catch (err) {
      this.fail(err as ChannelError);
      return;
    }
    if (!tagsEqual(expected, tag)) {
      this.counters.authFailures++;
      // The floor does not move and no pad is burned (ledger.ts, "Forgery attempts"): the attempt
      // is counted, durably, against the epoch of the pad it names, and that epoch is retired
      // once it has had its share of attempts; the peer is then told to move past it.
      const retired = await ledger.rejected(index);
      this.fail(new ChannelAuthError(index));
      if (retired) await this.sendResync(this.peerHelloSeen === undefined);
      return;
    }
    await ledger.accept(index);
    this.counters.framesReceived++;
    switch (type) {
      case FrameType.Hello: {
        const hello = decodeHello(payload);
        if (typeof hello === 'string' || hello.linkId !== this.opts.linkId || hello.role === this.opts.role) {
          if (typeof hello === 'string') this.counters.malformed++;
          const what = typeof hello === 'string' ? `a malformed hello (${hello})` : `a hello for link ${hello.linkId} as ${hello.role}`;
          this.fail(new ChannelError('ERR_CHANNEL_PEER', `peer sent ${what}, which does not match link ${this.opts.linkId}`, true));
          this.close('peer is not this link’s other end');
          return;
        }
        this.peerHelloSeen = hello;
        this.peerHello?.(hello);
        this.peerHello = undefined;
        return;
      }
      case FrameType.Resync: {
        const r = decodeResync(payload);
        if (typeof r === 'string') {
          this.counters.malformed++;
          this.fail(new ChannelError('ERR_CHANNEL_FRAME', `malformed resync from the peer: ${r}`, true));
          return;
        }
        await ledger.skipSendTo(r.floor);
        // Our hello was refused as stale: send it again above the peer's floor.
        if (r.hello && this.helloSent) await this.sendHello();
        return;
      }
      case FrameType.Close: {
        const c = decodeClose(payload);
        if (typeof c === 'string') this.counters.malformed++;
        this.finish(`peer closed: ${typeof c === 'string' ? 'no reason' : c.reason}`);
        this.socket.end();
        return;
      }
      case FrameType.Data:
        if (!this.peerHelloSeen) {
          this.fail(new ChannelError('ERR_CHANNEL_PEER', `data frame ${index} before the peer's hello`, true));
          return;
        }
        this.emit('message', payload);
        return;
    }
  }

  private sendResync(hello: boolean): Promise<void> {
    return this.sendFrame(FrameType.Resync, encodeResync({ floor: this.opts.ledger.floor, hello })).catch(() => undefined);
  }

  private fail(err: ChannelError): void {
    if (err.security && securityChannel.hasSubscribers) {
      securityChannel.publish({ linkId: this.opts.linkId, code: err.code, message: err.message } satisfies SecurityEvent);
    }
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', reason);
  }

  private peek(n: number): Uint8Array {
    if (this.pending[0]!.length < n) {
      const merged = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [merged];
    }
    return this.pending[0]!.subarray(0, n);
  }

  private consume(n: number): void {
    let left = n;
    while (left > 0) {
      const head = this.pending[0]!;
      if (head.length <= left) {
        left -= head.length;
        this.pending.shift();
      } else {
        this.pending[0] = head.subarray(left);
        left = 0;
      }
    }
    this.pendingBytes -= n;
  }
}
