/**
 * Transit through a provider, over real node processes: an SAE of metro provider M1 and one of
 * metro provider M2, which share no border, get the same keys through backbone provider BB, which
 * has a GWN facing each of them (GWN pairs at each border, each provider its own CA):
 *
 *   QKDN-M1                  QKDN-BB (transit)                     QKDN-M2
 *   alice ─ m1a ── m1_gw ══Qx══ bb_w ── bb_c ── bb_e ══Qx══ m2_gw ── m2b ── m2a ─ bob
 *
 * The interworking route is chained from segments: each gateway asks its neighbour over Cxi for
 * that neighbour's segment only (M1 asks BB, BB's bb_e asks M2), and each provider carries the keys
 * over its own segment (BB from bb_w to bb_e over its key relay, M2 from m2_gw to bob's KM m2a).
 * What one provider's border recording holds names none of the other providers' interior, and M1
 * never sees anything of M2 beyond the shared SAE bob.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDemoNetwork, type DemoNetwork } from '../../../host/node/demo-network.js';
import { initPki, type PkiPaths } from '../../../host/pki/pki.js';
import { freePort } from '../../../host/bench/ports.js';
import { fingerprintOf } from '../../../host/interworking/border/pinning.js';
import { recording, waitFor, type Provider } from './scenarios.js';

interface Spec {
  readonly id: string;
  readonly ids: readonly string[];
  readonly saes: Readonly<Record<string, string>>;
  /** Gateway node → [peer provider, peer gateway, Qx link, the peer's SAEs it fronts, this provider's SAEs shared with that peer]. */
  readonly gateways: Readonly<Record<string, readonly [string, string, string, readonly string[], readonly string[]]>>;
}

const SPECS: readonly Spec[] = [
  { id: 'qkdn-m1', ids: ['m1a', 'm1_gw'], saes: { alice: 'm1a' }, gateways: { m1_gw: ['qkdn-bb', 'bb_w', 'qx-m1-bb', ['bob'], ['alice']] } },
  {
    id: 'qkdn-bb',
    ids: ['bb_w', 'bb_c', 'bb_e'],
    saes: { opal: 'bb_c' },
    // BB shares, as transit, each metro's SAE with the other metro; its own SAE opal with nobody.
    gateways: { bb_w: ['qkdn-m1', 'm1_gw', 'qx-m1-bb', ['alice'], ['bob']], bb_e: ['qkdn-m2', 'm2_gw', 'qx-bb-m2', ['bob'], ['alice']] },
  },
  { id: 'qkdn-m2', ids: ['m2_gw', 'm2b', 'm2a'], saes: { bob: 'm2a' }, gateways: { m2_gw: ['qkdn-bb', 'bb_e', 'qx-bb-m2', ['alice'], ['bob']] } },
];

let nets: DemoNetwork[] = [];
let dir = '';
test.after(async () => {
  await Promise.all(nets.map((n) => n.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startChain(): Promise<{ providers: Provider[]; byId: Map<string, Provider> }> {
  dir = mkdtempSync(join(tmpdir(), 'qkdn-transit-'));
  const gwNodes = SPECS.flatMap((s) => Object.keys(s.gateways));
  const ports = new Map<string, number>();
  for (const g of gwNodes) ports.set(g, await freePort());
  const seeds = new Map<string, string>();
  const pkis = new Map<string, PkiPaths>();
  await Promise.all(SPECS.map(async (s) => pkis.set(s.id, await initPki(join(dir, s.id, 'pki'), { network: s.id, nodes: [...s.ids], saes: Object.keys(s.saes) }))));
  const providerOf = (node: string) => SPECS.find((s) => s.ids.includes(node))!;
  const start = (s: Spec) => {
    const foreign: Record<string, string> = {};
    const sections: Record<string, Record<string, unknown>> = {};
    for (const [g, [peerProvider, peer, qx, fronts, shared]] of Object.entries(s.gateways)) {
      for (const sae of fronts) foreign[sae] = g;
      const peerPki = pkis.get(providerOf(peer).id)!;
      sections[g] = {
        gateway: {
          provider: s.id,
          border: { host: '127.0.0.1', port: ports.get(g)! },
          peer: { provider: peerProvider, node: peer, address: `127.0.0.1:${ports.get(peer)!}`, fingerprint: fingerprintOf(readFileSync(peerPki.cert('KME', peer), 'utf8')), ca: peerPki.ca },
          qx: { id: qx, source: { type: 'simulated', rate: 500, seed: seeds.get(qx)!, initialUnits: 2000 } },
          foreignSaes: fronts,
          shared: shared.map((sae) => ({ sae, rate: 100, bits: 256 })),
          timeoutMs: 15_000,
          record: join(dir, `border-${g}.jsonl`),
        },
      };
    }
    return startDemoNetwork({ dir: join(dir, s.id), pkiReady: true, ids: s.ids, shape: 'line', saes: s.saes, foreignSaes: foreign, sections, km: { peerTimeoutMs: 20_000, relayHopTimeoutMs: 5_000 }, rate: 500, initialUnits: 2000, waitForKeys: false, bundle: true });
  };
  // One seed per Qx link, the same at both ends.
  for (const s of SPECS) for (const [, , qx] of Object.values(s.gateways)) if (!seeds.has(qx)) seeds.set(qx, randomBytes(32).toString('hex'));
  nets = await Promise.all(SPECS.map(start));
  const providers = SPECS.flatMap((s, i) =>
    Object.keys(s.gateways).map((g): Provider => ({ id: s.id, net: nets[i]!, gwn: g, record: join(dir, `border-${g}.jsonl`), internal: s.ids.filter((n) => n !== g), links: s.ids.slice(1).map((n, k) => `${s.ids[k]!}-${n}`), store: null })),
  );
  await Promise.all(providers.map((p) => waitFor(() => p.net.events(p.gwn).some((e) => e.event === 'gateway' && e.kind === 'peer-synced'), 60_000, `${p.gwn} synced with its peer`)));
  return { providers, byId: new Map(providers.map((p) => [p.gwn, p])) };
}

test('an SAE of metro M1 and one of metro M2 get the same keys through backbone BB, once; each provider sees only its neighbours’ border', async () => {
  const { providers, byId } = await startChain();
  const [m1, , m2] = nets as [DemoNetwork, DemoNetwork, DemoNetwork];
  const deadline = Date.now() + 90_000;
  let enc = await m1.client('alice').encKeys('bob', { number: 2, size: 256 });
  while (enc.status === 503 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    enc = await m1.client('alice').encKeys('bob', { number: 2, size: 256 });
  }
  assert.is(enc.status, 200, `alice (M1) enc_keys for bob (M2): ${enc.raw}`);
  const ids = enc.body.keys.map((k) => k.key_ID);
  const dec = await m2.client('bob').decKeys('alice', ids);
  assert.is(dec.status, 200, `bob dec_keys from m2a: ${dec.raw}`);
  assert.equal(
    dec.body.keys.map((k) => [k.key_ID, k.key]),
    enc.body.keys.map((k) => [k.key_ID, k.key]),
    'bob gets alice’s keys under the same IDs',
  );
  const again = await m2.client('bob').decKeys('alice', ids);
  assert.ok(again.status >= 400 && again.status < 500, `a second fetch is refused (${again.status})`);

  // Each segment was carried by its own provider: BB in from M1 and on to M2, M2 in from BB.
  const crossed = (g: string, direction: string) => byId.get(g)!.net.events(g).some((e) => e.event === 'gateway' && e.kind === 'crossed' && e.direction === direction);
  await waitFor(() => crossed('m1_gw', 'out') && crossed('bb_w', 'in') && crossed('bb_e', 'out') && crossed('m2_gw', 'in'), 15_000, 'each gateway of the chain to report its crossing');

  // Border recordings: a border shows only its two gateways' names; nothing of any interior, of a
  // third provider, or of the keys in clear.
  const keys = enc.body.keys.map((k) => Buffer.from(k.key, 'base64').toString('hex'));
  const allNodes = SPECS.flatMap((s) => [...s.ids]);
  for (const p of providers) {
    const rec = recording(p);
    assert.ok(rec.some((r) => r.msg.name === 'Kxi1KeyRelay'), `${p.gwn} recorded a relay`);
    const peer = SPECS.find((s) => s.id === p.id)!.gateways[p.gwn]![1];
    const foreignToThisBorder = allNodes.filter((n) => n !== p.gwn && n !== peer);
    for (const r of rec) {
      const text = JSON.stringify(r.msg.body, (_k, v: unknown) => (v instanceof Uint8Array ? '' : v));
      const named = foreignToThisBorder.filter((n) => text.includes(`"${n}"`));
      assert.equal(named, [], `${p.gwn} ${r.dir} ${r.msg.name}: names no node beyond this border's two gateways`);
      assert.not.ok(text.includes('opal'), `${r.msg.name}: BB's unshared SAE does not cross`);
      assert.ok(keys.every((k) => !r.hex.includes(k)), `${r.msg.name}: no key in clear`);
    }
  }
});

test.run();
