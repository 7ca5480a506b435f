import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { PrivacyAmplifier, toeplitzDirect, toeplitzTwin, planToeplitz, type ToeplitzPlan } from './pa.js';
import { KernelArgumentError } from './errors.js';

/** Deterministic bytes (xorshift32) so failures reproduce. */
function bytes(len: number, seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s >>> 0;
  }
  return out;
}

function sample(n: number, m: number, seed: number): { s: Uint8Array; x: Uint8Array } {
  return { s: bytes(Math.ceil((n + m - 1) / 8), seed), x: bytes(Math.ceil(n / 8), seed ^ 0x5bd1e995) };
}

function hex(u: Uint8Array): string {
  return Buffer.from(u).toString('hex');
}

/** Every transform length 3^j that fits the sizes, not only the one the planner picks. */
function plans(n: number, m: number): ToeplitzPlan[] {
  const out: ToeplitzPlan[] = [];
  for (let j = 1, K = 3; j <= 5; j++, K *= 3) {
    const P = Math.ceil((n + m - 1) / K);
    const L = Math.ceil(P / (K / 3)) * (K / 3);
    out.push({ n, m, j, K, P, L });
  }
  return out;
}

test('toeplitzDirect follows the definition T[i][j] = s[i - j + n - 1] bit by bit', () => {
  // n = 3, m = 2, seed s0..s3 = 1,0,1,1 (0b1101), x = 1,1,0.
  // y0 = s2 x0 + s1 x1 + s0 x2 = 1 + 0 + 0 = 1; y1 = s3 x0 + s2 x1 + s1 x2 = 1 + 1 + 0 = 0.
  assert.equal(Array.from(toeplitzDirect(Uint8Array.of(0b1101), Uint8Array.of(0b011), 3, 2)), [0b01]);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer(), (n, m, seed) => {
      const { s, x } = sample(n, m, seed);
      const y = toeplitzDirect(s, x, n, m);
      const bit = (b: Uint8Array, i: number) => ((b[i >> 3] ?? 0) >> (i & 7)) & 1;
      for (let i = 0; i < m; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v ^= bit(s, i - j + n - 1) & bit(x, j);
        if (bit(y, i) !== v) return false;
      }
      return true;
    }),
    { numRuns: 100, seed: 7 },
  );
});

test('the TypeScript twin (ternary FFT) equals the direct product for every transform length', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2500 }), fc.integer({ min: 1, max: 2500 }), fc.integer(), (n, m, seed) => {
      const { s, x } = sample(n, m, seed);
      const want = hex(toeplitzDirect(s, x, n, m));
      return plans(n, m).every((p) => hex(toeplitzTwin(s, x, n, m, p)) === want);
    }),
    { numRuns: 60, seed: 11 },
  );
});

const targets = ['release', 'release-simd', 'debug'] as const;
for (const target of targets) {
  const pa = new PrivacyAmplifier({ target });

  test(`pa (${target}): bit-exact against the direct GF(2) product, every transform length`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }), fc.integer(), (n, m, seed) => {
        const { s, x } = sample(n, m, seed);
        const want = hex(toeplitzDirect(s, x, n, m));
        if (hex(pa.hash(s, x, n, m)) !== want) return false;
        return plans(n, m).every((p) => hex(pa.hashWithPlan(s, x, p)) === want);
      }),
      { numRuns: 60, seed: 13 },
    );
  });

  test(`pa (${target}): equals the twin on a 2^16-bit block (m = n/2) and on odd sizes`, () => {
    for (const [n, m] of [[1 << 16, 1 << 15], [40_001, 17_777], [70_000, 69_999]] as const) {
      const { s, x } = sample(n, m, n);
      assert.is(hex(pa.hash(s, x, n, m)), hex(toeplitzTwin(s, x, n, m)), `n=${n} m=${m}`);
    }
  });
}

test('pa: SIMD and scalar builds give identical hashes', () => {
  const simd = new PrivacyAmplifier({ target: 'release-simd' });
  const scalar = new PrivacyAmplifier({ target: 'release' });
  const n = 100_000, m = 31_337;
  const { s, x } = sample(n, m, 99);
  assert.is(hex(simd.hash(s, x, n, m)), hex(scalar.hash(s, x, n, m)));
});

test('pa: the hash is linear in the input and ignores bits past n in the last byte', () => {
  const pa = new PrivacyAmplifier();
  const n = 5003, m = 2001;
  const { s, x } = sample(n, m, 3);
  const x2 = bytes(x.length, 4);
  x2[x2.length - 1]! &= (1 << (n & 7)) - 1;
  const both = x.map((v, i) => v ^ x2[i]!);
  const y1 = pa.hash(s, x, n, m), y2 = pa.hash(s, x2, n, m), y12 = pa.hash(s, both, n, m);
  assert.equal(Array.from(y12), Array.from(y1.map((v, i) => v ^ y2[i]!)));
  const dirty = x.slice();
  dirty[dirty.length - 1]! |= 0xff << (n & 7);
  assert.is(hex(pa.hash(s, dirty, n, m)), hex(y1));
  assert.is((y1[y1.length - 1]! >> (m & 7)), 0, 'bits past m are zero');
});

test('pa: the planner keeps K P >= n + m - 1 and L a multiple of K/3 at the sizes the pipeline uses', () => {
  for (const n of [1, 2, 1000, 1 << 20, 1 << 24, 2 ** 28]) {
    for (const m of [1, Math.max(1, n >> 1), n]) {
      const p = planToeplitz(n, m);
      assert.ok(p.K === 3 ** p.j && p.K * p.P >= n + m - 1 && p.L >= p.P && p.L % (p.K / 3) === 0, JSON.stringify(p));
    }
  }
});

test('pa rejects bad sizes, wrong-length seeds and inputs, and bad plans, naming the value', () => {
  const pa = new PrivacyAmplifier();
  const arg = (name: string) => (e: unknown) => e instanceof KernelArgumentError && e.argument === name && e.code === 'ERR_KERNEL_ARGUMENT';
  const s = new Uint8Array(2), x = new Uint8Array(1);
  assert.throws(() => pa.hash(s, x, 0, 4), arg('n'));
  assert.throws(() => pa.hash(s, x, 8.5, 4), arg('n'));
  assert.throws(() => pa.hash(s, x, Number.NaN, 4), arg('n'));
  assert.throws(() => pa.hash(s, x, 8, Infinity), arg('m'));
  assert.throws(() => pa.hash(s, x, 8, -1), arg('m'));
  assert.throws(() => pa.hash(s, x, 2 ** 28 + 8, 4), arg('n'));
  assert.throws(() => pa.hash(new Uint8Array(1), x, 8, 4), arg('seed.length'));
  assert.throws(() => pa.hash(new Uint8Array(3), x, 8, 4), arg('seed.length'));
  assert.throws(() => pa.hash(s, new Uint8Array(2), 8, 4), arg('x.length'));
  assert.throws(() => pa.hash(s, [1] as unknown as Uint8Array, 8, 4), arg('x'));
  assert.throws(() => pa.hashWithPlan(s, x, { n: 8, m: 4, j: 1, K: 3, P: 3, L: 4 }), arg('plan.P'));
  assert.throws(() => pa.hashWithPlan(s, x, { n: 8, m: 4, j: 2, K: 8, P: 2, L: 3 }), arg('plan.K'));
  assert.throws(() => pa.hashWithPlan(s, x, { n: 8, m: 4, j: 2, K: 9, P: 2, L: 4 }), arg('plan.L'));
  assert.ok(pa.hash(s, x, 8, 4) instanceof Uint8Array);
});

test.run();
