/**
 * Two providers' QKD networks joined by gateway nodes (ITU-T Y.3818 clause 8.1), as real node
 * processes, and the procedures of clause 9.1 run on them. The end-to-end tests beside this file
 * and the conformance runner (`npm run conformance`, through conformance-cases.ts) run this same
 * code; each procedure counts its checks and throws on the first that fails.
 *
 *   QKDN-A (CA qkdn-a)                                  QKDN-B (CA qkdn-b)
 *   alice, carol ─ a1 ── a2 ── gwn_a ══Qx══ gwn_b ── b2 ── b1 ─ dave, frank
 *                              erin           bob
 *   shared with B: alice, erin                          shared with A: bob, dave
 *
 * Each network has its own PKI and SAE namespace; gwn_a fronts bob and dave inside A, gwn_b
 * fronts alice and erin inside B. carol and frank are not shared. A master SAE may sit anywhere in
 * its network (its keys reach the GWN by the network's own relay); a slave SAE across the border
 * is served by the GWN itself (host/interworking/README.md, Not done yet). Each GWN records what
 * crosses its border.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoNetwork, type DemoNetwork } from '../../../host/node/demo-network.js';
import { initPki, pkiPaths, createCa, issue } from '../../../host/pki/pki.js';
import { freePort } from '../../../host/bench/ports.js';
import { BorderEndpoint } from '../../../host/interworking/border/endpoint.js';
import { fingerprintOf } from '../../../host/interworking/border/pinning.js';
import { BorderFilter } from '../../../host/interworking/border/filter.js';
import { decodePayload, type IwMessage } from '../../../host/interworking/messages.js';
import { generateManagerKeys, MxiSealer, type ManagerKeys } from '../../../host/interworking/mxi/seal.js';
import { Checks } from '../../../host/interworking/conformance/cases.js';
import type { ControlConfig } from '../../../host/node/control.js';
import { startEtcd, type EtcdServer } from '../../../host/controller/central/etcd-server.js';
import { killReplica, spawnReplica, type ReplicaProcess } from '../../../host/controller/central/processes.js';

export type Form = 'distributed' | 'centralized';

export interface Provider {
  readonly id: string;
  readonly net: DemoNetwork;
  readonly gwn: string;
  readonly record: string;
  /** This provider's XLMO keys (on its GWN): a test opens the sealed Mxi messages addressed to it. */
  readonly xlmo: ManagerKeys;
  /** Everything internal to this provider: none of it may cross. */
  readonly internal: readonly string[];
}

export interface TwoProviders {
  readonly a: Provider;
  readonly b: Provider;
  readonly dir: string;
  stop(): Promise<void>;
}

const KM = { peerTimeoutMs: 20_000, relayHopTimeoutMs: 5_000 };

/**
 * Starts QKDN-A and QKDN-B (Fig 3 with both forms distributed; Figs 4, 5 with centralized ones).
 * With `squareA`, A is a square a1-a2-gwn_a-a3-a1: two internal legs from a1 to its gateway, so
 * that one can fail under a relay (Fig 10).
 */
export async function startTwoProviders(o: { readonly a?: Form; readonly b?: Form; readonly squareA?: boolean } = {}): Promise<TwoProviders> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-gwn-'));
  const idsA = o.squareA ? ['a1', 'a2', 'gwn_a', 'a3'] : ['a1', 'a2', 'gwn_a'];
  const idsB = ['gwn_b', 'b2', 'b1'];
  const [pkiA, pkiB] = await Promise.all([
    initPki(join(dir, 'a', 'pki'), { network: 'qkdn-a', nodes: [...idsA, 'ctl_a'], saes: ['alice', 'carol', 'erin'] }),
    initPki(join(dir, 'b', 'pki'), { network: 'qkdn-b', nodes: [...idsB, 'ctl_b'], saes: ['bob', 'dave', 'frank'] }),
  ]);
  const [portA, portB] = [await freePort(), await freePort()];
  const qx = { id: 'qx-ab', source: { type: 'simulated' as const, rate: 500, seed: randomBytes(32).toString('hex'), initialUnits: 2000 } };
  // Each provider's XLMO (on its GWN) has an X25519 key; each pins the other's public key (Fig 11).
  const xlmoA = generateManagerKeys('xlmo-a');
  const xlmoB = generateManagerKeys('xlmo-b');
  const keyFile = (p: 'a' | 'b', k: ManagerKeys) => {
    const f = join(dir, p, 'xlmo.pem');
    writeFileSync(f, k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    return f;
  };
  const mxi = (p: 'a' | 'b', self: ManagerKeys, peer: ManagerKeys) => ({ id: self.id, key: keyFile(p, self), peer: { id: peer.id, publicKey: Buffer.from(peer.publicKey).toString('base64url') }, reportMs: 2000 });
  const gateway = (provider: string, listen: number, peer: { provider: string; node: string; port: number; cert: string; ca: string }, foreign: string[], shared: string[], record: string, xlmo: ReturnType<typeof mxi>) => ({
    gateway: {
      provider,
      border: { host: '127.0.0.1', port: listen },
      peer: { provider: peer.provider, node: peer.node, address: `127.0.0.1:${peer.port}`, fingerprint: fingerprintOf(readFileSync(peer.cert, 'utf8')), ca: peer.ca },
      qx,
      foreignSaes: foreign,
      shared: shared.map((sae) => ({ sae, rate: 100, bits: 256 })),
      timeoutMs: 15_000,
      record,
      mxi: xlmo,
    },
  });
  const recA = join(dir, 'border-a.jsonl');
  const recB = join(dir, 'border-b.jsonl');
  const central: { etcd: EtcdServer; replica: ReplicaProcess }[] = [];
  const stopCentral = async () => {
    for (const c of central) {
      await killReplica(c.replica);
      await c.etcd.stop();
    }
  };
  // A centralized provider: its own etcd and controller replica (qkdn-edge controller), with its PKI.
  const controlOf = async (p: 'a' | 'b', form: Form | undefined, ids: string[], saes: Record<string, string>): Promise<ControlConfig | undefined> => {
    if (form === 'distributed') return { form: 'distributed' };
    if (form !== 'centralized') return undefined;
    const etcd = await startEtcd();
    const id = `ctl_${p}`;
    const port = await freePort();
    const links = ids.slice(1).map((n, i) => ({ id: `${ids[i]}~${n}`, ends: [ids[i]!, n] as [string, string] }));
    if (p === 'a' && o.squareA) links.push({ id: `${ids[ids.length - 1]}~${ids[0]}`, ends: [ids[ids.length - 1]!, ids[0]!] });
    const replica = await spawnReplica({ id, dir: join(dir, p), pki: join(dir, p, 'pki'), etcdUrl: etcd.url, prefix: `qkdn/${p}`, network: { nodes: ids, links, saes }, unitBits: 256, lowWaterUnits: 4, port });
    central.push({ etcd, replica });
    await waitFor(() => replica.has('listening') && replica.has('elected'), 60_000, `${id} listening and elected`);
    return { form: 'centralized', controllers: [{ id, endpoint: `127.0.0.1:${port}` }], reportMs: 200 };
  };
  const saesA = { alice: 'a1', carol: 'a1', erin: 'gwn_a' };
  const foreignA = { bob: 'gwn_a', dave: 'gwn_a' };
  const saesB = { bob: 'gwn_b', dave: 'b1', frank: 'b1' };
  const foreignB = { alice: 'gwn_b', erin: 'gwn_b' };
  let controlA: ControlConfig | undefined;
  let controlB: ControlConfig | undefined;
  try {
    [controlA, controlB] = await Promise.all([controlOf('a', o.a, idsA, { ...saesA, ...foreignA }), controlOf('b', o.b, idsB, { ...saesB, ...foreignB })]);
  } catch (e) {
    await stopCentral();
    throw e;
  }
  const start = (p: 'a' | 'b', ids: string[], saes: Record<string, string>, foreignSaes: Record<string, string>, gwn: string, section: Record<string, unknown>, control: ControlConfig | undefined) =>
    startDemoNetwork({ dir: join(dir, p), pkiReady: true, ids, shape: p === 'a' && o.squareA ? 'ring' : 'line', saes, foreignSaes, sections: { [gwn]: section }, km: KM, rate: 500, initialUnits: 2000, waitForKeys: false, bundle: true, ...(control ? { control } : {}) });
  const [netA, netB] = await Promise.all([
    start('a', idsA, saesA, foreignA, 'gwn_a', gateway('qkdn-a', portA, { provider: 'qkdn-b', node: 'gwn_b', port: portB, cert: pkiB.cert('KME', 'gwn_b'), ca: pkiB.ca }, ['bob', 'dave'], ['alice', 'erin'], recA, mxi('a', xlmoA, xlmoB)), controlA),
    start('b', idsB, saesB, foreignB, 'gwn_b', gateway('qkdn-b', portB, { provider: 'qkdn-a', node: 'gwn_a', port: portA, cert: pkiA.cert('KME', 'gwn_a'), ca: pkiA.ca }, ['alice', 'erin'], ['bob', 'dave'], recB, mxi('b', xlmoB, xlmoA)), controlB),
  ]).catch(async (e: unknown) => {
    await stopCentral();
    throw e;
  });
  const internalA = ['a1', 'a2', 'a1~a2', 'a2~gwn_a', 'carol', ...(o.squareA ? ['a3', 'gwn_a~a3', 'a3~a1'] : [])];
  const internalB = ['b1', 'b2', 'gwn_b~b2', 'b2~b1', 'frank'];
  const two: TwoProviders = {
    dir,
    a: { id: 'qkdn-a', net: netA, gwn: 'gwn_a', record: recA, internal: internalA, xlmo: xlmoA },
    b: { id: 'qkdn-b', net: netB, gwn: 'gwn_b', record: recB, internal: internalB, xlmo: xlmoB },
    stop: async () => {
      await Promise.all([netA.stop(), netB.stop()]);
      await stopCentral();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all([waitFor(() => synced(netA, 'gwn_a'), 60_000, 'gwn_a synced with gwn_b'), waitFor(() => synced(netB, 'gwn_b'), 60_000, 'gwn_b synced with gwn_a')]);
  } catch (e) {
    const tail = (n: DemoNetwork, g: string) => `${g}: ${JSON.stringify(n.events(g).filter((x) => x.event === 'gateway').slice(-5))} ${n.stderr(g).slice(-1500)}`;
    const detail = `${(e as Error).message}\n${tail(netA, 'gwn_a')}\n${tail(netB, 'gwn_b')}`;
    await two.stop();
    throw new Error(detail, { cause: e });
  }
  return two;
}

const synced = (net: DemoNetwork, gwn: string) => net.events(gwn).some((e) => e.event === 'gateway' && e.kind === 'peer-synced');

export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** enc_keys with retries while the master's KME is still filling its stock (503), within a deadline. */
async function encKeys(net: DemoNetwork, master: string, slave: string, number: number) {
  const c = net.client(master);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = await c.encKeys(slave, { number, size: 256 });
    if (r.status === 200 || Date.now() > deadline || r.status !== 503) return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

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
  CxiReroutePropose: ['digest'],
  CxiRerouteVote: ['digest'],
  CxiRerouteCommit: ['digest'],
  MxiSealed: ['epk', 'iv', 'ct'],
};

/** The Mxi messages a GWN sealed for the peer's XLMO, opened with that XLMO's key (only it can). */
function unsealed(from: Provider, to: Provider, rec: readonly { dir: string; msg: IwMessage }[]): IwMessage[] {
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
