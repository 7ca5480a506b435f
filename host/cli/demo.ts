/**
 * `npm start`: the demo of what qkdn-edge does today: the post-processing pipeline of one QKD link
 * over simulated decoy-state BB84 detections, with a progress display and a report of what each
 * stage did. The detections are drawn from the per-class rates of the project's one fibre and
 * detector model (host/qkd-link/model/physics.ts, the emulator's physics), so no board runs here. Error correction is the real LDPC reconciliation (blind
 * rounds included), run in-process with both ends' frames; its measured leak enters the finite-key
 * length.
 */
import { SingleBar, Presets } from 'cli-progress';
import { Sifter, encodeSetting, encodeEventFlags, INTENSITY_CLASSES, type EventSiftResult, type IntensityClass, type Basis } from '../qkd-link/kernels/sift.js';
import { PrivacyAmplifier, toeplitzSeedBits } from '../qkd-link/kernels/pa.js';
import { ErrorVerifier, verificationKeyCount } from '../qkd-link/kernels/verify.js';
import { finiteKeyLength, type DecoySource, type FiniteKeyResult, type PerClass } from '../qkd-link/estimation/finite-key.js';
import { expectedStatistics, type LinkPhysics } from '../qkd-link/model/physics.js';
import { estimateQber, serflingDelta, binaryEntropy, type QberEstimate } from '../qkd-link/estimation/statistics.js';
import { countBitErrors, qberPerClass } from '../qkd-link/estimation/disclosed.js';
import { CodeFamily } from '../qkd-link/reconciliation/codebook.js';
import { reconcileLocal, type FrameReport } from '../qkd-link/reconciliation/reconcile.js';
import { packBits, unpackBits } from '../qkd-link/session/packing.js';

export interface DemoOptions {
  readonly blocks: number;
  readonly seed: number;
  /** Detections simulated per block (default: about 2^22 key-basis bits after sifting). */
  readonly detections?: number;
  /** Where the report goes (default: stdout); the progress bar goes to stderr. */
  readonly output?: { write(text: string): unknown };
}

/** The simulated link: 25 km of standard fibre, superconducting detectors. */
const SOURCE: DecoySource = { intensities: { signal: 0.6, decoy: 0.2, vacuum: 2e-4 }, probabilities: { signal: 0.5, decoy: 0.35, vacuum: 0.15 } };
/** Both ends pick the key basis (Z) with this probability; X is the test basis. */
const Q_KEY = 0.75;
/** The simulated link: 25 km of standard fibre, superconducting detectors, in the model's terms. */
const DISTANCE_KM = 25;
const PHYSICS: LinkPhysics = {
  source: { clockHz: 100_000_000, mu: [SOURCE.intensities.signal, SOURCE.intensities.decoy, SOURCE.intensities.vacuum], pMu: [SOURCE.probabilities.signal, SOURCE.probabilities.decoy, SOURCE.probabilities.vacuum], pZ: Q_KEY },
  detector: { efficiency: 0.6, darkCountProbability: 1e-7, afterpulseProbability: 0.005, afterpulseDelayNs: 100, deadNs: 10, misalignment: 0.01, pZ: Q_KEY },
  attenuationDbPerKm: 0.2,
};
const EPS_SEC = 1e-10;
const EPS_COR = 1e-15;
/** Fraction of key-basis bits disclosed to estimate the key-basis QBER (removed from the key). */
const KEY_SAMPLE = 0.02;
/** Detections simulated per block: about 2^22 key-basis bits after sifting. */
const DETECTIONS = Math.round(2 ** 22 / (Q_KEY * Q_KEY));

/** mulberry32: a small deterministic source for the simulation. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Detections {
  /** The transmitter's answer for the detected slots, in announcement order (encodeSetting). */
  readonly answer: Uint8Array;
  /** Position of each event's slot in the answer (the board answers in the order asked). */
  readonly slots: Uint32Array;
  /** The receiver's events (encodeEventFlags). */
  readonly flags: Uint8Array;
  /** Pulses sent, and the last slot index, for the report. */
  readonly pulses: number;
}

/** Simulates `count` detections: geometric gaps between detected slots, class and bits per event. */
async function simulate(count: number, next: () => number, tick: (done: number) => void): Promise<Detections> {
  const classes = INTENSITY_CLASSES;
  const model = expectedStatistics(PHYSICS, DISTANCE_KM);
  // Events per pulse of the model, and the error rate of basis-matching events per class and basis.
  const perPulse = model.events.total;
  const qber = (cls: number, basis: Basis) => model.sifted[basis].qber[classes[cls]!];
  // P(class | event), cumulative.
  const cum: number[] = [];
  classes.reduce((s, c, i) => (cum[i] = s + model.events[c] / perPulse), 0);
  const answer = new Uint8Array(count);
  const slots = new Uint32Array(count);
  const flags = new Uint8Array(count);
  const logMiss = Math.log(1 - perPulse);
  let slot = 0;
  const chunk = 1 << 18;
  for (let i = 0; i < count; i++) {
    slot += 1 + Math.floor(Math.log(1 - next()) / logMiss);
    const u = next();
    const cls = u < cum[0]! ? 0 : u < cum[1]! ? 1 : 2;
    const aBasis: Basis = next() < Q_KEY ? 'Z' : 'X';
    const bBasis: Basis = next() < Q_KEY ? 'Z' : 'X';
    const value = next() < 0.5 ? 0 : 1;
    const seen = aBasis === bBasis ? (next() < qber(cls, aBasis) ? value ^ 1 : value) : next() < 0.5 ? 0 : 1;
    answer[i] = encodeSetting(value, aBasis, classes[cls]!);
    slots[i] = i;
    flags[i] = encodeEventFlags(seen as 0 | 1, bBasis);
    if ((i + 1) % chunk === 0) {
      tick(i + 1);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return { answer, slots, flags, pulses: slot };
}

/** Concatenates the key-basis streams of all classes (both ends use the same order). */
function keyString(r: EventSiftResult, basis: Basis): { bits: Uint8Array; length: number } {
  const total = INTENSITY_CLASSES.reduce((s, c) => s + r.streams[c][basis].length, 0);
  const out = new Uint8Array(Math.ceil(total / 8));
  let at = 0;
  for (const c of INTENSITY_CLASSES) {
    const s = r.streams[c][basis];
    for (let i = 0; i < s.length; i++, at++) if ((s.bits[i >> 3]! >> (i & 7)) & 1) out[at >> 3]! |= 1 << (at & 7);
  }
  return { bits: out, length: total };
}

/** Splits off a random sample (positions drawn with `next`) for disclosure; returns both parts. */
function splitSample(bits: Uint8Array, length: number, isSample: Uint8Array): { kept: Uint8Array; keptLength: number; sample: Uint8Array; sampleLength: number } {
  const kept = new Uint8Array(Math.ceil(length / 8));
  const sample = new Uint8Array(Math.ceil(length / 8));
  let k = 0;
  let s = 0;
  for (let i = 0; i < length; i++) {
    const b = (bits[i >> 3]! >> (i & 7)) & 1;
    if (isSample[i]) {
      if (b) sample[s >> 3]! |= 1 << (s & 7);
      s++;
    } else {
      if (b) kept[k >> 3]! |= 1 << (k & 7);
      k++;
    }
  }
  return { kept: kept.slice(0, Math.ceil(k / 8)), keptLength: k, sample: sample.slice(0, Math.ceil(s / 8)), sampleLength: s };
}

interface BlockReport {
  detections: number;
  pulses: number;
  sift: EventSiftResult;
  testQber: Record<IntensityClass, QberEstimate>;
  keySample: QberEstimate;
  keyQberUpper: number;
  keyBits: number;
  ec: ReconcileSummary;
  tagBits: number;
  finite: FiniteKeyResult;
  tagsEqual: boolean;
  residualErrors: number;
  paMs: number;
  keysMatch: boolean;
  secret: number;
  ms: Record<string, number>;
}

interface ReconcileSummary {
  readonly frames: number;
  readonly failed: number;
  readonly frameKeyBits: number;
  readonly leak: number;
  readonly efficiency: number;
  readonly rounds: number;
  readonly ms: number;
}

/** Concatenates frames (one bit per byte) into one packed string. */
function pack(frames: readonly Uint8Array[]): { bits: Uint8Array; length: number } {
  const all = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
  frames.reduce((at, f) => (all.set(f, at), at + f.length), 0);
  return { bits: packBits(all), length: all.length };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (x: number, d = 2) => `${(100 * x).toFixed(d)} %`;

export async function runDemo(opts: DemoOptions): Promise<number> {
  const blocks = Number.isSafeInteger(opts.blocks) && opts.blocks > 0 ? opts.blocks : 4;
  const next = rng(Math.imul(opts.seed | 0, 0x9e3779b9) ^ 0x5bd1e995);
  const sifter = new Sifter();
  const verifier = new ErrorVerifier();
  const pa = new PrivacyAmplifier();
  const family = CodeFamily.load();
  const out = opts.output ?? process.stdout;
  const detections = opts.detections !== undefined && Number.isSafeInteger(opts.detections) && opts.detections > 0 ? opts.detections : DETECTIONS;
  out.write(`qkdn-edge demo: decoy-state BB84 post-processing over a simulated link (kernels: ${pa.target})\n`);
  const d = PHYSICS.detector;
  out.write(`  link      ${DISTANCE_KM} km fibre at ${PHYSICS.attenuationDbPerKm} dB/km, detectors η = ${d.efficiency}, dark ${d.darkCountProbability}, afterpulse ${d.afterpulseProbability}, dead ${d.deadNs} ns, misalignment ${pct(d.misalignment, 1)}\n`);
  out.write(`  source    μ signal/decoy/vacuum = ${SOURCE.intensities.signal}/${SOURCE.intensities.decoy}/${SOURCE.intensities.vacuum}, p = ${SOURCE.probabilities.signal}/${SOURCE.probabilities.decoy}/${SOURCE.probabilities.vacuum}, key basis Z with p = ${Q_KEY}\n`);
  out.write(`  security  ε_sec = ${EPS_SEC}, ε_cor = ${EPS_COR} (finite-key length: Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307, 2014, Eq. (3) as printed)\n\n`);

  const bar = new SingleBar({ format: '  {stage} [{bar}] block {block}/{blocks}', hideCursor: true, clearOnComplete: true, stream: process.stderr }, Presets.shades_classic);
  const steps = 6;
  bar.start(blocks * steps, 0, { stage: 'simulate ', block: 1, blocks });
  const reports: BlockReport[] = [];
  for (let b = 0; b < blocks; b++) {
    const ms: Record<string, number> = {};
    const timed = async <T>(stage: string, fn: () => T | Promise<T>): Promise<T> => {
      bar.update(b * steps + Object.keys(ms).length, { stage: stage.padEnd(9), block: b + 1, blocks });
      const t0 = performance.now();
      const r = await fn();
      ms[stage] = performance.now() - t0;
      await new Promise((resolve) => setImmediate(resolve));
      return r;
    };
    const det = await timed('simulate', () => simulate(detections, next, () => bar.update(b * steps, { stage: 'simulate ', block: b + 1, blocks })));
    // Each end sifts its own values: the receiver with its detections, the transmitter with its answer.
    const { bob, alice } = await timed('sift', () => ({
      bob: sifter.siftEvents(det.answer, det.slots, det.flags, 'receiver'),
      alice: sifter.siftEvents(det.answer, det.slots, det.flags, 'transmitter'),
    }));
    const est = await timed('estimate', () => {
      // Test basis: every sifted X bit is disclosed; errors per intensity class.
      const testQber = qberPerClass(bob.streams, alice.streams, 'X', EPS_SEC / 21);
      const errors = { signal: testQber.signal.errors, decoy: testQber.decoy.errors, vacuum: testQber.vacuum.errors };
      // Key basis: a random sample is disclosed; Serfling bounds the rest.
      const ak = keyString(alice, 'Z');
      const bk = keyString(bob, 'Z');
      const isSample = Uint8Array.from({ length: ak.length }, () => (next() < KEY_SAMPLE ? 1 : 0));
      const as = splitSample(ak.bits, ak.length, isSample);
      const bs = splitSample(bk.bits, bk.length, isSample);
      const keySample = estimateQber(countBitErrors(as.sample, bs.sample, as.sampleLength), as.sampleLength, EPS_SEC / 21);
      const keyQberUpper = Math.min(0.5, keySample.qber + serflingDelta(as.keptLength, as.sampleLength, EPS_SEC / 21));
      // The sampled key bits are disclosed and leave the key. The key string is the signal, decoy
      // and vacuum streams in that order: record where each class starts in what is kept.
      const classStart = {} as Record<IntensityClass, number>;
      let from = 0;
      let keptAt = 0;
      for (const c of INTENSITY_CLASSES) {
        classStart[c] = keptAt;
        const len = alice.streams[c].Z.length;
        let sampled = 0;
        for (let i = from; i < from + len; i++) sampled += isSample[i]!;
        keptAt += len - sampled;
        from += len;
      }
      return { testQber, errors, keySample, keyQberUpper, classStart, alice: as, bob: bs };
    });
    // Error correction on whole LDPC frames of the kept key; a frame that fails is dropped at both ends.
    const rec = await timed('reconcile', () => {
      const t0 = performance.now();
      const k = family.plan(est.keySample.qber).keyLength;
      const frames = Math.floor(est.alice.keptLength / k);
      const aliceBits = unpackBits(est.alice.kept, est.alice.keptLength, 'Alice kept key');
      const bobBits = unpackBits(est.bob.kept, est.bob.keptLength, 'Bob kept key');
      const aliceFrames = Array.from({ length: frames }, (_, i) => aliceBits.slice(i * k, (i + 1) * k));
      const bobFrames = Array.from({ length: frames }, (_, i) => bobBits.slice(i * k, (i + 1) * k));
      const reports: FrameReport[] = reconcileLocal(family, est.keySample.qber, aliceFrames, bobFrames, next);
      const ok = reports.filter((r) => r.ok);
      const leak = ok.reduce((a, r) => a + r.leak, 0);
      const ecLeak = ok.reduce((a, r) => a + r.ecLeak, 0);
      const kh = ok.reduce((a, r) => a + r.keyLength, 0) * binaryEntropy(est.keySample.qber);
      const summary: ReconcileSummary = {
        frames,
        failed: reports.length - ok.length,
        frameKeyBits: k,
        leak,
        efficiency: kh > 0 ? ecLeak / kh : Number.NaN,
        rounds: reports.reduce((a, r) => a + r.rounds, 0) / Math.max(1, reports.length),
        ms: performance.now() - t0,
      };
      // Key bits per intensity class that are in the frames that decoded (for the decoy bounds).
      const perClassKept = { signal: 0, decoy: 0, vacuum: 0 } as Record<IntensityClass, number>;
      const ends = INTENSITY_CLASSES.map((c, i) => [c, est.classStart[c], i + 1 < INTENSITY_CLASSES.length ? est.classStart[INTENSITY_CLASSES[i + 1]!] : est.alice.keptLength] as const);
      for (const r of ok) {
        const lo = r.frame * k;
        const hi = lo + k;
        for (const [c, a, b] of ends) perClassKept[c] += Math.max(0, Math.min(hi, b) - Math.max(lo, a));
      }
      return {
        summary,
        perClassKept,
        alice: pack(ok.map((r) => aliceFrames[r.frame]!)),
        bob: pack(ok.map((r) => r.key!)),
      };
    });
    const tagKeys = verificationKeyCount(EPS_COR, rec.alice.length);
    const perClass = (f: (c: IntensityClass) => number): PerClass => ({ signal: f('signal'), decoy: f('decoy'), vacuum: f('vacuum') });
    const finite = finiteKeyLength({
      source: SOURCE,
      key: { detections: perClass((c) => rec.perClassKept[c]) },
      test: { detections: perClass((c) => bob.counts[c].kept.X), errors: est.errors },
      epsSec: EPS_SEC,
      epsCor: EPS_COR,
      // λ_EC is what reconciliation disclosed (syndromes, blind-round reveals, per-frame tags); the
      // block's verification tag counts too: conservative, since Eq. (1)'s log2(2/ε_cor) already
      // covers a tag of log2(1/ε_cor) bits.
      leakEC: rec.summary.leak + 64 * tagKeys,
    });
    const ver = await timed('verify', () => {
      const keys = Uint8Array.from({ length: 8 * tagKeys }, () => Math.floor(next() * 256));
      const ta = verifier.tag(rec.alice.bits, rec.alice.length, keys);
      const tb = verifier.tag(rec.bob.bits, rec.bob.length, keys);
      return { equal: Buffer.compare(Buffer.from(ta), Buffer.from(tb)) === 0, residual: countBitErrors(rec.alice.bits, rec.bob.bits, rec.alice.length) };
    });
    let paMs = 0;
    let keysMatch = false;
    await timed('amplify', () => {
      const n = rec.alice.length;
      const m = finite.length;
      // A block whose tags differ yields nothing: never amplify a key the ends do not share.
      if (m === 0 || !ver.equal) return;
      const seed = Uint8Array.from({ length: Math.ceil(toeplitzSeedBits(n, m) / 8) }, () => Math.floor(next() * 256));
      const t0 = performance.now();
      const ka = pa.hash(seed, rec.alice.bits, n, m);
      paMs = performance.now() - t0;
      const kb = pa.hash(seed, rec.bob.bits, n, m);
      keysMatch = Buffer.compare(Buffer.from(ka), Buffer.from(kb)) === 0;
    });
    reports.push({
      detections: det.flags.length,
      pulses: det.pulses,
      sift: bob,
      testQber: est.testQber,
      keySample: est.keySample,
      keyQberUpper: est.keyQberUpper,
      keyBits: rec.alice.length,
      ec: rec.summary,
      tagBits: 64 * tagKeys,
      finite,
      tagsEqual: ver.equal,
      residualErrors: ver.residual,
      paMs,
      keysMatch,
      secret: keysMatch ? finite.length : 0,
      ms,
    });
  }
  bar.update(blocks * steps);
  bar.stop();

  reports.forEach((r, i) => {
    const c = r.sift.counts;
    const f = r.finite;
    out.write(`block ${i + 1}: ${fmt(r.detections)} detections from ${fmt(r.pulses)} pulses (simulated in ${r.ms.simulate!.toFixed(0)} ms)\n`);
    out.write(`  sifting     ${r.ms.sift!.toFixed(0)} ms, both ends: kept Z ${INTENSITY_CLASSES.map((k) => `${k} ${fmt(c[k].kept.Z)}`).join(', ')}; X ${INTENSITY_CLASSES.map((k) => `${k} ${fmt(c[k].kept.X)}`).join(', ')}; discarded ${fmt(INTENSITY_CLASSES.reduce((s, k) => s + c[k].discarded.Z + c[k].discarded.X, 0))} (bases differ)\n`);
    out.write(`  estimation  QBER X (all disclosed): ${INTENSITY_CLASSES.map((k) => `${k} ${pct(r.testQber[k].qber)} [${pct(r.testQber[k].lower)}, ${pct(r.testQber[k].upper)}]`).join(', ')}\n`);
    out.write(`              QBER Z from a ${pct(KEY_SAMPLE, 0)} sample of ${fmt(r.keySample.compared)} bits: ${pct(r.keySample.qber)}, <= ${pct(r.keyQberUpper)} on the kept bits (Serfling)\n`);
    out.write(`              decoy bounds: s_Z,0 >= ${fmt(f.key.s0)}, s_Z,1 >= ${fmt(f.key.s1)}; test s_X,1 >= ${fmt(f.test.s1)}, v_X,1 <= ${fmt(f.test.v1)}; phase error <= ${pct(f.phaseErrorRate)}\n`);
    const e = r.ec;
    out.write(`  reconcile   LDPC, ${e.frames} frames of ${fmt(e.frameKeyBits)} key bits in ${e.ms.toFixed(0)} ms (${((e.frames * e.frameKeyBits) / e.ms / 1e3).toFixed(1)} Mbit/s): ${e.failed} failed, f = ${e.efficiency.toFixed(3)}, ${e.rounds.toFixed(1)} blind rounds/frame, leak ${fmt(e.leak)} bits\n`);
    out.write(`  verify      ${r.tagBits}-bit polynomial tags (ε_cor ${EPS_COR}) over ${fmt(r.keyBits)} bits: ${r.tagsEqual ? 'equal' : `DIFFER (${fmt(r.residualErrors)} bit errors): block discarded`}\n`);
    out.write(
      f.length > 0
        ? `  amplify     Toeplitz ${fmt(r.keyBits)} -> ${fmt(f.length)} secret bits (${pct(f.length / r.keyBits, 1)}) in ${r.paMs.toFixed(1)} ms (${(r.keyBits / r.paMs / 1e3).toFixed(0)} Mbit/s); finite-key terms: leak ${fmt(f.terms.leakEC)}, secrecy ${f.terms.secrecy.toFixed(0)}, correctness ${f.terms.correctness.toFixed(0)} bits; keys at both ends ${r.keysMatch ? 'identical' : 'DIFFER'}\n`
        : `  amplify     no key from this block: ${f.reason ?? 'finite-key length is zero'}\n`,
    );
  });
  const secret = reports.reduce((s, r) => s + r.secret, 0);
  const totalMs = reports.reduce((s, r) => s + Object.values(r.ms).reduce((a, x) => a + x, 0), 0);
  out.write(`\n${blocks} block(s): ${fmt(secret)} secret bits per end in ${(totalMs / 1000).toFixed(1)} s of processing.\n`);
  // A block whose tags agreed but whose amplified keys differ would be a broken pipeline.
  return reports.every((r) => r.finite.length === 0 || !r.tagsEqual || r.keysMatch) ? 0 : 1;
}
