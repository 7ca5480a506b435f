import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Sifter, siftPackedReference, siftEventsReference, encodeSetting, encodeEventFlags, type EventSiftResult } from './sift.js';
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

/** A deterministic answer of `window` slots and `nE` events at increasing slots. */
function events(window: number, nE: number, seed: number): { settings: Uint8Array; slots: Uint32Array; flags: Uint8Array } {
  let s = seed | 1;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) & 0xffff;
  const settings = Uint8Array.from({ length: window }, () => (rnd() & 3) | ((rnd() % 3) << 2));
  const slots = new Uint32Array(nE);
  for (let i = 0; i < nE; i++) slots[i] = window === 0 ? 0 : rnd() % window;
  slots.sort();
  const flags = Uint8Array.from({ length: nE }, () => rnd() & 3);
  return { settings, slots, flags };
}

function flat(r: EventSiftResult): unknown {
  return JSON.stringify(r, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
}

for (const target of targets) {
  const sifter = new Sifter({ target });
  test(`sift events (${target}): matches the TypeScript twin, per class and basis, both value sources`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 3000 }), fc.integer(), (window, nE, seed) => {
        const { settings, slots, flags } = events(window, nE, seed);
        for (const from of ['receiver', 'transmitter'] as const) {
          if (flat(sifter.siftEvents(settings, slots, flags, from)) !== flat(siftEventsReference(settings, slots, flags, from))) return false;
        }
        return true;
      }),
      { numRuns: 100, seed: 3 },
    );
  });
}

test('sift events: keeps matching-basis events in order, per intensity class, with counts', () => {
  const sifter = new Sifter();
  const settings = Uint8Array.of(
    encodeSetting(1, 'Z', 'signal'), // slot 0
    encodeSetting(0, 'X', 'signal'), // slot 1
    encodeSetting(1, 'X', 'decoy'), // slot 2
    encodeSetting(0, 'Z', 'vacuum'), // slot 3
    encodeSetting(1, 'Z', 'signal'), // slot 4
  );
  const slots = Uint32Array.of(0, 1, 2, 3, 4, 4);
  const flags = Uint8Array.of(
    encodeEventFlags(1, 'Z'), // kept: signal Z, value 1
    encodeEventFlags(1, 'Z'), // bases differ
    encodeEventFlags(0, 'X'), // kept: decoy X, value 0 (an error against the transmitter's 1)
    encodeEventFlags(1, 'Z'), // kept: vacuum Z (a dark count)
    encodeEventFlags(0, 'Z'), // kept: signal Z, value 0 (double click on slot 4, both recorded)
    encodeEventFlags(1, 'Z'), // kept: signal Z, value 1
  );
  const bob = sifter.siftEvents(settings, slots, flags, 'receiver');
  assert.is(bob.streams.signal.Z.length, 3);
  assert.is(bob.streams.signal.Z.bits[0], 0b101);
  assert.is(bob.streams.decoy.X.length, 1);
  assert.is(bob.streams.decoy.X.bits[0], 0);
  assert.is(bob.streams.vacuum.Z.length, 1);
  assert.equal(bob.counts.signal, { kept: { Z: 3, X: 0 }, discarded: { Z: 1, X: 0 }, detections: 4 });
  assert.equal(bob.counts.decoy, { kept: { Z: 0, X: 1 }, discarded: { Z: 0, X: 0 }, detections: 1 });
  const alice = sifter.siftEvents(settings, slots, flags, 'transmitter');
  assert.is(alice.streams.signal.Z.bits[0], 0b111);
  assert.is(alice.streams.decoy.X.bits[0], 1);
  assert.equal(alice.counts, bob.counts);
});

test('sift events rejects out-of-window slots, bad flags, bad settings and mismatched lengths by name', () => {
  const sifter = new Sifter();
  const settings = Uint8Array.of(0, 5, 12);
  const arg = (name: string) => (e: unknown) => e instanceof KernelArgumentError && e.argument === name;
  assert.throws(() => sifter.siftEvents(settings, Uint32Array.of(0, 3), Uint8Array.of(0, 0), 'receiver'), arg('slots[1]'));
  assert.throws(() => sifter.siftEvents(settings, Uint32Array.of(0, 1), Uint8Array.of(0, 4), 'receiver'), arg('flags[1]'));
  assert.throws(() => sifter.siftEvents(settings, Uint32Array.of(1, 2), Uint8Array.of(0, 0), 'receiver'), arg('settings[2]'));
  assert.throws(() => sifter.siftEvents(settings, Uint32Array.of(0, 1), Uint8Array.of(0), 'receiver'), arg('flags.length'));
  assert.throws(() => sifter.siftEvents(settings, [0] as unknown as Uint32Array, Uint8Array.of(0), 'receiver'), arg('slots'));
  assert.throws(() => sifter.siftEvents(settings, Uint32Array.of(0), Uint8Array.of(0), 'alice' as 'receiver'), arg('valueFrom'));
  assert.is(sifter.siftEvents(settings, new Uint32Array(0), new Uint8Array(0), 'receiver').counts.signal.detections, 0);
});

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
