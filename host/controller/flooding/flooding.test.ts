import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initPki, type PkiPaths } from '../../pki/pki.js';
import { eventually } from '../../km/test-network.js';
import { freePort } from '../../bench/ports.js';
import { FloodingNode } from './flooding.js';
import { OriginKeys, signer } from './origin-keys.js';
import { signedBytes, type AdvertisedLink, type LinkStateAdvertisement } from './link-state-advertisement.js';
import { ControlChannel, type Endpoint } from '../channel.js';
import { ControllerView, type NetworkConfig } from '../view.js';
import { computeRoute } from '../router.js';

// A square A-B-C-D with a spur C-E: A to C has two equal routes, via B (preferred by ID) and via D.
const CONFIG: NetworkConfig = {
  nodes: ['A', 'B', 'C', 'D', 'E'],
  links: [
    { id: 'A~B', ends: ['A', 'B'] },
    { id: 'B~C', ends: ['B', 'C'] },
    { id: 'C~D', ends: ['C', 'D'] },
    { id: 'A~D', ends: ['A', 'D'] },
    { id: 'C~E', ends: ['C', 'E'] },
  ],
  saes: {},
};
const UNIT = 256;

interface Node {
  id: string;
  flood: FloodingNode;
  view: ControllerView;
  links: Map<string, AdvertisedLink>;
}

interface Net {
  dir: string;
  paths: PkiPaths;
  ca: string;
  endpoints: Map<string, Endpoint>;
  nodes: Map<string, Node>;
  close(): Promise<void>;
}

const tlsOf = (paths: PkiPaths, ca: string, id: string) => ({ ca, cert: readFileSync(paths.cert('KME', id), 'utf8'), key: readFileSync(paths.key('KME', id), 'utf8') });

async function startNet(): Promise<Net> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-flood-'));
  const paths = await initPki(join(dir, 'pki'), { nodes: [...CONFIG.nodes, 'Z'], saes: [] });
  const ca = readFileSync(paths.ca, 'utf8');
  const origins = OriginKeys.fromFiles(paths.ca, new Map(CONFIG.nodes.map((n) => [n, paths.cert('KME', n)])));
  const endpoints = new Map<string, Endpoint>();
  for (const n of CONFIG.nodes) endpoints.set(n, { host: '127.0.0.1', port: await freePort() });
  const nodes = new Map<string, Node>();
  for (const id of CONFIG.nodes) {
    const mine = CONFIG.links.filter((l) => l.ends.includes(id));
    const links = new Map<string, AdvertisedLink>(
      mine.map((l) => [l.id, { link: l.id, peer: l.ends[0] === id ? l.ends[1] : l.ends[0], status: 'ACTIVE', skr: 1000, eskr: 1000, qber: 0.02, qberAlarm: false, stockBits: 100 * UNIT, consumptionBps: 0 }]),
    );
    const neighbours = new Map(mine.map((l) => (l.ends[0] === id ? l.ends[1] : l.ends[0])).map((p) => [p, endpoints.get(p)!]));
    const flood = new FloodingNode({ nodeId: id, tls: tlsOf(paths, ca, id), listen: endpoints.get(id)!, neighbours, origins, sign: signer(readFileSync(paths.key('KME', id))), localLinks: () => [...links.values()], refreshMs: 60_000 });
    const view = new ControllerView({ unitBits: UNIT, lowWaterUnits: 4 });
    view.configure(CONFIG, 1);
    flood.on('lsdb', () => flood.applyTo(view));
    nodes.set(id, { id, flood, view, links });
  }
  for (const n of nodes.values()) await n.flood.start();
  return {
    dir,
    paths,
    ca,
    endpoints,
    nodes,
    close: async () => {
      for (const n of nodes.values()) await n.flood.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const routeAt = (n: Node, from = 'A', to = 'C') => {
  try {
    return computeRoute(n.view, { relayId: 'r', from, to, units: 4, deadline: Date.now() + 60_000, priority: 0, attempt: 0, avoidLinks: [] }).nodes.join('-');
  } catch {
    return 'none';
  }
};

let net: Net;
test.before(async () => {
  net = await startNet();
  await eventually(() => [...net.nodes.values()].every((n) => n.flood.entries().length === CONFIG.nodes.length), 20_000, 'every node holding every advertisement');
});
test.after(async () => net.close());

test('every node learns every advertisement and computes the same route', () => {
  for (const n of net.nodes.values()) assert.is(routeAt(n), 'A-B-C', n.id);
  for (const n of net.nodes.values()) assert.is(n.flood.counters.badSignature + n.flood.counters.unknownOrigin + n.flood.counters.stale, 0, n.id);
});

test('a link cut at one end reaches every node after the hold-down and every node moves the route', async () => {
  const b = net.nodes.get('B')!;
  b.links.set('B~C', { ...b.links.get('B~C')!, status: 'OFF' });
  b.flood.changed();
  await eventually(() => [...net.nodes.values()].every((n) => routeAt(n) === 'A-D-C'), 20_000, 'every node routing A-D-C');
  // A drop in stock under need + low water works the same way.
  const d = net.nodes.get('D')!;
  d.links.set('A~D', { ...d.links.get('A~D')!, stockBits: 5 * UNIT });
  d.flood.changed();
  await eventually(() => [...net.nodes.values()].every((n) => routeAt(n) === 'none'), 20_000, 'no node routing A to C');
  b.links.set('B~C', { ...b.links.get('B~C')!, status: 'ACTIVE' });
  b.flood.changed();
  await eventually(() => [...net.nodes.values()].every((n) => routeAt(n) === 'A-B-C'), 20_000, 'every node routing A-B-C again');
});

test('a forged advertisement, an unknown origin and a replayed old one are refused, counted and change no route', async () => {
  const c = net.nodes.get('C')!;
  const captured = c.flood.entry('A')!;
  // A's newer advertisement supersedes the captured one everywhere.
  net.nodes.get('A')!.flood.changed();
  await eventually(() => (c.flood.entry('A')?.seq ?? 0) > captured.seq, 20_000, "A's next advertisement at C");

  // The attacker holds E's node key (a neighbour of C) and claims A's links are all down.
  const eSign = signer(readFileSync(net.paths.key('KME', 'E')));
  const forgedBody = { origin: 'A', seq: captured.seq + 10_000_000, links: captured.links.map((l) => ({ ...l, status: 'OFF' as const })) };
  const forged: LinkStateAdvertisement = { ...forgedBody, age: 0, sig: eSign(signedBytes(forgedBody)) };
  const unknownBody = { origin: 'Z', seq: 1, links: [] };
  const unknown: LinkStateAdvertisement = { ...unknownBody, age: 0, sig: signer(readFileSync(net.paths.key('KME', 'Z')))(signedBytes(unknownBody)) };
  const attacker = new ControlChannel({ nodeId: 'E', tls: tlsOf(net.paths, net.ca, 'E'), accept: () => false, onRequest: () => ({ name: 'Ack', body: { status: 'ok' } }) });
  const before = { ...c.flood.counters };
  const send = async (lsa: LinkStateAdvertisement) => {
    const a = await attacker.request('C', net.endpoints.get('C')!, 'LinkStateAdvertisement', lsa, 10_000);
    return a.name === 'Ack' ? a.body.status : a.name;
  };
  try {
    assert.is(await send(forged), 'ERR_CTL_LSA_SIGNATURE');
    assert.is(await send(unknown), 'ERR_CTL_LSA_UNKNOWN_ORIGIN');
    assert.is(await send(captured), 'ERR_CTL_LSA_STALE');
  } finally {
    await attacker.close();
  }
  assert.is(c.flood.counters.badSignature, before.badSignature + 1);
  assert.is(c.flood.counters.unknownOrigin, before.unknownOrigin + 1);
  assert.is(c.flood.counters.stale, before.stale + 1);
  assert.ok((c.flood.entry('A')?.seq ?? 0) < forged.seq, 'the forged sequence number was not installed');
  for (const n of net.nodes.values()) assert.is(routeAt(n), 'A-B-C', n.id);

  // A node certificate that is not a neighbour's cannot even connect.
  const stranger = new ControlChannel({ nodeId: 'A', tls: tlsOf(net.paths, net.ca, 'A'), accept: () => false, onRequest: () => ({ name: 'Ack', body: { status: 'ok' } }) });
  try {
    await stranger.request('C', net.endpoints.get('C')!, 'LinkStateAdvertisement', captured, 5000).then(
      () => assert.unreachable('C answered a non-neighbour'),
      (e: unknown) => assert.is((e as { code?: string }).code, 'ERR_CTL_UNREACHABLE'),
    );
  } finally {
    await stranger.close();
  }
});

test('a partition that heals: each part keeps routing on what it sees, and every view converges once the parts reconnect', async () => {
  const n = (id: string) => net.nodes.get(id)!;
  const neighboursOf = (id: string) => new Map(CONFIG.links.filter((l) => l.ends.includes(id)).map((l) => (l.ends[0] === id ? l.ends[1] : l.ends[0])).map((p) => [p, net.endpoints.get(p)!]));
  const without = (id: string, peer: string) => new Map([...neighboursOf(id)].filter(([p]) => p !== peer));
  // From a known state: every link holding stock, A to C via B everywhere.
  n('D').links.set('A~D', { ...n('D').links.get('A~D')!, stockBits: 100 * UNIT });
  n('D').flood.changed(true);
  await eventually(() => [...net.nodes.values()].every((x) => routeAt(x) === 'A-B-C' && x.view.stockUnits('A~D') === 100), 20_000, 'every node routing A-B-C over full links');
  // {A, B} | {C, D, E}: the adjacencies B~C and A~D go down at both ends (connections closed, reconnections refused).
  n('B').flood.setNeighbours(without('B', 'C'));
  n('C').flood.setNeighbours(without('C', 'B'));
  n('A').flood.setNeighbours(without('A', 'D'));
  n('D').flood.setNeighbours(without('D', 'A'));
  const seqAt = (at: string, origin: string) => n(at).flood.entry(origin)?.seq ?? 0;
  // Meanwhile E's link and B's link to A drain: each part learns only its own news.
  const eBefore = seqAt('A', 'E');
  const bBefore = seqAt('E', 'B');
  n('E').links.set('C~E', { ...n('E').links.get('C~E')!, stockBits: 2 * UNIT });
  n('E').flood.changed();
  n('B').links.set('A~B', { ...n('B').links.get('A~B')!, stockBits: 2 * UNIT });
  n('B').flood.changed();
  await eventually(() => ['C', 'D'].every((id) => routeAt(n(id), 'D', 'E') === 'none') && routeAt(n('A')) === 'A-D-C', 20_000, 'each part learning its own news');
  await new Promise((r) => setTimeout(r, 500)); // time for news to leak across, if it could
  assert.is(seqAt('A', 'E'), eBefore, "E's news did not cross the partition");
  assert.is(seqAt('E', 'B'), bBefore, "B's news did not cross the partition");
  assert.is(routeAt(n('A'), 'D', 'E'), 'D-C-E', 'A still routes on what it last saw of E');
  assert.is(routeAt(n('C')), 'A-B-C', "C's part still routes over A~B as it last saw it");
  assert.is(routeAt(n('A')), 'A-D-C', "A's part knows A~B drained");
  // Heal: every node ends with the same database and the same routes.
  for (const id of ['A', 'B', 'C', 'D']) n(id).flood.setNeighbours(neighboursOf(id));
  const same = () => {
    const ref = [...net.nodes.values()][0]!;
    return [...net.nodes.values()].every((x) => CONFIG.nodes.every((o) => seqAt(x.id, o) === seqAt(ref.id, o) && seqAt(x.id, o) > 0));
  };
  await eventually(same, 20_000, 'every node holding the same advertisements');
  for (const x of net.nodes.values()) {
    assert.is(routeAt(x, 'D', 'E'), 'none', x.id);
    assert.is(routeAt(x), 'A-D-C', x.id);
  }
  // Back as it was, for the tests after this one.
  n('E').links.set('C~E', { ...n('E').links.get('C~E')!, stockBits: 100 * UNIT });
  n('E').flood.changed(true);
  n('B').links.set('A~B', { ...n('B').links.get('A~B')!, stockBits: 100 * UNIT });
  n('B').flood.changed(true);
  await eventually(() => [...net.nodes.values()].every((x) => routeAt(x, 'D', 'E') === 'D-C-E' && routeAt(x) === 'A-B-C'), 20_000, 'every node back to the start');
});

test('a node that restarts supersedes its old advertisements and is learned again', async () => {
  const e = net.nodes.get('E')!;
  const old = net.nodes.get('C')!.flood.entry('E')!;
  await e.flood.stop();
  const origins = OriginKeys.fromFiles(net.paths.ca, new Map(CONFIG.nodes.map((n) => [n, net.paths.cert('KME', n)])));
  e.flood = new FloodingNode({ nodeId: 'E', tls: tlsOf(net.paths, net.ca, 'E'), listen: net.endpoints.get('E')!, neighbours: new Map([['C', net.endpoints.get('C')!]]), origins, sign: signer(readFileSync(net.paths.key('KME', 'E'))), localLinks: () => [...e.links.values()], refreshMs: 60_000 });
  await e.flood.start();
  await eventually(() => [...net.nodes.values()].every((n) => (n.flood.entry('E')?.seq ?? 0) > old.seq), 20_000, "E's new advertisement everywhere");
  await eventually(() => e.flood.entries().length === CONFIG.nodes.length, 20_000, 'E holding the whole database again');
});

test.run();
