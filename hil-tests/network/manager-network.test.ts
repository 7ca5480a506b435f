/**
 * The centralized manager (`qkdn-edge manager`) as a real process over a demo network of real node
 * processes: it collects the nodes' alarms, performance and accounting over mutual TLS; an alarm
 * raised at a node is seen at the manager; a node that stops answering is a `node-unreachable`
 * alarm of the manager, cleared when it answers again; its own API refuses a non-operator.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { EtsiClient } from '../../host/api/client.js';
import { startDemoNetwork } from '../../host/node/demo-network.js';
import { startManagerProcess, until } from './manager-scenarios.js';

interface AlarmBody {
  id: string;
  node: string;
  type: string;
  severity: string;
  source: string;
  state: string;
}

test('the network manager collects from every node: a relay-failure alarm at N1 and N3 going silent are both its alarms; accounting and performance of each node; /metrics', async () => {
  const net = await startDemoNetwork({ nodes: 3, shape: 'line', rate: 200, initialUnits: 400, management: true, bundle: true, km: { peerTimeoutMs: 1000, relayHopTimeoutMs: 1000 } });
  const mgr = await startManagerProcess(net).catch(async (e: unknown) => {
    await net.stop();
    throw e;
  });
  try {
    const op = mgr.operator;
    const nodes = await until(
      async () => {
        const r = await op.send<{ nodes: { node: string; reachable: boolean | null }[] }>('GET', '/api/v1/nodes');
        return r.body.nodes.every((n) => n.reachable === true) ? r.body.nodes : undefined;
      },
      30_000,
      'every node reachable from the manager',
    );
    assert.equal(nodes.map((n) => n.node).sort(), ['N1', 'N2', 'N3']);

    // Keys used N1 -> N2: the usage reaches the manager's accounting, per node.
    const enc = await net.client('sae-N1').encKeys('sae-N2', { number: 2 });
    assert.is(enc.status, 200, enc.raw);
    const csv = await until(
      async () => {
        const r = await op.send('GET', '/api/v1/accounting?node=N1&dimension=sae-pair&format=csv');
        return typeof r.body === 'string' && /^N1,sae-pair,sae-N1>sae-N2,\d{4}-\d{2}-\d{2},2,512,1,/m.test(r.body) ? r.body : undefined;
      },
      30_000,
      'N1 accounting at the manager',
    );
    assert.match(csv, /^node,dimension,subject,day,keys,bits,requests,first_use,last_use$/m);
    const perf = await op.send<{ nodes: Record<string, { qos: { requests: number } }> }>('GET', '/api/v1/performance');
    assert.ok(perf.body.nodes.N1 && perf.body.nodes.N2 && perf.body.nodes.N3, JSON.stringify(perf.body));

    // N3 dies: the relay N1-N2-N3 fails at N1 (an alarm at N1), and N3 stops answering (an alarm of the manager).
    await net.kill('N3');
    const r = await net.client('sae-N1').encKeys('sae-N3', { number: 1 });
    assert.is(r.status, 503);
    const relay = await mgr.event((e) => e.event === 'alarm' && e.op === 'raised' && e.node === 'N1' && e.type === 'relay-failure', 30_000, 'the relay-failure alarm of N1 at the manager');
    assert.is(relay.source, 'relay:N1>N3');
    const silent = await mgr.event((e) => e.event === 'alarm' && e.op === 'raised' && e.type === 'node-unreachable', 30_000, 'node-unreachable at the manager');
    assert.is(silent.node, 'mgr');
    assert.is(silent.source, 'node:N3');
    const active = (await op.send<{ alarms: AlarmBody[] }>('GET', '/api/v1/alarms')).body.alarms;
    assert.ok(active.some((a) => a.node === 'N1' && a.type === 'relay-failure' && a.severity === 'major'), JSON.stringify(active));
    assert.ok(active.some((a) => a.node === 'mgr' && a.type === 'node-unreachable' && a.source === 'node:N3'), JSON.stringify(active));
    const onlyN1 = (await op.send<{ alarms: AlarmBody[] }>('GET', '/api/v1/alarms?node=N1')).body.alarms;
    assert.ok(onlyN1.length >= 1 && onlyN1.every((a) => a.node === 'N1'));
    const metrics = (await op.send('GET', '/metrics')).raw;
    assert.match(metrics, /qkdn_network_node_up\{[^}]*node="N3"[^}]*\} 0/);
    assert.match(metrics, /qkdn_network_node_up\{[^}]*node="N1"[^}]*\} 1/);
    assert.match(metrics, /qkdn_network_alarms_active\{[^}]*node="N1"[^}]*severity="major"[^}]*\} [1-9]/);

    // N3 back: the manager's alarm clears; a relay to N3 completes and N1 clears its own alarm, which the manager sees.
    await net.restart('N3');
    await mgr.event((e) => e.event === 'alarm' && e.op === 'cleared' && e.type === 'node-unreachable' && e.source === 'node:N3', 30_000, 'node-unreachable cleared');
    await until(async () => ((await net.client('sae-N1').encKeys('sae-N3', { number: 1 })).status === 200 ? true : undefined), 30_000, 'a relay to N3 again');
    await mgr.event((e) => e.event === 'alarm' && e.op === 'cleared' && e.node === 'N1' && e.type === 'relay-failure', 30_000, 'relay-failure cleared at the manager');
    const history = (await op.send<{ alarms: AlarmBody[] }>('GET', '/api/v1/alarms?state=cleared')).body.alarms;
    assert.ok(history.some((a) => a.node === 'N1' && a.type === 'relay-failure'));

    // Only operators: an SAE's certificate of the same network gets 401.
    const sae = net.saes.find((s) => s.id === 'sae-N1')!;
    const notOp = new EtsiClient({ url: `https://127.0.0.1:${mgr.port}`, ca: readFileSync(sae.ca), cert: readFileSync(sae.cert), key: readFileSync(sae.key) });
    const refused = await notOp.send<{ details: { code: string }[] }>('GET', '/api/v1/alarms');
    assert.is(refused.status, 401);
    assert.is(refused.body.details[0]!.code, 'ERR_MGMT_UNAUTHORIZED');
  } finally {
    await mgr.stop();
    await net.stop();
  }
});

test.run();
