/**
 * Plain-TypeScript twin of the `ldpc` kernel for one frame: the same layered schedule and the same
 * saturating arithmetic (16-bit posteriors, 8-bit messages), so after any number of iterations its posteriors equal the
 * kernel's lane for lane. Slow; for tests and the benchmark's reference figure.
 */
import type { LdpcCode } from './code.js';
import { FULL_CORRECTION_RATE } from './decoder.js';
import { FrameLengthError, SyndromeLengthError } from './errors.js';

const CORR = 5;

function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

function corr(t: number): number {
  const c = CORR - (t >> 2);
  return c > 0 ? c : 0;
}

function boxplus(x: number, y: number): number {
  const m = x < y ? x : y;
  const d = x > y ? x - y : y - x;
  const r = m - corr(d);
  return r > 0 ? r : 0;
}

/** boxplus() with the c(x + y) term as well (the kernel's boxplusFull, for codes of low rate). */
function boxplusFull(x: number, y: number): number {
  const m = x < y ? x : y;
  const d = x > y ? x - y : y - x;
  const r = m + corr(x + y) - corr(d);
  return r > 0 ? r : 0;
}

export class ReferenceDecoder {
  readonly post: Int16Array;
  private readonly msg: Int8Array;
  private readonly synd: Uint8Array;
  private readonly q: Int32Array;
  private readonly wide: Int32Array;
  private readonly mag: Int32Array;
  private readonly fwd: Int32Array;

  private readonly bp: (x: number, y: number) => number;

  /** `fullCorrection` as the kernel's (LaneDecoder's default: below FULL_CORRECTION_RATE). */
  constructor(readonly code: LdpcCode, llr: Int16Array, syndrome: Uint8Array, fullCorrection = code.rate < FULL_CORRECTION_RATE) {
    this.bp = fullCorrection ? boxplusFull : boxplus;
    if (llr.length !== code.n) throw new FrameLengthError('llr', llr.length, code.n);
    if (syndrome.length !== code.m) throw new SyndromeLengthError(syndrome.length, code.m);
    this.post = Int16Array.from(llr);
    this.msg = new Int8Array(code.cols.length);
    this.synd = Uint8Array.from(syndrome);
    this.q = new Int32Array(code.maxRowDegree);
    this.wide = new Int32Array(code.maxRowDegree);
    this.mag = new Int32Array(code.maxRowDegree);
    this.fwd = new Int32Array(code.maxRowDegree);
  }

  /** One layered iteration; returns the running unsatisfied-check estimate (as the kernel's). */
  iterate(): number {
    const { rowStart, cols, m } = this.code;
    const { post, msg, q, mag, fwd, wide, bp } = this;
    let unsat = 0;
    for (let c = 0; c < m; c++) {
      const e0 = rowStart[c]!;
      const d = rowStart[c + 1]! - e0;
      let par = this.synd[c] ? -1 : 0;
      let hard = par;
      for (let k = 0; k < d; k++) {
        const p = post[cols[e0 + k]!]!;
        const x = sat16(p - msg[e0 + k]!);
        const x8 = x > 127 ? 127 : x < -127 ? -127 : x;
        wide[k] = x;
        q[k] = x8;
        mag[k] = Math.abs(x8);
        par ^= x8 >> 31;
      }
      let f = mag[0]!;
      fwd[0] = f;
      for (let k = 1; k + 1 < d; k++) fwd[k] = f = bp(f, mag[k]!);
      let b = mag[d - 1]!;
      for (let k = d - 1; k >= 0; k--) {
        let ext: number;
        if (k === d - 1) ext = fwd[k - 1]!;
        else if (k === 0) ext = b;
        else {
          ext = bp(fwd[k - 1]!, b);
          b = bp(b, mag[k]!);
        }
        const x = q[k]!;
        const r = (par ^ (x >> 31)) !== 0 ? -ext : ext;
        msg[e0 + k] = r;
        const np = sat16(wide[k]! + r);
        post[cols[e0 + k]!] = np;
        hard ^= np >> 31;
      }
      if (hard !== 0) unsat++;
    }
    return unsat;
  }

  unsatisfied(): number {
    const { rowStart, cols, m } = this.code;
    let count = 0;
    for (let c = 0; c < m; c++) {
      let acc = this.synd[c]!;
      for (let e = rowStart[c]!; e < rowStart[c + 1]!; e++) acc ^= this.post[cols[e]!]! < 0 ? 1 : 0;
      count += acc;
    }
    return count;
  }

  hardDecision(): Uint8Array {
    return Uint8Array.from(this.post, (x) => (x < 0 ? 1 : 0));
  }
}
