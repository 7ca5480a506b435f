/**
 * QBER from disclosed bits: both ends reveal the same positions of their sifted streams (the whole
 * test basis, or a sample of the key basis) and count the differences, per intensity class.
 */
import type { SiftResult, IntensityClass, Basis } from '../kernels/sift.js';
import { INTENSITY_CLASSES } from '../kernels/sift.js';
import { estimateQber, type QberEstimate } from './statistics.js';
import { EstimationArgumentError } from './errors.js';

/** Number of positions among the first `nbits` where two packed strings differ. */
export function countBitErrors(a: Uint8Array, b: Uint8Array, nbits: number): number {
  if (!Number.isSafeInteger(nbits) || nbits < 0) throw new EstimationArgumentError('nbits', nbits, 'a non-negative integer');
  const nb = Math.ceil(nbits / 8);
  if (a.length < nb) throw new EstimationArgumentError('a.length', a.length, `>= ${nb}`);
  if (b.length < nb) throw new EstimationArgumentError('b.length', b.length, `>= ${nb}`);
  let errors = 0;
  for (let i = 0; i < nb; i++) {
    let x = a[i]! ^ b[i]!;
    if (i === nb - 1 && nbits & 7) x &= (1 << (nbits & 7)) - 1;
    x = x - ((x >> 1) & 0x55);
    x = (x & 0x33) + ((x >> 2) & 0x33);
    errors += (x + (x >> 4)) & 0x0f;
  }
  return errors;
}

export type StreamsByClass = Readonly<Record<IntensityClass, Readonly<Record<Basis, SiftResult>>>>;

/** QBER per intensity class in one basis, comparing the two ends' disclosed streams. */
export function qberPerClass(own: StreamsByClass, peer: StreamsByClass, basis: Basis, eps: number): Record<IntensityClass, QberEstimate> {
  const out = {} as Record<IntensityClass, QberEstimate>;
  for (const c of INTENSITY_CLASSES) {
    const a = own[c][basis];
    const b = peer[c][basis];
    if (a.length !== b.length) throw new EstimationArgumentError(`peer.${c}.${basis}.length`, b.length, `the same length as ours (${a.length})`);
    out[c] = estimateQber(countBitErrors(a.bits, b.bits, a.length), a.length, eps);
  }
  return out;
}
