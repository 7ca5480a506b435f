/**
 * An interworking node between two providers over real processes, in each configuration of
 * Y.3818 clause 8.2 (Fig 6 distributed-distributed, Fig 7 centralized QKDN-A and distributed
 * QKDN-B, Fig 8 centralized-centralized; the centralized networks on `qkdn-edge controller` with
 * a real etcd): the procedures of clause 9.2 (Figs 12, 13, 14), both networks' managers in the IWN and the tamper response.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { etcdBinary } from '../../../host/controller/central/etcd-server.js';
import { CONTROL_FORMS, startIwnNetwork, type IwnConfiguration } from './iwn-network.js';
import { faultManagement, keyGenerationControl, keyTransfer, managers, tamper } from './scenarios.js';

for (const fig of [6, 7, 8] as IwnConfiguration[]) {
  const central = CONTROL_FORMS[fig].includes('centralized');
  const run = central && !etcdBinary() ? test.skip : test;
  if (central && !etcdBinary()) console.log(`iwn.test.ts: Fig ${fig} skipped: no etcd binary (apt-get install etcd-server)`);
  run(`Fig ${fig} (${CONTROL_FORMS[fig].join('-')}): Fig 12 key transfer, Figs 13 and 14 on a failed transfer, then a tamper zeroizing both KMs`, async () => {
    const net = await startIwnNetwork({ configuration: fig });
    try {
      // Fig 12: alice in QKDN-A and bob in QKDN-B get the same keys once, through the IWN; again with larger keys
      assert.ok((await keyTransfer(net)).checks >= 12);
      await keyTransfer(net, { number: 3, size: 512 });
      // Fig 13: bob's KME down; both controllers suspend transfer towards bob, and resume when it is back
      assert.ok((await keyGenerationControl(net)).checks >= 18);
      // Fig 14: the same fault, KMLM-A → XLMO-A → XLMO-B (sealed, Mxi'), both QCLMs decide alike
      assert.ok((await faultManagement(net)).checks >= 17);
      // both networks' managers run in the IWN, each reporting its own network only
      assert.ok((await managers(net)).checks >= 14);
      // a tamper in the IWN zeroizes KM-A and KM-B
      assert.ok((await tamper(net)).checks >= 4);
    } finally {
      await net.stop();
    }
  });
}

test.run();
