/** The Y.3807 QoS parameters from supply outcomes, on a clock the test drives. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { QosTracker, TimeSeries } from './performance.js';
import { diffConfig } from './configuration.js';

test('throughput, delay and its variation, error and loss ratios, availability and restoration time', () => {
  let now = 100_000;
  const q = new QosTracker(10_000, () => now);
  const ok = (latencyMs: number) => q.supply({ pair: 'a>b', at: now, outcome: 'delivered', latencyMs, bits: 256, keys: 1 });
  ok(10);
  now += 1000;
  ok(30);
  now += 1000;
  // An outage of 3 s for this pair: two failures, then a delivery.
  q.supply({ pair: 'a>b', at: now, outcome: 'failed', latencyMs: 5, bits: 0, keys: 0 });
  q.supply({ pair: 'a>b', at: now + 1000, outcome: 'failed', latencyMs: 5, bits: 0, keys: 0 });
  q.supply({ pair: 'x>y', at: now, outcome: 'refused', latencyMs: 1, bits: 0, keys: 0 });
  now += 3000;
  ok(20);
  q.burned(1);
  const r = q.compute();
  assert.is(r.requests, 5, 'refused requests are not served requests');
  assert.is(r.throughputBitsPerS, (3 * 256) / 10);
  assert.is(r.keyResponseDelayMs, 20);
  assert.ok(Math.abs(r.keyResponseDelayVariationMs! - Math.sqrt(200 / 3)) < 1e-9);
  assert.is(r.deliveryErrorRatio, 2 / 5);
  assert.is(r.lossRatio, 1 / 4);
  assert.is(r.serviceRestorationTimeMs, 3000);
  assert.ok(Math.abs(r.availability - 0.7) < 1e-9, `availability ${r.availability}`);
  // The window slides: 20 s later nothing of this is left.
  now += 20_000;
  const later = q.compute();
  assert.is(later.requests, 0);
  assert.is(later.availability, 1);
  assert.is(later.keyResponseDelayMs, null);
});

test('an outage still open at the end of the window counts as unavailable time', () => {
  let now = 0;
  const q = new QosTracker(10_000, () => now);
  now = 5000;
  q.supply({ pair: 'a>b', at: now, outcome: 'failed', latencyMs: 1, bits: 0, keys: 0 });
  now = 10_000;
  const r = q.compute();
  assert.ok(Math.abs(r.availability - 0.5) < 1e-9);
  assert.is(r.serviceRestorationTimeMs, null, 'not restored yet');
});

test('time series are bounded per series', () => {
  const s = new TimeSeries(3);
  for (let i = 0; i < 10; i++) s.record('qber', { link: 'A~B' }, i, i);
  s.record('qber', { link: 'B~C' }, 1, 1);
  const q = s.query('qber');
  assert.equal(q.find((x) => x.labels.link === 'A~B')!.points.map((p) => p.v), [7, 8, 9]);
  assert.is(q.length, 2);
});

test('configuration diff as JSON pointers', () => {
  const a = { network: { routes: [['A', 'B']] }, alarms: { qberThreshold: 0.11 } };
  const b = { network: { routes: [['A', 'B', 'C'], ['C', 'D']] }, alarms: { qberThreshold: 0.09 } };
  assert.equal(diffConfig(a, b), [
    { path: '/alarms/qberThreshold', op: 'replace', from: 0.11, to: 0.09 },
    { path: '/network/routes/0/2', op: 'add', to: 'C' },
    { path: '/network/routes/1', op: 'add', to: ['C', 'D'] },
  ]);
  assert.equal(diffConfig(a, a), []);
});

test.run();
