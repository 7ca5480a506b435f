import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/** Whether any 16-byte piece of `secret` appears in `file`. */
function leaks(file: Buffer, secret: Uint8Array): boolean {
  for (let i = 0; i + 16 <= secret.length; i += 16) if (file.indexOf(Buffer.from(secret.subarray(i, i + 16))) >= 0) return true;
  return false;
}

test('authentication pads are sealed at rest under the storage key: neither the pre-shared secret nor a share is in the file, and another key opens nothing', async () => {
  const t = setup();
  const secret = Uint8Array.from({ length: 1024 }, (_, i) => (i * 151 + 17) & 0xff);
  const share = Uint8Array.from({ length: 256 }, (_, i) => (i * 43 + 201) & 0xff);
  let state = await LinkState.open(t.dir, 'A~B', t.storageKey);
  const o = { linkId: 'A~B', keyBytes: 16, tagBytes: 16, sendDirection: Direction.AliceToBob, psk: secret, window: 4 };
  let ledger = await AuthPadLedger.open(state.root, { ...o, sealer: state.padSealer });
  await ledger.replenish(share, 1);
  const pad = ledger.pad(Direction.AliceToBob, 1);
  await state.close();
  const file = readFileSync(join(t.dir, 'link', 'data.mdb'));
  assert.not.ok(leaks(file, secret), 'the pre-shared secret is not stored in the clear');
  assert.not.ok(leaks(file, share), 'the share is not stored in the clear');
  // The same storage key reopens it.
  state = await LinkState.open(t.dir, 'A~B', t.storageKey);
  ledger = await AuthPadLedger.open(state.root, { ...o, sealer: state.padSealer });
  assert.equal(ledger.pad(Direction.AliceToBob, 1), pad);
  await state.close();
  // Another storage key (what is left once zeroize destroyed this one) opens nothing.
  const other = randomBytes(32);
  const wrong: SubkeySource = { derive: (salt, info) => Buffer.from(hkdfSync('sha256', other, salt, info, 32)) };
  state = await LinkState.open(t.dir, 'A~B', wrong);
  let err: unknown;
  try {
    await AuthPadLedger.open(state.root, { ...o, sealer: state.padSealer });
  } catch (e) {
    err = e;
  }
  assert.match(String(err), /do not open with this node's storage key/);
  await state.close();
  t.done();
});

test('wipe (stop, zeroize) erases the pending blocks’ key held in memory', async () => {
  const t = setup();
  const state = await LinkState.open(t.dir, 'A~B', t.storageKey);
  const unitBytes = new Uint8Array(64).fill(0x5a);
  const auth = new Uint8Array(16).fill(0xa5);
  await state.putPending({ block: 1, u0: 0, units: 2, unitBytes, auth });
  state.wipe();
  assert.ok(unitBytes.every((b) => b === 0) && auth.every((b) => b === 0));
  await state.close();
  t.done();
});

test.run();
