import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { CODECS, type MessageMap } from './codec.js';
import { encodeFrame, FrameDecoder, rawFrame, type Frame, type FrameRejectReason } from './frame.js';
import { MESSAGE_NAMES, MessageType } from './messages.js';
import { fromHex, fromJson, hex, toJson, type MessageVector, type RejectVector } from './vectors.js';
import { BadMessageError } from '../errors.js';

const dir = new URL('./vectors/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'reject.json');
const vectors = files.map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as MessageVector);

function decodeWire(wire: Uint8Array): { frames: Frame[]; rejects: FrameRejectReason[] } {
  const frames: Frame[] = [];
  const rejects: FrameRejectReason[] = [];
  const d = new FrameDecoder({ frame: (f) => frames.push({ ...f, payload: f.payload.slice() }), reject: (r) => rejects.push(r) });
  d.push(wire);
  return { frames, rejects };
}

test('every message type of protocol 1.0 has at least one vector', () => {
  const covered = new Set(vectors.map((v) => v.type));
  for (const name of Object.keys(MessageType)) assert.ok(covered.has(name as keyof MessageMap), `no vector for ${name}`);
});

for (const v of vectors) {
  test(`vector ${v.name}: our encoder produces the listed payload, frame and wire bytes`, () => {
    const msg = fromJson(v.type, v.message);
    const payload = (CODECS[v.type] as { encode(m: unknown): Uint8Array }).encode(msg);
    assert.is(hex(payload), v.payload);
    assert.is(v.typeCode, MessageType[v.type]);
    assert.is(hex(rawFrame(v.typeCode, v.seq, payload)), v.frame);
    assert.is(hex(encodeFrame(v.typeCode, v.seq, payload)), v.wire);
  });

  test(`vector ${v.name}: the wire bytes decode to the listed message, also one byte at a time`, () => {
    const { frames, rejects } = decodeWire(fromHex(v.wire));
    assert.equal(rejects, []);
    assert.is(frames.length, 1);
    const f = frames[0]!;
    assert.is(f.type, v.typeCode);
    assert.is(f.seq, v.seq);
    assert.is(MESSAGE_NAMES.get(f.type), v.type);
    assert.is(hex(f.payload), v.payload);
    assert.equal(toJson(CODECS[v.type].decode(f.payload)), toJson(fromJson(v.type, v.message)));
    const bytes = fromHex(v.wire);
    const got: Frame[] = [];
    const d = new FrameDecoder({ frame: (x) => got.push({ ...x, payload: x.payload.slice() }), reject: () => assert.unreachable() });
    for (const b of bytes) d.push(Uint8Array.of(b));
    assert.is(got.length, 1);
    assert.is(hex(got[0]!.payload), v.payload);
  });
}

const rejects = JSON.parse(readFileSync(new URL('reject.json', dir), 'utf8')) as RejectVector[];
for (const r of rejects) {
  test(`reject vector ${r.name}: refused as ${r.reason}`, () => {
    const { frames, rejects: got } = decodeWire(fromHex(r.wire));
    if (r.reason === 'bad-payload' || r.reason === 'unknown-type') {
      assert.equal(got, []);
      assert.is(frames.length, 1);
      const f = frames[0]!;
      const name = MESSAGE_NAMES.get(f.type);
      if (r.reason === 'unknown-type') assert.is(name, undefined);
      else assert.throws(() => CODECS[name!].decode(f.payload), (e: unknown) => e instanceof BadMessageError);
    } else {
      assert.equal(got, [r.reason]);
      assert.is(frames.length, 0);
    }
  });
}

test.run();
