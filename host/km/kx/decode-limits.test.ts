import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decodePayload, encodePayload, KX_CBOR_LIMITS, MESSAGE_SPECS } from './messages.js';
import { KxError } from './errors.js';

const refusedAsDecode = (bytes: Uint8Array, why: RegExp) =>
  assert.throws(() => decodePayload(bytes), (e: unknown) => e instanceof KxError && e.code === 'ERR_KX_DECODE' && why.test(e.message));

/** CBOR heads by hand, so the test does not depend on what an encoder would refuse to write. */
const head = (major: number, n: number): number[] => (n < 24 ? [(major << 5) | n] : n < 256 ? [(major << 5) | 24, n] : [(major << 5) | 25, n >> 8, n & 0xff]);
const envelope = (body: number[]) => Uint8Array.from([...head(4, 4), 1, 2, 1, ...body]);

test('the decoder limits hold before cbor-x sees the bytes: depth, entries, string length, tags, indefinite lengths', () => {
  // Nesting one level deeper than any message: [1, 2, 1, {"a": [[[ ]]]}]
  refusedAsDecode(envelope([...head(5, 1), ...head(3, 1), 0x61, ...head(4, 1), ...head(4, 1), ...head(4, 1), ...head(4, 0)]), /nesting deeper than 5/);
  // A container of more entries than any message has.
  refusedAsDecode(envelope(head(4, KX_CBOR_LIMITS.maxItems + 1)), /entries exceeds/);
  // A byte string longer than the longest ciphertext, announced in its head.
  refusedAsDecode(Uint8Array.from([...head(4, 4), 1, 2, 1, 0x5a, 0x00, 0x10, 0x00, 0x00]), /exceeds|truncated/);
  // A tag, and an indefinite-length map.
  refusedAsDecode(envelope([0xc1, 0x00]), /tags not allowed/);
  refusedAsDecode(envelope([0xbf, 0xff]), /indefinite length/);
});

test('property: any valid message with bytes changed or cut decodes to a message of the table or a KxError, nothing else', () => {
  const valid = MESSAGE_SPECS.map((s) => encodePayload(s.name, 7, s.example as never));
  fc.assert(
    fc.property(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.option(fc.nat()), (v, flips, cut) => {
      const b = Uint8Array.from(v);
      for (const [i, x] of flips) b[i % b.length] = x;
      const bytes = cut === null ? b : b.subarray(0, cut % (b.length + 1));
      try {
        const m = decodePayload(bytes);
        assert.ok(MESSAGE_SPECS.some((s) => s.name === m.name));
        // What decodes is well formed: it encodes again and decodes to the same body.
        assert.equal(decodePayload(encodePayload(m.name, m.id, m.body as never)).body, m.body);
      } catch (e) {
        if (!(e instanceof KxError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

test.run();
