import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countBitErrors, qberPerClass, type StreamsByClass } from './disclosed.js';
import { EstimationArgumentError } from './errors.js';

test('countBitErrors counts differing positions and ignores bits past nbits', () => {
  assert.is(countBitErrors(Uint8Array.of(0xff, 0x0f), Uint8Array.of(0x00, 0x00), 16), 12);
  assert.is(countBitErrors(Uint8Array.of(0xff, 0xff), Uint8Array.of(0x00, 0x00), 11), 11);
  assert.is(countBitErrors(new Uint8Array(0), new Uint8Array(0), 0), 0);
  assert.throws(() => countBitErrors(Uint8Array.of(1), Uint8Array.of(1), 9), (e: unknown) => e instanceof EstimationArgumentError && e.argument === 'a.length');
});

test('qberPerClass compares each class and basis and refuses streams of different lengths', () => {
  const s = (bits: number[], length: number) => ({ bits: Uint8Array.from(bits), length });
  const empty = { Z: s([], 0), X: s([], 0) };
  const own: StreamsByClass = { signal: { Z: s([0b1010], 4), X: s([0b1111_0000, 0b1], 9) }, decoy: empty, vacuum: empty };
  const peer: StreamsByClass = { signal: { Z: s([0b1011], 4), X: s([0b1111_0001, 0b0], 9) }, decoy: empty, vacuum: empty };
  const x = qberPerClass(own, peer, 'X', 1e-3);
  assert.is(x.signal.errors, 2);
  assert.is(x.signal.compared, 9);
  assert.is(x.decoy.compared, 0);
  assert.is(qberPerClass(own, peer, 'Z', 1e-3).signal.qber, 0.25);
  const short: StreamsByClass = { ...peer, signal: { Z: s([0], 3), X: peer.signal.X } };
  assert.throws(() => qberPerClass(own, short, 'Z', 1e-3), (e: unknown) => e instanceof EstimationArgumentError && e.argument === 'peer.signal.Z.length');
});

test.run();
