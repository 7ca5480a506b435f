/**
 * The procedures of Y.3818 clause 9.1 on two providers' networks joined by gateway nodes
 * (host/node/gwn-network.ts builds them, for `npm start` too). The end-to-end tests beside this
 * file and the conformance runner (`npm run conformance`, through conformance-cases.ts) run this
 * same code; each procedure counts its checks and throws on the first that fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoNetwork } from '../../../host/node/demo-network.js';
import { encKeysWhenReady, waitFor, type Provider, type TwoProviders } from '../../../host/node/gwn-network.js';
import { pkiPaths, createCa, issue } from '../../../host/pki/pki.js';
import { BorderEndpoint } from '../../../host/interworking/border/endpoint.js';
import { fingerprintOf } from '../../../host/interworking/border/pinning.js';
import { BorderFilter } from '../../../host/interworking/border/filter.js';
import { decodePayload, type IwMessage } from '../../../host/interworking/messages.js';
import { MxiSealer } from '../../../host/interworking/mxi/seal.js';
import { Checks } from '../../../host/interworking/conformance/cases.js';

export { startTwoProviders, waitFor, type Form, type Provider, type TwoProviders } from '../../../host/node/gwn-network.js';

/** enc_keys with retries while the master's KME is still filling its stock (503), within a deadline. */
const encKeys = (net: DemoNetwork, master: string, slave: string, number: number) => encKeysWhenReady(net.client(master), slave, number);

/**
 * Fig 9, interworking key relay, both ways: a master SAE of one provider and a slave SAE of the
 * other, each speaking plain ETSI GS QKD 014 to its own KME, get identical keys, each delivered
 * once; the unshared SAEs cannot reach across.
 */
export async function keyRelay(two: TwoProviders, c: Checks): Promise<{ keys: Buffer[] }> {
  const keys: Buffer[] = [];
  for (const [m, s, mSae, sSae] of [
    [two.a, two.b, 'alice', 'bob'],
    [two.b, two.a, 'dave', 'erin'],
  ] as const) {
    const enc = await encKeys(m.net, mSae, sSae, 2);
    c.equal(enc.status, 200, `${mSae} (${m.id}) enc_keys for ${sSae} (${s.id}): ${enc.raw}`);
    const ids = enc.body.keys.map((k) => k.key_ID);
    c.equal(ids.length, 2, 'two keys supplied');
    const dec = await s.net.client(sSae).decKeys(mSae, ids);
    c.equal(dec.status, 200, `${sSae} dec_keys from its own KME: ${dec.raw}`);
    c.equal(
      dec.body.keys.map((k) => [k.key_ID, k.key]),
      enc.body.keys.map((k) => [k.key_ID, k.key]),
      'the slave SAE gets the identical keys under the same IDs',
    );
    const again = await s.net.client(sSae).decKeys(mSae, ids);
    c.that(again.status >= 400 && again.status < 500, `a second dec_keys of the same keys is refused (got ${again.status})`);
    for (const k of enc.body.keys) keys.push(Buffer.from(k.key, 'base64'));
  }
  // An SAE its provider does not share: its supply stops at its own gateway.
  const unshared = await two.a.net.client('carol').encKeys('bob', { number: 1, size: 256 });
  c.that(unshared.status !== 200, `carol (not shared) gets no key with bob across the border (${unshared.status})`);
  // An SAE of the other provider that is not shared is not even a name here.
  const unknown = await two.a.net.client('alice').encKeys('frank', { number: 1, size: 256 });
  c.that(unknown.status >= 400 && unknown.status < 500, `frank (not shared by B) is unknown in A (${unknown.status})`);
  return { keys };
}

/** The decoded messages a GWN recorded crossing its border. */
export function recording(p: Provider): { dir: string; msg: IwMessage; hex: string }[] {
  let text: string;
  try {
    text = readFileSync(p.record, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = JSON.parse(l) as { dir: string; hex: string };
      return { dir: r.dir, hex: r.hex, msg: decodePayload(Buffer.from(r.hex, 'hex')) };
    });
}

const textOf = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? '' : x));

/** Byte strings each crossing message may carry: relayed ciphertext, nonces, digests. */
const BYTE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Kxi1KeyRelay: ['ct'],
  Kxi1Hello: ['nonce'],
  Kxi1KeySync: ['digest'],
  Kxi1KeyLedger: ['tags'],
  CxiReroutePropose: ['digest'],
  CxiRerouteVote: ['digest'],
  CxiRerouteCommit: ['digest'],
  MxiSealed: ['epk', 'iv', 'ct'],
};

/** The Mxi messages a GWN sealed for the peer's XLMO, opened with that XLMO's key (only it can). */
function unsealed(from: Provider, to: Provider, rec: readonly { dir: string; msg: IwMessage }[]): IwMessage[] {
  if (!from.xlmo || !to.xlmo) throw new Error(`${from.id} or ${to.id} has no XLMO keys: no sealed Mxi to open`);
  const sealer = new MxiSealer(to.xlmo, new Map([[from.xlmo.id, from.xlmo.publicKey]]));
  return rec.flatMap((r) => (r.dir === 'out' && r.msg.name === 'MxiSealed' ? [sealer.open(r.msg.body)] : []));
}

/**
 * The border recording: everything that crossed either way; no internal node ID or link, no
 * unshared SAE, no key material beyond relayed ciphertext (no delivered key's bytes anywhere);
 * then a third provider's GWN is refused at the handshake.
 */
export async function borderRecording(two: TwoProviders, c: Checks, delivered: readonly Buffer[], o: { readonly procedures?: boolean } = {}): Promise<void> {
  const recA = recording(two.a);
  const recB = recording(two.b);
  if (o.procedures) {
    // Figs 10 and 11 crossed too: status, summary and the rerouting rounds over Cxi; sealed Mxi.
    const names = new Set([...recA, ...recB].map((r) => r.msg.name));
    for (const n of ['CxiStatus', 'CxiTopologySummary', 'CxiReroutePropose', 'CxiRerouteVote', 'CxiRerouteCommit', 'MxiSealed']) c.that(names.has(n as IwMessage['name']), `the recording holds ${n}`);
  }
  const inner = [
    ...unsealed(two.a, two.b, recA).map((msg) => ({ p: two.a, msg })),
    ...unsealed(two.b, two.a, recB).map((msg) => ({ p: two.b, msg })),
  ];
  if (o.procedures) {
    const names = new Set(inner.map((r) => r.msg.name));
    for (const n of ['MxiFault', 'MxiDecision', 'MxiPerformanceBundle', 'MxiSecurityReport', 'MxiAccounting']) c.that(names.has(n as IwMessage['name']), `sealed Mxi carried ${n}, opened only with the receiving XLMO's key`);
  }
  for (const { p, msg } of inner) {
    const t = textOf(msg.body);
    const hex = JSON.stringify(msg.body, (_k, x: unknown) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));
    c.equal(p.internal.filter((name) => new RegExp(`"${name.replace(/[~-]/g, '\\$&')}"`).test(t) || new RegExp(`\\b${name.replace(/[~-]/g, '\\$&')}\\b`).test(t)), [], `${p.gwn} sealed ${msg.name}: no internal name of ${p.id}`);
    c.that(!Object.values(msg.body as unknown as Record<string, unknown>).some((v) => v instanceof Uint8Array), `sealed ${msg.name} carries no byte string`);
    c.that(delivered.every((k) => !hex.includes(k.toString('hex'))), `sealed ${msg.name}: no delivered key`);
  }
  c.that(recA.some((r) => r.dir === 'out' && r.msg.name === 'Kxi1KeyRelay') && recB.some((r) => r.dir === 'out' && r.msg.name === 'Kxi1KeyRelay'), 'each GWN recorded a Kxi-1 relay it sent');
  c.that(recA.some((r) => r.msg.name === 'CxiRouteRequest') && recA.some((r) => r.msg.name === 'Kxi2KeySupplyNotification'), 'Cxi route request and Kxi-2 supply notification crossed');
  for (const [p, rec] of [
    [two.a, recA],
    [two.b, recB],
  ] as const) {
    for (const r of rec) {
      const t = textOf(r.msg.body);
      const leaked = p.internal.filter((name) => new RegExp(`"${name.replace(/[~-]/g, '\\$&')}"`).test(t));
      c.equal(leaked, [], `${p.gwn} ${r.dir} ${r.msg.name}: no internal name of ${p.id}`);
      const bytes = Object.entries(r.msg.body as unknown as Record<string, unknown>).filter(([, v]) => v instanceof Uint8Array).map(([k]) => k);
      c.that(
        bytes.every((k) => BYTE_FIELDS[r.msg.name]?.includes(k)),
        `${r.msg.name} carries byte strings only in its declared fields (${bytes.join(',')})`,
      );
      c.that(
        delivered.every((k) => !r.hex.includes(k.toString('hex'))),
        `${r.msg.name}: no delivered key crosses in clear`,
      );
    }
  }
  // A third provider's GWN, with its own CA, pinning gwn-a: refused by gwn-a during the handshake.
  const caC = await createCa('qkdn-c');
  const gwnC = await issue(caC, { role: 'KME', id: 'gwn-c' });
  const pA = pkiPaths(join(two.dir, 'a', 'pki'));
  const certA = readFileSync(pA.cert('KME', 'gwn_a'), 'utf8');
  const portA = readBorderPort(two.a);
  const intruder = new BorderEndpoint({
    provider: 'qkdn-c',
    node: 'gwn-c',
    tls: gwnC,
    peers: [{ provider: 'qkdn-a', node: 'gwn_a', fingerprint: fingerprintOf(certA), ca: readFileSync(pA.ca, 'utf8'), host: '127.0.0.1', port: portA }],
    filters: new Map([['qkdn-a', new BorderFilter({ provider: 'qkdn-c', network: { nodes: ['gwn-c'], links: [], version: 1 }, saes: new Map(), borders: [] }, { provider: 'qkdn-c', peers: new Map() }, 'qkdn-a')]]),
    ctx: 'border',
    serves: ['Kxi-1'],
    onMessage: () => {},
  });
  let refused: boolean;
  try {
    const conn = await intruder.connect('gwn_a');
    // TLS 1.3: the client may finish before the server's refusal arrives; then the server closes it.
    refused = await waitFor(() => conn.closed, 15_000, 'gwn_a to close the third provider’s connection').then(
      () => true,
      () => false,
    );
  } catch {
    refused = true;
  } finally {
    await intruder.close();
  }
  c.that(refused, 'a third provider’s GWN is refused');
  await waitFor(() => two.a.net.events('gwn_a').some((e) => e.event === 'gateway' && e.kind === 'border-refused'), 15_000, 'gwn-a to report the refusal');
  c.that(true, 'gwn-a reported the refused peer');
}

function readBorderPort(p: Provider): number {
  const cfg = readFileSync(p.net.node(p.gwn).configPath, 'utf8');
  const m = /border:\s*\n\s*host: [^\n]+\n\s*port: (\d+)/.exec(cfg);
  if (!m) throw new Error(`no border port in ${p.gwn}'s configuration`);
  return Number(m[1]);
}
