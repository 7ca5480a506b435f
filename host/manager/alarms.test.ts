import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmManager, type AlarmChange } from './alarms.js';
import { ManagerStore } from './store.js';

function fixture(o: { burst?: number; perSecond?: number; maxHistory?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-alarms-'));
  let t = 1_000_000;
  const store = ManagerStore.open(dir);
  const alarms = new AlarmManager({ node: 'N1', store, now: () => t, ...o });
  return {
    dir,
    store,
    alarms,
    advance: (ms: number) => (t += ms),
    reopen: async () => {
      alarms.close();
      await store.close();
      const s2 = ManagerStore.open(dir);
      return { store: s2, alarms: new AlarmManager({ node: 'N1', store: s2, now: () => t }) };
    },
    done: async () => {
      alarms.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('an alarm is raised once, repeated raises are counted, clear ends it, all of it survives a restart', async () => {
  const f = fixture();
  const seen: AlarmChange['op'][] = [];
  f.alarms.on('change', (c) => seen.push(c.op));
  const a = f.alarms.raise({ type: 'link-down', source: 'link:N1~N2', details: { state: 'disconnected' } })!;
  assert.is(a.severity, 'major');
  assert.is(a.state, 'active');
  f.advance(10);
  const again = f.alarms.raise({ type: 'link-down', source: 'link:N1~N2' })!;
  assert.is(again.id, a.id, 'deduplicated: the same alarm');
  assert.is(again.count, 2);
  assert.is(f.alarms.active().length, 1);
  const other = f.alarms.raise({ type: 'link-down', source: 'link:N2~N3' })!;
  assert.is.not(other.id, a.id);
  const cleared = f.alarms.clear('link-down', 'link:N1~N2', 'connected')!;
  assert.is(cleared.state, 'cleared');
  assert.is(cleared.count, 2, 'the repeat count is kept');
  assert.is(f.alarms.clear('link-down', 'link:N1~N2'), null, 'nothing to clear twice');
  assert.equal(seen, ['raised', 'repeated', 'raised', 'cleared']);
  await f.store.flushed();
  const r = await f.reopen();
  assert.equal(r.alarms.active().map((x) => x.source), ['link:N2~N3'], 'the active alarm is active after a restart');
  const hist = r.alarms.list({ state: 'all' });
  assert.equal(hist.map((x) => [x.source, x.state]), [['link:N2~N3', 'active'], ['link:N1~N2', 'cleared']], 'history newest first');
  assert.is(r.alarms.get(a.id)!.details.cleared, 'connected');
  r.alarms.close();
  await r.store.close();
  rmSync(f.dir, { recursive: true, force: true });
});

test('a flood of distinct alarms is summarised by one alarm-flood alarm; critical alarms still pass', async () => {
  const f = fixture({ burst: 5, perSecond: 1 });
  for (let i = 0; i < 500; i++) f.alarms.raise({ type: 'auth-failure', source: `peer:p${i}` });
  const active = f.alarms.active();
  const flood = active.filter((a) => a.type === 'alarm-flood');
  assert.is(flood.length, 1);
  assert.is(flood[0]!.details.suppressed, 495);
  assert.is(flood[0]!.details['auth-failure'], 495);
  assert.is(active.filter((a) => a.type === 'auth-failure').length, 5, 'only the burst is stored one by one');
  const t = f.alarms.raise({ type: 'tamper', source: 'aux' });
  assert.ok(t && t.severity === 'critical', 'a critical alarm is never rate-limited');
  await f.store.flushed();
  assert.is(f.alarms.list({ state: 'all', limit: 1000 }).length, 7, 'history holds the burst, the summary and the tamper alarm, not 500 lines');
  f.advance(3000);
  assert.ok(f.alarms.raise({ type: 'auth-failure', source: 'peer:late' }), 'tokens come back with time');
  await f.done();
});

test('acknowledgement names the operator; unknown IDs are a typed not-found', async () => {
  const f = fixture();
  const a = f.alarms.raise({ type: 'temperature', source: 'aux:detector' })!;
  const ack = f.alarms.acknowledge(a.id, 'op-alice');
  assert.is(ack.acknowledgedBy, 'op-alice');
  assert.is(f.alarms.active()[0]!.acknowledgedBy, 'op-alice');
  assert.throws(() => f.alarms.acknowledge('nope', 'x'), (e: unknown) => (e as { code?: string }).code === 'ERR_MGMT_NOT_FOUND');
  await f.done();
});

test('history is bounded: the oldest cleared alarms go first', async () => {
  const f = fixture({ maxHistory: 20, burst: 1000 });
  for (let i = 0; i < 60; i++) {
    f.alarms.raise({ type: 'keys-voided', source: `peer:p${i}` });
    f.advance(1);
    f.alarms.clear('keys-voided', `peer:p${i}`);
  }
  const keep = f.alarms.raise({ type: 'link-down', source: 'link:kept' })!;
  await f.alarms.settled();
  await f.store.flushed();
  const all = f.alarms.list({ state: 'all', limit: 1000 });
  assert.ok(all.length <= 21, `bounded history (${all.length})`);
  assert.ok(all.some((x) => x.id === keep.id), 'the active alarm is kept');
  assert.ok(all.some((x) => x.source === 'peer:p59'), 'the newest cleared alarms are kept');
  assert.not.ok(all.some((x) => x.source === 'peer:p0'), 'the oldest went');
  await f.done();
});

test.run();
