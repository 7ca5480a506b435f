/**
 * Cq through the node: what a QKD module publishes (its BlockReports and LinkStateEvents on
 * node:diagnostics_channel, published here through the link layer's own functions) becomes the
 * link's ETSI GS QKD 015 state at the controller, and a QBER alarm or a link leaving ACTIVE moves
 * the routes off it and voids the relay sessions on it.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { channel } from 'node:diagnostics_channel';
import { BLOCK_CHANNEL, publishState, type BlockReport } from '../qkd-link/module/diagnostics.js';
import { ControllerView, type RerouteTrigger } from '../controller/view.js';
import { ControllerRouter, type RelayRouteRequest } from '../controller/router.js';
import { SessionControl } from '../controller/sessions.js';
import { Controller } from '../controller/controller.js';
import { MemoryStore } from '../controller/store.js';
import { squareNetwork } from '../controller/metro.js';
import { LinkReports, qkdRolesOf } from './link-reports.js';

const UNIT = 256;
const CLOCK = 1e8;
const STAGES = { sift: 0, pe: 0, ec: 0, verify: 0, pa: 0, commit: 0 };

/** A block report as the link module's end publishes it: `seconds` of source time, `bits` of final key, QBER in Z. */
function block(linkId: string, role: 'alice' | 'bob', n: number, o: { bits: number; qber: number; seconds?: number; outcome?: BlockReport['outcome'] }): BlockReport {
  const slots = Math.round((o.seconds ?? 1) * CLOCK);
  const per = { signal: o.qber, decoy: o.qber, vacuum: 0.5 };
  return {
    linkId,
    role,
    block: n,
    outcome: o.outcome ?? 'key',
    slots: { start: n * slots, end: (n + 1) * slots, clockHz: CLOCK },
    events: 1000,
    qber: { Z: { ...per, all: o.qber }, X: { ...per, all: o.qber } },
    ...(o.outcome === undefined || o.outcome === 'key' ? { finalBits: o.bits } : {}),
    stageMs: STAGES,
    totalMs: 10,
  };
}

// publishBlock is the module's; its channel is the same object by name.
const publishBlock = (r: BlockReport) => channel(BLOCK_CHANNEL).publish(r);

const network = {
  links: [
    { id: 'A~B', ends: ['A', 'B'] as const, source: { type: 'qkd' as const } },
    { id: 'A~D', ends: ['A', 'D'] as const, source: { type: 'simulated' as const, seed: '00', rate: 1 } },
    { id: 'B~C', ends: ['B', 'C'] as const, source: { type: 'qkd' as const, role: 'alice' } },
  ],
};

test('the QKD links of a node and its module\'s role on each: alice at the first end unless the source says', () => {
  assert.equal([...qkdRolesOf('A', network as never)], [['A~B', 'alice']]);
  assert.equal([...qkdRolesOf('B', network as never)], [
    ['A~B', 'bob'],
    ['B~C', 'alice'],
  ]);
});

test('status, skr, eskr and QBER of a link come from its module\'s events; other links\' and the other end\'s are not its', () => {
  const changes: string[] = [];
  const r = new LinkReports({ links: ['A~B', 'A~D'], qkd: qkdRolesOf('A', network as never), onChange: (l, p) => changes.push(`${l}:${p.status}`) });
  try {
    assert.is(r.state('A~B').status, 'PENDING', 'a QKD link before its module said anything');
    assert.is(r.state('A~D').status, 'ACTIVE', 'a simulated link');
    publishState({ linkId: 'A~B', role: 'alice', state: 'listening' });
    publishState({ linkId: 'A~B', role: 'alice', state: 'synchronised' });
    assert.is(r.state('A~B').status, 'ACTIVE');
    publishBlock(block('A~B', 'alice', 0, { bits: 20_000, qber: 0.02, seconds: 2 }));
    assert.equal(r.state('A~B'), { status: 'ACTIVE', skr: 10_000, eskr: 10_000, qber: 0.02, qberAlarm: false });
    publishBlock(block('A~B', 'alice', 1, { bits: 0, qber: 0.03, outcome: 'no-key' }));
    const s = r.state('A~B');
    assert.is(s.skr, 0);
    assert.ok(s.eskr > 5000 && s.eskr < 10_000, `eskr ${s.eskr}: an average, not the last block`);
    // The far end's module (bob) and another link are not this node's to report.
    publishBlock(block('A~B', 'bob', 1, { bits: 0, qber: 0.4 }));
    publishState({ linkId: 'B~C', role: 'alice', state: 'disconnected' });
    assert.is(r.state('A~B').qber, 0.03);
    publishState({ linkId: 'A~B', role: 'alice', state: 'disconnected' });
    assert.is(r.state('A~B').status, 'OFF');
    assert.equal(changes.filter((c) => c.startsWith('A~B')).map((c) => c.slice(4)), ['ACTIVE', 'ACTIVE', 'ACTIVE', 'OFF'], 'each change told once');
  } finally {
    r.close();
  }
});

test('the QBER alarm is raised above the threshold and cleared only below 80 % of it; out of service is OFF', () => {
  const r = new LinkReports({ links: ['A~B'], qkd: new Map([['A~B', 'alice']]), qberThreshold: 0.1 });
  try {
    publishBlock(block('A~B', 'alice', 0, { bits: 1000, qber: 0.12 }));
    assert.ok(r.state('A~B').qberAlarm);
    publishBlock(block('A~B', 'alice', 1, { bits: 1000, qber: 0.09 }));
    assert.ok(r.state('A~B').qberAlarm, 'still within the hysteresis');
    publishBlock(block('A~B', 'alice', 2, { bits: 1000, qber: 0.07 }));
    assert.not.ok(r.state('A~B').qberAlarm);
    assert.ok(r.setInService('A~B', false));
    assert.is(r.state('A~B').status, 'OFF');
    assert.ok(r.setInService('A~B', true));
    assert.is(r.state('A~B').status, 'ACTIVE');
    assert.not.ok(r.setInService('X~Y', false), 'not a link of this node');
  } finally {
    r.close();
  }
});

const req = (relayId: string): RelayRouteRequest => ({ relayId, from: 'A', to: 'C', units: 4, deadline: Date.now() + 60_000, priority: 0, attempt: 0, avoidLinks: [] });

test('a QBER alarm, then a link leaving ACTIVE, reported through the node: routes move off the link, relay sessions on it are voided', () => {
  const cfg = squareNetwork({ alice: 'A', carol: 'C' });
  const view = new ControllerView({ unitBits: UNIT, lowWaterUnits: 2 });
  view.configure(cfg, 1);
  const stock: Record<string, number> = { 'A~B': 60, 'B~C': 60, 'A~D': 40, 'C~D': 40 };
  for (const l of cfg.links) for (const n of l.ends) view.reportStock(l.id, n, { stockBits: stock[l.id]! * UNIT, consumptionBps: 0, at: 0 });
  const sessions = new SessionControl();
  const router = new ControllerRouter(view, sessions);
  const triggers: RerouteTrigger[] = [];
  view.on('trigger', (t) => {
    triggers.push(t);
    sessions.onTrigger(t);
  });
  const voided: string[] = [];
  sessions.on('void', (s) => voided.push(s.relayId));
  // Node A's Cq: its QKD modules' events to the controller's view.
  const a = new LinkReports({ links: ['A~B', 'A~D'], qkd: new Map([['A~B', 'alice'], ['A~D', 'alice']]), onChange: (l, p) => view.reportLink(l, p) });
  try {
    for (const l of ['A~B', 'A~D']) publishState({ linkId: l, role: 'alice', state: 'synchronised' });
    assert.equal(router.routeNow(req('r1')).nodes, ['A', 'B', 'C'], 'the wider route first');
    publishBlock(block('A~B', 'alice', 0, { bits: 500, qber: 0.2 }));
    assert.is(view.link('A~B')?.qberAlarm, true);
    assert.ok(triggers.some((t) => t.reason === 'qber-alarm' && t.links.includes('A~B')), JSON.stringify(triggers));
    assert.equal(voided, ['r1'], 'the relay on the alarmed link is to be retried');
    assert.equal(router.routeNow(req('r2')).nodes, ['A', 'D', 'C']);
    // The QBER falls back and the link is good again; then its module loses the connection.
    publishBlock(block('A~B', 'alice', 1, { bits: 5000, qber: 0.02 }));
    assert.equal(router.routeNow(req('r3')).nodes, ['A', 'B', 'C']);
    publishState({ linkId: 'A~B', role: 'alice', state: 'disconnected' });
    assert.ok(triggers.some((t) => t.reason === 'link-down' && t.links.includes('A~B')));
    assert.ok(voided.includes('r3'));
    assert.equal(router.routeNow(req('r4')).nodes, ['A', 'D', 'C']);
  } finally {
    a.close();
    sessions.close();
  }
});

test('centralized controller: the worse of the two ends\' reports stands, so one end seeing the link cut takes it out', async () => {
  const c = new Controller({ store: new MemoryStore(), config: squareNetwork({}), unitBits: UNIT, lowWaterUnits: 2 });
  const report = (node: string, status: 'ACTIVE' | 'OFF', qberAlarm = false) => c.handle(node, { name: 'LinkReport', body: { link: 'A~B', node, status, skr: 1000, eskr: 1000, qber: 0.01, qberAlarm } } as never);
  await report('A', 'OFF');
  await report('B', 'ACTIVE');
  assert.is(c.view.link('A~B')?.status, 'OFF', 'B still sees its end up, A sees the link cut');
  await report('A', 'ACTIVE');
  assert.is(c.view.link('A~B')?.status, 'ACTIVE');
  await report('B', 'ACTIVE', true);
  await report('A', 'ACTIVE');
  assert.ok(c.view.link('A~B')?.qberAlarm, 'either end\'s QBER alarm');
  c.stop();
});

test.run();
