/**
 * Configuration control in the distributed form, over real key managers (in-process nodes, each
 * with its own LMDB store, Kx over mutual TLS) and a controller in every node flooding over its
 * own mutual-TLS channel: a link added at run time at one node becomes the next version at every
 * node without a restart (every controller's view and every KM's topology) and relays route over
 * it; removed again, they route around it; a forged version changes nothing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { startTestNetwork, eventually, pkiPaths, type TestNetwork } from '../km/test-network.js';
import { CHANNELS as KM_CHANNELS, type RelayEvent } from '../km/diagnostics.js';
import { SimulatedKeySource } from '../km/simulated-key-source.js';
import type { DistributedController } from './distributed.js';
import { startDistributedControllers } from './test-controllers.js';
import { signer } from './flooding/origin-keys.js';
import { signedConfigBytes } from './flooding/config-advertisement.js';
import type { NetworkConfig } from './view.js';

const UNIT = 256;
// A line A-B-C-D-E: alice on A reaches erin on E in four hops until A~D is added.
const LINKS = ['A-B', 'B-C', 'C-D', 'D-E'];
const SAES = { alice: 'A', erin: 'E' };
const CONFIG: NetworkConfig = { nodes: ['A', 'B', 'C', 'D', 'E'], links: LINKS.map((l) => ({ id: l.replace('-', '~'), ends: l.split('-') as [string, string] })), saes: SAES };

/** A controller in every node; each installs the versions it gets in its KM, as host/node/control.ts does. */
const controllersFor = (net: TestNetwork) =>
  startDistributedControllers(net, CONFIG, (node) => ({
    onConfig: (c, v) => node.km.network.replace({ nodes: [...c.nodes], links: c.links.map((l) => ({ id: l.id, ends: [l.ends[0], l.ends[1]], kind: 'simulated' as const })), saes: new Map(Object.entries(c.saes)) }, v),
  }));

test('distributed form: a link added at run time at one node reaches every node and relays route over it; removed, they route around it; a forged version is refused', async () => {
  const relays: RelayEvent[] = [];
  const onRelay = (m: unknown) => void relays.push(m as RelayEvent);
  subscribe(KM_CHANNELS.relay, onRelay);
  const routers = new Map<string, DistributedController>();
  const net = await startTestNetwork({ links: LINKS, saes: SAES, initialUnits: 200, router: (id) => ({ route: (r) => routers.get(id)!.route(r), release: (relay, o) => routers.get(id)!.release(relay, o) }) });
  const controllers = await controllersFor(net);
  const key = (id: string) => readFileSync(pkiPaths(join(net.dir, 'pki')).key('KME', id));
  for (const [n, c] of controllers) routers.set(n, c);
  const all = [...controllers.values()];
  const a = net.node('A').km;
  /** One key for erin; the route of the relay that brought it, and the key fetched at E is the same. */
  const relayOnce = async (): Promise<string> => {
    const before = relays.length;
    const [k] = await a.supply({ master: 'alice', slaves: ['erin'], size: UNIT, number: 1 });
    const [f] = await net.node('E').km.fetch({ slave: 'erin', master: 'alice', ids: [k!.id] });
    assert.equal(Buffer.from(f!.bytes), Buffer.from(k!.bytes), 'the key differs at the two ends');
    const r = relays.slice(before).find((x) => x.node === 'A' && x.outcome === 'completed');
    assert.ok(r, 'no relay completed for the supply');
    return r.route.join('-');
  };
  try {
    await eventually(() => all.every((c) => CONFIG.links.every((l) => c.view.stockUnits(l.id) > 100)), 30_000, 'stock known on every link');
    assert.is(await relayOnce(), 'A-B-C-D-E');

    // An operator adds A~D at C, which is not an end of it: version 2, flooded to every node.
    assert.is(await controllers.get('C')!.configuration.change({ addLinks: [{ id: 'A~D', ends: ['A', 'D'] }], addSaes: { zoe: 'B' } }), 2);
    await eventually(() => all.every((c) => c.view.configVersion === 2) && [...net.nodes.values()].every((n) => n.km.network.version === 2), 30_000, 'version 2 at every node');
    // The link's modules come up at both ends (the same simulated key at A and D).
    const seed = new Uint8Array(32).fill(7);
    a.attach(new SimulatedKeySource({ linkId: 'A~D', peer: 'D', seed, rate: 0, unitBits: UNIT, initialUnits: 200, tickMs: 10 }));
    net.node('D').km.attach(new SimulatedKeySource({ linkId: 'A~D', peer: 'A', seed, rate: 0, unitBits: UNIT, initialUnits: 200, tickMs: 10 }));
    await eventually(() => all.every((c) => c.view.configVersion === 2 && c.view.saeNode('zoe') === 'B' && c.view.stockUnits('A~D') > 100), 30_000, 'version 2 and the stock of A~D at every node');
    for (const n of net.nodes.values()) assert.is(n.km.network.version, 2, `${n.id}'s KM runs version 2`);
    assert.is(await relayOnce(), 'A-D-E', 'relays take the new link');

    // A version signed by another node's key than its origin's is refused and changes nothing.
    const forged = { origin: 'A', version: 9, config: { ...CONFIG, links: [] }, sig: signer(key('B'))(signedConfigBytes({ origin: 'A', version: 9, config: { ...CONFIG, links: [] } })) };
    const ans = controllers.get('E')!.flooding.receiveConfig('D', forged);
    assert.is(ans.name === 'Ack' && ans.body.status, 'ERR_CTL_LSA_SIGNATURE');
    assert.is(controllers.get('E')!.flooding.counters.configRefused, 1);
    assert.is(controllers.get('E')!.view.configVersion, 2);

    // Removed again at E: version 3 everywhere, relays go around it.
    assert.is(await controllers.get('E')!.configuration.change({ removeLinks: ['A~D'] }), 3);
    await eventually(() => all.every((c) => c.view.configVersion === 3 && !c.view.link('A~D')) && [...net.nodes.values()].every((n) => n.km.network.version === 3), 30_000, 'version 3 at every node');
    assert.is(await relayOnce(), 'A-B-C-D-E');
  } finally {
    unsubscribe(KM_CHANNELS.relay, onRelay);
    for (const c of controllers.values()) await c.stop();
    await net.close();
  }
});

test.run();
