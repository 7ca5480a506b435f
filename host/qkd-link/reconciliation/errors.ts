/**
 * Typed errors of information reconciliation. Bad input (lengths, QBER, code IDs, damaged code
 * files) throws; a frame that does not decode is not an error but a result with `ok: false`.
 */
export type ReconciliationErrorCode =
  | 'ERR_RECONCILIATION_FRAME_LENGTH'
  | 'ERR_RECONCILIATION_SYNDROME_LENGTH'
  | 'ERR_RECONCILIATION_QBER_OUT_OF_RANGE'
  | 'ERR_RECONCILIATION_UNKNOWN_CODE'
  | 'ERR_RECONCILIATION_CODE_FILE'
  | 'ERR_RECONCILIATION_PROTOCOL';

export class ReconciliationError extends Error {
  readonly code: ReconciliationErrorCode;
  constructor(code: ReconciliationErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A frame, key or reveal of the wrong length for the code in use (or a frame length no code has). */
export class FrameLengthError extends ReconciliationError {
  constructor(what: string, got: number, expected: number | readonly number[]) {
    super('ERR_RECONCILIATION_FRAME_LENGTH', `${what} has ${got} bits: expected ${typeof expected === 'number' ? expected : `one of ${expected.join(', ')}`}`);
  }
}

/** A syndrome whose length does not match the code's check count. */
export class SyndromeLengthError extends ReconciliationError {
  constructor(got: number, expected: number) {
    super('ERR_RECONCILIATION_SYNDROME_LENGTH', `syndrome has ${got} bits: expected ${expected}`);
  }
}

/** No code of the family covers this QBER (or the value is not a probability). */
export class QberOutOfRangeError extends ReconciliationError {
  readonly qber: number;
  constructor(qber: number, min: number, max: number) {
    super('ERR_RECONCILIATION_QBER_OUT_OF_RANGE', `QBER ${qber} is outside the covered range [${min}, ${max}]`);
    this.qber = qber;
  }
}

/** A code ID that no loaded code file carries. */
export class UnknownCodeError extends ReconciliationError {
  readonly codeId: number;
  constructor(codeId: number, known: readonly number[]) {
    super('ERR_RECONCILIATION_UNKNOWN_CODE', `unknown code id ${codeId}; known: ${known.join(', ')}`);
    this.codeId = codeId;
  }
}

/** A code file that is truncated, of an unknown version, or fails its checksum or structure checks. */
export class CodeFileError extends ReconciliationError {
  constructor(source: string, reason: string) {
    super('ERR_RECONCILIATION_CODE_FILE', `${source}: ${reason}`);
  }
}

/** A message out of order or naming positions the protocol does not allow. */
export class ProtocolError extends ReconciliationError {
  constructor(reason: string) {
    super('ERR_RECONCILIATION_PROTOCOL', reason);
  }
}
