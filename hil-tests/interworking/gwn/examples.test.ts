/** The example configurations of host/interworking/examples parse and pin each other consistently. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../host/node/config.js';

const EXAMPLES = fileURLToPath(new URL('../../../host/interworking/examples/', import.meta.url));

test('Fig 3: every node file parses; the two gateways face each other with the same Qx link', () => {
  const dir = join(EXAMPLES, 'fig3');
  const gateways = [];
  for (const p of ['qkdn-a', 'qkdn-b'])
    for (const f of readdirSync(join(dir, p)).filter((x) => x.endsWith('.yaml') && x !== 'network.yaml')) {
      const c = loadConfig(join(dir, p, f));
      assert.is(`${c.node}.yaml`, f);
      if (c.gateway) gateways.push(c);
    }
  assert.is(gateways.length, 2);
  const [a, b] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
  assert.is(a.gateway!.peer.node, b.node);
  assert.is(b.gateway!.peer.node, a.node);
  assert.is(a.gateway!.qx.source.seed, b.gateway!.qx.source.seed);
  assert.is(a.gateway!.peer.address, `${b.gateway!.border.host}:${b.gateway!.border.port}`);
  // each gateway fronts exactly the SAEs the other shares
  assert.equal([...a.gateway!.foreignSaes].sort(), b.gateway!.shared.map((s) => s.sae).sort());
  assert.equal([...b.gateway!.foreignSaes].sort(), a.gateway!.shared.map((s) => s.sae).sort());
});

test.run();
