import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { BORDER_CBOR_LIMITS, BORDER_PAYLOAD_BYTES, decodePayload, encodeFrame, encodePayload, FrameReader, MESSAGE_SPECS, referencePointLabel } from './messages.js';
import { IwDecodeError, IwError, IwLimitError } from './errors.js';
import { STATUS } from './status.js';
import { ledgerDigest, qxTag } from './kxi-1/qx-ledger.js';

const raw = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });
const cborUint = (n: number) => (n < 24 ? n.toString(16).padStart(2, '0') : `18${n.toString(16).padStart(2, '0')}`);

for (const spec of MESSAGE_SPECS) {
  test(`${spec.name} (${spec.rp}): the test vector encodes and decodes exactly`, () => {
    const hex = encodePayload(spec.name, 7, spec.example as never).toString('hex');
    assert.is(hex, spec.vector);
    // the envelope by hand: array(5), version 1, the type, id 7, ctx 0, then a map
    const head = `8501${cborUint(spec.type)}0700`;
    assert.is(spec.vector.slice(0, head.length), head);
    assert.match(spec.vector.slice(head.length, head.length + 2), /^a[0-9a-f]$/);
    const m = decodePayload(Buffer.from(spec.vector, 'hex'));
    assert.is(m.name, spec.name);
    assert.is(m.rp, spec.rp);
    assert.is(m.ctx, 'border');
    assert.is(m.id, 7);
    assert.equal(m.body, spec.example);
  });
}

test('type numbers are unique and each lies in its reference point’s range', () => {
  const types = MESSAGE_SPECS.map((s) => s.type);
  assert.is(new Set(types).size, types.length);
  const range = { 'Kxi-1': 0x10, 'Kxi-2': 0x20, Cxi: 0x30, Mxi: 0x40, Ck: 0x50 } as const;
  for (const s of MESSAGE_SPECS) assert.is(s.type & 0xf0, range[s.rp], s.name);
  for (const rp of ['Kxi-1', 'Kxi-2', 'Cxi', 'Mxi', 'Ck'] as const) assert.ok(MESSAGE_SPECS.some((s) => s.rp === rp), rp);
});

test('primed reference points: the same messages with ctx 1, labelled Kxi-1\' and so on', () => {
  for (const spec of MESSAGE_SPECS) {
    const bytes = encodePayload(spec.name, 9, spec.example as never, 'iwn');
    assert.is(bytes[3 + cborUint(spec.type).length / 2], 0x01, spec.name); // ctx follows array head, version, type (one or two bytes) and id
    const m = decodePayload(bytes);
    assert.is(m.ctx, 'iwn');
    assert.equal(m.body, spec.example);
    assert.is(referencePointLabel(m.rp, m.ctx), `${spec.rp}'`);
  }
  assert.is(referencePointLabel('Cxi', 'border'), 'Cxi');
});

test('epoch-millisecond times go on the wire as CBOR integers, not floats', () => {
  const hex = encodePayload('CxiStatus', 7, MESSAGE_SPECS.find((s) => s.name === 'CxiStatus')!.example as never).toString('hex');
  assert.ok(hex.includes('1b000001a3185c5000'), 'uint64 1.8e12');
  assert.not.ok(hex.includes('fb427a3185c5'), 'no float64');
});

test('a wrong version, an unknown type, a bad ctx and a malformed envelope are refused with typed errors', () => {
  const body = { re: 1, status: 'ok' };
  const code = (b: Uint8Array, c: string) => assert.throws(() => decodePayload(b), (e: unknown) => e instanceof IwError && e.code === c);
  code(raw.encode([2, 0x13, 1, 0, body]), 'ERR_IW_VERSION');
  code(raw.encode([1, 0x99, 1, 0, body]), 'ERR_IW_UNKNOWN_TYPE');
  code(raw.encode([1, 0x13, 1, 2, body]), 'ERR_IW_DECODE');
  code(raw.encode([1, 0x13, -1, 0, body]), 'ERR_IW_DECODE');
  code(raw.encode([1, 0x13, 1, body]), 'ERR_IW_DECODE');
  code(Buffer.from('ff00', 'hex'), 'ERR_IW_LIMIT');
});

test('schemas name the failing field: unknown fields, bad IDs, status outside the table, ETSI 020 rules', () => {
  const bad = (type: number, b: Record<string, unknown>, field: RegExp) =>
    assert.throws(
      () => decodePayload(raw.encode([1, type, 1, 0, b])),
      (e: unknown) => e instanceof IwDecodeError && field.test(e.field),
    );
  const relay = { ...(MESSAGE_SPECS[1].example as object) } as Record<string, unknown>;
  bad(0x11, { ...relay, extra: 1 }, /^Kxi1KeyRelay\.extra$/);
  bad(0x11, { ...relay, ct: new Uint8Array(7) }, /^Kxi1KeyRelay\.ct$/);
  bad(0x11, { ...relay, bits: 12 }, /^Kxi1KeyRelay\.bits$/);
  bad(0x11, { ...relay, targets: ['alice'] }, /^Kxi1KeyRelay\.targets$/);
  bad(0x11, { ...relay, qx: 'a/b' }, /^Kxi1KeyRelay\.qx$/);
  bad(0x11, { ...relay, keys: ['NOT-A-UUID'] }, /^Kxi1KeyRelay\.keys\[0\]$/);
  bad(0x11, { ...relay, pads: undefined }, /^Kxi1KeyRelay\.pads$/);
  bad(0x13, { re: 1, status: 'maybe' }, /^Kxi1Ack\.status$/);
  bad(0x15, { relay: relay.relay, initiator: 'alice', targets: ['bob'] }, /^Kxi1Void$/);
  bad(0x33, { re: 1, request: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', status: 'ok' }, /^CxiRouteResponse$/);
  bad(0x20, { ...(MESSAGE_SPECS.find((x) => x.name === 'Kxi2KeySupplyNotification')!.example as object), slaveProvider: 'qkdn-a' }, /slaveProvider/);
  bad(0x16, { qx: 'qx-ab', upTo: 9, units: ['11111111-2222-4333-8444-555555555555'], tags: new Uint8Array(15) }, /^Kxi1KeyLedger\.tags$/);
  bad(0x4f, { from: 'a', to: 'b', seq: 1, epk: new Uint8Array(31), iv: new Uint8Array(12), ct: new Uint8Array(16) }, /^MxiSealed\.epk$/);
  for (const s of ['no_known_route', 'insufficient_key_material', 'invalid_routing'] as const) {
    const m = decodePayload(raw.encode([1, 0x13, 1, 0, { re: 1, status: s }]));
    assert.is(m.name === 'Kxi1Ack' && m.body.status, s);
    assert.is(STATUS[s].http, 400);
  }
});

test('a sender is held to the schema too: encoding an invalid body throws', () => {
  assert.throws(() => encodePayload('Kxi1Ack', 1, { re: 1, status: 'bogus' as never }), (e: unknown) => e instanceof IwDecodeError);
});

test('decoder limits: depth, container length, item count, string length, tags, indefinite forms, map keys, trailing bytes', () => {
  const lim = (b: Uint8Array, why: RegExp) => assert.throws(() => decodePayload(b), (e: unknown) => e instanceof IwLimitError && why.test(e.message));
  let deep: unknown = 1;
  for (let i = 0; i < 12; i++) deep = [deep];
  lim(raw.encode(deep), /nesting deeper than 8/);
  lim(Buffer.from('9a00ffffff', 'hex'), /container of 16777215 entries/); // an array announcing 16 M entries in 5 bytes
  lim(raw.encode([new Array(BORDER_CBOR_LIMITS.maxItems).fill([1, 1, 1, 1, 1, 1, 1, 1, 1])]), /more than 65536 items/);
  lim(Buffer.from('5a00100000', 'hex'), /string of 1048576 bytes/);
  lim(Buffer.from('c11a00000000', 'hex'), /tags not allowed/);
  lim(Buffer.from('9f01ff', 'hex'), /indefinite length/);
  lim(Buffer.from('a10101', 'hex'), /map key is not a text string/);
  lim(Buffer.from('0101', 'hex'), /trailing/);
  lim(Buffer.from('82', 'hex'), /truncated/);
  assert.throws(() => decodePayload(new Uint8Array(BORDER_PAYLOAD_BYTES + 1)), (e: unknown) => e instanceof IwLimitError && e.limit === 'bytes');
});

test('property: arbitrary bytes decode to a message or an IwError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      try {
        decodePayload(bytes);
      } catch (e) {
        assert.instance(e, IwError);
      }
    }),
    { numRuns: 3000, seed: 3818 },
  );
});

test('property: every test vector with bytes flipped, cut or extended decodes or fails with an IwError', () => {
  const vectors = MESSAGE_SPECS.map((s) => Buffer.from(s.vector, 'hex'));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: vectors.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.integer({ min: -8, max: 8 }), (i, flips, cut) => {
      const v = Buffer.from(vectors[i]!);
      for (const [at, b] of flips) v[at % v.length] = b;
      const mutated = cut < 0 ? v.subarray(0, v.length + cut) : Buffer.concat([v, Buffer.alloc(cut, 0x41)]);
      try {
        decodePayload(mutated);
      } catch (e) {
        assert.instance(e, IwError);
      }
    }),
    { numRuns: 3000, seed: 3818 },
  );
});

test('property: arbitrary CBOR bodies under every type decode or fail with an IwError', () => {
  const keys = [...new Set(MESSAGE_SPECS.flatMap((s) => Object.keys(s.example as object)))];
  const anyBody = fc.dictionary(fc.constantFrom(...keys), fc.oneof(fc.anything({ maxDepth: 2 }), fc.uint8Array({ maxLength: 40 }), fc.constantFrom('ok', 'alice', 'qx-ab', '11111111-2222-4333-8444-555555555555')));
  fc.assert(
    fc.property(fc.constantFrom(...MESSAGE_SPECS.map((s) => s.type)), fc.constantFrom(0, 1), anyBody, (type, ctx, body) => {
      try {
        decodePayload(raw.encode([1, type, 1, ctx, body]));
      } catch (e) {
        assert.instance(e, IwError);
      }
    }),
    { numRuns: 3000, seed: 3818 },
  );
});

test('property: every example survives a round trip whatever the request ID and context', () => {
  fc.assert(
    fc.property(fc.constantFrom(...MESSAGE_SPECS), fc.nat(), fc.constantFrom('border' as const, 'iwn' as const), (spec, id, ctx) => {
      const m = decodePayload(encodePayload(spec.name, id, spec.example as never, ctx));
      assert.is(m.id, id);
      assert.equal(m.body, spec.example);
    }),
    { numRuns: 500, seed: 3818 },
  );
});

test('FrameReader reassembles fragmented frames and refuses an oversized announcement before buffering', () => {
  const frames = MESSAGE_SPECS.map((s) => encodeFrame(encodePayload(s.name, 3, s.example as never)));
  const all = Buffer.concat(frames);
  const r = new FrameReader();
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += 7) out.push(...r.push(all.subarray(i, i + 7)));
  assert.equal(out.map((p) => decodePayload(p).name), MESSAGE_SPECS.map((s) => s.name));
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(BORDER_PAYLOAD_BYTES + 1);
  assert.throws(() => new FrameReader().push(huge), (e: unknown) => e instanceof IwLimitError);
});

test('Kxi1KeySync digest: the same ledger gives the same digest whatever its order; one unit less, or one unit’s material different, another', () => {
  const ids = ['8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a', '11111111-2222-4333-8444-555555555555', '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a'];
  const ledger = ids.map((unit, i) => ({ unit, tag: qxTag('qx-ab', unit, new Uint8Array(32).fill(i)) }));
  const d = ledgerDigest(ledger);
  assert.is(d.length, 32);
  assert.equal(ledgerDigest([...ledger].reverse()), d);
  assert.not.equal(ledgerDigest(ledger.slice(1)), d);
  assert.not.equal(ledgerDigest([...ledger.slice(1), { unit: ids[0]!, tag: qxTag('qx-ab', ids[0]!, new Uint8Array(32).fill(9)) }]), d);
  assert.is(Buffer.from(ledgerDigest([])).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'); // SHA-256 of nothing
  const m = decodePayload(encodePayload('Kxi1KeySync', 1, { qx: 'qx-ab', high: 9, available: 3, upTo: 9, digest: d }));
  assert.equal(m.name === 'Kxi1KeySync' && m.body.digest, d);
});

test.run();
