import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NONCE_BYTES, OFFLOAD_MIN_RECORDS, openRecord, RecordSealer, sealRecords, TAG_BYTES } from './record-sealer.js';
import { KeyStore } from './key-store.js';
import { StorageKey } from './storage-key.js';
import { deriveUnitId } from '../kq/unit-id.js';
import { StoreClosedError } from './errors.js';

const dek = crypto.createHash('sha256').update('record-sealer test key').digest();
const ads = Array.from({ length: 5 }, (_, i) => `id-${i}|B|link|256`);
const plain = Uint8Array.from({ length: 5 * 32 }, (_, i) => (i * 13 + 5) & 0xff);
const nonces = Uint8Array.from({ length: 5 * NONCE_BYTES }, (_, i) => (i * 7 + 1) & 0xff);

test('sealed records open with their own nonce and identity, and only with them', () => {
  const ct = sealRecords(crypto, dek, ads, plain, 32, nonces);
  assert.is(ct.length, 5 * (32 + TAG_BYTES));
  const rec = (i: number) => ct.subarray(i * 48, (i + 1) * 48);
  const nonce = (i: number) => nonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES);
  for (let i = 0; i < 5; i++) assert.equal(openRecord(dek, ads[i]!, nonce(i), rec(i)), plain.subarray(i * 32, (i + 1) * 32));
  // Another record's identity, another nonce or one flipped bit: refused.
  assert.throws(() => openRecord(dek, ads[1]!, nonce(0), rec(0)));
  assert.throws(() => openRecord(dek, ads[0]!, nonce(1), rec(0)));
  const bad = rec(2).slice();
  bad[3]! ^= 1;
  assert.throws(() => openRecord(dek, ads[2]!, nonce(2), bad));
});

test('the sealing thread seals exactly as the store thread does, in order, and ends with close()', async () => {
  const sealer = new RecordSealer(dek);
  try {
    const units = plain.slice();
    const [a, b] = await Promise.all([sealer.seal(ads, units, 32, nonces), sealer.seal(ads.slice(0, 2), plain.slice(0, 64), 32, nonces.subarray(0, 24))]);
    assert.equal(a, sealRecords(crypto, dek, ads, plain, 32, nonces));
    assert.equal(b, a.subarray(0, 96));
    assert.is(units.byteLength, 0, 'the units moved to the thread: no copy of them stays here');
  } finally {
    await sealer.close();
  }
  assert.not.ok(sealer.usable);
  try {
    await sealer.seal(ads, plain, 32, nonces);
    assert.unreachable('a closed sealer seals nothing');
  } catch (e) {
    assert.match(String(e), /closed/);
  }
});

test('a key store seals a large batch of link units on its thread: every unit reads back, and a store closed meanwhile writes none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-km-sealer-'));
  try {
    const open = () => KeyStore.open({ path: dir, nodeId: 'A', storageKey: StorageKey.openOrCreate(join(dir, 'storage.key')) });
    const n = OFFLOAD_MIN_RECORDS * 3;
    const bytes = (i: number) => Uint8Array.from({ length: 32 }, (_, j) => (i * 29 + j) & 0xff);
    const units = (from: number, count: number) => Array.from({ length: count }, (_, k) => ({ id: deriveUnitId('A~B', from + k), seq: from + k, bytes: bytes(from + k), allocator: 'A' }));
    let s = await open();
    assert.is(await s.addLinkUnits('B', units(0, n), 256), n);
    for (const i of [0, 1, n - 1]) assert.equal(s.readKey(deriveUnitId('A~B', i)), bytes(i));
    // Closed while the batch is on the sealing thread: the call fails and nothing of it is stored.
    // addLinkUnits hands the batch to the thread before its first await, so closing in the same
    // turn closes while the batch is there, however fast the thread is (a wait here would race it).
    const late = s.addLinkUnits('B', units(n, n), 256).then(() => 'stored', (e: unknown) => e);
    await s.close();
    assert.instance(await late, StoreClosedError);
    s = await open();
    try {
      assert.is(s.counts('B', 'link').available, n);
      assert.is(s.high('B', 'link'), n - 1);
    } finally {
      await s.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
