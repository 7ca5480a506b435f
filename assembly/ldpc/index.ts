// Layered belief-propagation decoder for syndrome-based LDPC reconciliation, sixteen frames at once.
//
// Fixed point, 8 units per nat. Check-to-variable messages are 8-bit (saturating at ±127, about
// 16 nats: plenty for a message) and stored interleaved by lane, so one v128 holds the message of
// one edge for all sixteen frames and the check update runs on sixteen frames per instruction.
// Posteriors are 16-bit (two v128 per variable: lanes 0-7, then 8-15): with 8-bit posteriors a
// reliable bit saturates, posterior minus message then loses what it knew, and decoding stalls.
// The scalar build runs the identical integer arithmetic lane by lane, so both builds (and the
// TypeScript twin) give bit-identical results.
//
// Check update: sum-product on magnitudes with forward/backward box-plus, the correction term
// log(1 + e^-x) replaced by max(0, 5/8 - x/4) (the usual piecewise-linear approximation; close to
// exact sum-product, where plain min-sum loses much more at the high check degrees that high-rate
// codes need). Signs are the parity of the incoming signs xor the frame's syndrome bit. Schedule:
// row-layered (each check updates the posteriors at once).
export { arena } from '../arena';

// @ts-ignore: decorator
@inline const LANES: i32 = 16;
/** Correction constant 5/8 nat at 8 units per nat. */
// @ts-ignore: decorator
@inline const CORR: i32 = 5;

let rowStartBase: usize = 0; // u32[m + 1]: first edge of each check
let colsBase: usize = 0; // u32[E]: variable of each edge, rows in order
let addrBase: usize = 0; // u32[E]: address of the posterior of each edge's variable (SIMD pass)
let postBase: usize = 0; // i16[n * 16]: posterior per variable and lane (32 bytes per variable)
let msgBase: usize = 0; // i8[E * 16]: check-to-variable message per edge and lane
let syndBase: usize = 0; // i8[m * 16]: 0 or -1 (syndrome bit) per check and lane
let scratch: usize = 0; // 10 * dmax * 16 bytes (see SLOT)
let pairBase: usize = 0; // u8[m]: 1 where checks c and c + 1 may be updated together
let nVars: u32 = 0;
let nChecks: u32 = 0;
let maxDeg: u32 = 0;
/**
 * Lanes loaded since the last iteration read their old messages as 0 (byte 0 = fresh, -1 = keep):
 * the same as clearing them, without a pass over every edge of the lane at each new frame.
 */
const keepPtr: usize = memory.data(16, 16);
let freshLanes: u32 = 0;
/**
 * Vector constants, loaded from memory at the top of a pass so that they stay in registers
 * (an inline v128.const may be rebuilt at every use inside the loops). Bytes 0-15: 4 * CORR
 * (see corrV); 16-31: -127 (the floor of an 8-bit value).
 */
const constPtr: usize = memory.data<u8>([
  20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
  0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
], 16);

// @ts-ignore: decorator
@inline function keepAll(): void {
  store<u64>(keepPtr, 0xffffffffffffffff);
  store<u64>(keepPtr, 0xffffffffffffffff, 8);
  freshLanes = 0;
}

/** Points the decoder at a code (CSR rows) and its working buffers; all laid out by the host. */
export function configure(rowStartPtr: usize, colsPtr: usize, n: u32, m: u32, dmax: u32, postPtr: usize, msgPtr: usize, syndPtr: usize, scratchPtr: usize, pairPtr: usize, addrPtr: usize): void {
  pairBase = pairPtr;
  rowStartBase = rowStartPtr;
  colsBase = colsPtr;
  nVars = n;
  nChecks = m;
  maxDeg = dmax;
  postBase = postPtr;
  msgBase = msgPtr;
  syndBase = syndPtr;
  scratch = scratchPtr;
  addrBase = addrPtr;
  const edges = load<u32>(rowStartPtr + (<usize>m << 2));
  for (let e: u32 = 0; e < edges; e++) {
    store<u32>(addrPtr + (<usize>e << 2), <u32>(postPtr + (<usize>load<u32>(colsPtr + (<usize>e << 2)) << 5)));
  }
  keepAll();
}

let fullCorrection = false;

/** Chooses the check update: 1 = both correction terms (boxplusFull), 0 = the cheaper one-term rule. */
export function setCorrection(full: u32): void {
  fullCorrection = full != 0;
}

/** Clears the check-to-variable messages of one lane (a new frame starts from the channel alone). */
export function resetLane(lane: u32): void {
  const post = postBase;
  const msg = msgBase;
  const cols = colsBase;
  const rowStart = rowStartBase;
  const synd = syndBase;
  const edges = load<u32>(rowStart + (<usize>nChecks << 2));
  let p = msg + <usize>lane;
  for (let e: u32 = 0; e < edges; e++) {
    store<i8>(p, 0);
    p += 16;
  }
}

// @ts-ignore: decorator
@inline function corr(t: i32): i32 {
  const c = CORR - (t >> 2);
  return c > 0 ? c : 0;
}

/**
 * Box-plus of two magnitudes (both in [0, 127]): min(x, y) - max(0, C - |x - y|/4), floored at 0.
 * The exact rule also adds back log(1 + e^-(x+y)); that term only matters when both inputs are
 * below 2.5 nats, and leaving it out saves a third of the work with no measurable loss here.
 */
// @ts-ignore: decorator
@inline function boxplus(x: i32, y: i32): i32 {
  const m = x < y ? x : y;
  const d = x > y ? x - y : y - x;
  const r = m - corr(d);
  return r > 0 ? r : 0;
}

// @ts-ignore: decorator
@inline function sat16(x: i32): i32 {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/**
 * boxplus() with the second correction term too: min(x, y) + c(x + y) - c(|x - y|), floored at
 * 0. At high QBER (channel LLRs near 2 nats, low check degrees) most messages are small and the
 * dropped term costs about 0.1 in efficiency; codes of rate below FULL_CORRECTION_RATE use this.
 */
// @ts-ignore: decorator
@inline function boxplusFull(x: i32, y: i32): i32 {
  const m = x < y ? x : y;
  const d = x > y ? x - y : y - x;
  const r = m + corr(x + y) - corr(d);
  return r > 0 ? r : 0;
}

/**
 * boxplus() on sixteen lanes; unsigned saturation does both max(0, .) floors. With C = u64 also
 * the c(x + y) term (boxplusFull): x + y <= 254 and min + 5 <= 132 stay within a byte. C is a
 * compile-time switch: each variant of the decoder loop is compiled on its own.
 */
// @ts-ignore: decorator
@inline function boxplusV<C>(x: v128, y: v128, k20: v128, zero: v128): v128 {
  const mn = i8x16.min_u(x, y);
  const d = i8x16.sub(i8x16.max_u(x, y), mn);
  if (sizeof<C>() == 8) {
    const cs = corrV(i8x16.add(x, y), k20, zero);
    return i8x16.sub_sat_u(i8x16.add(mn, cs), corrV(d, k20, zero));
  }
  return i8x16.sub_sat_u(mn, corrV(d, k20, zero));
}

/**
 * c(t) = max(0, 5 - floor(t/4)) on sixteen bytes, as floor((max(0, 20 - t) + 3) / 4): two
 * rounding averages with 0 ((a + 1) >> 1 each) do the division. x86 has no byte shift, and the
 * engine's emulation of one costs five instructions; averages issue on every vector port.
 */
// @ts-ignore: decorator
@inline function corrV(t: v128, k20: v128, zero: v128): v128 {
  return i8x16.avgr_u(i8x16.avgr_u(i8x16.sub_sat_u(k20, t), zero), zero);
}

/** Sign masks (0 or -1 per lane) of sixteen 16-bit values held in two vectors, as one i8x16. */
// @ts-ignore: decorator
@inline function signs16(lo: v128, hi: v128): v128 {
  // Saturating narrowing keeps the sign; one compare turns it into a mask.
  return i8x16.lt_s(i8x16.narrow_i16x8_s(lo, hi), i8x16.splat(0));
}

/**
 * Pass 1 for one edge: variable-to-check value q = posterior - old message, stored wide (for the
 * posterior update) and as an 8-bit magnitude and sign mask (for the check update). Returns the
 * sign mask. `pa` is the posterior's address, `mp` the message's, `slot` the edge's scratch.
 */
// @ts-ignore: decorator
@inline function gather(pa: usize, mp: usize, slot: usize, keepNow: v128, floor: v128, zero: v128): v128 {
  const r = v128.and(v128.load(mp), keepNow);
  const qLo = i16x8.sub_sat_s(v128.load(pa), i16x8.extend_low_i8x16_s(r));
  const qHi = i16x8.sub_sat_s(v128.load(pa, 16), i16x8.extend_high_i8x16_s(r));
  const q8 = i8x16.max_s(i8x16.narrow_i16x8_s(qLo, qHi), floor);
  const neg = i8x16.lt_s(q8, zero);
  v128.store(slot, qLo);
  v128.store(slot, qHi, 16);
  v128.store(slot, i8x16.abs(q8), 32);
  v128.store(slot, neg, 48);
  return neg;
}

/**
 * Output for one edge: signs the extrinsic magnitude, stores message and posterior; returns the
 * new posterior narrowed to bytes (sign kept). The caller xors these: the sign bit of the xor is
 * the parity of the hard decisions, turned into a mask once per check instead of once per edge.
 */
// @ts-ignore: decorator
@inline function scatter(pa: usize, mp: usize, slot: usize, ext: v128, par: v128): v128 {
  const s = v128.xor(par, v128.load(slot, 48));
  const r = i8x16.sub(v128.xor(ext, s), s);
  v128.store(mp, r);
  const nLo = i16x8.add_sat_s(v128.load(slot), i16x8.extend_low_i8x16_s(r));
  const nHi = i16x8.add_sat_s(v128.load(slot, 16), i16x8.extend_high_i8x16_s(r));
  v128.store(pa, nLo);
  v128.store(pa, nHi, 16);
  return i8x16.narrow_i16x8_s(nLo, nHi);
}

// @ts-ignore: decorator
@inline function mag(slot: usize): v128 {
  return v128.load(slot, 32);
}

// Scratch per edge: wide value (32 bytes), 8-bit magnitude, sign mask; then 16 bytes per edge of
// forward prefixes. All walks below bump pointers: the engine does not strength-reduce indexing.
// @ts-ignore: decorator
@inline const SLOT: usize = 64;

function iterateSimd<C>(out: usize): void {
  // Module globals in locals: the engine then keeps them in registers in the hot loops.
  const msg = msgBase;
  const addr = addrBase;
  const rowStart = rowStartBase;
  const synd = syndBase;
  const pairs = pairBase;
  for (let l = 0; l < LANES; l++) store<u32>(out + (<usize>l << 2), 0);
  let cntLo = i16x8.splat(0);
  let cntHi = i16x8.splat(0);
  let pending: u32 = 0;
  const k20 = v128.load(constPtr);
  const floor = v128.load(constPtr, 16);
  const zero = i8x16.splat(0);
  const keepNow = v128.load(keepPtr);
  const bufA = scratch;
  const fA = bufA + <usize>maxDeg * SLOT;
  const bufB = fA + (<usize>maxDeg << 4);
  const fB = bufB + <usize>maxDeg * SLOT;
  let c: u32 = 0;
  while (c < nChecks) {
    const e0 = load<u32>(rowStart + (<usize>c << 2));
    const d = load<u32>(rowStart + (<usize>(c + 1) << 2)) - e0;
    const last = <usize>(d - 1);
    if (load<u8>(pairs + <usize>c)) {
      // Two checks with the same degree and no variable in common (neighbours in a circulant):
      // updating them together equals updating them one after the other, and their two
      // box-plus chains run side by side instead of waiting on each other's latency.
      let parA = v128.load(synd + (<usize>c << 4));
      let parB = v128.load(synd + (<usize>(c + 1) << 4));
      const hardA0 = parA;
      const hardB0 = parB;
      let apA = addr + (<usize>e0 << 2);
      let apB = apA + (<usize>d << 2);
      let mpA = msg + (<usize>e0 << 4);
      let mpB = mpA + (<usize>d << 4);
      let sA = bufA;
      let sB = bufB;
      // Gather fused with the forward prefixes f[k] = m[0] [+] ... [+] m[k] (k < d - 1): the
      // gathers' independent work fills the latency of the two box-plus chains.
      parA = v128.xor(parA, gather(<usize>load<u32>(apA), mpA, sA, keepNow, floor, zero));
      parB = v128.xor(parB, gather(<usize>load<u32>(apB), mpB, sB, keepNow, floor, zero));
      let xa = mag(sA);
      let xb = mag(sB);
      let fpA = fA;
      let fpB = fB;
      v128.store(fpA, xa);
      v128.store(fpB, xb);
      const sLast = bufA + last * SLOT;
      apA += 4; apB += 4; mpA += 16; mpB += 16; sA += SLOT; sB += SLOT;
      while (sA < sLast) {
        parA = v128.xor(parA, gather(<usize>load<u32>(apA), mpA, sA, keepNow, floor, zero));
        parB = v128.xor(parB, gather(<usize>load<u32>(apB), mpB, sB, keepNow, floor, zero));
        xa = boxplusV<C>(xa, mag(sA), k20, zero);
        xb = boxplusV<C>(xb, mag(sB), k20, zero);
        fpA += 16; fpB += 16;
        v128.store(fpA, xa);
        v128.store(fpB, xb);
        apA += 4; apB += 4; mpA += 16; mpB += 16; sA += SLOT; sB += SLOT;
      }
      parA = v128.xor(parA, gather(<usize>load<u32>(apA), mpA, sA, keepNow, floor, zero));
      parB = v128.xor(parB, gather(<usize>load<u32>(apB), mpB, sB, keepNow, floor, zero));
      // Backward: edge k gets f[k-1] [+] b, b = m[k+1] [+] ... [+] m[d-1].
      apA = addr + (<usize>(e0 + d - 1) << 2);
      apB = apA + (<usize>d << 2);
      mpA = msg + (<usize>(e0 + d - 1) << 4);
      mpB = mpA + (<usize>d << 4);
      sA = bufA + last * SLOT;
      sB = bufB + last * SLOT;
      fpA = fA + ((last - 1) << 4);
      fpB = fB + ((last - 1) << 4);
      let ba = mag(sA);
      let bb = mag(sB);
      let hA = scatter(<usize>load<u32>(apA), mpA, sA, v128.load(fpA), parA);
      let hB = scatter(<usize>load<u32>(apB), mpB, sB, v128.load(fpB), parB);
      while (sA > bufA + SLOT) {
        apA -= 4; apB -= 4; mpA -= 16; mpB -= 16; sA -= SLOT; sB -= SLOT; fpA -= 16; fpB -= 16;
        const ea = boxplusV<C>(v128.load(fpA), ba, k20, zero);
        const eb = boxplusV<C>(v128.load(fpB), bb, k20, zero);
        ba = boxplusV<C>(ba, mag(sA), k20, zero);
        bb = boxplusV<C>(bb, mag(sB), k20, zero);
        hA = v128.xor(hA, scatter(<usize>load<u32>(apA), mpA, sA, ea, parA));
        hB = v128.xor(hB, scatter(<usize>load<u32>(apB), mpB, sB, eb, parB));
      }
      apA -= 4; apB -= 4; mpA -= 16; mpB -= 16;
      hA = v128.xor(hA, scatter(<usize>load<u32>(apA), mpA, bufA, ba, parA));
      hB = v128.xor(hB, scatter(<usize>load<u32>(apB), mpB, bufB, bb, parB));
      const hardA = v128.xor(hardA0, i8x16.lt_s(hA, zero));
      const hardB = v128.xor(hardB0, i8x16.lt_s(hB, zero));
      cntLo = i16x8.sub(i16x8.sub(cntLo, i16x8.extend_low_i8x16_s(hardA)), i16x8.extend_low_i8x16_s(hardB));
      cntHi = i16x8.sub(i16x8.sub(cntHi, i16x8.extend_high_i8x16_s(hardA)), i16x8.extend_high_i8x16_s(hardB));
      c += 2;
      pending += 2;
    } else {
      let par = v128.load(synd + (<usize>c << 4));
      const hard0 = par;
      let ap = addr + (<usize>e0 << 2);
      let mp = msg + (<usize>e0 << 4);
      let sp = bufA;
      par = v128.xor(par, gather(<usize>load<u32>(ap), mp, sp, keepNow, floor, zero));
      let x = mag(sp);
      let fp = fA;
      v128.store(fp, x);
      const sLast = bufA + last * SLOT;
      ap += 4; mp += 16; sp += SLOT;
      while (sp < sLast) {
        par = v128.xor(par, gather(<usize>load<u32>(ap), mp, sp, keepNow, floor, zero));
        x = boxplusV<C>(x, mag(sp), k20, zero);
        fp += 16;
        v128.store(fp, x);
        ap += 4; mp += 16; sp += SLOT;
      }
      par = v128.xor(par, gather(<usize>load<u32>(ap), mp, sp, keepNow, floor, zero));
      ap = addr + (<usize>(e0 + d - 1) << 2);
      mp = msg + (<usize>(e0 + d - 1) << 4);
      sp = bufA + last * SLOT;
      fp = fA + ((last - 1) << 4);
      let b = mag(sp);
      let h = scatter(<usize>load<u32>(ap), mp, sp, v128.load(fp), par);
      while (sp > bufA + SLOT) {
        ap -= 4; mp -= 16; sp -= SLOT; fp -= 16;
        const ext = boxplusV<C>(v128.load(fp), b, k20, zero);
        b = boxplusV<C>(b, mag(sp), k20, zero);
        h = v128.xor(h, scatter(<usize>load<u32>(ap), mp, sp, ext, par));
      }
      ap -= 4; mp -= 16;
      h = v128.xor(h, scatter(<usize>load<u32>(ap), mp, bufA, b, par));
      const hard = v128.xor(hard0, i8x16.lt_s(h, zero));
      cntLo = i16x8.sub(cntLo, i16x8.extend_low_i8x16_s(hard));
      cntHi = i16x8.sub(cntHi, i16x8.extend_high_i8x16_s(hard));
      c += 1;
      pending += 1;
    }
    // Flush before the 16-bit counters can overflow.
    if (pending >= 0x3ffe || c >= nChecks) {
      flushCounts(out, cntLo, cntHi);
      cntLo = i16x8.splat(0);
      cntHi = i16x8.splat(0);
      pending = 0;
    }
  }
  keepAll();
}

// @ts-ignore: decorator
@inline function flushCounts(out: usize, lo: v128, hi: v128): void {
  v128.store(out, i32x4.add(v128.load(out), i32x4.extend_low_i16x8_u(lo)));
  v128.store(out, i32x4.add(v128.load(out, 16), i32x4.extend_high_i16x8_u(lo)), 16);
  v128.store(out, i32x4.add(v128.load(out, 32), i32x4.extend_low_i16x8_u(hi)), 32);
  v128.store(out, i32x4.add(v128.load(out, 48), i32x4.extend_high_i16x8_u(hi)), 48);
}

function iterateLane<C>(lane: u32, out: usize): void {
  const post = postBase;
  const msg = msgBase;
  const cols = colsBase;
  const rowStart = rowStartBase;
  const synd = syndBase;
  let unsat: u32 = 0;
  const q16Buf = scratch;
  const q8Buf = scratch + (<usize>maxDeg << 2);
  const fBuf = q8Buf + (<usize>maxDeg << 2);
  const pl = <usize>lane << 1;
  const ml = <usize>lane;
  const fresh = (freshLanes >>> lane) & 1;
  let e0 = load<u32>(rowStart);
  for (let c: u32 = 0; c < nChecks; c++) {
    const e1 = load<u32>(rowStart + (<usize>(c + 1) << 2));
    const d = e1 - e0;
    let par: i32 = load<i8>(synd + (<usize>c << 4) + ml);
    let hard = par;
    for (let k: u32 = 0; k < d; k++) {
      const v = load<u32>(cols + (<usize>(e0 + k) << 2));
      const p = <i32>load<i16>(post + (<usize>v << 5) + pl);
      const q = sat16(p - (fresh ? 0 : <i32>load<i8>(msg + (<usize>(e0 + k) << 4) + ml)));
      const q8 = q > 127 ? 127 : q < -127 ? -127 : q;
      store<i32>(q16Buf + (<usize>k << 2), q);
      store<i32>(q8Buf + (<usize>k << 2), q8);
      par ^= q8 >> 31;
    }
    const m0 = load<i32>(q8Buf);
    let f = m0 < 0 ? -m0 : m0;
    store<i32>(fBuf, f);
    for (let k: u32 = 1; k + 1 < d; k++) {
      const x = load<i32>(q8Buf + (<usize>k << 2));
      f = sizeof<C>() == 8 ? boxplusFull(f, x < 0 ? -x : x) : boxplus(f, x < 0 ? -x : x);
      store<i32>(fBuf + (<usize>k << 2), f);
    }
    const ml1 = load<i32>(q8Buf + (<usize>(d - 1) << 2));
    let b = ml1 < 0 ? -ml1 : ml1;
    for (let k: i32 = <i32>d - 1; k >= 0; k--) {
      const q8 = load<i32>(q8Buf + (<usize>k << 2));
      let ext: i32;
      if (k == <i32>d - 1) ext = load<i32>(fBuf + (<usize>(k - 1) << 2));
      else if (k == 0) ext = b;
      else {
        const fk = load<i32>(fBuf + (<usize>(k - 1) << 2));
        const mk = q8 < 0 ? -q8 : q8;
        ext = sizeof<C>() == 8 ? boxplusFull(fk, b) : boxplus(fk, b);
        b = sizeof<C>() == 8 ? boxplusFull(b, mk) : boxplus(b, mk);
      }
      const r = (par ^ (q8 >> 31)) != 0 ? -ext : ext;
      store<i8>(msg + (<usize>(e0 + <u32>k) << 4) + ml, <i8>r);
      const v = load<u32>(cols + (<usize>(e0 + <u32>k) << 2));
      const np = sat16(load<i32>(q16Buf + (<usize>k << 2)) + r);
      store<i16>(post + (<usize>v << 5) + pl, <i16>np);
      hard ^= np >> 31;
    }
    if (hard != 0) unsat++;
    e0 = e1;
  }
  store<u32>(out + (<usize>lane << 2), unsat);
}

/**
 * One layered iteration over every check. `active` has bit l set for each lane holding a frame;
 * the SIMD build updates all sixteen lanes regardless (an idle lane costs nothing extra), the
 * scalar build skips idle lanes. Writes to `out` (sixteen u32) how many checks of each lane were
 * unsatisfied by the hard decisions right after their own update: a cheap running estimate (a
 * later check may flip a bit an earlier one saw); 0 is confirmed with unsatisfied(). Taken after
 * the update, a frame that converges during this iteration is seen now, not one iteration later.
 * Returns the number of lanes whose estimate is 0.
 */
export function iterate(active: u32, out: usize): u32 {
  if (ASC_FEATURE_SIMD) {
    if (fullCorrection) iterateSimd<u64>(out);
    else iterateSimd<u32>(out);
  } else {
    for (let l: u32 = 0; l < <u32>LANES; l++) {
      if ((active >>> l) & 1) {
        if (fullCorrection) iterateLane<u64>(l, out);
        else iterateLane<u32>(l, out);
      } else store<u32>(out + (<usize>l << 2), 0);
    }
    keepAll();
  }
  let ok: u32 = 0;
  for (let l = 0; l < LANES; l++) if (load<u32>(out + (<usize>l << 2)) == 0) ok++;
  return ok;
}

/**
 * Counts, per lane, the checks whose hard decisions (sign of the posterior; negative = bit 1) do
 * not match the syndrome. Writes sixteen u32 at `out`; returns how many lanes have none.
 */
export function unsatisfied(out: usize): u32 {
  const post = postBase;
  const msg = msgBase;
  const cols = colsBase;
  const rowStart = rowStartBase;
  const synd = syndBase;
  for (let l = 0; l < LANES; l++) store<u32>(out + (<usize>l << 2), 0);
  let e0 = load<u32>(rowStart);
  if (ASC_FEATURE_SIMD) {
    let cntLo = i16x8.splat(0);
    let cntHi = i16x8.splat(0);
    for (let c: u32 = 0; c < nChecks; c++) {
      const e1 = load<u32>(rowStart + (<usize>(c + 1) << 2));
      let acc = v128.load(synd + (<usize>c << 4));
      for (let e = e0; e < e1; e++) {
        const pa = post + (<usize>load<u32>(cols + (<usize>e << 2)) << 5);
        acc = v128.xor(acc, signs16(v128.load(pa), v128.load(pa, 16)));
      }
      cntLo = i16x8.sub(cntLo, i16x8.extend_low_i8x16_s(acc));
      cntHi = i16x8.sub(cntHi, i16x8.extend_high_i8x16_s(acc));
      e0 = e1;
      if ((c & 0x3fff) == 0x3fff || c + 1 == nChecks) {
        flushCounts(out, cntLo, cntHi);
        cntLo = i16x8.splat(0);
        cntHi = i16x8.splat(0);
      }
    }
  } else {
    for (let c: u32 = 0; c < nChecks; c++) {
      const e1 = load<u32>(rowStart + (<usize>(c + 1) << 2));
      for (let l = 0; l < LANES; l++) {
        let acc: i32 = load<i8>(synd + (<usize>c << 4) + <usize>l);
        for (let e = e0; e < e1; e++) {
          const v = load<u32>(cols + (<usize>e << 2));
          acc ^= (<i32>load<i16>(post + (<usize>v << 5) + (<usize>l << 1))) >> 31;
        }
        if (acc != 0) store<u32>(out + (<usize>l << 2), load<u32>(out + (<usize>l << 2)) + 1);
      }
      e0 = e1;
    }
  }
  let ok: u32 = 0;
  for (let l = 0; l < LANES; l++) if (load<u32>(out + (<usize>l << 2)) == 0) ok++;
  return ok;
}

/** Packs the hard decisions of one lane (bit v of the output = 1 when posterior v < 0). */
export function hardBits(lane: u32, out: usize): void {
  const post = postBase;
  const msg = msgBase;
  const cols = colsBase;
  const rowStart = rowStartBase;
  const synd = syndBase;
  const words = (nVars + 31) >>> 5;
  let p = post + (<usize>lane << 1);
  for (let w: u32 = 0; w < words; w++) {
    let bits: u32 = 0;
    const top = min<u32>(32, nVars - (w << 5));
    for (let i: u32 = 0; i < top; i++) {
      bits |= (<u32>(load<i16>(p) >>> 15) & 1) << i;
      p += 32;
    }
    store<u32>(out + (<usize>w << 2), bits);
  }
}

/**
 * Syndrome of a bit-packed word (the encoder side: Alice's frame). Writes ceil(m/32) u32 words,
 * bit c = parity of check c.
 */
export function syndrome(bits: usize, out: usize): void {
  const post = postBase;
  const msg = msgBase;
  const cols = colsBase;
  const rowStart = rowStartBase;
  const synd = syndBase;
  const words = (nChecks + 31) >>> 5;
  for (let w: u32 = 0; w < words; w++) store<u32>(out + (<usize>w << 2), 0);
  let e0 = load<u32>(rowStart);
  for (let c: u32 = 0; c < nChecks; c++) {
    const e1 = load<u32>(rowStart + (<usize>(c + 1) << 2));
    let acc: u32 = 0;
    for (let e = e0; e < e1; e++) {
      const v = load<u32>(cols + (<usize>e << 2));
      acc ^= load<u32>(bits + (<usize>(v >>> 5) << 2)) >>> (v & 31);
    }
    if (acc & 1) {
      const a = out + (<usize>(c >>> 5) << 2);
      store<u32>(a, load<u32>(a) | (<u32>1 << (c & 31)));
    }
    e0 = e1;
  }
}

let keyPosBase: usize = 0; // u32[k]: code position of each key bit
let orderBase: usize = 0; // u32[d]: puncturing order (reserved positions)
let keyCount: u32 = 0;
let reservedCount: u32 = 0;

/** Where the key bits sit in a frame and which positions are reserved (punctured or shortened). */
export function setLayout(keyPos: usize, k: u32, order: usize, d: u32): void {
  keyPosBase = keyPos;
  keyCount = k;
  orderBase = order;
  reservedCount = d;
}

/**
 * Loads a frame into a lane: key bits (one per byte) get the channel LLR ±llr, the first
 * `punctured` reserved positions LLR 0, the other reserved positions "known 0"; the syndrome
 * (one bit per byte) becomes the lane's check signs; messages are cleared.
 */
export function loadFrame(lane: u32, keyBytes: usize, llr: i32, punctured: u32, syndBytes: usize): void {
  const post = postBase + (<usize>lane << 1);
  for (let v: u32 = 0; v < nVars; v++) store<i16>(post + (<usize>v << 5), 32767);
  for (let i: u32 = 0; i < punctured && i < reservedCount; i++) store<i16>(post + (<usize>load<u32>(orderBase + (<usize>i << 2)) << 5), 0);
  for (let j: u32 = 0; j < keyCount; j++) {
    const v = load<u32>(keyPosBase + (<usize>j << 2));
    store<i16>(post + (<usize>v << 5), <i16>(load<u8>(keyBytes + <usize>j) ? -llr : llr));
  }
  const synd = syndBase + <usize>lane;
  for (let c: u32 = 0; c < nChecks; c++) store<i8>(synd + (<usize>c << 4), load<u8>(syndBytes + <usize>c) ? -1 : 0);
  markFresh(lane);
}

function markFresh(lane: u32): void {
  freshLanes |= <u32>1 << lane;
  store<i8>(keepPtr + <usize>lane, 0);
}

/** Hard decisions of one lane at the key positions, one bit per byte at `out`. */
export function extractKey(lane: u32, out: usize): void {
  const post = postBase + (<usize>lane << 1);
  for (let j: u32 = 0; j < keyCount; j++) {
    const v = load<u32>(keyPosBase + (<usize>j << 2));
    store<u8>(out + <usize>j, <u8>(<u32>load<i16>(post + (<usize>v << 5)) >>> 31));
  }
}
