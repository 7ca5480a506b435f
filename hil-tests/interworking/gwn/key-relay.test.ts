/**
 * Y.3818 Fig 9 over real node processes: in the configuration of Fig 3 (both providers
 * distributed) interworking key relay both ways, then the border recording (nothing internal
 * crosses; a third provider's GWN is refused); in Figs 4 and 5 (one or both sides centralized) the
 * key relay both ways.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Checks } from '../../../host/interworking/conformance/cases.js';
import { etcdBinary } from '../../../host/controller/central/etcd-server.js';
import { borderRecording, keyRelay, startTwoProviders, type Form, type TwoProviders } from './scenarios.js';

let two: TwoProviders | null = null;
test.after(async () => {
  await two?.stop();
});

test('Fig 9 (Fig 3): an SAE of A as master and one of B as slave get the same key, once; the border shows nothing internal', async () => {
  two = await startTwoProviders({ a: 'distributed', b: 'distributed' });
  const c = new Checks();
  const { keys } = await keyRelay(two, c);
  assert.is(keys.length, 4);
  await borderRecording(two, c, keys);
  assert.ok(c.count > 10, `${c.count} checks`);
});

const withEtcd = etcdBinary() ? test : test.skip;
if (!etcdBinary()) console.log('key-relay.test.ts: Figs 4 and 5 skipped: no etcd binary (apt-get install etcd-server)');

for (const [fig, a, b] of [
  [4, 'distributed', 'centralized'],
  [5, 'centralized', 'centralized'],
] as const satisfies readonly (readonly [number, Form, Form])[]) {
  withEtcd(`Fig 9 (Fig ${fig}: A ${a}, B ${b}, each centralized side with its own etcd and controller): the same key at both SAEs, once`, async () => {
    await two?.stop();
    two = null;
    two = await startTwoProviders({ a, b });
    const c = new Checks();
    const { keys } = await keyRelay(two, c);
    assert.is(keys.length, 4);
    await two.stop();
    two = null;
  });
}

test.run();
