/**
 * The shared channel model of an emulated link: the transmitter's random choices, the fibre, an
 * optional intercept-resend eavesdropper and the receiver's detectors. Both emulated boards build
 * the same model from the same seed, so the receiver's clicks and the transmitter's answers to
 * QUERY_SETTINGS agree slot by slot.
 *
 * Physics (per slot, decoy-state BB84 with a passive-basis receiver of four detectors):
 * - the transmitter picks intensity class k with probability pMu[k], basis Z with pZ, a uniform bit;
 *   the photon number is Poisson(mu[k]) (phase-randomised weak coherent pulse);
 * - each photon survives fibre and detector with eta = 10^(-alpha L / 10) * efficiency, so the
 *   detected photon number is Poisson(mu[k] * eta) (thinning of a Poisson variable);
 * - each detected photon takes the Z arm with probability pZ of the receiver's splitter; in the
 *   transmitter's basis it hits the correct detector with probability 1 - misalignment, in the
 *   other basis either detector with 1/2;
 * - each detector also clicks on its own with the dark-count probability per gate;
 * - a click makes the detector blind for the dead time, and with the after-pulse probability
 *   causes one more click after it, at a geometric delay past the dead time;
 * - an eavesdropper intercepting a fraction of the slots measures in a random basis and resends
 *   the same photon number in the state she found (so yields stay, errors rise to 25 %).
 *
 * Detections are drawn, not pulses, so a 1 GHz clock costs only what its detections cost. Per
 * slot the pair (class, "at least one photon detected") is drawn as: signal S ~ Bernoulli(ȳ) with
 * ȳ = Σ_k pMu_k y_k (y_k = 1 - e^(-mu_k eta)), then the class from P(k | S) = pMu_k y_k / ȳ, or
 * pMu_k (1 - y_k) / (1 - ȳ) when S = 0: the same joint law as class first, then S given the class,
 * and every slot's class still has law pMu. The signal slots come from geometric gaps of ȳ, chunk by
 * chunk of SIGNAL_CHUNK slots from a generator seeded by (seed, ȳ, chunk) (SignalProcess): the
 * receiver walks them as a stream, the transmitter finds any slot's S in its chunk and answers its
 * class from the matching cut. Dark counts (any detector, independent of the source) are their own
 * geometric process; dead time and after-pulses act on the merged clicks.
 */

export interface SourceSettings {
  readonly clockHz: number;
  /** Mean photon number per intensity class, signal first. */
  readonly mu: readonly number[];
  /** Probability of each class. */
  readonly pMu: readonly number[];
  /** Probability of the Z basis at the transmitter. */
  readonly pZ: number;
}

export interface FibreParams {
  readonly distanceKm: number;
  /** dB per km; 0.2 is standard single-mode fibre at 1550 nm. */
  readonly attenuationDbPerKm: number;
}

export interface DetectorParams {
  /** Detection efficiency including the receiver's internal loss. */
  readonly efficiency: number;
  /** Dark-count probability per gate, per detector. */
  readonly darkCountProbability: number;
  /** Probability that a click causes one after-pulse. */
  readonly afterpulseProbability: number;
  /** Mean delay of an after-pulse after the end of the dead time, ns. */
  readonly afterpulseDelayNs: number;
  readonly deadNs: number;
  /** Probability that a photon in the matching basis lands in the wrong detector. */
  readonly misalignment: number;
  /** Probability of the Z arm of the receiver's passive splitter. */
  readonly pZ: number;
}

export interface EveParams {
  /** Fraction of slots an intercept-resend eavesdropper attacks (0 = none). */
  readonly interceptFraction: number;
}

export interface ChannelParams {
  readonly seed: number;
  readonly source: SourceSettings;
  readonly fibre: FibreParams;
  readonly detector: DetectorParams;
  readonly eve: EveParams;
}

export const DEFAULT_SOURCE: SourceSettings = { clockHz: 1_000_000_000, mu: [0.5, 0.1, 0], pMu: [0.7, 0.2, 0.1], pZ: 0.9 };
export const DEFAULT_FIBRE: FibreParams = { distanceKm: 10, attenuationDbPerKm: 0.2 };
export const DEFAULT_DETECTOR: DetectorParams = {
  efficiency: 0.2,
  darkCountProbability: 1e-6,
  afterpulseProbability: 0.02,
  afterpulseDelayNs: 100,
  deadNs: 50,
  misalignment: 0.01,
  pZ: 0.9,
};
export const NO_EVE: EveParams = { interceptFraction: 0 };

/** The setting byte of SETTINGS (PROTOCOL.md 3.6): bit 0 value, bit 1 basis X, bits 2-3 class. */
export function settingByte(value: number, basis: number, cls: number): number {
  return value | (basis << 1) | (cls << 2);
}

/** lowbias32 (C. Wellons' hash prospector): a fast 32-bit mixer with good avalanche. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const TWO32 = 4294967296;

/** Counter-based random words for slot `slot` (any integer below 2^53) under `seed`. */
export function slotHash(seed: number, slot: number, stream: number): number {
  const lo = slot >>> 0;
  const hi = Math.floor(slot / TWO32) >>> 0;
  return mix32(lo ^ mix32(hi ^ mix32((seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0)));
}

/** sfc32 (Doty-Humphrey's small fast counting generator): the receiver's sequential randomness. */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  constructor(seed: number, stream = 0) {
    this.a = mix32(seed ^ 0x243f6a88);
    this.b = mix32(seed ^ 0x85a308d3 ^ stream);
    this.c = mix32(stream ^ 0x13198a2e);
    for (let i = 0; i < 12; i++) this.nextU32();
  }
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / TWO32;
  }
  /** Uniform in (0, 1]: safe for Math.log. */
  nextOpen(): number {
    return (this.nextU32() + 1) / TWO32;
  }
}

export interface ClassExpectation {
  /** Probability that the class is chosen. */
  readonly probability: number;
  /** Per-slot probability of at least one click, before dead time and after-pulses. */
  readonly clickProbability: number;
}

export class ChannelModel {
  readonly params: ChannelParams;
  /** Fibre transmittance times detector efficiency. */
  readonly eta: number;
  private readonly classThresholds: Uint32Array;
  private readonly zThreshold: number;
  private readonly eveThreshold: number;

  constructor(params: ChannelParams) {
    validate(params);
    this.params = params;
    const { fibre, detector, source, eve } = params;
    this.eta = 10 ** ((-fibre.attenuationDbPerKm * fibre.distanceKm) / 10) * detector.efficiency;
    // Class thresholds on a 32-bit word: class k when word < thresholds[k].
    this.classThresholds = new Uint32Array(source.pMu.length);
    let acc = 0;
    source.pMu.forEach((p, k) => {
      acc += p;
      this.classThresholds[k] = k === source.pMu.length - 1 ? 0xffffffff : Math.min(0xffffffff, Math.round(acc * TWO32));
    });
    this.zThreshold = Math.round(source.pZ * 0x80000000);
    this.eveThreshold = Math.round(eve.interceptFraction * TWO32);
  }

  private hiWord = -1;
  private hiMix1 = 0;
  private hiMix2 = 0;
  private signalProcess: SignalProcess | undefined;
  /** Class cuts given a signal slot (S = 1) and given none (S = 0), as classCuts for the plain law. */
  private cutsGiven: [Float64Array, Float64Array] | undefined;
  /** Which slots of chunk `bitsChunk` are signal slots, one bit each (the transmitter's random access). */
  private readonly bits = new Uint32Array(SIGNAL_CHUNK / 32);
  private readonly chunkList = new Int32Array(SIGNAL_CHUNK);
  private bitsChunk = -1;

  /** The slots with at least one detected photon while this model's source emits (see the header). */
  get signal(): SignalProcess {
    return (this.signalProcess ??= new SignalProcess(this.params.seed, this.meanSignalProbability()));
  }

  /** ȳ: the per-slot probability of at least one detected photon, over the classes. */
  meanSignalProbability(): number {
    const s = this.params.source;
    let y = 0;
    s.mu.forEach((m, k) => (y += s.pMu[k]! * this.signalProbability(m)));
    return Math.min(1, y);
  }

  /** Cuts on a 32-bit word for the class given S (index 1: a signal slot, 0: none), as classCuts. */
  conditionalCuts(): readonly [Float64Array, Float64Array] {
    if (!this.cutsGiven) {
      const s = this.params.source;
      const yBar = this.meanSignalProbability();
      const make = (weight: (k: number) => number, total: number): Float64Array => {
        const cuts = new Float64Array(3).fill(TWO32);
        let acc = 0;
        for (let k = 0; k < s.mu.length - 1; k++) {
          acc += total > 0 ? weight(k) / total : s.pMu[k]!;
          cuts[k] = Math.min(0xffffffff, Math.round(acc * TWO32));
        }
        return cuts;
      };
      const y = (k: number) => this.signalProbability(s.mu[k]!);
      this.cutsGiven = [make((k) => s.pMu[k]! * (1 - y(k)), 1 - yBar), make((k) => s.pMu[k]! * y(k), yBar)];
    }
    return this.cutsGiven;
  }

  /** The thresholds settingGiven and eveState compare hashes with (for the detection kernel, which hashes the same). */
  hashCuts(): { readonly signalCuts: Float64Array; readonly zThreshold: number; readonly eveThreshold: number } {
    return { signalCuts: this.conditionalCuts()[1], zThreshold: this.zThreshold, eveThreshold: this.eveThreshold };
  }

  /** Whether a slot of this model's source carries at least one detected photon (S of the header). */
  isSignal(slot: number): number {
    const chunk = Math.floor(slot / SIGNAL_CHUNK);
    if (chunk !== this.bitsChunk) {
      this.bitsChunk = chunk;
      const bits = this.bits;
      bits.fill(0);
      const list = this.chunkList;
      const n = this.signal.fill(chunk, list);
      for (let i = 0; i < n; i++) {
        const o = list[i]!;
        bits[o >>> 5] = bits[o >>> 5]! | (1 << (o & 31));
      }
    }
    const o = slot - chunk * SIGNAL_CHUNK;
    return (this.bits[o >>> 5]! >>> (o & 31)) & 1;
  }

  /** The transmitter's choice for a slot while it emits: SETTINGS byte (value, basis, class). */
  txSetting(slot: number): number {
    return this.settingGiven(slot, this.isSignal(slot));
  }

  /** The transmitter's choice for a slot whose S (1: at least one photon detected) is known. */
  settingGiven(slot: number, signal: number): number {
    // slotHash(seed, slot, 1 and 2), with the high word's mixing cached (it changes every 2^32 slots).
    const hi = Math.floor(slot / TWO32) >>> 0;
    if (hi !== this.hiWord) {
      this.hiWord = hi;
      const seed = this.params.seed;
      this.hiMix1 = mix32(hi ^ mix32((seed ^ Math.imul(1, 0x9e3779b9)) >>> 0));
      this.hiMix2 = mix32(hi ^ mix32((seed ^ Math.imul(2, 0x9e3779b9)) >>> 0));
    }
    const lo = slot >>> 0;
    const h1 = mix32(lo ^ this.hiMix1);
    const cuts = this.conditionalCuts()[signal]!;
    // The class is how many cuts h1 reaches (they increase); counted without branches, which a
    // random class would mispredict (this runs per queried slot and per detection).
    const k = +(h1 >= cuts[0]!) + +(h1 >= cuts[1]!) + +(h1 >= cuts[2]!);
    const h2 = mix32(lo ^ this.hiMix2);
    return settingByte(h2 & 1, +(h2 >>> 1 >= this.zThreshold), k);
  }

  /** Whether the eavesdropper attacks this slot, and the state she resends (basis << 1 | value). */
  eveState(slot: number, basis: number, value: number): number {
    if (this.eveThreshold === 0) return -1;
    const h = slotHash(this.params.seed, slot, 3);
    if (h >= this.eveThreshold) return -1;
    const h4 = slotHash(this.params.seed, slot, 4);
    const eb = h4 & 1;
    const ev = eb === basis ? value : (h4 >>> 1) & 1;
    return (eb << 1) | ev;
  }

  /** Per-slot probability of at least one detected photon for mean photon number mu. */
  signalProbability(mu: number): number {
    return -Math.expm1(-mu * this.eta);
  }

  /** Per-slot probability of at least one click in class k (or of a dark count only, k = -1). */
  clickProbability(k: number): number {
    const pd = this.params.detector.darkCountProbability;
    const noDark = (1 - pd) ** 4;
    const ys = k < 0 ? 0 : this.signalProbability(this.params.source.mu[k]!);
    return 1 - (1 - ys) * noDark;
  }

  /** The class probabilities the hash actually realises (pMu rounded to 2^-32). */
  realisedClassProbabilities(): number[] {
    const out: number[] = [];
    let prev = 0;
    for (const t of this.classThresholds) {
      out.push((t - prev + (t === 0xffffffff ? 1 : 0)) / TWO32);
      prev = t;
    }
    return out;
  }

  classExpectations(): ClassExpectation[] {
    const pr = this.realisedClassProbabilities();
    return pr.map((probability, k) => ({ probability, clickProbability: this.clickProbability(k) }));
  }

  /**
   * Expected number of events (slots with at least one reported click) over `slots` slots of an
   * emitting source, per intensity class. Dead time and after-pulses are folded in to first
   * order: each detector's click rate c becomes c / (1 + c D) for D dead slots (non-paralysable),
   * and after-pulses add a fraction p / (1 - p) of surviving clicks. Exact when both are off.
   */
  expectedEvents(slots: number, clockHz: number): { total: number; perClass: number[] } {
    const d = this.params.detector;
    const cls = this.classExpectations();
    const deadSlots = Math.ceil((d.deadNs * clockHz) / 1e9);
    const raw = cls.map((c) => c.probability * c.clickProbability);
    const rawTotal = raw.reduce((a, b) => a + b, 0);
    const ap = d.afterpulseProbability;
    const apGain = 1 + ap / (1 - ap);
    // Share of clicks per detector: the splitter ratio of the receiver, bits uniform.
    const share = [d.pZ / 2, d.pZ / 2, (1 - d.pZ) / 2, (1 - d.pZ) / 2];
    let surviving = 0;
    let survivingWithAp = 0;
    for (const s of share) {
      const c = rawTotal * s;
      surviving += c / (1 + c * deadSlots);
      const ca = c * apGain;
      survivingWithAp += ca / (1 + ca * deadSlots);
    }
    const deadFactor = rawTotal > 0 ? surviving / rawTotal : 1;
    const total = survivingWithAp * slots;
    // After-pulses land in later slots whatever their class: they spread over classes by pMu.
    const afterpulses = Math.max(0, total - rawTotal * slots * deadFactor);
    const perClass = raw.map((r, k) => r * slots * deadFactor + afterpulses * cls[k]!.probability);
    return { total, perClass };
  }

  /** Expected quantum bit error rate in the Z basis from misalignment, darks and the eavesdropper. */
  expectedQberZ(): number {
    const d = this.params.detector;
    const signal = this.signalProbability(this.params.source.mu[0]!);
    const dark = d.darkCountProbability * 2;
    const f = this.params.eve.interceptFraction;
    const err = signal * ((1 - f) * d.misalignment + f * (0.25 + 0.5 * d.misalignment)) + dark / 2;
    return err / (signal + dark);
  }
}

function validate(p: ChannelParams): void {
  const { source: s, detector: d, fibre: f, eve: e } = p;
  const prob = (v: number, what: string) => {
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${what} = ${v}: expected a probability`);
  };
  if (!(s.clockHz > 0)) throw new RangeError(`clockHz = ${s.clockHz}`);
  if (s.mu.length === 0 || s.mu.length !== s.pMu.length || s.mu.length > 4) throw new RangeError('mu and pMu need 1-4 classes of equal length');
  s.mu.forEach((m, k) => {
    if (!(m >= 0 && m <= 10)) throw new RangeError(`mu[${k}] = ${m}`);
  });
  s.pMu.forEach((v, k) => prob(v, `pMu[${k}]`));
  if (Math.abs(s.pMu.reduce((a, b) => a + b, 0) - 1) > 1e-9) throw new RangeError(`pMu sums to ${s.pMu.reduce((a, b) => a + b, 0)}, not 1`);
  prob(s.pZ, 'source pZ');
  prob(d.pZ, 'detector pZ');
  prob(d.efficiency, 'efficiency');
  prob(d.darkCountProbability, 'darkCountProbability');
  prob(d.afterpulseProbability, 'afterpulseProbability');
  if (d.afterpulseProbability >= 1) throw new RangeError('afterpulseProbability must be below 1');
  prob(d.misalignment, 'misalignment');
  prob(e.interceptFraction, 'interceptFraction');
  if (!(d.deadNs >= 0) || !(d.afterpulseDelayNs >= 0)) throw new RangeError('deadNs and afterpulseDelayNs must be >= 0');
  if (!(f.distanceKm >= 0) || !(f.attenuationDbPerKm >= 0)) throw new RangeError('distance and attenuation must be >= 0');
}

/** Gap table buckets: the top 32 - GAP_SHIFT bits of a random word. */
const GAP_SHIFT = 20;
/** Entries of the gap table (the top 32 - GAP_SHIFT bits of a word index it). */
export const GAP_ENTRIES = 2 ** (32 - GAP_SHIFT);
/** Slots per chunk of a signal process: each chunk's signal slots come from a generator of their own. */
export const SIGNAL_CHUNK = 65536;

/** Where the transmitter was emitting, as the receiver learns it through the fibre. */
export interface EmissionInterval {
  readonly from: number;
  /** Exclusive; Infinity while still emitting. */
  readonly to: number;
  readonly source: SourceSettings;
}

/**
 * Geometric gaps by table: floor(log(u) / log(1 - p)) for u = (k + 1) / 2^32 is monotone in
 * k, so wherever both ends of a bucket of k give the same gap every k inside does too; the
 * table holds it (-1 where they differ, then the log is taken). Same values as the formula, a
 * fraction of the cost.
 */
export function fillGapTable(t: Int32Array, logQ: number): void {
  const width = 2 ** GAP_SHIFT;
  for (let b = 0; b < t.length; b++) {
    const lo = Math.floor(Math.log((b * width + 1) / TWO32) / logQ);
    const hi = Math.floor(Math.log(((b + 1) * width) / TWO32) / logQ);
    t[b] = lo === hi && lo < 2 ** 31 ? lo : -1;
  }
}

const F64 = new Float64Array(1);
const F64_WORDS = new Uint32Array(F64.buffer);

/**
 * The signal slots of one source over one fibre (S = 1: at least one photon detected, before
 * dead time): Bernoulli(ȳ) per slot, drawn chunk by chunk as geometric gaps from an Sfc32 seeded
 * by the model's seed, ȳ and the chunk. Random access by chunk for the transmitter, a stream for
 * the receiver (and its WASM kernel, which seeds and draws the same): the same slots for both.
 */
export class SignalProcess {
  /** Mixes ȳ into the chunk seeds: sources of other ȳ draw independent slots. */
  readonly key: number;
  readonly logQ: number;
  readonly gapTable = new Int32Array(GAP_ENTRIES);

  constructor(
    readonly seed: number,
    readonly yBar: number,
  ) {
    F64[0] = yBar;
    this.key = mix32(F64_WORDS[0]! ^ mix32(F64_WORDS[1]! ^ 0x5157_4e4c));
    this.logQ = Math.log1p(-yBar);
    if (yBar > 0 && yBar < 1) fillGapTable(this.gapTable, this.logQ);
  }

  /** The generator's seed and stream for a chunk (Sfc32 arguments). */
  chunkSeed(chunk: number): [number, number] {
    return [(this.seed ^ this.key) >>> 0, mix32((chunk >>> 0) ^ mix32(Math.floor(chunk / TWO32) ^ 0x2545f491))];
  }

  /** The offsets in chunk `chunk` of its signal slots, increasing, into out; returns how many. */
  fill(chunk: number, out: Int32Array): number {
    if (this.yBar <= 0) return 0;
    const [seed, stream] = this.chunkSeed(chunk);
    const rng = new Sfc32(seed, stream);
    let n = 0;
    let at = this.gap(rng);
    while (at < SIGNAL_CHUNK) {
      out[n++] = at;
      at += 1 + this.gap(rng);
    }
    return n;
  }

  private gap(rng: Sfc32): number {
    if (this.yBar >= 1) return 0;
    const k = rng.nextU32();
    const g = this.gapTable[k >>> GAP_SHIFT]!;
    return g >= 0 ? g : Math.floor(Math.log((k + 1) / TWO32) / this.logQ);
  }
}

/** Per intensity class of a source: mean detected photons, and P(exactly one | at least one). */
export interface ClassTables {
  readonly meanDetected: Float64Array;
  readonly pOne: Float64Array;
}

export function classTables(model: ChannelModel, source: SourceSettings): ClassTables {
  const n = source.mu.length;
  const t = { meanDetected: new Float64Array(n), pOne: new Float64Array(n) };
  for (let k = 0; k < n; k++) {
    const lambda = source.mu[k]! * model.eta;
    t.meanDetected[k] = lambda;
    t.pOne[k] = lambda > 0 ? (lambda * Math.exp(-lambda)) / -Math.expm1(-lambda) : 1;
  }
  return t;
}

/** P(at least one of the four detectors has a dark count), and P(the first dark one is j | one), cumulative. */
export function darkCounts(d: DetectorParams): { pAnyDark: number; darkFirst: Float64Array } {
  const pd = d.darkCountProbability;
  const pAnyDark = 1 - (1 - pd) ** 4;
  const darkFirst = new Float64Array(4);
  let acc = 0;
  for (let j = 0; j < 4; j++) {
    acc += ((1 - pd) ** j * pd) / (pAnyDark || 1);
    darkFirst[j] = acc;
  }
  return { pAnyDark, darkFirst };
}

/**
 * A detected photon's uniform u picks the Z arm when u < pZ; then, per arm (Z: 0, 1; X: 2, 3),
 * the cut below which it lands in the wrong detector of the matching basis (misalignment) and
 * the cut below which it lands in detector 0 of the other basis (1/2): u rescaled within the
 * arm, compared without a division.
 */
export function photonCuts(d: DetectorParams): Float64Array {
  const { pZ, misalignment: m } = d;
  return Float64Array.of(pZ * m, pZ * 0.5, pZ + (1 - pZ) * m, pZ + (1 - pZ) * 0.5);
}

/** The emission interval covering a slot, or undefined when the source was dark. */
export function emissionAt(e: readonly EmissionInterval[], slot: number): EmissionInterval | undefined {
  for (let i = e.length - 1; i >= 0; i--) {
    const x = e[i]!;
    if (slot >= x.from) return slot < x.to ? x : undefined;
  }
  return undefined;
}

/** Where the slot range from `slot` on stops being what it is at `slot`: the end of its emission, or the next one's start. */
export function emissionStop(e: readonly EmissionInterval[], slot: number): number {
  const at = emissionAt(e, slot);
  if (at) return at.to;
  for (const x of e) if (x.from > slot) return x.from;
  return Infinity;
}

/** The transmitter's model of a source (its class cuts, its signal process), kept per source key. */
export class TransmitterModels {
  private readonly models = new Map<string, ChannelModel>();
  constructor(private readonly model: ChannelModel) {}
  of(source: SourceSettings): ChannelModel {
    const key = `${source.mu.join(',')}|${source.pMu.join(',')}|${source.pZ}`;
    let tx = this.models.get(key);
    if (!tx) {
      if (this.models.size >= 16) this.models.clear();
      this.models.set(key, (tx = new ChannelModel({ ...this.model.params, source })));
    }
    return tx;
  }
}

/**
 * Draws the receiver's clicks slot range by slot range. Stateful (dead time, pending after-pulses,
 * where the signal and dark processes stand), so consecutive calls continue one physical stream;
 * the same seed and start slot give the same events however the ranges are cut.
 */
export class DetectionGenerator {
  private readonly rng: Sfc32;
  private readonly deadUntil = new Float64Array(4).fill(-1);
  /** The latest slot any detector is dead until (skips the per-detector check when past it). */
  private deadMax = -1;
  /** Pending after-pulses: slot and detector, kept sorted by slot (few at a time). */
  private apSlots: number[] = [];
  private apDets: number[] = [];
  private readonly deadSlots: number;
  private readonly apMeanSlots: number;
  /** The next slot not yet drawn. */
  private cursor: number;
  private readonly txModels: TransmitterModels;
  /** The emission the cursor is in (its transmitter model and tables), until `segmentEnd`. */
  private tx: ChannelModel | undefined;
  private segmentStart = 0;
  private segmentEnd = -1;
  private tables: ClassTables = { meanDetected: new Float64Array(0), pOne: new Float64Array(0) };
  /** The signal slots of chunk `chunk` under `chunkOf`'s process, and the next one not yet drawn. */
  private readonly list = new Int32Array(SIGNAL_CHUNK);
  private listN = 0;
  private listAt = 0;
  private chunk = -1;
  private chunkOf: SignalProcess | undefined;
  /** Surviving clicks until the next one with an after-pulse; the next slot with a dark count. */
  private apSkip: number;
  private nextDark: number;
  private readonly pAnyDark: number;
  private readonly darkFirst: Float64Array;
  private readonly photonCuts: Float64Array;

  constructor(
    private readonly model: ChannelModel,
    startSlot: number,
    clockHz: number,
    private emissions: readonly EmissionInterval[],
    runSeed: number,
  ) {
    const d = model.params.detector;
    this.photonCuts = photonCuts(d);
    this.rng = new Sfc32(model.params.seed ^ mix32(runSeed), mix32(startSlot >>> 0) ^ Math.floor(startSlot / TWO32));
    this.deadSlots = Math.ceil((d.deadNs * clockHz) / 1e9);
    this.apMeanSlots = Math.max(1, (d.afterpulseDelayNs * clockHz) / 1e9);
    this.cursor = startSlot;
    this.txModels = new TransmitterModels(model);
    ({ pAnyDark: this.pAnyDark, darkFirst: this.darkFirst } = darkCounts(d));
    this.nextDark = startSlot + this.geometric(this.pAnyDark);
    this.apSkip = this.geometric(d.afterpulseProbability);
  }

  /** The fibre reports a change of the transmitter's emission (START, STOP, new configuration). */
  setEmissions(emissions: readonly EmissionInterval[]): void {
    this.emissions = emissions;
    this.segmentEnd = -1;
  }

  /** The emission at the cursor: its transmitter model and tables, and where it ends. */
  private segment(): void {
    const at = this.cursor;
    const e = emissionAt(this.emissions, at);
    this.segmentStart = at;
    this.segmentEnd = emissionStop(this.emissions, at);
    this.tx = e ? this.txModels.of(e.source) : undefined;
    if (this.tx) this.tables = classTables(this.model, this.tx.params.source);
  }

  /** The next signal slot in [cursor, limit), or Infinity. */
  private nextSignal(limit: number): number {
    let from = this.cursor;
    while (from < limit) {
      if (from >= this.segmentEnd || from < this.segmentStart) {
        this.cursor = from;
        this.segment();
      }
      const tx = this.tx;
      const chunk = Math.floor(from / SIGNAL_CHUNK);
      const base = chunk * SIGNAL_CHUNK;
      const stop = Math.min(this.segmentEnd, base + SIGNAL_CHUNK, limit);
      if (tx) {
        const process = tx.signal;
        if (chunk !== this.chunk || process !== this.chunkOf) {
          this.chunk = chunk;
          this.chunkOf = process;
          this.listN = process.fill(chunk, this.list);
          this.listAt = 0;
        }
        const list = this.list;
        while (this.listAt < this.listN && base + list[this.listAt]! < from) this.listAt++;
        if (this.listAt < this.listN && base + list[this.listAt]! < stop) return base + list[this.listAt]!;
      }
      from = stop;
    }
    return Infinity;
  }

  /**
   * Appends the events of slots [current, end) to slots/masks from index `n`, stopping early
   * after `maxEvents` events in total. Returns the new count and the slot where it stopped
   * (end, or one past the last event when full).
   */
  generate(end: number, slots: Float64Array, masks: Uint8Array, n: number, maxEvents: number): { n: number; stoppedAt: number } {
    const rng = this.rng;
    const d = this.model.params.detector;
    const dead = this.deadUntil;
    while (n < maxEvents) {
      const ap = this.apSlots.length > 0 ? this.apSlots[0]! : Infinity;
      // A signal slot may share its slot with a dark count or an after-pulse: look one past them.
      const sig = this.nextSignal(Math.min(end, Math.min(ap, this.nextDark) + 1));
      const s = Math.min(sig, ap, this.nextDark);
      if (s >= end) {
        this.cursor = end;
        return { n, stoppedAt: end };
      }
      let mask = 0;
      if (s === ap) {
        // After-pulses due in this slot (their detectors must be live again).
        while (this.apSlots.length > 0 && this.apSlots[0] === s) {
          this.apSlots.shift();
          const j = this.apDets.shift()!;
          if (s > dead[j]!) mask |= 1 << j;
        }
      }
      if (s === sig) {
        const st = this.tx!.settingGiven(s, 1);
        mask |= this.photons(s, (st >> 2) & 3, (st >> 1) & 1, st & 1);
        this.listAt++;
      }
      if (s === this.nextDark) {
        mask |= this.darkMask();
        this.nextDark = s + 1 + this.geometric(this.pAnyDark);
      }
      this.cursor = s + 1;
      // Dead detectors see nothing.
      if (s <= this.deadMax) for (let j = 0; j < 4; j++) if (mask & (1 << j) && s <= dead[j]!) mask &= ~(1 << j);
      if (mask === 0) continue;
      for (let j = 0; j < 4; j++) {
        if (!(mask & (1 << j))) continue;
        dead[j] = s + this.deadSlots;
        this.deadMax = s + this.deadSlots;
        if (this.apSkip-- === 0) {
          this.apSkip = this.geometric(d.afterpulseProbability);
          const delay = Math.floor(Math.log(rng.nextOpen()) / Math.log1p(-1 / (this.apMeanSlots + 1)));
          this.scheduleAfterpulse(s + this.deadSlots + 1 + delay, j);
        }
      }
      slots[n] = s;
      masks[n] = mask;
      n++;
    }
    const last = n > 0 ? slots[n - 1]! + 1 : end;
    this.cursor = Math.min(end, last);
    return { n, stoppedAt: this.cursor };
  }

  private scheduleAfterpulse(slot: number, det: number): void {
    let i = this.apSlots.length;
    while (i > 0 && this.apSlots[i - 1]! > slot) i--;
    this.apSlots.splice(i, 0, slot);
    this.apDets.splice(i, 0, det);
  }

  /** Detectors the photons of a signal slot (class cls, the transmitter's basis and value) hit. */
  private photons(slot: number, cls: number, basis: number, value: number): number {
    const rng = this.rng;
    const d = this.model.params.detector;
    const eve = this.model.eveState(slot, basis, value);
    if (eve >= 0) {
      basis = eve >> 1;
      value = eve & 1;
    }
    const m = this.truncatedPoisson(this.tables.meanDetected[cls]!, this.tables.pOne[cls]!, rng.next());
    const pZ = d.pZ;
    const cuts = this.photonCuts;
    let mask = 0;
    for (let i = 0; i < m; i++) {
      // One uniform picks the arm and, against the arm's cuts, the detector in it: in the photon's
      // basis the right one unless misaligned, in the other either at 1/2.
      const a = rng.next();
      const arm = a < pZ ? 0 : 1;
      const out = arm === basis ? (a < cuts[2 * arm]! ? value ^ 1 : value) : a < cuts[2 * arm + 1]! ? 0 : 1;
      mask |= 1 << ((arm << 1) | out);
    }
    return mask;
  }

  /**
   * Trials to skip before the next success of a Bernoulli(p) sequence (failures before it),
   * drawn once per success instead of a random number per trial: the after-pulse of a click
   * (p about 1 %) and a slot with a dark count (p about 4e-6) are rare.
   */
  private geometric(p: number): number {
    if (p <= 0) return Infinity;
    if (p >= 1) return 0;
    return Math.floor(Math.log(this.rng.nextOpen()) / Math.log1p(-p));
  }

  /** Dark clicks given at least one: the first dark detector, then each later one independently. */
  private darkMask(): number {
    const rng = this.rng;
    const u = rng.next();
    let j = 0;
    while (j < 3 && u >= this.darkFirst[j]!) j++;
    let mask = 1 << j;
    const pd = this.model.params.detector.darkCountProbability;
    for (let i = j + 1; i < 4; i++) if (rng.next() < pd) mask |= 1 << i;
    return mask;
  }

  /** Poisson(lambda) conditioned on at least 1, by inversion of uniform u0; P(1 | >= 1) is cached per class. */
  private truncatedPoisson(lambda: number, pOne: number, u0: number): number {
    if (lambda <= 0) return 1;
    if (u0 < pOne) return 1;
    const u = u0 * -Math.expm1(-lambda);
    let k = 1;
    let p = lambda * Math.exp(-lambda);
    let c = p;
    while (u > c && k < 50) {
      k++;
      p *= lambda / k;
      c += p;
    }
    return k;
  }
}
