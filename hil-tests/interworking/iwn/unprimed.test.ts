/**
 * The unprimed case of Y.3818 clause 6.2, over real processes: both networks' controllers and
 * managers outside the interworking node (Fig 6 distributed-distributed, and Fig 8
 * centralized-centralized on `qkdn-edge controller` with etcd), each in a process of
 * its own network (`role: interworking-controller`), reached by its KM in the IWN over Ck (mutual
 * TLS, its own CA) and joined to the other over Cxi and Mxi across a pinned border. Figs 12, 13
 * and 14 run as in the primed case (the same scenarios), then a controller outage, then the border
 * recording between the two controller hosts is checked for leaks.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { etcdBinary } from '../../../host/controller/central/etcd-server.js';
import { CONTROL_FORMS, startIwnNetwork, type IwnConfiguration } from './iwn-network.js';
import { controllerDown, faultManagement, keyGenerationControl, keyTransfer, unprimedBorder } from './scenarios.js';

for (const fig of [6, 8] as IwnConfiguration[]) {
  const central = CONTROL_FORMS[fig].includes('centralized');
  const run = central && !etcdBinary() ? test.skip : test;
  if (central && !etcdBinary()) console.log(`unprimed.test.ts: Fig ${fig} skipped: no etcd binary (apt-get install etcd-server)`);
  run(`Fig ${fig} (${CONTROL_FORMS[fig].join('-')}) with the controllers and managers outside the IWN: Figs 12, 13, 14 over Ck, Cxi and Mxi; a controller outage; nothing internal crosses`, async () => {
    const net = await startIwnNetwork({ configuration: fig, controllers: 'outside' });
    try {
      assert.ok((await keyTransfer(net)).checks >= 12);
      assert.ok((await keyGenerationControl(net)).checks >= 18);
      assert.ok((await faultManagement(net)).checks >= 17);
      assert.ok((await controllerDown(net)).checks >= 14);
      // one more transfer whose keys the recording must not hold, and a report period for the XLMOs
      const enc = await net.alice.encKeys('bob', { number: 2 });
      assert.is(enc.status, 200, enc.raw);
      const dec = await net.bob.decKeys('alice', enc.body.keys.map((k) => k.key_ID));
      assert.equal(dec.body.keys, enc.body.keys);
      const since = net.mark();
      await net.waitFor('mxi-report', (e) => e.xlmo === 'xlmo-qkdn-b' && e.message === 'MxiAccounting', { since });
      assert.ok(unprimedBorder(net, enc.body.keys.map((k) => Buffer.from(k.key, 'base64'))).checks >= 16);
    } finally {
      await net.stop();
    }
  });
}

test.run();
