import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exitsOfConfig, parseNetworkConfig } from './network-config.js';
import { KmConfigError } from './errors.js';

const base = {
  nodes: [
    { id: 'a1', kx: '127.0.0.1:7001' },
    { id: 'gwn_a', kx: '127.0.0.1:7002' },
    { id: 'iwn-a', kx: '127.0.0.1:7003' },
  ],
  links: [],
  saes: [
    { id: 'alice', node: 'a1' },
    { id: 'bob', node: 'gwn_a' },
  ],
};

const refused = (exits: unknown, field: string) => {
  try {
    parseNetworkConfig({ ...base, exits });
    assert.unreachable('accepted');
  } catch (e) {
    assert.instance(e, KmConfigError);
    assert.ok((e as Error).message.includes(field), `${(e as Error).message} names ${field}`);
  }
};

test('exits: a foreign SAE with several border nodes, its saes node among them', () => {
  const c = parseNetworkConfig({ ...base, exits: [{ sae: 'bob', nodes: ['gwn_a', 'iwn-a'] }] });
  assert.equal([...exitsOfConfig(c)], [['bob', ['gwn_a', 'iwn-a']]]);
  assert.is(exitsOfConfig(parseNetworkConfig(base)).size, 0, 'none by default');
});

test('exits: unknown SAE or node, the saes node missing, one node only, a duplicate entry are refused by field', () => {
  refused([{ sae: 'carol', nodes: ['gwn_a', 'iwn-a'] }], 'exits[0].sae');
  refused([{ sae: 'bob', nodes: ['gwn_a', 'nowhere'] }], 'exits[0].nodes[1]');
  refused([{ sae: 'bob', nodes: ['a1', 'iwn-a'] }], 'exits[0].nodes');
  refused([{ sae: 'bob', nodes: ['gwn_a'] }], 'exits[0].nodes');
  refused([{ sae: 'bob', nodes: ['gwn_a', 'gwn_a'] }], 'exits[0].nodes');
  refused(
    [
      { sae: 'bob', nodes: ['gwn_a', 'iwn-a'] },
      { sae: 'bob', nodes: ['gwn_a', 'iwn-a'] },
    ],
    'exits[1].sae',
  );
});

test.run();
