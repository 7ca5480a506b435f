/**
 * An interworking node between two providers over real processes (Y.3818 Fig 6, both networks
 * distributed, both controllers and both managers in the IWN): the procedures of clause 9.2.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startIwnNetwork, type IwnNetwork } from './iwn-network.js';
import { keyTransfer, tamper, transferFault } from './scenarios.js';

let net: IwnNetwork;
test.before(async () => {
  net = await startIwnNetwork();
});
test.after(async () => {
  await net?.stop();
});

test('Fig 12 key transfer in Fig 6: alice in QKDN-A and bob in QKDN-B get the same keys once, through the IWN', async () => {
  const r = await keyTransfer(net);
  assert.ok(r.checks >= 12);
  // and again, larger keys: every transfer uses fresh pads and fresh link units
  await keyTransfer(net, { number: 3, size: 512 });
});

test('Figs 13 and 14 in Fig 6: a failed transfer (bob’s KME down) suspends transfer at both controllers, goes KMLM-A → XLMO-A → XLMO-B to both QCLMs, and resumes when it is back', async () => {
  const r = await transferFault(net);
  assert.ok(r.checks >= 20, `${r.checks} checks`);
});

test('a tamper in the IWN zeroizes both KM-A and KM-B', async () => {
  const r = await tamper(net);
  assert.ok(r.checks >= 4);
});

test.run();
