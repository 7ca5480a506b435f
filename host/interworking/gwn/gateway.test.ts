/**
 * Kxi-1 key synchronisation of the Qx keys between two gateways over a real pinned border
 * connection (each provider its own CA, LMDB stores, Qx units from a simulated source): units one
 * end lost are voided at the other, units whose material differs at both; each end counts them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNetwork, eventually, type TestNetwork } from '../../km/test-network.js';
import { pkiPaths } from '../../pki/pki.js';
import { freePort } from '../../bench/ports.js';
import { SimulatedKeySource } from '../../km/simulated-key-source.js';
import { fingerprintOf } from '../border/pinning.js';
import { Gateway } from './gateway.js';

interface Pair {
  readonly a: Gateway;
  readonly b: Gateway;
  readonly netA: TestNetwork;
  readonly netB: TestNetwork;
  stop(): Promise<void>;
}

const UNITS = 24;

async function pair(seedA: number, seedB: number): Promise<Pair> {
  const netA = await startTestNetwork({ links: ['ga-xa'], saes: { alice: 'xa' }, initialUnits: 8 });
  const netB = await startTestNetwork({ links: ['gb-xb'], saes: { bob: 'xb' }, initialUnits: 8 });
  const pki = (n: TestNetwork, id: string) => {
    const p = pkiPaths(join(n.dir, 'pki'));
    return { key: readFileSync(p.key('KME', id), 'utf8'), cert: readFileSync(p.cert('KME', id), 'utf8'), ca: readFileSync(p.ca, 'utf8') };
  };
  const [pa, pb] = [pki(netA, 'ga'), pki(netB, 'gb')];
  const [portA, portB] = [await freePort(), await freePort()];
  const make = (net: TestNetwork, me: string, own: typeof pa, provider: string, port: number, peer: { provider: string; node: string; pki: typeof pa; port: number }, seed: number) =>
    new Gateway({
      provider,
      km: net.node(me).km,
      kx: net.node(me).kx,
      tls: { key: own.key, cert: own.cert },
      listen: { host: '127.0.0.1', port },
      peer: { provider: peer.provider, node: peer.node, fingerprint: fingerprintOf(peer.pki.cert), ca: peer.pki.ca, host: '127.0.0.1', port: peer.port },
      qx: 'qx-ab',
      qxSource: new SimulatedKeySource({ linkId: 'qx-ab', peer: peer.node, seed: new Uint8Array(32).fill(seed), rate: 0, unitBits: 256, initialUnits: UNITS }),
      foreignSaes: [],
      shared: [],
      // The grace for a pad in flight (4 × timeout + 1 s) kept short for the test.
      timeoutMs: 1000,
      syncIntervalMs: 100,
    });
  const a = make(netA, 'ga', pa, 'qkdn-a', portA, { provider: 'qkdn-b', node: 'gb', pki: pb, port: portB }, seedA);
  const b = make(netB, 'gb', pb, 'qkdn-b', portB, { provider: 'qkdn-a', node: 'ga', pki: pa, port: portA }, seedB);
  await Promise.all([a.start(), b.start()]);
  return {
    a,
    b,
    netA,
    netB,
    stop: async () => {
      await Promise.all([a.stop(), b.stop()]);
      await Promise.all([netA.close(), netB.close()]);
    },
  };
}

const qxUnits = (n: TestNetwork, node: string, peer: string) => [...n.node(node).store.records()].filter((r) => r.peer === peer && r.origin === 'link');

test('same Qx keys at both ends: compared, nothing voided', async () => {
  const p = await pair(1, 1);
  try {
    await eventually(() => qxUnits(p.netA, 'ga', 'gb').length === UNITS && qxUnits(p.netB, 'gb', 'ga').length === UNITS, 10_000, 'the Qx units at both ends');
    await new Promise((r) => setTimeout(r, 1000));
    assert.is(p.a.counts.qxVoided + p.b.counts.qxVoided, 0);
    assert.ok(qxUnits(p.netA, 'ga', 'gb').every((r) => r.state === 'available'));
  } finally {
    await p.stop();
  }
});

test('units one GWN lost are voided at the other (its own at once, the peer’s once it may no longer be a pad in flight), counted there', async () => {
  const p = await pair(2, 2);
  try {
    await eventually(() => qxUnits(p.netB, 'gb', 'ga').length === UNITS && qxUnits(p.netA, 'ga', 'gb').length === UNITS, 10_000, 'the Qx units at both ends');
    // B loses two units A allocates and one it allocates itself.
    const atB = qxUnits(p.netB, 'gb', 'ga');
    const lost = [...atB.filter((r) => r.allocator === 'ga').slice(0, 2), ...atB.filter((r) => r.allocator === 'gb').slice(0, 1)].map((r) => r.id);
    await p.netB.node('gb').store.commit({ burn: lost.map((id) => ({ id, to: 'failed' as const, reason: 'lost in a test' })) });
    await eventually(() => p.a.counts.qxVoided === 3, 30_000, 'gwn A to void the three units B lost');
    const stateAtA = new Map(qxUnits(p.netA, 'ga', 'gb').map((r) => [r.id, r.state]));
    assert.equal(
      lost.map((id) => stateAtA.get(id)),
      ['voided', 'voided', 'voided'],
    );
    assert.is(qxUnits(p.netA, 'ga', 'gb').filter((r) => r.state === 'available').length, UNITS - 3, 'no other unit voided');
    assert.is(p.b.counts.qxVoided, 0, 'B held nothing A lacked');
    assert.is(p.a.counts.qxMismatched, 0);
  } finally {
    await p.stop();
  }
});

test('Qx keys whose material differs between the ends: every such unit voided at both ends, counted as diverged', async () => {
  const p = await pair(3, 4);
  try {
    await eventually(() => p.a.counts.qxMismatched > 0 && p.b.counts.qxMismatched > 0, 15_000, 'both GWNs to find the diverged units');
    await eventually(() => qxUnits(p.netA, 'ga', 'gb').every((r) => r.state !== 'available') && qxUnits(p.netB, 'gb', 'ga').every((r) => r.state !== 'available'), 15_000, 'every diverged unit voided at both ends');
    assert.is(p.a.counts.qxMismatched + p.b.counts.qxMismatched, 2 * UNITS);
  } finally {
    await p.stop();
  }
});

test.run();
