/**
 * `npm start`'s interworking part (ITU-T Y.3818), over real node processes on loopback:
 *
 * - gateway nodes (default): QKDN-A (distributed control) and QKDN-B (centralized control: its
 *   controller on etcd when installed, else on its embedded store, which it says) joined by a GWN
 *   pair (host/node/gwn-network.ts). alice in A asks her KME for keys for bob in B (ETSI GS QKD
 *   014 enc_keys), bob fetches them by key ID from his KME (dec_keys); a second fetch is refused.
 *   Then, while alice keeps asking, the node her relays go through is killed: the links on either
 *   side of it fail, the routes move to the other path, and every key alice got is bob's too.
 * - interworking node (`--model iwn`): QKDN-A (centralized) and QKDN-B (distributed) joined by one
 *   IWN hosting KM-A and KM-B (host/node/iwn-network.ts, Fig 7): the Fig 12 key transfer, then
 *   Fig 13 with bob's KME down (both controllers suspend transfer to bob, resume when it is back).
 *
 * Keys are never printed: each side's key shows as a short SHA-256 of it, beside its key ID.
 */
import { createHash } from 'node:crypto';
import { etcdBinary } from '../controller/central/etcd-server.js';
import { encKeysWhenReady, startTwoProviders, waitFor, type TwoProviders } from '../node/gwn-network.js';
import { startIwnNetwork, type IwnNetwork } from '../node/iwn-network.js';
import type { EtsiClient, EtsiKey } from '../api/client.js';

export interface InterworkingDemoOptions {
  /** Run a centralized controller on etcd when installed (default), or always on its embedded store. */
  readonly etcd?: boolean;
  /** Keys alice asks for in the first exchange. */
  readonly keys?: number;
  readonly output?: { write(text: string): unknown };
}

export interface InterworkingDemoResult {
  readonly ok: boolean;
  /** Keys the master SAE got in all (first exchange and during the reroute). */
  readonly delivered: number;
  /** Of those, how many the slave SAE did not get identically, once. */
  readonly lost: number;
  /** One line for the demo's final summary. */
  readonly summary: string;
}

/** A short digest of a key, to compare the two sides without showing either key. */
export const keyHash = (k: EtsiKey): string => createHash('sha256').update(Buffer.from(k.key, 'base64')).digest('hex').slice(0, 12);

const ms = (t0: number) => `${Math.round(performance.now() - t0)} ms`;
const s = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

type Out = { write(text: string): unknown };
const say = (out: Out, tag: string, text: string) => out.write(`  ${tag.padEnd(9)} ${text}\n`);
const more = (out: Out, text: string) => out.write(`            ${text}\n`);

/**
 * The master's keys fetched by the slave by ID, in chunks: the number the slave got identical
 * (same ID, same bytes), and whether a second fetch of the first ID is refused.
 */
async function fetchAll(slave: EtsiClient, master: string, keys: readonly EtsiKey[]): Promise<{ same: number; refusedAgain: number }> {
  let same = 0;
  for (let i = 0; i < keys.length; i += 16) {
    const chunk = keys.slice(i, i + 16);
    const dec = await slave.decKeys(master, chunk.map((k) => k.key_ID));
    if (dec.status !== 200) continue;
    same += chunk.filter((k, j) => dec.body.keys[j]?.key_ID === k.key_ID && dec.body.keys[j]?.key === k.key).length;
  }
  const again = keys.length > 0 ? await slave.decKeys(master, [keys[0]!.key_ID]) : null;
  return { same, refusedAgain: again?.status ?? 0 };
}

/** One exchange shown in full: enc_keys at the master's KME, dec_keys by ID at the slave's, the second fetch. */
async function exchange(out: Out, m: { client: EtsiClient; sae: string; kme: string; net: string }, sl: { client: EtsiClient; sae: string; kme: string; net: string }, number: number): Promise<{ keys: EtsiKey[]; same: boolean; refused: boolean }> {
  let t0 = performance.now();
  const enc = await encKeysWhenReady(m.client, sl.sae, number);
  if (enc.status !== 200) throw new Error(`enc_keys at ${m.kme}: ${enc.status} ${enc.raw}`);
  say(out, 'enc_keys', `${m.sae} (${m.net}) asked ${m.kme} for ${number} keys for ${sl.sae} (${sl.net}): 200 in ${ms(t0)}`);
  t0 = performance.now();
  const dec = await sl.client.decKeys(m.sae, enc.body.keys.map((k) => k.key_ID));
  if (dec.status !== 200) throw new Error(`dec_keys at ${sl.kme}: ${dec.status} ${dec.raw}`);
  say(out, 'dec_keys', `${sl.sae} (${sl.net}) asked ${sl.kme} for them by key ID: 200 in ${ms(t0)}`);
  let same = dec.body.keys.length === enc.body.keys.length;
  for (const [i, k] of enc.body.keys.entries()) {
    const other = dec.body.keys[i];
    const ok = other !== undefined && other.key_ID === k.key_ID && other.key === k.key;
    same &&= ok;
    more(out, `key ${k.key_ID}  ${m.sae} sha256 ${keyHash(k)}…  ${sl.sae} sha256 ${other ? keyHash(other) : '-'}…  ${ok ? 'same key' : 'DIFFERENT'}`);
  }
  const again = await sl.client.decKeys(m.sae, [enc.body.keys[0]!.key_ID]);
  const refused = again.status >= 400 && again.status < 500;
  say(out, 'again', `${sl.sae} asks for key ${enc.body.keys[0]!.key_ID.slice(0, 8)}… a second time: ${refused ? `refused, ${again.status}` : `NOT REFUSED (${again.status})`} (${(again.body as unknown as { message?: string }).message ?? again.raw})`);
  return { keys: enc.body.keys, same, refused };
}

type RelayLine = { event: string; route?: string[]; outcome?: string };

const encOne = (c: EtsiClient, slave: string) => c.encKeys(slave, { number: 1 });

/** The gateway model: Figs 4 and 9-10 in one run. */
export async function runGwnDemo(o: InterworkingDemoOptions = {}): Promise<InterworkingDemoResult> {
  const out = o.output ?? process.stdout;
  const useEtcd = (o.etcd ?? true) && etcdBinary() !== null;
  out.write('\nInterworking (ITU-T Y.3818), gateway nodes: two providers\u2019 QKD networks joined at their border (Fig 4)\n');
  say(out, 'QKDN-A', 'distributed control (a controller in every node, signed link-state flooding): alice ─ a1 ─ a2 ─ gwn_a, and a1 ─ a3 ─ gwn_a');
  say(out, 'QKDN-B', `centralized control (qkdn-edge controller ctl_b): gwn_b ─ b2 ─ b1 ─ dave; ${useEtcd ? 'controller state in etcd' : o.etcd === false ? 'controller on its embedded store (--no-etcd)' : 'no etcd on this machine: the controller runs on its embedded in-memory store (no replication or failover; apt-get install etcd-server for both)'}`);
  say(out, 'border', 'gwn_a ══ Qx ══ gwn_b: each provider its own CA, the peer GWN pinned by certificate; A shares alice and erin, B shares bob and dave');
  out.write('  starting  two PKIs, controller ctl_b, 7 node processes; then the GWNs synchronise their Qx keys …\n');
  const t0 = performance.now();
  let two: TwoProviders | null = null;
  try {
    // A cut node refuses connections at once; a relay already inside it fails after the hop timeout (5 s).
    two = await startTwoProviders({ a: 'distributed', b: 'centralized', etcd: useEtcd, squareA: true });
    say(out, 'started', `${two.a.net.nodes.length + two.b.net.nodes.length} node processes and controller ctl_b${useEtcd ? ' with its etcd' : ''} in ${s(t0)}; the GWNs synchronised their Qx keys`);
    const A = two.a.net;
    const B = two.b.net;
    const alice = A.client('alice');
    const bob = B.client('bob');
    const first = await exchange(out, { client: alice, sae: 'alice', kme: 'a1', net: 'QKDN-A' }, { client: bob, sae: 'bob', kme: 'gwn_b', net: 'QKDN-B' }, o.keys ?? 2);
    // The other way, through B's centralized routing: dave's keys go b1 → b2 → gwn_b and across.
    const back = await encKeysWhenReady(B.client('dave'), 'erin', 1);
    const backDec = back.status === 200 ? await A.client('erin').decKeys('dave', back.body.keys.map((k) => k.key_ID)) : null;
    const backSame = backDec?.status === 200 && backDec.body.keys[0]?.key === back.body.keys[0]?.key;
    const backRoute = (B.events('b1').filter((e) => e.event === 'relay' && (e as RelayLine).outcome === 'completed').at(-1) as RelayLine | undefined)?.route;
    say(out, 'reverse', `dave (QKDN-B) → erin (QKDN-A): route ${backRoute?.join(' → ') ?? '?'} from ctl_b, then across; key ${back.body.keys[0]?.key_ID.slice(0, 8) ?? '-'}… ${backSame ? `sha256 ${keyHash(back.body.keys[0]!)}… at both` : 'NOT THE SAME at both'}`);

    // Link failure inside QKDN-A: the node alice's relays go through is killed while she keeps asking.
    const relays = () => A.events('a1').filter((e) => e.event === 'relay') as unknown as RelayLine[];
    const lastRoute = relays().filter((r) => r.outcome === 'completed').at(-1)?.route ?? ['a1', 'a2', 'gwn_a'];
    const cut = lastRoute[1]!;
    const other = cut === 'a2' ? 'a3' : 'a2';
    const delivered: EtsiKey[] = [...first.keys];
    const statuses: number[] = [];
    let cutAt = 0;
    let afterCut = 0;
    let firstAfterMs = 0;
    const worker = async () => {
      for (let i = 0; i < 60 && afterCut < 6; i++) {
        const r = await encOne(alice, 'bob');
        statuses.push(r.status);
        if (r.status === 200) {
          delivered.push(...r.body.keys);
          if (cutAt > 0) {
            afterCut++;
            firstAfterMs ||= performance.now() - cutAt;
          }
        } else await new Promise((res) => setTimeout(res, 200));
      }
    };
    say(out, 'relays', `alice keeps asking for keys for bob (2 clients); her relays go ${lastRoute.join(' → ')}`);
    // Held until Promise.all below: a worker that throws must not be an unhandled rejection meanwhile.
    const workers = [worker(), worker()].map((w) => w.then(() => null, (e: unknown) => e));
    await waitFor(() => delivered.length >= first.keys.length + 4, 60_000, 'relays flowing');
    const before = relays().length;
    await A.kill(cut);
    cutAt = performance.now();
    const cutLinks = two.a.links.filter((l) => l.split('-').includes(cut)).map((l) => l.replace('-', '~'));
    say(out, 'cut', `${cut} killed (SIGKILL) while alice's relays run: links ${cutLinks.join(' and ')} fail`);
    const thrown = (await Promise.all(workers)).find((e) => e !== null);
    if (thrown) throw thrown;
    const after = relays().slice(before);
    const moved = after.filter((r) => r.outcome === 'completed' && r.route?.[1] === other).length;
    const failed = after.filter((r) => r.outcome !== 'completed').length;
    const refusedCleanly = statuses.filter((x) => x === 503).length;
    const odd = statuses.filter((x) => x !== 200 && x !== 503).length;
    say(out, 'reroute', `A's controllers flooded the change; relays now go a1 → ${other} → gwn_a: ${moved} completed after the cut (the first ${(firstAfterMs / 1000).toFixed(1)} s after it)`);
    const caught = failed === 0 ? 'no relay attempt was caught by the cut' : `${failed} relay attempt(s) caught by the cut ended without a key${refusedCleanly === 0 ? ' and a1 tried again on the new route' : ''}`;
    const answered = refusedCleanly === 0 ? 'every request of alice answered with keys' : `${refusedCleanly} request(s) of alice answered 503 (no key handed out) and asked again`;
    more(out, `${caught}; ${answered}${odd > 0 ? `; ${odd} OTHER ANSWERS` : ''}`);
    const check = await fetchAll(bob, 'alice', delivered.slice(first.keys.length));
    const lost = delivered.length - first.keys.length - check.same;
    say(out, 'checked', `bob fetched by key ID every one of the ${delivered.length - first.keys.length} keys alice got during the cut: ${check.same} identical, each once (again: ${check.refusedAgain}); keys lost ${lost}`);
    const ok = first.same && first.refused && backSame && moved > 0 && lost === 0 && odd === 0;
    const summary = `gateway nodes: alice (QKDN-A) and bob (QKDN-B) got the same keys across the border, a second fetch refused; ${cut} cut, relays rerouted via ${other}, ${delivered.length} keys delivered, ${lost} lost`;
    return { ok, delivered: delivered.length, lost, summary };
  } finally {
    await two?.stop();
  }
}

/** The interworking-node model: Figs 7, 12 and 13 in one run. */
export async function runIwnDemo(o: InterworkingDemoOptions = {}): Promise<InterworkingDemoResult> {
  const out = o.output ?? process.stdout;
  const useEtcd = (o.etcd ?? true) && etcdBinary() !== null;
  out.write('\nInterworking (ITU-T Y.3818), interworking node: one trusted node between two providers\u2019 QKD networks (Fig 7)\n');
  say(out, 'QKDN-A', `centralized control (qkdn-edge controller ctl-a): alice ─ a1 ─ iwn-a; ${useEtcd ? 'controller state in etcd' : o.etcd === false ? 'controller on its embedded store (--no-etcd)' : 'no etcd on this machine: the controller runs on its embedded in-memory store (no replication or failover; apt-get install etcd-server for both)'}`);
  say(out, 'QKDN-B', 'distributed control: iwn-b ─ b1 ─ bob');
  say(out, 'IWN', "one process hosting KM-A (a node of QKDN-A: its store, A's certificates) and KM-B (likewise in B), both controllers' and managers' interworking functions; no QKD link inside it");
  out.write('  starting  two PKIs, controller ctl-a, a1, b1 and the IWN …\n');
  const t0 = performance.now();
  let net: IwnNetwork | null = null;
  try {
    net = await startIwnNetwork({ configuration: 7, etcd: useEtcd });
    say(out, 'started', `a1, b1, the IWN and controller ctl-a${useEtcd ? ' with its etcd' : ''} in ${s(t0)}`);
    const n = net;
    const bobReachable = () => n.waitFor('status-shared', (e) => e.controller === 'controller-qkdn-b' && (e.saes as { sae: string; reachable: boolean }[]).some((x) => x.sae === 'bob' && x.reachable));
    await bobReachable();
    say(out, 'Cxi\'', 'controller-B shares its status with controller-A: bob reachable through KM-B with stock');
    const since = n.mark();
    const first = await exchange(out, { client: n.alice, sae: 'alice', kme: 'a1', net: 'QKDN-A' }, { client: n.bob, sae: 'bob', kme: 'b1', net: 'QKDN-B' }, o.keys ?? 2);
    const admitted = await n.waitFor('transfer-admitted', (e) => e.controller === 'controller-qkdn-a', { since });
    say(out, 'Fig 12', `controller-A admitted the transfer on link ${String(admitted.link)}; KM-A sent the keys one-time padded to KM-B (Kxi-1'), which handed them over to b1`);

    // Fig 13: bob's KME goes down; both controllers suspend transfer towards bob, then resume.
    const mark = n.mark();
    await n.stopNode('b1');
    say(out, 'fault', "b1 (bob's KME) stopped");
    const refused = await encOne(n.alice, 'bob');
    await n.waitFor('reroute-decision', (e) => e.controller === 'controller-qkdn-b' && e.action === 'suspend', { since: mark });
    await n.waitFor('reroute-decision', (e) => e.controller === 'controller-qkdn-a' && e.action === 'suspend', { since: mark });
    say(out, 'Fig 13', `KM-B's hand-over failed (alice answered ${refused.status}, no key handed out); controller-B suspended transfer towards bob, controller-A did the same on its status`);
    const whileDown = await encOne(n.alice, 'bob');
    more(out, `while suspended alice's request is refused at once: ${whileDown.status}`);
    await n.restartNode('b1');
    await n.waitFor('reroute-decision', (e) => e.controller === 'controller-qkdn-b' && e.action === 'resume', { since: mark });
    await n.waitFor('reroute-decision', (e) => e.controller === 'controller-qkdn-a' && e.action === 'resume', { since: mark });
    say(out, 'resume', 'b1 back: KM-B voided what it held for it, both controllers resumed transfer towards bob');
    await bobReachable();
    const later: EtsiKey[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await encKeysWhenReady(n.alice, 'bob', 1, 30_000);
      if (r.status === 200) later.push(...r.body.keys);
    }
    const check = await fetchAll(n.bob, 'alice', later);
    const lost = later.length - check.same;
    say(out, 'checked', `alice got ${later.length} more keys for bob; bob fetched them by key ID: ${check.same} identical, each once (again: ${check.refusedAgain}); keys lost ${lost}`);
    const ok = first.same && first.refused && refused.status !== 200 && whileDown.status !== 200 && later.length === 3 && lost === 0;
    const delivered = first.keys.length + later.length;
    const summary = `interworking node: alice (QKDN-A) and bob (QKDN-B) got the same keys through the IWN, a second fetch refused; bob's KME down, transfer suspended and resumed by both controllers, ${delivered} keys delivered, ${lost} lost`;
    return { ok, delivered, lost, summary };
  } finally {
    await net?.stop();
  }
}
