/**
 * The emulated receiver: its detector pipeline (a producer thread drawing detections from the
 * fibre's emissions, producer.ts) fills batches into a FIFO; the board streams them as the host
 * grants CREDIT, keeps the last replayBatches for RESEND, answers BATCH_LOST for what it no longer
 * holds, and past a full FIFO loses events and raises an alarm (or, with backpressure 'stretch',
 * stretches its time instead).
 */
import { Worker } from 'node:worker_threads';
import { inspect } from 'node:util';
import type { Frame } from '../protocol/frame.js';
import * as msg from '../protocol/messages.js';
import { encodeDetections, DetectionBatch, MAX_BATCH_EVENTS } from '../protocol/detections.js';
import { EmulatedBoard, M, type BatchStats, type BoardOptions, type RoleTelemetry } from './board.js';
import { ChannelModel, type ChannelParams, type EmissionInterval } from './channel-model.js';
import type { ProducerMessage, ProducerRequest } from './producer.js';

/** Batches the receiver's FIFO holds by default while the host grants no credit. */
const DEFAULT_FIFO_BATCHES = 1024;
/** Start slots of this many recent batches are kept, so BATCH_LOST can name slot ranges. */
const STARTS_KEPT = 1 << 16;

interface StoredBatch {
  readonly index: number;
  readonly s: number;
  readonly e: number;
  readonly events: number;
  readonly payload: Uint8Array;
}

export class ReceiverBoard extends EmulatedBoard {
  private rxConf = { pZ: 0.9, gateNs: 0.5, biasV: 48, deadNs: 50, batchSlots: 1 << 20 };
  private fibre: EmissionInterval[] = [];
  private producer: Worker | undefined;
  private stopWaiters: number[] = [];
  private batchStart = 0;
  private produced = 0;
  private sentUpTo = 0;
  private credit = 0;
  private ring: StoredBatch[] = [];
  private readonly starts = new Float64Array(STARTS_KEPT);
  private resendQueue: number[] = [];
  private overflowing = false;
  private reportedUpTo = 0;
  /** sentUpTo (mod 2^32) where the producer reads it (under 'stretch'). */
  private readonly sentShared = new Int32Array(new SharedArrayBuffer(4));
  private counters = { eventsProduced: 0, eventsOverflowed: 0, resentBatches: 0, lostAnswered: 0, batchesSent: 0 };
  private clicksSinceTelemetry = new Float64Array(4);

  constructor(opts: BoardOptions) {
    super(opts, 'rx');
    this.rxConf.pZ = opts.channel.detector.pZ;
    this.rxConf.deadNs = opts.channel.detector.deadNs;
  }

  /** The fibre: the transmitter's emission intervals, as the receiver sees them. */
  setFibre(emissions: readonly EmissionInterval[]): void {
    this.fibre = emissions.map((e) => ({ ...e, to: e.to ?? Infinity }));
    this.toProducer({ op: 'fibre', emissions: this.fibreFor(this.clockHz) });
  }

  protected configureRole(re: number, c: msg.Configure): void {
    if (this.acquiring) return this.sendError(re, 'bad-state', 'stop the acquisition before reconfiguring the receiver');
    const r = this.model.ranges;
    this.inRange(c.clockHz, r.clockHz, 'clockHz');
    this.inRange(c.gateNs, r.gateNs, 'gateNs');
    this.inRange(c.biasV, r.biasV, 'biasV');
    this.inRange(c.deadNs, r.deadNs, 'deadNs');
    if (c.pZ !== undefined && !(c.pZ >= 0 && c.pZ <= 1)) throw new RangeError(`pZ = ${c.pZ}`);
    if (c.batchSlots !== undefined && !(c.batchSlots >= 1 && c.batchSlots <= 2 ** 32)) throw new RangeError(`batchSlots = ${c.batchSlots}`);
    this.clockHz = c.clockHz ?? this.clockHz;
    this.rxConf = {
      pZ: c.pZ ?? this.rxConf.pZ,
      gateNs: c.gateNs ?? this.rxConf.gateNs,
      biasV: c.biasV ?? this.rxConf.biasV,
      deadNs: c.deadNs ?? this.rxConf.deadNs,
      batchSlots: c.batchSlots ?? this.rxConf.batchSlots,
    };
    this.configured = true;
    this.ack(re, { clockHz: this.clockHz, ...this.rxConf });
  }

  protected startRole(re: number, s: msg.Start): void {
    // Time stretched by a slow machine in an earlier acquisition is forgiven: each acquisition
    // starts on the shared wall clock, so the receiver never starts before a transmitter that
    // was started ahead of it (its first slots would be dark).
    this.dilation = 0;
    this.startSlot = this.nowSlot();
    const channel: ChannelParams = {
      ...this.channel,
      detector: { ...this.channel.detector, pZ: this.rxConf.pZ, deadNs: this.rxConf.deadNs },
    };
    new ChannelModel(channel); // validates before the producer thread sees it
    this.batchStart = this.startSlot;
    this.produced = 0;
    this.sentUpTo = 0;
    Atomics.store(this.sentShared, 0, 0);
    this.reportedUpTo = 0;
    this.credit = s.credit;
    this.ring = [];
    this.resendQueue = [];
    this.counters = { eventsProduced: 0, eventsOverflowed: 0, resentBatches: 0, lostAnswered: 0, batchesSent: 0 };
    this.ack(re, { acq: this.acq, firstSlot: this.startSlot, firstBatch: 0 });
    this.toProducer({
      op: 'start',
      acq: this.acq,
      channel,
      clockHz: this.clockHz,
      epochMs: this.opts.epochMs,
      startSlot: this.startSlot,
      batchSlots: this.rxConf.batchSlots,
      maxEvents: Math.min(this.model.caps.maxBatchEvents, MAX_BATCH_EVENTS),
      emissions: this.fibreFor(this.clockHz),
      dilation: this.dilation,
      backpressure: this.opts.backpressure ?? 'drop',
      fifoBatches: this.opts.fifoBatches ?? DEFAULT_FIFO_BATCHES,
      sent: this.sentShared,
    });
  }

  private toProducer(r: ProducerRequest): void {
    if (!this.producer) {
      this.producer = new Worker(new URL('./producer-thread.mjs', import.meta.url));
      this.producer.on('message', (m: ProducerMessage) => this.fromProducer(m));
      this.producer.on('error', (e: unknown) => {
        const why = e instanceof Error ? e.message : inspect(e);
        process.stderr.write(`emulated rx ${this.opts.serial}: detector pipeline failed: ${e instanceof Error ? e.stack : why}\n`);
        this.raiseAlarm('detector-pipeline', 'critical', `detector pipeline failed: ${why}`);
      });
      this.producer.unref();
    }
    this.producer.postMessage(r);
  }

  private fromProducer(m: ProducerMessage): void {
    if (m.acq !== this.acq) return;
    if (m.op === 'batches') {
      this.dilation = m.dilation;
      for (const b of m.list) {
        b.clicks.forEach((c, j) => (this.clicksSinceTelemetry[j]! += c));
        this.closeBatch(b.index, b.s, b.e, b.n, b.payload);
      }
      this.pump();
      return;
    }
    this.acquiring = false;
    this.dilation = m.dilation;
    this.stopSlot = m.lastSlot;
    for (const re of this.stopWaiters.splice(0)) this.ack(re, { acq: this.acq, lastSlot: m.lastSlot, batches: m.batches });
    this.pump();
  }

  /** Emission intervals whose clock matches ours: a receiver on another clock sees no signal (sync lost). */
  private fibreFor(clockHz: number): EmissionInterval[] {
    return this.fibre.filter((e) => e.source.clockHz === clockHz);
  }

  protected stopRole(re: number, now: number): void {
    // The producer closes the last batch at `now` and reports how many there are; then we answer.
    if (this.stopWaiters.push(re) === 1) this.toProducer({ op: 'stop', atSlot: now });
  }

  protected handleRole(f: Frame): void {
    switch (f.type) {
      case M.QUERY_SETTINGS:
        return this.sendError(f.seq, 'wrong-role', 'QUERY_SETTINGS goes to a transmitter');
      case M.CREDIT: {
        const c = msg.decodeCredit(f.payload);
        if (c.acq === this.acq && c.upTo > this.credit) {
          this.credit = c.upTo;
          this.pump();
        }
        return;
      }
      case M.RESEND: {
        const r = msg.decodeResend(f.payload);
        if (r.acq === this.acq) this.resend(r.from, r.to);
        return;
      }
    }
  }

  /** Keeps reporting nextBatch until everything produced has been sent and a report followed it. */
  protected override telemetryDue(): boolean {
    if (!(this.acquiring || this.sentUpTo < this.produced || this.reportedUpTo < this.sentUpTo)) return false;
    this.reportedUpTo = this.sentUpTo;
    return true;
  }

  protected telemetry(dt: number): RoleTelemetry {
    const rates = Array.from(this.clicksSinceTelemetry, (c) => Math.round((c / dt) * 10) / 10);
    this.clicksSinceTelemetry.fill(0);
    return {
      rates,
      temps: { detector: -40 + 0.1 * Math.sin(this.uptime() / 5000), board: 35 },
      biasV: this.rxConf.biasV,
      overflow: this.counters.eventsOverflowed,
      nextBatch: this.sentUpTo,
    };
  }

  protected batchStats(): BatchStats {
    return {
      batchesProduced: this.produced,
      batchesSent: this.counters.batchesSent,
      eventsProduced: this.counters.eventsProduced,
      eventsOverflowed: this.counters.eventsOverflowed,
      resentBatches: this.counters.resentBatches,
      lostAnswered: this.counters.lostAnswered,
    };
  }

  protected override closeRole(): void {
    void this.producer?.terminate();
  }

  // ---- receiver: production and streaming ----------------------------------------------------

  /** Files a batch from the producer: into the FIFO, or, when the FIFO is full, emptied and counted as overflow. */
  private closeBatch(index: number, start: number, end: number, n: number, payload: Uint8Array): void {
    this.produced = index + 1;
    // Under 'stretch' the producer waits for room instead (the last, partial batch may take one more).
    const fifoFull = this.opts.backpressure !== 'stretch' && this.produced - this.sentUpTo > (this.opts.fifoBatches ?? DEFAULT_FIFO_BATCHES);
    if (fifoFull) {
      this.counters.eventsOverflowed += n;
      payload = encodeDetections(new DetectionBatch(this.acq, index, start, end, new Float64Array(0), new Uint8Array(0), n));
      n = 0;
      if (!this.overflowing) {
        this.overflowing = true;
        this.raiseAlarm('fifo-overflow', 'critical', `FIFO full: the host is not granting credit; events of batch ${index} on are lost`);
      }
    } else if (this.overflowing) {
      this.overflowing = false;
      this.clearAlarm('fifo-overflow', 'info', 'FIFO has room again');
    }
    this.counters.eventsProduced += n;
    this.ring.push({ index, s: start, e: end, events: n, payload });
    this.starts[index % STARTS_KEPT] = start;
    this.batchStart = end;
  }

  /**
   * A batch the board still holds: every batch not yet sent (the FIFO), and the last
   * replayBatches sent ones (the replay buffer).
   */
  private stored(index: number): StoredBatch | undefined {
    const first = this.ring[0];
    if (!first) return undefined;
    const b = this.ring[index - first.index];
    return b && b.index === index && index >= this.sentUpTo - this.model.caps.replayBatches ? b : undefined;
  }

  private trimRing(): void {
    const keepFrom = this.sentUpTo - this.model.caps.replayBatches;
    const first = this.ring[0];
    if (first && keepFrom - first.index > 64) this.ring.splice(0, keepFrom - first.index);
  }

  private resend(from: number, to: number): void {
    const upTo = Math.min(to, this.sentUpTo);
    let lostFrom = -1;
    for (let i = from; i < upTo; i++) {
      if (this.stored(i)) {
        if (lostFrom >= 0) this.answerLost(lostFrom, i);
        lostFrom = -1;
        if (!this.resendQueue.includes(i)) this.resendQueue.push(i);
      } else if (lostFrom < 0) lostFrom = i;
    }
    if (lostFrom >= 0) this.answerLost(lostFrom, upTo);
    this.pump();
  }

  private answerLost(from: number, to: number): void {
    this.counters.lostAnswered += to - from;
    this.send(M.BATCH_LOST, msg.encodeBatchLost({ acq: this.acq, from, to, s: this.sliceStart(from), e: this.sliceStart(to) }));
  }

  /** First slot of batch `index` (batches tile the slot axis, so it is also where batch index - 1 ends). */
  private sliceStart(index: number): number {
    if (index >= this.produced) return this.batchStart;
    if (index === 0) return this.startSlot;
    if (this.produced - index <= STARTS_KEPT) return this.starts[index % STARTS_KEPT]!;
    return this.startSlot; // older than the index of starts: the acquisition's start bounds it
  }

  /** Sends what credit and the port allow: resends first, then new batches. */
  protected override pump(): void {
    const port = this.port;
    if (!port || this.stallUntil > Date.now()) return;
    while (port.writable && this.resendQueue.length > 0) {
      const b = this.stored(this.resendQueue.shift()!);
      if (b) {
        this.counters.resentBatches++;
        this.send(M.DETECTIONS, b.payload);
      }
    }
    while (port.writable && this.sentUpTo < this.produced && this.sentUpTo < this.credit) {
      const b = this.stored(this.sentUpTo);
      this.sentUpTo++;
      if (!b) continue; // evicted before it could be sent: the host learns it from RESEND
      this.counters.batchesSent++;
      this.send(M.DETECTIONS, b.payload);
    }
    Atomics.store(this.sentShared, 0, this.sentUpTo | 0);
    this.trimRing();
  }
}

