/**
 * The procedures of Y.3818 clause 9.2 through an interworking node, each a function over a running
 * IwnNetwork that asserts what a user would see and returns how many checks it made. The uvu tests
 * (iwn.test.ts) and the conformance cases (conformance-cases.ts) both run
 * these, so there is one scenario code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import type { IwnEvent, IwnNetwork } from './iwn-network.js';
import { decodePayload, type IwMessage } from '../../../host/interworking/messages.js';
import { MxiSealer } from '../../../host/interworking/mxi/seal.js';
import { encKeysWhenReady } from '../../../host/node/gwn-network.js';

/** Counts the assertions of a scenario. */
class Checks {
  n = 0;
  ok(v: unknown, msg: string): void {
    assert.ok(v, msg);
    this.n++;
  }
  is<T>(a: T, b: T, msg: string): void {
    assert.is(a, b, msg);
    this.n++;
  }
  equal<T>(a: T, b: T, msg: string): void {
    assert.equal(a, b, msg);
    this.n++;
  }
}

/** Until controller-A holds a status from controller-B in which bob can be reached with `units` to spare (Fig 13's sharing). */
async function bobReachable(net: IwnNetwork, units = 1): Promise<void> {
  await net.waitFor('status-shared', (e) => e.controller === 'controller-qkdn-b' && (e.saes as { sae: string; reachable: boolean; stock: number }[]).some((s) => s.sae === 'bob' && s.reachable && s.stock >= units));
}

/**
 * Fig 12, key transfer: alice (QKDN-A, master) asks her KME a1 for keys for bob (QKDN-B); a1
 * reserves them at the IWN's KM-A; controller-A admits the transfer and picks link and keys;
 * KM-A transfers them to KM-B (Kxi-1'), KM-A's KSA notifies KM-B's (Kxi-2'), KM-B hands them
 * over to b1; both KMs report lifecycle metadata. bob gets the same keys once from b1.
 */
export async function keyTransfer(net: IwnNetwork, o: { number?: number; size?: number } = {}): Promise<{ checks: number }> {
  const c = new Checks();
  const since = net.mark();
  const number = o.number ?? 2;
  const size = o.size ?? 256;
  await bobReachable(net, number * (size / 256));
  const st = await net.alice.status('bob');
  c.is(st.status, 200, `alice's status for bob: ${st.raw}`);
  c.is(st.body.target_KME_ID, 'iwn-a', 'bob is reached through the IWN’s KM-A in QKDN-A');
  const enc = await net.alice.encKeys('bob', { number, size });
  c.is(enc.status, 200, `enc_keys: ${enc.raw}; IWN: ${JSON.stringify(net.iwnEvents().slice(-6))}`);
  c.is(enc.body.keys.length, number, 'number of keys');
  const ids = enc.body.keys.map((k) => k.key_ID);
  const dec = await net.bob.decKeys('alice', ids);
  c.is(dec.status, 200, `dec_keys at b1: ${dec.raw}`);
  c.equal(dec.body.keys, enc.body.keys, 'bob holds the same keys as alice');
  for (const k of dec.body.keys) c.is(Buffer.from(k.key, 'base64').length, size / 8, 'key size');
  const again = await net.bob.decKeys('alice', ids.slice(0, 1));
  c.is(again.status, 400, 'a key is delivered once to bob');
  // The controllers' side of Fig 12: admitted by controller-A with the link and the keys, lifecycle from both KMs.
  const head = ids[0]!;
  const admitted = await net.waitFor('transfer-admitted', (e) => e.controller === 'controller-qkdn-a', { since });
  c.is(admitted.link, 'kxi-ab', 'controller-A determined the transfer link');
  const has = (e: IwnEvent) => (e.keys as string[] | undefined)?.includes(head) === true;
  const a = await net.waitFor('lifecycle', (e) => e.controller === 'controller-qkdn-a' && has(e));
  c.equal([a.km, a.state, a.data], ['iwn-a', 'transferred', 'deleted'], 'KM-A reports the keys transferred and its copy deleted');
  const b = await net.waitFor('lifecycle', (e) => e.controller === 'controller-qkdn-b' && has(e));
  c.equal([b.km, b.state, b.data], ['iwn-b', 'supplied', 'handed-over'], 'KM-B reports the keys handed over to the slave SAE’s KM');
  // Accounting management: XLMO-A's usage of the period, sealed over Mxi' to XLMO-B, counts these keys.
  const usage = (e: IwnEvent) => (e.usage as { master: string; slave: string; direction: string; keys: number }[] | undefined)?.find((u) => u.master === 'alice' && u.slave === 'bob' && u.direction === 'out');
  const acct = await net.waitFor('mxi-report', (e) => e.xlmo === 'xlmo-qkdn-b' && e.message === 'MxiAccounting' && usage(e) !== undefined, { since });
  c.ok(usage(acct)!.keys >= number, `XLMO-B learnt of alice's ${number} keys for bob (${usage(acct)!.keys})`);
  await net.waitFor('mxi-report', (e) => e.xlmo === 'xlmo-qkdn-b' && e.message === 'MxiPerformanceBundle', { since });
  c.n++;
  return { checks: c.n };
}

const decision = (controller: string, action: string) => (e: IwnEvent) => e.controller === controller && e.sae === 'bob' && e.action === action;

/**
 * The fault both Fig 13 and Fig 14 start from: bob's KME b1 stops, so KM-B's hand-over to it
 * fails and alice gets no key. `check` runs the figure's own checks while b1 is down; then b1 is
 * back, both controllers resume (KM-B's queued voids reach b1) and keys flow again.
 */
async function withBobDown(net: IwnNetwork, c: Checks, check: (since: number) => Promise<void>): Promise<void> {
  await bobReachable(net, 1);
  const since = net.mark();
  await net.stopNode('b1');
  const enc = await net.alice.encKeys('bob', { number: 1 });
  c.ok(enc.status !== 200, `with bob's KME down alice gets no key (${enc.status} ${enc.raw})`);
  await check(since);
  await net.restartNode('b1');
  await net.waitFor('reroute-decision', decision('controller-qkdn-b', 'resume'), { since });
  await net.waitFor('reroute-decision', decision('controller-qkdn-a', 'resume'), { since });
  c.n += 2;
  c.n += (await keyTransfer(net, { number: 1 })).checks;
}

/**
 * Fig 13, key generation control: each controller collects from its KM and modules and shares
 * with the other (CxiStatus); on the fault controller-B, which learnt of it from its KM, suspends
 * transfer towards bob and shares its status; controller-A, on that status, decides the same, and
 * refuses transfers to bob at once while suspended; both resume together.
 */
export async function keyGenerationControl(net: IwnNetwork): Promise<{ checks: number }> {
  const c = new Checks();
  // sharing: each controller has the other's status
  await net.waitFor('status-shared', (e) => e.controller === 'controller-qkdn-a');
  await net.waitFor('status-shared', (e) => e.controller === 'controller-qkdn-b');
  c.n += 2;
  await withBobDown(net, c, async (since) => {
    const fault = await net.waitFor('fault', (e) => e.controller === 'controller-qkdn-b' && e.sae === 'bob', { since });
    c.ok(String(fault.cause).includes('hand-over'), 'controller-B learnt of the failed hand-over from its KM');
    await net.waitFor('reroute-decision', decision('controller-qkdn-b', 'suspend'), { since });
    await net.waitFor('reroute-decision', decision('controller-qkdn-a', 'suspend'), { since });
    c.n += 2;
    const mark = net.mark();
    const refused = await net.alice.encKeys('bob', { number: 1 });
    c.ok(refused.status !== 200, 'a transfer to bob is refused while suspended');
    const why = await net.waitFor('transfer-refused', (e) => e.controller === 'controller-qkdn-a', { since: mark });
    c.is(why.status, 'no_known_route', 'refused by controller-A as having no route, before any key is reserved');
  });
  return { checks: c.n };
}

/**
 * Fig 14, fault management of key-transfer failure: KM-A's KMLM reports the failed transfer to
 * XLMO-A, which sends it sealed over Mxi' to XLMO-B; each diagnoses it from its side and reports
 * to its QCLM, which decides; the decisions agree.
 */
export async function faultManagement(net: IwnNetwork): Promise<{ checks: number }> {
  const c = new Checks();
  await withBobDown(net, c, async (since) => {
    const sent = await net.waitFor('mxi-fault', (e) => e.xlmo === 'xlmo-qkdn-a' && e.direction === 'sent', { since });
    const received = await net.waitFor('mxi-fault', (e) => e.xlmo === 'xlmo-qkdn-b' && e.direction === 'received', { since });
    c.is(received.fault, sent.fault, 'XLMO-B received the fault XLMO-A sent');
    c.ok(String(sent.detail).startsWith('hand-over'), `the fault names the failed step (${String(sent.detail)})`);
    const qa = await net.waitFor('qclm-decision', (e) => e.xlmo === 'xlmo-qkdn-a' && e.fault === sent.fault, { since });
    const qb = await net.waitFor('qclm-decision', (e) => e.xlmo === 'xlmo-qkdn-b' && e.fault === sent.fault, { since });
    c.equal([qa.scope, qb.scope], ['local', 'peer'], 'each XLMO diagnosed the fault from its side');
    c.equal([qa.action, qb.action], [qb.action, qa.action], 'both QCLMs decided the same');
    c.ok(qa.action !== 'none', `the QCLMs acted (${String(qa.action)})`);
  });
  return { checks: c.n };
}

/**
 * The managers of both networks in the IWN (host/manager: QLM, KMLM, QCLM, XLMO and security
 * management of KM-A, and of KM-B), each behind its own management API with its own metrics
 * registry: each reports its own network only. Run after a failed transfer (Figs 13, 14), so
 * both have alarms: KM-A's for the keys a1 voided with it, KM-B's for those it voided with b1.
 */
export async function managers(net: IwnNetwork): Promise<{ checks: number }> {
  const c = new Checks();
  const other = { a: ['iwn-b', 'b1', 'bob'], b: ['iwn-a', 'a1', 'alice'] } as const;
  for (const side of ['a', 'b'] as const) {
    const km = `iwn-${side}`;
    const peer = side === 'a' ? 'a1' : 'b1';
    const m = await net.manage(side, '/metrics');
    c.is(m.status, 200, `${km}'s /metrics: ${m.body.slice(0, 200)}`);
    const stocks = m.body.split('\n').filter((l) => l.startsWith('qkdn_km_stock_bits{'));
    c.ok(stocks.some((l) => l.includes(`peer="${peer}"`) && l.includes(`node="${km}"`)), `${km} reports its stock with ${peer}: ${stocks.join(' | ')}`);
    const labelled = m.body.split('\n').filter((l) => !l.startsWith('#') && l.includes('{'));
    c.ok(labelled.every((l) => !other[side].some((x) => l.includes(`"${x}"`))), `${km}'s metrics name nothing of the other network: ${labelled.filter((l) => other[side].some((x) => l.includes(`"${x}"`))).join(' | ')}`);
    const stocksApi = await net.manage(side, '/api/v1/stocks');
    c.equal([...new Set((JSON.parse(stocksApi.body) as { stocks: { peer: string }[] }).stocks.map((s) => s.peer))], [peer], `${km}'s KMLM sees its own network's pools`);
    // alarms: its own (keys voided with its peer in its network), none of the other network's
    let alarms: { node: string; type: string; source: string; text: string }[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      alarms = (JSON.parse((await net.manage(side, '/api/v1/alarms?state=all')).body) as { alarms: typeof alarms }).alarms;
      if (alarms.some((a) => a.type === 'keys-voided' && a.source === `peer:${peer}`)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    c.ok(alarms.some((a) => a.type === 'keys-voided' && a.source === `peer:${peer}`), `${km}'s manager raised the keys voided with ${peer}: ${JSON.stringify(alarms)}`);
    // Fig 14 at each side's manager: the transfer fault, diagnosed and decided, is its alarm (XLMO IWF → manager)
    const peerProvider = side === 'a' ? 'qkdn-b' : 'qkdn-a';
    c.ok(alarms.some((a) => a.type === 'interworking-transfer' && a.source === `peer-network:${peerProvider}`), `${km}'s manager raised the failed transfer with ${peerProvider}: ${JSON.stringify(alarms.map((a) => [a.type, a.source]))}`);
    c.ok(alarms.every((a) => a.node === km && !other[side].some((x) => a.source.includes(x))), `${km}'s alarms are its network's: ${JSON.stringify(alarms)}`);
    const health = JSON.parse((await net.manage(side, '/api/v1/health')).body) as { node: string };
    c.is(health.node, km, `${km}'s management API is its own`);
  }
  return { checks: c.n };
}

/** A tamper in the IWN zeroizes both KMs: their storage keys are destroyed and neither supplies. */
export async function tamper(net: IwnNetwork): Promise<{ checks: number }> {
  const c = new Checks();
  const since = net.mark();
  net.tellIwn('tamper');
  const z = await net.waitFor('zeroized', () => true, { since });
  c.equal(z.kms, ['iwn-a', 'iwn-b'], 'both KMs zeroized');
  for (const km of ['iwn-a', 'iwn-b']) c.ok(!existsSync(join(net.dir, 'data', km, 'storage.key')), `${km}'s storage key is destroyed`);
  const enc = await net.alice.encKeys('bob', { number: 1 });
  c.ok(enc.status !== 200, 'no key through a zeroized IWN');
  return { checks: c.n };
}

export type IwnProcedure = 'key-transfer' | 'key-generation-control' | 'fault-management';

/** The scenario of each procedure of clause 9.2, by name. */
export const PROCEDURES: Readonly<Record<IwnProcedure, { readonly figure: 12 | 13 | 14; readonly run: (net: IwnNetwork) => Promise<{ checks: number }> }>> = {
  'key-transfer': { figure: 12, run: (net) => keyTransfer(net) },
  'key-generation-control': { figure: 13, run: keyGenerationControl },
  'fault-management': { figure: 14, run: faultManagement },
};

/**
 * The unprimed case's border (controllers and managers outside the IWN): what crossed between
 * ctl-a-iw and ctl-b-iw, from both recordings. Only Cxi and Mxi cross (no key, no Kxi, no Ck);
 * CxiStatus names only shared SAEs and the transfer link; sealed Mxi opens with the receiving
 * XLMO's key only and holds the Fig 14 fault and its decision, the accounting and the performance,
 * with no internal node or link of the sender and no delivered key's bytes.
 */
export function unprimedBorder(net: IwnNetwork, delivered: readonly Buffer[]): { checks: number } {
  const c = new Checks();
  const out = net.outside;
  c.ok(out, 'the controllers run outside the IWN');
  const internal = { a: ['a1', 'a1~iwn-a', 'ctl-a'], b: ['b1', 'iwn-b~b1', 'ctl-b'] } as const;
  for (const [x, y] of [
    ['a', 'b'],
    ['b', 'a'],
  ] as const) {
    let rec: { dir: string; msg: IwMessage; hex: string }[];
    try {
      rec = readFileSync(out![x].record, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { dir: string; hex: string })
        .map((r) => ({ dir: r.dir, hex: r.hex, msg: decodePayload(Buffer.from(r.hex, 'hex')) }));
    } catch {
      rec = [];
    }
    const sent = rec.filter((r) => r.dir === 'out');
    const names = new Set(sent.map((r) => r.msg.name));
    c.ok(names.has('CxiStatus') && names.has('MxiSealed'), `ctl-${x}-iw sent CxiStatus and sealed Mxi across the border (${[...names].join(', ')})`);
    c.ok(rec.every((r) => r.msg.rp === 'Cxi' || r.msg.rp === 'Mxi'), 'only Cxi and Mxi cross the border between the controller hosts');
    c.ok(rec.every((r) => r.msg.ctx === 'border'), 'unprimed: every message has ctx border');
    for (const r of sent) {
      const t = JSON.stringify(r.msg.body, (_k, v: unknown) => (v instanceof Uint8Array ? '' : v));
      const leaked = internal[x].filter((n) => t.includes(`"${n}"`));
      if (leaked.length > 0) c.equal(leaked, [], `ctl-${x}-iw ${r.msg.name}: no internal name of qkdn-${x}`);
      if (delivered.some((k) => r.hex.includes(k.toString('hex')))) c.ok(false, `ctl-${x}-iw ${r.msg.name}: no delivered key`);
    }
    c.n += 2;
    for (const r of sent) {
      if (r.msg.name !== 'CxiStatus') continue;
      const st = r.msg.body;
      if (!st.saes.every((s) => s.sae === (x === 'a' ? 'alice' : 'bob')) || !st.borders.every((b) => b.qx === 'kxi-ab')) c.ok(false, `CxiStatus of ctl-${x}-iw names only its shared SAE and the transfer link: ${JSON.stringify(st)}`);
    }
    c.n++;
    // sealed Mxi: opened with the receiving XLMO's key; the sender's own key cannot open it
    const opener = new MxiSealer(out![y].xlmo, new Map([[out![x].xlmo.id, out![x].xlmo.publicKey]]));
    const inner = sent.filter((r) => r.msg.name === 'MxiSealed').map((r) => opener.open((r.msg as Extract<IwMessage, { name: 'MxiSealed' }>).body));
    const innerNames = new Set(inner.map((m) => m.name));
    for (const n of ['MxiAccounting', 'MxiPerformanceBundle'] as const) c.ok(innerNames.has(n), `ctl-${x}-iw sealed ${n} for XLMO-${y.toUpperCase()}`);
    if (x === 'a') for (const n of ['MxiFault', 'MxiDecision'] as const) c.ok(innerNames.has(n), `XLMO-A sealed the Fig 14 ${n} for XLMO-B`);
    for (const m of inner) {
      const t = JSON.stringify(m.body);
      const leaked = internal[x].filter((n) => t.includes(`"${n}"`) || new RegExp(`\\b${n.replace(/[~-]/g, '\\$&')}\\b`).test(t));
      if (leaked.length > 0) c.equal(leaked, [], `sealed ${m.name}: no internal name of qkdn-${x}`);
    }
    c.n++;
  }
  return { checks: c.n };
}

/**
 * With the controllers outside the IWN, KM-A admits nothing while controller-A is unreachable: a
 * transfer then is refused before any key is reserved, alice gets no key; once ctl-a-iw is back
 * (its KM and controller-B dial it again), keys flow.
 */
export async function controllerDown(net: IwnNetwork): Promise<{ checks: number }> {
  const c = new Checks();
  await net.stopNode('ctl-a');
  const since = net.mark();
  const enc = await net.alice.encKeys('bob', { number: 1 });
  c.ok(enc.status !== 200, `with controller-A down alice gets no key (${enc.status} ${enc.raw})`);
  const f = await net.waitFor('transfer', (e) => e.km === 'iwn-a' && e.outcome === 'failed', { since });
  c.is(f.step, 'control', 'KM-A refused the transfer at its controller step');
  const back = net.mark();
  await net.restartNode('ctl-a');
  // KM-A dials it again (Ck), controller-B dials it again (Cxi): it shares once both are up
  await net.waitFor('ck-link', (e) => e.km === 'iwn-a' && e.controller === 'ctl-a-iw' && e.state === 'up', { since: back });
  await net.waitFor('status-shared', (e) => e.controller === 'controller-qkdn-a', { since: back });
  const again = await encKeysWhenReady(net.alice, 'bob', 1, 30_000);
  c.is(again.status, 200, `keys flow again once controller-A is back: ${again.raw}`);
  const dec = await net.bob.decKeys('alice', again.body.keys.map((k) => k.key_ID));
  c.equal(dec.body.keys, again.body.keys, 'bob gets the same key');
  c.n += (await keyTransfer(net, { number: 1 })).checks;
  return { checks: c.n };
}
