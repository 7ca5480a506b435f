import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { compareLedgers, ledgerDigest, packLedger, qxTag, unpackLedger, type LedgerEntry } from './qx-ledger.js';

const unit = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const entry = (i: number, material = i): LedgerEntry => ({ unit: unit(i), tag: qxTag('qx-ab', unit(i), new Uint8Array(32).fill(material & 0xff)) });
/** Even units are allocated by A, odd ones by B (as a link's allocator alternates). */
const byA = (u: string) => Number(u.slice(-12)) % 2 === 0;
const byB = (u: string) => !byA(u);

test('the tag depends on the link, the unit and every byte of its material, and is not the material', () => {
  const m = new Uint8Array(32).fill(7);
  const t = qxTag('qx-ab', unit(1), m);
  assert.is(t.length, 16);
  assert.not.equal(qxTag('qx-cd', unit(1), m), t);
  assert.not.equal(qxTag('qx-ab', unit(2), m), t);
  const m2 = new Uint8Array(m);
  m2[31] = 6;
  assert.not.equal(qxTag('qx-ab', unit(1), m2), t);
  assert.not.ok(Buffer.from(t).includes(Buffer.from(m.subarray(0, 8))));
});

test('equal ledgers: nothing voided, nothing suspected', () => {
  const l = [0, 1, 2, 3].map((i) => entry(i));
  const d = compareLedgers(l, [...l].reverse(), byA, new Map(), 0, 1000);
  assert.equal(d.voidNow, []);
  assert.is(d.suspects.size, 0);
  assert.equal(ledgerDigest(l), ledgerDigest([...l].reverse()));
});

test('a unit held at both ends with different material is voided at both ends at once, and counted', () => {
  const a = [entry(0), entry(1), entry(2)];
  const b = [entry(0), entry(1, 99), entry(2)];
  const atA = compareLedgers(a, b, byA, new Map(), 0, 1000);
  const atB = compareLedgers(b, a, byB, new Map(), 0, 1000);
  assert.equal(atA.voidNow, [unit(1)]);
  assert.equal(atB.voidNow, [unit(1)]);
  assert.equal([...atA.mismatched], [unit(1)]);
  assert.equal([...atB.mismatched], [unit(1)]);
});

test('a unit the peer lost is voided now by its allocator; one its allocator used (a pad in flight) only once missing longer than the grace', () => {
  // B lost unit 2 (A's): A voids it now. A used unit 4 (A's) as a pad, B still holds it: B waits.
  const a = [entry(0), entry(1), entry(2), entry(3)];
  const b = [entry(0), entry(1), entry(3), entry(4)];
  const atA = compareLedgers(a, b, byA, new Map(), 0, 1000);
  assert.equal(atA.voidNow, [unit(2)]);
  const atB = compareLedgers(b, a, byB, new Map(), 0, 1000);
  assert.equal(atB.voidNow, []);
  assert.equal([...atB.suspects.keys()], [unit(4)]);
  // Still in flight at the next comparisons within the grace: spared, first seen kept.
  const again = compareLedgers(b, a, byB, atB.suspects, 900, 1000);
  assert.equal(again.voidNow, []);
  assert.is(again.suspects.get(unit(4)), 0);
  // The relay arrived: B used unit 4 too; nothing is voided, nothing suspected.
  const arrived = compareLedgers([entry(0), entry(1), entry(3)], [entry(0), entry(1), entry(3)], byB, again.suspects, 950, 1000);
  assert.equal(arrived.voidNow, []);
  assert.is(arrived.suspects.size, 0);
  // It never arrived: still missing at A after the grace, B voids it.
  assert.equal(compareLedgers(b, a, byB, again.suspects, 1000, 1000).voidNow, [unit(4)]);
});

test('the message form of a ledger keeps each unit with its tag', () => {
  const l = [entry(5), entry(6)];
  const p = packLedger(l);
  assert.is(p.tags.length, 32);
  assert.equal(unpackLedger(p), l);
});

test('property: whatever two ledgers differ by, two comparisons a grace apart leave both ends with the same units and no diverged material', () => {
  const side = fc.record({ held: fc.boolean(), bad: fc.boolean() });
  fc.assert(
    fc.property(fc.array(fc.record({ a: side, b: side }), { minLength: 1, maxLength: 40 }), (units) => {
      let a = units.flatMap((u, i) => (u.a.held ? [entry(i)] : []));
      let b = units.flatMap((u, i) => (u.b.held ? [entry(i, u.a.bad !== u.b.bad ? i + 100 : i)] : []));
      let sa = new Map<string, number>();
      let sb = new Map<string, number>();
      for (let round = 0; round < 2; round++) {
        const da = compareLedgers(a, b, byA, sa, round * 1000, 1000);
        const db = compareLedgers(b, a, byB, sb, round * 1000, 1000);
        a = a.filter((e) => !da.voidNow.includes(e.unit));
        b = b.filter((e) => !db.voidNow.includes(e.unit));
        sa = da.suspects;
        sb = db.suspects;
      }
      assert.equal(ledgerDigest(a), ledgerDigest(b));
    }),
    { numRuns: 300 },
  );
});

test.run();
