/**
 * Fault knobs of an emulated board, applied to the frames it sends (PROTOCOL.md 2.3 lists what
 * the host must survive). Decisions come from a seeded generator, one draw per frame, so a run
 * with the same seed and the same traffic misbehaves the same way. Every injected fault is
 * counted, so a test can demand that the host counted exactly as many rejections.
 */
import { Sfc32 } from './channel-model.js';

export interface FaultSettings {
  /** Probability per frame of flipping one bit (the CRC then fails: exactly one rejection). */
  readonly corrupt?: number;
  readonly drop?: number;
  readonly duplicate?: number;
  /** Probability per frame of holding it back and sending it after the next one. */
  readonly reorder?: number;
  /** Message types the knobs apply to (default: all). */
  readonly types?: readonly number[];
  readonly seed?: number;
}

export interface FaultCounts {
  corrupted: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

export class FaultInjector {
  readonly counts: FaultCounts = { corrupted: 0, dropped: 0, duplicated: 0, reordered: 0 };
  private settings: FaultSettings = {};
  private rng = new Sfc32(1);
  private held: Uint8Array | undefined;

  configure(settings: FaultSettings): void {
    for (const k of ['corrupt', 'drop', 'duplicate', 'reorder'] as const) {
      const v = settings[k];
      if (v !== undefined && !(v >= 0 && v <= 1)) throw new RangeError(`fault ${k} = ${v}: expected a probability`);
    }
    this.settings = settings;
    this.rng = new Sfc32(settings.seed ?? 1, 7);
  }

  get active(): boolean {
    const s = this.settings;
    return Boolean(s.corrupt || s.drop || s.duplicate || s.reorder) || this.held !== undefined;
  }

  /** The frames to send in place of `raw` (COBS not applied yet). */
  apply(raw: Uint8Array, type: number): readonly Uint8Array[] {
    const s = this.settings;
    if (s.types && !s.types.includes(type)) return this.release([raw]);
    const u = this.rng.next();
    let p = 0;
    if (u < (p += s.drop ?? 0)) {
      this.counts.dropped++;
      return this.release([]);
    }
    if (u < (p += s.corrupt ?? 0)) {
      this.counts.corrupted++;
      const bad = raw.slice();
      // Any single bit: CRC-32C covers the whole frame and detects every single-bit error, and the
      // receiver checks it before anything else, so each corrupted frame is one 'crc' rejection.
      const bit = this.rng.nextU32() % (bad.length * 8);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      return this.release([bad]);
    }
    if (u < (p += s.duplicate ?? 0)) {
      this.counts.duplicated++;
      return this.release([raw, raw]);
    }
    if (u < p + (s.reorder ?? 0) && this.held === undefined) {
      this.held = raw;
      return [];
    }
    return this.release([raw]);
  }

  /** A held-back frame goes out right after the frame that overtook it. */
  private release(frames: Uint8Array[]): readonly Uint8Array[] {
    if (this.held === undefined) return frames;
    const h = this.held;
    this.held = undefined;
    // Counted only when another frame really overtook it: then the host sees it out of sequence.
    if (frames.length > 0) this.counts.reordered++;
    return [...frames, h];
  }

  /** Sends whatever is held back (on a quiet line nothing would overtake it; not a reordering). */
  flushHeld(): readonly Uint8Array[] {
    return this.release([]);
  }
}
