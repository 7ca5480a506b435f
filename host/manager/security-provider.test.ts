/** Two networks' security managers in one process (an interworking node): each takes its own provider's border events only. */
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

test('a security manager given its provider ignores the border events of the other provider in its process', async () => {
  const dirs = ['a', 'b'].map((s) => mkdtempSync(join(tmpdir(), `qkdn-sec-${s}-`)));
  const sides = ['qkdn-a', 'qkdn-b'].map((provider, i) => {
    const store = ManagerStore.open(dirs[i]!);
    const node = `iwn-${provider.slice(-1)}`;
    const alarms = new AlarmManager({ node, store });
    const sec = new SecurityManager({ node, alarms, metrics: new ManagerMetrics(node), provider, zeroize: async () => {} });
    sec.start();
    return { store, alarms, sec };
  });
  try {
    publishBorderRefused({ provider: 'qkdn-a', peer: 'qkdn-b', message: 'CxiStatus', kind: 'internal-node', path: 'saes[0]' });
    publishPeerRefused({ provider: 'qkdn-b', fingerprint: 'ab:cd', code: 'ERR_IW_PIN', reason: 'certificate not pinned' });
    assert.equal(sides[0]!.sec.events().map((e) => e.kind), ['border-refused']);
    assert.equal(sides[1]!.sec.events().map((e) => e.kind), ['peer-network-refused']);
    assert.ok(sides[0]!.alarms.isActive('border-refused', 'border:qkdn-b'));
    assert.not.ok(sides[1]!.alarms.isActive('border-refused', 'border:qkdn-b'));
  } finally {
    for (const s of sides) {
      s.sec.stop();
      s.alarms.close();
      await s.store.close();
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});

test.run();
