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

// Sifting of detection-event lists for decoy-state BB84.
//
// settings[slot] (one byte per slot of the transmitter's ring-buffer answer): bit 0 value, bit 1
// basis (0 = Z, 1 = X), bits 2-3 intensity class (0 signal, 1 decoy, 2 vacuum).
// Event i: slot index slots[i] (u32, relative to the answer's first slot) and flags[i]: bit 0 the
// detected value, bit 1 the receiver's basis.
// An event is kept when both bases agree; its value (the receiver's, or the transmitter's with
// fromSettings = 1, so each end keeps its own) is appended to stream 2 class + basis. Stream s
// starts at out + s * streamBytes and must be zeroed by the caller.
// counts (12 u32): [4 class + 2 kept + basis] for kept = 0 (bases differ; basis = receiver's) and 1.

/**
 * Returns -1, or the index of the first event whose slot is outside the answer, whose flags have
 * bits other than 0-1 set, or whose slot's setting is not a valid (value, basis, class) byte; the
 * wrapper turns that index into a typed error. Nothing is written past the streams' capacity.
 */
export function siftEvents(settings: usize, window: u32, slots: usize, flags: usize, nEvents: u32, fromSettings: u32, out: usize, streamBytes: usize, counts: usize): i32 {
  // Per-stream bit positions and the 12 counters live in locals-backed memory at `counts`.
  const pos = counts + 48; // 6 u32
  memory.fill(counts, 0, 72);
  const vshift: u32 = fromSettings != 0 ? 0 : 8; // value bit: settings bit 0, or flags bit 0 (at bit 8 of the pair)
  for (let i: u32 = 0; i < nEvents; i++) {
    const slot = load<u32>(slots + (<usize>i << 2));
    const f = <u32>load<u8>(flags + <usize>i);
    if (slot >= window || f > 3) return <i32>i;
    const a = <u32>load<u8>(settings + <usize>slot);
    if (a >= 12) return <i32>i;
    const pair = a | (f << 8);
    const keep = (((a ^ f) >>> 1) & 1) ^ 1;
    const cls = a >>> 2;
    const basis = (f >>> 1) & 1;
    const c = counts + (<usize>((cls << 2) | (keep << 1) | basis) << 2);
    store<u32>(c, load<u32>(c) + 1);
    const s = (cls << 1) | basis;
    const ps = pos + (<usize>s << 2);
    const p = load<u32>(ps);
    const w = out + <usize>s * streamBytes + (<usize>(p >>> 6) << 3);
    const v = <u64>(((pair >>> vshift) & 1) & keep);
    store<u64>(w, load<u64>(w) | (v << <u64>(p & 63)));
    store<u32>(ps, p + keep);
  }
  return -1;
}

export { answerKeep, siftKept } from './block';
export * from './deltas';
