import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Sifter, siftPackedReference } from './sift.js';
import { KernelArgumentError } from './errors.js';

const targets = ['release', 'release-simd', 'debug'] as const;

for (const target of targets) {
  const sifter = new Sifter({ target });

  test(`sift (${target}): matches the TypeScript twin on random slots`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer(), (n, seed) => {
        const nb = Math.ceil(n / 8);
        let s = seed | 1;
        const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 16) & 0xff;
        const a = Uint8Array.from({ length: nb }, rnd);
        const b = Uint8Array.from({ length: nb }, rnd);
        const v = Uint8Array.from({ length: nb }, rnd);
        const got = sifter.siftPacked(a, b, v, n);
        const want = siftPackedReference(a, b, v, n);
        assert.is(got.length, want.length);
        assert.equal(Array.from(got.bits), Array.from(want.bits));
      }),
      { numRuns: 200 },
    );
  });
}

test('sift keeps exactly the matching-basis slots, in order', () => {
  const sifter = new Sifter();
  // slots 0..7: bases A 0b10110010, B 0b10010110 -> match at slots 0,1,3,4,6,7
  const r = sifter.siftPacked(Uint8Array.of(0b10110010), Uint8Array.of(0b10010110), Uint8Array.of(0b11001010), 8);
  assert.is(r.length, 6);
  // values at slots 0,1,3,4,6,7 = 0,1,1,0,1,1 -> 0b110110
  assert.is(r.bits[0], 0b110110);
});

test('sift rejects short inputs and bad counts with a typed error naming the value', () => {
  const sifter = new Sifter();
  assert.throws(() => sifter.siftPacked(new Uint8Array(1), new Uint8Array(2), new Uint8Array(2), 16), (e: unknown) => e instanceof KernelArgumentError && e.argument === 'basesA.length');
  assert.throws(() => sifter.siftPacked(new Uint8Array(2), new Uint8Array(2), new Uint8Array(2), 1.5), (e: unknown) => e instanceof KernelArgumentError && e.argument === 'n');
  assert.throws(() => sifter.siftPacked(new Uint8Array(2), new Uint8Array(2), new Uint8Array(2), -1), (e: unknown) => e instanceof KernelArgumentError && e.code === 'ERR_KERNEL_ARGUMENT');
});

test.run();
