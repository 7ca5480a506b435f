/**
 * Ck between a KM of the IWN and its controller IWF outside it, over a real mutual-TLS socket:
 * the internal endpoint's rules (one provider, Ck only, and Ck on no border endpoint), and the
 * Fig 12 admission as a request and its decision.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCa, issue, type CaMaterial, type PemPair } from '../../pki/pki.js';
import { BorderEndpoint, type BorderConnection } from '../border/endpoint.js';
import { fingerprintOf } from '../border/pinning.js';
import { IwError } from '../errors.js';
import type { IwMessage } from '../messages.js';

let ca: CaMaterial;
let km: PemPair;
let ctl: PemPair;
const endpoints: BorderEndpoint[] = [];

test.before(async () => {
  ca = await createCa('qkdn-a');
  [km, ctl] = await Promise.all([issue(ca, { role: 'KME', id: 'iwn-a' }), issue(ca, { role: 'KME', id: 'ctl-a-iw' })]);
});
test.after(async () => {
  await Promise.all(endpoints.map((e) => e.close()));
});

const config = (code: string) => (e: unknown) => e instanceof IwError && e.code === code;

test('Ck runs on internal endpoints only: between nodes of one provider, and alone; no border endpoint serves it', () => {
  const base = { provider: 'qkdn-a', node: 'iwn-a', tls: km, filters: new Map(), ctx: 'border' as const, onMessage: () => {} };
  const same = { provider: 'qkdn-a', node: 'ctl-a-iw', fingerprint: fingerprintOf(ctl.cert), ca: ca.cert };
  assert.throws(() => new BorderEndpoint({ ...base, peers: [same], serves: ['Ck'] }), config('ERR_IW_CONFIG'), 'Ck on a border endpoint');
  assert.throws(() => new BorderEndpoint({ ...base, peers: [same], serves: ['Cxi'], internal: true }), config('ERR_IW_CONFIG'), 'Cxi on an internal endpoint');
  assert.throws(() => new BorderEndpoint({ ...base, peers: [same], serves: ['Ck', 'Kxi-1'], internal: true }), config('ERR_IW_CONFIG'), 'Ck with another reference point');
  assert.throws(() => new BorderEndpoint({ ...base, peers: [{ ...same, provider: 'qkdn-b' }], serves: ['Ck'], internal: true }), config('ERR_IW_CONFIG'), 'a peer of another provider');
  assert.ok(new BorderEndpoint({ ...base, peers: [same], serves: ['Ck'], internal: true }));
});

test('the KM asks, the controller decides: a CkTransferRequirement answered by its CkTransferDecision over pinned mutual TLS; other reference points refused', async () => {
  const seen: IwMessage[] = [];
  const controller = new BorderEndpoint({
    provider: 'qkdn-a',
    node: 'ctl-a-iw',
    tls: ctl,
    peers: [{ provider: 'qkdn-a', node: 'iwn-a', fingerprint: fingerprintOf(km.cert), ca: ca.cert }],
    filters: new Map(),
    ctx: 'border',
    serves: ['Ck'],
    internal: true,
    onMessage: (c: BorderConnection, m: IwMessage) => {
      seen.push(m);
      if (m.name === 'CkTransferRequirement') c.send('CkTransferDecision', { re: m.id, transfer: m.body.transfer, ok: false, status: 'insufficient_key_material', reason: `${m.body.units} unit(s) needed` });
    },
  });
  endpoints.push(controller);
  const { port } = await controller.listen(0, '127.0.0.1');
  const kmEnd = new BorderEndpoint({
    provider: 'qkdn-a',
    node: 'iwn-a',
    tls: km,
    peers: [{ provider: 'qkdn-a', node: 'ctl-a-iw', fingerprint: fingerprintOf(ctl.cert), ca: ca.cert, host: '127.0.0.1', port }],
    filters: new Map(),
    ctx: 'border',
    serves: ['Ck'],
    internal: true,
    onMessage: () => {},
  });
  endpoints.push(kmEnd);
  const conn = await kmEnd.connect('ctl-a-iw');
  const transfer = '1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9';
  const a = await conn.request('CkTransferRequirement', { transfer, master: 'alice', slaves: ['bob'], size: 512, keys: ['0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'], units: 2 });
  assert.is(a.name, 'CkTransferDecision');
  assert.equal(a.body, { re: 1, transfer, ok: false, status: 'insufficient_key_material', reason: '2 unit(s) needed' });
  assert.is(seen.length, 1);
  assert.throws(() => conn.send('CxiStatus', { provider: 'qkdn-a', seq: 1, at: Date.now(), borders: [], saes: [] }), config('ERR_IW_CONFIG'), 'a Ck link carries no Cxi');
  conn.close();
});

test.run();
