/**
 * Bob's end of a block (the receiver): he cuts his detection stream into blocks and drives each
 * through the protocol: announcement, disclosure of his test-basis bits, decoding in a worker
 * (asking Alice for reveals and frame tags over the channel), verification, privacy amplification
 * with Alice's seed, and the commit when Alice has made her copy durable.
 */
import type { PerClass } from '../../estimation/finite-key.js';
import type { MessageOf, SessionMessage } from '../../session/messages.js';
import { encodeU32s, packBits, unpackBits, type SlotSegments } from '../../session/packing.js';
import { perClassArray, perClassFrom, totalOf } from '../../session/sifting.js';
import type { DetectionBatchItem, DetectionItem, ReceiverPort } from '../boards/boards.js';
import { LinkError } from '../errors.js';
import { LinkEnd, TRACE_LEVEL, type BlockContext, type LinkEndDeps } from '../link-end.js';
import { blockLeakTotal, efficiency, frameKey, keptLeak, qberOf, secretLength, splitFinalKey, verificationKeys, type Framing } from './postprocess.js';
import { tagsEqual } from '../../channel/mac.js';
import { DisclosureLedger } from '../../reconciliation/disclosure.js';

/** Buffers a draft can reuse: the masks and raw deltas of an earlier block. */
interface Spare {
  masks: Uint8Array;
  raw: Uint8Array;
}

/**
 * Detections gathered for the next block. Whole batches keep their slots in wire form (LEB128
 * deltas), so the main thread neither decodes nor stores 8 bytes per event; only the batches where
 * a block starts or ends are decoded. The announcement job turns the segments into the block's
 * slot deltas on a worker.
 */
class Draft {
  masks: Uint8Array;
  n = 0;
  zEvents = 0;
  acq = -1;
  /** Slot of the block's last event, once the block is complete. */
  lastSlot = -1;
  private raw: Uint8Array;
  private rawLen = 0;
  private decoded = new Float64Array(1 << 14);
  private decodedLen = 0;
  private readonly segBase: number[] = [];
  private readonly segCount: number[] = [];
  private readonly segRaw: number[] = [];

  /**
   * `expected` events: sized once (a block is megabytes; growing by copies costs as much again),
   * in recycled buffers when there are some big enough.
   */
  constructor(public start: number, expected: number, spare?: Spare) {
    const reuse = spare && spare.masks.length >= expected && spare.raw.length >= 2 * expected;
    this.masks = reuse ? spare.masks : new Uint8Array(expected);
    this.raw = reuse ? spare.raw : new Uint8Array(2 * expected);
  }

  /**
   * Takes events [from, to) of a batch, or fewer: stops after the one that brings the Z events to
   * `zTarget`. Returns where it stopped.
   */
  take(item: DetectionBatchItem, from: number, to: number, zTarget: number): number {
    const masks = item.masks;
    let end = to;
    let z = this.zEvents;
    // (m & 3) is 0 for an X-only click, 1-3 for a Z click: + 3 >> 2 makes that 0 or 1 without a branch.
    let all = 0;
    for (let k = from; k < to; k++) all += ((masks[k]! & 3) + 3) >> 2;
    if (z + all < zTarget) z += all;
    else {
      for (let k = from; k < to; k++) {
        z += ((masks[k]! & 3) + 3) >> 2;
        if (z === zTarget) {
          end = k + 1;
          break;
        }
      }
    }
    this.zEvents = z;
    const m = end - from;
    if (m === 0) return end;
    if (this.n + m > this.masks.length) this.masks = grow(this.masks, this.n, this.n + m);
    this.masks.set(masks.subarray(from, end), this.n);
    this.n += m;
    this.acq = item.acq;
    const deltas = item.deltas;
    if (from === 0 && end === to && deltas) {
      if (this.rawLen + deltas.length > this.raw.length) this.raw = grow(this.raw, this.rawLen, this.rawLen + deltas.length);
      this.raw.set(deltas, this.rawLen);
      this.rawLen += deltas.length;
      this.segment(item.slotStart, m, deltas.length);
    } else {
      if (this.decodedLen + m > this.decoded.length) this.decoded = grow(this.decoded, this.decodedLen, this.decodedLen + m);
      this.decoded.set(item.slots.subarray(from, end), this.decodedLen);
      this.decodedLen += m;
      this.segment(0, m, -1);
    }
    if (z === zTarget) this.lastSlot = item.slots[end - 1]!;
    return end;
  }

  private segment(base: number, count: number, rawBytes: number): void {
    this.segBase.push(base);
    this.segCount.push(count);
    this.segRaw.push(rawBytes);
  }

  /** The gathered slots for the announcement job (the masks' and raw buffers move with it). */
  segments(): SlotSegments {
    return {
      base: Float64Array.from(this.segBase),
      count: Uint32Array.from(this.segCount),
      rawBytes: Int32Array.from(this.segRaw),
      raw: this.raw.subarray(0, this.rawLen),
      decoded: this.decoded.subarray(0, this.decodedLen),
    };
  }
}

/** A copy of a's first `used` items in an array of at least `need` (doubling, to grow rarely). */
function grow<T extends Uint8Array | Float64Array>(a: T, used: number, need: number): T {
  const g = new (a.constructor as new (n: number) => T)(Math.max(need, 2 * a.length));
  g.set(a.subarray(0, used));
  return g;
}

export class BobEnd extends LinkEnd {
  private nextBlock = 1;
  private capacityWaiter: (() => void) | undefined;
  private acquiring: Promise<void> | undefined;

  constructor(deps: LinkEndDeps, private readonly rx: ReceiverPort) {
    super(deps);
    rx.onFault((err) => {
      this.state('board-fault', err.message, err);
      this.abortAll(err, true);
      this.draft = undefined;
    });
  }

  private draft: Draft | undefined;

  /** Starts consuming the receiver's detections (blocks start only while synchronised). */
  startAcquisition(): void {
    this.acquiring ??= this.acquire().catch((e: Error) => {
      const err = e instanceof LinkError ? e : new LinkError('ERR_LINK_BOARD_FAULT', `receiver: ${e.message}`, { cause: e });
      this.state('board-fault', err.message, err);
      this.abortAll(err, true);
    });
  }

  get acquisition(): Promise<void> | undefined {
    return this.acquiring;
  }

  protected onSynchronised(): void {
    this.draft = undefined;
  }

  protected afterSync(peer: MessageOf<'sync.state'>): void {
    const st = this.deps.state;
    this.nextBlock = Math.max(st.lastBlock, st.committed, peer.last, peer.committed, ...peer.pending) + 1;
  }

  protected async resolvePending(): Promise<void> {
    // Bob finished his pending blocks at start-up (recover()); a commit cut by the disconnection
    // has finished too, since Bob never abandons a block once he stored it.
    for (const p of this.deps.state.pending()) await this.finishCommit(p);
  }

  protected onNewBlock(_m: SessionMessage): void {
    // A late message for a block that is over: nothing to do.
  }

  protected override closeBlock(ctx: BlockContext, outcome: 'key' | 'no-key' | 'aborted', err?: LinkError): void {
    super.closeBlock(ctx, outcome, err);
    const w = this.capacityWaiter;
    this.capacityWaiter = undefined;
    w?.();
  }

  private async waitCapacity(): Promise<void> {
    if (this.blocks.size < this.config.block.maxInFlight) return;
    const t0 = performance.now();
    while (this.blocks.size >= this.config.block.maxInFlight && !this.stopped) {
      await new Promise<void>((resolve) => (this.capacityWaiter = resolve));
    }
    this.counters.heldBackMs += performance.now() - t0;
  }

  /** Draft buffers back from the announcement job, for the next drafts. */
  private readonly spare: Spare[] = [];

  /** Events a block's draft is sized for: a guess from the basis split, then what blocks took. */
  private expectedEvents = Math.ceil(this.zTarget * 1.4);

  private get zTarget(): number {
    // Alice keeps a Z event of Bob's when she chose Z too.
    return Math.ceil(this.config.block.siftedBits / this.config.protocol.pZ);
  }

  private async acquire(): Promise<void> {
    for await (const item of this.rx.detections()) {
      if (this.stopped) return;
      await this.take(item);
    }
  }

  private taken = 0;
  private async take(item: DetectionItem): Promise<void> {
    if (TRACE_LEVEL === '1' && (item.kind === 'gap' || (this.taken++ & 255) === 0)) process.stderr.write(`[bob] take ${item.kind} ${item.slotStart} sync=${this.synchronised} healthy=${this.rx.healthy} draft=${this.draft?.zEvents}\n`);
    if (!this.synchronised || !this.rx.healthy) {
      // Nobody to distil with (or data not to be trusted): the detections are dropped.
      this.draft = undefined;
      return;
    }
    if (item.kind === 'gap') {
      // Lost batches only thin the block; a reset board ends the acquisition and its block.
      if (item.reason === 'board-reset') this.draft = undefined;
      return;
    }
    // Events lost to the board's FIFO while gathering blocks: the link did not keep up (they only thin the block).
    this.counters.lostEvents += item.lost ?? 0;
    let k = 0;
    const n = item.masks.length;
    while (k < n) {
      this.draft ??= new Draft(k === 0 ? item.slotStart : item.slots[k]!, this.expectedEvents, this.spare.pop());
      const d = this.draft;
      const target = this.zTarget;
      k = d.take(item, k, n, target);
      if (d.zEvents < target) break;
      const end = d.lastSlot + 1;
      if (d.n > this.expectedEvents) this.expectedEvents = Math.ceil(d.n * 1.02);
      this.draft = k < n ? new Draft(end, this.expectedEvents, this.spare.pop()) : undefined;
      await this.waitCapacity();
      if (!this.synchronised || this.stopped) {
        this.draft = undefined;
        return;
      }
      this.startBlock(d, end);
    }
  }

  private startBlock(d: Draft, end: number): void {
    const b = this.nextBlock++;
    const ctx = this.openBlock(b, { slots: { start: d.start, end, clockHz: this.config.protocol.clockHz }, events: d.n });
    void this.runBlock(ctx, d, end);
  }

  private async runBlock(ctx: BlockContext, d: Draft, end: number): Promise<void> {
    try {
      const outcome = await this.block(ctx, d, end);
      this.closeBlock(ctx, outcome.key ? 'key' : outcome.why?.code === 'ERR_LINK_VERIFY' ? 'aborted' : 'no-key', outcome.why);
    } catch (e) {
      const err = this.blockFailure(e);
      this.abortBlock(ctx, err, true);
      this.closeBlock(ctx, 'aborted', err);
    }
  }

  private async block(ctx: BlockContext, d: Draft, end: number): Promise<{ key: boolean; why?: LinkError }> {
    const { config: c, deps } = this;
    const mb = ctx.mailbox;
    const r = ctx.report;
    const n = d.n;

    // ---- sifting -----------------------------------------------------------------------------
    // The draft's buffers move to the worker: nothing here reads them again.
    const segments = d.segments();
    const ann = await deps.pool.run({ kind: 'announce', start: d.start, segments, masks: d.masks.subarray(0, n) }, [segments.raw.buffer as ArrayBuffer, d.masks.buffer as ArrayBuffer]);
    if (this.spare.length < 2) this.spare.push({ masks: new Uint8Array(ann.masks.buffer), raw: new Uint8Array(ann.raw.buffer) });
    await this.send({ t: 'sift.announce', b: ctx.block, acq: Math.max(0, d.acq), s: d.start, e: end, n, d: ann.d, bb: ann.bb });
    const reply = await mb.next(['sift.reply']);
    const sr = await deps.pool.run({ kind: 'sift-rx', bb: ann.bb, value: ann.value, keep: reply.keep, cls: reply.cls }, [ann.value.buffer as ArrayBuffer]);
    const sifted = { key: sr.sifted.key, test: sr.sifted.test, nZ: perClassFrom(sr.sifted.nZ, 'nZ'), nX: perClassFrom(sr.sifted.nX, 'nX') };
    r.sifted = { Z: sifted.nZ, X: sifted.nX };
    this.counters.siftedBits += sifted.key.length;
    this.counters.slots += end - d.start;
    ctx.clock.lap('sift');

    // ---- parameter estimation ----------------------------------------------------------------
    await this.send({ t: 'pe.disclose', b: ctx.block, bits: sr.testPacked });
    const pe = await mb.next(['pe.result']);
    const same = (a: readonly number[], b: PerClass) => a.length === 3 && a.every((x, i) => x === perClassArray(b)[i]);
    if (!same(pe.nZ, sifted.nZ) || !same(pe.nX, sifted.nX)) throw new LinkError('ERR_LINK_PROTOCOL', `sifted counts differ: Alice ${pe.nZ}/${pe.nX}, Bob ${perClassArray(sifted.nZ)}/${perClassArray(sifted.nX)}`);
    const eX: PerClass = { signal: pe.eX[0] ?? 0, decoy: pe.eX[1] ?? 0, vacuum: pe.eX[2] ?? 0 };
    const qX = qberOf(eX, sifted.nX);
    r.qber = { X: qX };
    ctx.clock.lap('pe');
    if (!pe.go) return { key: false, why: new LinkError(qX.all > c.security.qberMax ? 'ERR_LINK_QBER' : 'ERR_LINK_NO_KEY', pe.why) };

    // ---- error correction --------------------------------------------------------------------
    const sm = await mb.next(['ec.syndromes']);
    let fr: Framing;
    try {
      fr = frameKey(deps.family, sm.qec, sifted.key.length);
    } catch (e) {
      throw new LinkError('ERR_LINK_PROTOCOL', `ec.syndromes: ${(e as Error).message}`, { cause: e });
    }
    const ldpc = fr.plan.code;
    if (sm.code !== ldpc.id || sm.punctured !== fr.plan.punctured || sm.frames !== fr.frames || sm.keyBits !== fr.keyBits) {
      throw new LinkError('ERR_LINK_PROTOCOL', `ec.syndromes: code ${sm.code}/${sm.punctured}, ${sm.frames} frames of ${sm.keyBits} bits; Bob plans ${ldpc.id}/${fr.plan.punctured}, ${fr.frames} of ${fr.keyBits}`);
    }
    const syndromes = unpackBits(sm.syn, fr.frames * ldpc.m, 'ec.syndromes syn');
    // The sifted key, and below the decoded and the reference bits, are not read here again: they move.
    const { padded } = await deps.pool.run({ kind: 'frames', qec: sm.qec, key: sifted.key }, [sifted.key.buffer as ArrayBuffer]);
    if (sm.tagBytes < 8 || sm.tagBytes % 8 !== 0 || sm.tags.length !== 2 * sm.tagBytes * fr.frames) throw new LinkError('ERR_LINK_PROTOCOL', `ec.syndromes: ${sm.tags.length} tag bytes for ${fr.frames} frames of ${sm.tagBytes}`);
    const handle = deps.pool.reconcile(
      { qec: sm.qec, codeId: ldpc.id, punctured: fr.plan.punctured, frames: fr.frames, keys: padded, syndromes, tags: sm.tags, tagBytes: sm.tagBytes },
      {
        ask: async (f, positions) => {
          await this.send({ t: 'ec.ask', b: ctx.block, f, pos: encodeU32s(positions) });
          const m = await mb.next(['ec.reveal']);
          if (m.f !== f) throw new LinkError('ERR_LINK_PROTOCOL', `ec.reveal for frame ${m.f}, asked ${f}`);
          return unpackBits(m.bits, positions.length, 'ec.reveal bits');
        },
      },
    );
    ctx.onAbort = () => handle.abort();
    const rec = await handle.result;
    if (mb.failed) throw mb.failed;
    const ok = new Uint8Array(fr.frames);
    for (const rep of rec.reports) ok[rep.frame] = rep.ok ? 1 : 0;
    const corrected = rec.corrected;
    if (TRACE_LEVEL === '2') process.stderr.write(`[bob] ok ${Array.from(ok).join('')} rounds ${rec.reports.map((x) => x.rounds).join(',')} keyBits ${fr.keyBits} k ${fr.k}\n`);
    // Every frame's tag was sent with its syndrome: it is disclosed whether or not the frame decoded.
    // Alice's part of a frame's leak (syndrome, reveals, tag) and Bob's (requests, flag) apart:
    // only Alice's is covered by dropping a failed frame.
    const aliceLeak = rec.reports.map((x) => x.ecLeak - x.bobBits + 8 * sm.tagBytes);
    const bobLeak = rec.reports.map((x) => x.bobBits);
    const endBits = new DisclosureLedger(fr.plan, fr.frames).endBits;
    const acc = keptLeak(fr, aliceLeak, bobLeak, endBits, ok, sifted.nZ);
    // The decoded frames' real bits, packed, and the errors corrected per class (signal, decoy, vacuum).
    const pk = await deps.pool.run({ kind: 'pack', qec: sm.qec, keyBits: fr.keyBits, bits: corrected, ok, kept: acc.kept, reference: padded, bounds: [sifted.nZ.signal, sifted.nZ.signal + sifted.nZ.decoy] }, [corrected.buffer as ArrayBuffer, padded.buffer as ArrayBuffer]);
    const errZ = perClassFrom(pk.errZ ?? [], 'errZ');
    await this.send({ t: 'ec.done', b: ctx.block, ok: packBits(ok), leak: blockLeakTotal(aliceLeak, bobLeak, endBits), errZ: perClassArray(errZ) });
    if (acc.kept === 0) throw new LinkError('ERR_LINK_RECONCILIATION', `none of the ${fr.frames} frames decoded`);
    const qZ = totalOf(errZ) / acc.kept;
    r.qber = { X: qX, Z: { ...qberOf(errZ, sifted.nZ), all: qZ } };
    r.ec = {
      qec: sm.qec,
      codeId: ldpc.id,
      frames: fr.frames,
      failedFrames: fr.frames - ok.reduce((a, b) => a + b, 0),
      leak: acc.ecLeak,
      efficiency: efficiency(fr, rec.reports.map((x) => x.ecLeak), ok, qZ),
      rounds: rec.reports.reduce((a, x) => a + x.rounds, 0),
      iterations: rec.reports.reduce((a, x) => a + x.iterations, 0),
    };
    ctx.clock.lap('ec');

    // ---- verification ------------------------------------------------------------------------
    const vt = await mb.next(['ver.tag']);
    // Both ends subtract the tag's 64·t bits from the key length: its size must be the one agreed.
    const t = verificationKeys(c, acc.kept);
    if (vt.keys.length !== 8 * t || vt.tag.length !== 8 * t) throw new LinkError('ERR_LINK_PROTOCOL', `ver.tag with ${vt.keys.length / 8} keys and a ${vt.tag.length}-byte tag, expected ${t} and ${8 * t} for ε_cor ${c.security.epsCor}`);
    const keyPacked = pk.packed;
    const equal = tagsEqual(deps.verifier.tag(keyPacked, acc.kept, vt.keys), vt.tag);
    await this.send({ t: 'ver.result', b: ctx.block, ok: equal });
    ctx.clock.lap('verify');
    if (!equal) return { key: false, why: new LinkError('ERR_LINK_VERIFY', `block ${ctx.block}: the corrected keys' verification tags differ`) };

    // ---- finite-key length and privacy amplification -----------------------------------------
    const fk = secretLength(c, sifted.nZ, sifted.nX, eX, acc.leak, acc.kept);
    r.decoy = { s0: fk.key.s0, s1: fk.key.s1, phaseErrorRate: fk.phaseErrorRate, testS1: fk.test.s1, testV1: fk.test.v1, vacuumBound: fk.vacuumBound, tagBits: fk.terms.correctness };
    r.finalBits = fk.length;
    const ps = await mb.next(['pa.seed']);
    if (ps.n !== acc.kept || ps.m !== fk.length) throw new LinkError('ERR_LINK_PROTOCOL', `pa.seed for ${ps.n} → ${ps.m} bits; Bob computes ${acc.kept} → ${fk.length}`);
    if (fk.length === 0) {
      ctx.clock.lap('pa');
      return { key: false, why: new LinkError('ERR_LINK_NO_KEY', `finite-key length is zero: ${fk.reason ?? 'no entropy left'}`) };
    }
    if (ps.seed.length !== (acc.kept + fk.length - 1 + 7) >>> 3) throw new LinkError('ERR_LINK_PROTOCOL', `pa.seed of ${ps.seed.length} bytes for ${acc.kept + fk.length - 1} bits`);
    const finalKey = await deps.pool.amplify(ps.seed, keyPacked, acc.kept, fk.length);
    keyPacked.fill(0);
    ctx.clock.lap('pa');

    // ---- commit ------------------------------------------------------------------------------
    const cr = await mb.next(['commit.ready']);
    await this.gate.turn(ctx.block);
    const st = deps.state;
    if (cr.u0 !== st.nextUnit) throw new LinkError('ERR_LINK_PROTOCOL', `commit.ready from unit ${cr.u0}; the next unit here is ${st.nextUnit}`);
    const { unitBytes, auth } = splitFinalKey(finalKey, fk.length, cr.n, c.unitBits);
    finalKey.fill(0);
    if (auth.length * 8 !== cr.auth) throw new LinkError('ERR_LINK_PROTOCOL', `commit.ready gives ${cr.auth} authentication bits; ${auth.length * 8} remain here`);
    const p = { block: ctx.block, u0: cr.u0, units: cr.n, unitBytes, auth };
    // From here on the block is finished whatever happens: Alice holds it pending and commits it
    // when she learns (now or at the next synchronisation) that Bob did.
    await st.putPending(p);
    await this.finishCommit(p);
    r.units = cr.n;
    r.firstUnit = cr.u0;
    r.authBits = cr.auth;
    this.counters.finalBits += fk.length;
    await this.send({ t: 'commit.done', b: ctx.block, u0: cr.u0, n: cr.n }).catch(() => undefined);
    ctx.clock.lap('commit');
    return { key: true };
  }
}
