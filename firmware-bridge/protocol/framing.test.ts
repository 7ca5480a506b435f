import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { crc32c, crc32cReference } from './crc32c.js';
import { cobsDecodeInPlace, cobsDecodeInto, cobsEncode, cobsMaxEncodedLength } from './cobs.js';
import { encodeFrame, FrameDecoder, MAX_PAYLOAD_LENGTH, seqAfter, type Frame, type FrameRejectReason } from './frame.js';
import { checkCbor, decodeCbor, encodeCbor } from './cbor.js';
import { FrameLink } from './link.js';
import { boardSlotDeltas, MessageType, splitSlotDeltas } from './messages.js';
import { BadMessageError } from '../errors.js';
import { decodeDetections, DetectionBatch, encodeDetections } from './detections.js';

test('CRC-32C matches the RFC 3720 check value and the bitwise reference', () => {
  assert.is(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.is(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => crc32c(b) === crc32cReference(b)));
  // Any start (aligned words or bytes) and end (tails of 0-7 bytes) inside a larger buffer.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 7 }), fc.nat({ max: 7 }), (b, head, tail) => {
      const buf = new Uint8Array(head + b.length + tail);
      buf.set(b, head);
      return crc32c(buf, head, head + b.length) === crc32cReference(b) && crc32c(buf.subarray(head), 0, b.length) === crc32cReference(b);
    }),
  );
});

test('COBS round-trips any bytes, never emits 0x00 before the delimiter, and stays within its overhead bound', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => {
      const enc = cobsEncode(b);
      assert.is(enc[enc.length - 1], 0);
      assert.ok(!enc.subarray(0, enc.length - 1).includes(0));
      assert.ok(enc.length - 1 <= cobsMaxEncodedLength(b.length));
      const out = new Uint8Array(b.length);
      const n = cobsDecodeInto(enc, 0, enc.length - 1, out);
      assert.is(n, b.length);
      assert.equal(Array.from(out), Array.from(b));
    }),
    { numRuns: 300 },
  );
  // 254 and 255 non-zero bytes are the edge of a COBS block
  for (const n of [253, 254, 255, 508, 509]) {
    const b = new Uint8Array(n).fill(7);
    const out = new Uint8Array(n);
    const enc = cobsEncode(b);
    assert.is(cobsDecodeInto(enc, 0, enc.length - 1, out), n);
  }
});

function collect(chunks: Uint8Array[]): { frames: Frame[]; rejects: FrameRejectReason[] } {
  const frames: Frame[] = [];
  const rejects: FrameRejectReason[] = [];
  const d = new FrameDecoder({ frame: (f) => frames.push({ ...f, payload: f.payload.slice() }), reject: (r) => rejects.push(r) });
  for (const c of chunks) d.push(c);
  return { frames, rejects };
}

test('COBS in place (what the frame decoder uses) agrees with the checking decoder on any zero-free bytes, valid or not', () => {
  const zeroFree = fc.uint8Array({ maxLength: 1200 }).map((b) => b.map((x) => x || 1));
  const encoded = fc.uint8Array({ maxLength: 1200 }).map((b) => cobsEncode(b).subarray(0, -1));
  fc.assert(
    fc.property(fc.oneof(zeroFree, encoded), fc.integer({ min: 0, max: 1300 }), (src, limit) => {
      const dst = new Uint8Array(limit);
      const want = cobsDecodeInto(src, 0, src.length, dst);
      const buf = Uint8Array.of(7, ...src);
      const got = cobsDecodeInPlace(buf, 1, buf.length, limit);
      assert.is(got, want);
      if (want >= 0) assert.equal(buf.subarray(1, 1 + got), dst.subarray(0, want));
    }),
  );
});

test('frames survive any fragmentation of the byte stream', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }), (payloads, cuts) => {
      const wire = Buffer.concat(payloads.map((p, i) => encodeFrame(MessageType.TELEMETRY, i + 1, p)));
      const chunks: Uint8Array[] = [];
      let o = 0;
      for (let i = 0; o < wire.length; i++) {
        const n = cuts[i % cuts.length]!;
        chunks.push(wire.subarray(o, o + n));
        o += n;
      }
      const { frames, rejects } = collect(chunks);
      assert.equal(rejects, []);
      assert.equal(frames.map((f) => f.seq), payloads.map((_, i) => i + 1));
      frames.forEach((f, i) => assert.equal(Array.from(f.payload), Array.from(payloads[i]!)));
    }),
    { numRuns: 150 },
  );
});

test('a corrupt frame is rejected once and the next frame still decodes', () => {
  const a = encodeFrame(MessageType.TELEMETRY, 1, Uint8Array.of(1, 2, 3));
  const b = encodeFrame(MessageType.TELEMETRY, 2, Uint8Array.of(4, 5, 6));
  const bad = a.slice();
  bad[3]! ^= 0x10;
  const { frames, rejects } = collect([bad, b]);
  assert.equal(rejects, ['crc']);
  assert.equal(frames.map((f) => f.seq), [2]);
});

test('an oversized run is rejected once, then the decoder resynchronises at the next delimiter', () => {
  const junk = new Uint8Array(MAX_PAYLOAD_LENGTH + 5000).fill(0x41);
  const good = encodeFrame(MessageType.TELEMETRY, 9, Uint8Array.of(0xa0));
  const { frames, rejects } = collect([junk.subarray(0, 30000), junk.subarray(30000), Uint8Array.of(0), good]);
  assert.equal(rejects, ['oversized']);
  assert.equal(frames.map((f) => f.seq), [9]);
  assert.throws(() => encodeFrame(1, 1, new Uint8Array(MAX_PAYLOAD_LENGTH + 1)), RangeError);
});

test('sequence numbers compare across the u32 wrap', () => {
  assert.ok(seqAfter(1, 0xffffffff));
  assert.ok(seqAfter(5, 4));
  assert.not.ok(seqAfter(4, 5));
  assert.not.ok(seqAfter(7, 7));
});

test('FrameLink rejects duplicates, reordered and unknown-type frames with counters, counts missing frames', () => {
  const got: number[] = [];
  const logs: string[] = [];
  const link = new FrameLink({ write: () => {}, accept: new Set([MessageType.TELEMETRY]), onFrame: (f) => got.push(f.seq), log: (e) => logs.push(e.event) });
  const f = (seq: number, type: number = MessageType.TELEMETRY) => encodeFrame(type, seq, Uint8Array.of(0xa0));
  link.push(Buffer.concat([f(10), f(11), f(11), f(9), f(14), f(12), f(15, MessageType.HELLO), f(0x22, 0x55)]));
  assert.equal(got, [10, 11, 14]);
  assert.is(link.stats.rejected.sequence, 3);
  assert.is(link.stats.rejected['unknown-type'], 2);
  assert.is(link.stats.framesMissing, 2);
  assert.ok(logs.filter((l) => l === 'frame-rejected').length === 5);
  link.resync();
  link.push(f(3));
  assert.equal(got, [10, 11, 14, 3]);
});

test('CBOR limits: depth, container size, tags, indefinite lengths, non-text keys and trailing bytes are refused', () => {
  assert.ok(checkCbor(encodeCbor({ a: 1, b: [1, 2, { c: 'x' }] })).ok);
  const deep = encodeCbor({ a: [[[[1]]]] });
  assert.not.ok(checkCbor(deep).ok);
  assert.not.ok(checkCbor(encodeCbor({ a: Array.from({ length: 65 }, () => 0) })).ok);
  assert.not.ok(checkCbor(Uint8Array.of(0xc1, 0x00)).ok); // tag 1
  assert.not.ok(checkCbor(Uint8Array.of(0x9f, 0x01, 0xff)).ok); // indefinite array
  assert.not.ok(checkCbor(Uint8Array.of(0xa1, 0x01, 0x01)).ok); // integer key
  assert.not.ok(checkCbor(Uint8Array.of(0x01, 0x01)).ok); // trailing
  assert.not.ok(checkCbor(Uint8Array.of(0x62, 0xc3, 0x28)).ok); // invalid UTF-8
  assert.not.ok(checkCbor(Uint8Array.of(0x5a, 0xff, 0xff, 0xff, 0xff)).ok); // 4 GiB byte string
  const r = decodeCbor(encodeCbor({ s: 2 ** 40 + 3 }));
  assert.ok(r.ok && (r.value as { s: bigint }).s === BigInt(2 ** 40 + 3), 'integers above 2^32 travel as uint64');
});

test('slot deltas: varints round-trip any increasing slot list; malformed deltas are refused', () => {
  fc.assert(
    fc.property(fc.nat({ max: 2 ** 40 }), fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 200 }), (base, deltas) => {
      const slots: number[] = [];
      let s = base;
      for (const d of deltas) slots.push((s += d));
      const enc = boardSlotDeltas('T').encode(base, slots);
      assert.ok(enc.length <= 5 * slots.length && enc.length >= slots.length);
      assert.equal(Array.from(boardSlotDeltas('T').decode(base, enc, slots.length)), slots);
    }),
    { numRuns: 300 },
  );
  assert.equal(Array.from(boardSlotDeltas('T').encode(0, [119, 119 + 1048455])), [0x77, 0x87, 0xff, 0x3f]);
  const refused = (d: number[], n: number, why: RegExp) =>
    assert.throws(() => boardSlotDeltas('T').decode(0, Uint8Array.from(d), n), (e: unknown) => e instanceof BadMessageError && why.test(e.message));
  refused([0x80], 1, /truncated/); // continuation bit on the last byte
  refused([0x81, 0x00], 1, /not minimally/); // 1 written in two bytes
  refused([0xff, 0xff, 0xff, 0xff, 0x7f], 1, /2\^32 or more/); // 2^35 - 1
  refused([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 1, /longer than 5/);
  refused([0x01, 0x02], 1, /bytes after/);
  refused([0x01], 2, /2 deltas expected, 1 found/);
  assert.throws(() => boardSlotDeltas('T').encode(0, [5, 4]), (e: unknown) => e instanceof BadMessageError); // decreasing
  assert.throws(() => boardSlotDeltas('T').encode(0, [2 ** 32]), (e: unknown) => e instanceof BadMessageError); // a jump of 2^32
  assert.throws(() => boardSlotDeltas('T').encode(2 ** 53 - 2, [2 ** 53 + 2]), (e: unknown) => e instanceof BadMessageError); // past 2^53
  assert.throws(() => boardSlotDeltas('T').encode(0.5, [1.5]), (e: unknown) => e instanceof BadMessageError); // not integers
});

test('slot deltas: split into runs without decoding, each run a valid list from the slot before it', () => {
  fc.assert(
    fc.property(fc.nat({ max: 2 ** 40 }), fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (base, deltas, per) => {
      const slots: number[] = [];
      let s = base;
      for (const d of deltas) slots.push((s += d));
      const enc = boardSlotDeltas('T').encode(base, slots);
      const runs = splitSlotDeltas(base, enc, slots.length, per, 'T');
      assert.is(runs.length, Math.ceil(slots.length / per));
      let k = 0;
      for (const r of runs) {
        assert.ok(r.n <= per && r.n > 0);
        assert.is(r.s, k === 0 ? base : slots[k - 1]);
        assert.equal(Array.from(boardSlotDeltas('T').decode(r.s, enc.subarray(r.from, r.to), r.n)), slots.slice(k, k + r.n));
        k += r.n;
      }
      assert.is(k, slots.length);
    }),
    { numRuns: 300 },
  );
  const refused = (d: number[], n: number, why: RegExp, base = 0) =>
    assert.throws(() => splitSlotDeltas(base, Uint8Array.from(d), n, 4, 'T'), (e: unknown) => e instanceof BadMessageError && why.test(e.message));
  refused([0x80], 1, /truncated/);
  refused([0x81, 0x00], 1, /not minimally/);
  refused([0x01, 0x02], 1, /bytes after/);
  refused([0x01], 2, /2 deltas expected, 1 found/);
  refused([0x01], 1, /beyond 2\^53/, Number.MAX_SAFE_INTEGER);
  refused([0x01], 1, /not a slot number/, 0.5);
});

test('a decoded DETECTIONS batch keeps its wire deltas, decodes slots on demand, and re-encodes to the same bytes', () => {
  fc.assert(
    fc.property(fc.nat({ max: 2 ** 40 }), fc.array(fc.tuple(fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: 15 })), { maxLength: 300 }), (start, events) => {
      const slots: number[] = [];
      let s = start;
      for (const [d] of events) slots.push((s += d));
      const masks = Uint8Array.from(events.map(([, m]) => m));
      const sent = new DetectionBatch(9, 4, start, s + 1, Float64Array.from(slots), masks, 3);
      const wire = encodeDetections(sent);
      const payload = new Uint8Array(wire);
      const got = decodeDetections(payload);
      payload.fill(0xee); // the frame buffer is reused: the batch must hold its own copies
      assert.ok(got.hasDeltas && !sent.hasDeltas);
      assert.equal(Array.from(got.deltas), Array.from(boardSlotDeltas('T').encode(start, slots)));
      assert.equal(Array.from(sent.deltas), Array.from(got.deltas));
      assert.equal(Array.from(got.masks), Array.from(masks));
      assert.equal(Array.from(got.slots), slots);
      assert.is(got.slots, got.slots, 'decoded once');
      assert.equal(Array.from(encodeDetections(got)), Array.from(wire));
      assert.equal([got.acq, got.index, got.slotStart, got.slotEnd, got.overflow, got.length], [9, 4, start, s + 1, 3, slots.length]);
    }),
    { numRuns: 200 },
  );
  // Checked at decode time, as before: a delta list that does not hold the events, or runs past e.
  const bad = (d: Uint8Array, n: number, e: number) => encodeCbor({ acq: 1, i: 0, s: 10, e, d, m: new Uint8Array(n).fill(1) });
  assert.throws(() => decodeDetections(bad(Uint8Array.of(0x81, 0x01), 2, 100)), (x: unknown) => x instanceof BadMessageError && /2 deltas expected, 1 found/.test(x.message));
  assert.throws(() => decodeDetections(bad(Uint8Array.of(1, 0x81, 0x00), 2, 100)), (x: unknown) => x instanceof BadMessageError && /minimally/.test(x.message));
  assert.throws(() => decodeDetections(bad(Uint8Array.of(1, 89), 2, 100)), (x: unknown) => x instanceof BadMessageError && /outside/.test(x.message));
  assert.is(decodeDetections(bad(Uint8Array.of(1, 88), 2, 100)).slots[1], 99);
});

test.run();
