import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SubkeySource } from '../../../kq/link-store.js';
import { open } from 'lmdb';
import { isDurable } from '../../../kq/durable-env.js';
import { AuthPadLedger } from '../../channel/ledger.js';
import { Direction } from '../../channel/frame.js';
import { LinkError } from '../errors.js';
import { LinkState, type PendingBlock } from './link-state.js';

/** A storage key as Kq sees it: HKDF subkeys of a 256-bit secret. */
const storageKey = (secret = randomBytes(32)): SubkeySource => ({ derive: (salt, info) => Buffer.from(hkdfSync('sha256', secret, salt, info, 32)) });

const block = (n: number, u0: number, units: number): PendingBlock => ({
  block: n,
  u0,
  units,
  unitBytes: Uint8Array.from({ length: units * 32 }, (_, i) => (i * 7 + n) & 0xff),
  auth: Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i),
});

async function inDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-link-state-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a pending block survives a restart, sealed: its key never lies on disk in the clear, and another storage key cannot open it', async () => {
  await inDir(async (dir) => {
    const key = storageKey();
    let s = await LinkState.open(dir, 'A~B', key);
    const p = block(3, 100, 4);
    const expected = Uint8Array.from(p.unitBytes);
    await s.putPending(p);
    await s.close();
    const disk = Buffer.concat(readdirSync(join(dir, 'link')).map((f) => readFileSync(join(dir, 'link', f))));
    assert.is(disk.indexOf(Buffer.from(expected.subarray(0, 32))), -1, 'no unit in the clear on disk');
    s = await LinkState.open(dir, 'A~B', key);
    try {
      assert.equal(s.pending().map((q) => [q.block, q.u0, q.units]), [[3, 100, 4]]);
      assert.equal(s.getPending(3)!.unitBytes, expected);
      assert.is(s.lastBlock, 3, 'a pending block counts as seen');
      assert.is(s.committed, 0);
    } finally {
      await s.close();
    }
    try {
      await LinkState.open(dir, 'A~B', storageKey());
      assert.unreachable('opened with another storage key');
    } catch (e) {
      assert.instance(e, LinkError);
      assert.is((e as LinkError).code, 'ERR_LINK_STORE');
    }
  });
});

test('finishing a commit advances the next unit and the committed block in one durable step, hands the share to the ledger once and erases the key', async () => {
  await inDir(async (dir) => {
    const key = storageKey();
    let s = await LinkState.open(dir, 'A~B', key);
    const p = block(1, 0, 8);
    await s.putPending(p);
    const shares: Array<[number, string]> = [];
    await s.finish(p, async (material, b, extra) => {
      shares.push([b, Buffer.from(material).toString('hex')]);
      await s.root.transaction(() => extra());
    });
    assert.equal(shares, [[1, Buffer.from(block(1, 0, 8).auth).toString('hex')]]);
    assert.ok(p.unitBytes.every((x) => x === 0) && p.auth.every((x) => x === 0), 'key and share erased from memory');
    assert.equal([s.nextUnit, s.committed, s.pending().length], [8, 1, 0]);
    await s.close();
    s = await LinkState.open(dir, 'A~B', key);
    try {
      assert.equal([s.nextUnit, s.committed, s.pending().length], [8, 1, 0], 'the same after a restart');
    } finally {
      await s.close();
    }
  });
});

test('a commit whose ledger step fails changes nothing: the block stays pending, the indexes stay put', async () => {
  await inDir(async (dir) => {
    const key = storageKey();
    let s = await LinkState.open(dir, 'A~B', key);
    const p = block(2, 16, 2);
    await s.putPending(p);
    try {
      await s.finish(p, async () => {
        throw new Error('ledger full');
      });
      assert.unreachable('finished without its ledger step');
    } catch (e) {
      assert.instance(e, LinkError);
    }
    assert.equal([s.nextUnit, s.committed, s.pending().length], [0, 0, 1]);
    await s.close();
    s = await LinkState.open(dir, 'A~B', key);
    try {
      assert.equal([s.nextUnit, s.committed, s.pending().map((q) => q.block)], [0, 0, [2]]);
    } finally {
      await s.close();
    }
  });
});

test('a block the peer never committed is destroyed for good; unit indexes only move forward', async () => {
  await inDir(async (dir) => {
    const key = storageKey();
    let s = await LinkState.open(dir, 'A~B', key);
    const p = block(5, 40, 1);
    await s.putPending(p);
    await s.destroy(5);
    assert.ok(p.unitBytes.every((x) => x === 0), 'its key erased');
    await s.atLeast(64);
    await s.atLeast(10);
    assert.is(s.nextUnit, 64);
    s.noteBlock(9);
    s.noteBlock(7);
    assert.is(s.lastBlock, 9);
    await s.close();
    s = await LinkState.open(dir, 'A~B', key);
    try {
      assert.equal([s.pending().length, s.nextUnit], [0, 64]);
      assert.ok(s.lastBlock >= 5, 'block numbers are not reused after a restart');
    } finally {
      await s.close();
    }
  });
});

const psk = Uint8Array.from({ length: 1024 }, (_, i) => (i * 89 + 3) & 0xff);

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-link-state-'));
  return { dir, storageKey: storageKey(), done: () => rmSync(dir, { recursive: true, force: true }) };
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
  state = await LinkState.open(t.dir, 'A~B', storageKey());
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
