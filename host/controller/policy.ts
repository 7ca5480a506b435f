/**
 * Policy-based control: which SAE may get keys shared with which, how many, and in which QoS
 * class. Implements the key manager's SupplyPolicy seam: the KSA calls check() before it supplies
 * (enc_keys) and maps a PolicyRefusedError to an ETSI 014 error with its reason.
 *
 * - Allow-list: when `pairs` is given, a master SAE gets keys only for a slave SAE listed with it.
 *   Without it every pair is allowed (today's behaviour).
 * - Quotas: key bits per period per master SAE (`saes`) and per pair (`pairs`), over a sliding
 *   window. A request that would exceed one is refused whole; admitted requests count at once,
 *   whether or not the supply then succeeds (a failed supply cannot be retried past the quota).
 * - QoS classes: a priority (relays of a higher class may use stock under the low-water mark and
 *   are admitted first) and a minimum rate the network should sustain for the pair.
 */
import { ControllerConfigError } from './errors.js';
import { PolicyRefusedError as KmPolicyRefusedError, type SupplyPolicy, type SupplyPolicyRequest } from '../km/supply-policy.js';
import { publishPolicy } from './diagnostics.js';

export interface Quota {
  /** Key bits allowed per period. */
  readonly bits: number;
  readonly periodMs: number;
}

export interface QosClass {
  readonly priority: number;
  /** Key bits per second the pair should be able to draw. */
  readonly minRateBps?: number;
}

export interface PairRule {
  readonly master: string;
  readonly slave: string;
  readonly class?: string;
  readonly quota?: Quota;
}

export interface PolicyConfig {
  readonly classes?: Readonly<Record<string, QosClass>>;
  /** The allow-list (when present) with per-pair quotas and classes. */
  readonly pairs?: readonly PairRule[];
  /** Per master SAE: quota and class. */
  readonly saes?: Readonly<Record<string, { readonly quota?: Quota; readonly class?: string }>>;
}

/** An ID in a controller's configuration (node, link, SAE). */
export const ID_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9._~-]{1,64}$' } as const;
const QUOTA = { type: 'object', required: ['bits', 'periodMs'], properties: { bits: { type: 'integer', minimum: 0 }, periodMs: { type: 'integer', minimum: 1 } }, additionalProperties: false } as const;

/** The policy section, as the controller's configuration and a node's `control` section write it. */
export const POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    classes: { type: 'object', additionalProperties: { type: 'object', required: ['priority'], additionalProperties: false, properties: { priority: { type: 'integer', minimum: 0, maximum: 7 }, minRateBps: { type: 'number', minimum: 0 } } } },
    pairs: { type: 'array', maxItems: 65536, items: { type: 'object', required: ['master', 'slave'], additionalProperties: false, properties: { master: ID_SCHEMA, slave: ID_SCHEMA, class: { type: 'string' }, quota: QUOTA } } },
    saes: { type: 'object', additionalProperties: { type: 'object', additionalProperties: false, properties: { class: { type: 'string' }, quota: QUOTA } } },
  },
} as const;

export type SupplyCheck = SupplyPolicyRequest;

export type PolicyRefusal = 'pair-not-allowed' | 'sae-quota' | 'pair-quota';

/**
 * Refused by policy: the key manager's PolicyRefusedError (ERR_KM_POLICY_REFUSED), which the ETSI
 * 014 API answers with 401 for a pair outside the allow-list and 400 for a quota exceeded;
 * `refusal` says which rule.
 */
export class PolicyRefusedError extends KmPolicyRefusedError {
  readonly refusal: PolicyRefusal;
  constructor(refusal: PolicyRefusal, detail: string) {
    super(refusal === 'pair-not-allowed' ? 'not-permitted' : 'bad-request', `refused by policy (${refusal}): ${detail}`);
    this.refusal = refusal;
  }
}

const DEFAULT_CLASS: QosClass = { priority: 0 };

class Window {
  readonly #used: { at: number; bits: number }[] = [];
  sum(now: number, periodMs: number): number {
    while (this.#used.length > 0 && this.#used[0]!.at <= now - periodMs) this.#used.shift();
    return this.#used.reduce((s, u) => s + u.bits, 0);
  }
  add(at: number, bits: number): void {
    this.#used.push({ at, bits });
  }
}

export class SupplyPolicyControl implements SupplyPolicy {
  #config: PolicyConfig;
  #version = 0;
  readonly #now: () => number;
  readonly #sae = new Map<string, Window>();
  readonly #pair = new Map<string, Window>();
  readonly counters = { admitted: 0, refusedPair: 0, refusedQuota: 0 };

  constructor(config: PolicyConfig = {}, o: { now?: () => number } = {}) {
    this.#now = o.now ?? Date.now;
    this.#config = checkPolicy(config);
  }

  /** Configuration control: a new policy, versioned; usage so far keeps counting. */
  replace(config: PolicyConfig, version: number): void {
    if (version <= this.#version) throw new ControllerConfigError('policy', `version ${version} is not newer than ${this.#version}`);
    this.#config = checkPolicy(config);
    this.#version = version;
  }

  get version(): number {
    return this.#version;
  }

  #rule(master: string, slave: string): PairRule | undefined {
    return this.#config.pairs?.find((p) => p.master === master && p.slave === slave);
  }

  /** The QoS class of a pair: the pair's, else the master SAE's, else priority 0. */
  classOf(master: string, slave: string): QosClass {
    const name = this.#rule(master, slave)?.class ?? this.#config.saes?.[master]?.class;
    return (name ? this.#config.classes?.[name] : undefined) ?? DEFAULT_CLASS;
  }

  /** SupplyPolicy: throws PolicyRefusedError, else counts the request against the quotas. */
  check(req: SupplyCheck): void {
    const now = this.#now();
    const bits = req.number * req.size;
    const refuse = (refusal: PolicyRefusal, reason: string): never => {
      if (refusal === 'pair-not-allowed') this.counters.refusedPair++;
      else this.counters.refusedQuota++;
      const e = new PolicyRefusedError(refusal, reason);
      publishPolicy({ master: req.master, slaves: req.slaves, code: refusal, reason });
      throw e;
    };
    const rules: { slave: string; rule: PairRule | undefined }[] = req.slaves.map((slave) => ({ slave, rule: this.#rule(req.master, slave) }));
    if (this.#config.pairs)
      for (const r of rules) if (!r.rule) refuse('pair-not-allowed', `SAE ${req.master} may not get keys shared with SAE ${r.slave}`);
    const saeQuota = this.#config.saes?.[req.master]?.quota;
    const saeWin = this.#sae.get(req.master) ?? new Window();
    if (saeQuota) {
      const used = saeWin.sum(now, saeQuota.periodMs);
      if (used + bits > saeQuota.bits) refuse('sae-quota', `SAE ${req.master}: ${used} of ${saeQuota.bits} key bits used in the last ${saeQuota.periodMs} ms; ${bits} more asked`);
    }
    for (const r of rules) {
      const q = r.rule?.quota;
      if (!q) continue;
      const used = (this.#pair.get(`${req.master}>${r.slave}`) ?? new Window()).sum(now, q.periodMs);
      if (used + bits > q.bits) refuse('pair-quota', `pair ${req.master}→${r.slave}: ${used} of ${q.bits} key bits used in the last ${q.periodMs} ms; ${bits} more asked`);
    }
    // Admitted: count against every quota that applies.
    if (saeQuota) {
      saeWin.add(now, bits);
      this.#sae.set(req.master, saeWin);
    }
    for (const r of rules)
      if (r.rule?.quota) {
        const k = `${req.master}>${r.slave}`;
        const w = this.#pair.get(k) ?? new Window();
        w.add(now, bits);
        this.#pair.set(k, w);
      }
    this.counters.admitted++;
  }
}

function checkPolicy(c: PolicyConfig): PolicyConfig {
  const quota = (q: Quota | undefined, path: string) => {
    if (q && (!Number.isSafeInteger(q.bits) || q.bits < 0 || !Number.isSafeInteger(q.periodMs) || q.periodMs <= 0)) throw new ControllerConfigError(path, 'a quota needs bits >= 0 and periodMs > 0');
  };
  const cls = (name: string | undefined, path: string) => {
    if (name !== undefined && !c.classes?.[name]) throw new ControllerConfigError(path, `unknown QoS class ${name}`);
  };
  for (const [n, k] of Object.entries(c.classes ?? {})) if (!Number.isSafeInteger(k.priority) || k.priority < 0 || k.priority > 7) throw new ControllerConfigError(`classes.${n}.priority`, 'an integer 0-7');
  for (const [i, p] of (c.pairs ?? []).entries()) {
    quota(p.quota, `pairs[${i}].quota`);
    cls(p.class, `pairs[${i}].class`);
  }
  for (const [s, r] of Object.entries(c.saes ?? {})) {
    quota(r.quota, `saes.${s}.quota`);
    cls(r.class, `saes.${s}.class`);
  }
  return c;
}
