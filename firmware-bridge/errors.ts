/**
 * Typed errors of the board bridge. Each carries a namespaced `code`; the boolean flags follow
 * serialport's habit (`disconnected`, `canceled`) so retry logic can branch without string matching.
 */
export type BridgeErrorCode =
  | 'ERR_BRIDGE_ARGUMENT'
  | 'ERR_BRIDGE_TIMEOUT'
  | 'ERR_BRIDGE_DISCONNECTED'
  | 'ERR_BRIDGE_CLOSED'
  | 'ERR_BRIDGE_PROTOCOL_VERSION'
  | 'ERR_BRIDGE_BOARD_ERROR'
  | 'ERR_BRIDGE_BAD_MESSAGE'
  | 'ERR_BRIDGE_PORT_NOT_FOUND'
  | 'ERR_BRIDGE_PORT_BUSY'
  | 'ERR_BRIDGE_OPEN'
  | 'ERR_BRIDGE_WRONG_BOARD'
  | 'ERR_BRIDGE_PTY';

export class BridgeError extends Error {
  readonly code: BridgeErrorCode;
  /** The port went away (unplugged, emulator closed its end); reconnecting may help. */
  readonly disconnected: boolean;
  /** The operation was abandoned because the driver was closed. */
  readonly canceled: boolean;
  constructor(code: BridgeErrorCode, message: string, options?: { cause?: unknown; disconnected?: boolean; canceled?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.disconnected = options?.disconnected ?? false;
    this.canceled = options?.canceled ?? false;
  }
}

/** A value the caller passed that the protocol or the board model cannot accept. */
export class BridgeArgumentError extends BridgeError {
  readonly argument: string;
  constructor(argument: string, value: unknown, expected: string) {
    super('ERR_BRIDGE_ARGUMENT', `${argument} = ${describe(value)}: expected ${expected}`);
    this.argument = argument;
  }
}

/** No answer within the request timeout after every retry. */
export class BridgeTimeoutError extends BridgeError {
  readonly request: string;
  readonly attempts: number;
  constructor(request: string, attempts: number, timeoutMs: number) {
    super('ERR_BRIDGE_TIMEOUT', `${request}: no answer from the board after ${attempts} attempt(s) of ${timeoutMs} ms`);
    this.request = request;
    this.attempts = attempts;
  }
}

export class BridgeDisconnectedError extends BridgeError {
  constructor(path: string, cause?: unknown) {
    super('ERR_BRIDGE_DISCONNECTED', `${path}: the board disconnected`, { cause, disconnected: true });
  }
}

export class BridgeClosedError extends BridgeError {
  constructor(what: string) {
    super('ERR_BRIDGE_CLOSED', `${what}: the driver is closed`, { canceled: true });
  }
}

/** The board speaks a protocol major version this host does not implement. */
export class ProtocolVersionError extends BridgeError {
  readonly boardVersion: string;
  readonly supported: readonly number[];
  constructor(boardVersion: string, supported: readonly number[], detail = '') {
    super(
      'ERR_BRIDGE_PROTOCOL_VERSION',
      `the board speaks board protocol ${boardVersion}; this host implements major version(s) ${supported.join(', ')}` +
        `${detail ? ` (${detail})` : ''}: update the host software or install firmware speaking ${supported.map((v) => `${v}.x`).join(' or ')}`,
    );
    this.boardVersion = boardVersion;
    this.supported = supported;
  }
}

/** The board answered a request with an ERROR message. */
export class BoardError extends BridgeError {
  readonly boardCode: string;
  constructor(request: string, boardCode: string, message: string) {
    super('ERR_BRIDGE_BOARD_ERROR', `${request}: the board refused (${boardCode}): ${message}`);
    this.boardCode = boardCode;
  }
}

/** A payload that is well-formed CBOR but not a valid message of its type. */
export class BadMessageError extends BridgeError {
  readonly field: string;
  constructor(message: string, field: string, detail: string) {
    super('ERR_BRIDGE_BAD_MESSAGE', `${message}.${field}: ${detail}`);
    this.field = field;
  }
}

export class PortNotFoundError extends BridgeError {
  constructor(what: string, seen: readonly string[]) {
    super('ERR_BRIDGE_PORT_NOT_FOUND', `no serial port matches ${what}; ports seen: ${seen.length ? seen.join(', ') : 'none'}`);
  }
}

/** Another process (or driver) has the port open: serialport locks ports exclusively. */
export class PortBusyError extends BridgeError {
  constructor(path: string, cause?: unknown) {
    super('ERR_BRIDGE_PORT_BUSY', `${path} is in use by another driver or process`, { cause });
  }
}

/** The port could not be opened (missing device, permissions). */
export class PortOpenError extends BridgeError {
  constructor(path: string, cause: unknown) {
    super('ERR_BRIDGE_OPEN', `cannot open ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** After a reconnection a different board answered on the same path. */
export class WrongBoardError extends BridgeError {
  constructor(expected: string, got: string) {
    super('ERR_BRIDGE_WRONG_BOARD', `expected board ${expected}, found ${got}`);
  }
}

export class PtyError extends BridgeError {
  constructor(message: string, cause?: unknown) {
    super('ERR_BRIDGE_PTY', message, { cause });
  }
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
