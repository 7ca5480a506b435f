// Sifting of a link block as the session keeps it (host/qkd-link/module/workers/worker.ts 'sift-tx' and
// 'sift-rx'): Bob's bases bit-packed as announced, values one byte per event, Alice's keep flags
// bit-packed and the kept events' intensity classes packed two bits each (session/packing.ts).
// One call per step and block: the per-event work of a block never runs in JavaScript.

/**
 * Alice's answer. `settings` holds her board's SETTINGS byte per event, as on the wire (bit 0
 * value, bit 1 basis X, bits 2-3 intensity class, bits 5-7 not known: dark, future, expired).
 * Event k is kept when its setting is known, her basis equals Bob's (bit k of `bb`) and its class
 * is 0-2 (signal, decoy, vacuum). Writes the keep flags at `keepOut` (ceil(n/8) bytes) and each
 * kept event's class at `clsOut` (2 bits per kept event, room for ceil(n/4) bytes rounded up to
 * 8), and returns how many were kept.
 */
export function answerKeep(bb: usize, settings: usize, n: u32, keepOut: usize, clsOut: usize): u32 {
  let kept: u32 = 0;
  let acc: u64 = 0; // pending 2-bit classes, low first
  let fill: u32 = 0;
  let out = clsOut;
  const whole = n >>> 3;
  for (let o: u32 = 0; o <= whole; o++) {
    const b = <u32>load<u8>(bb + o);
    const m: u32 = o < whole ? 8 : n & 7;
    let kb: u32 = 0;
    // Branch-free per event: the bases are random, a branch would mispredict half the time.
    for (let j: u32 = 0; j < m; j++) {
      const a = <u32>load<u8>(settings + <usize>((o << 3) + j));
      const i = (a >>> 2) & 3;
      const miss = (a & 0xe0) | (((a >>> 1) ^ (b >>> j)) & 1);
      const keep = <u32>(miss == 0) & <u32>(i <= 2);
      kb |= keep << j;
      acc |= <u64>(i & (0 - keep)) << (<u64>fill << 1);
      fill += keep;
      if (fill == 32) {
        store<u64>(out, acc);
        out += 8;
        acc = 0;
        fill = 0;
      }
    }
    if (m > 0) store<u8>(keepOut + o, <u8>kb);
    kept += popcnt(kb);
  }
  if (fill > 0) store<u64>(out, acc);
  return kept;
}

/**
 * Sifts the kept events into the block's strings, one bit per byte: the key string is the Z
 * values of signal, then decoy, then vacuum events, each in event order, the test string the X
 * values likewise (`value` is this end's: Bob's detections, Alice's settings). Also packs the test
 * string at `testPacked`. counts gets 6 u32, Z and X per class; `kept` is the count of keep flags
 * (ceil(kept/4) class bytes). `spare` is scratch for 4 * kept bytes (the decoy and vacuum streams
 * before they move behind the signal's). Returns -1; or the index among kept events of a class 3
 * (no such class), or -2 when the keep flags count other than `kept`: the outputs then mean nothing.
 */
export function siftKept(bb: usize, value: usize, keep: usize, cls: usize, n: u32, kept: u32, outKey: usize, outTest: usize, testPacked: usize, counts: usize, spare: usize): i32 {
  // Write pointers of the six (class, basis) streams; entries 6 and 7 are sinks for events that
  // are not kept and for class 3. Signal streams go straight to their place in the strings.
  const at = counts + 24;
  const sink = at + 32;
  store<usize>(at, outKey);
  store<usize>(at + 4, outTest);
  for (let s: u32 = 2; s < 6; s++) store<usize>(at + (<usize>s << 2), spare + <usize>(s - 2) * <usize>kept);
  store<usize>(at + 24, sink);
  store<usize>(at + 28, sink);
  // One pass, branch-free (keep and bases are random): every event writes, only kept ones advance.
  let c: u32 = 0;
  let bad: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const keepBit = (<u32>load<u8>(keep + (k >>> 3)) >>> (k & 7)) & 1;
    const cl = (<u32>load<u8>(cls + (c >>> 2)) >>> ((c & 3) << 1)) & 3;
    const b = (<u32>load<u8>(bb + (k >>> 3)) >>> (k & 7)) & 1;
    bad |= keepBit & <u32>(cl == 3);
    const s = keepBit != 0 ? (cl << 1) | b : 6;
    const slot = at + (<usize>s << 2);
    const p = load<usize>(slot);
    store<u8>(p, load<u8>(value + k) & 1);
    store<usize>(slot, p + <usize>(keepBit & <u32>(cl != 3)));
    c += keepBit;
  }
  if (bad != 0) return firstBadClass(keep, cls, n);
  if (c != kept) return -2;
  // Counts from the pointers; decoy and vacuum streams move behind the signal's.
  let zo = outKey;
  let xo = outTest;
  for (let cl: u32 = 0; cl < 3; cl++) {
    const zs = cl == 0 ? outKey : spare + <usize>((cl << 1) - 2) * <usize>kept;
    const xs = cl == 0 ? outTest : spare + <usize>((cl << 1) - 1) * <usize>kept;
    const nz = load<usize>(at + (<usize>(cl << 1) << 2)) - zs;
    const nx = load<usize>(at + (<usize>((cl << 1) | 1) << 2)) - xs;
    store<u32>(counts + (<usize>(cl << 1) << 2), <u32>nz);
    store<u32>(counts + (<usize>((cl << 1) | 1) << 2), <u32>nx);
    if (cl > 0) {
      memory.copy(zo, zs, nz);
      memory.copy(xo, xs, nx);
    }
    zo += nz;
    xo += nx;
  }
  // The test string packed (bit i of byte j is bit 8j + i), for Bob's sift.test message.
  const nTest = <u32>(xo - outTest);
  const whole = nTest >>> 3;
  for (let o: u32 = 0; o < whole; o++) {
    const v = load<u64>(outTest + (<usize>o << 3));
    // Bit 0 of each of the 8 bytes, gathered into one byte.
    store<u8>(testPacked + o, <u8>(((v & 0x0101010101010101) * 0x0102040810204080) >>> 56));
  }
  if ((nTest & 7) != 0) {
    let t: u32 = 0;
    for (let i: u32 = whole << 3; i < nTest; i++) t |= (<u32>load<u8>(outTest + i) & 1) << (i & 7);
    store<u8>(testPacked + whole, <u8>t);
  }
  return -1;
}

/** Index among kept events of the first class 3. */
function firstBadClass(keep: usize, cls: usize, n: u32): i32 {
  let c: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    if (((<u32>load<u8>(keep + (k >>> 3)) >>> (k & 7)) & 1) == 0) continue;
    if (((<u32>load<u8>(cls + (c >>> 2)) >>> ((c & 3) << 1)) & 3) == 3) return <i32>c;
    c++;
  }
  return -2;
}
