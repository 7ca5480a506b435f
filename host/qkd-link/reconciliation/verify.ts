/**
 * Error verification after decoding: a polynomial universal hash over GF(2^31 - 1), two
 * independent evaluation points, 62 tag bits. The key is cut into 16-bit symbols; for a key of L
 * symbols two different keys collide with probability at most (L / (2^31 - 1))^2 over the choice
 * of the points (about 4e-12 for a 2^16-bit frame). The points are drawn by Alice after Bob has
 * decoded, so they are independent of the errors.
 *
 * Stands in for the pipeline's own verification kernel until that is available; the tag length
 * is counted in each frame's leak either way.
 */
const P = 0x7fffffff;

function mulMod(a: number, b: number): number {
  // a, b < 2^31: split a so every partial product stays below 2^53.
  const hi = a >>> 16;
  const lo = a & 0xffff;
  return (((hi * b) % P) * 65536 + lo * b) % P;
}

export const VERIFY_TAG_BITS = 62;

export interface VerifyTag {
  /** Two evaluation points in [1, 2^31 - 2]. */
  readonly points: readonly [number, number];
  readonly tag: readonly [number, number];
}

/** Hash of a bit-per-byte key at two points (Horner over 16-bit symbols, length appended). */
export function polyHash(bits: Uint8Array, points: readonly [number, number]): [number, number] {
  let h0 = 0;
  let h1 = 0;
  const [x0, x1] = points;
  for (let i = 0; i < bits.length; i += 16) {
    let sym = 0;
    const top = Math.min(16, bits.length - i);
    for (let k = 0; k < top; k++) sym |= (bits[i + k]! & 1) << k;
    h0 = (mulMod(h0, x0) + sym) % P;
    h1 = (mulMod(h1, x1) + sym) % P;
  }
  h0 = (mulMod(h0, x0) + bits.length) % P;
  h1 = (mulMod(h1, x1) + bits.length) % P;
  return [h0, h1];
}

/** Alice's side: fresh points from `random` (uniform in [0, 1)), and her tag. */
export function makeTag(bits: Uint8Array, random: () => number): VerifyTag {
  const point = () => 1 + Math.floor(random() * (P - 2));
  const points: [number, number] = [point(), point()];
  return { points, tag: polyHash(bits, points) };
}

export function checkTag(bits: Uint8Array, t: VerifyTag): boolean {
  const [a, b] = polyHash(bits, t.points);
  return a === t.tag[0] && b === t.tag[1];
}
