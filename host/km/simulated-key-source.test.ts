import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedKeySource, simulatedUnit } from './simulated-key-source.js';
import type { KeySink, KeyUnit } from '../kq/key-source.js';

const seed = new Uint8Array(32).fill(7);

function sink(capacity: number): KeySink & { got: KeyUnit[] } {
  const got: KeyUnit[] = [];
  return {
    got,
    capacity,
    stored: () => got.length,
    push: async (units) => {
      got.push(...units);
    },
  };
}

test('both ends of a simulated link derive the same units; other links and indexes differ', () => {
  const a = simulatedUnit(seed, 'A~B', 3, 512);
  assert.is(a.length, 64);
  assert.equal(a, simulatedUnit(seed, 'A~B', 3, 512));
  assert.not.equal(a, simulatedUnit(seed, 'A~B', 4, 512));
  assert.not.equal(a, simulatedUnit(seed, 'A~C', 3, 512));
  // the first 256 bits of a 512-bit unit are the 256-bit unit: one stream, two unit sizes
  assert.equal(a.subarray(0, 32), simulatedUnit(seed, 'A~B', 3, 256));
});

test('a simulated source starts with its initial stock, resumes after a given index and stops at capacity', async () => {
  const s = new SimulatedKeySource({ linkId: 'A~B', peer: 'B', seed, rate: 0, unitBits: 256, initialUnits: 10, tickMs: 5 });
  assert.is(s.kind, 'simulated');
  const k = sink(6);
  s.start(k, -1);
  await new Promise((r) => setTimeout(r, 30));
  await s.stop();
  assert.equal(k.got.map((u) => u.index), [0, 1, 2, 3, 4, 5], 'capacity 6 bounds the stock');
  const resumed = new SimulatedKeySource({ linkId: 'A~B', peer: 'B', seed, rate: 0, unitBits: 256, initialUnits: 10, tickMs: 5 });
  const k2 = sink(100);
  resumed.start(k2, 5);
  await new Promise((r) => setTimeout(r, 30));
  await resumed.stop();
  assert.equal(k2.got.map((u) => u.index), [6, 7, 8, 9]);
  assert.equal(k2.got[0]!.bytes, simulatedUnit(seed, 'A~B', 6, 256));
});

test('a simulated source adds units at its rate, never faster', async () => {
  const s = new SimulatedKeySource({ linkId: 'A~B', peer: 'B', seed, rate: 1000, unitBits: 256, tickMs: 5 });
  const k = sink(1e6);
  // The bound is against the time measured around the run: a loaded machine that wakes the test
  // late sees more units, never more than the rate allows.
  const t0 = performance.now();
  s.start(k, -1);
  while (k.got.length < 100 && performance.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 10));
  await s.stop();
  assert.ok(k.got.length >= 100, `${k.got.length} units after 30 s at 1000/s`);
  const elapsedS = (performance.now() - t0) / 1000;
  assert.ok(k.got.length <= 1000 * elapsedS + 1, `${k.got.length} units in ${elapsedS.toFixed(3)} s at 1000/s`);
  assert.ok(k.got.every((u, i) => u.index === i));
});

test('a simulated source refuses a short seed and odd unit sizes', () => {
  assert.throws(() => new SimulatedKeySource({ linkId: 'x', peer: 'B', seed: new Uint8Array(16), rate: 1, unitBits: 256 }), /seed/);
  assert.throws(() => new SimulatedKeySource({ linkId: 'x', peer: 'B', seed, rate: 1, unitBits: 100 }), /unitBits/);
});

test.run();
