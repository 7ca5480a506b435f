import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runControlDemo } from './demo.js';
import { etcdBinary } from './central/etcd-server.js';

async function run(etcd: boolean): Promise<string> {
  let text = '';
  const ok = await runControlDemo({ write: (s: string) => void (text += s) }, { etcd });
  assert.ok(ok, text);
  return text;
}

test('npm start without etcd: a single controller with an embedded store, and it says so; routes and reroutes', async () => {
  const text = await run(false);
  assert.match(text, /no etcd on this machine: a single controller with an embedded in-memory store/);
  assert.match(text, /route {6}A to C: A → D → C/);
  assert.match(text, /reroute {4}A to C: A → B → C/);
});

(etcdBinary() ? test : test.skip)('npm start with etcd: the controller keeps its state in a loopback etcd', async () => {
  const text = await run(true);
  assert.match(text, /store {6}etcd on http:\/\/127\.0\.0\.1:\d+/);
  assert.match(text, /reroute {4}A to C: A → B → C/);
});

test.run();
