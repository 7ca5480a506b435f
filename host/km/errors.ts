/**
 * Typed errors of the key management layer. Each has a `code` that the ETSI 014 server
 * (host/api/errors.ts) maps to an HTTP status and that Kx responses carry between KMs.
 * Messages never contain key bytes.
 */
export type KmErrorCode =
  | 'ERR_KM_STATE_TRANSITION'
  | 'ERR_KM_KEY_UNKNOWN'
  | 'ERR_KM_KEY_NOT_AVAILABLE'
  | 'ERR_KM_INSUFFICIENT_KEYS'
  | 'ERR_KM_STORAGE_KEY'
  | 'ERR_KM_ZEROIZED'
  | 'ERR_KM_INTEGRITY'
  | 'ERR_KM_CLOSED'
  | 'ERR_KM_PEER_UNREACHABLE'
  | 'ERR_KM_PEER_REFUSED'
  | 'ERR_KM_TIMEOUT'
  | 'ERR_KM_NO_ROUTE'
  | 'ERR_KM_NOT_PERMITTED'
  | 'ERR_KM_CONFIG'
  | 'ERR_KM_POLICY_REFUSED'
  | 'ERR_KM_RELAY_FAILED';

export class KmError extends Error {
  readonly code: KmErrorCode;
  constructor(code: KmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A transition that the one-life state machine forbids (for example delivered → available). */
export class KeyStateError extends KmError {
  readonly keyId: string;
  readonly from: string;
  readonly to: string;
  constructor(keyId: string, from: string, to: string) {
    super('ERR_KM_STATE_TRANSITION', `key ${keyId}: ${from} → ${to} is not a permitted transition`);
    this.keyId = keyId;
    this.from = from;
    this.to = to;
  }
}

/** The key ID is not in the store (or not visible to the caller: the two are not distinguished). */
export class KeyUnknownError extends KmError {
  readonly keyId: string;
  constructor(keyId: string) {
    super('ERR_KM_KEY_UNKNOWN', `key ${keyId} is not known`);
    this.keyId = keyId;
  }
}

/** The key exists but is not in a state the operation needs (already reserved, delivered, burned). */
export class KeyNotAvailableError extends KmError {
  readonly keyId: string;
  readonly state: string;
  constructor(keyId: string, state: string, wanted: string) {
    super('ERR_KM_KEY_NOT_AVAILABLE', `key ${keyId} is ${state}, expected ${wanted}`);
    this.keyId = keyId;
    this.state = state;
  }
}

/** Not enough key material in a pool for the request; nothing was changed. */
export class InsufficientKeysError extends KmError {
  readonly pool: string;
  readonly wanted: number;
  readonly available: number;
  constructor(pool: string, wanted: number, available: number) {
    super('ERR_KM_INSUFFICIENT_KEYS', `pool ${pool}: ${wanted} key unit(s) wanted, ${available} available`);
    this.pool = pool;
    this.wanted = wanted;
    this.available = available;
  }
}

/** The node storage key is missing, unreadable or does not open this store. */
export class StorageKeyError extends KmError {
  constructor(message: string, cause?: unknown) {
    super('ERR_KM_STORAGE_KEY', message, { cause });
  }
}

/** The store was zeroized (tamper response): no key can be read or supplied any more. */
export class ZeroizedError extends KmError {
  constructor() {
    super('ERR_KM_ZEROIZED', 'the key store has been zeroized');
  }
}

/** A stored key failed its authentication tag: the record was altered or moved. */
export class KeyIntegrityError extends KmError {
  readonly keyId: string;
  constructor(keyId: string) {
    super('ERR_KM_INTEGRITY', `key ${keyId} failed its integrity check`);
    this.keyId = keyId;
  }
}

export class StoreClosedError extends KmError {
  constructor() {
    super('ERR_KM_CLOSED', 'the key store is closed');
  }
}

/** A peer KM could not be reached over Kx (connection refused, closed, TLS failure). */
export class PeerUnreachableError extends KmError {
  readonly peer: string;
  constructor(peer: string, reason: string, cause?: unknown) {
    super('ERR_KM_PEER_UNREACHABLE', `KM ${peer} unreachable: ${reason}`, { cause });
    this.peer = peer;
  }
}

/** A peer KM answered a Kx request with an error status. */
export class PeerRefusedError extends KmError {
  readonly peer: string;
  readonly status: string;
  constructor(peer: string, status: string, reason: string) {
    super('ERR_KM_PEER_REFUSED', `KM ${peer} refused: ${status}${reason ? ` (${reason})` : ''}`);
    this.peer = peer;
    this.status = status;
  }
}

export class KmTimeoutError extends KmError {
  readonly peer: string;
  constructor(peer: string, what: string, ms: number) {
    super('ERR_KM_TIMEOUT', `KM ${peer}: no answer to ${what} within ${ms} ms`);
    this.peer = peer;
  }
}

/** No route over QKD links joins the two nodes. */
export class NoRouteError extends KmError {
  constructor(from: string, to: string) {
    super('ERR_KM_NO_ROUTE', `no key relay route from ${from} to ${to}`);
  }
}

/** The caller may not do this (wrong SAE, foreign key, wrong peer). Deliberately vague. */
export class NotPermittedError extends KmError {
  constructor(message: string) {
    super('ERR_KM_NOT_PERMITTED', message);
  }
}

export class KmConfigError extends KmError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('ERR_KM_CONFIG', `${path}: ${message}`);
    this.path = path;
  }
}
