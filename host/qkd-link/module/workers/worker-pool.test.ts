import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeSlotDeltas, packBits } from '../../session/packing.js';
import { LinkError } from '../errors.js';
import { WorkerPool } from './worker-pool.js';

const pool = new WorkerPool(1);

test.after(async () => {
  await pool.close();
});

test("a block's announcement from batches in wire form and decoded edges: the slots and bases Bob would announce from the decoded events", async () => {
  // Two whole batches in wire form, then the decoded start of a third (where the block ends).
  const b1 = [1000, 1003, 1100];
  const b2 = [70_000, 70_001];
  const b3 = [2 ** 33 + 5, 2 ** 33 + 9];
  const w1 = encodeSlotDeltas(990, b1);
  const w2 = encodeSlotDeltas(65_536, b2);
  const raw = new Uint8Array(w1.length + w2.length);
  raw.set(w1);
  raw.set(w2, w1.length);
  // Single clicks: Z0, Z1, X0, X1, Z0, X1, Z1.
  const masks = Uint8Array.of(1, 2, 4, 8, 1, 8, 2);
  const ann = await pool.run({
    kind: 'announce',
    start: 900,
    segments: { base: Float64Array.of(990, 65_536, 0), count: Uint32Array.of(3, 2, 2), rawBytes: Int32Array.of(w1.length, w2.length, -1), raw, decoded: Float64Array.from(b3) },
    masks: masks.slice(),
  });
  assert.equal(ann.d, encodeSlotDeltas(900, [...b1, ...b2, ...b3]));
  assert.equal(ann.bb, packBits([0, 0, 1, 1, 0, 1, 0]));
  assert.equal(Array.from(ann.value), [0, 1, 0, 1, 0, 1, 1]);
});

test("a malformed field of the peer's, or an announced slot outside the block, fails the block as the peer's protocol error", async () => {
  const n = 20;
  const bad = [
    // Alice's keep flags one byte short for Bob's 20 events.
    () => pool.run({ kind: 'sift-rx', bb: new Uint8Array(3), value: new Uint8Array(n), keep: new Uint8Array(2), cls: new Uint8Array(0) }),
    // Alice keeps all 20 events and gives the second an intensity class 3, which the protocol does not have.
    () => pool.run({ kind: 'sift-rx', bb: new Uint8Array(3), value: new Uint8Array(n), keep: Uint8Array.of(255, 255, 15), cls: Uint8Array.of(0b1100, 0, 0, 0, 0) }),
    // Bob announces an event at slot 150 for a block [100, 120).
    () => pool.run({ kind: 'slots', s: 100, e: 120, n: 2, d: Uint8Array.of(3, 47), parts: 1 }),
    // Bob's packed bases too short for his 20 events.
    () => pool.run({ kind: 'sift-tx', n, bobBasis: new Uint8Array(1), settings: new Uint8Array(n) }),
  ];
  for (const run of bad) {
    try {
      await run();
      assert.unreachable('the job should fail');
    } catch (e) {
      assert.instance(e, LinkError);
      assert.is((e as LinkError).code, 'ERR_LINK_PROTOCOL');
    }
  }
  // The pool still works after the failures.
  const ok = await pool.run({ kind: 'slots', s: 100, e: 120, n: 3, d: Uint8Array.of(3, 4, 2), parts: 2 });
  assert.equal(ok.parts, [{ s: 100, n: 2, from: 0, to: 2 }, { s: 107, n: 1, from: 2, to: 3 }]);
});


test("the pool counts its threads' CPU: a block's privacy amplification shows in it", async () => {
  const before = pool.cpuSeconds();
  // A 2^22-bit block hashed to 2^21 bits, a few times: tens of milliseconds of one thread's CPU.
  const n = 1 << 22;
  const m = 1 << 21;
  for (let i = 0; i < 4; i++) await pool.amplify(new Uint8Array((n + m - 1 + 7) >>> 3).fill(i + 1), new Uint8Array(n >>> 3).fill(0x5a), n, m);
  const after = pool.cpuSeconds();
  assert.ok(after > before, `worker CPU ${before} -> ${after} s`);
  assert.ok(after - before < 60, 'seconds, not ticks or microseconds');
});

test.run();
