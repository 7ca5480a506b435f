/**
 * Key material never leaves the interworking node in clear: the IWN and the two networks' nodes in
 * one process (real stores, real Kx and Kxi' over mutual TLS on loopback), every payload between
 * KM-A and KM-B recorded. The keys alice and bob receive appear in no recorded payload; what
 * carried them is the padded form, which differs from them; and each KM kept its own store.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtsiClient } from '../../../host/api/client.js';
import { decodePayload } from '../../../host/interworking/messages.js';
import { loadConfig } from '../../../host/node/config.js';
import { startNode, type RunningNode } from '../../../host/node/node.js';
import { loadIwnConfig, startIwn, type RunningIwn } from '../../../host/node/iwn.js';
import { writeIwnConfigs } from './iwn-network.js';

test('the keys transferred through the IWN cross Kxi-1’ only padded; KM-A and KM-B keep separate stores', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-iwn-clear-'));
  const running: (RunningNode | RunningIwn)[] = [];
  const clients: EtsiClient[] = [];
  try {
    const { pkiA, pkiB, port } = await writeIwnConfigs(dir);
    running.push(await startNode(loadConfig(join(dir, 'a1.yaml'))), await startNode(loadConfig(join(dir, 'b1.yaml'))));
    const recorded: { side: string; dir: string; payload: Buffer }[] = [];
    const iwn = await startIwn(loadIwnConfig(join(dir, 'iwn.yaml')), { tap: (side, d, payload) => recorded.push({ side, dir: d, payload: Buffer.from(payload) }) });
    running.push(iwn);
    const client = (pki: typeof pkiA, sae: string, apiPort: number) => {
      const c = new EtsiClient({ url: `https://127.0.0.1:${apiPort}`, ca: readFileSync(pki.ca), cert: readFileSync(pki.cert('SAE', sae)), key: readFileSync(pki.key('SAE', sae)) });
      clients.push(c);
      return c;
    };
    const alice = client(pkiA, 'alice', port['a1-api']!);
    const bob = client(pkiB, 'bob', port['b1-api']!);
    // until controller-A holds B's status with stock towards bob
    for (let i = 0; i < 600 && !iwn.iwn.a.controller?.peerStatus()?.saes.some((s) => s.sae === 'bob' && s.reachable); i++) await new Promise((r) => setTimeout(r, 50));
    const enc = await alice.encKeys('bob', { number: 4, size: 256 });
    assert.is(enc.status, 200, enc.raw);
    const dec = await bob.decKeys('alice', enc.body.keys.map((k) => k.key_ID));
    assert.is(dec.status, 200, dec.raw);
    assert.equal(dec.body.keys, enc.body.keys);
    const keys = enc.body.keys.map((k) => Buffer.from(k.key, 'base64'));
    const relays = recorded.filter((r) => r.dir === 'out').map((r) => decodePayload(r.payload)).filter((m) => m.name === 'Kxi1KeyRelay');
    assert.is(relays.length, 1, 'one transfer');
    assert.ok(relays.every((m) => m.ctx === 'iwn'), "primed: Kxi-1'");
    for (const r of recorded) for (const k of keys) assert.is(r.payload.indexOf(k), -1, `a key in clear in a ${r.side}-side ${r.dir} payload`);
    const ct = relays[0]!.name === 'Kxi1KeyRelay' ? Buffer.from(relays[0]!.body.ct) : Buffer.alloc(0);
    assert.not.equal(ct, Buffer.concat(keys), 'the transfer carries the padded keys');
    assert.is(ct.length, 4 * 32);
    // the pads were taken once: none is left in the IWN
    assert.is(iwn.iwn.pads.size, 0);
    // two stores: KM-A's holds nothing of KM-B's link, and the other way round
    const [kmA, kmB] = iwn.sides.map((s) => s.km);
    assert.ok(kmA!.store.pools().every((p) => p.peer === 'a1'), JSON.stringify(kmA!.store.pools()));
    assert.ok(kmB!.store.pools().every((p) => p.peer === 'b1'), JSON.stringify(kmB!.store.pools()));
    assert.is.not(kmA!.store, kmB!.store);
    // keys that are not whole units cannot cross (each network keys its own units): refused, nothing transferred
    const before = iwn.iwn.a.kmIwf.counts();
    const odd = await alice.encKeys('bob', { number: 1, size: 128 });
    assert.is.not(odd.status, 200, odd.raw);
    assert.equal(iwn.iwn.a.kmIwf.counts(), before);
    assert.is(iwn.iwn.b.kmIwf.counts().supplied, 1);
  } finally {
    for (const c of clients) c.close();
    for (const r of running.reverse()) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
