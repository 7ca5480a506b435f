/**
 * Configuration control over real node processes (`qkdn-edge node`, distributed form, the square
 * A-B-C-D): an operator's `PUT /api/v1/config` at node A removes the link A~B and adds an SAE on C
 * at run time, without a restart. The version is A's next one, flooded signed to every node: A
 * relays around A~B from the answer on, C (another process) relays around it once the version
 * reached it, and the new SAE gets keys shared with an SAE of A. Put back, relays return to A~B
 * and the SAE is gone again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDemoNetwork, type DemoNetwork } from '../../host/node/demo-network.js';
import type { EtsiKey } from '../../host/api/client.js';

type RelayLine = { event: string; relay: string; route: string[]; outcome: string };
const relaysOf = (net: DemoNetwork, node: string) => net.events(node).filter((e) => e.event === 'relay') as unknown as RelayLine[];
const lastPath = (net: DemoNetwork, node: string) => relaysOf(net, node).at(-1)?.route.join('-');

interface Structure {
  nodes: string[];
  links: { id: string; ends: [string, string] }[];
  saes: Record<string, string>;
}
type Config = { version: number; config: { network: { routes: string[][] } & Structure; alarms: { qberThreshold: number } } };

async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('distributed form, real processes: a link removed and an SAE added at run time through PUT /api/v1/config at one node reach every node; relays route around the link and the SAE is served; put back, relays use the link again', async () => {
  const net = await startDemoNetwork({
    ids: ['A', 'B', 'C', 'D'],
    links: ['A-B', 'B-C', 'C-D', 'A-D'],
    saes: { 'sae-A': 'A', 'sae-C': 'C' },
    initialUnits: 400,
    rate: 20,
    km: { peerTimeoutMs: 10_000, relayHopTimeoutMs: 4000 },
    bundle: true,
    management: true,
    control: { form: 'distributed', lowWaterUnits: 4, holdDownMs: 200, refreshMs: 5000 },
  });
  try {
    const a = net.client('sae-A');
    const c = net.client('sae-C');
    const delivered: EtsiKey[] = [];
    const supply = async (from: typeof a, slave: string) => {
      const r = await from.encKeys(slave, { number: 1 });
      if (r.status === 200 && from === a && slave === 'sae-C') delivered.push(...r.body.keys);
      return r;
    };
    // Widest-shortest with equal stock takes B (before D): relays from A and from C go through B first.
    await eventually(async () => (await supply(a, 'sae-C')).status === 200 && lastPath(net, 'A') === 'A-B-C', 60_000, 'a relay A-B-C');
    await eventually(async () => (await supply(c, 'sae-A')).status === 200 && lastPath(net, 'C') === 'C-B-A', 60_000, 'a relay C-B-A');
    assert.is((await a.status('sae-X')).status, 400, 'sae-X is not an SAE of the network yet');

    const op = net.operator('A');
    const cur = (await op.send<Config>('GET', '/api/v1/config')).body;
    const s = cur.config.network;
    assert.equal(s.links.map((l) => l.id).sort(), ['A~B', 'A~D', 'B~C', 'C~D'], 'the version in force holds the structure');
    const cut: Structure = { nodes: s.nodes, links: s.links.filter((l) => l.id !== 'A~B'), saes: { ...s.saes, 'sae-X': 'C' } };
    const put = await op.send<{ version: number }>('PUT', '/api/v1/config', { config: { ...cur.config, network: { ...s, ...cut } }, comment: 'A~B out, sae-X on C', baseVersion: cur.version });
    assert.is(put.status, 200, put.raw);
    assert.is(put.body.version, cur.version + 1);

    // A installed it before answering: every relay A starts now goes around A~B.
    const seen = relaysOf(net, 'A').length;
    for (let i = 0; i < 4; i++) assert.is((await supply(a, 'sae-C')).status, 200);
    const after = relaysOf(net, 'A').slice(seen);
    assert.ok(after.length > 0 && after.every((r) => r.outcome === 'completed' && r.route.join('-') === 'A-D-C'), JSON.stringify(after));
    // C, another process, got the version by flooding: its relays to A go around A~B too.
    await eventually(async () => (await supply(c, 'sae-A')).status === 200 && lastPath(net, 'C') === 'C-D-A', 30_000, 'C relaying over D');
    const seenC = relaysOf(net, 'C').length;
    for (let i = 0; i < 3; i++) assert.is((await supply(c, 'sae-A')).status, 200);
    const afterC = relaysOf(net, 'C').slice(seenC);
    assert.ok(afterC.length > 0 && afterC.every((r) => r.outcome === 'completed' && r.route.join('-') === 'C-D-A'), JSON.stringify(afterC));
    // The SAE added on C is served: A relays keys to C for it, and C (which must know sae-X to take them) confirmed.
    const x = await a.encKeys('sae-X', { number: 1 });
    assert.is(x.status, 200, x.raw);
    // The keys A delivered under the version are identical at C.
    const dec = await c.decKeys('sae-A', delivered.map((k) => k.key_ID));
    assert.is(dec.status, 200, dec.raw);
    assert.equal(dec.body.keys, delivered);

    // Put back (a third version): the SAE is gone and A~B carries relays again once advertised.
    const back = await op.send<{ version: number }>('PUT', '/api/v1/config', { config: cur.config, comment: 'A~B back, sae-X gone', baseVersion: cur.version + 1 });
    assert.is(back.status, 200, back.raw);
    assert.is(back.body.version, cur.version + 2);
    assert.is((await a.encKeys('sae-X', { number: 1 })).status, 400, 'sae-X removed');
    // A~B was idle meanwhile, so it holds the widest route once its stock is advertised again.
    await eventually(async () => (await supply(a, 'sae-C')).status === 200 && lastPath(net, 'A') === 'A-B-C', 60_000, 'a relay A-B-C after A~B came back');
    const hist = (await op.send<{ versions: { version: number }[] }>('GET', '/api/v1/config/history')).body.versions.map((v) => v.version);
    assert.equal(hist.slice(0, 3), [cur.version + 2, cur.version + 1, cur.version]);
  } finally {
    await net.stop();
  }
});

test.run();
