import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { SlotDeltaCoder, type Announcement } from './deltas.js';
import { KernelArgumentError } from './errors.js';
import { seededRandom } from '../reconciliation/design.js';
import { SessionMessageError } from '../session/messages.js';
import { decodeAnnouncedSlots, encodeSegmentDeltas, encodeSlotDeltas, packBits, partitionSlotDeltas, type SlotDeltaRun, slotSegments, type SegmentBatch, type SlotSegments } from '../session/packing.js';
import { squashClicks } from '../session/sifting.js';

const targets = ['release', 'release-simd', 'debug'] as const;

interface Block {
  start: number;
  seg: SlotSegments;
  masks: Uint8Array;
  slots: number[];
}

/**
 * A receiver's block as bob.ts gathers it: batches of events at increasing slots, whole ones in
 * wire form (LEB128 deltas from the batch's first slot or a little before), decoded ones where
 * the block starts or ends (and a few in between); 1-in-`multiEvery` multi-click masks, some
 * empty masks and high bits set. Slots start anywhere up to near 2^53.
 */
function block(seed: number, batches: number, high: boolean, multiEvery: number): Block {
  const rnd = seededRandom(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  let start = high ? 2 ** 53 - 2 ** 47 - int(2 ** 30) : int(2 ** 40);
  if (int(8) === 0) start = 0;
  const parts: SegmentBatch[] = [];
  const slots: number[] = [];
  let at = start + int(50);
  for (let b = 0; b < batches; b++) {
    const n = int(4) === 0 ? 0 : int(60);
    const batchBase = at + int(3);
    let slot = batchBase;
    const mine: number[] = [];
    for (let k = 0; k < n; k++) {
      // Mostly short gaps (one byte), some long ones (up to 2^35, five bytes), some repeats.
      const r = rnd();
      slot += r < 0.1 ? 0 : r < 0.9 ? int(130) : r < 0.98 ? int(70_000) : int(2 ** 35);
      mine.push(slot);
    }
    const wire = (b > 0 && b < batches - 1 && int(5) !== 0) || int(3) === 0;
    // A decoded segment's base is not read: NaN or a wrong one must not matter.
    parts.push({ base: wire ? batchBase : int(2) ? NaN : 12345, slots: mine, wire });
    slots.push(...mine);
    at = n > 0 ? slot : batchBase;
  }
  const masks = Uint8Array.from(slots, () => {
    if (int(multiEvery) === 0) return 1 + int(15);
    if (int(50) === 0) return int(2) ? 0 : 0xf0;
    return (1 << int(4)) | (int(10) === 0 ? 0x30 : 0);
  });
  return { start, seg: slotSegments(parts), masks, slots };
}

/** A seeded random-byte source that records what it was asked for. */
function randomSource(seed: number, short = false): { bits: (n: number) => Uint8Array; asked: number[] } {
  const rnd = seededRandom(seed);
  const asked: number[] = [];
  return { asked, bits: (n) => (asked.push(n), Uint8Array.from({ length: short ? n >> 1 : n }, () => Math.floor(rnd() * 256))) };
}

type Outcome<T> = { ok: T } | { error: string };

function outcome<T>(f: () => T): Outcome<T> {
  try {
    return { ok: f() };
  } catch (e) {
    const err = e as Error;
    return { error: `${err.constructor.name}: ${err.message}` };
  }
}

/** The twin's announcement, as worker.ts computed it before the kernel. */
function twinAnnounce(b: Block, randomBits: (n: number) => Uint8Array): Omit<Announcement, 'multiClicks'> & { multiClicks: number } {
  const { basis, value, multiClicks } = squashClicks(b.masks, randomBits);
  const d = encodeSegmentDeltas(b.start, b.seg);
  return { d, bb: packBits(basis), basis, value, multiClicks };
}

const plain = (o: Outcome<Announcement>) => ('ok' in o ? { d: Array.from(o.ok.d), bb: Array.from(o.ok.bb), basis: Array.from(o.ok.basis), value: Array.from(o.ok.value), multi: o.ok.multiClicks } : o);

/** A copy of the segments with one thing broken, chosen by `kind` and `r`. */
function corrupt(b: Block, kind: number, r: () => number): Block {
  const seg = { base: b.seg.base.slice(), count: b.seg.count.slice(), rawBytes: b.seg.rawBytes.slice(), raw: b.seg.raw.slice(), decoded: b.seg.decoded.slice() };
  const nSeg = seg.count.length;
  const i = Math.floor(r() * nSeg);
  const out = { ...b, seg };
  switch (kind) {
    case 0: // a raw byte flipped: varints run on, end early or jump
      if (seg.raw.length > 0) {
        const j = Math.floor(r() * seg.raw.length);
        seg.raw[j] = seg.raw[j]! ^ (1 << Math.floor(r() * 8));
      }
      break;
    case 1: // a segment's byte count off by a few (truncated varints, bytes left, past the end)
      if (seg.rawBytes[i]! >= 0) seg.rawBytes[i] = Math.max(0, seg.rawBytes[i]! + Math.floor(r() * 7) - 3);
      break;
    case 2: // a segment's event count off by one
      seg.count[i] = Math.max(0, seg.count[i]! + (r() < 0.5 ? -1 : 1));
      break;
    case 3: // a decoded slot moved back, to NaN, or past 2^53
      if (seg.decoded.length > 0) {
        const j = Math.floor(r() * seg.decoded.length);
        seg.decoded[j] = [seg.decoded[j]! - 1 - Math.floor(r() * 100), NaN, 2 ** 53 + 2 * Math.floor(r() * 100), seg.decoded[j]! + 0.5][Math.floor(r() * 4)]!;
      }
      break;
    case 4: // the start after the first slot
      return { ...out, start: (b.slots[0] ?? b.start) + 1 + Math.floor(r() * 1000) };
    case 5: // arrays shorter than the segment count: a missing base, byte count or decoded slot
      if (r() < 0.34) return { ...out, seg: { ...seg, base: seg.base.subarray(0, i) } };
      if (r() < 0.5) return { ...out, seg: { ...seg, rawBytes: seg.rawBytes.subarray(0, i) } };
      return { ...out, seg: { ...seg, decoded: seg.decoded.subarray(0, Math.floor(seg.decoded.length / 2)) } };
    case 6: // an overlong varint (2^53 and beyond) at a segment's start
      if (seg.rawBytes[i]! >= 0) {
        const off = seg.rawBytes.subarray(0, i).reduce((a, x) => a + Math.max(0, x), 0);
        const pad = Array.from({ length: 6 + Math.floor(r() * 20) }, () => 0xff);
        const rawArr = Array.from(seg.raw);
        rawArr.splice(off, 0, ...pad);
        seg.rawBytes[i] = seg.rawBytes[i]! + pad.length;
        return { ...out, seg: { ...seg, raw: Uint8Array.from(rawArr) } };
      }
      break;
  }
  return out;
}

for (const target of targets) {
  const coder = new SlotDeltaCoder({ target });

  test(`deltas (${target}): Bob's announcement equals squashClicks + encodeSegmentDeltas + packBits`, () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 40 }), fc.boolean(), fc.integer({ min: 1, max: 100 }), (seed, batches, high, multiEvery) => {
        const b = block(seed, batches, high, multiEvery);
        const r1 = randomSource(seed ^ 0x5a5a);
        const r2 = randomSource(seed ^ 0x5a5a);
        const want = plain(outcome(() => twinAnnounce(b, r1.bits)));
        const got = plain(outcome(() => coder.announce(b.start, b.seg, b.masks, r2.bits)));
        assert.ok('d' in want, 'the twin accepts a well-formed block');
        assert.equal(got, want);
        assert.equal(r2.asked, r1.asked, 'random bytes asked for');
        // The segments' slots, re-encoded from the start, are the block's slots.
        assert.equal(Array.from(decodeAnnouncedSlots(b.start, Uint8Array.from((want as { d: number[] }).d), b.slots.length, 2 ** 53)), b.slots);
      }),
      { numRuns: 300, seed: 17 },
    );
  });

  test(`deltas (${target}): malformed segments fail with the twin's error class and message`, () => {
    let failures = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 12 }), fc.boolean(), fc.integer({ min: 0, max: 6 }), (seed, batches, high, kind) => {
        const b = corrupt(block(seed, batches, high, 20), kind, seededRandom(seed + 1));
        const want = plain(outcome(() => twinAnnounce(b, randomSource(seed).bits)));
        const got = plain(outcome(() => coder.announce(b.start, b.seg, b.masks, randomSource(seed).bits)));
        if ('error' in want) failures++;
        assert.equal(got, want);
      }),
      { numRuns: 600, seed: 23 },
    );
    assert.ok(failures > 200, `${failures} of the corrupted blocks fail`);
  });

  test(`deltas (${target}): fixed malformed segments`, () => {
    const seg = (raw: number[], count: number, rawBytes = raw.length) => ({ base: Float64Array.of(100), count: Uint32Array.of(count), rawBytes: Int32Array.of(rawBytes), raw: Uint8Array.from(raw), decoded: new Float64Array(0) });
    const none = () => new Uint8Array(0);
    const cases: Array<[number, SlotSegments, RegExp]> = [
      [0, seg([0x85], 1), /^segment 0: its deltas end after 0 of 1 events$/],
      [0, seg([1, 2], 1), /^segment 0: 1 bytes left after 1 deltas$/],
      [200, seg([1], 1), /^slot 101 in segment 0 is before 200$/],
      [0, seg([1], 1, 5), /^segment 0: 5 bytes of deltas past the end of 1$/],
      [0, { ...seg([], 1, -1) }, /^slot undefined in segment 0 is before 0$/],
    ];
    for (const [start, s, re] of cases) {
      const masks = new Uint8Array(s.count[0]!).fill(1);
      assert.throws(() => encodeSegmentDeltas(start, s), (e: Error) => e instanceof RangeError && re.test(e.message));
      assert.throws(() => coder.announce(start, s, masks, none), (e: Error) => e instanceof RangeError && re.test(e.message));
    }
    assert.throws(() => coder.announce(0, { ...seg([], 0), decoded: [] as unknown as Float64Array }, new Uint8Array(0), none), (e: Error) => e instanceof KernelArgumentError && /segments\.decoded/.test(e.message));
    assert.throws(() => coder.announce(0, seg([], 0), new Uint8Array(1).fill(3), () => [1, 2] as unknown as Uint8Array), (e: Error) => e instanceof KernelArgumentError && /randomBits/.test(e.message));
  });

  test(`deltas (${target}): non-minimal varints and slots past 2^53 come out as the twin's`, () => {
    const raw = (start: number, base: number, bytes: number[], count: number) => ({
      start,
      seg: { base: Float64Array.of(base), count: Uint32Array.of(count), rawBytes: Int32Array.of(bytes.length), raw: Uint8Array.from(bytes), decoded: new Float64Array(0) },
      masks: new Uint8Array(count).fill(4),
      slots: [],
    });
    const blocks = [
      // 1 as 0x81 0x00 and 5 as 0x85 0x80 0x00: valid, re-encoded minimal (shorter).
      raw(0, 100, [5, 0x81, 0x00, 0x85, 0x80, 0x00, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1], 13),
      // Slots cross 2^53, where the twin's f64 sums round: the kernel rounds alike.
      raw(2 ** 53 - 20, 2 ** 53 - 10, [1, 5, 100, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 18),
      // An 8-byte delta (2^49 and more) inside a segment.
      raw(0, 0, [1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 2, 3], 4),
      // Fractional and negative slots: not the link's, but the twin's arithmetic all the same.
      raw(0.5, 100.5, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 11),
      raw(-50, -40, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 11),
    ];
    for (const b of blocks) {
      const want = plain(outcome(() => twinAnnounce(b, randomSource(1).bits)));
      assert.ok('d' in want);
      assert.equal(plain(outcome(() => coder.announce(b.start, b.seg, b.masks, randomSource(1).bits))), want);
    }
  });

  test(`deltas (${target}): random bytes are read in the twin's order, short sources read as 0`, () => {
    // All sixteen masks (and bits 4-7 set), so every squash rule is hit.
    const masks = Uint8Array.from({ length: 512 }, (_, i) => (i & 15) | ((i >> 4) << 4));
    const seg = { base: Float64Array.of(0), count: Uint32Array.of(512), rawBytes: Int32Array.of(512), raw: new Uint8Array(512).fill(1), decoded: new Float64Array(0) };
    for (const short of [false, true]) {
      const b = { start: 0, seg, masks, slots: [] };
      const want = plain(outcome(() => twinAnnounce(b, randomSource(3, short).bits)));
      const got = plain(outcome(() => coder.announce(0, seg, masks, randomSource(3, short).bits)));
      assert.equal(got, want);
      assert.is((got as { multi: number }).multi, 11 * 32);
    }
  });

  const twinParts = (d: Uint8Array, s: number, e: number, n: number, parts: number) => partitionSlotDeltas(s, d, decodeAnnouncedSlots(s, d, n, e), parts);
  const sameParts = (got: Outcome<SlotDeltaRun[]>, want: Outcome<SlotDeltaRun[]>) => assert.equal(got, want);

  test(`deltas (${target}): Alice's check and cut equal decodeAnnouncedSlots + partitionSlotDeltas`, () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 40 }), fc.boolean(), fc.integer({ min: 0, max: 9 }), (seed, batches, high, parts) => {
        const b = block(seed, batches, high, 50);
        const d = encodeSlotDeltas(b.start, b.slots);
        const last = b.slots.at(-1) ?? b.start;
        const want = outcome(() => twinParts(d, b.start, last + 1, b.slots.length, parts));
        assert.ok('ok' in want);
        sameParts(outcome(() => coder.partition(d, b.start, last + 1, b.slots.length, parts)), want);
      }),
      { numRuns: 300, seed: 29 },
    );
  });

  test(`deltas (${target}): malformed deltas fail with the twin's SessionMessageError`, () => {
    let failures = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 12 }), fc.boolean(), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 }), (seed, batches, high, kind, parts) => {
        const b = block(seed, batches, high, 50);
        const r = seededRandom(seed + 7);
        let d = encodeSlotDeltas(b.start, b.slots);
        let n = b.slots.length;
        let e = (b.slots.at(-1) ?? b.start) + 1;
        switch (kind) {
          case 0: // truncated
            d = d.subarray(0, Math.floor(r() * d.length));
            break;
          case 1: // bytes left over, or a last varint that runs on
            d = Uint8Array.from([...d, ...Array.from({ length: 1 + Math.floor(r() * 3) }, () => Math.floor(r() * 256))]);
            break;
          case 2: // one event more or fewer
            n = Math.max(0, n + (r() < 0.5 ? -1 : 1));
            break;
          case 3: // the last slot at or after the block end
            e -= Math.floor(r() * 3);
            break;
          case 4: { // an overlong varint (8 to 10 bytes) somewhere
            const at = Math.floor(r() * (d.length + 1));
            const len = 7 + Math.floor(r() * 3);
            d = Uint8Array.from([...d.subarray(0, at), ...Array.from({ length: len }, () => 0x80 | Math.floor(r() * 128)), 1, ...d.subarray(at)]);
            n++;
            break;
          }
          case 5: // a flipped bit
            if (d.length > 0) {
              const j = Math.floor(r() * d.length);
              d[j] = d[j]! ^ (1 << Math.floor(r() * 8));
            }
            break;
        }
        const want = outcome(() => twinParts(d, b.start, e, n, parts));
        if ('error' in want) failures++;
        sameParts(outcome(() => coder.partition(d, b.start, e, n, parts)), want);
      }),
      { numRuns: 600, seed: 31 },
    );
    assert.ok(failures > 250, `${failures} of the corrupted lists fail`);
  });

  test(`deltas (${target}): fixed malformed deltas, and n far beyond the bytes`, () => {
    const cases: Array<[number[], number, number, number, RegExp]> = [
      [[0x85], 0, 1000, 1, /^sift\.announce: slot deltas end after 0 of 1 events$/],
      [[1, 2], 0, 1000, 3, /^sift\.announce: slot deltas end after 2 of 3 events$/],
      [[1, 2], 0, 1000, 1, /^sift\.announce: 1 bytes left after 1 slot deltas$/],
      [[1, 2], 10, 13, 2, /^sift\.announce: event 1 at slot 13 is not before the block end 13$/],
      [[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1], 0, 2 ** 60, 1, /^sift\.announce: slot delta 0 is too long$/],
      [[1], 0, 1000, 2 ** 40, /^sift\.announce: slot deltas end after 1 of 1099511627776 events$/],
    ];
    for (const [bytes, s, e, n, re] of cases) {
      const d = Uint8Array.from(bytes);
      const ok = (err: Error) => err instanceof SessionMessageError && re.test(err.message);
      if (n < 2 ** 32) assert.throws(() => twinParts(d, s, e, n, 2), ok);
      assert.throws(() => coder.partition(d, s, e, n, 2), ok);
    }
    // Slots the fast path leaves to the event-by-event one: fractional, negative, past 2^53,
    // non-minimal or 8-byte varints.
    const odd = Uint8Array.of(1, 2, 0x81, 0x00, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13);
    let valid = 0;
    for (const s of [-5, 0.5, 2 ** 53 - 3, 2 ** 53 + 2, 7]) {
      for (const parts of [1, 2, 3, 7]) {
        for (const n of [14, 15, 16]) {
          const want = outcome(() => twinParts(odd, s, 2 ** 60, n, parts));
          if ('ok' in want) valid++;
          sameParts(outcome(() => coder.partition(odd, s, 2 ** 60, n, parts)), want);
        }
      }
    }
    assert.is(valid, 20);
    // The longest delta the twin takes: 8 bytes.
    const eight = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
    sameParts(outcome(() => coder.partition(eight, 0, 2 ** 60, 1, 1)), outcome(() => twinParts(eight, 0, 2 ** 60, 1, 1)));
    assert.throws(() => coder.partition(new Uint8Array(0), 0, 1, -1, 1), (err: Error) => err instanceof KernelArgumentError);
    assert.throws(() => coder.partition(new Uint8Array(0), 0, 1, 0, NaN), (err: Error) => err instanceof KernelArgumentError);
    assert.equal(coder.partition(new Uint8Array(0), 5, 6, 0, 4), []);
  });
}

test('deltas: release, release-simd and debug builds agree on a large block', () => {
  const b = block(99, 3000, true, 100);
  const results = targets.map((target) => plain(outcome(() => new SlotDeltaCoder({ target }).announce(b.start, b.seg, b.masks, randomSource(1).bits))));
  assert.ok('d' in results[0]!);
  assert.equal(results[1], results[0]);
  assert.equal(results[2], results[0]);
});

test.run();
