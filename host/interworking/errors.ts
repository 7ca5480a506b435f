/**
 * Typed errors of the interworking layer (ITU-T Y.3818). Each carries a namespaced `code`; none
 * carries key bytes. Wire errors name the field that failed; border errors name what would have
 * leaked (the kind and the field path), so a refusal can be counted and explained locally.
 */
export type IwErrorCode =
  | 'ERR_IW_DECODE'
  | 'ERR_IW_VERSION'
  | 'ERR_IW_UNKNOWN_TYPE'
  | 'ERR_IW_LIMIT'
  | 'ERR_IW_BORDER_LEAK'
  | 'ERR_IW_PEER_NOT_PINNED'
  | 'ERR_IW_PEER_MISMATCH'
  | 'ERR_IW_MXI_SEAL'
  | 'ERR_IW_MXI_REPLAY'
  | 'ERR_IW_NO_ROUTE'
  | 'ERR_IW_SEGMENT_MISMATCH'
  | 'ERR_IW_REROUTE'
  | 'ERR_IW_SESSION'
  | 'ERR_IW_TIMEOUT'
  | 'ERR_IW_PEER_UNREACHABLE'
  | 'ERR_IW_CONFIG';

export class IwError extends Error {
  readonly code: IwErrorCode;
  constructor(code: IwErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A field is missing, of the wrong type or out of its bounds; `field` names it (e.g. `CxiStatus.borders[0].qx`). */
export class IwDecodeError extends IwError {
  readonly field: string;
  constructor(field: string, expected: string) {
    super('ERR_IW_DECODE', `${field}: ${expected}`);
    this.field = field;
  }
}

/** Bytes from outside exceed a decoder limit (frame size, nesting, container length, item count). */
export class IwLimitError extends IwError {
  readonly limit: string;
  constructor(limit: string, message: string) {
    super('ERR_IW_LIMIT', message);
    this.limit = limit;
  }
}

/** What an outgoing border message would have leaked. */
export type LeakKind = 'internal-node' | 'internal-link' | 'key-material' | 'unshared-sae';

/** The border filter refused an outgoing message; nothing of it was sent. */
export class BorderLeakError extends IwError {
  readonly kind: LeakKind;
  readonly messageName: string;
  readonly path: string;
  constructor(kind: LeakKind, messageName: string, path: string) {
    super('ERR_IW_BORDER_LEAK', `${messageName}.${path}: would carry ${kind.replace('-', ' ')} across the border`);
    this.kind = kind;
    this.messageName = messageName;
    this.path = path;
  }
}

/** A border peer presented a certificate whose fingerprint is not pinned (or whose hello names someone else). */
export class PeerPinningError extends IwError {
  constructor(code: 'ERR_IW_PEER_NOT_PINNED' | 'ERR_IW_PEER_MISMATCH', message: string) {
    super(code, message);
  }
}
