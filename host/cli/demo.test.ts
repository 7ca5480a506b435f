import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runDemo } from './demo.js';

async function run(detections: number): Promise<string> {
  let text = '';
  const code = await runDemo({ blocks: 1, seed: 3, detections, output: { write: (s: string) => (text += s) } });
  assert.is(code, 0);
  return text;
}

test('demo: a full-size block goes through every stage and yields secret bits', async () => {
  const text = await run(Math.round(2 ** 22 / 0.5625));
  for (const stage of ['sifting', 'estimation', 'reconcile', 'verify', 'amplify']) assert.match(text, new RegExp(`\\n  ${stage} `), stage);
  const reconcile = /LDPC, (\d+) frames .*: 0 failed, f = ([\d.]+)/.exec(text);
  assert.ok(reconcile, text);
  assert.ok(Number(reconcile[2]) < 1.5, `reconciliation efficiency ${reconcile[2]}`);
  assert.match(text, /verify .*: equal/);
  assert.match(text, /keys at both ends identical/);
  const secret = /1 block\(s\): ([\d,]+) secret bits/.exec(text);
  assert.ok(secret && Number(secret[1]!.replace(/,/g, '')) > 1_000_000, text);
});

test('demo: a small block yields no key and says why', async () => {
  const text = await run(50_000);
  assert.match(text, /no key from this block: /);
  assert.match(text, /1 block\(s\): 0 secret bits/);
});

test.run();
