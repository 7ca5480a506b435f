/**
 * Error verification after decoding: a polynomial universal hash over GF(p), p = 2^26 - 5, at
 * three independent points, 78 tag bits. The key is cut into 16-bit symbols; for a key of L
 * symbols, two different keys collide with probability at most (L / p)^3 over the choice of the
 * points (about 2e-13 for a 2^16-bit frame). A 26-bit prime keeps h * x + s below 2^53, so each
 * Horner step is exact in double arithmetic with one remainder. Alice draws the points after Bob
 * has decoded, so they are independent of the errors.
 *
 * Stands in for the pipeline's own verification kernel until that is available; the tag length
 * is counted in each frame's leak either way.
 */
const P = 67_108_859; // 2^26 - 5, prime

export const VERIFY_TAG_BITS = 78;

export type Triple = readonly [number, number, number];

export interface VerifyTag {
  /** Three evaluation points in [1, p - 1]. */
  readonly points: Triple;
  readonly tag: Triple;
}

/** Hash of a bit-per-byte key at three points (Horner over 16-bit symbols, length appended). */
export function polyHash(bits: Uint8Array, points: Triple): [number, number, number] {
  let h0 = 0;
  let h1 = 0;
  let h2 = 0;
  const [x0, x1, x2] = points;
  for (let i = 0; i < bits.length; i += 16) {
    let sym = 0;
    const top = Math.min(16, bits.length - i);
    for (let k = 0; k < top; k++) sym |= (bits[i + k]! & 1) << k;
    h0 = (h0 * x0 + sym) % P;
    h1 = (h1 * x1 + sym) % P;
    h2 = (h2 * x2 + sym) % P;
  }
  return [(h0 * x0 + bits.length) % P, (h1 * x1 + bits.length) % P, (h2 * x2 + bits.length) % P];
}

/** Alice's side: fresh points from `random` (uniform in [0, 1)), and her tag. */
export function makeTag(bits: Uint8Array, random: () => number): VerifyTag {
  const point = () => 1 + Math.floor(random() * (P - 1));
  const points: Triple = [point(), point(), point()];
  return { points, tag: polyHash(bits, points) };
}

export function checkTag(bits: Uint8Array, t: VerifyTag): boolean {
  const h = polyHash(bits, t.points);
  return h[0] === t.tag[0] && h[1] === t.tag[1] && h[2] === t.tag[2];
}
