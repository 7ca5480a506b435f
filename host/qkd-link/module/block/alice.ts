/**
 * Alice's end of a block (the transmitter): answers Bob's announcement from her board's record of
 * what it sent, estimates the parameters, sends syndromes and answers the decoder's questions,
 * verifies, draws the privacy-amplification seed, and leads the commit (README.md has the message
 * sequence). She holds the reference key: Bob corrects towards it.
 */
import { DisclosureLedger } from '../../reconciliation/disclosure.js';
import { AliceEndpoint } from '../../reconciliation/reconcile.js';
import { DEFAULT_EPS_COR } from '../../reconciliation/verify.js';
import type { MessageOf, SessionMessage } from '../../session/messages.js';
import { decodeU32s, packBits, unpackBits } from '../../session/packing.js';
import { errorsPerClass, perClassArray, perClassFrom, totalOf } from '../../session/sifting.js';
import type { TransmitterPort } from '../boards/boards.js';
import { LinkError } from '../errors.js';
import { LinkEnd, type BlockContext, type LinkEndDeps } from '../link-end.js';
import type { PendingBlock } from '../state/link-state.js';
import { blockLeakTotal, efficiency, expectedLeak, floatSource, frameKey, keptLeak, planningQber, qberOf, secretLength, splitFinalKey, unitsFor, verificationKeys } from './postprocess.js';

/** Settings queries in flight to the transmitter board for one block. */
const SETTINGS_STREAMS = 4;

/** Frame IDs of the shared reconciliation endpoint: unique across the blocks in flight. */
const frameId = (block: number, f: number) => block * 65536 + f;

export class AliceEnd extends LinkEnd {
  private readonly endpoint: AliceEndpoint;
  /** Running estimate of the key-basis QBER (from Bob's corrected-error counts). */
  private qberZ: number | undefined;

  constructor(deps: LinkEndDeps, private readonly tx: TransmitterPort) {
    super(deps);
    this.endpoint = new AliceEndpoint(floatSource(this.random), undefined, DEFAULT_EPS_COR, true);
    tx.onFault((err) => {
      this.state('board-fault', err.message, err);
      this.abortAll(err, true);
    });
  }

  protected onSynchronised(): void {}

  protected afterSync(): void {}

  protected async resolvePending(peer: MessageOf<'sync.state'>): Promise<void> {
    const st = this.deps.state;
    for (const p of st.pending()) {
      if (peer.committed >= p.block) {
        await this.finishCommit(p);
        this.state('synchronised', `block ${p.block} was committed by the peer before the interruption: units ${p.u0}-${p.u0 + p.units - 1} released`);
      } else {
        await st.destroy(p.block);
        this.state('synchronised', `block ${p.block} was not committed by the peer: its key is destroyed`);
      }
    }
    if (st.nextUnit !== peer.nextUnit) {
      throw new LinkError('ERR_LINK_MISMATCH', `after synchronisation the next unit is ${st.nextUnit} here and ${peer.nextUnit} at the peer: the key stores disagree`);
    }
  }

  protected onNewBlock(m: SessionMessage): void {
    if (m.t !== 'sift.announce') return; // a late message of a block that is over
    if (this.stopped) return;
    if (m.b <= this.deps.state.committed || this.blocks.size >= 2 * this.config.block.maxInFlight) {
      void this.send({ t: 'abort', b: m.b, code: 'ERR_LINK_PROTOCOL', why: `block ${m.b} refused (committed up to ${this.deps.state.committed}, ${this.blocks.size} in flight)` }).catch(() => undefined);
      return;
    }
    const ctx = this.openBlock(m.b, { slots: { start: m.s, end: m.e, clockHz: this.config.protocol.clockHz }, events: m.n });
    void this.runBlock(ctx, m);
  }

  private async runBlock(ctx: BlockContext, ann: MessageOf<'sift.announce'>): Promise<void> {
    let pending: PendingBlock | undefined;
    const ids: number[] = [];
    try {
      const outcome = await this.block(ctx, ann, ids, (p) => (pending = p));
      this.closeBlock(ctx, outcome.key ? 'key' : outcome.why?.code === 'ERR_LINK_VERIFY' ? 'aborted' : 'no-key', outcome.why);
    } catch (e) {
      const err = this.blockFailure(e);
      this.abortBlock(ctx, err, true);
      this.closeBlock(ctx, 'aborted', err);
      if (pending && this.deps.state.getPending(pending.block)) {
        // Bob may or may not have committed it: only a resynchronisation can tell, and no later
        // block may take unit indexes before it does.
        this.channel?.close(`block ${pending.block} is in doubt after ${err.code}: resynchronising`);
      }
    } finally {
      for (const id of ids) this.endpoint.close(id);
    }
  }

  private async block(ctx: BlockContext, ann: MessageOf<'sift.announce'>, ids: number[], stored: (p: PendingBlock) => void): Promise<{ key: boolean; why?: LinkError }> {
    const { config: c, deps } = this;
    const mb = ctx.mailbox;
    const r = ctx.report;

    // ---- sifting -----------------------------------------------------------------------------
    if (ann.bb.length !== (ann.n + 7) >>> 3) throw new LinkError('ERR_LINK_PROTOCOL', `sift.announce bb: ${ann.bb.length} bytes for ${ann.n} bases`);
    // Bob's slot deltas go to the board as they are, one query per part, SETTINGS_STREAMS queries
    // in flight together (one at a time would leave the serial line idle for every round trip); a
    // worker first checks them (every slot in this block's range) and cuts them into parts of at
    // most the board's MAX_QUERY_SLOTS, so the main thread never walks them.
    const { parts } = await deps.pool.run({ kind: 'slots', s: ann.s, e: ann.e, n: ann.n, d: ann.d, parts: Math.ceil(ann.n / this.tx.maxQuerySlots) });
    const settings = new Uint8Array(ann.n);
    try {
      const offsets: number[] = [];
      parts.reduce((at, p) => (offsets.push(at), at + p.n), 0);
      let next = 0;
      let failed = false;
      const stream = async (): Promise<void> => {
        for (let i = next++; i < parts.length && !failed; i = next++) {
          const p = parts[i]!;
          await this.tx.querySettingsBytes(p.s, p.n, ann.d.subarray(p.from, p.to), settings, offsets[i]!).catch((e: unknown) => {
            failed = true;
            throw e;
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(SETTINGS_STREAMS, parts.length) }, stream));
    } catch (e) {
      throw e instanceof LinkError ? e : new LinkError('ERR_LINK_BOARD_FAULT', `transmitter settings: ${(e as Error).message}`, { cause: e });
    }
    if (mb.failed) throw mb.failed;
    // The answer's bytes move to the worker (keep, classes and the sifted strings come back).
    const st = await deps.pool.run({ kind: 'sift-tx', n: ann.n, bobBasis: ann.bb, settings }, [settings.buffer]);
    await this.send({ t: 'sift.reply', b: ctx.block, keep: st.keep, cls: st.cls });
    const sifted = { key: st.sifted.key, test: st.sifted.test, nZ: perClassFrom(st.sifted.nZ, 'nZ'), nX: perClassFrom(st.sifted.nX, 'nX') };
    r.sifted = { Z: sifted.nZ, X: sifted.nX };
    this.counters.siftedBits += sifted.key.length;
    this.counters.slots += ann.e - ann.s;
    ctx.clock.lap('sift');

    // ---- parameter estimation ----------------------------------------------------------------
    const disc = await mb.next(['pe.disclose']);
    const bobX = unpackBits(disc.bits, sifted.test.length, 'pe.disclose bits');
    const eX = errorsPerClass(sifted.test, bobX, sifted.nX);
    const qX = qberOf(eX, sifted.nX);
    r.qber = { X: qX };
    let why = '';
    let code: 'ERR_LINK_QBER' | 'ERR_LINK_NO_KEY' = 'ERR_LINK_NO_KEY';
    const qec = planningQber(deps.family, this.qberZ, Math.max(qX.all, 0.005));
    if (totalOf(sifted.nX) === 0 || sifted.key.length === 0) why = 'no sifted events in one of the bases';
    else if (qX.all > c.security.qberMax) {
      code = 'ERR_LINK_QBER';
      why = `test-basis QBER ${(100 * qX.all).toFixed(2)} % is above the ${(100 * c.security.qberMax).toFixed(2)} % limit`;
    } else {
      const pre = secretLength(c, sifted.nZ, sifted.nX, eX, expectedLeak(sifted.key.length, qec), sifted.key.length);
      if (pre.length === 0) why = `finite-key length is zero before error correction: ${pre.reason ?? 'no entropy left'} (phase-error bound ${(100 * pre.phaseErrorRate).toFixed(2)} %)`;
    }
    await this.send({ t: 'pe.result', b: ctx.block, nZ: perClassArray(sifted.nZ), nX: perClassArray(sifted.nX), eX: perClassArray(eX), go: why === '', why, qec });
    ctx.clock.lap('pe');
    if (why) return { key: false, why: new LinkError(code, why) };

    // ---- error correction --------------------------------------------------------------------
    const fr = frameKey(deps.family, qec, sifted.key.length);
    const { padded, prepared } = await deps.pool.run({ kind: 'frames', qec, key: sifted.key, prepare: { epsCor: DEFAULT_EPS_COR } }, [sifted.key.buffer as ArrayBuffer]);
    if (!prepared || prepared.length !== fr.frames) throw new LinkError('ERR_LINK_PROTOCOL', `worker prepared ${prepared?.length ?? 0} of ${fr.frames} frames`);
    const { code: ldpc } = fr.plan;
    const syn = new Uint8Array(fr.frames * ldpc.m);
    const tags: Uint8Array[] = [];
    for (let f = 0; f < fr.frames; f++) {
      const id = frameId(ctx.block, f);
      this.endpoint.open(id, fr.plan, padded.subarray(f * fr.k, (f + 1) * fr.k), prepared[f]);
      ids.push(id);
      const sm = this.endpoint.syndrome(id);
      syn.set(sm.syndrome, f * ldpc.m);
      tags.push(sm.tag!.keys, sm.tag!.tag);
    }
    const tagBytes = tags[0]!.length;
    await this.send({ t: 'ec.syndromes', b: ctx.block, qec, code: ldpc.id, punctured: fr.plan.punctured, frames: fr.frames, keyBits: fr.keyBits, syn: packBits(syn), tagBytes, tags: Buffer.concat(tags) });
    // What the reconciliation discloses, both directions, counted as Bob counts it (disclosure.ts).
    const disclosed = new DisclosureLedger(fr.plan, fr.frames);
    let done: MessageOf<'ec.done'>;
    let asks = 0;
    for (;;) {
      const m = await mb.next(['ec.ask', 'ec.done']);
      if (m.t === 'ec.done') {
        done = m;
        break;
      }
      if (m.f >= fr.frames) throw new LinkError('ERR_LINK_PROTOCOL', `${m.t} for frame ${m.f} of ${fr.frames}`);
      const pos = decodeU32s(m.pos, 'ec.ask pos');
      let values: Uint8Array;
      try {
        disclosed.reveal(m.f, pos);
        values = this.endpoint.reveal(frameId(ctx.block, m.f), pos);
      } catch (e) {
        throw new LinkError('ERR_LINK_PROTOCOL', `ec.ask: ${(e as Error).message}`, { cause: e });
      }
      asks++;
      await this.send({ t: 'ec.reveal', b: ctx.block, f: m.f, bits: packBits(values) });
    }
    const ok = unpackBits(done.ok, fr.frames, 'ec.done ok');
    // Per frame: syndrome bits not cancelled by unrevealed punctured bits, revealed key bits, the
    // tag once (Alice's messages), and Bob's requests and success flag (his, counted apart).
    const aliceLeak = Array.from({ length: fr.frames }, (_, f) => disclosed.aliceBits(f) + 8 * tagBytes);
    const bobLeak = Array.from({ length: fr.frames }, (_, f) => disclosed.bobBits(f));
    const ecLeak = aliceLeak.map((x, f) => x - 8 * tagBytes + bobLeak[f]!);
    const total = blockLeakTotal(aliceLeak, bobLeak, disclosed.endBits);
    if (total !== done.leak) throw new LinkError('ERR_LINK_PROTOCOL', `leak accounting differs: ${total} bits counted here, ${done.leak} by the peer`);
    const errZ = perClassFrom(done.errZ, 'ec.done errZ');
    const acc = keptLeak(fr, aliceLeak, bobLeak, disclosed.endBits, ok, sifted.nZ);
    const decoded = ok.reduce((a, b) => a + b, 0);
    const failed = fr.frames - decoded;
    if (acc.kept === 0) throw new LinkError('ERR_LINK_RECONCILIATION', `none of the ${fr.frames} frames decoded`);
    const zErrors = totalOf(errZ);
    const qZ = zErrors / acc.kept;
    this.qberZ = this.qberZ === undefined ? qZ : 0.7 * this.qberZ + 0.3 * qZ;
    r.qber = { X: qX, Z: { ...qberOf(errZ, sifted.nZ), all: qZ } };
    r.ec = {
      qec,
      codeId: ldpc.id,
      frames: fr.frames,
      failedFrames: failed,
      leak: acc.ecLeak,
      efficiency: efficiency(fr, ecLeak, ok, qZ),
      rounds: asks,
      iterations: 0,
    };
    ctx.clock.lap('ec');

    // ---- verification ------------------------------------------------------------------------
    const { packed: keyPacked } = await deps.pool.run({ kind: 'pack', qec, keyBits: fr.keyBits, bits: padded, ok, kept: acc.kept });
    const keys = this.random(8 * verificationKeys(c, acc.kept));
    await this.send({ t: 'ver.tag', b: ctx.block, keys, tag: deps.verifier.tag(keyPacked, acc.kept, keys) });
    const vr = await mb.next(['ver.result']);
    ctx.clock.lap('verify');
    if (!vr.ok) return { key: false, why: new LinkError('ERR_LINK_VERIFY', `block ${ctx.block}: the corrected keys' verification tags differ`) };

    // ---- finite-key length and privacy amplification -----------------------------------------
    const fk = secretLength(c, sifted.nZ, sifted.nX, eX, acc.leak, acc.kept);
    r.decoy = { s0: fk.key.s0, s1: fk.key.s1, phaseErrorRate: fk.phaseErrorRate, testS1: fk.test.s1, testV1: fk.test.v1, vacuumBound: fk.vacuumBound, tagBits: fk.terms.correctness };
    r.finalBits = fk.length;
    if (fk.length === 0) {
      await this.send({ t: 'pa.seed', b: ctx.block, n: acc.kept, m: 0, seed: new Uint8Array(0) });
      ctx.clock.lap('pa');
      return { key: false, why: new LinkError('ERR_LINK_NO_KEY', `finite-key length is zero: ${fk.reason ?? 'no entropy left'}`) };
    }
    const seedBits = acc.kept + fk.length - 1;
    const seed = this.random((seedBits + 7) >>> 3);
    if (seedBits & 7) seed[seed.length - 1]! &= (1 << (seedBits & 7)) - 1;
    await this.send({ t: 'pa.seed', b: ctx.block, n: acc.kept, m: fk.length, seed });
    const finalKey = await deps.pool.amplify(seed, keyPacked, acc.kept, fk.length);
    keyPacked.fill(0);
    ctx.clock.lap('pa');

    // ---- commit ------------------------------------------------------------------------------
    await this.gate.turn(ctx.block);
    if (mb.failed) throw mb.failed;
    const ledger = deps.ledger.stats();
    const low = Math.min(ledger.remainingSendPads, ledger.remainingReceivePads) < c.auth.lowWaterFrames;
    const units = unitsFor(fk.length, c.unitBits, low ? c.auth.shareBits : 0);
    const { unitBytes, auth } = splitFinalKey(finalKey, fk.length, units, c.unitBits);
    finalKey.fill(0);
    const p: PendingBlock = { block: ctx.block, u0: deps.state.nextUnit, units, unitBytes, auth };
    await deps.state.putPending(p);
    stored(p);
    await this.send({ t: 'commit.ready', b: ctx.block, u0: p.u0, n: units, auth: auth.length * 8 });
    const cd = await mb.next(['commit.done']);
    if (cd.u0 !== p.u0 || cd.n !== units) throw new LinkError('ERR_LINK_PROTOCOL', `commit.done for units ${cd.u0}+${cd.n}, expected ${p.u0}+${units}`);
    r.units = units;
    r.firstUnit = p.u0;
    r.authBits = auth.length * 8;
    this.counters.finalBits += fk.length;
    await this.finishCommit(p);
    ctx.clock.lap('commit');
    return { key: true };
  }
}
