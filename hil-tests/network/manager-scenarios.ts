/**
 * The management layer on real node processes (demo network, management ports, operator
 * certificates), shared by hil-tests/network/manager.test.ts and the `manager` bench:
 *
 * - tamper: a live node under SAE load, its aux I/O board an emulated Firmata board on a pty;
 *   the lid opens; how long until the node's storage key was destroyed (from the board's pin
 *   change), whether supply is refused after, and how many keys the node can still deliver;
 * - alarm: in a line N1-N2-N3 the last node is killed; N1's SAE asks for keys for N3's SAE, the
 *   relay N1-N2-N3 fails at its second hop, and the relay-failure alarm is read at N1's XLMO
 *   (management API);
 * - the network manager: `qkdn-edge manager` as a process over such a network (startManagerProcess).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AuxEmulator } from '../../firmware-bridge/aux/aux-emulator.js';
import { EtsiClient } from '../../host/api/client.js';
import { freePort } from '../../host/bench/ports.js';
import { startDemoNetwork, type DemoNetwork } from '../../host/node/demo-network.js';
import { initPki } from '../../host/pki/pki.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `get` until it returns something; throws after `ms`. */
export async function until<T>(get: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(5);
  }
}

interface AlarmBody {
  id: string;
  type: string;
  severity: string;
  source: string;
  raisedAt: number;
  state: string;
}

export interface TamperResult {
  readonly zeroizeMs: number;
  readonly alarmSeverity: string;
  readonly supplyRefused: boolean;
  readonly supplyStatus: number;
  readonly keysReadableAfter: number;
  readonly keysTried: number;
  readonly storageKeyFileGone: boolean;
  readonly suppliesDuringLoad: number;
}

export async function tamperScenario(o: { loadMs?: number } = {}): Promise<TamperResult> {
  const board = await AuxEmulator.start();
  try {
    const net = await startDemoNetwork({ nodes: 2, shape: 'line', rate: 200, initialUnits: 2000, management: true, aux: { N1: board.path }, bundle: true });
    try {
      const op = net.operator('N1');
      // The node opened its board before it said ready; the lid is closed: nothing stands.
      const standing = (await op.send<{ alarms: AlarmBody[] }>('GET', '/api/v1/alarms')).body.alarms;
      if (standing.length > 0) throw new Error(`alarms before the tamper: ${JSON.stringify(standing)}`);
      // Keys reserved at N1 for its SAE (N2's SAE is the master): what a tamper must make unreadable.
      const n2 = net.client('sae-N2');
      const reserved = await n2.encKeys('sae-N1', { number: 8 });
      if (reserved.status !== 200) throw new Error(`enc_keys at N2: ${reserved.status} ${reserved.raw}`);
      const ids = reserved.body.keys.map((k) => k.key_ID);
      // Load: SAE pairs through N1 until the tamper stops them.
      const n1 = net.client('sae-N1', 4);
      const n2b = net.client('sae-N2', 4);
      let running = true;
      let supplies = 0;
      const worker = async () => {
        while (running) {
          const r = await n1.encKeys('sae-N2', { number: 1 }).catch(() => null);
          if (r?.status !== 200) {
            await sleep(5);
            continue;
          }
          supplies++;
          await n2b.decKeys('sae-N1', r.body.keys.map((k) => k.key_ID)).catch(() => null);
        }
      };
      const workers = [worker(), worker(), worker(), worker()];
      await sleep(o.loadMs ?? 1000);
      const pinAt = await board.setLid(true);
      const alarm = await until(async () => (await op.send<{ alarms: AlarmBody[] }>('GET', '/api/v1/alarms?type=tamper')).body.alarms[0], 10_000, 'the tamper alarm');
      running = false;
      await Promise.all(workers);
      const events = await op.send<{ events: { kind: string; details: { storageKeyDestroyedAt?: number } }[] }>('GET', '/api/v1/security/events');
      const destroyedAt = events.body.events.find((e) => e.kind === 'tamper')?.details.storageKeyDestroyedAt;
      if (destroyedAt === undefined) throw new Error('no tamper security event');
      const after = await n1.encKeys('sae-N2', { number: 1 });
      let readable = 0;
      for (const id of ids) if ((await n1.decKeys('sae-N2', [id])).status === 200) readable++;
      return {
        zeroizeMs: destroyedAt - pinAt,
        alarmSeverity: alarm.severity,
        supplyRefused: after.status === 503,
        supplyStatus: after.status,
        keysReadableAfter: readable,
        keysTried: ids.length,
        storageKeyFileGone: !existsSync(join(net.node('N1').dataDir, 'storage.key')),
        suppliesDuringLoad: supplies,
      };
    } finally {
      await net.stop();
    }
  } finally {
    await board.close();
  }
}

export interface AlarmResult {
  readonly ms: number;
  readonly alarm: AlarmBody;
  readonly supplyStatus: number;
  readonly decisions: { action: string; avoidLinks: string[] }[];
  readonly diagnoses: { suspect: { kind: string; id: string }; cause: string }[];
}

export async function relayAlarmScenario(): Promise<AlarmResult> {
  const net = await startDemoNetwork({ nodes: 3, shape: 'line', rate: 200, initialUnits: 400, management: true, bundle: true, km: { peerTimeoutMs: 1000, relayHopTimeoutMs: 1000 } });
  try {
    const op: EtsiClient = net.operator('N1');
    await net.kill('N3');
    const master = net.client('sae-N1');
    const t0 = Date.now();
    const r = await master.encKeys('sae-N3', { number: 1 });
    const alarm = await until(async () => (await op.send<{ alarms: AlarmBody[] }>('GET', '/api/v1/alarms?type=relay-failure')).body.alarms[0], 10_000, 'the relay-failure alarm');
    const d = await op.send<{ diagnoses: AlarmResult['diagnoses']; decisions: AlarmResult['decisions'] }>('GET', '/api/v1/diagnoses');
    return { ms: alarm.raisedAt - t0, alarm, supplyStatus: r.status, decisions: d.body.decisions, diagnoses: d.body.diagnoses };
  } finally {
    await net.stop();
  }
}

const CLI = fileURLToPath(new URL('../../host/cli/qkdn-edge.mjs', import.meta.url));

export interface ManagerProcess {
  readonly port: number;
  /** The JSON lines it printed (`alarm`, `node`, ...), oldest first. */
  readonly events: Record<string, unknown>[];
  /** A client of its API holding the demo network's operator certificate. */
  readonly operator: EtsiClient;
  /** Resolves with the first event line (already printed or to come) that `match` accepts. */
  event(match: (e: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, unknown>>;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * `qkdn-edge manager` as a process over a demo network started with `management: true`: its
 * certificates (node and operator, ID `mgr`) issued by the network's CA, its configuration
 * listing every node's management endpoint.
 */
export async function startManagerProcess(net: DemoNetwork, o: { pollIntervalMs?: number; unreachableAfter?: number; detailEvery?: number } = {}): Promise<ManagerProcess> {
  const cred = net.operatorCredentials;
  if (!cred) throw new Error('the demo network has no management ports (management: true)');
  const pki = dirname(cred.ca);
  await initPki(pki, { nodes: ['mgr'], saes: [], operators: ['mgr'] });
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'qkdn-mgr-'));
  const config = {
    id: 'mgr',
    listen: { host: '127.0.0.1', port },
    pki,
    dataDir: join(dir, 'data'),
    pollIntervalMs: o.pollIntervalMs ?? 300,
    timeoutMs: 1500,
    unreachableAfter: o.unreachableAfter ?? 2,
    detailEvery: o.detailEvery ?? 1,
    nodes: net.nodes.map((n) => ({ id: n.id, management: n.managementUrl!.replace('https://', '') })),
  };
  const file = join(dir, 'manager.json');
  writeFileSync(file, JSON.stringify(config));
  const p = spawn(process.execPath, [CLI, 'manager', '--config', file], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, QKDN_NODE_EXIT_WITH_STDIN: '1' } });
  const events: Record<string, unknown>[] = [];
  const err: string[] = [];
  p.stderr!.on('data', (d: Buffer) => err.push(d.toString()) > 200 && err.shift());
  const waiters = new Set<() => void>();
  createInterface({ input: p.stdout! }).on('line', (l) => {
    try {
      events.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const w of waiters) w();
  });
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const event = (match: (e: Record<string, unknown>) => boolean, ms: number, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const e = events.find(match);
        if (!e) return;
        done();
        resolve(e);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what}: not within ${ms} ms (manager stderr: ${err.join('').slice(-1500)})`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void exited.then(() => {
        if (!waiters.has(check)) return;
        done();
        reject(new Error(`${what}: the manager exited (${err.join('').slice(-1500)})`));
      });
      check();
    });
  try {
    await event((e) => e.event === 'ready', 60_000, 'the manager ready');
  } catch (e) {
    p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const operator = new EtsiClient({ url: `https://127.0.0.1:${port}`, ca: readFileSync(cred.ca), cert: readFileSync(cred.cert), key: readFileSync(cred.key) });
  return {
    port,
    events,
    operator,
    event,
    stderr: () => err.join(''),
    stop: async () => {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
