/**
 * `qkdn-edge manager --config <file>`: the centralized manager of a network (network.ts). Prints
 * one JSON line per event on stdout (`ready`, `alarm` for each alarm raised or cleared in the
 * network, `node` when a node's reachability changes, `stopped`); pino logs on stderr.
 *
 *   id: mgr                          # pki/nodes/mgr.pem serves the API, pki/operators/mgr.pem reads the nodes
 *   listen: { host: 127.0.0.1, port: 9500 }
 *   pki: ./pki
 *   dataDir: ./manager-data
 *   pollIntervalMs: 1000             # optional
 *   timeoutMs: 2000                  # optional: a node's answer deadline
 *   unreachableAfter: 2              # optional: polls without an answer before node-unreachable
 *   detailEvery: 5                   # optional: performance, links, stocks, accounting every n polls
 *   nodes:
 *     - { id: N1, management: 127.0.0.1:9443 }
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import pino from 'pino';
import { parse } from 'yaml';
import { pkiPaths } from '../pki/pki.js';
import { NetworkManager } from './network.js';
import { NetworkMetrics } from './network-metrics.js';
import { createNetworkServer } from './network-server.js';
import { managementPort } from './server.js';

export interface ManagerFileConfig {
  readonly id: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly pki: string;
  readonly dataDir: string;
  readonly pollIntervalMs?: number;
  readonly timeoutMs?: number;
  readonly unreachableAfter?: number;
  readonly detailEvery?: number;
  readonly logging?: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent' };
  readonly nodes: readonly { readonly id: string; readonly management: string }[];
}

/** A configuration file the manager cannot use: the field and the problem. */
export class ManagerConfigError extends Error {
  readonly code = 'ERR_MGMT_CONFIG_FILE';
  constructor(readonly field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'ManagerConfigError';
  }
}

const ID = { type: 'string', pattern: '^[A-Za-z0-9._~-]{1,64}$' } as const;
const posInt = (max: number) => ({ type: 'integer', minimum: 1, maximum: max }) as const;
const SCHEMA = {
  type: 'object',
  required: ['id', 'listen', 'pki', 'dataDir', 'nodes'],
  additionalProperties: false,
  properties: {
    id: ID,
    listen: { type: 'object', required: ['host', 'port'], additionalProperties: false, properties: { host: { type: 'string', minLength: 1, maxLength: 255 }, port: { type: 'integer', minimum: 0, maximum: 65535 } } },
    pki: { type: 'string', minLength: 1, maxLength: 4096 },
    dataDir: { type: 'string', minLength: 1, maxLength: 4096 },
    pollIntervalMs: posInt(3_600_000),
    timeoutMs: posInt(600_000),
    unreachableAfter: posInt(1000),
    detailEvery: posInt(1000),
    logging: { type: 'object', additionalProperties: false, required: ['level'], properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] } } },
    nodes: {
      type: 'array',
      minItems: 1,
      maxItems: 4096,
      items: { type: 'object', required: ['id', 'management'], additionalProperties: false, properties: { id: ID, management: { type: 'string', pattern: '^(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$' } } },
    },
  },
} as const;
const validate = new Ajv({ allErrors: false }).compile(SCHEMA);

export function parseManagerConfig(text: string, baseDir: string): ManagerFileConfig {
  let raw: unknown;
  try {
    raw = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new ManagerConfigError('(top level)', `not YAML or JSON: ${String((e as Error).message).split('\n')[0]}`);
  }
  if (!validate(raw)) {
    const err = validate.errors?.[0];
    throw new ManagerConfigError(err?.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)', err?.message ?? 'invalid');
  }
  const c = raw as unknown as ManagerFileConfig;
  const ids = new Set<string>();
  c.nodes.forEach((n, i) => {
    if (ids.has(n.id)) throw new ManagerConfigError(`nodes[${i}].id`, `${n.id} is listed twice`);
    if (n.id === c.id) throw new ManagerConfigError(`nodes[${i}].id`, `${n.id} is the manager's own ID`);
    ids.add(n.id);
  });
  return { ...c, pki: resolve(baseDir, c.pki), dataDir: resolve(baseDir, c.dataDir) };
}

function line(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

export async function runManagerCommand(o: { config: string }): Promise<number> {
  let c: ManagerFileConfig;
  let tls: { ca: string; cert: string; key: string };
  let operator: { ca: string; cert: string; key: string };
  try {
    const path = resolve(o.config);
    c = parseManagerConfig(readFileSync(path, 'utf8'), dirname(path));
    const p = pkiPaths(c.pki);
    const read = (f: string) => readFileSync(f, 'utf8');
    const ca = read(p.ca);
    tls = { ca, cert: read(p.cert('KME', c.id)), key: read(p.key('KME', c.id)) };
    operator = { ca, cert: read(p.cert('OPERATOR', c.id)), key: read(p.key('OPERATOR', c.id)) };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    process.stderr.write(`qkdn-edge manager: ${typeof code === 'string' && code.startsWith('ERR_') ? `${code}: ` : ''}${(e as Error).message}\n`);
    return 2;
  }
  const log = pino({ level: c.logging?.level ?? 'info', base: { manager: c.id } }, pino.destination({ dest: 2, sync: false }));
  const manager = await NetworkManager.start({
    id: c.id,
    dataDir: c.dataDir,
    nodes: c.nodes.map((n) => ({ id: n.id, endpoint: n.management })),
    tls: operator,
    log,
    ...(c.pollIntervalMs ? { pollIntervalMs: c.pollIntervalMs } : {}),
    ...(c.timeoutMs ? { timeoutMs: c.timeoutMs } : {}),
    ...(c.unreachableAfter ? { unreachableAfter: c.unreachableAfter } : {}),
    ...(c.detailEvery ? { detailEvery: c.detailEvery } : {}),
  });
  manager.on('alarm', (ch) => {
    if (ch.op === 'raised' || ch.op === 'cleared') line({ event: 'alarm', op: ch.op, node: ch.alarm.node, id: ch.alarm.id, type: ch.alarm.type, severity: ch.alarm.severity, source: ch.alarm.source });
  });
  manager.on('node', (s) => line({ event: 'node', node: s.node, reachable: s.reachable, error: s.lastError }));
  const metrics = new NetworkMetrics(manager);
  let app;
  try {
    app = await createNetworkServer({ manager, metrics, tls, host: c.listen.host, port: c.listen.port, log });
  } catch (e) {
    process.stderr.write(`qkdn-edge manager: cannot listen on ${c.listen.host}:${c.listen.port}: ${(e as Error).message}\n`);
    await manager.stop();
    return 1;
  }
  line({ event: 'ready', manager: c.id, port: managementPort(app), nodes: c.nodes.length, pid: process.pid });
  await new Promise<void>((r) => {
    process.once('SIGTERM', r);
    process.once('SIGINT', r);
    // Under a supervisor holding our stdin (tests): its end means the supervisor is gone.
    if (process.env.QKDN_NODE_EXIT_WITH_STDIN === '1') {
      process.stdin.once('end', r);
      process.stdin.once('close', r);
      process.stdin.resume();
    }
  });
  process.stdin.destroy();
  await app.close();
  await manager.stop();
  log.flush();
  line({ event: 'stopped', manager: c.id });
  return 0;
}
