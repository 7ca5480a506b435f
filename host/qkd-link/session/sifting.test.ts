import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Sifter } from '../kernels/sift.js';
import { KernelArgumentError } from '../kernels/errors.js';
import { aliceKeep, siftBlock, perClassArray } from './sifting.js';
import { pack2, packBits } from './packing.js';

const sifter = new Sifter();

/** A block as both ends hold it: Bob's bases and bits, Alice's settings and status per event. */
const block = fc.integer({ min: 0, max: 2500 }).chain((n) => {
  const bytes = (max: number) => fc.uint8Array({ minLength: n, maxLength: n, max });
  return fc.record({
    n: fc.constant(n),
    bobBasis: bytes(1),
    bobValue: bytes(1),
    basis: bytes(1),
    value: bytes(1),
    // Mostly valid classes, some 3 (not a class: never kept); status mostly known.
    intensity: fc.uint8Array({ minLength: n, maxLength: n, max: 3 }),
    status: fc.array(fc.integer({ min: 0, max: 10 }), { minLength: n, maxLength: n }).map((a) => Uint8Array.from(a, (x) => (x < 8 ? 0 : 0x10 << (x - 7)))),
  });
});

/** Alice's settings as her board sends them: value, basis, class, status in one byte per slot. */
const wire = (b: { n: number; value: Uint8Array; basis: Uint8Array; intensity: Uint8Array; status: Uint8Array }) =>
  Uint8Array.from({ length: b.n }, (_, k) => b.value[k]! | (b.basis[k]! << 1) | (b.intensity[k]! << 2) | b.status[k]!);

test('answerKeep: Alice keeps exactly the events the reference keeps, with their classes', () => {
  fc.assert(
    fc.property(block, (b) => {
      const bb = packBits(b.bobBasis);
      const got = sifter.answerKeep(bb, wire(b), b.n);
      const want = aliceKeep(b.bobBasis, { basis: b.basis, value: b.value, intensity: b.intensity, status: b.status });
      assert.equal(got.keep, packBits(want.keep));
      assert.equal(got.cls, pack2(want.cls));
      assert.is(got.kept, want.cls.length);
    }),
    { seed: 11, numRuns: 150 },
  );
});

test('siftKept: both ends get the reference strings and counts, and agree where the channel made no error', () => {
  fc.assert(
    fc.property(block, (b) => {
      const bb = packBits(b.bobBasis);
      const ans = sifter.answerKeep(bb, wire(b), b.n);
      const want = aliceKeep(b.bobBasis, { basis: b.basis, value: b.value, intensity: b.intensity, status: b.status });
      // Alice sifts her settings bytes as they are (bit 0 is her value), Bob his bits.
      for (const [value, from] of [[b.value, 'transmitter'], [b.bobValue, 'receiver']] as const) {
        const got = sifter.siftKept(bb, from === 'transmitter' ? wire(b) : value, ans.keep, ans.cls, b.n, ans.kept);
        const ref = siftBlock(sifter, b.bobBasis, value, want.keep, want.cls, from);
        assert.equal(got.key, ref.key);
        assert.equal(got.test, ref.test);
        assert.equal(got.testPacked, packBits(ref.test));
        assert.equal(got.nZ, perClassArray(ref.nZ));
        assert.equal(got.nX, perClassArray(ref.nX));
      }
      // With Bob's bits equal to Alice's the two ends' strings are the same.
      const a = sifter.siftKept(bb, b.value, ans.keep, ans.cls, b.n, ans.kept);
      const bob = sifter.siftKept(bb, b.value.slice(), ans.keep, ans.cls, b.n, ans.kept);
      assert.equal(a.key, bob.key);
    }),
    { seed: 12, numRuns: 150 },
  );
});

test('siftKept: a class the protocol does not have, or a kept count the flags do not give, is refused', () => {
  const n = 16;
  const bb = packBits(new Uint8Array(n));
  const keep = packBits(new Uint8Array(n).fill(1));
  const cls = pack2(Uint8Array.from({ length: n }, (_, i) => (i === 9 ? 3 : i % 3)));
  const value = new Uint8Array(n);
  const err = (f: () => unknown): KernelArgumentError => {
    try {
      f();
    } catch (e) {
      assert.instance(e, KernelArgumentError);
      return e as KernelArgumentError;
    }
    throw new Error('expected a KernelArgumentError');
  };
  assert.is(err(() => sifter.siftKept(bb, value, keep, cls, n, n)).argument, 'cls[9]');
  assert.is(err(() => sifter.siftKept(bb, value, keep, pack2(new Uint8Array(n)), n, n - 1)).argument, 'kept');
  assert.is(err(() => sifter.siftKept(bb, value, keep, new Uint8Array(2), n, n)).argument, 'cls.length');
});

test('siftKept: the key string is signal, decoy, vacuum Z bits in event order', () => {
  // Events 0-5 all kept in Z, classes vacuum, signal, decoy, signal, vacuum, decoy; values 0-5 mod 2.
  const n = 6;
  const cls = pack2([2, 0, 1, 0, 2, 1]);
  const r = sifter.siftKept(new Uint8Array(1), Uint8Array.from([1, 0, 1, 1, 0, 0]), packBits(new Uint8Array(n).fill(1)), cls, n, n);
  assert.equal([...r.key], [0, 1, 1, 0, 1, 0]);
  assert.equal(r.nZ, [2, 2, 2]);
  assert.equal(r.nX, [0, 0, 0]);
  assert.is(r.test.length, 0);
});

test.run();
