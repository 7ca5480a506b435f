import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmManager } from './alarms.js';
import { ManagerStore } from './store.js';
import { SupplyWatch } from './supply-watch.js';

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-watch-'));
  let t = 5_000_000;
  const store = ManagerStore.open(dir);
  const alarms = new AlarmManager({ node: 'N1', store, now: () => t });
  const watch = new SupplyWatch({ node: 'N1', alarms, ratio: 0.5, minRequests: 10, windowMs: 10_000, now: () => t });
  return {
    alarms,
    watch,
    advance: (ms: number) => (t += ms),
    active: () => alarms.isActive('api-outage', 'api:N1'),
    done: async () => {
      alarms.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('api-outage is raised when more than the ratio of the window requests fail, not before minRequests, and clears at half the ratio', async () => {
  const f = fixture();
  for (let i = 0; i < 9; i++) f.watch.outcome(false);
  assert.not.ok(f.active(), 'nine failures are under minRequests');
  f.watch.outcome(false);
  assert.ok(f.active(), 'ten failures out of ten');
  const a = f.alarms.active().find((x) => x.type === 'api-outage')!;
  assert.is(a.severity, 'major');
  assert.is(a.details.requests, 10);
  // Recovery: successes bring the share down; at 40 % it stays (hysteresis), at 25 % it clears.
  for (let i = 0; i < 15; i++) f.watch.outcome(true);
  assert.ok(f.active(), '10 of 25 failed: still above half the ratio');
  for (let i = 0; i < 15; i++) f.watch.outcome(true);
  assert.not.ok(f.active(), '10 of 40 failed: cleared');
  await f.alarms.settled();
  assert.match(f.alarms.list({ type: 'api-outage', state: 'cleared' })[0]!.details.cleared as string, /25 %/);
  await f.done();
});

test('the window slides: old failures leave it, a quiet window changes nothing, the timer check sees the expiry', async () => {
  const f = fixture();
  for (let i = 0; i < 6; i++) f.watch.outcome(false);
  f.advance(5000);
  for (let i = 0; i < 4; i++) f.watch.outcome(false);
  assert.ok(f.active(), 'ten failures within ten seconds');
  f.advance(6000);
  f.watch.check();
  assert.equal(f.watch.window(), { good: 0, bad: 4 }, 'the first six left the window');
  assert.ok(f.active(), 'too few requests in the window to say it recovered');
  f.advance(20_000);
  for (let i = 0; i < 10; i++) f.watch.outcome(true);
  assert.equal(f.watch.window(), { good: 10, bad: 0 });
  assert.not.ok(f.active(), 'a full window of successes clears it');
  await f.done();
});

test("the key API's outage summaries for a peer KME raise and clear api-outage for that KME", async () => {
  const f = fixture();
  f.watch.outage({ node: 'N1', kme: 'N3', state: 'begun', reason: 'ERR_KM_PEER_UNREACHABLE', refused: 0, failed: 1, sinceMs: 0, retryAfterS: 1 });
  assert.ok(f.alarms.isActive('api-outage', 'kme:N3'));
  f.watch.outage({ node: 'N2', kme: 'N3', state: 'ended', reason: '', refused: 0, failed: 0, sinceMs: 1 });
  assert.ok(f.alarms.isActive('api-outage', 'kme:N3'), "another node's summary is not ours");
  f.watch.outage({ node: 'N1', kme: 'N3', state: 'ongoing', reason: 'ERR_KM_PEER_UNREACHABLE', refused: 12, failed: 0, sinceMs: 10_000, retryAfterS: 4 });
  assert.equal(f.watch.window(), { good: 0, bad: 12 }, 'requests refused during the outage count in the window');
  assert.ok(f.active());
  f.watch.outage({ node: 'N1', kme: 'N3', state: 'ended', reason: '', refused: 0, failed: 0, sinceMs: 12_000 });
  assert.not.ok(f.alarms.isActive('api-outage', 'kme:N3'));
  await f.done();
});

test.run();
