/**
 * Configuration management applied through the controller's configuration control, over real KMs
 * (LMDB stores, Kx over mutual TLS, in one process): a version's network structure becomes the
 * controller's next version, which it pushes to the KMs' network views; a version the controller
 * refuses is not stored, the version in force stays in force (at the manager, the controller and
 * the KMs) and a `config-refused` alarm is raised; an operator's rollback goes through the
 * controller too.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { ConfigurationControl, topologyOf } from '../../host/controller/configuration.js';
import { MemoryStore } from '../../host/controller/store.js';
import { startTestNetwork } from '../../host/km/test-network.js';
import { ManagementError } from '../../host/manager/errors.js';
import { startManagement } from '../../host/manager/management.js';

test('a configuration version goes through the controller to the KMs; a version the controller refuses is rolled back to the one in force and raises config-refused; rollback goes through the controller', async () => {
  const net = await startTestNetwork({ links: ['A-B', 'B-C'], saes: { 'sae-a': 'A', 'sae-c': 'C' }, initialUnits: 8 });
  const initial = { nodes: ['A', 'B', 'C'], links: [{ id: 'A~B', ends: ['A', 'B'] as [string, string] }, { id: 'B~C', ends: ['B', 'C'] as [string, string] }], saes: { 'sae-a': 'A', 'sae-c': 'C' } };
  const control = new ConfigurationControl(new MemoryStore(), initial, 1);
  // As the controller pushes to the KMs (Ck TopologyPush; here in one process): every node's view.
  const pushed: number[] = [];
  const unsubscribe = control.subscribe((config, version) => {
    pushed.push(version);
    for (const id of ['A', 'B', 'C']) net.node(id).km.network.replace({ ...topologyOf(config), routes: net.node(id).km.network.current().routes ?? new Map() }, version);
  });
  const m = await startManagement({ km: net.node('A').km, dataDir: join(net.dir, 'mgmt-A'), control });
  try {
    const v1 = m.configuration.current();
    assert.equal(v1.config.network.links?.map((l) => l.id), ['A~B', 'B~C'], 'the first version holds the controller structure');

    // Version 2: a link A~C and a route over it, through the controller.
    const links2 = [...initial.links, { id: 'A~C', ends: ['A', 'C'] as [string, string] }];
    const v2 = await m.configuration.put({ network: { ...initial, links: links2, routes: [['A', 'C']] }, alarms: { qberThreshold: 0.11 } }, 'op-alice', 'add A~C');
    assert.is(v2.version, v1.version + 1);
    assert.is(control.version, 2, 'the controller took it as its next version');
    assert.equal(control.config.links.map((l) => l.id), ['A~B', 'B~C', 'A~C']);
    for (const id of ['A', 'B', 'C']) assert.ok(net.node(id).km.network.current().links.some((l) => l.id === 'A~C'), `${id}'s view has A~C`);
    assert.equal(m.configuration.diff(v1.version, v2.version).find((c) => c.path === '/network/links/2')?.op, 'add');

    // Version 3: a link to a node the network does not have. The controller refuses it.
    const bad = { network: { ...initial, links: [...links2, { id: 'C~Z', ends: ['C', 'Z'] as [string, string] }], routes: [] }, alarms: { qberThreshold: 0.2 } };
    const err = await m.configuration.put(bad, 'op-bob').then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ManagementError, String(err));
    assert.is((err as ManagementError).code, 'ERR_MGMT_CONFIG_REFUSED');
    assert.is((err as ManagementError).status, 409);
    assert.match((err as ManagementError).message, /unknown node Z/);
    assert.is(m.configuration.current().version, v2.version, 'the version in force stays');
    assert.is(m.configuration.history().length, 2, 'the refused version is not in the history');
    assert.is(control.version, 2, 'the controller did not move');
    assert.is(m.qlm.thresholds.qberAlarm, 0.11, 'nothing of the refused version took effect');
    const [refusal] = m.configuration.refusals();
    assert.is(refusal!.version, v2.version + 1);
    assert.is(refusal!.code, 'ERR_CTL_CONFIG');
    assert.ok(refusal!.rolledBack);
    const alarm = m.alarms.active().find((a) => a.type === 'config-refused');
    assert.ok(alarm, 'config-refused raised');
    assert.match(alarm!.text, /op-bob/);

    // An operator's rollback to version 1: a new version, and the controller removes A~C again.
    const v4 = await m.configuration.rollback(v1.version, 'op-alice');
    assert.is(v4.version, v2.version + 1);
    assert.is(control.version, 3);
    assert.equal(control.config.links.map((l) => l.id), ['A~B', 'B~C']);
    for (const id of ['A', 'B', 'C']) assert.not.ok(net.node(id).km.network.current().links.some((l) => l.id === 'A~C'), `${id}'s view lost A~C`);
    assert.equal(pushed, [1, 2, 3]);
  } finally {
    unsubscribe();
    await m.stop();
    await net.close();
  }
});

test.run();
