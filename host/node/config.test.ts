import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, KM_DEFAULTS } from './config.js';
import { KmConfigError } from '../km/errors.js';
import { parseNetworkConfig, topologyOf } from '../km/network-config.js';

const SEED = 'ab'.repeat(32);
const base = () => ({
  node: 'A',
  dataDir: 'data/A',
  tls: { ca: 'pki/ca.pem', cert: 'pki/nodes/A.pem', key: 'pki/nodes/A.key' },
  api: { host: '127.0.0.1', port: 8443 },
  kx: { host: '127.0.0.1', port: 9443 },
  network: {
    nodes: [
      { id: 'A', kx: '127.0.0.1:9443' },
      { id: 'B', kx: '127.0.0.1:9444' },
      { id: 'C', kx: 'c.example:9445' },
    ],
    links: [
      { id: 'A~B', ends: ['A', 'B'], source: { type: 'simulated', rate: 100, seed: SEED } },
      { id: 'B~C', ends: ['B', 'C'], source: { type: 'qkd', device: '/dev/ttyUSB0' } },
    ],
    saes: [
      { id: 'alice', node: 'A' },
      { id: 'carol', node: 'C' },
    ],
    routes: [['A', 'B', 'C']],
  },
});

function refused(mutate: (c: ReturnType<typeof base>) => unknown, pattern: RegExp): void {
  const c = base();
  mutate(c);
  assert.throws(() => parseConfig(JSON.stringify(c), '/etc/qkdn', 'json'), (e: unknown) => e instanceof KmConfigError && pattern.test(e.message));
}

test('a valid configuration parses, with km defaults and paths made absolute', () => {
  const c = parseConfig(JSON.stringify(base()), '/etc/qkdn', 'json');
  assert.is(c.dataDir, '/etc/qkdn/data/A');
  assert.is(c.tls.ca, '/etc/qkdn/pki/ca.pem');
  assert.equal(c.km, KM_DEFAULTS);
  assert.is(c.network.links[0]!.source.type, 'simulated');
});

test('YAML works the same as JSON', () => {
  const yaml = `node: A\ndataDir: d\ntls: {ca: a, cert: b, key: c}\napi: {host: 127.0.0.1, port: 1}\nkx: {host: 127.0.0.1, port: 2}\nkm: {keySize: 512}\nnetwork:\n  nodes: [{id: A, kx: "127.0.0.1:2"}]\n  links: []\n  saes: []\n`;
  const c = parseConfig(yaml, '/x');
  assert.is(c.km.keySize, 512);
  assert.is(c.km.unitBits, 256);
});

test('schema and cross-reference errors name the place', () => {
  refused((c) => ((c as Record<string, unknown>).extra = 1), /unknown field "extra"/);
  refused((c) => (c.node = 'Z'), /node: Z is not in network.nodes/);
  refused((c) => (c.node = 'a/b'), /^node: must match pattern/);
  refused((c) => (c.api.port = 70000), /^api\.port: must be <= 65535/);
  refused((c) => (c.network.links[0]!.ends = ['A', 'Q']), /unknown node Q/);
  refused((c) => (c.network.links[0]!.ends = ['A', 'A']), /two different nodes/);
  refused((c) => ((c.network.links[0]!.source as { seed: string }).seed = 'abcd'), /^network\.links\[0\]\.source\.seed: must match pattern/);
  refused((c) => c.network.saes.push({ id: 'alice', node: 'B' }), /duplicate SAE alice/);
  refused((c) => (c.network.saes[1]!.node = 'Q'), /unknown node Q/);
  refused((c) => (c.network.routes = [['A', 'C']]), /no link between A and C/);
  refused((c) => ((c as Record<string, unknown>).km = { minKeySize: 512, keySize: 256 }), /minKeySize <= keySize/);
  refused((c) => ((c as Record<string, unknown>).km = { keySize: 100 }), /^km\.keySize: /);
  refused((c) => ((c as Record<string, unknown>).events = ['relay', 'keys']), /^events\[1\]: /);
  refused((c) => ((c as Record<string, unknown>).events = ['relay', 'relay']), /^events: /);
  assert.equal(parseConfig(JSON.stringify({ ...base(), events: ['hop', 'supply'] }), '/x', 'json').events, ['hop', 'supply']);
  assert.throws(() => parseConfig('{', '/x', 'json'), /not valid JSON/);
});

test('the network part can live in a file of its own, shared by every node; it is checked the same way', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-config-'));
  try {
    const { network, ...local } = base();
    writeFileSync(join(dir, 'network.yaml'), JSON.stringify(network));
    const c = parseConfig(JSON.stringify({ ...local, network: 'network.yaml' }), dir, 'json');
    assert.equal(c.network, network);
    assert.equal(parseConfig(JSON.stringify(base()), dir, 'json').network, c.network, 'the same as inline');
    writeFileSync(join(dir, 'network.yaml'), JSON.stringify({ ...network, saes: [{ id: 'alice', node: 'Q' }] }));
    assert.throws(() => parseConfig(JSON.stringify({ ...local, network: 'network.yaml' }), dir, 'json'), /network.saes\[0\].node: unknown node Q/);
    assert.throws(() => parseConfig(JSON.stringify({ ...local, network: 'missing.yaml' }), dir, 'json'), /cannot read the network configuration/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the network validator alone (what a controller pushes) gives the key manager its topology', () => {
  const t = topologyOf(parseNetworkConfig(base().network));
  assert.equal(t.nodes, ['A', 'B', 'C']);
  assert.equal(t.links.map((l) => [l.id, l.kind]), [['A~B', 'simulated'], ['B~C', 'qkd']]);
  assert.is(t.saes.get('carol'), 'C');
  assert.equal(t.routes?.get('A>C'), ['A', 'B', 'C']);
  assert.throws(() => parseNetworkConfig({ nodes: [], links: [], saes: [] }), (e: unknown) => e instanceof KmConfigError && /^network\.nodes: /.test(e.message));
});

test('a configuration error is one line: the file, the field, the problem; a oneOf says nothing of the branches that do not apply', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-config-'));
  const load = (c: unknown, name = 'A.json') => {
    if (c !== undefined) writeFileSync(join(dir, name), JSON.stringify(c));
    try {
      loadConfig(join(dir, name));
    } catch (e) {
      assert.instance(e, KmConfigError);
      assert.not.match((e as Error).message, '\n');
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  try {
    const f = join(dir, 'A.json');
    const seed = base();
    (seed.network.links[0]!.source as { seed: string }).seed = 'abcd';
    assert.is(load(seed), `${f}: network.links[0].source.seed: must match pattern "^([0-9a-fA-F]{2}){32,}$"`);
    const kind = base();
    (kind.network.links[0]!.source as { type: string }).type = 'quantum';
    assert.is(load(kind), `${f}: network.links[0].source.type: must be one of "simulated", "qkd"`);
    const missing = base() as Record<string, unknown>;
    delete missing.kx;
    assert.is(load(missing), `${f}: (top level): missing field "kx"`);
    // the network in a file of its own: its errors name that file
    const { network, ...local } = base();
    network.links[1]!.ends = ['B', 'Q'];
    writeFileSync(join(dir, 'network.json'), JSON.stringify(network));
    assert.is(load({ ...local, network: 'network.json' }), `${join(dir, 'network.json')}: network.links[1].ends: unknown node Q`);
    // dataDir under /proc: refused at once, nothing created there
    const proc = base();
    proc.dataDir = '/proc/self/qkdn-data';
    assert.match(load(proc), `${f}: dataDir: /proc/self is on the kernel's proc file system, not storage`);
    writeFileSync(join(dir, 'bad.yaml'), 'node: A\n  bad: [indent\n');
    assert.match(load(undefined, 'bad.yaml'), `${join(dir, 'bad.yaml')}: (top level): not valid YAML: `);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
