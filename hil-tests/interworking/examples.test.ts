/**
 * The example configurations of Figs 4, 5 (gateway nodes) and 7, 8 (an interworking node) in
 * host/interworking/examples: every file loads as its program reads it (node, IWN, controller), a
 * centralized network's nodes all name its controller where it listens and the controller knows
 * exactly their network, a distributed network's nodes reach their neighbours' controllers, the
 * two gateways face each other, and no two processes of a figure share a port.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type NodeConfig } from '../../host/node/config.js';
import { loadIwnConfig } from '../../host/node/iwn.js';
import { parseControllerConfig, type ControllerFileConfig } from '../../host/controller/command.js';

const EXAMPLES = fileURLToPath(new URL('../../host/interworking/examples/', import.meta.url));

type Form = 'distributed' | 'centralized';
const at = (e: { host: string; port: number }) => `${e.host}:${e.port}`;

function controllerIn(dir: string, file: string): ControllerFileConfig {
  return parseControllerConfig(readFileSync(join(dir, file), 'utf8'), dir);
}

/** One network's nodes against its form (and its controller when centralized). */
function checkControl(nodes: readonly NodeConfig[], form: Form, ctl: ControllerFileConfig | undefined, what: string): void {
  const network = nodes[0]!.network;
  for (const n of nodes) {
    assert.is(n.control?.form, form, `${what}: ${n.node} is ${form}`);
    assert.equal(n.network, network, `${what}: ${n.node} has the network's file`);
  }
  if (form === 'distributed') {
    const listen = new Map(nodes.map((n) => [n.node, at(n.control!.listen!)]));
    for (const n of nodes) for (const [peer, endpoint] of Object.entries(n.control!.neighbours ?? {})) assert.is(endpoint, listen.get(peer), `${what}: ${n.node} reaches ${peer}'s controller`);
    return;
  }
  assert.ok(ctl, `${what}: a controller file`);
  for (const n of nodes) assert.equal(n.control!.controllers, [{ id: ctl.id, endpoint: at(ctl.listen) }], `${what}: ${n.node} names ${ctl.id} where it listens`);
  assert.equal([...ctl.network.nodes].sort(), network.nodes.map((x) => x.id).sort(), `${what}: ${ctl.id} knows the network's nodes`);
  assert.equal(ctl.network.links, network.links.map((l) => ({ id: l.id, ends: [...l.ends] })), `${what}: ${ctl.id} knows the network's links`);
  assert.equal(ctl.network.saes, Object.fromEntries(network.saes.map((s) => [s.id, s.node])), `${what}: ${ctl.id} knows where every SAE is served`);
}

/** Every listening port of a figure's processes, each once. */
function checkPorts(nodes: readonly NodeConfig[], controllers: readonly ControllerFileConfig[], what: string): void {
  const ports = [...nodes.flatMap((n) => [n.api.port, n.kx.port, ...(n.control?.listen ? [n.control.listen.port] : []), ...(n.gateway ? [n.gateway.border.port] : [])]), ...controllers.map((c) => c.listen.port)];
  assert.is(new Set(ports).size, ports.length, `${what}: a port used twice: ${ports.join(',')}`);
}

for (const [fig, forms] of [
  [4, ['distributed', 'centralized']],
  [5, ['centralized', 'centralized']],
] as const satisfies readonly (readonly [number, readonly [Form, Form]])[]) {
  test(`Fig ${fig} (gateway nodes, ${forms.join('-')}): nodes, controllers and gateways load and agree`, () => {
    const dir = join(EXAMPLES, `fig${fig}`);
    const all: NodeConfig[] = [];
    const controllers: ControllerFileConfig[] = [];
    for (const [i, p] of (['qkdn-a', 'qkdn-b'] as const).entries()) {
      const files = readdirSync(join(dir, p)).filter((f) => f.endsWith('.yaml') && f !== 'network.yaml');
      const nodes = files.filter((f) => !f.startsWith('ctl_')).map((f) => loadConfig(join(dir, p, f)));
      for (const n of nodes) assert.ok(files.includes(`${n.node}.yaml`), `${p}: ${n.node} in its own file`);
      const ctl = files.filter((f) => f.startsWith('ctl_')).map((f) => controllerIn(join(dir, p), f));
      assert.is(ctl.length, forms[i]! === 'centralized' ? 1 : 0, `${p}: one controller when centralized`);
      checkControl(nodes, forms[i]!, ctl[0], `Fig ${fig} ${p}`);
      all.push(...nodes);
      controllers.push(...ctl);
    }
    const gateways = all.flatMap((n) => (n.gateway ? [{ node: n.node, gateway: n.gateway }] : []));
    assert.is(gateways.length, 2, 'two gateways');
    const [a, b] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
    assert.equal([a.gateway.peer.node, b.gateway.peer.node], [b.node, a.node], 'the gateways name each other');
    assert.equal([a.gateway.peer.address, b.gateway.peer.address], [at(b.gateway.border), at(a.gateway.border)], 'each dials the other’s border endpoint');
    assert.equal(a.gateway.qx, b.gateway.qx, 'one Qx link');
    assert.equal([...a.gateway.foreignSaes].sort(), b.gateway.shared.map((s) => s.sae).sort(), 'A fronts what B shares');
    assert.equal([...b.gateway.foreignSaes].sort(), a.gateway.shared.map((s) => s.sae).sort(), 'B fronts what A shares');
    checkPorts(all, controllers, `Fig ${fig}`);
  });
}

for (const [fig, forms] of [
  [7, ['centralized', 'distributed']],
  [8, ['centralized', 'centralized']],
] as const satisfies readonly (readonly [number, readonly [Form, Form]])[]) {
  test(`Fig ${fig} (interworking node, ${forms.join('-')}): the IWN, its two KMs, the nodes and controllers load and agree`, () => {
    const dir = join(EXAMPLES, `fig${fig}`);
    const iwn = loadIwnConfig(join(dir, 'iwn.yaml'));
    assert.equal(iwn.sides.map((s) => s.provider), ['qkdn-a', 'qkdn-b']);
    const controllers: ControllerFileConfig[] = [];
    const all: NodeConfig[] = [];
    for (const [i, side] of (['a', 'b'] as const).entries()) {
      const km = iwn.sides[i]!.node;
      const node = loadConfig(join(dir, `${side}1.yaml`));
      assert.equal(km.network, node.network, `QKDN-${side.toUpperCase()}: KM-${side.toUpperCase()} is a node of it`);
      const file = `ctl-${side}.yaml`;
      const ctl = readdirSync(dir).includes(file) ? controllerIn(dir, file) : undefined;
      assert.is(ctl !== undefined, forms[i] === 'centralized', `QKDN-${side.toUpperCase()}: a controller when centralized`);
      checkControl([node, km], forms[i]!, ctl, `Fig ${fig} QKDN-${side.toUpperCase()}`);
      all.push(node, km);
      if (ctl) controllers.push(ctl);
    }
    checkPorts(all, controllers, `Fig ${fig}`);
  });
}

test.run();
