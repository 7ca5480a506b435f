import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { decodePayload, encodeFrame, encodePayload, FrameReader, MESSAGE_SPECS } from './messages.js';
import { KxDecodeError, KxError } from './errors.js';
import { LIMITS } from './spec.js';

const raw = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });

for (const spec of MESSAGE_SPECS) {
  test(`${spec.name}: the test vector encodes and decodes exactly`, () => {
    const hex = encodePayload(spec.name, 7, spec.example as never).toString('hex');
    assert.is(hex, spec.vector);
    const m = decodePayload(Buffer.from(spec.vector, 'hex'));
    assert.is(m.name, spec.name);
    assert.is(m.id, 7);
    assert.equal(m.body, spec.example);
  });
}

test('type numbers are unique and Q.4163 messages have their own numbers', () => {
  const types = MESSAGE_SPECS.map((s) => s.type);
  assert.is(new Set(types).size, types.length);
  const names = new Set(MESSAGE_SPECS.map((s) => s.name));
  for (const n of ['KeyRelay', 'KeyRelayCompletionNotification', 'KeySupplyNotification', 'KeySupplyNotificationResponse']) assert.ok(names.has(n as never), n);
});

test('a wrong version, an unknown type and a malformed envelope are refused with typed errors', () => {
  const body = { re: 1, status: 'ok' };
  assert.throws(() => decodePayload(raw.encode([2, 2, 1, body])), (e: unknown) => e instanceof KxError && e.code === 'ERR_KX_VERSION');
  assert.throws(() => decodePayload(raw.encode([1, 99, 1, body])), (e: unknown) => e instanceof KxError && e.code === 'ERR_KX_UNKNOWN_TYPE');
  assert.throws(() => decodePayload(raw.encode([1, 2, -1, body])), (e: unknown) => e instanceof KxError && e.code === 'ERR_KX_DECODE');
  assert.throws(() => decodePayload(raw.encode({ a: 1 })), (e: unknown) => e instanceof KxError && e.code === 'ERR_KX_DECODE');
  assert.throws(() => decodePayload(Buffer.from('ff00', 'hex')), (e: unknown) => e instanceof KxError);
});

test('KeyRelay schema: units only on the first hop, pads and ct after it (or on a first hop handing over keys from another network), ct length matches, no loops', () => {
  const base = { relay: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a', route: ['A', 'B', 'C'], keys: ['11111111-2222-4333-8444-555555555555'], bits: 64 };
  const pads = ['8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a'];
  const bad = (b: Record<string, unknown>, field: RegExp) =>
    assert.throws(() => decodePayload(raw.encode([1, 16, 1, b])), (e: unknown) => e instanceof KxDecodeError && field.test(e.field));
  bad({ ...base, hop: 0, units: pads, pads, ct: new Uint8Array(8) }, /^KeyRelay$/);
  bad({ ...base, hop: 0 }, /^KeyRelay$/);
  bad({ ...base, hop: 0, pads, ct: new Uint8Array(7) }, /KeyRelay\.ct/);
  assert.is(decodePayload(raw.encode([1, 16, 1, { ...base, hop: 0, pads, ct: new Uint8Array(8) }])).name, 'KeyRelay');
  bad({ ...base, hop: 1, units: pads }, /^KeyRelay$/);
  bad({ ...base, hop: 1, pads, ct: new Uint8Array(7) }, /KeyRelay\.ct/);
  bad({ ...base, hop: 2, pads, ct: new Uint8Array(8) }, /KeyRelay\.hop/);
  bad({ ...base, route: ['A', 'B', 'A'], hop: 1, pads, ct: new Uint8Array(8) }, /KeyRelay\.route/);
  bad({ ...base, bits: 12, hop: 1, pads, ct: new Uint8Array(8) }, /KeyRelay\.bits/);
  bad({ ...base, keys: ['NOT-A-UUID'], hop: 0, units: pads }, /KeyRelay\.keys\[0\]/);
  bad({ ...base, keys: [base.keys[0], base.keys[0]], hop: 0, units: pads }, /KeyRelay\.keys\[1\]/);
});

test('KeySupplyNotification schema: key_ID is the first unit, size a positive multiple of 8, SAE IDs well formed', () => {
  const u = '8c0d6a0e-5f1b-8a2c-b3d4-e5f60718293a';
  const base = { supply: '0b5e9c1d-2f3a-4b6c-8d7e-9f0a1b2c3d4e', origin: 'link', master: 'm', slaves: ['s'], size: 256, keys: [{ id: u, units: [u] }] };
  const bad = (b: Record<string, unknown>, field: RegExp) =>
    assert.throws(() => decodePayload(raw.encode([1, 18, 1, b])), (e: unknown) => e instanceof KxDecodeError && field.test(e.field));
  bad({ ...base, keys: [{ id: '11111111-2222-4333-8444-555555555555', units: [u] }] }, /keys\[0\]\.id/);
  bad({ ...base, size: 0 }, /size/);
  bad({ ...base, size: 12 }, /size/);
  bad({ ...base, slaves: [] }, /slaves/);
  bad({ ...base, master: 'a/b' }, /master/);
  bad({ ...base, origin: 'other' }, /origin/);
});

test('property: arbitrary bytes and arbitrary CBOR never decode to anything but a message or a KxError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodePayload(bytes);
      } catch (e) {
        assert.instance(e, KxError);
      }
    }),
    { numRuns: 2000, seed: 4163 },
  );
  const anyBody = fc.dictionary(fc.constantFrom('re', 'status', 'ids', 'origin', 'reason', 'relay', 'route', 'hop', 'keys', 'bits', 'pads', 'ct', 'units', 'node', 'boot', 'versions', 'pools', 'supply', 'master', 'slaves', 'size'), fc.anything({ maxDepth: 2 }));
  fc.assert(
    fc.property(fc.constantFrom(...MESSAGE_SPECS.map((s) => s.type)), anyBody, (type, body) => {
      try {
        decodePayload(raw.encode([1, type, 1, body]));
      } catch (e) {
        assert.instance(e, KxError);
      }
    }),
    { numRuns: 2000, seed: 4163 },
  );
});

test('FrameReader reassembles fragmented frames and refuses an oversized announcement before buffering', () => {
  const frames = MESSAGE_SPECS.map((s) => encodeFrame(s.name, 3, s.example as never));
  const all = Buffer.concat(frames);
  const r = new FrameReader();
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += 5) out.push(...r.push(all.subarray(i, i + 5)));
  assert.is(out.length, frames.length);
  assert.equal(out.map((p) => decodePayload(p).name), MESSAGE_SPECS.map((s) => s.name));
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(LIMITS.frame + 1);
  assert.throws(() => new FrameReader().push(huge), (e: unknown) => e instanceof KxError && e.code === 'ERR_KX_FRAME_TOO_LARGE');
});

test.run();
