import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { countBits, decodeAnnouncedSlots, decodeU32s, encodeSegmentDeltas, partitionSlotDeltas, encodeSlotDeltas, encodeU32s, pack2, packBits, unpack2, unpackBits, slotSegments, type SegmentBatch } from './packing.js';
import { SessionMessageError } from './messages.js';

test('bits, 2-bit classes and u32 lists survive a round trip', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 300 }), (xs) => {
      const bits = xs.map((x) => x & 1);
      assert.equal(Array.from(unpackBits(packBits(bits), bits.length, 'bits')), bits);
      assert.is(countBits(packBits(bits), bits.length), bits.filter((b) => b).length);
      assert.equal(Array.from(unpack2(pack2(xs), xs.length, 'cls')), xs);
      assert.equal(Array.from(decodeU32s(encodeU32s(xs.map((x) => x * 0x3fffffff)), 'pos')), xs.map((x) => x * 0x3fffffff));
    }),
    { numRuns: 200, seed: 3 },
  );
});

test('slot deltas: LEB128 round trip up to 2^53, one byte per delta below 128', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { maxLength: 100 }), (s, ds) => {
      const slots: number[] = [];
      let at = s;
      for (const d of ds) slots.push((at += d));
      const enc = encodeSlotDeltas(s, slots);
      assert.equal(Array.from(decodeAnnouncedSlots(s, enc, slots.length, at + 1)), slots);
    }),
    { numRuns: 200, seed: 4 },
  );
  assert.is(encodeSlotDeltas(1000, [1000, 1005, 1132]).length, 3);
});

test('decoders refuse wrong lengths, truncated deltas and events outside the block', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => unpackBits(Uint8Array.of(1, 2), 3, 'keep'), /keep: 2 bytes for 3 bits/],
    [() => unpack2(Uint8Array.of(1), 5, 'cls'), /cls: 1 bytes/],
    [() => decodeU32s(Uint8Array.of(1, 2, 3), 'pos'), /not a whole number/],
    [() => decodeAnnouncedSlots(0, Uint8Array.of(0x85), 1, 100), /end after 0 of 1/],
    [() => decodeAnnouncedSlots(0, Uint8Array.of(5, 200, 1), 2, 100), /not before the block end 100/],
    [() => decodeAnnouncedSlots(0, Uint8Array.of(5, 6), 1, 100), /1 bytes left/],
  ];
  for (const [f, want] of bad) assert.throws(f, (e: unknown) => e instanceof SessionMessageError && want.test(e.message));
  assert.throws(() => encodeSlotDeltas(10, [9]), /before/);
});

test('a block announced from whole batches in wire form and decoded parts gives the same bytes as from its slots', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 70_000 }), { maxLength: 40 }), fc.boolean(), fc.integer({ min: 0, max: 2 ** 33 })), { maxLength: 12 }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      (batches, s0) => {
        // Batch i starts `gap` slots after the previous batch's last event; its deltas are from its own start.
        const slots: number[] = [];
        const parts: SegmentBatch[] = [];
        let at = s0;
        for (const [deltas, wire, gap] of batches) {
          const start = at + gap;
          let slot = start;
          const mine = deltas.map((d) => (slot += d));
          parts.push({ base: start, slots: mine, wire });
          slots.push(...mine);
          at = mine.length > 0 ? slot : start;
        }
        assert.equal(encodeSegmentDeltas(s0, slotSegments(parts)), encodeSlotDeltas(s0, slots));
      },
    ),
    { numRuns: 200, seed: 11 },
  );
  // A segment whose wire deltas are cut short, or have bytes left over, is refused.
  const seg = (raw: number[], count: number) => ({ base: Float64Array.of(100), count: Uint32Array.of(count), rawBytes: Int32Array.of(raw.length), raw: Uint8Array.from(raw), decoded: new Float64Array(0) });
  assert.throws(() => encodeSegmentDeltas(0, seg([0x85], 1)), /end after 0 of 1/);
  assert.throws(() => encodeSegmentDeltas(0, seg([1, 2], 1)), /1 bytes left/);
  assert.throws(() => encodeSegmentDeltas(200, seg([1], 1)), /before 200/);
});

test('slot deltas cut into parts: each part decodes on its own to its share of the slots', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 300_000 }), { maxLength: 200 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 2 ** 40 }), (deltas, parts, s) => {
      let at = s;
      const slots = deltas.map((d) => (at += d));
      const bytes = encodeSlotDeltas(s, slots);
      const decoded = decodeAnnouncedSlots(s, bytes, slots.length, at + 1);
      const cut = partitionSlotDeltas(s, bytes, decoded, parts);
      assert.ok(cut.length <= parts);
      assert.is(cut.reduce((a, p) => a + p.n, 0), slots.length);
      const again = cut.flatMap((p) => Array.from(decodeAnnouncedSlots(p.s, bytes.subarray(p.from, p.to), p.n, at + 1)));
      assert.equal(again, slots);
    }),
    { numRuns: 200, seed: 5 },
  );
});

test.run();
