/**
 * The procedures of Y.3818 clause 9.1 Figs 10 and 11 on two providers started by scenarios.ts
 * (with `squareA`: QKDN-A is a square a1-a2-gwn_a-a3-a1, so a relay's internal leg can fail and
 * another remain). Each counts its checks and throws on the first that fails; the end-to-end test
 * and the conformance runner both run them.
 */
import type { EtsiKey } from '../../../host/api/client.js';
import type { Checks } from '../../../host/interworking/conformance/cases.js';
import type { DemoNetwork } from '../../../host/node/demo-network.js';
import { waitFor, type Provider, type TwoProviders } from './scenarios.js';

type Event = Readonly<Record<string, unknown>>;

const gatewayEvents = (p: Provider, kind: string): Event[] => p.net.events(p.gwn).filter((e) => e.event === 'gateway' && e.kind === kind);

interface Exchange {
  readonly delivered: EtsiKey[];
  readonly statuses: number[];
  readonly raws: string[];
}

/** Keys alice (A) asks for bob (B), recorded. */
async function ask(net: DemoNetwork, x: Exchange): Promise<number> {
  const r = await net.client('alice').encKeys('bob', { number: 1, size: 256 });
  x.statuses.push(r.status);
  if (r.status === 200) x.delivered.push(...r.body.keys);
  else x.raws.push(r.raw);
  return r.status;
}

/** Every key alice got, fetched by bob from his own KME: the same bytes under the same IDs, each once. */
async function bothEnds(two: TwoProviders, c: Checks, x: Exchange): Promise<void> {
  const ids = x.delivered.map((k) => k.key_ID);
  c.equal(new Set(ids).size, ids.length, 'no key ID delivered twice to alice');
  c.equal(new Set(x.delivered.map((k) => k.key)).size, ids.length, 'no two keys alike');
  const bob = two.b.net.client('bob');
  for (let i = 0; i < ids.length; i += 16) {
    const chunk = x.delivered.slice(i, i + 16);
    const dec = await bob.decKeys('alice', chunk.map((k) => k.key_ID));
    c.equal(dec.status, 200, `bob dec_keys: ${dec.raw}`);
    c.equal(dec.body.keys, chunk, 'bob gets the identical keys alice got');
  }
  if (ids.length > 0) {
    const again = await bob.decKeys('alice', [ids[0]!]);
    c.that(again.status >= 400 && again.status < 500, `a key is delivered to bob once (second fetch ${again.status})`);
  }
}

/**
 * Waits for a rerouting round not among `before` pushed at both GWNs; checks they pushed the same
 * digest in the same round. (Rounds are told apart by ID: a node's event buffer is bounded.)
 */
async function agreedPush(two: TwoProviders, c: Checks, before: ReadonlySet<unknown>, what: string): Promise<Event> {
  const fresh = (p: Provider) => gatewayEvents(p, 'reroute-pushed').filter((e) => !before.has(e.round));
  await waitFor(() => fresh(two.a).length > 0 && fresh(two.b).length > 0, 60_000, `both controllers to push the rerouting after ${what}`);
  const pa = fresh(two.a).at(-1)!;
  const pb = fresh(two.b).find((e) => e.round === pa.round) ?? fresh(two.b).at(-1)!;
  c.equal([pa.round, pa.digest, pa.steps], [pb.round, pb.digest, pb.steps], `after ${what}: both controllers pushed the same plan (round, digest, steps) to their KMs`);
  c.that(typeof pa.digest === 'string' && pa.digest.length === 64, 'the commands agree on a SHA-256 digest');
  return pa;
}

const pushes = (two: TwoProviders): ReadonlySet<unknown> => new Set([...gatewayEvents(two.a, 'reroute-pushed'), ...gatewayEvents(two.b, 'reroute-pushed')].map((e) => e.round));

/**
 * Fig 10, key generation and rerouting control: each GWN's controller collects its status and
 * shares it over Cxi (only the Qx link and the shared SAEs); the internal node carrying the
 * internal leg of alice's relays to gwn_a is killed while alice keeps asking for keys for bob;
 * both controllers agree on the rerouting (same round and digest) before their KMs act; supply
 * goes on over the other leg; every key alice got, bob gets identically, once; every answer is a
 * 200 or a clean 503. Then a link in B fails (b2 killed): B's controller proposes, A's votes,
 * both push the same plan again, and alice and bob still get keys.
 */
export async function keyGenerationRerouting(two: TwoProviders, c: Checks): Promise<{ keys: Buffer[] }> {
  await waitFor(() => gatewayEvents(two.a, 'cxi-status-received').length > 0 && gatewayEvents(two.b, 'cxi-status-received').length > 0, 30_000, 'each controller to receive the peer’s status');
  for (const [p, peer, shared] of [
    [two.b, two.a, ['alice', 'erin']],
    [two.a, two.b, ['bob', 'dave']],
  ] as const) {
    const st = gatewayEvents(p, 'cxi-status-received').at(-1)!;
    const saes = st.saes as { sae: string; reachable: boolean; stock: number }[];
    c.equal(st.from, peer.id, `${p.gwn} holds ${peer.id}'s status`);
    c.equal(saes.map((s) => s.sae).sort(), [...shared].sort(), `${peer.id}'s status names only the SAEs it shares`);
    c.equal((st.borders as { qx: string }[]).map((b) => b.qx), ['qx-ab'], `${peer.id}'s status names only its Qx link`);
    await waitFor(() => gatewayEvents(p, 'cxi-summary-received').length > 0, 30_000, `${p.gwn} to receive ${peer.id}'s topology summary`);
    const sum = gatewayEvents(p, 'cxi-summary-received').at(-1)!;
    c.equal(sum.borders, [peer.gwn], `${peer.id}'s topology summary names its border node only`);
  }
  // Relays from alice (a1) to bob across the border; find the internal leg they take.
  const x: Exchange = { delivered: [], statuses: [], raws: [] };
  const relays = () => two.a.net.events('a1').filter((e) => e.event === 'relay' && e.outcome === 'completed') as unknown as { route: string[] }[];
  await waitFor(async () => (await ask(two.a.net, x)) === 200 && relays().length > 0, 120_000, 'a first key for alice with bob');
  const leg = relays().at(-1)!.route;
  const victim = leg[1]!;
  c.that(leg.length === 3 && leg[2] === 'gwn_a' && (victim === 'a2' || victim === 'a3'), `alice's keys reach gwn_a over an internal leg (${leg.join('-')})`);
  let stop = false;
  let pushedAt = Infinity;
  let after = 0;
  const worker = async () => {
    while (!stop) {
      const s = await ask(two.a.net, x);
      if (s === 200 && Date.now() > pushedAt) after++;
      if (s !== 200) await new Promise((r) => setTimeout(r, 200));
    }
  };
  const workers = [worker(), worker(), worker()];
  try {
    await waitFor(() => x.delivered.length >= 5, 120_000, 'keys flowing from alice to bob');
    const before = pushes(two);
    await two.a.net.kill(victim);
    const p = await agreedPush(two, c, before, `${victim} failed in ${two.a.id}`);
    pushedAt = Date.now();
    c.that(Number(p.steps) >= 1, 'the plan carries the route from alice to bob');
    c.that(gatewayEvents(two.a, 'reroute-trigger').some((e) => Number(e.links) > 0), `${two.a.gwn}'s controller saw its link fail and proposed`);
    await waitFor(() => after >= 4, 90_000, 'supply from alice to bob after the rerouting');
  } finally {
    stop = true;
    await Promise.all(workers);
  }
  c.that(
    x.statuses.every((s) => s === 200 || s === 503),
    `every answer a 200 or a clean 503 (${[...new Set(x.statuses)].join(',')})`,
  );
  c.that(
    x.raws.every((r) => /ERR_/.test(r)),
    'every 503 names its cause',
  );
  await bothEnds(two, c, x);
  // A link fails in B: its controller proposes, A's votes; the route alice-bob stays up.
  const before = pushes(two);
  await two.b.net.kill('b2');
  await agreedPush(two, c, before, `b2 failed in ${two.b.id}`);
  c.that(gatewayEvents(two.b, 'reroute-trigger').some((e) => Number(e.links) > 0), `${two.b.gwn}'s controller saw its link fail and proposed`);
  const y: Exchange = { delivered: [], statuses: [], raws: [] };
  await waitFor(async () => (await ask(two.a.net, y)) === 200, 60_000, 'a key for alice with bob after the failure in B');
  await bothEnds(two, c, y);
  return { keys: [...x.delivered, ...y.delivered].map((k) => Buffer.from(k.key, 'base64')) };
}

/**
 * Fig 11, fault management of interworking relay failure: alice asks for keys with dave, whose
 * KM (b1) is down: the crossing fails at gwn_a; KMLM-A reports
 * it to XLMO-A, which sends it sealed to XLMO-B; both diagnose it and their QCLMs decide (the same
 * action); XLMO-A's packed performance (every layer) and security reports reach XLMO-B, which
 * unseals them.
 */
export async function faultManagement(two: TwoProviders, c: Checks): Promise<void> {
  // A supply that crosses, for the accounting; then dave's KM goes down.
  const x: Exchange = { delivered: [], statuses: [], raws: [] };
  await waitFor(async () => (await ask(two.a.net, x)) === 200, 90_000, 'a key for alice with bob');
  await bothEnds(two, c, x);
  await two.b.net.kill('b1');
  const faults = new Set(gatewayEvents(two.a, 'mxi-fault').map((e) => e.fault));
  const newFault = () => gatewayEvents(two.a, 'mxi-fault').filter((e) => e.direction === 'sent' && !faults.has(e.fault));
  const r = await two.a.net.client('alice').encKeys('dave', { number: 1, size: 256 });
  c.that(r.status >= 400, `alice gets no key with dave, whom ${two.b.id} cannot reach (${r.status})`);
  await waitFor(() => newFault().length > 0, 30_000, 'KMLM-A to report the relay failure to XLMO-A, and XLMO-A to send it');
  c.that(gatewayEvents(two.a, 'kmlm-relay-failure').length > 0, 'KMLM-A reported the failed interworking relay');
  const sent = newFault().at(-1)!;
  c.that(/^interworking-relay: ERR_KM_/.test(String(sent.detail)), `XLMO-A sent the failed step and its status only (${String(sent.detail)})`);
  await waitFor(() => gatewayEvents(two.b, 'mxi-fault').some((e) => e.fault === sent.fault), 30_000, 'XLMO-B to receive the fault');
  c.that(true, 'XLMO-B received the same fault, sealed end to end');
  await waitFor(() => gatewayEvents(two.b, 'qclm-decision').some((e) => e.fault === sent.fault), 30_000, 'QCLM-B to decide');
  const da = gatewayEvents(two.a, 'qclm-decision').find((e) => e.fault === sent.fault);
  const db = gatewayEvents(two.b, 'qclm-decision').find((e) => e.fault === sent.fault)!;
  c.that(!!da && da.scope === 'local' && db.scope === 'peer', 'both XLMOs diagnosed it (A: its own side, B: the peer’s) and reported to their QCLM');
  c.equal([da!.cause, da!.action], [db.cause, db.action], 'both QCLMs decided the same on the same diagnosis');
  const t = Date.now();
  const fresh = (m: string) => gatewayEvents(two.b, 'mxi-report').filter((e) => e.message === m && Number(e.to) >= t);
  await waitFor(() => fresh('MxiPerformanceBundle').length > 0 && fresh('MxiSecurityReport').length > 0, 30_000, 'XLMO-A’s packed reports at XLMO-B');
  const layers = fresh('MxiPerformanceBundle').at(-1)!.layers as string[];
  c.that(['KML:border', 'QL:qx-ab', 'control:border'].every((l) => layers.includes(l)), `the performance bundle packs every layer (${layers.join(', ')})`);
  c.that(fresh('MxiSecurityReport').length > 0, 'XLMO-B received and unsealed the security report');
  c.that(
    gatewayEvents(two.b, 'mxi-report').some((e) => e.message === 'MxiAccounting'),
    'XLMO-B received the accounting of cross-border keys',
  );
}
