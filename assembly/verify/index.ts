// Error verification: polynomial universal hashing over GF(2^64).
//
// A block of n bits is read as 64-bit words m_1 .. m_l (little-endian, the last one zero-padded),
// followed by a length word n. With a key k in GF(2^64) = GF(2)[x]/(x^64 + x^4 + x^3 + x + 1), the
// hash is h_k = sum_i m_i k^(l + 2 - i) + n k (Horner: h = (h + m_i) k). Two different blocks of at
// most l words collide for at most l + 1 of the 2^64 keys (a nonzero polynomial of degree <= l + 1
// has at most that many roots), so with t independent keys the collision probability is at most
// ((l + 1) / 2^64)^t (Wegman and Carter, JCSS 22, 1981; the polynomial form as in GHASH).
//
// Multiplication by a fixed key uses eight 256-entry tables (Shoup's method with 8-bit windows):
// T[i][b] = b x^(8i) k, so h k = XOR_i T[i][byte i of h]. 16 KiB per key, built once per call.
export { arena } from '../arena';

/** The reduction polynomial's low part: x^64 = x^4 + x^3 + x + 1. */
const POLY_LOW: u64 = 0x1b;

/** Builds the 8 x 256 multiplication table of key k at tab (2048 u64). */
function buildTable(k: u64, tab: usize): void {
  // Powers x^j k for j = 0 .. 63, then each entry is an XOR of the powers its bits select.
  let p = k;
  for (let i = 0; i < 8; i++) {
    const row = tab + (<usize>i << 11);
    store<u64>(row, 0);
    for (let bit = 0; bit < 8; bit++) {
      const step = <usize>1 << bit;
      for (let b: usize = 0; b < step; b++) store<u64>(row + ((step + b) << 3), load<u64>(row + (b << 3)) ^ p);
      // p = p x mod the field polynomial
      p = (p << 1) ^ ((<u64>0 - (p >>> 63)) & POLY_LOW);
    }
  }
}

// @ts-ignore: decorator
@inline function mulTab(h: u64, tab: usize): u64 {
  return load<u64>(tab + (<usize>(h & 0xff) << 3))
    ^ load<u64>(tab + 2048 + (<usize>((h >>> 8) & 0xff) << 3))
    ^ load<u64>(tab + 4096 + (<usize>((h >>> 16) & 0xff) << 3))
    ^ load<u64>(tab + 6144 + (<usize>((h >>> 24) & 0xff) << 3))
    ^ load<u64>(tab + 8192 + (<usize>((h >>> 32) & 0xff) << 3))
    ^ load<u64>(tab + 10240 + (<usize>((h >>> 40) & 0xff) << 3))
    ^ load<u64>(tab + 12288 + (<usize>((h >>> 48) & 0xff) << 3))
    ^ load<u64>(tab + 14336 + (<usize>(h >>> 56) << 3));
}

/** Bytes of table space polyHash needs for t keys. */
export function tableBytes(t: u32): u32 {
  return t << 14;
}

/**
 * Tags `nbits` bits at `data` (ceil(nbits/64) words, bits past nbits ignored) with `t` keys (t
 * words at `keys`), writing t words at `out`. `tab` holds tableBytes(t) bytes.
 */
export function polyHash(data: usize, nbits: f64, keys: usize, t: u32, out: usize, tab: usize): void {
  const words = <usize>Math.ceil(nbits / 64);
  const tailBits = <u64>(<u64>nbits & 63);
  for (let j: u32 = 0; j < t; j++) buildTable(load<u64>(keys + (<usize>j << 3)), tab + (<usize>j << 14));
  const last: u64 = tailBits == 0 ? ~(<u64>0) : (<u64>1 << tailBits) - 1;
  // Two keys at a time: two independent Horner chains hide each other's load latency.
  let j: u32 = 0;
  for (; j + 2 <= t; j += 2) {
    const ta = tab + (<usize>j << 14);
    const tb = ta + 16384;
    let ha: u64 = 0, hb: u64 = 0;
    for (let i: usize = 0; i < words; i++) {
      let m = load<u64>(data + (i << 3));
      if (i == words - 1) m &= last;
      ha = mulTab(ha ^ m, ta);
      hb = mulTab(hb ^ m, tb);
    }
    store<u64>(out + (<usize>j << 3), mulTab(ha ^ <u64>nbits, ta));
    store<u64>(out + (<usize>(j + 1) << 3), mulTab(hb ^ <u64>nbits, tb));
  }
  if (j < t) {
    const ta = tab + (<usize>j << 14);
    let ha: u64 = 0;
    for (let i: usize = 0; i < words; i++) {
      let m = load<u64>(data + (i << 3));
      if (i == words - 1) m &= last;
      ha = mulTab(ha ^ m, ta);
    }
    store<u64>(out + (<usize>j << 3), mulTab(ha ^ <u64>nbits, ta));
  }
}
