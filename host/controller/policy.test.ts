import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PolicyRefusedError, SupplyPolicyControl } from './policy.js';
import { ControllerConfigError } from './errors.js';

const refused = (refusal: string) => (e: unknown) => e instanceof PolicyRefusedError && e.refusal === refusal && e.code === 'ERR_KM_POLICY_REFUSED' && e.reason === (refusal === 'pair-not-allowed' ? 'not-permitted' : 'bad-request');

test('no policy: every pair is allowed, as before', () => {
  const p = new SupplyPolicyControl();
  p.check({ master: 'carol', slaves: ['bob'], number: 10, size: 256 });
  assert.is(p.counters.admitted, 1);
});

test('a pair allow-list refuses the third-party SAE of the issue (carol asking keys for bob) with a clear reason', () => {
  const p = new SupplyPolicyControl({ pairs: [{ master: 'alice', slave: 'bob' }] });
  p.check({ master: 'alice', slaves: ['bob'], number: 1, size: 256 });
  assert.throws(() => p.check({ master: 'carol', slaves: ['bob'], number: 1, size: 256 }), refused('pair-not-allowed'));
  try {
    p.check({ master: 'carol', slaves: ['bob'], number: 1, size: 256 });
  } catch (e) {
    assert.match((e as Error).message, /carol may not get keys shared with SAE bob/);
  }
  // Multicast: one slave outside the list refuses the whole request.
  assert.throws(() => p.check({ master: 'alice', slaves: ['bob', 'dave'], number: 1, size: 256 }), refused('pair-not-allowed'));
  assert.is(p.counters.refusedPair, 3);
});

test('quotas per SAE and per pair over a sliding window; a refused request counts nothing', () => {
  let now = 1_000_000;
  const p = new SupplyPolicyControl(
    { pairs: [{ master: 'alice', slave: 'bob', quota: { bits: 1024, periodMs: 60_000 } }, { master: 'alice', slave: 'dave' }], saes: { alice: { quota: { bits: 2048, periodMs: 60_000 } } } },
    { now: () => now },
  );
  p.check({ master: 'alice', slaves: ['bob'], number: 3, size: 256 });
  assert.throws(() => p.check({ master: 'alice', slaves: ['bob'], number: 2, size: 256 }), refused('pair-quota'));
  p.check({ master: 'alice', slaves: ['bob'], number: 1, size: 256 });
  p.check({ master: 'alice', slaves: ['dave'], number: 4, size: 256 });
  assert.throws(() => p.check({ master: 'alice', slaves: ['dave'], number: 1, size: 256 }), refused('sae-quota'));
  now += 60_001;
  p.check({ master: 'alice', slaves: ['bob'], number: 4, size: 256 });
});

test('QoS classes: a pair takes its class, else its master SAE\'s, else priority 0; unknown classes are a config error', () => {
  const p = new SupplyPolicyControl({ classes: { gold: { priority: 3, minRateBps: 1000 }, silver: { priority: 1 } }, saes: { alice: { class: 'silver' } }, pairs: [{ master: 'alice', slave: 'bob', class: 'gold' }, { master: 'alice', slave: 'dave' }] });
  assert.is(p.classOf('alice', 'bob').priority, 3);
  assert.is(p.classOf('alice', 'dave').priority, 1);
  assert.is(p.classOf('zed', 'bob').priority, 0);
  assert.throws(() => new SupplyPolicyControl({ pairs: [{ master: 'a', slave: 'b', class: 'platinum' }] }), (e: unknown) => e instanceof ControllerConfigError);
  assert.throws(() => p.replace({}, 0), (e: unknown) => e instanceof ControllerConfigError);
  p.replace({}, 1);
  assert.is(p.classOf('alice', 'bob').priority, 0);
});

test.run();
