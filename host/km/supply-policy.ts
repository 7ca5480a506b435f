/**
 * Which key supplies a KSA may serve, beyond the checks every supply gets (the SAEs are known and
 * the slaves share one KME other than this one: KeyManager.supply). The default allows all of
 * those; a controller's policy-based control implements its own. A refusal is a typed
 * PolicyRefusedError, which the ETSI 014 API answers with 401 (`not-permitted`) or 400 (`bad-request`).
 */
import { KmError } from './errors.js';

export interface SupplyPolicyRequest {
  readonly master: string;
  /** The slave SAE first, then the additional slaves (multicast). */
  readonly slaves: readonly string[];
  readonly number: number;
  /** Key size in bits. */
  readonly size: number;
}

export type PolicyRefusal = 'not-permitted' | 'bad-request';

export class PolicyRefusedError extends KmError {
  readonly reason: PolicyRefusal;
  constructor(reason: PolicyRefusal, message: string) {
    super('ERR_KM_POLICY_REFUSED', message);
    this.reason = reason;
  }
}

export interface SupplyPolicy {
  /** Throws PolicyRefusedError when the request may not be served; returns otherwise. */
  check(req: SupplyPolicyRequest): void;
}

/** Today's behaviour: every supply that passes the KSA's own checks. */
export const ALLOW_ALL: SupplyPolicy = { check: () => {} };
