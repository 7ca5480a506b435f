/**
 * Expected statistics of decoy-state BB84 over fibre, per pulse, as the board emulator
 * (firmware-bridge/emulator/channel-model.ts) produces them and as the link (host/qkd-link/module)
 * sifts them: the model the link bench compares the achieved key rate with.
 *
 * Physics, per slot (the emulator's, restated):
 * - the transmitter picks intensity class k with p_k, basis Z with pZ, a uniform bit, and sends a
 *   phase-randomised weak coherent pulse of mean photon number μ_k;
 * - fibre and detector keep each photon with η = 10^(-α L / 10) η_det, so λ_k = μ_k η photons
 *   are detected on average (Poisson);
 * - each detected photon takes the receiver's Z arm with rxPZ; in the state's basis it reaches the
 *   right detector with 1 - e_mis, in the other basis either with 1/2. By Poisson thinning the four
 *   detectors' photon numbers are independent, so detector j clicks independently with
 *   p_j = 1 - (1 - p_dc) e^{-λ_k q_j} (q_j its share of the photons);
 * - dead time (non-paralysable, D slots) and after-pulses (probability p_ap per click, at a random
 *   later slot, whatever that slot's setting) to first order: detector j's click attempts come at
 *   c_j / (1 - p_ap) per slot (c_j its mean primary click probability), a click survives with
 *   s_j = 1 / (1 + a_j D), and after-pulses add an independent click probability
 *   A_j = c_j p_ap / (1 - p_ap) s_j in every slot (as dark counts do). This is the emulator's own
 *   first-order rate formula (ChannelModel.expectedEvents), applied per detector;
 * - an intercept-resend eavesdropper on a fraction f of the slots resends the photon number in the
 *   state she measured (random basis), so the detectors see a mixture of states.
 * The receiver squashes multi-clicks as the link does (session/sifting.ts): clicks in both bases
 * give a random basis, two clicks in one basis a random bit. An event is kept when the squashed
 * basis equals the transmitter's, and is an error when its bit differs.
 */
import type { PerClass } from '../estimation/finite-key.js';
import type { DetectorParams, SourceSettings } from '../../../firmware-bridge/emulator/channel-model.js';
import { ModelArgumentError, checkFinite, checkProbability } from './errors.js';

/**
 * The source as the emulated transmitter is configured with it (one definition, the emulator's):
 * mean photon numbers signal μ1, decoy μ2, vacuum μ3 (μ1 > μ2 + μ3, μ2 > μ3 >= 0), their
 * probabilities, and the probability of the Z (key) basis.
 */
export type SourceModel = SourceSettings;

/** The receiver's detectors as the emulated receiver is configured with them (the emulator's definition). */
export type DetectorModel = DetectorParams;

/**
 * Everything the model needs. Field names follow the emulator's ChannelParams, so its
 * SourceSettings and DetectorParams can be passed as they are.
 */
export interface LinkPhysics {
  readonly source: SourceModel;
  readonly detector: DetectorModel;
  /** Fibre loss, dB/km (0.2 for standard single-mode fibre at 1550 nm). */
  readonly attenuationDbPerKm: number;
  /** Fraction of slots an intercept-resend eavesdropper attacks (0 = none). */
  readonly interceptFraction?: number;
}

export type Basis = 'Z' | 'X';
const CLASS_NAMES = ['signal', 'decoy', 'vacuum'] as const;

export interface BasisStatistics {
  /** Kept (basis-matching) events per pulse, per class: P(class k, both ends in this basis, an event). */
  readonly gain: PerClass;
  /** Kept events with a wrong bit, per pulse, per class. */
  readonly errors: PerClass;
  /** errors / gain per class, and over all classes. */
  readonly qber: PerClass & { readonly all: number };
}

export interface FockYields {
  /** P(event in the transmitter's basis | vacuum sent, that basis). */
  readonly y0: number;
  /** P(event in the transmitter's basis | one photon sent, that basis). */
  readonly y1: number;
  /** Error rate of those single-photon events. */
  readonly e1: number;
}

export interface ExpectedStatistics {
  readonly distanceKm: number;
  /** Fibre transmittance 10^(-α L / 10): the η of the repeaterless bound. */
  readonly channelTransmittance: number;
  /** Fibre transmittance times detector efficiency. */
  readonly eta: number;
  readonly deadSlots: number;
  /** Probability that a click attempt of a Z (X) detector finds it live. */
  readonly survival: Readonly<Record<Basis, number>>;
  /** After-pulse clicks per slot of each Z (X) detector. */
  readonly afterpulseRate: Readonly<Record<Basis, number>>;
  /** Events (slots with at least one reported click) per pulse, per class and in total. */
  readonly events: PerClass & { readonly total: number };
  /** Events with a click in a Z detector, per pulse (what the link's block target counts). */
  readonly zClickEvents: number;
  /** Events with more than one click, per pulse. */
  readonly multiClickEvents: number;
  readonly sifted: Readonly<Record<Basis, BasisStatistics>>;
  /** Photon-number yields (infinitely many decoys): the asymptotic rate's s_0, s_1 and phase error. */
  readonly yields: Readonly<Record<Basis, FockYields>>;
}

/** Checks every parameter; throws ModelArgumentError naming the first bad one. */
export function checkPhysics(p: LinkPhysics): void {
  if (typeof p !== 'object' || p === null) throw new ModelArgumentError('physics', p, 'an object');
  const s = p.source;
  const d = p.detector;
  checkFinite('source.clockHz', s.clockHz, 1, 1e12, 'a clock rate in Hz in [1, 1e12]');
  if (!Array.isArray(s.mu) || s.mu.length !== 3) throw new ModelArgumentError('source.mu', s.mu, 'three mean photon numbers (signal, decoy, vacuum)');
  if (!Array.isArray(s.pMu) || s.pMu.length !== 3) throw new ModelArgumentError('source.pMu', s.pMu, 'three probabilities (signal, decoy, vacuum)');
  s.mu.forEach((m, k) => checkFinite(`source.mu[${k}]`, m, 0, 10, 'a mean photon number in [0, 10]'));
  s.pMu.forEach((v, k) => checkProbability(`source.pMu[${k}]`, v));
  const sum = s.pMu.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-9) throw new ModelArgumentError('source.pMu', s.pMu, `probabilities summing to 1 (they sum to ${sum})`);
  const [mu1, mu2, mu3] = s.mu as [number, number, number];
  if (!(mu2 > mu3)) throw new ModelArgumentError('source.mu[1]', mu2, `a decoy intensity above the vacuum one (${mu3})`);
  if (!(mu1 > mu2 + mu3)) throw new ModelArgumentError('source.mu[0]', mu1, `a signal intensity above decoy + vacuum (${mu2 + mu3})`);
  if (!s.pMu.every((v) => v > 0)) throw new ModelArgumentError('source.pMu', s.pMu, 'every class sent with a non-zero probability');
  checkProbability('source.pZ', s.pZ);
  checkProbability('detector.efficiency', d.efficiency);
  checkProbability('detector.darkCountProbability', d.darkCountProbability);
  checkFinite('detector.afterpulseProbability', d.afterpulseProbability, 0, 0.999, 'a probability in [0, 0.999]');
  checkFinite('detector.afterpulseDelayNs', d.afterpulseDelayNs, 0, 1e9, 'a delay in ns in [0, 1e9]');
  checkFinite('detector.deadNs', d.deadNs, 0, 1e9, 'a dead time in ns in [0, 1e9]');
  checkProbability('detector.misalignment', d.misalignment);
  checkProbability('detector.pZ', d.pZ);
  checkFinite('attenuationDbPerKm', p.attenuationDbPerKm, 0, 100, 'a fibre loss in dB/km in [0, 100]');
  checkProbability('interceptFraction', p.interceptFraction ?? 0);
}

export function checkDistance(km: number): void {
  checkFinite('distanceKm', km, 0, 10_000, 'a fibre length in km in [0, 10000]');
}

/** 10^(-α L / 10): the probability that a photon survives the fibre. */
export function channelTransmittance(p: LinkPhysics, distanceKm: number): number {
  checkDistance(distanceKm);
  return 10 ** ((-p.attenuationDbPerKm * distanceKm) / 10);
}

/** A state reaching the receiver (basis 0 = Z, 1 = X; value) with a weight. */
interface Arrival {
  readonly basis: number;
  readonly value: number;
  readonly weight: number;
}

/** States reaching the receiver when the transmitter sends (basis, value): honest, or resent by Eve. */
function arrivals(basis: number, value: number, f: number): Arrival[] {
  const out: Arrival[] = [{ basis, value, weight: 1 - f / 2 }];
  if (f > 0) {
    // Eve guesses the basis half the time (she resends the same state), else resends a random bit in the other.
    out.push({ basis: basis ^ 1, value: 0, weight: f / 4 }, { basis: basis ^ 1, value: 1, weight: f / 4 });
  }
  return out;
}

/** Share q_j of the detected photons per detector (bit 0 Z0, 1 Z1, 2 X0, 3 X1) for a state. */
function shares(d: DetectorModel, a: Arrival): [number, number, number, number] {
  const q: [number, number, number, number] = [0, 0, 0, 0];
  for (let arm = 0; arm < 2; arm++) {
    const pArm = arm === 0 ? d.pZ : 1 - d.pZ;
    if (arm === a.basis) {
      q[2 * arm + a.value] = pArm * (1 - d.misalignment);
      q[2 * arm + (a.value ^ 1)] = pArm * d.misalignment;
    } else {
      q[2 * arm] = pArm / 2;
      q[2 * arm + 1] = pArm / 2;
    }
  }
  return q;
}

/** What the receiver reports, by squashed basis and bit (index basis·2 + bit), and click statistics. */
interface Outcome {
  /** P(squashed basis b, bit u), index 2b + u. */
  readonly out: Float64Array;
  /** P(any click), P(a Z click), P(two or more clicks). */
  event: number;
  zClick: number;
  multi: number;
}

function emptyOutcome(): Outcome {
  return { out: new Float64Array(4), event: 0, zClick: 0, multi: 0 };
}

/** Adds w times the outcome of four independent detectors clicking with p[j] (squashing as the link does). */
function addIndependent(o: Outcome, p: readonly number[], w: number): void {
  for (let m = 1; m < 16; m++) {
    let pr = w;
    for (let j = 0; j < 4; j++) pr *= m & (1 << j) ? p[j]! : 1 - p[j]!;
    if (pr === 0) continue;
    o.event += pr;
    if (m & 3) o.zClick += pr;
    if ((m & (m - 1)) === 0) {
      o.out[31 - Math.clz32(m)]! += pr;
      continue;
    }
    o.multi += pr;
    const z = m & 3;
    const x = (m >> 2) & 3;
    if (z && x) {
      inBasis(o.out, 0, z, pr / 2);
      inBasis(o.out, 1, x, pr / 2);
    } else if (z) inBasis(o.out, 0, z, pr);
    else inBasis(o.out, 1, x, pr);
  }
}

/** Clicks `bits` (bit 0 value 0, bit 1 value 1) in basis b: that value, or a random one for both. */
function inBasis(out: Float64Array, b: number, bits: number, w: number): void {
  if (bits === 3) {
    out[2 * b]! += w / 2;
    out[2 * b + 1]! += w / 2;
  } else out[2 * b + (bits === 2 ? 1 : 0)]! += w;
}

/** Per-detector dead-time survival and after-pulse rates: the first-order corrections. */
interface Corrections {
  readonly survival: readonly number[];
  readonly afterpulse: readonly number[];
  readonly deadSlots: number;
}

/** Click probability of a detector after dead time and after-pulses, given its primary probability. */
function corrected(c: Corrections, j: number, p: number): number {
  return 1 - (1 - c.survival[j]! * p) * (1 - c.afterpulse[j]!);
}

function corrections(p: LinkPhysics, eta: number): Corrections {
  const { source: s, detector: d } = p;
  const f = p.interceptFraction ?? 0;
  const deadSlots = Math.ceil((d.deadNs * s.clockHz) / 1e9);
  // Mean primary click probability per detector over the transmitter's choices.
  const c = [0, 0, 0, 0];
  for (let k = 0; k < 3; k++) {
    const lambda = s.mu[k]! * eta;
    for (let basis = 0; basis < 2; basis++) {
      const pb = basis === 0 ? s.pZ : 1 - s.pZ;
      for (let value = 0; value < 2; value++) {
        for (const a of arrivals(basis, value, f)) {
          const q = shares(d, a);
          const w = s.pMu[k]! * pb * 0.5 * a.weight;
          for (let j = 0; j < 4; j++) c[j]! += w * (1 - (1 - d.darkCountProbability) * Math.exp(-lambda * q[j]!));
        }
      }
    }
  }
  const rates = c.map((cj) => detectorRates(cj, deadSlots, d.afterpulseProbability, (d.afterpulseDelayNs * s.clockHz) / 1e9));
  return { survival: rates.map((r) => r.live), afterpulse: rates.map((r) => r.afterpulses), deadSlots };
}

/**
 * One detector as a renewal process: primary click attempts with probability c per slot; a
 * recorded click makes it dead for D slots and, with p_ap, schedules an after-pulse D + 1 + δ
 * slots later (δ geometric of mean M, as the emulator draws it), recorded if the detector is live
 * then. With r the recorded-click rate, the live fraction is L = 1 - r D, and
 *   r = c L + p_ap r σ,   σ = Σ_{δ<=D} P(δ) (1 - c)^δ + P(δ > D) L
 * (an after-pulse within D slots of the end of the dead time finds the detector live unless a
 * click came since; a later one sees the stationary live fraction). Solved for r by bisection
 * (the left side minus the right grows with r).
 */
export function detectorRates(c: number, deadSlots: number, ap: number, apMeanSlots: number): { rate: number; live: number; afterpulses: number } {
  const D = deadSlots;
  const rho = 1 - 1 / (Math.max(1, apMeanSlots) + 1);
  const rx = rho * (1 - c);
  const early = D > 0 ? ((1 - rho) * (1 - rx ** (D + 1))) / (1 - rx) : 0;
  const late = D > 0 ? rho ** (D + 1) : 1;
  const sigma = (live: number) => early + late * live;
  const excess = (r: number) => r * (1 - ap * sigma(1 - r * D)) - c * (1 - r * D);
  let lo = 0;
  let hi = D > 0 ? 1 / D : Math.min(1, c / (1 - ap));
  if (D === 0) lo = hi = Math.min(1, c / (1 - ap));
  for (let i = 0; i < 100 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (excess(mid) > 0) hi = mid;
    else lo = mid;
  }
  const rate = (lo + hi) / 2;
  const live = 1 - rate * D;
  return { rate, live, afterpulses: ap * rate * sigma(live) };
}

function perClass(v: readonly number[]): PerClass {
  return { signal: v[0]!, decoy: v[1]!, vacuum: v[2]! };
}

/** The expected per-pulse statistics of the link at a distance. */
export function expectedStatistics(p: LinkPhysics, distanceKm: number): ExpectedStatistics {
  checkPhysics(p);
  const channel = channelTransmittance(p, distanceKm);
  const { source: s, detector: d } = p;
  const f = p.interceptFraction ?? 0;
  const eta = channel * d.efficiency;
  const corr = corrections(p, eta);
  const events = [0, 0, 0];
  let zClickEvents = 0;
  let multiClickEvents = 0;
  const gain = { Z: [0, 0, 0], X: [0, 0, 0] };
  const errors = { Z: [0, 0, 0], X: [0, 0, 0] };
  for (let k = 0; k < 3; k++) {
    const lambda = s.mu[k]! * eta;
    for (let basis = 0; basis < 2; basis++) {
      const pb = basis === 0 ? s.pZ : 1 - s.pZ;
      const key = basis === 0 ? 'Z' : 'X';
      for (let value = 0; value < 2; value++) {
        const o = emptyOutcome();
        for (const a of arrivals(basis, value, f)) {
          const q = shares(d, a);
          const pj = q.map((qj, j) => corrected(corr, j, 1 - (1 - d.darkCountProbability) * Math.exp(-lambda * qj)));
          addIndependent(o, pj, a.weight);
        }
        const w = s.pMu[k]! * pb * 0.5;
        events[k]! += w * o.event;
        zClickEvents += w * o.zClick;
        multiClickEvents += w * o.multi;
        gain[key][k]! += w * (o.out[2 * basis]! + o.out[2 * basis + 1]!);
        errors[key][k]! += w * o.out[2 * basis + (value ^ 1)]!;
      }
    }
  }
  const stats = (b: Basis): BasisStatistics => {
    const g = gain[b];
    const e = errors[b];
    const q = (x: number, y: number) => (y > 0 ? x / y : 0);
    const gs = g[0]! + g[1]! + g[2]!;
    const es = e[0]! + e[1]! + e[2]!;
    return { gain: perClass(g), errors: perClass(e), qber: { signal: q(e[0]!, g[0]!), decoy: q(e[1]!, g[1]!), vacuum: q(e[2]!, g[2]!), all: q(es, gs) } };
  };
  return {
    distanceKm,
    channelTransmittance: channel,
    eta,
    deadSlots: corr.deadSlots,
    survival: { Z: corr.survival[0]!, X: corr.survival[2]! },
    afterpulseRate: { Z: corr.afterpulse[0]!, X: corr.afterpulse[2]! },
    events: { ...perClass(events), total: events[0]! + events[1]! + events[2]! },
    zClickEvents,
    multiClickEvents,
    sifted: { Z: stats('Z'), X: stats('X') },
    yields: { Z: fockYields(p, eta, corr, 0), X: fockYields(p, eta, corr, 1) },
  };
}

/** Yields of vacuum and single-photon pulses in one basis (averaged over the bit). */
function fockYields(p: LinkPhysics, eta: number, corr: Corrections, basis: number): FockYields {
  const d = p.detector;
  const pd = d.darkCountProbability;
  const f = p.interceptFraction ?? 0;
  let y0 = 0;
  let y1 = 0;
  let err1 = 0;
  for (let value = 0; value < 2; value++) {
    const dark = [0, 1, 2, 3].map((j) => corrected(corr, j, pd));
    const o0 = emptyOutcome();
    addIndependent(o0, dark, 1);
    // One photon: lost (only darks click), or reaches detector j (which clicks whatever its dark count does).
    const o1 = emptyOutcome();
    addIndependent(o1, dark, 1 - eta);
    for (const a of arrivals(basis, value, f)) {
      const q = shares(d, a);
      for (let j = 0; j < 4; j++) {
        if (q[j] === 0) continue;
        const pj = dark.map((x, i) => (i === j ? corrected(corr, i, 1) : x));
        addIndependent(o1, pj, eta * a.weight * q[j]!);
      }
    }
    y0 += 0.5 * (o0.out[2 * basis]! + o0.out[2 * basis + 1]!);
    y1 += 0.5 * (o1.out[2 * basis]! + o1.out[2 * basis + 1]!);
    err1 += 0.5 * o1.out[2 * basis + (value ^ 1)]!;
  }
  return { y0, y1, e1: y1 > 0 ? err1 / y1 : 0.5 };
}

export const CLASSES = CLASS_NAMES;
