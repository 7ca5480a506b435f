import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TransferPads } from './transfer-pads.js';

test('a pad masks at KM-A and unmasks once at KM-B; a second use finds nothing', () => {
  const pads = new TransferPads();
  const key = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  const ids = pads.draw(2, 16);
  const ct = new Uint8Array(key);
  pads.mask(ids, ct);
  assert.not.equal(Buffer.from(ct), key, 'the padded form differs from the key');
  const got = new Uint8Array(ct);
  assert.ok(pads.apply(ids, got));
  assert.equal(Buffer.from(got), key);
  assert.is(pads.size, 0, 'both pads taken');
  const again = new Uint8Array(ct);
  assert.not.ok(pads.apply(ids, again), 'a pad pads one transfer');
  assert.equal(again, ct, 'nothing changed by a refused apply');
});

test('a length mismatch or a missing pad is refused; wipe drops every pad', () => {
  const pads = new TransferPads();
  const ids = pads.draw(1, 32);
  assert.not.ok(pads.apply([...ids, 'not-a-pad'], new Uint8Array(64)));
  assert.ok(pads.holds(ids[0]!), 'a refused apply takes nothing');
  assert.not.ok(pads.apply(ids, new Uint8Array(31)));
  assert.not.ok(pads.holds(ids[0]!), 'a transfer of the wrong length used its pad up');
  const more = pads.draw(3, 32);
  pads.wipe();
  assert.is(pads.size, 0);
  assert.not.ok(more.some((id) => pads.holds(id)));
});

test.run();
