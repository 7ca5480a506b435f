import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SubkeySource } from '../../kq/link-store.js';
import { LinkError } from './errors.js';
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

test.run();
