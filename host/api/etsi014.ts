/**
 * ETSI GS QKD 014 V1.1.1 semantics over the key manager (the KSA's Ak side), independent of HTTP:
 * who may call, what Status reports, how enc_keys / dec_keys map to supply and fetch, and how key
 * manager errors become ETSI statuses. server.ts binds it to HTTPS.
 */
import type { KeyManager } from '../km/key-manager.js';
import { KmError, PeerRefusedError } from '../km/errors.js';
import { SaePairError } from '../km/ksa.js';
import { PolicyRefusedError } from '../km/supply-policy.js';
import type { PeerIdentity } from '../pki/identity.js';
import { ApiError } from './errors.js';
import { OUTAGE_CODES, PeerOutages } from './peer-outage.js';
import type { EtsiLimits, KeyRequest } from './request.js';

/** Status (ETSI 014 clause 6.1): every field required, integers as JSON integers. */
export interface Status {
  source_KME_ID: string;
  target_KME_ID: string;
  master_SAE_ID: string;
  slave_SAE_ID: string;
  key_size: number;
  stored_key_count: number;
  max_key_count: number;
  max_key_per_request: number;
  max_key_size: number;
  min_key_size: number;
  max_SAE_ID_count: number;
  status_extension?: { key_source: string; relayed: boolean };
}

export interface KeyContainer {
  keys: { key_ID: string; key: string }[];
}

/** Key container (ETSI 014 clause 6.3): key bytes as base64. */
function container(keys: readonly { readonly id: string; readonly bytes: Uint8Array }[]): KeyContainer {
  return { keys: keys.map((k) => ({ key_ID: k.id, key: Buffer.from(k.bytes).toString('base64') })) };
}

const NO_PAIR = 'no key supply is available between these SAEs';

export class Etsi014Service {
  readonly km: KeyManager;
  readonly limits: EtsiLimits;
  /** Slave KMEs that cannot be reached now: enc_keys for them is refused without burning keys. */
  readonly outages: PeerOutages;

  constructor(km: KeyManager, limits: EtsiLimits, outages: PeerOutages = new PeerOutages(km.nodeId)) {
    if (!(limits.minKeySize > 0 && limits.minKeySize <= limits.keySize && limits.keySize <= limits.maxKeySize)) throw new RangeError('ETSI limits: need 0 < min_key_size <= key_size <= max_key_size');
    if (limits.maxKeyPerRequest < 1) throw new RangeError('ETSI limits: max_key_per_request must be positive');
    this.km = km;
    this.limits = limits;
    this.outages = outages;
  }

  /** The calling SAE's ID, from its verified client certificate; 401 unless it is an SAE this KME serves. */
  authenticate(who: PeerIdentity | null): string {
    if (!who || who.role !== 'SAE' || !this.km.serves(who.id)) throw new ApiError('ERR_API_UNAUTHORIZED', 'the client certificate does not identify an SAE of this KME');
    return who.id;
  }

  /** The KME serving the slave(s) (the KSA's check); one refusal for every reason but a split multicast, so nothing is learnt about other SAEs. */
  #target(master: string, slaves: readonly string[]): string {
    try {
      return this.km.targetOf(master, slaves);
    } catch (e) {
      if (!(e instanceof SaePairError)) throw e;
      throw new ApiError('ERR_API_SAE_PAIR', e.problem === 'slaves-split' ? 'all slave SAEs must be served by one KME' : NO_PAIR);
    }
  }

  #keySource(target: string): { key_source: string; relayed: boolean } {
    const { origin } = this.km.poolFor(target);
    const kinds = new Set(this.km.topology.links.map((l) => l.kind ?? 'qkd'));
    return { key_source: kinds.size === 1 ? [...kinds][0]! : 'mixed', relayed: origin === 'relay' };
  }

  status(master: string, slave: string): Status {
    const target = this.#target(master, [slave]);
    const L = this.limits;
    const maxKeys = Math.floor(this.km.maxKeyCount / this.km.unitsPerKey(L.keySize));
    return {
      source_KME_ID: this.km.nodeId,
      target_KME_ID: target,
      master_SAE_ID: master,
      slave_SAE_ID: slave,
      key_size: L.keySize,
      stored_key_count: Math.min(this.km.stockFor(slave, L.keySize), maxKeys),
      max_key_count: maxKeys,
      max_key_per_request: L.maxKeyPerRequest,
      max_key_size: L.maxKeySize,
      min_key_size: L.minKeySize,
      max_SAE_ID_count: L.maxSaeIdCount,
      status_extension: this.#keySource(target),
    };
  }

  async encKeys(master: string, slave: string, req: KeyRequest): Promise<KeyContainer> {
    const slaves = [slave, ...req.additionalSlaves];
    const target = this.#target(master, slaves);
    this.outages.admit(target);
    let keys;
    try {
      keys = await this.km.supply({ master, slaves, size: req.size, number: req.number });
    } catch (e) {
      const code = e instanceof KmError ? e.code : '';
      if (OUTAGE_CODES.has(code)) throw mapKmError(e, 'enc_keys', this.outages.settle(target, 'unreachable', code));
      this.outages.settle(target, code === 'ERR_KM_PEER_REFUSED' ? 'reached' : 'unknown');
      throw mapKmError(e, 'enc_keys');
    }
    this.outages.settle(target, 'reached');
    return container(keys);
  }

  async decKeys(slave: string, master: string, ids: readonly string[]): Promise<KeyContainer> {
    try {
      return container(await this.km.fetch({ slave, master, ids }));
    } catch (e) {
      throw mapKmError(e, 'dec_keys');
    }
  }
}

/**
 * Key manager errors as ETSI statuses; the detail is the error code, never key material. A 503
 * carries Retry-After: `retryAfterS` when the caller knows it (an outage's window), else 1 s.
 */
export function mapKmError(e: unknown, op: 'enc_keys' | 'dec_keys', retryAfterS = 1): ApiError {
  if (e instanceof ApiError) return e;
  if (!(e instanceof KmError)) return new ApiError('ERR_API_SERVICE_UNAVAILABLE', 'the KME could not complete the request', [{ reason: 'internal' }], retryAfterS);
  if (e instanceof PolicyRefusedError)
    return e.reason === 'not-permitted' ? new ApiError('ERR_API_UNAUTHORIZED', 'the key supply policy does not permit this request') : new ApiError('ERR_API_BAD_REQUEST', `the key supply policy refuses this request: ${e.message}`);
  switch (e.code) {
    case 'ERR_KM_NOT_PERMITTED':
    case 'ERR_KM_KEY_UNKNOWN':
    case 'ERR_KM_KEY_NOT_AVAILABLE':
      return op === 'dec_keys' ? new ApiError('ERR_API_KEY_NOT_AVAILABLE', 'a requested key is not available to this SAE') : new ApiError('ERR_API_SAE_PAIR', NO_PAIR);
    case 'ERR_KM_INSUFFICIENT_KEYS':
      return new ApiError('ERR_API_KEYS_UNAVAILABLE', 'not enough key material for this request now', [{ reason: e.code }], retryAfterS);
    case 'ERR_KM_PEER_REFUSED':
      // Which KME refused and its code (never key material): what an operator needs to act on.
      return new ApiError('ERR_API_KEYS_UNAVAILABLE', 'the key supply to the slave SAE cannot be completed now', [
        { reason: e.code, ...(e instanceof PeerRefusedError ? { kme: e.peer, kme_status: e.status } : {}) },
      ], retryAfterS);
    case 'ERR_KM_PEER_UNREACHABLE':
    case 'ERR_KM_TIMEOUT':
    case 'ERR_KM_NO_ROUTE':
      return new ApiError('ERR_API_KEYS_UNAVAILABLE', 'the key supply to the slave SAE cannot be completed now', [{ reason: e.code }], retryAfterS);
    default:
      return new ApiError('ERR_API_SERVICE_UNAVAILABLE', 'the KME cannot serve keys now', [{ reason: e.code }], retryAfterS);
  }
}
