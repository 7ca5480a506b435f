/**
 * The network part of a node's configuration: what describes the QKDN rather than this node
 * (nodes and their Kx endpoints, links and their key sources, SAEs and the node serving each,
 * configured routes). The same for every node, so a controller can own it; one validator here (a
 * JSON schema with ajv for shapes, then cross-references: IDs unique and known, links between two
 * different known nodes, SAEs on known nodes, routes along links) and `topologyOf` for the key
 * manager. host/node/config.ts validates the node's own part and calls this for the rest.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { KmConfigError } from './errors.js';
import { ID_PATTERN } from '../pki/ids.js';
import type { Exits, Topology } from './topology.js';

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

export interface NetworkConfig {
  readonly nodes: readonly { readonly id: string; readonly kx: string }[];
  readonly links: readonly LinkConfig[];
  readonly saes: readonly { readonly id: string; readonly node: string }[];
  readonly routes?: readonly (readonly string[])[];
  /**
   * SAEs of another network reached by more than one border node (a gateway node and an
   * interworking node's KM): each lists the nodes standing for the SAE, its node in `saes` among
   * them; a supply to it may leave by any (host/km/exit-choice.ts).
   */
  readonly exits?: readonly { readonly sae: string; readonly nodes: readonly string[] }[];
}

const ID = { type: 'string', pattern: ID_PATTERN.source };

export const NETWORK_SCHEMA = {
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
              // The link module checks its own options (host/qkd-link/module/config.ts).
              { type: 'object', required: ['type'], properties: { type: { const: 'qkd' } } },
            ],
          },
        },
      },
    },
    saes: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['id', 'node'], properties: { id: ID, node: ID } } },
    routes: { type: 'array', items: { type: 'array', minItems: 2, items: ID } },
    exits: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['sae', 'nodes'], properties: { sae: ID, nodes: { type: 'array', minItems: 2, maxItems: 16, uniqueItems: true, items: ID } } },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(NETWORK_SCHEMA);

/** One line per schema error; `prefix` is where the object sits in its file (e.g. `/network`). */
/** `/network/links/0/source` as the field a reader looks for: `network.links[0].source`. */
export function fieldOf(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/**
 * Schema errors without a oneOf's noise: of its branches, those whose discriminating `type`
 * (or other `const`) does not match are dropped, and its own "must match exactly one schema"
 * with them; when no branch is of the given kind, one error names the kinds there are.
 */
export function relevantSchemaErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  let out = [...errors];
  for (const o of errors.filter((e) => e.keyword === 'oneOf')) {
    const branch = (e: ErrorObject) => (e.schemaPath.startsWith(`${o.schemaPath}/`) ? Number(e.schemaPath.slice(o.schemaPath.length + 1).split('/')[0]) : -1);
    const inside = out.filter((e) => branch(e) >= 0);
    const wrongKind = new Set(inside.filter((e) => e.keyword === 'const' && e.instancePath.startsWith(`${o.instancePath}/`)).map(branch));
    const kept = inside.filter((e) => !wrongKind.has(branch(e)));
    out = out.filter((e) => e !== o && branch(e) < 0);
    if (kept.length > 0) out.push(...kept);
    else {
      const consts = inside.filter((e) => e.keyword === 'const');
      const at = consts[0]?.instancePath ?? o.instancePath;
      const kinds = consts.map((e) => JSON.stringify((e.params as { allowedValue: unknown }).allowedValue));
      out.push({ ...o, keyword: 'enum', instancePath: at, message: `must be one of ${kinds.join(', ')}` });
    }
  }
  return out;
}

function problemOf(e: ErrorObject): string {
  if (e.keyword === 'additionalProperties') return `unknown field ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  if (e.keyword === 'required') return `missing field ${JSON.stringify((e.params as { missingProperty: string }).missingProperty)}`;
  return e.message ?? 'invalid';
}

export function describeSchemaErrors(errors: readonly ErrorObject[] | null | undefined, prefix = ''): string {
  return relevantSchemaErrors(errors ?? [])
    .slice(0, 10)
    .map((e) => `${fieldOf(`${prefix}${e.instancePath}`) || '(top level)'}: ${problemOf(e)}`)
    .join('; ');
}

/** The first schema error as a configuration error naming its field (and how many more there are). */
export function schemaConfigError(errors: readonly ErrorObject[] | null | undefined, prefix = ''): KmConfigError {
  const all = relevantSchemaErrors(errors ?? []);
  const first = all[0];
  if (!first) return new KmConfigError(fieldOf(prefix) || 'config', 'invalid');
  const more = all.length > 1 ? ` (and ${all.length - 1} more)` : '';
  return new KmConfigError(fieldOf(`${prefix}${first.instancePath}`) || '(top level)', `${problemOf(first)}${more}`);
}

/** Checks the network part; `where` names it in errors (`network` inside a node configuration). */
export function parseNetworkConfig(raw: unknown, where = 'network'): NetworkConfig {
  if (!validate(raw)) throw schemaConfigError(validate.errors, `/${where}`);
  const c = raw as unknown as NetworkConfig;
  checkReferences(c, where);
  return c;
}

function checkReferences(c: NetworkConfig, where: string): void {
  const fail = (path: string, msg: string): never => {
    throw new KmConfigError(`${where}.${path}`, msg);
  };
  const nodes = new Set<string>();
  c.nodes.forEach((n, i) => {
    if (nodes.has(n.id)) fail(`nodes[${i}].id`, `duplicate node ${n.id}`);
    nodes.add(n.id);
  });
  const linkIds = new Set<string>();
  const pairs = new Set<string>();
  c.links.forEach((l, i) => {
    const [a, b] = l.ends;
    if (linkIds.has(l.id)) fail(`links[${i}].id`, `duplicate link ${l.id}`);
    linkIds.add(l.id);
    if (a === b) fail(`links[${i}].ends`, 'a link joins two different nodes');
    for (const e of l.ends) if (!nodes.has(e)) fail(`links[${i}].ends`, `unknown node ${e}`);
    const pair = [a, b].sort().join('~');
    if (pairs.has(pair)) fail(`links[${i}]`, `a second link between ${a} and ${b}`);
    pairs.add(pair);
  });
  const saes = new Set<string>();
  c.saes.forEach((s, i) => {
    if (saes.has(s.id)) fail(`saes[${i}].id`, `duplicate SAE ${s.id}`);
    saes.add(s.id);
    if (!nodes.has(s.node)) fail(`saes[${i}].node`, `unknown node ${s.node}`);
  });
  const exitSaes = new Set<string>();
  (c.exits ?? []).forEach((x, i) => {
    if (exitSaes.has(x.sae)) fail(`exits[${i}].sae`, `a second exits entry for ${x.sae}`);
    exitSaes.add(x.sae);
    const first = c.saes.find((s) => s.id === x.sae)?.node;
    if (first === undefined) fail(`exits[${i}].sae`, `${x.sae} is not in saes`);
    x.nodes.forEach((n, j) => {
      if (!nodes.has(n)) fail(`exits[${i}].nodes[${j}]`, `unknown node ${n}`);
    });
    if (!x.nodes.includes(first!)) fail(`exits[${i}].nodes`, `must include ${first}, the node saes gives ${x.sae}`);
  });
  (c.routes ?? []).forEach((r, i) => {
    if (new Set(r).size !== r.length) fail(`routes[${i}]`, 'a route visits a node twice');
    for (let j = 1; j < r.length; j++) if (!pairs.has([r[j - 1]!, r[j]!].sort().join('~'))) fail(`routes[${i}]`, `no link between ${r[j - 1]} and ${r[j]}`);
  });
}

/** The border exits of a checked network configuration (SAE → its nodes). */
export function exitsOfConfig(c: NetworkConfig): Exits {
  return new Map((c.exits ?? []).map((x) => [x.sae, [...x.nodes]]));
}

/** The key manager's Topology of a checked network configuration. */
export function topologyOf(c: NetworkConfig): Topology {
  return {
    nodes: c.nodes.map((n) => n.id),
    links: c.links.map((l) => ({ id: l.id, ends: [l.ends[0], l.ends[1]], kind: l.source.type })),
    saes: new Map(c.saes.map((s) => [s.id, s.node])),
    routes: new Map((c.routes ?? []).map((r) => [`${r[0]}>${r[r.length - 1]}`, r])),
  };
}
