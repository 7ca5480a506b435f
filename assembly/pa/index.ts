// Privacy amplification: Toeplitz hashing over GF(2).
//
// y = T x with T[i][j] = s[i - j + n - 1] (seed s of n + m - 1 bits), i.e. y is bits n-1 .. n+m-2
// of the carry-less product s(z) x(z). We compute that product cyclically, mod z^(K P) - 1 with
// K P >= n + m - 1 (so the wrap never reaches the bits kept), by Schönhage's ternary FFT over
// R_L = GF(2)[y]/(y^2L + y^L + 1) (A. Schönhage, Acta Informatica 7, 1977; Brent, Gaudry, Thomé,
// Zimmermann, "Faster multiplication in GF(2)[x]", ANTS 2008): s and x are cut into K = 3^j pieces
// of P bits, each piece an element of R_L (L >= P, so piece products never wrap); y has order 3L in
// R_L, so w = y^(3L/K) is a K-th root of unity and the DFT needs only shifts and XORs; 3^j is odd,
// so the inverse DFT needs no scaling in characteristic 2. Pointwise products are Karatsuba over a
// comb (López-Dahab, 4-bit windows) base case of up to 6 words held in registers.
//
// All bit strings are packed little-endian in 64-bit words. The host (host/qkd-link/kernels/pa.ts)
// chooses K, P, L (planToeplitz) and lays out inputs; the kernel never allocates.
export { arena } from '../arena';

const KARATSUBA_BASE: i32 = 6; // 64-bit words (the scalar comb's and the small SIMD comb's limit)
const KARATSUBA_BASE_SIMD: i32 = 10; // the large SIMD comb's limit

// Ring parameters of the current call.
let L: i32 = 0;
let hw: i32 = 0; // words per half
let ew: usize = 0; // bytes per element (two halves)
let topMask: u64 = 0;
// Scratch regions inside the work area (byte addresses).
let T1: usize = 0; // padded temporaries: zeros(hw+1) | half0 | zeros(hw+1) | half1 | zeros(hw+1)
let T2: usize = 0;
let PA: usize = 0; // three 2hw-word products
let PB: usize = 0;
let PM: usize = 0;
let SA: usize = 0;
let SB: usize = 0;
let SCR: usize = 0; // Karatsuba scratch

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): u64 {
  return load<u64>(p + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: u64): void {
  store<u64>(p + (<usize>i << 3), v);
}
// @ts-ignore: decorator
@inline function xr(p: usize, i: i32, v: u64): void {
  const a = p + (<usize>i << 3);
  store<u64>(a, load<u64>(a) ^ v);
}

function zero(p: usize, words: i32): void {
  memory.fill(p, 0, <usize>words << 3);
}

/** Bytes of padding-inclusive temporary: 3 (hw + 1) + 2 hw words. */
// @ts-ignore: decorator
@inline function padWords(h: i32): i32 {
  return 5 * h + 3;
}
// Half 0 and half 1 of a padded temporary.
// @ts-ignore: decorator
@inline function pad0(t: usize): usize {
  return t + (<usize>(hw + 1) << 3);
}
// @ts-ignore: decorator
@inline function pad1(t: usize): usize {
  return t + (<usize>(3 * hw + 2) << 3);
}

/** dst[0 .. ceil(nbits/64)) ^= bits [from, from + nbits) of src; masks the top word to nbits. */
function xorBits(dst: usize, src: usize, from: usize, nbits: usize, srcWords: usize): void {
  const q = from >>> 6;
  const b = <u64>(from & 63);
  const words = <i32>((nbits + 63) >>> 6);
  for (let i = 0; i < words; i++) {
    const k = q + <usize>i;
    const lo: u64 = k < srcWords ? load<u64>(src + (k << 3)) : 0;
    const hi: u64 = k + 1 < srcWords ? load<u64>(src + ((k + 1) << 3)) : 0;
    xr(dst, i, (lo >>> b) | ((hi << 1) << (63 - b)));
  }
  if ((nbits & 63) != 0) {
    const p = dst + (<usize>(words - 1) << 3);
    store<u64>(p, load<u64>(p) & ((<u64>1 << <u64>(nbits & 63)) - 1));
  }
}

/** dst ^= src (nw words) placed at bit offset `at` of dst (dst has room for nw + 1 words there). */
function xorAt(dst: usize, at: usize, src: usize, nw: i32): void {
  const d = dst + ((at >>> 6) << 3);
  const b = <u64>(at & 63);
  let carry: u64 = 0;
  for (let i = 0; i < nw; i++) {
    const v = ld(src, i);
    xr(d, i, (v << b) | carry);
    carry = (v >>> 1) >>> (63 - b);
  }
  xr(d, nw, carry);
}

/**
 * Applies zeta^q (zeta = y^L, a cube root of unity) to the element at src and writes it into the
 * padded temporary t: (a0, a1) -> (a1, a0 + a1) -> (a0 + a1, a0). src may be t's own halves.
 */
function zetaInto(t: usize, src0: usize, src1: usize, q: i32): void {
  const d0 = pad0(t);
  const d1 = pad1(t);
  if (q == 0) {
    if (d0 != src0) memory.copy(d0, src0, <usize>hw << 3);
    if (d1 != src1) memory.copy(d1, src1, <usize>hw << 3);
  } else if (q == 1) {
    for (let i = 0; i < hw; i++) {
      const a0 = ld(src0, i);
      const a1 = ld(src1, i);
      st(d0, i, a1);
      st(d1, i, a0 ^ a1);
    }
  } else {
    for (let i = 0; i < hw; i++) {
      const a0 = ld(src0, i);
      const a1 = ld(src1, i);
      st(d0, i, a0 ^ a1);
      st(d1, i, a0);
    }
  }
}

/**
 * dst = t * y^r for 0 <= r < L, t a padded temporary (zero words around each half make every read
 * in range). a0 y^r keeps its low part in half 0 and moves what passes y^L to half 1; a1 y^(L+r)
 * lands in half 1, and what passes y^2L = y^L + 1 lands in both halves.
 */
function shiftInto(dst: usize, t: usize, r: i32): void {
  const s0 = pad0(t);
  const s1 = pad1(t);
  const d1 = dst + (<usize>hw << 3);
  if (r == 0) {
    memory.copy(dst, s0, <usize>hw << 3);
    memory.copy(d1, s1, <usize>hw << 3);
    return;
  }
  const q = r >>> 6;
  const b = <u64>(r & 63);
  const rt = L - r;
  const qt = rt >>> 6;
  const bt = <u64>(rt & 63);
  for (let i = 0; i < hw; i++) {
    // word i of (a << r) and of (a >> (L - r)), for a = a0 and a = a1
    const l0 = (ld(s0, i - q) << b) | ((ld(s0, i - q - 1) >>> 1) >>> (63 - b));
    const l1 = (ld(s1, i - q) << b) | ((ld(s1, i - q - 1) >>> 1) >>> (63 - b));
    const h0 = (ld(s0, i + qt) >>> bt) | ((ld(s0, i + qt + 1) << 1) << (63 - bt));
    const h1 = (ld(s1, i + qt) >>> bt) | ((ld(s1, i + qt + 1) << 1) << (63 - bt));
    st(dst, i, l0 ^ h1);
    st(d1, i, h0 ^ l1 ^ h1);
  }
  // The shifted-left parts may carry bits past L in the top word.
  st(dst, hw - 1, ld(dst, hw - 1) & topMask);
  st(d1, hw - 1, ld(d1, hw - 1) & topMask);
}

/** dst = src * y^e, 0 <= e < 3L (src may be a padded temporary's halves or an element). */
function mulPowInto(dst: usize, t: usize, src0: usize, src1: usize, e: i32): void {
  const q = e / L;
  zetaInto(t, src0, src1, q);
  shiftInto(dst, t, e - q * L);
}

/** Radix-3 decimation-in-frequency butterfly with twiddles y^e1, y^e2. */
function dif(a: usize, b: usize, c: usize, e1: i32, e2: i32): void {
  const ha = a + (<usize>hw << 3);
  const hb = b + (<usize>hw << 3);
  const hc = c + (<usize>hw << 3);
  const u0 = pad0(T1), u1 = pad1(T1), v0 = pad0(T2), v1 = pad1(T2);
  if (ASC_FEATURE_SIMD) {
    let i = 0;
    for (; i + 2 <= hw; i += 2) {
      const o = <usize>i << 3;
      const a0 = v128.load(a + o), a1 = v128.load(ha + o);
      const b0 = v128.load(b + o), b1 = v128.load(hb + o);
      const c0 = v128.load(c + o), c1 = v128.load(hc + o);
      const bx = v128.xor(b0, b1);
      const cx = v128.xor(c0, c1);
      v128.store(a + o, v128.xor(v128.xor(a0, b0), c0));
      v128.store(ha + o, v128.xor(v128.xor(a1, b1), c1));
      v128.store(u0 + o, v128.xor(v128.xor(a0, b1), cx)); // a + zeta b + zeta^2 c
      v128.store(u1 + o, v128.xor(v128.xor(a1, bx), c0));
      v128.store(v0 + o, v128.xor(v128.xor(a0, bx), c1)); // a + zeta^2 b + zeta c
      v128.store(v1 + o, v128.xor(v128.xor(a1, b0), cx));
    }
    for (; i < hw; i++) difWord(a, ha, b, hb, c, hc, u0, u1, v0, v1, i);
  } else {
    for (let i = 0; i < hw; i++) difWord(a, ha, b, hb, c, hc, u0, u1, v0, v1, i);
  }
  mulPowInto(b, T1, u0, u1, e1);
  mulPowInto(c, T2, v0, v1, e2);
}

// @ts-ignore: decorator
@inline function difWord(a: usize, ha: usize, b: usize, hb: usize, c: usize, hc: usize, u0: usize, u1: usize, v0: usize, v1: usize, i: i32): void {
  const a0 = ld(a, i), a1 = ld(ha, i);
  const b0 = ld(b, i), b1 = ld(hb, i);
  const c0 = ld(c, i), c1 = ld(hc, i);
  st(a, i, a0 ^ b0 ^ c0);
  st(ha, i, a1 ^ b1 ^ c1);
  st(u0, i, a0 ^ b1 ^ c0 ^ c1);
  st(u1, i, a1 ^ b0 ^ b1 ^ c0);
  st(v0, i, a0 ^ b0 ^ b1 ^ c1);
  st(v1, i, a1 ^ b0 ^ c0 ^ c1);
}

/** Radix-3 decimation-in-time butterfly with inverse twiddles y^-e1, y^-e2. */
function dit(a: usize, b: usize, c: usize, e1: i32, e2: i32): void {
  const ha = a + (<usize>hw << 3);
  let b0p = b, b1p = b + (<usize>hw << 3);
  let c0p = c, c1p = c + (<usize>hw << 3);
  if (e1 != 0) {
    // The twiddled b and c go to T1/T2's half slots; the T1/T2 pads serve as shift temporaries.
    mulPowInto(SA, T1, b0p, b1p, 3 * L - e1);
    mulPowInto(SB, T2, c0p, c1p, 3 * L - e2);
    b0p = SA;
    b1p = SA + (<usize>hw << 3);
    c0p = SB;
    c1p = SB + (<usize>hw << 3);
  }
  const hb = b + (<usize>hw << 3);
  const hc = c + (<usize>hw << 3);
  for (let i = 0; i < hw; i++) {
    const a0 = ld(a, i), a1 = ld(ha, i);
    const b0 = ld(b0p, i), b1 = ld(b1p, i);
    const c0 = ld(c0p, i), c1 = ld(c1p, i);
    st(a, i, a0 ^ b0 ^ c0);
    st(ha, i, a1 ^ b1 ^ c1);
    st(b, i, a0 ^ b0 ^ b1 ^ c1); // a + zeta^2 b + zeta c (the inverse root's zeta is zeta^2)
    st(hb, i, a1 ^ b0 ^ c0 ^ c1);
    st(c, i, a0 ^ b1 ^ c0 ^ c1); // a + zeta b + zeta^2 c
    st(hc, i, a1 ^ b0 ^ b1 ^ c0);
  }
}

// @ts-ignore: decorator
@inline function shlIn(lo: v128, x: v128, s: i32): v128 {
  // x << s as a 128-bit number, its low s bits filled from the top of lo (the next-lower v128); 0 < s < 64.
  return v128.or(i64x2.shl(x, s), i64x2.shr_u(i64x2.shuffle(lo, x, 1, 2), 64 - s));
}

// @ts-ignore: decorator
@inline function shl1x4(p: usize, q: usize): void {
  // q[0..4) = p[0..4) << 1 as one 512-bit number (four v128, low first).
  const x0 = v128.load(p), x1 = v128.load(p, 16), x2 = v128.load(p, 32), x3 = v128.load(p, 48);
  const z = i64x2.splat(0);
  v128.store(q, shlIn(z, x0, 1));
  v128.store(q, shlIn(x0, x1, 1), 16);
  v128.store(q, shlIn(x1, x2, 1), 32);
  v128.store(q, shlIn(x2, x3, 1), 48);
}

// @ts-ignore: decorator
@inline function nib(a: u64, sh: u64): usize {
  return (<usize>(a >>> sh) & 15) << 7;
}

/**
 * Comb multiplication for n <= 6 words with the product held in six v128 registers (the
 * memory-accumulating comb stalls on store-to-load forwarding of overlapping vectors). Each of the
 * 16 table entries u b is kept twice, word-aligned and shifted up one word, so every update is four
 * aligned vector XORs.
 */
function combMulSimd6(out: usize, a: usize, b: usize, n: i32, tab: usize): void {
  // Entry u: 8 words even-aligned at tab + 128u, 8 words shifted by one word at tab + 128u + 64.
  zero(tab, 32);
  memory.copy(tab + 128, b, <usize>n << 3);
  memory.fill(tab + 128 + (<usize>n << 3), 0, <usize>(8 - n) << 3);
  const b0 = v128.load(tab + 128), b1 = v128.load(tab + 128, 16), b2 = v128.load(tab + 128, 32), b3 = v128.load(tab + 128, 48);
  for (let u = 2; u < 16; u++) {
    const d = tab + (<usize>u << 7);
    if ((u & 1) == 0) shl1x4(tab + (<usize>(u >> 1) << 7), d);
    else {
      const s = d - 128;
      v128.store(d, v128.xor(v128.load(s), b0));
      v128.store(d, v128.xor(v128.load(s, 16), b1), 16);
      v128.store(d, v128.xor(v128.load(s, 32), b2), 32);
      v128.store(d, v128.xor(v128.load(s, 48), b3), 48);
    }
  }
  const z = i64x2.splat(0);
  for (let u = 0; u < 16; u++) {
    const d = tab + (<usize>u << 7);
    const x0 = v128.load(d), x1 = v128.load(d, 16), x2 = v128.load(d, 32), x3 = v128.load(d, 48);
    v128.store(d, i64x2.shuffle(z, x0, 1, 2), 64);
    v128.store(d, i64x2.shuffle(x0, x1, 1, 2), 80);
    v128.store(d, i64x2.shuffle(x1, x2, 1, 2), 96);
    v128.store(d, i64x2.shuffle(x2, x3, 1, 2), 112);
  }
  const a0: u64 = ld(a, 0);
  const a1: u64 = n > 1 ? ld(a, 1) : 0;
  const a2: u64 = n > 2 ? ld(a, 2) : 0;
  const a3: u64 = n > 3 ? ld(a, 3) : 0;
  const a4: u64 = n > 4 ? ld(a, 4) : 0;
  const a5: u64 = n > 5 ? ld(a, 5) : 0;
  let c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z;
  for (let k: i32 = 15; k >= 0; k--) {
    const sh = <u64>(k << 2);
    let p = tab + nib(a0, sh);
    c0 = v128.xor(c0, v128.load(p)); c1 = v128.xor(c1, v128.load(p, 16)); c2 = v128.xor(c2, v128.load(p, 32)); c3 = v128.xor(c3, v128.load(p, 48));
    p = tab + nib(a1, sh) + 64;
    c0 = v128.xor(c0, v128.load(p)); c1 = v128.xor(c1, v128.load(p, 16)); c2 = v128.xor(c2, v128.load(p, 32)); c3 = v128.xor(c3, v128.load(p, 48));
    if (n > 2) {
      p = tab + nib(a2, sh);
      c1 = v128.xor(c1, v128.load(p)); c2 = v128.xor(c2, v128.load(p, 16)); c3 = v128.xor(c3, v128.load(p, 32)); c4 = v128.xor(c4, v128.load(p, 48));
      p = tab + nib(a3, sh) + 64;
      c1 = v128.xor(c1, v128.load(p)); c2 = v128.xor(c2, v128.load(p, 16)); c3 = v128.xor(c3, v128.load(p, 32)); c4 = v128.xor(c4, v128.load(p, 48));
      if (n > 4) {
        p = tab + nib(a4, sh);
        c2 = v128.xor(c2, v128.load(p)); c3 = v128.xor(c3, v128.load(p, 16)); c4 = v128.xor(c4, v128.load(p, 32)); c5 = v128.xor(c5, v128.load(p, 48));
        p = tab + nib(a5, sh) + 64;
        c2 = v128.xor(c2, v128.load(p)); c3 = v128.xor(c3, v128.load(p, 16)); c4 = v128.xor(c4, v128.load(p, 32)); c5 = v128.xor(c5, v128.load(p, 48));
      }
    }
    if (k > 0) {
      c5 = shlIn(c4, c5, 4);
      c4 = shlIn(c3, c4, 4);
      c3 = shlIn(c2, c3, 4);
      c2 = shlIn(c1, c2, 4);
      c1 = shlIn(c0, c1, 4);
      c0 = shlIn(z, c0, 4);
    }
  }
  v128.store(out, c0);
  if (n > 1) v128.store(out, c1, 16);
  if (n > 2) v128.store(out, c2, 32);
  if (n > 3) v128.store(out, c3, 48);
  if (n > 4) v128.store(out, c4, 64);
  if (n > 5) v128.store(out, c5, 80);
}

/**
 * Scalar twin of combMulSimd6 for the build without SIMD: the 12-word product lives in locals,
 * the table holds u b (7 words, padded to 8) for the 16 nibbles u.
 */
function combMulScalar6(out: usize, a: usize, b: usize, n: i32, tab: usize): void {
  zero(tab, 16);
  memory.copy(tab + 64, b, <usize>n << 3);
  memory.fill(tab + 64 + (<usize>n << 3), 0, <usize>(8 - n) << 3);
  for (let u = 2; u < 16; u++) {
    const d = tab + (<usize>u << 6);
    if ((u & 1) == 0) {
      const s = tab + (<usize>(u >> 1) << 6);
      let carry: u64 = 0;
      for (let w = 0; w < 8; w++) {
        const v = ld(s, w);
        st(d, w, (v << 1) | carry);
        carry = v >>> 63;
      }
    } else {
      for (let w = 0; w < 8; w++) st(d, w, ld(d - 64, w) ^ ld(tab + 64, w));
    }
  }
  const a0: u64 = n > 0 ? ld(a, 0) : 0;
  const a1: u64 = n > 1 ? ld(a, 1) : 0;
  const a2: u64 = n > 2 ? ld(a, 2) : 0;
  const a3: u64 = n > 3 ? ld(a, 3) : 0;
  const a4: u64 = n > 4 ? ld(a, 4) : 0;
  const a5: u64 = n > 5 ? ld(a, 5) : 0;
  let c0: u64 = 0; let c1: u64 = 0; let c2: u64 = 0; let c3: u64 = 0; let c4: u64 = 0; let c5: u64 = 0; let c6: u64 = 0; let c7: u64 = 0; let c8: u64 = 0; let c9: u64 = 0; let c10: u64 = 0; let c11: u64 = 0;
  for (let k: i32 = 15; k >= 0; k--) {
    const sh = <u64>(k << 2);
    let p: usize = 0;
    p = tab + ((<usize>(a0 >>> sh) & 15) << 6);
    c0 ^= load<u64>(p, 0); c1 ^= load<u64>(p, 8); c2 ^= load<u64>(p, 16); c3 ^= load<u64>(p, 24); c4 ^= load<u64>(p, 32); c5 ^= load<u64>(p, 40); c6 ^= load<u64>(p, 48);
    p = tab + ((<usize>(a1 >>> sh) & 15) << 6);
    c1 ^= load<u64>(p, 0); c2 ^= load<u64>(p, 8); c3 ^= load<u64>(p, 16); c4 ^= load<u64>(p, 24); c5 ^= load<u64>(p, 32); c6 ^= load<u64>(p, 40); c7 ^= load<u64>(p, 48);
    p = tab + ((<usize>(a2 >>> sh) & 15) << 6);
    c2 ^= load<u64>(p, 0); c3 ^= load<u64>(p, 8); c4 ^= load<u64>(p, 16); c5 ^= load<u64>(p, 24); c6 ^= load<u64>(p, 32); c7 ^= load<u64>(p, 40); c8 ^= load<u64>(p, 48);
    p = tab + ((<usize>(a3 >>> sh) & 15) << 6);
    c3 ^= load<u64>(p, 0); c4 ^= load<u64>(p, 8); c5 ^= load<u64>(p, 16); c6 ^= load<u64>(p, 24); c7 ^= load<u64>(p, 32); c8 ^= load<u64>(p, 40); c9 ^= load<u64>(p, 48);
    p = tab + ((<usize>(a4 >>> sh) & 15) << 6);
    c4 ^= load<u64>(p, 0); c5 ^= load<u64>(p, 8); c6 ^= load<u64>(p, 16); c7 ^= load<u64>(p, 24); c8 ^= load<u64>(p, 32); c9 ^= load<u64>(p, 40); c10 ^= load<u64>(p, 48);
    p = tab + ((<usize>(a5 >>> sh) & 15) << 6);
    c5 ^= load<u64>(p, 0); c6 ^= load<u64>(p, 8); c7 ^= load<u64>(p, 16); c8 ^= load<u64>(p, 24); c9 ^= load<u64>(p, 32); c10 ^= load<u64>(p, 40); c11 ^= load<u64>(p, 48);
    if (k > 0) {
      c11 = (c11 << 4) | (c10 >>> 60);
      c10 = (c10 << 4) | (c9 >>> 60);
      c9 = (c9 << 4) | (c8 >>> 60);
      c8 = (c8 << 4) | (c7 >>> 60);
      c7 = (c7 << 4) | (c6 >>> 60);
      c6 = (c6 << 4) | (c5 >>> 60);
      c5 = (c5 << 4) | (c4 >>> 60);
      c4 = (c4 << 4) | (c3 >>> 60);
      c3 = (c3 << 4) | (c2 >>> 60);
      c2 = (c2 << 4) | (c1 >>> 60);
      c1 = (c1 << 4) | (c0 >>> 60);
      c0 <<= 4;
    }
  }
  st(out, 0, c0);
  st(out, 1, c1);
  if (2 < 2 * n) st(out, 2, c2);
  if (2 < 2 * n) st(out, 3, c3);
  if (4 < 2 * n) st(out, 4, c4);
  if (4 < 2 * n) st(out, 5, c5);
  if (6 < 2 * n) st(out, 6, c6);
  if (6 < 2 * n) st(out, 7, c7);
  if (8 < 2 * n) st(out, 8, c8);
  if (8 < 2 * n) st(out, 9, c9);
  if (10 < 2 * n) st(out, 10, c10);
  if (10 < 2 * n) st(out, 11, c11);
}

/**
 * As combMulSimd6 for 7 <= n <= 10 words: ten v128 accumulators, table entries of 11 words (six
 * vectors per alignment). Saves a Karatsuba level on the large rings of big blocks.
 */
function combMulSimd10(out: usize, a: usize, b: usize, n: i32, tab: usize): void {
  // Entry u: 12 words even-aligned at tab + 192u, 12 words shifted by one word at tab + 192u + 96.
  zero(tab, 24);
  memory.copy(tab + 192, b, <usize>n << 3);
  memory.fill(tab + 192 + (<usize>n << 3), 0, <usize>(12 - n) << 3);
  const z = i64x2.splat(0);
  for (let u = 2; u < 16; u++) {
    const d = tab + <usize>u * 192;
    if ((u & 1) == 0) {
      const p = tab + <usize>(u >> 1) * 192;
      let prev = z;
      for (let w: usize = 0; w < 96; w += 16) {
        const x = v128.load(p + w);
        v128.store(d + w, shlIn(prev, x, 1));
        prev = x;
      }
    } else {
      for (let w: usize = 0; w < 96; w += 16) v128.store(d + w, v128.xor(v128.load(d - 192 + w), v128.load(tab + 192 + w)));
    }
  }
  for (let u = 0; u < 16; u++) {
    const d = tab + <usize>u * 192;
    let prev = z;
    for (let w: usize = 0; w < 96; w += 16) {
      const x = v128.load(d + w);
      v128.store(d + 96 + w, i64x2.shuffle(prev, x, 1, 2));
      prev = x;
    }
  }
  const a0: u64 = n > 0 ? ld(a, 0) : 0;
  const a1: u64 = n > 1 ? ld(a, 1) : 0;
  const a2: u64 = n > 2 ? ld(a, 2) : 0;
  const a3: u64 = n > 3 ? ld(a, 3) : 0;
  const a4: u64 = n > 4 ? ld(a, 4) : 0;
  const a5: u64 = n > 5 ? ld(a, 5) : 0;
  const a6: u64 = n > 6 ? ld(a, 6) : 0;
  const a7: u64 = n > 7 ? ld(a, 7) : 0;
  const a8: u64 = n > 8 ? ld(a, 8) : 0;
  const a9: u64 = n > 9 ? ld(a, 9) : 0;
  let c0 = z; let c1 = z; let c2 = z; let c3 = z; let c4 = z; let c5 = z; let c6 = z; let c7 = z; let c8 = z; let c9 = z;
  for (let k: i32 = 15; k >= 0; k--) {
    const sh = <u64>(k << 2);
    let p: usize = 0;
    p = tab + (<usize>(a0 >>> sh) & 15) * 192;
    c0 = v128.xor(c0, v128.load(p, 0)); c1 = v128.xor(c1, v128.load(p, 16)); c2 = v128.xor(c2, v128.load(p, 32)); c3 = v128.xor(c3, v128.load(p, 48)); c4 = v128.xor(c4, v128.load(p, 64)); c5 = v128.xor(c5, v128.load(p, 80));
    p = tab + (<usize>(a1 >>> sh) & 15) * 192 + 96;
    c0 = v128.xor(c0, v128.load(p, 0)); c1 = v128.xor(c1, v128.load(p, 16)); c2 = v128.xor(c2, v128.load(p, 32)); c3 = v128.xor(c3, v128.load(p, 48)); c4 = v128.xor(c4, v128.load(p, 64)); c5 = v128.xor(c5, v128.load(p, 80));
    p = tab + (<usize>(a2 >>> sh) & 15) * 192;
    c1 = v128.xor(c1, v128.load(p, 0)); c2 = v128.xor(c2, v128.load(p, 16)); c3 = v128.xor(c3, v128.load(p, 32)); c4 = v128.xor(c4, v128.load(p, 48)); c5 = v128.xor(c5, v128.load(p, 64)); c6 = v128.xor(c6, v128.load(p, 80));
    p = tab + (<usize>(a3 >>> sh) & 15) * 192 + 96;
    c1 = v128.xor(c1, v128.load(p, 0)); c2 = v128.xor(c2, v128.load(p, 16)); c3 = v128.xor(c3, v128.load(p, 32)); c4 = v128.xor(c4, v128.load(p, 48)); c5 = v128.xor(c5, v128.load(p, 64)); c6 = v128.xor(c6, v128.load(p, 80));
    p = tab + (<usize>(a4 >>> sh) & 15) * 192;
    c2 = v128.xor(c2, v128.load(p, 0)); c3 = v128.xor(c3, v128.load(p, 16)); c4 = v128.xor(c4, v128.load(p, 32)); c5 = v128.xor(c5, v128.load(p, 48)); c6 = v128.xor(c6, v128.load(p, 64)); c7 = v128.xor(c7, v128.load(p, 80));
    p = tab + (<usize>(a5 >>> sh) & 15) * 192 + 96;
    c2 = v128.xor(c2, v128.load(p, 0)); c3 = v128.xor(c3, v128.load(p, 16)); c4 = v128.xor(c4, v128.load(p, 32)); c5 = v128.xor(c5, v128.load(p, 48)); c6 = v128.xor(c6, v128.load(p, 64)); c7 = v128.xor(c7, v128.load(p, 80));
    p = tab + (<usize>(a6 >>> sh) & 15) * 192;
    c3 = v128.xor(c3, v128.load(p, 0)); c4 = v128.xor(c4, v128.load(p, 16)); c5 = v128.xor(c5, v128.load(p, 32)); c6 = v128.xor(c6, v128.load(p, 48)); c7 = v128.xor(c7, v128.load(p, 64)); c8 = v128.xor(c8, v128.load(p, 80));
    if (n > 7) {
      p = tab + (<usize>(a7 >>> sh) & 15) * 192 + 96;
      c3 = v128.xor(c3, v128.load(p, 0)); c4 = v128.xor(c4, v128.load(p, 16)); c5 = v128.xor(c5, v128.load(p, 32)); c6 = v128.xor(c6, v128.load(p, 48)); c7 = v128.xor(c7, v128.load(p, 64)); c8 = v128.xor(c8, v128.load(p, 80));
    }
    if (n > 8) {
      p = tab + (<usize>(a8 >>> sh) & 15) * 192;
      c4 = v128.xor(c4, v128.load(p, 0)); c5 = v128.xor(c5, v128.load(p, 16)); c6 = v128.xor(c6, v128.load(p, 32)); c7 = v128.xor(c7, v128.load(p, 48)); c8 = v128.xor(c8, v128.load(p, 64)); c9 = v128.xor(c9, v128.load(p, 80));
    }
    if (n > 9) {
      p = tab + (<usize>(a9 >>> sh) & 15) * 192 + 96;
      c4 = v128.xor(c4, v128.load(p, 0)); c5 = v128.xor(c5, v128.load(p, 16)); c6 = v128.xor(c6, v128.load(p, 32)); c7 = v128.xor(c7, v128.load(p, 48)); c8 = v128.xor(c8, v128.load(p, 64)); c9 = v128.xor(c9, v128.load(p, 80));
    }
    if (k > 0) {
      c9 = shlIn(c8, c9, 4);
      c8 = shlIn(c7, c8, 4);
      c7 = shlIn(c6, c7, 4);
      c6 = shlIn(c5, c6, 4);
      c5 = shlIn(c4, c5, 4);
      c4 = shlIn(c3, c4, 4);
      c3 = shlIn(c2, c3, 4);
      c2 = shlIn(c1, c2, 4);
      c1 = shlIn(c0, c1, 4);
      c0 = shlIn(z, c0, 4);
    }
  }
  if (n > 0) v128.store(out, c0, 0);
  if (n > 1) v128.store(out, c1, 16);
  if (n > 2) v128.store(out, c2, 32);
  if (n > 3) v128.store(out, c3, 48);
  if (n > 4) v128.store(out, c4, 64);
  if (n > 5) v128.store(out, c5, 80);
  if (n > 6) v128.store(out, c6, 96);
  if (n > 7) v128.store(out, c7, 112);
  if (n > 8) v128.store(out, c8, 128);
  if (n > 9) v128.store(out, c9, 144);
}

/** Karatsuba: out[0 .. 2n) = a * b (n words each); scratch at scr. out gets one spare word. */
function polyMul(out: usize, a: usize, b: usize, n: i32, scr: usize): void {
  if (ASC_FEATURE_SIMD) {
    if (n <= KARATSUBA_BASE) {
      combMulSimd6(out, a, b, n, scr);
      return;
    }
    if (n <= KARATSUBA_BASE_SIMD) {
      combMulSimd10(out, a, b, n, scr);
      return;
    }
  } else if (n <= KARATSUBA_BASE) {
    combMulScalar6(out, a, b, n, scr);
    return;
  }
  const h = (n + 1) >> 1;
  const l = n - h;
  const hb = <usize>h << 3;
  // The high product goes to a scratch buffer: writing it in place would clobber the spare word
  // of the low product; then out = lo | hi, and the middle term is added at word h.
  const hi = scr;
  const sa = hi + (<usize>(2 * h + 2) << 3);
  const sb = sa + hb;
  const mid = sb + hb;
  const next = mid + (<usize>(2 * h + 2) << 3);
  polyMul(out, a, b, h, next);
  polyMul(hi, a + hb, b + hb, l, next);
  for (let i = 0; i < h; i++) {
    st(sa, i, ld(a, i) ^ (i < l ? ld(a + hb, i) : 0));
    st(sb, i, ld(b, i) ^ (i < l ? ld(b + hb, i) : 0));
  }
  polyMul(mid, sa, sb, h, next);
  for (let i = 0; i < 2 * h; i++) xr(mid, i, ld(out, i) ^ (i < 2 * l ? ld(hi, i) : 0));
  for (let i = 2 * h; i < 2 * n; i++) st(out, i, i - 2 * h < 2 * l ? ld(hi, i - 2 * h) : 0);
  for (let i = 0; i < 2 * h; i++) xr(out + hb, i, ld(mid, i));
}

/** x = x * y in R_L. */
function ringMul(x: usize, y: usize): void {
  const hb = <usize>hw << 3;
  for (let i = 0; i < hw; i++) {
    st(SA, i, ld(x, i) ^ ld(x + hb, i));
    st(SB, i, ld(y, i) ^ ld(y + hb, i));
  }
  polyMul(PA, x, y, hw, SCR); // a0 b0
  polyMul(PB, x + hb, y + hb, hw, SCR); // a1 b1
  polyMul(PM, SA, SB, hw, SCR); // (a0 + a1)(b0 + b1)
  // A = a0b0 + a1b1, B = pm + a0b0; x = (A_lo + B_hi) + (A_hi + B_lo + B_hi) y^L.
  for (let i = 0; i < 2 * hw; i++) {
    const p = ld(PA, i);
    st(PB, i, ld(PB, i) ^ p);
    st(PM, i, ld(PM, i) ^ p);
  }
  const pw = <usize>(2 * hw);
  zero(x, 2 * hw);
  xorBits(x, PB, 0, <usize>L, pw);
  xorBits(x, PM, <usize>L, <usize>L, pw);
  xorBits(x + hb, PB, <usize>L, <usize>L, pw);
  xorBits(x + hb, PM, 0, <usize>L, pw);
  xorBits(x + hb, PM, <usize>L, <usize>L, pw);
}

function transform(x: usize, K: i32, inverse: bool): void {
  if (!inverse) {
    for (let s = K; s >= 3; s /= 3) butterflies(x, s, K, false);
  } else {
    for (let s = 3; s <= K; s *= 3) butterflies(x, s, K, true);
  }
}

function butterflies(x: usize, s: i32, K: i32, inverse: bool): void {
  const third = s / 3;
  const step = (3 * L) / s; // y^(3L/s) has order s
  const tb = <usize>third * ew;
  for (let blk = 0; blk < K; blk += s) {
    for (let i = 0; i < third; i++) {
      const a = x + <usize>(blk + i) * ew;
      if (inverse) dit(a, a + tb, a + 2 * tb, step * i, 2 * step * i);
      else dif(a, a + tb, a + 2 * tb, step * i, 2 * step * i);
    }
  }
}

/** Words of work space toeplitz() needs for a plan (the host adds its own input/output areas). */
export function toeplitzWorkWords(n: u32, m: u32, K: u32, P: u32, Lr: u32): f64 {
  const h = <f64>((Lr + 63) >>> 6);
  const total = <f64>K * <f64>P;
  return 2 * <f64>K * 2 * h // S and X
    + 2 * (5 * h + 3) // T1, T2
    + 3 * (2 * h + 2) + 2 * (2 * h + 2) // PA, PB, PM, SA, SB
    + 16 * h + 448 // Karatsuba scratch and the comb table
    + Math.ceil((total + 2 * <f64>Lr) / 64) + 4 // overlap-add buffer
    + Math.ceil(<f64>(2 * Lr) / 64) + 4;
}

/**
 * y = T x: seed (n + m - 1 bits), x (n bits) -> out (m bits), all packed in 64-bit words, with the
 * host's plan (K = 3^j pieces of P bits in R_L). work: toeplitzWorkWords() words, 8-byte aligned.
 */
export function toeplitz(seed: usize, x: usize, out: usize, n: u32, m: u32, K: i32, P: u32, Lr: i32, work: usize): void {
  L = Lr;
  hw = (Lr + 63) >>> 6;
  ew = <usize>hw << 4;
  topMask = (Lr & 63) != 0 ? (<u64>1 << <u64>(Lr & 63)) - 1 : ~(<u64>0);
  const N = <usize>n + <usize>m - 1;
  const S = work;
  const X = S + <usize>K * ew;
  T1 = X + <usize>K * ew;
  T2 = T1 + (<usize>padWords(hw) << 3);
  PA = T2 + (<usize>padWords(hw) << 3);
  PB = PA + (<usize>(2 * hw + 2) << 3);
  PM = PB + (<usize>(2 * hw + 2) << 3);
  SA = PM + (<usize>(2 * hw + 2) << 3);
  SB = SA + (<usize>(2 * hw + 2) << 3);
  SCR = SB + (<usize>(2 * hw + 2) << 3);
  const C = SCR + (<usize>(16 * hw + 448) << 3);
  const total = <usize>K * <usize>P;
  const cWords = <i32>((total + 2 * <usize>Lr + 63) >>> 6) + 4;
  const over = C + (<usize>cWords << 3);
  const overWords = ((2 * Lr + 63) >>> 6) + 4;
  zero(T1, padWords(hw));
  zero(T2, padWords(hw));

  const seedWords = (N + 63) >>> 6;
  const xWords = (<usize>n + 63) >>> 6;
  zero(S, <i32>((<usize>K * ew) >>> 3) * 2);
  for (let k = 0; k < K; k++) {
    const from = <usize>k * <usize>P;
    if (from < N) xorBits(S + <usize>k * ew, seed, from, min(<usize>P, N - from), seedWords);
    if (from < <usize>n) xorBits(X + <usize>k * ew, x, from, min(<usize>P, <usize>n - from), xWords);
  }
  transform(S, K, false);
  transform(X, K, false);
  for (let k = 0; k < K; k++) ringMul(X + <usize>k * ew, S + <usize>k * ew);
  transform(X, K, true);

  // Overlap-add the products c_k (degree < 2L) at k P, then fold mod z^(K P) - 1.
  zero(C, cWords);
  for (let k = 0; k < K; k++) {
    const e = X + <usize>k * ew;
    xorAt(C, <usize>k * <usize>P, e, hw);
    xorAt(C, <usize>k * <usize>P + <usize>Lr, e + (<usize>hw << 3), hw);
  }
  zero(over, overWords);
  xorBits(over, C, total, 2 * <usize>Lr, <usize>cWords);
  // bits >= total fold onto bit 0: C[0 .. 2L) ^= over (C's bits past `total` are ignored below)
  for (let i = 0; i < overWords - 2; i++) xr(C, i, ld(over, i));
  const outWords = <i32>((<usize>m + 63) >>> 6);
  zero(out, outWords);
  xorBits(out, C, <usize>n - 1, <usize>m, (total + 63) >>> 6);
}
