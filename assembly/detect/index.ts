// The emulated receiver's detections (firmware-bridge/emulator): the hot loop of channel-model.ts's
// DetectionGenerator, the same draws in the same order, so both give the same events bit for bit
// (firmware-bridge/emulator/detection-kernel.test.ts). Detections are drawn, not pulses: the signal
// slots (at least one photon detected) come chunk by chunk from the source's SignalProcess
// (geometric gaps of its mean click probability, from a generator seeded per chunk, which the
// transmitter regenerates to answer its settings), dark counts from their own geometric gaps.
//
// The host keeps everything that is not per event: emission intervals, the per-class tables of
// a source, the gap table, and where a call must stop (an interval's end). Logarithms
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
/** 2^-32: a product by it is exact, as the quotient by 2^32 is. */
const INV32: f64 = 1.0 / 4294967296.0;
const GAP_SHIFT: u32 = 20;
const GAP_ENTRIES: i32 = 1 << (32 - GAP_SHIFT);
/** Slots per chunk of the signal process (SIGNAL_CHUNK of channel-model.ts). */
const CHUNK: i32 = 65536;
const CHUNK_F: f64 = 65536.0;
/** Most events one call writes. */
export const CAPACITY: i32 = 16384;
const AP_CAP: i32 = 1024;
/** Classes per table: up to four intensity classes (room for eight). */
const CLASSES: i32 = 8;

const gapTab = memory.data(GAP_ENTRIES * 4, 16);
const outSlots = memory.data(CAPACITY * 8, 16);
const outMasks = memory.data(CAPACITY, 16);
const apSlots = memory.data(AP_CAP * 8, 16);
const apDets = memory.data(AP_CAP, 16);
// Mean detected photons, P(1 photon | >= 1): CLASSES f64 each.
const classTab = memory.data(2 * CLASSES * 8, 16);
const dead = memory.data(4 * 8, 16);
// Detector and channel constants, written by the host (see PARAM_* in detection-kernel.ts).
const params = memory.data(16 * 8, 16);
// The signal slots of the current chunk, as offsets.
const chunkList = memory.data(CHUNK * 4, 16);

// The transmitter's side: slots asked (QUERY_SETTINGS) in, one SETTINGS byte each out; the signal slots of the chunk at hand as bits.
/** Most slots one settings() call answers. */
export const QUERY_CAPACITY: i32 = 16384;
const queryIn = memory.data(QUERY_CAPACITY * 8, 16);
const queryOut = memory.data(QUERY_CAPACITY, 16);
const signalBits = memory.data(CHUNK / 8, 16);
// The receiver's event slots as board slot deltas (LEB128 varints below 2^32, at most 5 bytes each).
const outDeltas = memory.data(CAPACITY * 5, 16);

export function querySlots(): usize { return queryIn; }
export function queryAnswers(): usize { return queryOut; }
export function gapTable(): usize { return gapTab; }
export function slotsOut(): usize { return outSlots; }
export function masksOut(): usize { return outMasks; }
export function deltasOut(): usize { return outDeltas; }
export function classTable(): usize { return classTab; }
export function paramBlock(): usize { return params; }

let ra: u32 = 0;
let rb: u32 = 0;
let rc: u32 = 0;
let rd: u32 = 1;
let deadMax: f64 = -1;
let apCount: i32 = 0;
let apSkip: f64 = 0;
let nextDark: f64 = 0;
let cursorAt: f64 = 0;
// Receiver's model (eavesdropper hashes) and the transmitter's model of the current source.
let seed: u32 = 0;
let eveThreshold: f64 = 0;
let cut0: f64 = 0;
let cut1: f64 = 0;
let cut2: f64 = 0;
let zThreshold: f64 = 0;
/** The high word times 2^32: the slots [hiBase, hiBase + 2^32) share the high word's mixing. */
let hiBase: f64 = -Infinity;
let hiMix1: u32 = 0;
let hiMix2: u32 = 0;
let txSeedValue: u32 = 0;
// The source's signal process: ȳ, log(1 - ȳ), the chunk generator's seed, the chunk at hand.
let yBar: f64 = 0;
let logQ: f64 = 0;
let chunkSeed: u32 = 0;
let curChunk: f64 = -1;
/** First slot of curChunk (-Infinity when none). */
let curBase: f64 = -Infinity;
let listN: i32 = 0;
let listAt: i32 = 0;
/** The chunk whose signal slots signalBits holds (-1: none). */
let bitsChunk: f64 = -1;
// Class cuts for a slot without a detected photon (S = 0): the transmitter's side.
let quiet0: f64 = 0;
let quiet1: f64 = 0;
let quiet2: f64 = 0;

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
@inline function next(): f64 { return <f64>nextU32() * INV32; }
// @ts-ignore: decorator
@inline function nextOpen(): f64 { return (<f64>nextU32() + 1) * INV32; }

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
  hiBase = -Infinity;
  curChunk = -1;
  curBase = -Infinity;
  listN = 0;
}

/**
 * The transmitter's model for the source it emits with: class cuts given a signal slot, basis
 * threshold, and its signal process (ȳ, log(1 - ȳ), seed ^ key; the host has written the gap table).
 */
export function setTransmitter(txSeed: u32, c0: f64, c1: f64, c2: f64, z: f64, y: f64, lq: f64, cs: u32): void {
  hiBase = -Infinity;
  cut0 = c0;
  cut1 = c1;
  cut2 = c2;
  zThreshold = z;
  txSeedValue = txSeed;
  yBar = y;
  logQ = lq;
  chunkSeed = cs;
  curChunk = -1;
  curBase = -Infinity;
  listN = 0;
  bitsChunk = -1;
}

/** The transmitter's class cuts for slots without a detected photon (after setTransmitter, whose cuts are those with one). */
export function setQuiet(q0: f64, q1: f64, q2: f64): void {
  quiet0 = q0;
  quiet1 = q1;
  quiet2 = q2;
}

/**
 * The transmitter's SETTINGS byte for each of the first n slots of querySlots() into
 * queryAnswers() (ChannelModel.txSetting, its twin): S from the slot's chunk of the signal
 * process, the class against the cuts given S, value and basis from stream 2.
 */
export function settings(n: i32): void {
  for (let i = 0; i < n; i++) {
    const slot = load<f64>(queryIn + (<usize>i << 3));
    if (!(slot >= curBase && slot < curBase + CHUNK_F)) fillChunk(Math.floor(slot / CHUNK_F));
    if (curChunk != bitsChunk) {
      bitsChunk = curChunk;
      memory.fill(signalBits, 0, <usize>(CHUNK >> 3));
      for (let j = 0; j < listN; j++) {
        const o = load<i32>(chunkList + (<usize>j << 2));
        const at = signalBits + <usize>(o >> 3);
        store<u8>(at, <u8>(<u32>load<u8>(at) | (1 << (o & 7))));
      }
    }
    const off = <i32>(slot - curBase);
    const on = ((<u32>load<u8>(signalBits + <usize>(off >> 3)) >> (off & 7)) & 1) != 0;
    const byte = txByte(slot, select<f64>(cut0, quiet0, on), select<f64>(cut1, quiet1, on), select<f64>(cut2, quiet2, on));
    store<u8>(queryOut + <usize>i, <u8>byte);
  }
}

function geometric(p: f64): f64 {
  if (p <= 0) return Infinity;
  if (p >= 1) return 0;
  return Math.floor(hostLog(nextOpen()) / hostLog1p(-p));
}

/** The first dark count after `slot`, and the skip of after-pulses (constructor order). */
export function begin(slot: f64): void {
  nextDark = slot + geometric(param(3));
  apSkip = geometric(param(2));
  cursorAt = slot;
}

export function cursor(): f64 { return cursorAt; }
export function setCursor(c: f64): void { cursorAt = c; }

/** Fills the chunk list: the signal slots of `chunk`, by geometric gaps from Sfc32(seed ^ key, stream of chunk). */
function fillChunk(chunk: f64): void {
  curChunk = chunk;
  curBase = chunk * CHUNK_F;
  listAt = 0;
  listN = 0;
  if (yBar <= 0) return;
  const lo = <u32><i64>(chunk - Math.floor(chunk / TWO32) * TWO32);
  const hi = <u32><i64>Math.floor(chunk / TWO32);
  const stream = mix32(lo ^ mix32(hi ^ 0x2545f491));
  let a = mix32(chunkSeed ^ 0x243f6a88);
  let b = mix32(chunkSeed ^ 0x85a308d3 ^ stream);
  let c = mix32(stream ^ 0x13198a2e);
  let d: u32 = 1;
  let n = 0;
  const always = yBar >= 1;
  let at: f64 = 0;
  let first = true;
  for (let i = 0; i < 12; i++) {
    const t = a + b + d;
    d += 1;
    a = b ^ (b >>> 9);
    b = c + (c << 3);
    c = rotl<u32>(c, 21) + t;
  }
  while (true) {
    let g: f64 = 0;
    if (!always) {
      const k = a + b + d;
      d += 1;
      a = b ^ (b >>> 9);
      b = c + (c << 3);
      c = rotl<u32>(c, 21) + k;
      const tg = load<i32>(gapTab + (<usize>(k >>> GAP_SHIFT) << 2));
      g = tg >= 0 ? <f64>tg : Math.floor(hostLog((<f64>k + 1) / TWO32) / logQ);
    }
    at = first ? g : at + 1 + g;
    first = false;
    if (at >= CHUNK_F) break;
    store<i32>(chunkList + (<usize>n << 2), <i32>at);
    n++;
  }
  listN = n;
}

/** The next signal slot in [cursor, limit), or Infinity. */
function nextSignal(limit: f64): f64 {
  let from = cursorAt;
  // Most calls: the next slot of the list at hand is past the cursor and before the limit.
  if (listAt < listN) {
    const p = curBase + <f64>load<i32>(chunkList + (<usize>listAt << 2));
    if (p >= from && p < limit && p < curBase + CHUNK_F) return p;
  }
  while (from < limit) {
    // The chunk at hand without a division, most of the time.
    if (!(from >= curBase && from < curBase + CHUNK_F)) fillChunk(Math.floor(from / CHUNK_F));
    const base = curBase;
    const stopHere = Math.min(base + CHUNK_F, limit);
    while (listAt < listN && base + <f64>load<i32>(chunkList + (<usize>listAt << 2)) < from) listAt++;
    if (listAt < listN) {
      const p = base + <f64>load<i32>(chunkList + (<usize>listAt << 2));
      if (p < stopHere) return p;
    }
    from = stopHere;
  }
  return Infinity;
}

function slotHash(slot: f64, stream: u32): u32 {
  const lo = <u32><i64>slot;
  const hi = <u32>Math.floor(slot / TWO32);
  return mix32(lo ^ mix32(hi ^ mix32(seed ^ (stream * 0x9e3779b9))));
}

/** The transmitter's SETTINGS byte of a slot against class cuts c0-c2 (streams 1 and 2 of its hash): class << 2 | basis << 1 | value. */
// @ts-ignore: decorator
@inline function txByte(slot: f64, c0: f64, c1: f64, c2: f64): u32 {
  if (!(slot >= hiBase && slot < hiBase + TWO32)) {
    // The high word's mixing, once per 2^32 slots.
    const hiF = Math.floor(slot / TWO32);
    hiBase = hiF * TWO32;
    const hi = <u32>hiF;
    hiMix1 = mix32(hi ^ mix32(txSeedValue ^ 0x9e3779b9));
    hiMix2 = mix32(hi ^ mix32(txSeedValue ^ 0x3c6ef372));
  }
  const lo = <u32><i64>slot;
  const h1f = <f64>mix32(lo ^ hiMix1);
  const k = <u32>(h1f >= c0) + <u32>(h1f >= c1) + <u32>(h1f >= c2);
  const h2 = mix32(lo ^ hiMix2);
  return (k << 2) | (<u32>(<f64>(h2 >>> 1) >= zThreshold) << 1) | (h2 & 1);
}

/** The transmitter's setting of a signal slot. */
function txSignalSetting(slot: f64): u32 {
  return txByte(slot, cut0, cut1, cut2);
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

function photons(slot: f64, cls: i32, basis: u32, value: u32): u32 {
  const eve = eveState(slot, basis, value);
  if (eve >= 0) {
    basis = <u32>eve >> 1;
    value = <u32>eve & 1;
  }
  const m = truncatedPoisson(load<f64>(classTab + (<usize>cls << 3)), load<f64>(classTab + (<usize>(CLASSES + cls) << 3)), next());
  const pZ = param(5);
  let mask: u32 = 0;
  for (let i = 0; i < m; i++) {
    // One uniform: the arm, then the detector in it against the arm's cuts (PHOTON_CUTS of the twin).
    // Selects, not branches: the arm and the detector are coin flips a branch would mispredict.
    const a = next();
    const arm = <u32>(a >= pZ);
    const wrong = <u32>(a < param(12 + 2 * arm));
    const zero = <u32>(a < param(13 + 2 * arm));
    const out = select<u32>(value ^ wrong, zero ^ 1, arm == basis);
    mask |= 1 << ((arm << 1) | out);
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
 * signal slots only when `emitting`. Returns the count; cursor() is where it stopped (stop, or
 * one past the last event when full), capped at `end`.
 */
export function generate(end: f64, stop: f64, emitting: bool, maxEvents: i32): i32 {
  const deadSlots = param(0);
  const apMeanSlots = param(1);
  const apProb = param(2);
  const pAnyDark = param(3);
  let n = 0;
  while (n < maxEvents) {
    const ap = apCount > 0 ? load<f64>(apSlots) : Infinity;
    const other = Math.min(ap, nextDark);
    // A signal slot may share its slot with a dark count or an after-pulse: look one past them.
    const sig = emitting ? nextSignal(Math.min(stop, other + 1)) : Infinity;
    const s = Math.min(sig, other);
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
    if (s == sig) {
      const st = txSignalSetting(s);
      mask |= photons(s, <i32>(st >> 2), (st >> 1) & 1, st & 1);
      listAt++;
    }
    if (s == nextDark) {
      mask |= darkMask();
      nextDark = s + 1 + geometric(pAnyDark);
    }
    cursorAt = s + 1;
    // Dead detectors see nothing (branch-free: about a third of the signal slots fall in a dead time).
    if (s <= deadMax) {
      const live = <u32>(s > load<f64>(dead)) | (<u32>(s > load<f64>(dead + 8)) << 1) | (<u32>(s > load<f64>(dead + 16)) << 2) | (<u32>(s > load<f64>(dead + 24)) << 3);
      mask &= live;
    }
    let m = mask;
    while (m != 0) {
      const j = ctz<u32>(m);
      m &= m - 1;
      store<f64>(dead + (<usize>j << 3), s + deadSlots);
      deadMax = s + deadSlots;
      const was = apSkip;
      apSkip = was - 1;
      if (was == 0) {
        apSkip = geometric(apProb);
        const delay = Math.floor(hostLog(nextOpen()) / hostLog1p(-1 / (apMeanSlots + 1)));
        scheduleAfterpulse(s + deadSlots + 1 + delay, j);
      }
    }
    // Written whatever the mask, kept only when it is not empty (n < maxEvents <= CAPACITY here).
    store<f64>(outSlots + (<usize>n << 3), s);
    store<u8>(outMasks + <usize>n, <u8>mask);
    n += <i32>(mask != 0);
  }
  const last = n > 0 ? load<f64>(outSlots + (<usize>(n - 1) << 3)) + 1 : end;
  cursorAt = Math.min(end, last);
  return n;
}

/**
 * The first n slots of slotsOut() as board slot deltas from `prev` (PROTOCOL.md 3.7: LEB128,
 * slot[k] = prev + d[0] + ... + d[k]) into deltasOut(); returns the byte count. The caller keeps
 * every delta below 2^32 (the slots of one batch, which spans at most 2^32 slots, from its start).
 */
export function encodeDeltas(n: i32, prev: f64): i32 {
  let o = outDeltas;
  for (let i = 0; i < n; i++) {
    const s = load<f64>(outSlots + (<usize>i << 3));
    let d = <u32><i64>(s - prev);
    prev = s;
    while (d >= 0x80) {
      store<u8>(o++, <u8>(d | 0x80));
      d >>>= 7;
    }
    store<u8>(o++, <u8>d);
  }
  return <i32>(o - outDeltas);
}
