import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { AuthPadLedger, MAX_REJECTED_PER_EPOCH, RESYNCS_PER_FLOOR } from './ledger.js';
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
  const la = await AuthPadLedger.open(a.root, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.AliceToBob, psk });
  const lb = await AuthPadLedger.open(b.root, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.BobToAlice, psk });
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
  let l = await AuthPadLedger.open(t.root, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.AliceToBob, psk, window: 4 });
  const used = [await l.nextSendIndex(), await l.nextSendIndex(), await l.nextSendIndex()];
  assert.equal(used, [0, 1, 2]);
  await t.root.close();
  const root2 = t.reopen();
  l = await AuthPadLedger.open(root2, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.AliceToBob, psk, window: 4 });
  const next = await l.nextSendIndex();
  assert.ok(next >= 3, `resumed at ${next}`);
  await root2.close();
  rmSync(t.dir, { recursive: true });
});

test('a restarted receiver refuses frames it may already have accepted', async () => {
  const t = tempRoot();
  let l = await AuthPadLedger.open(t.root, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.BobToAlice, psk, window: 4 });
  await l.accept(0);
  await l.accept(1);
  assert.throws(() => l.checkFresh(1), (e: unknown) => e instanceof ChannelReplayError);
  await t.root.close();
  const root2 = t.reopen();
  l = await AuthPadLedger.open(root2, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.BobToAlice, psk, window: 4 });
  for (const i of [0, 1]) assert.throws(() => l.checkFresh(i), (e: unknown) => e instanceof ChannelReplayError);
  await root2.close();
  rmSync(t.dir, { recursive: true });
});

test('running out of authentication key is a typed error, and replenishing restores it', async () => {
  const t = tempRoot();
  const l = await AuthPadLedger.open(t.root, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.AliceToBob, psk: psk.subarray(0, 64), window: 1 });
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

test('frames of an epoch share its hash key and each take their own tag mask', async () => {
  const t = tempRoot();
  const l = await AuthPadLedger.open(t.root, { linkId: 'L', keyBytes: 8, tagBytes: 8, framesPerKey: 4, sendDirection: Direction.AliceToBob, psk });
  const pads = [0, 1, 2, 3, 4].map((i) => Array.from(l.pad(Direction.AliceToBob, i)));
  // Epoch 0: key = bytes 0-7, masks at 8, 16, 24, 32; epoch 1 starts at byte 40.
  for (let i = 0; i < 4; i++) {
    assert.equal(pads[i]!.slice(0, 8), Array.from(psk.subarray(0, 8)));
    assert.equal(pads[i]!.slice(8), Array.from(psk.subarray(8 + 8 * i, 16 + 8 * i)));
  }
  assert.equal(pads[4], Array.from(psk.subarray(40, 56)));
  // 128 bytes per direction: three whole epochs (120 bytes) and no room for a fourth key and mask.
  assert.is(l.stats().remainingSendPads, 12);
  await t.root.close();
  rmSync(t.dir, { recursive: true });
});

test('the share of a block is added once even if its commit is finished twice, and survives a restart', async () => {
  const t = tempRoot();
  let l = await AuthPadLedger.open(t.root, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.AliceToBob, psk });
  const before = l.stats().remainingSendPads;
  let extra = 0;
  assert.ok(await l.replenish(new Uint8Array(64).fill(7), 5, () => { extra++; }));
  assert.not.ok(await l.replenish(new Uint8Array(64).fill(7), 5, () => { extra++; }));
  assert.is(extra, 2);
  assert.is(l.stats().remainingSendPads, before + 2);
  await t.root.close();
  const root2 = t.reopen();
  l = await AuthPadLedger.open(root2, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.AliceToBob, psk });
  assert.is(l.lastReplenishedBlock, 5);
  assert.not.ok(await l.replenish(new Uint8Array(64).fill(7), 4));
  await rejectsOtherLayout(root2);
  await root2.close();
  rmSync(t.dir, { recursive: true });
});

test('forgery attempts move nothing until an epoch has had its share; then only that epoch is retired, durably', async () => {
  const t = tempRoot();
  const o = { linkId: 'L', keyBytes: 8, tagBytes: 8, framesPerKey: 4, sendDirection: Direction.BobToAlice, psk: new Uint8Array(4096).fill(3), window: 4 };
  let l = await AuthPadLedger.open(t.root, o);
  await l.accept(0);
  for (let i = 1; i < MAX_REJECTED_PER_EPOCH; i++) assert.not.ok(await l.rejected(9), `attempt ${i} retires nothing`);
  assert.is(l.floor, 1, 'the floor stays');
  await t.root.close();
  const root2 = t.reopen();
  l = await AuthPadLedger.open(root2, o);
  assert.is(l.rejectedAttempts(9), MAX_REJECTED_PER_EPOCH - 1, 'the attempts survive a restart');
  // The last allowed attempt against epoch 2 (pads 8-11) retires it: the floor moves to pad 12.
  assert.ok(await l.rejected(10));
  assert.is(l.floor, 12);
  assert.throws(() => l.checkFresh(11), (e: unknown) => e instanceof ChannelReplayError);
  await root2.close();
  rmSync(t.dir, { recursive: true });
});

test('resyncs answering stale hellos are capped per floor, and the cap resets when the floor moves', async () => {
  const t = tempRoot();
  const l = await AuthPadLedger.open(t.root, { linkId: 'L', keyBytes: 8, tagBytes: 8, sendDirection: Direction.BobToAlice, psk });
  const granted = Array.from({ length: 10 }, () => l.takeResync()).filter(Boolean).length;
  assert.is(granted, RESYNCS_PER_FLOOR);
  await l.accept(0);
  assert.ok(l.takeResync());
  await t.root.close();
  rmSync(t.dir, { recursive: true });
});

test('concurrent senders never get the same pad index, across a reservation window', async () => {
  const t = tempRoot();
  const l = await AuthPadLedger.open(t.root, { linkId: 'L', keyBytes: 8, tagBytes: 8, framesPerKey: 4, sendDirection: Direction.AliceToBob, psk: new Uint8Array(4096).fill(1), window: 4 });
  const got = await Promise.all(Array.from({ length: 20 }, () => l.nextSendIndex()));
  assert.equal([...got].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
  await t.root.close();
  rmSync(t.dir, { recursive: true });
});

async function rejectsOtherLayout(root: RootDatabase): Promise<void> {
  let err: unknown;
  try { await AuthPadLedger.open(root, { linkId: 'L', keyBytes: 16, tagBytes: 16, sendDirection: Direction.AliceToBob, psk }); } catch (e) { err = e; }
  assert.ok(err instanceof RangeError && /pad layout 8\/8\/1/.test(err.message), String(err));
}

test.run();
