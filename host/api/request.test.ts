import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { ApiError } from './errors.js';
import { parseKeyIdQuery, parseKeyIdsBody, parseKeyRequestBody, parseKeyRequestQuery, parseSaeId, type EtsiLimits } from './request.js';

const L: EtsiLimits = { keySize: 256, minKeySize: 64, maxKeySize: 1024, maxKeyPerRequest: 16, maxSaeIdCount: 2 };
const RUNS = { numRuns: 3000, seed: 14 };

/** Either a valid result or an ApiError with a 4xx status: never anything else. */
function total<T>(f: () => T): T | ApiError {
  try {
    return f();
  } catch (e) {
    assert.instance(e, ApiError);
    assert.ok((e as ApiError).status >= 400 && (e as ApiError).status < 500);
    return e as ApiError;
  }
}

const jsonish = fc.oneof(fc.constant(undefined), fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 4 }), fc.object({ maxDepth: 1 }));

test('property: any key request body parses to a request within the limits, or a 400', () => {
  fc.assert(
    fc.property(
      fc.record({ number: jsonish, size: jsonish, additional_slave_SAE_IDs: fc.oneof(jsonish, fc.array(fc.constantFrom('bea', 'bob', 'alice', 'x y', ''), { maxLength: 4 })), extension_mandatory: jsonish, extension_optional: jsonish }, { requiredKeys: [] }),
      (body) => {
        const r = total(() => parseKeyRequestBody(body, 'alice', 'bob', L));
        if (r instanceof ApiError) return;
        assert.ok(Number.isInteger(r.number) && r.number >= 1 && r.number <= L.maxKeyPerRequest);
        assert.ok(Number.isInteger(r.size) && r.size >= L.minKeySize && r.size <= L.maxKeySize && r.size % 8 === 0);
        assert.ok(r.additionalSlaves.length <= L.maxSaeIdCount && !r.additionalSlaves.includes('alice') && !r.additionalSlaves.includes('bob'));
        assert.is(new Set(r.additionalSlaves).size, r.additionalSlaves.length);
        // what was given is what is asked for
        if (typeof body.number === 'number') assert.is(r.number, body.number);
        if (typeof body.size === 'number') assert.is(r.size, body.size);
      },
    ),
    RUNS,
  );
});

test('property: valid key requests are accepted exactly', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 8, max: 128 }), (number, size8) => {
      const r = parseKeyRequestBody({ number, size: size8 * 8 }, 'alice', 'bob', L);
      assert.equal(r, { number, size: size8 * 8, additionalSlaves: [] });
    }),
    RUNS,
  );
});

test('property: query strings: decimal digits within bounds or a 400', () => {
  const param = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 12 }), fc.stringMatching(/^[0-9]{1,5}$/), fc.array(fc.string(), { minLength: 2, maxLength: 2 }));
  fc.assert(
    fc.property(param, param, (number, size) => {
      const r = total(() => parseKeyRequestQuery({ number, size }, L));
      if (r instanceof ApiError) return;
      assert.ok(r.number >= 1 && r.number <= 16 && r.size % 8 === 0 && r.size >= 64 && r.size <= 1024);
      if (number !== undefined) assert.is(String(r.number), String(Number(number)));
    }),
    RUNS,
  );
});

test('property: key ID lists: distinct lower-case UUIDs, at most max_key_per_request, or a 400', () => {
  const entry = fc.oneof(fc.record({ key_ID: fc.uuid() }), fc.record({ key_ID: fc.string() }), fc.anything({ maxDepth: 1 }));
  fc.assert(
    fc.property(fc.oneof(fc.record({ key_IDs: fc.array(entry, { maxLength: 20 }) }), jsonish), (body) => {
      const r = total(() => parseKeyIdsBody(body, L));
      if (r instanceof ApiError) return;
      assert.ok(r.length >= 1 && r.length <= 16);
      assert.is(new Set(r).size, r.length);
      for (const id of r) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }),
    RUNS,
  );
  fc.assert(
    fc.property(fc.oneof(fc.record({ key_ID: fc.oneof(fc.uuid(), fc.string(), fc.array(fc.uuid())) }), jsonish), (q) => {
      const r = total(() => parseKeyIdQuery(q));
      if (!(r instanceof ApiError)) assert.is(r.length, 1);
    }),
    RUNS,
  );
});

test('property: SAE IDs are 1-64 unreserved URL characters', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[A-Za-z0-9._~-]{1,64}$/), jsonish), (v) => {
      const r = total(() => parseSaeId(v, 'slave_SAE_ID'));
      if (!(r instanceof ApiError)) assert.match(r, /^[A-Za-z0-9._~-]{1,64}$/);
    }),
    RUNS,
  );
});

test('extensions: both forms, mandatory refused by name, optional ignored', () => {
  for (const ext of [[{ a: 1 }], { a: 1 }]) {
    const e = total(() => parseKeyRequestBody({ extension_mandatory: ext }, 'alice', 'bob', L));
    assert.instance(e, ApiError);
    assert.is((e as ApiError).code, 'ERR_API_EXTENSION_UNSUPPORTED');
    assert.equal((e as ApiError).details, [{ extension: 'a' }]);
    assert.not.instance(total(() => parseKeyRequestBody({ extension_optional: ext }, 'alice', 'bob', L)), ApiError);
  }
  assert.instance(total(() => parseKeyRequestBody({ extension_mandatory: [{}] }, 'alice', 'bob', L)), ApiError);
});

test.run();
