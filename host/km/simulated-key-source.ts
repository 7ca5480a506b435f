/**
 * A simulated key source (kind `simulated`): for KM tests, benchmarks and large topologies that
 * have no QKD link behind them. Both ends of a simulated link are configured with the same seed
 * and derive unit i as HMAC-SHA256(seed, "qkdn-edge/simulated/v1" ‖ link ID ‖ i) (expanded with a
 * counter for units longer than 256 bits), so the ends agree without talking to each other, the
 * way a QKD link's ends agree after post-processing. Anyone holding the seed holds every key: it
 * is labelled `simulated` in the configuration and in every status the node reports.
 */
import { createHmac } from 'node:crypto';
import type { KeySink, KeySource, KeyUnit } from '../kq/key-source.js';

export interface SimulatedKeySourceOptions {
  readonly linkId: string;
  readonly peer: string;
  /** Shared by both ends: 32 bytes or more. */
  readonly seed: Uint8Array;
  /** Units per second. */
  readonly rate: number;
  readonly unitBits: number;
  /** Units available at once when the source starts from the beginning (a link that has run a while). */
  readonly initialUnits?: number;
  /** Milliseconds between pushes. */
  readonly tickMs?: number;
}

export function simulatedUnit(seed: Uint8Array, linkId: string, index: number, unitBits: number): Uint8Array {
  const bytes = new Uint8Array(unitBits / 8);
  for (let off = 0, block = 0; off < bytes.length; off += 32, block++) {
    const h = createHmac('sha256', seed).update('qkdn-edge/simulated/v1\0').update(linkId).update(`\0${index}\0${block}`).digest();
    bytes.set(h.subarray(0, Math.min(32, bytes.length - off)), off);
  }
  return bytes;
}

export class SimulatedKeySource implements KeySource {
  readonly kind = 'simulated' as const;
  readonly linkId: string;
  readonly peer: string;
  readonly unitBits: number;
  readonly #seed: Uint8Array;
  readonly #rate: number;
  readonly #initial: number;
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | null = null;
  #inflight: Promise<void> | null = null;
  #next = 0;
  #credit = 0;
  #last = 0;

  constructor(o: SimulatedKeySourceOptions) {
    if (o.seed.length < 32) throw new RangeError('simulated key source: seed must be at least 32 bytes');
    if (!(o.unitBits > 0 && o.unitBits % 8 === 0)) throw new RangeError(`simulated key source: unitBits ${o.unitBits} must be a positive multiple of 8`);
    if (!(o.rate >= 0)) throw new RangeError(`simulated key source: rate ${o.rate} must be >= 0`);
    this.linkId = o.linkId;
    this.peer = o.peer;
    this.unitBits = o.unitBits;
    this.#seed = Uint8Array.from(o.seed);
    this.#rate = o.rate;
    this.#initial = o.initialUnits ?? 0;
    this.#tickMs = o.tickMs ?? 20;
  }

  start(sink: KeySink, after: number): void {
    if (this.#timer) return;
    this.#next = after + 1;
    // A fresh link starts with its initial stock; a resumed one only with what the rate adds.
    this.#credit = Math.max(0, this.#initial - this.#next);
    this.#last = performance.now();
    const tick = () => {
      if (this.#inflight) return;
      const now = performance.now();
      this.#credit += ((now - this.#last) / 1000) * this.#rate;
      this.#last = now;
      const room = sink.capacity - sink.stored();
      const n = Math.max(0, Math.min(Math.floor(this.#credit), room, 4096));
      if (room <= 0) this.#credit = Math.min(this.#credit, this.#rate); // a full pool drops key, as a real link would
      if (n === 0) return;
      const units: KeyUnit[] = [];
      for (let i = 0; i < n; i++) units.push({ index: this.#next + i, bytes: simulatedUnit(this.#seed, this.linkId, this.#next + i, this.unitBits) });
      this.#credit -= n;
      this.#next += n;
      this.#inflight = sink.push(units).then(
        () => {
          this.#inflight = null;
        },
        () => {
          // The store refused (closing, zeroized): stop feeding it.
          this.#inflight = null;
          if (this.#timer) clearInterval(this.#timer);
          this.#timer = null;
        },
      );
    };
    this.#timer = setInterval(tick, this.#tickMs);
    tick();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#inflight;
  }
}
