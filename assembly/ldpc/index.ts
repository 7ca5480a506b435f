// Layered belief-propagation decoder for syndrome-based LDPC reconciliation, eight frames at once.
//
// Every message is a 16-bit fixed-point LLR (LLR_SCALE units per nat, saturating), stored
// interleaved by lane: the value of variable v for frame (lane) l sits at ((v << 3) + l) << 1, so
// one v128 holds the same variable of all eight frames and the SIMD build updates eight frames
// with one instruction. The scalar build runs the identical integer arithmetic lane by lane, so the
// two builds (and the TypeScript twin) give bit-identical results.
//
// Check update: sum-product on magnitudes with forward/backward box-plus, the correction term
// log(1 + e^-x) replaced by max(0, 5/8 - x/4) (the usual piecewise-linear approximation; close to
// exact sum-product, where plain min-sum loses much more at the high check degrees that high-rate
// codes need). Signs are the parity of the incoming signs xor
// the frame's syndrome bit. Schedule: row-layered (each check updates the posteriors at once).
export { arena } from '../arena';

// @ts-ignore: decorator
@inline const LANES: i32 = 8;
/** Correction constant 5/8 nat in LLR_SCALE = 32 units. */
// @ts-ignore: decorator
@inline const CORR: i32 = 20;

let rowStart: usize = 0; // u32[m + 1]: first edge of each check
let cols: usize = 0; // u32[E]: variable of each edge, rows in order
let post: usize = 0; // i16[n * 8]: posterior LLR per variable and lane
let msg: usize = 0; // i16[E * 8]: check-to-variable message per edge and lane
let synd: usize = 0; // i16[m * 8]: 0 or -1 (syndrome bit) per check and lane
let scratch: usize = 0; // 3 * dmax * 16 bytes
let nVars: u32 = 0;
let nChecks: u32 = 0;
let maxDeg: u32 = 0;

/** Points the decoder at a code (CSR rows) and its working buffers; all laid out by the host. */
export function configure(rowStartPtr: usize, colsPtr: usize, n: u32, m: u32, dmax: u32, postPtr: usize, msgPtr: usize, syndPtr: usize, scratchPtr: usize): void {
  rowStart = rowStartPtr;
  cols = colsPtr;
  nVars = n;
  nChecks = m;
  maxDeg = dmax;
  post = postPtr;
  msg = msgPtr;
  synd = syndPtr;
  scratch = scratchPtr;
}

/** Clears the check-to-variable messages of one lane (a new frame starts from the channel alone). */
export function resetLane(lane: u32): void {
  const edges = load<u32>(rowStart + (<usize>nChecks << 2));
  let p = msg + (<usize>lane << 1);
  for (let e: u32 = 0; e < edges; e++) {
    store<i16>(p, 0);
    p += 16;
  }
}

// @ts-ignore: decorator
@inline function corr(t: i32): i32 {
  const c = CORR - (t >> 2);
  return c > 0 ? c : 0;
}

/**
 * Box-plus of two magnitudes (both in [0, 32767]): min(x, y) - max(0, C - |x - y|/4), floored at
 * 0. The exact rule also adds back log(1 + e^-(x+y)); that term only matters when both inputs are
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

/** boxplus() on eight lanes; unsigned saturation does both max(0, .) floors. */
// @ts-ignore: decorator
@inline function boxplusV(x: v128, y: v128, cst: v128): v128 {
  const mn = i16x8.min_s(x, y);
  const d = i16x8.sub(i16x8.max_s(x, y), mn);
  return i16x8.sub_sat_u(mn, i16x8.sub_sat_u(cst, i16x8.shr_u(d, 2)));
}

function iterateSimd(out: usize): void {
  for (let l = 0; l < LANES; l++) store<u32>(out + (<usize>l << 2), 0);
  let cnt = i16x8.splat(0);
  const cst = i16x8.splat(<i16>CORR);
  const floor = i16x8.splat(-32767);
  const qBuf = scratch;
  const mBuf = scratch + (<usize>maxDeg << 4);
  const fBuf = mBuf + (<usize>maxDeg << 4);
  let e0 = load<u32>(rowStart);
  for (let c: u32 = 0; c < nChecks; c++) {
    const e1 = load<u32>(rowStart + (<usize>(c + 1) << 2));
    const d = e1 - e0;
    let par = v128.load(synd + (<usize>c << 4));
    let hard = par;
    // Variable-to-check messages: posterior minus this check's last message.
    for (let k: u32 = 0; k < d; k++) {
      const v = load<u32>(cols + (<usize>(e0 + k) << 2));
      const p = v128.load(post + (<usize>v << 4));
      hard = v128.xor(hard, i16x8.shr_s(p, 15));
      let q = i16x8.sub_sat_s(p, v128.load(msg + (<usize>(e0 + k) << 4)));
      q = i16x8.max_s(q, floor);
      const a = i16x8.abs(q);
      v128.store(qBuf + (<usize>k << 4), q);
      v128.store(mBuf + (<usize>k << 4), a);
      par = v128.xor(par, i16x8.shr_s(q, 15));
    }
    // Forward prefixes F[k] = |q0| [+] ... [+] |qk| for k < d - 1.
    let f = v128.load(mBuf);
    v128.store(fBuf, f);
    for (let k: u32 = 1; k + 1 < d; k++) {
      f = boxplusV(f, v128.load(mBuf + (<usize>k << 4)), cst);
      v128.store(fBuf + (<usize>k << 4), f);
    }
    // Backward pass, writing each extrinsic message as soon as it is known.
    let b = v128.load(mBuf + (<usize>(d - 1) << 4));
    for (let k: i32 = <i32>d - 1; k >= 0; k--) {
      let ext: v128;
      if (k == <i32>d - 1) ext = v128.load(fBuf + (<usize>(k - 1) << 4));
      else if (k == 0) ext = b;
      else {
        ext = boxplusV(v128.load(fBuf + (<usize>(k - 1) << 4)), b, cst);
        b = boxplusV(b, v128.load(mBuf + (<usize>k << 4)), cst);
      }
      const q = v128.load(qBuf + (<usize>k << 4));
      const s = v128.xor(par, i16x8.shr_s(q, 15));
      const r = i16x8.sub(v128.xor(ext, s), s);
      const v = load<u32>(cols + (<usize>(e0 + <u32>k) << 2));
      v128.store(msg + (<usize>(e0 + <u32>k) << 4), r);
      v128.store(post + (<usize>v << 4), i16x8.add_sat_s(q, r));
    }
    cnt = i16x8.sub(cnt, hard);
    if ((c & 0x3fff) == 0x3fff || c + 1 == nChecks) {
      v128.store(out, i32x4.add(v128.load(out), i32x4.extend_low_i16x8_u(cnt)));
      v128.store(out + 16, i32x4.add(v128.load(out + 16), i32x4.extend_high_i16x8_u(cnt)));
      cnt = i16x8.splat(0);
    }
    e0 = e1;
  }
}

function iterateLane(lane: u32, out: usize): void {
  let unsat: u32 = 0;
  const qBuf = scratch;
  const mBuf = scratch + (<usize>maxDeg << 2);
  const fBuf = mBuf + (<usize>maxDeg << 2);
  const lo = <usize>lane << 1;
  let e0 = load<u32>(rowStart);
  for (let c: u32 = 0; c < nChecks; c++) {
    const e1 = load<u32>(rowStart + (<usize>(c + 1) << 2));
    const d = e1 - e0;
    let par: i32 = load<i16>(synd + (<usize>c << 4) + lo);
    let hard = par;
    for (let k: u32 = 0; k < d; k++) {
      const v = load<u32>(cols + (<usize>(e0 + k) << 2));
      const p = <i32>load<i16>(post + (<usize>v << 4) + lo);
      hard ^= p >> 31;
      let q = sat16(p - <i32>load<i16>(msg + (<usize>(e0 + k) << 4) + lo));
      if (q < -32767) q = -32767;
      const a = q < 0 ? -q : q;
      store<i32>(qBuf + (<usize>k << 2), q);
      store<i32>(mBuf + (<usize>k << 2), a);
      par ^= q >> 31;
    }
    let f = load<i32>(mBuf);
    store<i32>(fBuf, f);
    for (let k: u32 = 1; k + 1 < d; k++) {
      f = boxplus(f, load<i32>(mBuf + (<usize>k << 2)));
      store<i32>(fBuf + (<usize>k << 2), f);
    }
    let b = load<i32>(mBuf + (<usize>(d - 1) << 2));
    for (let k: i32 = <i32>d - 1; k >= 0; k--) {
      let ext: i32;
      if (k == <i32>d - 1) ext = load<i32>(fBuf + (<usize>(k - 1) << 2));
      else if (k == 0) ext = b;
      else {
        ext = boxplus(load<i32>(fBuf + (<usize>(k - 1) << 2)), b);
        b = boxplus(b, load<i32>(mBuf + (<usize>k << 2)));
      }
      const q = load<i32>(qBuf + (<usize>k << 2));
      const r = (par ^ (q >> 31)) != 0 ? -ext : ext;
      const v = load<u32>(cols + (<usize>(e0 + <u32>k) << 2));
      store<i16>(msg + (<usize>(e0 + <u32>k) << 4) + lo, <i16>r);
      store<i16>(post + (<usize>v << 4) + lo, <i16>sat16(q + r));
    }
    if (hard != 0) unsat++;
    e0 = e1;
  }
  store<u32>(out + (<usize>lane << 2), unsat);
}

/**
 * One layered iteration over every check. `active` has bit l set for each lane holding a frame;
 * the SIMD build updates all eight lanes regardless (an idle lane costs nothing extra), the scalar
 * build skips idle lanes. Writes to `out` (eight u32) how many checks of each lane were
 * unsatisfied by the hard decisions as each check was reached: a cheap running estimate (a later
 * check may flip a bit an earlier one saw); 0 is confirmed with unsatisfied(). Returns the number
 * of lanes whose estimate is 0.
 */
export function iterate(active: u32, out: usize): u32 {
  if (ASC_FEATURE_SIMD) {
    iterateSimd(out);
  } else {
    for (let l: u32 = 0; l < <u32>LANES; l++) {
      if ((active >>> l) & 1) iterateLane(l, out);
      else store<u32>(out + (<usize>l << 2), 0);
    }
  }
  let ok: u32 = 0;
  for (let l = 0; l < LANES; l++) if (load<u32>(out + (<usize>l << 2)) == 0) ok++;
  return ok;
}

/**
 * Counts, per lane, the checks whose hard decisions (sign of the posterior; negative = bit 1) do
 * not match the syndrome. Writes eight u32 at `out`; returns how many lanes have none.
 */
export function unsatisfied(out: usize): u32 {
  for (let l = 0; l < LANES; l++) store<u32>(out + (<usize>l << 2), 0);
  let e0 = load<u32>(rowStart);
  if (ASC_FEATURE_SIMD) {
    let cnt = i16x8.splat(0);
    for (let c: u32 = 0; c < nChecks; c++) {
      const e1 = load<u32>(rowStart + (<usize>(c + 1) << 2));
      let acc = v128.load(synd + (<usize>c << 4));
      for (let e = e0; e < e1; e++) {
        const v = load<u32>(cols + (<usize>e << 2));
        acc = v128.xor(acc, i16x8.shr_s(v128.load(post + (<usize>v << 4)), 15));
      }
      cnt = i16x8.sub(cnt, acc);
      e0 = e1;
      // Flush before the 16-bit counters can overflow.
      if ((c & 0x3fff) == 0x3fff || c + 1 == nChecks) {
        const lo = i32x4.extend_low_i16x8_u(cnt);
        const hi = i32x4.extend_high_i16x8_u(cnt);
        v128.store(out, i32x4.add(v128.load(out), lo));
        v128.store(out + 16, i32x4.add(v128.load(out + 16), hi));
        cnt = i16x8.splat(0);
      }
    }
  } else {
    for (let c: u32 = 0; c < nChecks; c++) {
      const e1 = load<u32>(rowStart + (<usize>(c + 1) << 2));
      for (let l = 0; l < LANES; l++) {
        const lo = <usize>l << 1;
        let acc: i32 = load<i16>(synd + (<usize>c << 4) + lo);
        for (let e = e0; e < e1; e++) {
          const v = load<u32>(cols + (<usize>e << 2));
          acc ^= (<i32>load<i16>(post + (<usize>v << 4) + lo)) >> 31;
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
  const words = (nVars + 31) >>> 5;
  let p = post + (<usize>lane << 1);
  for (let w: u32 = 0; w < words; w++) {
    let bits: u32 = 0;
    const top = min<u32>(32, nVars - (w << 5));
    for (let i: u32 = 0; i < top; i++) {
      bits |= (<u32>(load<i16>(p) >>> 15) & 1) << i;
      p += 16;
    }
    store<u32>(out + (<usize>w << 2), bits);
  }
}

/**
 * Syndrome of a bit-packed word (the encoder side: Alice's frame). Writes ceil(m/32) u32 words,
 * bit c = parity of check c.
 */
export function syndrome(bits: usize, out: usize): void {
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
