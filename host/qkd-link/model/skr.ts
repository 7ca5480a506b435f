/**
 * Secret key rate of the link over distance: the finite-key rate of a block (Lim, Curty, Walenta,
 * Xu, Zbinden, PRA 89, 022307, 2014, through ../estimation/finite-key.ts) fed with the model's
 * expected counts, the asymptotic rate, and the repeaterless (PLOB) bound.
 */
import { finiteKeyLength, photonNumberProbability, type DecoySource, type FiniteKeyResult, type PerClass } from '../estimation/finite-key.js';
import { binaryEntropy } from '../estimation/statistics.js';
import { verificationKeyCount } from '../kernels/verify.js';
import { ModelArgumentError, checkFinite } from './errors.js';
import { CLASSES, channelTransmittance, checkDistance, checkPhysics, expectedStatistics, type ExpectedStatistics, type LinkPhysics } from './physics.js';

/**
 * How long a block is:
 * - 'sifted-bits': sifted key-basis (Z) bits, all classes;
 * - 'pulses': source slots;
 * - 'z-events': receiver events with a Z click, the link's own block rule (the receiver closes a
 *   block at ceil(siftedBits / pZ) of them; see `linkBlock`).
 */
export interface BlockSize {
  readonly unit: 'sifted-bits' | 'pulses' | 'z-events';
  readonly n: number;
}

/** The block the link (host/qkd-link/module/block/bob.ts) cuts for a target of `siftedBits` at transmitter basis bias pZ. */
export function linkBlock(siftedBits: number, pZ: number): BlockSize {
  return { unit: 'z-events', n: Math.ceil(siftedBits / pZ) };
}

export interface SkrOptions {
  /** Error-correction efficiency f: λ_EC = f n_Z h(E_Z). */
  readonly f: number;
  /** Secrecy and correctness (default 1e-10 and 1e-15, the link's defaults). */
  readonly epsSec?: number;
  readonly epsCor?: number;
  /** Further bits disclosed per block (e.g. the link's per-frame verification tags); default 0. */
  readonly overheadBits?: number;
}

export interface BlockPrediction {
  /** Source slots the block takes, and the source time. */
  readonly pulses: number;
  readonly seconds: number;
  /** Expected counts the finite-key bound is fed (rounded): key basis Z, test basis X. */
  readonly nZ: PerClass;
  readonly nX: PerClass;
  readonly eX: PerClass;
  readonly siftedBits: number;
  /** λ_EC + overhead. */
  readonly leakBits: number;
  /** ℓ, and every intermediate bound. */
  readonly secretBits: number;
  readonly finiteKey: FiniteKeyResult;
}

export interface SkrPrediction {
  readonly distanceKm: number;
  /** Finite-key secret key rate, bits per second of source time (0 beyond the cutoff). */
  readonly skrBps: number;
  /** Asymptotic rate (infinite block, infinitely many decoys), bits per second. */
  readonly asymptoticBps: number;
  /** Repeaterless bound -log2(1 - η_ch) × clock (η_ch: fibre transmittance), bits per second. */
  readonly plobBps: number;
  /** Quantum bit error rate of the sifted key (Z) and test (X) bases, all classes. */
  readonly qberZ: number;
  readonly qberX: number;
  /** Sifted key-basis bits per second of source time. */
  readonly siftedBps: number;
  readonly block: BlockPrediction;
  readonly statistics: ExpectedStatistics;
}

export const DEFAULT_EPS_SEC = 1e-10;
export const DEFAULT_EPS_COR = 1e-15;

function checkOptions(o: SkrOptions): void {
  if (typeof o !== 'object' || o === null) throw new ModelArgumentError('options', o, 'an object with f');
  checkFinite('f', o.f, 1, 10, 'an error-correction efficiency in [1, 10]');
  for (const [name, v] of [
    ['epsSec', o.epsSec],
    ['epsCor', o.epsCor],
  ] as const) {
    if (v !== undefined && !(typeof v === 'number' && v > 0 && v < 1)) throw new ModelArgumentError(name, v, 'a failure probability in (0, 1)');
  }
  if (o.overheadBits !== undefined) checkFinite('overheadBits', o.overheadBits, 0, Number.MAX_SAFE_INTEGER, 'a number of bits >= 0');
}

function checkBlock(b: BlockSize): void {
  if (typeof b !== 'object' || b === null || !['sifted-bits', 'pulses', 'z-events'].includes(b.unit)) {
    throw new ModelArgumentError('block.unit', b?.unit, "'sifted-bits', 'pulses' or 'z-events'");
  }
  checkFinite('block.n', b.n, 1, 2 ** 50, 'a block length in [1, 2^50]');
}

/** The link's source as the finite-key bound's decoy source (classes in mu/pMu order). */
export function decoySource(p: LinkPhysics): DecoySource {
  const { mu, pMu } = p.source;
  return { intensities: { signal: mu[0]!, decoy: mu[1]!, vacuum: mu[2]! }, probabilities: { signal: pMu[0]!, decoy: pMu[1]!, vacuum: pMu[2]! } };
}

function scaled(v: PerClass, n: number): PerClass {
  return { signal: Math.round(v.signal * n), decoy: Math.round(v.decoy * n), vacuum: Math.round(v.vacuum * n) };
}

function sum(v: PerClass): number {
  return v.signal + v.decoy + v.vacuum;
}

/**
 * The block's error-verification tag as the link discloses it: 64 bits per hash key, as many keys
 * as ε_cor needs for the block's corrected bits (kernels/verify.ts). The link subtracts these bits
 * whole, not the log2(2/ε_cor) of Lim et al.; so does the model.
 */
export function blockTagBits(epsCor: number, correctedBits: number): number {
  return 64 * verificationKeyCount(epsCor, Math.max(1, correctedBits));
}

/**
 * The finite-key secret length of one block whose counts are the expected ones: ℓ of Lim et al.
 * Eq. (1) with λ_EC = f n_Z h(E_Z) + overhead and the verification tag's bits (blockTagBits).
 */
export function predictBlock(p: LinkPhysics, stats: ExpectedStatistics, block: BlockSize, o: SkrOptions): BlockPrediction {
  checkBlock(block);
  checkOptions(o);
  const zGain = sum(stats.sifted.Z.gain);
  const per = block.unit === 'pulses' ? 1 : block.unit === 'sifted-bits' ? zGain : stats.zClickEvents;
  if (!(per > 0)) throw new ModelArgumentError('block', block, 'a channel that produces detections (none expected)');
  const pulses = block.n / per;
  const nZ = scaled(stats.sifted.Z.gain, pulses);
  const nX = scaled(stats.sifted.X.gain, pulses);
  const eX = scaled(stats.sifted.X.errors, pulses);
  for (const c of CLASSES) if (eX[c] > nX[c]) throw new ModelArgumentError('statistics', eX[c], `errors <= detections in class ${c}`);
  const siftedBits = sum(nZ);
  const leakBits = o.f * siftedBits * binaryEntropy(stats.sifted.Z.qber.all) + (o.overheadBits ?? 0);
  const finiteKey = finiteKeyLength({
    source: decoySource(p),
    key: { detections: nZ },
    test: { detections: nX, errors: eX },
    epsSec: o.epsSec ?? DEFAULT_EPS_SEC,
    epsCor: o.epsCor ?? DEFAULT_EPS_COR,
    leakEC: leakBits,
    verificationTagBits: blockTagBits(o.epsCor ?? DEFAULT_EPS_COR, siftedBits),
  });
  return { pulses, seconds: pulses / p.source.clockHz, nZ, nX, eX, siftedBits, leakBits, secretBits: finiteKey.length, finiteKey };
}

/**
 * Asymptotic secret bits per pulse (GLLP with infinitely many decoys, Lo, Ma, Chen, PRL 94,
 * 230504, 2005, in the key/test-basis form of Lim et al.): p_Z [τ_0 Y_0 + τ_1 Y_1 (1 - h(e_1^X))]
 * - f Q_Z h(E_Z), with the single-photon error of the X basis as the phase error of Z; 0 if negative.
 */
export function asymptoticBitsPerPulse(p: LinkPhysics, stats: ExpectedStatistics, f: number): number {
  const pz = p.source.pZ;
  const yZ = stats.yields.Z;
  const qZ = sum(stats.sifted.Z.gain);
  const source = decoySource(p);
  const entropy = pz * (photonNumberProbability(source, 0) * yZ.y0 + photonNumberProbability(source, 1) * yZ.y1 * (1 - binaryEntropy(Math.min(0.5, stats.yields.X.e1))));
  return Math.max(0, entropy - f * qZ * binaryEntropy(stats.sifted.Z.qber.all));
}

/** -log2(1 - η): the PLOB bound (Pirandola, Laurenza, Ottaviani, Banchi, Nat. Commun. 8, 15043, 2017), bits per channel use. */
export function plobBitsPerUse(eta: number): number {
  checkFinite('eta', eta, 0, 1, 'a transmittance in [0, 1]');
  return eta >= 1 ? Infinity : -Math.log2(1 - eta);
}

/** The finite-key, asymptotic and PLOB rates of the link at a distance, with the block and statistics behind them. */
export function predictSkr(physics: LinkPhysics, distanceKm: number, block: BlockSize, options: SkrOptions): SkrPrediction {
  checkPhysics(physics);
  checkDistance(distanceKm);
  checkBlock(block);
  checkOptions(options);
  const statistics = expectedStatistics(physics, distanceKm);
  const clock = physics.source.clockHz;
  const b = predictBlock(physics, statistics, block, options);
  return {
    distanceKm,
    skrBps: b.secretBits / b.seconds,
    asymptoticBps: asymptoticBitsPerPulse(physics, statistics, options.f) * clock,
    plobBps: plobBitsPerUse(channelTransmittance(physics, distanceKm)) * clock,
    qberZ: statistics.sifted.Z.qber.all,
    qberX: statistics.sifted.X.qber.all,
    siftedBps: sum(statistics.sifted.Z.gain) * clock,
    block: b,
    statistics,
  };
}
