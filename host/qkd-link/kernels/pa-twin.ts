/**
 * Plain-TypeScript twins of the privacy-amplification kernel (assembly/pa).
 *
 * The hash: y = T x over GF(2), T the m x n Toeplitz matrix T[i][j] = s[i - j + n - 1] of a seed s
 * of n + m - 1 bits. Equivalently y is bits n-1 .. n+m-2 of the carry-less product s(z) x(z).
 * All bit strings are packed little-endian: bit i of byte k is bit 8k + i.
 *
 * - `toeplitzDirect`: the definition, column by column (O(n m / 32)); the test oracle.
 * - `toeplitzTwin`: the kernel's algorithm step for step, on 32-bit words: Schönhage's ternary
 *   FFT over GF(2)[y]/(y^2L + y^L + 1) (A. Schönhage, "Schnelle Multiplikation von Polynomen über
 *   Körpern der Charakteristik 2", Acta Informatica 7, 1977; as used in gf2x: Brent, Gaudry, Thomé,
 *   Zimmermann, "Faster multiplication in GF(2)[x]", ANTS 2008). The benchmark's reference figure.
 */

/** Parameters of the cyclic product s x mod (z^(K P) - 1), K = 3^j pieces of P bits. */
export interface ToeplitzPlan {
  readonly n: number;
  readonly m: number;
  /** K = 3^j: length of the ternary DFT. */
  readonly j: number;
  readonly K: number;
  /** Bits per piece; K P >= n + m - 1 so the cyclic wrap never reaches the bits kept. */
  readonly P: number;
  /** Ring R_L = GF(2)[y]/(y^2L + y^L + 1); y has order 3L; L >= P and 3^(j-1) divides L. */
  readonly L: number;
}

/** Largest n (and m) the kernel and twins accept: the pieces and ring indices stay in 32 bits. */
export const MAX_TOEPLITZ_BITS = 2 ** 28;

/** Karatsuba base of the plan cost model, in 64-bit words (the scalar kernel comb; the SIMD one goes to 10). */
export const KARATSUBA_BASE_WORDS = 6;

function mulCost(words: number): number {
  if (words <= KARATSUBA_BASE_WORDS) return words * words * 2 + 24;
  const h = Math.ceil(words / 2);
  return 2 * mulCost(h) + mulCost(words - h) + 6 * words;
}

/**
 * Picks the transform length. A longer transform has smaller ring elements, so cheaper pointwise
 * products, but more butterflies; L >= K/3 ties the two, and the optimum is near K = sqrt(3 N).
 * The cost model counts 64-bit word operations (the kernel's word size) so the kernel and the twin
 * use the same plan.
 */
export function planToeplitz(n: number, m: number): ToeplitzPlan {
  const N = n + m - 1;
  let best: ToeplitzPlan | undefined;
  let bestCost = Infinity;
  let K = 3;
  for (let j = 1; j <= 17; j++, K *= 3) {
    const g = K / 3;
    const P = Math.ceil(N / K);
    const L = Math.ceil(P / g) * g;
    const hw = Math.ceil(L / 64);
    const cost = 3 * (K / 3) * j * hw * 14 + K * (3 * mulCost(hw) + 8 * hw);
    if (cost < bestCost) {
      bestCost = cost;
      best = { n, m, j, K, P, L };
    }
    if (P === 1) break;
  }
  return best!;
}

function bit(buf: Uint8Array, i: number): number {
  return ((buf[i >>> 3] ?? 0) >>> (i & 7)) & 1;
}

/** The definition: y ^= (window of s at n-1-j) for every set x_j. */
export function toeplitzDirect(seed: Uint8Array, x: Uint8Array, n: number, m: number): Uint8Array {
  const sw = toWords(seed, n + m - 1);
  const yw = new Uint32Array(Math.ceil(m / 32) + 1);
  for (let j = 0; j < n; j++) {
    if (!bit(x, j)) continue;
    xorBits(yw, 0, sw, n - 1 - j, m);
  }
  return fromWords(yw, m);
}

function toWords(buf: Uint8Array, nbits: number): Uint32Array {
  const w = new Uint32Array(Math.ceil(nbits / 32) + 2);
  const nb = Math.ceil(nbits / 8);
  for (let i = 0; i < nb; i++) w[i >>> 2]! |= (buf[i] ?? 0) << (8 * (i & 3));
  if (nbits & 31) w[nbits >>> 5]! &= (1 << (nbits & 31)) - 1;
  for (let i = (nbits + 31) >>> 5; i < w.length; i++) w[i] = 0;
  return w;
}

function fromWords(w: Uint32Array, nbits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(nbits / 8));
  for (let i = 0; i < out.length; i++) out[i] = w[i >>> 2]! >>> (8 * (i & 3));
  if (nbits & 7) out[out.length - 1]! &= (1 << (nbits & 7)) - 1;
  return out;
}

/** dst[0..ceil(nbits/32)) ^= bits [from, from + nbits) of src (src zero beyond its end). */
function xorBits(dst: Uint32Array, d: number, src: Uint32Array, from: number, nbits: number): void {
  const q = from >>> 5;
  const b = from & 31;
  const words = Math.ceil(nbits / 32);
  for (let i = 0; i < words; i++) {
    const lo = src[q + i] ?? 0;
    const v = b === 0 ? lo : (lo >>> b) | ((src[q + i + 1] ?? 0) << (32 - b));
    dst[d + i]! ^= v;
  }
  if (nbits & 31) dst[d + words - 1]! &= (1 << (nbits & 31)) - 1;
}

/** dst ^= src (nw words) placed at bit offset `at` of dst. */
function xorAt(dst: Uint32Array, at: number, src: Uint32Array, s: number, nw: number): void {
  const q = at >>> 5;
  const b = at & 31;
  if (b === 0) {
    for (let i = 0; i < nw; i++) dst[q + i]! ^= src[s + i]!;
    return;
  }
  let carry = 0;
  for (let i = 0; i < nw; i++) {
    const v = src[s + i]!;
    dst[q + i]! ^= (v << b) | carry;
    carry = v >>> (32 - b);
  }
  dst[q + nw]! ^= carry;
}

/**
 * Arithmetic in R_L. An element is two halves of hw words (a0 + a1 y^L, each < L bits), stored
 * a0 then a1. Multiplying by the cube root of unity zeta = y^L only permutes and adds halves
 * (y^2L = y^L + 1), so the radix-3 butterflies need no shifts at all.
 */
class Ring {
  readonly hw: number;
  readonly ew: number;
  private readonly topMask: number;
  private readonly t0: Uint32Array;
  private readonly t1: Uint32Array;
  private readonly pa: Uint32Array;
  private readonly pb: Uint32Array;
  private readonly pm: Uint32Array;
  private readonly sa: Uint32Array;
  private readonly sb: Uint32Array;
  private readonly scratch: Uint32Array;
  constructor(readonly L: number) {
    this.hw = Math.ceil(L / 32);
    this.ew = 2 * this.hw;
    this.topMask = L & 31 ? (1 << (L & 31)) - 1 : -1;
    this.t0 = new Uint32Array(this.ew);
    this.t1 = new Uint32Array(this.ew);
    this.pa = new Uint32Array(2 * this.hw);
    this.pb = new Uint32Array(2 * this.hw);
    this.pm = new Uint32Array(2 * this.hw);
    this.sa = new Uint32Array(this.hw);
    this.sb = new Uint32Array(this.hw);
    this.scratch = new Uint32Array(8 * this.hw + 16 * (2 * KARATSUBA_BASE_WORDS + 2) + 64);
  }

  /** dst half ^= (src half << r) mod y^L, 0 <= r < L. */
  private xorShl(dst: Uint32Array, d: number, src: Uint32Array, s: number, r: number): void {
    const hw = this.hw;
    const q = r >>> 5;
    const b = r & 31;
    for (let i = hw - 1; i >= q; i--) {
      const hi = src[s + i - q]!;
      const v = b === 0 ? hi : (hi << b) | (i - q - 1 >= 0 ? src[s + i - q - 1]! >>> (32 - b) : 0);
      dst[d + i]! ^= v;
    }
    dst[d + hw - 1]! &= this.topMask;
  }

  /** dst half ^= src half >> t, 0 < t <= L. */
  private xorShr(dst: Uint32Array, d: number, src: Uint32Array, s: number, t: number): void {
    const hw = this.hw;
    const q = t >>> 5;
    const b = t & 31;
    for (let i = 0; i + q < hw; i++) {
      const lo = src[s + i + q]!;
      const v = b === 0 ? lo : (lo >>> b) | (i + q + 1 < hw ? src[s + i + q + 1]! << (32 - b) : 0);
      dst[d + i]! ^= v;
    }
  }

  /** dst = src * y^e for 0 <= e < 3L (src and dst distinct element slots). */
  mulPow(dst: Uint32Array, d: number, src: Uint32Array, s: number, e: number): void {
    const { hw, L, t0 } = this;
    const q = Math.floor(e / L);
    const r = e - q * L;
    // zeta^q first: (a0, a1) -> (a1, a0 + a1) -> (a0 + a1, a0).
    for (let i = 0; i < hw; i++) {
      const a0 = src[s + i]!;
      const a1 = src[s + hw + i]!;
      if (q === 0) {
        t0[i] = a0;
        t0[hw + i] = a1;
      } else if (q === 1) {
        t0[i] = a1;
        t0[hw + i] = a0 ^ a1;
      } else {
        t0[i] = a0 ^ a1;
        t0[hw + i] = a0;
      }
    }
    if (r === 0) {
      dst.set(t0, d);
      return;
    }
    dst.fill(0, d, d + 2 * hw);
    // a0 y^r: the low part stays in half 0, what passes y^L moves to half 1.
    this.xorShl(dst, d, t0, 0, r);
    this.xorShr(dst, d + hw, t0, 0, L - r);
    // a1 y^(L + r): the low part lands in half 1; what passes y^2L = y^L + 1 lands in both.
    this.xorShl(dst, d + hw, t0, hw, r);
    this.xorShr(dst, d + hw, t0, hw, L - r);
    this.xorShr(dst, d, t0, hw, L - r);
  }

  /** Radix-3 decimation-in-frequency butterfly on elements at a, b, c with twiddles y^e1, y^e2. */
  dif(x: Uint32Array, a: number, b: number, c: number, e1: number, e2: number): void {
    const { hw, t1 } = this;
    const t2 = this.pm;
    for (let i = 0; i < hw; i++) {
      const a0 = x[a + i]!, a1 = x[a + hw + i]!;
      const b0 = x[b + i]!, b1 = x[b + hw + i]!;
      const c0 = x[c + i]!, c1 = x[c + hw + i]!;
      x[a + i] = a0 ^ b0 ^ c0;
      x[a + hw + i] = a1 ^ b1 ^ c1;
      t1[i] = a0 ^ b1 ^ c0 ^ c1; // a + zeta b + zeta^2 c
      t1[hw + i] = a1 ^ b0 ^ b1 ^ c0;
      t2[i] = a0 ^ b0 ^ b1 ^ c1; // a + zeta^2 b + zeta c
      t2[hw + i] = a1 ^ b0 ^ c0 ^ c1;
    }
    this.mulPow(x, b, t1, 0, e1);
    this.mulPow(x, c, t2, 0, e2);
  }

  /** Radix-3 decimation-in-time butterfly with inverse twiddles y^-e1, y^-e2. */
  dit(x: Uint32Array, a: number, b: number, c: number, e1: number, e2: number): void {
    const { hw, L, t1 } = this;
    const t2 = this.pm;
    if (e1 === 0) {
      t1.set(x.subarray(b, b + 2 * hw));
      t2.set(x.subarray(c, c + 2 * hw));
    } else {
      this.mulPow(t1, 0, x, b, 3 * L - e1);
      this.mulPow(t2, 0, x, c, 3 * L - e2);
    }
    for (let i = 0; i < hw; i++) {
      const a0 = x[a + i]!, a1 = x[a + hw + i]!;
      const b0 = t1[i]!, b1 = t1[hw + i]!;
      const c0 = t2[i]!, c1 = t2[hw + i]!;
      x[a + i] = a0 ^ b0 ^ c0;
      x[a + hw + i] = a1 ^ b1 ^ c1;
      x[b + i] = a0 ^ b0 ^ b1 ^ c1; // a + zeta^2 b + zeta c (inverse root)
      x[b + hw + i] = a1 ^ b0 ^ c0 ^ c1;
      x[c + i] = a0 ^ b1 ^ c0 ^ c1; // a + zeta b + zeta^2 c
      x[c + hw + i] = a1 ^ b0 ^ b1 ^ c0;
    }
  }

  /** x[d] = x[d] * y[s] in R_L: three half products (Karatsuba) and the fold y^2L = y^L + 1. */
  mul(x: Uint32Array, d: number, y: Uint32Array, s: number): void {
    const { hw, L, pa, pb, pm, sa, sb, t0 } = this;
    for (let i = 0; i < hw; i++) {
      sa[i] = x[d + i]! ^ x[d + hw + i]!;
      sb[i] = y[s + i]! ^ y[s + hw + i]!;
    }
    polyMul(pa, 0, x, d, y, s, hw, this.scratch, 0); // a0 b0
    polyMul(pb, 0, x, d + hw, y, s + hw, hw, this.scratch, 0); // a1 b1
    polyMul(pm, 0, sa, 0, sb, 0, hw, this.scratch, 0); // (a0 + a1)(b0 + b1)
    // A = a0b0 + a1b1, B = pm + a0b0; result = (A_lo + B_hi) + (A_hi + B_lo + B_hi) y^L.
    for (let i = 0; i < 2 * hw; i++) {
      pb[i] = pa[i]! ^ pb[i]!; // A
      pm[i] = pm[i]! ^ pa[i]!; // B
    }
    t0.fill(0);
    xorBits(t0, 0, pb, 0, L);
    xorBits(t0, 0, pm, L, L);
    xorBits(t0, hw, pb, L, L);
    xorBits(t0, hw, pm, 0, L);
    xorBits(t0, hw, pm, L, L);
    x.set(t0, d);
  }
}

/** out[o .. o + 2n) = a * b, carry-less, n words each. */
function polyMul(out: Uint32Array, o: number, a: Uint32Array, ai: number, b: Uint32Array, bi: number, n: number, scratch: Uint32Array, sc: number): void {
  // The kernel's base case is 6 64-bit words; on 32-bit words the twin stops at 12.
  if (n <= 2 * KARATSUBA_BASE_WORDS) {
    combMul(out, o, a, ai, b, bi, n, scratch, sc);
    return;
  }
  const h = Math.ceil(n / 2);
  const l = n - h;
  out.fill(0, o, o + 2 * n);
  polyMul(out, o, a, ai, b, bi, h, scratch, sc); // low product, 2h words
  polyMul(out, o + 2 * h, a, ai + h, b, bi + h, l, scratch, sc); // high product, 2l words
  const sa = sc;
  const sb = sc + h;
  const mid = sc + 2 * h;
  for (let i = 0; i < h; i++) {
    scratch[sa + i] = a[ai + i]! ^ (i < l ? a[ai + h + i]! : 0);
    scratch[sb + i] = b[bi + i]! ^ (i < l ? b[bi + h + i]! : 0);
  }
  polyMul(scratch, mid, scratch, sa, scratch, sb, h, scratch, sc + 4 * h);
  for (let i = 0; i < 2 * h; i++) scratch[mid + i]! ^= out[o + i]! ^ (i < 2 * l ? out[o + 2 * h + i]! : 0);
  for (let i = 0; i < 2 * h; i++) out[o + h + i]! ^= scratch[mid + i]!;
}

/** Comb multiplication (López-Dahab) with 4-bit windows. */
function combMul(out: Uint32Array, o: number, a: Uint32Array, ai: number, b: Uint32Array, bi: number, n: number, scratch: Uint32Array, sc: number): void {
  const tw = n + 1;
  const T = sc; // 16 entries of tw words
  scratch.fill(0, T, T + 16 * tw);
  for (let i = 0; i < n; i++) scratch[T + tw + i] = b[bi + i]!;
  for (let u = 2; u < 16; u++) {
    const dst = T + u * tw;
    if (u & 1) {
      const src = T + (u - 1) * tw;
      for (let i = 0; i < tw; i++) scratch[dst + i] = scratch[src + i]! ^ scratch[T + tw + i]!;
    } else {
      const src = T + (u >>> 1) * tw;
      let carry = 0;
      for (let i = 0; i < tw; i++) {
        const v = scratch[src + i]!;
        scratch[dst + i] = (v << 1) | carry;
        carry = v >>> 31;
      }
    }
  }
  out.fill(0, o, o + 2 * n);
  for (let k = 7; k >= 0; k--) {
    for (let i = 0; i < n; i++) {
      const t = T + ((a[ai + i]! >>> (4 * k)) & 15) * tw;
      for (let w = 0; w < tw && i + w < 2 * n; w++) out[o + i + w]! ^= scratch[t + w]!;
    }
    if (k > 0) {
      let carry = 0;
      for (let i = 0; i < 2 * n; i++) {
        const v = out[o + i]!;
        out[o + i] = (v << 4) | carry;
        carry = v >>> 28;
      }
    }
  }
}

/** Runs the ternary DFT (forward: DIF, natural -> digit-reversed; inverse: DIT). */
function transform(ring: Ring, plan: ToeplitzPlan, x: Uint32Array, inverse: boolean): void {
  const { K, L } = plan;
  const ew = ring.ew;
  if (!inverse) {
    for (let s = K; s >= 3; s /= 3) butterflies(ring, x, s, K, L, ew, false);
  } else {
    for (let s = 3; s <= K; s *= 3) butterflies(ring, x, s, K, L, ew, true);
  }
}

function butterflies(ring: Ring, x: Uint32Array, s: number, K: number, L: number, ew: number, inverse: boolean): void {
  const third = s / 3;
  const step = (3 * L) / s; // w = y^(3L/s) has order s
  for (let blk = 0; blk < K; blk += s) {
    for (let i = 0; i < third; i++) {
      const a = (blk + i) * ew;
      const b = a + third * ew;
      const c = b + third * ew;
      const e1 = step * i;
      const e2 = 2 * step * i;
      if (inverse) ring.dit(x, a, b, c, e1, e2);
      else ring.dif(x, a, b, c, e1, e2);
    }
  }
}

/** The kernel's algorithm in TypeScript (see the file comment). */
export function toeplitzTwin(seed: Uint8Array, x: Uint8Array, n: number, m: number, plan: ToeplitzPlan = planToeplitz(n, m)): Uint8Array {
  const { K, P, L } = plan;
  const ring = new Ring(L);
  const { hw, ew } = ring;
  const sw = toWords(seed, n + m - 1);
  const xw = toWords(x, n);
  const S = new Uint32Array(K * ew);
  const X = new Uint32Array(K * ew);
  for (let k = 0; k < K; k++) {
    const from = k * P;
    if (from < n + m - 1) xorBits(S, k * ew, sw, from, Math.min(P, n + m - 1 - from));
    if (from < n) xorBits(X, k * ew, xw, from, Math.min(P, n - from));
  }
  transform(ring, plan, S, false);
  transform(ring, plan, X, false);
  for (let k = 0; k < K; k++) ring.mul(X, k * ew, S, k * ew);
  transform(ring, plan, X, true);
  // Overlap-add the pieces' products c_k (degree < 2L) at k P, cyclically mod z^(K P) - 1.
  const total = K * P;
  const C = new Uint32Array(Math.ceil((total + 2 * L) / 32) + 2);
  for (let k = 0; k < K; k++) {
    xorAt(C, k * P, X, k * ew, hw);
    xorAt(C, k * P + L, X, k * ew + hw, hw);
  }
  const wrapped = new Uint32Array(Math.ceil(total / 32) + 2);
  xorBits(wrapped, 0, C, 0, total);
  const over = new Uint32Array(Math.ceil((2 * L) / 32) + 2);
  xorBits(over, 0, C, total, 2 * L + 32);
  for (let i = 0; i < over.length && i < wrapped.length; i++) wrapped[i]! ^= over[i]!;
  const y = new Uint32Array(Math.ceil(m / 32) + 1);
  xorBits(y, 0, wrapped, n - 1, m);
  return fromWords(y, m);
}
