/**
 * The node configuration's `control` section: both forms parse (paths made absolute), and a
 * section that could not run is refused at load time with the field named, not at the first relay.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from './config.js';
import { KmConfigError } from '../km/errors.js';
import { loopbackControlSection } from './control.js';

const SEED = 'ab'.repeat(32);
const network = {
  nodes: [
    { id: 'A', kx: '127.0.0.1:9443' },
    { id: 'B', kx: '127.0.0.1:9444' },
    { id: 'C', kx: '127.0.0.1:9445' },
  ],
  links: [
    { id: 'A~B', ends: ['A', 'B'], source: { type: 'simulated', rate: 100, seed: SEED } },
    { id: 'B~C', ends: ['B', 'C'], source: { type: 'simulated', rate: 100, seed: SEED } },
  ],
  saes: [
    { id: 'alice', node: 'A' },
    { id: 'carol', node: 'C' },
  ],
};
const base = (control: unknown, node = 'B') => ({
  node,
  dataDir: `data/${node}`,
  tls: { ca: 'pki/ca.pem', cert: `pki/nodes/${node}.pem`, key: `pki/nodes/${node}.key` },
  api: { host: '127.0.0.1', port: 8443 },
  kx: { host: '127.0.0.1', port: 9444 },
  network,
  control,
});
const parse = (control: unknown, node?: string) => parseConfig(JSON.stringify(base(control, node)), '/etc/qkdn', 'json');
const refused = (control: unknown, pattern: RegExp, node?: string) =>
  assert.throws(() => parse(control, node), (e: unknown) => e instanceof KmConfigError && pattern.test(e.message), JSON.stringify(control));

const distributed = { form: 'distributed', listen: { host: '127.0.0.1', port: 7502 }, neighbours: { A: '127.0.0.1:7501', C: '127.0.0.1:7503' }, certificates: 'pki/nodes', policy: { pairs: [{ master: 'alice', slave: 'carol' }] } };
const centralized = { form: 'centralized', controllers: [{ id: 'ctl1', endpoint: '127.0.0.1:7401' }], lastRoutesMs: 10_000 };

test('the distributed and the centralized form parse; the certificates directory is made absolute', () => {
  const d = parse(distributed);
  assert.is(d.control?.form, 'distributed');
  assert.is(d.control?.certificates, '/etc/qkdn/pki/nodes');
  assert.equal(d.control?.policy, { pairs: [{ master: 'alice', slave: 'carol' }] });
  const c = parse(centralized);
  assert.is(c.control?.form, 'centralized');
  assert.is(c.control?.controllers?.[0]?.id, 'ctl1');
  // Without the section: no control layer (static routes, as before).
  assert.is(parseConfig(JSON.stringify({ ...base(undefined), control: undefined }), '/x', 'json').control, undefined);
});

test('a control section that could not run is refused with its field', () => {
  refused({ form: 'ospf' }, /^control\.form: must be equal to one of the allowed values/);
  refused({ ...distributed, neighbours: { A: '127.0.0.1:7501' } }, /control\.neighbours: no controller endpoint for neighbour C/);
  refused({ ...distributed, neighbours: { ...distributed.neighbours, D: '127.0.0.1:1' } }, /control\.neighbours/);
  refused({ ...distributed, listen: undefined }, /control\.listen: the distributed form needs/);
  refused({ ...distributed, certificates: undefined }, /control\.certificates/);
  refused({ ...distributed, controllers: centralized.controllers }, /control\.controllers: not a field of the distributed form/);
  refused({ form: 'centralized' }, /control\.controllers: the centralized form needs/);
  refused({ ...centralized, listen: { host: '127.0.0.1', port: 1 } }, /control\.listen: not a field of the centralized form/);
  refused({ ...centralized, controllers: [] }, /control\.controllers: must NOT have fewer than 1 items/);
  refused({ ...centralized, controllers: [{ id: 'ctl1', endpoint: 'nowhere' }] }, /control\.controllers\[0\]\.endpoint: must match pattern/);
  refused({ ...distributed, policy: { pairs: [{ master: 'alice' }] } }, /control\.policy\.pairs\[0\]: missing field "slave"/);
});

test('loopbackControlSection gives each node its own controller endpoint and its neighbours\'', () => {
  const ports = new Map([
    ['A', 7501],
    ['B', 7502],
    ['C', 7503],
  ]);
  const b = loopbackControlSection({ form: 'distributed' }, 'B', network as never, ports, '/pki/nodes');
  assert.equal(b, { form: 'distributed', listen: { host: '127.0.0.1', port: 7502 }, neighbours: { A: '127.0.0.1:7501', C: '127.0.0.1:7503' }, certificates: '/pki/nodes' });
  // The result passes the node configuration's checks.
  assert.is(parse(b).control?.listen?.port, 7502);
  assert.equal(loopbackControlSection(centralized as never, 'B', network as never, ports, '/pki'), centralized);
});

test.run();
