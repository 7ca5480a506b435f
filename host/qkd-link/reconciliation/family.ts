/**
 * The shipped code family: one mother code per band of QBER, at n = 2^16 and at n = 2^17 (the
 * same base-matrix design lifted with circulants twice as large). The generator reads
 * this table; the loader finds the files by name. Changing a row changes its code file (rerun the
 * generator for that id).
 */
export interface FamilyEntry {
  readonly id: number;
  readonly name: string;
  readonly nb: number;
  readonly mb: number;
  readonly z: number;
  /** Variable degrees the design may use (capped at mb). */
  readonly degrees: readonly number[];
  /** Check degrees tried by the design (concentrated rho). */
  readonly checkDegrees: readonly number[];
  readonly maxPunctureFraction: number;
  readonly seed: number;
}

const DEGREES = [2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60];

function range(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let x = lo; x <= hi; x += step) out.push(x);
  return out;
}

const N16: readonly FamilyEntry[] = [
  { id: 1, name: 'qc-r945-n16', nb: 512, mb: 28, z: 128, degrees: DEGREES, checkDegrees: range(60, 140, 10), maxPunctureFraction: 0.1, seed: 0x1001 },
  { id: 2, name: 'qc-r906-n16', nb: 512, mb: 48, z: 128, degrees: DEGREES, checkDegrees: range(36, 90, 6), maxPunctureFraction: 0.1, seed: 0x1002 },
  { id: 3, name: 'qc-r844-n16', nb: 256, mb: 40, z: 256, degrees: DEGREES, checkDegrees: range(22, 52, 3), maxPunctureFraction: 0.1, seed: 0x1003 },
  { id: 4, name: 'qc-r781-n16', nb: 256, mb: 56, z: 256, degrees: DEGREES, checkDegrees: range(16, 40, 2), maxPunctureFraction: 0.1, seed: 0x1004 },
  { id: 5, name: 'qc-r688-n16', nb: 256, mb: 80, z: 256, degrees: DEGREES, checkDegrees: range(10, 26, 1), maxPunctureFraction: 0.1, seed: 0x1005 },
  { id: 6, name: 'qc-r563-n16', nb: 256, mb: 112, z: 256, degrees: DEGREES, checkDegrees: range(7, 18, 1), maxPunctureFraction: 0.1, seed: 0x1006 },
  { id: 7, name: 'qc-r453-n16', nb: 256, mb: 140, z: 256, degrees: DEGREES, checkDegrees: range(6, 14, 1), maxPunctureFraction: 0.1, seed: 0x1007 },
];

export const FAMILY: readonly FamilyEntry[] = [
  ...N16,
  ...N16.map((e) => ({ ...e, id: e.id + 10, name: e.name.replace('-n16', '-n17'), z: e.z * 2 })),
];
