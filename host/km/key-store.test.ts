import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createCipheriv, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import { join } from 'node:path';
import { open } from 'lmdb';
import { KeyStore } from './key-store.js';
import type { KeyChange } from './key-record.js';
import { openRecord } from './record-sealer.js';
import { StorageKey } from './storage-key.js';
import { canTransition, holdsKeyBytes, KEY_STATES, type KeyState } from './key-state.js';
import { isKeyId } from './key-id.js';
import { deriveUnitId } from '../kq/unit-id.js';
import { KeyIntegrityError, KeyNotAvailableError, KeyStateError, StorageKeyError, ZeroizedError } from './errors.js';

async function rejects(p: Promise<unknown>, check?: (e: unknown) => boolean): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (check && !check(e)) throw new assert.Assertion({ message: `unexpected error: ${String(e)}`, generated: false, operator: 'rejects', expects: 'matching error', actual: e });
    return;
  }
  assert.unreachable('expected a rejection');
}

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'qkdn-km-store-'));
  dirs.push(d);
  return d;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function unitBytes(i: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7 + 1) & 0xff);
}

async function openStore(dir: string, node = 'A'): Promise<KeyStore> {
  return KeyStore.open({ path: dir, nodeId: node, storageKey: StorageKey.openOrCreate(join(dir, 'storage.key')) });
}

async function fill(s: KeyStore, n: number, peer = 'B', allocator = 'A'): Promise<string[]> {
  const units = Array.from({ length: n }, (_, i) => ({ id: deriveUnitId('A~B', i), seq: i, bytes: unitBytes(i), allocator }));
  await s.addLinkUnits(peer, units, 256);
  return units.map((u) => u.id);
}

test('unit IDs are UUIDs that both link ends derive identically', () => {
  const a = deriveUnitId('A~B', 7);
  assert.ok(isKeyId(a));
  assert.is(a, deriveUnitId('A~B', 7));
  assert.is.not(a, deriveUnitId('A~B', 8));
  assert.is.not(a, deriveUnitId('A~C', 7));
  assert.is(a[14], '8'); // version 8
});

test('a key goes available → reserved → delivered and its bytes are erased on delivery', async () => {
  const s = await openStore(tmp());
  const ids = await fill(s, 4);
  assert.is(s.allocatable('B', 'link'), 4);
  // Only the units the peer also holds (seq ≤ its high) can be taken.
  assert.is(s.allocatable('B', 'link', 1), 2);
  assert.is(s.take('B', 'link', 3, 1), null);
  const got = s.take('B', 'link', 2)!;
  assert.equal(got, ids.slice(0, 2));
  assert.is(s.allocatable('B', 'link'), 2);
  await s.commit({ change: got.map((id) => ({ id, from: ['available'], to: 'reserved', fields: { purpose: 'supply', master: 'm', slaves: ['s'], phase: 'await-sae' } })) });
  assert.equal(Array.from(s.readKey(got[0]!)), Array.from(unitBytes(0)));
  await s.commit({ change: [{ id: got[0]!, from: ['reserved'], to: 'delivered' }] });
  assert.is(s.get(got[0]!)!.state, 'delivered');
  assert.throws(() => s.readKey(got[0]!), (e: unknown) => e instanceof KeyNotAvailableError);
  assert.is(s.counts('B', 'link').delivered, 1);
  assert.is(s.counts('B', 'link').reserved, 1);
  await s.close();
});

test('key bytes never reach the disk in clear, and a moved ciphertext fails its integrity check', async () => {
  const dir = tmp();
  const s = await openStore(dir);
  await fill(s, 8);
  await s.close();
  const raw = readFileSync(join(dir, 'km.lmdb'));
  for (let i = 0; i < 8; i++) assert.is(raw.indexOf(Buffer.from(unitBytes(i).subarray(0, 16))), -1, `unit ${i} in clear on disk`);
  assert.is((statSync(join(dir, 'storage.key')).mode & 0o777).toString(8), '600');
});

test('a wrong storage key does not open the store', async () => {
  const dir = tmp();
  const s = await openStore(dir);
  await fill(s, 1);
  await s.close();
  const other = tmp();
  const wrong = StorageKey.openOrCreate(join(other, 'storage.key'));
  try {
    await KeyStore.open({ path: dir, nodeId: 'A', storageKey: wrong });
    assert.unreachable('opened with a wrong key');
  } catch (e) {
    assert.instance(e, StorageKeyError);
  }
});

test('a passphrase-wrapped storage key needs its passphrase', () => {
  const dir = tmp();
  const p = join(dir, 'storage.key');
  const k = StorageKey.openOrCreate(p, 'correct horse');
  const sub = k.derive(new Uint8Array(32), 'x');
  assert.equal(StorageKey.open(p, 'correct horse').derive(new Uint8Array(32), 'x'), sub);
  assert.throws(() => StorageKey.open(p, 'wrong'), (e: unknown) => e instanceof StorageKeyError);
  assert.throws(() => StorageKey.open(p), (e: unknown) => e instanceof StorageKeyError);
  writeFileSync(join(dir, 'loose.key'), readFileSync(p), { mode: 0o644 });
  assert.throws(() => StorageKey.open(join(dir, 'loose.key'), 'correct horse'), /readable by group or others/);
});

test('a passphrase-wrapped storage key records its scrypt parameters (N = 2^17), and a file from before them (N = 2^15) still opens', () => {
  const dir = tmp();
  const p = join(dir, 'storage.key');
  StorageKey.openOrCreate(p, 'pass');
  const f = JSON.parse(readFileSync(p, 'utf8')) as { N: number; r: number; p: number };
  assert.equal([f.N, f.r, f.p], [2 ** 17, 8, 1]);
  // A legacy file: the same format without N, r, p, wrapped with N = 2^15.
  const kek = randomBytes(32);
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const wk = scryptSync('old', salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  const c = createCipheriv('aes-256-gcm', wk, nonce);
  c.setAAD(Buffer.from('qkdn-edge storage key v1'));
  const wrapped = Buffer.concat([c.update(kek), c.final()]);
  const legacy = join(dir, 'legacy.key');
  writeFileSync(legacy, JSON.stringify({ v: 1, kind: 'scrypt', salt: salt.toString('base64'), nonce: nonce.toString('base64'), wrapped: wrapped.toString('base64'), tag: c.getAuthTag().toString('base64') }), { mode: 0o600 });
  const info = new Uint8Array(32);
  assert.equal(StorageKey.open(legacy, 'old').derive(info, 'x'), Buffer.from(hkdfSync('sha256', kek, info, 'x', 32)));
});

test('illegal transitions are refused and a batch with one bad change writes nothing', async () => {
  const s = await openStore(tmp());
  const ids = await fill(s, 3);
  await s.commit({ change: [{ id: ids[0]!, from: ['available'], to: 'consumed' }] });
  // consumed → available is not a transition at all
  await rejects(s.commit({ change: [{ id: ids[0]!, from: ['consumed'], to: 'available' }] }), (e: unknown) => e instanceof KeyStateError);
  // a batch: first change fine, second from a wrong state → neither applies
  await rejects(
    s.commit({ change: [{ id: ids[1]!, from: ['available'], to: 'reserved' }, { id: ids[0]!, from: ['available'], to: 'reserved' }] }),
    (e: unknown) => e instanceof KeyNotAvailableError,
  );
  assert.is(s.get(ids[1]!)!.state, 'available');
  assert.is(s.get(ids[0]!)!.state, 'consumed');
  await s.close();
});

test('burn is idempotent, skips terminal keys and tombstones units not yet received', async () => {
  const s = await openStore(tmp());
  const ids = await fill(s, 2);
  await s.commit({ change: [{ id: ids[0]!, from: ['available'], to: 'consumed' }] });
  const future = deriveUnitId('A~B', 5);
  await s.commit({ burn: [{ id: ids[0]!, to: 'voided', reason: 'peer' }, { id: ids[1]!, to: 'voided', reason: 'peer' }, { id: future, to: 'voided', reason: 'peer', peer: 'B' }] });
  assert.is(s.get(ids[0]!)!.state, 'consumed');
  assert.is(s.get(ids[1]!)!.state, 'voided');
  await s.addLinkUnits('B', [{ id: future, seq: 5, bytes: unitBytes(5), allocator: 'A' }], 256);
  assert.is(s.get(future)!.state, 'voided', 'a voided unit must not come back when the source pushes it');
  assert.is(s.allocatable('B', 'link'), 0);
  await s.close();
});

test('reserved keys awaiting a peer answer are reported in doubt after a restart, with the outbox', async () => {
  const dir = tmp();
  let s = await openStore(dir);
  const ids = await fill(s, 3);
  await s.commit({
    change: [
      { id: ids[0]!, from: ['available'], to: 'reserved', fields: { phase: 'await-peer', op: 'x' } },
      { id: ids[1]!, from: ['available'], to: 'reserved', fields: { phase: 'await-sae', op: 'y' } },
    ],
    outbox: [{ peer: 'B', origin: 'link', ids: [ids[2]!], reason: 'test' }],
  });
  await s.close();
  s = await openStore(dir);
  const doubt = s.takeInDoubt();
  assert.equal(doubt.map((r) => r.id), [ids[0]]);
  assert.equal(s.takeInDoubt(), []);
  const ob = s.outbox('B');
  assert.is(ob.length, 1);
  assert.equal(ob[0]!.ids, [ids[2]]);
  await s.commit({ outboxDone: [{ peer: 'B', seq: ob[0]!.seq }] });
  assert.equal(s.outbox('B'), []);
  assert.is(s.allocatable('B', 'link'), 1);
  await s.close();
});

test('take respects the allocator, the peer watermark and release', async () => {
  const s = await openStore(tmp());
  const units = Array.from({ length: 6 }, (_, i) => ({ id: deriveUnitId('A~B', i), seq: i, bytes: unitBytes(i), allocator: i % 2 === 0 ? 'A' : 'B' }));
  await s.addLinkUnits('B', units, 256);
  assert.is(s.allocatable('B', 'link'), 3);
  assert.is(s.take('B', 'link', 2, 1), null, 'only unit 0 is at or below the watermark');
  const t = s.take('B', 'link', 2, 2)!;
  assert.equal(t, [units[0]!.id, units[2]!.id]);
  s.release(t);
  assert.is(s.allocatable('B', 'link'), 3);
  await s.close();
});

test('zeroize destroys the storage key: nothing can be read, the store cannot be reopened', async () => {
  const dir = tmp();
  const s = await openStore(dir);
  const ids = await fill(s, 2);
  await s.zeroize();
  assert.not.ok(existsSync(join(dir, 'storage.key')));
  assert.throws(() => s.readKey(ids[0]!), (e: unknown) => e instanceof ZeroizedError);
  await s.close();
  // A new storage key gets created but it does not open the old store.
  await rejects(openStore(dir), (e: unknown) => e instanceof StorageKeyError);
  assert.ok(readdirSync(dir).includes('km.lmdb'));
});

test('relay keys get arrival seqs and the allocator decides who may take them', async () => {
  const s = await openStore(tmp());
  await s.commit({
    create: [
      { id: 'a0000000-0000-4000-8000-000000000001', peer: 'D', origin: 'relay', allocator: 'A', bytes: unitBytes(1), state: 'available' },
      { id: 'a0000000-0000-4000-8000-000000000002', peer: 'D', origin: 'relay', allocator: 'D', bytes: unitBytes(2), state: 'available' },
    ],
  });
  assert.equal([s.get('a0000000-0000-4000-8000-000000000001')!.seq, s.get('a0000000-0000-4000-8000-000000000002')!.seq], [0, 1]);
  assert.is(s.allocatable('D', 'relay'), 1);
  assert.equal(Array.from(s.readKey('a0000000-0000-4000-8000-000000000002')), Array.from(unitBytes(2)));
  await rejects(s.commit({ create: [{ id: 'a0000000-0000-4000-8000-000000000001', peer: 'D', origin: 'relay', allocator: 'A', bytes: unitBytes(1), state: 'available' }] }));
  await s.close();
});

// Model-based property: random batches of transitions against a plain model of the state machine.
test('property: the store follows the one-life state machine exactly, atomically, across reopen', async () => {
  const N = 6;
  const stateArb = fc.constantFrom<KeyState>(...KEY_STATES.filter((s) => s !== 'destroyed'));
  const changeArb = fc.record({ key: fc.integer({ min: 0, max: N - 1 }), from: fc.array(stateArb, { minLength: 1, maxLength: 2 }), to: stateArb });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(changeArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 0, max: 11 }), async (batches, reopenAt) => {
      const dir = tmp();
      let s = await openStore(dir);
      const ids = await fill(s, N);
      const model: KeyState[] = Array.from({ length: N }, () => 'available');
      try {
        for (let bi = 0; bi < batches.length; bi++) {
          const batch = batches[bi]!;
          const changes: KeyChange[] = batch.map((c) => ({ id: ids[c.key]!, from: c.from, to: c.to }));
          const keys = new Set(batch.map((c) => c.key));
          const ok = keys.size === batch.length && batch.every((c) => c.from.includes(model[c.key]!) && canTransition(model[c.key]!, c.to));
          let threw = false;
          try {
            await s.commit({ change: changes });
          } catch {
            threw = true;
          }
          assert.is(threw, !ok, `batch ${JSON.stringify(batch)} on ${JSON.stringify(model)}`);
          if (ok) for (const c of batch) model[c.key] = c.to;
          if (bi === reopenAt) {
            await s.close();
            s = await openStore(dir);
            s.takeInDoubt();
          }
          for (let k = 0; k < N; k++) {
            const r = s.get(ids[k]!)!;
            assert.is(r.state, model[k]);
            if (holdsKeyBytes(r.state)) assert.equal(Array.from(s.readKey(ids[k]!)), Array.from(unitBytes(k)));
            else assert.throws(() => s.readKey(ids[k]!));
          }
          assert.is(s.allocatable('B', 'link'), model.filter((m) => m === 'available').length);
        }
      } finally {
        await s.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 40, seed: 20240611 },
  );
});

test('integrity: a record whose ciphertext is swapped with another key fails', async () => {
  // Records are bound to their ID: decrypting key 1's ciphertext as key 0 must fail.
  const dir = tmp();
  const s = await openStore(dir);
  const ids = await fill(s, 2);
  // Reach into LMDB through a second handle to simulate an attacker with disk access.
  const { open } = await import('lmdb');
  const root = open({ path: join(dir, 'km.lmdb'), maxDbs: 8, compression: false });
  const keys = root.openDB<Record<string, unknown>, string>({ name: 'keys', encoding: 'msgpack' });
  const r0 = keys.get(ids[0]!)!;
  const r1 = keys.get(ids[1]!)!;
  await keys.put(ids[0]!, { ...r0, n: r1.n, ct: r1.ct });
  await root.close();
  assert.throws(() => s.readKey(ids[0]!), (e: unknown) => e instanceof KeyIntegrityError);
  await s.close();
});

test('data keys rotate per epoch: records sealed across epochs all read back, also after a restart', async () => {
  const dir = tmp();
  const open = () => KeyStore.open({ path: dir, nodeId: 'A', storageKey: StorageKey.openOrCreate(join(dir, 'storage.key')), recordsPerEpoch: 4 });
  let s = await open();
  for (let i = 0; i < 10; i++) await s.addLinkUnits('B', [{ id: deriveUnitId('A~B', i), seq: i, bytes: unitBytes(i), allocator: 'A' }], 256);
  const epochs = readdirSync(join(dir, 'epochs'));
  assert.is(epochs.length, 3, `ten records at four per epoch: ${epochs.join(', ')}`);
  for (let i = 0; i < 10; i++) assert.equal(s.readKey(deriveUnitId('A~B', i)), unitBytes(i));
  await s.close();
  s = await open();
  for (let i = 0; i < 10; i++) assert.equal(s.readKey(deriveUnitId('A~B', i)), unitBytes(i));
  await s.close();
});

test('a crash while an epoch key is written or destroyed leaves the store openable (no torn <n>.key), and the leftovers are destroyed', async () => {
  const dir = tmp();
  const open = () => KeyStore.open({ path: dir, nodeId: 'A', storageKey: StorageKey.openOrCreate(join(dir, 'storage.key')), recordsPerEpoch: 4 });
  let s = await open();
  for (let i = 0; i < 6; i++) await s.addLinkUnits('B', [{ id: deriveUnitId('A~B', i), seq: i, bytes: unitBytes(i), allocator: 'A' }], 256);
  await s.close();
  // What SIGKILL leaves mid-write (an empty temporary file) and mid-destroy (random bytes).
  const epochs = join(dir, 'epochs');
  writeFileSync(join(epochs, '97.key.tmp'), '');
  writeFileSync(join(epochs, '98.key.destroy'), randomBytes(160));
  assert.ok(readdirSync(epochs).every((n) => /^\d+\.key(\.tmp|\.destroy)?$/.test(n)), 'a key file is only ever <n>.key or a temporary beside it');
  s = await open();
  for (let i = 0; i < 6; i++) assert.equal(s.readKey(deriveUnitId('A~B', i)), unitBytes(i));
  assert.ok(readdirSync(epochs).every((n) => /^\d+\.key$/.test(n)), `leftovers destroyed: ${readdirSync(epochs).join(', ')}`);
  await s.close();
});

test('a consumed unit cannot be recovered from the database file, even with the storage key: its spent epoch’s data key is destroyed', async () => {
  const dir = tmp();
  const storageKey = () => StorageKey.openOrCreate(join(dir, 'storage.key'));
  const s = await KeyStore.open({ path: dir, nodeId: 'A', storageKey: storageKey(), recordsPerEpoch: 4 });
  const ids = await fill(s, 4);
  await fill2(s, 4, 4); // a second epoch, so the first is no longer current
  // What the file holds of unit 0 while it is available: its nonce and ciphertext.
  const raw = rawRecord(dir, ids[0]!);
  await s.commit({ change: ids.map((id) => ({ id, from: ['available'], to: 'consumed' as const })) });
  const file = readFileSync(join(dir, 'km.lmdb'));
  const at = file.indexOf(Buffer.from(raw.ct));
  // Copy-on-write may keep the old page; whatever it keeps must not open.
  const candidates = at >= 0 ? [file.subarray(at, at + raw.ct.length)] : [];
  candidates.push(Buffer.from(raw.ct));
  const keys = KeyStore.recoverableKeys(dir, storageKey());
  assert.ok(keys.length >= 2, 'the first data key and the current epoch remain');
  for (const ct of candidates) for (const k of keys) assert.throws(() => openRecord(k, `${ids[0]}|B|link|256`, raw.n, ct));
  // Units of the live epoch still read back.
  assert.equal(s.readKey(deriveUnitId('A~B', 5)), unitBytes(5));
  await s.close();
});

async function fill2(s: KeyStore, from: number, n: number): Promise<void> {
  await s.addLinkUnits('B', Array.from({ length: n }, (_, k) => ({ id: deriveUnitId('A~B', from + k), seq: from + k, bytes: unitBytes(from + k), allocator: 'A' })), 256);
}

function rawRecord(dir: string, id: string): { n: Uint8Array; ct: Uint8Array } {
  const root = open({ path: join(dir, 'km.lmdb'), maxDbs: 8, readOnly: true, compression: false });
  try {
    const r = root.openDB<{ n: Uint8Array; ct: Uint8Array }, string>({ name: 'keys', encoding: 'msgpack' }).get(id)!;
    return { n: Uint8Array.from(r.n), ct: Uint8Array.from(r.ct) };
  } finally {
    void root.close();
  }
}

test.run();
