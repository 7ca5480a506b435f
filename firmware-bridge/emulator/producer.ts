/**
 * The receiver's detection production, on its own thread. A pty buffers only about 12 KB, so the
 * board's I/O thread must refill it within a millisecond or so to carry millions of events per
 * second; drawing and encoding the events here keeps that thread free, as an FPGA's detector
 * pipeline runs beside its USB controller. Paces itself on the shared time base and, when the
 * machine is too slow for the configured clock, stretches time (never skips slots).
 */
import { parentPort } from 'node:worker_threads';
import { ChannelModel, type ChannelParams, type EmissionInterval } from './channel-model.js';
import { DetectionKernel, type DeltaSink } from './detection-kernel.js';
import { DetectionBatch, encodeDetections } from '../protocol/detections.js';

export type ProducerRequest =
  | {
      readonly op: 'start';
      readonly acq: number;
      readonly channel: ChannelParams;
      readonly clockHz: number;
      readonly epochMs: number;
      readonly startSlot: number;
      readonly batchSlots: number;
      readonly maxEvents: number;
      readonly emissions: readonly EmissionInterval[];
      readonly dilation: number;
      /** 'stretch': never run more than fifoBatches ahead of what was sent; stretch time instead. */
      readonly backpressure: Backpressure;
      readonly fifoBatches: number;
      /**
       * [0]: the batches below it the board has sent, mod 2^32 (frees FIFO room under 'stretch'):
       * written by the board's thread, read here at each step, so the board's every pump costs
       * no message.
       */
      readonly sent: Int32Array<SharedArrayBuffer>;
    }
  | { readonly op: 'stop'; readonly atSlot: number }
  | { readonly op: 'fibre'; readonly emissions: readonly EmissionInterval[] };

/** One closed batch, encoded. */
export interface ProducedBatch {
  readonly index: number;
  readonly s: number;
  readonly e: number;
  readonly n: number;
  readonly payload: Uint8Array;
  /** Clicks per detector in this batch (telemetry rates). */
  readonly clicks: readonly number[];
}

export type ProducerMessage =
  /** The batches closed since the last message (one message per production step: fewer, cheaper posts). */
  | { readonly op: 'batches'; readonly acq: number; readonly list: readonly ProducedBatch[]; readonly dilation: number }
  | { readonly op: 'stopped'; readonly acq: number; readonly batches: number; readonly lastSlot: number; readonly dilation: number };

/**
 * What the receiver does when the host does not take batches as fast as they come: 'drop' (a
 * real board: the FIFO overflows, events are lost and counted) or 'stretch' (the emulator stops
 * producing and stretches its time, so no event is lost and source-time statistics stay exact).
 */
export type Backpressure = 'drop' | 'stretch';

/** How often a producer whose FIFO is full looks for room. */
const FULL_FIFO_POLL_MS = 4;

/** Most wall-clock lag, in ms of slots, before the producer stretches its time. */
const MAX_LAG_MS = 200;

class Producer {
  private generator: DetectionKernel | undefined;
  private acq = 0;
  private clockHz = 1;
  private epochMs = 0;
  private dilation = 0;
  private batchStart = 0;
  private batchSlots = 1;
  private maxEvents = 1;
  private index = 0;
  private n = 0;
  private readonly masks = new Uint8Array(16384);
  /** The open batch's slots as the wire carries them (board slot deltas from its start), drawn so by the kernel. */
  private readonly deltas: DeltaSink = { bytes: new Uint8Array(5 * 16384), at: 0, prev: 0 };
  /** Events per click mask in the open batch (folded into per-detector clicks when it closes). */
  private readonly maskCounts = new Float64Array(16);
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private outbox: ProducedBatch[] = [];
  private stretch = false;
  private fifoBatches = Infinity;
  private sent = new Int32Array(new SharedArrayBuffer(4));
  /** Slot up to which the generator has drawn (within the open batch). */
  private generatedTo = 0;

  constructor(private readonly post: (m: ProducerMessage, transfer?: ArrayBuffer[]) => void) {}

  handle(r: ProducerRequest): void {
    if (r.op === 'start') {
      clearTimeout(this.timer);
      this.acq = r.acq;
      this.clockHz = r.clockHz;
      this.epochMs = r.epochMs;
      this.dilation = r.dilation;
      this.batchStart = r.startSlot;
      this.batchSlots = r.batchSlots;
      this.maxEvents = Math.min(r.maxEvents, this.masks.length);
      this.index = 0;
      this.n = 0;
      this.maskCounts.fill(0);
      this.stretch = r.backpressure === 'stretch';
      this.fifoBatches = r.fifoBatches;
      this.sent = r.sent;
      this.generatedTo = r.startSlot;
      this.deltas.at = 0;
      this.deltas.prev = r.startSlot;
      this.generator = new DetectionKernel(new ChannelModel(r.channel), r.startSlot, r.clockHz, r.emissions, r.acq);
      this.running = true;
      this.tick();
    } else if (r.op === 'fibre') {
      this.generator?.setEmissions(r.emissions);
    } else if (r.op === 'stop') {
      clearTimeout(this.timer);
      if (!this.running) return;
      this.running = false;
      // Under 'stretch' the acquisition ends where production stands (the FIFO decided the pace).
      const at = this.stretch ? this.generatedTo : Math.max(r.atSlot, this.generatedTo);
      this.produce(at, true, Infinity);
      this.flush();
      this.post({ op: 'stopped', acq: this.acq, batches: this.index, lastSlot: this.batchStart, dilation: this.dilation });
    }
  }

  private nowSlot(): number {
    return Math.floor(((Date.now() - this.epochMs) * this.clockHz) / 1000) - this.dilation;
  }

  private tick(): void {
    if (!this.running) return;
    const t0 = performance.now();
    this.produce(this.nowSlot(), false, t0 + 10);
    this.flush();
    const lag = this.nowSlot() - this.batchStart;
    const maxLag = (this.clockHz * MAX_LAG_MS) / 1000;
    if (lag > maxLag) this.dilation += lag - maxLag / 4;
    // A full FIFO (under 'stretch') waits for the board to send: look again in a few ms, not every
    // one, since each look costs CPU and a slow host (the link's case) may hold it full for long;
    // the FIFO's other batches keep the line busy meanwhile.
    const busy = performance.now() - t0 > 8;
    this.timer = setTimeout(() => this.tick(), busy ? 0 : this.fifoFull() ? FULL_FIFO_POLL_MS : 1);
  }

  /** Draws events up to `target`, posting each batch as it closes; `final` closes a partial one. */
  private produce(target: number, final: boolean, deadline: number): void {
    const g = this.generator!;
    while (this.batchStart < target || (final && this.n > 0)) {
      if (!final && this.fifoFull()) break; // FIFO full: wait, time stretches
      const batchEnd = this.batchStart + this.batchSlots;
      const stopAt = Math.min(batchEnd, target);
      const before = this.n;
      const r = g.generateDeltas(stopAt, this.deltas, this.masks, this.n, this.maxEvents);
      this.generatedTo = Math.max(this.generatedTo, r.stoppedAt);
      const masks = this.masks;
      const counts = this.maskCounts;
      for (let i = before; i < r.n; i++) counts[masks[i]! & 15]!++;
      this.n = r.n;
      if (r.n >= this.maxEvents) this.close(r.stoppedAt);
      else if (stopAt === batchEnd) this.close(batchEnd);
      else if (final) {
        this.close(target);
        break;
      } else break;
      if (performance.now() > deadline) break;
    }
  }

  /** Under 'stretch': no room for another batch until the board sends one. */
  private fifoFull(): boolean {
    return this.stretch && this.unsent() >= this.fifoBatches - 1;
  }

  /** Batches closed and not yet sent by the board (mod 2^32: the FIFO holds far fewer). */
  private unsent(): number {
    return ((this.index >>> 0) - (Atomics.load(this.sent, 0) >>> 0)) >>> 0;
  }

  private close(end: number): void {
    const b = DetectionBatch.fromDeltas(this.acq, this.index, this.batchStart, end, this.deltas.bytes.subarray(0, this.deltas.at), this.masks.subarray(0, this.n));
    const payload = encodeDetections(b);
    // Always a copy: cbor-x encodes into a buffer it reuses, so a view of it would be overwritten
    // by the next batch before the outbox is posted (and two views could not both be transferred).
    // (Not payload.slice(): cbor-x returns a Node Buffer, whose slice() is a view.)
    const own = new Uint8Array(payload);
    const clicks = [0, 0, 0, 0];
    for (let m = 1; m < 16; m++) for (let j = 0; j < 4; j++) if (m & (1 << j)) clicks[j]! += this.maskCounts[m]!;
    this.maskCounts.fill(0);
    this.outbox.push({ index: this.index, s: this.batchStart, e: end, n: this.n, payload: own, clicks });
    this.index++;
    this.batchStart = end;
    this.n = 0;
    this.deltas.at = 0;
    this.deltas.prev = end;
    if (this.outbox.length >= 4) this.flush(); // keep the pty fed while a long step runs
  }

  /** Posts the batches closed so far, their buffers transferred. */
  private flush(): void {
    if (this.outbox.length === 0) return;
    const list = this.outbox;
    this.outbox = [];
    this.post({ op: 'batches', acq: this.acq, list, dilation: this.dilation }, list.map((b) => b.payload.buffer as ArrayBuffer));
  }

}

if (parentPort) {
  const port = parentPort;
  const p = new Producer((m, transfer) => port.postMessage(m, transfer ?? []));
  port.on('message', (r: ProducerRequest) => p.handle(r));
}
