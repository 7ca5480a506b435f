/**
 * The security budget of one block of key, in one place: the block's key is ε-secure with
 *
 *   ε = ε_sec + ε_cor + ε_auth
 *
 * - ε_sec (secrecy, Lim et al. 2014): split into 21 equal terms (finite-key.ts), one of which is
 *   ε_PA = ε_sec / 21, the leftover hash lemma's term of privacy amplification;
 * - ε_cor (correctness): the error-verification hash's collision bound, reached with the
 *   64·t-bit tag whose bits the key length subtracts whole;
 * - ε_auth: the classical channel's messages of the block were the peer's, except with probability
 *   at most (verification attempts) × (forgery probability of one), channel/ledger.ts "Why the hash
 *   key may be reused". The attempts are the frames the block's messages rode and the rejected
 *   forgeries the ledger allows against the epochs those frames used.
 * See README.md, "Security budget".
 */
import { checkProbability } from './errors.js';

export interface SecurityBudgetParameters {
  readonly epsSec: number;
  readonly epsCor: number;
  /** Forgery probability of one verification attempt (the MAC's ε for the largest frame). */
  readonly epsAuthPerAttempt: number;
  /** Verification attempts the block's messages rest on. */
  readonly authAttempts: number;
}

export interface SecurityBudget {
  readonly epsSec: number;
  readonly epsCor: number;
  readonly epsAuth: number;
  /** The privacy-amplification share of ε_sec. */
  readonly epsPA: number;
  /** ε_sec + ε_cor + ε_auth. */
  readonly total: number;
}

/** The terms of Lim et al.'s ε_sec, each ε_sec / 21 (finite-key.ts). */
export const SECRECY_TERMS = 21;

export function securityBudget(p: SecurityBudgetParameters): SecurityBudget {
  checkProbability('epsSec', p.epsSec);
  checkProbability('epsCor', p.epsCor);
  checkProbability('epsAuthPerAttempt', p.epsAuthPerAttempt);
  const epsAuth = Math.min(1, Math.max(0, p.authAttempts) * p.epsAuthPerAttempt);
  return { epsSec: p.epsSec, epsCor: p.epsCor, epsAuth, epsPA: p.epsSec / SECRECY_TERMS, total: p.epsSec + p.epsCor + epsAuth };
}
