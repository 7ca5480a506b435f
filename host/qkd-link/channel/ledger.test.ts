import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { AuthPadLedger } from './ledger.js';
import { Direction } from './frame.js';
import { AuthKeyExhaustedError, ChannelReplayError } from './errors.js';

const psk = Uint8Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff);

function tempRoot(): { root: RootDatabase; dir: string; reopen(): RootDatabase } {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-ledger-'));
  return { dir, root: open({ path: dir }), reopen: () => open({ path: dir }) };
}

test('both ends derive the same pads from the pre-shared secret, one stream per direction', async () => {
  const a = tempRoot();
  const b = tempRoot();
  const la = await AuthPadLedger.open(a.root, { linkId: 'L', padBytes: 16, sendDirection: Direction.AliceToBob, psk });
  const lb = await AuthPadLedger.open(b.root, { linkId: 'L', padBytes: 16, sendDirection: Direction.BobToAlice, psk });
  assert.equal(la.pad(Direction.AliceToBob, 3), lb.pad(Direction.AliceToBob, 3));
  assert.equal(la.pad(Direction.BobToAlice, 0), lb.pad(Direction.BobToAlice, 0));
  assert.not.equal(la.pad(Direction.AliceToBob, 0), la.pad(Direction.BobToAlice, 0));
  // The first half of the secret feeds Alice->Bob, the second half Bob->Alice.
  assert.equal(Array.from(la.pad(Direction.AliceToBob, 0)), Array.from(psk.subarray(0, 16)));
  assert.equal(Array.from(la.pad(Direction.BobToAlice, 0)), Array.from(psk.subarray(128, 144)));
  a.root.close(); b.root.close();
  rmSync(a.dir, { recursive: true }); rmSync(b.dir, { recursive: true });
});

test('a restarted sender never reuses a pad it may have used', async () => {
  const t = tempRoot();
  let l = await AuthPadLedger.open(t.root, { linkId: 'L', padBytes: 16, sendDirection: Direction.AliceToBob, psk, window: 4 });
  const used = [await l.nextSendIndex(), await l.nextSendIndex(), await l.nextSendIndex()];
  assert.equal(used, [0, 1, 2]);
  await t.root.close();
  const root2 = t.reopen();
  l = await AuthPadLedger.open(root2, { linkId: 'L', padBytes: 16, sendDirection: Direction.AliceToBob, psk, window: 4 });
  const next = await l.nextSendIndex();
  assert.ok(next >= 3, `resumed at ${next}`);
  await root2.close();
  rmSync(t.dir, { recursive: true });
});

test('a restarted receiver refuses frames it may already have accepted', async () => {
  const t = tempRoot();
  let l = await AuthPadLedger.open(t.root, { linkId: 'L', padBytes: 16, sendDirection: Direction.BobToAlice, psk, window: 4 });
  await l.accept(0);
  await l.accept(1);
  assert.throws(() => l.checkFresh(1), (e: unknown) => e instanceof ChannelReplayError);
  await t.root.close();
  const root2 = t.reopen();
  l = await AuthPadLedger.open(root2, { linkId: 'L', padBytes: 16, sendDirection: Direction.BobToAlice, psk, window: 4 });
  for (const i of [0, 1]) assert.throws(() => l.checkFresh(i), (e: unknown) => e instanceof ChannelReplayError);
  await root2.close();
  rmSync(t.dir, { recursive: true });
});

test('running out of authentication key is a typed error, and replenishing restores it', async () => {
  const t = tempRoot();
  const l = await AuthPadLedger.open(t.root, { linkId: 'L', padBytes: 16, sendDirection: Direction.AliceToBob, psk: psk.subarray(0, 64), window: 1 });
  await l.nextSendIndex();
  await l.nextSendIndex();
  let err: unknown;
  try { await l.nextSendIndex(); } catch (e) { err = e; }
  assert.ok(err instanceof AuthKeyExhaustedError);
  assert.is((err as AuthKeyExhaustedError).code, 'ERR_CHANNEL_AUTH_KEY_EXHAUSTED');
  await l.replenish(psk.subarray(64, 128));
  assert.is(await l.nextSendIndex(), 2);
  assert.is(l.stats().consumedBits, 3 * 16 * 8);
  await t.root.close();
  rmSync(t.dir, { recursive: true });
});

test.run();
