/** `npm start -- --line`: SAEs on the two ends of a line get identical, relayed keys. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runNetworkDemo } from '../../host/node/demo-network.js';

test('runNetworkDemo: SAEs on non-adjacent nodes get identical keys through ETSI 014, and the report says so', async () => {
  let text = '';
  const r = await runNetworkDemo({ nodes: 3, keys: 2, output: { write: (s: string) => (text += s) } });
  assert.equal(r.route, ['N1', 'N2', 'N3']);
  assert.ok(r.identical);
  assert.ok(r.relayed);
  assert.is(r.keyIds.length, 2);
  assert.match(text, /both SAEs hold identical keys/);
  assert.match(text, /refused: 400/);
  assert.not.match(text, /DIFFERENT/);
});

test.run();
