/**
 * A crash of the interworking node loses, duplicates or leaks no key (real processes, Fig 6): the
 * IWN is killed with SIGKILL mid-transfer, once with KM-B's hand-over to bob's KME in flight (b1
 * stopped with SIGSTOP, so the hand-over waits on it) and once in a burst of transfers, and started
 * again on the same data directories. Afterwards: every key alice got, bob gets, identical and
 * once; no key stays reserved for bob at b1 that alice does not hold (the keys of transfers left in
 * doubt are voided there from KM-B's journal and outbox); neither KM of the IWN keeps a key
 * reserved; no key is on the IWN's disk in clear; and keys flow again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KeyStore } from '../../../host/km/key-store.js';
import type { EtsiKey, EtsiResponse } from '../../../host/api/client.js';
import { startIwnNetwork, type IwnNetwork } from './iwn-network.js';
import { keyTransfer } from './scenarios.js';

type Key = EtsiKey;

/** Heads of the keys reserved for bob at b1 and not yet fetched. */
function reservedForBob(net: IwnNetwork): string[] {
  return KeyStore.inspect(join(net.dir, 'data', 'b1'))
    .records.filter((r) => r.state === 'reserved' && r.phase === 'await-sae' && r.head === r.id && r.pending?.includes('bob'))
    .map((r) => r.id)
    .sort();
}

function reservedAt(net: IwnNetwork, km: 'iwn-a' | 'iwn-b'): number {
  return KeyStore.inspect(join(net.dir, 'data', km)).records.filter((r) => r.state === 'reserved').length;
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not settled in ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function bobReachable(net: IwnNetwork): Promise<void> {
  await net.waitFor('status-shared', (e) => e.controller === 'controller-qkdn-b' && (e.saes as { sae: string; reachable: boolean; stock: number }[]).some((s) => s.sae === 'bob' && s.reachable && s.stock >= 4));
}

/**
 * enc_keys until a1 serves it: a1 may not have synced its link with KM-A yet, and after a failed
 * supply it refuses requests for KM-A (503, Retry-After) until one probe gets through.
 */
async function encUntilServed(net: IwnNetwork, number: number): Promise<EtsiResponse<{ keys: EtsiKey[] }>> {
  for (let i = 0; ; i++) {
    const r = await net.alice.encKeys('bob', { number });
    if (r.status !== 503 || i >= 60) {
      assert.is(r.status, 200, r.raw);
      return r;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

test('kill -9 of the IWN mid-transfer, then a restart: every key alice got reaches bob once, nothing is left at one end', async () => {
  const net = await startIwnNetwork({ configuration: 6 });
  try {
    const got: Key[] = [];
    const take = (r: EtsiResponse<{ keys: EtsiKey[] }>) => {
      if (r.status === 200) got.push(...r.body.keys);
    };
    await bobReachable(net);
    take(await encUntilServed(net, 2));

    // 1. A crash with KM-B's hand-over to b1 in flight (b1 frozen: it holds the connection, answers nothing).
    const mark = net.mark();
    net.signal('b1', 'SIGSTOP');
    const inFlight = net.alice.encKeys('bob', { number: 2 });
    await net.waitFor('transfer', (e) => e.outcome === 'handing-over', { since: mark });
    await net.crashIwn();
    net.signal('b1', 'SIGCONT');
    const lost = await inFlight;
    assert.is.not(lost.status, 200, 'alice gets nothing of a transfer the crash interrupted');
    await net.restartNode('iwn');
    const rec = await net.waitFor('recovered', () => true);
    assert.ok((rec.received as number) >= 1 && (rec.sent as number) >= 1, `both KMs settled the transfer in doubt: ${JSON.stringify(rec)}`);
    // what KM-B had handed over to b1 is voided there; only alice's keys stay reserved for bob
    const mine = () => got.map((k) => k.key_ID).sort();
    await until('b1 holds for bob only the keys alice got', () => JSON.stringify(reservedForBob(net)) === JSON.stringify(mine()));

    // 2. A crash in a burst of transfers, after the first two are through.
    await bobReachable(net);
    take(await encUntilServed(net, 1));
    // the crash comes once alice holds two keys of the burst; the others are on their way or queued
    let served = 0;
    const burst = Array.from({ length: 12 }, () => net.alice.encKeys('bob', { number: 1 }).then((r) => ((served += r.status === 200 ? 1 : 0), r)));
    await until('two transfers of the burst through', () => served >= 2);
    await net.crashIwn();
    for (const r of await Promise.all(burst)) take(r);
    assert.ok(got.length >= 5, `alice got keys of the burst before the crash (${got.length - 3})`);
    await net.restartNode('iwn');
    await until('b1 holds for bob exactly the keys alice got', () => JSON.stringify(reservedForBob(net)) === JSON.stringify(mine()));

    // 3. bob gets every key alice got, identical, once.
    const ids = got.map((k) => k.key_ID);
    assert.is(new Set(ids).size, ids.length, 'no key ID twice at alice');
    const dec = await net.bob.decKeys('alice', ids);
    assert.is(dec.status, 200, dec.raw);
    assert.equal(
      dec.body.keys.map((k) => [k.key_ID, k.key]),
      got.map((k) => [k.key_ID, k.key]),
      'bob holds the keys alice holds',
    );
    const again = await net.bob.decKeys('alice', ids.slice(-1));
    assert.is(again.status, 400, 'a key is delivered once');
    assert.equal(reservedForBob(net), [], 'nothing left for bob at b1');
    await until('neither KM of the IWN holds a key reserved', () => reservedAt(net, 'iwn-a') === 0 && reservedAt(net, 'iwn-b') === 0);

    // 4. no key in clear on the IWN's disk (the journals hold IDs; the stores seal every key)
    const disk = ['iwn-a', 'iwn-b'].flatMap((km) => files(join(net.dir, 'data', km)));
    assert.ok(disk.some((f) => f.includes('iwn-transfers.lmdb')), 'each KM keeps a transfer journal in its data directory');
    for (const f of disk) {
      const bytes = readFileSync(f);
      for (const k of got) assert.is(bytes.indexOf(Buffer.from(k.key, 'base64')), -1, `${k.key_ID} in clear in ${f}`);
    }

    // 5. and keys flow again through the restarted IWN
    assert.ok((await keyTransfer(net, { number: 1 })).checks >= 12);
  } finally {
    net.signal('b1', 'SIGCONT');
    await net.stop();
  }
});

test.run();
