// The per-event bulk of a block's announcement (host/qkd-link/kernels/deltas.ts; twins in
// host/qkd-link/session/packing.ts and sifting.ts, which define the results bit for bit):
// - Bob: squash his click masks into basis and value bytes, pack the bases, and re-encode the
//   block's slots (batches still in wire form, LEB128 deltas from their own first slot, or decoded
//   slots) as LEB128 deltas from the block's start;
// - Alice: check Bob's deltas (count, varint form, last slot before the block end, nothing left
//   over) and cut them into parts of nearly equal counts.
// Slot arithmetic is in f64, in the twins' order of operations: slots are integers < 2^53, where
// f64 is exact, and malformed input (overlong varints, NaN slots) then gives the twins' very
// values in the error reports. The common case takes a fast path: while slots are exact integers
// and varints minimal, a raw segment's bytes past its first event are copied as they are (Bob)
// and deltas summed eight bytes at a time (both); anything else goes event by event.

// Status codes; the wrapper turns a failure and the fields in `info` into the twin's error.
// @ts-ignore: decorator
@inline const OK: i32 = 0;
// @ts-ignore: decorator
@inline const SEG_PAST_END: i32 = 1; // a raw segment's byte count runs past the raw bytes
// @ts-ignore: decorator
@inline const SEG_DELTAS_END: i32 = 2; // a raw segment's deltas end before its count
// @ts-ignore: decorator
@inline const SLOT_BEFORE: i32 = 3; // a slot is before the previous one (or NaN, or the delta is unsafe)
// @ts-ignore: decorator
@inline const SLOT_MISSING: i32 = 4; // a decoded segment reads past the decoded slots
// @ts-ignore: decorator
@inline const SEG_BYTES_LEFT: i32 = 5; // a raw segment has bytes left after its count
// @ts-ignore: decorator
@inline const OUT_FULL: i32 = 6; // the output region is too small (the wrapper retries larger)
// @ts-ignore: decorator
@inline const DELTAS_END: i32 = 7; // Alice: the deltas end before n events
// @ts-ignore: decorator
@inline const DELTA_TOO_LONG: i32 = 8; // Alice: a varint longer than 8 bytes
// @ts-ignore: decorator
@inline const SLOT_LATE: i32 = 9; // Alice: the last slot is not before the block end
// @ts-ignore: decorator
@inline const BYTES_LEFT: i32 = 10; // Alice: bytes left after n deltas

// info (f64 each): [0] output bytes, [1] segment, [2] event, [3] slot, [4] previous slot, [5] bytes.
// @ts-ignore: decorator
@inline const MAX_SAFE: f64 = 9007199254740991;

// Eight masks at a time in a u64 (SWAR), on their low nibbles m: a lane is a multi-click when
// m & (m - 1) != 0 (bit 4 set first, so m = 0 borrows nothing from the next lane), and empty when
// m + 0x7f leaves bit 7 clear.
// @ts-ignore: decorator
@inline const LO4: u64 = 0x0f0f0f0f0f0f0f0f;
// @ts-ignore: decorator
@inline const ONES: u64 = 0x0101010101010101;
// @ts-ignore: decorator
@inline const HIGH: u64 = 0x8080808080808080;

// @ts-ignore: decorator
@inline function multiLanes(x: u64): u64 {
  return (x & ((x | 0x1010101010101010) - ONES)) & LO4;
}

// @ts-ignore: decorator
@inline function nonEmptyLanes(x: u64): u64 {
  return (x + 0x7f7f7f7f7f7f7f7f) & HIGH;
}

/** Events whose 4-bit click mask has more than one detector set (each needs random bytes). */
export function countMultiClicks(masks: usize, n: u32): u32 {
  let multi: u32 = 0;
  const whole = n & ~7;
  for (let k: u32 = 0; k < whole; k += 8) {
    const x = load<u64>(masks + <usize>k) & LO4;
    multi += <u32>popcnt(nonEmptyLanes(multiLanes(x)));
  }
  for (let k = whole; k < n; k++) {
    const m = <u32>load<u8>(masks + <usize>k) & 15;
    multi += <u32>((m & (m - 1)) != 0);
  }
  return multi;
}

/**
 * sifting.ts squashClicks: one detector (bit 2b + v of the mask) gives basis b, value v; no
 * detector gives basis 0xff, value 1, as the twin's clz arithmetic does. Several: the basis
 * with clicks (a random byte's bit 0 if both), the value of that basis' detector (a random
 * bit if both), random bytes taken in event order; past `nRnd` a byte reads as 0. The bases are
 * packed into bb as packing.ts packBits does, eight events at a time.
 */
function squash(masks: usize, n: u32, rnd: usize, nRnd: u32, basis: usize, value: usize, bb: usize): void {
  let r: u32 = 0;
  const whole = n & ~7;
  for (let k: u32 = 0; k < whole; k += 8) {
    const x = load<u64>(masks + <usize>k) & LO4;
    if (multiLanes(x) == 0 && nonEmptyLanes(x) == HIGH) {
      // One detector per lane (m = 1, 2, 4, 8): basis = bit 2 or 3, value = bit 1 or 3.
      const b = ((x >> 2) | (x >> 3)) & ONES;
      store<u64>(basis + <usize>k, b);
      store<u64>(value + <usize>k, ((x >> 1) | (x >> 3)) & ONES);
      store<u8>(bb + <usize>(k >>> 3), <u8>((b * 0x0102040810204080) >>> 56));
      continue;
    }
    r = squashOne(masks, k, k + 8, rnd, r, nRnd, basis, value);
    packByte(basis, k, bb);
  }
  if (whole < n) {
    squashOne(masks, whole, n, rnd, r, nRnd, basis, value);
    let acc: u32 = 0;
    for (let i = whole; i < n; i++) acc |= (<u32>load<u8>(basis + <usize>i) & 1) << (i & 7);
    store<u8>(bb + <usize>(whole >>> 3), <u8>acc);
  }
}

/** packBits of basis[k..k+8) into bb[k/8]: bit 0 of byte j moves to bit 56 + j (the products never overlap). */
// @ts-ignore: decorator
@inline function packByte(basis: usize, k: u32, bb: usize): void {
  const x = load<u64>(basis + <usize>k) & ONES;
  store<u8>(bb + <usize>(k >>> 3), <u8>((x * 0x0102040810204080) >>> 56));
}

/** squashClicks' rules for events [from, to), random bytes from index r; returns the next r. */
function squashOne(masks: usize, from: u32, to: u32, rnd: usize, r: u32, nRnd: u32, basis: usize, value: usize): u32 {
  for (let k = from; k < to; k++) {
    const m = <i32>load<u8>(masks + <usize>k) & 15;
    let b: i32;
    let v: i32;
    if ((m & (m - 1)) == 0) {
      const ch = 31 - clz<i32>(m);
      b = ch >> 1;
      v = ch & 1;
    } else {
      const z = m & 3;
      const x = m & 12;
      if (z != 0 && x != 0) {
        b = r < nRnd ? <i32>load<u8>(rnd + <usize>r) & 1 : 0;
        r++;
      } else b = z != 0 ? 0 : 1;
      const inBasis = b != 0 ? x >> 2 : z;
      if (inBasis == 3) {
        v = r < nRnd ? <i32>load<u8>(rnd + <usize>r) & 1 : 0;
        r++;
      } else v = inBasis == 2 ? 1 : 0;
    }
    store<u8>(basis + <usize>k, <u8>b);
    store<u8>(value + <usize>k, <u8>v);
  }
  return r;
}

// @ts-ignore: decorator
@inline const TWO53: f64 = 9007199254740992;
// @ts-ignore: decorator
@inline const SCAN_FAILED: usize = <usize>-1;
/** The sum of the deltas scanDeltas read. */
let scanSum: u64 = 0;

/** The sum of a u64's eight bytes (each < 0x80), in 16-bit lanes. */
// @ts-ignore: decorator
@inline function byteSum(x: u64): u64 {
  const y = (x & 0x00ff00ff00ff00ff) + ((x >> 8) & 0x00ff00ff00ff00ff);
  return (y * 0x0001000100010001) >> 48;
}

/**
 * Reads `count` varints from raw[p..end) and returns where they end, their sum in scanSum; or
 * SCAN_FAILED at a varint that is not minimal (a last byte 0 after others), longer than 7
 * bytes, or cut off by `end`.
 */
function scanDeltas(raw: usize, p: usize, end: usize, count: u32): usize {
  let sum: u64 = 0;
  let left = count;
  while (left > 0) {
    if (left >= 8 && p + 8 <= end) {
      // The one-byte deltas among the next eight bytes, up to the first longer one, at once.
      const x = load<u64>(raw + p);
      const h = x & HIGH;
      if (h == 0) {
        sum += byteSum(x);
        p += 8;
        left -= 8;
        continue;
      }
      const ones = <u32>(ctz(h) >> 3);
      sum += byteSum(x & ((<u64>1 << (<u64>ones << 3)) - 1));
      p += ones;
      left -= ones;
    }
    if (p >= end) return SCAN_FAILED;
    const b = <u64>load<u8>(raw + p++);
    left--;
    if (b < 0x80) {
      sum += b;
      continue;
    }
    let v = b & 0x7f;
    let shift: u64 = 7;
    for (;;) {
      if (p >= end || shift > 42) return SCAN_FAILED;
      const c = <u64>load<u8>(raw + p++);
      v |= (c & 0x7f) << shift;
      if (c < 0x80) {
        if (c == 0) return SCAN_FAILED;
        break;
      }
      shift += 7;
    }
    sum += v;
    if (sum >= <u64>TWO53) return SCAN_FAILED;
  }
  scanSum = sum;
  return p;
}

/**
 * packing.ts encodeSegmentDeltas into out[0..cap). Segments: base (f64), count (u32), rawBytes
 * (i32, negative: the slots are in `decoded`) per segment. Returns a status; info[0] the output
 * length.
 */
export function encodeSegmentDeltas(start: f64, base: usize, count: usize, rawBytes: usize, nSeg: u32, raw: usize, rawLen: u32, decoded: usize, nDecoded: u32, out: usize, cap: usize, info: usize): i32 {
  let pos: usize = 0;
  let prev = start;
  let rp: usize = 0;
  let dp: u32 = 0;
  for (let i: u32 = 0; i < nSeg; i++) {
    const cnt = load<u32>(count + (<usize>i << 2));
    const bytes = load<i32>(rawBytes + (<usize>i << 2));
    const isRaw = bytes >= 0;
    const rawEnd = rp + <usize>bytes; // read only for raw segments, once it is known to fit
    let slot = load<f64>(base + (<usize>i << 3));
    if (isRaw && <u64>rp + <u64>bytes > <u64>rawLen) {
      store<f64>(info + 8, <f64>i);
      return SEG_PAST_END;
    }
    for (let k: u32 = 0; k < cnt; k++) {
      if (k == 1 && isRaw && slot >= 0 && slot < TWO53 && Math.trunc(slot) == slot && pos + (rawEnd - rp) <= cap) {
        // Past a raw segment's first event each delta is its own raw delta: when the raw varints
        // are minimal and every slot stays an exact integer, the output is the raw bytes.
        const p = scanDeltas(raw, rp, rawEnd, cnt - 1);
        const end = <u64>slot + scanSum;
        if (p != SCAN_FAILED && end < <u64>TWO53) {
          memory.copy(out + pos, raw + rp, p - rp);
          pos += p - rp;
          rp = p;
          slot = <f64>end;
          prev = slot;
          break;
        }
        // Anything else (errors included) goes event by event, exactly as the twin.
      }
      if (isRaw) {
        if (rp >= rawEnd) {
          store<f64>(info + 8, <f64>i);
          store<f64>(info + 16, <f64>k);
          return SEG_DELTAS_END;
        }
        const b0 = <u32>load<u8>(raw + rp++);
        if (b0 < 0x80) slot += <f64>b0;
        else {
          let d: f64 = <f64>(b0 & 0x7f);
          let scale: f64 = 0x80;
          for (;;) {
            if (rp >= rawEnd) {
              store<f64>(info + 8, <f64>i);
              store<f64>(info + 16, <f64>k);
              return SEG_DELTAS_END;
            }
            const b = <u32>load<u8>(raw + rp++);
            d += <f64>(b & 0x7f) * scale;
            if (b < 0x80) break;
            scale *= 0x80;
          }
          slot += d;
        }
      } else {
        if (dp >= nDecoded) {
          store<f64>(info + 8, <f64>i);
          store<f64>(info + 32, prev);
          return SLOT_MISSING;
        }
        slot = load<f64>(decoded + (<usize>dp << 3));
        dp++;
      }
      const d = slot - prev;
      if (!(d >= 0) || !(d <= MAX_SAFE) || Math.trunc(d) != d) {
        store<f64>(info + 8, <f64>i);
        store<f64>(info + 24, slot);
        store<f64>(info + 32, prev);
        return SLOT_BEFORE;
      }
      prev = slot;
      if (pos + 8 > cap) return OUT_FULL;
      let u = <u64>d;
      if (u < 0x80) store<u8>(out + pos++, <u8>u);
      else {
        while (u >= 0x80) {
          store<u8>(out + pos++, <u8>(u | 0x80));
          u >>= 7;
        }
        store<u8>(out + pos++, <u8>u);
      }
    }
    if (isRaw && rp != rawEnd) {
      store<f64>(info + 8, <f64>i);
      store<f64>(info + 40, <f64>(rawEnd - rp));
      return SEG_BYTES_LEFT;
    }
  }
  store<f64>(info, <f64>pos);
  return OK;
}

/**
 * Bob's announcement in one call: squash nMasks click masks (random bytes at rnd, nRnd of them)
 * into basis and value bytes, pack the bases at bb, and encodeSegmentDeltas (same arguments and
 * status).
 */
export function announce(masks: usize, nMasks: u32, rnd: usize, nRnd: u32, basis: usize, value: usize, bb: usize, start: f64, base: usize, count: usize, rawBytes: usize, nSeg: u32, raw: usize, rawLen: u32, decoded: usize, nDecoded: u32, out: usize, cap: usize, info: usize): i32 {
  squash(masks, nMasks, rnd, nRnd, basis, value, bb);
  return encodeSegmentDeltas(start, base, count, rawBytes, nSeg, raw, rawLen, decoded, nDecoded, out, cap, info);
}

/**
 * packing.ts decodeSlotDeltas without writing the slots, and partitionSlotDeltas: n deltas from
 * s in bytes[0..len), each part `per` events (the last fewer). Part j ends at byte ends[j] (u32)
 * after slot lasts[j] (f64); ceil(n/per) of each are written. Failures report the event in
 * info[2], the last slot in info[3], the bytes left in info[5].
 */
export function checkSlotDeltas(bytes: usize, len: u32, s: f64, e: f64, n: u32, per: u32, ends: usize, lasts: usize, info: usize): i32 {
  const end = <usize>len;
  if (s >= 0 && s < TWO53 && Math.trunc(s) == s) {
    // Part by part, while the varints are minimal and at most 7 bytes and the slots exact
    // integers (the twin's f64 sums then agree); anything else goes event by event below.
    let p: usize = 0;
    let at = <u64>s;
    let j: usize = 0;
    let k: u32 = 0;
    while (k < n) {
      const c = min(per, n - k);
      const q = scanDeltas(bytes, p, end, c);
      if (q == SCAN_FAILED) break;
      at += scanSum;
      if (at >= <u64>TWO53) break;
      store<u32>(ends + (j << 2), <u32>q);
      store<f64>(lasts + (j << 3), <f64>at);
      j++;
      p = q;
      k += c;
    }
    if (k >= n) {
      if (n > 0 && <f64>at >= e) {
        store<f64>(info + 24, <f64>at);
        return SLOT_LATE;
      }
      if (p != end) {
        store<f64>(info + 40, <f64>(end - p));
        return BYTES_LEFT;
      }
      return OK;
    }
  }
  let pos: usize = 0;
  let slot = s;
  let left = per;
  let part: usize = 0;
  for (let k: u32 = 0; k < n; k++) {
    if (pos >= end) {
      store<f64>(info + 16, <f64>k);
      return DELTAS_END;
    }
    const b0 = <u32>load<u8>(bytes + pos++);
    if (b0 < 0x80) slot += <f64>b0;
    else {
      let d: f64 = <f64>(b0 & 0x7f);
      let scale: f64 = 0x80;
      let more: u32 = 7; // continuation bytes the twin allows before its scale passes 2^49
      for (;;) {
        if (pos >= end) {
          store<f64>(info + 16, <f64>k);
          return DELTAS_END;
        }
        const b = <u32>load<u8>(bytes + pos++);
        d += <f64>(b & 0x7f) * scale;
        if (b < 0x80) break;
        scale *= 0x80;
        if (--more == 0) {
          store<f64>(info + 16, <f64>k);
          return DELTA_TOO_LONG;
        }
      }
      slot += d;
    }
    if (--left == 0) {
      store<u32>(ends + (part << 2), <u32>pos);
      store<f64>(lasts + (part << 3), slot);
      part++;
      left = per;
    }
  }
  if (left != per) {
    store<u32>(ends + (part << 2), <u32>pos);
    store<f64>(lasts + (part << 3), slot);
  }
  if (n > 0 && slot >= e) {
    store<f64>(info + 24, slot);
    return SLOT_LATE;
  }
  if (pos != end) {
    store<f64>(info + 40, <f64>(end - pos));
    return BYTES_LEFT;
  }
  return OK;
}
