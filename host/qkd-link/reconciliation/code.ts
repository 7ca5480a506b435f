/**
 * Quasi-cyclic LDPC codes: the shipped file format (version 1) and its expansion into the
 * row-ordered sparse form the decoders use.
 *
 * A code is a base matrix of mb x nb entries, each either empty or a Z x Z circulant permutation
 * with a shift: base entry (i, j, s) puts ones at rows i*Z + r, columns j*Z + ((r + s) mod Z),
 * for r = 0..Z-1. So n = nb*Z bits, m = mb*Z checks.
 *
 * File layout, little-endian (offsets in bytes):
 *
 *   0  magic "QLDP"                       4
 *   4  version (= 1)                      u16
 *   6  code id                            u16
 *   8  Z (circulant size)                 u16
 *  10  nb (base columns)                  u16
 *  12  mb (base rows)                     u16
 *  14  reserved (= 0)                     u16
 *  16  base entries count E_b             u32
 *  20  untainted puncturing positions P   u32
 *  24  design threshold QBER              f64   (density-evolution estimate, informative)
 *  32  generator seed                     u32
 *  36  reserved (= 0)                     u32
 *  40  E_b entries: row u16, col u16, shift u16, sorted by (row, col)
 *   .  P positions u32, in puncturing order (the first p of them form the pattern for p bits)
 *   .  SHA-256 of all preceding bytes     32
 */
import { createHash } from 'node:crypto';
import { CodeFileError } from './errors.js';

export const CODE_FILE_MAGIC = 'QLDP';
export const CODE_FILE_VERSION = 1;
const HEADER_BYTES = 40;
const DIGEST_BYTES = 32;

export interface BaseEntry {
  readonly row: number;
  readonly col: number;
  readonly shift: number;
}

export interface CodeSpec {
  readonly id: number;
  readonly z: number;
  readonly nb: number;
  readonly mb: number;
  readonly entries: readonly BaseEntry[];
  /** Untainted puncturing order: variable indices, nested (any prefix is untainted). */
  readonly punctureOrder: Uint32Array;
  readonly designThreshold: number;
  readonly seed: number;
}

/** An expanded code: the parity-check matrix in row-major sparse form. */
export interface LdpcCode {
  readonly id: number;
  readonly n: number;
  readonly m: number;
  /** rowStart[c]..rowStart[c+1] index `cols` for check c. */
  readonly rowStart: Uint32Array;
  readonly cols: Uint32Array;
  readonly maxRowDegree: number;
  readonly punctureOrder: Uint32Array;
  readonly designThreshold: number;
  /** Mother-code rate 1 - m/n. */
  readonly rate: number;
  readonly spec: CodeSpec;
}

export function encodeCodeFile(spec: CodeSpec): Uint8Array {
  const size = HEADER_BYTES + spec.entries.length * 6 + spec.punctureOrder.length * 4 + DIGEST_BYTES;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(Buffer.from(CODE_FILE_MAGIC, 'latin1'), 0);
  dv.setUint16(4, CODE_FILE_VERSION, true);
  dv.setUint16(6, spec.id, true);
  dv.setUint16(8, spec.z, true);
  dv.setUint16(10, spec.nb, true);
  dv.setUint16(12, spec.mb, true);
  dv.setUint32(16, spec.entries.length, true);
  dv.setUint32(20, spec.punctureOrder.length, true);
  dv.setFloat64(24, spec.designThreshold, true);
  dv.setUint32(32, spec.seed >>> 0, true);
  const sorted = [...spec.entries].sort((a, b) => a.row - b.row || a.col - b.col);
  let o = HEADER_BYTES;
  for (const e of sorted) {
    dv.setUint16(o, e.row, true);
    dv.setUint16(o + 2, e.col, true);
    dv.setUint16(o + 4, e.shift, true);
    o += 6;
  }
  for (const p of spec.punctureOrder) {
    dv.setUint32(o, p, true);
    o += 4;
  }
  out.set(createHash('sha256').update(out.subarray(0, o)).digest(), o);
  return out;
}

export function decodeCodeFile(bytes: Uint8Array, source = 'code file'): CodeSpec {
  if (bytes.length < HEADER_BYTES + DIGEST_BYTES) throw new CodeFileError(source, `truncated (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== CODE_FILE_MAGIC) throw new CodeFileError(source, 'bad magic');
  const version = dv.getUint16(4, true);
  if (version !== CODE_FILE_VERSION) throw new CodeFileError(source, `unsupported version ${version} (this build reads ${CODE_FILE_VERSION})`);
  const id = dv.getUint16(6, true);
  const z = dv.getUint16(8, true);
  const nb = dv.getUint16(10, true);
  const mb = dv.getUint16(12, true);
  const count = dv.getUint32(16, true);
  const punctures = dv.getUint32(20, true);
  const body = HEADER_BYTES + count * 6 + punctures * 4;
  if (bytes.length !== body + DIGEST_BYTES) throw new CodeFileError(source, `length ${bytes.length} does not match its header (${body + DIGEST_BYTES})`);
  const digest = createHash('sha256').update(bytes.subarray(0, body)).digest();
  if (!digest.equals(bytes.subarray(body, body + DIGEST_BYTES))) throw new CodeFileError(source, 'checksum mismatch');
  if (z === 0 || nb === 0 || mb === 0 || mb >= nb) throw new CodeFileError(source, `bad dimensions Z=${z} nb=${nb} mb=${mb}`);
  const entries: BaseEntry[] = [];
  const seen = new Set<number>();
  for (let k = 0, o = HEADER_BYTES; k < count; k++, o += 6) {
    const row = dv.getUint16(o, true);
    const col = dv.getUint16(o + 2, true);
    const shift = dv.getUint16(o + 4, true);
    if (row >= mb || col >= nb || shift >= z) throw new CodeFileError(source, `entry ${k} (${row}, ${col}, ${shift}) out of range`);
    if (seen.has(row * nb + col)) throw new CodeFileError(source, `entry ${k} repeats (${row}, ${col})`);
    seen.add(row * nb + col);
    entries.push({ row, col, shift });
  }
  const n = nb * z;
  const punctureOrder = new Uint32Array(punctures);
  for (let k = 0, o = HEADER_BYTES + count * 6; k < punctures; k++, o += 4) {
    const v = dv.getUint32(o, true);
    if (v >= n) throw new CodeFileError(source, `puncturing position ${v} out of range`);
    punctureOrder[k] = v;
  }
  return { id, z, nb, mb, entries, punctureOrder, designThreshold: dv.getFloat64(24, true), seed: dv.getUint32(32, true) };
}

/**
 * Lifts a base matrix to the full parity-check matrix, rows in order (base row, then offset). The
 * base matrix is checked at once; the lifted rows (`rowStart`, `cols`: 2 MB for a 2^16-bit code)
 * are built on first use. The decoder works from the base matrix, so a link never builds them:
 * only the TypeScript twins and the code generator read them.
 */
export function expandCode(spec: CodeSpec, source = `code ${spec.id}`): LdpcCode {
  const { z, nb, mb } = spec;
  const n = nb * z;
  const m = mb * z;
  const byRow: BaseEntry[][] = Array.from({ length: mb }, () => []);
  for (const e of spec.entries) byRow[e.row]!.push(e);
  const colDeg = new Uint32Array(nb);
  for (const e of spec.entries) colDeg[e.col]!++;
  for (let j = 0; j < nb; j++) if (colDeg[j]! === 0) throw new CodeFileError(source, `base column ${j} is empty`);
  let maxRowDegree = 0;
  for (let i = 0; i < mb; i++) {
    if (byRow[i]!.length < 2) throw new CodeFileError(source, `base row ${i} has degree ${byRow[i]!.length} (< 2)`);
    byRow[i]!.sort((a, b) => a.col - b.col);
    maxRowDegree = Math.max(maxRowDegree, byRow[i]!.length);
  }
  const punct = new Set<number>();
  for (const v of spec.punctureOrder) {
    if (punct.has(v)) throw new CodeFileError(source, `puncturing position ${v} repeats`);
    punct.add(v);
  }
  let lifted: { readonly rowStart: Uint32Array; readonly cols: Uint32Array } | undefined;
  const lift = () => {
    if (lifted) return lifted;
    const rowStart = new Uint32Array(m + 1);
    const cols = new Uint32Array(spec.entries.length * z);
    let e = 0;
    for (let i = 0; i < mb; i++) {
      for (let r = 0; r < z; r++) {
        rowStart[i * z + r] = e;
        for (const b of byRow[i]!) cols[e++] = b.col * z + ((r + b.shift) % z);
      }
    }
    rowStart[m] = e;
    return (lifted = { rowStart, cols });
  };
  return {
    id: spec.id,
    n,
    m,
    get rowStart() {
      return lift().rowStart;
    },
    get cols() {
      return lift().cols;
    },
    maxRowDegree,
    punctureOrder: spec.punctureOrder,
    designThreshold: spec.designThreshold,
    rate: 1 - m / n,
    spec,
  };
}

/** Syndrome of a bit-per-byte word (plain TypeScript; the encoder twin of the kernel's). */
export function syndromeOf(code: LdpcCode, bits: Uint8Array): Uint8Array {
  const s = new Uint8Array(code.m);
  const { rowStart, cols } = code;
  for (let c = 0; c < code.m; c++) {
    let acc = 0;
    for (let e = rowStart[c]!; e < rowStart[c + 1]!; e++) acc ^= bits[cols[e]!]!;
    s[c] = acc;
  }
  return s;
}
