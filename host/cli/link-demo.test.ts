import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runLinkDemo } from './link-demo.js';

test('npm start link part: a block of key lands identically in both stores and is reported', async () => {
  let text = '';
  const summary = await runLinkDemo({ blocks: 1, seed: 5, output: { write: (s: string) => (text += s) } });
  assert.ok(summary.storesAgree, text);
  assert.ok(summary.totalUnits > 0, text);
  assert.match(text, /block 1 {2}[\d,]+ events, QBER Z [\d.]+ % X [\d.]+ %, LDPC f [\d.]+ \(\d+ frames, 0 failed\), [\d,]+ secret bits -> \d+ units identical in both stores/);
  assert.match(text, /both stores hold identical units/);
});

test.run();
