/**
 * What both ends of a link share: the durable state and the key sink, the connection to the peer
 * (one AuthenticatedChannel at a time), message routing to blocks, synchronisation after every
 * (re)connection, the commit protocol's last step, and the block reports. AliceEnd (alice.ts)
 * and BobEnd (bob.ts) add their half of each block.
 */
import { randomBytes } from 'node:crypto';
import type { AuthenticatedChannel } from '../channel/channel.js';
import type { ChannelError } from '../channel/errors.js';
import type { AuthPadLedger } from '../channel/ledger.js';
import type { CodeFamily } from '../reconciliation/codebook.js';
import type { ErrorVerifier } from '../kernels/verify.js';
import type { KeySink, KeyUnit } from '../../kq/key-source.js';
import { decodeMessage, encodeMessage, SessionMessageError, type MessageOf, type SessionMessage } from '../session/messages.js';
import { agreementDigest, type LinkConfig, type LinkRole } from './config.js';
import { BlockMailbox, CommitGate, StageClock } from './block/block.js';
import { publishBlock, publishState, type BlockReport, type LinkStateEvent } from './diagnostics.js';
import { blockSecurity } from './block/postprocess.js';
import { LinkError } from './errors.js';
import type { LinkState, PendingBlock } from './state/link-state.js';
import type { WorkerPool } from './workers/worker-pool.js';

/** QKD_LINK_TRACE: '1' traces messages and acquisition, '2' the decoded frames; read once, not per event. */
export const TRACE_LEVEL = process.env.QKD_LINK_TRACE ?? '';
const TRACE = TRACE_LEVEL === '1';
/** How often our sync.state is repeated until the peer's arrives. */
const SYNC_REPEAT_MS = 1000;

export interface LinkEndDeps {
  readonly config: LinkConfig;
  readonly state: LinkState;
  readonly ledger: AuthPadLedger;
  readonly pool: WorkerPool;
  readonly family: CodeFamily;
  readonly verifier: ErrorVerifier;
  /** Cryptographic randomness (tests may seed it). */
  readonly random?: (n: number) => Uint8Array;
}

/** Everything a block accumulates for its report. */
export type ReportDraft = { -readonly [K in keyof BlockReport]?: BlockReport[K] };

export interface BlockContext {
  readonly block: number;
  readonly mailbox: BlockMailbox;
  readonly clock: StageClock;
  readonly report: ReportDraft;
  /** Authentication key consumed so far, when the block began (bits). */
  readonly authAtStart: number;
  /** Called (once) when the block is abandoned: stops its worker job, if any. */
  onAbort?: () => void;
}

export interface LinkCounters {
  blocks: number;
  keyBlocks: number;
  noKeyBlocks: number;
  abortedBlocks: number;
  units: number;
  finalBits: number;
  authBits: number;
  siftedBits: number;
  slots: number;
  /**
   * Receiver: milliseconds its acquisition waited because maxInFlight blocks were already being
   * post-processed, i.e. the post-processing held the source back (0 when it keeps up).
   */
  heldBackMs: number;
  /** Receiver: events its board lost to a full FIFO while blocks were being gathered. */
  lostEvents: number;
}

export abstract class LinkEnd {
  readonly config: LinkConfig;
  readonly role: LinkRole;
  readonly counters: LinkCounters = { blocks: 0, keyBlocks: 0, noKeyBlocks: 0, abortedBlocks: 0, units: 0, finalBits: 0, authBits: 0, siftedBits: 0, slots: 0, heldBackMs: 0, lostEvents: 0 };
  protected readonly deps: LinkEndDeps;
  protected readonly blocks = new Map<number, BlockContext>();
  protected readonly gate = new CommitGate();
  protected channel: AuthenticatedChannel | undefined;
  protected synchronised = false;
  protected sink: KeySink | undefined;
  protected stopped = false;
  private syncWaiter: ((m: MessageOf<'sync.state'>) => void) | undefined;
  private earlySync: MessageOf<'sync.state'> | undefined;
  /** Our sync.state on this connection, repeated to a peer that did not get it. */
  private mySync: MessageOf<'sync.state'> | undefined;
  private pushing: Promise<void> = Promise.resolve();
  protected readonly random: (n: number) => Uint8Array;

  constructor(deps: LinkEndDeps) {
    this.deps = deps;
    this.config = deps.config;
    this.role = deps.config.role;
    this.random = deps.random ?? ((n) => new Uint8Array(randomBytes(n)));
  }

  get isSynchronised(): boolean {
    return this.synchronised;
  }

  get inFlight(): number {
    return this.blocks.size;
  }

  protected state(state: LinkStateEvent['state'], detail?: string, err?: LinkError): void {
    publishState({ linkId: this.config.linkId, role: this.role, state, ...(detail ? { detail } : {}), ...(err ? { code: err.code } : {}) });
  }

  /** Sets the key store the units go to; the source resumes after `after` (the store's last unit). */
  async setSink(sink: KeySink, after: number): Promise<void> {
    this.sink = sink;
    await this.deps.state.atLeast(after + 1);
  }

  // ---- connection ----------------------------------------------------------------------------

  /**
   * Runs the session over an authenticated channel whose handshake is done: synchronises, then
   * serves blocks until the channel closes. Resolves when it has closed and every block in flight
   * was abandoned.
   */
  async serve(channel: AuthenticatedChannel): Promise<void> {
    this.channel = channel;
    const closed = new Promise<string>((resolve) => channel.once('close', resolve));
    channel.on('message', (p) => this.onMessage(p));
    channel.on('error', (e) => this.onChannelError(e));
    this.state('connected');
    try {
      await this.synchronise();
      this.synchronised = true;
      this.state('synchronised', `next unit ${this.deps.state.nextUnit}, last committed block ${this.deps.state.committed}`);
      this.onSynchronised();
    } catch (e) {
      const err = e instanceof LinkError ? e : new LinkError('ERR_LINK_PROTOCOL', (e as Error).message, { cause: e });
      this.state('error', err.message, err);
      channel.close(err.message);
    }
    const reason = await closed;
    this.synchronised = false;
    this.channel = undefined;
    this.syncWaiter = undefined;
    this.earlySync = undefined;
    this.mySync = undefined;
    this.abortAll(new LinkError('ERR_LINK_PEER_LOST', `connection to the peer lost: ${reason}`), false);
    this.state('disconnected', reason);
  }

  protected abstract onSynchronised(): void;

  /** Handles a message for a block this end does not know yet (Alice: a new announcement). */
  protected abstract onNewBlock(m: SessionMessage): void;

  private onMessage(payload: Uint8Array): void {
    let m: SessionMessage;
    try {
      m = decodeMessage(payload);
    } catch (e) {
      const err = new LinkError('ERR_LINK_PROTOCOL', `undecodable message from the peer: ${(e as SessionMessageError).message}`);
      this.abortAll(err, true);
      return;
    }
    if (TRACE) process.stderr.write(`[${this.role}] <- ${m.t} b${m.b} ${payload.length}B\n`);
    if (m.t === 'sync.state') {
      // A repeat: the peer has not had ours (refused as stale after its restart): answer it again.
      if (this.synchronised) {
        if (this.mySync) void this.send(this.mySync).catch(() => undefined);
        return;
      }
      if (this.syncWaiter) this.syncWaiter(m);
      else this.earlySync = m;
      return;
    }
    if (!this.synchronised) return;
    const ctx = this.blocks.get(m.b);
    if (ctx) ctx.mailbox.push(m);
    else if (m.t !== 'abort') this.onNewBlock(m);
  }

  private onChannelError(e: ChannelError): void {
    // A frame we refused may have belonged to any block: abandon them all (nothing half-made is kept).
    this.abortAll(new LinkError('ERR_LINK_CHANNEL', `classical channel: ${e.message}`, { cause: e }), true);
  }

  protected send(m: SessionMessage): Promise<void> {
    const ch = this.channel;
    if (!ch || ch.isClosed) return Promise.reject(new LinkError('ERR_LINK_PEER_LOST', 'no connection to the peer'));
    if (TRACE) process.stderr.write(`[${this.role}] -> ${m.t} b${m.b}\n`);
    return ch.send(encodeMessage(m)).catch((e: Error) => {
      throw new LinkError('ERR_LINK_PEER_LOST', `cannot send ${m.t}: ${e.message}`, { cause: e });
    });
  }

  // ---- synchronisation -----------------------------------------------------------------------

  private async synchronise(): Promise<void> {
    const st = this.deps.state;
    const mine: MessageOf<'sync.state'> = {
      t: 'sync.state',
      b: 0,
      committed: st.committed,
      last: st.lastBlock,
      nextUnit: st.nextUnit,
      pending: st.pending().map((p) => p.block),
      cfg: agreementDigest(this.config),
    };
    const got = new Promise<MessageOf<'sync.state'>>((resolve, reject) => {
      if (this.earlySync) {
        resolve(this.earlySync);
        return;
      }
      const timer = setTimeout(() => reject(new LinkError('ERR_LINK_TIMEOUT', 'no sync.state from the peer')), this.config.block.timeoutMs);
      this.syncWaiter = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
    got.catch(() => undefined);
    this.mySync = mine;
    await this.send(mine);
    // After a restart either end may refuse the other's first frames as stale (their pad indices
    // are below its floor) and tell the channel where to resume: a sync.state is then lost. Ours
    // goes again until the peer's arrives, and a synchronised end answers a repeat with its own.
    const again = setInterval(() => void this.send(mine).catch(() => undefined), SYNC_REPEAT_MS);
    let peer: MessageOf<'sync.state'>;
    try {
      peer = await got;
    } finally {
      clearInterval(again);
    }
    this.syncWaiter = undefined;
    if (peer.cfg !== mine.cfg) throw new LinkError('ERR_LINK_MISMATCH', `the peer's protocol configuration differs (digest ${peer.cfg}, ours ${mine.cfg}): both ends need the same protocol, block and security sections`);
    await this.resolvePending(peer);
    this.afterSync(peer);
  }

  /** Alice finishes or destroys her pending blocks by Bob's word; Bob has none by now. */
  protected abstract resolvePending(peer: MessageOf<'sync.state'>): Promise<void>;

  protected abstract afterSync(peer: MessageOf<'sync.state'>): void;

  // ---- blocks --------------------------------------------------------------------------------

  protected openBlock(block: number, report: ReportDraft): BlockContext {
    const ctx: BlockContext = {
      block,
      mailbox: new BlockMailbox(block, this.config.block.timeoutMs),
      clock: new StageClock(),
      report,
      authAtStart: this.deps.ledger.stats().consumedBits,
    };
    this.blocks.set(block, ctx);
    this.gate.enter(block);
    this.deps.state.noteBlock(block);
    return ctx;
  }

  /** Abandons every block in flight; tells the peer when `notify` and the channel is up. */
  protected abortAll(err: LinkError, notify: boolean): void {
    for (const ctx of [...this.blocks.values()]) this.abortBlock(ctx, err, notify);
  }

  /**
   * What a block that threw `e` failed with: a block cut short because this end is stopping says
   * so, whatever its last step reported; anything not already a LinkError is a protocol error.
   */
  protected blockFailure(e: unknown): LinkError {
    if (this.stopped) return new LinkError('ERR_LINK_STOPPED', 'the link module is stopping', { cause: e });
    return e instanceof LinkError ? e : new LinkError('ERR_LINK_PROTOCOL', (e as Error).message, { cause: e });
  }

  protected abortBlock(ctx: BlockContext, err: LinkError, notify: boolean): void {
    if (ctx.mailbox.failed) return;
    ctx.mailbox.fail(err);
    ctx.onAbort?.();
    if (notify && !err.fromPeer) void this.send({ t: 'abort', b: ctx.block, code: err.code, why: err.message.slice(0, 1000) }).catch(() => undefined);
  }

  /** Ends a block (whatever happened) and publishes its report. */
  protected closeBlock(ctx: BlockContext, outcome: BlockReport['outcome'], err?: LinkError): void {
    if (!this.blocks.has(ctx.block)) return;
    this.blocks.delete(ctx.block);
    this.gate.leave(ctx.block);
    this.counters.blocks++;
    if (outcome === 'key') this.counters.keyBlocks++;
    else if (outcome === 'no-key') this.counters.noKeyBlocks++;
    else this.counters.abortedBlocks++;
    const r = ctx.report;
    const report = {
      linkId: this.config.linkId,
      role: this.role,
      block: ctx.block,
      outcome,
      ...(err ? { code: err.code, reason: err.message } : {}),
      slots: r.slots ?? { start: 0, end: 0, clockHz: this.config.protocol.clockHz },
      events: r.events ?? 0,
      ...(r.sifted ? { sifted: r.sifted } : {}),
      ...(r.qber ? { qber: r.qber } : {}),
      ...(r.decoy ? { decoy: r.decoy } : {}),
      ...(r.ec ? { ec: r.ec } : {}),
      ...(r.finalBits !== undefined ? { finalBits: r.finalBits } : {}),
      ...(r.units !== undefined ? { units: r.units, firstUnit: r.firstUnit ?? 0, authBits: r.authBits ?? 0 } : {}),
      authConsumedBits: this.deps.ledger.stats().consumedBits - ctx.authAtStart,
      ...(r.finalBits ? { security: blockSecurity(this.config, this.deps.ledger.stats().consumedBits - ctx.authAtStart) } : {}),
      stageMs: ctx.clock.rounded(),
      totalMs: Math.round(ctx.clock.totalMs * 10) / 10,
    } satisfies BlockReport;
    publishBlock(report);
    this.onBlockClosed(report);
  }

  /** Hook for the module (progress, demo). */
  protected onBlockClosed(_report: BlockReport): void {}

  /** Pushes a committed block's units to the key store (durable when it resolves), one push at a time. */
  protected pushUnits(p: PendingBlock): Promise<void> {
    const sink = this.sink;
    if (!sink) return Promise.reject(new LinkError('ERR_LINK_STORE', 'no key store attached'));
    const bytes = this.config.unitBits / 8;
    const units: KeyUnit[] = [];
    // Views of the pending block's key, not copies: its bytes are wiped in one place (LinkState
    // finish, destroy and wipe), and no stray copy outlives them.
    for (let i = 0; i < p.units; i++) units.push({ index: p.u0 + i, bytes: p.unitBytes.subarray(i * bytes, (i + 1) * bytes) });
    const run = this.pushing.then(() => (units.length > 0 ? sink.push(units) : undefined));
    this.pushing = run.catch(() => undefined);
    return run.catch((e: Error) => {
      throw new LinkError('ERR_LINK_STORE', `key store refused units ${p.u0}-${p.u0 + p.units - 1}: ${e.message}`, { cause: e });
    });
  }

  /** The last step of a commit at this end: units in the store, then the ledger share, counters and pending in one transaction. */
  protected async finishCommit(p: PendingBlock): Promise<void> {
    await this.pushUnits(p);
    const authBits = p.auth.length * 8;
    await this.deps.state.finish(p, (material, block, extra) => this.deps.ledger.replenish(material, block, extra));
    this.counters.units += p.units;
    this.counters.authBits += authBits;
  }

  /** Finishes Bob's own pending blocks at start-up (Alice stored them before she asked him to commit). */
  async recover(): Promise<void> {
    if (this.role !== 'bob') return;
    for (const p of this.deps.state.pending()) await this.finishCommit(p);
  }

  /** Waits for pushes in flight. */
  async drain(): Promise<void> {
    await this.pushing;
  }

  stop(): void {
    this.stopped = true;
    this.abortAll(new LinkError('ERR_LINK_STOPPED', 'the link module is stopping'), true);
  }
}
