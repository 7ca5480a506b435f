import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { epochSeq, generateManagerKeys, MxiSealer } from './seal.js';
import { BorderFilter } from '../border/filter.js';
import type { ProviderTopology, SharingPolicy } from '../border/policy.js';
import { BorderLeakError, IwError } from '../errors.js';
import { decodePayload, encodePayload, MESSAGE_SPECS } from '../messages.js';
import type { MxiSealed } from './sealed.js';

const A: ProviderTopology = {
  provider: 'qkdn-a',
  network: { nodes: ['a1', 'gwn-a'], links: [{ id: 'a1-ga', ends: ['a1', 'gwn-a'], cost: 1, stock: 10 }], version: 1 },
  saes: new Map([['alice', 'a1']]),
  borders: [{ node: 'gwn-a', peerProvider: 'qkdn-b', peerNode: 'gwn-b', qx: 'qx-ab', cost: 1, stock: 10 }],
};
const policy: SharingPolicy = { provider: 'qkdn-a', peers: new Map([['qkdn-b', [{ sae: 'alice', rate: 1, bits: 256 }]]]) };
const filter = new BorderFilter(A, policy, 'qkdn-b');

const ka = generateManagerKeys('mgr-a');
const kb = generateManagerKeys('mgr-b');
const kc = generateManagerKeys('mgr-c');
const pins = (...ks: (typeof ka)[]) => new Map(ks.map((k) => [k.id, k.publicKey]));

const innerSpecs = MESSAGE_SPECS.filter((s) => s.rp === 'Mxi' && s.name !== 'MxiSealed');
const fault = innerSpecs.find((s) => s.name === 'MxiFault')!.example;

test('every Mxi message crosses sealed and opens unchanged at the addressed manager, also over the wire', () => {
  const a = new MxiSealer(ka, pins(kb));
  const b = new MxiSealer(kb, pins(ka));
  for (const spec of innerSpecs) {
    const sealed = a.seal('mgr-b', spec.name as 'MxiFault', spec.example as never, filter);
    const wire = decodePayload(encodePayload('MxiSealed', 1, sealed));
    assert.is(wire.name, 'MxiSealed');
    const m = b.open(wire.body as MxiSealed);
    assert.is(m.name, spec.name);
    assert.equal(m.body, spec.example);
  }
  // nothing of the content is readable on the way
  const s = a.seal('mgr-b', 'MxiFault', fault, filter);
  assert.not.ok(Buffer.from(s.ct).includes(Buffer.from('xlmo-a')));
  assert.not.ok(Buffer.from(s.ct).includes(Buffer.from('relay_failure')));
});

test('a changed header or ciphertext, the wrong recipient, an unpinned sender and a replay are all refused', () => {
  const a = new MxiSealer(ka, pins(kb, kc));
  const b = new MxiSealer(kb, pins(ka));
  const c = new MxiSealer(kc, pins(ka, kb));
  const s = a.seal('mgr-b', 'MxiFault', fault, filter);
  const code = (f: () => unknown, c: string) => assert.throws(f, (e: unknown) => e instanceof IwError && e.code === c);
  const flipped = new Uint8Array(s.ct);
  flipped[3]! ^= 1;
  code(() => b.open({ ...s, ct: flipped }), 'ERR_IW_MXI_SEAL');
  code(() => b.open({ ...s, seq: s.seq + 1 }), 'ERR_IW_MXI_SEAL');
  code(() => b.open({ ...s, epk: kc.publicKey }), 'ERR_IW_MXI_SEAL');
  code(() => c.open(s), 'ERR_IW_MXI_SEAL'); // addressed to mgr-b
  code(() => c.open({ ...s, to: 'mgr-c' }), 'ERR_IW_MXI_SEAL'); // and C cannot open it by readdressing it
  // a sender b has not pinned (c, sealing in its own name) is refused
  const fromC = c.seal('mgr-b', 'MxiFault', fault, filter);
  code(() => b.open(fromC), 'ERR_IW_MXI_SEAL');
  // and c cannot pass as a: the static-static share does not match
  code(() => b.open({ ...fromC, from: 'mgr-a' }), 'ERR_IW_MXI_SEAL');
  assert.is(b.open(s).name, 'MxiFault');
  code(() => b.open(s), 'ERR_IW_MXI_REPLAY');
  const s2 = a.seal('mgr-b', 'MxiFault', fault, filter);
  assert.is(s2.seq, s.seq + 1);
  assert.is(b.open(s2).name, 'MxiFault');
  code(() => a.seal('mgr-z', 'MxiFault', fault, filter), 'ERR_IW_MXI_SEAL');
});

test('the border filter runs before sealing: a report naming an internal node is never sealed', () => {
  const a = new MxiSealer(ka, pins(kb));
  assert.throws(() => a.seal('mgr-b', 'MxiFault', { ...fault, detail: 'link a1-ga is down' }, filter), (e: unknown) => e instanceof BorderLeakError && e.kind === 'internal-link');
  // the refusal did not use up a sequence number
  const b = new MxiSealer(kb, pins(ka));
  const s = a.seal('mgr-b', 'MxiFault', fault, filter);
  assert.is(s.seq, 1);
  assert.is(b.open(s).name, 'MxiFault');
});

test('a restarted sender with firstSeq from the clock is opened by a receiver that kept running', async () => {
  const receiver = new MxiSealer(kb, pins(ka));
  const first = new MxiSealer(ka, pins(kb), { firstSeq: epochSeq() });
  for (let i = 0; i < 3; i++) receiver.open(first.seal('mgr-b', 'MxiFault', fault, filter));
  await new Promise((r) => setTimeout(r, 2));
  const restarted = new MxiSealer(ka, pins(kb), { firstSeq: epochSeq() });
  assert.is(receiver.open(restarted.seal('mgr-b', 'MxiFault', fault, filter)).name, 'MxiFault');
  // without it, the restarted sender's seq 1 is refused as a replay
  const naive = new MxiSealer(ka, pins(kb));
  assert.throws(() => receiver.open(naive.seal('mgr-b', 'MxiFault', fault, filter)), (e: unknown) => e instanceof IwError && e.code === 'ERR_IW_MXI_REPLAY');
});

test.run();
