import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decodeClose, decodeHello, decodeResync, encodeClose, encodeHello, encodeResync } from './control.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('test vectors: hello and resync, version 1', () => {
  // {"v": 1, "linkId": "A~B", "role": "bob"}
  assert.is(hex(encodeHello({ v: 1, linkId: 'A~B', role: 'bob' })), 'a3617601666c696e6b496463417e4264726f6c6563626f62');
  // {"floor": 70, "hello": true}
  assert.is(hex(encodeResync({ floor: 70, hello: true })), 'a265666c6f6f7218466568656c6c6ff5');
  assert.equal(decodeHello(Buffer.from('a3617601666c696e6b496463417e4264726f6c6563626f62', 'hex')), { v: 1, linkId: 'A~B', role: 'bob' });
  assert.equal(decodeResync(encodeResync({ floor: 2 ** 40, hello: false })), { floor: 2 ** 40, hello: false });
  assert.equal(decodeClose(encodeClose({ reason: 'bye' })), { reason: 'bye' });
});

test('payloads of the wrong shape are refused with a reason', () => {
  assert.type(decodeHello(encodeResync({ floor: 1, hello: true })), 'string');
  assert.type(decodeResync(encodeHello({ v: 1, linkId: 'L', role: 'alice' })), 'string');
  assert.type(decodeHello(Buffer.from('a3617602666c696e6b496463417e4264726f6c6563626f62', 'hex')), 'string', 'version 2');
  assert.type(decodeResync(new Uint8Array(4096)), 'string', 'too large');
  assert.type(decodeClose(Buffer.from([0x9f, 0xff])), 'string', 'indefinite array');
});

test('fuzz: any bytes decode to a checked payload or a reason, never a throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      for (const d of [decodeHello, decodeResync, decodeClose]) {
        const r = d(bytes);
        if (typeof r !== 'string' && (typeof r !== 'object' || r === null)) return false;
      }
      const h = decodeHello(bytes);
      if (typeof h !== 'string' && (h.v !== 1 || (h.role !== 'alice' && h.role !== 'bob') || typeof h.linkId !== 'string')) return false;
      const r = decodeResync(bytes);
      return typeof r === 'string' || (Number.isSafeInteger(r.floor) && typeof r.hello === 'boolean');
    }),
    { numRuns: 3000, seed: 19 },
  );
  // Mutations of valid payloads reach deeper than random bytes.
  const valid = [encodeHello({ v: 1, linkId: 'A~B', role: 'alice' }), encodeResync({ floor: 9, hello: false })];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (which, at, byte) => {
      const b = Uint8Array.from(valid[which]!);
      b[at % b.length] = byte;
      const h = decodeHello(b);
      const r = decodeResync(b);
      return (typeof h === 'string' || h.v === 1) && (typeof r === 'string' || Number.isSafeInteger(r.floor));
    }),
    { numRuns: 3000, seed: 20 },
  );
});

test.run();
