/**
 * The node configuration (`qkdn-edge node --config node.yaml`, YAML or JSON), in two parts: the
 * node's own (identity, data directory and store, TLS files, API and Kx endpoints, key management
 * limits, events), checked here, and the network (`network`: nodes, links, SAEs, routes), the same
 * for every node of a QKDN and checked by host/km/network-config.ts, so a controller can own it.
 * `network` is either the section itself or the path of a file holding it. Each part is checked by
 * a JSON schema (ajv) for shapes and types, then by its cross-references. Relative paths are
 * relative to the file that names them. host/node/README.md documents every field.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { KmConfigError } from '../km/errors.js';
import { dataDirProblem } from './data-dir.js';
import { parseNetworkConfig, schemaConfigError, type NetworkConfig } from '../km/network-config.js';
import { ID_PATTERN } from '../pki/ids.js';
import { checkGateway, GATEWAY_SCHEMA, type GatewayConfig } from './gateway-config.js';
import { CONTROL_SCHEMA, checkControlConfig, type ControlConfig } from './control.js';

export type { KeySourceConfig, LinkConfig, NetworkConfig, QkdSourceConfig, SimulatedSourceConfig } from '../km/network-config.js';

export interface ManagementConfig {
  /** false: no managers at all (a benchmark baseline); refused together with an aux board. */
  readonly enabled?: boolean;
  readonly host?: string;
  readonly port?: number;
  readonly qberThreshold?: number;
  readonly alarmBurst?: number;
  readonly alarmsPerSecond?: number;
  readonly qosWindowMs?: number;
  /** api-outage: share of failed or refused key requests above which it is raised (default 0.5). */
  readonly apiOutageRatio?: number;
  /** ... with at least this many requests in the window (default 10). */
  readonly apiOutageMinRequests?: number;
  readonly apiOutageWindowMs?: number;
}

export type EventKind = 'relay' | 'hop' | 'supply' | 'sync';

/** What is this node's own. */
export interface LocalConfig {
  readonly node: string;
  readonly dataDir: string;
  readonly storage?: { readonly passphraseEnv?: string };
  /** Key management events printed as JSON lines on stdout (default: relay and sync). */
  readonly events?: readonly EventKind[];
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly api: {
    readonly host: string;
    readonly port: number;
    /** Requests each SAE may send per window (default 2000 a second). */
    readonly rateLimit?: { readonly max: number; readonly windowMs: number };
  };
  readonly kx: { readonly host: string; readonly port: number };
  /** The management layer (host/manager); with host and port, its API and /metrics listen there. */
  readonly management?: ManagementConfig;
  /** The aux I/O board (tamper switch, temperatures), by device path. */
  readonly aux?: { readonly port: string; readonly model?: string; readonly temperatureIntervalMs?: number };
  /** The control layer (host/node/control.ts): distributed or centralized; without it, static routes. */
  readonly control?: ControlConfig;
  /** Structured logs (pino) on stderr, access logs of both APIs included. */
  readonly logging?: { readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent' };
  /** Role gateway (host/node/gateway-config.ts): this node is a GWN at its provider's border. */
  readonly gateway?: GatewayConfig;
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
}

export interface NodeConfig extends LocalConfig {
  readonly network: NetworkConfig;
}

export const KM_DEFAULTS: LocalConfig['km'] = {
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

export const LOCAL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['node', 'dataDir', 'tls', 'api', 'kx', 'network'],
  properties: {
    node: ID,
    dataDir: { type: 'string', minLength: 1 },
    events: { type: 'array', uniqueItems: true, items: { enum: ['relay', 'hop', 'supply', 'sync'] } },
    storage: { type: 'object', additionalProperties: false, properties: { passphraseEnv: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } } },
    tls: { type: 'object', additionalProperties: false, required: ['ca', 'cert', 'key'], properties: { ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } } },
    api: {
      ...ENDPOINT,
      properties: {
        ...ENDPOINT.properties,
        rateLimit: { type: 'object', additionalProperties: false, required: ['max', 'windowMs'], properties: { max: { type: 'integer', minimum: 1 }, windowMs: { type: 'integer', minimum: 1, maximum: 3_600_000 } } },
      },
    },
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
        apiOutageRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        apiOutageMinRequests: posInt(1_000_000),
        apiOutageWindowMs: { type: 'integer', minimum: 1000, maximum: 3_600_000 },
      },
    },
    aux: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      properties: { port: { type: 'string', minLength: 1 }, model: { type: 'string', minLength: 1 }, temperatureIntervalMs: posInt(600_000) },
    },
    control: CONTROL_SCHEMA,
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
    gateway: GATEWAY_SCHEMA,
    // The network part: its own schema (host/km/network-config.ts), inline or in a file.
    network: { type: ['object', 'string'] },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(LOCAL_SCHEMA);

/** Parses and checks a configuration; paths in the result are absolute. */
export function parseConfig(text: string, baseDir: string, format: 'yaml' | 'json' = 'yaml'): NodeConfig {
  let raw: unknown;
  try {
    raw = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new KmConfigError('(top level)', `not valid ${format.toUpperCase()}: ${String((e as Error).message).split('\n')[0]}`);
  }
  if (!validate(raw)) throw schemaConfigError(validate.errors);
  const c = raw as unknown as Omit<LocalConfig, 'km'> & { km?: Partial<LocalConfig['km']>; network: unknown };
  const km = { ...KM_DEFAULTS, ...c.km };
  const cfg: NodeConfig = {
    ...c,
    km,
    network: typeof c.network === 'string' ? loadNetworkConfig(resolve(baseDir, c.network)) : parseNetworkConfig(c.network),
    dataDir: resolve(baseDir, c.dataDir),
    tls: { ca: resolve(baseDir, c.tls.ca), cert: resolve(baseDir, c.tls.cert), key: resolve(baseDir, c.tls.key) },
    ...(c.gateway ? { gateway: { ...c.gateway, peer: { ...c.gateway.peer, ca: resolve(baseDir, c.gateway.peer.ca) }, ...(c.gateway.record ? { record: resolve(baseDir, c.gateway.record) } : {}) } } : {}),
    ...(c.control?.certificates ? { control: { ...c.control, certificates: resolve(baseDir, c.control.certificates) } } : {}),
  };
  check(cfg);
  return cfg;
}

/**
 * A configuration error with the file it is in: `A.yaml: network.links[0].source.seed: must
 * match pattern ...` (one line: the file, the field, the problem).
 */
export class ConfigFileError extends KmConfigError {
  readonly file: string;
  readonly field: string;
  constructor(file: string, e: KmConfigError) {
    super(file, e.message);
    this.file = file;
    this.field = e.path;
  }
}

function inFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ConfigFileError || !(e instanceof KmConfigError)) throw e;
    throw new ConfigFileError(file, e);
  }
}

/** The network part from a file of its own (YAML or JSON). */
export function loadNetworkConfig(path: string): NetworkConfig {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new KmConfigError(path, `cannot read the network configuration: ${oneLine(e)}`);
  }
  return inFile(path, () => parseNetworkConfig(raw));
}

const oneLine = (e: unknown) => String((e as Error).message).split('\n')[0]!;

export function loadConfig(path: string): NodeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KmConfigError(path, `cannot read: ${oneLine(e)}`);
  }
  return inFile(path, () => parseConfig(text, dirname(resolve(path)), path.endsWith('.json') ? 'json' : 'yaml'));
}

/** Cross-references of the node's own part (the network's are checked with it). */
function check(c: NodeConfig): void {
  const fail = (path: string, msg: string): never => {
    throw new KmConfigError(path, msg);
  };
  if (!c.network.nodes.some((n) => n.id === c.node)) fail('node', `${c.node} is not in network.nodes`);
  const dir = dataDirProblem(c.dataDir);
  if (dir) fail('dataDir', dir);
  if (c.aux && c.management?.enabled === false) fail('management.enabled', 'the tamper response of the aux board needs the management layer');
  if ((c.management?.host === undefined) !== (c.management?.port === undefined)) fail('management', 'give both host and port for the management API, or neither');
  if (c.gateway) checkGateway(c.gateway, c.node, c.network.saes);
  if (c.control) checkControlConfig(c.node, c.network, c.control);
  const k = c.km;
  if (!(k.minKeySize <= k.keySize && k.keySize <= k.maxKeySize)) fail('km', 'need minKeySize <= keySize <= maxKeySize');
  if (Math.ceil(k.maxKeySize / k.unitBits) * k.maxKeyPerRequest > 8192) fail('km', 'maxKeyPerRequest × units per key of maxKeySize must stay within 8192 units (one Kx message)');
}

/** "host:port" of a node's Kx endpoint. */
export function parseEndpoint(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.slice(i + 1)) };
}
