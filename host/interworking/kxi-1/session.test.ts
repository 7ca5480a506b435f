import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Kxi1Sessions } from './session.js';
import type { Kxi1KeyRelay } from './key-relay.js';
import { IwError } from '../errors.js';

const unit = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const key = (i: number) => `11111111-2222-4333-8444-${i.toString(16).padStart(12, '0')}`;
const rel = (i: number) => `3d2c1b0a-9f8e-4d7c-8b6a-${i.toString(16).padStart(12, '0')}`;
const relay = (i: number, pads: number[], keys = [i]): Kxi1KeyRelay => ({
  relay: rel(i),
  qx: 'qx-ab',
  initiator: 'alice',
  targets: ['bob'],
  keys: keys.map(key),
  bits: 64,
  pads: pads.map(unit),
  ct: new Uint8Array(8 * keys.length),
  deadline: 1,
  attempt: 0,
});
const sessions = (held = 100) => new Kxi1Sessions({ qx: 'qx-ab', holdsUnit: (id) => parseInt(id.slice(-12), 16) < held });

test('sender: a relay, its ack and its completion; a pad is never used twice and a relay ID or key ID never reused', () => {
  const s = sessions();
  s.begin(relay(1, [1, 2]));
  assert.is(s.outbound(rel(1)), 'sent');
  assert.ok(s.padUsed(unit(1)) && s.padUsed(unit(2)));
  const err = (f: () => unknown, what: RegExp) => assert.throws(f, (e: unknown) => e instanceof IwError && e.code === 'ERR_IW_SESSION' && what.test(e.message));
  err(() => s.begin(relay(2, [2, 3])), /never used twice/);
  assert.not.ok(s.padUsed(unit(3)), 'a refused relay consumes nothing on the sending side');
  err(() => s.begin(relay(1, [4])), /already known/);
  err(() => s.begin(relay(3, [5], [1])), /repeats a key ID/);
  err(() => s.begin(relay(4, [500])), /not held/);
  err(() => s.begin({ ...relay(5, [6]), qx: 'qx-other' }), /this session is qx-ab/);
  assert.is(s.acked(rel(1), { status: 'ok' }), 'accepted');
  assert.equal(s.completed({ relay: rel(1), target: 'carol', outcome: 'relayed', keys: [key(1)] }).status, 'target_sae_id_not_recognized');
  assert.equal(s.completed({ relay: rel(9), target: 'bob', outcome: 'relayed', keys: [key(1)] }).status, 'key_not_present');
  assert.equal(s.completed({ relay: rel(1), target: 'bob', outcome: 'relayed', keys: [key(1)] }).status, 'ok');
  assert.is(s.outbound(rel(1)), 'relayed');
  s.begin(relay(6, [7]));
  assert.is(s.acked(rel(6), { status: 'insufficient_key_material' }), 'failed');
  assert.ok(s.padUsed(unit(7)), 'pads stay consumed after a refusal by the peer');
});

test('receiver: held once; a retransmission gets the same answer without a second hold; reused pads, unknown pads, reused IDs refused', () => {
  const s = sessions();
  const r1 = relay(1, [1, 2]);
  assert.equal(s.receive(r1), { status: 'ok', duplicate: false });
  assert.equal(s.receive(r1), { status: 'ok', duplicate: true });
  assert.is(s.inbound(rel(1)), 'held');
  assert.is(s.receive({ ...r1, ct: new Uint8Array(8).fill(1) }).status, 'invalid_routing');
  const r2 = relay(2, [2, 3]);
  assert.is(s.receive(r2).status, 'insufficient_key_material');
  assert.ok(s.padUsed(unit(3)), 'the fresh pad of a refused relay is consumed as the sender consumed it');
  assert.equal(s.receive(r2), { status: 'insufficient_key_material', reason: 'a pad named was used before', duplicate: true });
  assert.is(s.receive(relay(3, [400])).status, 'key_not_present');
  assert.is(s.receive(relay(4, [5], [1])).status, 'invalid_routing');
  assert.is(s.receive({ ...relay(5, [6]), qx: 'qx-zz' }).status, 'invalid_routing');
});

test('void before delivery voids; void after delivery fails (ETSI GS QKD 020); delivery happens once', () => {
  const s = sessions();
  s.receive(relay(1, [1]));
  s.receive(relay(2, [2]));
  const c = s.delivered(rel(1), 'bob');
  assert.equal(c, { relay: rel(1), target: 'bob', outcome: 'relayed', keys: [key(1)] });
  assert.throws(() => s.delivered(rel(1), 'bob'), (e: unknown) => e instanceof IwError && e.code === 'ERR_IW_SESSION');
  const late = s.void({ relay: rel(1), initiator: 'alice', targets: ['bob'], all: true });
  assert.equal(late.completions.map((x) => x.outcome), ['failed']);
  const early = s.void({ relay: rel(2), initiator: 'alice', targets: ['bob'], keys: [key(2)] });
  assert.equal(early.completions.map((x) => x.outcome), ['voided']);
  assert.is(s.inbound(rel(2)), 'voided');
  assert.throws(() => s.delivered(rel(2), 'bob'), (e: unknown) => e instanceof IwError);
  assert.is(s.void({ relay: rel(9), initiator: 'alice', targets: ['bob'], all: true }).answer.status, 'key_not_present');
  assert.is(s.void({ relay: rel(2), initiator: 'alice', targets: ['bob'], keys: [key(7)] }).answer.status, 'key_not_present');
});

test('property: over any sequence of relays, retransmissions and voids, no pad serves two accepted relays and no key is delivered twice', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ id: fc.integer({ min: 1, max: 12 }), pads: fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 3 }), key: fc.integer({ min: 1, max: 15 }), act: fc.constantFrom('relay', 'deliver', 'void') }), { maxLength: 60 }),
      (steps) => {
        const s = sessions(25);
        const padOwner = new Map<string, string>();
        const delivered = new Set<string>();
        for (const st of steps) {
          const r = relay(st.id, st.pads, [st.key]);
          if (st.act === 'relay') {
            if (s.receive(r).status === 'ok' && s.inbound(r.relay) === 'held')
              for (const p of r.pads) {
                assert.ok(!padOwner.has(p) || padOwner.get(p) === r.relay, `pad ${p} serves two relays`);
                padOwner.set(p, r.relay);
              }
          } else if (st.act === 'deliver') {
            try {
              const c = s.delivered(r.relay, 'bob');
              for (const k of c.keys) {
                assert.not.ok(delivered.has(k), `key ${k} delivered twice`);
                delivered.add(k);
              }
            } catch (e) {
              assert.instance(e, IwError);
            }
          } else s.void({ relay: r.relay, initiator: 'alice', targets: ['bob'], all: true });
        }
      },
    ),
    { numRuns: 500, seed: 3818 },
  );
});

test.run();
