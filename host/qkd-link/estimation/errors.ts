/** Typed errors of parameter estimation. */
export type EstimationErrorCode = 'ERR_ESTIMATION_ARGUMENT';

export class EstimationError extends Error {
  readonly code: EstimationErrorCode;
  constructor(code: EstimationErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A count, probability, intensity or ε that the estimators cannot accept. */
export class EstimationArgumentError extends EstimationError {
  readonly argument: string;
  readonly value: unknown;
  constructor(argument: string, value: unknown, expected: string) {
    super('ERR_ESTIMATION_ARGUMENT', `${argument} = ${String(value)}: expected ${expected}`);
    this.argument = argument;
    this.value = value;
  }
}

export function checkCount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new EstimationArgumentError(name, v, 'a non-negative integer');
}

export function checkProbability(name: string, v: number, open = true): void {
  const ok = Number.isFinite(v) && (open ? v > 0 && v < 1 : v >= 0 && v <= 1);
  if (!ok) throw new EstimationArgumentError(name, v, open ? 'a number in (0, 1)' : 'a number in [0, 1]');
}
