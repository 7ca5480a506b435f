/**
 * Reliability: while SAEs keep asking for keys across a line of three real node processes (pairs
 * that share a link, and pairs whose keys are relayed through the middle node, in both
 * directions), a KM process is killed with SIGKILL at random moments, at least 100 times, and
 * restarted each time from a warm standby. Each kill comes a random few milliseconds after the
 * network has done some supplies since the last restart, so every kill lands among operations
 * in flight (supply, reservation, relay hops, voids), whatever the load of the machine.
 * Afterwards, once every Void queued by the crashes has been delivered:
 *   - no key was delivered twice (to a master by enc_keys or to a slave by dec_keys);
 *   - every key a master received can still be fetched by its slave, with the same bytes, unless
 *     the slave's fetch was already answered by its KM and only the HTTP answer was lost in the kill;
 *   - both KMs holding copies of a key agree on its state (agreement.ts), none left in doubt.
 * The schedule is seeded (QKDN_CRASH_SEED to replay another one, QKDN_CRASH_KILLS for more kills).
 * Node processes run from a one-file build (demo-network `bundle`) so that a restart costs little.
 */
import { test } from 'uvu';
import { seededRandom } from '../../host/qkd-link/reconciliation/design.js';
import * as assert from 'uvu/assert';
import { startDemoNetwork, type DemoNetwork } from '../../host/node/demo-network.js';
import type { EtsiClient } from '../../host/api/client.js';
import { disagreements, readStore } from './agreement.js';

const KILLS = Number(process.env.QKDN_CRASH_KILLS ?? 100);
const SEED = Number(process.env.QKDN_CRASH_SEED ?? 20240611);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ledger {
  master: Map<string, { pair: string; key: string }>;
  slave: Map<string, string>;
  /** Fetches sent without an answer (the slave's node died meanwhile). */
  unanswered: Set<string>;
  violations: string[];
  stats: Record<string, number>;
}

test(`${KILLS} SIGKILLs of KM processes during supply and relay: nothing delivered twice, nothing lost at one end, both ends agree`, async () => {
  const rand = seededRandom(SEED);
  const net: DemoNetwork = await startDemoNetwork({
    nodes: 3,
    shape: 'line',
    standby: true,
    bundle: true,
    rate: 20,
    initialUnits: 800,
    km: { peerTimeoutMs: 1000, relayHopTimeoutMs: 800, syncIntervalMs: 100 },
  });
  const L: Ledger = { master: new Map(), slave: new Map(), unanswered: new Set(), violations: [], stats: { enc_ok: 0, enc_err: 0, dec_ok: 0, dec_err: 0, kills: 0 } };
  const pairs: [string, string][] = [
    ['N1', 'N2'],
    ['N2', 'N3'],
    ['N1', 'N3'], // relayed through N2
    ['N3', 'N1'], // relayed the other way
    ['N2', 'N1'],
  ];
  const clients = new Map<string, EtsiClient>();
  const client = (node: string) => {
    let c = clients.get(node);
    if (!c) clients.set(node, (c = net.client(`sae-${node}`, 4)));
    return c;
  };
  const pending: { id: string; master: string; slave: string }[] = [];

  const fetch = async (id: string, master: string, slave: string): Promise<boolean> => {
    let r;
    try {
      r = await client(slave).decKeys(`sae-${master}`, [id]);
    } catch {
      L.unanswered.add(id);
      return false;
    }
    if (r.status !== 200) {
      L.stats.dec_err!++;
      return false;
    }
    L.stats.dec_ok!++;
    for (const k of r.body.keys) {
      if (L.slave.has(k.key_ID)) L.violations.push(`key ${k.key_ID} delivered twice to the slave`);
      L.slave.set(k.key_ID, k.key);
      const m = L.master.get(k.key_ID);
      if (!m) L.violations.push(`slave got ${k.key_ID} that no master received`);
      else if (m.key !== k.key) L.violations.push(`key ${k.key_ID}: slave bytes differ from master bytes`);
    }
    return true;
  };

  let running = true;
  const worker = async (master: string, slave: string) => {
    while (running) {
      let r;
      try {
        r = await client(master).encKeys(`sae-${slave}`, { number: 1 + Math.floor(rand() * 3) });
      } catch {
        L.stats.enc_err!++;
        await sleep(5);
        continue;
      }
      if (r.status !== 200) {
        L.stats.enc_err!++;
        await sleep(5);
        continue;
      }
      L.stats.enc_ok!++;
      L.stats[`ok_${master}>${slave}`] = (L.stats[`ok_${master}>${slave}`] ?? 0) + 1;
      for (const k of r.body.keys) {
        if (L.master.has(k.key_ID)) L.violations.push(`key ${k.key_ID} delivered twice to a master`);
        L.master.set(k.key_ID, { pair: `${master}>${slave}`, key: k.key });
      }
      for (const k of r.body.keys) if (!(await fetch(k.key_ID, master, slave))) pending.push({ id: k.key_ID, master, slave });
      // Leave CPU to the processes being restarted: the point is operations in flight at each kill, not throughput.
      await sleep(2 + rand() * 8);
    }
  };

  try {
    const workers = pairs.map(([m, s]) => worker(m, s));
    const t0 = performance.now();
    let restartMs = 0;
    const startMs: Record<string, number> = {};
    let cycles = 0;
    while (L.stats.kills! < KILLS) {
      cycles++;
      // Some supplies since the last restart, then a random moment among those in flight.
      const mark = L.stats.enc_ok!;
      const waitFrom = performance.now();
      while (L.stats.enc_ok! < mark + 1 && performance.now() - waitFrom < 5000) await sleep(2);
      await sleep(rand() * 40);
      // Any node whose standby is loaded (all of them, unless the machine is slow).
      let ready = net.nodes.map((n) => n.id).filter((id) => net.spareReady(id));
      while (ready.length === 0) {
        await sleep(10);
        ready = net.nodes.map((n) => n.id).filter((id) => net.spareReady(id));
      }
      // One node, or sometimes two at the same moment (both ends of a link, or a relay's source
      // and its middle hop): two crashes in one cycle.
      const first = ready.splice(Math.floor(rand() * ready.length), 1)[0]!;
      const victims = ready.length > 0 && L.stats.kills! < KILLS - 1 && rand() < 0.3 ? [first, ready[Math.floor(rand() * ready.length)]!] : [first];
      await Promise.all(victims.map((v) => net.kill(v)));
      L.stats.kills! += victims.length;
      if (victims.length === 2) L.stats.doubleKills = (L.stats.doubleKills ?? 0) + 1;
      const t = performance.now();
      await Promise.all(victims.map((v) => net.restart(v)));
      restartMs += performance.now() - t;
      for (const v of victims) for (const [part, ms] of Object.entries(net.node(v).startupMs)) startMs[part] = (startMs[part] ?? 0) + ms / KILLS;
    }
    L.stats.killPhaseMs = Math.round(performance.now() - t0);
    L.stats.cycles = cycles;
    L.stats.meanRestartMs = Math.round(restartMs / cycles);
    for (const [part, ms] of Object.entries(startMs)) L.stats[`start_${part}_ms`] = Math.round(ms);
    running = false;
    await Promise.all(workers);

    // Converge: every Void queued by a crash delivered, then every key a master got fetched.
    const dirs = net.nodes.map((n) => ({ node: n.id, dir: n.dataDir }));
    const deadline = Date.now() + 60_000;
    while (dirs.some((d) => readStore(d.node, d.dir).outbox > 0)) {
      if (Date.now() > deadline) throw new Error('outboxes did not drain');
      await sleep(100);
    }
    for (const p of pending) {
      if (L.slave.has(p.id)) continue;
      if (!(await fetch(p.id, p.master, p.slave)) && !L.unanswered.has(p.id)) L.violations.push(`key ${p.id} (${p.master}>${p.slave}) received by the master cannot be fetched by the slave`);
    }
    // A fetch whose answer was lost with its process: the slave's KM must have recorded the delivery.
    let lostInTransit = 0;
    for (const id of L.unanswered) {
      if (L.slave.has(id)) continue;
      const m = L.master.get(id)!;
      const slaveNode = m.pair.split('>')[1]!;
      const img = readStore(slaveNode, net.node(slaveNode).dataDir);
      const state = [...img.byPeer.values()].find((v) => v.has(id))?.get(id)?.state;
      if (state !== 'delivered') L.violations.push(`key ${id}: fetch unanswered and the slave KM says ${state}`);
      else lostInTransit++;
    }
    for (const n of net.nodes) await net.stopNode(n.id);
    const images = dirs.map((d) => readStore(d.node, d.dir));
    const bad = disagreements(images);
    L.violations.push(...bad.slice(0, 20));
    console.log(`crash test: ${JSON.stringify({ ...L.stats, keys: L.master.size, fetched: L.slave.size, lostInTransit, seed: SEED })}`);
    assert.is(L.stats.kills, KILLS);
    assert.ok(L.stats.enc_ok! > KILLS, `enough supplies happened around the kills (${L.stats.enc_ok})`);
    for (const relayed of ['N1>N3', 'N3>N1']) assert.ok((L.stats[`ok_${relayed}`] ?? 0) >= KILLS / 10, `relayed supplies ${relayed} happened around the kills`);
    assert.equal(L.violations, []);
  } finally {
    running = false;
    await net.stop().catch(() => {});
  }
});

test.run();
