/**
 * Y.3818 Fig 9 in the configuration of Fig 3 (both providers distributed), over real node
 * processes: interworking key relay both ways, then the border recording (nothing internal
 * crosses; a third provider's GWN is refused).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Checks } from '../../../host/interworking/conformance/cases.js';
import { borderRecording, keyRelay, startTwoProviders, type TwoProviders } from './scenarios.js';

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

test.run();
