/**
 * The node configuration (`qkdn-edge node --config node.yaml`, YAML or JSON): one file per node,
 * with the network section shared by all nodes of a QKDN. Checked in two steps: a JSON schema
 * (ajv) for shapes and types, then cross-references (IDs known, links between known nodes, SAEs on
 * known nodes, routes along links). Relative paths are relative to the configuration file.
 * host/node/README.md documents every field.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { KmConfigError } from '../km/errors.js';
import { ID_PATTERN } from '../pki/ids.js';

export interface SimulatedSourceConfig {
  readonly type: 'simulated';
  /** Units per second. */
  readonly rate: number;
  /** Hex, at least 64 digits; the same at both ends of the link. */
  readonly seed: string;
  /** Units available when the link starts from nothing. */
  readonly initialUnits?: number;
}

export interface QkdSourceConfig {
  readonly type: 'qkd';
  readonly [option: string]: unknown;
}

export type KeySourceConfig = SimulatedSourceConfig | QkdSourceConfig;

export interface LinkConfig {
  readonly id: string;
  readonly ends: readonly [string, string];
  readonly source: KeySourceConfig;
}

export interface ManagementConfig {
  /** false: no managers at all (a benchmark baseline); refused together with an aux board. */
  readonly enabled?: boolean;
  readonly host?: string;
  readonly port?: number;
  readonly qberThreshold?: number;
  readonly alarmBurst?: number;
  readonly alarmsPerSecond?: number;
  readonly qosWindowMs?: number;
}

export type EventKind = 'relay' | 'hop' | 'supply' | 'sync';

export interface NodeConfig {
  readonly node: string;
  readonly dataDir: string;
  readonly storage?: { readonly passphraseEnv?: string };
  /** Key management events printed as JSON lines on stdout (default: relay and sync). */
  readonly events?: readonly EventKind[];
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly api: { readonly host: string; readonly port: number };
  readonly kx: { readonly host: string; readonly port: number };
  /** The management layer (host/manager); with host and port, its API and /metrics listen there. */
  readonly management?: ManagementConfig;
  /** The aux I/O board (tamper switch, temperatures), by device path. */
  readonly aux?: { readonly port: string; readonly model?: string; readonly temperatureIntervalMs?: number };
  /** Structured logs (pino) on stderr, access logs of both APIs included. */
  readonly logging?: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent' };
  readonly km: {
    readonly unitBits: number;
    readonly keySize: number;
    readonly minKeySize: number;
    readonly maxKeySize: number;
    readonly maxKeyPerRequest: number;
    readonly maxSaeIdCount: number;
    readonly maxKeyCount: number;
    readonly peerTimeoutMs: number;
    readonly relayHopTimeoutMs: number;
    readonly syncIntervalMs: number;
  };
  readonly network: {
    readonly nodes: readonly { readonly id: string; readonly kx: string }[];
    readonly links: readonly LinkConfig[];
    readonly saes: readonly { readonly id: string; readonly node: string }[];
    readonly routes?: readonly (readonly string[])[];
  };
}

export const KM_DEFAULTS: NodeConfig['km'] = {
  unitBits: 256,
  keySize: 256,
  minKeySize: 64,
  maxKeySize: 4096,
  maxKeyPerRequest: 128,
  maxSaeIdCount: 4,
  maxKeyCount: 100_000,
  peerTimeoutMs: 2000,
  relayHopTimeoutMs: 1500,
  syncIntervalMs: 500,
};

const ID = { type: 'string', pattern: ID_PATTERN.source };
const PORT = { type: 'integer', minimum: 0, maximum: 65535 };
const ENDPOINT = { type: 'object', additionalProperties: false, required: ['host', 'port'], properties: { host: { type: 'string', minLength: 1 }, port: PORT } };
const posInt = (max: number) => ({ type: 'integer', minimum: 1, maximum: max });

export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['node', 'dataDir', 'tls', 'api', 'kx', 'network'],
  properties: {
    node: ID,
    dataDir: { type: 'string', minLength: 1 },
    events: { type: 'array', uniqueItems: true, items: { enum: ['relay', 'hop', 'supply', 'sync'] } },
    storage: { type: 'object', additionalProperties: false, properties: { passphraseEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } } },
    tls: { type: 'object', additionalProperties: false, required: ['ca', 'cert', 'key'], properties: { ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } } },
    api: ENDPOINT,
    kx: ENDPOINT,
    management: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        host: { type: 'string', minLength: 1 },
        port: PORT,
        qberThreshold: { type: 'number', exclusiveMinimum: 0, maximum: 0.5 },
        alarmBurst: posInt(100_000),
        alarmsPerSecond: posInt(100_000),
        qosWindowMs: posInt(86_400_000),
      },
    },
    aux: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      properties: { port: { type: 'string', minLength: 1 }, model: { type: 'string', minLength: 1 }, temperatureIntervalMs: posInt(600_000) },
    },
    logging: { type: 'object', additionalProperties: false, required: ['level'], properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] } } },
    km: {
      type: 'object',
      additionalProperties: false,
      properties: {
        unitBits: { type: 'integer', minimum: 64, maximum: 65536, multipleOf: 8 },
        keySize: { type: 'integer', minimum: 8, multipleOf: 8 },
        minKeySize: { type: 'integer', minimum: 8, multipleOf: 8 },
        maxKeySize: { type: 'integer', minimum: 8, maximum: 1 << 20, multipleOf: 8 },
        maxKeyPerRequest: posInt(4096),
        maxSaeIdCount: { type: 'integer', minimum: 0, maximum: 16 },
        maxKeyCount: posInt(100_000_000),
        peerTimeoutMs: posInt(600_000),
        relayHopTimeoutMs: posInt(600_000),
        syncIntervalMs: posInt(600_000),
      },
    },
    network: {
      type: 'object',
      additionalProperties: false,
      required: ['nodes', 'links', 'saes'],
      properties: {
        nodes: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', additionalProperties: false, required: ['id', 'kx'], properties: { id: ID, kx: { type: 'string', pattern: '^[^\\s]+:[0-9]{1,5}$' } } },
        },
        links: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'ends', 'source'],
            properties: {
              id: ID,
              ends: { type: 'array', minItems: 2, maxItems: 2, items: ID },
              source: {
                oneOf: [
                  {
                    type: 'object',
                    additionalProperties: false,
                    required: ['type', 'rate', 'seed'],
                    properties: {
                      type: { const: 'simulated' },
                      rate: { type: 'number', minimum: 0, maximum: 10_000_000 },
                      seed: { type: 'string', pattern: '^([0-9a-fA-F]{2}){32,}$' },
                      initialUnits: { type: 'integer', minimum: 0 },
                    },
                  },
                  { type: 'object', required: ['type'], properties: { type: { const: 'qkd' } } },
                ],
              },
            },
          },
        },
        saes: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['id', 'node'], properties: { id: ID, node: ID } } },
        routes: { type: 'array', items: { type: 'array', minItems: 2, items: ID } },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(CONFIG_SCHEMA);

function describe(e: ErrorObject): string {
  const where = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `${where}: unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  return `${where}: ${e.message ?? 'invalid'}`;
}

/** Parses and checks a configuration; paths in the result are absolute. */
export function parseConfig(text: string, baseDir: string, format: 'yaml' | 'json' = 'yaml'): NodeConfig {
  let raw: unknown;
  try {
    raw = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new KmConfigError('config', `not valid ${format.toUpperCase()}: ${(e as Error).message}`);
  }
  if (!validate(raw)) throw new KmConfigError('config', (validate.errors ?? []).slice(0, 10).map(describe).join('; '));
  const c = raw as unknown as Omit<NodeConfig, 'km'> & { km?: Partial<NodeConfig['km']> };
  const km = { ...KM_DEFAULTS, ...c.km };
  const cfg: NodeConfig = {
    ...c,
    km,
    dataDir: resolve(baseDir, c.dataDir),
    tls: { ca: resolve(baseDir, c.tls.ca), cert: resolve(baseDir, c.tls.cert), key: resolve(baseDir, c.tls.key) },
  };
  check(cfg);
  return cfg;
}

export function loadConfig(path: string): NodeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KmConfigError(path, `cannot read: ${(e as Error).message}`);
  }
  return parseConfig(text, dirname(resolve(path)), path.endsWith('.json') ? 'json' : 'yaml');
}

function check(c: NodeConfig): void {
  const fail = (path: string, msg: string): never => {
    throw new KmConfigError(path, msg);
  };
  const nodes = new Set<string>();
  c.network.nodes.forEach((n, i) => {
    if (nodes.has(n.id)) fail(`network.nodes[${i}].id`, `duplicate node ${n.id}`);
    nodes.add(n.id);
  });
  if (!nodes.has(c.node)) fail('node', `${c.node} is not in network.nodes`);
  if (c.aux && c.management?.enabled === false) fail('management.enabled', 'the tamper response of the aux board needs the management layer');
  if ((c.management?.host === undefined) !== (c.management?.port === undefined)) fail('management', 'give both host and port for the management API, or neither');
  const k = c.km;
  if (!(k.minKeySize <= k.keySize && k.keySize <= k.maxKeySize)) fail('km', 'need minKeySize <= keySize <= maxKeySize');
  if (Math.ceil(k.maxKeySize / k.unitBits) * k.maxKeyPerRequest > 8192) fail('km', 'maxKeyPerRequest × units per key of maxKeySize must stay within 8192 units (one Kx message)');
  const linkIds = new Set<string>();
  const pairs = new Set<string>();
  c.network.links.forEach((l, i) => {
    const [a, b] = l.ends;
    if (linkIds.has(l.id)) fail(`network.links[${i}].id`, `duplicate link ${l.id}`);
    linkIds.add(l.id);
    if (a === b) fail(`network.links[${i}].ends`, 'a link joins two different nodes');
    for (const e of l.ends) if (!nodes.has(e)) fail(`network.links[${i}].ends`, `unknown node ${e}`);
    const pair = [a, b].sort().join('~');
    if (pairs.has(pair)) fail(`network.links[${i}]`, `a second link between ${a} and ${b}`);
    pairs.add(pair);
  });
  const saes = new Set<string>();
  c.network.saes.forEach((s, i) => {
    if (saes.has(s.id)) fail(`network.saes[${i}].id`, `duplicate SAE ${s.id}`);
    saes.add(s.id);
    if (!nodes.has(s.node)) fail(`network.saes[${i}].node`, `unknown node ${s.node}`);
  });
  (c.network.routes ?? []).forEach((r, i) => {
    if (new Set(r).size !== r.length) fail(`network.routes[${i}]`, 'a route visits a node twice');
    for (let j = 1; j < r.length; j++) if (!pairs.has([r[j - 1]!, r[j]!].sort().join('~'))) fail(`network.routes[${i}]`, `no link between ${r[j - 1]} and ${r[j]}`);
  });
}

/** "host:port" of a node's Kx endpoint. */
export function parseEndpoint(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}
