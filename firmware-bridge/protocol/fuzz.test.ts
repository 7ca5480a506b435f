/**
 * Fuzzing the receive path: whatever bytes arrive, the decoder and the message layer never throw
 * anything but BadMessageError, never accept a frame whose CRC fails, and turn nothing into
 * detection events unless it is a valid DETECTIONS frame.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { encodeFrame, FrameDecoder } from './frame.js';
import { decodeMessage, CODECS } from './codec.js';
import { DetectionBatch } from './detections.js';
import { MessageType } from './messages.js';
import { BadMessageError } from '../errors.js';
import { encodeCbor, type CborValue } from './cbor.js';

function receive(bytes: Uint8Array): { messages: unknown[]; rejected: number; bad: number } {
  const messages: unknown[] = [];
  let rejected = 0;
  let bad = 0;
  const d = new FrameDecoder({
    frame: (f) => {
      try {
        const m = decodeMessage(f.type, f.payload);
        if (m !== undefined) messages.push(m);
      } catch (e) {
        if (!(e instanceof BadMessageError)) throw e;
        bad++;
      }
    },
    reject: () => rejected++,
  });
  d.push(bytes);
  return { messages, rejected, bad };
}

const good = CODECS.DETECTIONS.encode(new DetectionBatch(1, 0, 100, 200, Float64Array.of(101, 150, 199), Uint8Array.of(1, 2, 4)));

test('random bytes never crash the receive path and never become detection events', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (b) => {
      const r = receive(b);
      // A random frame passing CRC-32C has odds of 2^-32; fast-check's shrinking would show one.
      assert.is(r.messages.filter((m) => m instanceof DetectionBatch).length, 0);
    }),
    { numRuns: 2000 },
  );
});

test('bit flips anywhere in a DETECTIONS frame are rejected, never delivered altered', () => {
  const wire = encodeFrame(MessageType.DETECTIONS, 7, good);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: wire.length - 2 }), fc.integer({ min: 0, max: 7 }), (i, bit) => {
      const b = wire.slice();
      b[i]! ^= 1 << bit;
      const r = receive(b);
      for (const m of r.messages) {
        assert.ok(m instanceof DetectionBatch);
        assert.equal(Array.from(m.slots), [101, 150, 199]);
      }
      assert.ok(r.messages.length === 0);
    }),
    { numRuns: 1000 },
  );
});

test('valid envelopes around arbitrary CBOR-ish payloads only ever yield BadMessageError', () => {
  const types = Object.values(MessageType);
  fc.assert(
    fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 200 }), (type, payload) => {
      receive(encodeFrame(type, 1, payload));
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.constantFrom(...types), fc.anything({ maxDepth: 3 }), (type, value) => {
      let payload: Uint8Array;
      try {
        payload = encodeCbor(value as CborValue);
      } catch {
        return;
      }
      receive(encodeFrame(type, 1, payload));
    }),
    { numRuns: 1500 },
  );
});

test('truncations of a valid frame are rejected', () => {
  const wire = encodeFrame(MessageType.DETECTIONS, 7, good);
  for (let n = 1; n < wire.length - 1; n++) {
    const b = Uint8Array.from([...wire.subarray(0, n), 0]);
    const r = receive(b);
    assert.is(r.messages.length, 0);
    assert.is(r.rejected, 1);
  }
});

test.run();
