import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { hkdfSync, randomBytes } from 'node:crypto';
import type { SubkeySource } from '../../kq/link-store.js';
import { isDurable } from '../../kq/durable-env.js';
import { AuthPadLedger } from '../channel/ledger.js';
import { Direction } from '../channel/frame.js';
import { LinkState } from './link-state.js';

const psk = Uint8Array.from({ length: 1024 }, (_, i) => (i * 89 + 3) & 0xff);

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-link-state-'));
  // A node storage key as km's StorageKey derives from it (HKDF-SHA256 of a 256-bit key).
  const kek = randomBytes(32);
  const storageKey: SubkeySource = { derive: (salt, info) => Buffer.from(hkdfSync('sha256', kek, salt, info, 32)) };
  return { dir, storageKey, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('the link state (and the pad ledger in it) is a durable environment: a write resolves once flushed, not once committed', async () => {
  const t = setup();
  const state = await LinkState.open(t.dir, 'A~B', t.storageKey);
  assert.ok(isDurable(state.root), 'overlappingSync is off');
  const ledger = await AuthPadLedger.open(state.root, { linkId: 'A~B', keyBytes: 16, tagBytes: 16, sendDirection: Direction.AliceToBob, psk, window: 4 });
  // The index comes back only after its reservation's write resolved: reopened read-only, the
  // reservation is there.
  assert.is(await ledger.nextSendIndex(), 0);
  const ro = open({ path: join(t.dir, 'link'), readOnly: true, maxDbs: 8 });
  assert.is(ro.openDB({ name: 'qkd-link-auth:A~B' }).get('sendReserved'), 4);
  await ro.close();
  await state.close();
  t.done();
});

test.run();
