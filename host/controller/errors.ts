/**
 * Typed errors of the control layer. A route that cannot be given is a NoRouteError of the key
 * management layer (ERR_KM_NO_ROUTE), so the KM and the ETSI 014 API treat it as they treat any
 * missing route (503 to the SAE); everything else carries an ERR_CTL_ code.
 */
import { NoRouteError } from '../km/errors.js';

export type ControllerErrorCode =
  | 'ERR_CTL_DECODE'
  | 'ERR_CTL_VERSION'
  | 'ERR_CTL_UNKNOWN_TYPE'
  | 'ERR_CTL_FRAME_TOO_LARGE'
  | 'ERR_CTL_CONFIG'
  | 'ERR_CTL_STALE_VERSION'
  | 'ERR_CTL_DEADLINE'
  | 'ERR_CTL_NOT_LEADER'
  | 'ERR_CTL_UNREACHABLE'
  | 'ERR_CTL_STORE'
  | 'ERR_CTL_REFUSED';

export class ControllerError extends Error {
  readonly code: ControllerErrorCode;
  constructor(code: ControllerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A Ck, Cq or advertisement message that does not match its schema; `field` names where. */
export class ControllerDecodeError extends ControllerError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('ERR_CTL_DECODE', message);
    this.field = field;
  }
}

/** No usable route: every path is down, exhausted, avoided or too long. Says which. */
export class RouteUnavailableError extends NoRouteError {
  readonly reason: string;
  constructor(from: string, to: string, reason: string) {
    super(from, to);
    this.reason = reason;
    this.message = `no key relay route from ${from} to ${to}: ${reason}`;
  }
}

/** The relay's deadline has passed (or leaves no time for another attempt). */
export class DeadlineError extends ControllerError {
  constructor(relayId: string, deadline: number) {
    super('ERR_CTL_DEADLINE', `relay ${relayId}: deadline ${new Date(deadline).toISOString()} has passed`);
  }
}

/** A configuration or view update older than the one in force. */
export class StaleVersionError extends ControllerError {
  constructor(what: string, got: number, have: number) {
    super('ERR_CTL_STALE_VERSION', `${what}: version ${got} is not newer than ${have}`);
  }
}

export class ControllerConfigError extends ControllerError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('ERR_CTL_CONFIG', `${path}: ${message}`);
    this.path = path;
  }
}

/** A write or read of the centralized controller's state in etcd failed, or this replica is not the leader. */
export class NotLeaderError extends ControllerError {
  constructor(message: string) {
    super('ERR_CTL_NOT_LEADER', message);
  }
}

/** A controller answered a Ck request with an error status (`status`: its code). */
export class ControllerRefusedError extends ControllerError {
  readonly status: string;
  constructor(status: string, reason: string) {
    super('ERR_CTL_REFUSED', `controller refused: ${status}${reason ? ` (${reason})` : ''}`);
    this.status = status;
  }
}
