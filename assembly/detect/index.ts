// The emulated receiver's detections (firmware-bridge/emulator): the hot loop of channel-model.ts's
// DetectionGenerator, the same draws in the same order, so both give the same events bit for bit
// (firmware-bridge/emulator/detection-kernel.test.ts). At 10 km and 1 GHz the receiver makes
// ~20 M events per second of source time; in TypeScript that loop costs ~200 ns an event (four
// cores for real time), here a fraction of it.
//
// The host keeps everything that is not per event: emission intervals, the per-class tables of
// a source, the geometric-gap table, and where a call must stop (an interval's end). Logarithms
// and exponentials come from the host's Math, so every float is the TypeScript twin's.
//
// State lives in globals and static buffers (one generator per instance).

// @ts-ignore: decorator
@external("env", "log") declare function hostLog(x: f64): f64;
// @ts-ignore: decorator
@external("env", "log1p") declare function hostLog1p(x: f64): f64;
// @ts-ignore: decorator
@external("env", "exp") declare function hostExp(x: f64): f64;
// @ts-ignore: decorator
@external("env", "expm1") declare function hostExpm1(x: f64): f64;

const TWO32: f64 = 4294967296.0;
const GAP_SHIFT: u32 = 20;
const GAP_ENTRIES: i32 = 1 << (32 - GAP_SHIFT);
/** Most events one call writes. */
export const CAPACITY: i32 = 16384;
const AP_CAP: i32 = 1024;
/** Classes: 0 = dark only, 1..4 = intensity classes. */
const CLASSES: i32 = 8;

const gapTab = memory.data(GAP_ENTRIES * 4, 16);
const outSlots = memory.data(CAPACITY * 8, 16);
const outMasks = memory.data(CAPACITY, 16);
const apSlots = memory.data(AP_CAP * 8, 16);
const apDets = memory.data(AP_CAP, 16);
// accept, P(signal | click), mean detected photons, P(1 photon | >= 1): CLASSES f64 each.
const classTab = memory.data(4 * CLASSES * 8, 16);
const dead = memory.data(4 * 8, 16);
// Detector and channel constants, written by the host (see PARAM_* in detection-kernel.ts).
const params = memory.data(16 * 8, 16);

export function gapTable(): usize { return gapTab; }
export function slotsOut(): usize { return outSlots; }
export function masksOut(): usize { return outMasks; }
export function classTable(): usize { return classTab; }
export function paramBlock(): usize { return params; }

let ra: u32 = 0;
let rb: u32 = 0;
let rc: u32 = 0;
let rd: u32 = 1;
let nextCandidate: f64 = 0;
let deadMax: f64 = -1;
let apCount: i32 = 0;
let apSkip: f64 = 0;
let darkSkip: f64 = 0;
let pMax: f64 = 0;
let logQ: f64 = 0;
let cursorAt: f64 = 0;
// Receiver's model (eavesdropper hashes) and the transmitter's model of the current source.
let seed: u32 = 0;
let eveThreshold: f64 = 0;
let cut0: f64 = 0;
let cut1: f64 = 0;
let cut2: f64 = 0;
let zThreshold: f64 = 0;
let hiWord: f64 = -1;
let hiMix1: u32 = 0;
let hiMix2: u32 = 0;

// @ts-ignore: decorator
@inline function param(i: i32): f64 { return load<f64>(params + (<usize>i << 3)); }

// @ts-ignore: decorator
@inline function mix32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  x ^= x >>> 16;
  return x;
}

// @ts-ignore: decorator
@inline function nextU32(): u32 {
  const t = ra + rb + rd;
  rd += 1;
  ra = rb ^ (rb >>> 9);
  rb = rc + (rc << 3);
  rc = rotl<u32>(rc, 21) + t;
  return t;
}

// @ts-ignore: decorator
@inline function next(): f64 { return <f64>nextU32() / TWO32; }
// @ts-ignore: decorator
@inline function nextOpen(): f64 { return (<f64>nextU32() + 1) / TWO32; }

/** Seeds the generator as Sfc32(seed, stream) does, and sets the receiver's hash seed. */
export function start(rngSeed: u32, stream: u32, modelSeed: u32, eve: f64): void {
  ra = mix32(rngSeed ^ 0x243f6a88);
  rb = mix32(rngSeed ^ 0x85a308d3 ^ stream);
  rc = mix32(stream ^ 0x13198a2e);
  rd = 1;
  for (let i = 0; i < 12; i++) nextU32();
  seed = modelSeed;
  eveThreshold = eve;
  deadMax = -1;
  apCount = 0;
  for (let j = 0; j < 4; j++) store<f64>(dead + (<usize>j << 3), -1);
  hiWord = -1;
}

/** The candidate process's p_max and log(1 - p_max) (the host has written the gap table). */
export function setGap(p: f64, lq: f64): void {
  pMax = p;
  logQ = lq;
}

/** The transmitter's model for the source it emits with: class cuts and basis threshold. */
export function setTransmitter(txSeed: u32, c0: f64, c1: f64, c2: f64, z: f64): void {
  hiWord = -1;
  cut0 = c0;
  cut1 = c1;
  cut2 = c2;
  zThreshold = z;
  txSeedValue = txSeed;
}
let txSeedValue: u32 = 0;

function gap(): f64 {
  if (pMax <= 0) return 4503599627370495.5; // Number.MAX_SAFE_INTEGER / 2
  if (pMax >= 1) return 0;
  const k = nextU32();
  const g = load<i32>(gapTab + (<usize>(k >>> GAP_SHIFT) << 2));
  return g >= 0 ? <f64>g : Math.floor(hostLog((<f64>k + 1) / TWO32) / logQ);
}

function geometric(p: f64): f64 {
  if (p <= 0) return Infinity;
  if (p >= 1) return 0;
  return Math.floor(hostLog(nextOpen()) / hostLog1p(-p));
}

/** The first candidate after `slot`, and the skips of after-pulses and dark counts (constructor order). */
export function begin(slot: f64): void {
  nextCandidate = slot + gap();
  apSkip = geometric(param(2));
  darkSkip = geometric(param(3));
  cursorAt = slot;
}

/** Restarts the candidate process at the cursor (a brighter source: memoryless, so exact). */
export function restart(): void {
  nextCandidate = cursorAt + gap();
}

export function cursor(): f64 { return cursorAt; }
export function setCursor(c: f64): void { cursorAt = c; }
export function candidate(): f64 { return nextCandidate; }

function slotHash(slot: f64, stream: u32): u32 {
  const lo = <u32><i64>slot;
  const hi = <u32>Math.floor(slot / TWO32);
  return mix32(lo ^ mix32(hi ^ mix32(seed ^ (stream * 0x9e3779b9))));
}

/** The transmitter's class of a slot (stream 1 of its hash), 0-3. */
// @ts-ignore: decorator
@inline function txClass(slot: f64): u32 {
  const hiF = Math.floor(slot / TWO32);
  if (hiF != hiWord) {
    hiWord = hiF;
    const hi = <u32>hiF;
    hiMix1 = mix32(hi ^ mix32(txSeedValue ^ 0x9e3779b9));
    hiMix2 = mix32(hi ^ mix32(txSeedValue ^ 0x3c6ef372));
  }
  const h1f = <f64>mix32(<u32><i64>slot ^ hiMix1);
  return <u32>(h1f >= cut0) + <u32>(h1f >= cut1) + <u32>(h1f >= cut2);
}

/** Its value bit and basis (stream 2), basis << 1 | value; after txClass of the same slot (the high word's mix). */
// @ts-ignore: decorator
@inline function txState(slot: f64): u32 {
  const h2 = mix32(<u32><i64>slot ^ hiMix2);
  return (h2 & 1) | (<u32>(<f64>(h2 >>> 1) >= zThreshold) << 1);
}

function eveState(slot: f64, basis: u32, value: u32): i32 {
  if (eveThreshold == 0) return -1;
  if (<f64>slotHash(slot, 3) >= eveThreshold) return -1;
  const h4 = slotHash(slot, 4);
  const eb = h4 & 1;
  const ev = eb == basis ? value : (h4 >>> 1) & 1;
  return <i32>((eb << 1) | ev);
}

function truncatedPoisson(lambda: f64, pOne: f64, u0: f64): i32 {
  if (lambda <= 0) return 1;
  if (u0 < pOne) return 1;
  const u = u0 * -hostExpm1(-lambda);
  let k = 1;
  let p = lambda * hostExp(-lambda);
  let c = p;
  while (u > c && k < 50) {
    k++;
    p *= lambda / <f64>k;
    c += p;
  }
  return k;
}

function darkMask(): u32 {
  const u = next();
  let j = 0;
  while (j < 3 && u >= param(8 + j)) j++;
  let mask: u32 = 1 << j;
  const pd = param(4);
  for (let i = j + 1; i < 4; i++) if (next() < pd) mask |= 1 << i;
  return mask;
}

function sampleClick(slot: f64, cls: i32, basis: u32, value: u32): u32 {
  let mask: u32 = 0;
  const u = next();
  const sig = load<f64>(classTab + (<usize>(CLASSES + cls) << 3));
  if (u < sig) {
    const eve = eveState(slot, basis, value);
    if (eve >= 0) {
      basis = <u32>eve >> 1;
      value = <u32>eve & 1;
    }
    const m = truncatedPoisson(load<f64>(classTab + (<usize>(2 * CLASSES + cls) << 3)), load<f64>(classTab + (<usize>(3 * CLASSES + cls) << 3)), u / sig);
    const pZ = param(5);
    const mis = param(6);
    for (let i = 0; i < m; i++) {
      const a = next();
      const arm: u32 = a < pZ ? 0 : 1;
      const r = arm == 0 ? a / pZ : (a - pZ) / (1 - pZ);
      const out: u32 = arm == basis ? (r < mis ? value ^ 1 : value) : (r < 0.5 ? 0 : 1);
      mask |= 1 << ((arm << 1) | out);
    }
    const was = darkSkip;
    darkSkip = was - 1;
    if (was == 0) {
      darkSkip = geometric(param(3));
      mask |= darkMask();
    }
  } else {
    mask = darkMask();
  }
  return mask;
}

function scheduleAfterpulse(slot: f64, det: u32): void {
  if (apCount >= AP_CAP) unreachable();
  let i = apCount;
  while (i > 0 && load<f64>(apSlots + (<usize>(i - 1) << 3)) > slot) {
    store<f64>(apSlots + (<usize>i << 3), load<f64>(apSlots + (<usize>(i - 1) << 3)));
    store<u8>(apDets + <usize>i, load<u8>(apDets + <usize>(i - 1)));
    i--;
  }
  store<f64>(apSlots + (<usize>i << 3), slot);
  store<u8>(apDets + <usize>i, <u8>det);
  apCount++;
}

function shiftAfterpulse(): u32 {
  const det = <u32>load<u8>(apDets);
  apCount--;
  memory.copy(apSlots, apSlots + 8, <usize>apCount << 3);
  memory.copy(apDets, apDets + 1, <usize>apCount);
  return det;
}

/**
 * Events of slots [cursor, stop) into slotsOut/masksOut from index 0, at most `maxEvents`;
 * candidates use the transmitter's settings when `emitting`. Returns the count; cursor() is
 * where it stopped (stop, or one past the last event when full), capped at `end`.
 */
export function generate(end: f64, stop: f64, emitting: bool, maxEvents: i32): i32 {
  const deadSlots = param(0);
  const apMeanSlots = param(1);
  const apProb = param(2);
  let n = 0;
  while (n < maxEvents) {
    const ap = apCount > 0 ? load<f64>(apSlots) : Infinity;
    const s = Math.min(nextCandidate, ap);
    if (s >= stop) {
      cursorAt = stop;
      return n;
    }
    let mask: u32 = 0;
    if (s == ap) {
      while (apCount > 0 && load<f64>(apSlots) == s) {
        const j = shiftAfterpulse();
        if (s > load<f64>(dead + (<usize>j << 3))) mask |= 1 << j;
      }
    }
    if (s == nextCandidate) {
      // The class decides acceptance; value and basis are hashed only for accepted candidates
      // (pure functions of the slot, so the draws are the twin's).
      const cls = emitting ? <i32>txClass(s) + 1 : 0;
      if (next() < load<f64>(classTab + (<usize>cls << 3))) {
        const st: u32 = emitting ? txState(s) : 0;
        mask |= sampleClick(s, cls, st >> 1, st & 1);
      }
      nextCandidate = s + 1 + gap();
    }
    if (s <= deadMax) {
      for (let j = 0; j < 4; j++) if ((mask & (1 << j)) != 0 && s <= load<f64>(dead + (<usize>j << 3))) mask &= ~(1 << j);
    }
    if (mask == 0) continue;
    for (let j = 0; j < 4; j++) {
      if ((mask & (1 << j)) == 0) continue;
      store<f64>(dead + (<usize>j << 3), s + deadSlots);
      deadMax = s + deadSlots;
      const was = apSkip;
      apSkip = was - 1;
      if (was == 0) {
        apSkip = geometric(apProb);
        const delay = Math.floor(hostLog(nextOpen()) / hostLog1p(-1 / (apMeanSlots + 1)));
        scheduleAfterpulse(s + deadSlots + 1 + delay, <u32>j);
      }
    }
    store<f64>(outSlots + (<usize>n << 3), s);
    store<u8>(outMasks + <usize>n, <u8>mask);
    n++;
  }
  const last = n > 0 ? load<f64>(outSlots + (<usize>(n - 1) << 3)) + 1 : end;
  cursorAt = Math.min(end, last);
  return n;
}
