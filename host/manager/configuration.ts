/**
 * Configuration management: the run-time configuration of a node as versioned documents in
 * manager.lmdb, with history, diff and rollback. A new version is checked (schema, then the
 * target's own checks: routes along links of the topology) and applied through its target before
 * it is stored, so the stored current version is always the one in force; a restart applies it
 * again. The target is the controller's configuration control once the node has one, until then
 * the KM's network view (routes) and the managers' own thresholds.
 *
 * The managed document:
 *   { "network": { "routes": [["A","B","C"], ...] },   relay routes (host/node/README.md)
 *     "alarms":  { "qberThreshold": 0.11 } }            QBER above which `qber-high` is raised
 */
import { Ajv } from 'ajv';
import type { Database } from 'lmdb';
import { ManagementError } from './errors.js';
import type { ManagerStore } from './store.js';

/** The network's structure, owned by the controller's configuration control when the node has one. */
export interface ControlledNetwork {
  readonly nodes: readonly string[];
  readonly links: readonly { readonly id: string; readonly ends: readonly [string, string] }[];
  /** SAE ID → node ID. */
  readonly saes: Readonly<Record<string, string>>;
}

export interface ManagedConfig {
  /** `routes` always; `nodes`, `links` and `saes` (all three or none) go to the controller's configuration control. */
  readonly network: { readonly routes: readonly (readonly string[])[] } & Partial<ControlledNetwork>;
  readonly alarms: { readonly qberThreshold: number };
}

export interface ConfigVersion {
  readonly version: number;
  readonly at: number;
  readonly by: string;
  readonly comment: string;
  readonly config: ManagedConfig;
}

export interface ConfigChange {
  readonly path: string;
  readonly op: 'add' | 'remove' | 'replace';
  readonly from?: unknown;
  readonly to?: unknown;
}

/** A version that its target refused to apply. */
export interface ConfigRefusal {
  /** The version it would have been. */
  readonly version: number;
  readonly at: number;
  readonly by: string;
  readonly reason: string;
  /** The refusing layer's error code (ERR_CTL_CONFIG, ...). */
  readonly code?: string;
  /** The version in force after it (applied again). */
  readonly inForce: number;
  /** Whether applying the version in force again succeeded. */
  readonly rolledBack: boolean;
}

/** Where a configuration takes effect. check() throws a ManagementError naming the field. */
export interface ConfigTarget {
  check(c: ManagedConfig): void;
  apply(c: ManagedConfig, version: number): void | Promise<void>;
}

const ID = { type: 'string', pattern: '^[A-Za-z0-9._~-]{1,64}$' };
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['network', 'alarms'],
  properties: {
    network: {
      type: 'object',
      additionalProperties: false,
      required: ['routes'],
      dependencies: { nodes: ['links', 'saes'], links: ['nodes', 'saes'], saes: ['nodes', 'links'] },
      properties: {
        routes: { type: 'array', maxItems: 1000, items: { type: 'array', minItems: 2, maxItems: 64, items: ID } },
        nodes: { type: 'array', maxItems: 4096, uniqueItems: true, items: ID },
        links: { type: 'array', maxItems: 16384, items: { type: 'object', additionalProperties: false, required: ['id', 'ends'], properties: { id: ID, ends: { type: 'array', minItems: 2, maxItems: 2, items: ID } } } },
        saes: { type: 'object', maxProperties: 16384, propertyNames: ID, additionalProperties: ID },
      },
    },
    alarms: { type: 'object', additionalProperties: false, required: ['qberThreshold'], properties: { qberThreshold: { type: 'number', exclusiveMinimum: 0, maximum: 0.5 } } },
  },
} as const;
const validate = new Ajv({ allErrors: true, strict: true }).compile(SCHEMA);

/** Checks the shape of a document from outside; throws ERR_MGMT_CONFIG_INVALID naming the field. */
export function parseManagedConfig(raw: unknown): ManagedConfig {
  if (!validate(raw)) {
    const details = (validate.errors ?? []).slice(0, 8).map((e) => ({ parameter: e.instancePath || '/', reason: e.keyword === 'additionalProperties' ? `unknown field ${(e.params as { additionalProperty: string }).additionalProperty}` : (e.message ?? 'invalid') }));
    throw new ManagementError('ERR_MGMT_CONFIG_INVALID', `invalid configuration: ${details.map((d) => `${d.parameter}: ${d.reason}`).join('; ')}`, details);
  }
  return raw as unknown as ManagedConfig;
}

/** What changed from `a` to `b`, as JSON-pointer paths. */
export function diffConfig(a: unknown, b: unknown, path = ''): ConfigChange[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const obj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: ConfigChange[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length) out.push({ path: `${path}/${i}`, op: 'add', to: b[i] });
      else if (i >= b.length) out.push({ path: `${path}/${i}`, op: 'remove', from: a[i] });
      else out.push(...diffConfig(a[i], b[i], `${path}/${i}`));
    }
    return out;
  }
  if (obj(a) && obj(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const out: ConfigChange[] = [];
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const p = `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!(k in b)) out.push({ path: p, op: 'remove', from: a[k] });
      else if (!(k in a)) out.push({ path: p, op: 'add', to: b[k] });
      else out.push(...diffConfig(a[k], b[k], p));
    }
    return out;
  }
  return [{ path: path || '/', op: 'replace', from: a, to: b }];
}

const key = (v: number) => v.toString().padStart(10, '0');

export class ConfigurationManager {
  readonly #db: Database<ConfigVersion, string>;
  readonly #target: ConfigTarget;
  #current!: ConfigVersion;
  readonly #refusals: ConfigRefusal[] = [];
  readonly #listeners: ((r: ConfigRefusal) => void)[] = [];
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(store: ManagerStore, target: ConfigTarget) {
    this.#db = store.db<ConfigVersion>('config');
    this.#target = target;
  }

  /**
   * Opens the history. The last stored version is applied again if it still passes the checks
   * (the network may have changed in the node's file); otherwise `initial` (from the node's
   * configuration file) becomes a new version.
   */
  static async open(store: ManagerStore, target: ConfigTarget, initial: ManagedConfig): Promise<ConfigurationManager> {
    const m = new ConfigurationManager(store, target);
    const last = [...m.#db.getRange({ reverse: true, limit: 1 })][0]?.value;
    if (last) {
      try {
        target.check(last.config);
        await target.apply(last.config, last.version);
        m.#current = last;
        return m;
      } catch {
        // falls through: the file's configuration is recorded as the next version
      }
    }
    target.check(initial);
    await target.apply(initial, (last?.version ?? 0) + 1);
    m.#current = { version: (last?.version ?? 0) + 1, at: Date.now(), by: 'node', comment: last ? 'the stored version no longer fits the network: taken from the configuration file' : 'configuration at first start', config: initial };
    await m.#db.put(key(m.#current.version), m.#current);
    return m;
  }

  current(): ConfigVersion {
    return this.#current;
  }

  get(version: number): ConfigVersion {
    const v = this.#db.get(key(version));
    if (!v) throw new ManagementError('ERR_MGMT_NOT_FOUND', `no configuration version ${version}`);
    return v;
  }

  /** Newest first. */
  history(limit = 100): ConfigVersion[] {
    return [...this.#db.getRange({ reverse: true, limit })].map((e) => e.value);
  }

  diff(from: number, to: number): ConfigChange[] {
    return diffConfig(this.get(from).config, this.get(to).config);
  }

  /**
   * Checks, applies and stores a new version. With `baseVersion`, refuses (409) if the current
   * version is another: two operators cannot overwrite each other's change unknowingly.
   */
  put(raw: unknown, by: string, comment = '', baseVersion?: number): Promise<ConfigVersion> {
    const run = async () => {
      const config = parseManagedConfig(raw);
      if (baseVersion !== undefined && baseVersion !== this.#current.version) throw new ManagementError('ERR_MGMT_CONFLICT', `the configuration is at version ${this.#current.version}, not ${baseVersion}`);
      this.#target.check(config);
      const version = this.#current.version + 1;
      try {
        await this.#target.apply(config, version);
      } catch (e) {
        throw await this.#refused(version, by, e);
      }
      const v: ConfigVersion = { version, at: Date.now(), by, comment: comment.slice(0, 500), config };
      await this.#db.put(key(version), v);
      this.#current = v;
      return v;
    };
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Where a version was refused while applied (by the controller's configuration control, or the
   * KM's view): the version in force is applied again, so a part applied before the refusal does
   * not stay; the refusal is kept (refusals()) and told to listeners (the alarm).
   */
  async #refused(version: number, by: string, e: unknown): Promise<ManagementError> {
    let rolledBack = true;
    try {
      await this.#target.apply(this.#current.config, this.#current.version);
    } catch {
      rolledBack = false;
    }
    const code = (e as { code?: unknown }).code;
    const reason = String((e as Error).message ?? e).slice(0, 300);
    const r: ConfigRefusal = { version, at: Date.now(), by, reason, ...(typeof code === 'string' ? { code } : {}), inForce: this.#current.version, rolledBack };
    this.#refusals.push(r);
    if (this.#refusals.length > 50) this.#refusals.shift();
    for (const l of this.#listeners) l(r);
    if (e instanceof ManagementError) return e;
    return new ManagementError('ERR_MGMT_CONFIG_REFUSED', `version ${version} was refused where it applies: ${reason}; version ${this.#current.version} stays in force`, [{ reason, ...(typeof code === 'string' ? { cause: code } : {}), inForce: this.#current.version, rolledBack }]);
  }

  /** Versions refused while applied, newest first. */
  refusals(): ConfigRefusal[] {
    return [...this.#refusals].reverse();
  }

  onRefused(l: (r: ConfigRefusal) => void): void {
    this.#listeners.push(l);
  }

  /** A new version with the content of an old one. */
  rollback(version: number, by: string): Promise<ConfigVersion> {
    const old = this.get(version);
    return this.put(old.config, by, `rollback to version ${version}`);
  }
}
