/**
 * Outage alarms of the key supply API on real node processes: a slave KME that cannot be reached
 * is an `api-outage` alarm (source `kme:N2`) at the master's node until the supply works again;
 * key requests failing or refused above the threshold (a run of dec_keys for keys that do not
 * exist) raise `api-outage` for the node's API (`api:N1`), cleared once requests succeed again.
 * The network manager sees both.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomUUID } from 'node:crypto';
import { startDemoNetwork } from '../../host/node/demo-network.js';
import { startManagerProcess, until } from './manager-scenarios.js';

interface AlarmBody {
  type: string;
  source: string;
  state: string;
  node: string;
  details: Record<string, unknown>;
}

test('api-outage: raised for an unreachable slave KME and for requests failing above the threshold; cleared when the supply recovers; seen at the network manager', async () => {
  const net = await startDemoNetwork({ nodes: 3, shape: 'line', rate: 200, initialUnits: 400, management: true, bundle: true, km: { peerTimeoutMs: 1000, relayHopTimeoutMs: 1000 } });
  const mgr = await startManagerProcess(net).catch(async (e: unknown) => {
    await net.stop();
    throw e;
  });
  try {
    const op = net.operator('N1');
    const active = async () => (await op.send<{ alarms: AlarmBody[] }>('GET', '/api/v1/alarms?type=api-outage')).body.alarms;
    assert.equal(await active(), [], 'no outage alarm on a healthy network');
    const n1 = net.client('sae-N1');
    // N2, N1's neighbour and the KME of sae-N2, dies.
    await net.kill('N2');
    assert.is((await n1.encKeys('sae-N2', { number: 1 })).status, 503);
    const kme = await until(async () => (await active()).find((a) => a.source === 'kme:N2'), 10_000, 'api-outage for N2 at N1');
    assert.is(kme.details.kme, 'N2');

    // Twelve dec_keys for keys N1 never reserved: refused, and above half of the window's requests.
    for (let i = 0; i < 12; i++) assert.is((await n1.decKeys('sae-N2', [randomUUID()])).status >= 400, true);
    const api = await until(async () => (await active()).find((a) => a.source === 'api:N1'), 10_000, 'api-outage for the API of N1');
    assert.ok(Number(api.details.ratio) > 0.5, JSON.stringify(api.details));
    await mgr.event((e) => e.event === 'alarm' && e.op === 'raised' && e.node === 'N1' && e.type === 'api-outage' && e.source === 'api:N1', 30_000, 'the API outage alarm at the network manager');

    // Recovery: N2 back, supplies to it work again; good requests bring the share down.
    await net.restart('N2');
    await until(async () => ((await n1.encKeys('sae-N2', { number: 1 })).status === 200 ? true : undefined), 30_000, 'a supply to N2 again');
    await until(async () => ((await active()).some((a) => a.source === 'kme:N2') ? undefined : true), 10_000, 'api-outage for N2 cleared');
    const n2 = net.client('sae-N2');
    await until(
      async () => {
        for (let i = 0; i < 5; i++) {
          const enc = await n1.encKeys('sae-N2', { number: 1 });
          if (enc.status === 200) await n2.decKeys('sae-N1', [enc.body.keys[0]!.key_ID]);
        }
        return (await active()).some((a) => a.source === 'api:N1') ? undefined : true;
      },
      30_000,
      'api-outage for the API of N1 cleared',
    );
    const cleared = (await op.send<{ alarms: AlarmBody[] }>('GET', '/api/v1/alarms?type=api-outage&state=cleared')).body.alarms;
    assert.ok(cleared.some((a) => a.source === 'api:N1') && cleared.some((a) => a.source === 'kme:N2'), JSON.stringify(cleared));
    await mgr.event((e) => e.event === 'alarm' && e.op === 'cleared' && e.node === 'N1' && e.source === 'api:N1', 30_000, 'the clearing at the network manager');
  } finally {
    await mgr.stop();
    await net.stop();
  }
});

test.run();
