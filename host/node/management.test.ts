/**
 * The management layer over real KMs (in-process network: LMDB stores, Kx over mutual TLS): the
 * fault procedure of Y.3818 Fig. 11 inside the network, performance and accounting from supplies,
 * security events and the tamper response.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNELS as CONTROLLER_CHANNELS, type ControlDecision } from '../controller/diagnostics.js';
import { publishAuth } from '../km/diagnostics.js';
import { ZeroizedError } from '../km/errors.js';
import { eventually, startTestNetwork } from '../km/test-network.js';
import { publishTamper } from '../../firmware-bridge/aux/diagnostics.js';
import { startManagement } from '../manager/management.js';
import { Accounting } from '../manager/accounting.js';

test('Fig. 11 in the network: a relay failure at the KMLM reaches the XLMO, is diagnosed, and the QCLM decides a reroute; the relay recovers around the fault', async () => {
  // A ring A-B-C-D-A: A to C goes through B (fewest hops, ties by ID) or around through D.
  const net = await startTestNetwork({ links: ['A-B', 'B-C', 'C-D', 'D-A'], saes: { 'sae-a': 'A', 'sae-c': 'C' }, initialUnits: 64, peerTimeoutMs: 2000 });
  const m = await startManagement({ km: net.node('A').km, dataDir: join(net.dir, 'mgmt-A') });
  const decisions: ControlDecision[] = [];
  const onDecision = (d: unknown) => decisions.push(d as ControlDecision);
  subscribe(CONTROLLER_CHANNELS.decision, onDecision);
  try {
    // The initial units reach the stores asynchronously: both ways out of A hold key before the cut.
    await eventually(() => net.node('A').km.stock('B', 256) > 0 && net.node('A').km.stock('D', 256) > 0, 10_000, 'link stock at A');
    await net.stopNode('B');
    // The first attempt over B fails; the relay asks its router again, avoiding the broken hop.
    const keys = await net.node('A').km.relay('C', 1);
    assert.is(keys.length, 1, 'the relay completed on the way around');
    await eventually(() => decisions.length > 0, 10_000, 'a decision');
    await m.alarms.settled();
    const [alarm] = m.alarms.list({ type: 'relay-failure' });
    assert.ok(alarm, 'KMLM raised relay-failure');
    assert.is(alarm!.source, 'relay:A>C');
    assert.is(alarm!.severity, 'major');
    assert.is(alarm!.state, 'cleared', 'the completed retry cleared it');
    const [d] = m.xlmo.diagnoses();
    assert.is(d!.alarm, alarm!.id, 'the diagnosis names the alarm');
    assert.equal(d!.route, ['A', 'B', 'C']);
    assert.ok(d!.suspect.id === 'B' || d!.suspect.id === 'A~B', `suspect ${JSON.stringify(d!.suspect)}`);
    const c = decisions[0]!;
    assert.is(c.action, 'reroute');
    assert.is(c.diagnosis, d!.id);
    assert.equal(c.route, ['A', 'D', 'C'], 'the way around the fault');
    assert.ok(c.avoidLinks.includes('A~B'));
    assert.equal(m.qclm.decisions()[0]!.id, c.id);
    const text = await m.metrics.text();
    assert.match(text, /qkdn_km_relays_total\{outcome="failed",node="A"\} 1/);
    assert.match(text, /qkdn_km_relays_total\{outcome="completed",node="A"\} 1/);
    assert.match(text, /qkdn_manager_decisions_total\{action="reroute",node="A"\} 1/);
    assert.match(text, /qkdn_alarms_active\{severity="major",node="A"\} 0/);
  } finally {
    unsubscribe(CONTROLLER_CHANNELS.decision, onDecision);
    await m.stop();
    await net.close();
  }
});

test('supplies feed the QoS parameters, the metrics and accounting; key IDs appear in none of them', async () => {
  const net = await startTestNetwork({ links: ['A-B'], saes: { 'sae-a': 'A', 'sae-b': 'B' }, initialUnits: 64 });
  const mA = await startManagement({ km: net.node('A').km, dataDir: join(net.dir, 'mgmt-A') });
  const mB = await startManagement({ km: net.node('B').km, dataDir: join(net.dir, 'mgmt-B') });
  try {
    const keys = await net.node('A').km.supply({ master: 'sae-a', slaves: ['sae-b'], size: 256, number: 3 });
    await net.node('B').km.fetch({ slave: 'sae-b', master: 'sae-a', ids: keys.map((k) => k.id) });
    await net.node('A').km.supply({ master: 'sae-a', slaves: ['sae-b'], size: 256, number: 1 });
    const q = mA.qos.compute();
    assert.is(q.requests, 2);
    assert.is(q.deliveryErrorRatio, 0);
    assert.ok(q.keyResponseDelayMs! > 0);
    assert.ok(q.throughputBitsPerS > 0);
    assert.is(q.availability, 1);
    const text = await mA.metrics.text();
    assert.match(text, /qkdn_km_supplied_keys_total\{kind="enc_keys",node="A"\} 4/);
    assert.match(text, /qkdn_km_stock_bits\{peer="B",origin="link",node="A"\} \d+/);
    assert.match(text, /qkdn_qos_availability_ratio\{node="A"\} 1/);
    const textB = await mB.metrics.text();
    assert.match(textB, /qkdn_km_supplied_keys_total\{kind="dec_keys",node="B"\} 3/);
    for (const k of keys) {
      assert.not.ok(text.includes(k.id) || textB.includes(k.id), 'no key ID in the metrics');
    }
    await mA.accounting.flush();
    const rows = mA.accounting.records();
    const get = (dim: string, subject: string) => rows.find((r) => r.dimension === dim && r.subject === subject);
    assert.is(get('sae', 'sae-a')!.keys, 4);
    assert.is(get('sae-pair', 'sae-a>sae-b')!.bits, 4 * 256);
    assert.is(get('link', 'A~B')!.requests, 2);
    assert.is(mB.accounting.records({ dimension: 'sae' })[0]!.subject, 'sae-b');
    const csv = Accounting.csv(rows);
    assert.match(csv, /^dimension,subject,day,keys,bits,requests,first_use,last_use\n/);
    assert.match(csv, /\nsae-pair,sae-a>sae-b,\d{4}-\d{2}-\d{2},4,1024,2,/);
    for (const k of keys) assert.not.ok(JSON.stringify(rows).includes(k.id), 'no key ID in accounting');
    // Records survive the manager: the next start reads them back.
    await mA.stop();
    const again = await startManagement({ km: net.node('A').km, dataDir: join(net.dir, 'mgmt-A') });
    assert.is(again.accounting.records({ dimension: 'sae', subject: 'sae-a' })[0]!.keys, 4);
    await again.stop();
  } finally {
    await mA.stop();
    await mB.stop();
    await net.close();
  }
});

test('authentication failures become security events and one deduplicated alarm per source', async () => {
  const net = await startTestNetwork({ links: ['A-B'], saes: { 'sae-a': 'A' }, initialUnits: 8 });
  const m = await startManagement({ km: net.node('A').km, dataDir: join(net.dir, 'mgmt-A') });
  try {
    for (let i = 0; i < 50; i++) publishAuth({ node: 'A', where: 'api', kind: 'certificate-refused', peer: 'mallory', code: 'ERR_API_UNAUTHORIZED', reason: 'not an SAE of this KME' });
    publishAuth({ node: 'B', where: 'kx', kind: 'tls-handshake', peer: null, code: 'ECONNRESET', reason: 'not ours' });
    assert.is(m.security.events('certificate-refused').length, 50);
    const alarms = m.alarms.active().filter((a) => a.type === 'auth-failure');
    assert.is(alarms.length, 1, 'one alarm for one source');
    assert.is(alarms[0]!.count, 50);
    assert.match(await m.metrics.text(), /qkdn_security_events_total\{kind="certificate-refused",node="A"\} 50/);
    // An event alarm has no condition that ends: the operator's acknowledgement clears it.
    const acked = m.alarms.acknowledge(alarms[0]!.id, 'op-1');
    assert.is(acked.state, 'cleared');
  } finally {
    await m.stop();
    await net.close();
  }
});

test('tamper: the enclosure opening zeroizes the KM at once and raises a critical alarm; supply is refused after', async () => {
  const net = await startTestNetwork({ links: ['A-B'], saes: { 'sae-a': 'A', 'sae-b': 'B' }, initialUnits: 32 });
  const km = net.node('A').km;
  const m = await startManagement({ km, dataDir: join(net.dir, 'mgmt-A'), auxPath: '/dev/aux-A' });
  try {
    publishTamper({ kind: 'tamper', state: 'open', at: Date.now(), path: '/dev/other-board' });
    assert.not.ok(km.store.zeroized, "another board's tamper switch is not ours");
    publishTamper({ kind: 'tamper', state: 'open', at: Date.now(), path: '/dev/aux-A' });
    // Synchronously, within the publish: the storage key is destroyed and the alarm raised.
    assert.ok(km.store.zeroized);
    assert.not.ok(existsSync(join(net.dir, 'A.storage.key')), 'the storage key file is gone');
    const t = m.alarms.active().find((a) => a.type === 'tamper');
    assert.is(t?.severity, 'critical');
    await m.security.zeroized();
    assert.ok(m.alarms.isActive('zeroized', 'node:A'));
    await km.supply({ master: 'sae-a', slaves: ['sae-b'], size: 256, number: 1 }).then(
      () => assert.unreachable('a zeroized KM supplies nothing'),
      (e: unknown) => assert.ok(e instanceof ZeroizedError || (e as { code?: string }).code === 'ERR_KM_ZEROIZED', String(e)),
    );
    assert.match(await m.metrics.text(), /qkdn_km_zeroized\{node="A"\} 1/);
    publishTamper({ kind: 'tamper', state: 'closed', at: Date.now(), path: '/dev/aux-A' });
    assert.not.ok(m.alarms.isActive('tamper', 'aux'), 'closing the lid clears tamper');
    assert.ok(m.alarms.isActive('zeroized', 'node:A'), 'zeroized stays');
  } finally {
    await m.stop();
    await net.close();
  }
});

test.run();
