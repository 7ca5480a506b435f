/** Errors of the Kx wire format: a frame or message that does not match its schema. */
export type KxErrorCode = 'ERR_KX_DECODE' | 'ERR_KX_VERSION' | 'ERR_KX_FRAME_TOO_LARGE' | 'ERR_KX_UNKNOWN_TYPE';

export class KxError extends Error {
  readonly code: KxErrorCode;
  constructor(code: KxErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A field is missing, of the wrong type or out of its bounds; `field` names it (e.g. `KeyRelay.pads[3]`). */
export class KxDecodeError extends KxError {
  readonly field: string;
  constructor(field: string, expected: string) {
    super('ERR_KX_DECODE', `${field}: expected ${expected}`);
    this.field = field;
  }
}
