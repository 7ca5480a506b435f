// Basis sifting for BB84: keep the receiver's bit wherever both ends chose the same basis.
// Bases and values are bit-packed little-endian in u32 words (bit i of word w is slot 32w+i).
export { arena } from '../arena';

/**
 * Sifts `n` bit-packed slots. Writes the kept value bits, packed, at `out` and returns how many
 * were kept. `out` must hold ceil(n/32) words; it may alias nothing else.
 */
export function siftPacked(basesA: usize, basesB: usize, values: usize, n: u32, out: usize): u32 {
  const words = (n + 31) >>> 5;
  let kept: u32 = 0;
  let acc: u64 = 0; // pending output bits, low bits first
  let fill: u32 = 0;
  for (let w: u32 = 0; w < words; w++) {
    const off = <usize>w << 2;
    let mask = ~(load<u32>(basesA + off) ^ load<u32>(basesB + off));
    if (w == words - 1 && (n & 31) != 0) mask &= (<u32>1 << (n & 31)) - 1;
    const v = load<u32>(values + off);
    const cnt = popcnt(mask);
    // Compact the kept bits of v (a software PEXT, one step per kept bit).
    let bits: u32 = 0;
    let pos: u32 = 0;
    while (mask != 0) {
      const t = ctz(mask);
      bits |= ((v >>> t) & 1) << pos;
      pos++;
      mask &= mask - 1;
    }
    acc |= <u64>bits << fill;
    fill += cnt;
    if (fill >= 32) {
      store<u32>(out + (<usize>(kept >>> 5) << 2), <u32>acc);
      acc >>= 32;
      fill -= 32;
      kept += 32;
    }
  }
  if (fill > 0) store<u32>(out + (<usize>(kept >>> 5) << 2), <u32>acc);
  return kept + fill;
}
