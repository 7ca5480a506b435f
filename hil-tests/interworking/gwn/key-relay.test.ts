/**
 * Y.3818 clause 9.1 over real node processes, one pair of networks per configuration: Fig 9 (key
 * relay both ways), Fig 10 (status shared over Cxi; an internal link under alice's relays fails,
 * then one in B; both controllers push the same rerouting; keys identical at both SAEs, once) and
 * Fig 11 (a failed crossing reported KMLM-A → XLMO-A → XLMO-B, decided by both QCLMs; packed
 * reports unsealed at B). In the configuration of Fig 3 (both providers distributed) the border
 * recording follows: nothing internal crosses, in Kxi, Cxi or sealed Mxi; a third provider's GWN
 * is refused. Figs 4 and 5 (one or both sides centralized) run the three procedures.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Checks } from '../../../host/interworking/conformance/cases.js';
import { etcdBinary } from '../../../host/controller/central/etcd-server.js';
import { borderRecording, keyRelay, startTwoProviders, type Form, type TwoProviders } from './scenarios.js';
import { faultManagement, keyGenerationRerouting } from './rerouting-faults.js';

let two: TwoProviders | null = null;
test.after(async () => {
  await two?.stop();
});

async function procedures(t: TwoProviders, c: Checks): Promise<Buffer[]> {
  const { keys } = await keyRelay(t, c);
  assert.is(keys.length, 4);
  const rerouted = await keyGenerationRerouting(t, c);
  await faultManagement(t, c);
  return [...keys, ...rerouted.keys];
}

test('Figs 9, 10, 11 (Fig 3): same keys at both SAEs, once; rerouting agreed by both controllers; the relay failure at both XLMOs and QCLMs; the border shows nothing internal', async () => {
  two = await startTwoProviders({ a: 'distributed', b: 'distributed', squareA: true });
  const c = new Checks();
  const keys = await procedures(two, c);
  await borderRecording(two, c, keys, { procedures: true });
  assert.ok(c.count > 40, `${c.count} checks`);
});

const withEtcd = etcdBinary() ? test : test.skip;
if (!etcdBinary()) console.log('key-relay.test.ts: Figs 4 and 5 skipped: no etcd binary (apt-get install etcd-server)');

for (const [fig, a, b] of [
  [4, 'distributed', 'centralized'],
  [5, 'centralized', 'centralized'],
] as const satisfies readonly (readonly [number, Form, Form])[]) {
  withEtcd(`Figs 9, 10, 11 (Fig ${fig}: A ${a}, B ${b}, each centralized side with its own etcd and controller)`, async () => {
    await two?.stop();
    two = null;
    two = await startTwoProviders({ a, b, squareA: true });
    const c = new Checks();
    await procedures(two, c);
    await two.stop();
    two = null;
  });
}

test.run();
