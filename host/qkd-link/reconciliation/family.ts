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

/**
 * Codes between those rates (and one below), 2^16 only: with a mother code every ~0.05 of rate,
 * each QBER is served by a code that needs little puncturing (punctured codes lose the most).
 */
const N16_FILL: readonly FamilyEntry[] = [
  { id: 21, name: 'qc-r926-n16', nb: 512, mb: 38, z: 128, degrees: DEGREES, checkDegrees: range(46, 110, 8), maxPunctureFraction: 0.1, seed: 0x1021 },
  { id: 22, name: 'qc-r875-n16', nb: 512, mb: 64, z: 128, degrees: DEGREES, checkDegrees: range(28, 70, 4), maxPunctureFraction: 0.1, seed: 0x1022 },
  { id: 23, name: 'qc-r813-n16', nb: 256, mb: 48, z: 256, degrees: DEGREES, checkDegrees: range(18, 46, 2), maxPunctureFraction: 0.1, seed: 0x1023 },
  { id: 24, name: 'qc-r734-n16', nb: 256, mb: 68, z: 256, degrees: DEGREES, checkDegrees: range(12, 32, 1), maxPunctureFraction: 0.1, seed: 0x1024 },
  { id: 25, name: 'qc-r625-n16', nb: 256, mb: 96, z: 256, degrees: DEGREES, checkDegrees: range(8, 22, 1), maxPunctureFraction: 0.1, seed: 0x1025 },
  { id: 26, name: 'qc-r500-n16', nb: 256, mb: 128, z: 256, degrees: DEGREES, checkDegrees: range(6, 16, 1), maxPunctureFraction: 0.1, seed: 0x1026 },
  { id: 27, name: 'qc-r398-n16', nb: 256, mb: 154, z: 256, degrees: DEGREES, checkDegrees: range(5, 12, 1), maxPunctureFraction: 0.1, seed: 0x1027 },
  // Above rate 0.8 a code decodes well only within ~10 % of QBER of its own point (puncturing
  // costs dearly at high check degrees), so there the rates are closer still.
  { id: 28, name: 'qc-r938-n16', nb: 512, mb: 32, z: 128, degrees: DEGREES, checkDegrees: range(50, 130, 10), maxPunctureFraction: 0.1, seed: 0x1028 },
  { id: 29, name: 'qc-r918-n16', nb: 512, mb: 42, z: 128, degrees: DEGREES, checkDegrees: range(40, 100, 6), maxPunctureFraction: 0.1, seed: 0x1029 },
  { id: 30, name: 'qc-r893-n16', nb: 512, mb: 55, z: 128, degrees: DEGREES, checkDegrees: range(32, 80, 6), maxPunctureFraction: 0.1, seed: 0x1030 },
  { id: 31, name: 'qc-r859-n16', nb: 256, mb: 36, z: 256, degrees: DEGREES, checkDegrees: range(24, 60, 4), maxPunctureFraction: 0.1, seed: 0x1031 },
  { id: 32, name: 'qc-r828-n16', nb: 256, mb: 44, z: 256, degrees: DEGREES, checkDegrees: range(20, 50, 3), maxPunctureFraction: 0.1, seed: 0x1032 },
  { id: 33, name: 'qc-r852-n16', nb: 256, mb: 38, z: 256, degrees: DEGREES, checkDegrees: range(23, 56, 3), maxPunctureFraction: 0.1, seed: 0x1033 },
  { id: 34, name: 'qc-r797-n16', nb: 256, mb: 52, z: 256, degrees: DEGREES, checkDegrees: range(17, 44, 2), maxPunctureFraction: 0.1, seed: 0x1034 },
];

export const FAMILY: readonly FamilyEntry[] = [
  ...N16,
  ...N16.map((e) => ({ ...e, id: e.id + 10, name: e.name.replace('-n16', '-n17'), z: e.z * 2 })),
  ...N16_FILL,
];
