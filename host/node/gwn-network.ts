/**
 * Two providers' QKD networks joined by gateway nodes (ITU-T Y.3818 clause 8.1), as real node
 * processes on loopback: `npm start`, the end-to-end tests of hil-tests/interworking/gwn and the
 * conformance runner start this same builder.
 *
 *   QKDN-A (CA qkdn-a)                                  QKDN-B (CA qkdn-b)
 *   alice, carol ─ a1 ── a2 ── gwn_a ══Qx══ gwn_b ── b2 ── b1 ─ dave, frank
 *                    └─ a3 ──┘ erin           bob
 *   shared with B: alice, erin                          shared with A: bob, dave
 *
 * Each network has its own PKI and SAE namespace; gwn_a fronts bob and dave inside A, gwn_b
 * fronts alice and erin inside B. carol and frank are not shared. a3 exists only with `squareA`
 * (A the square a1-a2-gwn_a-a3-a1: a second route inside A, for a link failure to be rerouted). A master SAE may sit anywhere in its network (its keys reach the GWN by the
 * network's own relay); a slave SAE across the border is served by the GWN itself
 * (host/interworking/README.md, Not done yet). Each GWN records what crosses its border.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoNetwork, type DemoNetwork } from './demo-network.js';
import { initPki } from '../pki/pki.js';
import { freePort } from '../bench/ports.js';
import { fingerprintOf } from '../interworking/border/pinning.js';
import { generateManagerKeys, type ManagerKeys } from '../interworking/mxi/seal.js';
import type { ControlConfig } from './control.js';
import { startEtcd, type EtcdServer } from '../controller/central/etcd-server.js';
import { killReplica, spawnReplica, type ReplicaProcess } from '../controller/central/processes.js';
import type { EtsiClient } from '../api/client.js';

export type Form = 'distributed' | 'centralized';

export interface Provider {
  readonly id: string;
  readonly net: DemoNetwork;
  readonly gwn: string;
  readonly record: string;
  /** Everything internal to this provider: none of it may cross. */
  readonly internal: readonly string[];
  /** This provider's XLMO keys (on its GWN): a test opens the sealed Mxi messages addressed to it. */
  readonly xlmo?: ManagerKeys;
  /** The links inside this provider's network ("a1-a2" pairs, as startDemoNetwork takes them). */
  readonly links: readonly string[];
  /** Where a centralized provider's controller keeps its state (null: distributed). */
  readonly store: 'etcd' | 'embedded' | null;
}

export interface TwoProviders {
  readonly a: Provider;
  readonly b: Provider;
  readonly dir: string;
  stop(): Promise<void>;
}

export interface TwoProvidersOptions {
  readonly a?: Form;
  readonly b?: Form;
  /**
   * A centralized provider's controller state: in its own etcd (default), or in the controller's
   * embedded store (a single replica, no failover), for a machine without etcd.
   */
  readonly etcd?: boolean;
  /** A is the square a1-a2-gwn_a-a3-a1: a second route inside A, for a link failure to be rerouted (Fig 10). */
  readonly squareA?: boolean;
  /** Node configuration km fields (e.g. a shorter relayHopTimeoutMs for a cut node). */
  readonly km?: Readonly<Record<string, number>>;
}

const KM = { peerTimeoutMs: 20_000, relayHopTimeoutMs: 5_000 };

/** Starts QKDN-A and QKDN-B (Fig 3 with both forms distributed; Figs 4, 5 with centralized ones). */
export async function startTwoProviders(o: TwoProvidersOptions = {}): Promise<TwoProviders> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-gwn-'));
  const idsA = ['a1', 'a2', 'gwn_a', ...(o.squareA ? ['a3'] : [])];
  const idsB = ['gwn_b', 'b2', 'b1'];
  const linksA = ['a1-a2', 'a2-gwn_a', ...(o.squareA ? ['gwn_a-a3', 'a3-a1'] : [])];
  const linksB = ['gwn_b-b2', 'b2-b1'];
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
  const central: { etcd: EtcdServer | null; replica: ReplicaProcess }[] = [];
  const stopCentral = async () => {
    for (const c of central) {
      await killReplica(c.replica);
      await c.etcd?.stop();
    }
  };
  const useEtcd = o.etcd ?? true;
  // A centralized provider: its own controller replica (qkdn-edge controller) with its PKI, and its own etcd unless embedded.
  const controlOf = async (p: 'a' | 'b', form: Form | undefined, ids: string[], links: string[], saes: Record<string, string>): Promise<ControlConfig | undefined> => {
    if (form === 'distributed') return { form: 'distributed' };
    if (form !== 'centralized') return undefined;
    const etcd = useEtcd ? await startEtcd() : null;
    const id = `ctl_${p}`;
    const port = await freePort();
    const network = { nodes: ids, links: links.map((l) => ({ id: l.replace('-', '~'), ends: l.split('-') as [string, string] })), saes };
    const replica = await spawnReplica({ id, dir: join(dir, p), pki: join(dir, p, 'pki'), ...(etcd ? { etcdUrl: etcd.url } : {}), prefix: `qkdn/${p}`, network, unitBits: 256, lowWaterUnits: 4, port });
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
    [controlA, controlB] = await Promise.all([controlOf('a', o.a, idsA, linksA, { ...saesA, ...foreignA }), controlOf('b', o.b, idsB, linksB, { ...saesB, ...foreignB })]);
  } catch (e) {
    await stopCentral();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const km = { ...KM, ...o.km };
  const start = (p: 'a' | 'b', ids: string[], links: string[], saes: Record<string, string>, foreignSaes: Record<string, string>, gwn: string, section: Record<string, unknown>, control: ControlConfig | undefined) =>
    startDemoNetwork({ dir: join(dir, p), pkiReady: true, ids, links, saes, foreignSaes, sections: { [gwn]: section }, km, rate: 500, initialUnits: 2000, waitForKeys: false, bundle: true, ...(control ? { control } : {}) });
  const [netA, netB] = await Promise.all([
    start('a', idsA, linksA, saesA, foreignA, 'gwn_a', gateway('qkdn-a', portA, { provider: 'qkdn-b', node: 'gwn_b', port: portB, cert: pkiB.cert('KME', 'gwn_b'), ca: pkiB.ca }, ['bob', 'dave'], ['alice', 'erin'], recA, mxi('a', xlmoA, xlmoB)), controlA),
    start('b', idsB, linksB, saesB, foreignB, 'gwn_b', gateway('qkdn-b', portB, { provider: 'qkdn-a', node: 'gwn_a', port: portA, cert: pkiA.cert('KME', 'gwn_a'), ca: pkiA.ca }, ['alice', 'erin'], ['bob', 'dave'], recB, mxi('b', xlmoB, xlmoA)), controlB),
  ]).catch(async (e: unknown) => {
    await stopCentral();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const internalOf = (ids: string[], links: string[], gwn: string, unshared: string) => [...ids.filter((n) => n !== gwn), ...links.map((l) => l.replace('-', '~')), unshared];
  const storeOf = (f: Form | undefined) => (f === 'centralized' ? (useEtcd ? 'etcd' : 'embedded') : null);
  const two: TwoProviders = {
    dir,
    a: { id: 'qkdn-a', net: netA, gwn: 'gwn_a', record: recA, internal: internalOf(idsA, linksA, 'gwn_a', 'carol'), links: linksA, store: storeOf(o.a), xlmo: xlmoA },
    b: { id: 'qkdn-b', net: netB, gwn: 'gwn_b', record: recB, internal: internalOf(idsB, linksB, 'gwn_b', 'frank'), links: linksB, store: storeOf(o.b), xlmo: xlmoB },
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

/**
 * enc_keys with retries while the master's KME is still filling its stock or learning routes
 * (503), within a deadline.
 */
export async function encKeysWhenReady(c: EtsiClient, slave: string, number: number, deadlineMs = 90_000): Promise<Awaited<ReturnType<EtsiClient['encKeys']>>> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const r = await c.encKeys(slave, { number, size: 256 });
    if (r.status === 200 || Date.now() > deadline || r.status !== 503) return r;
    await new Promise((res) => setTimeout(res, 250));
  }
}
