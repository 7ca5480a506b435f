/**
 * Both models at once (issue 17): QKDN-A and QKDN-B joined by a gateway pair and by an
 * interworking node, over real node processes. alice's KME a1 supplies bob by the exit with more
 * stock (the IWN's KM-A here), falls back to the gateway when the IWN hangs, then dies, answers a clean 503
 * when both are down, and goes back to the IWN when it returns. Throughout, every key alice gets
 * is bob's too, byte for byte, and each key ID is delivered once to each.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startBothNetwork, type BothNetwork } from './both-network.js';
import type { EtsiKey } from '../../../host/api/client.js';

/** Waits for `cond`, polling; `what` names it in the failure. */
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Supply {
  readonly outcome: string;
  readonly exit?: string;
  readonly fallbacks?: number;
}

const supplies = (net: BothNetwork) => net.events('a1').filter((e) => e.event === 'supply' && e.kind === 'enc_keys') as unknown as Supply[];

/** Every key alice got, by ID: checked at bob's KME once, and refused a second time. */
class Ledger {
  readonly alice = new Map<string, string>();
  readonly bob = new Map<string, string>();
  constructor(readonly net: BothNetwork) {}

  /** One enc_keys; on 200 the keys are fetched by bob at once and compared. Returns the status. */
  async request(number = 2): Promise<number> {
    const enc = await this.net.alice.encKeys('bob', { number, size: 256 });
    assert.ok(enc.status === 200 || enc.status === 503, `enc_keys is 200 or a clean 503: ${enc.status} ${enc.raw}`);
    if (enc.status !== 200) {
      assert.not.ok((enc.body as { keys?: EtsiKey[] }).keys, 'a 503 carries no key');
      return enc.status;
    }
    assert.is(enc.body.keys.length, number);
    for (const k of enc.body.keys) {
      assert.not.ok(this.alice.has(k.key_ID), `key ${k.key_ID} delivered to alice once`);
      this.alice.set(k.key_ID, k.key);
    }
    const ids = enc.body.keys.map((k) => k.key_ID);
    const dec = await this.net.bob.decKeys('alice', ids);
    assert.is(dec.status, 200, `dec_keys at b1: ${dec.raw}`);
    for (const k of dec.body.keys) {
      assert.not.ok(this.bob.has(k.key_ID), `key ${k.key_ID} delivered to bob once`);
      assert.is(k.key, this.alice.get(k.key_ID), `bob's key ${k.key_ID} is alice's`);
      this.bob.set(k.key_ID, k.key);
    }
    const again = await this.net.bob.decKeys('alice', ids.slice(0, 1));
    assert.is(again.status, 400, 'a key is delivered once to bob');
    return 200;
  }
}

const GWN_UNITS = 300;

test('two providers joined by a GWN pair and an IWN: the exit with more stock, fallback to the other when it dies, 503 when both are down, back when one returns', async () => {
  const t0 = Date.now();
  // The IWN's links start with more keys than the gateways': a1 chooses iwn-a while both work.
  const net = await startBothNetwork({ iwnUnits: 1500, gwnUnits: GWN_UNITS, rate: 10 });
  try {
    const iwnReady = () => net.events('iwn').some((e) => e.event === 'iwn' && e.kind === 'status-shared' && e.controller === 'controller-qkdn-b' && (e.saes as { sae: string; reachable: boolean }[]).some((s) => s.sae === 'bob' && s.reachable));
    const synced = (g: 'gwn_a' | 'gwn_b') => net.events(g).some((e) => e.event === 'gateway' && e.kind === 'peer-synced');
    await until(() => iwnReady() && synced('gwn_a') && synced('gwn_b'), 60_000, 'the IWN and the gateway pair ready');
    // a1's stock by its best exit (alice's status for bob) beyond what the gateway link holds: the IWN link is held at both ends
    await until(async () => {
      const st = await net.alice.status('bob');
      return st.status === 200 && Number(st.body.stored_key_count) > 2 * GWN_UNITS;
    }, 60_000, 'a1 holding the IWN link’s keys');
    const ledger = new Ledger(net);

    // (1) both paths up: keys by the IWN, the exit with more stock, at the first try
    for (let i = 0; i < 3; i++) assert.is(await ledger.request(), 200);
    const first = supplies(net).filter((s) => s.outcome === 'delivered');
    assert.equal(
      first.map((s) => [s.exit, s.fallbacks]),
      [
        ['iwn-a', 0],
        ['iwn-a', 0],
        ['iwn-a', 0],
      ],
      'delivered by the IWN at the first try',
    );

    // the other way too: bob's KME b1 chooses among its exits for alice, alice gets bob's keys once
    const rev = await net.bob.encKeys('alice', { number: 2, size: 256 });
    assert.is(rev.status, 200, `bob's enc_keys for alice: ${rev.raw}`);
    const revIds = rev.body.keys.map((k) => k.key_ID);
    const got = await net.alice.decKeys('bob', revIds);
    assert.is(got.status, 200, `alice's dec_keys: ${got.raw}`);
    assert.equal(got.body.keys, rev.body.keys, 'alice holds bob’s keys');
    assert.is((await net.alice.decKeys('bob', revIds)).status, 400, 'once');

    // (2) the IWN hangs (SIGSTOP: its connections stay open): a1's supply to iwn-a times out, is
    // burned at both ends, and the same request is served by the gateway pair (a fallback)
    const hung = supplies(net).length;
    net.signal('iwn', 'SIGSTOP');
    assert.is(await ledger.request(), 200, 'served with the IWN hanging');
    const fell = supplies(net).slice(hung);
    assert.equal(
      fell.map((s) => [s.outcome, s.exit, s.fallbacks]),
      [['delivered', 'gwn_a', 1]],
      'one fallback from iwn-a to gwn_a',
    );
    // then killed (no shutdown): keys by the gateway pair, at most clean 503s meanwhile
    await net.kill('iwn');
    const mark = supplies(net).length;
    let ok = 0;
    for (let i = 0; i < 20 && ok < 4; i++) if ((await ledger.request()) === 200) ok++;
    assert.is(ok, 4, 'keys keep flowing with the IWN down');
    const after = supplies(net).slice(mark);
    assert.ok(
      after.filter((s) => s.outcome === 'delivered').every((s) => s.exit === 'gwn_a'),
      `delivered by gwn_a: ${JSON.stringify(after)}`,
    );

    // (3) the gateway killed too: a clean 503, no key anywhere ...
    await net.kill('gwn_a');
    const mark2 = supplies(net).length;
    for (let i = 0; i < 3; i++) {
      assert.is(await ledger.request(), 503);
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(
      supplies(net)
        .slice(mark2)
        .every((s) => s.outcome !== 'delivered'),
      'nothing delivered with both exits down',
    );
    // ... and the IWN back: keys by it again
    await net.restart('iwn');
    await until(iwnReady, 60_000, 'the IWN back');
    let back = 0;
    await until(async () => (await ledger.request()) === 200 && ++back > 0, 45_000, 'keys by the IWN again');
    const last = supplies(net).filter((s) => s.outcome === 'delivered').at(-1);
    assert.is(last?.exit, 'iwn-a', 'delivered by the IWN again');

    assert.is(ledger.bob.size, ledger.alice.size, 'every key alice got, bob got');
    console.log(JSON.stringify({ test: 'both-models', keys: ledger.alice.size, ms: Date.now() - t0 }));
  } catch (e) {
    console.error(`a1: ${net.stderr('a1').slice(-1500)}\niwn: ${net.stderr('iwn').slice(-1500)}\ngwn_a: ${net.stderr('gwn_a').slice(-1500)}`);
    throw e;
  } finally {
    await net.stop();
  }
});

test.run();
