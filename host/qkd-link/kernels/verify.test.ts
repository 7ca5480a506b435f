import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { ErrorVerifier, polyHashReference, verificationKeyCount, verificationCollisionBound } from './verify.js';
import { KernelArgumentError } from './errors.js';

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

for (const target of ['release', 'release-simd', 'debug'] as const) {
  const v = new ErrorVerifier({ target });
  test(`verify (${target}): matches the bit-serial GF(2^64) twin on random blocks and keys`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.integer({ min: 0, max: 2400 }), fc.uint8Array({ minLength: 8, maxLength: 40 }), (data, cut, rawKeys) => {
        const nbits = Math.min(cut, data.length * 8);
        const keys = rawKeys.subarray(0, rawKeys.length - (rawKeys.length % 8));
        return hex(v.tag(data, nbits, keys)) === hex(polyHashReference(data, nbits, keys));
      }),
      { numRuns: 150, seed: 5 },
    );
  });
}

test('verify: known value: key 1 on a one-word block gives (m + 0) * 1 then + length', () => {
  const v = new ErrorVerifier();
  // k = 1: h = ((0 + m) * 1 + n) * 1 = m ^ n
  const key = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0);
  const block = Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0x80);
  assert.is(hex(v.tag(block, 64, key)), hex(Uint8Array.of(0xff ^ 64, 0, 0, 0, 0, 0, 0, 0x80)));
  // k = x: m = x^63 -> x^64 = x^4 + x^3 + x + 1 (0x1b); then (0x1b + 64) * x = 0x5b << 1 = 0xb6
  const kx = Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0);
  assert.is(hex(v.tag(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0x80), 64, kx)), hex(Uint8Array.of(0xb6, 0, 0, 0, 0, 0, 0, 0)));
});

test('verify: a single flipped bit changes the tag; bits past nbits do not', () => {
  const v = new ErrorVerifier();
  const keys = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff);
  const block = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131) & 0xff);
  const t0 = hex(v.tag(block, 32_000, keys));
  for (const bit of [0, 1, 63, 64, 12_345, 31_999]) {
    const b = block.slice();
    b[bit >> 3]! ^= 1 << (bit & 7);
    assert.is.not(hex(v.tag(b, 32_000, keys)), t0, `bit ${bit}`);
  }
  const tail = block.slice();
  tail[4000]! ^= 0xff;
  assert.is(hex(v.tag(tail, 32_000, keys)), t0);
  // A shorter block with the same bits is a different message (the length word).
  const short = block.slice();
  assert.is.not(hex(v.tag(short, 31_999, keys)), hex(v.tag(short, 32_000, keys)));
});

test('verify: the number of keys follows from ε_cor and the block length', () => {
  // 2^20 bits: (2^14 + 1) / 2^64 ≈ 8.9e-16 per key.
  assert.is(verificationKeyCount(1e-15, 2 ** 20), 1);
  assert.is(verificationKeyCount(1e-16, 2 ** 20), 2);
  assert.is(verificationKeyCount(1e-30, 2 ** 20), 2);
  assert.is(verificationKeyCount(1e-31, 2 ** 20), 3);
  assert.ok(verificationCollisionBound(2 ** 20, 2) <= 1e-16);
  assert.ok(Math.abs(verificationCollisionBound(2 ** 20) - (2 ** 14 + 1) / 2 ** 64) < 1e-30);
});

test('verify rejects bad lengths, keys and bounds with a typed error naming the value', () => {
  const v = new ErrorVerifier();
  const arg = (name: string) => (e: unknown) => e instanceof KernelArgumentError && e.argument === name;
  assert.throws(() => v.tag(new Uint8Array(4), 33, new Uint8Array(8)), arg('block.length'));
  assert.throws(() => v.tag(new Uint8Array(4), -1, new Uint8Array(8)), arg('nbits'));
  assert.throws(() => v.tag(new Uint8Array(4), Number.NaN, new Uint8Array(8)), arg('nbits'));
  assert.throws(() => v.tag(new Uint8Array(4), 32, new Uint8Array(7)), arg('keys.length'));
  assert.throws(() => v.tag(new Uint8Array(4), 32, new Uint8Array(0)), arg('keys.length'));
  assert.throws(() => v.tag(new Uint8Array(4), 32, new Uint8Array(8 * 17)), arg('keys.length'));
  assert.throws(() => verificationKeyCount(0, 100), arg('epsCor'));
  assert.throws(() => verificationKeyCount(Number.NaN, 100), arg('epsCor'));
  assert.throws(() => verificationKeyCount(1e-320, 100), arg('epsCor'));
  assert.throws(() => verificationKeyCount(1e-9, 1.5), arg('nbits'));
});

test.run();
