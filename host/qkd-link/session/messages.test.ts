import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, MESSAGE_FIELDS, SessionMessageError, type SessionMessage } from './messages.js';
import { EXAMPLES } from './vectors/generate.js';

interface Vector {
  message: Record<string, unknown>;
  cbor: string;
}
const file = JSON.parse(readFileSync(new URL('./vectors/session-v1.json', import.meta.url), 'utf8')) as { version: number; vectors: Vector[] };

const fromJson = (m: Record<string, unknown>): SessionMessage =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v && typeof v === 'object' && 'hex' in v ? Uint8Array.from(Buffer.from((v as { hex: string }).hex, 'hex')) : v])) as SessionMessage;

const plain = (m: SessionMessage) => JSON.parse(JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))) as unknown;

test('every message type has a vector, and the vectors are what the encoder writes today', () => {
  assert.equal(new Set(file.vectors.map((v) => v.message.t)), new Set(Object.keys(MESSAGE_FIELDS)));
  assert.is(file.vectors.length, EXAMPLES.length);
  for (const v of file.vectors) {
    const m = fromJson(v.message);
    assert.is(Buffer.from(encodeMessage(m)).toString('hex'), v.cbor, `encoding of ${m.t}`);
    assert.equal(plain(decodeMessage(Buffer.from(v.cbor, 'hex'))), plain(m), `decoding of ${m.t}`);
  }
});

test('slot numbers and counts past 2^32 (a 1 GHz source after four seconds) survive a round trip as numbers', () => {
  const m: SessionMessage = { t: 'sift.announce', b: 2 ** 33 + 5, acq: 7, s: 4_957_933_177, e: 2 ** 52 + 1, n: 3, d: Uint8Array.of(1, 2, 3), bb: Uint8Array.of(5) };
  const back = decodeMessage(encodeMessage(m));
  assert.equal(plain(back), plain(m));
  assert.type((back as { e: unknown }).e, 'number');
  const sync = decodeMessage(encodeMessage({ t: 'sync.state', b: 0, committed: 1, last: 2, nextUnit: 2 ** 40, pending: [2 ** 35], cfg: 'x' }));
  assert.equal((sync as { pending: unknown }).pending, [2 ** 35]);
});

test('a decoder refuses wrong versions, unknown types, missing and mistyped fields, naming them', () => {
  const good = encodeMessage({ t: 'ver.result', b: 1, ok: true });
  const cases: [Uint8Array, RegExp][] = [
    [Buffer.from('a361760261746a7665722e726573756c74616201', 'hex'), /unsupported session version 2/],
    [Buffer.from(good.toString().replace('ver', 'zzz')), /malformed|unknown/],
    [encodeMessageLoose({ v: 1, t: 'nope', b: 1 }), /unknown message type nope/],
    [encodeMessageLoose({ v: 1, t: 'ver.result', b: 1 }), /field ok is missing/],
    [encodeMessageLoose({ v: 1, t: 'ver.result', b: -1, ok: true }), /block number -1/],
    [encodeMessageLoose({ v: 1, t: 'commit.ready', b: 1, u0: 1.5, n: 1, auth: 0 }), /field u0/],
    [encodeMessageLoose({ v: 1, t: 'pe.result', b: 1, nZ: [], nX: [1, -2], eX: [], go: true, why: '', qec: 0.01 }), /field nX/],
    [Uint8Array.of(0x9f, 0xff), /malformed CBOR/],
    [good.subarray(0, good.length - 1), /malformed CBOR/],
  ];
  for (const [bytes, want] of cases) {
    assert.throws(() => decodeMessage(bytes), (e: unknown) => e instanceof SessionMessageError && e.code === 'ERR_SESSION_MESSAGE' && want.test(e.message));
  }
});

test('random bytes never crash the decoder: a message or a SessionMessageError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        decodeMessage(bytes);
      } catch (e) {
        if (!(e instanceof SessionMessageError)) throw e;
      }
    }),
    { numRuns: 2000 },
  );
});

function encodeMessageLoose(m: Record<string, unknown>): Uint8Array {
  // Bypasses the encoder's types to produce wrong messages a buggy peer could send.
  return encodeMessage(m as unknown as SessionMessage).subarray(0);
}

test.run();
