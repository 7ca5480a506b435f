import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { CONTROL_SPECS, decodeControl, encodeControl } from './wire.js';
import { ControllerDecodeError, ControllerError } from './errors.js';

const raw = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });

for (const spec of CONTROL_SPECS) {
  test(`${spec.name}: the test vector encodes and decodes exactly`, () => {
    assert.is(encodeControl(spec.name, 7, 0, spec.example as never).toString('hex'), spec.vector);
    const m = decodeControl(Buffer.from(spec.vector, 'hex'));
    assert.is(m.name, spec.name);
    assert.is(m.id, 7);
    assert.is(m.re, 0);
    assert.equal(m.body, spec.example);
  });
}

test('type numbers are unique', () => {
  const types = CONTROL_SPECS.map((s) => s.type);
  assert.is(new Set(types).size, types.length);
});

test('a wrong version, an unknown type and a malformed envelope are refused with typed errors', () => {
  const ack = { status: 'ok' };
  const code = (c: string) => (e: unknown) => e instanceof ControllerError && e.code === c;
  assert.throws(() => decodeControl(raw.encode([2, 2, 1, 0, ack])), code('ERR_CTL_VERSION'));
  assert.throws(() => decodeControl(raw.encode([1, 99, 1, 0, ack])), code('ERR_CTL_UNKNOWN_TYPE'));
  assert.throws(() => decodeControl(raw.encode([1, 2, -1, 0, ack])), code('ERR_CTL_DECODE'));
  assert.throws(() => decodeControl(raw.encode([1, 2, 1, ack])), code('ERR_CTL_DECODE'));
  assert.throws(() => decodeControl(Buffer.from('ff00', 'hex')), code('ERR_CTL_DECODE'));
});

test('schemas name the offending field: a QBER over 1, an unknown status, a looping route, a priority out of range', () => {
  const bad = (type: number, b: Record<string, unknown>, field: RegExp) =>
    assert.throws(
      () => decodeControl(raw.encode([1, type, 1, 0, b])),
      (e: unknown) => e instanceof ControllerDecodeError && field.test(e.field),
    );
  const link = { link: 'A~B', node: 'A', status: 'ACTIVE', skr: 1, eskr: 1, qber: 0.02, qber_alarm: false };
  bad(32, { ...link, qber: 1.5 }, /LinkReport\.qber/);
  bad(32, { ...link, status: 'UP' }, /LinkReport\.status/);
  bad(32, { ...link, skr: -1 }, /LinkReport\.skr/);
  bad(19, { relay: 'r1', status: 'ok', nodes: ['A', 'B', 'A'], links: ['x', 'y'], version: 1 }, /RouteAnswer\.nodes/);
  bad(19, { relay: 'r1', status: 'ok', nodes: ['A', 'B', 'C'], links: ['x'], version: 1 }, /RouteAnswer\.links/);
  bad(18, { relay: 'r1', from: 'A', to: 'B', units: 1, deadline: 1, priority: 99, attempt: 0, avoid: [] }, /RouteRequest\.priority/);
  bad(16, { node: 'B', boot: 'x', seq: 1, links: [{ link: 'A~B', peer: 'A', stock_bits: -5, consumption_bps: 0 }] }, /KmReport\.links\[0\]\.stock_bits/);
  bad(48, { origin: 'A', seq: 1, age: 0, links: [], sig: new Uint8Array(300) }, /LinkStateAdvertisement\.sig/);
});

test('property: arbitrary bytes and arbitrary bodies decode to a message or a ControllerError, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodeControl(bytes);
      } catch (e) {
        assert.instance(e, ControllerError);
      }
    }),
    { numRuns: 2000, seed: 3802 },
  );
  const keys = ['status', 'reason', 'node', 'boot', 'seq', 'links', 'link', 'peer', 'version', 'nodes', 'saes', 'relay', 'from', 'to', 'units', 'deadline', 'priority', 'attempt', 'avoid', 'outcome', 'skr', 'eskr', 'qber', 'qber_alarm', 'origin', 'age', 'sig'];
  fc.assert(
    fc.property(fc.constantFrom(...CONTROL_SPECS.map((s) => s.type)), fc.dictionary(fc.constantFrom(...keys), fc.anything({ maxDepth: 2 })), (type, body) => {
      try {
        decodeControl(raw.encode([1, type, 1, 0, body]));
      } catch (e) {
        assert.instance(e, ControllerError);
      }
    }),
    { numRuns: 2000, seed: 3802 },
  );
  // Valid messages with one field replaced by junk: still only ControllerErrors.
  fc.assert(
    fc.property(fc.constantFrom(...CONTROL_SPECS), fc.anything({ maxDepth: 2 }), fc.nat(), (spec, junk, pick) => {
      const b = spec.encode(spec.example as never) as Record<string, unknown>;
      const k = Object.keys(b)[pick % Object.keys(b).length]!;
      try {
        decodeControl(raw.encode([1, spec.type, 1, 0, { ...b, [k]: junk }]));
      } catch (e) {
        assert.instance(e, ControllerError);
      }
    }),
    { numRuns: 2000, seed: 3802 },
  );
});

test.run();
