// Layered belief-propagation decoder for syndrome-based LDPC reconciliation of quasi-cyclic codes.
//
// Circulant-parallel: one v128 holds sixteen consecutive checks of one circulant row block of ONE
// frame. Checks of a row block share no variable, so updating sixteen of them at once equals
// updating them one after the other, and every vector is full whatever the number of frames in
// flight. The decoder holds up to sixteen frames (lanes, each with its own memory); an iteration
// costs work only for the frames asked for, so a batch's last few frames decode as fast per frame
// as the first.
//
// Fixed point, 8 units per nat. Check-to-variable messages are 8-bit (saturating at ±127, about
// 16 nats: plenty for a message), posteriors 16-bit: with 8-bit posteriors a reliable bit
// saturates, posterior minus message then loses what it knew, and decoding stalls. The scalar
// build runs the identical integer arithmetic check by check, so both builds (and the TypeScript
// twin) give bit-identical results.
//
// Check update: sum-product on magnitudes with forward/backward box-plus, the correction term
// log(1 + e^-x) replaced by max(0, 5/8 - x/4) (the usual piecewise-linear approximation; close to
// exact sum-product, where plain min-sum loses much more at the high check degrees that high-rate
// codes need). Signs are the parity of the incoming signs xor the frame's syndrome bit. Schedule:
// row-layered (each check updates the posteriors at once), checks in index order.
//
// Memory of a lane (laid out by the host, strides below):
//   posteriors: per base column j, PAD + Z + 2 * PAD i16 (the variables j*Z .. j*Z+Z-1 start at
//     index PAD); entries Z .. Z+15 mirror variables 0 .. 15, so that sixteen consecutive
//     variables of a circulant (mod Z) are always one contiguous 32-byte load;
//   messages: i8; base row i (entries k0 .. k0 + d - 1, columns ascending) takes bytes k0 * Z ..
//     (k0 + d) * Z, ordered by group of 32 checks, then entry, then check: the message of check
//     r and entry k0 + k is byte k0 * Z + (r >> 5) * 32 * d + 32 * k + (r & 31), so that a pass
//     over a row reads its messages in one sequential stream;
//   syndrome: i8 per check, 0 or -1.
export { arena } from '../arena';

// @ts-ignore: decorator
@inline const LANES: u32 = 16;
/** Correction constant 5/8 nat at 8 units per nat. */
// @ts-ignore: decorator
@inline const CORR: i32 = 5;
/** Posterior padding (entries) before and after each circulant's Z variables (after: twice). */
// @ts-ignore: decorator
@inline const PAD: u32 = 16;

let zSize: u32 = 0; // circulant size Z (a power of two, at least 32)
let zShift: u32 = 0; // log2 Z
let mbRows: u32 = 0; // base rows
let nbCols: u32 = 0; // base columns
let entryStartBase: usize = 0; // u32[mb + 1]: first base entry of each base row
let entryColBase: usize = 0; // u32[entries]: byte offset of the entry's column block in a lane's posteriors
let entryShiftBase: usize = 0; // u32[entries]: circulant shift
let postBase: usize = 0; // lane 0's posteriors
let postStride: usize = 0;
let msgBase: usize = 0; // lane 0's messages
let msgStride: usize = 0;
let syndBase: usize = 0; // lane 0's syndrome
let syndStride: usize = 0;
let scratch: usize = 0; // 12 * dmax * 16 bytes
let addrTab: usize = 0; // E / 2 bytes: per row, group of 32 checks and entry, see edgeAddr
let nChecks: u32 = 0;
let maxDeg: u32 = 0;

/**
 * Vector constants, loaded from memory at the top of a pass so that they stay in registers
 * (an inline v128.const may be rebuilt at every use inside the loops). Bytes 0-15: 4 * CORR
 * (see corrV); 16-31: -127 (the floor of an 8-bit value).
 */
const constPtr: usize = memory.data<u8>([
  20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
  0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81,
], 16);

/**
 * Points the decoder at a quasi-cyclic code and its buffers, all laid out by the host: the base
 * matrix by rows (`entryStart`, each entry's column and shift), lane 0's posteriors, messages and
 * syndrome and the stride to the next lane's. Nothing needs the lifted matrix.
 */
export function configure(z: u32, mb: u32, nb: u32, entryStart: usize, entryCol: usize, entryShift: usize, dmax: u32, postPtr: usize, postLaneStride: usize, msgPtr: usize, msgLaneStride: usize, syndPtr: usize, syndLaneStride: usize, scratchPtr: usize, tabPtr: usize): void {
  zSize = z;
  zShift = <u32>ctz(z);
  mbRows = mb;
  nbCols = nb;
  entryStartBase = entryStart;
  entryColBase = entryCol;
  entryShiftBase = entryShift;
  nChecks = mb * z;
  maxDeg = dmax;
  postBase = postPtr;
  postStride = postLaneStride;
  msgBase = msgPtr;
  msgStride = msgLaneStride;
  syndBase = syndPtr;
  syndStride = syndLaneStride;
  scratch = scratchPtr;
  addrTab = tabPtr;
  // The table follows the messages' order: row, group of 32 checks, entry (16 bytes for 32 bytes).
  let tp = tabPtr;
  for (let i: u32 = 0; i < mb; i++) {
    const k0 = load<u32>(entryStart + (<usize>i << 2));
    const k1 = load<u32>(entryStart + (<usize>(i + 1) << 2));
    for (let r0: u32 = 0; r0 < z; r0 += 32) {
      for (let k = k0; k < k1; k++) {
        const colOff = load<u32>(entryCol + (<usize>k << 2));
        const shift = load<u32>(entryShift + (<usize>k << 2));
        edgeAddr(colOff, shift, r0, tp);
        edgeAddr(colOff, shift, r0 + 16, tp + 8);
        tp += 16;
      }
    }
  }
}

let fullCorrection = false;

/** Chooses the check update: 1 = both correction terms (boxplusFull), 0 = the cheaper one-term rule. */
export function setCorrection(full: u32): void {
  fullCorrection = full != 0;
}

/** Byte address of variable v's posterior in a lane. */
// @ts-ignore: decorator
@inline function postAddr(lane: u32, v: u32): usize {
  const j = v >>> zShift;
  const t = v & (zSize - 1);
  return postBase + <usize>lane * postStride + ((<usize>j * <usize>(zSize + 3 * PAD) + <usize>(PAD + t)) << 1);
}

/** Clears the check-to-variable messages of one lane (a new frame starts from the channel alone). */
export function resetLane(lane: u32): void {
  // One message byte per edge: Z edges per base entry.
  memory.fill(msgBase + <usize>lane * msgStride, 0, <usize>load<u32>(entryStartBase + (<usize>mbRows << 2)) << zShift);
}

/** Copies each circulant's first sixteen posteriors of a lane to their mirror (after host writes). */
export function mirrorLane(lane: u32): void {
  for (let j: u32 = 0; j < nbCols; j++) {
    const a = postAddr(lane, j << zShift);
    memory.copy(a + (<usize>zSize << 1), a, <usize>PAD << 1);
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

/**
 * Pass 1 for one edge of sixteen checks: variable-to-check value q = posterior - old message,
 * stored wide (for the posterior update) and as an 8-bit magnitude and sign mask (for the check
 * update). Returns the sign mask. `pa` is the posteriors' address, `mp` the messages', `slot` the
 * edge's scratch.
 */
// @ts-ignore: decorator
@inline function gather(pa: usize, mp: usize, slot: usize, floor: v128, zero: v128): v128 {
  const r = v128.load(mp);
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
 * Output for one edge: signs the extrinsic magnitude, stores messages and posteriors (also at
 * `pa + delta`, the other copy of a circulant's first sixteen variables; delta 0 rewrites the same
 * place); returns the new posteriors narrowed to bytes (sign kept). The caller xors these: the
 * sign bit of the xor is the parity of the hard decisions, made a mask once per check.
 */
// @ts-ignore: decorator
@inline function scatter(pa: usize, delta: usize, mp: usize, slot: usize, ext: v128, par: v128): v128 {
  const s = v128.xor(par, v128.load(slot, 48));
  const r = i8x16.sub(v128.xor(ext, s), s);
  v128.store(mp, r);
  const nLo = i16x8.add_sat_s(v128.load(slot), i16x8.extend_low_i8x16_s(r));
  const nHi = i16x8.add_sat_s(v128.load(slot, 16), i16x8.extend_high_i8x16_s(r));
  v128.store(pa, nLo);
  v128.store(pa, nHi, 16);
  if (delta) {
    const pm = pa + delta;
    v128.store(pm, nLo);
    v128.store(pm, nHi, 16);
  }
  return i8x16.narrow_i16x8_s(nLo, nHi);
}

// @ts-ignore: decorator
@inline function mag(slot: usize): v128 {
  return v128.load(slot, 32);
}

// Scratch per edge: wide value (32 bytes), 8-bit magnitude, sign mask; then per edge 16 bytes of
// forward prefixes.
// @ts-ignore: decorator
@inline const SLOT: usize = 64;

/**
 * Stores at `ap` where the posteriors of sixteen checks from r0 on sit for an entry (column block
 * offset, shift), relative to a lane's posteriors, and the offset from there to the other copy of
 * any of a circulant's first sixteen variables among them (0: none).
 */
function edgeAddr(colOff: u32, shift: u32, r0: u32, ap: usize): void {
  const z = zSize;
  const o = (r0 + shift) & (z - 1);
  // o < 16: variables 0..15 are (partly) here and in the mirror after Z; o > Z - 16: the load runs
  // into the mirror, so the originals at the block's start are written too.
  const delta: u32 = o < PAD ? z << 1 : o > z - PAD ? <u32>(-(<i32>z << 1)) : 0;
  store<u32>(ap, colOff + (o << 1));
  store<u32>(ap, delta, 4);
}

/** One layered iteration of one lane (SIMD); returns the running unsatisfied-check count. */
function iterateFrame<C>(lane: u32): u32 {
  const post = postBase + <usize>lane * postStride;
  const msg = msgBase + <usize>lane * msgStride;
  const synd = syndBase + <usize>lane * syndStride;
  const z = zSize;
  const k20 = v128.load(constPtr);
  const floor = v128.load(constPtr, 16);
  const zero = i8x16.splat(0);
  const bufA = scratch;
  const fA = bufA + <usize>maxDeg * SLOT;
  const bufB = fA + (<usize>maxDeg << 4);
  const fB = bufB + <usize>maxDeg * SLOT;
  let cnt = i8x16.splat(0);
  let total: u32 = 0;
  let pending: u32 = 0;
  for (let i: u32 = 0; i < mbRows; i++) {
    const k0 = load<u32>(entryStartBase + (<usize>i << 2));
    const d = load<u32>(entryStartBase + (<usize>(i + 1) << 2)) - k0;
    const last = <usize>(d - 1);
    const msgRow = msg + <usize>k0 * <usize>z;
    // Two groups of sixteen checks at once: their box-plus chains run side by side.
    for (let r0: u32 = 0; r0 < z; r0 += 32) {
      const c0 = (i << zShift) + r0;
      let parA = v128.load(synd + <usize>c0);
      let parB = v128.load(synd + <usize>c0, 16);
      const hardA0 = parA;
      const hardB0 = parB;
      let mpA = msgRow + <usize>r0 * <usize>d;
      let sA = bufA;
      let sB = bufB;
      let tp = addrTab + ((mpA - msg) >> 1);
      // Gather fused with the forward prefixes f[k] = m[0] [+] ... [+] m[k] (k < d - 1): the
      // gathers' independent work fills the latency of the two box-plus chains.
      parA = v128.xor(parA, gather(post + <usize>load<u32>(tp), mpA, sA, floor, zero));
      parB = v128.xor(parB, gather(post + <usize>load<u32>(tp, 8), mpA + 16, sB, floor, zero));
      let xa = mag(sA);
      let xb = mag(sB);
      let fpA = fA;
      let fpB = fB;
      v128.store(fpA, xa);
      v128.store(fpB, xb);
      const sLast = bufA + last * SLOT;
      tp += 16; mpA += 32; sA += SLOT; sB += SLOT;
      while (sA < sLast) {
        parA = v128.xor(parA, gather(post + <usize>load<u32>(tp), mpA, sA, floor, zero));
        parB = v128.xor(parB, gather(post + <usize>load<u32>(tp, 8), mpA + 16, sB, floor, zero));
        xa = boxplusV<C>(xa, mag(sA), k20, zero);
        xb = boxplusV<C>(xb, mag(sB), k20, zero);
        fpA += 16; fpB += 16;
        v128.store(fpA, xa);
        v128.store(fpB, xb);
        tp += 16; mpA += 32; sA += SLOT; sB += SLOT;
      }
      parA = v128.xor(parA, gather(post + <usize>load<u32>(tp), mpA, sA, floor, zero));
      parB = v128.xor(parB, gather(post + <usize>load<u32>(tp, 8), mpA + 16, sB, floor, zero));
      // Backward: edge k gets f[k-1] [+] b, b = m[k+1] [+] ... [+] m[d-1].
      sB = bufB + last * SLOT;
      fpA = fA + ((last - 1) << 4);
      fpB = fB + ((last - 1) << 4);
      let ba = mag(sA);
      let bb = mag(sB);
      let hA = scatter(post + <usize>load<u32>(tp), <usize>load<u32>(tp, 4), mpA, sA, v128.load(fpA), parA);
      let hB = scatter(post + <usize>load<u32>(tp, 8), <usize>load<u32>(tp, 12), mpA + 16, sB, v128.load(fpB), parB);
      while (sA > bufA + SLOT) {
        mpA -= 32; sA -= SLOT; sB -= SLOT; fpA -= 16; fpB -= 16; tp -= 16;
        const ea = boxplusV<C>(v128.load(fpA), ba, k20, zero);
        const eb = boxplusV<C>(v128.load(fpB), bb, k20, zero);
        ba = boxplusV<C>(ba, mag(sA), k20, zero);
        bb = boxplusV<C>(bb, mag(sB), k20, zero);
        hA = v128.xor(hA, scatter(post + <usize>load<u32>(tp), <usize>load<u32>(tp, 4), mpA, sA, ea, parA));
        hB = v128.xor(hB, scatter(post + <usize>load<u32>(tp, 8), <usize>load<u32>(tp, 12), mpA + 16, sB, eb, parB));
      }
      mpA -= 32; tp -= 16;
      hA = v128.xor(hA, scatter(post + <usize>load<u32>(tp), <usize>load<u32>(tp, 4), mpA, bufA, ba, parA));
      hB = v128.xor(hB, scatter(post + <usize>load<u32>(tp, 8), <usize>load<u32>(tp, 12), mpA + 16, bufB, bb, parB));
      // Count checks left unsatisfied right after their update (bytes: flushed every 120 pairs).
      cnt = i8x16.sub(i8x16.sub(cnt, v128.xor(hardA0, i8x16.lt_s(hA, zero))), v128.xor(hardB0, i8x16.lt_s(hB, zero)));
      if (++pending == 120) {
        total += sumBytes(cnt);
        cnt = i8x16.splat(0);
        pending = 0;
      }
    }
  }
  return total + sumBytes(cnt);
}

// @ts-ignore: decorator
@inline function sumBytes(x: v128): u32 {
  const s = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(x));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
}

/** The same iteration check by check (scalar build). */
function iterateFrameScalar<C>(lane: u32): u32 {
  const post = postBase + <usize>lane * postStride;
  const msg = msgBase + <usize>lane * msgStride;
  const synd = syndBase + <usize>lane * syndStride;
  const z = zSize;
  let unsat: u32 = 0;
  const q16Buf = scratch;
  const q8Buf = scratch + (<usize>maxDeg << 2);
  const fBuf = q8Buf + (<usize>maxDeg << 2);
  const aBuf = fBuf + (<usize>maxDeg << 2);
  for (let i: u32 = 0; i < mbRows; i++) {
    const k0 = load<u32>(entryStartBase + (<usize>i << 2));
    const d = load<u32>(entryStartBase + (<usize>(i + 1) << 2)) - k0;
    const msgRow = msg + <usize>k0 * <usize>z;
    for (let r: u32 = 0; r < z; r++) {
      const c = (i << zShift) + r;
      let par: i32 = load<i8>(synd + <usize>c);
      let hard = par;
      for (let k: u32 = 0; k < d; k++) {
        const colOff = <usize>load<u32>(entryColBase + (<usize>(k0 + k) << 2));
        const t = (r + load<u32>(entryShiftBase + (<usize>(k0 + k) << 2))) & (z - 1);
        const pa = post + colOff + (<usize>t << 1);
        store<u32>(aBuf + (<usize>k << 2), <u32>pa);
        const q = sat16(<i32>load<i16>(pa) - <i32>load<i8>(msgRow + ((<usize>(r >>> 5) * <usize>d + <usize>k) << 5) + <usize>(r & 31)));
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
        const rr = (par ^ (q8 >> 31)) != 0 ? -ext : ext;
        store<i8>(msgRow + ((<usize>(r >>> 5) * <usize>d + <usize>k) << 5) + <usize>(r & 31), <i8>rr);
        const np = sat16(load<i32>(q16Buf + (<usize>k << 2)) + rr);
        const pa = <usize>load<u32>(aBuf + (<usize>k << 2));
        store<i16>(pa, <i16>np);
        // Keep the mirror of a circulant's first sixteen variables current.
        const t = (r + load<u32>(entryShiftBase + (<usize>(k0 + <u32>k) << 2))) & (z - 1);
        if (t < PAD) store<i16>(pa + (<usize>z << 1), <i16>np);
        hard ^= np >> 31;
      }
      if (hard != 0) unsat++;
    }
  }
  return unsat;
}

/**
 * One layered iteration of each lane whose bit is set in `active` (other lanes cost nothing).
 * Writes to `out` (sixteen u32) how many checks of each lane were unsatisfied by the hard
 * decisions right after their own update: a cheap running estimate (a later check may flip a bit
 * an earlier one saw); 0 is confirmed with unsatisfied(). Taken after the update, a frame that
 * converges during this iteration is seen now, not one iteration later. Returns the number of
 * active lanes whose estimate is 0.
 */
export function iterate(active: u32, out: usize): u32 {
  let ok: u32 = 0;
  for (let l: u32 = 0; l < LANES; l++) {
    let u: u32 = 0;
    if ((active >>> l) & 1) {
      if (ASC_FEATURE_SIMD) u = fullCorrection ? iterateFrame<u64>(l) : iterateFrame<u32>(l);
      else u = fullCorrection ? iterateFrameScalar<u64>(l) : iterateFrameScalar<u32>(l);
      if (u == 0) ok++;
    }
    store<u32>(out + (<usize>l << 2), u);
  }
  return ok;
}

/**
 * Counts, for each lane in `active`, the checks whose hard decisions (sign of the posterior;
 * negative = bit 1) do not match the syndrome. Writes sixteen u32 at `out` (0 for other lanes);
 * returns how many active lanes have none.
 */
export function unsatisfied(active: u32, out: usize): u32 {
  let ok: u32 = 0;
  const z = zSize;
  for (let l: u32 = 0; l < LANES; l++) {
    let u: u32 = 0;
    if ((active >>> l) & 1) {
      const post = postBase + <usize>l * postStride;
      const synd = syndBase + <usize>l * syndStride;
      for (let i: u32 = 0; i < mbRows; i++) {
        const k0 = load<u32>(entryStartBase + (<usize>i << 2));
        const k1 = load<u32>(entryStartBase + (<usize>(i + 1) << 2));
        if (ASC_FEATURE_SIMD) {
          let cnt = i8x16.splat(0);
          for (let r0: u32 = 0; r0 < z; r0 += 16) {
            // Xor of the posteriors narrowed to bytes: its sign bit is the parity of their signs.
            let acc = i8x16.splat(0);
            for (let k = k0; k < k1; k++) {
              const o = (r0 + load<u32>(entryShiftBase + (<usize>k << 2))) & (z - 1);
              const pa = post + <usize>load<u32>(entryColBase + (<usize>k << 2)) + (<usize>o << 1);
              acc = v128.xor(acc, i8x16.narrow_i16x8_s(v128.load(pa), v128.load(pa, 16)));
            }
            cnt = i8x16.sub(cnt, v128.xor(v128.load(synd + (<usize>(i << zShift) + <usize>r0)), i8x16.lt_s(acc, i8x16.splat(0))));
          }
          u += sumBytes(cnt); // at most Z / 16 <= 128 per lane of cnt (the host allows Z <= 2048)
        } else {
          for (let r: u32 = 0; r < z; r++) {
            let acc: i32 = load<i8>(synd + (<usize>(i << zShift) + <usize>r));
            for (let k = k0; k < k1; k++) {
              const o = (r + load<u32>(entryShiftBase + (<usize>k << 2))) & (z - 1);
              acc ^= (<i32>load<i16>(post + <usize>load<u32>(entryColBase + (<usize>k << 2)) + (<usize>o << 1))) >> 31;
            }
            if (acc != 0) u++;
          }
        }
      }
      if (u == 0) ok++;
    }
    store<u32>(out + (<usize>l << 2), u);
  }
  return ok;
}

/**
 * Syndrome of a bit-packed word (the encoder side: Alice's frame). Writes ceil(m/32) u32 words,
 * bit c = parity of check c.
 */
export function syndrome(bits: usize, out: usize): void {
  const z = zSize;
  const blockBytes = <usize>(z + 3 * PAD) << 1;
  // From the base matrix, 32 checks at a time: entry k of base row i puts variable
  // col*Z + (r + shift) mod Z in check i*Z + r, so checks r0 .. r0+31 see 32 consecutive bits of
  // the circulant, cyclically (Z is a multiple of 32, so each circulant starts on a word).
  for (let i: u32 = 0; i < mbRows; i++) {
    const k0 = load<u32>(entryStartBase + (<usize>i << 2));
    const k1 = load<u32>(entryStartBase + (<usize>(i + 1) << 2));
    for (let r0: u32 = 0; r0 < z; r0 += 32) {
      let acc: u32 = 0;
      for (let k = k0; k < k1; k++) {
        // The entry's column, from its posterior offset (col * blockBytes + PAD * 2).
        const col = <u32>((<usize>load<u32>(entryColBase + (<usize>k << 2)) - (<usize>PAD << 1)) / blockBytes);
        const t = (r0 + load<u32>(entryShiftBase + (<usize>k << 2))) & (z - 1);
        const circ = bits + (<usize>(col << zShift) >>> 3);
        const at = circ + (<usize>(t >>> 5) << 2);
        if (t + 32 <= z) acc ^= <u32>(load<u64>(at) >>> <u64>(t & 31));
        else {
          // Wraps: the last c bits of the circulant, then its first 32 - c (here t & 31 > 0).
          const c = z - t;
          acc ^= (load<u32>(at) >>> (t & 31)) | (load<u32>(circ) << c);
        }
      }
      store<u32>(out + (<usize>(((i << zShift) + r0) >>> 5) << 2), acc);
    }
  }
}

let keyOffBase: usize = 0; // u32[k]: byte offset in a lane's posteriors of each key bit
let orderOffBase: usize = 0; // u32[d]: the same for the reserved positions, in puncturing order
let keyCount: u32 = 0;
let reservedCount: u32 = 0;

/**
 * Where the key bits sit in a frame and which positions are reserved (punctured or shortened):
 * code positions, turned here (in place) into posterior offsets.
 */
export function setLayout(keyPos: usize, k: u32, order: usize, d: u32): void {
  keyOffBase = keyPos;
  keyCount = k;
  orderOffBase = order;
  reservedCount = d;
  for (let j: u32 = 0; j < k; j++) store<u32>(keyPos + (<usize>j << 2), <u32>(postAddr(0, load<u32>(keyPos + (<usize>j << 2))) - postBase));
  for (let i: u32 = 0; i < d; i++) store<u32>(order + (<usize>i << 2), <u32>(postAddr(0, load<u32>(order + (<usize>i << 2))) - postBase));
}

/**
 * Loads a frame into a lane: key bits (one per byte) get the channel LLR ±llr, the first
 * `punctured` reserved positions LLR 0, the other reserved positions "known 0"; the syndrome
 * (one bit per byte) becomes the lane's check signs; messages are cleared.
 */
export function loadFrame(lane: u32, keyBytes: usize, llr: i32, punctured: u32, syndBytes: usize): void {
  const post = postBase + <usize>lane * postStride;
  const blockBytes = <usize>(zSize + 3 * PAD) << 1;
  for (let j: u32 = 0; j < nbCols; j++) {
    const a = post + <usize>j * blockBytes + (<usize>PAD << 1);
    for (let o: usize = 0; o < (<usize>zSize << 1); o += 8) store<u64>(a + o, 0x7fff7fff7fff7fff);
  }
  for (let i: u32 = 0; i < punctured && i < reservedCount; i++) store<i16>(post + <usize>load<u32>(orderOffBase + (<usize>i << 2)), 0);
  for (let j: u32 = 0; j < keyCount; j++) {
    store<i16>(post + <usize>load<u32>(keyOffBase + (<usize>j << 2)), <i16>(load<u8>(keyBytes + <usize>j) ? -llr : llr));
  }
  mirrorLane(lane);
  const synd = syndBase + <usize>lane * syndStride;
  for (let c: u32 = 0; c < nChecks; c++) store<i8>(synd + <usize>c, load<u8>(syndBytes + <usize>c) ? -1 : 0);
  resetLane(lane);
}

/** Hard decisions of one lane at the key positions, one bit per byte at `out`. */
export function extractKey(lane: u32, out: usize): void {
  const post = postBase + <usize>lane * postStride;
  for (let j: u32 = 0; j < keyCount; j++) {
    store<u8>(out + <usize>j, <u8>(<u32>load<i16>(post + <usize>load<u32>(keyOffBase + (<usize>j << 2))) >>> 31));
  }
}

/** Posteriors of one lane at the key positions, in key order: i16 at `out`. */
export function keyPosteriors(lane: u32, out: usize): void {
  const post = postBase + <usize>lane * postStride;
  for (let j: u32 = 0; j < keyCount; j++) {
    store<i16>(out + (<usize>j << 1), load<i16>(post + <usize>load<u32>(keyOffBase + (<usize>j << 2))));
  }
}
