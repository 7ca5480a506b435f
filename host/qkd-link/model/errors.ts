/** Typed errors of the SKR model. */
export type ModelErrorCode = 'ERR_MODEL_ARGUMENT' | 'ERR_MODEL_POINTS';

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A physical parameter, distance, block size or ε the model cannot accept; names the offending value. */
export class ModelArgumentError extends ModelError {
  readonly argument: string;
  readonly value: unknown;
  constructor(argument: string, value: unknown, expected: string) {
    super('ERR_MODEL_ARGUMENT', `${argument} = ${JSON.stringify(value) ?? String(value)}: expected ${expected}`);
    this.argument = argument;
    this.value = value;
  }
}

/** A measured-points file (measured.ts) that is not valid JSON of the documented format. */
export class MeasuredPointsError extends ModelError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_MODEL_POINTS', `${path}: ${message}`, options);
    this.path = path;
  }
}

export function checkFinite(name: string, v: number, min: number, max: number, expected?: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ModelArgumentError(name, v, expected ?? `a number in [${min}, ${max}]`);
}

export function checkProbability(name: string, v: number): void {
  checkFinite(name, v, 0, 1, 'a probability in [0, 1]');
}
