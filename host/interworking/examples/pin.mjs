#!/usr/bin/env node
// Pins each gateway's certificate in the other's `gateway.peer.fingerprint`, once both providers'
// PKIs exist (`qkdn-edge pki init`): run from an example's folder (fig3, fig4, fig5), as
// `node ../pin.mjs`. The two providers share no CA, so this pin is how each GWN knows its peer.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const pairs = [
  ['qkdn-a/gwn_a.yaml', 'qkdn-b/pki/nodes/gwn_b.pem'],
  ['qkdn-b/gwn_b.yaml', 'qkdn-a/pki/nodes/gwn_a.pem'],
];
for (const [config, peerCert] of pairs) {
  const fingerprint = new X509Certificate(readFileSync(peerCert)).fingerprint256;
  const text = readFileSync(config, 'utf8');
  const pinned = text.replace(/^(\s*fingerprint: )'[0-9A-F:]+'$/m, `$1'${fingerprint}'`);
  if (pinned === text && !text.includes(fingerprint)) throw new Error(`${config}: no gateway.peer.fingerprint line to pin`);
  writeFileSync(config, pinned);
  console.log(`${config}: peer pinned at ${fingerprint}`);
}
