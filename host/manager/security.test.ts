/** Security events from the interworking border: refused border messages and refused peer networks. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishBorderRefused, publishPeerRefused } from './diagnostics.js';
import { AlarmManager } from './alarms.js';
import { ManagerMetrics } from './metrics.js';
import { SecurityManager } from './security.js';
import { ManagerStore } from './store.js';

test('a message refused at the border and a refused peer network are security events and alarms', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-sec-'));
  const store = ManagerStore.open(dir);
  const alarms = new AlarmManager({ node: 'G1', store });
  const metrics = new ManagerMetrics('G1');
  let zeroized = 0;
  const sec = new SecurityManager({ node: 'G1', alarms, metrics, zeroize: async () => void zeroized++ });
  sec.start();
  try {
    publishBorderRefused({ provider: 'net-a', peer: 'net-b', message: 'SegmentReply', kind: 'internal-node', path: 'route[1]' });
    publishPeerRefused({ provider: 'net-a', fingerprint: 'ab:cd', code: 'ERR_IW_PIN', reason: 'certificate not pinned' });
    assert.equal(sec.events().map((e) => e.kind), ['peer-network-refused', 'border-refused']);
    assert.ok(alarms.isActive('border-refused', 'border:net-b'));
    assert.ok(alarms.isActive('auth-failure', 'peer-network:ab:cd'));
    assert.match(await metrics.text(), /qkdn_security_events_total\{kind="border-refused",node="G1"\} 1/);
    assert.is(zeroized, 0, 'no tamper: nothing zeroized');
  } finally {
    sec.stop();
    alarms.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
