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
  candidateProbability, classTables, ChannelModel, darkCounts, emissionAt, fillGapTable, GAP_ENTRIES, mix32,
  type EmissionInterval, type SourceSettings,
} from './channel-model.js';
import { PtyError } from '../errors.js';

interface DetectExports {
  readonly memory: WebAssembly.Memory;
  gapTable(): number;
  slotsOut(): number;
  masksOut(): number;
  classTable(): number;
  paramBlock(): number;
  start(rngSeed: number, stream: number, modelSeed: number, eve: number): void;
  setGap(p: number, logQ: number): void;
  setTransmitter(txSeed: number, c0: number, c1: number, c2: number, z: number): void;
  begin(slot: number): void;
  restart(): void;
  cursor(): number;
  setCursor(c: number): void;
  candidate(): number;
  generate(end: number, stop: number, emitting: number, maxEvents: number): number;
  readonly CAPACITY: WebAssembly.Global;
}

const TWO32 = 4294967296;
/** Classes per table in the kernel (0 = dark only, then up to four intensity classes). */
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

export class DetectionKernel {
  private readonly k: DetectExports;
  private readonly capacity: number;
  private pMax = 0;
  private emissionKey = '';
  private readonly txModels = new Map<string, ChannelModel>();

  constructor(
    private readonly model: ChannelModel,
    startSlot: number,
    clockHz: number,
    private emissions: readonly EmissionInterval[],
    runSeed: number,
  ) {
    this.k = instantiate();
    this.capacity = this.k.CAPACITY.value as number;
    const d = model.params.detector;
    const cuts = model.hashCuts();
    this.k.start((model.params.seed ^ mix32(runSeed)) >>> 0, (mix32(startSlot >>> 0) ^ Math.floor(startSlot / TWO32)) >>> 0, model.params.seed >>> 0, cuts.eveThreshold);
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
    this.setPMax(emissions);
    this.k.begin(startSlot);
    this.prepare(model.params.source);
  }

  /** The fibre reports a change of the transmitter's emission (as DetectionGenerator.setEmissions). */
  setEmissions(emissions: readonly EmissionInterval[]): void {
    this.emissions = emissions;
    if (this.setPMax(emissions)) {
      this.emissionKey = '';
      this.k.restart();
    }
  }

  private setPMax(emissions: readonly EmissionInterval[]): boolean {
    const p = candidateProbability(this.model, emissions);
    if (p <= this.pMax) return false;
    this.pMax = p;
    const logQ = Math.log1p(-p);
    if (p > 0 && p < 1) fillGapTable(new Int32Array(this.k.memory.buffer, this.k.gapTable(), GAP_ENTRIES), logQ);
    this.k.setGap(p, logQ);
    return true;
  }

  private prepare(source: SourceSettings): void {
    const key = `${source.mu.join(',')}|${source.pMu.join(',')}|${source.pZ}`;
    if (key === this.emissionKey) return;
    this.emissionKey = key;
    let tx = this.txModels.get(key);
    if (!tx) this.txModels.set(key, (tx = new ChannelModel({ ...this.model.params, source })));
    const t = classTables(this.model, source, this.pMax);
    const view = new Float64Array(this.k.memory.buffer, this.k.classTable(), 4 * CLASSES);
    view.fill(0);
    view.set(t.accept, 0);
    view.set(t.sigGivenClick, CLASSES);
    view.set(t.meanDetected, 2 * CLASSES);
    view.set(t.pOne, 3 * CLASSES);
    const c = tx.hashCuts();
    this.k.setTransmitter(tx.params.seed >>> 0, c.classCuts[0]!, c.classCuts[1]!, c.classCuts[2]!, c.zThreshold);
  }

  /** As DetectionGenerator.generate: events of [cursor, end) appended from index n, at most maxEvents in all. */
  generate(end: number, slots: Float64Array, masks: Uint8Array, n: number, maxEvents: number): { n: number; stoppedAt: number } {
    const k = this.k;
    while (n < maxEvents) {
      // The interval the next candidate falls in decides the tables and where this call stops.
      const c = k.candidate();
      const e = emissionAt(this.emissions, c);
      let stop = end;
      if (e) {
        this.prepare(e.source);
        stop = Math.min(end, e.to);
      } else {
        for (const x of this.emissions) if (x.from > c) { stop = Math.min(end, x.from); break; }
      }
      const got = k.generate(end, stop, e ? 1 : 0, Math.min(this.capacity, maxEvents - n));
      if (got > 0) {
        slots.set(new Float64Array(k.memory.buffer, k.slotsOut(), got), n);
        masks.set(new Uint8Array(k.memory.buffer, k.masksOut(), got), n);
        n += got;
      }
      if (k.cursor() >= end) return { n, stoppedAt: end };
    }
    // Full (as the twin: one past the last event, at most end).
    const stoppedAt = Math.min(end, n > 0 ? slots[n - 1]! + 1 : end);
    k.setCursor(stoppedAt);
    return { n, stoppedAt };
  }
}
