/**
 * The management layer on real node processes: the aux board's tamper switch zeroizes a live
 * node; a relay failure at one node is an alarm, a diagnosis and a reroute decision at its XLMO;
 * a real Prometheus (Debian's `prometheus`) scrapes a demo network's /metrics over mutual TLS.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../host/bench/ports.js';
import { startDemoNetwork } from '../../host/node/demo-network.js';
import { relayAlarmScenario, tamperScenario, until } from './manager-scenarios.js';

test('tamper: opening the enclosure of a live node under load destroys its storage key, raises a critical alarm, and its key supply answers 503', async () => {
  const r = await tamperScenario({ loadMs: 800 });
  assert.ok(r.suppliesDuringLoad > 0, 'the node was serving when the lid opened');
  assert.is(r.alarmSeverity, 'critical');
  assert.ok(r.storageKeyFileGone, 'storage.key is gone from the data directory');
  assert.ok(r.supplyRefused, `supply after the tamper: ${r.supplyStatus}`);
  assert.is(r.keysReadableAfter, 0, `of ${r.keysTried} keys reserved at the node, none can be fetched`);
  assert.ok(r.zeroizeMs >= 0 && r.zeroizeMs < 60_000, `zeroize time measured (${r.zeroizeMs} ms)`);
});

test('a relay failure (N3 killed, the relay from N1 fails at N2) is a relay-failure alarm at the XLMO of N1, with a diagnosis and a decision for the controller', async () => {
  const r = await relayAlarmScenario();
  assert.is(r.supplyStatus, 503);
  assert.is(r.alarm.severity, 'major');
  assert.is(r.alarm.source, 'relay:N1>N3');
  assert.ok(r.diagnoses.length >= 1);
  assert.ok(['N3', 'N2~N3'].includes(r.diagnoses[0]!.suspect.id), JSON.stringify(r.diagnoses[0]));
  // A line has no way around: the QCLM says so rather than inventing a route.
  assert.is(r.decisions[0]!.action, 'none');
});

const prometheus = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(e);
        }
      });
    })
      .on('error', reject)
      .end();
  });
}

type PromVector = { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };

(prometheus ? test : test.skip)(`a real Prometheus scrapes every node of a demo network over mutual TLS${prometheus ? '' : ' (skipped: no prometheus binary; apt-get install prometheus)'}`, async () => {
  const net = await startDemoNetwork({ nodes: 3, shape: 'line', rate: 200, initialUnits: 400, management: true, bundle: true, logLevel: 'info' });
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-prom-'));
  const port = await freePort();
  const cred = net.operatorCredentials!;
  const targets = net.nodes.map((n) => n.managementUrl!.replace('https://', ''));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: qkdn',
      '    scheme: https',
      '    tls_config:',
      `      ca_file: ${cred.ca}`,
      `      cert_file: ${cred.cert}`,
      `      key_file: ${cred.key}`,
      '      server_name: localhost',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const err: string[] = [];
  prom.stderr!.on('data', (d: Buffer) => err.push(d.toString()) > 40 && err.shift());
  try {
    // Some keys supplied end to end (relayed over N2), so the counters have something to count.
    const alice = net.client('sae-N1');
    const enc = await alice.encKeys('sae-N3', { number: 2 });
    assert.is(enc.status, 200, enc.raw);
    const api = `http://127.0.0.1:${port}/api/v1/query?query=`;
    const up = await until(
      async () => {
        const r = (await getJson(`${api}up`).catch(() => null)) as PromVector | null;
        const ups = r?.data.result.filter((x) => x.value[1] === '1') ?? [];
        return ups.length === targets.length ? ups : undefined;
      },
      60_000,
      `Prometheus scraping ${targets.length} targets (${err.join('').slice(-500)})`,
    );
    assert.is(up.length, 3);
    const supplied = await until(
      async () => {
        const r = (await getJson(`${api}${encodeURIComponent('qkdn_km_supplied_keys_total{kind="enc_keys"}')}`).catch(() => null)) as PromVector | null;
        return r?.data.result.find((x) => x.metric.node === 'N1' && x.value[1] === '2');
      },
      30_000,
      'the enc_keys counter of N1 in Prometheus',
    );
    assert.is(supplied.metric.kind, 'enc_keys');
    const relays = (await getJson(`${api}${encodeURIComponent('qkdn_km_relays_total')}`)) as PromVector;
    assert.ok(relays.data.result.some((x) => x.metric.node === 'N1' && x.metric.outcome === 'completed' && Number(x.value[1]) >= 1), JSON.stringify(relays.data.result));
    // Nothing in any series names a key ID.
    const ids = enc.body.keys.map((k) => k.key_ID);
    const all = (await getJson(`${api}${encodeURIComponent('{__name__=~"qkdn_.+"}')}`)) as PromVector;
    assert.ok(all.data.result.length > 20);
    for (const s of all.data.result) for (const v of Object.values(s.metric)) assert.not.ok(ids.includes(v), `key ID in ${JSON.stringify(s.metric)}`);
    // The access logs: N3's SAE fetches the keys (a dec_keys query names them); the log names the route only.
    const bob = net.client('sae-N3');
    assert.is((await bob.send('GET', `/api/v1/keys/sae-N1/dec_keys?key_ID=${ids[0]}`)).status, 200);
    assert.is((await bob.decKeys('sae-N1', [ids[1]!])).status, 200);
    const log = await until(async () => (/"access":"key-api".*dec_keys/.test(net.stderr('N3')) ? net.stderr('N3') : undefined), 10_000, 'the access log of N3');
    const access = log.split('\n').filter((l) => l.includes('"access"')).map((l) => JSON.parse(l) as { route: string; status: number; sae: string });
    assert.ok(access.some((a) => a.route === '/api/v1/keys/:SAE_ID/dec_keys' && a.status === 200 && a.sae === 'sae-N3'), log.slice(-800));
    for (const id of ids) assert.not.ok(log.includes(id), 'no key ID in the log');
    assert.match(net.stderr('N1'), /"access":"management"/, 'the management API has its access log too');
  } finally {
    prom.kill('SIGTERM');
    await new Promise((r) => prom.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
    await net.stop();
  }
});

test.run();
