import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { BOARD_SLOT_DELTAS, SESSION_SLOT_DELTAS, SlotDeltaCodec, partitionSlotDeltas, type SlotDeltaFault, type SlotDeltaLimits } from './slot-deltas.js';

class Fault extends Error {
  constructor(readonly fault: SlotDeltaFault) {
    super(fault.kind);
  }
}
const codec = (l: SlotDeltaLimits) => new SlotDeltaCodec(l, (f) => new Fault(f));
const board = codec(BOARD_SLOT_DELTAS);
const session = codec(SESSION_SLOT_DELTAS);
const kindOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof Fault) return e.fault.kind;
    throw e;
  }
  return 'ok';
};

test('vectors: LEB128 deltas, low group first, one byte below 128', () => {
  const vectors: [number, number[], number[]][] = [
    [0, [], []],
    [0, [0, 0, 127], [0x00, 0x00, 0x7f]],
    [1000, [1128], [0x80, 0x01]],
    [0, [119, 119 + 1048455], [0x77, 0x87, 0xff, 0x3f]],
    [5, [5 + 0xffffffff], [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];
  for (const [base, slots, bytes] of vectors) {
    for (const c of [board, session]) {
      assert.equal(Array.from(c.encode(base, slots)), bytes, `encode ${slots}`);
      assert.equal(Array.from(c.decode(base, Uint8Array.from(bytes), slots.length)), slots, `decode ${bytes}`);
    }
  }
  // Past 2^32 only the session's limits allow a delta.
  assert.equal(Array.from(session.encode(0, [2 ** 35])), [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  assert.is(kindOf(() => board.encode(0, [2 ** 35])), 'order');
});

test('faults: each limit and malformation has its kind', () => {
  const cases: [SlotDeltaCodec, number[], number, string][] = [
    [board, [], 1, 'missing'],
    [board, [0x85], 1, 'truncated'],
    [board, [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 1, 'too-long'],
    [board, [0x85, 0x00], 1, 'not-minimal'],
    [board, [0xff, 0xff, 0xff, 0xff, 0x1f], 1, 'too-big'],
    [board, [1, 2], 1, 'trailing'],
    [session, [0x85, 0x00], 1, 'ok'],
    [session, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 1, 'too-long'],
    [session, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 1, 'ok'],
  ];
  for (const [c, bytes, n, kind] of cases) assert.is(kindOf(() => c.decode(0, Uint8Array.from(bytes), n)), kind, `${bytes}`);
  assert.is(kindOf(() => board.encode(10, [9])), 'order');
  assert.is(kindOf(() => board.encode(0.5, [1.5])), 'order');
  assert.is(kindOf(() => board.split(2 ** 53 - 2, Uint8Array.of(5), 1, 4)), 'unsafe');
});

test('fuzz: any bytes decode to slots or to a fault, never to anything else; lists round trip and cut into valid runs', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 20 }), (bytes, n) => {
    for (const c of [board, session]) {
      const k = kindOf(() => c.decode(7, bytes, n));
      assert.ok(typeof k === 'string');
    }
  }));
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 20 }), { maxLength: 60 }), fc.integer({ min: 1, max: 9 }), (gaps, parts) => {
    const slots: number[] = [];
    let at = 100;
    for (const g of gaps) slots.push((at += g));
    const d = board.encode(100, slots);
    assert.equal(Array.from(session.decode(100, d, slots.length)), slots, 'one encoding for both limits');
    for (const runs of [board.split(100, d, slots.length, parts), partitionSlotDeltas(100, d, Float64Array.from(slots), parts)]) {
      let at = 0;
      for (const run of runs) {
        assert.equal(Array.from(board.decode(run.s, d.subarray(run.from, run.to), run.n)), slots.slice(at, at + run.n));
        at += run.n;
      }
      assert.is(at, slots.length, 'the runs cover the list');
    }
  }));
});

test.run();
