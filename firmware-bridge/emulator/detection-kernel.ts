/**
 * The emulated receiver's detections drawn by the WASM kernel assembly/detect (built by
 * assembly/build.mjs): the same events as DetectionGenerator, its TypeScript twin, bit for bit
 * (detection-kernel.test.ts), at a fraction of the cost. The kernel runs the per-event loop;
 * this side keeps what changes rarely: the emission intervals, the per-class tables of the
 * source in use, the gap table, and where a call must stop because the source changes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  classTables, ChannelModel, darkCounts, photonCuts, emissionAt, emissionStop, GAP_ENTRIES, mix32, TransmitterModels,
  type EmissionInterval,
} from './channel-model.js';
import { PtyError } from '../errors.js';

interface DetectExports {
  readonly memory: WebAssembly.Memory;
  gapTable(): number;
  slotsOut(): number;
  masksOut(): number;
  deltasOut(): number;
  encodeDeltas(n: number, prev: number): number;
  classTable(): number;
  paramBlock(): number;
  start(rngSeed: number, stream: number, modelSeed: number, eve: number): void;
  setTransmitter(txSeed: number, c0: number, c1: number, c2: number, z: number, yBar: number, logQ: number, chunkSeed: number): void;
  begin(slot: number): void;
  cursor(): number;
  setCursor(c: number): void;
  generate(end: number, stop: number, emitting: number, maxEvents: number): number;
  setQuiet(q0: number, q1: number, q2: number): void;
  querySlots(): number;
  queryAnswers(): number;
  settings(n: number): void;
  readonly CAPACITY: WebAssembly.Global;
  readonly QUERY_CAPACITY: WebAssembly.Global;
}

const TWO32 = 4294967296;
/** Classes per table in the kernel (up to four intensity classes, room for eight). */
const CLASSES = 8;
const wasmPath = fileURLToPath(new URL('../../build/wasm/detect.release.wasm', import.meta.url));
let compiled: WebAssembly.Module | undefined;

function instantiate(): DetectExports {
  compiled ??= new WebAssembly.Module(readFileSync(wasmPath));
  const instance = new WebAssembly.Instance(compiled, {
    env: {
      log: Math.log,
      log1p: Math.log1p,
      exp: Math.exp,
      expm1: Math.expm1,
      abort(): never {
        throw new PtyError('detection kernel aborted (after-pulse queue full)');
      },
    },
  });
  return instance.exports as unknown as DetectExports;
}

/** The transmitter model's class cuts, basis threshold and signal process into a kernel instance. */
function loadTransmitter(k: DetectExports, tx: ChannelModel): void {
  const c = tx.hashCuts();
  const sp = tx.signal;
  new Int32Array(k.memory.buffer, k.gapTable(), GAP_ENTRIES).set(sp.gapTable);
  k.setTransmitter(tx.params.seed >>> 0, c.signalCuts[0]!, c.signalCuts[1]!, c.signalCuts[2]!, c.zThreshold, sp.yBar, sp.logQ, sp.chunkSeed(0)[0]);
  const quiet = tx.conditionalCuts()[0];
  k.setQuiet(quiet[0]!, quiet[1]!, quiet[2]!);
}

/**
 * The emulated transmitter's answers to QUERY_SETTINGS by the same kernel: ChannelModel.txSetting
 * for runs of slots of one emission (board.test.ts checks the board's answers against it), the
 * signal process regenerated per chunk in WASM rather than in TypeScript.
 */
export class SettingsKernel {
  private readonly k: DetectExports = instantiate();
  private readonly capacity = this.k.QUERY_CAPACITY.value as number;
  private loaded: ChannelModel | undefined;

  /** SETTINGS bytes of slots[from, to) under the transmitter model `tx`, into out from `at`. */
  answer(tx: ChannelModel, slots: ArrayLike<number>, from: number, to: number, out: Uint8Array, at: number): void {
    const k = this.k;
    if (tx !== this.loaded) {
      this.loaded = tx;
      loadTransmitter(k, tx);
    }
    for (let i = from; i < to; ) {
      const n = Math.min(this.capacity, to - i);
      const input = new Float64Array(k.memory.buffer, k.querySlots(), n);
      if (slots instanceof Float64Array) input.set(slots.subarray(i, i + n));
      else for (let j = 0; j < n; j++) input[j] = slots[i + j]!;
      k.settings(n);
      out.set(new Uint8Array(k.memory.buffer, k.queryAnswers(), n), at + (i - from));
      i += n;
    }
  }
}

/** Where generateDeltas appends: the bytes, the next byte, the slot the next delta counts from. */
export interface DeltaSink {
  readonly bytes: Uint8Array;
  at: number;
  prev: number;
}

export class DetectionKernel {
  private readonly k: DetectExports;
  private readonly capacity: number;
  private readonly txModels: TransmitterModels;
  /** The transmitter model whose tables the kernel holds. */
  private tx: ChannelModel | undefined;

  constructor(
    private readonly model: ChannelModel,
    startSlot: number,
    clockHz: number,
    private emissions: readonly EmissionInterval[],
    runSeed: number,
  ) {
    this.k = instantiate();
    this.capacity = this.k.CAPACITY.value as number;
    this.txModels = new TransmitterModels(model);
    const d = model.params.detector;
    this.k.start((model.params.seed ^ mix32(runSeed)) >>> 0, (mix32(startSlot >>> 0) ^ Math.floor(startSlot / TWO32)) >>> 0, model.params.seed >>> 0, model.hashCuts().eveThreshold);
    const dark = darkCounts(d);
    const p = new Float64Array(this.k.memory.buffer, this.k.paramBlock(), 16);
    p[0] = Math.ceil((d.deadNs * clockHz) / 1e9);
    p[1] = Math.max(1, (d.afterpulseDelayNs * clockHz) / 1e9);
    p[2] = d.afterpulseProbability;
    p[3] = dark.pAnyDark;
    p[4] = d.darkCountProbability;
    p[5] = d.pZ;
    p[6] = d.misalignment;
    p.set(dark.darkFirst, 8);
    p.set(photonCuts(d), 12);
    this.k.begin(startSlot);
  }

  /** The fibre reports a change of the transmitter's emission (as DetectionGenerator.setEmissions). */
  setEmissions(emissions: readonly EmissionInterval[]): void {
    this.emissions = emissions;
  }

  /** Loads the kernel with a transmitter model's tables: photon numbers, class cuts, signal process. */
  private prepare(tx: ChannelModel): void {
    if (tx === this.tx) return;
    this.tx = tx;
    const t = classTables(this.model, tx.params.source);
    const view = new Float64Array(this.k.memory.buffer, this.k.classTable(), 2 * CLASSES);
    view.fill(0);
    view.set(t.meanDetected, 0);
    view.set(t.pOne, CLASSES);
    loadTransmitter(this.k, tx);
  }

  /** As DetectionGenerator.generate: events of [cursor, end) appended from index n, at most maxEvents in all. */
  generate(end: number, slots: Float64Array, masks: Uint8Array, n: number, maxEvents: number): { n: number; stoppedAt: number } {
    return this.draw(end, masks, n, maxEvents, slots, undefined);
  }

  /**
   * generate with the events' slots as board slot deltas (PROTOCOL.md 3.7), encoded in the kernel:
   * appended to `deltas.bytes` from `deltas.at`, from `deltas.prev` (the slot before the first;
   * both advance). What a batch carries, without a Float64 slot list or a pass over it here;
   * `deltas.bytes` needs room for 5 bytes per event, and every delta must be below 2^32 (the slots
   * of one batch from its start). The same events as generate (detection-kernel.test.ts).
   */
  generateDeltas(end: number, deltas: DeltaSink, masks: Uint8Array, n: number, maxEvents: number): { n: number; stoppedAt: number } {
    return this.draw(end, masks, n, maxEvents, undefined, deltas);
  }

  private draw(end: number, masks: Uint8Array, n: number, maxEvents: number, slots: Float64Array | undefined, deltas: DeltaSink | undefined): { n: number; stoppedAt: number } {
    const k = this.k;
    while (n < maxEvents) {
      // The interval the cursor is in decides the tables and where this call stops.
      const c = k.cursor();
      const e = emissionAt(this.emissions, c);
      if (e) this.prepare(this.txModels.of(e.source));
      const stop = Math.min(end, emissionStop(this.emissions, c));
      const got = k.generate(end, stop, e ? 1 : 0, Math.min(this.capacity, maxEvents - n));
      if (got > 0) {
        const mem = k.memory.buffer;
        if (slots) slots.set(new Float64Array(mem, k.slotsOut(), got), n);
        if (deltas) {
          const bytes = k.encodeDeltas(got, deltas.prev);
          deltas.bytes.set(new Uint8Array(mem, k.deltasOut(), bytes), deltas.at);
          deltas.at += bytes;
          deltas.prev = new Float64Array(mem, k.slotsOut() + 8 * (got - 1), 1)[0]!;
        }
        masks.set(new Uint8Array(mem, k.masksOut(), got), n);
        n += got;
      }
      if (k.cursor() >= end) return { n, stoppedAt: end };
    }
    // Full (as the twin: one past the last event, at most end).
    const stoppedAt = Math.min(end, n > 0 ? (slots ? slots[n - 1]! : deltas!.prev) + 1 : end);
    k.setCursor(stoppedAt);
    return { n, stoppedAt };
  }
}
