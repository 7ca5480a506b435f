/**
 * `qkdn-edge controller --config <file>`: one replica of the centralized controller. With `etcd`
 * in the configuration and etcd reachable, its state lives in etcd and replicas elect a leader;
 * without, it runs as a single controller with an embedded in-memory store and says so.
 * Prints one JSON line per event on stdout (listening, elected, stepped-down) for operators and
 * tests.
 *
 *   id: ctl1                       # the replica's node certificate (OU=KME) in pki/nodes/
 *   listen: { host: 127.0.0.1, port: 7400 }
 *   pki: ./pki
 *   etcd: { hosts: [http://127.0.0.1:2379], prefix: qkdn/net1, leaseTtlS: 2 }   # optional
 *   unitBits: 256
 *   lowWaterUnits: 8
 *   kmTimeoutMs: 3000
 *   network: { nodes: [A, B], links: [{ id: A~B, ends: [A, B] }], saes: { alice: A, bob: B } }
 *   policy: { pairs: [{ master: alice, slave: bob }] }                          # optional
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { Ajv } from 'ajv';
import { pkiPaths } from '../pki/pki.js';
import { ControllerConfigError } from './errors.js';
import { CentralReplica, EmbeddedElector, type Elector } from './central/replica.js';
import { EtcdControl } from './central/etcd.js';
import type { NetworkConfig } from './view.js';
import { ID_SCHEMA, POLICY_SCHEMA, type PolicyConfig } from './policy.js';

export interface ControllerFileConfig {
  readonly id: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly pki: string;
  readonly etcd?: { readonly hosts: readonly string[]; readonly prefix: string; readonly leaseTtlS?: number };
  readonly unitBits: number;
  readonly lowWaterUnits: number;
  readonly kmTimeoutMs?: number;
  readonly network: NetworkConfig;
  readonly policy?: PolicyConfig;
}

const ID = ID_SCHEMA;
const SCHEMA = {
  type: 'object',
  required: ['id', 'listen', 'pki', 'unitBits', 'lowWaterUnits', 'network'],
  additionalProperties: false,
  properties: {
    id: ID,
    listen: { type: 'object', required: ['host', 'port'], additionalProperties: false, properties: { host: { type: 'string', maxLength: 255 }, port: { type: 'integer', minimum: 0, maximum: 65535 } } },
    pki: { type: 'string', maxLength: 4096 },
    etcd: {
      type: 'object',
      required: ['hosts', 'prefix'],
      additionalProperties: false,
      properties: { hosts: { type: 'array', minItems: 1, maxItems: 16, items: { type: 'string', maxLength: 255 } }, prefix: { type: 'string', minLength: 1, maxLength: 255 }, leaseTtlS: { type: 'integer', minimum: 1, maximum: 600 } },
    },
    unitBits: { type: 'integer', minimum: 8, maximum: 65536 },
    lowWaterUnits: { type: 'integer', minimum: 0 },
    kmTimeoutMs: { type: 'integer', minimum: 100 },
    network: {
      type: 'object',
      required: ['nodes', 'links', 'saes'],
      additionalProperties: false,
      properties: {
        nodes: { type: 'array', maxItems: 4096, items: ID },
        links: { type: 'array', maxItems: 16384, items: { type: 'object', required: ['id', 'ends'], additionalProperties: false, properties: { id: ID, ends: { type: 'array', minItems: 2, maxItems: 2, items: ID } } } },
        saes: { type: 'object', maxProperties: 16384, additionalProperties: ID },
      },
    },
    policy: POLICY_SCHEMA,
  },
} as const;

const validate = new Ajv({ allErrors: false }).compile(SCHEMA);

export function parseControllerConfig(text: string, baseDir: string): ControllerFileConfig {
  let raw: unknown;
  try {
    raw = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new ControllerConfigError('config', `not YAML or JSON: ${(e as Error).message}`);
  }
  if (!validate(raw)) {
    const err = validate.errors?.[0];
    throw new ControllerConfigError(`config${err?.instancePath.replace(/\//g, '.') ?? ''}`, err?.message ?? 'invalid');
  }
  const c = raw as unknown as ControllerFileConfig;
  return { ...c, pki: resolve(baseDir, c.pki) };
}

function line(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

/** Whether etcd answers at one of `hosts` within `ms`. */
async function etcdReachable(hosts: readonly string[], ms = 3000): Promise<boolean> {
  for (const h of hosts) {
    const ok = await fetch(`${h.replace(/\/$/, '')}/health`, { signal: AbortSignal.timeout(ms) }).then((r) => r.ok, () => false);
    if (ok) return true;
  }
  return false;
}

export async function runControllerCommand(o: { config: string }): Promise<number> {
  const path = resolve(o.config);
  const c = parseControllerConfig(readFileSync(path, 'utf8'), dirname(path));
  const paths = pkiPaths(c.pki);
  const tls = { ca: readFileSync(paths.ca, 'utf8'), cert: readFileSync(paths.cert('KME', c.id), 'utf8'), key: readFileSync(paths.key('KME', c.id), 'utf8') };
  let elector: Elector;
  if (c.etcd && (await etcdReachable(c.etcd.hosts))) {
    elector = new EtcdControl({ hosts: c.etcd.hosts, prefix: c.etcd.prefix, leaseTtlS: c.etcd.leaseTtlS ?? 2 });
    line({ event: 'store', kind: 'etcd', hosts: c.etcd.hosts });
  } else {
    elector = new EmbeddedElector();
    const why = c.etcd ? `etcd not reachable at ${c.etcd.hosts.join(', ')}` : 'no etcd configured';
    process.stderr.write(`controller ${c.id}: ${why}: running as a single controller with an embedded in-memory store (no replication, no failover)\n`);
    line({ event: 'store', kind: 'embedded', reason: why });
  }
  const replica = new CentralReplica({
    id: c.id,
    tls,
    listen: c.listen,
    kms: c.network.nodes,
    elector,
    config: c.network,
    unitBits: c.unitBits,
    lowWaterUnits: c.lowWaterUnits,
    ...(c.kmTimeoutMs !== undefined ? { kmTimeoutMs: c.kmTimeoutMs } : {}),
    ...(c.policy ? { policy: c.policy } : {}),
  });
  replica.on('elected', () => line({ event: 'elected', id: c.id }));
  replica.on('steppedDown', (reason) => {
    process.stderr.write(`controller ${c.id}: stepped down: ${reason}\n`);
    line({ event: 'stepped-down', id: c.id, reason });
  });
  const port = await replica.start();
  line({ event: 'listening', id: c.id, port });
  await new Promise<void>((r) => {
    process.once('SIGTERM', r);
    process.once('SIGINT', r);
  });
  await replica.stop();
  return 0;
}
