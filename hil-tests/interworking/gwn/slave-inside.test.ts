/**
 * Fig 9 with the slave SAE deeper than the gateway, over real node processes (Fig 3, both
 * providers distributed): alice on a1 in QKDN-A is the master, dave on b1 in QKDN-B the slave,
 * two hops behind gwn_b (gwn_b ── b2 ── b1). gwn_b carries the keys on over B's own key relay to
 * b1 under the key IDs alice got; dave fetches them once from his own KME; nothing of B's
 * interior (b1, b2, their links) crosses the border.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recording, startTwoProviders, waitFor, type TwoProviders } from './scenarios.js';

let two: TwoProviders | null = null;
test.after(async () => {
  await two?.stop();
});

/** enc_keys, retried while alice's KME still fills its stock (503). */
async function encKeys(t: TwoProviders, number: number) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = await t.a.net.client('alice').encKeys('dave', { number, size: 256 });
    if (r.status !== 503 || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}

test('a slave SAE on an interior node of B gets the master’s keys by ID, once; the border names no interior node of B', async () => {
  two = await startTwoProviders({ a: 'distributed', b: 'distributed' });
  const enc = await encKeys(two, 2);
  assert.is(enc.status, 200, `alice enc_keys for dave: ${enc.raw}`);
  const ids = enc.body.keys.map((k) => k.key_ID);
  assert.is(ids.length, 2);

  const dave = two.b.net.client('dave');
  const dec = await dave.decKeys('alice', ids);
  assert.is(dec.status, 200, `dave dec_keys from b1: ${dec.raw}`);
  assert.equal(
    dec.body.keys.map((k) => [k.key_ID, k.key]),
    enc.body.keys.map((k) => [k.key_ID, k.key]),
    'dave gets alice’s keys under the same IDs',
  );
  const again = await dave.decKeys('alice', ids);
  assert.ok(again.status >= 400 && again.status < 500, `a second fetch is refused (got ${again.status})`);

  // gwn_b reported carrying the supply inside, and b1 (not gwn_b) served dave.
  await waitFor(() => two!.b.net.events('gwn_b').some((e) => e.event === 'gateway' && e.kind === 'crossed' && e.direction === 'in' && e.inside === true), 15_000, 'gwn_b to report the supply carried inside');

  // The border recording at both gateways: B's interior never appears, nor the keys in clear.
  const keys = enc.body.keys.map((k) => Buffer.from(k.key, 'base64').toString('hex'));
  const interior = two.b.internal;
  const rec = [...recording(two.a), ...recording(two.b)];
  assert.ok(rec.some((r) => r.msg.name === 'Kxi2KeySupplyNotification' && JSON.stringify(r.msg.body).includes('"dave"')), 'the supply to dave crossed');
  for (const r of rec) {
    const text = JSON.stringify(r.msg.body, (_k, v: unknown) => (v instanceof Uint8Array ? '' : v));
    const named = interior.filter((n) => text.includes(`"${n}"`));
    assert.equal(named, [], `${r.dir} ${r.msg.name} names no interior node or link of B`);
    assert.ok(keys.every((k) => !r.hex.includes(k)), `${r.msg.name}: no key in clear`);
  }
  await two.stop();
  two = null;
});

test.run();
