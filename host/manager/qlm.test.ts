/** The QLM's reading of what the quantum layer publishes: link state, QBER, key rate, board alarms, temperatures. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishBlock, publishBoard, publishState, type BlockReport } from '../qkd-link/module/diagnostics.js';
import { publishTemperature } from '../../firmware-bridge/aux/diagnostics.js';
import { AlarmManager } from './alarms.js';
import { ManagerMetrics } from './metrics.js';
import { TimeSeries } from './performance.js';
import { Qlm } from './qlm.js';
import { ManagerStore } from './store.js';

function block(linkId: string, qber: number, finalBits: number): BlockReport {
  const zero = { signal: 0, decoy: 0, vacuum: 0 };
  return {
    linkId,
    role: 'bob',
    block: 1,
    outcome: finalBits > 0 ? 'key' : 'no-key',
    slots: { start: 0, end: 1_000_000, clockHz: 1_000_000 },
    events: 1000,
    qber: { Z: { ...zero, all: qber }, X: { ...zero, all: qber } },
    finalBits,
    stageMs: { sift: 1, pe: 1, ec: 1, verify: 1, pa: 1, commit: 1 },
    totalMs: 6,
  };
}

test('link state, QBER, key rate, board alarms and temperatures become metrics, series and alarms; other links are not ours', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-qlm-'));
  const store = ManagerStore.open(dir);
  const alarms = new AlarmManager({ node: 'B', store });
  const metrics = new ManagerMetrics('B');
  const series = new TimeSeries();
  const qberAlarms: string[] = [];
  const qlm = new Qlm({ node: 'B', alarms, metrics, series, links: new Set(['A~B']), thresholds: { qberAlarm: 0.11 }, onQberAlarm: (l) => qberAlarms.push(l) });
  qlm.start();
  try {
    publishState({ linkId: 'A~B', role: 'bob', state: 'synchronised' });
    publishBlock(block('A~B', 0.03, 5000));
    publishBlock(block('X~Y', 0.4, 0));
    assert.is(qlm.links().length, 1, 'only the links of this node');
    assert.is(qlm.links()[0]!.keyRateBitsPerS, 5000);
    const text = await metrics.text();
    assert.match(text, /qkdn_link_qber_ratio\{link="A~B",role="bob",basis="Z",node="B"\} 0.03/);
    assert.match(text, /qkdn_link_secret_key_rate_bits_per_second\{link="A~B",role="bob",node="B"\} 5000/);
    assert.match(text, /qkdn_link_up\{link="A~B",role="bob",node="B"\} 1/);
    assert.is(alarms.active().length, 0);
    // An eavesdropper (or a misaligned receiver) pushes the QBER up: one alarm, one security event.
    publishBlock(block('A~B', 0.15, 0));
    publishBlock(block('A~B', 0.16, 0));
    const q = alarms.active().find((a) => a.type === 'qber-high')!;
    assert.is(q.source, 'link:A~B');
    assert.is(q.count, 2);
    assert.equal(qberAlarms, ['A~B']);
    publishBlock(block('A~B', 0.1, 100));
    assert.ok(alarms.isActive('qber-high', 'link:A~B'), 'hysteresis: 10 % is not yet clear of an 11 % threshold');
    publishBlock(block('A~B', 0.05, 4000));
    assert.not.ok(alarms.isActive('qber-high', 'link:A~B'));
    assert.is(series.query('qber')[0]!.points.length, 5);
    publishState({ linkId: 'A~B', role: 'bob', state: 'disconnected', detail: 'peer closed' });
    assert.ok(alarms.isActive('link-down', 'link:A~B'));
    publishState({ linkId: 'A~B', role: 'bob', state: 'synchronised' });
    assert.not.ok(alarms.isActive('link-down', 'link:A~B'));
    publishBoard({ linkId: 'A~B', board: 'rx', kind: 'alarm', code: 'detector-temperature', severity: 'critical', message: 'detector at -20 C', clear: false });
    assert.ok(alarms.isActive('board-alarm', 'board:A~B:rx:detector-temperature'));
    publishBoard({ linkId: 'A~B', board: 'rx', kind: 'alarm', code: 'detector-temperature', severity: 'critical', message: 'ok', clear: true });
    assert.not.ok(alarms.isActive('board-alarm', 'board:A~B:rx:detector-temperature'));
    publishBoard({ linkId: 'A~B', board: 'rx', kind: 'telemetry', temps: { detector: -40.5 }, rates: [1, 2], biasV: 50, overflow: 0 });
    assert.match(await metrics.text(), /qkdn_board_temperature_celsius\{link="A~B",board="rx",sensor="detector",node="B"\} -40.5/);
    publishTemperature({ sensor: 'enclosure', celsius: 71, at: Date.now(), outOfRange: true, path: '/dev/aux' });
    assert.ok(alarms.isActive('temperature', 'aux:enclosure'));
    publishTemperature({ sensor: 'enclosure', celsius: 30, at: Date.now(), outOfRange: false, path: '/dev/aux' });
    assert.not.ok(alarms.isActive('temperature', 'aux:enclosure'));
  } finally {
    qlm.stop();
    alarms.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
