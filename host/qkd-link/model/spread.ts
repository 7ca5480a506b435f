/**
 * How much ℓ varies from block to block: the finite-key length of blocks whose counts fluctuate
 * around the model's expectation (each count of the block Poisson-distributed, independent: the
 * events of a block are rare per pulse), by seeded Monte Carlo. `predictBlock` gives the length of
 * the expected block; the link bench's mean over a few blocks should lie within this spread of it.
 */
import { finiteKeyLength, type PerClass } from '../estimation/finite-key.js';
import { binaryEntropy } from '../estimation/statistics.js';
import { seededRandom } from '../reconciliation/design.js';
import { ModelArgumentError } from './errors.js';
import { CLASSES, type ExpectedStatistics, type LinkPhysics } from './physics.js';
import { DEFAULT_EPS_COR, DEFAULT_EPS_SEC, blockTagBits, decoySource, predictBlock, type BlockSize, type SkrOptions } from './skr.js';

export interface BlockSpread {
  /** ℓ of the expected block (predictBlock). */
  readonly expected: number;
  /** Mean, standard deviation and 5 % quantile of ℓ over the sampled blocks. */
  readonly mean: number;
  readonly sd: number;
  readonly p05: number;
  readonly samples: number;
}

/** Seeded uniform draws in (0, 1]: never 0, so logarithms of them are finite. */
function uniform(seed: number): () => number {
  const next = seededRandom(seed);
  return () => 1 - next();
}

/** Poisson(λ): by inversion below 30, else normal (λ large: the error is far below the spread we estimate). */
function poisson(lambda: number, u: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = u();
    while (p > l) {
      k++;
      p *= u();
    }
    return k;
  }
  const z = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
}

export function blockSpread(p: LinkPhysics, stats: ExpectedStatistics, block: BlockSize, o: SkrOptions, samples = 200, seed = 1): BlockSpread {
  if (!Number.isSafeInteger(samples) || samples < 2 || samples > 100_000) throw new ModelArgumentError('samples', samples, 'an integer in [2, 100000]');
  const b = predictBlock(p, stats, block, o);
  const u = uniform(seed);
  const source = decoySource(p);
  const qZ = stats.sifted.Z.qber.all;
  const lengths: number[] = [];
  for (let i = 0; i < samples; i++) {
    const draw = (v: PerClass): PerClass => ({ signal: poisson(v.signal, u), decoy: poisson(v.decoy, u), vacuum: poisson(v.vacuum, u) });
    const nZ = draw(b.nZ);
    const eXraw = draw(b.eX);
    // Errors are part of the X events: draw the correct ones and add.
    const okX = draw({ signal: b.nX.signal - b.eX.signal, decoy: b.nX.decoy - b.eX.decoy, vacuum: b.nX.vacuum - b.eX.vacuum });
    const nX = { signal: okX.signal + eXraw.signal, decoy: okX.decoy + eXraw.decoy, vacuum: okX.vacuum + eXraw.vacuum };
    const n = nZ.signal + nZ.decoy + nZ.vacuum;
    // The link's leak follows the block's own Z errors.
    const errZ = poisson(n * qZ, u);
    const leak = o.f * n * binaryEntropy(n > 0 ? Math.min(0.5, errZ / n) : 0) + (o.overheadBits ?? 0);
    for (const c of CLASSES) if (eXraw[c] > nX[c]) throw new ModelArgumentError('statistics', eXraw[c], `errors <= detections in class ${c}`);
    const fk = finiteKeyLength({ source, key: { detections: nZ }, test: { detections: nX, errors: eXraw }, epsSec: o.epsSec ?? DEFAULT_EPS_SEC, epsCor: o.epsCor ?? DEFAULT_EPS_COR, leakEC: leak, verificationTagBits: blockTagBits(o.epsCor ?? DEFAULT_EPS_COR, n) });
    lengths.push(fk.length);
  }
  const mean = lengths.reduce((a, x) => a + x, 0) / samples;
  const sd = Math.sqrt(lengths.reduce((a, x) => a + (x - mean) ** 2, 0) / (samples - 1));
  const sorted = [...lengths].sort((a, x) => a - x);
  return { expected: b.secretBits, mean, sd, p05: sorted[Math.floor(0.05 * (samples - 1))]!, samples };
}
